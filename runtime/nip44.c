/*  nip44.c: NIP-44 v2. See nip44.h, and the spec summary in protocols.md section 7.

    libsodium 1.0.18 has HMAC-SHA256 and ChaCha20 (RFC 8439 layout: 32-byte key, 12-byte
    nonce, counter from 0) but no HKDF, so the two HKDF steps (RFC 5869) are written here over
    crypto_auth_hmacsha256, a dozen lines. Every intermediate key is wiped after use. */
#include "nip44.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "nostr_keys.h"

#define s_VERSION      2
#define s_NONCE_LEN    32
#define s_MAC_LEN      32
#define s_OVERHEAD     (1 + s_NONCE_LEN + s_MAC_LEN)   //  version, nonce, MAC
#define s_MIN_PAYLOAD  132                           //  base64 of the smallest raw payload
#define s_MIN_RAW      99                            //  65 overhead + 2 prefix + 32 padding

//  --- HKDF-SHA256 (RFC 5869) ------------------------------------------------------------

//  PRK = HMAC-SHA256(key = salt, message = ikm).
static void
s_hkdf_extract (const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                uint8_t prk[32])
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init (&state, salt, salt_len);
    crypto_auth_hmacsha256_update (&state, ikm, ikm_len);
    crypto_auth_hmacsha256_final (&state, prk);
    sodium_memzero (&state, sizeof state);
}

//  OKM = first OUT_LEN bytes of T1 || T2 || ..., Ti = HMAC(PRK, T(i-1) || info || i).
//  OUT_LEN <= 255 * 32.
static void
s_hkdf_expand (const uint8_t prk[32], const uint8_t *info, size_t info_len,
               uint8_t *out, size_t out_len)
{
    uint8_t block [32];
    size_t done = 0;
    for (uint8_t counter = 1; done < out_len; counter++) {
        crypto_auth_hmacsha256_state state;
        crypto_auth_hmacsha256_init (&state, prk, 32);
        if (counter > 1)
            crypto_auth_hmacsha256_update (&state, block, sizeof block);
        crypto_auth_hmacsha256_update (&state, info, info_len);
        crypto_auth_hmacsha256_update (&state, &counter, 1);
        crypto_auth_hmacsha256_final (&state, block);
        sodium_memzero (&state, sizeof state);
        size_t take = out_len - done < sizeof block ? out_len - done : sizeof block;
        memcpy (out + done, block, take);
        done += take;
    }
    sodium_memzero (block, sizeof block);
}

//  --- Keys ----------------------------------------------------------------------------------

void
nip44_conversation_key_from_shared (const uint8_t shared_x[32], uint8_t conv[32])
{
    static const uint8_t salt [] = "nip44-v2";
    s_hkdf_extract (salt, sizeof salt - 1, shared_x, 32, conv);
}

int
nip44_conversation_key (const uint8_t seckey[32], const uint8_t pubkey[32], uint8_t conv[32])
{
    uint8_t shared_x [32];
    if (nostr_keys_ecdh_raw (seckey, pubkey, shared_x))
        return NIP44_ERR_KEY;
    nip44_conversation_key_from_shared (shared_x, conv);
    sodium_memzero (shared_x, sizeof shared_x);
    return 0;
}

void
nip44_message_keys (const uint8_t conv[32], const uint8_t nonce[32], uint8_t chacha_key[32],
                    uint8_t chacha_nonce[12], uint8_t hmac_key[32])
{
    uint8_t keys [76];
    s_hkdf_expand (conv, nonce, s_NONCE_LEN, keys, sizeof keys);
    memcpy (chacha_key, keys, 32);
    memcpy (chacha_nonce, keys + 32, 12);
    memcpy (hmac_key, keys + 44, 32);
    sodium_memzero (keys, sizeof keys);
}

//  --- Padding -------------------------------------------------------------------------------

uint64_t
nip44_calc_padded_len (uint64_t len)
{
    if (len <= 32)
        return 32;
    uint64_t log2 = 63 - (uint64_t) __builtin_clzll (len - 1);   //  floor(log2(len - 1))
    uint64_t next_power = (uint64_t) 1 << (log2 + 1);
    uint64_t chunk = next_power <= 256 ? 32 : next_power / 8;
    return chunk * ((len - 1) / chunk + 1);
}

//  Length prefix: u16 for 1..65535, 00 00 + u32 for 65536..2^32-1.
static size_t
s_prefix_len (uint64_t len)
{
    return len < 65536 ? 2 : 6;
}

static size_t
s_max_plaintext (size_t given)
{
    if (given == 0)
        return NIP44_DEFAULT_MAX_PLAINTEXT;
    return given > NIP44_LARGEST_PLAINTEXT ? NIP44_LARGEST_PLAINTEXT : given;
}

//  Largest raw (decoded) payload for a plaintext limit.
static uint64_t
s_max_raw (size_t max_plaintext)
{
    return s_OVERHEAD + s_prefix_len (max_plaintext) + nip44_calc_padded_len (max_plaintext);
}

//  MAC = HMAC-SHA256(hmac_key, nonce || ciphertext).
static void
s_mac (const uint8_t hmac_key[32], const uint8_t *nonce, const uint8_t *ciphertext,
       size_t len, uint8_t mac[32])
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init (&state, hmac_key, 32);
    crypto_auth_hmacsha256_update (&state, nonce, s_NONCE_LEN);
    crypto_auth_hmacsha256_update (&state, ciphertext, len);
    crypto_auth_hmacsha256_final (&state, mac);
    sodium_memzero (&state, sizeof state);
}

//  --- Encrypt / decrypt --------------------------------------------------------------------

char *
nip44_encrypt (const uint8_t conv[32], const uint8_t *plaintext, size_t len,
               const uint8_t nonce[32], size_t max_plaintext, size_t *payload_len,
               int *error)
{
    int rc = 0;
    if (len == 0 || len > s_max_plaintext (max_plaintext)) {
        if (error)
            *error = NIP44_ERR_PLAINTEXT;
        return NULL;
    }
    size_t prefix = s_prefix_len (len);
    size_t padded = prefix + (size_t) nip44_calc_padded_len (len);
    size_t raw_len = s_OVERHEAD + padded;
    size_t b64_size = sodium_base64_encoded_len (raw_len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t *raw = (uint8_t *) malloc (raw_len);
    char *payload = (char *) malloc (b64_size);
    if (!raw || !payload) {
        rc = NIP44_ERR_NOMEM;
        free (payload);
        payload = NULL;
    }
    if (rc == 0) {
        raw [0] = s_VERSION;
        if (nonce)
            memcpy (raw + 1, nonce, s_NONCE_LEN);
        else
            randombytes_buf (raw + 1, s_NONCE_LEN);
        uint8_t *body = raw + 1 + s_NONCE_LEN;
        if (prefix == 2) {
            body [0] = (uint8_t) (len >> 8);
            body [1] = (uint8_t) len;
        }
        else {
            body [0] = body [1] = 0;
            for (int i = 0; i < 4; i++)
                body [2 + i] = (uint8_t) (len >> (24 - 8 * i));
        }
        memcpy (body + prefix, plaintext, len);
        memset (body + prefix + len, 0, padded - prefix - len);

        uint8_t chacha_key [32], chacha_nonce [12], hmac_key [32];
        nip44_message_keys (conv, raw + 1, chacha_key, chacha_nonce, hmac_key);
        crypto_stream_chacha20_ietf_xor (body, body, padded, chacha_nonce, chacha_key);
        s_mac (hmac_key, raw + 1, body, padded, body + padded);
        sodium_memzero (chacha_key, sizeof chacha_key);
        sodium_memzero (hmac_key, sizeof hmac_key);

        sodium_bin2base64 (payload, b64_size, raw, raw_len, sodium_base64_VARIANT_ORIGINAL);
        if (payload_len)
            *payload_len = b64_size - 1;
    }
    free (raw);
    if (error)
        *error = rc;
    return payload;
}

uint8_t *
nip44_decrypt (const uint8_t conv[32], const char *payload, size_t payload_len,
               size_t max_plaintext, size_t *plaintext_len, int *error)
{
    size_t max_plain = s_max_plaintext (max_plaintext);
    uint64_t max_raw = s_max_raw (max_plain);
    uint64_t max_b64 = (max_raw + 2) / 3 * 4;
    int rc = 0;
    uint8_t *raw = NULL, *plaintext = NULL;
    size_t raw_len = 0;

    //  1. Version marker, before any base64: '#' is reserved for future non-base64 formats.
    if (payload_len == 0 || payload [0] == '#')
        rc = NIP44_ERR_VERSION;
    //  2. Bound the base64 text, decode it, bound the result, check the version byte.
    else
    if (payload_len < s_MIN_PAYLOAD || payload_len > max_b64)
        rc = NIP44_ERR_LENGTH;
    else
    if (!(raw = (uint8_t *) malloc (payload_len / 4 * 3 + 3)))
        rc = NIP44_ERR_NOMEM;
    else
    if (sodium_base642bin (raw, payload_len / 4 * 3 + 3, payload, payload_len, NULL,
                           &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        rc = NIP44_ERR_BASE64;
    else
    if (raw_len < s_MIN_RAW || raw_len > max_raw)
        rc = NIP44_ERR_LENGTH;
    else
    if (raw [0] != s_VERSION)
        rc = NIP44_ERR_VERSION;

    //  3-4. Split, derive the keys, check the MAC in constant time, then decrypt.
    uint8_t chacha_key [32], chacha_nonce [12], hmac_key [32];
    uint8_t *nonce = NULL, *body = NULL;
    size_t body_len = 0;
    if (rc == 0) {
        nonce = raw + 1;
        body = raw + 1 + s_NONCE_LEN;
        body_len = raw_len - s_OVERHEAD;
        uint8_t mac [32];
        nip44_message_keys (conv, nonce, chacha_key, chacha_nonce, hmac_key);
        s_mac (hmac_key, nonce, body, body_len, mac);
        if (sodium_memcmp (mac, body + body_len, s_MAC_LEN) != 0)
            rc = NIP44_ERR_MAC;
        else
            crypto_stream_chacha20_ietf_xor (body, body, body_len, chacha_nonce, chacha_key);
        sodium_memzero (chacha_key, sizeof chacha_key);
        sodium_memzero (hmac_key, sizeof hmac_key);
    }
    //  5. Unpad: the prefix, then exactly calc_padded_len of padding.
    size_t len = 0, prefix = 2;
    if (rc == 0) {
        len = (size_t) body [0] << 8 | body [1];
        if (len == 0) {
            prefix = 6;
            len = (size_t) body [2] << 24 | (size_t) body [3] << 16
                | (size_t) body [4] << 8 | body [5];
            if (len < 65536)
                rc = NIP44_ERR_PADDING;
        }
        if (rc == 0 && body_len != prefix + nip44_calc_padded_len (len))
            rc = NIP44_ERR_PADDING;
        if (rc == 0 && len > max_plain)
            rc = NIP44_ERR_LENGTH;
    }
    if (rc == 0) {
        plaintext = (uint8_t *) malloc (len + 1);
        if (!plaintext)
            rc = NIP44_ERR_NOMEM;
        else {
            memcpy (plaintext, body + prefix, len);
            plaintext [len] = 0;
            if (plaintext_len)
                *plaintext_len = len;
        }
    }
    if (raw) {
        sodium_memzero (raw, raw_len);
        free (raw);
    }
    if (error)
        *error = rc;
    return plaintext;
}

const char *
nip44_strerror (int error)
{
    switch (error) {
        case NIP44_OK:            return "ok";
        case NIP44_ERR_VERSION:   return "unknown encryption version";
        case NIP44_ERR_BASE64:    return "invalid base64";
        case NIP44_ERR_LENGTH:    return "invalid payload length";
        case NIP44_ERR_MAC:       return "invalid MAC";
        case NIP44_ERR_PADDING:   return "invalid padding";
        case NIP44_ERR_KEY:       return "invalid key";
        case NIP44_ERR_PLAINTEXT: return "invalid plaintext length";
        case NIP44_ERR_NOMEM:     return "out of memory";
        default:                  return "unknown error";
    }
}
