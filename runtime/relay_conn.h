/*  relay_conn.h: one relay, kept connected: subscriptions, publishing, NIP-42 AUTH, status.

    The relay actor holds one relay_conn per configured relay. A relay_conn sits on a ws
    connection and the relay_proto codec and owns everything that must survive a broken
    connection:
    - the state machine DISCONNECTED -> CONNECTING -> CONNECTED -> BACKOFF -> CONNECTING ...,
      with exponential backoff and jitter between attempts (capped);
    - the subscriptions, sent again after every reconnect with `since` moved up to the newest
      event already seen on that subscription, minus a slack, so nothing is missed and little
      is fetched twice;
    - the publish queue: each event waits for its OK. Accepted (or "duplicate:") ends it;
      "rate-limited:" and "error:" retry later; "auth-required:" authenticates (the owner signs
      the kind-22242 event) and retries; anything else ("blocked:", "invalid:", "pow:",
      "restricted:" ...) gives up on this relay with the relay's reason. Events queued while
      disconnected, or sent without an OK before the link broke, go out after reconnecting;
    - counters and the current state for the owner's status reports.

    It knows nothing of ZeroMQ: the owner drives it from its loop (ws_client_pollfds /
    ws_client_timeout / ws_client_service for the sockets, relay_conn_timeout / relay_conn_tick
    for this module's timers). Callbacks run inside ws_client_service or relay_conn_tick;
    they may call any function here except relay_conn_destroy on the same relay_conn.
*/
#ifndef RELAY_CONN_H_INCLUDED
#define RELAY_CONN_H_INCLUDED

#include <json-c/json.h>
#include <stdint.h>

#include "relay_proto.h"
#include "ws.h"

typedef struct _relay_conn_t relay_conn_t;

typedef enum {
    RELAY_DISCONNECTED,     // not started, or stopped
    RELAY_CONNECTING,       // websocket handshake under way
    RELAY_CONNECTED,        // subscriptions live, publishing
    RELAY_BACKOFF           // waiting before the next attempt
} relay_state_t;

typedef enum {
    RELAY_PUBLISH_ACCEPTED,     // OK true, or a "duplicate:" answer
    RELAY_PUBLISH_REJECTED,     // the relay refused it for good; the reason says why
    RELAY_PUBLISH_GAVE_UP       // retries exhausted (rate limits, no OK, failed auth)
} relay_publish_result_t;

//  Settings; zero fields take the defaults shown.
typedef struct {
    int backoff_min_ms;         // first reconnect delay (500)
    int backoff_max_ms;         // cap of the delay (60000)
    int backoff_reset_ms;       // a connection up this long resets the delay (10000)
    int since_slack_s;          // resubscribe from newest seen created_at minus this (60)
    int ok_timeout_ms;          // an event without OK this long is sent again (15000)
    int retry_ms;               // first wait after "rate-limited:" / "error:" (1000), doubling
    int max_attempts;           // sends of one event before giving up (6)
    size_t max_pending;         // events queued or awaiting OK (1000)
} relay_conn_config_t;

//  A snapshot of one relay's health.
typedef struct {
    relay_state_t state;        // current state
    int64_t state_since;        // unix seconds when that state began
    uint64_t connects;          // websocket connections opened
    uint64_t events_in;         // EVENT messages received on live subscriptions
    uint64_t events_out;        // EVENT messages sent (retries included)
    uint64_t published;         // events accepted (OK true or duplicate)
    uint64_t rejected;          // events refused or given up
    uint64_t protocol_errors;   // relay messages relay_proto refused
    uint64_t notices;           // NOTICE messages
    uint64_t dropped_oversize;  // oversized messages dropped, summed over connections
    int last_ok_latency_ms;     // send -> OK of the last accepted event, -1 before any
    int backoff_ms;             // the delay of the current or last backoff
    size_t pending;             // events queued or awaiting OK
    char last_error [192];      // the last connection close reason or protocol error
} relay_status_t;

//  The owner's callbacks, all optional except where noted; `arg` from relay_conn_new.
typedef struct {
    //  An event on a subscription, as the relay sent it (borrowed, valid during the call):
    //  parse and verify it with the event module before trusting anything in it.
    void (*on_event) (relay_conn_t *conn, const char *subid, json_object *event, void *arg);
    //  The relay has sent all stored events for the subscription.
    void (*on_eose) (relay_conn_t *conn, const char *subid, void *arg);
    //  The relay ended a subscription (CLOSED); it is forgotten and not sent again.
    void (*on_closed) (relay_conn_t *conn, const char *subid, const char *message, void *arg);
    //  The end of one published event on this relay: `event_id` is its 64-hex id.
    void (*on_publish) (relay_conn_t *conn, const char *event_id, relay_publish_result_t result,
                        const char *message, void *arg);
    //  NIP-42: return a fresh (malloc'ed) signed kind-22242 event as JSON text, with tags
    //  ["relay", relay_url] and ["challenge", challenge], or NULL to decline. Without this
    //  callback "auth-required:" answers are final.
    char *(*sign_auth) (relay_conn_t *conn, const char *relay_url, const char *challenge,
                        void *arg);
    //  The state changed (or a counter the owner reports did): read relay_conn_status.
    void (*on_status) (relay_conn_t *conn, void *arg);
} relay_conn_handlers_t;

//  A relay connection to `url` over `client`, not started. NULL for an invalid URL.
relay_conn_t *
    relay_conn_new (ws_client_t *client, const char *url, const relay_conn_config_t *config,
                    const relay_conn_handlers_t *handlers, void *arg);

//  Closes the connection (no callbacks) and frees everything.
void
    relay_conn_destroy (relay_conn_t **self_p);

//  Starts connecting (and reconnecting) / stops and stays disconnected. Queues are kept.
void
    relay_conn_start (relay_conn_t *self);
void
    relay_conn_stop (relay_conn_t *self);

//  Adds or replaces subscription `subid` (1..64 characters) with these filters; sent now if
//  connected, and after every reconnect. 0, or -1 for an invalid subid or filter.
int
    relay_conn_subscribe (relay_conn_t *self, const char *subid, const relay_filter_t *filters,
                          size_t count);

//  Ends a subscription (CLOSE if connected). 0, or -1 if there is none by that id.
int
    relay_conn_unsubscribe (relay_conn_t *self, const char *subid);

//  Queues a signed event (JSON text, copied) for this relay. 0, or -1 when the text is not
//  an event object with a 64-hex id, the same id is already pending, or the queue is full.
//  The result comes via on_publish.
int
    relay_conn_publish (relay_conn_t *self, const char *event_json);

//  Milliseconds until relay_conn_tick is due (0: now, -1: no timer).
int
    relay_conn_timeout (relay_conn_t *self);

//  Runs due timers: reconnect after backoff, retries, OK timeouts.
void
    relay_conn_tick (relay_conn_t *self);

//  Current state and counters (borrowed, updated in place).
const relay_status_t *
    relay_conn_status (relay_conn_t *self);

//  The relay's URL as given.
const char *
    relay_conn_url (const relay_conn_t *self);

//  "disconnected", "connecting", "connected", "backoff".
const char *
    relay_conn_state_name (relay_state_t state);

#endif
