/*  bench_jobs.c: what one NIP-90 job costs through Pylon's actors, next to what it must cost.

    Every run uses the real job router, ledger (SQLite file in a temp dir, WAL) and pricing
    actors; a tiny actor plays the inference backend and answers each INFER_REQUEST at once.
    Requests are kind-5935 chat jobs signed beforehand by 16 buyer keys, so signing them is
    not counted. Throughput keeps WINDOW jobs in flight; latency sends one job at a time and
    waits until the node is idle again before the next one (p50/p99 of sorted samples, after
    warm-up jobs that are not counted).

    1. free, relay probe   Prices 0. The bench thread plays the relay actor: it runs the relay
                           actor's intake checks on each request (nostr_event_parse +
                           nostr_event_check, what relay.c does before passing an event on),
                           hands it to the router as RELAY_EVENT, parses each event the router
                           publishes and confirms it with RELAY_PUBLISHED.
                           Latency: request in → result event (kind 6935) handed to the relay.
    2. free, real relay    The same node with the real relay actor, on a local relay
                           (tests/node/relay.mjs, a child process). A second relay actor is the
                           buyers' client: it publishes the requests and subscribes to results.
                           Latency: request published → result received by the client. Bound
                           by the Node.js relay: its own speed (events accepted per second from
                           one client, nothing else running) is measured and printed too.
    3. paid, demo wallet   Default prices and the real wallet actor (demo backend, regtest);
                           the bench pays each invoice with WALLET_DEMO_PAY as `pylon wallet
                           demo-pay` does. Latency split: request → payment-required (quote,
                           invoice, ledger), pay → processing (settlement booked), processing →
                           result published.
    4. the bare-cost limit The sum of the primitive costs one job cannot avoid, measured in the
                           same run: one BIP-340 verify with key parse (the request), one event
                           build + sign (the result), the request's JSON parse (event and
                           content), one SQLite write with its transaction's commit amortised
                           over the writes per commit the ledger reached in that run, and five
                           actor hops (a chain of forwarding actors, per message with 1,000 in
                           flight; their p50 one message at a time, mostly thread wake-ups, is
                           printed beside it but not counted).
                           A paid job adds a second build + sign (payment-required), the
                           invoice (BOLT11 encode with its signature, and one decode) and a
                           second SQLite write. Ratio = measured / limit (latency), limit /
                           measured per-job time (throughput; the limit is one core's worth).

    Usage: bench_jobs [jobs]    (default 2000 per throughput run) — run by `make bench`. */
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actors.h"
#include "bolt11.h"
#include "child.h"
#include "job_request.h"
#include "job_router.h"
#include "ledger.h"
#include "ledger_db.h"
#include "log.h"
#include "node.h"
#include "nostr_event.h"
#include "nostr_keys.h"
#include "probe.h"
#include "relay.h"
#include "wallet.h"

#define BUYERS      16      /* keys the requests are signed by */
#define WINDOW      128     /* jobs in flight in the throughput runs */
#define WARMUP      50      /* jobs run before any timing */
#define HOPS        5       /* the hop chain of the limit */
#define TIMEOUT_MS  10000   /* no answer this long: the benchmark is broken, stop */

static const uint8_t s_node_secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                          17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *s_backends[] = {"llamacpp:gpt_oss_20b"};
static nostr_keys_t *s_buyers[BUYERS];
static char s_node_hex[65];
static int s_run;                       /* numbers the nodes, for unique endpoints */

/* ---- small helpers ------------------------------------------------------------------------- */

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

/* Sort samples (µs) in place; p50 and p99. */
typedef struct {
    double p50, p99;
} pct_t;

static pct_t
s_pct(double *us, int n)
{
    qsort(us, (size_t) n, sizeof *us, s_cmp);
    return (pct_t) {us[n / 2], us[n * 99 / 100]};
}

static void
s_die(const char *what)
{
    fprintf(stderr, "bench_jobs: %s\n", what);
    exit(1);
}

/* `count` kind-5935 requests to the key `to` (hex), signed round-robin by the buyer keys. */
static char **
s_requests(int count, const char *to)
{
    static int serial;
    char **out = calloc((size_t) count, sizeof *out);
    for (int i = 0; i < count; i++) {
        char content[256];
        snprintf(content, sizeof content,
                 "{\"backend\":\"llamacpp:gpt_oss_20b\",\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"Say hi, job %d\"}],\"params\":{\"max_tokens\":100,\"temperature\":0.5}}", ++serial);
        nostr_event_t *e = nostr_event_new(5935, time(NULL), content, strlen(content));
        nostr_event_add_tagv(e, "p", to, NULL);
        if (nostr_event_sign(e, s_buyers[i % BUYERS]) != 0)
            s_die("cannot sign a request");
        out[i] = nostr_event_to_json(e, NULL);
        nostr_event_destroy(&e);
    }
    return out;
}

static void
s_requests_free(char **requests, int count)
{
    for (int i = 0; i < count; i++)
        free(requests[i]);
    free(requests);
}

/* ---- the inference stand-in: answers every request at once ---------------------------------- */

static void *
s_infer_create(actor_ctx_t *ctx, void *args)
{
    return ctx;
}

static void
s_infer_destroy(void **state_p)
{
    *state_p = NULL;
}

static void
s_infer_handle(void *state, const msg_t *msg)
{
    if (msg->type != MSG_INFER_REQUEST)
        return;
    msg_t result = {.type = MSG_INFER_RESULT,
                    .infer_result = {.ok = true, .content = "Hi there!", .finish_reason = "stop",
                                     .prompt_tokens = 9, .completion_tokens = 4,
                                     .model = "gpt-oss-20b", .error_code = "", .error = ""}};
    memcpy(result.infer_result.job, msg->infer_request.job, 32);
    actor_reply(state, msg, &result);
}

static const actor_def_t s_inference = {
    .name = "inference", .create = s_infer_create, .destroy = s_infer_destroy, .handle = s_infer_handle};

/* ---- a node under test ---------------------------------------------------------------------- */

typedef struct {
    char dir[64];                   /* temp dir holding pylon.db */
    char db[128];
    config_t cfg;
    ledger_args_t ledger_args;
    job_router_args_t router_args;
    wallet_args_t wallet_args;
    relay_args_t relay_args;
    uint8_t seed[64];               /* the demo wallet's seed */
    node_t *node;
    probe_t *relay;                 /* plays the relay actor; NULL when the real one runs */
    probe_t *control;               /* asks for status, pays demo invoices */
    const char *router, *ledger, *wallet;     /* inboxes */
    msg_t in;                       /* the last message a probe received */
    msg_t ctl;                      /* ... the control probe */
} bench_node_t;

/* Start ledger, pricing, [wallet], inference stand-in, job router and, with a relay URL, the
   real relay actor (else the relay probe). paid: default prices and the demo wallet. */
static void
s_node_start(bench_node_t *b, bool paid, const char *relay_url)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/pylon-bench-jobs-XXXXXX");
    if (!mkdtemp(b->dir))
        s_die("mkdtemp failed");
    snprintf(b->db, sizeof b->db, "%s/pylon.db", b->dir);
    config_defaults(&b->cfg);
    if (relay_url) {
        setenv("PYLON_RELAYS", relay_url, 1);
        config_apply_env(&b->cfg);
        unsetenv("PYLON_RELAYS");
    }
    if (!paid) {
        b->cfg.base_price_sats = 0;
        b->cfg.price_per_1k_tokens = 0;
    }
    /* A benchmark is one very busy buyer: lift the per-buyer and queue limits. */
    b->cfg.jobs_per_minute_per_buyer = 1000000000;
    b->cfg.queue_per_backend = 1000000;
    b->cfg.max_open_invoices = 1000000;
    b->cfg.max_open_invoices_per_buyer = 1000000;
    b->ledger_args.path = b->db;
    b->router_args = (job_router_args_t) {&b->cfg, s_node_secret, s_backends, 1};
    for (int i = 0; i < 64; i++)
        b->seed[i] = (uint8_t) (i * 7 + 1);
    b->wallet_args = (wallet_args_t) {&b->cfg, b->seed, 64};
    b->relay_args = (relay_args_t) {&b->cfg, s_node_secret};

    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "bj%d-", ++s_run);
    actor_directory_t dir = {0};
    if (!relay_url) {
        snprintf(endpoint, sizeof endpoint, "inproc://%srelay", prefix);
        b->relay = probe_new("relay", endpoint);
        actor_directory_add(&dir, "relay", endpoint);
    }
    snprintf(endpoint, sizeof endpoint, "inproc://%scontrol", prefix);
    b->control = probe_new("control", endpoint);
    actor_directory_add(&dir, "control", endpoint);
    node_member_t members[6];
    int count = 0;
    members[count++] = (node_member_t) {&ledger_actor, &b->ledger_args};
    members[count++] = (node_member_t) {&pricing_actor, &b->cfg};
    if (paid)
        members[count++] = (node_member_t) {&wallet_actor, &b->wallet_args};
    members[count++] = (node_member_t) {&s_inference, NULL};
    members[count++] = (node_member_t) {&job_router_actor, &b->router_args};
    if (relay_url)
        members[count++] = (node_member_t) {&relay_actor, &b->relay_args};
    b->node = node_start(members, count, &dir, prefix, NULL);
    if (!b->node)
        s_die("the node did not start");
    b->router = actor_directory_find(node_directory(b->node), "job_router");
    b->ledger = actor_directory_find(node_directory(b->node), "ledger");
    b->wallet = actor_directory_find(node_directory(b->node), "wallet");
    /* The router subscribes once it has read the open jobs: intake may start then. */
    if (b->relay) {
        if (probe_recv(b->relay, &b->in, TIMEOUT_MS) != 0 || b->in.type != MSG_RELAY_SUBSCRIBE)
            s_die("the router did not subscribe");
    }
}

static void
s_node_stop(bench_node_t *b)
{
    node_stop(&b->node);
    probe_destroy(&b->relay);
    probe_destroy(&b->control);
    msg_release(&b->in);
    msg_release(&b->ctl);
    config_free(&b->cfg);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", b->dir);
    if (system(command) != 0)
        fprintf(stderr, "bench_jobs: could not remove %s\n", b->dir);
}

/* Ask an actor for its status (through the control probe); the JSON text, valid until the
   next control message. */
static const char *
s_status(bench_node_t *b, const char *actor, const char *endpoint)
{
    static uint64_t seq;
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {++seq}};
    probe_send(b->control, actor, endpoint, &ask);
    while (probe_recv(b->control, &b->ctl, TIMEOUT_MS) == 0)
        if (b->ctl.type == MSG_STATUS_REPORT && b->ctl.status_report.seq == seq)
            return b->ctl.status_report.json;
    s_die("no status report");
    return NULL;
}

/* Wait until the router has no job in memory (every write of the last job acknowledged). */
static void
s_wait_idle(bench_node_t *b)
{
    for (int i = 0; i < 10000; i++) {
        if (strstr(s_status(b, "job_router", b->router), "\"in_flight\":0"))
            return;
        usleep(100);
    }
    s_die("the router never went idle");
}

/* The ledger's writes and commits so far. */
static void
s_ledger_counts(bench_node_t *b, double *writes, double *commits)
{
    const char *json = s_status(b, "ledger", b->ledger);
    const char *w = strstr(json, "\"writes\":"), *c = strstr(json, "\"commits\":");
    *writes = w ? atof(w + 9) : 0;
    *commits = c ? atof(c + 10) : 0;
}

/* The ledger's delivered_total, read from the file as `pylon status` does. */
static long
s_delivered(bench_node_t *b)
{
    char err[256];
    ledger_db_t *db = ledger_db_open(b->db, true, err, sizeof err);
    char *text = db ? ledger_db_query(db, "status", NULL, err, sizeof err) : NULL;
    const char *d = text ? strstr(text, "\"delivered_total\":") : NULL;
    long delivered = d ? atol(d + 18) : -1;
    free(text);
    ledger_db_close(&db);
    return delivered;
}

/* ---- playing the relay actor ---------------------------------------------------------------- */

/* What the router published. */
typedef enum { PUB_NONE, PUB_OTHER, PUB_PAYMENT_REQUIRED, PUB_PROCESSING, PUB_RESULT } pub_t;

/* Hand a request to the router as the relay actor would: id and signature checked first. */
static void
s_inject(bench_node_t *b, const char *json)
{
    int error = 0;
    nostr_event_t *event = nostr_event_parse(json, strlen(json), NULL, &error);
    if (!event || nostr_event_check(event) != 0)
        s_die("a request does not verify");
    nostr_event_destroy(&event);
    msg_t deliver = {.type = MSG_RELAY_EVENT, .relay_event = {"jobs", "ws://bench", json}};
    probe_send(b->relay, "job_router", b->router, &deliver);
}

/* Take one message at the relay probe, as the relay actor would: parse each event to publish
   and, when the router waits for the outcome, confirm it. bolt11 gets the invoice of a
   payment-required feedback. PUB_NONE on timeout. */
static pub_t
s_relay_step(bench_node_t *b, int timeout_ms, char *bolt11, size_t size)
{
    if (probe_recv(b->relay, &b->in, timeout_ms) != 0)
        return PUB_NONE;
    if (b->in.type != MSG_RELAY_PUBLISH)
        return PUB_OTHER;
    const msg_relay_publish_t *publish = &b->in.relay_publish;
    nostr_event_t *event = nostr_event_parse(publish->event, strlen(publish->event), NULL, NULL);
    if (!event)
        s_die("the router published an event that does not parse");
    if (publish->ref) {
        msg_t ok = {.type = MSG_RELAY_PUBLISHED,
                    .relay_published = {.ref = publish->ref, .ok = true, .accepted = 1, .reason = ""}};
        memcpy(ok.relay_published.id, event->id, 32);
        probe_send(b->relay, "job_router", b->router, &ok);
    }
    pub_t what = PUB_OTHER;
    const nostr_tag_t *status = nostr_event_tag(event, "status");
    if (event->kind == 6935)
        what = PUB_RESULT;
    else if (event->kind == 7000 && status && status->count > 1) {
        if (streq(status->elems[1].str, "processing"))
            what = PUB_PROCESSING;
        else if (streq(status->elems[1].str, "payment-required")) {
            const nostr_tag_t *amount = nostr_event_tag(event, "amount");
            if (!amount || amount->count < 3)
                s_die("payment-required without an invoice");
            snprintf(bolt11, size, "%s", amount->elems[2].str);
            what = PUB_PAYMENT_REQUIRED;
        }
        else
            s_die(status->elems[1].str);    /* error feedback: the benchmark is broken */
    }
    nostr_event_destroy(&event);
    return what;
}

/* Wait for a publication of that kind, serving the others. */
static void
s_relay_until(bench_node_t *b, pub_t want, char *bolt11, size_t size)
{
    for (;;) {
        pub_t got = s_relay_step(b, TIMEOUT_MS, bolt11, size);
        if (got == PUB_NONE)
            s_die("the router went silent");
        if (got == want)
            return;
    }
}

static void
s_pay(bench_node_t *b, const char *bolt11)
{
    static uint64_t ref;
    msg_t pay = {.type = MSG_WALLET_DEMO_PAY, .wallet_demo_pay = {++ref, bolt11}};
    probe_send(b->control, "wallet", b->wallet, &pay);
}

/* ---- the runs -------------------------------------------------------------------------------- */

typedef struct {
    double rate;                    /* jobs per second, WINDOW in flight */
    double batch;                   /* ledger writes per commit in the throughput run */
    pct_t total;                    /* latency, one job at a time (µs) */
    pct_t phase[3];                 /* paid: request → payment-required → processing → result */
    double latency_batch;           /* ledger writes per commit in the latency run */
    long delivered, expected;       /* the ledger's count at the end, and the jobs sent */
} run_t;

/* Runs 1 and 3: the node with the relay probe, free or paid. */
static run_t
s_run_probe(bool paid, int jobs, int samples)
{
    run_t r = {0};
    bench_node_t b;
    s_node_start(&b, paid, NULL);
    char bolt11[BOLT11_MAX_LEN + 1];
    char **requests = s_requests(WARMUP + jobs + samples, s_node_hex);
    int next = 0;
    double writes0, commits0, writes1, commits1;

    /* Warm-up: a few jobs through every actor, not timed. */
    for (int i = 0; i < WARMUP; i++, next++) {
        s_inject(&b, requests[next]);
        if (paid) {
            s_relay_until(&b, PUB_PAYMENT_REQUIRED, bolt11, sizeof bolt11);
            s_pay(&b, bolt11);
        }
        s_relay_until(&b, PUB_RESULT, bolt11, sizeof bolt11);
    }
    s_wait_idle(&b);

    /* Throughput: WINDOW jobs in flight, each paid as soon as its invoice is published. */
    s_ledger_counts(&b, &writes0, &commits0);
    int sent = 0, done = 0;
    double t0 = s_now();
    while (done < jobs) {
        while (sent < jobs && sent - done < WINDOW) {
            s_inject(&b, requests[next++]);
            sent++;
        }
        pub_t got = s_relay_step(&b, TIMEOUT_MS, bolt11, sizeof bolt11);
        if (got == PUB_NONE)
            s_die("jobs lost in the throughput run");
        if (got == PUB_PAYMENT_REQUIRED)
            s_pay(&b, bolt11);
        else if (got == PUB_RESULT)
            done++;
    }
    r.rate = jobs / (s_now() - t0);
    s_wait_idle(&b);
    s_ledger_counts(&b, &writes1, &commits1);
    r.batch = (writes1 - writes0) / (commits1 - commits0);

    /* Latency: one job at a time, the node idle before each. */
    double *total = calloc((size_t) samples, sizeof *total), *phase[3];
    for (int k = 0; k < 3; k++)
        phase[k] = calloc((size_t) samples, sizeof *phase[k]);
    s_ledger_counts(&b, &writes0, &commits0);
    for (int i = 0; i < samples; i++) {
        double ta = s_now(), tb = ta, tc = ta;
        s_inject(&b, requests[next++]);
        if (paid) {
            s_relay_until(&b, PUB_PAYMENT_REQUIRED, bolt11, sizeof bolt11);
            tb = s_now();
            s_pay(&b, bolt11);
            s_relay_until(&b, PUB_PROCESSING, bolt11, sizeof bolt11);
            tc = s_now();
        }
        s_relay_until(&b, PUB_RESULT, bolt11, sizeof bolt11);
        double td = s_now();
        total[i] = (td - ta) * 1e6;
        phase[0][i] = (tb - ta) * 1e6;
        phase[1][i] = (tc - tb) * 1e6;
        phase[2][i] = (td - tc) * 1e6;
        s_wait_idle(&b);
    }
    s_ledger_counts(&b, &writes1, &commits1);
    r.latency_batch = (writes1 - writes0) / (commits1 - commits0);
    r.total = s_pct(total, samples);
    for (int k = 0; k < 3; k++) {
        r.phase[k] = s_pct(phase[k], samples);
        free(phase[k]);
    }
    free(total);
    r.expected = next;
    r.delivered = s_delivered(&b);
    s_node_stop(&b);
    s_requests_free(requests, WARMUP + jobs + samples);
    return r;
}

/* ---- run 2: through a real relay ------------------------------------------------------------ */

typedef struct {
    child_t *child;                 /* node tests/node/relay.mjs */
    char url[64];
    config_t cfg;                   /* the client's: [relays] urls = url */
    relay_args_t args;
    node_t *node;                   /* the client: one relay actor */
    probe_t *buyer;                 /* the buyers, behind the client's relay actor */
    const char *relay;              /* the client relay actor's inbox */
    msg_t in;
    uint64_t ref;
} client_t;

static void
s_client_start(client_t *c)
{
    memset(c, 0, sizeof *c);
    char *argv[] = {"node", "tests/node/relay.mjs", "--port", "0", "--quiet", NULL};
    c->child = child_start(argv);
    int port = c->child ? child_wait_listening(c->child, 15000) : -1;
    if (port <= 0)
        s_die("the local relay did not start (node and tests/node: scripts/setup-deps.sh)");
    snprintf(c->url, sizeof c->url, "ws://127.0.0.1:%d", port);
    config_defaults(&c->cfg);
    setenv("PYLON_RELAYS", c->url, 1);
    config_apply_env(&c->cfg);
    unsetenv("PYLON_RELAYS");
    c->args = (relay_args_t) {&c->cfg, NULL};
    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "bjc%d-", ++s_run);
    snprintf(endpoint, sizeof endpoint, "inproc://%sbuyer", prefix);
    c->buyer = probe_new("buyer", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "buyer", endpoint);
    node_member_t members[] = {{&relay_actor, &c->args}};
    c->node = node_start(members, 1, &dir, prefix, NULL);
    if (!c->node)
        s_die("the client relay actor did not start");
    c->relay = actor_directory_find(node_directory(c->node), "relay");
}

static void
s_client_stop(client_t *c)
{
    node_stop(&c->node);
    probe_destroy(&c->buyer);
    msg_release(&c->in);
    config_free(&c->cfg);
    child_stop(&c->child);
}

static void
s_client_publish(client_t *c, const char *json)
{
    msg_t publish = {.type = MSG_RELAY_PUBLISH, .relay_publish = {++c->ref, json, 1}};
    probe_send(c->buyer, "relay", c->relay, &publish);
}

/* The next message at the buyers' probe: 1 a result event, 2 a publish accepted, 0 other. */
static int
s_client_step(client_t *c)
{
    if (probe_recv(c->buyer, &c->in, TIMEOUT_MS) != 0)
        s_die("nothing from the relay");
    if (c->in.type == MSG_RELAY_EVENT)
        return 1;
    if (c->in.type == MSG_RELAY_PUBLISHED) {
        if (!c->in.relay_published.ok)
            s_die(c->in.relay_published.reason);
        return 2;
    }
    return 0;
}

typedef struct {
    double relay_rate;              /* events the relay accepts per second from one client */
    run_t job;
} relay_run_t;

static relay_run_t
s_run_relay(int jobs, int samples)
{
    relay_run_t r = {0};
    client_t c;
    s_client_start(&c);

    /* The relay alone: publish signed events (requests to nobody) and count the OKs. */
    int alone = jobs;
    /* Addressed to another key: stored by the relay, but no job for the node started below. */
    char **events = s_requests(WARMUP + alone, "0000000000000000000000000000000000000000000000000000000000000001");
    for (int i = 0; i < WARMUP; i++) {          /* warm the relay's JIT up, and the link */
        s_client_publish(&c, events[alone + i]);
        while (s_client_step(&c) != 2) {}
    }
    int sent = 0, done = 0;
    double t0 = s_now();
    while (done < alone) {
        while (sent < alone && sent - done < WINDOW)
            s_client_publish(&c, events[sent++]);
        done += s_client_step(&c) == 2;
    }
    r.relay_rate = alone / (s_now() - t0);
    s_requests_free(events, WARMUP + alone);

    /* Now the node on the same relay, and the client subscribed to its results. */
    msg_t subscribe = {.type = MSG_RELAY_SUBSCRIBE, .relay_subscribe = {"results", "{\"kinds\":[6935]}"}};
    probe_send(c.buyer, "relay", c.relay, &subscribe);
    bench_node_t b;
    s_node_start(&b, false, c.url);
    char **requests = s_requests(WARMUP + jobs + samples, s_node_hex);
    int next = 0;
    for (int i = 0; i < WARMUP; i++) {
        s_client_publish(&c, requests[next++]);
        while (s_client_step(&c) != 1) {}
    }
    s_wait_idle(&b);

    double writes0, commits0, writes1, commits1;
    s_ledger_counts(&b, &writes0, &commits0);
    sent = done = 0;
    t0 = s_now();
    while (done < jobs) {
        while (sent < jobs && sent - done < WINDOW) {
            s_client_publish(&c, requests[next++]);
            sent++;
        }
        done += s_client_step(&c) == 1;
    }
    r.job.rate = jobs / (s_now() - t0);
    s_wait_idle(&b);
    s_ledger_counts(&b, &writes1, &commits1);
    r.job.batch = (writes1 - writes0) / (commits1 - commits0);

    double *total = calloc((size_t) samples, sizeof *total);
    s_ledger_counts(&b, &writes0, &commits0);
    for (int i = 0; i < samples; i++) {
        double ta = s_now();
        s_client_publish(&c, requests[next++]);
        while (s_client_step(&c) != 1) {}
        total[i] = (s_now() - ta) * 1e6;
        s_wait_idle(&b);
    }
    s_ledger_counts(&b, &writes1, &commits1);
    r.job.latency_batch = (writes1 - writes0) / (commits1 - commits0);
    r.job.total = s_pct(total, samples);
    free(total);
    r.job.expected = next;
    r.job.delivered = s_delivered(&b);
    s_node_stop(&b);
    s_client_stop(&c);
    s_requests_free(requests, WARMUP + jobs + samples);
    return r;
}

/* ---- the primitives ------------------------------------------------------------------------ */

typedef struct {
    double verify;                  /* BIP-340 verify with x-only key parse */
    double sign;                    /* result event: build, id, sign, wire JSON */
    double parse;                   /* request: event JSON + job_request_parse (content JSON) */
    double write;                   /* one SQLite write inside a batch */
    double commit;                  /* one commit beyond its writes (BEGIN + COMMIT) */
    double hops;                    /* five actor hops, µs per message with many in flight */
    double hops_wake;               /* the same, p50 of one message at a time (not in limits) */
    double invoice;                 /* BOLT11 encode (signature) + decode */
} prim_t;

typedef void (s_op_t)(int i);

/* Mean µs per op of fn, over about 0.3 s after 100 warm-up calls; best of 3 rounds, as other
   processes share the machine. */
static double
s_time_op(s_op_t *fn)
{
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++)
            fn(i);
        int n = 0;
        double t0 = s_now(), elapsed;
        do {
            for (int k = 0; k < 32; k++, n++)
                fn(n);
            elapsed = s_now() - t0;
        } while (elapsed < 0.3);
        if (elapsed / n * 1e6 < best)
            best = elapsed / n * 1e6;
    }
    return best;
}

static char **s_sample;             /* requests the primitives work on */
static int s_sample_count;
static nostr_event_t **s_sample_events;
static nostr_keys_t *s_node_keys;
static volatile int s_sink;

static void
s_op_verify(int i)
{
    const nostr_event_t *e = s_sample_events[i % s_sample_count];
    secp256k1_xonly_pubkey key;
    const secp256k1_context *ctx = nostr_keys_context();
    s_sink += secp256k1_xonly_pubkey_parse(ctx, &key, e->pubkey)
              && secp256k1_schnorrsig_verify(ctx, e->sig, e->id, 32, &key);
}

/* What the router builds for a result (actors/job_router.c, s_result_event). */
static void
s_op_sign(int i)
{
    const char *request = s_sample[i % s_sample_count];
    const char *content = "{\"content\":\"Hi there!\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":9,"
                          "\"completion_tokens\":4},\"backend\":\"llamacpp:gpt_oss_20b\",\"model\":\"gpt-oss-20b\"}";
    nostr_event_t *e = nostr_event_new(6935, time(NULL), content, strlen(content));
    nostr_event_add_tagv(e, "request", request, NULL);
    nostr_event_add_tagv(e, "e", s_node_hex, NULL);
    nostr_event_add_tagv(e, "p", s_node_hex, NULL);
    nostr_event_sign(e, s_node_keys);
    size_t len;
    char *json = nostr_event_to_json(e, &len);
    s_sink += (int) len;
    free(json);
    nostr_event_destroy(&e);
}

static void
s_op_parse(int i)
{
    const char *json = s_sample[i % s_sample_count];
    nostr_event_t *e = nostr_event_parse(json, strlen(json), NULL, NULL);
    job_request_rules_t rules = {.keys = s_node_keys, .max_prompt_bytes = 65536, .max_tokens = 4096,
                                 .default_max_tokens = 512, .now = time(NULL)};
    job_request_t req;
    char why[256];
    s_sink += job_request_parse(e, &rules, &req, why, sizeof why);
    job_request_free(&req);
    nostr_event_destroy(&e);
}

static uint8_t s_ln_key[32];

static void
s_op_invoice(int i)
{
    bolt11_invoice_t *inv = malloc(sizeof *inv);
    bolt11_invoice_init(inv, BOLT11_REGTEST);
    inv->has_amount = true;
    inv->amount_msat = 11000;
    inv->timestamp = (uint64_t) time(NULL);
    inv->expiry = 600;
    randombytes_buf(inv->payment_hash, 32);
    randombytes_buf(inv->payment_secret, 32);
    inv->has_description = true;
    snprintf(inv->description, sizeof inv->description, "Pylon job %016d on llamacpp:gpt_oss_20b", i);
    char bolt11[BOLT11_MAX_LEN + 1];
    if (bolt11_encode(bolt11, sizeof bolt11, inv, s_ln_key) != 0 || bolt11_decode(bolt11, inv) != 0)
        s_die("bolt11 round trip failed");
    free(inv);
}

/* SQLite through the ledger's own code (ledger_db.c), on a file of its own: a transaction of
   one write each time, and one transaction of n writes; the difference is the commit. */
static void
s_sqlite(char **requests, int count, int n, double *write, double *commit)
{
    char dir[64] = "/tmp/pylon-bench-sql-XXXXXX", path[128], err[256];
    if (!mkdtemp(dir))
        s_die("mkdtemp failed");
    snprintf(path, sizeof path, "%s/pylon.db", dir);
    ledger_db_t *db = ledger_db_open(path, false, err, sizeof err);
    if (!db)
        s_die(err);
    double best_single = 1e30, best_batch = 1e30;
    int made = 0;
    for (int round = 0; round < 3; round++) {
        for (int mode = 0; mode < 2; mode++) {
            double t0 = s_now();
            if (mode == 1)
                ledger_db_begin(db);
            for (int i = 0; i < n; i++, made++) {
                msg_ledger_job_new_t job = {.ref = 1, .kind = 5935, .backend = "llamacpp:gpt_oss_20b",
                                            .request = requests[made % count], .encryption = "none",
                                            .created_at = 1800000000};
                memcpy(job.job, &made, sizeof made);    /* a fresh id each time */
                bool existing;
                char state[32];
                if (mode == 0)
                    ledger_db_begin(db);
                if (ledger_db_job_new(db, &job, &existing, state) != 0)
                    s_die(ledger_db_error(db));
                if (mode == 0)
                    ledger_db_commit(db);
            }
            if (mode == 1)
                ledger_db_commit(db);
            double us = (s_now() - t0) / n * 1e6;
            if (mode == 0 && us < best_single)
                best_single = us;
            if (mode == 1 && us < best_batch)
                best_batch = us;
        }
    }
    ledger_db_close(&db);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    if (system(command) != 0)
        fprintf(stderr, "bench_jobs: could not remove %s\n", dir);
    *write = best_batch;
    *commit = best_single - best_batch;
}

/* Five forwarding actors. *cost: µs per message with 1,000 in flight (what the hops cost in
   CPU, as in a loaded node); *wake: p50 µs of one message at a time (each hop then waits for
   its thread to wake up). */
static void
s_hops(int samples, double *cost, double *wake)
{
    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "bjh%d-", ++s_run);
    snprintf(endpoint, sizeof endpoint, "inproc://%sprobe", prefix);
    probe_t *probe = probe_new("probe", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "probe", endpoint);
    static const char *next[HOPS] = {"hop2", "hop3", "hop4", "hop5", "probe"};
    node_member_t members[HOPS];
    for (int i = 0; i < HOPS; i++)
        members[i] = (node_member_t) {hop_def(i + 1), (void *) next[i]};
    node_t *node = node_start(members, HOPS, &dir, prefix, NULL);
    if (!node)
        s_die("the hop chain did not start");
    const char *hop1 = actor_directory_find(node_directory(node), "hop1");
    msg_t out = {.type = MSG_RELAY_EVENT, .relay_event = {"jobs", "ws://bench", s_sample[0]}};
    msg_t in = {0};
    double *us = calloc((size_t) samples, sizeof *us);
    for (int i = -200; i < samples; i++) {     /* the first 200: warm-up */
        double t0 = s_now();
        probe_send(probe, "hop1", hop1, &out);
        if (probe_recv(probe, &in, TIMEOUT_MS) != 0)
            s_die("the hop chain lost a message");
        if (i >= 0)
            us[i] = (s_now() - t0) * 1e6;
    }
    *wake = s_pct(us, samples).p50;
    free(us);
    int count = 50000, sent = 0, received = 0;
    double t0 = s_now();
    while (received < count) {
        while (sent < count && sent - received < 1000) {
            probe_send(probe, "hop1", hop1, &out);
            sent++;
        }
        if (probe_recv(probe, &in, TIMEOUT_MS) != 0)
            s_die("the hop chain lost a message");
        received++;
    }
    *cost = (s_now() - t0) / count * 1e6;
    msg_release(&in);
    node_stop(&node);
    probe_destroy(&probe);
}

static prim_t
s_primitives(void)
{
    prim_t p = {0};
    s_sample_count = 256;
    s_sample = s_requests(s_sample_count, s_node_hex);
    s_sample_events = calloc((size_t) s_sample_count, sizeof *s_sample_events);
    for (int i = 0; i < s_sample_count; i++)
        s_sample_events[i] = nostr_event_parse(s_sample[i], strlen(s_sample[i]), NULL, NULL);
    s_node_keys = nostr_keys_new(s_node_secret);
    randombytes_buf(s_ln_key, 32);
    p.verify = s_time_op(s_op_verify);
    p.sign = s_time_op(s_op_sign);
    p.parse = s_time_op(s_op_parse);
    p.invoice = s_time_op(s_op_invoice);
    s_sqlite(s_sample, s_sample_count, 1000, &p.write, &p.commit);
    s_hops(5000, &p.hops, &p.hops_wake);
    for (int i = 0; i < s_sample_count; i++)
        nostr_event_destroy(&s_sample_events[i]);
    free(s_sample_events);
    s_requests_free(s_sample, s_sample_count);
    nostr_keys_destroy(&s_node_keys);
    return p;
}

/* The limit of one free job (µs) with the ledger at `batch` writes per commit. */
static double
s_limit_free(const prim_t *p, double batch)
{
    return p->verify + p->sign + p->parse + p->write + p->commit / batch + p->hops;
}

static double
s_limit_paid(const prim_t *p, double batch)
{
    return s_limit_free(p, batch) + p->sign + p->invoice + p->write + p->commit / batch;
}

/* ---- the report ---------------------------------------------------------------------------- */

static void
s_row_rate(const char *name, double rate, double limit_us)
{
    double limit_rate = 1e6 / limit_us;
    printf("  %-44s %9.0f jobs/s   limit %7.0f jobs/s   measured/limit %.2f\n", name, rate,
           limit_rate, rate / limit_rate);
}

static void
s_row_lat(const char *name, pct_t lat, double limit_us)
{
    printf("  %-44s p50 %8.0f us  p99 %8.0f us   limit %6.0f us   p50/limit %.1f\n", name, lat.p50,
           lat.p99, limit_us, lat.p50 / limit_us);
}

int
main(int argc, char **argv)
{
    int jobs = argc > 1 ? atoi(argv[1]) : 2000;
    if (jobs < 100)
        jobs = 100;
    int samples = jobs / 4;
    printf("command: %s %d\n", argv[0], jobs);
    /* Started from anywhere: the relay script is found from the repository root. */
    if (access("tests/node/relay.mjs", R_OK) != 0) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            char *cut = strstr(self, "/build/");
            if (cut) {
                *cut = 0;
                if (chdir(self) != 0)
                    s_die("cannot find the repository root");
            }
        }
    }
    log_set_level(LOG_LEVEL_ERROR);
    zsys_init();
    zsys_set_logstream(NULL);
    for (int i = 0; i < BUYERS; i++)
        s_buyers[i] = nostr_keys_generate();
    nostr_keys_t *node_keys = nostr_keys_new(s_node_secret);
    nostr_event_hex(nostr_keys_pubkey(node_keys), 32, s_node_hex);
    nostr_keys_destroy(&node_keys);
    printf("kind-5935 jobs signed beforehand by %d buyers; throughput over %d jobs with %d in flight, "
           "latency over %d jobs one at a time (%d warm-up jobs first); %ld cores\n\n",
           BUYERS, jobs, WINDOW, samples, WARMUP, sysconf(_SC_NPROCESSORS_ONLN));

    prim_t p = s_primitives();
    run_t free_run = s_run_probe(false, jobs, samples);
    relay_run_t relay_run = s_run_relay(jobs / 2, samples / 2);
    run_t paid_run = s_run_probe(true, jobs, samples);

    printf("primitives (same run; mean of about 0.3 s each, best of 3 rounds):\n");
    printf("  BIP-340 verify with x-only key parse        %7.1f us\n", p.verify);
    printf("  result event build + sign + JSON            %7.1f us\n", p.sign);
    printf("  request JSON parse (event + content)        %7.1f us\n", p.parse);
    printf("  SQLite write (ledger_db_job_new) in a batch %7.1f us\n", p.write);
    printf("  SQLite BEGIN + COMMIT (WAL, sync NORMAL)    %7.1f us\n", p.commit);
    printf("  five actor hops (per message, 1000 in flight) %5.1f us\n", p.hops);
    printf("  five actor hops (p50, one message at a time) %6.1f us   (thread wake-ups; not in the limits)\n",
           p.hops_wake);
    printf("  BOLT11 invoice encode + sign + decode       %7.1f us\n", p.invoice);
    printf("  ledger writes per commit: free %.1f, relay %.1f, paid %.1f under load; %.1f, %.1f, %.1f "
           "one job at a time\n\n", free_run.batch, relay_run.job.batch, paid_run.batch,
           free_run.latency_batch, relay_run.job.latency_batch, paid_run.latency_batch);

    double free_tp = s_limit_free(&p, free_run.batch), free_lat = s_limit_free(&p, free_run.latency_batch);
    double relay_tp = s_limit_free(&p, relay_run.job.batch);
    double relay_lat = s_limit_free(&p, relay_run.job.latency_batch);
    double paid_tp = s_limit_paid(&p, paid_run.batch), paid_lat = s_limit_paid(&p, paid_run.latency_batch);
    printf("1. free jobs, relay played in-process (intake parse + verify in the injecting thread)\n");
    s_row_rate("throughput", free_run.rate, free_tp);
    s_row_lat("latency: request in -> result published", free_run.total, free_lat);
    printf("2. free jobs through a local relay (tests/node/relay.mjs), real relay actors\n");
    printf("  %-44s %9.0f events/s (one client publishing, OK awaited)\n", "the relay alone accepts",
           relay_run.relay_rate);
    printf("  %-44s %9.0f jobs/s   (3 events in per job: request, processing, result)\n",
           "relay-bound ceiling, about relay alone / 3", relay_run.relay_rate / 3);
    s_row_rate("throughput", relay_run.job.rate, relay_tp);
    s_row_lat("latency: published -> result at the client", relay_run.job.total, relay_lat);
    printf("3. paid jobs, demo wallet (WALLET_DEMO_PAY to the real wallet actor)\n");
    s_row_rate("throughput", paid_run.rate, paid_tp);
    s_row_lat("latency: request in -> result published", paid_run.total, paid_lat);
    printf("  %-44s p50 %8.0f us  p99 %8.0f us\n", "  request -> payment-required", paid_run.phase[0].p50,
           paid_run.phase[0].p99);
    printf("  %-44s p50 %8.0f us  p99 %8.0f us\n", "  pay -> processing", paid_run.phase[1].p50,
           paid_run.phase[1].p99);
    printf("  %-44s p50 %8.0f us  p99 %8.0f us\n", "  processing -> result published",
           paid_run.phase[2].p50, paid_run.phase[2].p99);
    printf("\nlimits: free = verify + build/sign + parse + 1 SQLite write (+ commit / writes per commit)"
           " + 5 hops;\n        paid adds build/sign + BOLT11 + 1 SQLite write; jobs/s limits are one"
           " core's worth (this machine has %ld)\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("ledger books: %ld of %ld free, %ld of %ld relayed, %ld of %ld paid jobs delivered\n",
           free_run.delivered, free_run.expected, relay_run.job.delivered, relay_run.job.expected,
           paid_run.delivered, paid_run.expected);
    printf("for comparison, reported by the seed's Rust implementation (not measured here; no intake"
           " checks, signatures or payment): about 15000 jobs/s, 76 us per job\n");
    for (int i = 0; i < BUYERS; i++)
        nostr_keys_destroy(&s_buyers[i]);
    return 0;
}
