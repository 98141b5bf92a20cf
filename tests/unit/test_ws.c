/*  test_ws.c: the websocket client against real servers on 127.0.0.1.

    A real Nostr relay (tests/node/relay.mjs) and a misbehaving one (tests/stubs/bad_relay.mjs)
    are started once as child processes on ephemeral ports; each test waits for what it needs
    by running the client's loop until a condition holds or a deadline passes (never a blind
    sleep). Covered: URL parsing; connect, publish, subscribe and receive; an oversized
    message dropped and counted with the connection kept; a flood of garbage on one connection
    not stalling a healthy one in the same loop; a dead link found by ping + read timeout;
    server close codes; connection refused; local close; destroy from inside a callback;
    two clients alive at once, the older destroyed first, with nothing leaked; wss:// with a
    CA file, and refused with the system store for a self-signed certificate.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "relay_proto.h"
#include "ws.h"

static child_t *s_relay;        //  tests/node/relay.mjs
static child_t *s_bad;          //  tests/stubs/bad_relay.mjs
static int s_relay_port;        //  its port
static int s_bad_port;          //  its port
static char *s_event_json;      //  the official NIP-13 example event, as JSON text

//  What the callbacks saw on one connection.
typedef struct {
    int opens;                  //  on_open calls
    int closes;                 //  on_close calls
    char reason [200];          //  the close reason
    int messages;               //  on_message calls
    int undecodable;            //  messages relay_proto refused
    int oks_accepted;           //  OK true
    int events;                 //  EVENT
    int eoses;                  //  EOSE
    int notices;                //  NOTICE
    char last_notice [256];     //  text of the last NOTICE
    bool destroy_on_message;    //  destroy the connection from inside on_message
    ws_conn_t **self_ref;       //  where the test keeps the connection (for that destroy)
} rec_t;

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_on_open (ws_conn_t *conn, void *arg)
{
    ((rec_t *) arg)->opens++;
}

static void
s_on_message (ws_conn_t *conn, const char *text, size_t len, void *arg)
{
    rec_t *rec = arg;
    rec->messages++;
    assert_int_equal (text [len], '\0');
    relay_msg_t msg;
    if (relay_proto_decode (text, len, &msg) != 0) {
        rec->undecodable++;
    }
    else {
        if (msg.type == RELAY_MSG_OK && msg.accepted)
            rec->oks_accepted++;
        if (msg.type == RELAY_MSG_EVENT)
            rec->events++;
        if (msg.type == RELAY_MSG_EOSE)
            rec->eoses++;
        if (msg.type == RELAY_MSG_NOTICE) {
            rec->notices++;
            snprintf (rec->last_notice, sizeof rec->last_notice, "%s", msg.text);
        }
        relay_msg_release (&msg);
    }
    if (rec->destroy_on_message && rec->self_ref)
        ws_conn_destroy (rec->self_ref);
}

static void
s_on_close (ws_conn_t *conn, const char *reason, void *arg)
{
    rec_t *rec = arg;
    rec->closes++;
    snprintf (rec->reason, sizeof rec->reason, "%s", reason);
}

static const ws_handlers_t s_handlers = { s_on_open, s_on_message, s_on_close };

//  Runs the client until *flag >= want or timeout_ms pass; true when reached.
static bool
s_run_until (ws_client_t *client, const int *flag, int want, int timeout_ms)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (*flag < want && s_now_ms () < deadline)
        assert_int_equal (ws_client_run (client, 50), 0);
    return *flag >= want;
}

static char *
s_url (int port, const char *path)
{
    static char url [128];
    snprintf (url, sizeof url, "ws://127.0.0.1:%d%s", port, path);
    return url;
}

static int
s_setup (void **state)
{
    char *relay_argv [] = { "node", "tests/node/relay.mjs", "--quiet", NULL };
    s_relay = child_start (relay_argv);
    s_relay_port = s_relay ? child_wait_listening (s_relay, 15000) : -1;
    char *bad_argv [] = { "node", "tests/stubs/bad_relay.mjs", NULL };
    s_bad = child_start (bad_argv);
    s_bad_port = s_bad ? child_wait_listening (s_bad, 15000) : -1;
    if (s_relay_port < 0 || s_bad_port < 0)
        return -1;

    json_object *vector = json_object_from_file ("tests/vectors/nip01-nip13-official-event.json");
    json_object *event;
    if (!vector || !json_object_object_get_ex (vector, "event", &event))
        return -1;
    s_event_json = strdup (json_object_to_json_string_ext (
        event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put (vector);
    return 0;
}

static int
s_teardown (void **state)
{
    child_stop (&s_relay);
    child_stop (&s_bad);
    free (s_event_json);
    return 0;
}

static void
test_url_parse (void **state)
{
    ws_url_t url;
    assert_int_equal (ws_url_parse ("wss://relay.example.com", &url), 0);
    assert_true (url.tls);
    assert_string_equal (url.host, "relay.example.com");
    assert_int_equal (url.port, 443);
    assert_string_equal (url.path, "/");
    assert_int_equal (ws_url_parse ("ws://127.0.0.1:7777/nostr?x=1", &url), 0);
    assert_false (url.tls);
    assert_int_equal (url.port, 7777);
    assert_string_equal (url.path, "/nostr?x=1");
    assert_int_equal (ws_url_parse ("WS://[::1]:80?q", &url), 0);
    assert_string_equal (url.host, "::1");
    assert_string_equal (url.path, "/?q");

    const char *bad [] = {
        "", "http://x", "ws://", "ws://:80", "ws://host:0", "ws://host:65536", "ws://host:12a",
        "ws://user@host", "ws://host/pa th", "ws://host/#frag", "ws://[::1", "ws://[zz]/",
        "ws://host\x01/", "ws://ho st", "wss//host",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (ws_url_parse (bad [i], &url) == 0)
            print_error ("accepted %s\n", bad [i]);
        assert_int_equal (ws_url_parse (bad [i], &url), -1);
    }
    char long_url [2200] = "ws://h/";
    memset (long_url + 7, 'a', sizeof long_url - 8);
    long_url [sizeof long_url - 1] = '\0';
    assert_int_equal (ws_url_parse (long_url, &url), -1);
    assert_int_equal (ws_url_parse (NULL, &url), -1);
}

static void
test_publish_subscribe (void **state)
{
    ws_client_t *client = ws_client_new (NULL);
    assert_non_null (client);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_relay_port, "/"), &s_handlers, &rec);
    assert_non_null (conn);
    assert_int_equal (ws_conn_state (conn), WS_CONNECTING);

    //  Queued before the connection is open: written once it is.
    char *publish = relay_proto_event (s_event_json);
    assert_int_equal (ws_conn_send (conn, publish, strlen (publish)), 0);
    free (publish);
    int kinds [] = { 1 };
    relay_filter_t filter = { .kinds = kinds, .kinds_count = 1, .since = -1, .until = -1,
                              .limit = 10 };
    char *req = relay_proto_req ("t1", &filter, 1);
    assert_int_equal (ws_conn_send (conn, req, strlen (req)), 0);
    free (req);
    assert_true (ws_conn_queued (conn) > 0);

    assert_true (s_run_until (client, &rec.opens, 1, 5000));
    assert_int_equal (ws_conn_state (conn), WS_OPEN);
    assert_true (s_run_until (client, &rec.eoses, 1, 5000));
    assert_int_equal (rec.oks_accepted, 1);
    assert_true (rec.events >= 1);
    assert_int_equal (rec.undecodable, 0);
    assert_int_equal (ws_conn_queued (conn), 0);
    const ws_stats_t *stats = ws_conn_stats (conn);
    assert_int_equal (stats->messages_out, 2);
    assert_true (stats->messages_in >= 3);
    assert_int_equal (stats->dropped_oversize, 0);

    ws_conn_close (conn);
    assert_int_equal (ws_conn_send (conn, "x", 1), -1);     //  closing: no more sends
    assert_true (s_run_until (client, &rec.closes, 1, 5000));
    assert_string_equal (rec.reason, "closed by client");
    assert_int_equal (ws_conn_state (conn), WS_CLOSED);
    assert_int_equal (rec.closes, 1);
    ws_conn_destroy (&conn);
    assert_null (conn);
    ws_client_destroy (&client);
}

static void
test_oversize_dropped (void **state)
{
    ws_config_t config = { .max_message = 64 * 1024 };
    ws_client_t *client = ws_client_new (&config);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_bad_port, "/oversize?bytes=300000"),
                                    &s_handlers, &rec);
    assert_true (s_run_until (client, &rec.notices, 1, 5000));
    //  The 300 kB message never reached the owner; the next one did, on the same connection.
    assert_string_equal (rec.last_notice, "after-oversize");
    assert_int_equal (ws_conn_stats (conn)->dropped_oversize, 1);
    assert_true (ws_conn_stats (conn)->bytes_in >= 300000);
    assert_int_equal (ws_conn_state (conn), WS_OPEN);
    assert_int_equal (ws_conn_send (conn, "hello", 5), 0);
    assert_true (s_run_until (client, &rec.notices, 2, 5000));
    assert_string_equal (rec.last_notice, "got 5");
    ws_conn_destroy (&conn);

    //  A message exactly at the limit still passes.

    rec_t exact = { 0 };
    char path [64];
    snprintf (path, sizeof path, "/oversize?bytes=%d", 64 * 1024);
    conn = ws_conn_open (client, s_url (s_bad_port, path), &s_handlers, &exact);
    assert_true (s_run_until (client, &exact.messages, 2, 5000));
    //  Delivered whole; the NOTICE inside is then too long for relay_proto's text limit.
    assert_int_equal (exact.undecodable, 1);
    assert_string_equal (exact.last_notice, "after-oversize");
    assert_int_equal (ws_conn_stats (conn)->dropped_oversize, 0);
    ws_conn_destroy (&conn);
    ws_client_destroy (&client);
}

static void
test_garbage_does_not_stall (void **state)
{
    ws_client_t *client = ws_client_new (NULL);
    rec_t junk = { 0 }, good = { 0 };
    ws_conn_t *bad = ws_conn_open (client, s_url (s_bad_port, "/garbage"), &s_handlers, &junk);
    ws_conn_t *conn = ws_conn_open (client, s_url (s_relay_port, "/"), &s_handlers, &good);
    assert_true (s_run_until (client, &good.opens, 1, 5000));

    //  Twenty request/response round trips on the healthy connection while the other floods.
    int64_t started = s_now_ms ();
    for (int i = 0; i < 20; i++) {
        relay_filter_t filter = { .since = -1, .until = -1, .limit = 1 };
        char subid [16];
        snprintf (subid, sizeof subid, "g%d", i);
        char *req = relay_proto_req (subid, &filter, 1);
        assert_int_equal (ws_conn_send (conn, req, strlen (req)), 0);
        free (req);
        assert_true (s_run_until (client, &good.eoses, i + 1, 3000));
    }
    int64_t elapsed = s_now_ms () - started;
    print_message ("# 20 round trips beside a garbage flood: %lld ms\n", (long long) elapsed);
    assert_true (elapsed < 10000);
    assert_int_equal (good.undecodable, 0);
    assert_int_equal (good.closes, 0);

    //  The flood arrived and was survived: binary frames dropped, the rest refused by the
    //  decoder, the forged events handed on as EVENT (their check is the event module's).
    assert_true (s_run_until (client, &junk.messages, 20, 5000));
    const ws_stats_t *stats = ws_conn_stats (bad);
    assert_true (junk.undecodable > 3);
    assert_true (stats->dropped_binary >= 1);
    ws_conn_destroy (&bad);
    ws_conn_destroy (&conn);
    ws_client_destroy (&client);
}

static void
test_dead_link_detected (void **state)
{
    ws_config_t config = { .ping_interval_ms = 200, .read_timeout_ms = 700 };
    ws_client_t *client = ws_client_new (&config);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_bad_port, "/mute"), &s_handlers, &rec);
    assert_true (s_run_until (client, &rec.opens, 1, 5000));
    int64_t opened = s_now_ms ();
    assert_true (s_run_until (client, &rec.closes, 1, 5000));
    int64_t took = s_now_ms () - opened;
    assert_non_null (strstr (rec.reason, "read timeout"));
    assert_true (took >= 600 && took < 3000);
    assert_true (ws_conn_stats (conn)->pings_sent >= 1);
    assert_int_equal (ws_conn_stats (conn)->pongs_received, 0);
    ws_conn_destroy (&conn);

    //  The same settings on a live relay: pings are answered and the link stays up.
    rec_t live = { 0 };
    conn = ws_conn_open (client, s_url (s_relay_port, "/"), &s_handlers, &live);
    assert_true (s_run_until (client, &live.opens, 1, 5000));
    int never = 0;
    s_run_until (client, &never, 1, 1500);
    assert_int_equal (live.closes, 0);
    assert_true (ws_conn_stats (conn)->pongs_received >= 2);
    ws_conn_destroy (&conn);
    ws_client_destroy (&client);
}

static void
test_server_close_and_refused (void **state)
{
    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_bad_port, "/close"), &s_handlers, &rec);
    assert_true (s_run_until (client, &rec.closes, 1, 5000));
    assert_non_null (strstr (rec.reason, "4000 go away"));
    ws_conn_destroy (&conn);

    //  A port nobody listens on: bind one, note it, close it.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t addr_len = sizeof addr;
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &addr, &addr_len), 0);
    int port = ntohs (addr.sin_port);
    close (fd);
    rec_t refused = { 0 };
    conn = ws_conn_open (client, s_url (port, "/"), &s_handlers, &refused);
    assert_non_null (conn);
    assert_int_equal (refused.closes, 0);       //  never from inside ws_conn_open
    assert_true (s_run_until (client, &refused.closes, 1, 5000));
    assert_non_null (strstr (refused.reason, "connect"));
    assert_int_equal (refused.opens, 0);
    assert_int_equal (ws_conn_send (conn, "x", 1), -1);
    ws_conn_destroy (&conn);

    assert_null (ws_conn_open (client, "http://127.0.0.1/", &s_handlers, &rec));
    ws_client_destroy (&client);
}

static void
test_destroy_inside_callback (void **state)
{
    ws_client_t *client = ws_client_new (NULL);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_bad_port, "/garbage"), &s_handlers, &rec);
    rec.destroy_on_message = true;
    rec.self_ref = &conn;
    assert_true (s_run_until (client, &rec.messages, 1, 5000));
    assert_null (conn);
    //  Keep servicing: the flood continues on a wsi that has no owner any more.
    int never = 0;
    s_run_until (client, &never, 1, 300);
    assert_int_equal (rec.messages, 1);
    assert_int_equal (rec.closes, 0);

    //  Destroying the client with a connection still open: no callbacks, the owner frees.
    rec_t open = { 0 };
    conn = ws_conn_open (client, s_url (s_relay_port, "/"), &s_handlers, &open);
    assert_true (s_run_until (client, &open.opens, 1, 5000));
    ws_client_destroy (&client);
    assert_int_equal (open.closes, 0);
    assert_int_equal (ws_conn_state (conn), WS_CLOSED);
    assert_int_equal (ws_conn_send (conn, "x", 1), -1);
    ws_conn_destroy (&conn);
}

static void
test_queue_limit (void **state)
{
    ws_config_t config = { .max_queue = 1000 };
    ws_client_t *client = ws_client_new (&config);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, s_url (s_relay_port, "/"), &s_handlers, &rec);
    char block [600];
    memset (block, ' ', sizeof block);
    assert_int_equal (ws_conn_send (conn, block, sizeof block), 0);
    assert_int_equal (ws_conn_send (conn, block, sizeof block), -1);    //  1200 > 1000
    assert_int_equal (ws_conn_send (conn, block, 400), 0);              //  exactly 1000
    assert_int_equal (ws_conn_queued (conn), 1000);
    ws_conn_destroy (&conn);
    ws_client_destroy (&client);
}

//  Two clients alive at once, the older one destroyed first: as when the relay actor's client
//  outlives a client made and dropped elsewhere in the process. Both keep working, and each
//  frees everything it made (under LeakSanitizer the older client's TLS client context was
//  left behind: libwebsockets 4.1 finds it at destroy through a process-wide index that every
//  newer context used to reallocate).
static void
test_clients_overlap (void **state)
{
    const char *req = "[\"REQ\",\"overlap\",{\"limit\":1}]";
    ws_client_t *older = ws_client_new (NULL);
    assert_non_null (older);
    rec_t old_rec = { 0 };
    ws_conn_t *old_conn = ws_conn_open (older, s_url (s_relay_port, "/"), &s_handlers, &old_rec);
    assert_true (s_run_until (older, &old_rec.opens, 1, 5000));

    ws_client_t *newer = ws_client_new (NULL);
    assert_non_null (newer);
    rec_t new_rec = { 0 };
    ws_conn_t *new_conn = ws_conn_open (newer, s_url (s_relay_port, "/"), &s_handlers, &new_rec);
    assert_true (s_run_until (newer, &new_rec.opens, 1, 5000));

    assert_int_equal (ws_conn_send (old_conn, req, strlen (req)), 0);
    assert_true (s_run_until (older, &old_rec.eoses, 1, 5000));
    ws_conn_destroy (&old_conn);
    ws_client_destroy (&older);
    assert_null (older);

    assert_int_equal (ws_conn_send (new_conn, req, strlen (req)), 0);
    assert_true (s_run_until (newer, &new_rec.eoses, 1, 5000));
    assert_int_equal (new_rec.closes, 0);
    ws_conn_destroy (&new_conn);
    ws_client_destroy (&newer);
}

//  wss:// against the relay serving TLS with a throwaway self-signed certificate: trusted
//  through ca_file it works, even with another client made during the handshake; with the
//  system store it must fail (the certificate is checked).
static void
test_tls (void **state)
{
    char dir [] = "/tmp/pylon-ws-tls-XXXXXX";
    assert_non_null (mkdtemp (dir));
    char cert [96], key [96], command [512];
    snprintf (cert, sizeof cert, "%s/cert.pem", dir);
    snprintf (key, sizeof key, "%s/key.pem", dir);
    snprintf (command, sizeof command,
              "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-keyout %s -out %s -days 1 -subj /CN=localhost "
              "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1", key, cert);
    assert_int_equal (system (command), 0);
    char *argv [] = { "node", "tests/node/relay.mjs", "--quiet", "--tls-cert", cert,
                      "--tls-key", key, NULL };
    child_t *relay = child_start (argv);
    int port = child_wait_listening (relay, 15000);
    assert_true (port > 0);
    char url [64];
    snprintf (url, sizeof url, "wss://127.0.0.1:%d/", port);

    //  The second client is made while the first one's handshake is under way.
    ws_config_t config = { .ca_file = cert };
    ws_client_t *client = ws_client_new (&config);
    rec_t rec = { 0 };
    ws_conn_t *conn = ws_conn_open (client, url, &s_handlers, &rec);
    const char *req = "[\"REQ\",\"tls\",{\"limit\":1}]";
    assert_int_equal (ws_conn_send (conn, req, strlen (req)), 0);
    ws_client_t *other = ws_client_new (NULL);
    assert_true (s_run_until (client, &rec.eoses, 1, 5000));
    assert_int_equal (rec.opens, 1);
    ws_conn_destroy (&conn);
    ws_client_destroy (&client);

    rec_t untrusted = { 0 };
    conn = ws_conn_open (other, url, &s_handlers, &untrusted);
    assert_true (s_run_until (other, &untrusted.closes, 1, 5000));
    assert_int_equal (untrusted.opens, 0);
    print_message ("# untrusted certificate: %s\n", untrusted.reason);
    ws_conn_destroy (&conn);
    ws_client_destroy (&other);

    child_stop (&relay);
    unlink (cert);
    unlink (key);
    rmdir (dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_url_parse),
        cmocka_unit_test (test_publish_subscribe),
        cmocka_unit_test (test_oversize_dropped),
        cmocka_unit_test (test_garbage_does_not_stall),
        cmocka_unit_test (test_dead_link_detected),
        cmocka_unit_test (test_server_close_and_refused),
        cmocka_unit_test (test_destroy_inside_callback),
        cmocka_unit_test (test_queue_limit),
        cmocka_unit_test (test_clients_overlap),
        cmocka_unit_test (test_tls),
    };
    return cmocka_run_group_tests_name ("ws", tests, s_setup, s_teardown);
}
