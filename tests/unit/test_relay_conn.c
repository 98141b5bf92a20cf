/*  test_relay_conn.c: one relay's connection state machine against a real relay.

    tests/node/relay.mjs runs as a child on 127.0.0.1 (ephemeral port, SQLite file when the
    test restarts it on the same port). Events are signed here with the event module; the
    subscriber verifies every event it receives with it, so a forged event is counted, not
    trusted. Each test runs the loop (ws fds + timers) until a condition holds or a deadline
    passes. Covered: publish / subscribe / receive, duplicates count as accepted; the relay
    killed and restarted on the same port, with events published by another client while the
    subscriber was away arriving after its reconnect, and an event published while the relay
    was down delivered once it is back; rate-limited retries and giving up; NIP-42 AUTH on
    auth-required for EVENT and REQ; invalid events rejected with the relay's reason; backoff
    growth and its cap; a garbage-sending relay next to a healthy one.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "nostr_event.h"
#include "nostr_keys.h"
#include "relay_conn.h"

#define MAX_SEEN 64

//  What one relay_conn's callbacks saw.
typedef struct {
    int events;                         //  on_event calls
    int verified;                       //  events that passed nostr_event_check
    int forged;                         //  events that did not parse or verify
    char ids [MAX_SEEN][65];            //  ids of verified events, in order
    int eoses;                          //  on_eose calls
    int closed;                         //  on_closed calls
    char closed_msg [256];              //  its message
    int accepted;                       //  on_publish ACCEPTED
    int rejected;                       //  on_publish REJECTED
    int gave_up;                        //  on_publish GAVE_UP
    char publish_msg [256];             //  message of the last on_publish
    int auths;                          //  sign_auth calls
    bool can_sign;                      //  sign_auth returns an event (else NULL)
    int backoffs;                       //  entries into BACKOFF
    int backoff_ms [16];                //  the delay chosen at each
} rec_t;

static nostr_keys_t *s_keys;            //  the author of every test event
static int s_counter;                   //  makes each test event unique

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  A fresh signed event as JSON text (kind 1 unless given), id copied to id_out.
static char *
s_make_event (uint32_t kind, const char *content, char id_out [65])
{
    char text [128];
    snprintf (text, sizeof text, "%s #%d", content, ++s_counter);
    nostr_event_t *event = nostr_event_new (kind, (int64_t) time (NULL), text, strlen (text));
    assert_non_null (event);
    assert_int_equal (nostr_event_sign (event, s_keys), 0);
    char *json = nostr_event_to_json (event, NULL);
    if (id_out) {
        for (int i = 0; i < 32; i++)
            sprintf (id_out + 2 * i, "%02x", event->id [i]);
    }
    nostr_event_destroy (&event);
    return json;
}

static void
s_on_event (relay_conn_t *conn, const char *subid, json_object *object, void *arg)
{
    rec_t *rec = arg;
    rec->events++;
    int error = 0;
    nostr_event_t *event = nostr_event_from_object (object, NULL, &error);
    if (!event || nostr_event_check (event) != 0) {
        rec->forged++;
    }
    else {
        if (rec->verified < MAX_SEEN)
            for (int i = 0; i < 32; i++)
                sprintf (rec->ids [rec->verified] + 2 * i, "%02x", event->id [i]);
        rec->verified++;
    }
    nostr_event_destroy (&event);
}

static void
s_on_eose (relay_conn_t *conn, const char *subid, void *arg)
{
    ((rec_t *) arg)->eoses++;
}

static void
s_on_closed (relay_conn_t *conn, const char *subid, const char *message, void *arg)
{
    rec_t *rec = arg;
    rec->closed++;
    snprintf (rec->closed_msg, sizeof rec->closed_msg, "%s", message);
}

static void
s_on_publish (relay_conn_t *conn, const char *id, relay_publish_result_t result,
              const char *message, void *arg)
{
    rec_t *rec = arg;
    if (result == RELAY_PUBLISH_ACCEPTED)
        rec->accepted++;
    else
    if (result == RELAY_PUBLISH_REJECTED)
        rec->rejected++;
    else
        rec->gave_up++;
    snprintf (rec->publish_msg, sizeof rec->publish_msg, "%s", message ? message : "");
}

//  NIP-42: a kind-22242 event for this relay and challenge.
static char *
s_sign_auth (relay_conn_t *conn, const char *relay_url, const char *challenge, void *arg)
{
    rec_t *rec = arg;
    rec->auths++;
    if (!rec->can_sign)
        return NULL;
    nostr_event_t *event = nostr_event_new (22242, (int64_t) time (NULL), "", 0);
    nostr_event_add_tagv (event, "relay", relay_url, NULL);
    nostr_event_add_tagv (event, "challenge", challenge, NULL);
    assert_int_equal (nostr_event_sign (event, s_keys), 0);
    char *json = nostr_event_to_json (event, NULL);
    nostr_event_destroy (&event);
    return json;
}

static void
s_on_status (relay_conn_t *conn, void *arg)
{
    rec_t *rec = arg;
    const relay_status_t *status = relay_conn_status (conn);
    if (status->state == RELAY_BACKOFF && rec->backoffs < 16)
        rec->backoff_ms [rec->backoffs++] = status->backoff_ms;
}

static const relay_conn_handlers_t s_handlers = {
    s_on_event, s_on_eose, s_on_closed, s_on_publish, s_sign_auth, s_on_status
};

//  Runs the loop until *flag >= want or timeout_ms pass; true when reached.
static bool
s_run_until (ws_client_t *client, relay_conn_t **conns, int count, const int *flag, int want,
             int timeout_ms)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (*flag < want && s_now_ms () < deadline) {
        struct pollfd fds [16];
        int n = ws_client_pollfds (client, fds, 16);
        assert_true (n <= 16);
        int wait = ws_client_timeout (client);
        for (int i = 0; i < count; i++) {
            int t = relay_conn_timeout (conns [i]);
            if (t >= 0 && (wait < 0 || t < wait))
                wait = t;
        }
        if (wait < 0 || wait > 50)
            wait = 50;
        poll (fds, (nfds_t) n, wait);
        ws_client_service (client);
        for (int i = 0; i < count; i++)
            relay_conn_tick (conns [i]);
    }
    return *flag >= want;
}

//  Starts tests/node/relay.mjs with an optional flag and its value; *port in: 0 or the
//  port to reuse, out: the port.
static child_t *
s_start_relay (int *port, const char *db, const char *flag, const char *value)
{
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", *port);
    char *argv [] = { "node", "tests/node/relay.mjs", "--quiet", "--port", port_text,
                      "--db", (char *) db, (char *) flag, (char *) value, NULL };
    child_t *relay = child_start (argv);
    assert_non_null (relay);
    *port = child_wait_listening (relay, 15000);
    assert_true (*port > 0);
    return relay;
}

static char *
s_url (int port, const char *path)
{
    static char url [4][128];
    static int next;
    char *out = url [next++ % 4];
    snprintf (out, 128, "ws://127.0.0.1:%d%s", port, path);
    return out;
}

static const int s_kind1 [] = { 1 };
static const relay_filter_t s_all_notes = {
    .kinds = s_kind1, .kinds_count = 1, .since = -1, .until = -1, .limit = -1
};

static int
s_setup (void **state)
{
    uint8_t seckey [32];
    for (int i = 0; i < 32; i++)
        seckey [i] = (uint8_t) (i + 1);
    s_keys = nostr_keys_new (seckey);
    return s_keys ? 0 : -1;
}

static int
s_teardown (void **state)
{
    nostr_keys_destroy (&s_keys);
    return 0;
}

static void
test_publish_subscribe (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", NULL, NULL);
    ws_client_t *client = ws_client_new (NULL);
    rec_t pub_rec = { 0 }, sub_rec = { 0 };
    relay_conn_t *pub = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &pub_rec);
    relay_conn_t *sub = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &sub_rec);
    relay_conn_t *both [] = { pub, sub };
    assert_int_equal (relay_conn_status (pub)->state, RELAY_DISCONNECTED);

    //  Queued before start: sent once connected.
    char id1 [65], id2 [65];
    char *e1 = s_make_event (1, "first", id1);
    char *e2 = s_make_event (1, "second", id2);
    assert_int_equal (relay_conn_publish (pub, e1), 0);
    assert_int_equal (relay_conn_publish (pub, e1), -1);       //  already pending
    assert_int_equal (relay_conn_publish (pub, "{\"id\":\"nothex\"}"), -1);
    assert_int_equal (relay_conn_status (pub)->pending, 1);
    relay_conn_start (pub);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 1, 5000));

    assert_int_equal (relay_conn_subscribe (sub, "notes", &s_all_notes, 1), 0);
    relay_conn_start (sub);
    assert_true (s_run_until (client, both, 2, &sub_rec.eoses, 1, 5000));
    assert_int_equal (sub_rec.verified, 1);
    assert_string_equal (sub_rec.ids [0], id1);

    //  Live events after EOSE.
    assert_int_equal (relay_conn_publish (pub, e2), 0);
    assert_true (s_run_until (client, both, 2, &sub_rec.verified, 2, 5000));
    assert_string_equal (sub_rec.ids [1], id2);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 2, 5000));

    //  The same event again: the relay says duplicate, which counts as accepted.
    assert_int_equal (relay_conn_publish (pub, e1), 0);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 3, 5000));
    assert_int_equal (pub_rec.rejected + pub_rec.gave_up, 0);

    const relay_status_t *status = relay_conn_status (pub);
    assert_int_equal (status->state, RELAY_CONNECTED);
    assert_int_equal (status->published, 3);
    assert_int_equal (status->events_out, 3);
    assert_int_equal (status->pending, 0);
    assert_true (status->last_ok_latency_ms >= 0 && status->last_ok_latency_ms < 5000);
    assert_int_equal (relay_conn_status (sub)->events_in, 2);
    assert_int_equal (sub_rec.forged, 0);

    //  Unsubscribed: later events are not delivered.
    assert_int_equal (relay_conn_unsubscribe (sub, "notes"), 0);
    assert_int_equal (relay_conn_unsubscribe (sub, "notes"), -1);
    char *e3 = s_make_event (1, "third", NULL);
    assert_int_equal (relay_conn_publish (pub, e3), 0);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 4, 5000));
    int never = 0;
    s_run_until (client, both, 2, &never, 1, 300);
    assert_int_equal (sub_rec.events, 2);

    relay_conn_stop (sub);
    s_run_until (client, both, 2, &never, 1, 300);
    assert_int_equal (relay_conn_status (sub)->state, RELAY_DISCONNECTED);
    free (e1);
    free (e2);
    free (e3);
    relay_conn_destroy (&pub);
    relay_conn_destroy (&sub);
    ws_client_destroy (&client);
    child_stop (&relay);
}

static void
test_relay_restart (void **state)
{
    char dir [] = "/tmp/pylon-relay-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char db [64];
    snprintf (db, sizeof db, "%s/relay.db", dir);
    int port = 0;
    child_t *relay = s_start_relay (&port, db, NULL, NULL);

    ws_client_t *client = ws_client_new (NULL);
    rec_t pub_rec = { 0 }, sub_rec = { 0 };
    //  The subscriber waits long before reconnecting, the publisher does not: events are
    //  published while the subscriber is away.
    relay_conn_config_t sub_config = { .backoff_min_ms = 6000, .backoff_max_ms = 6000 };
    relay_conn_config_t pub_config = { .backoff_min_ms = 100, .backoff_max_ms = 300 };
    relay_conn_t *pub = relay_conn_new (client, s_url (port, "/"), &pub_config, &s_handlers, &pub_rec);
    relay_conn_t *sub = relay_conn_new (client, s_url (port, "/"), &sub_config, &s_handlers, &sub_rec);
    relay_conn_t *both [] = { pub, sub };
    relay_conn_subscribe (sub, "notes", &s_all_notes, 1);
    relay_conn_start (sub);
    relay_conn_start (pub);
    char id1 [65], id2 [65], id3 [65];
    char *e1 = s_make_event (1, "before", id1);
    relay_conn_publish (pub, e1);
    assert_true (s_run_until (client, both, 2, &sub_rec.verified, 1, 5000));
    assert_string_equal (sub_rec.ids [0], id1);
    //  The relay broadcasts before it answers OK: wait for the OK too.
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 1, 5000));

    //  The relay dies hard, mid-stream.
    child_signal (relay, SIGKILL);
    child_stop (&relay);
    assert_true (s_run_until (client, both, 2, &sub_rec.backoffs, 1, 5000));
    assert_true (s_run_until (client, both, 2, &pub_rec.backoffs, 1, 5000));

    //  Published while the relay is down: queued.
    char *e2 = s_make_event (1, "while relay down", id2);
    assert_int_equal (relay_conn_publish (pub, e2), 0);
    assert_int_equal (relay_conn_status (pub)->pending, 1);

    //  Back on the same port with the same database.
    int same = port;
    relay = s_start_relay (&same, db, NULL, NULL);
    assert_int_equal (same, port);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 2, 10000));
    char *e3 = s_make_event (1, "while subscriber away", id3);
    relay_conn_publish (pub, e3);
    assert_true (s_run_until (client, both, 2, &pub_rec.accepted, 3, 5000));
    //  Both went in while the subscriber was still waiting to reconnect.
    assert_int_equal (relay_conn_status (sub)->state, RELAY_BACKOFF);
    assert_int_equal (sub_rec.verified, 1);

    //  The subscriber comes back and gets both, from the relay's store.
    assert_true (s_run_until (client, both, 2, &sub_rec.verified, 3, 12000));
    bool got2 = false, got3 = false;
    for (int i = 1; i < sub_rec.verified && i < MAX_SEEN; i++) {
        got2 |= strcmp (sub_rec.ids [i], id2) == 0;
        got3 |= strcmp (sub_rec.ids [i], id3) == 0;
    }
    assert_true (got2 && got3);
    assert_int_equal (relay_conn_status (sub)->connects, 2);
    assert_int_equal (relay_conn_status (sub)->state, RELAY_CONNECTED);
    assert_int_equal (sub_rec.forged, 0);

    free (e1);
    free (e2);
    free (e3);
    relay_conn_destroy (&pub);
    relay_conn_destroy (&sub);
    ws_client_destroy (&client);
    child_stop (&relay);
    unlink (db);
    char path [96];
    snprintf (path, sizeof path, "%s-wal", db);
    unlink (path);
    snprintf (path, sizeof path, "%s-shm", db);
    unlink (path);
    rmdir (dir);
}

static void
test_rate_limited (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", "--rate-limit", "2");

    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { 0 };
    relay_conn_config_t config = { .retry_ms = 50 };
    relay_conn_t *conn = relay_conn_new (client, s_url (port, "/"), &config, &s_handlers, &rec);
    relay_conn_start (conn);
    char *event = s_make_event (1, "limited", NULL);
    relay_conn_publish (conn, event);
    assert_true (s_run_until (client, &conn, 1, &rec.accepted, 1, 5000));
    assert_int_equal (relay_conn_status (conn)->events_out, 3);     //  2 refused, then OK
    free (event);
    relay_conn_destroy (&conn);

    //  Fewer attempts allowed than the relay refuses: given up, with its reason.
    rec_t short_rec = { 0 };
    config.max_attempts = 2;
    conn = relay_conn_new (client, s_url (port, "/"), &config, &s_handlers, &short_rec);
    relay_conn_start (conn);
    event = s_make_event (1, "limited again", NULL);
    relay_conn_publish (conn, event);
    assert_true (s_run_until (client, &conn, 1, &short_rec.gave_up, 1, 5000));
    assert_non_null (strstr (short_rec.publish_msg, "rate-limited:"));
    assert_int_equal (short_rec.accepted, 0);
    assert_int_equal (relay_conn_status (conn)->rejected, 1);
    free (event);
    relay_conn_destroy (&conn);
    ws_client_destroy (&client);
    child_stop (&relay);
}

static void
test_auth_required (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", "--auth-required", NULL);
    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { .can_sign = true };
    relay_conn_t *conn = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &rec);
    relay_conn_subscribe (conn, "notes", &s_all_notes, 1);
    char id [65];
    char *event = s_make_event (1, "authenticated", id);
    relay_conn_publish (conn, event);
    relay_conn_start (conn);
    //  EVENT refused with auth-required, REQ closed with auth-required: one AUTH, then both
    //  are sent again and succeed.
    assert_true (s_run_until (client, &conn, 1, &rec.accepted, 1, 5000));
    assert_true (s_run_until (client, &conn, 1, &rec.verified, 1, 5000));
    assert_string_equal (rec.ids [0], id);
    assert_int_equal (rec.auths, 1);
    assert_int_equal (rec.closed, 0);
    free (event);
    relay_conn_destroy (&conn);

    //  No signature offered: the event is given up with the reason, the REQ reported closed.
    rec_t refused = { .can_sign = false };
    conn = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &refused);
    relay_conn_subscribe (conn, "notes", &s_all_notes, 1);
    event = s_make_event (1, "unauthenticated", NULL);
    relay_conn_publish (conn, event);
    relay_conn_start (conn);
    assert_true (s_run_until (client, &conn, 1, &refused.gave_up, 1, 5000));
    assert_non_null (strstr (refused.publish_msg, "auth-required"));
    assert_true (s_run_until (client, &conn, 1, &refused.closed, 1, 5000));
    assert_int_equal (refused.accepted, 0);
    free (event);
    relay_conn_destroy (&conn);
    ws_client_destroy (&client);
    child_stop (&relay);
}

static void
test_invalid_rejected (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", NULL, NULL);
    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { 0 };
    relay_conn_t *conn = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &rec);
    relay_conn_start (conn);
    char *event = s_make_event (1, "to be forged", NULL);
    char *sig = strstr (event, "\"sig\":\"");
    assert_non_null (sig);
    sig [7] = sig [7] == '0' ? '1' : '0';        //  one flipped hex digit in the signature
    relay_conn_publish (conn, event);
    assert_true (s_run_until (client, &conn, 1, &rec.rejected, 1, 5000));
    assert_int_equal (strncmp (rec.publish_msg, "invalid:", 8), 0);
    assert_int_equal (relay_conn_status (conn)->events_out, 1);    //  no retry
    free (event);
    relay_conn_destroy (&conn);
    ws_client_destroy (&client);
    child_stop (&relay);
}

static void
test_backoff (void **state)
{
    //  A port nobody listens on.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t addr_len = sizeof addr;
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    getsockname (fd, (struct sockaddr *) &addr, &addr_len);
    close (fd);
    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { 0 };
    relay_conn_config_t config = { .backoff_min_ms = 40, .backoff_max_ms = 160 };
    relay_conn_t *conn = relay_conn_new (client, s_url (ntohs (addr.sin_port), "/"), &config,
                                         &s_handlers, &rec);
    assert_null (relay_conn_new (client, "http://x/", NULL, NULL, NULL));
    relay_conn_start (conn);
    assert_true (s_run_until (client, &conn, 1, &rec.backoffs, 5, 5000));
    //  Equal jitter: each delay in [d/2, d] with d = 40, 80, 160, 160 (capped), 160.
    int expect [] = { 40, 80, 160, 160, 160 };
    for (int i = 0; i < 5; i++) {
        assert_true (rec.backoff_ms [i] >= expect [i] / 2);
        assert_true (rec.backoff_ms [i] <= expect [i]);
    }
    assert_non_null (strstr (relay_conn_status (conn)->last_error, "connect"));
    assert_int_equal (relay_conn_status (conn)->connects, 0);
    relay_conn_stop (conn);
    assert_int_equal (relay_conn_status (conn)->state, RELAY_DISCONNECTED);
    assert_int_equal (relay_conn_timeout (conn), -1);
    relay_conn_destroy (&conn);
    ws_client_destroy (&client);
}

static void
test_garbage_neighbour (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", NULL, NULL);
    char *bad_argv [] = { "node", "tests/stubs/bad_relay.mjs", NULL };
    child_t *bad = child_start (bad_argv);
    int bad_port = child_wait_listening (bad, 15000);
    assert_true (bad_port > 0);

    ws_client_t *client = ws_client_new (NULL);
    rec_t bad_rec = { 0 }, good_rec = { 0 };
    relay_conn_t *junk = relay_conn_new (client, s_url (bad_port, "/garbage"), NULL, &s_handlers, &bad_rec);
    relay_conn_t *good = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &good_rec);
    relay_conn_t *both [] = { junk, good };
    //  The bad relay sends its forged events on subscription "healthy".
    relay_conn_subscribe (junk, "healthy", &s_all_notes, 1);
    relay_conn_subscribe (good, "notes", &s_all_notes, 1);
    relay_conn_start (junk);
    relay_conn_start (good);
    for (int i = 0; i < 10; i++) {
        char *event = s_make_event (1, "next to garbage", NULL);
        relay_conn_publish (good, event);
        free (event);
        assert_true (s_run_until (client, both, 2, &good_rec.verified, i + 1, 3000));
    }
    assert_true (s_run_until (client, both, 2, &bad_rec.forged, 4, 5000));
    assert_int_equal (good_rec.accepted, 10);
    assert_int_equal (good_rec.forged, 0);
    assert_int_equal (bad_rec.verified, 0);
    assert_true (relay_conn_status (junk)->protocol_errors > 3);
    assert_int_equal (relay_conn_status (good)->protocol_errors, 0);
    assert_int_equal (relay_conn_status (good)->connects, 1);

    relay_conn_destroy (&junk);
    relay_conn_destroy (&good);
    ws_client_destroy (&client);
    child_stop (&bad);
    child_stop (&relay);
}

//  A socket queue that cannot take the next event must not turn the loop into a spin.
static void
test_full_queue_does_not_spin (void **state)
{
    int port = 0;
    child_t *relay = s_start_relay (&port, ":memory:", NULL, NULL);
    ws_config_t ws_config = { .max_queue = 64 };      //  smaller than any signed event
    ws_client_t *client = ws_client_new (&ws_config);
    rec_t rec = { 0 };
    relay_conn_t *conn = relay_conn_new (client, s_url (port, "/"), NULL, &s_handlers, &rec);
    relay_conn_start (conn);
    int connected = 0;
    int64_t deadline = s_now_ms () + 5000;
    while (relay_conn_status (conn)->state != RELAY_CONNECTED && s_now_ms () < deadline)
        s_run_until (client, &conn, 1, &connected, 1, 20);
    assert_int_equal (relay_conn_status (conn)->state, RELAY_CONNECTED);
    char *event = s_make_event (1, "too big for the queue", NULL);
    assert_int_equal (relay_conn_publish (conn, event), 0);
    //  Count loop turns for 300 ms: a spin would make thousands.
    int turns = 0;
    deadline = s_now_ms () + 300;
    while (s_now_ms () < deadline) {
        int wait = relay_conn_timeout (conn);
        int ws_wait = ws_client_timeout (client);
        if (ws_wait >= 0 && (wait < 0 || ws_wait < wait))
            wait = ws_wait;
        struct pollfd fds [4];
        int n = ws_client_pollfds (client, fds, 4);
        poll (fds, (nfds_t) n, wait < 0 || wait > 100 ? 100 : wait);
        ws_client_service (client);
        relay_conn_tick (conn);
        turns++;
    }
    print_message ("# loop turns in 300 ms with a full socket queue: %d\n", turns);
    assert_true (turns < 60);
    assert_int_equal (relay_conn_status (conn)->events_out, 0);
    assert_int_equal (relay_conn_status (conn)->pending, 1);
    free (event);
    relay_conn_destroy (&conn);
    ws_client_destroy (&client);
    child_stop (&relay);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_publish_subscribe),
        cmocka_unit_test (test_relay_restart),
        cmocka_unit_test (test_rate_limited),
        cmocka_unit_test (test_auth_required),
        cmocka_unit_test (test_invalid_rejected),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_garbage_neighbour),
        cmocka_unit_test (test_full_queue_does_not_spin),
    };
    return cmocka_run_group_tests_name ("relay_conn", tests, s_setup, s_teardown);
}
