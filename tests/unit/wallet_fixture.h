/*  wallet_fixture.h: the test fixture shared by the tests of the node-backed wallet backends
    (test_wallet_lnd.c, test_wallet_lnbits.c): the wallet actor over the runtime with probes
    playing the ledger and the job router, a stub wallet server as a child process, and a
    blocking call to the stub's control endpoint. Header-only (static functions): each test
    program includes it once. */
#ifndef PYLON_WALLET_FIXTURE_H
#define PYLON_WALLET_FIXTURE_H

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors.h"
#include "child.h"
#include "config.h"
#include "node.h"
#include "probe.h"
#include "wallet.h"

typedef struct {
    config_t cfg;               /* the node's config (each test sets the wallet keys) */
    wallet_args_t args;         /* what the wallet actor gets */
    probe_t *ledger, *router;   /* probes playing those actors */
    node_t *node;               /* the running wallet actor */
    char prefix[32];            /* endpoint prefix of this start */
    char wallet_ep[64];         /* the wallet's inbox */
    child_t *stub;              /* the stub server */
    int port;                   /* its API port */
    int control_port;           /* its plain-HTTP control port */
    char kv_value[256];         /* the ledger's answer to a kv query: {"value":...} */
    char last_kv_key[129];      /* the key of the last kv query answered */
} wfix_t;

static int wfix_count;

/* Expect the next message of probe to be of type (release it after). */
static void
wfix_expect(probe_t *probe, msg_t *in, int type, int timeout_ms)
{
    if (probe_recv(probe, in, timeout_ms) != 0)
        fail_msg("expected %s, got nothing in %d ms", msg_type_name(type), timeout_ms);
    if ((int) in->type != type)
        fail_msg("expected %s, got %s", msg_type_name(type), msg_type_name(in->type));
}

/* Answer a kv query from the ledger probe with f->kv_value. */
static void
wfix_answer_kv(wfix_t *f, const msg_t *in)
{
    snprintf(f->last_kv_key, sizeof f->last_kv_key, "%s", in->ledger_query.args);
    msg_t answer = {.type = MSG_LEDGER_ROWS,
                    .ledger_rows = {.ref = in->ledger_query.ref, .ok = true,
                                    .json = f->kv_value[0] ? f->kv_value : "{\"value\":null}"}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &answer), 0);
}

/* Start the wallet actor; answer its open_invoices query with rows (a JSON array) and any
   kv query with f->kv_value. Returns 0, or -1 when the actor refused to start. */
static int
wfix_start(wfix_t *f, const char *rows)
{
    char ep[2][64];
    probe_destroy(&f->ledger);
    probe_destroy(&f->router);
    snprintf(f->prefix, sizeof f->prefix, "wf%d-", ++wfix_count);
    snprintf(ep[0], 64, "inproc://%sledger", f->prefix);
    snprintf(ep[1], 64, "inproc://%sjob_router", f->prefix);
    snprintf(f->wallet_ep, sizeof f->wallet_ep, "inproc://%swallet", f->prefix);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "ledger", ep[0]);
    actor_directory_add(&dir, "job_router", ep[1]);
    f->ledger = probe_new("ledger", ep[0]);
    f->router = probe_new("job_router", ep[1]);
    f->args = (wallet_args_t) {.cfg = &f->cfg};
    node_member_t members[] = {{&wallet_actor, &f->args}};
    f->node = node_start(members, 1, &dir, f->prefix, NULL);
    if (!f->node)
        return -1;
    bool listed = false;
    while (!listed) {
        msg_t in = {0};
        wfix_expect(f->ledger, &in, MSG_LEDGER_QUERY, 3000);
        if (strcmp(in.ledger_query.what, "kv") == 0)
            wfix_answer_kv(f, &in);
        else {
            assert_string_equal(in.ledger_query.what, "open_invoices");
            listed = true;
            msg_t answer = {.type = MSG_LEDGER_ROWS,
                            .ledger_rows = {.ref = in.ledger_query.ref, .ok = true,
                                            .json = rows ? rows : "[]"}};
            assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &answer), 0);
        }
        msg_release(&in);
    }
    return 0;
}

static void
wfix_stop(wfix_t *f)
{
    node_stop(&f->node);
}

/* Start the stub (argv NULL-terminated, argv[0] "node"); waits for "LISTENING <port>" and,
   when control_prefix is given, an earlier "<control_prefix> <port>" line. */
static void
wfix_stub(wfix_t *f, char *const argv[], const char *control_prefix)
{
    f->stub = child_start(argv);
    assert_non_null(f->stub);
    if (control_prefix) {
        char line[128];
        assert_int_equal(child_wait_line(f->stub, control_prefix, line, sizeof line, 10000), 0);
        f->control_port = atoi(line + strlen(control_prefix));
    }
    f->port = child_wait_listening(f->stub, 10000);
    assert_true(f->port > 0);
    if (!control_prefix)
        f->control_port = f->port;
}

static size_t
wfix_collect(char *data, size_t size, size_t nmemb, void *userp)
{
    char *buf = userp;
    size_t have = strlen(buf), len = size * nmemb;
    if (have + len < 4096) {
        memcpy(buf + have, data, len);
        buf[have + len] = 0;
    }
    return len;
}

/* POST json to the stub's control path; the HTTP status (reply, 4 KiB, if given). */
static long
wfix_control(wfix_t *f, const char *path, const char *json, char *reply)
{
    char sink[4096] = "", url[128];
    char *buf = reply ? reply : sink;
    buf[0] = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->control_port, path);
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, json ? json : "{}");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, wfix_collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    long status = 0;
    if (curl_easy_perform(easy) == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    return status;
}

/* Ask for an invoice for job_byte. */
static void
wfix_request(wfix_t *f, uint8_t job_byte, uint64_t amount, uint64_t expiry_s)
{
    msg_t ask = {.type = MSG_INVOICE_REQUEST,
                 .invoice_request = {.amount_msats = amount, .description = "job: 12 tokens",
                                     .expiry_s = expiry_s}};
    memset(ask.invoice_request.job, job_byte, 32);
    assert_int_equal(probe_send(f->router, "wallet", f->wallet_ep, &ask), 0);
}

static void
wfix_ack(wfix_t *f, uint64_t ref)
{
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = ref, .ok = true, .state = "", .error = ""}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
}

/* Ask for an invoice and acknowledge its record; the INVOICE (ok) lands in *invoice. */
static void
wfix_open_invoice(wfix_t *f, uint8_t job_byte, uint64_t amount, msg_t *invoice)
{
    wfix_request(f, job_byte, amount, 600);
    msg_t record = {0};
    wfix_expect(f->ledger, &record, MSG_LEDGER_INVOICE_NEW, 5000);
    wfix_ack(f, record.ledger_invoice_new.ref);
    msg_release(&record);
    wfix_expect(f->router, invoice, MSG_INVOICE, 5000);
    if (!invoice->invoice.ok)
        fail_msg("invoice refused: %s", invoice->invoice.error);
}

/* Expect one settlement booked for payment_hash and announce it; kv writes in between are
   acknowledged and skipped (their last value lands in kv, if given). */
static void
wfix_expect_settled(wfix_t *f, const uint8_t hash[32], uint64_t amount, char *kv, int timeout_ms)
{
    msg_t in = {0};
    for (;;) {
        if (probe_recv(f->ledger, &in, timeout_ms) != 0)
            fail_msg("no settlement booked within %d ms", timeout_ms);
        if (in.type == MSG_LEDGER_KV_SET) {
            if (kv)
                snprintf(kv, 256, "%s=%s", in.ledger_kv_set.key, in.ledger_kv_set.value);
            wfix_ack(f, in.ledger_kv_set.ref);
            msg_release(&in);
            continue;
        }
        break;
    }
    if (in.type != MSG_LEDGER_INVOICE_SETTLED)
        fail_msg("expected LEDGER_INVOICE_SETTLED, got %s", msg_type_name(in.type));
    assert_memory_equal(in.ledger_invoice_settled.payment_hash, hash, 32);
    assert_int_equal(in.ledger_invoice_settled.amount_msats, amount);
    wfix_ack(f, in.ledger_invoice_settled.ref);
    msg_release(&in);
    msg_t news = {0};
    wfix_expect(f->router, &news, MSG_INVOICE_SETTLED, 3000);
    assert_memory_equal(news.invoice_settled.payment_hash, hash, 32);
    msg_release(&news);
}

/* Nothing more for the ledger (other than kv writes) or the router within ms. */
static void
wfix_expect_quiet(wfix_t *f, int ms)
{
    msg_t in = {0};
    while (probe_recv(f->ledger, &in, ms) == 0) {
        if (in.type != MSG_LEDGER_KV_SET)
            fail_msg("unexpected %s to the ledger", msg_type_name(in.type));
        wfix_ack(f, in.ledger_kv_set.ref);
        msg_release(&in);
    }
    if (probe_recv(f->router, &in, 10) == 0)
        fail_msg("unexpected %s to the job router", msg_type_name(in.type));
}

/* The hex of 32 bytes. */
static void
wfix_hex(const uint8_t bytes[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

#endif
