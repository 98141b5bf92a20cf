/*  test_wallet_lnd.c: the LND wallet backend. The stream-line and invoice parsers with
    hostile input; then the actor against tests/stubs/lnd_stub.mjs over HTTPS with a
    certificate made here (pinned as the only CA): an invoice created, checked and settled
    through the stream once, the stream dropped and resumed from the kept settle_index without
    missing a payment made meanwhile, reconciliation after a restart, a refused macaroon, a
    certificate that is not the pinned one, a locked wallet, malformed JSON, and an
    unreachable node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <unistd.h>

#include "wallet/lnd.h"
#include "wallet_fixture.h"

#define STUB "tests/stubs/lnd_stub.mjs"
#define MACAROON_HEX "0201036c6e6402f801030a10"

static char s_dir[64];          /* the certificates and the macaroon of this run */

/* ---- parsers ------------------------------------------------------------------------------- */

static void
t_stream_lines(void **state)
{
    (void) state;
    lnd_event_t ev;
    char err[256];
    const char *good = "{\"result\":{\"r_hash\":\"cnm1A6FDRCZ+RkgpMib8r6TlqJxtYloiuTRah0vfu/k=\","
                       "\"state\":\"SETTLED\",\"amt_paid_msat\":\"1000000\",\"settle_date\":"
                       "\"1738000042\",\"settle_index\":\"17\",\"add_index\":\"42\"}}";
    assert_int_equal(lnd_stream_line(good, strlen(good), &ev, err, sizeof err), 0);
    assert_false(ev.is_error);
    assert_string_equal(ev.invoice.state, "SETTLED");
    assert_int_equal(ev.invoice.amt_paid_msat, 1000000);
    assert_int_equal(ev.invoice.settle_index, 17);
    assert_int_equal(ev.invoice.r_hash[0], 0x72);
    const char *error = "{\"error\":{\"code\":2,\"message\":\"bad\\nthing\",\"details\":[]}}";
    assert_int_equal(lnd_stream_line(error, strlen(error), &ev, err, sizeof err), 0);
    assert_true(ev.is_error);
    assert_string_equal(ev.message, "bad thing");
    assert_int_equal(ev.code, 2);
    struct { const char *line; const char *err; } bad[] = {
        {"", "the answer is not a JSON object"},
        {"[1]", "the answer is not a JSON object"},
        {"{\"result\":1}", "the invoice is not a JSON object"},
        {"{}", "a stream line with neither result nor error"},
        {"{\"result\":{\"r_hash\":\"AAAA\"}}", "r_hash is not 32 bytes of base64"},
        {"{\"result\":{\"r_hash\":\"cnm1A6FDRCZ+RkgpMib8r6TlqJxtYloiuTRah0vfu/k=\",\"settle_index\":\"-1\"}}",
         "settle_index is not a non-negative integer"},
        {"{\"result\":{\"r_hash\":\"cnm1A6FDRCZ+RkgpMib8r6TlqJxtYloiuTRah0vfu/k=\",\"amt_paid_msat\":\"99999999999999999999999\"}}",
         "amt_paid_msat is not a non-negative integer"},
        {"{\"result\":{\"r_hash\":\"cnm1A6FDRCZ+RkgpMib8r6TlqJxtYloiuTRah0vfu/k=\",\"state\":\"A_VERY_LONG_STATE_NAME\"}}",
         "state is not a short string"},
        {"{\"error\":\"x\"}", "error is not an object"},
        {"{\"result\":{}} trailing", "the answer is not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lnd_stream_line(bad[i].line, strlen(bad[i].line), &ev, err, sizeof err), -1);
        assert_string_equal(err, bad[i].err);
    }
    char *huge = calloc(1, LND_LINE_MAX + 2);
    memset(huge, ' ', LND_LINE_MAX + 1);
    assert_int_equal(lnd_stream_line(huge, LND_LINE_MAX + 1, &ev, err, sizeof err), -1);
    free(huge);
}

/* ---- against the stub ---------------------------------------------------------------------- */

static void
s_make_files(void)
{
    if (*s_dir)
        return;
    snprintf(s_dir, sizeof s_dir, "/tmp/pylon-lnd-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    char cmd[1024];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                 "-nodes -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
                 "-keyout %s/key%d.pem -out %s/cert%d.pem 2>/dev/null", s_dir, i, s_dir, i);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "printf '\\002\\001\\003lnd\\002\\370\\001\\003\\n\\020' > %s/invoice.macaroon", s_dir);
    assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
    s_make_files();
    wfix_t *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    char cert[128], key[128], path[128], url[64];
    snprintf(cert, sizeof cert, "%s/cert0.pem", s_dir);
    snprintf(key, sizeof key, "%s/key0.pem", s_dir);
    char *argv[] = {"node", STUB, "--cert", cert, "--key", key, "--macaroon", MACAROON_HEX, NULL};
    wfix_stub(f, argv, "CONTROL ");
    snprintf(url, sizeof url, "https://127.0.0.1:%d", f->port);
    free(f->cfg.wallet_backend);
    f->cfg.wallet_backend = strdup("lnd");
    free(f->cfg.lnd_url);
    f->cfg.lnd_url = strdup(url);
    free(f->cfg.lnd_tls_cert);
    f->cfg.lnd_tls_cert = strdup(cert);
    snprintf(path, sizeof path, "%s/invoice.macaroon", s_dir);
    free(f->cfg.lnd_macaroon);
    f->cfg.lnd_macaroon = strdup(path);
    f->cfg.wallet_request_timeout_ms = 2000;
    f->cfg.wallet_poll_interval_ms = 600000;    /* settlements must come through the stream */
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
    config_free(&f->cfg);
    free(f);
    return 0;
}

static long
s_stat(wfix_t *f, const char *name)
{
    char reply[4096], key[64];
    wfix_control(f, "/__stub/stats", "{}", reply);
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(reply, key);
    return at ? atol(at + strlen(key)) : -99;
}

/* Wait until the stub has n subscriptions open (the stream is up). */
static void
s_wait_streams(wfix_t *f, long n)
{
    for (int i = 0; i < 100 && s_stat(f, "streams") != n; i++)
        usleep(50000);
    assert_int_equal(s_stat(f, "streams"), n);
}

static void
s_pay(wfix_t *f, const uint8_t hash[32])
{
    char hex[65], body[128];
    wfix_hex(hash, hex);
    snprintf(body, sizeof body, "{\"payment_hash\":\"%s\"}", hex);
    assert_int_equal(wfix_control(f, "/__stub/pay", body, NULL), 200);
}

static void
s_expect_refused(wfix_t *f, const char *text, int timeout_ms)
{
    msg_t in = {0};
    wfix_expect(f->router, &in, MSG_INVOICE, timeout_ms);
    assert_false(in.invoice.ok);
    if (!strstr(in.invoice.error, text))
        fail_msg("error '%s' does not say '%s'", in.invoice.error, text);
    assert_null(strstr(in.invoice.error, MACAROON_HEX));     /* the macaroon never shows */
    msg_release(&in);
}

static void
t_create_settle_resume(void **state)
{
    wfix_t *f = *state;
    snprintf(f->kv_value, sizeof f->kv_value, "{\"value\":null}");
    assert_int_equal(wfix_start(f, NULL), 0);
    assert_non_null(strstr(f->last_kv_key, "lnd.settle_index"));
    s_wait_streams(f, 1);
    assert_int_equal(s_stat(f, "last_settle_index"), 0);
    msg_t inv = {0};
    wfix_open_invoice(f, 1, 21000, &inv);
    uint8_t hash[32];
    memcpy(hash, inv.invoice.payment_hash, 32);
    msg_release(&inv);
    s_pay(f, hash);
    char kv[256] = "";
    wfix_expect_settled(f, hash, 21000, kv, 3000);
    wfix_expect_quiet(f, 300);
    /* The stream drops; a payment arrives while it is down; the stream resumes from
       settle_index 1 and the payment is seen, once. */
    wfix_open_invoice(f, 2, 5000, &inv);
    memcpy(hash, inv.invoice.payment_hash, 32);
    msg_release(&inv);
    assert_int_equal(wfix_control(f, "/__stub/drop", "{}", NULL), 200);
    s_pay(f, hash);
    kv[0] = 0;
    wfix_expect_settled(f, hash, 5000, kv, 5000);
    assert_int_equal(s_stat(f, "subscribes"), 2);
    assert_int_equal(s_stat(f, "last_settle_index"), 1);
    wfix_expect_quiet(f, 500);
}

static void
t_restart_reconcile(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    msg_t inv = {0};
    wfix_open_invoice(f, 3, 8000, &inv);
    uint8_t hash[32], job[32];
    memcpy(hash, inv.invoice.payment_hash, 32);
    memcpy(job, inv.invoice.job, 32);
    char bolt11[1024], hex[65], jobhex[65], rows[2048];
    snprintf(bolt11, sizeof bolt11, "%s", inv.invoice.bolt11);
    uint64_t expires = inv.invoice.expires_at;
    msg_release(&inv);
    wfix_stop(f);
    s_pay(f, hash);                     /* paid while the node was down */
    wfix_hex(hash, hex);
    wfix_hex(job, jobhex);
    snprintf(rows, sizeof rows, "[{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"%s\","
             "\"amount_msats\":8000,\"expires_at\":%llu,\"preimage\":null,\"wallet\":\"lnd\"}]",
             hex, jobhex, bolt11, (unsigned long long) expires);
    /* The ledger says the last settlement seen was 0: the stream replays #1 and the lookup
       finds it paid; it is booked once. */
    snprintf(f->kv_value, sizeof f->kv_value, "{\"value\":\"0\"}");
    assert_int_equal(wfix_start(f, rows), 0);
    wfix_expect_settled(f, hash, 8000, NULL, 3000);
    wfix_expect_quiet(f, 800);
}

static void
t_auth(void **state)
{
    wfix_t *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/wrong.macaroon", s_dir);
    FILE *file = fopen(path, "wb");
    fputs("not the macaroon", file);
    fclose(file);
    free(f->cfg.lnd_macaroon);
    f->cfg.lnd_macaroon = strdup(path);
    assert_int_equal(wfix_start(f, NULL), 0);
    usleep(300000);
    wfix_request(f, 4, 1000, 600);
    s_expect_refused(f, "LND refused the macaroon", 3000);
    long subscribes = s_stat(f, "subscribes");
    usleep(1500000);                    /* not retried: no new subscription */
    assert_int_equal(s_stat(f, "subscribes"), subscribes);
    assert_int_equal(s_stat(f, "creates"), 0);
}

static void
t_wrong_cert(void **state)
{
    wfix_t *f = *state;
    char cert[128];
    snprintf(cert, sizeof cert, "%s/cert1.pem", s_dir);
    free(f->cfg.lnd_tls_cert);
    f->cfg.lnd_tls_cert = strdup(cert);
    assert_int_equal(wfix_start(f, NULL), 0);
    usleep(300000);
    wfix_request(f, 5, 1000, 600);
    s_expect_refused(f, "TLS certificate is not the one in [wallet] lnd_tls_cert", 3000);
    assert_int_equal(s_stat(f, "subscribes"), 0);
}

static void
t_errors(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    s_wait_streams(f, 1);
    wfix_control(f, "/__stub/config", "{\"mode\":\"malformed\"}", NULL);
    wfix_request(f, 6, 1000, 600);
    s_expect_refused(f, "LND's AddInvoice answer is not a JSON object", 3000);
    wfix_control(f, "/__stub/config", "{\"mode\":\"locked\"}", NULL);
    wfix_request(f, 7, 1000, 600);
    s_expect_refused(f, "wallet locked", 3000);
    /* Garbage and an error line in the stream: skipped, the stream goes on. */
    wfix_control(f, "/__stub/config", "{\"mode\":\"stream_garbage\"}", NULL);
    wfix_control(f, "/__stub/drop", "{}", NULL);
    s_wait_streams(f, 1);
    wfix_control(f, "/__stub/config", "{\"mode\":\"\"}", NULL);
    msg_t inv = {0};
    wfix_open_invoice(f, 8, 3000, &inv);
    uint8_t hash[32];
    memcpy(hash, inv.invoice.payment_hash, 32);
    msg_release(&inv);
    s_pay(f, hash);
    wfix_expect_settled(f, hash, 3000, NULL, 3000);
}

static void
t_unreachable(void **state)
{
    wfix_t *f = *state;
    child_stop(&f->stub);
    assert_int_equal(wfix_start(f, NULL), 0);
    wfix_request(f, 9, 1000, 600);
    s_expect_refused(f, "cannot be reached (the invoice creation): connect", 3000);
}

static void
t_bad_config(void **state)
{
    wfix_t *f = *state;
    free(f->cfg.lnd_macaroon);
    f->cfg.lnd_macaroon = strdup("/nonexistent/invoice.macaroon");
    assert_int_equal(wfix_start(f, NULL), -1);
}

static int
s_cleanup(void **state)
{
    (void) state;
    char cmd[128];
    if (*s_dir) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
        return system(cmd) == 0 ? 0 : -1;
    }
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_stream_lines),
        cmocka_unit_test_setup_teardown(t_create_settle_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(t_restart_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(t_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(t_wrong_cert, setup, teardown),
        cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, s_cleanup);
}
