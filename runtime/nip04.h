/*  nip04.h: NIP-04 legacy encryption, still needed for NIP-47 wallets that lack NIP-44 and
    for NIP-90 encrypted job parameters: AES-256-CBC with PKCS#7 padding, the key being the
    unhashed ECDH x coordinate (nostr_keys_ecdh), a random 16-byte IV, and the wire form
    base64(ciphertext) + "?iv=" + base64(iv).

    NIP-04 has no authentication: a tampered ciphertext decrypts to garbage or fails the
    padding check. Prefer NIP-44 wherever the peer supports it. */
#ifndef PYLON_NIP04_H
#define PYLON_NIP04_H
#include <stddef.h>
#include <stdint.h>

//  Default limit on plaintext bytes (both ways); 0 as MAX_PLAINTEXT means this.
#define NIP04_DEFAULT_MAX_PLAINTEXT (256 * 1024)

enum {
    NIP04_OK = 0,
    NIP04_ERR_FORMAT = -1,      //  Not "<base64>?iv=<base64>"
    NIP04_ERR_BASE64 = -2,      //  A part is not standard padded base64
    NIP04_ERR_LENGTH = -3,      //  IV not 16 bytes, ciphertext empty, not whole blocks, too long
    NIP04_ERR_PADDING = -4,     //  Bad PKCS#7 padding after decryption (wrong key or tampered)
    NIP04_ERR_PLAINTEXT = -5,   //  Encrypt: plaintext longer than the limit
    NIP04_ERR_NOMEM = -6,       //  Out of memory
    NIP04_ERR_CRYPTO = -7       //  The AES implementation failed
};

//  Encrypt LEN bytes with the shared x. IV NULL draws 16 random bytes (always, outside
//  tests). Returns fresh NUL-terminated "ct?iv=iv" (*CONTENT_LEN its length, if not NULL),
//  or NULL with *ERROR set.
char *
    nip04_encrypt (const uint8_t shared_x[32], const uint8_t *plaintext, size_t len,
                   const uint8_t iv[16], size_t max_plaintext, size_t *content_len,
                   int *error);

//  Decrypt CONTENT (LEN characters). Returns the fresh plaintext (followed by a NUL not
//  counted in *PLAINTEXT_LEN), or NULL with *ERROR set.
uint8_t *
    nip04_decrypt (const uint8_t shared_x[32], const char *content, size_t len,
                   size_t max_plaintext, size_t *plaintext_len, int *error);

//  Text for an error code.
const char *
    nip04_strerror (int error);

#endif
