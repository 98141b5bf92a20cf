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
#include <sys/socket.h>
#include <unistd.h>

#include "actors.h"
#include "child.h"
#include "node.h"
#include "nostr_event.h"
#include "probe.h"
#include "relay.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_three_relays_once),
        cmocka_unit_test(t_garbage_relay),
        cmocka_unit_test(t_publish_while_down),
    };
    return cmocka_run_group_tests_name("relay_actor", tests, NULL, NULL);
}
