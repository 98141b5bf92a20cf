/*  bip32.h: BIP-32 hierarchical key derivation (private keys only) and NIP-06.

    From the 64-byte BIP-39 seed (bip39.h) the node derives every key it owns, each on its own
    path below the Nostr coin type 1237 (SLIP-44):

        m/44'/1237'/<account>'/0/0   the Nostr identity key (NIP-06): signs events, NIP-44
        m/44'/1237'/<account>'/1/0   the demo Lightning wallet's node key
        m/44'/1237'/<account>'/<branch>/<index>   any further key, by bip32_account_key()

    A key is never reused for two purposes: each purpose gets its own branch (BIP32_BRANCH_*).
    Only private derivation (CKDpriv) is implemented; no extended-key (xprv/xpub) strings.

    bip32_key_t holds a secret key and chain code: allocate it with bip32_key_new() (guarded
    sodium_malloc memory, wiped on destroy) or wipe a stack copy with bip32_key_wipe().
    Errors are negative BIP32_ERR_* codes; bip32_strerror() names them.
*/
#ifndef PYLON_BIP32_H
#define PYLON_BIP32_H

#include <stddef.h>
#include <stdint.h>

#define BIP32_HARDENED     0x80000000u  //  Index flag of a hardened child (written i' or ih)
#define BIP32_DEPTH_MAX    32           //  Deepest path accepted (hard limit on outside input)
#define BIP32_PATH_MAX     512          //  Longest path string accepted, bytes
#define BIP32_SEED_MIN     16           //  Seed length bounds of BIP-32, bytes
#define BIP32_SEED_MAX     64
#define BIP32_NOSTR_COIN   1237         //  SLIP-44 coin type of Nostr (NIP-06)

#define BIP32_BRANCH_NOSTR            0 //  m/44'/1237'/<account>'/0/<index>: Nostr keys (NIP-06: index 0)
#define BIP32_BRANCH_LIGHTNING_NODE   1 //  m/44'/1237'/<account>'/1/<index>: Lightning node key (index 0)

#define BIP32_OK               0
#define BIP32_ERR_SEED        -1        //  Seed not 16..64 bytes
#define BIP32_ERR_PATH        -2        //  Path string malformed
#define BIP32_ERR_DEPTH       -3        //  Path deeper than BIP32_DEPTH_MAX
#define BIP32_ERR_INVALID_KEY -4        //  Derivation hit an invalid key (probability ~2^-127)
#define BIP32_ERR_INDEX       -5        //  Account, branch or index out of range (>= 2^31)
#define BIP32_ERR_NOMEM       -6        //  Secure memory allocation failed

//  One node of the tree. The first two fields are secret.
typedef struct {
    uint8_t secret_key [32];    //  k, big-endian scalar in 1..n-1
    uint8_t chain_code [32];    //  c, the extra entropy mixed into each child
    uint32_t child_number;      //  Index this key was derived with (0 for the master)
    uint8_t depth;              //  0 for the master, +1 per derivation step
} bip32_key_t;

//  Text for a BIP32_* code (never NULL).
const char *
    bip32_strerror (int rc);

//  New zeroed key in guarded, locked memory (sodium_malloc), or NULL.
bip32_key_t *
    bip32_key_new (void);

//  Wipe and free a key from bip32_key_new, and set the pointer to NULL.
void
    bip32_key_destroy (bip32_key_t **self_p);

//  Wipe a key held elsewhere (stack, struct member).
void
    bip32_key_wipe (bip32_key_t *self);

//  Master key from SEED: HMAC-SHA512("Bitcoin seed", seed).
int
    bip32_master (const uint8_t *seed, size_t seed_len, bip32_key_t *master);

//  Child INDEX (>= BIP32_HARDENED for hardened) of PARENT into CHILD (may be PARENT).
int
    bip32_child (const bip32_key_t *parent, uint32_t index, bip32_key_t *child);

//  Parse "m/44'/1237'/0'/0/0" into INDEXES (room for MAX), depth in *DEPTH. Hardened marks:
//  ' h H. Indexes are decimal < 2^31 without sign or leading zeros; "m" alone is depth 0.
int
    bip32_path_parse (const char *path, uint32_t *indexes, size_t max, size_t *depth);

//  Key at PATH (a string as above) below the master of SEED.
int
    bip32_derive (const uint8_t *seed, size_t seed_len, const char *path, bip32_key_t *out);

//  Key at the parsed path INDEXES[0..DEPTH) below the master of SEED.
int
    bip32_derive_indexes (const uint8_t *seed, size_t seed_len,
                          const uint32_t *indexes, size_t depth, bip32_key_t *out);

//  Compressed SEC1 public key (33 bytes, 02/03 prefix) of KEY.
int
    bip32_public_key (const bip32_key_t *key, uint8_t out [33]);

//  BIP-340 x-only public key (32 bytes) of KEY, the form Nostr uses.
int
    bip32_xonly_public_key (const bip32_key_t *key, uint8_t out [32]);

//  Key at m/44'/1237'/<ACCOUNT>'/<BRANCH>/<INDEX> of SEED (all three < 2^31).
int
    bip32_account_key (const uint8_t *seed, size_t seed_len, uint32_t account,
                       uint32_t branch, uint32_t index, bip32_key_t *out);

//  NIP-06: the Nostr secret key and x-only public key at m/44'/1237'/<ACCOUNT>'/0/0.
int
    bip32_nip06 (const uint8_t *seed, size_t seed_len, uint32_t account,
                 uint8_t secret_key [32], uint8_t public_key [32]);

#endif
