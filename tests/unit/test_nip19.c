/*  test_nip19.c: NIP-19 entities against tests/vectors/nip19-examples.json, plus round trips,
    TLV edge cases (unknown types, truncation, limits) and garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "bech32.h"
#include "nip19.h"

#define VECTORS "tests/vectors/nip19-examples.json"

static void
s_hex_decode (const char *hex, uint8_t *out, size_t out_len)
{
    assert_int_equal (strlen (hex), out_len * 2);
    for (size_t i = 0; i < out_len; i++) {
        unsigned value;
        assert_int_equal (sscanf (hex + 2 * i, "%2x", &value), 1);
        out [i] = (uint8_t) value;
    }
}

static const char *
s_get (json_object *obj, const char *key)
{
    json_object *value;
    assert_true (json_object_object_get_ex (obj, key, &value));
    return json_object_get_string (value);
}

//  Encode a raw TLV payload (hex) under an hrp: lets tests build any malformed entity.
static void
s_encode_raw (char *out, size_t out_size, const char *hrp, const uint8_t *payload, size_t len)
{
    uint8_t words [NIP19_MAX_LEN];
    size_t words_len = 0;
    assert_int_equal (bech32_convert_bits (words, sizeof words, &words_len, 5, payload, len, 8, true), 0);
    assert_int_equal (bech32_encode (out, out_size, hrp, words, words_len, 100000), 0);
}

static void
test_vectors_bare (void **state)
{
    json_object *root = json_object_from_file (VECTORS);
    assert_non_null (root);
    const char *groups [] = { "bare", "computed_generated_not_official" };
    size_t checked = 0;
    for (size_t g = 0; g < 2; g++) {
        json_object *list;
        assert_true (json_object_object_get_ex (root, groups [g], &list));
        for (size_t i = 0; i < json_object_array_length (list); i++) {
            json_object *item = json_object_array_get_idx (list, i);
            if (!json_object_object_get_ex (item, "hex", NULL))
                continue;       //  TLV entries are tested below
            uint8_t bytes [32];
            s_hex_decode (s_get (item, "hex"), bytes, 32);
            nip19_entity_t entity;
            int rc = nip19_decode (s_get (item, "bech32"), &entity);
            if (rc != 0)
                fail_msg ("%s: %s", s_get (item, "bech32"), nip19_strerror (rc));
            assert_string_equal (nip19_type_name (entity.type), s_get (item, "hrp"));
            assert_memory_equal (entity.bytes, bytes, 32);
            char out [NIP19_MAX_LEN + 1];
            assert_int_equal (nip19_encode_bytes (out, sizeof out, entity.type, bytes), 0);
            assert_string_equal (out, s_get (item, "bech32"));
            nip19_entity_wipe (&entity);
            checked++;
        }
    }
    assert_int_equal (checked, 4);
    json_object_put (root);
}

static void
test_vectors_tlv (void **state)
{
    json_object *root = json_object_from_file (VECTORS);
    assert_non_null (root);
    //  The official nprofile.
    json_object *list, *item, *decoded, *relays;
    assert_true (json_object_object_get_ex (root, "tlv", &list));
    item = json_object_array_get_idx (list, 0);
    nip19_entity_t entity;
    assert_int_equal (nip19_decode (s_get (item, "bech32"), &entity), 0);
    assert_int_equal (entity.type, NIP19_NPROFILE);
    assert_true (json_object_object_get_ex (item, "decoded", &decoded));
    uint8_t pubkey [32];
    s_hex_decode (s_get (decoded, "pubkey"), pubkey, 32);
    assert_memory_equal (entity.bytes, pubkey, 32);
    assert_true (json_object_object_get_ex (decoded, "relays", &relays));
    assert_int_equal (entity.relay_count, json_object_array_length (relays));
    for (size_t i = 0; i < entity.relay_count; i++)
        assert_string_equal (entity.relays [i],
                             json_object_get_string (json_object_array_get_idx (relays, i)));
    char out [NIP19_MAX_LEN + 1];
    assert_int_equal (nip19_encode (out, sizeof out, &entity), 0);
    assert_string_equal (out, s_get (item, "bech32"));

    //  The computed nevent (id, relay, author, kind).
    assert_true (json_object_object_get_ex (root, "computed_generated_not_official", &list));
    item = json_object_array_get_idx (list, 1);
    assert_string_equal (s_get (item, "hrp"), "nevent");
    assert_int_equal (nip19_decode (s_get (item, "bech32"), &entity), 0);
    assert_int_equal (entity.type, NIP19_NEVENT);
    assert_true (json_object_object_get_ex (item, "decoded", &decoded));
    uint8_t id [32], author [32];
    s_hex_decode (s_get (decoded, "id"), id, 32);
    s_hex_decode (s_get (decoded, "author"), author, 32);
    assert_memory_equal (entity.bytes, id, 32);
    assert_true (entity.has_author);
    assert_memory_equal (entity.author, author, 32);
    assert_true (entity.has_kind);
    json_object *kind;
    assert_true (json_object_object_get_ex (decoded, "kind", &kind));
    assert_int_equal (entity.kind, json_object_get_int64 (kind));
    assert_int_equal (entity.relay_count, 1);
    assert_string_equal (entity.relays [0], s_get (decoded, "relay"));
    assert_int_equal (nip19_encode (out, sizeof out, &entity), 0);
    assert_string_equal (out, s_get (item, "bech32"));
    json_object_put (root);
}

//  Upper-case input is accepted; the type comes from the lower-cased prefix.
static void
test_upper_case (void **state)
{
    nip19_entity_t entity;
    assert_int_equal (nip19_decode ("NPUB180CVV07TJDRRGPA0J7J7TMNYL2YR6YR7L8J4S3EVF6U64TH6GKWSYJH6W6", &entity), 0);
    assert_int_equal (entity.type, NIP19_NPUB);
    assert_int_equal (entity.bytes [0], 0x3b);
    assert_int_equal (nip19_decode ("npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6W6", &entity),
                      BECH32_ERR_MIXED_CASE);
}

static void
test_garbage (void **state)
{
    struct { const char *str; int rc; } cases [] = {
        { "", BECH32_ERR_NO_SEPARATOR },
        { "npub", BECH32_ERR_NO_SEPARATOR },
        { "npub1", BECH32_ERR_TOO_SHORT },
        { "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w7", BECH32_ERR_CHECKSUM },
        { "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6wb", BECH32_ERR_CHAR },
        { "nostr:npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6", BECH32_ERR_CHECKSUM },
        { " npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6", BECH32_ERR_CHAR },
        { "a12uel5l", NIP19_ERR_PREFIX },
        { "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", NIP19_ERR_PREFIX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        nip19_entity_t entity;
        int rc = nip19_decode (cases [i].str, &entity);
        if (rc != cases [i].rc)
            fail_msg ("case %zu: got %d (%s), want %d", i, rc, nip19_strerror (rc), cases [i].rc);
        assert_null (strstr (nip19_strerror (rc), "unknown error"));
    }
}

//  Bare entities with 31 or 33 bytes, or non-zero padding bits, are rejected.
static void
test_bare_lengths (void **state)
{
    uint8_t payload [33] = { 0 };
    char str [200];
    nip19_entity_t entity;
    s_encode_raw (str, sizeof str, "npub", payload, 31);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_LENGTH);
    s_encode_raw (str, sizeof str, "nsec", payload, 33);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_LENGTH);
    s_encode_raw (str, sizeof str, "note", payload, 32);
    assert_int_equal (nip19_decode (str, &entity), 0);

    //  32 bytes = 52 words with 4 padding bits; set one of them.
    uint8_t words [52] = { 0 };
    words [51] = 1;
    assert_int_equal (bech32_encode (str, sizeof str, "npub", words, 52, 90), 0);
    assert_int_equal (nip19_decode (str, &entity), BECH32_ERR_PADDING);
}

static void
test_tlv_rules (void **state)
{
    char str [NIP19_MAX_LEN * 2];
    nip19_entity_t entity;
    uint8_t tlv [400];
    size_t len = 0;
    //  special + an unknown type 9 + relay: unknown is ignored.
    tlv [len++] = 0; tlv [len++] = 32;
    memset (tlv + len, 0xab, 32); len += 32;
    tlv [len++] = 9; tlv [len++] = 3; tlv [len++] = 1; tlv [len++] = 2; tlv [len++] = 3;
    tlv [len++] = 1; tlv [len++] = 5; memcpy (tlv + len, "wss:/", 5); len += 5;
    s_encode_raw (str, sizeof str, "nprofile", tlv, len);
    assert_int_equal (nip19_decode (str, &entity), 0);
    assert_int_equal (entity.relay_count, 1);
    assert_string_equal (entity.relays [0], "wss:/");
    assert_int_equal (entity.bytes [31], 0xab);

    //  Truncated: the last record claims more bytes than remain; or only a type byte is left.
    tlv [len - 6] = 6;
    s_encode_raw (str, sizeof str, "nprofile", tlv, len);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_TRUNCATED);
    tlv [len - 6] = 5;
    tlv [len] = 1;
    s_encode_raw (str, sizeof str, "nprofile", tlv, len + 1);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_TRUNCATED);

    //  Missing special; special of 31 bytes.
    s_encode_raw (str, sizeof str, "nevent", tlv + 34, len - 34);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_SPECIAL);
    tlv [1] = 31;
    s_encode_raw (str, sizeof str, "nevent", tlv, len);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_SPECIAL);
    tlv [1] = 32;
    s_encode_raw (str, sizeof str, "nevent", NULL, 0);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_SPECIAL);

    //  nevent kind of 3 bytes, author of 33 bytes.
    uint8_t bad [60];
    memcpy (bad, tlv, 34);
    bad [34] = 3; bad [35] = 3; bad [36] = 0; bad [37] = 0; bad [38] = 1;
    s_encode_raw (str, sizeof str, "nevent", bad, 39);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_FIELD);
    bad [34] = 2; bad [35] = 20; memset (bad + 36, 7, 20);
    s_encode_raw (str, sizeof str, "nevent", bad, 56);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_TLV_FIELD);
    //  ... but author/kind inside an nprofile are unknown types there, so ignored.
    s_encode_raw (str, sizeof str, "nprofile", bad, 56);
    assert_int_equal (nip19_decode (str, &entity), 0);
    assert_false (entity.has_author);

    //  Relay with a control character, and an empty relay.
    memcpy (bad, tlv, 34);
    bad [34] = 1; bad [35] = 3; bad [36] = 'w'; bad [37] = '\n'; bad [38] = 's';
    s_encode_raw (str, sizeof str, "nprofile", bad, 39);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_RELAY);
    bad [35] = 0;
    s_encode_raw (str, sizeof str, "nprofile", bad, 36);
    assert_int_equal (nip19_decode (str, &entity), NIP19_ERR_RELAY);
}

//  Relay count limit on both sides, and the 5000-character limit.
static void
test_limits (void **state)
{
    nip19_entity_t entity = { .type = NIP19_NEVENT, .has_kind = true, .kind = 0xfffffffe };
    memset (entity.bytes, 0x11, 32);
    for (size_t i = 0; i < NIP19_MAX_RELAYS; i++)
        snprintf (entity.relays [i], sizeof entity.relays [i], "wss://relay%zu.example.com", i);
    entity.relay_count = NIP19_MAX_RELAYS;
    char out [NIP19_MAX_LEN + 1];
    assert_int_equal (nip19_encode (out, sizeof out, &entity), 0);
    nip19_entity_t back;
    assert_int_equal (nip19_decode (out, &back), 0);
    assert_int_equal (back.relay_count, NIP19_MAX_RELAYS);
    assert_string_equal (back.relays [15], "wss://relay15.example.com");
    assert_int_equal (back.kind, 0xfffffffe);
    assert_false (back.has_author);

    entity.relay_count = NIP19_MAX_RELAYS + 1;
    assert_int_equal (nip19_encode (out, sizeof out, &entity), NIP19_ERR_TOO_MANY_RELAYS);

    //  17 relays built by hand: decoder refuses.
    uint8_t tlv [1000];
    size_t len = 0;
    tlv [len++] = 0; tlv [len++] = 32; memset (tlv + len, 1, 32); len += 32;
    for (int i = 0; i < NIP19_MAX_RELAYS + 1; i++) {
        tlv [len++] = 1; tlv [len++] = 4; memcpy (tlv + len, "ws:/", 4); len += 4;
    }
    char str [4000];
    s_encode_raw (str, sizeof str, "nprofile", tlv, len);
    assert_int_equal (nip19_decode (str, &back), NIP19_ERR_TOO_MANY_RELAYS);

    //  16 relays of 255 bytes do not fit in 5000 characters.
    for (size_t i = 0; i < NIP19_MAX_RELAYS; i++) {
        memset (entity.relays [i], 'a', NIP19_RELAY_MAX);
        entity.relays [i][NIP19_RELAY_MAX] = '\0';
    }
    entity.relay_count = NIP19_MAX_RELAYS;
    assert_int_equal (nip19_encode (out, sizeof out, &entity), BECH32_ERR_TOO_LONG);
    //  A relay longer than 255 bytes (unterminated in the struct) is refused.
    entity.relay_count = 1;
    memset (entity.relays [0], 'a', sizeof entity.relays [0]);
    assert_int_equal (nip19_encode (out, sizeof out, &entity), NIP19_ERR_RELAY);

    //  A 5001-character string is refused before any decoding.
    static char huge [NIP19_MAX_LEN + 2];
    memset (huge, 'q', sizeof huge - 1);
    memcpy (huge, "npub1", 5);
    assert_int_equal (nip19_decode (huge, &back), BECH32_ERR_TOO_LONG);

    //  A small buffer is reported, not overrun.
    entity.relay_count = 0;
    assert_int_equal (nip19_encode (out, 20, &entity), BECH32_ERR_BUFFER);
}

//  nsec round trip; the decode of a failed string leaves no bytes behind.
static void
test_nsec (void **state)
{
    uint8_t secret [32];
    for (int i = 0; i < 32; i++)
        secret [i] = (uint8_t) (i * 37 + 1);
    char out [NIP19_MAX_LEN + 1];
    assert_int_equal (nip19_encode_bytes (out, sizeof out, NIP19_NSEC, secret), 0);
    assert_memory_equal (out, "nsec1", 5);
    nip19_entity_t entity;
    assert_int_equal (nip19_decode (out, &entity), 0);
    assert_int_equal (entity.type, NIP19_NSEC);
    assert_memory_equal (entity.bytes, secret, 32);
    nip19_entity_wipe (&entity);
    uint8_t zero [32] = { 0 };
    assert_memory_equal (entity.bytes, zero, 32);

    out [10] = out [10] == 'q' ? 'p' : 'q';     //  break the checksum
    assert_int_equal (nip19_decode (out, &entity), BECH32_ERR_CHECKSUM);
    assert_memory_equal (entity.bytes, zero, 32);
    assert_int_equal (nip19_encode_bytes (out, sizeof out, NIP19_NEVENT, secret), NIP19_ERR_PREFIX);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_vectors_bare),
        cmocka_unit_test (test_vectors_tlv),
        cmocka_unit_test (test_upper_case),
        cmocka_unit_test (test_garbage),
        cmocka_unit_test (test_bare_lengths),
        cmocka_unit_test (test_tlv_rules),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_nsec),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
