/*  doctor_cmd.c: pylon doctor. Every check says pass, warn or fail with a one-line hint, and
    the exit code is non-zero when one fails. It talks to the real things: each enabled
    backend's health endpoint, a WebSocket handshake with each relay, the identity file, the
    wallet's settings, and every configuration key. */
#include "cli.h"
#include "daemon.h"
#include "identity.h"
#include "inference/backend.h"
#include "wallet/nwc.h"
#include "ws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef enum { PASS, WARN, FAIL } verdict_t;

typedef struct {
    cli_t *cli;
    json_object *checks;            /* --json: the list of checks */
    int fails, warns;
} doctor_t;

static void
s_report(doctor_t *self, verdict_t verdict, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_report(doctor_t *self, verdict_t verdict, const char *what, const char *fmt, ...)
{
    static const char *const names[] = {"pass", "warn", "fail"};
    char hint[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(hint, sizeof hint, fmt, args);
    va_end(args);
    self->fails += verdict == FAIL;
    self->warns += verdict == WARN;
    if (self->cli->json) {
        json_object *check = json_object_new_object();
        json_object_object_add(check, "check", json_object_new_string(what));
        json_object_object_add(check, "result", json_object_new_string(names[verdict]));
        json_object_object_add(check, "hint", json_object_new_string(hint));
        json_object_array_add(self->checks, check);
    }
    else
        printf("%-4s  %-28s %s\n", names[verdict], what, hint);
}

static void
s_check_config(doctor_t *self)
{
    char err[CONFIG_ERROR_MAX];
    if (config_validate(&self->cli->cfg, err, sizeof err) != 0)
        s_report(self, FAIL, "configuration", "%s: fix config.toml", err);
    else
        s_report(self, PASS, "configuration", "every key valid (%s/config.toml)", self->cli->cfg.dir);
}

static void
s_check_identity(doctor_t *self, const char *passphrase_file)
{
    char path[4096];
    if (!cli_path(self->cli, "identity.enc", path, sizeof path))
        return;
    identity_info_t info;
    int rc = identity_inspect(path, &info);
    if (rc == IDENTITY_ERR_NOT_FOUND) {
        s_report(self, FAIL, "identity", "no identity.enc: run `pylon init`");
        return;
    }
    if (rc != 0) {
        s_report(self, FAIL, "identity", "%s: %s", path, identity_strerror(rc));
        return;
    }
    if (!info.is_protected) {
        s_report(self, WARN, "identity", "stored without a passphrase (unattended mode): keep the machine private");
        return;
    }
    char *passphrase = NULL, *mnemonic = NULL;
    if (!passphrase_file && !getenv(IDENTITY_PASSPHRASE_ENV) && !isatty(STDIN_FILENO)) {
        s_report(self, WARN, "identity", "present and owner-only; give --passphrase-file to check it decrypts");
        return;
    }
    rc = identity_passphrase_get(passphrase_file, false, &passphrase);
    if (rc == 0)
        rc = identity_load(path, passphrase, &mnemonic, NULL);
    identity_secret_free(&passphrase);
    identity_secret_free(&mnemonic);
    if (rc != 0)
        s_report(self, FAIL, "identity", "does not decrypt: %s", identity_strerror(rc));
    else
        s_report(self, PASS, "identity", "present, owner-only, decrypts");
}

typedef struct {
    doctor_t *doctor;
    char id[176];                   /* "backend <identifier>" */
    bool done;
} probe_t_;

static void
s_on_health(void *arg, const backend_health_t *health)
{
    probe_t_ *probe = arg;
    probe->done = true;
    switch (health->state) {
    case BACKEND_STATE_READY:
        s_report(probe->doctor, PASS, probe->id, "ready%s%s%s", *health->model ? ": " : "",
                 health->model, health->total_slots ? "" : "");
        break;
    case BACKEND_STATE_LOADING:
        s_report(probe->doctor, WARN, probe->id, "answering, model still loading: wait, or check its log");
        break;
    default:
        s_report(probe->doctor, FAIL, probe->id, "%s: %s", backend_state_name(health->state),
                 *health->error.message ? health->error.message : "not answering: is the server running?");
    }
}

static void
s_check_backends(doctor_t *self)
{
    const config_t *cfg = &self->cli->cfg;
    backend_config_t config = {.llama_url = cfg->llamacpp_url, .fm_url = cfg->apple_fm_url,
                               .ollama_url = cfg->ollama_url, .openai_url = cfg->openai_url,
                               .openai_api_key = cfg->openai_api_key};
    char ids[64][160];
    int count = 0;
    for (size_t i = 0; cfg->llamacpp_enabled && i < cfg->llamacpp_models.count && count < 64; i++)
        snprintf(ids[count++], sizeof ids[0], "llamacpp:%s", cfg->llamacpp_models.items[i]);
    if (cfg->apple_fm_enabled && count < 64)
        snprintf(ids[count++], sizeof ids[0], "apple_fm");
    for (size_t i = 0; cfg->ollama_enabled && i < cfg->ollama_models.count && count < 64; i++)
        snprintf(ids[count++], sizeof ids[0], "ollama:%s", cfg->ollama_models.items[i]);
    for (size_t i = 0; cfg->openai_enabled && i < cfg->openai_models.count && count < 64; i++)
        snprintf(ids[count++], sizeof ids[0], "openai:%s", cfg->openai_models.items[i]);
    if (count == 0) {
        s_report(self, FAIL, "backends", "none enabled in [backends.*]: the node could serve no job");
        return;
    }
    http_client_t *client = http_client_new();
    probe_t_ probes[64];
    backend_t backends[64];
    backend_limits_t limits = {.connect_ms = 3000, .total_ms = 5000};
    for (int i = 0; i < count; i++) {
        probes[i] = (probe_t_) {.doctor = self};
        snprintf(probes[i].id, sizeof probes[i].id, "backend %.160s", ids[i]);
        backend_error_t err;
        if (backend_resolve(ids[i], &config, &backends[i], &err) != 0) {
            s_report(self, FAIL, probes[i].id, "%s", err.message);
            probes[i].done = true;
        }
        else if (!backend_probe_start(client, &backends[i], &limits, s_on_health, &probes[i])) {
            s_report(self, FAIL, probes[i].id, "cannot start a probe of %s", backends[i].base_url);
            probes[i].done = true;
        }
    }
    for (int waited = 0; waited < 80 && http_client_active(client); waited++)
        http_client_run(client, 100);
    for (int i = 0; i < count; i++)
        if (!probes[i].done)
            s_report(self, FAIL, probes[i].id, "no answer within 8 s");
    http_client_destroy(&client);
}

typedef struct {
    doctor_t *doctor;
    const char *url;
    bool done;
    int64_t started_ms;
} relay_check_t;

static int64_t
s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_relay_open(ws_conn_t *conn, void *arg)
{
    relay_check_t *check = arg;
    char what[80];
    snprintf(what, sizeof what, "relay %.70s", check->url);
    s_report(check->doctor, PASS, what, "WebSocket handshake in %lld ms", (long long) (s_ms() - check->started_ms));
    check->done = true;
    ws_conn_close(conn);
}

static void
s_relay_close(ws_conn_t *conn, const char *reason, void *arg)
{
    relay_check_t *check = arg;
    if (check->done)
        return;
    char what[80];
    snprintf(what, sizeof what, "relay %.70s", check->url);
    s_report(check->doctor, FAIL, what, "%s: check the URL and the network", reason ? reason : "closed");
    check->done = true;
}

static void
s_check_relays(doctor_t *self)
{
    const config_strs_t *urls = &self->cli->cfg.relay_urls;
    if (urls->count == 0) {
        s_report(self, FAIL, "relays", "none in [relays] urls: nobody could reach the node");
        return;
    }
    ws_client_t *ws = ws_client_new(NULL);
    relay_check_t checks[32];
    ws_conn_t *conns[32];
    size_t count = urls->count < 32 ? urls->count : 32;
    static const ws_handlers_t handlers = {.on_open = s_relay_open, .on_close = s_relay_close};
    for (size_t i = 0; i < count; i++) {
        checks[i] = (relay_check_t) {self, urls->items[i], false, s_ms()};
        conns[i] = ws_conn_open(ws, urls->items[i], &handlers, &checks[i]);
        if (!conns[i]) {
            char what[80];
            snprintf(what, sizeof what, "relay %.70s", urls->items[i]);
            s_report(self, FAIL, what, "not a valid ws:// or wss:// URL");
            checks[i].done = true;
        }
    }
    int64_t deadline = s_ms() + 8000;
    for (bool pending = true; pending && s_ms() < deadline;) {
        ws_client_run(ws, 100);
        pending = false;
        for (size_t i = 0; i < count; i++)
            pending |= !checks[i].done;
    }
    for (size_t i = 0; i < count; i++) {
        if (!checks[i].done) {
            char what[80];
            snprintf(what, sizeof what, "relay %.70s", checks[i].url);
            s_report(self, FAIL, what, "no handshake within 8 s");
        }
        ws_conn_destroy(&conns[i]);
    }
    ws_client_destroy(&ws);
}

static bool
s_readable(const char *path)
{
    return path && *path && access(path, R_OK) == 0;
}

static void
s_check_wallet(doctor_t *self)
{
    const config_t *cfg = &self->cli->cfg;
    const char *backend = cfg->wallet_backend;
    if (strcmp(backend, "demo") == 0) {
        if (strcmp(cfg->network, "mainnet") == 0)
            s_report(self, FAIL, "wallet demo", "the demo wallet refuses mainnet: choose nwc, lnd, cln or lnbits");
        else
            s_report(self, WARN, "wallet demo", "demo wallet: regtest invoices, no real money moves; set [wallet] backend to earn");
    }
    else if (strcmp(backend, "nwc") == 0) {
        nwc_uri_t uri;
        char err[256];
        if (!*cfg->nwc_uri)
            s_report(self, FAIL, "wallet nwc", "no [wallet] nwc_uri (or PYLON_NWC_URI): paste your wallet's connection URI");
        else if (nwc_uri_parse(cfg->nwc_uri, &uri, err, sizeof err) != 0)
            s_report(self, FAIL, "wallet nwc", "nwc_uri: %s", err);
        else {
            s_report(self, PASS, "wallet nwc", "connection URI valid; the node checks the wallet answers at start");
            nwc_uri_wipe(&uri);
        }
    }
    else if (strcmp(backend, "lnd") == 0)
        s_report(self, s_readable(cfg->lnd_macaroon) && s_readable(cfg->lnd_tls_cert) ? PASS : FAIL, "wallet lnd",
                 "%s", s_readable(cfg->lnd_macaroon) && s_readable(cfg->lnd_tls_cert)
                           ? "macaroon and tls.cert readable" : "set [wallet] lnd_macaroon and lnd_tls_cert to readable files");
    else if (strcmp(backend, "cln") == 0)
        s_report(self, s_readable(cfg->cln_rpc) ? PASS : FAIL, "wallet cln", "%s",
                 s_readable(cfg->cln_rpc) ? "lightning-rpc socket present" : "set [wallet] cln_rpc to the lightning-rpc socket");
    else
        s_report(self, *cfg->lnbits_url && *cfg->lnbits_api_key ? PASS : FAIL, "wallet lnbits", "%s",
                 *cfg->lnbits_url && *cfg->lnbits_api_key ? "URL and key set" : "set [wallet] lnbits_url and lnbits_api_key");
}

static void
s_check_files(doctor_t *self)
{
    struct stat st;
    if (stat(self->cli->cfg.dir, &st) != 0)
        s_report(self, FAIL, "config dir", "%s does not exist: run `pylon init`", self->cli->cfg.dir);
    else if (st.st_mode & 077)
        s_report(self, WARN, "config dir", "%s is open to group/others: chmod 700 it", self->cli->cfg.dir);
    else
        s_report(self, PASS, "config dir", "%s, owner-only", self->cli->cfg.dir);
    int pid = daemon_running_pid(&self->cli->cfg);
    s_report(self, PASS, "node", pid > 0 ? "running (pid %d)" : "not running%.0d: `pylon start` starts it", pid);
}

int
cli_doctor(cli_t *cli, int argc, char **argv)
{
    const char *passphrase_file = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--passphrase-file") == 0)
            passphrase_file = argv[i + 1];
    doctor_t self = {.cli = cli, .checks = json_object_new_array()};
    s_check_config(&self);
    s_check_files(&self);
    s_check_identity(&self, passphrase_file);
    s_check_wallet(&self);
    s_check_backends(&self);
    s_check_relays(&self);
    if (cli->json) {
        json_object *out = json_object_new_object();
        json_object_object_add(out, "checks", self.checks);
        json_object_object_add(out, "failed", json_object_new_int(self.fails));
        json_object_object_add(out, "warnings", json_object_new_int(self.warns));
        cli_print_json(out);
    }
    else {
        json_object_put(self.checks);
        printf("\n%d failed, %d warnings\n", self.fails, self.warns);
    }
    return self.fails ? CLI_FAILED : CLI_OK;
}
