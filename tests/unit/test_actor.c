/*  test_actor.c: the actor template, the node and the tap, over every transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor.h"
#include "node.h"
#include "probe.h"
#include "tap.h"

static int s_run;   /* makes endpoint names unique within the process */

/* Endpoint for name on a transport: inproc, ipc (a socket file in /tmp) or a free tcp port. */
static void
s_endpoint(char *buf, size_t size, const char *transport, const char *name)
{
    if (streq(transport, "inproc"))
        snprintf(buf, size, "inproc://t%d-%s", s_run, name);
    else if (streq(transport, "ipc"))
        snprintf(buf, size, "ipc:///tmp/pylon-test-%d-%d-%s.sock", getpid(), s_run, name);
    else {
        /* A plain socket closes at once (a ZeroMQ one closes in the background). */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof addr;
        assert_int_equal(bind(fd, (struct sockaddr *) &addr, sizeof addr), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &addr, &len), 0);
        close(fd);
        snprintf(buf, size, "tcp://127.0.0.1:%d", ntohs(addr.sin_port));
    }
}

/* probe -> hop1 -> hop2 -> hop3 -> probe, 2,000 messages, checked in order and intact. */
static void
s_exchange_over(const char *transport)
{
    s_run++;
    char endpoint[ACTOR_ENDPOINT_MAX];
    s_endpoint(endpoint, sizeof endpoint, transport, "probe");
    probe_t *probe = probe_new("probe", endpoint);
    assert_non_null(probe);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "probe", probe_endpoint(probe));
    for (int i = 1; i <= 3; i++) {
        s_endpoint(endpoint, sizeof endpoint, transport, hop_def(i)->name);
        actor_directory_add(&dir, hop_def(i)->name, endpoint);
    }
    actor_t *hops[3];
    const char *next[3] = {"hop2", "hop3", "probe"};
    for (int i = 0; i < 3; i++) {
        hops[i] = actor_new(hop_def(i + 1), &dir, (void *) next[i]);
        assert_non_null(hops[i]);
    }
    const int count = 2000;
    char text[64];
    for (int i = 0; i < count; i++) {
        snprintf(text, sizeof text, "event %d over %s", i, transport);
        msg_t out = {.type = MSG_RELAY_EVENT, .relay_event = {"sub", "ws://relay", text}};
        assert_int_equal(probe_send(probe, "hop1", actor_directory_find(&dir, "hop1"), &out), 0);
    }
    msg_t in = {0};
    for (int i = 0; i < count; i++) {
        assert_int_equal(probe_recv(probe, &in, 5000), 0);
        assert_int_equal(in.type, MSG_RELAY_EVENT);
        assert_string_equal(in.from, "hop3");
        snprintf(text, sizeof text, "event %d over %s", i, transport);
        assert_string_equal(in.relay_event.event, text);
    }
    msg_release(&in);
    for (int i = 0; i < 3; i++)
        actor_destroy(&hops[i]);
    probe_destroy(&probe);
    assert_int_equal(actor_open_sockets(), 0);
}

static void t_exchange_inproc(void **state) { s_exchange_over("inproc"); }
static void t_exchange_ipc(void **state) { s_exchange_over("ipc"); }
static void t_exchange_tcp(void **state) { s_exchange_over("tcp"); }

/* A node of hops: start, check every actor answers PING and STATUS, stop. */
static node_t *
s_start_chain(int hops, probe_t **probe_p)
{
    s_run++;
    char prefix[32], endpoint[ACTOR_ENDPOINT_MAX];
    snprintf(prefix, sizeof prefix, "n%d-", s_run);
    snprintf(endpoint, sizeof endpoint, "inproc://%sprobe", prefix);
    *probe_p = probe_new("probe", endpoint);
    static const char *next[] = {"hop2", "hop3", "hop4", "hop5", "hop6", "hop7", "hop8", "probe"};
    node_member_t members[8];
    for (int i = 0; i < hops; i++)
        members[i] = (node_member_t) {hop_def(i + 1), (void *) (i + 1 == hops ? "probe" : next[i])};
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "probe", endpoint);
    return node_start(members, hops, &dir, prefix, NULL);
}

static void
t_ping_and_status(void **state)
{
    probe_t *probe;
    node_t *node = s_start_chain(7, &probe);
    assert_non_null(node);
    const actor_directory_t *dir = node_directory(node);
    msg_t in = {0};
    for (int i = 1; i <= 7; i++) {
        const char *name = hop_def(i)->name;
        msg_t ping = {.type = MSG_PING, .ping = {(uint64_t) i, "are you there"}};
        assert_int_equal(probe_send(probe, name, actor_directory_find(dir, name), &ping), 0);
        assert_int_equal(probe_recv(probe, &in, 2000), 0);
        assert_int_equal(in.type, MSG_PONG);
        assert_int_equal(in.pong.seq, i);
        assert_string_equal(in.from, name);
        msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {100 + (uint64_t) i}};
        assert_int_equal(probe_send(probe, name, actor_directory_find(dir, name), &ask), 0);
        assert_int_equal(probe_recv(probe, &in, 2000), 0);
        assert_int_equal(in.type, MSG_STATUS_REPORT);
        assert_int_equal(in.status_report.seq, 100 + i);
        assert_string_equal(in.status_report.json, "{\"forwarded\":0}");
    }
    msg_release(&in);
    node_stop(&node);
    probe_destroy(&probe);
    assert_int_equal(actor_open_sockets(), 0);
}

/* The tap sees a multi-actor exchange, complete and in order, with sender, receiver, type. */
static void
t_tap_sees_exchange(void **state)
{
    probe_t *probe;
    node_t *node = s_start_chain(4, &probe);
    assert_non_null(node);
    char tap_endpoint[64];
    snprintf(tap_endpoint, sizeof tap_endpoint, "inproc://n%d-tap", s_run);
    zsock_t *sub = zsock_new_sub(tap_endpoint, "");
    assert_non_null(sub);
    const actor_directory_t *dir = node_directory(node);
    msg_t in = {0};
    /* The subscription needs a moment to reach the publishers: probe until the tap speaks. */
    zpoller_t *poller = zpoller_new(sub, NULL);
    bool heard = false;
    for (int attempt = 0; attempt < 100 && !heard; attempt++) {
        msg_t ping = {.type = MSG_PING, .ping = {1, "tap?"}};
        probe_send(probe, "hop1", actor_directory_find(dir, "hop1"), &ping);
        assert_int_equal(probe_recv(probe, &in, 2000), 0);
        heard = zpoller_wait(poller, 20) != NULL;
    }
    assert_true(heard);
    assert_true(tap_listening());
    /* Drain the probes' echoes. */
    while (zpoller_wait(poller, 50)) {
        zmsg_t *old = zmsg_recv(sub);
        zmsg_destroy(&old);
    }
    msg_t event = {.type = MSG_RELAY_EVENT, .relay_event = {"s", "r", "through the tap"}};
    assert_int_equal(probe_send(probe, "hop1", actor_directory_find(dir, "hop1"), &event), 0);
    assert_int_equal(probe_recv(probe, &in, 2000), 0);
    /* Copies reach the tap through one socket per actor, so they may arrive interleaved;
       their sequence numbers give the order in which they were sent. */
    struct { uint64_t seq, ts; char from[32], to[32]; } seen[4];
    for (int i = 0; i < 4; i++) {
        assert_non_null(zpoller_wait(poller, 2000));
        zmsg_t *tapped = zmsg_recv(sub);
        assert_int_equal(zmsg_size(tapped), 2);
        zframe_t *header = zmsg_first(tapped), *body = zmsg_next(tapped);
        int type;
        assert_int_equal(tap_header_decode(zframe_data(header), zframe_size(header), &seen[i].ts,
                                           &seen[i].seq, seen[i].from, seen[i].to,
                                           sizeof seen[i].from, &type), 0);
        assert_int_equal(type, MSG_RELAY_EVENT);
        msg_t decoded = {0};
        assert_int_equal(msg_decode(&decoded, zframe_data(body), zframe_size(body)), 0);
        assert_string_equal(decoded.relay_event.event, "through the tap");
        assert_string_equal(decoded.from, seen[i].from);
        msg_release(&decoded);
        zmsg_destroy(&tapped);
    }
    const char *expect[][2] = {{"hop1", "hop2"}, {"hop2", "hop3"}, {"hop3", "hop4"}, {"hop4", "probe"}};
    for (int hop = 0; hop < 4; hop++) {
        int found = -1;   /* the copy with the hop-th smallest sequence number */
        for (int i = 0; i < 4; i++) {
            int smaller = 0;
            for (int j = 0; j < 4; j++)
                smaller += seen[j].seq < seen[i].seq;
            if (smaller == hop)
                found = i;
        }
        assert_true(found >= 0);
        assert_string_equal(seen[found].from, expect[hop][0]);
        assert_string_equal(seen[found].to, expect[hop][1]);
    }
    msg_release(&in);
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    node_stop(&node);
    probe_destroy(&probe);
    assert_false(tap_listening());
}

/* The full actor set 200 times in one process: no leak (ASan checks), no hang, no socket. */
static void
t_start_stop_200(void **state)
{
    for (int i = 0; i < 200; i++) {
        probe_t *probe;
        node_t *node = s_start_chain(7, &probe);
        assert_non_null(node);
        if (i % 50 == 0) {   /* now and then, prove the set is really up */
            msg_t ping = {.type = MSG_PING, .ping = {7, ""}}, in = {0};
            probe_send(probe, "hop7", actor_directory_find(node_directory(node), "hop7"), &ping);
            assert_int_equal(probe_recv(probe, &in, 2000), 0);
            msg_release(&in);
        }
        node_stop(&node);
        probe_destroy(&probe);
        assert_int_equal(actor_open_sockets(), 0);
    }
}

/* Messages already sent to the last actor when the node stops are still handled. */
static void
t_stop_drains_inbox(void **state)
{
    probe_t *probe;
    node_t *node = s_start_chain(2, &probe);
    const char *hop2 = actor_directory_find(node_directory(node), "hop2");
    for (int i = 0; i < 500; i++) {
        msg_t event = {.type = MSG_RELAY_EVENT, .relay_event = {"s", "r", "last words"}};
        assert_int_equal(probe_send(probe, "hop2", hop2, &event), 0);
    }
    zclock_sleep(50);    /* let them reach hop2's inbox; the stop must not lose them */
    node_stop(&node);
    msg_t in = {0};
    int received = 0;
    while (probe_recv(probe, &in, 500) == 0)
        received++;
    assert_int_equal(received, 500);
    msg_release(&in);
    probe_destroy(&probe);
}

/* An actor whose create() fails: node_start says so, and leaves nothing running. */
static void *s_fail_create(actor_ctx_t *ctx, void *args) { return NULL; }
static void s_never(void **state_p) { fail(); }
static void s_never_handle(void *state, const msg_t *msg) { fail(); }

static void
t_failed_start(void **state)
{
    static const actor_def_t broken = {.name = "broken", .create = s_fail_create,
                                       .destroy = s_never, .handle = s_never_handle};
    node_member_t members[] = {{hop_def(1), "probe"}, {&broken, NULL}};
    s_run++;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "f%d-", s_run);
    node_t *node = node_start(members, 2, NULL, prefix, NULL);
    assert_null(node);
    assert_int_equal(actor_open_sockets(), 0);
}

/* Garbage in an inbox is dropped and counted; the actor keeps working. */
static void
t_garbage_in_inbox(void **state)
{
    probe_t *probe;
    node_t *node = s_start_chain(1, &probe);
    const char *hop1 = actor_directory_find(node_directory(node), "hop1");
    zsock_t *raw = zsock_new_push(hop1);
    const char *garbage[] = {"", "\x91", "\x94\x01\x01\xa1", "not msgpack at all", "\xdd\xff\xff\xff\xff"};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++)
        zmq_send(zsock_resolve(raw), garbage[i], strlen(garbage[i]) + (i == 0), 0);
    msg_t ping = {.type = MSG_PING, .ping = {42, "still alive?"}}, in = {0};
    assert_int_equal(probe_send(probe, "hop1", hop1, &ping), 0);
    assert_int_equal(probe_recv(probe, &in, 2000), 0);
    assert_int_equal(in.pong.seq, 42);
    msg_release(&in);
    zsock_destroy(&raw);
    node_stop(&node);
    probe_destroy(&probe);
}

int
main(void)
{
    zsys_init();
    zsys_set_logstream(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_exchange_inproc),
        cmocka_unit_test(t_exchange_ipc),
        cmocka_unit_test(t_exchange_tcp),
        cmocka_unit_test(t_ping_and_status),
        cmocka_unit_test(t_tap_sees_exchange),
        cmocka_unit_test(t_stop_drains_inbox),
        cmocka_unit_test(t_failed_start),
        cmocka_unit_test(t_garbage_in_inbox),
        cmocka_unit_test(t_start_stop_200),
    };
    return cmocka_run_group_tests_name("actor", tests, NULL, NULL);
}
