/*  cli.h: what every `pylon` command shares: the command table, the loaded configuration,
    output in text or JSON, and the exit codes.

    Exit codes: 0 done; 1 failed (the message says what to do next); 2 wrong usage;
    3 the daemon is not running (for commands that need it). */
#ifndef PYLON_CLI_H
#define PYLON_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2, CLI_NOT_RUNNING = 3 };

typedef struct {
    config_t cfg;               /* loaded from the config dir and the environment */
    bool json;                  /* --json: one JSON document on stdout, nothing else there */
} cli_t;

typedef struct {
    const char *name;           /* "start" */
    const char *summary;        /* one line for `pylon --help` */
    const char *usage;          /* the command's own --help text */
    int (*run)(cli_t *cli, int argc, char **argv);
} cli_command_t;

/* Defined by each command file. */
int cli_init(cli_t *cli, int argc, char **argv);
int cli_start(cli_t *cli, int argc, char **argv);
int cli_stop(cli_t *cli, int argc, char **argv);
int cli_status(cli_t *cli, int argc, char **argv);
int cli_tap(cli_t *cli, int argc, char **argv);
int cli_ask(cli_t *cli, int argc, char **argv);
int cli_jobs(cli_t *cli, int argc, char **argv);
int cli_earnings(cli_t *cli, int argc, char **argv);
int cli_wallet(cli_t *cli, int argc, char **argv);
int cli_doctor(cli_t *cli, int argc, char **argv);
int cli_worker(cli_t *cli, int argc, char **argv);    /* farm_cmds.c */
int cli_farm(cli_t *cli, int argc, char **argv);      /* farm_cmds.c */

/* Decrypt identity.enc (asking for the passphrase as identity_passphrase_get does) into the
   64-byte BIP-39 seed. CLI_OK, or the failure already printed. */
int cli_unlock(cli_t *cli, const char *passphrase_file, uint8_t seed[64]);

/* Print an error for the user (stderr, or {"error": ...} on stdout with --json); returns code. */
int cli_fail(cli_t *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print obj as the command's JSON output (and release it). */
void cli_print_json(json_object *obj);
/* Path of a file in the config dir, or a failure message when it is too long. */
const char *cli_path(cli_t *cli, const char *file, char *buf, size_t size);

#endif
