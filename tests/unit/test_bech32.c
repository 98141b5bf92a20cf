/*  test_bech32.c: bech32 (BIP-173) against the BIP-173 test strings, round trips, the length
    limit, and the 5<->8-bit padding rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bech32.h"

#define WORDS_MAX 2048

static int
s_decode (const char *str, size_t max_len, char *hrp, uint8_t *words, size_t *words_len)
{
    return bech32_decode (str, max_len, hrp, BECH32_HRP_MAX + 1, words, WORDS_MAX, words_len);
}

//  BIP-173 valid strings decode, and re-encode (lower-cased) to the same text.
static void
test_valid_strings (void **state)
{
    const char *valid [] = {
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid [0]; i++) {
        char hrp [BECH32_HRP_MAX + 1];
        uint8_t words [WORDS_MAX];
        size_t words_len = 0;
        int rc = s_decode (valid [i], 90, hrp, words, &words_len);
        if (rc != 0)
            fail_msg ("%s: %s", valid [i], bech32_strerror (rc));
        char again [128];
        assert_int_equal (bech32_encode (again, sizeof again, hrp, words, words_len, 90), 0);
        char lower [128];
        size_t len = strlen (valid [i]);
        for (size_t j = 0; j <= len; j++)
            lower [j] = (char) (valid [i][j] >= 'A' && valid [i][j] <= 'Z'
                                ? valid [i][j] + 32 : valid [i][j]);
        assert_string_equal (again, lower);
    }
}

//  BIP-173 invalid strings each fail with the expected error.
static void
test_invalid_strings (void **state)
{
    struct { const char *str; int rc; } invalid [] = {
        { "\x20" "1nwldj5", BECH32_ERR_CHAR },          //  HRP character out of range
        { "\x7f" "1axkwrx", BECH32_ERR_CHAR },
        { "\x80" "1eym55h", BECH32_ERR_CHAR },
        { "pzry9x0s0muk", BECH32_ERR_NO_SEPARATOR },
        { "1pzry9x0s0muk", BECH32_ERR_HRP },            //  empty HRP
        { "x1b4n0q5v", BECH32_ERR_CHAR },               //  'b' is not in the charset
        { "li1dgmt3", BECH32_ERR_TOO_SHORT },           //  checksum too short
        { "de1lg7wt" "\xff", BECH32_ERR_CHAR },
        { "A1G7SGD8", BECH32_ERR_CHECKSUM },            //  checksum over the upper-case HRP
        { "10a06t8", BECH32_ERR_HRP },
        { "1qzzfhee", BECH32_ERR_HRP },
        { "a12UEL5L", BECH32_ERR_MIXED_CASE },
        { "a12uel5m", BECH32_ERR_CHECKSUM },
        { "", BECH32_ERR_NO_SEPARATOR },
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid [0]; i++) {
        char hrp [BECH32_HRP_MAX + 1];
        uint8_t words [WORDS_MAX];
        size_t words_len = 0;
        int rc = s_decode (invalid [i].str, 90, hrp, words, &words_len);
        if (rc != invalid [i].rc)
            fail_msg ("case %zu: got %d (%s), want %d", i, rc, bech32_strerror (rc), invalid [i].rc);
    }
}

//  The caller's max length is enforced both ways; long strings work under a larger limit.
static void
test_length_limit (void **state)
{
    uint8_t words [1000];
    for (size_t i = 0; i < sizeof words; i++)
        words [i] = (uint8_t) (i * 7 % 32);
    char out [1100];
    //  "hrp" + '1' + 1000 + 6 = 1010 characters.
    assert_int_equal (bech32_encode (out, sizeof out, "hrp", words, 1000, 1009), BECH32_ERR_TOO_LONG);
    assert_int_equal (bech32_encode (out, 1010, "hrp", words, 1000, 1010), BECH32_ERR_BUFFER);
    assert_int_equal (bech32_encode (out, sizeof out, "hrp", words, 1000, 1010), 0);
    assert_int_equal (strlen (out), 1010);

    char hrp [BECH32_HRP_MAX + 1];
    uint8_t back [WORDS_MAX];
    size_t back_len = 0;
    assert_int_equal (s_decode (out, 90, hrp, back, &back_len), BECH32_ERR_TOO_LONG);
    assert_int_equal (s_decode (out, 1009, hrp, back, &back_len), BECH32_ERR_TOO_LONG);
    assert_int_equal (s_decode (out, 1010, hrp, back, &back_len), 0);
    assert_int_equal (back_len, 1000);
    assert_memory_equal (back, words, 1000);
    assert_string_equal (hrp, "hrp");
    //  Output buffer too small for the words.
    assert_int_equal (bech32_decode (out, 1010, hrp, sizeof hrp, back, 999, &back_len),
                      BECH32_ERR_BUFFER);
    //  Encoder refuses upper-case HRP, empty HRP and out-of-range words.
    assert_int_equal (bech32_encode (out, sizeof out, "HRP", words, 3, 90), BECH32_ERR_HRP);
    assert_int_equal (bech32_encode (out, sizeof out, "", words, 3, 90), BECH32_ERR_HRP);
    uint8_t bad [1] = { 32 };
    assert_int_equal (bech32_encode (out, sizeof out, "a", bad, 1, 90), BECH32_ERR_CHAR);
}

//  8->5 and 5->8 regrouping with BIP-173 padding rules.
static void
test_convert_bits (void **state)
{
    const uint8_t bytes [3] = { 0xff, 0x00, 0x81 };
    uint8_t words [8], back [8];
    size_t words_len = 0, back_len = 0;
    //  24 bits -> 5 words (25 bits, one zero pad bit).
    assert_int_equal (bech32_convert_bits (words, sizeof words, &words_len, 5, bytes, 3, 8, true), 0);
    assert_int_equal (words_len, 5);
    assert_int_equal (words [0], 31);
    assert_int_equal (words [4], 2);    //  last bit 1 followed by one pad bit
    assert_int_equal (bech32_convert_bits (back, sizeof back, &back_len, 8, words, 5, 5, false), 0);
    assert_int_equal (back_len, 3);
    assert_memory_equal (back, bytes, 3);

    //  Non-zero padding bit is rejected.
    words [4] |= 1;
    assert_int_equal (bech32_convert_bits (back, sizeof back, &back_len, 8, words, 5, 5, false),
                      BECH32_ERR_PADDING);
    words [4] &= (uint8_t) ~1;
    //  A whole extra word of padding (5 leftover bits) is rejected even if zero.
    words [5] = 0;
    assert_int_equal (bech32_convert_bits (back, sizeof back, &back_len, 8, words, 6, 5, false),
                      BECH32_ERR_PADDING);
    //  Without pad, an incomplete group in encoding direction is an error.
    assert_int_equal (bech32_convert_bits (words, sizeof words, &words_len, 5, bytes, 3, 8, false),
                      BECH32_ERR_PADDING);
    //  Input value wider than in_bits, and a too-small output buffer.
    uint8_t wide [1] = { 40 };
    assert_int_equal (bech32_convert_bits (back, sizeof back, &back_len, 8, wide, 1, 5, true),
                      BECH32_ERR_CHAR);
    assert_int_equal (bech32_convert_bits (words, 4, &words_len, 5, bytes, 3, 8, true),
                      BECH32_ERR_BUFFER);
}

static void
test_strerror (void **state)
{
    for (int rc = 0; rc > BECH32_ERR_LAST; rc--)
        assert_null (strstr (bech32_strerror (rc), "unknown"));
    assert_non_null (strstr (bech32_strerror (-99), "unknown"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid_strings),
        cmocka_unit_test (test_invalid_strings),
        cmocka_unit_test (test_length_limit),
        cmocka_unit_test (test_convert_bits),
        cmocka_unit_test (test_strerror),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
