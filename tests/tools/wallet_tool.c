/*  wallet_tool.c: the wallet actor in a process of its own, for integration tests.

    Runs the wallet actor (and, for the nwc backend, the real relay actor on the relays of
    PYLON_RELAYS) with the configuration from the environment (PYLON_WALLET, PYLON_NWC_URI,
    PYLON_RELAYS; WALLET_POLL_MS sets [wallet] poll_interval_ms). The process itself plays
    the ledger (every write acknowledged, no open invoices at start), the job router and the
    control actor. The demo wallet's seed is 64 bytes of 0x01..0x40.

    stdin, one JSON object a line:
        {"op":"invoice","amount_msats":N,"description":"...","expiry_s":N}
        {"op":"demo_pay","bolt11":"..."}
    stdout, one JSON object a line (first "READY"):
        {"type":"invoice","ok":true,"bolt11":"...","payment_hash":"hex","error":""}
        {"type":"settled","payment_hash":"hex","amount_msats":N}
        {"type":"expired","payment_hash":"hex"}
        {"type":"demo_paid","ok":true,"error":""}
    The process ends at the end of stdin. */
#include <json-c/json.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors.h"
#include "log.h"
#include "node.h"
#include "probe.h"
#include "relay.h"
#include "wallet.h"

static void
s_print(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
    fflush(stdout);
    json_object_put(obj);
}

static json_object *
s_hex(const uint8_t hash[32])
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, hash, 32);
    return json_object_new_string(hex);
}

/* What the wallet sent to one of the probes. */
static void
s_on_message(probe_t *ledger, const char *wallet_ep, const msg_t *in)
{
    json_object *out = json_object_new_object();
    uint64_t ack_ref = 0;
    switch (in->type) {
    case MSG_LEDGER_QUERY: {
        msg_t rows = {.type = MSG_LEDGER_ROWS,
                      .ledger_rows = {.ref = in->ledger_query.ref, .ok = true, .json = "[]"}};
        probe_send(ledger, "wallet", wallet_ep, &rows);
        json_object_put(out);
        return;
    }
    case MSG_LEDGER_INVOICE_NEW: ack_ref = in->ledger_invoice_new.ref; break;
    case MSG_LEDGER_INVOICE_SETTLED: ack_ref = in->ledger_invoice_settled.ref; break;
    case MSG_LEDGER_INVOICE_EXPIRED: ack_ref = in->ledger_invoice_expired.ref; break;
    case MSG_LEDGER_KV_SET: ack_ref = in->ledger_kv_set.ref; break;
    case MSG_INVOICE:
        json_object_object_add(out, "type", json_object_new_string("invoice"));
        json_object_object_add(out, "ok", json_object_new_boolean(in->invoice.ok));
        json_object_object_add(out, "bolt11", json_object_new_string(in->invoice.bolt11));
        json_object_object_add(out, "payment_hash", s_hex(in->invoice.payment_hash));
        json_object_object_add(out, "expires_at", json_object_new_int64((int64_t) in->invoice.expires_at));
        json_object_object_add(out, "error", json_object_new_string(in->invoice.error));
        s_print(out);
        return;
    case MSG_INVOICE_SETTLED:
        json_object_object_add(out, "type", json_object_new_string("settled"));
        json_object_object_add(out, "payment_hash", s_hex(in->invoice_settled.payment_hash));
        json_object_object_add(out, "amount_msats",
                               json_object_new_int64((int64_t) in->invoice_settled.amount_msats));
        s_print(out);
        return;
    case MSG_INVOICE_EXPIRED:
        json_object_object_add(out, "type", json_object_new_string("expired"));
        json_object_object_add(out, "payment_hash", s_hex(in->invoice_expired.payment_hash));
        s_print(out);
        return;
    case MSG_WALLET_DEMO_PAID:
        json_object_object_add(out, "type", json_object_new_string("demo_paid"));
        json_object_object_add(out, "ok", json_object_new_boolean(in->wallet_demo_paid.ok));
        json_object_object_add(out, "error", json_object_new_string(in->wallet_demo_paid.error));
        s_print(out);
        return;
    default:
        json_object_put(out);
        return;
    }
    json_object_put(out);
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = ack_ref, .ok = true, .state = "", .error = ""}};
    probe_send(ledger, "wallet", wallet_ep, &ack);
}

/* One stdin command. */
static void
s_on_command(probe_t *router, probe_t *control, const char *wallet_ep, const char *line)
{
    static uint64_t job = 0, ref = 0;
    json_object *cmd = json_tokener_parse(line), *v;
    const char *op = json_object_object_get_ex(cmd, "op", &v) ? json_object_get_string(v) : "";
    if (strcmp(op, "invoice") == 0) {
        msg_t ask = {.type = MSG_INVOICE_REQUEST};
        json_object_object_get_ex(cmd, "amount_msats", &v);
        ask.invoice_request.amount_msats = (uint64_t) json_object_get_int64(v);
        ask.invoice_request.description = json_object_object_get_ex(cmd, "description", &v)
                                        ? json_object_get_string(v) : "";
        ask.invoice_request.expiry_s = json_object_object_get_ex(cmd, "expiry_s", &v)
                                     ? (uint64_t) json_object_get_int64(v) : 0;
        job++;
        memcpy(ask.invoice_request.job, &job, sizeof job);
        probe_send(router, "wallet", wallet_ep, &ask);
    }
    else if (strcmp(op, "demo_pay") == 0 && json_object_object_get_ex(cmd, "bolt11", &v)) {
        msg_t pay = {.type = MSG_WALLET_DEMO_PAY,
                     .wallet_demo_pay = {.ref = ++ref, .bolt11 = json_object_get_string(v)}};
        probe_send(control, "wallet", wallet_ep, &pay);
    }
    else
        fprintf(stderr, "wallet_tool: unknown command: %s\n", line);
    json_object_put(cmd);
}

int
main(void)
{
    config_t cfg;
    config_defaults(&cfg);
    config_apply_env(&cfg);
    if (getenv("WALLET_POLL_MS"))
        cfg.wallet_poll_interval_ms = atoll(getenv("WALLET_POLL_MS"));
    log_set_level(getenv("WALLET_TOOL_DEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
    uint8_t seed[64];
    for (int i = 0; i < 64; i++)
        seed[i] = (uint8_t) (i + 1);
    char pid[32];
    snprintf(pid, sizeof pid, "wt%d-", (int) getpid());
    char ep[3][64], wallet_ep[64];
    snprintf(ep[0], 64, "inproc://%sledger", pid);
    snprintf(ep[1], 64, "inproc://%sjob_router", pid);
    snprintf(ep[2], 64, "inproc://%scontrol", pid);
    snprintf(wallet_ep, sizeof wallet_ep, "inproc://%swallet", pid);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "ledger", ep[0]);
    actor_directory_add(&dir, "job_router", ep[1]);
    actor_directory_add(&dir, "control", ep[2]);
    probe_t *ledger = probe_new("ledger", ep[0]);
    probe_t *router = probe_new("job_router", ep[1]);
    probe_t *control = probe_new("control", ep[2]);
    probe_t *probes[3] = {ledger, router, control};

    relay_args_t relay_args = {.cfg = &cfg, .seckey = NULL};
    wallet_args_t wallet_args = {.cfg = &cfg, .seed = seed, .seed_len = sizeof seed};
    node_member_t members[2];
    int count = 0;
    if (strcmp(cfg.wallet_backend, "demo") != 0)
        members[count++] = (node_member_t) {&relay_actor, &relay_args};
    members[count++] = (node_member_t) {&wallet_actor, &wallet_args};
    node_t *node = node_start(members, count, &dir, pid, NULL);
    if (!node) {
        fprintf(stderr, "wallet_tool: the node did not start\n");
        return 1;
    }
    printf("READY\n");
    fflush(stdout);

    char line[16384];
    size_t len = 0;
    bool open = true;
    while (open) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&pfd, 1, 5) > 0) {
            ssize_t n = read(STDIN_FILENO, line + len, sizeof line - 1 - len);
            if (n <= 0)
                open = false;
            else
                len += (size_t) n;
            line[len] = 0;
            char *nl;
            while ((nl = strchr(line, '\n'))) {
                *nl = 0;
                if (*line)
                    s_on_command(router, control, wallet_ep, line);
                len -= (size_t) (nl + 1 - line);
                memmove(line, nl + 1, len + 1);
            }
            if (len == sizeof line - 1)
                len = 0;    /* an over-long line: dropped */
        }
        for (int i = 0; i < 3; i++) {
            msg_t in = {0};
            while (probe_recv(probes[i], &in, 0) == 0) {
                s_on_message(ledger, wallet_ep, &in);
                msg_release(&in);
            }
        }
    }
    node_stop(&node);
    for (int i = 0; i < 3; i++)
        probe_destroy(&probes[i]);
    config_free(&cfg);
    return 0;
}
