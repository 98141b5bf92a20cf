/*  test_wallet_lnbits.c: the LNbits wallet backend against tests/stubs/lnbits_stub.mjs: an
    invoice created, checked and paid (detected once by polling), reconciliation after a
    restart, the legacy create answer, an unknown or missing key, malformed JSON, a funding
    source failure, a wrong amount refused by the invoice check, a stalled server (timeout)
    and an unreachable one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wallet_fixture.h"

#define STUB "tests/stubs/lnbits_stub.mjs"

static int
setup(void **state)
{
    wfix_t *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    char *argv[] = {"node", STUB, "--key", "inkey-test", NULL};
    wfix_stub(f, argv, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f->port);
    free(f->cfg.wallet_backend);
    f->cfg.wallet_backend = strdup("lnbits");
    free(f->cfg.lnbits_url);
    f->cfg.lnbits_url = strdup(url);
    free(f->cfg.lnbits_api_key);
    f->cfg.lnbits_api_key = strdup("inkey-test");
    f->cfg.wallet_request_timeout_ms = 1500;
    f->cfg.wallet_poll_interval_ms = 200;
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

static void
s_pay(wfix_t *f, const uint8_t hash[32])
{
    char hex[65], body[128];
    wfix_hex(hash, hex);
    snprintf(body, sizeof body, "{\"payment_hash\":\"%s\"}", hex);
    assert_int_equal(wfix_control(f, "/__stub/pay", body, NULL), 200);
}

/* An INVOICE with ok=false whose error contains text. */
static void
s_expect_refused(wfix_t *f, const char *text, int timeout_ms)
{
    msg_t in = {0};
    wfix_expect(f->router, &in, MSG_INVOICE, timeout_ms);
    assert_false(in.invoice.ok);
    if (!strstr(in.invoice.error, text))
        fail_msg("error '%s' does not say '%s'", in.invoice.error, text);
    assert_null(strstr(in.invoice.error, "inkey-test"));     /* the key never shows */
    msg_release(&in);
}

static void
t_create_settle(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    msg_t inv = {0};
    wfix_open_invoice(f, 1, 21000, &inv);
    assert_true(strncmp(inv.invoice.bolt11, "lnbcrt210n1", 11) == 0);
    uint8_t hash[32];
    memcpy(hash, inv.invoice.payment_hash, 32);
    msg_release(&inv);
    wfix_expect_quiet(f, 500);          /* polled, not paid yet */
    s_pay(f, hash);
    wfix_expect_settled(f, hash, 21000, NULL, 3000);
    wfix_expect_quiet(f, 800);          /* once */
    /* The legacy (pre-1.0) create answer works too. */
    assert_int_equal(wfix_control(f, "/__stub/config", "{\"mode\":\"legacy\"}", NULL), 200);
    wfix_open_invoice(f, 2, 5000, &inv);
    msg_release(&inv);
}

static void
t_restart_reconcile(void **state)
{
    wfix_t *f = *state;
    f->cfg.wallet_poll_interval_ms = 600000;    /* only the start-up reconciliation looks */
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
             "\"amount_msats\":8000,\"expires_at\":%llu,\"preimage\":null,\"wallet\":\"lnbits\"}]",
             hex, jobhex, bolt11, (unsigned long long) expires);
    assert_int_equal(wfix_start(f, rows), 0);
    wfix_expect_settled(f, hash, 8000, NULL, 3000);
    wfix_expect_quiet(f, 500);
}

static void
t_auth(void **state)
{
    wfix_t *f = *state;
    free(f->cfg.lnbits_api_key);
    f->cfg.lnbits_api_key = strdup("wrong-key");
    assert_int_equal(wfix_start(f, NULL), 0);
    wfix_request(f, 4, 1000, 600);
    s_expect_refused(f, "does not know this API key (404 Wallet not found)", 3000);
    /* Not retried: the next request is refused at once with the same reason. */
    wfix_request(f, 5, 1000, 600);
    s_expect_refused(f, "lnbits_api_key", 1000);
    char stats[4096];
    wfix_control(f, "/__stub/stats", "{}", stats);
    assert_non_null(strstr(stats, "\"creates\":0"));
}

static void
t_errors(void **state)
{
    wfix_t *f = *state;
    assert_int_equal(wfix_start(f, NULL), 0);
    wfix_control(f, "/__stub/config", "{\"mode\":\"malformed\"}", NULL);
    wfix_request(f, 6, 1000, 600);
    s_expect_refused(f, "LNbits' invoice answer is not a JSON object", 3000);
    wfix_control(f, "/__stub/config", "{\"mode\":\"funding\"}", NULL);
    wfix_request(f, 7, 1000, 600);
    s_expect_refused(f, "funding source failed during the invoice creation (520", 3000);
    wfix_control(f, "/__stub/config", "{\"mode\":\"invalid\"}", NULL);
    wfix_request(f, 8, 1000, 600);
    s_expect_refused(f, "rejected the invoice creation as invalid (400", 3000);
    wfix_control(f, "/__stub/config", "{\"mode\":\"wrong_amount\"}", NULL);
    wfix_request(f, 9, 1000, 600);
    s_expect_refused(f, "amount", 3000);
    /* Whole satoshis only: refused before asking. */
    wfix_control(f, "/__stub/config", "{\"mode\":\"\"}", NULL);
    wfix_request(f, 10, 1500, 600);
    s_expect_refused(f, "whole satoshis", 1000);
    /* A stalled server: the request times out (1.5 s), the create fails, no retry. */
    wfix_control(f, "/__stub/config", "{\"mode\":\"stall\"}", NULL);
    wfix_request(f, 11, 1000, 600);
    s_expect_refused(f, "cannot be reached", 4000);
}

static void
t_unreachable(void **state)
{
    wfix_t *f = *state;
    child_stop(&f->stub);
    assert_int_equal(wfix_start(f, NULL), 0);
    wfix_request(f, 12, 1000, 600);
    s_expect_refused(f, "cannot be reached (the invoice creation): connect", 3000);
}

static void
t_bad_config(void **state)
{
    wfix_t *f = *state;
    free(f->cfg.lnbits_api_key);
    f->cfg.lnbits_api_key = strdup("");
    assert_int_equal(wfix_start(f, NULL), -1);
    free(f->cfg.lnbits_api_key);
    f->cfg.lnbits_api_key = strdup("inkey-test");
    free(f->cfg.lnbits_url);
    f->cfg.lnbits_url = strdup("ftp://127.0.0.1/");
    assert_int_equal(wfix_start(f, NULL), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_create_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(t_restart_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(t_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
