/*  identity_cmds.c: pylon init, and unlocking the identity for pylon start.

    init makes (or imports) the BIP-39 mnemonic from which every key of the node is derived:
    the Nostr key at m/44'/1237'/0'/0/0 (NIP-06) and the demo wallet's Lightning node key on
    its own branch (bip32.h). The mnemonic is shown once and stored only encrypted
    (identity.enc, identity.h). */
#include "bip32.h"
#include "bip39.h"
#include "cli.h"
#include "identity.h"
#include "nip19.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
s_option(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool
s_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* The npub of a mnemonic (NIP-06, account 0). */
static int
s_npub(const char *mnemonic, char *npub, size_t size)
{
    uint8_t *seed = sodium_malloc(BIP39_SEED_SIZE), secret[32], public_key[32];
    int rc = bip39_to_seed(mnemonic, NULL, seed) == 0
             && bip32_nip06(seed, BIP39_SEED_SIZE, 0, secret, public_key) == 0
             && nip19_encode_bytes(npub, size, NIP19_NPUB, public_key) == 0 ? 0 : -1;
    sodium_memzero(secret, sizeof secret);
    sodium_free(seed);
    return rc;
}

/* Read a mnemonic to import: from the terminal without echo, or one line of stdin. */
static char *
s_read_mnemonic(void)
{
    char *phrase = NULL;
    if (isatty(STDIN_FILENO)) {
        /* Echo off, as for a passphrase: the words must not stay on the screen. */
        identity_passphrase_prompt_fd(STDIN_FILENO, STDERR_FILENO,
                                      "Enter the mnemonic (words separated by spaces): ", false,
                                      &phrase);
        return phrase;
    }
    phrase = sodium_malloc(1025);
    if (phrase && setvbuf(stdin, NULL, _IONBF, 0) != 0) {
        sodium_free(phrase);
        return NULL;
    }
    if (!phrase || !fgets(phrase, 1025, stdin)) {
        sodium_free(phrase);
        return NULL;
    }
    phrase[strcspn(phrase, "\r\n")] = 0;
    return phrase;
}

int
cli_init(cli_t *cli, int argc, char **argv)
{
    bool force = s_flag(argc, argv, "--force"), import = s_flag(argc, argv, "--import");
    bool no_passphrase = s_flag(argc, argv, "--no-passphrase");
    const char *words_text = s_option(argc, argv, "--words");
    int words = words_text ? atoi(words_text) : 24;
    if (words != 12 && words != 24)
        return cli_fail(cli, CLI_USAGE, "--words takes 12 or 24");
    char path[4096], config_path[4096];
    if (!cli_path(cli, "identity.enc", path, sizeof path) || !cli_path(cli, "config.toml", config_path, sizeof config_path))
        return cli_fail(cli, CLI_FAILED, "config dir path too long");
    if (mkdir(cli->cfg.dir, 0700) != 0 && errno != EEXIST)
        return cli_fail(cli, CLI_FAILED, "cannot create %s: %s", cli->cfg.dir, strerror(errno));
    chmod(cli->cfg.dir, 0700);
    if (access(path, F_OK) == 0 && !force)
        return cli_fail(cli, CLI_FAILED, "an identity already exists at %s: keep it, or replace it "
                        "with --force (its keys are lost unless you kept its words)", path);

    char *mnemonic;
    if (import) {
        mnemonic = s_read_mnemonic();
        size_t position = 0;
        int rc = mnemonic ? bip39_validate(mnemonic, &position) : -1;
        if (rc != 0) {
            if (mnemonic)
                sodium_free(mnemonic);
            return cli_fail(cli, CLI_FAILED, "that is not a valid BIP-39 mnemonic (%s%s)",
                            mnemonic ? bip39_strerror(rc) : "nothing read",
                            position ? ", see the word at the position given" : "");
        }
    }
    else {
        mnemonic = sodium_malloc(1025);
        if (bip39_generate(words, mnemonic, 1025) != 0) {
            sodium_free(mnemonic);
            return cli_fail(cli, CLI_FAILED, "cannot generate a mnemonic");
        }
    }
    char *passphrase = NULL;
    int flags = force ? IDENTITY_OVERWRITE : 0;
    if (no_passphrase)
        flags |= IDENTITY_NO_PASSPHRASE;
    else {
        int rc = identity_passphrase_get(s_option(argc, argv, "--passphrase-file"), true, &passphrase);
        if (rc != 0) {
            sodium_free(mnemonic);
            return cli_fail(cli, CLI_FAILED, "no passphrase: %s (give --passphrase-file, set "
                            "PYLON_PASSPHRASE, or choose --no-passphrase for an unattended node)",
                            identity_strerror(rc));
        }
    }
    int rc = identity_save(path, mnemonic, passphrase, flags);
    identity_secret_free(&passphrase);
    char npub[128] = "";
    if (rc == 0)
        rc = s_npub(mnemonic, npub, sizeof npub) == 0 ? 0 : IDENTITY_ERR_MNEMONIC;
    if (rc != 0) {
        sodium_free(mnemonic);
        return cli_fail(cli, CLI_FAILED, "cannot store the identity: %s", identity_strerror(rc));
    }
    bool wrote_config = false;
    if (access(config_path, F_OK) != 0) {
        FILE *out = fopen(config_path, "wx");
        if (out) {
            fchmod(fileno(out), 0600);
            config_write(out, &cli->cfg);
            fclose(out);
            wrote_config = true;
        }
    }
    if (cli->json) {
        json_object *obj = json_object_new_object();
        json_object_object_add(obj, "npub", json_object_new_string(npub));
        json_object_object_add(obj, "identity", json_object_new_string(path));
        json_object_object_add(obj, "protected", json_object_new_boolean(!no_passphrase));
        if (!import)
            json_object_object_add(obj, "mnemonic", json_object_new_string(mnemonic));
        if (wrote_config)
            json_object_object_add(obj, "config", json_object_new_string(config_path));
        cli_print_json(obj);
    }
    else {
        if (!import) {
            printf("\nYour node's mnemonic, shown this once. Write it down and keep it offline:\n"
                   "whoever has these words has the node's keys and its earnings.\n\n  %s\n\n", mnemonic);
        }
        printf("identity: %s\nnpub: %s\n", path, npub);
        if (wrote_config)
            printf("config: %s (edit it, then `pylon start`)\n", config_path);
        if (no_passphrase)
            fprintf(stderr, "\nWARNING: the identity is stored WITHOUT a passphrase. Anyone who can "
                            "read %s has the node's keys. Keep this machine and its backups private.\n", path);
    }
    sodium_free(mnemonic);
    return CLI_OK;
}

int
cli_unlock(cli_t *cli, const char *passphrase_file, uint8_t seed[64])
{
    char path[4096];
    if (!cli_path(cli, "identity.enc", path, sizeof path))
        return cli_fail(cli, CLI_FAILED, "config dir path too long");
    identity_info_t info;
    int rc = identity_inspect(path, &info);
    if (rc == IDENTITY_ERR_NOT_FOUND)
        return cli_fail(cli, CLI_FAILED, "no identity in %s: create one with `pylon init`", cli->cfg.dir);
    if (rc != 0)
        return cli_fail(cli, CLI_FAILED, "%s: %s", path, identity_strerror(rc));
    char *passphrase = NULL, *mnemonic = NULL;
    if (info.is_protected && (rc = identity_passphrase_get(passphrase_file, false, &passphrase)) != 0)
        return cli_fail(cli, CLI_FAILED, "the identity needs its passphrase: %s (give "
                        "--passphrase-file or set PYLON_PASSPHRASE when there is no terminal)",
                        identity_strerror(rc));
    bool unprotected = false;
    rc = identity_load(path, passphrase, &mnemonic, &unprotected);
    identity_secret_free(&passphrase);
    if (rc != 0)
        return cli_fail(cli, CLI_FAILED, "cannot unlock %s: %s", path, identity_strerror(rc));
    if (unprotected && !cli->json)
        fprintf(stderr, "pylon: WARNING: %s has no passphrase; anyone who can read it has the node's keys\n", path);
    rc = bip39_to_seed(mnemonic, NULL, seed);
    identity_secret_free(&mnemonic);
    return rc == 0 ? CLI_OK : cli_fail(cli, CLI_FAILED, "the stored mnemonic does not give a seed");
}
