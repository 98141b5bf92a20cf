/*  bech32_fix.h: for the bech32 fuzz targets (fuzz_nip19, fuzz_bolt11). Random mutations almost
    never keep a bech32 checksum valid, which would leave the field parsers behind it unreached:
    each input is also decoded with its checksum recomputed (characters outside the charset
    dropped, the last 6 taken as the old checksum). Header-only: each target is one program. */
#ifndef PYLON_BECH32_FIX_H
#define PYLON_BECH32_FIX_H

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bech32.h"

/* str with its checksum recomputed into out (at most max_len characters); false if it has no
   human-readable part or too few data characters. */
static bool
s_fix_checksum (const char *str, char *out, size_t out_size, size_t max_len)
{
    static const char charset [] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    static uint8_t words [8192];
    const char *sep = strrchr (str, '1');
    if (!sep || sep == str || sep - str > BECH32_HRP_MAX)
        return false;
    char hrp [BECH32_HRP_MAX + 1];
    size_t hrp_len = (size_t) (sep - str);
    for (size_t i = 0; i < hrp_len; i++)
        hrp [i] = (char) tolower ((unsigned char) str [i]);
    hrp [hrp_len] = '\0';
    size_t count = 0;
    for (const char *c = sep + 1; *c && count < sizeof words; c++) {
        const char *at = strchr (charset, tolower ((unsigned char) *c));
        if (at)
            words [count++] = (uint8_t) (at - charset);
    }
    if (count < BECH32_CHECKSUM_LEN)
        return false;
    return bech32_encode (out, out_size, hrp, words, count - BECH32_CHECKSUM_LEN, max_len) == 0;
}

#endif
