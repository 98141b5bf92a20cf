/*  nip44.h: NIP-44 version 2 encryption (direct messages, NIP-47 wallet requests, encrypted
    job parameters): secp256k1 ECDH, HKDF-SHA256, padding, ChaCha20, HMAC-SHA256, base64.

    A conversation key is computed once per peer (ECDH is the slow part) and reused:
        uint8_t conv [32];
        nip44_conversation_key (my_seckey, their_pubkey, conv);   // or _from_shared
        char *payload = nip44_encrypt (conv, text, len, NULL, 0, &payload_len, &err);
        uint8_t *plain = nip44_decrypt (conv, payload, payload_len, 0, &plain_len, &err);
    The conversation key is a secret: wipe it with sodium_memzero when done.

    Size limit: the current spec writes plaintexts above 65,535 bytes with a 6-byte length
    prefix (up to 2^32-1 bytes); older peers stop at 65,535. Every call takes MAX_PLAINTEXT,
    and 0 there means the interoperable default NIP44_DEFAULT_MAX_PLAINTEXT. Decryption
    refuses payloads longer than that limit allows before decoding anything. */
#ifndef PYLON_NIP44_H
#define PYLON_NIP44_H
#include <stddef.h>
#include <stdint.h>

#define NIP44_DEFAULT_MAX_PLAINTEXT 65535u
#define NIP44_LARGEST_PLAINTEXT     0xFFFFFFFFu     //  The 6-byte prefix holds a u32

//  Error codes (negative), in the order decryption checks them.
enum {
    NIP44_OK = 0,
    NIP44_ERR_VERSION = -1,     //  Empty payload, '#' prefix, or version byte other than 2
    NIP44_ERR_BASE64 = -2,      //  Not standard padded base64
    NIP44_ERR_LENGTH = -3,      //  Payload or decoded data too short or too long
    NIP44_ERR_MAC = -4,         //  Authentication failed (wrong key or tampered)
    NIP44_ERR_PADDING = -5,     //  Length prefix or padding inconsistent
    NIP44_ERR_KEY = -6,         //  Secret key 0 or >= n, or public key not on the curve
    NIP44_ERR_PLAINTEXT = -7,   //  Encrypt: plaintext empty or longer than the limit
    NIP44_ERR_NOMEM = -8        //  Out of memory
};

//  Conversation key = HKDF-extract(salt "nip44-v2", ECDH x of SECKEY and PUBKEY).
//  0 or NIP44_ERR_KEY. Symmetric: conv(a, B) == conv(b, A).
int
    nip44_conversation_key (const uint8_t seckey[32], const uint8_t pubkey[32],
                            uint8_t conv[32]);

//  The same from an ECDH x coordinate already computed (nostr_keys_ecdh).
void
    nip44_conversation_key_from_shared (const uint8_t shared_x[32], uint8_t conv[32]);

//  Per-message keys: HKDF-expand(conv, info = nonce, 76 bytes) split 32/12/32.
void
    nip44_message_keys (const uint8_t conv[32], const uint8_t nonce[32],
                        uint8_t chacha_key[32], uint8_t chacha_nonce[12],
                        uint8_t hmac_key[32]);

//  Padded length of a plaintext of LEN >= 1 bytes (without the length prefix).
uint64_t
    nip44_calc_padded_len (uint64_t len);

//  Encrypt LEN bytes. NONCE NULL draws 32 random bytes (always, outside tests). Returns a
//  fresh NUL-terminated base64 payload (*PAYLOAD_LEN its length, if not NULL), or NULL with
//  *ERROR set (NIP44_ERR_PLAINTEXT or NIP44_ERR_NOMEM).
char *
    nip44_encrypt (const uint8_t conv[32], const uint8_t *plaintext, size_t len,
                   const uint8_t nonce[32], size_t max_plaintext, size_t *payload_len,
                   int *error);

//  Decrypt a payload of PAYLOAD_LEN characters. Returns the fresh plaintext (followed by a
//  NUL not counted in *PLAINTEXT_LEN), or NULL with *ERROR set. The plaintext is returned as
//  bytes; callers that need text check its UTF-8 (json-c does when parsing it).
uint8_t *
    nip44_decrypt (const uint8_t conv[32], const char *payload, size_t payload_len,
                   size_t max_plaintext, size_t *plaintext_len, int *error);

//  Text for an error code.
const char *
    nip44_strerror (int error);

#endif
