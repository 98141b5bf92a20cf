/*  keys_tool.c: the C side of the key interop test (tests/integration/interop_keys.mjs).

    Reads one request per line on stdin, writes one answer line per request on stdout, so a
    test can check thousands of keys in one process. Fields are separated by TABs; the last
    field runs to the end of the line (a mnemonic may hold any character but newline).

        check <account> <bip39 passphrase> <mnemonic>
            -> ok <entropy hex> <seed hex> <nip06 secret hex> <nip06 x-only pubkey hex>
                  <lightning node pubkey hex (33 bytes, m/44'/1237'/<account>'/1/0)>
            -> err <BIP39 error code> <unknown word position>
        gen <words>
            -> ok <mnemonic>
        derive <seed hex> <path>
            -> ok <secret key hex> <chain code hex> <compressed pubkey hex>
            -> err <BIP32 error code>
    Anything else -> err usage. Lines over 4 KiB -> err too-long.
    This is a test tool: it prints secret keys on purpose. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bip32.h"
#include "bip39.h"

#define LINE_MAX_BYTES 4096

static void
s_hex (const uint8_t *data, size_t len)
{
    char hex [2 * 64 + 1];
    sodium_bin2hex (hex, sizeof hex, data, len);
    fputs (hex, stdout);
}

//  Cut LINE at the next TAB: return the field, advance *LINE past it (NULL at the end).
static char *
s_field (char **line)
{
    char *field = *line;
    if (!field)
        return NULL;
    char *tab = strchr (field, '\t');
    if (tab) {
        *tab = 0;
        *line = tab + 1;
    }
    else
        *line = NULL;
    return field;
}

static void
s_check (char *args)
{
    char *account_text = s_field (&args);
    char *passphrase = s_field (&args);
    char *mnemonic = args;
    if (!account_text || !passphrase || !mnemonic) {
        puts ("err\tusage");
        return;
    }
    uint32_t account = (uint32_t) strtoul (account_text, NULL, 10);
    uint8_t entropy [BIP39_ENTROPY_MAX], seed [BIP39_SEED_SIZE], secret [32], xonly [32], node [33];
    size_t entropy_len = 0, position = 0;
    int rc = bip39_decode (mnemonic, entropy, &entropy_len, &position);
    if (rc == BIP39_OK)
        rc = bip39_to_seed (mnemonic, passphrase, seed);
    if (rc != BIP39_OK) {
        printf ("err\t%d\t%zu\n", rc, position);
        return;
    }
    bip32_key_t key;
    if (bip32_nip06 (seed, sizeof seed, account, secret, xonly) != BIP32_OK
    ||  bip32_account_key (seed, sizeof seed, account, BIP32_BRANCH_LIGHTNING_NODE, 0, &key) != BIP32_OK
    ||  bip32_public_key (&key, node) != BIP32_OK) {
        puts ("err\tbip32");
        return;
    }
    fputs ("ok\t", stdout);
    s_hex (entropy, entropy_len);
    fputs ("\t", stdout);
    s_hex (seed, sizeof seed);
    fputs ("\t", stdout);
    s_hex (secret, sizeof secret);
    fputs ("\t", stdout);
    s_hex (xonly, sizeof xonly);
    fputs ("\t", stdout);
    s_hex (node, sizeof node);
    fputs ("\n", stdout);
    bip32_key_wipe (&key);
    sodium_memzero (seed, sizeof seed);
    sodium_memzero (secret, sizeof secret);
}

static void
s_gen (char *args)
{
    char mnemonic [BIP39_MNEMONIC_MAX];
    int rc = bip39_generate (args ? atoi (args) : 0, mnemonic, sizeof mnemonic);
    if (rc == BIP39_OK)
        printf ("ok\t%s\n", mnemonic);
    else
        printf ("err\t%d\n", rc);
    sodium_memzero (mnemonic, sizeof mnemonic);
}

static void
s_derive (char *args)
{
    char *seed_hex = s_field (&args);
    char *path = args;
    uint8_t seed [BIP32_SEED_MAX + 1];
    size_t seed_len = 0;
    if (!seed_hex || !path
    ||  sodium_hex2bin (seed, sizeof seed, seed_hex, strlen (seed_hex), NULL, &seed_len, NULL) != 0) {
        puts ("err\tusage");
        return;
    }
    bip32_key_t key;
    uint8_t pub [33];
    int rc = bip32_derive (seed, seed_len, path, &key);
    if (rc == BIP32_OK)
        rc = bip32_public_key (&key, pub);
    if (rc != BIP32_OK) {
        printf ("err\t%d\n", rc);
        return;
    }
    fputs ("ok\t", stdout);
    s_hex (key.secret_key, 32);
    fputs ("\t", stdout);
    s_hex (key.chain_code, 32);
    fputs ("\t", stdout);
    s_hex (pub, sizeof pub);
    fputs ("\n", stdout);
    bip32_key_wipe (&key);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    static char line [LINE_MAX_BYTES + 2];
    while (fgets (line, sizeof line, stdin)) {
        char *newline = strchr (line, '\n');
        if (!newline && !feof (stdin)) {
            int c;
            while ((c = getchar ()) != EOF && c != '\n')
                ;
            puts ("err\ttoo-long");
            continue;
        }
        if (newline)
            *newline = 0;
        char *args = line;
        char *command = s_field (&args);
        if (strcmp (command, "check") == 0)
            s_check (args);
        else
        if (strcmp (command, "gen") == 0)
            s_gen (args);
        else
        if (strcmp (command, "derive") == 0)
            s_derive (args);
        else
            puts ("err\tusage");
    }
    sodium_memzero (line, sizeof line);
    return ferror (stdout) ? 1 : 0;
}
