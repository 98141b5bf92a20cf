/*  bench_relay.c: what the relay actor costs, next to what it cannot avoid.

    Everything runs against tests/node/relay.mjs, started here on 127.0.0.1. One run prints:

      ingest    verified events/s through the actor: one subscription with no since pulls all
                the stored events; timed from the RELAY_SUBSCRIBE to the last RELAY_EVENT at
                a probe playing the subscriber. Next to it, in the same run on the same events:
                the bare verify (nostr_event_parse + nostr_event_check, one thread), and the
                relay alone (a raw websocket reading the same subscription up to EOSE, with no
                parsing or verification): the slower of the two bounds the actor.
      publish   events/s published with OK confirmations (RELAY_PUBLISH -> RELAY_PUBLISHED ok,
                up to 500 in flight), next to the bare sign (nostr_event_sign) of the same
                events. These are the events the ingest rows read back.
      memory    VmRSS of a process running the relay actor with 0, 1, 4 and 16 connections
                (all to one relay process: the cost measured is the client's), each in a fresh
                process (this program again, with --rss) so that no row inherits another's heap.

    The events are NIP-90 job requests (~600 bytes of JSON), signed before any timing. Ingest
    and the relay-alone read run 3 interleaved rounds and keep each one's best, as the relay
    shares the 2 cores with the actor.

    Usage: bench_relay [events]     (default 5000), from the repository root: run by `make bench`.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "actors.h"
#include "child.h"
#include "log.h"
#include "node.h"
#include "nostr_event.h"
#include "probe.h"
#include "relay.h"
#include "ws.h"

#define WINDOW   500                /* RELAY_PUBLISH in flight (a relay_conn queues 1,000) */
#define ROUNDS   3                  /* ingest / relay-alone rounds, best kept */
#define JOB_KIND 5050

static const uint8_t s_secret[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                     9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1};

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_die(const char *what)
{
    fprintf(stderr, "bench_relay: %s\n", what);
    exit(1);
}

/* ---- a relay actor in a node, with a probe playing its client ----------------------------- */

typedef struct {
    config_t cfg;
    relay_args_t args;
    node_t *node;
    probe_t *probe;                 /* "job_router": subscribes, publishes, receives */
    const char *relay;              /* the actor's inbox */
    msg_t in;
} bench_node_t;

/* A node whose relay actor connects to each of urls[0..count). */
static void
s_node_start(bench_node_t *b, char **urls, int count)
{
    static int runs;
    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "br%d-", ++runs);
    snprintf(endpoint, sizeof endpoint, "inproc://%sjob_router", prefix);
    config_defaults(&b->cfg);
    config_strs_t *list = &b->cfg.relay_urls;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = calloc((size_t) count + 1, sizeof(char *));
    list->count = 0;
    for (int i = 0; i < count; i++)
        list->items[list->count++] = strdup(urls[i]);
    b->args = (relay_args_t) {&b->cfg, s_secret};
    b->probe = probe_new("job_router", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    node_member_t members[] = {{&relay_actor, &b->args}};
    b->node = node_start(members, 1, &dir, prefix, NULL);
    if (!b->probe || !b->node)
        s_die("cannot start the relay actor");
    b->relay = actor_directory_find(node_directory(b->node), "relay");
}

static void
s_node_stop(bench_node_t *b)
{
    node_stop(&b->node);
    probe_destroy(&b->probe);
    msg_release(&b->in);
    config_free(&b->cfg);
}

/* The actor's status report (parsed; the caller puts it). Other messages are dropped. */
static json_object *
s_status(bench_node_t *b)
{
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {1}};
    probe_send(b->probe, "relay", b->relay, &ask);
    while (probe_recv(b->probe, &b->in, 5000) == 0)
        if (b->in.type == MSG_STATUS_REPORT)
            return json_tokener_parse(b->in.status_report.json);
    s_die("no status report");
    return NULL;
}

static int
s_status_int(bench_node_t *b, const char *key)
{
    json_object *status = s_status(b);
    int value = json_object_get_int(json_object_object_get(status, key));
    json_object_put(status);
    return value;
}

/* Waits until `want` relays are connected (asking every 20 ms), or dies after 15 s. */
static void
s_wait_connected(bench_node_t *b, int want)
{
    double deadline = s_now() + 15;
    while (s_status_int(b, "connected") < want) {
        if (s_now() > deadline)
            s_die("the relays did not connect");
        zclock_sleep(20);
    }
}

/* ---- the events ----------------------------------------------------------------------------- */

/* n unsigned job requests of this kind, each with its own prompt. */
static nostr_event_t **
s_job_requests(int n, uint32_t kind)
{
    nostr_event_t **events = calloc((size_t) n, sizeof *events);
    int64_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        char prompt[160];
        snprintf(prompt, sizeof prompt,
                 "Summarise in one sentence: \"The node received %d job requests in the last hour.\"", i);
        nostr_event_t *e = nostr_event_new(kind, now, "", 0);
        nostr_event_add_tagv(e, "i", prompt, "text", NULL);
        nostr_event_add_tagv(e, "param", "model", "llama-3.1-8b-instruct", NULL);
        nostr_event_add_tagv(e, "param", "max_tokens", "512", NULL);
        nostr_event_add_tagv(e, "output", "text/plain", NULL);
        nostr_event_add_tagv(e, "bid", "10000", NULL);
        nostr_event_add_tagv(e, "relays", "wss://relay.example.com", NULL);
        nostr_event_add_tagv(e, "p", "17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917", NULL);
        events[i] = e;
    }
    return events;
}

/* Signs every event; events/s. */
static double
s_sign_all(nostr_event_t **events, int n, const nostr_keys_t *keys)
{
    double start = s_now();
    for (int i = 0; i < n; i++)
        if (nostr_event_sign(events[i], keys) != 0)
            s_die("signing failed");
    return n / (s_now() - start);
}

/* Parses and checks every event as the actor does with what relays send; events/s. */
static double
s_verify_all(char **json, int n)
{
    double start = s_now();
    for (int i = 0; i < n; i++) {
        int error = 0;
        nostr_event_t *e = nostr_event_parse(json[i], strlen(json[i]), NULL, &error);
        if (!e || nostr_event_check(e) != 0)
            s_die("an event did not verify");
        nostr_event_destroy(&e);
    }
    return n / (s_now() - start);
}

/* ---- publish: RELAY_PUBLISH -> RELAY_PUBLISHED ok, WINDOW in flight ----------------------- */

static double
s_publish(const char *url, char **json, int n)
{
    bench_node_t b = {0};
    char *urls[] = {(char *) url};
    s_node_start(&b, urls, 1);
    s_wait_connected(&b, 1);
    double start = s_now();
    int sent = 0, answered = 0;
    while (answered < n) {
        while (sent < n && sent - answered < WINDOW) {
            msg_t ask = {.type = MSG_RELAY_PUBLISH, .relay_publish = {(uint64_t) sent + 1, json[sent], 1}};
            if (probe_send(b.probe, "relay", b.relay, &ask) != 0)
                s_die("cannot send RELAY_PUBLISH");
            sent++;
        }
        if (probe_recv(b.probe, &b.in, 15000) != 0)
            s_die("no RELAY_PUBLISHED for 15 s");
        if (b.in.type != MSG_RELAY_PUBLISHED)
            continue;
        if (!b.in.relay_published.ok) {
            fprintf(stderr, "bench_relay: event %llu refused: %s\n",
                    (unsigned long long) b.in.relay_published.ref, b.in.relay_published.reason);
            exit(1);
        }
        answered++;
    }
    double rate = n / (s_now() - start);
    s_node_stop(&b);
    return rate;
}

/* ---- ingest through the actor: REQ to the last RELAY_EVENT -------------------------------- */

static double
s_ingest(const char *url, int n)
{
    bench_node_t b = {0};
    char *urls[] = {(char *) url};
    s_node_start(&b, urls, 1);
    s_wait_connected(&b, 1);
    char filter[64];
    snprintf(filter, sizeof filter, "{\"kinds\":[%d]}", JOB_KIND);
    msg_t ask = {.type = MSG_RELAY_SUBSCRIBE, .relay_subscribe = {"all", filter}};
    double start = s_now(), last = start;
    if (probe_send(b.probe, "relay", b.relay, &ask) != 0)
        s_die("cannot send RELAY_SUBSCRIBE");
    int events = 0;
    while (events < n) {
        if (probe_recv(b.probe, &b.in, 15000) != 0) {
            fprintf(stderr, "bench_relay: %d of %d events arrived\n", events, n);
            exit(1);
        }
        if (b.in.type == MSG_RELAY_EVENT) {
            events++;
            last = s_now();
        }
    }
    if (s_status_int(&b, "invalid") != 0 || s_status_int(&b, "delivered") != n)
        s_die("events lost or refused on the way in");
    s_node_stop(&b);
    return n / (last - start);
}

/* ---- the relay alone: a raw websocket reads the same subscription to EOSE ----------------- */

typedef struct {
    int events;                     /* EVENT messages counted (not parsed) */
    bool done;                      /* EOSE arrived */
    bool closed;                    /* the connection ended */
    double start, end;              /* REQ sent, EOSE received */
} raw_t;

static void
s_raw_open(ws_conn_t *conn, void *arg)
{
    raw_t *raw = arg;
    char req[64];
    snprintf(req, sizeof req, "[\"REQ\",\"raw\",{\"kinds\":[%d]}]", JOB_KIND);
    raw->start = s_now();
    ws_conn_send(conn, req, strlen(req));
}

static void
s_raw_message(ws_conn_t *conn, const char *text, size_t len, void *arg)
{
    raw_t *raw = arg;
    if (strncmp(text, "[\"EVENT\"", 8) == 0)
        raw->events++;
    else if (strncmp(text, "[\"EOSE\"", 7) == 0) {
        raw->end = s_now();
        raw->done = true;
    }
}

static void
s_raw_close(ws_conn_t *conn, const char *reason, void *arg)
{
    ((raw_t *) arg)->closed = true;
}

static double
s_relay_alone(const char *url, int n)
{
    ws_client_t *client = ws_client_new(NULL);
    raw_t raw = {0};
    static const ws_handlers_t handlers = {s_raw_open, s_raw_message, s_raw_close};
    ws_conn_t *conn = ws_conn_open(client, url, &handlers, &raw);
    double deadline = s_now() + 30;
    while (!raw.done && !raw.closed && s_now() < deadline)
        ws_client_run(client, 100);
    if (!raw.done || raw.events != n) {
        fprintf(stderr, "bench_relay: the raw read got %d of %d events\n", raw.events, n);
        exit(1);
    }
    ws_conn_destroy(&conn);
    ws_client_destroy(&client);
    return n / (raw.end - raw.start);
}

/* ---- the relay alone, publishing: a raw websocket sends EVENTs and counts the OKs --------- */

typedef struct {
    ws_conn_t *conn;
    char **json;                    /* the events to send */
    int n, sent, ok, refused;
    bool open, closed;
} raw_pub_t;

static void
s_raw_pub_fill(raw_pub_t *raw)
{
    char buf[2048];
    while (raw->open && raw->sent < raw->n && raw->sent - raw->ok - raw->refused < WINDOW) {
        int len = snprintf(buf, sizeof buf, "[\"EVENT\",%s]", raw->json[raw->sent]);
        if (len >= (int) sizeof buf || ws_conn_send(raw->conn, buf, (size_t) len) != 0)
            s_die("cannot send an event on the raw websocket");
        raw->sent++;
    }
}

static void
s_raw_pub_open(ws_conn_t *conn, void *arg)
{
    raw_pub_t *raw = arg;
    raw->open = true;
    s_raw_pub_fill(raw);
}

static void
s_raw_pub_message(ws_conn_t *conn, const char *text, size_t len, void *arg)
{
    raw_pub_t *raw = arg;
    if (strncmp(text, "[\"OK\"", 5) == 0) {
        if (strstr(text, ",true,"))
            raw->ok++;
        else
            raw->refused++;
        s_raw_pub_fill(raw);
    }
}

static void
s_raw_pub_close(ws_conn_t *conn, const char *reason, void *arg)
{
    ((raw_pub_t *) arg)->closed = true;
}

static double
s_relay_alone_publish(const char *url, char **json, int n)
{
    ws_client_t *client = ws_client_new(NULL);
    raw_pub_t raw = {.json = json, .n = n};
    static const ws_handlers_t handlers = {s_raw_pub_open, s_raw_pub_message, s_raw_pub_close};
    raw.conn = ws_conn_open(client, url, &handlers, &raw);
    while (!raw.open && !raw.closed)
        ws_client_run(client, 100);
    double start = s_now(), deadline = start + 60;
    while (raw.ok + raw.refused < n && !raw.closed && s_now() < deadline)
        ws_client_run(client, 100);
    double rate = n / (s_now() - start);
    if (raw.ok != n) {
        fprintf(stderr, "bench_relay: the relay accepted %d of %d events\n", raw.ok, n);
        exit(1);
    }
    ws_conn_destroy(&raw.conn);
    ws_client_destroy(&client);
    return rate;
}

/* ---- memory: VmRSS with K connections, in a fresh process --------------------------------- */

static long
s_vmrss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* The --rss child: the relay actor with `count` connections to the relay at `port`, each
   with one subscription that matches nothing stored; prints "RSS <kB>" once all are up. */
static _Noreturn void
s_rss_child(int count, int port)
{
    char *urls[16];
    for (int i = 0; i < count; i++) {
        urls[i] = malloc(64);
        snprintf(urls[i], 64, "ws://127.0.0.1:%d/c%d", port, i);
    }
    bench_node_t b = {0};
    s_node_start(&b, urls, count);
    msg_t ask = {.type = MSG_RELAY_SUBSCRIBE, .relay_subscribe = {"idle", "{\"kinds\":[30999]}"}};
    probe_send(b.probe, "relay", b.relay, &ask);
    s_wait_connected(&b, count);
    s_status(&b);               /* the subscription has been handled: messages are in order */
    printf("RSS %ld\n", s_vmrss_kb());
    fflush(stdout);
    for (;;)
        pause();                /* measured: the parent ends this process with SIGTERM */
}

/* One --rss process with `count` connections: its VmRSS in kB. */
static long
s_rss_once(const char *self_path, int count, int port)
{
    char count_text[16], port_text[16], line[64];
    snprintf(count_text, sizeof count_text, "%d", count);
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {(char *) self_path, "--rss", count_text, port_text, NULL};
    child_t *child = child_start(argv);
    if (!child || child_wait_line(child, "RSS ", line, sizeof line, 30000) != 0)
        s_die("the --rss process did not report");
    child_stop(&child);
    return atol(line + 4);
}

static int
s_compare_long(const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;
    return x < y ? -1 : x > y;
}

/* The median VmRSS of 3 --rss processes with `count` connections, in kB. */
static long
s_rss_with(const char *self_path, int count, int port)
{
    long runs[3];
    for (int i = 0; i < 3; i++)
        runs[i] = s_rss_once(self_path, count, port);
    qsort(runs, 3, sizeof runs[0], s_compare_long);
    return runs[1];
}

/* ---- the run ---------------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    zsys_init();
    zsys_set_logstream(NULL);
    log_set_level(LOG_LEVEL_ERROR);
    if (argc == 4 && streq(argv[1], "--rss")) {
        zsys_handler_set(NULL);     /* SIGTERM ends it at once, without a teardown */
        s_rss_child(atoi(argv[2]), atoi(argv[3]));
    }

    int n = argc > 1 ? atoi(argv[1]) : 5000;
    if (n < 1)
        s_die("usage: bench_relay [events]");
    printf("command: %s %d\n", argv[0], n);

    nostr_keys_t *keys = nostr_keys_new(s_secret);
    /* The events the actor publishes and reads back, and as many of another kind for the
       raw publisher (a relay answers an event it has already stored without verifying it). */
    nostr_event_t **events = s_job_requests(n, JOB_KIND);
    nostr_event_t **others = s_job_requests(n, JOB_KIND + 1);
    double sign = s_sign_all(events, n, keys);
    s_sign_all(others, n, keys);
    char **json = calloc((size_t) n, sizeof *json), **other_json = calloc((size_t) n, sizeof *json);
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        json[i] = nostr_event_to_json(events[i], NULL);
        other_json[i] = nostr_event_to_json(others[i], NULL);
        bytes += strlen(json[i]);
        nostr_event_destroy(&events[i]);
        nostr_event_destroy(&others[i]);
    }
    free(events);
    free(others);

    char limit[16];
    snprintf(limit, sizeof limit, "%d", n);
    char *relay_argv[] = {"node", "tests/node/relay.mjs", "--quiet", "--default-limit", limit, NULL};
    child_t *relay = child_start(relay_argv);
    int port = relay ? child_wait_listening(relay, 15000) : -1;
    if (port <= 0)
        s_die("cannot start tests/node/relay.mjs (run from the repository root)");
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
    printf("%d kind-%d job requests, %zu bytes of JSON on average; one relay.mjs (SQLite in memory)\n\n",
           n, JOB_KIND, bytes / (size_t) n);

    double publish = s_publish(url, json, n);
    double publish_alone = s_relay_alone_publish(url, other_json, n);
    double verify = 0, ingest = 0, alone = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double v = s_verify_all(json, n), a = s_relay_alone(url, n), i = s_ingest(url, n);
        verify = v > verify ? v : verify;
        alone = a > alone ? a : alone;
        ingest = i > ingest ? i : ingest;
    }

    printf("%-44s %10s   %s\n", "", "events/s", "ratio");
    printf("%-44s %10.0f\n", "bare verify (parse + id + signature)", verify);
    printf("%-44s %10.0f   %.2f of bare verify\n", "relay alone (raw websocket, no parsing)", alone,
           alone / verify);
    printf("%-44s %10.0f   %.2f of bare verify, %.2f of the relay alone\n",
           "ingest through the actor (REQ -> last event)", ingest, ingest / verify, ingest / alone);
    printf("%-44s %10.0f\n", "bare sign", sign);
    printf("%-44s %10.0f   %.3f of bare sign\n", "relay alone (raw websocket, 500 in flight)",
           publish_alone, publish_alone / sign);
    printf("%-44s %10.0f   %.3f of bare sign, %.2f of the relay alone\n",
           "publish with OK (500 in flight)", publish, publish / sign, publish / publish_alone);
    printf("ingest is bound by %s\n\n",
           alone < verify ? "the relay's sending (it is slower than verification)"
                          : "verification (the relay sends faster than one thread verifies)");

    static const int counts[] = {0, 1, 4, 16};
    long rss[4];
    printf("%-20s %10s %16s\n", "connections", "VmRSS kB", "kB per conn.");
    for (int i = 0; i < 4; i++) {
        rss[i] = s_rss_with("/proc/self/exe", counts[i], port);
        if (i == 0)
            printf("%-20d %10ld %16s\n", counts[i], rss[i], "-");
        else
            printf("%-20d %10ld %16.0f\n", counts[i], rss[i], (double) (rss[i] - rss[0]) / counts[i]);
    }

    child_stop(&relay);
    for (int i = 0; i < n; i++)
        free(json[i]), free(other_json[i]);
    free(json);
    free(other_json);
    nostr_keys_destroy(&keys);
    return 0;
}
