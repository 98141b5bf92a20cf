/*  fuzz_bip32_path.c: libFuzzer target for the BIP-32 derivation path parser, which reads
    paths from configuration and the command line.

    Checks, besides memory safety: only documented codes come back; an accepted path has at
    most BIP32_DEPTH_MAX levels, starts with 'm' and is within BIP32_PATH_MAX bytes; printing
    the parsed indexes back (with ') and parsing that again gives the same indexes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip32.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = 0;

    uint32_t indexes [BIP32_DEPTH_MAX], again [BIP32_DEPTH_MAX];
    size_t depth = 0, again_depth = 0;
    int rc = bip32_path_parse (text, indexes, BIP32_DEPTH_MAX, &depth);
    if (rc == BIP32_OK) {
        if (depth > BIP32_DEPTH_MAX || text [0] != 'm' || strlen (text) > BIP32_PATH_MAX)
            abort ();
        char canonical [BIP32_DEPTH_MAX * 12 + 2] = "m";
        size_t len = 1;
        for (size_t i = 0; i < depth; i++)
            len += (size_t) snprintf (canonical + len, sizeof canonical - len, "/%u%s",
                                      (unsigned) (indexes [i] & ~BIP32_HARDENED),
                                      indexes [i] & BIP32_HARDENED ? "'" : "");
        if (bip32_path_parse (canonical, again, BIP32_DEPTH_MAX, &again_depth) != BIP32_OK
        ||  again_depth != depth
        ||  memcmp (again, indexes, depth * sizeof indexes [0]) != 0)
            abort ();
    }
    else
    if (rc != BIP32_ERR_PATH && rc != BIP32_ERR_DEPTH)
        abort ();
    free (text);
    return 0;
}
