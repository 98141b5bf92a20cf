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

//  Random mutations almost never keep a bech32 checksum valid, which would leave the field
//  parsers behind it unreached: each input is also decoded with its checksum recomputed
//  (characters outside the charset dropped, the last 6 taken as the old checksum).
static bool
s_fix_checksum (const char *str, char *out, size_t out_size, size_t max_len)
{
    static const char charset [] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    static uint8_t words [MAX_INPUT];
    const char *sep = strrchr (str, '1');
    if (!sep || sep == str || sep - str > BECH32_HRP_MAX)
        return false;
    char hrp [BECH32_HRP_MAX + 1];
    size_t hrp_len = (size_t) (sep - str);
    for (size_t i = 0; i < hrp_len; i++)
        hrp [i] = (char) tolower ((unsigned char) str [i]);
    hrp [hrp_len] = '\0';
    size_t count = 0;
    for (const char *c = sep + 1; *c; c++) {
        const char *at = strchr (charset, tolower ((unsigned char) *c));
        if (*c && at)
            words [count++] = (uint8_t) (at - charset);
    }
    if (count < BECH32_CHECKSUM_LEN)
        return false;
    return bech32_encode (out, out_size, hrp, words, count - BECH32_CHECKSUM_LEN, max_len) == 0;
}

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
