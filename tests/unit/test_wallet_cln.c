/*  test_wallet_cln.c: the Core Lightning wallet backend. The response reader and parsers with
    hostile input; then the actor against tests/stubs/cln_stub.mjs on a unix socket: an
    invoice created and its payment detected once through waitanyinvoice, the socket removed
    and restored without missing a payment made meanwhile, reconciliation after a restart
    (paid while down, expired while down), JSON-RPC errors, malformed, oversized and truncated
    responses, and a socket that is missing at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <time.h>
#include <unistd.h>

#include "wallet/cln.h"
#include "wallet_fixture.h"

#define STUB "tests/stubs/cln_stub.mjs"

static char s_dir[64];          /* the socket's directory for this run */
static char s_sock[96];         /* the socket path */

/* ---- the reader and the parsers ------------------------------------------------------------ */

/* Feed text to a reader in pieces of step bytes; the whole objects, joined by '|'. */
static int
s_frames(const char *text, size_t step, char *out, size_t size, char *err, size_t err_size)
{
    cln_reader_t reader;
    assert_int_equal(cln_reader_init(&reader, 64), 0);
    out[0] = 0;
    int rc = 0;
    size_t len = strlen(text);
    for (size_t at = 0; at < len && rc >= 0; at += step) {
        size_t n = len - at < step ? len - at : step;
        if (cln_reader_feed(&reader, text + at, n) != 0) {
            snprintf(err, err_size, "full");
            rc = -1;
            break;
        }
        const char *json;
        size_t json_len;
        while ((rc = cln_reader_next(&reader, &json, &json_len, err, err_size)) == 1) {
            size_t have = strlen(out);
            snprintf(out + have, size - have, "%s%.*s", *out ? "|" : "", (int) json_len, json);
        }
    }
    if (rc >= 0 && cln_reader_pending(&reader) > 0) {
        snprintf(err, err_size, "pending %zu", cln_reader_pending(&reader));
        rc = -2;
    }
    cln_reader_free(&reader);
    return rc;
}

static void
t_reader(void **state)
{
    (void) state;
    char out[512], err[128];
    const char *two = "{\"id\":1,\"s\":\"}{\\\"\"}\n\n  {\"id\":2,\"a\":[{}]}\n\n";
    for (size_t step = 1; step <= strlen(two); step++) {
        assert_int_equal(s_frames(two, step, out, sizeof out, err, sizeof err), 0);
        assert_string_equal(out, "{\"id\":1,\"s\":\"}{\\\"\"}|{\"id\":2,\"a\":[{}]}");
    }
    /* Cut short: the object stays pending, nothing is handed out. */
    assert_int_equal(s_frames("{\"id\":1,\"result\":{", 3, out, sizeof out, err, sizeof err), -2);
    assert_string_equal(out, "");
    assert_string_equal(err, "pending 18");
    /* Not an object where one starts. */
    assert_int_equal(s_frames("{}\n\nlightningd: oops", 4, out, sizeof out, err, sizeof err), -1);
    assert_string_equal(out, "{}");
    assert_string_equal(err, "a response that does not start with '{' (byte 0x6c)");
    /* Larger than the buffer (64 bytes here). */
    assert_int_equal(s_frames("{\"x\":\"0123456789012345678901234567890123456789012345678901234567890\"}",
                              8, out, sizeof out, err, sizeof err), -1);
    assert_string_equal(err, "full");
    /* Nesting deeper than CLN_DEPTH_MAX. */
    assert_int_equal(s_frames("{\"a\":[[[[[[[[[[[[[[[[[[[[", 64, out, sizeof out, err, sizeof err), -1);
    assert_string_equal(err, "a response nested deeper than 16 levels");
    /* Room comes back once objects are handed out: many small ones through a small buffer. */
    cln_reader_t reader;
    assert_int_equal(cln_reader_init(&reader, 16), 0);
    for (int i = 0; i < 100; i++) {
        const char *json;
        size_t len;
        assert_int_equal(cln_reader_feed(&reader, "{\"id\":7}\n\n", 10), 0);
        assert_int_equal(cln_reader_next(&reader, &json, &len, err, sizeof err), 1);
        assert_int_equal(len, 8);
        assert_int_equal(cln_reader_next(&reader, &json, &len, err, sizeof err), 0);
    }
    cln_reader_free(&reader);
}

static void
t_responses(void **state)
{
    (void) state;
    cln_response_t resp;
    char err[128];
    const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"payment_hash\":"
                     "\"7279b503a14344267e464829da26fcafa4e5a89c6d625a22b9345a874bdfbbf9\","
                     "\"bolt11\":\"lnbcrt10u1pne035q\",\"warning_capacity\":\"low\\ncapacity\"}}";
    assert_int_equal(cln_response_parse(ok, strlen(ok), &resp, err, sizeof err), 0);
    assert_false(resp.is_error);
    assert_int_equal(resp.id, 12);
    char bolt11[64], warning[128];
    uint8_t hash[32];
    assert_int_equal(cln_created_parse(resp.result, bolt11, sizeof bolt11, hash, warning,
                                       sizeof warning, err, sizeof err), 0);
    assert_string_equal(bolt11, "lnbcrt10u1pne035q");
    assert_int_equal(hash[0], 0x72);
    assert_string_equal(warning, "warning_capacity: low capacity");
    /* A bolt11 longer than the caller's buffer is refused, not cut. */
    assert_int_equal(cln_created_parse(resp.result, bolt11, 8, hash, warning, sizeof warning,
                                       err, sizeof err), -1);
    json_object_put(resp.result);

    const char *error = "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":900,\"message\":"
                        "\"Duplicate label\\t'x'\",\"data\":{}}}";
    assert_int_equal(cln_response_parse(error, strlen(error), &resp, err, sizeof err), 0);
    assert_true(resp.is_error);
    assert_int_equal(resp.code, 900);
    assert_string_equal(resp.message, "Duplicate label 'x'");
    assert_null(resp.result);

    struct { const char *json; const char *err; } bad[] = {
        {"", "not a valid JSON object"},
        {"[1]", "not a valid JSON object"},
        {"{\"id\":1,\"result\":{}} x", "not a valid JSON object"},
        {"{\"id\":1,\"result\":{\"a\":}}", "not a valid JSON object"},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}", "jsonrpc is not \"2.0\""},
        {"{\"id\":\"1\",\"result\":{}}", "no id that is a non-negative integer"},
        {"{\"id\":-1,\"result\":{}}", "no id that is a non-negative integer"},
        {"{\"result\":{}}", "no id that is a non-negative integer"},
        {"{\"id\":1}", "not exactly one of result and error"},
        {"{\"id\":1,\"result\":{},\"error\":{\"code\":1}}", "not exactly one of result and error"},
        {"{\"id\":1,\"error\":{\"message\":\"x\"}}", "an error without an integer code"},
        {"{\"id\":1,\"error\":\"x\"}", "an error without an integer code"},
        {"{\"id\":1,\"result\":[]}", "a result that is not an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cln_response_parse(bad[i].json, strlen(bad[i].json), &resp, err,
                                            sizeof err), -1);
        assert_string_equal(err, bad[i].err);
        assert_null(resp.result);
    }
}

static void
t_invoices(void **state)
{
    (void) state;
    char err[128];
    cln_invoice_t inv;
    const char *hash = "\"payment_hash\":\"7af2564ab6113d18b2d85178ca67e28bd8518824101f6c426493da055cbb5d6f\"";
    struct { const char *members; int rc; cln_status_t status; uint64_t pay_index, amount;
             const char *err; } cases[] = {
        {"\"status\":\"paid\",\"pay_index\":5,\"amount_received_msat\":2000,\"paid_at\":1738000000",
         0, CLN_PAID, 5, 2000, NULL},
        {"\"status\":\"paid\",\"pay_index\":6,\"amount_received_msat\":\"3000msat\"", 0, CLN_PAID,
         6, 3000, NULL},
        {"\"status\":\"unpaid\",\"expires_at\":1738604800", 0, CLN_UNPAID, 0, 0, NULL},
        {"\"status\":\"expired\"", 0, CLN_EXPIRED, 0, 0, NULL},
        {"\"status\":\"paid\",\"amount_received_msat\":2000", -1, 0, 0, 0,
         "a paid invoice without its pay_index"},
        {"\"status\":\"deleted\"", -1, 0, 0, 0, "status is not unpaid, paid or expired"},
        {"\"status\":1", -1, 0, 0, 0, "status is not a short string"},
        {"\"status\":\"paid\",\"pay_index\":-5", -1, 0, 0, 0, "pay_index is not a non-negative integer"},
        {"\"status\":\"paid\",\"pay_index\":1,\"amount_received_msat\":\"12x\"", -1, 0, 0, 0,
         "amount_received_msat is not a non-negative integer"},
        {"\"status\":\"paid\",\"pay_index\":1,\"amount_received_msat\":\"99999999999999999999999msat\"",
         -1, 0, 0, 0, "amount_received_msat is not a non-negative integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{%s,%s}", hash, cases[i].members);
        json_object *obj = json_tokener_parse(text);
        assert_non_null(obj);
        assert_int_equal(cln_invoice_parse(obj, &inv, err, sizeof err), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_int_equal(inv.status, cases[i].status);
            assert_int_equal(inv.pay_index, cases[i].pay_index);
            assert_int_equal(inv.amount_received_msat, cases[i].amount);
            assert_int_equal(inv.payment_hash[0], 0x7a);
        }
        else
            assert_string_equal(err, cases[i].err);
        json_object_put(obj);
    }
    json_object *obj = json_tokener_parse("{\"payment_hash\":\"7af2\",\"status\":\"paid\"}");
    assert_int_equal(cln_invoice_parse(obj, &inv, err, sizeof err), -1);
    assert_string_equal(err, "no payment_hash of 64 hex digits");
    json_object_put(obj);
}

/* ---- against the stub ---------------------------------------------------------------------- */

static void
s_start_stub(wfix_t *f)
{
    char *argv[] = {"node", STUB, s_sock, NULL};
    char line[256];
    f->stub = child_start(argv);
    assert_non_null(f->stub);
    assert_int_equal(child_wait_line(f->stub, "CONTROL ", line, sizeof line, 10000), 0);
    f->control_port = atoi(line + strlen("CONTROL "));
    assert_int_equal(child_wait_line(f->stub, "LISTENING ", line, sizeof line, 10000), 0);
    assert_string_equal(line + strlen("LISTENING "), s_sock);
}

static int
setup(void **state)
{
    if (!*s_dir) {
        snprintf(s_dir, sizeof s_dir, "/tmp/pylon-cln-XXXXXX");
        assert_non_null(mkdtemp(s_dir));
        snprintf(s_sock, sizeof s_sock, "%s/lightning-rpc", s_dir);
    }
    wfix_t *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    s_start_stub(f);
    free(f->cfg.wallet_backend);
    f->cfg.wallet_backend = strdup("cln");
    free(f->cfg.cln_rpc);
    f->cfg.cln_rpc = strdup(s_sock);
    f->cfg.wallet_request_timeout_ms = 1500;
    f->cfg.wallet_poll_interval_ms = 600000;    /* payments must come through waitanyinvoice */
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    wfix_t *f = *state;
    wfix_stop(f);
    probe_destroy(&f->ledger);
    probe_destroy(&f->router);
    child_stop(&f->stub);
    unlink(s_sock);
    config_free(&f->cfg);
    free(f);
    return 0;
}

/* The stub's statistics: a top-level number, or calls.<name> when name is "calls.x". */
static long
s_stat(wfix_t *f, const char *name)
{
    char reply[4096];
    wfix_control(f, "/__stub/stats", "{}", reply);
    json_object *top = json_tokener_parse(reply), *v = NULL;
    long value = -99;
    if (strncmp(name, "calls.", 6) == 0) {
        json_object *calls;
        value = 0;
        if (json_object_object_get_ex(top, "calls", &calls)
            && json_object_object_get_ex(calls, name + 6, &v))
            value = (long) json_object_get_int64(v);
    }
    else if (json_object_object_get_ex(top, name, &v))
        value = (long) json_object_get_int64(v);
    json_object_put(top);
    return value;
}

/* Wait until the stub's stat reaches value (6 s at most: reconnects back off from 1 s). */
static void
s_wait_stat(wfix_t *f, const char *name, long value)
{
    for (int i = 0; i < 120 && s_stat(f, name) != value; i++)
        usleep(50000);
    assert_int_equal(s_stat(f, name), value);
}

static void
s_pay(wfix_t *f, const uint8_t hash[32])
{
    char hex[65], body[128];
    wfix_hex(hash, hex);
    snprintf(body, sizeof body, "{\"payment_hash\":\"%s\"}", hex);
    assert_int_equal(wfix_control(f, "/__stub/pay", body, NULL), 200);
}

/* The next call of method is answered with action (see cln_stub.mjs). */
static void
s_next(wfix_t *f, const char *method, const char *action, long code, const char *message)
{
    char body[256];
    snprintf(body, sizeof body, "{\"method\":\"%s\",\"action\":\"%s\",\"code\":%ld,"
             "\"message\":\"%s\"}", method, action, code, message);
    assert_int_equal(wfix_control(f, "/__stub/next", body, NULL), 200);
}

static void
s_expect_refused(wfix_t *f, const char *text, int timeout_ms)
{
    msg_t in = {0};
    wfix_expect(f->router, &in, MSG_INVOICE, timeout_ms);
    assert_false(in.invoice.ok);
    if (!strstr(in.invoice.error, text))
        fail_msg("error '%s' does not say '%s'", in.invoice.error, text);
    msg_release(&in);
}

/* The next message to the ledger keeps the pay index: key cln.pay_index, this value. */
static void
s_expect_kv(wfix_t *f, const char *value)
{
    msg_t in = {0};
    wfix_expect(f->ledger, &in, MSG_LEDGER_KV_SET, 3000);
    assert_string_equal(in.ledger_kv_set.key, "cln.pay_index");
    assert_string_equal(in.ledger_kv_set.value, value);
    wfix_ack(f, in.ledger_kv_set.ref);
    msg_release(&in);
}

/* Open an invoice for job_byte; its payment hash into hash. */
static void
s_open(wfix_t *f, uint8_t job_byte, uint64_t amount, uint8_t hash[32])
{
    msg_t inv = {0};
    wfix_open_invoice(f, job_byte, amount, &inv);
    memcpy(hash, inv.invoice.payment_hash, 32);
    msg_release(&inv);
}

static void
t_create_pay_once(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    assert_non_null(strstr(f->last_kv_key, "cln.pay_index"));
    s_wait_stat(f, "waiters", 1);
    assert_int_equal(s_stat(f, "last_lastpay_index"), 0);
    uint8_t hash[32];
    s_open(f, 1, 21000, hash);
    /* What lightningd was asked: the amount, a label of ours, the description, the expiry. */
    char reply[4096];
    wfix_control(f, "/__stub/stats", "{}", reply);
    assert_non_null(strstr(reply, "\"amount_msat\":21000"));
    assert_non_null(strstr(reply, "\"label\":\"pylon-"));
    assert_non_null(strstr(reply, "\"description\":\"job: 12 tokens\""));
    assert_non_null(strstr(reply, "\"expiry\":600"));
    s_pay(f, hash);
    wfix_expect_settled(f, hash, 21000, NULL, 3000);
    s_expect_kv(f, "1");                /* after the settlement was booked */
    wfix_expect_quiet(f, 500);
    /* Armed again from the new index, and a second invoice gets its own label. */
    s_wait_stat(f, "last_lastpay_index", 1);
    assert_int_equal(s_stat(f, "waiters"), 1);
    s_open(f, 2, 1000, hash);
    assert_int_equal(s_stat(f, "calls.invoice"), 2);
    assert_int_equal(s_stat(f, "calls.waitanyinvoice"), 2);
}

static void
t_socket_dropped_and_restored(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    s_wait_stat(f, "waiters", 1);
    uint8_t first[32], second[32];
    s_open(f, 3, 4000, first);
    s_pay(f, first);
    wfix_expect_settled(f, first, 4000, NULL, 3000);
    s_expect_kv(f, "1");
    s_open(f, 4, 5000, second);
    /* lightningd goes away; the second invoice is paid meanwhile (as if by a node that
       restarted): nothing can tell us now, and an invoice request fails clearly. */
    assert_int_equal(wfix_control(f, "/__stub/down", "{}", NULL), 200);
    usleep(200000);
    s_pay(f, second);
    wfix_request(f, 5, 1000, 600);
    s_expect_refused(f, "is lightningd running? cln_rpc=", 3000);
    wfix_expect_quiet(f, 300);
    /* Back: the poll resumes from pay_index 1 and the payment is seen, once. */
    assert_int_equal(wfix_control(f, "/__stub/up", "{}", NULL), 200);
    wfix_expect_settled(f, second, 5000, NULL, 5000);
    s_expect_kv(f, "2");
    s_wait_stat(f, "last_lastpay_index", 2);
    wfix_expect_quiet(f, 500);
    /* A plain drop of the connections (lightningd restarting quickly) also reconnects. */
    long connects = s_stat(f, "connects");
    assert_int_equal(wfix_control(f, "/__stub/drop", "{}", NULL), 200);
    s_wait_stat(f, "waiters", 1);
    assert_true(s_stat(f, "connects") > connects);
    s_open(f, 6, 7000, second);
    s_pay(f, second);
    wfix_expect_settled(f, second, 7000, NULL, 3000);
    s_expect_kv(f, "3");
    wfix_expect_quiet(f, 300);
}

static void
t_restart_reconcile(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    s_wait_stat(f, "waiters", 1);
    uint8_t paid[32], lapsed[32];
    s_open(f, 7, 8000, paid);
    /* One that expires in 2 s, opened by hand (wfix_open_invoice asks 600 s). */
    wfix_request(f, 8, 9000, 2);
    msg_t in = {0};
    wfix_expect(f->ledger, &in, MSG_LEDGER_INVOICE_NEW, 3000);
    memcpy(lapsed, in.ledger_invoice_new.payment_hash, 32);
    uint64_t lapsed_expires = in.ledger_invoice_new.expires_at;
    wfix_ack(f, in.ledger_invoice_new.ref);
    msg_release(&in);
    wfix_expect(f->router, &in, MSG_INVOICE, 3000);
    assert_true(in.invoice.ok);
    msg_release(&in);
    wfix_stop(f);
    s_pay(f, paid);                     /* paid while the node was down */
    usleep(2600000);                    /* the other one expires meanwhile */
    char hex[2][65], job[2][65], rows[1024];
    uint8_t jobs[2][32];
    memset(jobs[0], 7, 32);
    memset(jobs[1], 8, 32);
    wfix_hex(paid, hex[0]);
    wfix_hex(lapsed, hex[1]);
    wfix_hex(jobs[0], job[0]);
    wfix_hex(jobs[1], job[1]);
    snprintf(rows, sizeof rows, "[{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"x\","
             "\"amount_msats\":8000,\"expires_at\":%llu,\"preimage\":null,\"wallet\":\"cln\"},"
             "{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"x\",\"amount_msats\":9000,"
             "\"expires_at\":%llu,\"preimage\":null,\"wallet\":\"cln\"}]",
             hex[0], job[0], (unsigned long long) time(NULL) + 600, hex[1], job[1],
             (unsigned long long) lapsed_expires);
    /* The ledger says payment #1 was already seen: the long poll does not replay it, so only
       the reconciliation by listinvoices can find it. */
    snprintf(f->kv_value, sizeof f->kv_value, "{\"value\":\"1\"}");
    assert_int_equal(wfix_start(f, rows), 0);
    bool settled = false, expired = false;
    while (!settled || !expired) {
        if (probe_recv(f->ledger, &in, 3000) != 0)
            fail_msg("reconciliation incomplete: settled %d expired %d", settled, expired);
        if (in.type == MSG_LEDGER_INVOICE_SETTLED) {
            assert_false(settled);
            assert_memory_equal(in.ledger_invoice_settled.payment_hash, paid, 32);
            assert_int_equal(in.ledger_invoice_settled.amount_msats, 8000);
            settled = true;
            wfix_ack(f, in.ledger_invoice_settled.ref);
        }
        else if (in.type == MSG_LEDGER_INVOICE_EXPIRED) {
            assert_false(expired);
            assert_memory_equal(in.ledger_invoice_expired.payment_hash, lapsed, 32);
            expired = true;
            wfix_ack(f, in.ledger_invoice_expired.ref);
        }
        else
            fail_msg("unexpected %s to the ledger", msg_type_name(in.type));
        msg_release(&in);
    }
    int news[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(probe_recv(f->router, &in, 3000), 0);
        news[in.type == MSG_INVOICE_EXPIRED]++;
        msg_release(&in);
    }
    assert_int_equal(news[0], 1);
    assert_int_equal(news[1], 1);
    assert_int_equal(s_stat(f, "last_lastpay_index"), 1);
    assert_true(s_stat(f, "calls.listinvoices") >= 2);
    wfix_expect_quiet(f, 800);
}

static void
t_rpc_errors(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    s_wait_stat(f, "waiters", 1);
    s_next(f, "invoice", "error", 900, "Duplicate label 'x'");
    wfix_request(f, 9, 1000, 600);
    s_expect_refused(f, "Core Lightning invoice failed: the label is already used (code 900: "
                     "Duplicate label 'x')", 3000);
    s_next(f, "invoice", "error", -32602, "amount_msat: should be a millisatoshi amount");
    wfix_request(f, 10, 1000, 600);
    s_expect_refused(f, "lightningd refused the parameters (code -32602: amount_msat", 3000);
    /* Each request went to lightningd once: no blind retry. */
    assert_int_equal(s_stat(f, "calls.invoice"), 2);
    /* An error from the long poll: it is armed again, and payments still arrive. */
    s_next(f, "waitanyinvoice", "error", -1, "Invoice deleted during wait");
    assert_int_equal(wfix_control(f, "/__stub/drop", "{}", NULL), 200);
    s_wait_stat(f, "calls.waitanyinvoice", 3);
    s_wait_stat(f, "waiters", 1);
    /* A warning is passed on in the log; the invoice is made. */
    s_next(f, "invoice", "warning", 0, "");
    uint8_t hash[32];
    s_open(f, 11, 3000, hash);
    s_pay(f, hash);
    wfix_expect_settled(f, hash, 3000, NULL, 3000);
    wfix_expect_quiet(f, 300);
}

static void
t_bad_responses(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    s_wait_stat(f, "waiters", 1);
    struct { const char *action; const char *error; } cases[] = {
        {"malformed", "malformed JSON-RPC response (not a valid JSON object)"},
        {"garbage", "a response that does not start with '{'"},
        {"oversized", "a response larger than 524288 bytes"},
        {"truncate", "response stopped after"},
        {"close", "lightningd closed the connection"},
    };
    for (int i = 0; i < 5; i++) {
        s_next(f, "invoice", cases[i].action, 0, "");
        wfix_request(f, (uint8_t) (20 + i), 1000, 600);
        s_expect_refused(f, cases[i].error, 4000);
        /* The connection is back for the next request (at once: a request does not wait for
           the backoff). */
        uint8_t hash[32];
        s_open(f, (uint8_t) (40 + i), 1000, hash);
    }
    assert_int_equal(s_stat(f, "calls.invoice"), 10);
    /* The long poll's connection was not touched by all that. */
    assert_int_equal(s_stat(f, "calls.waitanyinvoice"), 1);
    /* Garbage on the long poll: that connection is dropped and polls again from the same
       index; a payment is then seen once. */
    s_next(f, "waitanyinvoice", "garbage", 0, "");
    assert_int_equal(wfix_control(f, "/__stub/drop", "{}", NULL), 200);
    s_wait_stat(f, "calls.waitanyinvoice", 3);
    s_wait_stat(f, "waiters", 1);
    assert_int_equal(s_stat(f, "last_lastpay_index"), 0);
    uint8_t hash[32];
    s_open(f, 60, 2500, hash);
    s_pay(f, hash);
    wfix_expect_settled(f, hash, 2500, NULL, 3000);
    wfix_expect_quiet(f, 300);
}

static void
t_socket_missing(void **state)
{
    wfix_t *f = *state;
    child_stop(&f->stub);
    unlink(s_sock);
    assert_int_equal(wfix_start(f, NULL), 0);
    wfix_request(f, 12, 1000, 600);
    char text[160];
    snprintf(text, sizeof text, "(No such file or directory): is lightningd running? "
             "cln_rpc=%s", s_sock);
    s_expect_refused(f, text, 3000);
    /* lightningd starts: the node connects on its own and invoices work. */
    s_start_stub(f);
    s_wait_stat(f, "waiters", 1);
    uint8_t hash[32];
    s_open(f, 13, 1000, hash);
}

static void
t_bad_config(void **state)
{
    wfix_t *f = *state;
    free(f->cfg.cln_rpc);
    f->cfg.cln_rpc = strdup("");
    assert_int_equal(wfix_start(f, NULL), -1);
    char longer[200];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    free(f->cfg.cln_rpc);
    f->cfg.cln_rpc = strdup(longer);
    assert_int_equal(wfix_start(f, NULL), -1);
}

static int
s_cleanup(void **state)
{
    (void) state;
    return *s_dir && rmdir(s_dir) != 0 ? -1 : 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_reader),
        cmocka_unit_test(t_responses),
        cmocka_unit_test(t_invoices),
        cmocka_unit_test_setup_teardown(t_create_pay_once, setup, teardown),
        cmocka_unit_test_setup_teardown(t_socket_dropped_and_restored, setup, teardown),
        cmocka_unit_test_setup_teardown(t_restart_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(t_rpc_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(t_socket_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_config, setup, teardown),
    };
    (void) wfix_stub;           /* the stub says a socket path, not a port: s_start_stub */
    return cmocka_run_group_tests(tests, NULL, s_cleanup);
}
