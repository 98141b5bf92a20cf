/*  test_nip04.c: NIP-04 against tests/vectors/nip04-computed-vector.json both ways (decrypt
    the given content; encrypt with the given IV and get the same content), the shared x of
    the two NIP-06 keys, round trips of every length around the block size, and hostile
    content strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "nip04.h"
#include "nostr_keys.h"

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
test_vector (void **state)
{
    json_object *v = json_object_from_file ("tests/vectors/nip04-computed-vector.json");
    assert_non_null (v);
    uint8_t sender [32], recipient [32], sender_pub [32], recipient_pub [32];
    uint8_t shared [32], x1 [32], x2 [32], iv [16];
    s_unhex (s_str (v, "sender_seckey"), sender, 32);
    s_unhex (s_str (v, "recipient_seckey"), recipient, 32);
    s_unhex (s_str (v, "sender_pubkey"), sender_pub, 32);
    s_unhex (s_str (v, "recipient_pubkey"), recipient_pub, 32);
    s_unhex (s_str (v, "shared_x"), shared, 32);
    s_unhex (s_str (v, "iv_hex"), iv, 16);

    //  Both sides derive the same unhashed x.
    nostr_keys_t *a = nostr_keys_new (sender), *b = nostr_keys_new (recipient);
    assert_memory_equal (nostr_keys_pubkey (a), sender_pub, 32);
    assert_memory_equal (nostr_keys_pubkey (b), recipient_pub, 32);
    assert_int_equal (nostr_keys_ecdh (a, recipient_pub, x1), 0);
    assert_int_equal (nostr_keys_ecdh (b, sender_pub, x2), 0);
    assert_memory_equal (x1, shared, 32);
    assert_memory_equal (x2, shared, 32);

    const char *plaintext = s_str (v, "plaintext");
    const char *content = s_str (v, "content");
    size_t len;
    int err;
    char *mine = nip04_encrypt (shared, (const uint8_t *) plaintext, strlen (plaintext), iv,
                                0, &len, &err);
    assert_non_null (mine);
    assert_string_equal (mine, content);
    assert_int_equal (len, strlen (content));
    uint8_t *back = nip04_decrypt (shared, content, strlen (content), 0, &len, &err);
    assert_non_null (back);
    assert_int_equal (len, strlen (plaintext));
    assert_string_equal ((char *) back, plaintext);
    free (mine);
    free (back);
    nostr_keys_destroy (&a);
    nostr_keys_destroy (&b);
    json_object_put (v);
}

static void
test_round_trips (void **state)
{
    uint8_t key [32] = { 42 }, text [100];
    for (size_t i = 0; i < sizeof text; i++)
        text [i] = (uint8_t) (i * 7);
    for (size_t len = 0; len <= 70; len++) {
        size_t content_len, back_len;
        int err;
        char *content = nip04_encrypt (key, text, len, NULL, 0, &content_len, &err);
        assert_non_null (content);
        //  Ciphertext is whole blocks: base64 of 16 * (len / 16 + 1) bytes, then the IV.
        size_t blocks = len / 16 + 1;
        assert_int_equal (content_len, (16 * blocks + 2) / 3 * 4 + 4 + 24);
        uint8_t *back = nip04_decrypt (key, content, content_len, 0, &back_len, &err);
        assert_non_null (back);
        assert_int_equal (back_len, len);
        assert_memory_equal (back, text, len);
        free (back);
        free (content);
    }
    int err;
    assert_null (nip04_encrypt (key, text, 11, NULL, 10, NULL, &err));
    assert_int_equal (err, NIP04_ERR_PLAINTEXT);
}

static void
test_hostile (void **state)
{
    uint8_t key [32] = { 1 }, wrong [32] = { 2 };
    size_t len;
    int err;
    char *content = nip04_encrypt (key, (const uint8_t *) "secret params", 13, NULL, 0, &len,
                                   &err);
    assert_non_null (content);
    struct { const char *text; int rc; } cases [] = {
        { "", NIP04_ERR_FORMAT },
        { "abc", NIP04_ERR_FORMAT },
        { "?iv=", NIP04_ERR_LENGTH },                   //  an empty IV is 0 bytes
        { "AAAAAAAAAAAAAAAAAAAAAA==?iv=", NIP04_ERR_LENGTH },
        { "AAAAAAAAAAAAAAAAAAAAAA==?iv=AAECAwQFBgcICQoLDA0ODw", NIP04_ERR_BASE64 },
        { "AAAAAAAAAAAAAAAAAAAAAA==?iv=AAECAwQFBgcICQoLDA0O", NIP04_ERR_LENGTH },
        { "AAAAAAAAAAAAAAAAAAAAAA==?iv=AAECAwQFBgcICQoLDA0ODwAAECAwQFBgcICQoLDA0ODw==",
          NIP04_ERR_LENGTH },
        { "?iv=AAECAwQFBgcICQoLDA0ODw==", NIP04_ERR_LENGTH },
        { "AAAA?iv=AAECAwQFBgcICQoLDA0ODw==", NIP04_ERR_LENGTH },
        { "AA!AAAAAAAAAAAAAAAAAAA==?iv=AAECAwQFBgcICQoLDA0ODw==", NIP04_ERR_BASE64 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        err = 0;
        uint8_t *plain = nip04_decrypt (key, cases [i].text, strlen (cases [i].text), 0,
                                        NULL, &err);
        assert_null (plain);
        if (err != cases [i].rc)
            fail_msg ("case %zu (%s): got %s", i, cases [i].text, nip04_strerror (err));
    }
    //  The wrong key: almost always a padding failure, else garbage; never the plaintext.
    uint8_t *plain = nip04_decrypt (wrong, content, len, 0, NULL, &err);
    if (plain) {
        assert_true (memcmp (plain, "secret params", 13) != 0);
        free (plain);
    }
    else
        assert_int_equal (err, NIP04_ERR_PADDING);
    //  Too long for the limit.
    assert_null (nip04_decrypt (key, content, len, 8, NULL, &err));
    assert_int_equal (err, NIP04_ERR_LENGTH);
    free (content);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_vector),
        cmocka_unit_test (test_round_trips),
        cmocka_unit_test (test_hostile),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
