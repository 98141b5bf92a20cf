/*  test_pricing.c: the price arithmetic, and the pricing actor answering over the runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "actors.h"
#include "node.h"
#include "pricing.h"
#include "probe.h"

static void
t_arithmetic(void **state)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.base_price_sats = 10;
    cfg.price_per_1k_tokens = 1.5;
    pricing_quote_t q;
    /* 10 sats + 1.5 sats × 1,100/1,000 tokens = 11,650 msats → rounded up to 12 sats. */
    pricing_quote(&cfg, "llamacpp:gpt_oss_20b", 100, 1000, 0, &q);
    assert_true(q.admitted);
    assert_int_equal(q.base_msats, 10000);
    assert_int_equal(q.tokens_msats, 1650);
    assert_int_equal(q.price_msats, 12000);
    /* A multiplier applies to the whole. */
    const char *text = "[pricing]\nbackend_multipliers = { \"llamacpp:gpt_oss_120b\" = 2.5 }\n";
    char err[256];
    assert_int_equal(config_apply_text(&cfg, "t", text, strlen(text), err, sizeof err), 0);
    pricing_quote(&cfg, "llamacpp:gpt_oss_120b", 100, 1000, 0, &q);
    assert_int_equal(q.price_msats, 30000);   /* 11,650 × 2.5 = 29,125 → 30 sats */
    assert_true(q.multiplier == 2.5);
    /* Rounding is always up: one token at 0.001 sat per 1k is still 1 sat. */
    cfg.base_price_sats = 0;
    cfg.price_per_1k_tokens = 0.001;
    pricing_quote(&cfg, "x", 1, 0, 0, &q);
    assert_int_equal(q.tokens_msats, 1);
    assert_int_equal(q.price_msats, 1000);
    /* Both prices zero: a free job. */
    cfg.price_per_1k_tokens = 0;
    pricing_quote(&cfg, "x", 5000, 5000, 0, &q);
    assert_true(q.admitted);
    assert_int_equal(q.price_msats, 0);
    /* Absurd sizes do not overflow: they are refused. */
    cfg.base_price_sats = 1;
    cfg.price_per_1k_tokens = 1e9;
    pricing_quote(&cfg, "x", UINT64_MAX, UINT64_MAX, 0, &q);
    assert_false(q.admitted);
    assert_non_null(strstr(q.reason, "exceed"));
    config_free(&cfg);
}

static void
t_bids(void **state)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.base_price_sats = 10;
    cfg.price_per_1k_tokens = 0;
    pricing_quote_t q;
    pricing_quote(&cfg, "x", 0, 0, 9999, &q);
    assert_false(q.admitted);
    assert_string_equal(q.reason, "bid of 9999 msats is below the price of 10000 msats");
    pricing_quote(&cfg, "x", 0, 0, 10000, &q);
    assert_true(q.admitted);
    pricing_quote(&cfg, "x", 0, 0, 0, &q);     /* no bid: the quote decides */
    assert_true(q.admitted);
    config_free(&cfg);
}

static void
t_actor_answers(void **state)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.base_price_sats = 21;
    cfg.price_per_1k_tokens = 0;
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", "inproc://tp-job_router");
    probe_t *probe = probe_new("job_router", "inproc://tp-job_router");
    node_member_t members[] = {{&pricing_actor, &cfg}};
    node_t *node = node_start(members, 1, &dir, "tp-", NULL);
    assert_non_null(node);
    msg_t ask = {.type = MSG_QUOTE_REQUEST,
                 .quote_request = {.backend = "apple_fm", .max_tokens = 10, .bid_msats = 0}};
    memset(ask.quote_request.job, 7, 32);
    assert_int_equal(probe_send(probe, "pricing", "inproc://tp-pricing", &ask), 0);
    msg_t in = {0};
    assert_int_equal(probe_recv(probe, &in, 2000), 0);
    assert_int_equal(in.type, MSG_QUOTE);
    assert_true(in.quote.admitted);
    assert_int_equal(in.quote.price_msats, 21000);
    assert_int_equal(in.quote.job[31], 7);
    msg_release(&in);
    node_stop(&node);
    probe_destroy(&probe);
    config_free(&cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_arithmetic),
        cmocka_unit_test(t_bids),
        cmocka_unit_test(t_actor_answers),
    };
    return cmocka_run_group_tests_name("pricing", tests, NULL, NULL);
}
