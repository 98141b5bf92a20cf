/*  bolt11.c: BOLT 11 invoice decoding, encoding and checking. See bolt11.h.

    Layout of an invoice (after bech32): human-readable part "ln" + currency + amount, then
    5-bit words: a 35-bit timestamp, tagged fields (type, 10-bit length in words, data), and a
    520-bit signature r || s || recovery id. The signature covers SHA-256 of the
    human-readable part's bytes followed by the timestamp and field words packed into bytes
    (zero-padded to a whole byte). Written here because Debian ships no BOLT 11 library. */
#include "bolt11.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Field types: the bech32 character's value.
#define TAG_P 1         //  payment_hash
#define TAG_R 3         //  route hints
#define TAG_9 5         //  features
#define TAG_X 6         //  expiry
#define TAG_F 9         //  fallback address
#define TAG_D 13        //  description
#define TAG_S 16        //  payment_secret
#define TAG_N 19        //  payee node id
#define TAG_H 23        //  description hash
#define TAG_C 24        //  min_final_cltv_expiry_delta
#define TAG_M 27        //  payment_metadata

#define TIMESTAMP_WORDS 7
#define SIGNATURE_WORDS 104
#define HOP_BYTES 51
//  Longest x / c value we read: 12 words = 60 bits, so it fits in uint64_t.
#define UINT_WORDS_MAX 12

//  Currency prefixes, longest first so "bcrt" is tried before "bc" and "tbs" before "tb".
static const struct {
    const char *currency;       //  after "ln"
    bolt11_network_t network;
} s_currencies [] = {
    { "bcrt", BOLT11_REGTEST },
    { "tbs", BOLT11_SIGNET },
    { "bc", BOLT11_MAINNET },
    { "tb", BOLT11_TESTNET },
    { "sb", BOLT11_SIMNET },
};

const char *
bolt11_network_prefix (bolt11_network_t network)
{
    switch (network) {
        case BOLT11_MAINNET: return "lnbc";
        case BOLT11_TESTNET: return "lntb";
        case BOLT11_SIGNET:  return "lntbs";
        case BOLT11_REGTEST: return "lnbcrt";
        case BOLT11_SIMNET:  return "lnsb";
    }
    return NULL;
}

void
bolt11_invoice_init (bolt11_invoice_t *self, bolt11_network_t network)
{
    memset (self, 0, sizeof *self);
    self->network = network;
    self->expiry = BOLT11_DEFAULT_EXPIRY;
    self->min_final_cltv = BOLT11_DEFAULT_MIN_FINAL_CLTV;
    bolt11_set_feature (self, 8);
    bolt11_set_feature (self, 14);
}

bool
bolt11_has_feature (const bolt11_invoice_t *self, unsigned bit)
{
    return bit < 8 * BOLT11_FEATURES_BYTES && (self->features [bit / 8] >> (bit % 8)) & 1;
}

void
bolt11_set_feature (bolt11_invoice_t *self, unsigned bit)
{
    if (bit < 8 * BOLT11_FEATURES_BYTES)
        self->features [bit / 8] |= (uint8_t) (1 << (bit % 8));
}

//  Even feature bits we understand (BOLT 9, invoice context): var_onion_optin,
//  payment_secret, basic_mpp, option_payment_metadata. Any other even bit set ⇒ invalid.
static bool
s_feature_known (unsigned bit)
{
    return bit == 8 || bit == 14 || bit == 16 || bit == 48;
}

//  --------------------------------------------------------------------------
//  Human-readable part

//  Parse "<digits>[m|u|n|p]" into millisatoshi. Digits: no leading zero, no overflow;
//  pico amounts must end in 0 (whole millisatoshi): the digits before that 0 are the msat.
static int
s_parse_amount (const char *text, uint64_t *msat)
{
    size_t len = strlen (text);
    uint64_t per_unit_msat = 100000000000ULL;     //  no multiplier: whole BTC
    char last = text [len - 1];
    if (last < '0' || last > '9') {
        switch (last) {
            case 'm': per_unit_msat = 100000000ULL; break;
            case 'u': per_unit_msat = 100000ULL; break;
            case 'n': per_unit_msat = 100ULL; break;
            case 'p':
                if (len < 2 || text [len - 2] != '0')
                    return BOLT11_ERR_AMOUNT;   //  a fraction of a millisatoshi
                per_unit_msat = 1;
                len--;                          //  pico / 10 = msat: drop the 0
                break;
            default: return BOLT11_ERR_AMOUNT;
        }
        len--;
    }
    if (len == 0 || text [0] == '0')
        return BOLT11_ERR_AMOUNT;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text [i] < '0' || text [i] > '9')
            return BOLT11_ERR_AMOUNT;
        if (__builtin_mul_overflow (value, 10, &value)
        ||  __builtin_add_overflow (value, (uint64_t) (text [i] - '0'), &value))
            return BOLT11_ERR_AMOUNT;
    }
    if (__builtin_mul_overflow (value, per_unit_msat, &value) || value > BOLT11_MAX_MSAT)
        return BOLT11_ERR_AMOUNT;
    *msat = value;
    return 0;
}

static int
s_parse_hrp (const char *hrp, bolt11_invoice_t *self)
{
    if (strncmp (hrp, "ln", 2) != 0)
        return BOLT11_ERR_PREFIX;
    for (size_t i = 0; i < sizeof s_currencies / sizeof s_currencies [0]; i++) {
        size_t len = strlen (s_currencies [i].currency);
        if (strncmp (hrp + 2, s_currencies [i].currency, len) != 0)
            continue;
        const char *amount = hrp + 2 + len;
        if (*amount && (*amount < '0' || *amount > '9'))
            continue;       //  e.g. "lntbs" is not "lntb" + amount
        self->network = s_currencies [i].network;
        if (*amount == '\0')
            return 0;
        self->has_amount = true;
        return s_parse_amount (amount, &self->amount_msat);
    }
    return BOLT11_ERR_PREFIX;
}

//  Write the human-readable part, with the shortest amount form.
static int
s_format_hrp (char *out, size_t out_size, const bolt11_invoice_t *self)
{
    const char *prefix = bolt11_network_prefix (self->network);
    if (!prefix)
        return BOLT11_ERR_INPUT;
    if (!self->has_amount)
        return snprintf (out, out_size, "%s", prefix) < (int) out_size ? 0 : BOLT11_ERR_INPUT;
    uint64_t msat = self->amount_msat;
    if (msat == 0 || msat > BOLT11_MAX_MSAT)
        return BOLT11_ERR_INPUT;
    static const struct { uint64_t per_unit; const char *suffix; } units [] = {
        { 100000000000ULL, "" }, { 100000000ULL, "m" }, { 100000ULL, "u" }, { 100ULL, "n" }
    };
    int written = -1;
    for (size_t i = 0; i < sizeof units / sizeof units [0] && written < 0; i++)
        if (msat % units [i].per_unit == 0)
            written = snprintf (out, out_size, "%s%llu%s", prefix,
                                (unsigned long long) (msat / units [i].per_unit), units [i].suffix);
    if (written < 0)    //  pico-BTC: msat * 10, written as text so it cannot overflow
        written = snprintf (out, out_size, "%s%llu0p", prefix, (unsigned long long) msat);
    return written < (int) out_size ? 0 : BOLT11_ERR_INPUT;
}

//  --------------------------------------------------------------------------
//  Word helpers

//  Pack words into bytes, MSB first. Returns the number of whole bytes; with pad, a last
//  partial byte is zero-filled and counted (the signing form), without it, it is dropped
//  (field data: writers pad to whole words, the padding carries no data).
static size_t
s_pack (const uint8_t *words, size_t count, uint8_t *out, bool pad)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        acc = (acc << 5 | words [i]) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out [len++] = (uint8_t) (acc >> bits);
        }
    }
    if (pad && bits > 0)
        out [len++] = (uint8_t) (acc << (8 - bits));
    return len;
}

//  Big-endian unsigned integer in words; fails on leading zero words (non-minimal, the spec
//  says SHOULD reject) and on more than UINT_WORDS_MAX words.
static int
s_read_uint (const uint8_t *words, size_t count, uint64_t *value)
{
    if (count > UINT_WORDS_MAX || (count > 0 && words [0] == 0))
        return BOLT11_ERR_FIELD;
    *value = 0;
    for (size_t i = 0; i < count; i++)
        *value = *value << 5 | words [i];
    return 0;
}

//  Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, and no NUL
//  (the description is handed on as a C string).
static bool
s_utf8_valid (const uint8_t *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = text [i];
        size_t extra;
        uint32_t cp, min;
        if (c == 0)
            return false;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { extra = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { extra = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { extra = 3; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (len - i - 1 < extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((text [i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (text [i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += 1 + extra;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  Decoding

//  Decoder state that is not part of the result.
typedef struct {
    bool has_hash;              //  a p field was seen
    bool has_secret;            //  an s field was seen
    int descriptions;           //  number of d and h fields
    uint8_t routes;             //  number of r fields seen
} s_seen_t;

static int
s_read_features (const uint8_t *words, size_t count, bolt11_invoice_t *self)
{
    if (count > 0 && words [0] == 0)
        return BOLT11_ERR_FIELD;    //  non-minimal
    for (size_t i = 0; i < count; i++)
        for (unsigned b = 0; b < 5; b++) {
            if (!((words [i] >> b) & 1))
                continue;
            unsigned bit = (unsigned) (5 * (count - 1 - i)) + b;
            if (bit % 2 == 0 && !s_feature_known (bit))
                return BOLT11_ERR_FEATURE;
            bolt11_set_feature (self, bit);
        }
    return 0;
}

static int
s_read_routes (const uint8_t *words, size_t count, bolt11_invoice_t *self, s_seen_t *seen)
{
    uint8_t bytes [BOLT11_FIELD_BYTES_MAX + 1];
    size_t len = s_pack (words, count, bytes, false);
    if (len == 0 || len % HOP_BYTES)
        return BOLT11_ERR_FIELD;
    for (size_t at = 0; at < len; at += HOP_BYTES) {
        if (self->hop_count == BOLT11_MAX_HOPS) {
            self->hops_truncated = true;
            break;
        }
        const uint8_t *b = bytes + at;
        bolt11_hop_t *hop = &self->hops [self->hop_count++];
        hop->route = seen->routes;
        memcpy (hop->pubkey, b, 33);
        hop->short_channel_id = 0;
        for (int k = 0; k < 8; k++)
            hop->short_channel_id = hop->short_channel_id << 8 | b [33 + k];
        hop->fee_base_msat = (uint32_t) b [41] << 24 | (uint32_t) b [42] << 16
                           | (uint32_t) b [43] << 8 | b [44];
        hop->fee_proportional_millionths = (uint32_t) b [45] << 24 | (uint32_t) b [46] << 16
                                         | (uint32_t) b [47] << 8 | b [48];
        hop->cltv_expiry_delta = (uint16_t) (b [49] << 8 | b [50]);
    }
    if (seen->routes < UINT8_MAX)
        seen->routes++;
    return 0;
}

//  Keep the first fallback with a known version (0..18) and a plausible program size;
//  others are skipped as the spec asks for unknown versions.
static void
s_read_fallback (const uint8_t *words, size_t count, bolt11_invoice_t *self)
{
    if (self->has_fallback || count < 1 || words [0] > 18)
        return;
    uint8_t program [BOLT11_FIELD_BYTES_MAX + 1];
    size_t len = s_pack (words + 1, count - 1, program, false);
    if (len < 2 || len > sizeof self->fallback)
        return;
    self->has_fallback = true;
    self->fallback_version = words [0];
    self->fallback_len = len;
    memcpy (self->fallback, program, len);
}

//  Read one tagged field. Fixed-size fields with the wrong length fail (current rule);
//  unknown types are skipped.
static int
s_read_field (uint8_t type, const uint8_t *words, size_t count,
              bolt11_invoice_t *self, s_seen_t *seen)
{
    uint8_t bytes [BOLT11_FIELD_BYTES_MAX + 1];
    switch (type) {
        case TAG_P:
        case TAG_S:
        case TAG_H:
            if (count != 52)
                return BOLT11_ERR_FIELD_LENGTH;
            s_pack (words, count, bytes, false);
            if (type == TAG_P && !seen->has_hash)
                memcpy (self->payment_hash, bytes, 32);
            if (type == TAG_S && !seen->has_secret)
                memcpy (self->payment_secret, bytes, 32);
            if (type == TAG_H) {
                memcpy (self->description_hash, bytes, 32);
                self->has_description_hash = true;
                seen->descriptions++;
            }
            seen->has_hash |= type == TAG_P;
            seen->has_secret |= type == TAG_S;
            return 0;
        case TAG_N:
            if (count != 53)
                return BOLT11_ERR_FIELD_LENGTH;
            if (!self->has_payee_field) {
                s_pack (words, count, self->payee, false);
                self->has_payee_field = true;
            }
            return 0;
        case TAG_D: {
            size_t len = s_pack (words, count, bytes, false);
            if (!s_utf8_valid (bytes, len))
                return BOLT11_ERR_FIELD;
            memcpy (self->description, bytes, len);
            self->description [len] = '\0';
            self->has_description = true;
            seen->descriptions++;
            return 0;
        }
        case TAG_M:
            self->metadata_len = s_pack (words, count, self->metadata, false);
            self->has_metadata = true;
            return 0;
        case TAG_X:
            return s_read_uint (words, count, &self->expiry);
        case TAG_C:
            return s_read_uint (words, count, &self->min_final_cltv);
        case TAG_9:
            return s_read_features (words, count, self);
        case TAG_R:
            return s_read_routes (words, count, self, seen);
        case TAG_F:
            s_read_fallback (words, count, self);
            return 0;
        default:
            return 0;       //  unknown type: skipped
    }
}

//  SHA-256 over the human-readable part and the packed data words (signature excluded).
static void
s_sighash (const char *hrp, const uint8_t *words, size_t count, uint8_t hash [32])
{
    uint8_t packed [(BOLT11_MAX_LEN * 5) / 8 + 1];
    size_t len = s_pack (words, count, packed, true);
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    crypto_hash_sha256_update (&state, (const uint8_t *) hrp, strlen (hrp));
    crypto_hash_sha256_update (&state, packed, len);
    crypto_hash_sha256_final (&state, hash);
}

//  Check the 65-byte signature: verify against the n field (low-S only) or recover the key.
static int
s_check_signature (const uint8_t sig [65], const uint8_t hash [32], bolt11_invoice_t *self)
{
    const secp256k1_context *ctx = secp256k1_context_static;
    int recid = sig [64];
    if (recid > 3)
        return BOLT11_ERR_SIGNATURE;
    if (self->has_payee_field) {
        secp256k1_ecdsa_signature plain;
        secp256k1_pubkey payee;
        if (!secp256k1_ecdsa_signature_parse_compact (ctx, &plain, sig)
        ||  !secp256k1_ec_pubkey_parse (ctx, &payee, self->payee, 33))
            return BOLT11_ERR_SIGNATURE;
        if (secp256k1_ecdsa_signature_normalize (ctx, NULL, &plain))
            return BOLT11_ERR_HIGH_S;
        return secp256k1_ecdsa_verify (ctx, &plain, hash, &payee) ? 0 : BOLT11_ERR_SIGNATURE;
    }
    secp256k1_ecdsa_recoverable_signature recoverable;
    secp256k1_pubkey payee;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact (ctx, &recoverable, sig, recid)
    ||  !secp256k1_ecdsa_recover (ctx, &payee, &recoverable, hash))
        return BOLT11_ERR_SIGNATURE;
    size_t len = 33;
    secp256k1_ec_pubkey_serialize (ctx, self->payee, &len, &payee, SECP256K1_EC_COMPRESSED);
    return 0;
}

int
bolt11_decode (const char *str, bolt11_invoice_t *self)
{
    memset (self, 0, sizeof *self);
    self->expiry = BOLT11_DEFAULT_EXPIRY;
    self->min_final_cltv = BOLT11_DEFAULT_MIN_FINAL_CLTV;

    char hrp [BECH32_HRP_MAX + 1];
    uint8_t words [BOLT11_MAX_LEN];
    size_t count = 0;
    int rc = bech32_decode (str, BOLT11_MAX_LEN, hrp, sizeof hrp, words, sizeof words, &count);
    if (rc)
        return rc;
    rc = s_parse_hrp (hrp, self);
    if (rc)
        return rc;
    if (count < TIMESTAMP_WORDS + SIGNATURE_WORDS)
        return BOLT11_ERR_TOO_SHORT;

    size_t data_end = count - SIGNATURE_WORDS;
    for (size_t i = 0; i < TIMESTAMP_WORDS; i++)
        self->timestamp = self->timestamp << 5 | words [i];

    s_seen_t seen = { 0 };
    size_t at = TIMESTAMP_WORDS;
    while (at < data_end) {
        if (data_end - at < 3)
            return BOLT11_ERR_TRUNCATED;
        uint8_t type = words [at];
        size_t len = (size_t) words [at + 1] * 32 + words [at + 2];
        at += 3;
        if (data_end - at < len)
            return BOLT11_ERR_TRUNCATED;
        rc = s_read_field (type, words + at, len, self, &seen);
        if (rc)
            return rc;
        at += len;
    }
    if (!seen.has_hash)
        return BOLT11_ERR_NO_PAYMENT_HASH;
    if (!seen.has_secret)
        return BOLT11_ERR_NO_PAYMENT_SECRET;
    if (seen.descriptions != 1)
        return BOLT11_ERR_DESCRIPTION;

    uint8_t sig [65], hash [32];
    s_pack (words + data_end, SIGNATURE_WORDS, sig, false);
    s_sighash (hrp, words, data_end, hash);
    return s_check_signature (sig, hash, self);
}

//  --------------------------------------------------------------------------
//  Encoding

//  Word buffer being filled by the encoder.
typedef struct {
    uint8_t words [BOLT11_MAX_LEN];     //  timestamp, fields, then signature
    size_t len;                         //  words written
} s_writer_t;

static bool
s_put_field (s_writer_t *w, uint8_t type, const uint8_t *data, size_t count)
{
    if (count > 1023 || w->len + 3 + count + SIGNATURE_WORDS > BOLT11_MAX_LEN)
        return false;
    w->words [w->len++] = type;
    w->words [w->len++] = (uint8_t) (count >> 5);
    w->words [w->len++] = (uint8_t) (count & 31);
    memcpy (w->words + w->len, data, count);
    w->len += count;
    return true;
}

static bool
s_put_bytes (s_writer_t *w, uint8_t type, const uint8_t *bytes, size_t len)
{
    uint8_t words [1024];
    size_t count = 0;
    if (len > BOLT11_FIELD_BYTES_MAX
    ||  bech32_convert_bits (words, sizeof words, &count, 5, bytes, len, 8, true))
        return false;
    return s_put_field (w, type, words, count);
}

//  Minimal big-endian words of value (zero is written as no words).
static bool
s_put_uint (s_writer_t *w, uint8_t type, uint64_t value)
{
    uint8_t words [13];
    size_t count = 0;
    for (uint64_t v = value; v; v >>= 5)
        count++;
    for (size_t i = 0; i < count; i++)
        words [count - 1 - i] = (uint8_t) ((value >> (5 * i)) & 31);
    return s_put_field (w, type, words, count);
}

static bool
s_put_features (s_writer_t *w, const bolt11_invoice_t *self)
{
    int top = -1;
    for (unsigned bit = 0; bit < 8 * BOLT11_FEATURES_BYTES; bit++)
        if (bolt11_has_feature (self, bit))
            top = (int) bit;
    if (top < 0)
        return true;
    uint8_t words [8 * BOLT11_FEATURES_BYTES / 5 + 1] = { 0 };
    size_t count = (size_t) top / 5 + 1;
    for (unsigned bit = 0; bit <= (unsigned) top; bit++)
        if (bolt11_has_feature (self, bit))
            words [count - 1 - bit / 5] |= (uint8_t) (1 << (bit % 5));
    return s_put_field (w, TAG_9, words, count);
}

//  A context for signing, randomised against side channels; NULL on failure.
static secp256k1_context *
s_signing_context (void)
{
    secp256k1_context *ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
    uint8_t seed [32];
    randombytes_buf (seed, sizeof seed);
    if (ctx && !secp256k1_context_randomize (ctx, seed)) {
        secp256k1_context_destroy (ctx);
        ctx = NULL;
    }
    sodium_memzero (seed, sizeof seed);
    return ctx;
}

//  Fill the word buffer: timestamp and tagged fields (no signature yet).
static bool
s_write_fields (s_writer_t *w, const bolt11_invoice_t *self, const uint8_t payee [33])
{
    w->len = 0;
    for (int i = TIMESTAMP_WORDS - 1; i >= 0; i--)
        w->words [w->len++] = (uint8_t) ((self->timestamp >> (5 * i)) & 31);
    //  Field order as in the spec's examples, so those can be reproduced byte for byte.
    return s_put_bytes (w, TAG_P, self->payment_hash, 32)
        && (self->has_description
            ? s_put_bytes (w, TAG_D, (const uint8_t *) self->description, strlen (self->description))
            : s_put_bytes (w, TAG_H, self->description_hash, 32))
        && (self->expiry == BOLT11_DEFAULT_EXPIRY || s_put_uint (w, TAG_X, self->expiry))
        && (self->min_final_cltv == BOLT11_DEFAULT_MIN_FINAL_CLTV
            || s_put_uint (w, TAG_C, self->min_final_cltv))
        && (!self->has_payee_field || s_put_bytes (w, TAG_N, payee, 33))
        && (!self->has_metadata || s_put_bytes (w, TAG_M, self->metadata, self->metadata_len))
        && s_put_bytes (w, TAG_S, self->payment_secret, 32)
        && s_put_features (w, self);
}

int
bolt11_encode (char *out, size_t out_size, const bolt11_invoice_t *self,
               const uint8_t seckey [32])
{
    char hrp [BECH32_HRP_MAX + 1];
    int rc = s_format_hrp (hrp, sizeof hrp, self);
    if (rc)
        return rc;
    if (self->timestamp >> 35
    ||  self->has_description == self->has_description_hash
    ||  self->metadata_len > BOLT11_FIELD_BYTES_MAX)
        return BOLT11_ERR_INPUT;
    if (self->has_description) {
        size_t len = strnlen (self->description, sizeof self->description);
        if (len > BOLT11_DESCRIPTION_MAX
        ||  !s_utf8_valid ((const uint8_t *) self->description, len))
            return BOLT11_ERR_INPUT;
    }
    secp256k1_context *ctx = s_signing_context ();
    if (!ctx)
        return BOLT11_ERR_INPUT;

    s_writer_t *w = malloc (sizeof *w);
    secp256k1_pubkey pub;
    secp256k1_ecdsa_recoverable_signature recoverable;
    uint8_t payee [33], hash [32], sig [65];
    size_t payee_len = sizeof payee, count = 0;
    int recid = 0;
    rc = BOLT11_ERR_INPUT;
    if (w
    &&  secp256k1_ec_pubkey_create (ctx, &pub, seckey)
    &&  secp256k1_ec_pubkey_serialize (ctx, payee, &payee_len, &pub, SECP256K1_EC_COMPRESSED)
    &&  s_write_fields (w, self, payee)) {
        //  libsecp256k1 always produces low-S signatures.
        s_sighash (hrp, w->words, w->len, hash);
        if (secp256k1_ecdsa_sign_recoverable (ctx, &recoverable, hash, seckey, NULL, NULL)
        &&  secp256k1_ecdsa_recoverable_signature_serialize_compact (ctx, sig, &recid, &recoverable)) {
            sig [64] = (uint8_t) recid;
            rc = bech32_convert_bits (w->words + w->len, SIGNATURE_WORDS, &count, 5,
                                      sig, sizeof sig, 8, true);
            if (rc == 0)
                rc = bech32_encode (out, out_size, hrp, w->words, w->len + count, BOLT11_MAX_LEN);
        }
    }
    free (w);
    secp256k1_context_destroy (ctx);
    return rc;
}

//  --------------------------------------------------------------------------

int
bolt11_check (const bolt11_invoice_t *self, uint64_t amount_msat,
              const uint8_t *payment_hash, uint64_t now)
{
    if (!self->has_amount || self->amount_msat != amount_msat)
        return BOLT11_ERR_WRONG_AMOUNT;
    if (payment_hash && sodium_memcmp (self->payment_hash, payment_hash, 32) != 0)
        return BOLT11_ERR_WRONG_HASH;
    uint64_t expires_at;
    if (__builtin_add_overflow (self->timestamp, self->expiry, &expires_at))
        expires_at = UINT64_MAX;
    if (now > expires_at)
        return BOLT11_ERR_EXPIRED;
    return 0;
}

const char *
bolt11_strerror (int rc)
{
    switch (rc) {
        case BOLT11_ERR_PREFIX:       return "bolt11: not a Lightning invoice prefix (lnbc, lntb, lntbs, lnbcrt, lnsb)";
        case BOLT11_ERR_AMOUNT:       return "bolt11: invalid amount";
        case BOLT11_ERR_TOO_SHORT:    return "bolt11: too short for timestamp and signature";
        case BOLT11_ERR_TRUNCATED:    return "bolt11: tagged field runs past the data";
        case BOLT11_ERR_FIELD_LENGTH: return "bolt11: p, h, s or n field with the wrong length";
        case BOLT11_ERR_FIELD:        return "bolt11: malformed tagged field";
        case BOLT11_ERR_NO_PAYMENT_HASH:   return "bolt11: no payment hash (p)";
        case BOLT11_ERR_NO_PAYMENT_SECRET: return "bolt11: no payment secret (s)";
        case BOLT11_ERR_DESCRIPTION:  return "bolt11: not exactly one description (d) or description hash (h)";
        case BOLT11_ERR_FEATURE:      return "bolt11: unknown required feature bit";
        case BOLT11_ERR_SIGNATURE:    return "bolt11: invalid signature";
        case BOLT11_ERR_HIGH_S:       return "bolt11: high-S signature with an n field";
        case BOLT11_ERR_INPUT:        return "bolt11: invalid invoice fields or secret key for encoding";
        case BOLT11_ERR_WRONG_AMOUNT: return "bolt11: amount differs from the one asked";
        case BOLT11_ERR_WRONG_HASH:   return "bolt11: payment hash differs from the one asked";
        case BOLT11_ERR_EXPIRED:      return "bolt11: invoice expired";
        default:                      return bech32_strerror (rc);
    }
}
