/*  nostr_keys.c: the process-wide secp256k1 context, our keypair, ECDH for NIP-04/NIP-44,
    and BIP-340 verification through a bounded cache of parsed x-only public keys.

    Why a cache: secp256k1_xonly_pubkey_parse lifts x onto the curve (a square root mod p),
    about 15% of a verification. Job requests, feedback and wallet replies come from a small
    set of repeat authors, so remembering the parsed key pays. The cache is direct-mapped:
    slot = SipHash(random key, pubkey) mod NOSTR_KEYS_CACHE_SIZE, one entry per slot, a
    colliding key simply replaces the old one. The random SipHash key stops an author from
    grinding public keys that evict someone else's slot. */
#include "nostr_keys.h"

#include <pthread.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _nostr_keys_t {
    uint8_t seckey[32];             //  Secret key (sodium_malloc'd memory, wiped on destroy)
    secp256k1_keypair keypair;      //  libsecp256k1's expanded keypair, used for signing
    uint8_t pubkey[32];             //  Our x-only public key, serialized
};

//  One slot of the parsed public key cache.
typedef struct {
    uint8_t x[32];                  //  The serialized x-only key this slot holds
    secp256k1_xonly_pubkey parsed;  //  libsecp256k1's parsed form of x
    bool used;                      //  False until the slot is first filled
} s_cache_slot_t;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static secp256k1_context *s_ctx;        //  Randomized once, then only read
static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static s_cache_slot_t s_cache [NOSTR_KEYS_CACHE_SIZE];
static uint8_t s_cache_hashkey [crypto_shorthash_KEYBYTES];  //  SipHash key: random per process
static uint64_t s_cache_hits;           //  Verifications that found their key parsed
static uint64_t s_cache_misses;         //  Verifications that had to parse the key

static void
s_init (void)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "nostr_keys: libsodium failed to initialise\n");
        abort ();
    }
    secp256k1_selftest ();
    s_ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
    uint8_t seed [32];
    randombytes_buf (seed, sizeof seed);
    if (!s_ctx || !secp256k1_context_randomize (s_ctx, seed)) {
        fprintf (stderr, "nostr_keys: cannot create the secp256k1 context\n");
        abort ();
    }
    sodium_memzero (seed, sizeof seed);
    randombytes_buf (s_cache_hashkey, sizeof s_cache_hashkey);
}

const secp256k1_context *
nostr_keys_context (void)
{
    pthread_once (&s_once, s_init);
    return s_ctx;
}

nostr_keys_t *
nostr_keys_new (const uint8_t seckey[32])
{
    const secp256k1_context *ctx = nostr_keys_context ();
    nostr_keys_t *self = (nostr_keys_t *) sodium_malloc (sizeof (nostr_keys_t));
    if (!self)
        return NULL;
    memcpy (self->seckey, seckey, 32);
    secp256k1_xonly_pubkey xonly;
    if (!secp256k1_keypair_create (ctx, &self->keypair, self->seckey)
    ||  !secp256k1_keypair_xonly_pub (ctx, &xonly, NULL, &self->keypair)
    ||  !secp256k1_xonly_pubkey_serialize (ctx, self->pubkey, &xonly)) {
        nostr_keys_destroy (&self);
        return NULL;
    }
    return self;
}

nostr_keys_t *
nostr_keys_generate (void)
{
    nostr_keys_context ();
    uint8_t seckey [32];
    nostr_keys_t *self = NULL;
    //  A random 32-byte string is >= n with probability ~2^-128: loop anyway.
    for (int attempt = 0; !self && attempt < 8; attempt++) {
        randombytes_buf (seckey, sizeof seckey);
        self = nostr_keys_new (seckey);
    }
    sodium_memzero (seckey, sizeof seckey);
    return self;
}

void
nostr_keys_destroy (nostr_keys_t **self_p)
{
    if (self_p && *self_p) {
        //  sodium_free wipes the whole allocation before releasing it.
        sodium_free (*self_p);
        *self_p = NULL;
    }
}

const uint8_t *
nostr_keys_pubkey (const nostr_keys_t *self)
{
    return self->pubkey;
}

//  Fresh BIP-340 aux randomness, drawn from a per-thread pool refilled 1 KiB at a time:
//  one getrandom call per 32 signatures instead of one per signature (a system call costs
//  a noticeable share of a signature on virtual machines). Aux bytes are not key material:
//  they only harden the nonce against side channels, the nonce stays safe without them.
static void
s_aux_random (uint8_t aux[32])
{
    static __thread uint8_t pool [1024];
    static __thread size_t used = sizeof pool;
    if (used == sizeof pool) {
        randombytes_buf (pool, sizeof pool);
        used = 0;
    }
    memcpy (aux, pool + used, 32);
    sodium_memzero (pool + used, 32);       //  Each byte is handed out once
    used += 32;
}

int
nostr_keys_sign (const nostr_keys_t *self, const uint8_t *msg, size_t msg_len,
                 const uint8_t aux[32], uint8_t sig[64])
{
    uint8_t fresh [32];
    if (!aux) {
        s_aux_random (fresh);
        aux = fresh;
    }
    int ok;
    if (msg_len == 32)
        ok = secp256k1_schnorrsig_sign32 (nostr_keys_context (), sig, msg,
                                          &self->keypair, aux);
    else {
        //  BIP-340 allows messages of any length; libsecp256k1 takes them here.
        secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
        params.ndata = (void *) aux;
        ok = secp256k1_schnorrsig_sign_custom (nostr_keys_context (), sig, msg, msg_len,
                                               &self->keypair, &params);
    }
    return ok ? 0 : -1;
}

//  secp256k1_ecdh hashes the shared point by default; NIP-04 and NIP-44 want the bare x.
static int
s_copy_x (unsigned char *output, const unsigned char *x32, const unsigned char *y32,
          void *data)
{
    memcpy (output, x32, 32);
    return 1;
}

int
nostr_keys_ecdh_raw (const uint8_t seckey[32], const uint8_t pubkey[32],
                     uint8_t shared_x[32])
{
    const secp256k1_context *ctx = nostr_keys_context ();
    //  lift_x: the x-only key is the point with even y, i.e. compressed form 02 || x.
    uint8_t compressed [33];
    compressed [0] = 0x02;
    memcpy (compressed + 1, pubkey, 32);
    secp256k1_pubkey point;
    if (!secp256k1_ec_pubkey_parse (ctx, &point, compressed, sizeof compressed))
        return -1;
    if (!secp256k1_ecdh (ctx, shared_x, &point, seckey, s_copy_x, NULL))
        return -1;
    return 0;
}

int
nostr_keys_ecdh (const nostr_keys_t *self, const uint8_t pubkey[32], uint8_t shared_x[32])
{
    return nostr_keys_ecdh_raw (self->seckey, pubkey, shared_x);
}

int
nostr_keys_pubkey_from_seckey (const uint8_t seckey[32], uint8_t pubkey[32])
{
    nostr_keys_t *keys = nostr_keys_new (seckey);
    if (!keys)
        return -1;
    memcpy (pubkey, keys->pubkey, 32);
    nostr_keys_destroy (&keys);
    return 0;
}

//  Find or parse PUBKEY. Returns 0 with *parsed filled, -1 if it is not on the curve.
static int
s_parsed_pubkey (const uint8_t pubkey[32], secp256k1_xonly_pubkey *parsed)
{
    const secp256k1_context *ctx = nostr_keys_context ();
    uint8_t hash [crypto_shorthash_BYTES];
    crypto_shorthash (hash, pubkey, 32, s_cache_hashkey);
    uint64_t index;
    memcpy (&index, hash, sizeof index);
    s_cache_slot_t *slot = &s_cache [index & (NOSTR_KEYS_CACHE_SIZE - 1)];

    pthread_mutex_lock (&s_cache_lock);
    bool hit = slot->used && memcmp (slot->x, pubkey, 32) == 0;
    if (hit) {
        *parsed = slot->parsed;
        s_cache_hits++;
    }
    else
        s_cache_misses++;
    pthread_mutex_unlock (&s_cache_lock);
    if (hit)
        return 0;

    //  Parse outside the lock; keys that are not on the curve are not cached.
    if (!secp256k1_xonly_pubkey_parse (ctx, parsed, pubkey))
        return -1;
    pthread_mutex_lock (&s_cache_lock);
    memcpy (slot->x, pubkey, 32);
    slot->parsed = *parsed;
    slot->used = true;
    pthread_mutex_unlock (&s_cache_lock);
    return 0;
}

int
nostr_keys_verify (const uint8_t pubkey[32], const uint8_t *msg, size_t msg_len,
                   const uint8_t sig[64])
{
    secp256k1_xonly_pubkey parsed;
    if (s_parsed_pubkey (pubkey, &parsed))
        return -1;
    return secp256k1_schnorrsig_verify (nostr_keys_context (), sig, msg, msg_len, &parsed)
           ? 0 : -1;
}

void
nostr_keys_cache_stats (uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock (&s_cache_lock);
    if (hits)
        *hits = s_cache_hits;
    if (misses)
        *misses = s_cache_misses;
    pthread_mutex_unlock (&s_cache_lock);
}

void
nostr_keys_cache_clear (void)
{
    nostr_keys_context ();
    pthread_mutex_lock (&s_cache_lock);
    memset (s_cache, 0, sizeof s_cache);
    s_cache_hits = s_cache_misses = 0;
    pthread_mutex_unlock (&s_cache_lock);
}
