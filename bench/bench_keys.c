/*  bench_keys.c: what the node's key handling costs at start-up and in tools.

      validate       bip39_validate of a 24-word phrase
      seed           bip39_to_seed (PBKDF2-HMAC-SHA512, 2048 rounds)
                     vs  the same 4,096 HMAC-SHA512 calls keyed afresh each time
      nip06          bip32_nip06: 5 derivation steps + x-only public key
      unlock         identity_decode at the default Argon2id limits (3 passes, 256 MiB)
                     and at libsodium's INTERACTIVE limits (2 passes, 64 MiB)

    The unlock rows are what a node operator waits for at every start. Usage: bench_keys [seconds]. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bip32.h"
#include "bip39.h"
#include "identity.h"

static double s_seconds = 1.0;  //  Time per row
static volatile int s_sink;     //  Keeps results alive

static const char *s_phrase = "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold";
static uint8_t s_seed [BIP39_SEED_SIZE];
static uint8_t s_file [IDENTITY_FILE_MAX];
static size_t s_file_len;

static double
s_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

//  Run FN for s_seconds (at least 3 times); return operations per second.
typedef void (s_fn_t) (void);
static double
s_rate (s_fn_t *fn)
{
    fn ();                                      //  Warm up
    size_t n = 0;
    double start = s_now (), elapsed;
    do {
        fn ();
        n++;
        elapsed = s_now () - start;
    } while (elapsed < s_seconds || n < 3);
    return (double) n / elapsed;
}

static void
s_validate (void)
{
    s_sink += bip39_validate (s_phrase, NULL);
}

static void
s_seed_fn (void)
{
    s_sink += bip39_to_seed (s_phrase, "", s_seed);
}

//  PBKDF2 the naive way: every HMAC re-keys from the password.
static void
s_seed_naive (void)
{
    uint8_t u [64], t [64] = { 0 };
    uint8_t salt [12] = { 'm', 'n', 'e', 'm', 'o', 'n', 'i', 'c', 0, 0, 0, 1 };
    crypto_auth_hmacsha512_state state;
    size_t len = strlen (s_phrase);
    crypto_auth_hmacsha512_init (&state, (const uint8_t *) s_phrase, len);
    crypto_auth_hmacsha512_update (&state, salt, sizeof salt);
    crypto_auth_hmacsha512_final (&state, u);
    for (int round = 1; round < BIP39_PBKDF2_ROUNDS; round++) {
        crypto_auth_hmacsha512_init (&state, (const uint8_t *) s_phrase, len);
        crypto_auth_hmacsha512_update (&state, u, sizeof u);
        crypto_auth_hmacsha512_final (&state, u);
        for (size_t k = 0; k < sizeof t; k++)
            t [k] ^= u [k];
    }
    s_sink += t [0];
}

static void
s_nip06 (void)
{
    uint8_t secret [32], public [32];
    s_sink += bip32_nip06 (s_seed, sizeof s_seed, 0, secret, public);
    sodium_memzero (secret, sizeof secret);
}

static void
s_unlock (void)
{
    char *mnemonic = NULL;
    s_sink += identity_decode (s_file, s_file_len, "bench passphrase", &mnemonic, NULL);
    identity_secret_free (&mnemonic);
}

int
main (int argc, char **argv)
{
    if (argc > 1)
        s_seconds = atof (argv [1]);
    if (sodium_init () < 0 || bip39_to_seed (s_phrase, "", s_seed) != BIP39_OK)
        return 1;
    printf ("%-10s %14s   %s\n", "row", "ops/s", "comparison");
    printf ("%-10s %14.0f\n", "validate", s_rate (s_validate));
    double seed = s_rate (s_seed_fn), naive = s_rate (s_seed_naive);
    printf ("%-10s %14.1f   naive PBKDF2 (re-keyed HMAC) %.1f/s\n", "seed", seed, naive);
    printf ("%-10s %14.0f\n", "nip06", s_rate (s_nip06));

    struct { const char *name; unsigned long long ops; size_t mem; } limits [] = {
        { "default", crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE },
        { "interactive", crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE },
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits [0]; i++) {
        if (identity_encode (s_phrase, "bench passphrase", 0, limits [i].ops, limits [i].mem,
                             s_file, &s_file_len) != IDENTITY_OK)
            return 1;
        double rate = s_rate (s_unlock);
        printf ("%-10s %14.2f   %.0f ms per unlock (%s: %llu passes, %zu MiB)\n", "unlock", rate,
                1000.0 / rate, limits [i].name, limits [i].ops, limits [i].mem >> 20);
    }
    return s_sink == 42424242;                  //  never; keeps the compiler honest
}
