/*  fuzz_bolt11.c: libFuzzer target for bolt11_decode on arbitrary input.

    The input is treated as a string (cut at the first NUL). A decoded invoice must hold a
    payment hash, a secret, exactly one of description / description hash, and an amount
    within the limit; bolt11_check must not misbehave on it. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bolt11.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > BOLT11_MAX_LEN + 16)
        size = BOLT11_MAX_LEN + 16;     //  longer inputs only test the length check
    char *str = malloc (size + 1);
    memcpy (str, data, size);
    str [size] = '\0';

    bolt11_invoice_t *inv = malloc (sizeof *inv);
    int rc = bolt11_decode (str, inv);
    if (rc == 0) {
        assert (inv->has_description != inv->has_description_hash);
        assert (!inv->has_amount || (inv->amount_msat > 0 && inv->amount_msat <= BOLT11_MAX_MSAT));
        assert (inv->timestamp < (1ULL << 35));
        assert (inv->hop_count <= BOLT11_MAX_HOPS);
        assert (!inv->has_description || strlen (inv->description) <= BOLT11_DESCRIPTION_MAX);
        assert (inv->payee [0] == 2 || inv->payee [0] == 3);
        (void) bolt11_check (inv, inv->amount_msat, inv->payment_hash, inv->timestamp);
    }
    else
        assert (bolt11_strerror (rc) != NULL);
    free (inv);
    free (str);
    return 0;
}
