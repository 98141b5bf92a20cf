/*  test_nostr_event.c: NIP-01 events and BIP-340. The computed escaping vector must be
    reproduced byte for byte (serialization, id, deterministic signature), the official NIP-13
    event must verify, all 19 BIP-340 CSV rows must behave as the BIP says, hostile JSON must
    fail with the right error, and NIP-13 / NIP-40 checks must hold.
    Vectors are read from tests/vectors/ (the test runs from the repository root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nostr_event.h"
#include "nostr_keys.h"

static json_object *
s_load (const char *path)
{
    json_object *root = json_object_from_file (path);
    if (!root)
        fail_msg ("cannot read %s", path);
    return root;
}

static const char *
s_get (json_object *object, const char *key)
{
    json_object *value;
    assert_true (json_object_object_get_ex (object, key, &value));
    return json_object_get_string (value);
}

static void
s_unhex_any (const char *hex, uint8_t *out, size_t len)
{
    //  Test vectors may use uppercase: accept both here.
    assert_int_equal (strlen (hex), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned byte;
        assert_int_equal (sscanf (hex + 2 * i, "%2x", &byte), 1);
        out [i] = (uint8_t) byte;
    }
}

static nostr_event_t *
s_parse_ok (const char *json)
{
    int err = 1;
    nostr_event_t *event = nostr_event_parse (json, strlen (json), NULL, &err);
    if (!event)
        fail_msg ("parse failed (%s): %s", nostr_event_strerror (err), json);
    assert_int_equal (err, 0);
    return event;
}

//  The computed vector: build, sign with aux = 0, compare every byte.
static void
test_computed_vector (void **state)
{
    json_object *root = s_load ("tests/vectors/nip01-computed-event-vector.json");
    json_object *ev;
    assert_true (json_object_object_get_ex (root, "event", &ev));
    uint8_t seckey [32];
    s_unhex_any (s_get (root, "seckey"), seckey, 32);
    nostr_keys_t *keys = nostr_keys_new (seckey);
    assert_non_null (keys);

    json_object *content, *tags, *kind, *created_at;
    assert_true (json_object_object_get_ex (ev, "content", &content));
    assert_true (json_object_object_get_ex (ev, "tags", &tags));
    assert_true (json_object_object_get_ex (ev, "kind", &kind));
    assert_true (json_object_object_get_ex (ev, "created_at", &created_at));
    nostr_event_t *event = nostr_event_new (
        (uint32_t) json_object_get_int (kind), json_object_get_int64 (created_at),
        json_object_get_string (content), (size_t) json_object_get_string_len (content));
    assert_non_null (event);
    for (size_t t = 0; t < json_object_array_length (tags); t++) {
        json_object *tag = json_object_array_get_idx (tags, t);
        const char *elems [8];
        size_t count = json_object_array_length (tag);
        assert_true (count <= 8);
        for (size_t e = 0; e < count; e++)
            elems [e] = json_object_get_string (json_object_array_get_idx (tag, e));
        assert_int_equal (nostr_event_add_tag (event, count, elems), 0);
    }
    uint8_t aux [32] = { 0 };
    assert_int_equal (nostr_event_sign_aux (event, keys, aux), 0);

    size_t len;
    char *serialized = nostr_event_serialize (event, &len);
    assert_string_equal (serialized, s_get (root, "serialized_utf8"));
    assert_int_equal (len, strlen (s_get (root, "serialized_utf8")));
    char hex [129];
    nostr_event_hex (event->id, 32, hex);
    assert_string_equal (hex, s_get (ev, "id"));
    assert_string_equal (hex, "ccdf86690a489572786493019607f6fd3f18797700d90690dfbf5f3452e7b0ce");
    nostr_event_hex (event->sig, 64, hex);
    assert_string_equal (hex, s_get (ev, "sig"));
    nostr_event_hex (event->pubkey, 32, hex);
    assert_string_equal (hex, s_get (ev, "pubkey"));
    assert_int_equal (nostr_event_check (event), 0);

    //  Wire JSON parses back to the same event, and so does json-c's own rendering of the
    //  vector (which writes '/' as "\/": decoding must resolve it before hashing).
    char *wire = nostr_event_to_json (event, NULL);
    nostr_event_t *again = s_parse_ok (wire);
    assert_memory_equal (again->id, event->id, 32);
    assert_int_equal (nostr_event_check (again), 0);
    nostr_event_t *from_vector = s_parse_ok (
        json_object_to_json_string_ext (ev, JSON_C_TO_STRING_PLAIN));
    assert_int_equal (nostr_event_check (from_vector), 0);
    assert_int_equal (from_vector->tag_count, 5);
    assert_string_equal (nostr_event_tag (from_vector, "param")->elems [2].str, "512");

    free (serialized);
    free (wire);
    nostr_event_destroy (&again);
    nostr_event_destroy (&from_vector);
    nostr_event_destroy (&event);
    assert_null (event);
    nostr_keys_destroy (&keys);
    assert_null (keys);
    json_object_put (root);
}

//  The official NIP-13 event verifies, has 21 leading zero bits and commits to target 20.
static void
test_official_event (void **state)
{
    json_object *root = s_load ("tests/vectors/nip01-nip13-official-event.json");
    json_object *ev;
    assert_true (json_object_object_get_ex (root, "event", &ev));
    nostr_event_t *event = nostr_event_from_object (ev, NULL, NULL);
    assert_non_null (event);
    assert_int_equal (nostr_event_check (event), 0);
    char *serialized = nostr_event_serialize (event, NULL);
    assert_string_equal (serialized, s_get (root, "serialized_utf8"));
    free (serialized);
    assert_int_equal (nostr_event_difficulty (event->id), 21);
    assert_true (nostr_event_pow_ok (event, 0));
    assert_true (nostr_event_pow_ok (event, 20));
    assert_false (nostr_event_pow_ok (event, 21));     //  Committed target is only 20
    assert_false (nostr_event_pow_ok (event, 22));

    //  Any change to a signed field breaks the id; a changed id breaks the signature.
    event->created_at++;
    assert_int_equal (nostr_event_check (event), NOSTR_EVENT_ERR_ID);
    event->created_at--;
    event->sig [10] ^= 1;
    assert_int_equal (nostr_event_check (event), NOSTR_EVENT_ERR_SIG);
    nostr_event_destroy (&event);
    json_object_put (root);
}

//  Every control character, quotes, backslash, DEL, '/', non-ASCII: JSON.stringify's form.
static void
test_escaping (void **state)
{
    char content [40];
    for (int c = 0; c < 32; c++)
        content [c] = (char) c;
    memcpy (content + 32, "\"\\/\x7f\xc3\xa9", 6);      //  38 bytes in all
    nostr_event_t *event = nostr_event_new (1, 0, content, 38);
    assert_non_null (event);
    assert_int_equal (nostr_event_add_tagv (event, "t", "a\nb", "", NULL), 0);
    char *text = nostr_event_serialize (event, NULL);
    const char *expect =
        "[0,\"0000000000000000000000000000000000000000000000000000000000000000\",0,1,"
        "[[\"t\",\"a\\nb\",\"\"]],"
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\x7f\xc3\xa9\"]";
    assert_string_equal (text, expect);
    free (text);

    //  The wire form parses back to the same bytes, NUL included.
    nostr_keys_t *keys = nostr_keys_generate ();
    assert_int_equal (nostr_event_sign (event, keys), 0);
    char *wire = nostr_event_to_json (event, NULL);
    nostr_event_t *again = s_parse_ok (wire);
    assert_int_equal (again->content.len, 38);
    assert_memory_equal (again->content.str, content, 38);
    assert_int_equal (nostr_event_check (again), 0);
    free (wire);
    nostr_event_destroy (&again);
    nostr_event_destroy (&event);
    nostr_keys_destroy (&keys);
}

//  Hostile and malformed input: each fails cleanly with the expected error.
static void
test_hostile (void **state)
{
    #define ID  "\"id\":\"ccdf86690a489572786493019607f6fd3f18797700d90690dfbf5f3452e7b0ce\""
    #define PK  "\"pubkey\":\"17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917\""
    #define SIG "\"sig\":\"e12b1b4dbf463f7dda203bfeeb298d442e9a157d0ee61a4214eef4ba1111f607" \
                "0a412cde5cfdedd2abfb531ee8d2c61d1b544c90f32476305e56ff8de6878d8e\""
    #define REST "\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"x\""
    struct { const char *json; int rc; } cases [] = {
        { "{" ID "," PK "," SIG "," REST "}", 0 },
        { "  {" ID "," PK "," SIG "," REST "}\n ", 0 },
        { "", NOSTR_EVENT_ERR_JSON },
        { "{", NOSTR_EVENT_ERR_JSON },
        { "[]", NOSTR_EVENT_ERR_SHAPE },
        { "\"x\"", NOSTR_EVENT_ERR_SHAPE },
        { "{" ID "," PK "," SIG "," REST "}x", NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG "," REST "}{}", NOSTR_EVENT_ERR_JSON },
        { "{" PK "," SIG "," REST "}", NOSTR_EVENT_ERR_SHAPE },             //  missing id
        { "{" ID "," ID "," PK "," SIG "," REST "}", NOSTR_EVENT_ERR_SHAPE }, //  repeated
        { "{" ID "," PK "," SIG "," REST ",\"x\":\"y\"}", NOSTR_EVENT_ERR_SHAPE }, // unknown
        { "{" ID "," PK "," SIG "," REST ",\"kind\":2}", NOSTR_EVENT_ERR_SHAPE },
        { "{\"i\\u0064\":\"x\"," PK "," SIG "," REST "}", NOSTR_EVENT_ERR_SHAPE },
        { "{\"id\\u0000x\":\"x\"," PK "," SIG "," REST "}", NOSTR_EVENT_ERR_SHAPE },
        { "{" ID "," PK "," SIG ",\"created_at\":1.5,\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":1e3,\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":\"1\",\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_TYPE },
        { "{" ID "," PK "," SIG ",\"created_at\":-1,\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_RANGE },
        { "{" ID "," PK "," SIG ",\"created_at\":1099511627777,\"kind\":1,\"tags\":[],"
          "\"content\":\"\"}", NOSTR_EVENT_ERR_RANGE },
        { "{" ID "," PK "," SIG ",\"created_at\":99999999999999999999999,\"kind\":1,"
          "\"tags\":[],\"content\":\"\"}", NOSTR_EVENT_ERR_RANGE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":65536,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_RANGE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":01,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":null,\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":NaN,\"kind\":1,\"tags\":[],\"content\":\"\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":{},\"content\":\"\"}",
          NOSTR_EVENT_ERR_TYPE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[[]],\"content\":\"\"}",
          NOSTR_EVENT_ERR_TAGS },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[\"e\"],\"content\":\"\"}",
          NOSTR_EVENT_ERR_TYPE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[[1]],\"content\":\"\"}",
          NOSTR_EVENT_ERR_TYPE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[[[\"e\"]]],"
          "\"content\":\"\"}", NOSTR_EVENT_ERR_DEPTH },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":[]}",
          NOSTR_EVENT_ERR_TYPE },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":'x'}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\x01\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\\x\"}",
          NOSTR_EVENT_ERR_JSON },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\\ud800\"}", NOSTR_EVENT_ERR_UTF8 },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\\udc00\\ud800\"}", NOSTR_EVENT_ERR_UTF8 },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\xc3\"}", NOSTR_EVENT_ERR_UTF8 },
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\xc0\xaf\"}", NOSTR_EVENT_ERR_UTF8 },       //  overlong '/'
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\xed\xa0\x80\"}", NOSTR_EVENT_ERR_UTF8 },   //  raw surrogate
        { "{" ID "," PK "," SIG ",\"created_at\":1,\"kind\":1,\"tags\":[],"
          "\"content\":\"\xf4\x90\x80\x80\"}", NOSTR_EVENT_ERR_UTF8 }, //  > U+10FFFF
        { "{\"id\":\"CCDF86690A489572786493019607F6FD3F18797700D90690DFBF5F3452E7B0CE\","
          PK "," SIG "," REST "}", NOSTR_EVENT_ERR_HEX },
        { "{\"id\":\"ccdf\"," PK "," SIG "," REST "}", NOSTR_EVENT_ERR_HEX },
        { "{\"id\":1," PK "," SIG "," REST "}", NOSTR_EVENT_ERR_TYPE },
        { "{" ID ",\"pubkey\":\"17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd91g\","
          SIG "," REST "}", NOSTR_EVENT_ERR_HEX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int err = 99;
        nostr_event_t *event = nostr_event_parse (cases [i].json, strlen (cases [i].json),
                                                  NULL, &err);
        if (err != cases [i].rc)
            fail_msg ("case %zu: got %d (%s), want %d: %s", i, err,
                      nostr_event_strerror (err), cases [i].rc, cases [i].json);
        assert_true ((event != NULL) == (cases [i].rc == 0));
        nostr_event_destroy (&event);
    }
    //  A NUL byte in the text, and input that is not NUL-terminated at LEN.
    const char with_nul [] = "{\"id\":\"\0\"}";
    int err;
    assert_null (nostr_event_parse (with_nul, sizeof with_nul - 1, NULL, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_JSON);
    const char *good = "{" ID "," PK "," SIG "," REST "}garbage";
    nostr_event_t *event = nostr_event_parse (good, strlen (good) - 7, NULL, &err);
    assert_non_null (event);
    nostr_event_destroy (&event);
}

//  Size limits: whole text, tag count, elements per tag, string and content lengths.
static void
test_limits (void **state)
{
    nostr_keys_t *keys = nostr_keys_generate ();
    nostr_event_t *event = nostr_event_new (1, 1700000000, "hello", 5);
    for (int i = 0; i < 10; i++)
        assert_int_equal (nostr_event_add_tagv (event, "t", "a", "b", "c", NULL), 0);
    assert_int_equal (nostr_event_add_tagv (event, "long", "0123456789", NULL), 0);
    assert_int_equal (nostr_event_sign (event, keys), 0);
    size_t len;
    char *json = nostr_event_to_json (event, &len);
    int err;
    nostr_event_t *parsed;

    nostr_event_limits_t limits = { .max_json = len };
    parsed = nostr_event_parse (json, len, &limits, &err);
    assert_non_null (parsed);
    nostr_event_destroy (&parsed);
    limits.max_json = len - 1;
    assert_null (nostr_event_parse (json, len, &limits, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_TOO_LARGE);

    nostr_event_limits_t tags = { .max_tags = 10 };
    assert_null (nostr_event_parse (json, len, &tags, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_TAGS);
    nostr_event_limits_t elems = { .max_tag_elems = 3 };
    assert_null (nostr_event_parse (json, len, &elems, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_TAGS);
    nostr_event_limits_t string = { .max_string = 9 };
    assert_null (nostr_event_parse (json, len, &string, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_STRING);
    nostr_event_limits_t content = { .max_content = 4 };
    assert_null (nostr_event_parse (json, len, &content, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_STRING);
    free (json);

    //  The default total limit: 256 KiB of content is refused, well before json-c.
    size_t big = NOSTR_EVENT_DEFAULT_MAX_JSON + 1;
    char *huge = (char *) malloc (big);
    memset (huge, ' ', big);
    assert_null (nostr_event_parse (huge, big, NULL, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_TOO_LARGE);
    //  Deep nesting stops at the scan, not in a recursive parser.
    memset (huge, '[', 100000);
    assert_null (nostr_event_parse (huge, 100000, NULL, &err));
    assert_int_equal (err, NOSTR_EVENT_ERR_DEPTH);
    free (huge);

    //  The builder refuses what could not be signed interoperably.
    assert_null (nostr_event_new (1, 0, "\xff", 1));
    assert_null (nostr_event_new (65536, 0, "", 0));
    assert_null (nostr_event_new (1, -1, "", 0));
    assert_int_equal (nostr_event_add_tagv (event, "bad", "\xc3", NULL), -1);
    assert_int_equal (nostr_event_add_tag (event, 0, NULL), -1);
    nostr_event_destroy (&event);
    nostr_keys_destroy (&keys);
}

//  NIP-40 expiration and tag lookup.
static void
test_expiration (void **state)
{
    nostr_event_t *event = nostr_event_new (1, 1000, "", 0);
    int64_t when = 0;
    assert_int_equal (nostr_event_expiration (event, &when), 0);
    assert_false (nostr_event_expired (event, 5000));
    assert_int_equal (nostr_event_add_tagv (event, "expiration", "2000", NULL), 0);
    assert_int_equal (nostr_event_expiration (event, &when), 1);
    assert_int_equal (when, 2000);
    assert_false (nostr_event_expired (event, 1999));
    assert_false (nostr_event_expired (event, 2000));
    assert_true (nostr_event_expired (event, 2001));
    nostr_event_destroy (&event);

    event = nostr_event_new (1, 1000, "", 0);
    assert_int_equal (nostr_event_add_tagv (event, "expiration", "12x", NULL), 0);
    assert_int_equal (nostr_event_expiration (event, &when), -1);
    assert_false (nostr_event_expired (event, 99999));
    assert_null (nostr_event_tag (event, "e"));
    assert_non_null (nostr_event_tag (event, "expiration"));
    nostr_event_destroy (&event);

    event = nostr_event_new (1, 1000, "", 0);
    assert_int_equal (nostr_event_add_tagv (event, "expiration", NULL), 0);
    assert_int_equal (nostr_event_expiration (event, &when), -1);
    nostr_event_destroy (&event);
}

//  NIP-13: difficulty counting, and mining a small target with the nonce tag.
static void
test_pow (void **state)
{
    uint8_t id [32] = { 0 };
    assert_int_equal (nostr_event_difficulty (id), 256);
    id [0] = 0x80;
    assert_int_equal (nostr_event_difficulty (id), 0);
    id [0] = 0;
    id [1] = 0x01;
    assert_int_equal (nostr_event_difficulty (id), 15);

    nostr_keys_t *keys = nostr_keys_generate ();
    nostr_event_t *event = NULL;
    char counter [24];
    for (int n = 0; n < 100000; n++) {
        event = nostr_event_new (1, 1700000000, "mined", 5);
        memcpy (event->pubkey, nostr_keys_pubkey (keys), 32);   //  The id covers the pubkey
        snprintf (counter, sizeof counter, "%d", n);
        assert_int_equal (nostr_event_add_tagv (event, "nonce", counter, "8", NULL), 0);
        assert_int_equal (nostr_event_compute_id (event, event->id), 0);
        if (nostr_event_difficulty (event->id) >= 8)
            break;
        nostr_event_destroy (&event);
    }
    assert_non_null (event);
    assert_int_equal (nostr_event_sign (event, keys), 0);
    assert_true (nostr_event_pow_ok (event, 8));
    assert_false (nostr_event_pow_ok (event, 9));
    nostr_event_destroy (&event);
    nostr_keys_destroy (&keys);
}

//  All 19 rows of the BIP-340 CSV: signing rows re-sign byte for byte with the given aux;
//  every row verifies (or fails) as listed; off-curve keys fail cleanly.
static void
test_bip340_vectors (void **state)
{
    FILE *file = fopen ("tests/vectors/bip340-test-vectors.csv", "r");
    assert_non_null (file);
    char line [1024];
    assert_non_null (fgets (line, sizeof line, file));     //  header
    int rows = 0, signing_rows = 0;
    while (fgets (line, sizeof line, file)) {
        char *fields [8] = { 0 };
        char *cursor = line;
        for (int f = 0; f < 8; f++) {
            fields [f] = cursor;
            char *comma = strchr (cursor, ',');
            if (!comma) {
                cursor [strcspn (cursor, "\r\n")] = 0;
                break;
            }
            *comma = 0;
            cursor = comma + 1;
        }
        uint8_t pubkey [32], aux [32], msg [128], sig [64];
        size_t msg_len = strlen (fields [4]) / 2;
        assert_true (msg_len <= sizeof msg);
        s_unhex_any (fields [2], pubkey, 32);
        s_unhex_any (fields [4], msg, msg_len);
        s_unhex_any (fields [5], sig, 64);
        bool expect = strcmp (fields [6], "TRUE") == 0;
        if (*fields [1]) {
            uint8_t seckey [32], mine [64], derived [32];
            s_unhex_any (fields [1], seckey, 32);
            s_unhex_any (fields [3], aux, 32);
            nostr_keys_t *keys = nostr_keys_new (seckey);
            assert_non_null (keys);
            assert_memory_equal (nostr_keys_pubkey (keys), pubkey, 32);
            assert_int_equal (nostr_keys_pubkey_from_seckey (seckey, derived), 0);
            assert_memory_equal (derived, pubkey, 32);
            assert_int_equal (nostr_keys_sign (keys, msg, msg_len, aux, mine), 0);
            assert_memory_equal (mine, sig, 64);
            nostr_keys_destroy (&keys);
            signing_rows++;
        }
        int rc = nostr_keys_verify (pubkey, msg, msg_len, sig);
        if ((rc == 0) != expect)
            fail_msg ("row %s: verify gave %d, expected %s (%s)", fields [0], rc,
                      fields [6], fields [7]);
        //  Twice: the second goes through the key cache and must agree.
        assert_int_equal (nostr_keys_verify (pubkey, msg, msg_len, sig), rc);
        rows++;
    }
    fclose (file);
    assert_int_equal (rows, 19);
    assert_int_equal (signing_rows, 8);
}

//  Invalid secret keys are refused; the cache counts hits and misses.
static void
test_keys (void **state)
{
    uint8_t zero [32] = { 0 }, order [32];
    s_unhex_any ("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", order, 32);
    assert_null (nostr_keys_new (zero));
    assert_null (nostr_keys_new (order));
    uint8_t pub [32];
    assert_int_equal (nostr_keys_pubkey_from_seckey (zero, pub), -1);

    nostr_keys_cache_clear ();
    nostr_keys_t *keys = nostr_keys_generate ();
    uint8_t msg [32] = { 1 }, sig [64];
    assert_int_equal (nostr_keys_sign (keys, msg, 32, NULL, sig), 0);
    assert_int_equal (nostr_keys_verify (nostr_keys_pubkey (keys), msg, 32, sig), 0);
    assert_int_equal (nostr_keys_verify (nostr_keys_pubkey (keys), msg, 32, sig), 0);
    msg [0] = 2;
    assert_int_equal (nostr_keys_verify (nostr_keys_pubkey (keys), msg, 32, sig), -1);
    uint64_t hits, misses;
    nostr_keys_cache_stats (&hits, &misses);
    assert_int_equal (misses, 1);
    assert_int_equal (hits, 2);

    //  ECDH is symmetric, and off-curve points are refused.
    nostr_keys_t *other = nostr_keys_generate ();
    uint8_t x1 [32], x2 [32];
    assert_int_equal (nostr_keys_ecdh (keys, nostr_keys_pubkey (other), x1), 0);
    assert_int_equal (nostr_keys_ecdh (other, nostr_keys_pubkey (keys), x2), 0);
    assert_memory_equal (x1, x2, 32);
    uint8_t off_curve [32];
    s_unhex_any ("EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34", off_curve, 32);
    assert_int_equal (nostr_keys_ecdh (keys, off_curve, x1), -1);
    memset (off_curve, 0xff, 32);       //  x >= p
    assert_int_equal (nostr_keys_ecdh (keys, off_curve, x1), -1);
    nostr_keys_destroy (&keys);
    nostr_keys_destroy (&other);
    nostr_keys_destroy (&keys);         //  Safe on NULL
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_computed_vector),
        cmocka_unit_test (test_official_event),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_hostile),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_expiration),
        cmocka_unit_test (test_pow),
        cmocka_unit_test (test_bip340_vectors),
        cmocka_unit_test (test_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
