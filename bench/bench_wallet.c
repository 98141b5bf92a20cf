/*  bench_wallet.c: the demo wallet's invoice path over the actor runtime, split by phase.
    Probes play the ledger (acknowledging at once), the job router and the control actor.

        create  INVOICE_REQUEST sent → LEDGER_INVOICE_NEW received (make, sign, decode, check)
        record  LEDGER_ACK sent → INVOICE received by the job router
        detect  WALLET_DEMO_PAY sent → INVOICE_SETTLED at the job router (payment checked,
                LEDGER_INVOICE_SETTLED said and acknowledged on the way)

    One invoice at a time (latency), then a batch of requests in flight at once (throughput).
    Usage: bench_wallet [invoices]   (default 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actors.h"
#include "log.h"
#include "node.h"
#include "probe.h"
#include "wallet.h"

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void
s_report(const char *phase, double *us, int n)
{
    qsort(us, (size_t) n, sizeof *us, s_cmp);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += us[i];
    printf("  %-7s mean %8.1f us   p50 %8.1f us   p99 %8.1f us\n", phase, sum / n, us[n / 2],
           us[n * 99 / 100]);
}

/* Receive the next message of type (others are a bug in this benchmark). */
static void
s_recv(probe_t *probe, msg_t *in, int type)
{
    if (probe_recv(probe, in, 5000) != 0 || (int) in->type != type) {
        fprintf(stderr, "bench_wallet: expected %s\n", msg_type_name(type));
        exit(1);
    }
}

static void
s_ack(probe_t *ledger, uint64_t ref)
{
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = ref, .ok = true, .state = "", .error = ""}};
    probe_send(ledger, "wallet", "inproc://bw-wallet", &ack);
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n <= 0)
        n = 2000;
    printf("bench_wallet %d   (demo wallet over inproc, probes as ledger and job router)\n", n);
    log_set_level(LOG_LEVEL_ERROR);
    config_t cfg;
    config_defaults(&cfg);
    cfg.max_open_invoices = 0;
    uint8_t seed[64] = {1};
    wallet_args_t args = {.cfg = &cfg, .seed = seed, .seed_len = 64};
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "ledger", "inproc://bw-ledger");
    actor_directory_add(&dir, "job_router", "inproc://bw-job_router");
    actor_directory_add(&dir, "control", "inproc://bw-control");
    probe_t *ledger = probe_new("ledger", "inproc://bw-ledger");
    probe_t *router = probe_new("job_router", "inproc://bw-job_router");
    probe_t *control = probe_new("control", "inproc://bw-control");
    node_member_t members[] = {{&wallet_actor, &args}};
    node_t *node = node_start(members, 1, &dir, "bw-", NULL);
    msg_t in = {0};
    s_recv(ledger, &in, MSG_LEDGER_QUERY);
    msg_t rows = {.type = MSG_LEDGER_ROWS,
                  .ledger_rows = {.ref = in.ledger_query.ref, .ok = true, .json = "[]"}};
    probe_send(ledger, "wallet", "inproc://bw-wallet", &rows);
    msg_release(&in);

    double *create = calloc((size_t) n, sizeof *create), *record = calloc((size_t) n, sizeof *record),
           *detect = calloc((size_t) n, sizeof *detect);
    for (int i = 0; i < n; i++) {
        msg_t ask = {.type = MSG_INVOICE_REQUEST,
                     .invoice_request = {.amount_msats = 21000, .description = "bench job",
                                         .expiry_s = 600}};
        memcpy(ask.invoice_request.job, &i, sizeof i);
        double t0 = s_now();
        probe_send(router, "wallet", "inproc://bw-wallet", &ask);
        s_recv(ledger, &in, MSG_LEDGER_INVOICE_NEW);
        double t1 = s_now();
        s_ack(ledger, in.ledger_invoice_new.ref);
        msg_release(&in);
        msg_t inv = {0};
        s_recv(router, &inv, MSG_INVOICE);
        double t2 = s_now();
        msg_t pay = {.type = MSG_WALLET_DEMO_PAY,
                     .wallet_demo_pay = {.ref = (uint64_t) i, .bolt11 = inv.invoice.bolt11}};
        probe_send(control, "wallet", "inproc://bw-wallet", &pay);
        s_recv(ledger, &in, MSG_LEDGER_INVOICE_SETTLED);
        s_ack(ledger, in.ledger_invoice_settled.ref);
        msg_release(&in);
        s_recv(router, &in, MSG_INVOICE_SETTLED);
        double t3 = s_now();
        msg_release(&in);
        s_recv(control, &in, MSG_WALLET_DEMO_PAID);
        msg_release(&in);
        msg_release(&inv);
        create[i] = (t1 - t0) * 1e6;
        record[i] = (t2 - t1) * 1e6;
        detect[i] = (t3 - t2) * 1e6;
    }
    printf("one invoice at a time, %d invoices:\n", n);
    s_report("create", create, n);
    s_report("record", record, n);
    s_report("detect", detect, n);

    /* Throughput: all requests in flight, the ledger acknowledging as records arrive. */
    double t0 = s_now();
    for (int i = 0; i < n; i++) {
        msg_t ask = {.type = MSG_INVOICE_REQUEST,
                     .invoice_request = {.amount_msats = 1000 + (uint64_t) i,
                                         .description = "bench job", .expiry_s = 600}};
        probe_send(router, "wallet", "inproc://bw-wallet", &ask);
    }
    for (int i = 0; i < n; i++) {
        s_recv(ledger, &in, MSG_LEDGER_INVOICE_NEW);
        s_ack(ledger, in.ledger_invoice_new.ref);
        msg_release(&in);
    }
    for (int i = 0; i < n; i++) {
        s_recv(router, &in, MSG_INVOICE);
        msg_release(&in);
    }
    double elapsed = s_now() - t0;
    printf("batch of %d: %.0f invoices created and recorded per second\n", n, n / elapsed);

    node_stop(&node);
    probe_destroy(&ledger);
    probe_destroy(&router);
    probe_destroy(&control);
    free(create);
    free(record);
    free(detect);
    config_free(&cfg);
    return 0;
}
