/*  test_bolt11.c: BOLT 11 invoices against every example in tests/vectors/bolt11-examples.json,
    exact reproduction of two spec examples by the encoder, amount parsing, field rules on
    hand-built invoices (signed here, so the one rule under test is the only fault), encoder
    errors, and bolt11_check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "bech32.h"
#include "bolt11.h"

#define VECTORS "tests/vectors/bolt11-examples.json"
#define SPEC_KEY "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"
#define SPEC_NODE "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad"

static void
s_hex (const char *hex, uint8_t *out, size_t out_len)
{
    assert_int_equal (strlen (hex), out_len * 2);
    for (size_t i = 0; i < out_len; i++) {
        unsigned value;
        assert_int_equal (sscanf (hex + 2 * i, "%2x", &value), 1);
        out [i] = (uint8_t) value;
    }
}

static json_object *
s_member (json_object *obj, const char *key)
{
    json_object *value = NULL;
    assert_true (json_object_object_get_ex (obj, key, &value));
    return value;
}

//  Check one decoded tag of the vector file against the invoice.
static void
s_check_tag (const char *name, json_object *value, const bolt11_invoice_t *inv)
{
    uint8_t bytes [33];
    if (strcmp (name, "p payment_hash") == 0) {
        s_hex (json_object_get_string (value), bytes, 32);
        assert_memory_equal (inv->payment_hash, bytes, 32);
    }
    else
    if (strcmp (name, "s payment_secret") == 0) {
        s_hex (json_object_get_string (value), bytes, 32);
        assert_memory_equal (inv->payment_secret, bytes, 32);
    }
    else
    if (strcmp (name, "h description_hash") == 0) {
        assert_true (inv->has_description_hash);
        s_hex (json_object_get_string (value), bytes, 32);
        assert_memory_equal (inv->description_hash, bytes, 32);
    }
    else
    if (strcmp (name, "d description") == 0) {
        assert_true (inv->has_description);
        assert_string_equal (inv->description, json_object_get_string (value));
    }
    else
    if (strcmp (name, "x expiry") == 0)
        assert_int_equal (inv->expiry, json_object_get_int64 (value));
    else
    if (strcmp (name, "c min_final_cltv_expiry_delta") == 0)
        assert_int_equal (inv->min_final_cltv, json_object_get_int64 (value));
    else
    if (strcmp (name, "m metadata") == 0) {
        const char *hex = json_object_get_string (value);
        assert_true (inv->has_metadata);
        assert_int_equal (inv->metadata_len * 2, strlen (hex));
        s_hex (hex, bytes, inv->metadata_len);
        assert_memory_equal (inv->metadata, bytes, inv->metadata_len);
    }
    else
    if (strcmp (name, "9 features(bits set)") == 0) {
        size_t set = 0;
        for (unsigned bit = 0; bit < 1024; bit++)
            set += bolt11_has_feature (inv, bit);
        assert_int_equal (set, json_object_array_length (value));
        for (size_t i = 0; i < json_object_array_length (value); i++)
            assert_true (bolt11_has_feature (inv, (unsigned) json_object_get_int (
                json_object_array_get_idx (value, i))));
    }
    else
    if (strcmp (name, "f fallback") == 0) {
        assert_true (inv->has_fallback);
        assert_int_equal (inv->fallback_version, json_object_get_int (s_member (value, "version")));
        const char *hex = json_object_get_string (s_member (value, "program_hex"));
        uint8_t program [40];
        assert_int_equal (inv->fallback_len * 2, strlen (hex));
        s_hex (hex, program, inv->fallback_len);
        assert_memory_equal (inv->fallback, program, inv->fallback_len);
    }
    else
    if (strcmp (name, "r route") == 0) {
        assert_int_equal (inv->hop_count, json_object_array_length (value));
        for (size_t i = 0; i < inv->hop_count; i++) {
            json_object *hop = json_object_array_get_idx (value, i);
            s_hex (json_object_get_string (s_member (hop, "pubkey")), bytes, 33);
            assert_memory_equal (inv->hops [i].pubkey, bytes, 33);
            unsigned long long block, tx, out;
            assert_int_equal (sscanf (json_object_get_string (s_member (hop, "short_channel_id")),
                                      "%llux%llux%llu", &block, &tx, &out), 3);
            assert_int_equal (inv->hops [i].short_channel_id, block << 40 | tx << 16 | out);
            assert_int_equal (inv->hops [i].fee_base_msat,
                              json_object_get_int64 (s_member (hop, "fee_base_msat")));
            assert_int_equal (inv->hops [i].fee_proportional_millionths,
                              json_object_get_int64 (s_member (hop, "fee_proportional_millionths")));
            assert_int_equal (inv->hops [i].cltv_expiry_delta,
                              json_object_get_int64 (s_member (hop, "cltv_expiry_delta")));
        }
    }
    else
        fail_msg ("tag %s not checked", name);
}

static void
test_valid_examples (void **state)
{
    json_object *root = json_object_from_file (VECTORS);
    assert_non_null (root);
    json_object *valid = s_member (root, "valid");
    size_t accepted = 0, stale = 0;
    for (size_t i = 0; i < json_object_array_length (valid); i++) {
        json_object *item = json_object_array_get_idx (valid, i);
        const char *title = json_object_get_string (s_member (item, "title"));
        const char *invoice = json_object_get_string (s_member (item, "invoice"));
        json_object *decoded = s_member (item, "decoded");
        bolt11_invoice_t inv;
        int rc = bolt11_decode (invoice, &inv);
        if (strstr (title, "fields which must be ignored")) {
            //  Stale example (protocols.md gotcha 7): its p/h/s/n fields of 51/53/52/54 words
            //  were "skipped" under the old text; since bolts commit 6888199 (2025-06) a reader
            //  MUST fail on a p/h/s/n field with the wrong data_length.
            assert_int_equal (rc, BOLT11_ERR_FIELD_LENGTH);
            stale++;
            continue;
        }
        if (rc != 0)
            fail_msg ("%s: %s", title, bolt11_strerror (rc));
        accepted++;
        const char *prefix = json_object_get_string (s_member (decoded, "currency_prefix"));
        assert_string_equal (bolt11_network_prefix (inv.network), prefix);
        json_object *amount = s_member (decoded, "amount_msat");
        if (json_object_is_type (amount, json_type_null))
            assert_false (inv.has_amount);
        else {
            assert_true (inv.has_amount);
            assert_int_equal (inv.amount_msat, json_object_get_int64 (amount));
        }
        assert_int_equal (inv.timestamp, json_object_get_int64 (s_member (decoded, "timestamp")));
        json_object *tags = s_member (decoded, "tags");
        bool has_x = false, has_c = false;
        for (size_t t = 0; t < json_object_array_length (tags); t++) {
            json_object *tag = json_object_array_get_idx (tags, t);
            const char *name = json_object_get_string (json_object_array_get_idx (tag, 0));
            has_x |= name [0] == 'x';
            has_c |= name [0] == 'c';
            s_check_tag (name, json_object_array_get_idx (tag, 1), &inv);
        }
        if (!has_x)
            assert_int_equal (inv.expiry, 3600);
        if (!has_c)
            assert_int_equal (inv.min_final_cltv, 18);
        //  Payee: the key the independent decoder recovered. For the high-S example that is
        //  02d0139c... (plain recovery with the transmitted id, gotcha 5), for all others
        //  the spec's node key.
        uint8_t payee [33];
        s_hex (json_object_get_string (s_member (decoded, "recovered_payee")), payee, 33);
        assert_memory_equal (inv.payee, payee, 33);
        if (!strstr (title, "high-S")) {
            s_hex (SPEC_NODE, payee, 33);
            assert_memory_equal (inv.payee, payee, 33);
        }
    }
    assert_int_equal (accepted, 15);
    assert_int_equal (stale, 1);
    json_object_put (root);
}

static void
test_invalid_examples (void **state)
{
    struct { const char *title_part; int rc; } expected [] = {
        { "unknown feature 100", BOLT11_ERR_FEATURE },
        { "checksum is invalid", BECH32_ERR_CHECKSUM },
        { "(no 1)", BECH32_ERR_NO_SEPARATOR },
        { "mixed case", BECH32_ERR_MIXED_CASE },
        { "not recoverable", BOLT11_ERR_SIGNATURE },
        { "too short", BOLT11_ERR_TOO_SHORT },
        { "Invalid multiplier", BOLT11_ERR_AMOUNT },
        { "sub-millisatoshi", BOLT11_ERR_AMOUNT },
        { "Missing required `s`", BOLT11_ERR_NO_PAYMENT_SECRET },
        { "high-S) with 'n'", BOLT11_ERR_HIGH_S },
    };
    json_object *root = json_object_from_file (VECTORS);
    assert_non_null (root);
    json_object *invalid = s_member (root, "invalid");
    assert_int_equal (json_object_array_length (invalid), 10);
    for (size_t i = 0; i < json_object_array_length (invalid); i++) {
        json_object *item = json_object_array_get_idx (invalid, i);
        const char *title = json_object_get_string (s_member (item, "title"));
        const char *invoice = json_object_get_string (s_member (item, "invoice"));
        int want = 1;
        for (size_t k = 0; k < sizeof expected / sizeof expected [0]; k++)
            if (strstr (title, expected [k].title_part))
                want = expected [k].rc;
        if (want == 1)
            fail_msg ("no expectation for '%s'", title);
        bolt11_invoice_t inv;
        int rc = bolt11_decode (invoice, &inv);
        if (rc != want)
            fail_msg ("%s: got %d (%s), want %d (%s)", title, rc, bolt11_strerror (rc),
                      want, bolt11_strerror (want));
    }
    json_object_put (root);
}

//  The encoder reproduces spec examples byte for byte (deterministic RFC 6979 signatures and
//  the spec's field order): "coffee beans" (features 8, 14, 99) and "payment metadata".
static void
test_encode_spec_examples (void **state)
{
    uint8_t key [32];
    s_hex (SPEC_KEY, key, 32);
    const char *examples [] = {
        "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqqsgq2a25dxl5hrntdtn6zvydt7d66hyzsyhqs4wdynavys42xgl6sgx9c4g7me86a27t07mdtfry458rtjr0v92cnmswpsjscgt2vcse3sgpz3uapa",
        "lnbc10m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdp9wpshjmt9de6zqmt9w3skgct5vysxjmnnd9jx2mq8q8a04uqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q2gqqqqqqsgq7hf8he7ecf7n4ffphs6awl9t6676rrclv9ckg3d3ncn7fct63p6s365duk5wrk202cfy3aj5xnnp5gs3vrdvruverwwq7yzhkf5a3xqpd05wjc",
    };
    for (size_t i = 0; i < 2; i++) {
        bolt11_invoice_t inv;
        assert_int_equal (bolt11_decode (examples [i], &inv), 0);
        bolt11_invoice_t fresh;
        bolt11_invoice_init (&fresh, BOLT11_MAINNET);
        fresh.has_amount = true;
        fresh.amount_msat = inv.amount_msat;
        fresh.timestamp = inv.timestamp;
        memcpy (fresh.payment_hash, inv.payment_hash, 32);
        memcpy (fresh.payment_secret, inv.payment_secret, 32);
        fresh.has_description = true;
        strcpy (fresh.description, inv.description);
        memcpy (fresh.features, inv.features, sizeof fresh.features);
        fresh.has_metadata = inv.has_metadata;
        fresh.metadata_len = inv.metadata_len;
        memcpy (fresh.metadata, inv.metadata, inv.metadata_len);
        char out [BOLT11_MAX_LEN + 1];
        assert_int_equal (bolt11_encode (out, sizeof out, &fresh, key), 0);
        assert_string_equal (out, examples [i]);
    }
}

//  --------------------------------------------------------------------------
//  Hand-built invoices: any HRP and field words, signed here independently of bolt11.c.

typedef struct {
    uint8_t words [BOLT11_MAX_LEN];
    size_t len;
} raw_t;

static void
s_raw_start (raw_t *raw, uint64_t timestamp)
{
    raw->len = 0;
    for (int i = 6; i >= 0; i--)
        raw->words [raw->len++] = (uint8_t) ((timestamp >> (5 * i)) & 31);
}

//  A field with the given data words (length written as given).
static void
s_raw_words (raw_t *raw, uint8_t type, const uint8_t *words, size_t count)
{
    raw->words [raw->len++] = type;
    raw->words [raw->len++] = (uint8_t) (count >> 5);
    raw->words [raw->len++] = (uint8_t) (count & 31);
    if (count)
        memcpy (raw->words + raw->len, words, count);
    raw->len += count;
}

//  A field from bytes, padded to whole words, then cut or extended to exactly `count` words.
static void
s_raw_bytes (raw_t *raw, uint8_t type, const uint8_t *bytes, size_t len, size_t count)
{
    uint8_t words [1100] = { 0 };
    size_t n = 0;
    assert_int_equal (bech32_convert_bits (words, sizeof words, &n, 5, bytes, len, 8, true), 0);
    s_raw_words (raw, type, words, count);
}

//  The usual p and s fields plus a short description.
static void
s_raw_basics (raw_t *raw)
{
    uint8_t hash [32];
    memset (hash, 0x42, 32);
    s_raw_bytes (raw, 1, hash, 32, 52);
    memset (hash, 0x11, 32);
    s_raw_bytes (raw, 16, hash, 32, 52);
    s_raw_bytes (raw, 13, (const uint8_t *) "test", 4, 7);
}

static const uint8_t s_key [32] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};

//  Compressed public key of a secret key.
static void
s_node_id (const uint8_t key [32], uint8_t node [33])
{
    secp256k1_context *ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pub;
    size_t len = 33;
    assert_true (secp256k1_ec_pubkey_create (ctx, &pub, key));
    secp256k1_ec_pubkey_serialize (ctx, node, &len, &pub, SECP256K1_EC_COMPRESSED);
    secp256k1_context_destroy (ctx);
}

//  Sign and encode; recid_override >= 0 replaces the recovery id.
static void
s_raw_finish (raw_t *raw, const char *hrp, const uint8_t key [32], int recid_override, char *out)
{
    uint8_t packed [BOLT11_MAX_LEN];
    uint8_t tmp [BOLT11_MAX_LEN];
    size_t n = 0;
    memcpy (tmp, raw->words, raw->len);
    assert_int_equal (bech32_convert_bits (packed, sizeof packed, &n, 8, tmp, raw->len, 5, true), 0);
    uint8_t hash [32];
    crypto_hash_sha256_state sha;
    crypto_hash_sha256_init (&sha);
    crypto_hash_sha256_update (&sha, (const uint8_t *) hrp, strlen (hrp));
    crypto_hash_sha256_update (&sha, packed, n);
    crypto_hash_sha256_final (&sha, hash);
    secp256k1_context *ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
    secp256k1_ecdsa_recoverable_signature sig;
    assert_true (secp256k1_ecdsa_sign_recoverable (ctx, &sig, hash, key, NULL, NULL));
    uint8_t sig65 [65];
    int recid;
    secp256k1_ecdsa_recoverable_signature_serialize_compact (ctx, sig65, &recid, &sig);
    sig65 [64] = (uint8_t) (recid_override >= 0 ? recid_override : recid);
    secp256k1_context_destroy (ctx);
    uint8_t words [110];
    assert_int_equal (bech32_convert_bits (words, sizeof words, &n, 5, sig65, 65, 8, true), 0);
    assert_int_equal (n, 104);
    memcpy (raw->words + raw->len, words, 104);
    assert_int_equal (bech32_encode (out, BOLT11_MAX_LEN + 1, hrp, raw->words, raw->len + 104,
                                     BOLT11_MAX_LEN), 0);
}

static int
s_decode_hrp (const char *hrp, bolt11_invoice_t *inv)
{
    static raw_t raw;
    static char out [BOLT11_MAX_LEN + 1];
    s_raw_start (&raw, 1700000000);
    s_raw_basics (&raw);
    s_raw_finish (&raw, hrp, s_key, -1, out);
    return bolt11_decode (out, inv);
}

static void
test_amounts (void **state)
{
    struct { const char *hrp; int rc; bolt11_network_t network; uint64_t msat; } cases [] = {
        { "lnbc", 0, BOLT11_MAINNET, 0 },
        { "lnbc1", 0, BOLT11_MAINNET, 100000000000ULL },
        { "lnbc21000000", 0, BOLT11_MAINNET, BOLT11_MAX_MSAT },
        { "lnbc21000001", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc1000u", 0, BOLT11_MAINNET, 100000000ULL },    //  non-minimal, accepted
        { "lnbc2500u", 0, BOLT11_MAINNET, 250000000ULL },
        { "lnbc3m", 0, BOLT11_MAINNET, 300000000ULL },
        { "lnbc7n", 0, BOLT11_MAINNET, 700ULL },
        { "lnbc10p", 0, BOLT11_MAINNET, 1ULL },
        { "lnbc9678785340p", 0, BOLT11_MAINNET, 967878534ULL },
        { "lnbc20999999999999999990p", 0, BOLT11_MAINNET, 2099999999999999999ULL },
        { "lnbc21000000000000000010p", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc184467440737095516160p", BOLT11_ERR_AMOUNT, 0, 0 },     //  2^64 msat
        { "lnbc11p", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc0p", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbcp", BOLT11_ERR_PREFIX, 0, 0 },
        { "lnbc0", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc01m", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc10x", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc1m5", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbc99999999999999999999999m", BOLT11_ERR_AMOUNT, 0, 0 },
        { "lnbcrt5u", 0, BOLT11_REGTEST, 500000ULL },
        { "lnbcrt", 0, BOLT11_REGTEST, 0 },
        { "lntb20m", 0, BOLT11_TESTNET, 2000000000ULL },
        { "lntbs20m", 0, BOLT11_SIGNET, 2000000000ULL },
        { "lnsb1n", 0, BOLT11_SIMNET, 100ULL },
        { "lnbcrtx", BOLT11_ERR_PREFIX, 0, 0 },
        { "lnxy1m", BOLT11_ERR_PREFIX, 0, 0 },
        { "bc1m", BOLT11_ERR_PREFIX, 0, 0 },
        { "ln", BOLT11_ERR_PREFIX, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        bolt11_invoice_t inv;
        int rc = s_decode_hrp (cases [i].hrp, &inv);
        if (rc != cases [i].rc)
            fail_msg ("%s: got %d (%s), want %d", cases [i].hrp, rc, bolt11_strerror (rc), cases [i].rc);
        if (rc == 0) {
            assert_int_equal (inv.network, cases [i].network);
            assert_int_equal (inv.has_amount, cases [i].msat != 0);
            assert_int_equal (inv.amount_msat, cases [i].msat);
        }
    }
}

//  Build, sign and decode one invoice whose extra field(s) come from `add`.
typedef void (add_fn) (raw_t *raw);
static int
s_decode_with (add_fn *add, bool basics, bolt11_invoice_t *inv)
{
    static raw_t raw;
    static char out [BOLT11_MAX_LEN + 1];
    s_raw_start (&raw, 1700000000);
    if (basics)
        s_raw_basics (&raw);
    add (&raw);
    s_raw_finish (&raw, "lnbc", s_key, -1, out);
    return bolt11_decode (out, inv);
}

static void s_add_nothing (raw_t *raw) { (void) raw; }
static void s_add_p51 (raw_t *raw) { uint8_t b [32] = { 0 }; s_raw_bytes (raw, 1, b, 32, 51); }
static void s_add_h53 (raw_t *raw) { uint8_t b [34] = { 0 }; s_raw_bytes (raw, 23, b, 33, 53); }
static void s_add_s53 (raw_t *raw) { uint8_t b [34] = { 0 }; s_raw_bytes (raw, 16, b, 33, 53); }
static void s_add_n52 (raw_t *raw) { uint8_t b [33] = { 2 }; s_raw_bytes (raw, 19, b, 33, 52); }
static void s_add_unknown (raw_t *raw)
{
    uint8_t w [5] = { 1, 2, 3, 4, 5 };
    s_raw_words (raw, 2, w, 5);
    s_raw_words (raw, 31, w, 3);
    s_raw_words (raw, 0, w, 0);
}
static void s_add_x_leading_zero (raw_t *raw) { uint8_t w [2] = { 0, 1 }; s_raw_words (raw, 6, w, 2); }
static void s_add_x_13_words (raw_t *raw) { uint8_t w [13] = { 1 }; s_raw_words (raw, 6, w, 13); }
static void s_add_x_max (raw_t *raw)
{
    uint8_t w [12];
    memset (w, 31, 12);
    s_raw_words (raw, 6, w, 12);
    uint8_t c [2] = { 1, 0 };
    s_raw_words (raw, 24, c, 2);
}
static void s_add_x_empty (raw_t *raw) { s_raw_words (raw, 6, NULL, 0); }
static void s_add_c_leading_zero (raw_t *raw) { uint8_t w [2] = { 0, 9 }; s_raw_words (raw, 24, w, 2); }
static void s_add_second_d (raw_t *raw) { s_raw_bytes (raw, 13, (const uint8_t *) "x", 1, 2); }
static void s_add_h (raw_t *raw) { uint8_t b [32] = { 9 }; s_raw_bytes (raw, 23, b, 32, 52); }
static void s_add_bad_utf8 (raw_t *raw)
{
    uint8_t b [32] = { 0 };
    s_raw_bytes (raw, 1, b, 32, 52);
    s_raw_bytes (raw, 16, b, 32, 52);
    s_raw_bytes (raw, 13, (const uint8_t *) "a\xc0\xafz", 4, 7);     //  overlong '/'
}
static void s_add_nul_description (raw_t *raw)
{
    uint8_t b [32] = { 0 };
    s_raw_bytes (raw, 1, b, 32, 52);
    s_raw_bytes (raw, 16, b, 32, 52);
    s_raw_bytes (raw, 13, (const uint8_t *) "a\0b", 3, 5);
}
static void s_add_only_p_d (raw_t *raw)
{
    uint8_t b [32] = { 0 };
    s_raw_bytes (raw, 1, b, 32, 52);
    s_raw_bytes (raw, 13, (const uint8_t *) "d", 1, 2);
}
static void s_add_only_s_d (raw_t *raw)
{
    uint8_t b [32] = { 0 };
    s_raw_bytes (raw, 16, b, 32, 52);
    s_raw_bytes (raw, 13, (const uint8_t *) "d", 1, 2);
}
static void s_add_feature_100 (raw_t *raw)
{
    uint8_t w [21] = { 1 };         //  bit 100 = word 0 of 21, bit 0
    s_raw_words (raw, 5, w, 21);
}
static void s_add_feature_101_16 (raw_t *raw)
{
    uint8_t w [21] = { 2 };         //  bit 101 (odd, unknown: fine)
    w [21 - 1 - 16 / 5] = 1 << (16 % 5);   //  bit 16 basic_mpp (known even)
    s_raw_words (raw, 5, w, 21);
}
static void s_add_feature_2 (raw_t *raw) { uint8_t w [1] = { 4 }; s_raw_words (raw, 5, w, 1); }
static void s_add_feature_leading_zero (raw_t *raw) { uint8_t w [2] = { 0, 2 }; s_raw_words (raw, 5, w, 2); }
static void s_add_route_50 (raw_t *raw) { uint8_t b [50] = { 2 }; s_raw_bytes (raw, 3, b, 50, 80); }
static void s_add_routes_20_hops (raw_t *raw)
{
    //  Two r fields: 12 hops (612 bytes, 980 words) and 8 hops.
    static uint8_t b [612];
    for (size_t i = 0; i < sizeof b; i++)
        b [i] = (uint8_t) i;
    s_raw_bytes (raw, 3, b, 612, 980);
    s_raw_bytes (raw, 3, b, 408, 653);
}
static void s_add_fallbacks (raw_t *raw)
{
    uint8_t w [40] = { 19 };        //  unknown version: skipped
    s_raw_words (raw, 9, w, 33);
    uint8_t program [20];
    memset (program, 0xcd, 20);
    uint8_t words [40] = { 0 };     //  version 0 + 20-byte program (32 words)
    size_t n = 0;
    bech32_convert_bits (words + 1, sizeof words - 1, &n, 5, program, 20, 8, true);
    s_raw_words (raw, 9, words, n + 1);
}
static void s_add_truncated (raw_t *raw)
{
    uint8_t w [3] = { 1, 2, 3 };
    s_raw_words (raw, 6, w, 3);
    raw->words [raw->len - 4] = 31;         //  claims 31 * 32 + ... words
}
static void s_add_dangling_type (raw_t *raw) { raw->words [raw->len++] = 6; raw->words [raw->len++] = 0; }

static void
test_field_rules (void **state)
{
    bolt11_invoice_t inv;
    assert_int_equal (s_decode_with (s_add_nothing, true, &inv), 0);
    assert_string_equal (inv.description, "test");
    assert_int_equal (inv.payment_hash [0], 0x42);
    assert_int_equal (inv.timestamp, 1700000000);
    //  Wrong data_length of p, h, s, n: fail (current rule).
    assert_int_equal (s_decode_with (s_add_p51, true, &inv), BOLT11_ERR_FIELD_LENGTH);
    assert_int_equal (s_decode_with (s_add_h53, true, &inv), BOLT11_ERR_FIELD_LENGTH);
    assert_int_equal (s_decode_with (s_add_s53, true, &inv), BOLT11_ERR_FIELD_LENGTH);
    assert_int_equal (s_decode_with (s_add_n52, true, &inv), BOLT11_ERR_FIELD_LENGTH);
    //  Unknown types (2, 31, and an empty 0) are skipped.
    assert_int_equal (s_decode_with (s_add_unknown, true, &inv), 0);
    //  x and c: minimal, at most 60 bits; empty x means 0.
    assert_int_equal (s_decode_with (s_add_x_leading_zero, true, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_c_leading_zero, true, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_x_13_words, true, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_x_max, true, &inv), 0);
    assert_int_equal (inv.expiry, (1ULL << 60) - 1);
    assert_int_equal (inv.min_final_cltv, 32);
    assert_int_equal (s_decode_with (s_add_x_empty, true, &inv), 0);
    assert_int_equal (inv.expiry, 0);
    //  Exactly one d or h.
    assert_int_equal (s_decode_with (s_add_second_d, true, &inv), BOLT11_ERR_DESCRIPTION);
    assert_int_equal (s_decode_with (s_add_h, true, &inv), BOLT11_ERR_DESCRIPTION);
    assert_int_equal (s_decode_with (s_add_bad_utf8, false, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_nul_description, false, &inv), BOLT11_ERR_FIELD);
    //  p and s required.
    assert_int_equal (s_decode_with (s_add_only_s_d, false, &inv), BOLT11_ERR_NO_PAYMENT_HASH);
    assert_int_equal (s_decode_with (s_add_only_p_d, false, &inv), BOLT11_ERR_NO_PAYMENT_SECRET);
    //  Features: unknown even bit fails, unknown odd bit and known even bits pass.
    assert_int_equal (s_decode_with (s_add_feature_100, true, &inv), BOLT11_ERR_FEATURE);
    assert_int_equal (s_decode_with (s_add_feature_2, true, &inv), BOLT11_ERR_FEATURE);
    assert_int_equal (s_decode_with (s_add_feature_leading_zero, true, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_feature_101_16, true, &inv), 0);
    assert_true (bolt11_has_feature (&inv, 101));
    assert_true (bolt11_has_feature (&inv, 16));
    assert_false (bolt11_has_feature (&inv, 14));
    //  Route hints: whole 51-byte hops only; hops beyond the limit dropped and flagged.
    assert_int_equal (s_decode_with (s_add_route_50, true, &inv), BOLT11_ERR_FIELD);
    assert_int_equal (s_decode_with (s_add_routes_20_hops, true, &inv), 0);
    assert_int_equal (inv.hop_count, BOLT11_MAX_HOPS);
    assert_true (inv.hops_truncated);
    assert_int_equal (inv.hops [11].route, 0);
    assert_int_equal (inv.hops [12].route, 1);
    assert_int_equal (inv.hops [12].pubkey [0], 0);
    assert_int_equal (inv.hops [1].pubkey [0], 51);
    //  Fallback: unknown version skipped, the known one kept.
    assert_int_equal (s_decode_with (s_add_fallbacks, true, &inv), 0);
    assert_true (inv.has_fallback);
    assert_int_equal (inv.fallback_version, 0);
    assert_int_equal (inv.fallback_len, 20);
    assert_int_equal (inv.fallback [19], 0xcd);
    //  Field running into the signature, and a lone field header.
    assert_int_equal (s_decode_with (s_add_truncated, true, &inv), BOLT11_ERR_TRUNCATED);
    assert_int_equal (s_decode_with (s_add_dangling_type, true, &inv), BOLT11_ERR_TRUNCATED);
}

//  n field: verified against the signature (not recovered); a wrong n fails.
static void
test_payee_field (void **state)
{
    static raw_t raw;
    static char out [BOLT11_MAX_LEN + 1];
    uint8_t node [33];
    s_node_id (s_key, node);

    bolt11_invoice_t inv;
    s_raw_start (&raw, 1);
    s_raw_basics (&raw);
    s_raw_bytes (&raw, 19, node, 33, 53);
    s_raw_finish (&raw, "lnbc", s_key, -1, out);
    assert_int_equal (bolt11_decode (out, &inv), 0);
    assert_true (inv.has_payee_field);
    assert_memory_equal (inv.payee, node, 33);

    //  A different (valid) key in n.
    node [0] ^= 1;
    s_raw_start (&raw, 1);
    s_raw_basics (&raw);
    s_raw_bytes (&raw, 19, node, 33, 53);
    s_raw_finish (&raw, "lnbc", s_key, -1, out);
    assert_int_equal (bolt11_decode (out, &inv), BOLT11_ERR_SIGNATURE);

    //  Recovery ids 0..3 are the only valid ones; the wrong one recovers another key.
    s_raw_start (&raw, 1);
    s_raw_basics (&raw);
    s_raw_finish (&raw, "lnbc", s_key, 4, out);
    assert_int_equal (bolt11_decode (out, &inv), BOLT11_ERR_SIGNATURE);
    node [0] ^= 1;
    int ok = 0;
    for (int recid = 0; recid < 4; recid++) {
        s_raw_start (&raw, 1);
        s_raw_basics (&raw);
        s_raw_finish (&raw, "lnbc", s_key, recid, out);
        if (bolt11_decode (out, &inv) == 0 && memcmp (inv.payee, node, 33) == 0)
            ok++;
    }
    assert_int_equal (ok, 1);
}

static void
test_encode_round_trip (void **state)
{
    const uint64_t amounts [] = { 1, 10, 99, 100, 123456789, 100000, 2500000000ULL,
                                  100000000000ULL, 2099999999999999999ULL, BOLT11_MAX_MSAT };
    char out [BOLT11_MAX_LEN + 1];
    for (size_t i = 0; i < sizeof amounts / sizeof amounts [0]; i++) {
        bolt11_invoice_t inv, back;
        bolt11_invoice_init (&inv, (bolt11_network_t) (i % 5));
        inv.has_amount = true;
        inv.amount_msat = amounts [i];
        inv.timestamp = (1ULL << 35) - 1 - i;
        randombytes_buf (inv.payment_hash, 32);
        randombytes_buf (inv.payment_secret, 32);
        if (i % 2) {
            inv.has_description = true;
            snprintf (inv.description, sizeof inv.description, "job %zu \xe2\x9a\xa1 done", i);
        }
        else {
            inv.has_description_hash = true;
            randombytes_buf (inv.description_hash, 32);
        }
        inv.expiry = i * 1000;
        inv.min_final_cltv = i % 3 ? 144 : 18;
        inv.has_payee_field = i % 3 == 1;
        bolt11_set_feature (&inv, 16);
        bolt11_set_feature (&inv, (unsigned) (201 + 2 * i));
        assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), 0);
        assert_memory_equal (out, bolt11_network_prefix (inv.network),
                             strlen (bolt11_network_prefix (inv.network)));
        int rc = bolt11_decode (out, &back);
        if (rc)
            fail_msg ("%s: %s", out, bolt11_strerror (rc));
        assert_int_equal (back.network, inv.network);
        assert_int_equal (back.amount_msat, inv.amount_msat);
        assert_int_equal (back.timestamp, inv.timestamp);
        assert_memory_equal (back.payment_hash, inv.payment_hash, 32);
        assert_memory_equal (back.payment_secret, inv.payment_secret, 32);
        assert_int_equal (back.has_description, inv.has_description);
        if (inv.has_description)
            assert_string_equal (back.description, inv.description);
        else
            assert_memory_equal (back.description_hash, inv.description_hash, 32);
        assert_int_equal (back.expiry, inv.expiry);
        assert_int_equal (back.min_final_cltv, inv.min_final_cltv);
        assert_int_equal (back.has_payee_field, inv.has_payee_field);
        assert_memory_equal (back.features, inv.features, sizeof inv.features);
        //  Payee is the key's public key (recovered or from n).
        uint8_t node [33];
        s_node_id (s_key, node);
        assert_memory_equal (back.payee, node, 33);
    }
    //  Pico: 1 msat -> "10p"; 123456789 msat -> "1234567890p".
    bolt11_invoice_t inv;
    bolt11_invoice_init (&inv, BOLT11_REGTEST);
    inv.has_amount = true;
    inv.amount_msat = 123456789;
    inv.has_description = true;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), 0);
    assert_memory_equal (out, "lnbcrt1234567890p1", 18);
    inv.amount_msat = 2500000000ULL;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), 0);
    assert_memory_equal (out, "lnbcrt25m1", 10);
}

static void
test_encode_errors (void **state)
{
    char out [BOLT11_MAX_LEN + 1];
    bolt11_invoice_t inv;
    bolt11_invoice_init (&inv, BOLT11_MAINNET);
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);  //  no d/h
    inv.has_description = true;
    inv.has_description_hash = true;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);  //  both
    inv.has_description_hash = false;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), 0);
    const uint8_t zero [32] = { 0 };
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, zero), BOLT11_ERR_INPUT);
    inv.has_amount = true;
    inv.amount_msat = 0;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
    inv.amount_msat = BOLT11_MAX_MSAT + 1;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
    inv.amount_msat = 1000;
    inv.timestamp = 1ULL << 35;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
    inv.timestamp = 0;
    memset (inv.description, 'a', sizeof inv.description);     //  unterminated
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
    inv.description [BOLT11_DESCRIPTION_MAX] = '\0';            //  639 bytes: the maximum
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), 0);
    bolt11_invoice_t back;
    assert_int_equal (bolt11_decode (out, &back), 0);
    assert_int_equal (strlen (back.description), BOLT11_DESCRIPTION_MAX);
    strcpy (inv.description, "\xff");
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
    strcpy (inv.description, "ok");
    assert_int_equal (bolt11_encode (out, 50, &inv, s_key), BECH32_ERR_BUFFER);
    inv.network = (bolt11_network_t) 9;
    assert_int_equal (bolt11_encode (out, sizeof out, &inv, s_key), BOLT11_ERR_INPUT);
}

static void
test_decode_limits (void **state)
{
    static char huge [BOLT11_MAX_LEN + 2];
    memset (huge, 'q', sizeof huge - 1);
    memcpy (huge, "lnbc1", 5);
    bolt11_invoice_t inv;
    assert_int_equal (bolt11_decode (huge, &inv), BECH32_ERR_TOO_LONG);
    assert_int_equal (bolt11_decode ("", &inv), BECH32_ERR_NO_SEPARATOR);
    //  A "lightning:" URI prefix is part of the HRP to bech32, so the checksum fails.
    assert_int_equal (bolt11_decode ("lightning:lnbc1qqqqqqqqqqqqqqq", &inv), BECH32_ERR_CHECKSUM);
    assert_int_equal (bolt11_decode ("lnbc1 qqqqqqqqqqqqqqq", &inv), BECH32_ERR_CHAR);
    //  A valid bech32 string that is not an invoice.
    assert_int_equal (bolt11_decode ("npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6", &inv),
                      BOLT11_ERR_PREFIX);
    for (int rc = -40; rc >= -55; rc--)
        assert_string_not_equal (bolt11_strerror (rc), bech32_strerror (rc));
}

static void
test_check (void **state)
{
    bolt11_invoice_t inv;
    bolt11_invoice_init (&inv, BOLT11_REGTEST);
    inv.has_amount = true;
    inv.amount_msat = 21000;
    inv.timestamp = 1000;
    inv.expiry = 600;
    memset (inv.payment_hash, 7, 32);
    uint8_t hash [32];
    memset (hash, 7, 32);
    assert_int_equal (bolt11_check (&inv, 21000, hash, 1000), 0);
    assert_int_equal (bolt11_check (&inv, 21000, NULL, 1600), 0);
    assert_int_equal (bolt11_check (&inv, 21000, hash, 1601), BOLT11_ERR_EXPIRED);
    assert_int_equal (bolt11_check (&inv, 21001, hash, 1000), BOLT11_ERR_WRONG_AMOUNT);
    hash [31] = 8;
    assert_int_equal (bolt11_check (&inv, 21000, hash, 1000), BOLT11_ERR_WRONG_HASH);
    inv.has_amount = false;
    assert_int_equal (bolt11_check (&inv, 21000, NULL, 1000), BOLT11_ERR_WRONG_AMOUNT);
    inv.has_amount = true;
    inv.expiry = UINT64_MAX;        //  timestamp + expiry overflows: never expires
    assert_int_equal (bolt11_check (&inv, 21000, NULL, UINT64_MAX), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid_examples),
        cmocka_unit_test (test_invalid_examples),
        cmocka_unit_test (test_encode_spec_examples),
        cmocka_unit_test (test_amounts),
        cmocka_unit_test (test_field_rules),
        cmocka_unit_test (test_payee_field),
        cmocka_unit_test (test_encode_round_trip),
        cmocka_unit_test (test_encode_errors),
        cmocka_unit_test (test_decode_limits),
        cmocka_unit_test (test_check),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
