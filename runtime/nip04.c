/*  nip04.c: NIP-04 AES-256-CBC. See nip04.h.

    libsodium has no AES-CBC, so the cipher comes from OpenSSL's libcrypto (constant-time
    AES-NI code on this hardware, no table lookups indexed by secret data). Base64 is
    libsodium's strict decoder: it refuses stray characters, missing padding and non-zero
    trailing bits. */
#include "nip04.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define s_BLOCK 16
static const char s_separator [] = "?iv=";

static size_t
s_limit (size_t given)
{
    return given ? given : NIP04_DEFAULT_MAX_PLAINTEXT;
}

//  Run AES-256-CBC over IN (LEN bytes) into OUT (room for LEN + 16). *OUT_LEN gets the
//  output length. Returns 0, NIP04_ERR_PADDING (decrypt only) or NIP04_ERR_CRYPTO.
static int
s_aes_cbc (bool encrypt, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in,
           size_t len, uint8_t *out, size_t *out_len)
{
    if (len > INT32_MAX - s_BLOCK)
        return NIP04_ERR_CRYPTO;        //  EVP takes int lengths; our limits are far lower
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
    if (!ctx)
        return NIP04_ERR_CRYPTO;
    int rc = 0, part = 0, last = 0;
    if (EVP_CipherInit_ex2 (ctx, EVP_aes_256_cbc (), key, iv, encrypt ? 1 : 0, NULL) != 1
    ||  EVP_CipherUpdate (ctx, out, &part, in, (int) len) != 1)
        rc = NIP04_ERR_CRYPTO;
    else
    if (EVP_CipherFinal_ex (ctx, out + part, &last) != 1)
        rc = encrypt ? NIP04_ERR_CRYPTO : NIP04_ERR_PADDING;
    EVP_CIPHER_CTX_free (ctx);          //  Also wipes the expanded key schedule
    *out_len = (size_t) part + (size_t) last;
    return rc;
}

char *
nip04_encrypt (const uint8_t shared_x[32], const uint8_t *plaintext, size_t len,
               const uint8_t iv[16], size_t max_plaintext, size_t *content_len, int *error)
{
    if (len > s_limit (max_plaintext)) {
        if (error)
            *error = NIP04_ERR_PLAINTEXT;
        return NULL;
    }
    uint8_t fresh_iv [s_BLOCK];
    if (!iv) {
        randombytes_buf (fresh_iv, sizeof fresh_iv);
        iv = fresh_iv;
    }
    int rc = 0;
    char *content = NULL;
    size_t ct_len = 0;
    uint8_t *ct = (uint8_t *) malloc (len + s_BLOCK);
    if (!ct)
        rc = NIP04_ERR_NOMEM;
    else
        rc = s_aes_cbc (true, shared_x, iv, plaintext, len, ct, &ct_len);
    if (rc == 0) {
        size_t ct_b64 = sodium_base64_encoded_len (ct_len, sodium_base64_VARIANT_ORIGINAL);
        size_t iv_b64 = sodium_base64_encoded_len (s_BLOCK, sodium_base64_VARIANT_ORIGINAL);
        //  Both sizes count a NUL: one becomes room for the final NUL.
        size_t size = ct_b64 - 1 + sizeof s_separator - 1 + iv_b64;
        content = (char *) malloc (size);
        if (!content)
            rc = NIP04_ERR_NOMEM;
        else {
            sodium_bin2base64 (content, ct_b64, ct, ct_len, sodium_base64_VARIANT_ORIGINAL);
            memcpy (content + ct_b64 - 1, s_separator, sizeof s_separator - 1);
            sodium_bin2base64 (content + ct_b64 - 1 + sizeof s_separator - 1, iv_b64,
                               iv, s_BLOCK, sodium_base64_VARIANT_ORIGINAL);
            if (content_len)
                *content_len = size - 1;
        }
    }
    free (ct);
    if (error)
        *error = rc;
    return content;
}

uint8_t *
nip04_decrypt (const uint8_t shared_x[32], const char *content, size_t len,
               size_t max_plaintext, size_t *plaintext_len, int *error)
{
    size_t limit = s_limit (max_plaintext);
    //  The base64 of limit + 16 bytes of ciphertext, the separator and the IV.
    size_t max_len = (limit + s_BLOCK + 2) / 3 * 4 + sizeof s_separator - 1 + 24;
    int rc = 0;
    uint8_t *ct = NULL, *plaintext = NULL;
    const char *sep = NULL;
    size_t ct_chars = 0, ct_len = 0, iv_len = 0, plain_len = 0;
    uint8_t iv [s_BLOCK + 2];           //  Room to notice an IV that decodes too long

    if (len > max_len)
        rc = NIP04_ERR_LENGTH;
    else
    if (!(sep = memmem (content, len, s_separator, sizeof s_separator - 1)))
        rc = NIP04_ERR_FORMAT;
    if (rc == 0) {
        ct_chars = (size_t) (sep - content);
        const char *iv_text = sep + sizeof s_separator - 1;
        size_t iv_chars = len - ct_chars - (sizeof s_separator - 1);
        if (sodium_base642bin (iv, sizeof iv, iv_text, iv_chars, NULL, &iv_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) != 0)
            rc = iv_chars > 24 ? NIP04_ERR_LENGTH : NIP04_ERR_BASE64;
        else
        if (iv_len != s_BLOCK)
            rc = NIP04_ERR_LENGTH;
    }
    if (rc == 0 && !(ct = (uint8_t *) malloc (ct_chars / 4 * 3 + 3)))
        rc = NIP04_ERR_NOMEM;
    if (rc == 0
    &&  sodium_base642bin (ct, ct_chars / 4 * 3 + 3, content, ct_chars, NULL, &ct_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0)
        rc = NIP04_ERR_BASE64;
    if (rc == 0 && (ct_len == 0 || ct_len % s_BLOCK != 0))
        rc = NIP04_ERR_LENGTH;
    if (rc == 0 && !(plaintext = (uint8_t *) malloc (ct_len + s_BLOCK + 1)))
        rc = NIP04_ERR_NOMEM;
    if (rc == 0)
        rc = s_aes_cbc (false, shared_x, iv, ct, ct_len, plaintext, &plain_len);
    if (rc == 0 && plain_len > limit)
        rc = NIP04_ERR_LENGTH;
    if (rc == 0) {
        plaintext [plain_len] = 0;
        if (plaintext_len)
            *plaintext_len = plain_len;
    }
    else
    if (plaintext) {
        sodium_memzero (plaintext, ct_len + s_BLOCK + 1);
        free (plaintext);
        plaintext = NULL;
    }
    free (ct);
    if (error)
        *error = rc;
    return plaintext;
}

const char *
nip04_strerror (int error)
{
    switch (error) {
        case NIP04_OK:            return "ok";
        case NIP04_ERR_FORMAT:    return "not <ciphertext>?iv=<iv>";
        case NIP04_ERR_BASE64:    return "invalid base64";
        case NIP04_ERR_LENGTH:    return "invalid length";
        case NIP04_ERR_PADDING:   return "invalid padding";
        case NIP04_ERR_PLAINTEXT: return "plaintext too long";
        case NIP04_ERR_NOMEM:     return "out of memory";
        case NIP04_ERR_CRYPTO:    return "cipher failure";
        default:                  return "unknown error";
    }
}
