/*  fuzz_nip19.c: libFuzzer target for nip19_decode on arbitrary input.

    The input is treated as a string (cut at the first NUL), once as given and once with its
    checksum repaired. Every decoded entity must survive encode + decode unchanged; a failure
    must leave no data behind. */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nip19.h"

#define MAX_INPUT (NIP19_MAX_LEN + 16)

#include "bech32_fix.h"

//  Decode str. An accepted entity must re-encode, and decode again to the same entity; a
//  bare one (npub/nsec/note) to its own lower-case text (a TLV entity may not: unknown and
//  repeated records are dropped and the order is ours). A rejected string must leave nothing
//  in the entity.
static void
s_check (const char *str)
{
    static nip19_entity_t entity, again_entity;
    int rc = nip19_decode (str, &entity);
    if (rc == 0) {
        static char again [NIP19_MAX_LEN + 1];
        assert (nip19_encode (again, sizeof again, &entity) == 0);
        assert (nip19_decode (again, &again_entity) == 0);
        assert (memcmp (&entity, &again_entity, sizeof entity) == 0);
        if (entity.type != NIP19_NPROFILE && entity.type != NIP19_NEVENT) {
            size_t len = strlen (str);
            assert (strlen (again) == len);
            for (size_t i = 0; i < len; i++)
                assert (again [i] == tolower ((unsigned char) str [i]));
        }
    }
    else {
        assert (nip19_strerror (rc) != NULL);
        assert (entity.relay_count == 0 && entity.bytes [0] == 0);
    }
    nip19_entity_wipe (&entity);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        size = MAX_INPUT;       //  longer inputs only test the length check
    char *str = malloc (size + 1);
    memcpy (str, data, size);
    str [size] = '\0';
    s_check (str);
    static char fixed [MAX_INPUT + 1];
    if (s_fix_checksum (str, fixed, sizeof fixed, NIP19_MAX_LEN))
        s_check (fixed);
    free (str);
    return 0;
}
