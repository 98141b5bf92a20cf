/*  test_bip32.c: BIP-32 test vector 1 (every chain: chain code, private and public key,
    depth, child number, and the same from the official xprv strings), the master keys of the
    24 Trezor BIP-39 vectors (from their xprv), both NIP-06 vectors, path parsing with hostile
    input, and the separation of the Nostr and Lightning branches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>
#include <string.h>

#include "bip32.h"
#include "bip39.h"

static void
s_unhex (const char *hex, uint8_t *out, size_t size)
{
    size_t len = 0;
    assert_int_equal (sodium_hex2bin (out, size, hex, strlen (hex), NULL, &len, NULL), 0);
    assert_int_equal (len, size);
}

static const char *
s_get (json_object *object, const char *key)
{
    json_object *value;
    assert_true (json_object_object_get_ex (object, key, &value));
    return json_object_get_string (value);
}

/*  Base58Check decode of an 111-character xprv into its 78-byte payload: an independent
    reading of the official strings (the test's own code; the runtime has no base58). */
static void
s_xprv_decode (const char *xprv, uint8_t payload [78])
{
    static const char alphabet [] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t raw [82] = { 0 };                   //  payload || 4-byte checksum, big-endian
    for (const char *c = xprv; *c; c++) {
        const char *digit = strchr (alphabet, *c);
        assert_non_null (digit);
        unsigned carry = (unsigned) (digit - alphabet);
        for (int i = (int) sizeof raw - 1; i >= 0; i--) {
            carry += 58u * raw [i];
            raw [i] = (uint8_t) carry;
            carry >>= 8;
        }
        assert_int_equal (carry, 0);
    }
    uint8_t hash [32];
    crypto_hash_sha256 (hash, raw, 78);
    crypto_hash_sha256 (hash, hash, 32);
    assert_memory_equal (hash, raw + 78, 4);
    static const uint8_t xprv_version [4] = { 0x04, 0x88, 0xAD, 0xE4 };
    assert_memory_equal (raw, xprv_version, 4);
    memcpy (payload, raw, 78);
}

//  Compare KEY with the fields of an xprv payload: depth, child number, chain code, key.
static void
s_assert_matches_xprv (const bip32_key_t *key, const char *xprv)
{
    uint8_t payload [78];
    s_xprv_decode (xprv, payload);
    assert_int_equal (payload [4], key->depth);
    uint32_t child = (uint32_t) payload [9] << 24 | (uint32_t) payload [10] << 16
                   | (uint32_t) payload [11] << 8 | payload [12];
    assert_int_equal (child, key->child_number);
    assert_memory_equal (payload + 13, key->chain_code, 32);
    assert_int_equal (payload [45], 0);
    assert_memory_equal (payload + 46, key->secret_key, 32);
}

static void
test_vector_1 (void **state)
{
    json_object *root = json_object_from_file ("tests/vectors/bip32-test-vector-1.json");
    assert_non_null (root);
    uint8_t seed [16];
    s_unhex (s_get (root, "seed_hex"), seed, sizeof seed);
    json_object *chains;
    assert_true (json_object_object_get_ex (root, "chains", &chains));
    size_t count = json_object_array_length (chains);
    assert_int_equal (count, 6);

    bip32_key_t *key = bip32_key_new ();
    bip32_key_t *walked = bip32_key_new ();     //  the same chain, one bip32_child at a time
    assert_non_null (key);
    assert_non_null (walked);
    uint32_t indexes [BIP32_DEPTH_MAX];
    size_t depth = 0;
    for (size_t i = 0; i < count; i++) {
        json_object *chain = json_object_array_get_idx (chains, i);
        const char *path = s_get (chain, "path");
        assert_int_equal (bip32_derive (seed, sizeof seed, path, key), BIP32_OK);

        uint8_t expected [33], pub [33], xonly [32];
        s_unhex (s_get (chain, "chain_code_hex"), expected, 32);
        assert_memory_equal (key->chain_code, expected, 32);
        s_unhex (s_get (chain, "private_key_hex"), expected, 32);
        assert_memory_equal (key->secret_key, expected, 32);
        s_unhex (s_get (chain, "public_key_compressed_hex"), expected, 33);
        assert_int_equal (bip32_public_key (key, pub), BIP32_OK);
        assert_memory_equal (pub, expected, 33);
        assert_int_equal (bip32_xonly_public_key (key, xonly), BIP32_OK);
        assert_memory_equal (xonly, expected + 1, 32);

        json_object *value;
        assert_true (json_object_object_get_ex (chain, "depth", &value));
        assert_int_equal (key->depth, json_object_get_int (value));
        uint8_t child_be [4];
        s_unhex (s_get (chain, "child_number_hex"), child_be, 4);
        assert_int_equal (key->child_number, (uint32_t) child_be [0] << 24 | (uint32_t) child_be [1] << 16
                                           | (uint32_t) child_be [2] << 8 | child_be [3]);
        s_assert_matches_xprv (key, s_get (chain, "ext_prv"));

        //  Walking one level from the previous chain gives the same key
        size_t new_depth;
        assert_int_equal (bip32_path_parse (path, indexes, BIP32_DEPTH_MAX, &new_depth), BIP32_OK);
        if (i == 0)
            assert_int_equal (bip32_master (seed, sizeof seed, walked), BIP32_OK);
        else {
            assert_int_equal (new_depth, depth + 1);
            assert_int_equal (bip32_child (walked, indexes [new_depth - 1], walked), BIP32_OK);
        }
        depth = new_depth;
        assert_memory_equal (walked, key, sizeof *key);
    }
    bip32_key_destroy (&key);
    bip32_key_destroy (&walked);
    assert_null (key);
    json_object_put (root);
}

//  The 24 Trezor vectors carry each seed's master xprv: 24 more master keys.
static void
test_trezor_master_keys (void **state)
{
    json_object *root = json_object_from_file ("tests/vectors/bip39-trezor-vectors.json");
    assert_non_null (root);
    json_object *english;
    assert_true (json_object_object_get_ex (root, "english", &english));
    size_t count = json_object_array_length (english);
    assert_int_equal (count, 24);
    bip32_key_t key;
    for (size_t i = 0; i < count; i++) {
        json_object *row = json_object_array_get_idx (english, i);
        uint8_t seed [64];
        s_unhex (json_object_get_string (json_object_array_get_idx (row, 2)), seed, sizeof seed);
        assert_int_equal (bip32_master (seed, sizeof seed, &key), BIP32_OK);
        s_assert_matches_xprv (&key, json_object_get_string (json_object_array_get_idx (row, 3)));
    }
    bip32_key_wipe (&key);
    json_object_put (root);
}

static void
test_nip06_vectors (void **state)
{
    json_object *root = json_object_from_file ("tests/vectors/nip06-vectors.json");
    assert_non_null (root);
    assert_string_equal (s_get (root, "path"), "m/44'/1237'/0'/0/0");
    json_object *vectors;
    assert_true (json_object_object_get_ex (root, "vectors", &vectors));
    size_t count = json_object_array_length (vectors);
    assert_int_equal (count, 2);
    for (size_t i = 0; i < count; i++) {
        json_object *vector = json_object_array_get_idx (vectors, i);
        uint8_t seed [BIP39_SEED_SIZE], expected [32], secret [32], public [32];
        assert_int_equal (bip39_to_seed (s_get (vector, "mnemonic"), s_get (root, "bip39_passphrase"), seed),
                          BIP39_OK);
        uint8_t expected_seed [64];
        s_unhex (s_get (vector, "computed_intermediate_bip39_seed_hex"), expected_seed, 64);
        assert_memory_equal (seed, expected_seed, 64);

        assert_int_equal (bip32_nip06 (seed, sizeof seed, 0, secret, public), BIP32_OK);
        s_unhex (s_get (vector, "private_key_hex"), expected, 32);
        assert_memory_equal (secret, expected, 32);
        s_unhex (s_get (vector, "public_key_hex"), expected, 32);
        assert_memory_equal (public, expected, 32);

        //  The same through the path string and the account-key function
        bip32_key_t key;
        assert_int_equal (bip32_derive (seed, sizeof seed, "m/44'/1237'/0'/0/0", &key), BIP32_OK);
        assert_memory_equal (key.secret_key, secret, 32);
        assert_int_equal (bip32_derive (seed, sizeof seed, "m/44h/1237H/0'/0/0", &key), BIP32_OK);
        assert_memory_equal (key.secret_key, secret, 32);
        assert_int_equal (bip32_account_key (seed, sizeof seed, 0, BIP32_BRANCH_NOSTR, 0, &key), BIP32_OK);
        assert_memory_equal (key.secret_key, secret, 32);
        bip32_key_wipe (&key);
    }
    json_object_put (root);
}

//  Accounts and branches give distinct keys, each equal to its explicit path.
static void
test_accounts_and_branches (void **state)
{
    uint8_t seed [BIP39_SEED_SIZE];
    assert_int_equal (bip39_to_seed ("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
                                     NULL, seed), BIP39_OK);
    bip32_key_t nostr0, nostr1, lightning0, by_path;
    uint8_t secret [32], public [32], xonly [32];
    assert_int_equal (bip32_account_key (seed, sizeof seed, 0, BIP32_BRANCH_NOSTR, 0, &nostr0), BIP32_OK);
    assert_int_equal (bip32_account_key (seed, sizeof seed, 1, BIP32_BRANCH_NOSTR, 0, &nostr1), BIP32_OK);
    assert_int_equal (bip32_account_key (seed, sizeof seed, 0, BIP32_BRANCH_LIGHTNING_NODE, 0, &lightning0),
                      BIP32_OK);
    assert_memory_not_equal (nostr0.secret_key, nostr1.secret_key, 32);
    assert_memory_not_equal (nostr0.secret_key, lightning0.secret_key, 32);

    assert_int_equal (bip32_derive (seed, sizeof seed, "m/44'/1237'/1'/0/0", &by_path), BIP32_OK);
    assert_memory_equal (&by_path, &nostr1, sizeof by_path);
    assert_int_equal (bip32_nip06 (seed, sizeof seed, 1, secret, public), BIP32_OK);
    assert_memory_equal (secret, nostr1.secret_key, 32);
    assert_int_equal (bip32_xonly_public_key (&nostr1, xonly), BIP32_OK);
    assert_memory_equal (public, xonly, 32);

    assert_int_equal (bip32_derive (seed, sizeof seed, "m/44'/1237'/0'/1/0", &by_path), BIP32_OK);
    assert_memory_equal (&by_path, &lightning0, sizeof by_path);
    assert_int_equal (by_path.depth, 5);
    assert_int_equal (by_path.child_number, 0);

    assert_int_equal (bip32_account_key (seed, sizeof seed, BIP32_HARDENED, 0, 0, &by_path), BIP32_ERR_INDEX);
    assert_int_equal (bip32_account_key (seed, sizeof seed, 0, BIP32_HARDENED | 1, 0, &by_path), BIP32_ERR_INDEX);
    assert_int_equal (bip32_nip06 (seed, sizeof seed, 0x80000000u, secret, public), BIP32_ERR_INDEX);
    bip32_key_wipe (&nostr0);
    bip32_key_wipe (&nostr1);
    bip32_key_wipe (&lightning0);
    bip32_key_wipe (&by_path);
}

static void
test_path_parse (void **state)
{
    uint32_t indexes [BIP32_DEPTH_MAX];
    size_t depth = 99;
    assert_int_equal (bip32_path_parse ("m", indexes, BIP32_DEPTH_MAX, &depth), BIP32_OK);
    assert_int_equal (depth, 0);
    assert_int_equal (bip32_path_parse ("m/44'/1237'/0'/0/0", indexes, BIP32_DEPTH_MAX, &depth), BIP32_OK);
    assert_int_equal (depth, 5);
    assert_int_equal (indexes [0], 44 | BIP32_HARDENED);
    assert_int_equal (indexes [1], 1237 | BIP32_HARDENED);
    assert_int_equal (indexes [2], BIP32_HARDENED);
    assert_int_equal (indexes [3], 0);
    assert_int_equal (indexes [4], 0);
    assert_int_equal (bip32_path_parse ("m/2147483647'/2147483647", indexes, BIP32_DEPTH_MAX, &depth), BIP32_OK);
    assert_int_equal (indexes [0], 0xFFFFFFFFu);
    assert_int_equal (indexes [1], 0x7FFFFFFFu);

    const char *garbage [] = {
        "", "M/0", "/0", "m/", "m//0", "m/0/", "m0", "m/0''", "m/-1", "m/+1", "m/ 1", "m/1 ",
        "m/01", "m/1x", "m/0'h", "m/2147483648", "m/4294967295", "m/99999999999999999999",
        "m/0/a", "n/0", "m\\0", "m/0x10", "m/1.5",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage [0]; i++)
        assert_int_equal (bip32_path_parse (garbage [i], indexes, BIP32_DEPTH_MAX, &depth), BIP32_ERR_PATH);

    //  Depth limit: 32 levels pass, 33 do not; a caller's smaller array is respected
    char path [BIP32_PATH_MAX + 8] = "m";
    for (int i = 0; i < BIP32_DEPTH_MAX; i++)
        strcat (path, "/7");
    assert_int_equal (bip32_path_parse (path, indexes, BIP32_DEPTH_MAX, &depth), BIP32_OK);
    assert_int_equal (depth, BIP32_DEPTH_MAX);
    assert_int_equal (bip32_path_parse (path, indexes, 3, &depth), BIP32_ERR_DEPTH);
    strcat (path, "/7");
    assert_int_equal (bip32_path_parse (path, indexes, BIP32_DEPTH_MAX, &depth), BIP32_ERR_DEPTH);

    //  Length limit
    memset (path, '0', sizeof path);
    memcpy (path, "m/", 2);
    path [sizeof path - 1] = 0;
    assert_int_equal (bip32_path_parse (path, indexes, BIP32_DEPTH_MAX, &depth), BIP32_ERR_PATH);

    uint8_t seed [16] = { 0 };
    bip32_key_t key;
    assert_int_equal (bip32_derive (seed, sizeof seed, "m/0/", &key), BIP32_ERR_PATH);
    assert_int_equal (bip32_derive_indexes (seed, sizeof seed, indexes, BIP32_DEPTH_MAX + 1, &key),
                      BIP32_ERR_DEPTH);
}

static void
test_seed_limits (void **state)
{
    uint8_t seed [65] = { 1 };
    bip32_key_t key;
    assert_int_equal (bip32_master (seed, 15, &key), BIP32_ERR_SEED);
    assert_int_equal (bip32_master (seed, 65, &key), BIP32_ERR_SEED);
    assert_int_equal (bip32_master (seed, 16, &key), BIP32_OK);
    assert_int_equal (bip32_master (seed, 64, &key), BIP32_OK);
    assert_int_equal (bip32_derive (seed, 0, "m", &key), BIP32_ERR_SEED);
    bip32_key_wipe (&key);
    for (int a = BIP32_ERR_NOMEM; a <= BIP32_OK; a++)
        for (int b = a + 1; b <= BIP32_OK; b++)
            assert_string_not_equal (bip32_strerror (a), bip32_strerror (b));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_vector_1),
        cmocka_unit_test (test_trezor_master_keys),
        cmocka_unit_test (test_nip06_vectors),
        cmocka_unit_test (test_accounts_and_branches),
        cmocka_unit_test (test_path_parse),
        cmocka_unit_test (test_seed_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
