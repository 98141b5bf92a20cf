/*  bench_runtime.c: what the actor runtime costs.

    Throughput (messages/s) and latency (p50/p99 of one message through the whole chain) of a
    5-actor pipeline of real runtime actors (each decodes, re-encodes and forwards), over
    inproc, ipc and tcp; the same with the tap on, without and with a subscriber; and, for
    reference, raw ZeroMQ threads forwarding the same bytes through 5 hops without decoding.

    Usage: bench_runtime [messages]     (default 200000)   — run by `make bench`. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node.h"
#include "probe.h"
#include "tap.h"

#define HOPS 5

static int s_run;

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_compare(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void
s_endpoint(char *buf, size_t size, const char *transport, const char *name)
{
    if (streq(transport, "inproc"))
        snprintf(buf, size, "inproc://b%d-%s", s_run, name);
    else if (streq(transport, "ipc"))
        snprintf(buf, size, "ipc:///tmp/pylon-bench-%d-%d-%s.sock", getpid(), s_run, name);
    else {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof addr;
        if (bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0
            || getsockname(fd, (struct sockaddr *) &addr, &len) != 0)
            exit(1);
        close(fd);
        snprintf(buf, size, "tcp://127.0.0.1:%d", ntohs(addr.sin_port));
    }
}

typedef struct {
    double rate;        /* messages per second, pipelined */
    double p50, p99;    /* microseconds, one message at a time */
} result_t;

/* probe -> hop1 -> ... -> hop5 -> probe. tap: 0 none, 1 tap without subscriber, 2 with. */
static result_t
s_pipeline(const char *transport, int tap, int count)
{
    s_run++;
    char endpoint[ACTOR_ENDPOINT_MAX], prefix[32];
    snprintf(prefix, sizeof prefix, "b%d-", s_run);
    s_endpoint(endpoint, sizeof endpoint, transport, "probe");
    probe_t *probe = probe_new("probe", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "probe", probe_endpoint(probe));
    static const char *next[HOPS] = {"hop2", "hop3", "hop4", "hop5", "probe"};
    node_member_t members[HOPS];
    for (int i = 0; i < HOPS; i++) {
        s_endpoint(endpoint, sizeof endpoint, transport, hop_def(i + 1)->name);
        actor_directory_add(&dir, hop_def(i + 1)->name, endpoint);
        members[i] = (node_member_t) {hop_def(i + 1), (void *) next[i]};
    }
    node_t *node = node_start(members, HOPS, &dir, prefix, NULL);
    if (!node)
        exit(1);
    zsock_t *sub = NULL;
    if (tap == 2) {
        char tap_endpoint[64];
        snprintf(tap_endpoint, sizeof tap_endpoint, "inproc://%stap", prefix);
        sub = zsock_new_sub(tap_endpoint, "");
        zsock_set_rcvhwm(sub, 0);
        zclock_sleep(100);      /* let the subscription reach every publisher */
    }
    const char *hop1 = actor_directory_find(&dir, "hop1");
    /* A realistic small message: a relayed event id-sized payload. */
    const char *payload = "{\"id\":\"5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36\",\"kind\":5935}";
    msg_t out = {.type = MSG_RELAY_EVENT, .relay_event = {"jobs", "ws://127.0.0.1:7777", payload}};
    msg_t in = {0};
    /* Warm up, then throughput: keep up to 1,000 messages in flight. */
    for (int i = 0; i < 1000; i++)
        probe_send(probe, "hop1", hop1, &out);
    for (int i = 0; i < 1000; i++)
        probe_recv(probe, &in, 5000);
    double start = s_now();
    int sent = 0, received = 0;
    while (received < count) {
        while (sent < count && sent - received < 1000) {
            probe_send(probe, "hop1", hop1, &out);
            sent++;
        }
        if (probe_recv(probe, &in, 5000) != 0) {
            fprintf(stderr, "lost messages: %d of %d back\n", received, count);
            exit(1);
        }
        received++;
        if (sub)    /* a subscriber that keeps up: drain what the tap has */
            while (zsock_events(sub) & ZMQ_POLLIN) {
                zmsg_t *copy = zmsg_recv(sub);
                zmsg_destroy(&copy);
            }
    }
    result_t result = {.rate = count / (s_now() - start)};
    /* Latency: one message at a time. */
    int samples = count / 20 < 2000 ? 2000 : count / 20;
    double *lat = malloc(sizeof(double) * (size_t) samples);
    for (int i = 0; i < samples; i++) {
        double t0 = s_now();
        probe_send(probe, "hop1", hop1, &out);
        probe_recv(probe, &in, 5000);
        lat[i] = (s_now() - t0) * 1e6;
        if (sub)
            while (zsock_events(sub) & ZMQ_POLLIN) {
                zmsg_t *copy = zmsg_recv(sub);
                zmsg_destroy(&copy);
            }
    }
    qsort(lat, (size_t) samples, sizeof(double), s_compare);
    result.p50 = lat[samples / 2];
    result.p99 = lat[samples * 99 / 100];
    free(lat);
    msg_release(&in);
    zsock_destroy(&sub);
    node_stop(&node);
    probe_destroy(&probe);
    return result;
}

/* Raw ZeroMQ: 5 threads, each PULL -> PUSH, forwarding frames untouched. */
typedef struct {
    char in[64], out[64];
} raw_hop_t;

static void
s_raw_hop(zsock_t *pipe, void *args)
{
    raw_hop_t *hop = args;
    zsock_t *in = zsock_new_pull(hop->in);
    zsock_t *out = zsock_new_push(hop->out);
    zsock_set_rcvhwm(in, 0);
    zsock_set_sndhwm(out, 0);
    zsock_signal(pipe, 0);
    zmq_pollitem_t items[] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0}, {zsock_resolve(in), 0, ZMQ_POLLIN, 0}};
    while (zmq_poll(items, 2, -1) >= 0 && !(items[0].revents & ZMQ_POLLIN)) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        while (zmq_msg_recv(&frame, zsock_resolve(in), ZMQ_DONTWAIT) >= 0)
            zmq_msg_send(&frame, zsock_resolve(out), 0);
        zmq_msg_close(&frame);
    }
    zsock_destroy(&in);
    zsock_destroy(&out);
}

static result_t
s_raw(int count, size_t size)
{
    s_run++;
    raw_hop_t hops[HOPS];
    zactor_t *actors[HOPS];
    char first[64], last[64];
    snprintf(first, sizeof first, "inproc://raw%d-0", s_run);
    snprintf(last, sizeof last, "inproc://raw%d-%d", s_run, HOPS);
    zsock_t *sink = zsock_new(ZMQ_PULL);
    zsock_bind(sink, "%s", last);
    zsock_set_rcvhwm(sink, 0);
    for (int i = HOPS - 1; i >= 0; i--) {
        snprintf(hops[i].in, sizeof hops[i].in, "@inproc://raw%d-%d", s_run, i);
        snprintf(hops[i].out, sizeof hops[i].out, ">inproc://raw%d-%d", s_run, i + 1);
        actors[i] = zactor_new(s_raw_hop, &hops[i]);
    }
    zsock_t *source = zsock_new(ZMQ_PUSH);
    zsock_set_sndhwm(source, 0);
    zsock_connect(source, "%s", first);
    char *data = calloc(1, size);
    double start = s_now();
    int sent = 0, received = 0;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    while (received < count) {
        while (sent < count && sent - received < 1000) {
            zmq_send(zsock_resolve(source), data, size, 0);
            sent++;
        }
        zmq_msg_recv(&frame, zsock_resolve(sink), 0);
        received++;
    }
    result_t result = {.rate = count / (s_now() - start)};
    int samples = count / 20 < 2000 ? 2000 : count / 20;
    double *lat = malloc(sizeof(double) * (size_t) samples);
    for (int i = 0; i < samples; i++) {
        double t0 = s_now();
        zmq_send(zsock_resolve(source), data, size, 0);
        zmq_msg_recv(&frame, zsock_resolve(sink), 0);
        lat[i] = (s_now() - t0) * 1e6;
    }
    qsort(lat, (size_t) samples, sizeof(double), s_compare);
    result.p50 = lat[samples / 2];
    result.p99 = lat[samples * 99 / 100];
    zmq_msg_close(&frame);
    free(lat);
    free(data);
    for (int i = 0; i < HOPS; i++)
        zactor_destroy(&actors[i]);
    zsock_destroy(&source);
    zsock_destroy(&sink);
    return result;
}

int
main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 200000;
    zsys_init();
    zsys_set_logstream(NULL);
    msg_buf_t buf = {0};
    msg_t sample = {.type = MSG_RELAY_EVENT,
                    .relay_event = {"jobs", "ws://127.0.0.1:7777",
                                    "{\"id\":\"5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36\",\"kind\":5935}"}};
    msg_set_route(&sample, "hop1", "hop2");
    msg_encode(&sample, &buf);
    printf("command: %s %d\n", argv[0], count);
    printf("%d messages of %zu bytes through %d hops (each decodes, re-encodes, forwards)\n\n",
           count, buf.size, HOPS);
    printf("%-34s %12s %10s %10s\n", "pipeline", "msgs/s", "p50 us", "p99 us");
    result_t raw = s_raw(count, buf.size);
    printf("%-34s %12.0f %10.1f %10.1f\n", "raw ZeroMQ threads, inproc", raw.rate, raw.p50, raw.p99);
    const char *transports[] = {"inproc", "ipc", "tcp"};
    result_t inproc = {0};
    for (int i = 0; i < 3; i++) {
        result_t r = s_pipeline(transports[i], 0, count);
        if (i == 0)
            inproc = r;
        char label[64];
        snprintf(label, sizeof label, "runtime actors, %s", transports[i]);
        printf("%-34s %12.0f %10.1f %10.1f\n", label, r.rate, r.p50, r.p99);
    }
    result_t quiet = s_pipeline("inproc", 1, count);
    printf("%-34s %12.0f %10.1f %10.1f\n", "runtime, inproc, tap, no listener", quiet.rate, quiet.p50, quiet.p99);
    result_t watched = s_pipeline("inproc", 2, count);
    printf("%-34s %12.0f %10.1f %10.1f\n", "runtime, inproc, tap, 1 listener", watched.rate, watched.p50, watched.p99);
    printf("\nruntime / raw ZeroMQ (inproc): %.2f of the throughput, %.2fx the p50 latency\n",
           inproc.rate / raw.rate, inproc.p50 / raw.p50);
    printf("tap without a listener: %.1f%% of the throughput without a tap; with one: %.1f%%\n",
           100.0 * quiet.rate / inproc.rate, 100.0 * watched.rate / inproc.rate);
    msg_buf_free(&buf);
    return 0;
}
