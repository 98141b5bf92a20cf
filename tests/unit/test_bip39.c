/*  test_bip39.c: BIP-39 against the official Trezor English vectors (entropy -> phrase,
    phrase -> entropy, phrase + "TREZOR" -> seed), the distinct validation errors, input
    normalisation and size limits, and PBKDF2-HMAC-SHA512 on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bip39.h"

#define VECTORS "tests/vectors/bip39-trezor-vectors.json"

static void
s_unhex (const char *hex, uint8_t *out, size_t out_size, size_t *out_len)
{
    size_t len = 0;
    assert_int_equal (sodium_hex2bin (out, out_size, hex, strlen (hex), NULL, &len, NULL), 0);
    *out_len = len;
}

static json_object *
s_english_vectors (void)
{
    json_object *root = json_object_from_file (VECTORS);
    assert_non_null (root);
    return root;
}

static void
test_trezor_vectors (void **state)
{
    json_object *root = s_english_vectors ();
    json_object *english;
    assert_true (json_object_object_get_ex (root, "english", &english));
    size_t count = json_object_array_length (english);
    assert_int_equal (count, 24);
    for (size_t i = 0; i < count; i++) {
        json_object *row = json_object_array_get_idx (english, i);
        const char *entropy_hex = json_object_get_string (json_object_array_get_idx (row, 0));
        const char *phrase = json_object_get_string (json_object_array_get_idx (row, 1));
        const char *seed_hex = json_object_get_string (json_object_array_get_idx (row, 2));

        uint8_t entropy [64], seed_expected [64];
        size_t entropy_len, seed_len;
        s_unhex (entropy_hex, entropy, sizeof entropy, &entropy_len);
        s_unhex (seed_hex, seed_expected, sizeof seed_expected, &seed_len);
        assert_int_equal (seed_len, BIP39_SEED_SIZE);

        //  Entropy -> phrase, byte-exact
        char out [BIP39_MNEMONIC_MAX];
        assert_int_equal (bip39_from_entropy (entropy, entropy_len, out, sizeof out), BIP39_OK);
        assert_string_equal (out, phrase);

        //  Phrase -> entropy
        uint8_t decoded [BIP39_ENTROPY_MAX];
        size_t decoded_len = 0, position = 99;
        assert_int_equal (bip39_decode (phrase, decoded, &decoded_len, &position), BIP39_OK);
        assert_int_equal (position, 0);
        assert_int_equal (decoded_len, entropy_len);
        assert_memory_equal (decoded, entropy, entropy_len);

        //  Phrase + "TREZOR" -> seed
        uint8_t seed [BIP39_SEED_SIZE];
        assert_int_equal (bip39_to_seed (phrase, "TREZOR", seed), BIP39_OK);
        assert_memory_equal (seed, seed_expected, BIP39_SEED_SIZE);
    }
    json_object_put (root);
}

//  The NIP-06 vectors carry the seed with an empty passphrase: checks the salt "mnemonic".
static void
test_empty_passphrase_seed (void **state)
{
    uint8_t seed [BIP39_SEED_SIZE], expected [BIP39_SEED_SIZE];
    size_t len;
    s_unhex ("173b9c5f0d165502d08a4d122b2c9bf1e33e27806eac119713600a263c1241101dc55fb7cffb8f48a59b19a5ba65b037904f907bb8d08eb5bff8a17e85c2ee93",
             expected, sizeof expected, &len);
    const char *phrase = "leader monkey parrot ring guide accident before fence cannon height naive bean";
    assert_int_equal (bip39_to_seed (phrase, NULL, seed), BIP39_OK);
    assert_memory_equal (seed, expected, sizeof seed);
    assert_int_equal (bip39_to_seed (phrase, "", seed), BIP39_OK);
    assert_memory_equal (seed, expected, sizeof seed);
}

//  Whitespace and case are normalised; the seed is the same as for the canonical form.
static void
test_normalisation (void **state)
{
    char out [BIP39_INPUT_MAX + 1];
    assert_int_equal (bip39_normalize ("  Zoo\tzoo\n\n ZOO \r\n", out, sizeof out), 11);
    assert_string_equal (out, "zoo zoo zoo");
    assert_int_equal (bip39_normalize (" \t\n", out, sizeof out), 0);
    assert_string_equal (out, "");
    assert_int_equal (bip39_normalize ("abc def", out, 7), BIP39_ERR_BUFFER);
    assert_int_equal (bip39_normalize ("abc def", out, 8), 7);

    const char *canonical = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
    const char *messy = "\n  ZOO zoo\tzoo  zoo zoo zoo\r\nzoo zoo zoo zoo Zoo   WRONG\n";
    uint8_t a [BIP39_SEED_SIZE], b [BIP39_SEED_SIZE];
    assert_int_equal (bip39_to_seed (canonical, "TREZOR", a), BIP39_OK);
    assert_int_equal (bip39_to_seed (messy, "TREZOR", b), BIP39_OK);
    assert_memory_equal (a, b, sizeof a);
}

static void
test_distinct_errors (void **state)
{
    size_t position = 0;
    //  The negative case from the Trezor test suite: every word known, checksum wrong
    assert_int_equal (bip39_validate ("bless cloud wheel regular tiny venue bird web grief security dignity zoo",
                                      &position), BIP39_ERR_CHECKSUM);
    assert_int_equal (position, 0);
    //  Last word swapped: checksum
    assert_int_equal (bip39_validate ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
                                      &position), BIP39_ERR_CHECKSUM);
    //  Unknown word, reported with its 1-based position
    assert_int_equal (bip39_validate ("abandon abandon abandon abandon abandon abandonn abandon abandon abandon abandon abandon about",
                                      &position), BIP39_ERR_UNKNOWN_WORD);
    assert_int_equal (position, 6);
    assert_int_equal (bip39_validate ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon aboutaboutabout",
                                      &position), BIP39_ERR_UNKNOWN_WORD);
    assert_int_equal (position, 12);
    assert_int_equal (bip39_validate ("caf\xc3\xa9 zoo", &position), BIP39_ERR_UNKNOWN_WORD);
    assert_int_equal (position, 1);
    //  Wrong word counts: 0, 11, 13, 25
    assert_int_equal (bip39_validate ("", &position), BIP39_ERR_WORD_COUNT);
    assert_int_equal (bip39_validate ("   ", &position), BIP39_ERR_WORD_COUNT);
    assert_int_equal (bip39_validate ("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong", &position),
                      BIP39_ERR_WORD_COUNT);
    assert_int_equal (bip39_validate ("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong", &position),
                      BIP39_ERR_WORD_COUNT);
    char long_phrase [512] = "";
    for (int i = 0; i < 25; i++)
        strcat (long_phrase, i ? " zoo" : "zoo");
    assert_int_equal (bip39_validate (long_phrase, &position), BIP39_ERR_WORD_COUNT);
    assert_int_equal (position, 0);

    //  An invalid phrase gives no seed
    uint8_t seed [BIP39_SEED_SIZE];
    assert_int_equal (bip39_to_seed ("zoo zoo zoo", NULL, seed), BIP39_ERR_WORD_COUNT);

    //  Every code has its own text
    for (int a = BIP39_ERR_NOMEM; a <= BIP39_OK; a++)
        for (int b = a + 1; b <= BIP39_OK; b++)
            assert_string_not_equal (bip39_strerror (a), bip39_strerror (b));
}

//  Hard input limits: oversize input, oversize words, hostile passphrases.
static void
test_limits (void **state)
{
    static char huge [BIP39_INPUT_MAX + 2];
    memset (huge, ' ', sizeof huge - 1);
    memcpy (huge, "zoo", 3);
    assert_int_equal (bip39_validate (huge, NULL), BIP39_ERR_TOO_LONG);
    huge [BIP39_INPUT_MAX] = 0;                  //  exactly the limit: accepted as input
    assert_int_equal (bip39_validate (huge, NULL), BIP39_ERR_WORD_COUNT);

    memset (huge, 'a', BIP39_INPUT_MAX);        //  one 1024-letter "word"
    size_t position = 0;
    assert_int_equal (bip39_validate (huge, &position), BIP39_ERR_UNKNOWN_WORD);
    assert_int_equal (position, 1);

    const char *phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    uint8_t seed [BIP39_SEED_SIZE];
    char pass [BIP39_PASSPHRASE_MAX + 2];
    memset (pass, 'p', sizeof pass - 1);
    pass [sizeof pass - 1] = 0;
    assert_int_equal (bip39_to_seed (phrase, pass, seed), BIP39_ERR_PASSPHRASE);
    pass [BIP39_PASSPHRASE_MAX] = 0;
    assert_int_equal (bip39_to_seed (phrase, pass, seed), BIP39_OK);
    assert_int_equal (bip39_to_seed (phrase, "p\xc3\xa4ss", seed), BIP39_ERR_PASSPHRASE);

    char out [BIP39_MNEMONIC_MAX];
    uint8_t entropy [33] = { 0 };
    assert_int_equal (bip39_from_entropy (entropy, 15, out, sizeof out), BIP39_ERR_ENTROPY);
    assert_int_equal (bip39_from_entropy (entropy, 33, out, sizeof out), BIP39_ERR_ENTROPY);
    assert_int_equal (bip39_from_entropy (entropy, 18, out, sizeof out), BIP39_ERR_ENTROPY);
    assert_int_equal (bip39_from_entropy (entropy, 16, out, 20), BIP39_ERR_BUFFER);
}

//  Generated phrases have the asked length, validate, and differ from each other.
static void
test_generate (void **state)
{
    int sizes [] = { 12, 15, 18, 21, 24 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes [0]; s++) {
        char a [BIP39_MNEMONIC_MAX], b [BIP39_MNEMONIC_MAX];
        assert_int_equal (bip39_generate (sizes [s], a, sizeof a), BIP39_OK);
        assert_int_equal (bip39_generate (sizes [s], b, sizeof b), BIP39_OK);
        assert_string_not_equal (a, b);
        int words = 1;
        for (const char *c = a; *c; c++)
            words += *c == ' ';
        assert_int_equal (words, sizes [s]);
        uint8_t entropy [BIP39_ENTROPY_MAX];
        size_t entropy_len;
        assert_int_equal (bip39_decode (a, entropy, &entropy_len, NULL), BIP39_OK);
        assert_int_equal (entropy_len, (size_t) sizes [s] * 4 / 3);
    }
    char out [BIP39_MNEMONIC_MAX];
    assert_int_equal (bip39_generate (13, out, sizeof out), BIP39_ERR_WORD_COUNT);
    assert_int_equal (bip39_generate (27, out, sizeof out), BIP39_ERR_WORD_COUNT);
    assert_int_equal (bip39_generate (0, out, sizeof out), BIP39_ERR_WORD_COUNT);
}

static void
test_word_list (void **state)
{
    assert_string_equal (bip39_word (0), "abandon");
    assert_string_equal (bip39_word (2047), "zoo");
    assert_null (bip39_word (2048));
    assert_null (bip39_word (-1));
    assert_int_equal (bip39_word_index ("abandon"), 0);
    assert_int_equal (bip39_word_index ("zoo"), 2047);
    assert_int_equal (bip39_word_index ("wrong"), 2037);
    assert_int_equal (bip39_word_index ("Zoo"), -1);
    assert_int_equal (bip39_word_index (""), -1);
    for (int i = 0; i < 2048; i++)
        assert_int_equal (bip39_word_index (bip39_word (i)), i);
}

//  PBKDF2-HMAC-SHA512 known answers (RFC 6070's inputs; results from an independent
//  implementation, Python's hashlib.pbkdf2_hmac), including a multi-block output.
static void
test_pbkdf2 (void **state)
{
    uint8_t out [80], expected [80];
    size_t len;
    bip39_pbkdf2_sha512 ((const uint8_t *) "password", 8, (const uint8_t *) "salt", 4, 1, out, 64);
    s_unhex ("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce",
             expected, sizeof expected, &len);
    assert_memory_equal (out, expected, 64);
    bip39_pbkdf2_sha512 ((const uint8_t *) "password", 8, (const uint8_t *) "salt", 4, 2, out, 64);
    s_unhex ("e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53cf76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e",
             expected, sizeof expected, &len);
    assert_memory_equal (out, expected, 64);
    //  80 bytes = two blocks: the first 64 are block 1, then 16 bytes of block 2
    bip39_pbkdf2_sha512 ((const uint8_t *) "password", 8, (const uint8_t *) "salt", 4, 2, out, 80);
    assert_memory_equal (out, expected, 64);
    s_unhex ("473e311ad827b68945f4e2dddb204c78", expected, sizeof expected, &len);
    assert_memory_equal (out + 64, expected, 16);
    //  A password longer than the SHA-512 block (128 bytes) is hashed first by HMAC
    uint8_t long_password [200];
    memset (long_password, 'x', sizeof long_password);
    bip39_pbkdf2_sha512 (long_password, sizeof long_password, (const uint8_t *) "salt", 4, 3, out, 64);
    s_unhex ("7e06f7557aae6057f38260ec33f67b9675bebccb8b17931386629a07d32149d2378b0cb294a152173818b94281c3db47d169e538b02deb3f2457884f1a3e04d9",
             expected, sizeof expected, &len);
    assert_memory_equal (out, expected, 64);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_trezor_vectors),
        cmocka_unit_test (test_empty_passphrase_seed),
        cmocka_unit_test (test_normalisation),
        cmocka_unit_test (test_distinct_errors),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_generate),
        cmocka_unit_test (test_word_list),
        cmocka_unit_test (test_pbkdf2),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
