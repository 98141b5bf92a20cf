/*  fuzz_bolt11.c: libFuzzer target for bolt11_decode on arbitrary input.

    The input is treated as a string (cut at the first NUL), once as given and once with its
    checksum repaired (a signature rarely survives that, but every field parser runs). A
    decoded invoice must hold exactly one of description / description hash, an amount within
    the limit and a valid payee key; bolt11_check must not misbehave on it. */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bolt11.h"

#define MAX_INPUT (BOLT11_MAX_LEN + 16)

#include "bech32_fix.h"

//  Decode str; an accepted invoice must satisfy the invariants the decoder promises.
static void
s_check (const char *str)
{
    static bolt11_invoice_t inv;
    int rc = bolt11_decode (str, &inv);
    if (rc == 0) {
        assert (inv.has_description != inv.has_description_hash);
        assert (!inv.has_amount || (inv.amount_msat > 0 && inv.amount_msat <= BOLT11_MAX_MSAT));
        assert (inv.timestamp < (1ULL << 35));
        assert (inv.hop_count <= BOLT11_MAX_HOPS);
        assert (!inv.has_description || strlen (inv.description) <= BOLT11_DESCRIPTION_MAX);
        assert (inv.payee [0] == 2 || inv.payee [0] == 3);
        (void) bolt11_check (&inv, inv.amount_msat, inv.payment_hash, inv.timestamp);
    }
    else
        assert (bolt11_strerror (rc) != NULL);
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
    if (s_fix_checksum (str, fixed, sizeof fixed, BOLT11_MAX_LEN))
        s_check (fixed);
    free (str);
    return 0;
}
