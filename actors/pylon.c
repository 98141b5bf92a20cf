/*  pylon.c: the `pylon` command. Global options, then a command from the table below; each
    command lives in actors/cli/. The daemon itself is actors/daemon.c, started by
    `pylon start`. */
#include "cli/cli.h"
#include "log.h"

#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_command_t s_commands[] = {
    {"init", "create the node's identity (or --import one) and its config",
     "usage: pylon init [--import] [--words 12|24] [--passphrase-file PATH | --no-passphrase] [--force]\n"
     "Create a new BIP-39 mnemonic (shown once: write it down) or --import one from stdin, derive\n"
     "the node's Nostr key (NIP-06) and store the mnemonic encrypted in identity.enc, under a\n"
     "passphrase from --passphrase-file, PYLON_PASSPHRASE or a prompt. --no-passphrase stores it\n"
     "unprotected for unattended nodes (still owner-only). Writes config.toml with the defaults if\n"
     "there is none. Never replaces an identity without --force. Prints the npub.\n", cli_init},
    {"start", "start the node (daemon; --foreground to stay attached)",
     "usage: pylon start [--foreground [--no-dashboard]] [--passphrase-file PATH]\n"
     "Start the node for this config dir: its actors, relays, backends and wallet. By default it\n"
     "detaches and logs to pylon.log in the config dir; --foreground stays attached: on a terminal\n"
     "it shows a live dashboard (logs then go to pylon.log), else it logs to stderr (systemd).\n"
     "The identity's passphrase comes from --passphrase-file, PYLON_PASSPHRASE or a prompt.\n"
     "Only one node runs per config dir.\n", cli_start},
    {"stop", "stop the running node gracefully",
     "usage: pylon stop [--timeout SECONDS]\n"
     "Ask the running node to stop: intake stops, jobs in flight finish or are parked, the ledger\n"
     "is flushed. Waits up to --timeout seconds (default 30) for it to exit.\n", cli_stop},
    {"status", "online or offline, relays, backends, jobs and earnings",
     "usage: pylon status [--json]\n"
     "Show whether the node runs, and what each actor reports. Exit code 3 when it is offline.\n",
     cli_status},
    {"tap", "watch the live message stream between actors",
     "usage: pylon tap [--actor NAME] [--type TYPE] [--count N]\n"
     "Print every actor-to-actor message of the running node as it happens. --actor keeps\n"
     "messages from or to NAME, --type keeps one message type (e.g. relay_event), --count stops\n"
     "after N messages.\n", cli_tap},
    {"doctor", "check backends, relays, identity, wallet and configuration",
     "usage: pylon doctor [--passphrase-file PATH] [--json]\n"
     "Each check prints pass, warn or fail with a one-line hint: every enabled backend's health\n"
     "endpoint, a real WebSocket handshake with each relay, the identity (present, owner-only,\n"
     "decrypts), the wallet settings, every configuration key. Exit 1 when a check fails.\n", cli_doctor},
    {"jobs", "recent jobs with state, backend, price and durations",
     "usage: pylon jobs [--limit N] [--json]\n"
     "The newest jobs from the ledger (works with the node stopped).\n", cli_jobs},
    {"earnings", "sats earned per day and per backend",
     "usage: pylon earnings [--json]\n"
     "Earnings booked in the ledger, per day and per backend, and the total.\n", cli_earnings},
    {"wallet", "wallet status, open invoices, demo-pay",
     "usage: pylon wallet [status | invoices | demo-pay <bolt11>] [--json]\n"
     "status: the wallet backend's report and the open invoices. demo-pay: settle an invoice of\n"
     "this node's demo wallet (regtest; no real money moves).\n", cli_wallet},
    {"ask", "buy a job from a provider: send, pay, print the result",
     "usage: pylon ask --to <npub|hex> [--backend ID] [--kind 5935|5050] [--max-tokens N]\n"
     "                 [--stream] [--encrypt nip44|nip04] [--pay demo|nwc [--nwc-uri URI]]\n"
     "                 [--max-sats N] [--relay URL]... \"PROMPT\"\n"
     "Send a job request to a provider over the relays ([relays] urls, or --relay), show the\n"
     "invoice and pay it: --pay nwc with your Nostr Wallet Connect URI (--nwc-uri, or\n"
     "PYLON_BUYER_NWC_URI), or --pay demo (the demo wallet of a node on this config dir); an\n"
     "invoice is paid only if it matches the feedback's amount and costs at most --max-sats\n"
     "(default 1000). It prints partial text with --stream, and the result. Exit 0 with a result,\n"
     "1 on an error feedback, a refused invoice or a time-out (--timeout SECONDS, default 120).\n",
     cli_ask},
    {"worker", "run inference for a node on this host (farm worker), or keygen",
     "usage: pylon worker keygen\n"
     "       pylon worker [--node tcp://HOST:PORT] [--node-key KEY] [--name NAME]\n"
     "keygen: make this worker's CURVE key pair (farm/worker.key_secret, owner-only) and print\n"
     "its public key, for `pylon farm allow` on the node. Otherwise: serve this host's\n"
     "[backends.*] to the node at --node ([farm] node) whose public key is --node-key ([farm]\n"
     "node_key), in the foreground until SIGINT/SIGTERM. The node going away makes it reconnect.\n",
     cli_worker},
    {"farm", "the node's side of a farm: keygen, allow a worker, list",
     "usage: pylon farm keygen | allow NAME PUBLIC_KEY | list\n"
     "keygen: make the node's CURVE key pair (farm/node.key_secret; also made at the first start\n"
     "with [farm] listen set) and print its public key for the workers. allow: let the worker\n"
     "with that public key in (farm_workers/NAME.key; a running node takes it at once). list:\n"
     "the workers allowed in. The node runs the farm when [farm] listen is set.\n", cli_farm},
};
#define COMMAND_COUNT (int) (sizeof s_commands / sizeof s_commands[0])

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: pylon [--config-dir DIR] [--json] COMMAND [ARGS]\n\n"
                 "Pylon: a Nostr NIP-90 compute provider. Commands:\n");
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\n`pylon COMMAND --help` explains each. Files live in $PYLON_CONFIG_DIR\n"
                 "(default ~/.config/openagents/pylon).\n");
}

int
cli_fail(cli_t *cli, int code, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    if (cli && cli->json) {
        json_object *obj = json_object_new_object();
        json_object_object_add(obj, "error", json_object_new_string(text));
        cli_print_json(obj);
    }
    else
        fprintf(stderr, "pylon: %s\n", text);
    return code;
}

void
cli_print_json(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
}

const char *
cli_path(cli_t *cli, const char *file, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", cli->cfg.dir, file);
    return n < 0 || (size_t) n >= size ? NULL : buf;
}

int
main(int argc, char **argv)
{
    cli_t cli = {0};
    char dir[4096] = "";
    if (sodium_init() < 0) {
        fprintf(stderr, "pylon: libsodium cannot start (no randomness source?)\n");
        return CLI_FAILED;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "--json") == 0))
            cli.json = true;
        else if ((strcmp(argv[i], "--config-dir") == 0) && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        else if ((strcmp(argv[i], "--help") == 0) || (strcmp(argv[i], "-h") == 0)) {
            s_usage(stdout);
            return CLI_OK;
        }
        else {
            fprintf(stderr, "pylon: unknown option %s\n\n", argv[i]);
            s_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (i == argc) {
        s_usage(stderr);
        return CLI_USAGE;
    }
    const cli_command_t *command = NULL;
    for (int c = 0; c < COMMAND_COUNT; c++)
        if ((strcmp(argv[i], s_commands[c].name) == 0))
            command = &s_commands[c];
    if (!command) {
        fprintf(stderr, "pylon: unknown command '%s'\n\n", argv[i]);
        s_usage(stderr);
        return CLI_USAGE;
    }
    /* Options may also follow the command. */
    for (int j = i + 1; j < argc; j++) {
        if ((strcmp(argv[j], "--help") == 0) || (strcmp(argv[j], "-h") == 0)) {
            fputs(command->usage, stdout);
            return CLI_OK;
        }
        if ((strcmp(argv[j], "--json") == 0))
            cli.json = true;
    }
    if (!dir[0])
        config_dir_default(dir, sizeof dir);
    char err[CONFIG_ERROR_MAX];
    if (config_load(&cli.cfg, dir, err, sizeof err) != 0) {
        int rc = cli_fail(&cli, CLI_FAILED, "%s\nfix config.toml (or move it away to use the defaults)", err);
        config_free(&cli.cfg);
        return rc;
    }
    int level = log_level_parse(cli.cfg.log_level);
    if (level >= 0)
        log_set_level((log_level_t) level);
    int rc = command->run(&cli, argc - i, argv + i);
    config_free(&cli.cfg);
    return rc;
}
