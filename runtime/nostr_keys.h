/*  nostr_keys.h: secp256k1 for Nostr. One process-wide libsecp256k1 context (created and
    randomized once, read-only afterwards so every thread may use it), a keypair object for
    our own identity (BIP-340 signing, x-only public key, ECDH), and BIP-340 verification
    through a small bounded cache of parsed x-only public keys, so that a repeat author's key
    is not lifted onto the curve again for every event.

    Keys are 32-byte secret keys and 32-byte x-only public keys (NIP-01 "pubkey"), raw bytes.
    The secret key lives in sodium_malloc'd memory and is wiped on destroy; it is never
    returned to callers and never logged.

    Thread safety: every function may be called from any thread. The key cache is guarded by
    a mutex held only for a lookup or an insert, never during curve arithmetic. */
#ifndef PYLON_NOSTR_KEYS_H
#define PYLON_NOSTR_KEYS_H
#include <secp256k1.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _nostr_keys_t nostr_keys_t;

//  Number of entries in the x-only public key cache (a power of two).
#define NOSTR_KEYS_CACHE_SIZE 1024

//  The process-wide context: created, randomized and self-tested on first use. Also makes
//  sure libsodium is initialised. Never NULL (aborts at start-up if the library is broken).
const secp256k1_context *
    nostr_keys_context (void);

//  A keypair from a 32-byte secret key. NULL if the key is 0 or >= the curve order.
nostr_keys_t *
    nostr_keys_new (const uint8_t seckey[32]);

//  A fresh random keypair. NULL only if memory runs out.
nostr_keys_t *
    nostr_keys_generate (void);

//  Wipe and free the keypair, and null the pointer. Safe on NULL.
void
    nostr_keys_destroy (nostr_keys_t **self_p);

//  Our x-only public key: 32 bytes, borrowed for the life of the object.
const uint8_t *
    nostr_keys_pubkey (const nostr_keys_t *self);

//  BIP-340 signature of MSG (any length; Nostr signs the 32-byte event id). AUX is the
//  32-byte auxiliary randomness; NULL draws fresh random bytes (the normal case). Returns 0,
//  or -1 if libsecp256k1 refuses (it does not for a valid keypair).
int
    nostr_keys_sign (const nostr_keys_t *self, const uint8_t *msg, size_t msg_len,
                     const uint8_t aux[32], uint8_t sig[64]);

//  The unhashed x coordinate of seckey * lift_x(PUBKEY), the shared secret of NIP-04 and
//  the input of the NIP-44 conversation key. -1 if PUBKEY is not the x of a curve point.
int
    nostr_keys_ecdh (const nostr_keys_t *self, const uint8_t pubkey[32],
                     uint8_t shared_x[32]);

//  The same from a raw secret key (test vectors, one-off use). -1 if the secret key is 0 or
//  >= n, or PUBKEY is not on the curve.
int
    nostr_keys_ecdh_raw (const uint8_t seckey[32], const uint8_t pubkey[32],
                         uint8_t shared_x[32]);

//  The x-only public key of a raw secret key. -1 if the secret key is 0 or >= n.
int
    nostr_keys_pubkey_from_seckey (const uint8_t seckey[32], uint8_t pubkey[32]);

//  BIP-340 verification of SIG over MSG by PUBKEY, through the parsed-key cache. Returns 0
//  when valid, -1 when the signature is wrong or PUBKEY is not the x of a curve point.
int
    nostr_keys_verify (const uint8_t pubkey[32], const uint8_t *msg, size_t msg_len,
                       const uint8_t sig[64]);

//  Cache statistics since start (or the last clear), and a clear (benchmarks, tests).
void
    nostr_keys_cache_stats (uint64_t *hits, uint64_t *misses);
void
    nostr_keys_cache_clear (void);

#endif
