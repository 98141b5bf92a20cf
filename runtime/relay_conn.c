/*  relay_conn.c: one relay's connection state machine (see relay_conn.h).

    Data: a list of subscriptions (filters kept as JSON so they can be re-sent with a new
    `since`), a FIFO of pending publishes (each QUEUED, or SENT and awaiting its OK), and the
    NIP-42 state of the current connection (challenge, AUTH in flight, done or failed).
    Transitions happen in three places: the ws callbacks (open, message, close), the timers
    in relay_conn_tick, and the owner's calls (start, stop, subscribe, publish).
*/
#include "relay_conn.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  A created_at further ahead than this is not trusted to move a subscription's `since`.
#define FUTURE_SLACK_S (15 * 60)

//  A subscription, re-sent after every reconnect.
typedef struct _s_sub_t {
    struct _s_sub_t *next;                  // next subscription
    char id [RELAY_PROTO_MAX_SUBID + 1];    // subscription id
    json_object *filters;                   // array of filter objects as given (owned)
    int64_t newest_seen;                    // greatest plausible created_at received, 0: none
    bool waiting_auth;                      // refused with auth-required: REQ again after AUTH
} s_sub_t;

typedef enum { PUB_QUEUED, PUB_SENT } s_pub_state_t;

//  An event to publish, until its OK (or giving up).
typedef struct _s_pub_t {
    struct _s_pub_t *next;                  // next in FIFO order
    char id [65];                           // event id, 64 lowercase hex
    char *message;                          // ["EVENT", {...}] ready to send (owned)
    s_pub_state_t state;                    // queued, or sent and awaiting OK
    int attempts;                           // times sent so far
    int64_t sent_at;                        // ms: last send
    int64_t retry_at;                       // ms: not to be sent before this
    bool waiting_auth;                      // refused with auth-required: send after AUTH
} s_pub_t;

typedef enum {
    AUTH_NONE,          // not authenticated on this connection (yet)
    AUTH_PENDING,       // AUTH sent, waiting for its OK
    AUTH_DONE,          // the relay accepted our AUTH
    AUTH_FAILED         // refused or no signer: auth-required answers are final
} s_auth_state_t;

struct _relay_conn_t {
    ws_client_t *client;                    // the shared websocket context (not owned)
    ws_conn_t *ws;                          // the current connection, NULL when none
    char *url;                              // the relay's URL
    relay_conn_config_t config;             // settings, defaults filled in
    relay_conn_handlers_t handlers;         // the owner's callbacks
    void *arg;                              // the owner's argument to them
    bool running;                           // started and not stopped
    int attempt;                            // failed connection attempts in a row
    int64_t next_attempt_at;                // ms: end of the current backoff
    int64_t opened_at;                      // ms: when the current connection opened
    int64_t flush_after;                    // ms: the socket queue was full, wait till then
    s_sub_t *subs;                          // subscriptions
    s_pub_t *pubs;                          // pending publishes, oldest first
    s_pub_t *pubs_tail;                     // last pending publish
    char *challenge;                        // NIP-42 challenge of this connection, or NULL
    s_auth_state_t auth;                    // NIP-42 state of this connection
    char auth_id [65];                      // id of the AUTH event in flight
    relay_status_t status;                  // what relay_conn_status returns
};

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
relay_conn_state_name (relay_state_t state)
{
    switch (state) {
        case RELAY_DISCONNECTED: return "disconnected";
        case RELAY_CONNECTING: return "connecting";
        case RELAY_CONNECTED: return "connected";
        case RELAY_BACKOFF: return "backoff";
    }
    return "?";
}

static void
s_notify_status (relay_conn_t *self)
{
    if (self->handlers.on_status)
        self->handlers.on_status (self, self->arg);
}

static void
s_set_state (relay_conn_t *self, relay_state_t state)
{
    if (self->status.state == state)
        return;
    self->status.state = state;
    self->status.state_since = (int64_t) time (NULL);
    s_notify_status (self);
}

static void
s_set_error (relay_conn_t *self, const char *text)
{
    snprintf (self->status.last_error, sizeof self->status.last_error, "%s", text);
}

//  The 64-hex "id" of an event given as JSON text, into id[65]; -1 if there is none.
static int
s_event_id (const char *event_json, char id [65])
{
    json_object *event = json_tokener_parse (event_json);
    json_object *value;
    int rc = -1;
    if (json_object_is_type (event, json_type_object)
    &&  json_object_object_get_ex (event, "id", &value)
    &&  json_object_is_type (value, json_type_string)
    &&  json_object_get_string_len (value) == 64) {
        const char *hex = json_object_get_string (value);
        rc = 0;
        for (int i = 0; i < 64; i++)
            if (!((hex [i] >= '0' && hex [i] <= '9') || (hex [i] >= 'a' && hex [i] <= 'f')))
                rc = -1;
        if (rc == 0) {
            memcpy (id, hex, 64);
            id [64] = '\0';
        }
    }
    json_object_put (event);
    return rc;
}

//  ---------------------------------------------------------------------------------------
//  Subscriptions

static s_sub_t *
s_sub_find (relay_conn_t *self, const char *subid)
{
    for (s_sub_t *sub = self->subs; sub; sub = sub->next)
        if (strcmp (sub->id, subid) == 0)
            return sub;
    return NULL;
}

static void
s_sub_remove (relay_conn_t *self, s_sub_t *target)
{
    for (s_sub_t **link = &self->subs; *link; link = &(*link)->next)
        if (*link == target) {
            *link = target->next;
            json_object_put (target->filters);
            free (target);
            return;
        }
}

//  Sends REQ for `sub`; after the first events, each filter's since becomes
//  max(its own since, newest seen - slack).
static void
s_sub_send (relay_conn_t *self, s_sub_t *sub)
{
    if (!self->ws || self->status.state != RELAY_CONNECTED)
        return;
    json_object *filters = NULL;
    if (json_object_deep_copy (sub->filters, &filters, NULL) != 0)
        return;
    if (sub->newest_seen > 0) {
        int64_t since = sub->newest_seen - self->config.since_slack_s;
        if (since < 0)
            since = 0;
        for (size_t i = 0; i < json_object_array_length (filters); i++) {
            json_object *filter = json_object_array_get_idx (filters, i);
            json_object *own;
            if (json_object_object_get_ex (filter, "since", &own) && json_object_get_int64 (own) > since)
                continue;
            json_object_object_add (filter, "since", json_object_new_int64 (since));
        }
    }
    char *req = relay_proto_req_json (sub->id, filters);
    json_object_put (filters);
    if (req && ws_conn_send (self->ws, req, strlen (req)) != 0)
        s_set_error (self, "send queue full: REQ dropped");
    free (req);
}

int
relay_conn_subscribe (relay_conn_t *self, const char *subid, const relay_filter_t *filters,
                      size_t count)
{
    if (!relay_proto_subid_valid (subid) || !filters || count == 0)
        return -1;
    json_object *list = json_object_new_array ();
    for (size_t i = 0; i < count; i++) {
        json_object *filter = relay_proto_filter_json (&filters [i]);
        if (!filter) {
            json_object_put (list);
            return -1;
        }
        json_object_array_add (list, filter);
    }
    s_sub_t *sub = s_sub_find (self, subid);
    if (sub)
        json_object_put (sub->filters);
    else {
        sub = calloc (1, sizeof *sub);
        snprintf (sub->id, sizeof sub->id, "%s", subid);
        sub->next = self->subs;
        self->subs = sub;
    }
    sub->filters = list;
    sub->newest_seen = 0;
    sub->waiting_auth = false;
    s_sub_send (self, sub);
    return 0;
}

int
relay_conn_unsubscribe (relay_conn_t *self, const char *subid)
{
    s_sub_t *sub = subid ? s_sub_find (self, subid) : NULL;
    if (!sub)
        return -1;
    if (self->ws && self->status.state == RELAY_CONNECTED) {
        char *close = relay_proto_close (sub->id);
        if (close)
            ws_conn_send (self->ws, close, strlen (close));
        free (close);
    }
    s_sub_remove (self, sub);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Publishing

static void
s_pub_unlink (relay_conn_t *self, s_pub_t *target)
{
    s_pub_t *prev = NULL;
    for (s_pub_t *pub = self->pubs; pub; prev = pub, pub = pub->next)
        if (pub == target) {
            if (prev)
                prev->next = pub->next;
            else
                self->pubs = pub->next;
            if (self->pubs_tail == pub)
                self->pubs_tail = prev;
            self->status.pending--;
            return;
        }
}

//  Ends one publish: removes it, counts it, tells the owner.
static void
s_pub_finish (relay_conn_t *self, s_pub_t *pub, relay_publish_result_t result,
              const char *message)
{
    s_pub_unlink (self, pub);
    if (result == RELAY_PUBLISH_ACCEPTED)
        self->status.published++;
    else
        self->status.rejected++;
    if (self->handlers.on_publish)
        self->handlers.on_publish (self, pub->id, result, message, self->arg);
    free (pub->message);
    free (pub);
}

static s_pub_t *
s_pub_find (relay_conn_t *self, const char *id)
{
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next)
        if (strcmp (pub->id, id) == 0)
            return pub;
    return NULL;
}

//  Sends every queued event that is due, in order.
static void
s_pub_flush (relay_conn_t *self)
{
    if (!self->ws || self->status.state != RELAY_CONNECTED)
        return;
    int64_t now = s_now_ms ();
    if (now < self->flush_after)
        return;
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next) {
        if (pub->state != PUB_QUEUED || pub->waiting_auth || pub->retry_at > now)
            continue;
        if (ws_conn_send (self->ws, pub->message, strlen (pub->message)) != 0) {
            //  The socket queue is full: try again a little later, without spinning.
            self->flush_after = now + 50;
            break;
        }
        pub->state = PUB_SENT;
        pub->sent_at = now;
        pub->attempts++;
        self->status.events_out++;
    }
}

int
relay_conn_publish (relay_conn_t *self, const char *event_json)
{
    char id [65];
    if (!event_json || self->status.pending >= self->config.max_pending
    ||  s_event_id (event_json, id) != 0 || s_pub_find (self, id))
        return -1;
    char *message = relay_proto_event (event_json);
    if (!message)
        return -1;
    s_pub_t *pub = calloc (1, sizeof *pub);
    memcpy (pub->id, id, sizeof pub->id);
    pub->message = message;
    pub->state = PUB_QUEUED;
    if (self->pubs_tail)
        self->pubs_tail->next = pub;
    else
        self->pubs = pub;
    self->pubs_tail = pub;
    self->status.pending++;
    s_pub_flush (self);
    return 0;
}

//  A failed attempt that may be retried: later, or never if attempts are used up.
static void
s_pub_retry_later (relay_conn_t *self, s_pub_t *pub, const char *message)
{
    if (pub->attempts >= self->config.max_attempts) {
        char text [RELAY_PROTO_MAX_TEXT + 64];
        snprintf (text, sizeof text, "gave up after %d attempts: %s", pub->attempts, message);
        s_pub_finish (self, pub, RELAY_PUBLISH_GAVE_UP, text);
        return;
    }
    int64_t delay = (int64_t) self->config.retry_ms << (pub->attempts > 0 ? pub->attempts - 1 : 0);
    if (delay > self->config.backoff_max_ms)
        delay = self->config.backoff_max_ms;
    pub->state = PUB_QUEUED;
    pub->retry_at = s_now_ms () + delay;
}

//  ---------------------------------------------------------------------------------------
//  NIP-42

//  Gives up everything that waits for authentication, with `message`.
static void
s_auth_fail (relay_conn_t *self, const char *message)
{
    self->auth = AUTH_FAILED;
    s_pub_t *pub = self->pubs;
    while (pub) {
        s_pub_t *next = pub->next;
        if (pub->waiting_auth)
            s_pub_finish (self, pub, RELAY_PUBLISH_GAVE_UP, message);
        pub = next;
    }
    s_sub_t *sub = self->subs;
    while (sub) {
        s_sub_t *next = sub->next;
        if (sub->waiting_auth) {
            if (self->handlers.on_closed)
                self->handlers.on_closed (self, sub->id, message, self->arg);
            s_sub_remove (self, sub);
        }
        sub = next;
    }
}

//  True when an event or a subscription waits for authentication.
static bool
s_auth_wanted (relay_conn_t *self)
{
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next)
        if (pub->waiting_auth)
            return true;
    for (s_sub_t *sub = self->subs; sub; sub = sub->next)
        if (sub->waiting_auth)
            return true;
    return false;
}

//  Sends AUTH if something waits for it and a challenge is known. A challenge alone is not
//  answered: the node authenticates only where a relay asks for it (auth-required).
static void
s_auth_start (relay_conn_t *self)
{
    if (self->auth != AUTH_NONE || !self->challenge || !self->ws || !s_auth_wanted (self))
        return;
    if (!self->handlers.sign_auth) {
        s_auth_fail (self, "auth-required: no signer for NIP-42");
        return;
    }
    char *event_json = self->handlers.sign_auth (self, self->url, self->challenge, self->arg);
    char *message = event_json ? relay_proto_auth (event_json) : NULL;
    if (!message || s_event_id (event_json, self->auth_id) != 0
    ||  ws_conn_send (self->ws, message, strlen (message)) != 0) {
        free (event_json);
        free (message);
        s_auth_fail (self, "auth-required: could not sign or send AUTH");
        return;
    }
    free (event_json);
    free (message);
    self->auth = AUTH_PENDING;
}

static void
s_auth_result (relay_conn_t *self, const relay_msg_t *msg)
{
    if (!msg->accepted) {
        char text [RELAY_PROTO_MAX_TEXT + 32];
        snprintf (text, sizeof text, "auth failed: %s", msg->text);
        s_auth_fail (self, text);
        return;
    }
    self->auth = AUTH_DONE;
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next)
        if (pub->waiting_auth) {
            pub->waiting_auth = false;
            pub->state = PUB_QUEUED;
            pub->retry_at = 0;
        }
    for (s_sub_t *sub = self->subs; sub; sub = sub->next)
        if (sub->waiting_auth) {
            sub->waiting_auth = false;
            s_sub_send (self, sub);
        }
    s_pub_flush (self);
}

//  ---------------------------------------------------------------------------------------
//  Relay messages

static void
s_on_ok (relay_conn_t *self, const relay_msg_t *msg)
{
    if (self->auth == AUTH_PENDING && strcmp (msg->event_id, self->auth_id) == 0) {
        s_auth_result (self, msg);
        return;
    }
    s_pub_t *pub = s_pub_find (self, msg->event_id);
    if (!pub || pub->state != PUB_SENT)
        return;                 //  not ours, or an answer to an earlier attempt
    if (msg->accepted || msg->reason == RELAY_REASON_DUPLICATE) {
        self->status.last_ok_latency_ms = (int) (s_now_ms () - pub->sent_at);
        s_pub_finish (self, pub, RELAY_PUBLISH_ACCEPTED, msg->text);
        s_notify_status (self);
        return;
    }
    switch (msg->reason) {
        case RELAY_REASON_RATE_LIMITED:
        case RELAY_REASON_ERROR:
            s_pub_retry_later (self, pub, msg->text);
            return;
        case RELAY_REASON_AUTH_REQUIRED:
            if (self->auth == AUTH_DONE || self->auth == AUTH_FAILED) {
                s_pub_finish (self, pub, RELAY_PUBLISH_REJECTED, msg->text);
                return;
            }
            pub->state = PUB_QUEUED;
            pub->waiting_auth = true;
            s_auth_start (self);
            return;
        default:
            s_pub_finish (self, pub, RELAY_PUBLISH_REJECTED, msg->text);
            return;
    }
}

static void
s_on_event (relay_conn_t *self, const relay_msg_t *msg)
{
    s_sub_t *sub = s_sub_find (self, msg->subid);
    if (!sub)
        return;                 //  a subscription we closed: late events are dropped
    self->status.events_in++;
    json_object *created;
    if (json_object_object_get_ex (msg->event, "created_at", &created)
    &&  json_object_is_type (created, json_type_int)) {
        int64_t at = json_object_get_int64 (created);
        if (at > sub->newest_seen && at <= (int64_t) time (NULL) + FUTURE_SLACK_S)
            sub->newest_seen = at;
    }
    if (self->handlers.on_event)
        self->handlers.on_event (self, msg->subid, msg->event, self->arg);
}

static void
s_on_closed (relay_conn_t *self, const relay_msg_t *msg)
{
    s_sub_t *sub = s_sub_find (self, msg->subid);
    if (!sub)
        return;
    if (msg->reason == RELAY_REASON_AUTH_REQUIRED && self->auth != AUTH_DONE
    &&  self->auth != AUTH_FAILED) {
        sub->waiting_auth = true;
        s_auth_start (self);
        return;
    }
    if (self->handlers.on_closed)
        self->handlers.on_closed (self, sub->id, msg->text, self->arg);
    s_sub_remove (self, sub);
}

static void
s_ws_message (ws_conn_t *ws, const char *text, size_t len, void *arg)
{
    relay_conn_t *self = arg;
    relay_msg_t msg;
    int rc = relay_proto_decode (text, len, &msg);
    if (rc != 0) {
        self->status.protocol_errors++;
        char error [96];
        snprintf (error, sizeof error, "bad relay message: %s", relay_proto_strerror (rc));
        s_set_error (self, error);
        return;
    }
    switch (msg.type) {
        case RELAY_MSG_EVENT:
            s_on_event (self, &msg);
            break;
        case RELAY_MSG_OK:
            s_on_ok (self, &msg);
            break;
        case RELAY_MSG_EOSE:
            if (s_sub_find (self, msg.subid) && self->handlers.on_eose)
                self->handlers.on_eose (self, msg.subid, self->arg);
            break;
        case RELAY_MSG_CLOSED:
            s_on_closed (self, &msg);
            break;
        case RELAY_MSG_NOTICE:
            self->status.notices++;
            break;
        case RELAY_MSG_AUTH:
            free (self->challenge);
            self->challenge = strndup (msg.text, msg.text_len);
            s_auth_start (self);    //  only acts when something already waits for it
            break;
        case RELAY_MSG_COUNT:
            break;
    }
    relay_msg_release (&msg);
}

//  ---------------------------------------------------------------------------------------
//  Connection life

static void
s_ws_open (ws_conn_t *ws, void *arg)
{
    relay_conn_t *self = arg;
    self->opened_at = s_now_ms ();
    self->status.connects++;
    self->auth = AUTH_NONE;
    s_set_state (self, RELAY_CONNECTED);
    //  A new connection: everything is asked again, and AUTH follows if a relay refuses.
    for (s_sub_t *sub = self->subs; sub; sub = sub->next) {
        sub->waiting_auth = false;
        s_sub_send (self, sub);
    }
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next)
        pub->waiting_auth = false;
    s_pub_flush (self);
}

//  Backoff delay for the current attempt: min * 2^attempt, capped, with "equal jitter"
//  (half fixed, half random) so many nodes do not reconnect in step.
static int
s_backoff_delay (relay_conn_t *self)
{
    int64_t delay = self->config.backoff_min_ms;
    for (int i = 0; i < self->attempt && delay < self->config.backoff_max_ms; i++)
        delay *= 2;
    if (delay > self->config.backoff_max_ms)
        delay = self->config.backoff_max_ms;
    uint32_t half = (uint32_t) (delay / 2);
    return (int) (half + randombytes_uniform (half + 1));
}

static void
s_ws_close (ws_conn_t *ws, const char *reason, void *arg)
{
    relay_conn_t *self = arg;
    s_set_error (self, reason);
    self->status.dropped_oversize += ws_conn_stats (ws)->dropped_oversize;
    ws_conn_destroy (&self->ws);
    free (self->challenge);
    self->challenge = NULL;
    self->auth = AUTH_NONE;
    //  Whatever was sent and not answered goes out again on the next connection.
    for (s_pub_t *pub = self->pubs; pub; pub = pub->next)
        if (pub->state == PUB_SENT)
            pub->state = PUB_QUEUED;
    if (!self->running) {
        s_set_state (self, RELAY_DISCONNECTED);
        return;
    }
    int64_t now = s_now_ms ();
    if (self->opened_at && now - self->opened_at >= self->config.backoff_reset_ms)
        self->attempt = 0;
    self->opened_at = 0;
    self->status.backoff_ms = s_backoff_delay (self);
    self->attempt++;
    self->next_attempt_at = now + self->status.backoff_ms;
    s_set_state (self, RELAY_BACKOFF);
}

static void
s_connect (relay_conn_t *self)
{
    static const ws_handlers_t handlers = { s_ws_open, s_ws_message, s_ws_close };
    self->ws = ws_conn_open (self->client, self->url, &handlers, self);
    if (!self->ws) {                    //  out of memory: try again after a backoff
        self->status.backoff_ms = s_backoff_delay (self);
        self->attempt++;
        self->next_attempt_at = s_now_ms () + self->status.backoff_ms;
        s_set_state (self, RELAY_BACKOFF);
        return;
    }
    s_set_state (self, RELAY_CONNECTING);
}

//  ---------------------------------------------------------------------------------------
//  Public API

relay_conn_t *
relay_conn_new (ws_client_t *client, const char *url, const relay_conn_config_t *config,
                const relay_conn_handlers_t *handlers, void *arg)
{
    ws_url_t parsed;
    if (!client || ws_url_parse (url, &parsed) != 0 || sodium_init () < 0)
        return NULL;
    relay_conn_t *self = calloc (1, sizeof *self);
    self->client = client;
    self->url = strdup (url);
    if (config)
        self->config = *config;
    relay_conn_config_t *c = &self->config;
    if (c->backoff_min_ms <= 0)
        c->backoff_min_ms = 500;
    if (c->backoff_max_ms <= 0)
        c->backoff_max_ms = 60000;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms;
    if (c->backoff_reset_ms <= 0)
        c->backoff_reset_ms = 10000;
    if (c->since_slack_s <= 0)
        c->since_slack_s = 60;
    if (c->ok_timeout_ms <= 0)
        c->ok_timeout_ms = 15000;
    if (c->retry_ms <= 0)
        c->retry_ms = 1000;
    if (c->max_attempts <= 0)
        c->max_attempts = 6;
    if (c->max_pending == 0)
        c->max_pending = 1000;
    if (handlers)
        self->handlers = *handlers;
    self->arg = arg;
    self->status.state = RELAY_DISCONNECTED;
    self->status.state_since = (int64_t) time (NULL);
    self->status.last_ok_latency_ms = -1;
    return self;
}

void
relay_conn_destroy (relay_conn_t **self_p)
{
    relay_conn_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    ws_conn_destroy (&self->ws);
    while (self->subs)
        s_sub_remove (self, self->subs);
    while (self->pubs) {
        s_pub_t *next = self->pubs->next;
        free (self->pubs->message);
        free (self->pubs);
        self->pubs = next;
    }
    free (self->challenge);
    free (self->url);
    free (self);
    *self_p = NULL;
}

void
relay_conn_start (relay_conn_t *self)
{
    if (self->running)
        return;
    self->running = true;
    self->attempt = 0;
    if (!self->ws)
        s_connect (self);
}

void
relay_conn_stop (relay_conn_t *self)
{
    self->running = false;
    if (self->ws)
        ws_conn_close (self->ws);       //  on_close moves to DISCONNECTED
    else
        s_set_state (self, RELAY_DISCONNECTED);
}

int
relay_conn_timeout (relay_conn_t *self)
{
    int64_t now = s_now_ms ();
    int64_t best = -1;
    if (self->running && !self->ws && self->status.state == RELAY_BACKOFF)
        best = self->next_attempt_at > now ? self->next_attempt_at - now : 0;
    if (self->status.state == RELAY_CONNECTED) {
        for (s_pub_t *pub = self->pubs; pub; pub = pub->next) {
            int64_t due;
            if (pub->waiting_auth)
                continue;
            if (pub->state == PUB_QUEUED)
                due = pub->retry_at > self->flush_after ? pub->retry_at : self->flush_after;
            else
                due = pub->sent_at + self->config.ok_timeout_ms;
            int64_t wait = due > now ? due - now : 0;
            if (best < 0 || wait < best)
                best = wait;
        }
    }
    return best > INT32_MAX ? INT32_MAX : (int) best;
}

void
relay_conn_tick (relay_conn_t *self)
{
    int64_t now = s_now_ms ();
    if (self->running && !self->ws && self->status.state == RELAY_BACKOFF
    &&  now >= self->next_attempt_at)
        s_connect (self);
    if (self->status.state != RELAY_CONNECTED)
        return;
    //  Sent long ago and never answered: try again (a relay may drop messages under load).
    s_pub_t *pub = self->pubs;
    while (pub) {
        s_pub_t *next = pub->next;
        if (pub->state == PUB_SENT && now >= pub->sent_at + self->config.ok_timeout_ms)
            s_pub_retry_later (self, pub, "no OK from the relay");
        pub = next;
    }
    s_pub_flush (self);
}

const relay_status_t *
relay_conn_status (relay_conn_t *self)
{
    return &self->status;
}

const char *
relay_conn_url (const relay_conn_t *self)
{
    return self->url;
}
