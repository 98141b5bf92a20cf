/*  bip32.c: BIP-32 private derivation and NIP-06, see bip32.h.

    The elliptic-curve work is libsecp256k1's: the child secret is the parent's plus IL
    (secp256k1_ec_seckey_tweak_add, which also rejects IL >= n and a zero result), public
    keys come from secp256k1_ec_pubkey_create. HMAC-SHA512 is libsodium's.

    One secp256k1 context serves the whole process: created and randomised (side-channel
    blinding) on first use, then only read, which libsecp256k1 allows from any thread.
*/
#include "bip32.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <sodium.h>
#include <string.h>

static secp256k1_context *s_ctx;            //  Shared signing context, see above
static pthread_once_t s_ctx_once = PTHREAD_ONCE_INIT;

static void
s_ctx_create (void)
{
    s_ctx = secp256k1_context_create (SECP256K1_CONTEXT_NONE);
    if (s_ctx && sodium_init () >= 0) {
        uint8_t blinding [32];
        randombytes_buf (blinding, sizeof blinding);
        if (!secp256k1_context_randomize (s_ctx, blinding)) {
            secp256k1_context_destroy (s_ctx);
            s_ctx = NULL;
        }
        sodium_memzero (blinding, sizeof blinding);
    }
}

static const secp256k1_context *
s_context (void)
{
    pthread_once (&s_ctx_once, s_ctx_create);
    return s_ctx;
}

const char *
bip32_strerror (int rc)
{
    switch (rc) {
        case BIP32_OK:              return "ok";
        case BIP32_ERR_SEED:        return "BIP-32 seed must be 16 to 64 bytes";
        case BIP32_ERR_PATH:        return "malformed derivation path (expected like m/44'/1237'/0'/0/0)";
        case BIP32_ERR_DEPTH:       return "derivation path deeper than 32 levels";
        case BIP32_ERR_INVALID_KEY: return "derivation produced an invalid key";
        case BIP32_ERR_INDEX:       return "account, branch or index must be below 2^31";
        case BIP32_ERR_NOMEM:       return "out of secure memory";
        default:                    return "unknown BIP-32 error";
    }
}

bip32_key_t *
bip32_key_new (void)
{
    if (sodium_init () < 0)
        return NULL;
    bip32_key_t *self = (bip32_key_t *) sodium_malloc (sizeof (bip32_key_t));
    if (self)
        sodium_memzero (self, sizeof *self);
    return self;
}

void
bip32_key_destroy (bip32_key_t **self_p)
{
    if (*self_p) {
        sodium_free (*self_p);              //  sodium_free wipes before unmapping
        *self_p = NULL;
    }
}

void
bip32_key_wipe (bip32_key_t *self)
{
    sodium_memzero (self, sizeof *self);
}

//  Split I = HMAC-SHA512(KEY, DATA) into IL (32 bytes) and IR (32 bytes).
static void
s_hmac (const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len,
        uint8_t il [32], uint8_t ir [32])
{
    uint8_t i [crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state state;
    crypto_auth_hmacsha512_init (&state, key, key_len);
    crypto_auth_hmacsha512_update (&state, data, data_len);
    crypto_auth_hmacsha512_final (&state, i);
    memcpy (il, i, 32);
    memcpy (ir, i + 32, 32);
    sodium_memzero (i, sizeof i);
    sodium_memzero (&state, sizeof state);
}

int
bip32_master (const uint8_t *seed, size_t seed_len, bip32_key_t *master)
{
    if (seed_len < BIP32_SEED_MIN || seed_len > BIP32_SEED_MAX)
        return BIP32_ERR_SEED;
    const secp256k1_context *ctx = s_context ();
    if (!ctx)
        return BIP32_ERR_NOMEM;
    bip32_key_wipe (master);
    s_hmac ((const uint8_t *) "Bitcoin seed", 12, seed, seed_len,
            master->secret_key, master->chain_code);
    if (!secp256k1_ec_seckey_verify (ctx, master->secret_key)) {
        bip32_key_wipe (master);
        return BIP32_ERR_INVALID_KEY;
    }
    return BIP32_OK;
}

int
bip32_public_key (const bip32_key_t *key, uint8_t out [33])
{
    const secp256k1_context *ctx = s_context ();
    if (!ctx)
        return BIP32_ERR_NOMEM;
    secp256k1_pubkey pubkey;
    size_t len = 33;
    if (!secp256k1_ec_pubkey_create (ctx, &pubkey, key->secret_key))
        return BIP32_ERR_INVALID_KEY;
    secp256k1_ec_pubkey_serialize (ctx, out, &len, &pubkey, SECP256K1_EC_COMPRESSED);
    return BIP32_OK;
}

int
bip32_xonly_public_key (const bip32_key_t *key, uint8_t out [32])
{
    const secp256k1_context *ctx = s_context ();
    if (!ctx)
        return BIP32_ERR_NOMEM;
    secp256k1_keypair keypair;
    secp256k1_xonly_pubkey xonly;
    int rc = BIP32_ERR_INVALID_KEY;
    if (secp256k1_keypair_create (ctx, &keypair, key->secret_key)
    &&  secp256k1_keypair_xonly_pub (ctx, &xonly, NULL, &keypair)
    &&  secp256k1_xonly_pubkey_serialize (ctx, out, &xonly))
        rc = BIP32_OK;
    sodium_memzero (&keypair, sizeof keypair);  //  holds the secret key
    return rc;
}

int
bip32_child (const bip32_key_t *parent, uint32_t index, bip32_key_t *child)
{
    const secp256k1_context *ctx = s_context ();
    if (!ctx)
        return BIP32_ERR_NOMEM;
    if (parent->depth == UINT8_MAX)
        return BIP32_ERR_DEPTH;

    //  data = 0x00 || ser256(k) || ser32(i)  (hardened)  or  serP(k*G) || ser32(i)  (normal)
    uint8_t data [37];
    int rc = BIP32_OK;
    if (index & BIP32_HARDENED) {
        data [0] = 0;
        memcpy (data + 1, parent->secret_key, 32);
    }
    else
        rc = bip32_public_key (parent, data);
    data [33] = (uint8_t) (index >> 24);
    data [34] = (uint8_t) (index >> 16);
    data [35] = (uint8_t) (index >> 8);
    data [36] = (uint8_t) index;

    uint8_t il [32], ir [32];
    uint8_t key [32];                       //  parent k, then k + IL mod n
    if (rc == BIP32_OK) {
        s_hmac (parent->chain_code, 32, data, sizeof data, il, ir);
        memcpy (key, parent->secret_key, 32);
        //  Fails when IL >= n or the sum is zero: the BIP-32 "invalid key" cases
        if (!secp256k1_ec_seckey_tweak_add (ctx, key, il))
            rc = BIP32_ERR_INVALID_KEY;
    }
    if (rc == BIP32_OK) {
        uint8_t depth = (uint8_t) (parent->depth + 1);
        memcpy (child->secret_key, key, 32);    //  child may be parent: parent read above
        memcpy (child->chain_code, ir, 32);
        child->child_number = index;
        child->depth = depth;
    }
    sodium_memzero (data, sizeof data);
    sodium_memzero (il, sizeof il);
    sodium_memzero (ir, sizeof ir);
    sodium_memzero (key, sizeof key);
    return rc;
}

int
bip32_path_parse (const char *path, uint32_t *indexes, size_t max, size_t *depth)
{
    size_t len = strnlen (path, BIP32_PATH_MAX + 1);
    if (len > BIP32_PATH_MAX || path [0] != 'm')
        return BIP32_ERR_PATH;
    size_t count = 0;
    const char *cursor = path + 1;
    while (*cursor) {
        if (*cursor++ != '/')
            return BIP32_ERR_PATH;
        if (*cursor < '0' || *cursor > '9')
            return BIP32_ERR_PATH;          //  empty component, sign, space, letter
        if (*cursor == '0' && cursor [1] >= '0' && cursor [1] <= '9')
            return BIP32_ERR_PATH;          //  leading zero
        uint64_t value = 0;
        while (*cursor >= '0' && *cursor <= '9') {
            value = value * 10 + (uint64_t) (*cursor++ - '0');
            if (value >= BIP32_HARDENED)
                return BIP32_ERR_PATH;      //  write 2^31 + i as i'
        }
        if (*cursor == '\'' || *cursor == 'h' || *cursor == 'H') {
            value |= BIP32_HARDENED;
            cursor++;
        }
        if (*cursor && *cursor != '/')
            return BIP32_ERR_PATH;
        if (count == BIP32_DEPTH_MAX || count == max)
            return BIP32_ERR_DEPTH;
        indexes [count++] = (uint32_t) value;
    }
    *depth = count;
    return BIP32_OK;
}

int
bip32_derive_indexes (const uint8_t *seed, size_t seed_len,
                      const uint32_t *indexes, size_t depth, bip32_key_t *out)
{
    if (depth > BIP32_DEPTH_MAX)
        return BIP32_ERR_DEPTH;
    int rc = bip32_master (seed, seed_len, out);
    for (size_t level = 0; level < depth && rc == BIP32_OK; level++)
        rc = bip32_child (out, indexes [level], out);
    if (rc != BIP32_OK)
        bip32_key_wipe (out);
    return rc;
}

int
bip32_derive (const uint8_t *seed, size_t seed_len, const char *path, bip32_key_t *out)
{
    uint32_t indexes [BIP32_DEPTH_MAX];
    size_t depth;
    int rc = bip32_path_parse (path, indexes, BIP32_DEPTH_MAX, &depth);
    if (rc == BIP32_OK)
        rc = bip32_derive_indexes (seed, seed_len, indexes, depth, out);
    return rc;
}

int
bip32_account_key (const uint8_t *seed, size_t seed_len, uint32_t account,
                   uint32_t branch, uint32_t index, bip32_key_t *out)
{
    if ((account | branch | index) & BIP32_HARDENED)
        return BIP32_ERR_INDEX;
    uint32_t path [5] = {
        44 | BIP32_HARDENED, BIP32_NOSTR_COIN | BIP32_HARDENED, account | BIP32_HARDENED,
        branch, index
    };
    return bip32_derive_indexes (seed, seed_len, path, 5, out);
}

int
bip32_nip06 (const uint8_t *seed, size_t seed_len, uint32_t account,
             uint8_t secret_key [32], uint8_t public_key [32])
{
    bip32_key_t *key = bip32_key_new ();
    if (!key)
        return BIP32_ERR_NOMEM;
    int rc = bip32_account_key (seed, seed_len, account, BIP32_BRANCH_NOSTR, 0, key);
    if (rc == BIP32_OK)
        rc = bip32_xonly_public_key (key, public_key);
    if (rc == BIP32_OK)
        memcpy (secret_key, key->secret_key, 32);
    bip32_key_destroy (&key);
    return rc;
}
