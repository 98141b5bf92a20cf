/*  fuzz_nip19.c: libFuzzer target for nip19_decode on arbitrary input.

    The input is treated as a string (cut at the first NUL). Every decoded entity must
    re-encode to the lower-case form of the input; a failure must leave no data behind. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nip19.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > NIP19_MAX_LEN + 16)
        size = NIP19_MAX_LEN + 16;      //  longer inputs only test the length check
    char *str = malloc (size + 1);
    memcpy (str, data, size);
    str [size] = '\0';

    nip19_entity_t entity;
    int rc = nip19_decode (str, &entity);
    if (rc == 0) {
        char again [NIP19_MAX_LEN + 1];
        assert (nip19_encode (again, sizeof again, &entity) == 0);
        size_t len = strlen (str);
        assert (strlen (again) == len);
        for (size_t i = 0; i < len; i++)
            assert (again [i] == (str [i] >= 'A' && str [i] <= 'Z' ? str [i] + 32 : str [i]));
    }
    else {
        assert (nip19_strerror (rc) != NULL);
        assert (entity.relay_count == 0 && entity.bytes [0] == 0);
    }
    nip19_entity_wipe (&entity);
    free (str);
    return 0;
}
