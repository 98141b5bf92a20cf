/*  test_relay_actor.c: the relay actor against real relays (tests/node/relay.mjs, an
    independent implementation) and a misbehaving one (tests/stubs/bad_relay.mjs), with a probe
    playing the job router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors.h"
#include "child.h"
#include "node.h"
#include "nostr_event.h"
#include "probe.h"
#include "relay.h"
#include "relay_conn.h"

static const uint8_t s_secret[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                     7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8};

typedef struct {
    config_t cfg;
    relay_args_t args;
    node_t *node;
    probe_t *probe;
    const char *relay;              /* the actor's inbox */
    msg_t in;
} fixture_t;

static child_t *
s_relay(int port, int *port_out)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {"node", "tests/node/relay.mjs", "--port", port_text, "--quiet", NULL};
    child_t *child = child_start(argv);
    assert_non_null(child);
    *port_out = child_wait_listening(child, 15000);
    assert_true(*port_out > 0);
    return child;
}

static int
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void
s_start(fixture_t *f, const char *urls)
{
    static int runs;
    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "ra%d-", ++runs);
    snprintf(endpoint, sizeof endpoint, "inproc://%sjob_router", prefix);
    config_defaults(&f->cfg);
    setenv("PYLON_RELAYS", urls, 1);
    config_apply_env(&f->cfg);
    unsetenv("PYLON_RELAYS");
    f->args = (relay_args_t) {&f->cfg, s_secret};
    f->probe = probe_new("job_router", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    node_member_t members[] = {{&relay_actor, &f->args}};
    f->node = node_start(members, 1, &dir, prefix, NULL);
    assert_non_null(f->node);
    f->relay = actor_directory_find(node_directory(f->node), "relay");
}

static void
s_stop(fixture_t *f)
{
    node_stop(&f->node);
    probe_destroy(&f->probe);
    msg_release(&f->in);
    config_free(&f->cfg);
}

static char *
s_signed_event(int kind, const char *content, uint8_t id[32])
{
    nostr_keys_t *keys = nostr_keys_new(s_secret);
    nostr_event_t *e = nostr_event_new((uint32_t) kind, time(NULL), content, strlen(content));
    nostr_event_add_tagv(e, "t", "pylon-test", NULL);
    nostr_event_sign(e, keys);
    memcpy(id, e->id, 32);
    char *json = nostr_event_to_json(e, NULL);
    nostr_event_destroy(&e);
    nostr_keys_destroy(&keys);
    return json;
}

static void
s_subscribe(fixture_t *f, const char *sub, int kind)
{
    char filter[128];
    snprintf(filter, sizeof filter, "{\"kinds\":[%d]}", kind);
    msg_t ask = {.type = MSG_RELAY_SUBSCRIBE, .relay_subscribe = {sub, filter}};
    assert_int_equal(probe_send(f->probe, "relay", f->relay, &ask), 0);
}

static void
s_publish(fixture_t *f, uint64_t ref, const char *json, uint64_t quorum)
{
    msg_t ask = {.type = MSG_RELAY_PUBLISH, .relay_publish = {ref, json, quorum}};
    assert_int_equal(probe_send(f->probe, "relay", f->relay, &ask), 0);
}

static json_object *
s_status(fixture_t *f)
{
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {1}};
    probe_send(f->probe, "relay", f->relay, &ask);
    while (probe_recv(f->probe, &f->in, 3000) == 0)
        if (f->in.type == MSG_STATUS_REPORT)
            return json_tokener_parse(f->in.status_report.json);
    fail_msg("no status");
    return NULL;
}

/* Three relays: a publish reaches its quorum, and the event comes back once. */
static void
t_three_relays_once(void **state)
{
    fixture_t f = {0};
    int ports[3];
    child_t *relays[3];
    for (int i = 0; i < 3; i++)
        relays[i] = s_relay(0, &ports[i]);
    char urls[256];
    snprintf(urls, sizeof urls, "ws://127.0.0.1:%d,ws://127.0.0.1:%d,ws://127.0.0.1:%d", ports[0], ports[1], ports[2]);
    s_start(&f, urls);
    s_subscribe(&f, "jobs", 5935);
    uint8_t id[32];
    char *json = s_signed_event(5935, "once, whatever the relays", id);
    s_publish(&f, 42, json, 2);
    int published = 0, events = 0;
    int64_t deadline = zclock_mono() + 8000;
    while (zclock_mono() < deadline && !(published && events)) {
        if (probe_recv(f.probe, &f.in, 500) != 0)
            continue;
        if (f.in.type == MSG_RELAY_PUBLISHED) {
            assert_int_equal(f.in.relay_published.ref, 42);
            assert_true(f.in.relay_published.ok);
            assert_true(f.in.relay_published.accepted >= 2);
            assert_memory_equal(f.in.relay_published.id, id, 32);
            published++;
        }
        else if (f.in.type == MSG_RELAY_EVENT) {
            assert_string_equal(f.in.relay_event.sub, "jobs");
            assert_string_equal(f.in.relay_event.event, json);
            events++;
        }
    }
    assert_int_equal(published, 1);
    /* Give the other two relays time to deliver their copies: still once. */
    while (probe_recv(f.probe, &f.in, 1500) == 0)
        events += f.in.type == MSG_RELAY_EVENT;
    assert_int_equal(events, 1);
    json_object *status = s_status(&f);
    assert_int_equal(json_object_get_int(json_object_object_get(status, "connected")), 3);
    assert_true(json_object_get_int(json_object_object_get(status, "duplicates")) >= 1);
    json_object_put(status);
    free(json);
    s_stop(&f);
    for (int i = 0; i < 3; i++)
        child_stop(&relays[i]);
}

/* A relay that sends garbage and forged events: they are dropped and counted, and the healthy
   relay's traffic flows. */
static void
t_garbage_relay(void **state)
{
    fixture_t f = {0};
    int good_port, bad_port;
    child_t *good = s_relay(0, &good_port);
    char *argv[] = {"node", "tests/stubs/bad_relay.mjs", NULL};
    child_t *bad = child_start(argv);
    bad_port = child_wait_listening(bad, 15000);
    assert_true(bad_port > 0);
    char urls[256];
    snprintf(urls, sizeof urls, "ws://127.0.0.1:%d/garbage,ws://127.0.0.1:%d", bad_port, good_port);
    s_start(&f, urls);
    s_subscribe(&f, "healthy", 1);
    zclock_sleep(500);          /* let the garbage flow */
    uint8_t id[32];
    char *json = s_signed_event(1, "through the noise", id);
    s_publish(&f, 7, json, 1);
    bool published = false, received = false;
    int64_t deadline = zclock_mono() + 8000;
    while (zclock_mono() < deadline && !(published && received))
        if (probe_recv(f.probe, &f.in, 500) == 0) {
            if (f.in.type == MSG_RELAY_PUBLISHED)
                published = f.in.relay_published.ok;
            if (f.in.type == MSG_RELAY_EVENT) {
                /* Only genuine events get through: this one, never a forged one. */
                assert_string_equal(f.in.relay_event.event, json);
                received = true;
            }
        }
    assert_true(published);
    assert_true(received);
    json_object *status = s_status(&f);
    assert_true(json_object_get_int(json_object_object_get(status, "invalid")) >= 1);
    json_object_put(status);
    free(json);
    s_stop(&f);
    child_stop(&bad);
    child_stop(&good);
}

/* Publish while every relay is down: delivered once the relay comes up. */
static void
t_publish_while_down(void **state)
{
    fixture_t f = {0};
    int port = s_free_port(), got;
    char urls[64];
    snprintf(urls, sizeof urls, "ws://127.0.0.1:%d", port);
    s_start(&f, urls);
    uint8_t id[32];
    char *json = s_signed_event(1, "queued while down", id);
    s_publish(&f, 9, json, 1);
    assert_int_not_equal(probe_recv(f.probe, &f.in, 1000), 0);     /* nothing yet */
    child_t *relay = s_relay(port, &got);
    assert_int_equal(got, port);
    bool published = false;
    int64_t deadline = zclock_mono() + 15000;
    while (zclock_mono() < deadline && !published)
        if (probe_recv(f.probe, &f.in, 500) == 0 && f.in.type == MSG_RELAY_PUBLISHED) {
            assert_int_equal(f.in.relay_published.ref, 9);
            published = f.in.relay_published.ok;
        }
    assert_true(published);
    free(json);
    s_stop(&f);
    child_stop(&relay);
}

/* ---- the relay killed and restarted mid-stream ---------------------------------------------- */

#define STREAM_PART 5               /* events per part of the stream */

/* tests/node/relay.mjs on `port` (0: any) with its events in `db`; the port it listens on. */
static child_t *
s_relay_db(int port, const char *db, int *port_out)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {"node", "tests/node/relay.mjs", "--port", port_text, "--db", (char *) db, "--quiet", NULL};
    child_t *child = child_start(argv);
    assert_non_null(child);
    *port_out = child_wait_listening(child, 15000);
    assert_true(*port_out > 0);
    return child;
}

static void
s_count_accepted(relay_conn_t *conn, const char *id, relay_publish_result_t result, const char *message, void *arg)
{
    assert_int_equal(result, RELAY_PUBLISH_ACCEPTED);
    (*(int *) arg)++;
}

/* Another client, not the actor: publishes events[0..count) on the relay at `port` and
   returns once the relay has accepted every one. */
static void
s_publish_elsewhere(int port, char **events, int count)
{
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
    ws_client_t *client = ws_client_new(NULL);
    int accepted = 0;
    static const relay_conn_handlers_t handlers = {.on_publish = s_count_accepted};
    relay_conn_t *conn = relay_conn_new(client, url, NULL, &handlers, &accepted);
    for (int i = 0; i < count; i++)
        assert_int_equal(relay_conn_publish(conn, events[i]), 0);
    relay_conn_start(conn);
    int64_t deadline = zclock_mono() + 10000;
    while (accepted < count && zclock_mono() < deadline) {
        int wait = relay_conn_timeout(conn);
        ws_client_run(client, wait < 0 || wait > 50 ? 50 : wait);
        relay_conn_tick(conn);
    }
    assert_int_equal(accepted, count);
    relay_conn_destroy(&conn);
    ws_client_destroy(&client);
}

/* Receives until `want` events of the stream have arrived (each counted in times[], by the
   number in its content), or fails after timeout_ms. */
static void
s_receive_stream(fixture_t *f, int times[], int total, int want, int timeout_ms)
{
    int got = 0;
    for (int i = 0; i < total; i++)
        got += times[i];
    int64_t deadline = zclock_mono() + timeout_ms;
    while (got < want && zclock_mono() < deadline) {
        if (probe_recv(f->probe, &f->in, 200) != 0 || f->in.type != MSG_RELAY_EVENT)
            continue;
        int error = 0;
        const char *json = f->in.relay_event.event;
        nostr_event_t *event = nostr_event_parse(json, strlen(json), NULL, &error);
        assert_non_null(event);
        int n = -1;
        assert_int_equal(sscanf(event->content.str, "stream #%d", &n), 1);
        assert_true(n >= 0 && n < total);
        times[n]++;
        got++;
        nostr_event_destroy(&event);
    }
    assert_int_equal(got, want);
}

/* The relay's state as the actor reports it ("connected", "backoff", ...), in `state`. */
static void
s_relay_state(fixture_t *f, char *state, size_t size)
{
    json_object *status = s_status(f);
    json_object *relay = json_object_array_get_idx(json_object_object_get(status, "relays"), 0);
    snprintf(state, size, "%s", json_object_get_string(json_object_object_get(relay, "state")));
    json_object_put(status);
}

/* A stream of events, and the relay killed (SIGKILL) and restarted on the same port with the
   same database in the middle of it. The events published by another client while the
   actor's relay was down reach the subscriber after the reconnect (the resubscription's
   `since`), and so do the ones after; each exactly once: the `since` slack makes the relay
   send the events from before the kill again, and the actor drops them as duplicates.

   So that the events of the outage are certainly stored before the actor can reconnect (its
   backoff is not configurable from here), the other client publishes them to the same
   database served briefly on another port while the actor's port is dead. */
static void
t_restart_mid_stream(void **state)
{
    char dir[] = "/tmp/pylon-relay-actor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char db[64];
    snprintf(db, sizeof db, "%s/relay.db", dir);
    int port;
    child_t *relay = s_relay_db(0, db, &port);
    fixture_t f = {0};
    char urls[64];
    snprintf(urls, sizeof urls, "ws://127.0.0.1:%d", port);
    s_start(&f, urls);
    s_subscribe(&f, "stream", 1);

    enum { TOTAL = 3 * STREAM_PART };
    char *events[TOTAL];
    int times[TOTAL] = {0};
    for (int i = 0; i < TOTAL; i++) {
        char content[32];
        uint8_t id[32];
        snprintf(content, sizeof content, "stream #%d", i);
        events[i] = s_signed_event(1, content, id);
    }
    /* The subscription is live once the subscriber sees an event published after it: wait
       for the first event, retrying its publication (a duplicate is accepted as such). */
    int64_t deadline = zclock_mono() + 10000;
    while (times[0] == 0 && zclock_mono() < deadline) {
        s_publish_elsewhere(port, events, 1);
        if (probe_recv(f.probe, &f.in, 300) == 0 && f.in.type == MSG_RELAY_EVENT)
            times[0]++;
    }
    assert_int_equal(times[0], 1);
    s_publish_elsewhere(port, events + 1, STREAM_PART - 1);
    s_receive_stream(&f, times, TOTAL, STREAM_PART, 5000);

    /* The relay dies hard; the actor notices. */
    child_signal(relay, SIGKILL);
    child_stop(&relay);
    char relay_state[32] = "connected";
    deadline = zclock_mono() + 5000;
    while (streq(relay_state, "connected") && zclock_mono() < deadline)
        s_relay_state(&f, relay_state, sizeof relay_state);
    assert_string_not_equal(relay_state, "connected");

    /* The second part goes into the relay's store while the actor cannot reach it. */
    int side_port;
    child_t *side = s_relay_db(0, db, &side_port);
    s_publish_elsewhere(side_port, events + STREAM_PART, STREAM_PART);
    assert_int_equal(child_stop(&side), 0);

    /* Back on the same port with the same database: the second part arrives from the store. */
    int same;
    relay = s_relay_db(port, db, &same);
    assert_int_equal(same, port);
    s_receive_stream(&f, times, TOTAL, 2 * STREAM_PART, 15000);
    s_relay_state(&f, relay_state, sizeof relay_state);
    assert_string_equal(relay_state, "connected");

    /* The third part, live. Then a quiet while, in which no copy may arrive. */
    s_publish_elsewhere(port, events + 2 * STREAM_PART, STREAM_PART);
    s_receive_stream(&f, times, TOTAL, TOTAL, 5000);
    while (probe_recv(f.probe, &f.in, 1000) == 0)
        assert_int_not_equal(f.in.type, MSG_RELAY_EVENT);
    for (int i = 0; i < TOTAL; i++)
        assert_int_equal(times[i], 1);

    /* The relay did send the first part again (the slack), and the actor dropped it. */
    json_object *status = s_status(&f);
    assert_int_equal(json_object_get_int(json_object_object_get(status, "duplicates")), STREAM_PART);
    assert_int_equal(json_object_get_int(json_object_object_get(status, "delivered")), TOTAL);
    assert_int_equal(json_object_get_int(json_object_object_get(status, "invalid")), 0);
    json_object_put(status);

    for (int i = 0; i < TOTAL; i++)
        free(events[i]);
    s_stop(&f);
    child_stop(&relay);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[96];
        snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_three_relays_once),
        cmocka_unit_test(t_garbage_relay),
        cmocka_unit_test(t_publish_while_down),
        cmocka_unit_test(t_restart_mid_stream),
    };
    return cmocka_run_group_tests_name("relay_actor", tests, NULL, NULL);
}
