/*  test_nip44.c: NIP-44 v2 against every valid and invalid vector of
    tests/vectors/nip44.vectors.json and the extended-prefix vectors of
    tests/vectors/nip44-extended-prefix-vectors.json, plus the plaintext limit parameter and
    hostile payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "nip44.h"
#include "nostr_keys.h"

static json_object *s_root;      //  nip44.vectors.json, member "v2"
static json_object *s_file;      //  the whole file, owner of s_root

static int
s_setup (void **state)
{
    s_file = json_object_from_file ("tests/vectors/nip44.vectors.json");
    if (!s_file || !json_object_object_get_ex (s_file, "v2", &s_root))
        return -1;
    return 0;
}

static int
s_teardown (void **state)
{
    json_object_put (s_file);
    return 0;
}

static json_object *
s_at (json_object *object, const char *path)
{
    //  "valid.encrypt_decrypt": walk members separated by dots.
    char copy [128];
    snprintf (copy, sizeof copy, "%s", path);
    for (char *key = strtok (copy, "."); key; key = strtok (NULL, ".")) {
        if (!json_object_object_get_ex (object, key, &object))
            fail_msg ("no member %s", path);
    }
    return object;
}

static const char *
s_str (json_object *object, const char *key)
{
    json_object *value;
    if (!json_object_object_get_ex (object, key, &value))
        fail_msg ("no member %s", key);
    return json_object_get_string (value);
}

static void
s_unhex (const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal (strlen (hex), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned byte;
        assert_int_equal (sscanf (hex + 2 * i, "%2x", &byte), 1);
        out [i] = (uint8_t) byte;
    }
}

static void
s_sha256_hex (const void *data, size_t len, char out [65])
{
    uint8_t hash [32];
    crypto_hash_sha256 (hash, (const unsigned char *) data, len);
    for (int i = 0; i < 32; i++)
        sprintf (out + 2 * i, "%02x", hash [i]);
}

static void
test_conversation_keys (void **state)
{
    json_object *list = s_at (s_root, "valid.get_conversation_key");
    assert_int_equal (json_object_array_length (list), 35);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        uint8_t sec [32], pub [32], expect [32], conv [32];
        s_unhex (s_str (row, "sec1"), sec, 32);
        s_unhex (s_str (row, "pub2"), pub, 32);
        s_unhex (s_str (row, "conversation_key"), expect, 32);
        assert_int_equal (nip44_conversation_key (sec, pub, conv), 0);
        assert_memory_equal (conv, expect, 32);
    }
    list = s_at (s_root, "invalid.get_conversation_key");
    assert_int_equal (json_object_array_length (list), 8);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        uint8_t sec [32], pub [32], conv [32];
        s_unhex (s_str (row, "sec1"), sec, 32);
        s_unhex (s_str (row, "pub2"), pub, 32);
        if (nip44_conversation_key (sec, pub, conv) != NIP44_ERR_KEY)
            fail_msg ("accepted: %s", s_str (row, "note"));
    }
}

static void
test_message_keys (void **state)
{
    json_object *group = s_at (s_root, "valid.get_message_keys");
    uint8_t conv [32];
    s_unhex (s_str (group, "conversation_key"), conv, 32);
    json_object *keys = s_at (group, "keys");
    assert_true (json_object_array_length (keys) > 0);
    for (size_t i = 0; i < json_object_array_length (keys); i++) {
        json_object *row = json_object_array_get_idx (keys, i);
        uint8_t nonce [32], ck [32], cn [12], hk [32], ck2 [32], cn2 [12], hk2 [32];
        s_unhex (s_str (row, "nonce"), nonce, 32);
        s_unhex (s_str (row, "chacha_key"), ck, 32);
        s_unhex (s_str (row, "chacha_nonce"), cn, 12);
        s_unhex (s_str (row, "hmac_key"), hk, 32);
        nip44_message_keys (conv, nonce, ck2, cn2, hk2);
        assert_memory_equal (ck, ck2, 32);
        assert_memory_equal (cn, cn2, 12);
        assert_memory_equal (hk, hk2, 32);
    }
}

static void
test_padding (void **state)
{
    json_object *list = s_at (s_root, "valid.calc_padded_len");
    assert_int_equal (json_object_array_length (list), 24);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *pair = json_object_array_get_idx (list, i);
        uint64_t len = (uint64_t) json_object_get_int64 (json_object_array_get_idx (pair, 0));
        uint64_t want = (uint64_t) json_object_get_int64 (json_object_array_get_idx (pair, 1));
        assert_int_equal (nip44_calc_padded_len (len), want);
    }
    assert_int_equal (nip44_calc_padded_len (65537), 81920);    //  From 44.md
    assert_int_equal (nip44_calc_padded_len (1), 32);
}

static void
test_encrypt_decrypt (void **state)
{
    json_object *list = s_at (s_root, "valid.encrypt_decrypt");
    assert_int_equal (json_object_array_length (list), 10);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        uint8_t sec1 [32], sec2 [32], pub2 [32], pub1 [32], conv [32], conv2 [32], nonce [32];
        uint8_t expect [32];
        s_unhex (s_str (row, "sec1"), sec1, 32);
        s_unhex (s_str (row, "sec2"), sec2, 32);
        s_unhex (s_str (row, "conversation_key"), expect, 32);
        s_unhex (s_str (row, "nonce"), nonce, 32);
        assert_int_equal (nostr_keys_pubkey_from_seckey (sec2, pub2), 0);
        assert_int_equal (nostr_keys_pubkey_from_seckey (sec1, pub1), 0);
        assert_int_equal (nip44_conversation_key (sec1, pub2, conv), 0);
        assert_int_equal (nip44_conversation_key (sec2, pub1, conv2), 0);
        assert_memory_equal (conv, expect, 32);
        assert_memory_equal (conv2, expect, 32);

        const char *plaintext = s_str (row, "plaintext");
        size_t payload_len, plain_len;
        int err;
        char *payload = nip44_encrypt (conv, (const uint8_t *) plaintext, strlen (plaintext),
                                       nonce, 0, &payload_len, &err);
        assert_non_null (payload);
        assert_string_equal (payload, s_str (row, "payload"));
        assert_int_equal (payload_len, strlen (payload));
        uint8_t *back = nip44_decrypt (conv2, payload, payload_len, 0, &plain_len, &err);
        assert_non_null (back);
        assert_int_equal (plain_len, strlen (plaintext));
        assert_string_equal ((char *) back, plaintext);
        free (payload);
        free (back);
    }
}

//  Long messages: pattern x repeat, compared through the sha256 of plaintext and payload.
static void
test_long_messages (void **state)
{
    json_object *list = s_at (s_root, "valid.encrypt_decrypt_long_msg");
    assert_true (json_object_array_length (list) > 0);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        uint8_t conv [32], nonce [32];
        s_unhex (s_str (row, "conversation_key"), conv, 32);
        s_unhex (s_str (row, "nonce"), nonce, 32);
        const char *pattern = s_str (row, "pattern");
        json_object *repeat_obj;
        assert_true (json_object_object_get_ex (row, "repeat", &repeat_obj));
        size_t repeat = (size_t) json_object_get_int64 (repeat_obj);
        size_t plen = strlen (pattern), len = plen * repeat;
        char *plaintext = (char *) malloc (len + 1);
        for (size_t r = 0; r < repeat; r++)
            memcpy (plaintext + r * plen, pattern, plen);
        plaintext [len] = 0;
        char hash [65];
        s_sha256_hex (plaintext, len, hash);
        assert_string_equal (hash, s_str (row, "plaintext_sha256"));
        size_t payload_len, back_len;
        int err;
        char *payload = nip44_encrypt (conv, (uint8_t *) plaintext, len, nonce, 0,
                                       &payload_len, &err);
        assert_non_null (payload);
        s_sha256_hex (payload, payload_len, hash);
        assert_string_equal (hash, s_str (row, "payload_sha256"));
        uint8_t *back = nip44_decrypt (conv, payload, payload_len, 0, &back_len, &err);
        assert_non_null (back);
        assert_int_equal (back_len, len);
        assert_memory_equal (back, plaintext, len);
        free (back);
        free (payload);
        free (plaintext);
    }
}

//  The extended 6-byte prefix (plaintexts of 65,536 bytes and more) with a raised limit;
//  the default limit keeps refusing them, which is what the 2024 vectors list as invalid.
static void
test_extended_prefix (void **state)
{
    json_object *file = json_object_from_file ("tests/vectors/nip44-extended-prefix-vectors.json");
    assert_non_null (file);
    uint8_t conv [32], nonce [32];
    s_unhex (s_str (file, "conversation_key"), conv, 32);
    s_unhex (s_str (file, "nonce"), nonce, 32);
    json_object *list = s_at (file, "vectors");
    assert_int_equal (json_object_array_length (list), 3);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        json_object *len_obj, *padded_obj;
        assert_true (json_object_object_get_ex (row, "plaintext_len", &len_obj));
        assert_true (json_object_object_get_ex (row, "padded_len", &padded_obj));
        size_t len = (size_t) json_object_get_int64 (len_obj);
        assert_int_equal (nip44_calc_padded_len (len), json_object_get_int64 (padded_obj));
        uint8_t *plaintext = (uint8_t *) malloc (len);
        memset (plaintext, 'a', len);
        char hash [65];
        s_sha256_hex (plaintext, len, hash);
        assert_string_equal (hash, s_str (row, "plaintext_sha256"));
        size_t payload_len, back_len;
        int err;
        char *payload = nip44_encrypt (conv, plaintext, len, nonce, NIP44_LARGEST_PLAINTEXT,
                                       &payload_len, &err);
        assert_non_null (payload);
        s_sha256_hex (payload, payload_len, hash);
        assert_string_equal (hash, s_str (row, "payload_sha256"));
        uint8_t *back = nip44_decrypt (conv, payload, payload_len, NIP44_LARGEST_PLAINTEXT,
                                       &back_len, &err);
        assert_non_null (back);
        assert_int_equal (back_len, len);
        assert_memory_equal (back, plaintext, len);
        free (back);
        //  Under the default (interoperable) limit, only the 65,535-byte one is accepted.
        back = nip44_decrypt (conv, payload, payload_len, 0, &back_len, &err);
        if (len <= NIP44_DEFAULT_MAX_PLAINTEXT)
            assert_non_null (back);
        else {
            assert_null (back);
            assert_int_equal (err, NIP44_ERR_LENGTH);
        }
        free (back);
        free (payload);
        free (plaintext);
    }
    json_object *example = s_at (file, "example_1byte");
    uint8_t sec1 [32], sec2 [32], pub2 [32];
    s_unhex (s_str (example, "sec1"), sec1, 32);
    s_unhex (s_str (example, "sec2"), sec2, 32);
    assert_int_equal (nostr_keys_pubkey_from_seckey (sec2, pub2), 0);
    assert_int_equal (nip44_conversation_key (sec1, pub2, conv), 0);
    size_t len;
    int err;
    char *payload = nip44_encrypt (conv, (const uint8_t *) "a", 1, nonce, 0, &len, &err);
    assert_string_equal (payload, s_str (example, "payload"));
    free (payload);
    json_object_put (file);
}

static void
test_invalid_lengths (void **state)
{
    json_object *list = s_at (s_root, "invalid.encrypt_msg_lengths");
    uint8_t conv [32] = { 7 };
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        size_t len = (size_t) json_object_get_int64 (json_object_array_get_idx (list, i));
        uint8_t *plaintext = (uint8_t *) calloc (1, len + 1);
        int err = 0;
        //  Refused under the default limit (the rule these vectors were written for).
        assert_null (nip44_encrypt (conv, plaintext, len, NULL, 0, NULL, &err));
        assert_int_equal (err, NIP44_ERR_PLAINTEXT);
        //  Under the current spec only 0 stays invalid.
        char *payload = nip44_encrypt (conv, plaintext, len, NULL, NIP44_LARGEST_PLAINTEXT,
                                       NULL, &err);
        if (len == 0)
            assert_null (payload);
        else
            assert_non_null (payload);
        free (payload);
        free (plaintext);
    }
}

static void
test_invalid_decrypt (void **state)
{
    json_object *list = s_at (s_root, "invalid.decrypt");
    assert_int_equal (json_object_array_length (list), 12);
    for (size_t i = 0; i < json_object_array_length (list); i++) {
        json_object *row = json_object_array_get_idx (list, i);
        uint8_t conv [32];
        s_unhex (s_str (row, "conversation_key"), conv, 32);
        const char *payload = s_str (row, "payload");
        const char *note = s_str (row, "note");
        int want = strstr (note, "version") ? NIP44_ERR_VERSION
                 : strstr (note, "base64") ? NIP44_ERR_BASE64
                 : strstr (note, "MAC") ? NIP44_ERR_MAC
                 : strstr (note, "padding") ? NIP44_ERR_PADDING : NIP44_ERR_LENGTH;
        if (strcmp (note, "invalid payload length: 0") == 0)
            want = NIP44_ERR_VERSION;           //  Spec step 1: empty is "unknown version"
        int err = 0;
        size_t len;
        uint8_t *plain = nip44_decrypt (conv, payload, strlen (payload), 0, &len, &err);
        assert_null (plain);
        if (err != want)
            fail_msg ("%s: got %s", note, nip44_strerror (err));
    }
}

//  Hostile payloads built around a valid one: every error branch, never a crash.
static void
test_hostile (void **state)
{
    uint8_t conv [32] = { 1, 2, 3 };
    size_t len;
    int err;
    char *payload = nip44_encrypt (conv, (const uint8_t *) "hello", 5, NULL, 0, &len, &err);
    assert_non_null (payload);
    //  Any single flipped character fails (MAC or base64), never decrypts.
    for (size_t i = 0; i < len; i++) {
        char saved = payload [i];
        payload [i] = saved == 'A' ? 'B' : 'A';
        uint8_t *plain = nip44_decrypt (conv, payload, len, 0, NULL, &err);
        assert_null (plain);
        assert_true (err == NIP44_ERR_MAC || err == NIP44_ERR_BASE64
                     || err == NIP44_ERR_VERSION);
        payload [i] = saved;
    }
    //  Truncated, padded out, too long.
    assert_null (nip44_decrypt (conv, payload, len - 4, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_LENGTH);
    assert_null (nip44_decrypt (conv, payload, 131, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_LENGTH);
    assert_null (nip44_decrypt (conv, "#abc", 4, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_VERSION);
    char *big = (char *) malloc (100000);
    memset (big, 'A', 100000);
    assert_null (nip44_decrypt (conv, big, 100000, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_LENGTH);
    memset (big, '=', 200);
    assert_null (nip44_decrypt (conv, big, 200, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_BASE64);
    free (big);
    //  Wrong key.
    uint8_t other [32] = { 9 };
    assert_null (nip44_decrypt (other, payload, len, 0, NULL, &err));
    assert_int_equal (err, NIP44_ERR_MAC);
    //  Right key: the round trip works with a random nonce.
    uint8_t *plain = nip44_decrypt (conv, payload, len, 0, &len, &err);
    assert_non_null (plain);
    assert_int_equal (len, 5);
    assert_string_equal ((char *) plain, "hello");
    free (plain);
    free (payload);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_conversation_keys),
        cmocka_unit_test (test_message_keys),
        cmocka_unit_test (test_padding),
        cmocka_unit_test (test_encrypt_decrypt),
        cmocka_unit_test (test_long_messages),
        cmocka_unit_test (test_extended_prefix),
        cmocka_unit_test (test_invalid_lengths),
        cmocka_unit_test (test_invalid_decrypt),
        cmocka_unit_test (test_hostile),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
