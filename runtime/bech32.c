/*  bech32.c: BIP-173 bech32 encoding and decoding, with a caller-given length limit.

    Written here because Debian ships no C bech32 library; the whole algorithm is the polymod
    checksum below plus a charset lookup. See bech32.h for the API and
    /work/shared/reference/protocols.md section 3 for the algorithm. */
#include "bech32.h"

#include <string.h>

//  The 32 characters of the bech32 alphabet; a character's index is its 5-bit value.
static const char s_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

//  BCH checksum over 5-bit values (BIP-173 "polymod").
static uint32_t
s_polymod_step (uint32_t chk, uint8_t value)
{
    static const uint32_t generator[5] = {
        0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
    };
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ value;
    for (int i = 0; i < 5; i++)
        if ((top >> i) & 1)
            chk ^= generator[i];
    return chk;
}

//  Checksum state after the expanded human-readable part (high bits, 0, low bits).
static uint32_t
s_polymod_hrp (const char *hrp, size_t hrp_len)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hrp_len; i++)
        chk = s_polymod_step (chk, (uint8_t) hrp [i] >> 5);
    chk = s_polymod_step (chk, 0);
    for (size_t i = 0; i < hrp_len; i++)
        chk = s_polymod_step (chk, (uint8_t) hrp [i] & 31);
    return chk;
}

//  5-bit value of a lower-case charset character, or -1.
static int
s_char_value (char c)
{
    if (c == '\0')
        return -1;
    const char *at = strchr (s_charset, c);
    return at ? (int) (at - s_charset) : -1;
}

int
bech32_encode (char *out, size_t out_size, const char *hrp,
               const uint8_t *words, size_t words_len, size_t max_len)
{
    size_t hrp_len = strnlen (hrp, BECH32_HRP_MAX + 1);
    if (hrp_len == 0 || hrp_len > BECH32_HRP_MAX)
        return BECH32_ERR_HRP;
    for (size_t i = 0; i < hrp_len; i++)
        if (hrp [i] < 33 || hrp [i] > 126 || (hrp [i] >= 'A' && hrp [i] <= 'Z'))
            return BECH32_ERR_HRP;
    if (words_len > max_len)
        return BECH32_ERR_TOO_LONG;
    size_t total = hrp_len + 1 + words_len + BECH32_CHECKSUM_LEN;
    if (total > max_len)
        return BECH32_ERR_TOO_LONG;
    if (total + 1 > out_size)
        return BECH32_ERR_BUFFER;

    uint32_t chk = s_polymod_hrp (hrp, hrp_len);
    memcpy (out, hrp, hrp_len);
    char *cursor = out + hrp_len;
    *cursor++ = '1';
    for (size_t i = 0; i < words_len; i++) {
        if (words [i] > 31)
            return BECH32_ERR_CHAR;
        chk = s_polymod_step (chk, words [i]);
        *cursor++ = s_charset [words [i]];
    }
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        chk = s_polymod_step (chk, 0);
    chk ^= 1;
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        *cursor++ = s_charset [(chk >> (5 * (5 - i))) & 31];
    *cursor = '\0';
    return BECH32_OK;
}

int
bech32_decode (const char *str, size_t max_len, char *hrp, size_t hrp_size,
               uint8_t *words, size_t words_size, size_t *words_len)
{
    //  Never read further than one character past the limit.
    size_t len = strnlen (str, max_len + 1);
    if (len > max_len)
        return BECH32_ERR_TOO_LONG;

    bool has_lower = false, has_upper = false;
    for (size_t i = 0; i < len; i++) {
        char c = str [i];
        if (c < 33 || c > 126)
            return BECH32_ERR_CHAR;
        has_lower |= (c >= 'a' && c <= 'z');
        has_upper |= (c >= 'A' && c <= 'Z');
    }
    if (has_lower && has_upper)
        return BECH32_ERR_MIXED_CASE;

    //  The separator is the last '1': the human-readable part may itself contain '1'.
    const char *sep = memrchr (str, '1', len);
    if (!sep)
        return BECH32_ERR_NO_SEPARATOR;
    size_t hrp_len = (size_t) (sep - str);
    if (hrp_len == 0 || hrp_len > BECH32_HRP_MAX)
        return BECH32_ERR_HRP;
    if (hrp_len + 1 > hrp_size)
        return BECH32_ERR_BUFFER;
    size_t data_len = len - hrp_len - 1;
    if (data_len < BECH32_CHECKSUM_LEN)
        return BECH32_ERR_TOO_SHORT;
    if (data_len - BECH32_CHECKSUM_LEN > words_size)
        return BECH32_ERR_BUFFER;

    //  The checksum is defined over the lower-case form.
    for (size_t i = 0; i < hrp_len; i++) {
        char c = str [i];
        hrp [i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }
    hrp [hrp_len] = '\0';

    uint32_t chk = s_polymod_hrp (hrp, hrp_len);
    for (size_t i = 0; i < data_len; i++) {
        char c = sep [1 + i];
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        int value = s_char_value (c);
        if (value < 0)
            return BECH32_ERR_CHAR;
        chk = s_polymod_step (chk, (uint8_t) value);
        if (i < data_len - BECH32_CHECKSUM_LEN)
            words [i] = (uint8_t) value;
    }
    if (chk != 1)
        return BECH32_ERR_CHECKSUM;
    *words_len = data_len - BECH32_CHECKSUM_LEN;
    return BECH32_OK;
}

int
bech32_convert_bits (uint8_t *out, size_t out_size, size_t *out_len, int out_bits,
                     const uint8_t *in, size_t in_len, int in_bits, bool pad)
{
    uint32_t acc = 0;           //  bits not yet written, right-aligned
    int bits = 0;               //  how many bits acc holds
    uint32_t out_mask = (1u << out_bits) - 1;
    size_t count = 0;
    for (size_t i = 0; i < in_len; i++) {
        if (in [i] >> in_bits)
            return BECH32_ERR_CHAR;
        acc = ((acc << in_bits) | in [i]) & 0xffffff;
        bits += in_bits;
        while (bits >= out_bits) {
            bits -= out_bits;
            if (count >= out_size)
                return BECH32_ERR_BUFFER;
            out [count++] = (uint8_t) ((acc >> bits) & out_mask);
        }
    }
    if (pad) {
        if (bits > 0) {
            if (count >= out_size)
                return BECH32_ERR_BUFFER;
            out [count++] = (uint8_t) ((acc << (out_bits - bits)) & out_mask);
        }
    }
    else
    if (bits >= in_bits || ((acc << (out_bits - bits)) & out_mask))
        return BECH32_ERR_PADDING;
    *out_len = count;
    return BECH32_OK;
}

const char *
bech32_strerror (int rc)
{
    switch (rc) {
        case BECH32_OK:               return "success";
        case BECH32_ERR_TOO_LONG:     return "bech32: string longer than allowed";
        case BECH32_ERR_CHAR:         return "bech32: invalid character";
        case BECH32_ERR_MIXED_CASE:   return "bech32: mixed upper and lower case";
        case BECH32_ERR_NO_SEPARATOR: return "bech32: no '1' separator";
        case BECH32_ERR_HRP:          return "bech32: empty or invalid human-readable part";
        case BECH32_ERR_TOO_SHORT:    return "bech32: data part shorter than the checksum";
        case BECH32_ERR_CHECKSUM:     return "bech32: checksum mismatch";
        case BECH32_ERR_PADDING:      return "bech32: invalid padding";
        case BECH32_ERR_BUFFER:       return "bech32: output buffer too small";
        default:                      return "bech32: unknown error";
    }
}
