/*  test_wallet.c: the wallet actor with the demo backend, over the runtime. Probes play the
    ledger, the job router and the control actor: the tests see every message the wallet
    sends, in order, and decide what the ledger answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sodium.h>
#include <unistd.h>

#include "actors.h"
#include "bip32.h"
#include "bolt11.h"
#include "node.h"
#include "probe.h"
#include "wallet.h"

typedef struct {
    config_t cfg;
    uint8_t seed[64];
    wallet_args_t args;
    probe_t *ledger, *router, *control;
    node_t *node;
    char prefix[32];
    char wallet_ep[64];
} fixture_t;

static int fixture_no;

/* Start the wallet (demo unless the config says otherwise) with three probes around it;
   answer the start-up open_invoices query with rows (a JSON array) unless rows is NULL. */
static int
s_start(fixture_t *f, const char *rows)
{
    char ep[3][64];
    /* Fresh probes and endpoints for every start: a probe's connection to the inproc inbox
       of a stopped wallet does not follow a new one. */
    probe_destroy(&f->ledger);
    probe_destroy(&f->router);
    probe_destroy(&f->control);
    snprintf(f->prefix, sizeof f->prefix, "tw%d-", ++fixture_no);
    snprintf(ep[0], 64, "inproc://%sledger", f->prefix);
    snprintf(ep[1], 64, "inproc://%sjob_router", f->prefix);
    snprintf(ep[2], 64, "inproc://%scontrol", f->prefix);
    snprintf(f->wallet_ep, sizeof f->wallet_ep, "inproc://%swallet", f->prefix);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "ledger", ep[0]);
    actor_directory_add(&dir, "job_router", ep[1]);
    actor_directory_add(&dir, "control", ep[2]);
    f->ledger = probe_new("ledger", ep[0]);
    f->router = probe_new("job_router", ep[1]);
    f->control = probe_new("control", ep[2]);
    f->args = (wallet_args_t) {.cfg = &f->cfg, .seed = f->seed, .seed_len = 64};
    node_member_t members[] = {{&wallet_actor, &f->args}};
    f->node = node_start(members, 1, &dir, f->prefix, NULL);
    if (!f->node)
        return -1;
    msg_t in = {0};
    assert_int_equal(probe_recv(f->ledger, &in, 2000), 0);
    assert_int_equal(in.type, MSG_LEDGER_QUERY);
    assert_string_equal(in.ledger_query.what, "open_invoices");
    if (rows) {
        msg_t answer = {.type = MSG_LEDGER_ROWS,
                        .ledger_rows = {.ref = in.ledger_query.ref, .ok = true, .json = rows}};
        assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &answer), 0);
    }
    msg_release(&in);
    return 0;
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    for (int i = 0; i < 64; i++)
        f->seed[i] = (uint8_t) i;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    node_stop(&f->node);
    probe_destroy(&f->ledger);
    probe_destroy(&f->router);
    probe_destroy(&f->control);
    config_free(&f->cfg);
    free(f);
    return 0;
}

static void
s_request(fixture_t *f, uint8_t job_byte, uint64_t amount, uint64_t expiry_s)
{
    msg_t ask = {.type = MSG_INVOICE_REQUEST,
                 .invoice_request = {.amount_msats = amount, .description = "job: 12 tokens",
                                     .expiry_s = expiry_s}};
    memset(ask.invoice_request.job, job_byte, 32);
    assert_int_equal(probe_send(f->router, "wallet", f->wallet_ep, &ask), 0);
}

static void
s_ack(fixture_t *f, uint64_t ref, bool ok, const char *error)
{
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = ref, .ok = ok, .state = "", .error = error}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
}

/* Expect the next ledger message to be of type; returns it (release it). */
static void
s_expect(probe_t *probe, msg_t *in, int type, int timeout_ms)
{
    assert_int_equal(probe_recv(probe, in, timeout_ms), 0);
    if ((int) in->type != type)
        fail_msg("expected %s, got %s", msg_type_name(type), msg_type_name(in->type));
}

/* Ask for an invoice and accept its record; the INVOICE (ok) lands in *invoice and the
   ledger record in *record. */
static void
s_open_invoice(fixture_t *f, uint8_t job_byte, uint64_t amount, uint64_t expiry_s,
               msg_t *record, msg_t *invoice)
{
    s_request(f, job_byte, amount, expiry_s);
    s_expect(f->ledger, record, MSG_LEDGER_INVOICE_NEW, 2000);
    /* Durable before visible: nothing reaches the job router before the ack. */
    msg_t early = {0};
    assert_int_equal(probe_recv(f->router, &early, 100), -1);
    s_ack(f, record->ledger_invoice_new.ref, true, "");
    s_expect(f->router, invoice, MSG_INVOICE, 2000);
    assert_true(invoice->invoice.ok);
}

/* A demo payment that is refused: the answer comes at once. */
static void
s_demo_pay(fixture_t *f, uint64_t ref, const char *bolt11, msg_t *paid)
{
    msg_t pay = {.type = MSG_WALLET_DEMO_PAY, .wallet_demo_pay = {.ref = ref, .bolt11 = bolt11}};
    assert_int_equal(probe_send(f->control, "wallet", f->wallet_ep, &pay), 0);
    s_expect(f->control, paid, MSG_WALLET_DEMO_PAID, 2000);
    assert_int_equal(paid->wallet_demo_paid.ref, ref);
}

/* A demo payment that goes through: the settlement goes to the ledger first (returned in
   settled, unacknowledged) and the payer hears nothing until the ledger acknowledges it. */
static void
s_demo_pay_booked(fixture_t *f, uint64_t ref, const char *bolt11, msg_t *settled, msg_t *paid)
{
    msg_t pay = {.type = MSG_WALLET_DEMO_PAY, .wallet_demo_pay = {.ref = ref, .bolt11 = bolt11}};
    assert_int_equal(probe_send(f->control, "wallet", f->wallet_ep, &pay), 0);
    s_expect(f->ledger, settled, MSG_LEDGER_INVOICE_SETTLED, 2000);
    assert_int_equal(probe_recv(f->control, paid, 200), -1);    /* not before it is booked */
    s_ack(f, settled->ledger_invoice_settled.ref, true, "");
    s_expect(f->control, paid, MSG_WALLET_DEMO_PAID, 2000);
    assert_int_equal(paid->wallet_demo_paid.ref, ref);
    assert_true(paid->wallet_demo_paid.ok);
}

static void
t_create_pay_double_pay(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(s_start(f, "[]"), 0);
    msg_t rec = {0}, inv = {0}, paid = {0}, in = {0};
    s_open_invoice(f, 7, 21000, 600, &rec, &inv);

    /* The record: the invoice decodes to what was asked, the preimage hashes to the hash. */
    const msg_ledger_invoice_new_t *r = &rec.ledger_invoice_new;
    assert_string_equal(r->wallet, "demo");
    assert_int_equal(r->amount_msats, 21000);
    assert_int_equal(r->job[0], 7);
    assert_int_equal(strlen(r->preimage), 64);
    uint8_t preimage[32], hash[32];
    assert_int_equal(sodium_hex2bin(preimage, 32, r->preimage, 64, NULL, NULL, NULL), 0);
    crypto_hash_sha256(hash, preimage, 32);
    assert_memory_equal(hash, r->payment_hash, 32);
    bolt11_invoice_t decoded;
    assert_int_equal(bolt11_decode(r->bolt11, &decoded), 0);
    assert_int_equal(decoded.network, BOLT11_REGTEST);
    assert_int_equal(strncmp(r->bolt11, "lnbcrt", 6), 0);
    assert_int_equal(decoded.amount_msat, 21000);
    assert_string_equal(decoded.description, "job: 12 tokens");
    assert_memory_equal(decoded.payment_hash, hash, 32);
    assert_int_equal(decoded.expiry, 600);
    /* Signed by the node key on the documented path m/44'/1237'/0'/1/0. */
    bip32_key_t key;
    uint8_t pub[33];
    assert_int_equal(bip32_derive(f->seed, 64, "m/44'/1237'/0'/1/0", &key), 0);
    assert_int_equal(bip32_public_key(&key, pub), 0);
    bip32_key_wipe(&key);
    assert_memory_equal(decoded.payee, pub, 33);

    /* The INVOICE says the same. */
    assert_string_equal(inv.invoice.bolt11, r->bolt11);
    assert_memory_equal(inv.invoice.payment_hash, hash, 32);
    assert_int_equal(inv.invoice.expires_at, decoded.timestamp + 600);
    assert_int_equal(inv.invoice.job[31], 7);

    /* Pay: booked first, then announced (and the payer told). */
    s_demo_pay_booked(f, 1, r->bolt11, &in, &paid);
    assert_memory_equal(in.ledger_invoice_settled.payment_hash, hash, 32);
    assert_int_equal(in.ledger_invoice_settled.amount_msats, 21000);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE_SETTLED, 2000);
    assert_memory_equal(in.invoice_settled.payment_hash, hash, 32);
    assert_int_equal(in.invoice_settled.amount_msats, 21000);
    assert_true(in.invoice_settled.settled_at > 0);
    msg_release(&in);
    msg_release(&paid);

    /* Twice: refused, and nothing more is booked. */
    s_demo_pay(f, 2, r->bolt11, &paid);
    assert_false(paid.wallet_demo_paid.ok);
    assert_string_equal(paid.wallet_demo_paid.error, "this invoice is already paid");
    assert_int_equal(probe_recv(f->ledger, &in, 200), -1);
    msg_release(&paid);

    /* Not an invoice; an invoice of another node. */
    s_demo_pay(f, 3, "lnbcrt1garbage", &paid);
    assert_false(paid.wallet_demo_paid.ok);
    assert_non_null(strstr(paid.wallet_demo_paid.error, "not a valid invoice"));
    msg_release(&paid);
    bolt11_invoice_t other;
    bolt11_invoice_init(&other, BOLT11_REGTEST);
    other.has_amount = true;
    other.amount_msat = 1000;
    other.timestamp = (uint64_t) time(NULL);
    other.has_description = true;
    memcpy(other.payment_hash, hash, 32);
    uint8_t stranger[32];
    memset(stranger, 0x42, 32);
    char text[BOLT11_MAX_LEN + 1];
    assert_int_equal(bolt11_encode(text, sizeof text, &other, stranger), 0);
    s_demo_pay(f, 4, text, &paid);
    assert_false(paid.wallet_demo_paid.ok);
    assert_string_equal(paid.wallet_demo_paid.error,
                        "this invoice is not from this node's demo wallet");
    msg_release(&paid);

    /* The status says what this is. */
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {.seq = 9}};
    assert_int_equal(probe_send(f->control, "wallet", f->wallet_ep, &ask), 0);
    s_expect(f->control, &in, MSG_STATUS_REPORT, 2000);
    assert_non_null(strstr(in.status_report.json, "\"backend\":\"demo\""));
    assert_non_null(strstr(in.status_report.json, "\"no_real_money\":true"));
    assert_non_null(strstr(in.status_report.json, "\"settled\":1"));
    assert_non_null(strstr(in.status_report.json, "\"open_invoices\":0"));
    assert_non_null(strstr(in.status_report.json, "\"reachable\":true"));
    msg_release(&in);
    msg_release(&rec);
    msg_release(&inv);
}

static void
t_expiry(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(s_start(f, "[]"), 0);
    msg_t rec = {0}, inv = {0}, in = {0}, paid = {0};
    s_open_invoice(f, 1, 5000, 1, &rec, &inv);
    /* The tick notices the expiry within about two seconds. */
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_EXPIRED, 4000);
    assert_memory_equal(in.ledger_invoice_expired.payment_hash, inv.invoice.payment_hash, 32);
    uint64_t ref = in.ledger_invoice_expired.ref;
    msg_release(&in);
    /* A failed booking is said again, and only then announced. */
    s_ack(f, ref, false, "disk full");
    assert_int_equal(probe_recv(f->router, &in, 200), -1);
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_EXPIRED, 8000);
    ref = in.ledger_invoice_expired.ref;
    msg_release(&in);
    s_ack(f, ref, true, "");
    s_expect(f->router, &in, MSG_INVOICE_EXPIRED, 2000);
    assert_memory_equal(in.invoice_expired.payment_hash, inv.invoice.payment_hash, 32);
    msg_release(&in);
    /* Paying it now is refused. */
    s_demo_pay(f, 5, rec.ledger_invoice_new.bolt11, &paid);
    assert_false(paid.wallet_demo_paid.ok);
    assert_string_equal(paid.wallet_demo_paid.error, "this invoice has expired");
    msg_release(&paid);
    msg_release(&rec);
    msg_release(&inv);
}

static void
t_refusals(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(s_start(f, "[]"), 0);
    msg_t in = {0};
    /* No amount: refused at once, without a record. */
    s_request(f, 2, 0, 600);
    s_expect(f->router, &in, MSG_INVOICE, 2000);
    assert_false(in.invoice.ok);
    assert_string_equal(in.invoice.error, "an invoice needs an amount above 0 msats");
    assert_int_equal(in.invoice.job[0], 2);
    msg_release(&in);
    /* The ledger cannot record it: the job gets an error, never a free invoice. */
    s_request(f, 3, 1000, 600);
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_NEW, 2000);
    uint64_t ref = in.ledger_invoice_new.ref;
    msg_release(&in);
    s_ack(f, ref, false, "database is locked");
    s_expect(f->router, &in, MSG_INVOICE, 2000);
    assert_false(in.invoice.ok);
    assert_string_equal(in.invoice.error,
                        "the ledger could not record the invoice: database is locked");
    assert_string_equal(in.invoice.bolt11, "");
    msg_release(&in);
}

static void
t_mainnet_refused(void **state)
{
    fixture_t *f = *state;
    free(f->cfg.network);
    f->cfg.network = strdup("mainnet");
    assert_int_equal(s_start(f, NULL), -1);
    free(f->cfg.wallet_backend);
    f->cfg.wallet_backend = strdup("lnd");   /* reserved, not built: refused too */
    free(f->cfg.network);
    f->cfg.network = strdup("regtest");
    assert_int_equal(s_start(f, NULL), -1);
}

/* A restart: the ledger hands back the open invoices; the demo wallet restores them from
   their preimages, expires the one past its expiry and can still be paid for the other. */
static void
t_restart_reconciliation(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(s_start(f, "[]"), 0);
    msg_t rec1 = {0}, inv1 = {0}, rec2 = {0}, inv2 = {0}, in = {0}, paid = {0};
    s_open_invoice(f, 1, 3000, 600, &rec1, &inv1);
    s_open_invoice(f, 2, 4000, 1, &rec2, &inv2);
    node_stop(&f->node);
    sleep(2);       /* the second one expires while the node is down */

    char rows[16384], h1[65], j1[65], h2[65], j2[65];
    sodium_bin2hex(h1, 65, rec1.ledger_invoice_new.payment_hash, 32);
    sodium_bin2hex(j1, 65, rec1.ledger_invoice_new.job, 32);
    sodium_bin2hex(h2, 65, rec2.ledger_invoice_new.payment_hash, 32);
    sodium_bin2hex(j2, 65, rec2.ledger_invoice_new.job, 32);
    snprintf(rows, sizeof rows,
             "[{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"%s\",\"amount_msats\":3000,"
             "\"expires_at\":%llu,\"preimage\":\"%s\",\"wallet\":\"demo\"},"
             "{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"%s\",\"amount_msats\":4000,"
             "\"expires_at\":%llu,\"preimage\":\"%s\",\"wallet\":\"demo\"},"
             "{\"payment_hash\":\"zz\",\"job\":\"%s\"},"
             "{\"payment_hash\":\"%s\",\"job\":\"%s\",\"bolt11\":\"x\",\"amount_msats\":1,"
             "\"expires_at\":1,\"preimage\":\"\",\"wallet\":\"lnd\"}]",
             h1, j1, rec1.ledger_invoice_new.bolt11,
             (unsigned long long) rec1.ledger_invoice_new.expires_at, rec1.ledger_invoice_new.preimage,
             h2, j2, rec2.ledger_invoice_new.bolt11,
             (unsigned long long) rec2.ledger_invoice_new.expires_at, rec2.ledger_invoice_new.preimage,
             j1, h2, j2);
    assert_int_equal(s_start(f, rows), 0);
    /* The expired one is expired at once (the lnd row and the malformed row are skipped). */
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_EXPIRED, 2000);
    assert_memory_equal(in.ledger_invoice_expired.payment_hash,
                        rec2.ledger_invoice_new.payment_hash, 32);
    s_ack(f, in.ledger_invoice_expired.ref, true, "");
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE_EXPIRED, 2000);
    msg_release(&in);
    /* The open one is still payable after the restart. */
    s_demo_pay_booked(f, 7, rec1.ledger_invoice_new.bolt11, &in, &paid);
    msg_release(&paid);
    assert_memory_equal(in.ledger_invoice_settled.payment_hash,
                        rec1.ledger_invoice_new.payment_hash, 32);
    assert_int_equal(in.ledger_invoice_settled.amount_msats, 3000);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE_SETTLED, 2000);
    assert_int_equal(in.invoice_settled.amount_msats, 3000);
    msg_release(&in);
    /* Nothing else happened. */
    assert_int_equal(probe_recv(f->ledger, &in, 300), -1);
    msg_release(&rec1);
    msg_release(&inv1);
    msg_release(&rec2);
    msg_release(&inv2);
}

/* The ledger did not answer the start-up query: it is asked again. */
static void
t_query_retried(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(s_start(f, NULL), 0);
    msg_t in = {0};
    s_expect(f->ledger, &in, MSG_LEDGER_QUERY, 8000);
    assert_string_equal(in.ledger_query.what, "open_invoices");
    msg_release(&in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_create_pay_double_pay, setup, teardown),
        cmocka_unit_test_setup_teardown(t_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(t_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(t_mainnet_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(t_restart_reconciliation, setup, teardown),
        cmocka_unit_test_setup_teardown(t_query_retried, setup, teardown),
    };
    return cmocka_run_group_tests_name("wallet", tests, NULL, NULL);
}
