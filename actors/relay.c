/*  relay.c: the relay actor, Pylon's only door to Nostr.

    It keeps one relay_conn (runtime/relay_conn.h) per URL of [relays] urls, all on one
    libwebsockets client whose descriptors it watches from the actor's own poll loop: no thread
    per connection. For the other actors it:
    - subscribes on their behalf (RELAY_SUBSCRIBE: a subscription name and a NIP-01 filter as
      JSON) and routes each event back to the actor that asked;
    - checks every incoming event's id and signature before anything else sees it, drops and
      counts the invalid ones, and passes each event on once, whichever and however many relays
      deliver it (a bounded set of recent ids; the ledger's jobs table is the persistent one);
    - publishes (RELAY_PUBLISH) on every relay and answers RELAY_PUBLISHED once `quorum` relays
      accepted the event, or once every relay has answered without reaching it;
    - answers NIP-42 AUTH challenges with a kind-22242 event signed by the node's key.
    Reconnects, backoff, since-resume and per-relay OK tracking live in relay_conn. */
#include "actors.h"
#include "log.h"
#include "nostr_event.h"
#include "relay.h"
#include "relay_conn.h"

#include <json-c/json.h>
#include <poll.h>
#include <time.h>

#define MAX_RELAYS      16
#define MAX_SUBS        32
#define SEEN_MAX        65536       /* recent event ids remembered for deduplication */
#define MAX_PUBLISHING  10000       /* events being published at once */

typedef struct {
    char name[33];                  /* the subscription id (also used on the relays) */
    char owner[MSG_NAME_MAX + 1];   /* the actor events go to */
    char *filter;                   /* its NIP-01 filter as JSON, for relays added later (owned) */
} sub_t;

typedef struct {
    uint64_t ref;                   /* the publisher's reference, 0 when nobody waits */
    char owner[MSG_NAME_MAX + 1];
    uint8_t id[32];
    int quorum;                     /* acceptances needed */
    int accepted, rejected;         /* relays that answered so far */
    int relays;                     /* relays it was queued on */
    char reason[256];               /* the last refusal */
} publish_t;

typedef struct {
    actor_ctx_t *ctx;
    const config_t *cfg;
    nostr_keys_t *keys;             /* for AUTH (owned); NULL: decline challenges */
    ws_client_t *ws;
    relay_conn_t *relays[MAX_RELAYS];
    relay_state_t logged[MAX_RELAYS];   /* the last state logged per relay */
    int relay_count;
    sub_t subs[MAX_SUBS];
    int sub_count;
    zhashx_t *seen;                 /* id hex -> (non-NULL marker), bounded */
    char (*seen_ring)[65];          /* insertion order, to forget the oldest */
    size_t seen_next;
    zhashx_t *publishing;           /* id hex -> publish_t */
    int watched[256];               /* descriptors currently watched */
    int watched_count;
    int timer;                      /* the next relay_conn / ws deadline */
    struct {
        uint64_t received, invalid, duplicates, delivered, published, failed, unrouted;
    } counts;
} relay_t;

static void s_rearm(relay_t *self);

/* ---- deduplication ---------------------------------------------------------------------- */

/* True the first time an id is seen (then remembered), false after. */
static bool
s_first_sight(relay_t *self, const char *id)
{
    if (zhashx_lookup(self->seen, id))
        return false;
    char *slot = self->seen_ring[self->seen_next];
    if (*slot)
        zhashx_delete(self->seen, slot);        /* forget the oldest */
    memcpy(slot, id, 65);
    zhashx_insert(self->seen, slot, slot);
    self->seen_next = (self->seen_next + 1) % SEEN_MAX;
    return true;
}

/* ---- relay_conn callbacks --------------------------------------------------------------- */

static void
s_on_event(relay_conn_t *conn, const char *subid, json_object *object, void *arg)
{
    relay_t *self = arg;
    self->counts.received++;
    int error = 0;
    nostr_event_t *event = nostr_event_from_object(object, NULL, &error);
    if (event)
        error = nostr_event_check(event);
    if (error) {
        self->counts.invalid++;
        log_debug("dropped an event from %s: %s", relay_conn_url(conn), nostr_event_strerror(error));
        nostr_event_destroy(&event);
        return;
    }
    char id[65];
    nostr_event_hex(event->id, 32, id);
    if (!s_first_sight(self, id)) {
        self->counts.duplicates++;
        nostr_event_destroy(&event);
        return;
    }
    const sub_t *sub = NULL;
    for (int i = 0; i < self->sub_count && !sub; i++)
        if (streq(self->subs[i].name, subid))
            sub = &self->subs[i];
    char *json = sub ? nostr_event_to_json(event, NULL) : NULL;
    if (json) {
        msg_t out = {.type = MSG_RELAY_EVENT, .relay_event = {sub->name, relay_conn_url(conn), json}};
        if (actor_send(self->ctx, sub->owner, &out) == 0)
            self->counts.delivered++;
    }
    else
        self->counts.unrouted++;
    free(json);
    nostr_event_destroy(&event);
}

static void
s_publish_done(relay_t *self, publish_t *publish, const char *hex, bool ok)
{
    if (publish->ref) {
        msg_t out = {.type = MSG_RELAY_PUBLISHED,
                     .relay_published = {.ref = publish->ref, .ok = ok,
                                         .accepted = (uint64_t) publish->accepted,
                                         .rejected = (uint64_t) publish->rejected,
                                         .reason = ok ? "" : publish->reason}};
        memcpy(out.relay_published.id, publish->id, 32);
        actor_send(self->ctx, publish->owner, &out);
    }
    if (ok)
        self->counts.published++;
    else
        self->counts.failed++;
    zhashx_delete(self->publishing, hex);
}

static void
s_on_publish(relay_conn_t *conn, const char *event_id, relay_publish_result_t result,
             const char *message, void *arg)
{
    relay_t *self = arg;
    publish_t *publish = zhashx_lookup(self->publishing, event_id);
    if (!publish)
        return;     /* already answered (quorum reached): later relays just add copies */
    if (result == RELAY_PUBLISH_ACCEPTED)
        publish->accepted++;
    else {
        publish->rejected++;
        snprintf(publish->reason, sizeof publish->reason, "%s: %s", relay_conn_url(conn),
                 message && *message ? message : "gave up");
        log_warn("%s refused event %.12s: %s", relay_conn_url(conn), event_id, message ? message : "");
    }
    if (publish->accepted >= publish->quorum)
        s_publish_done(self, publish, event_id, true);
    else if (publish->accepted + publish->rejected >= publish->relays)
        s_publish_done(self, publish, event_id, false);
}

static char *
s_sign_auth(relay_conn_t *conn, const char *relay_url, const char *challenge, void *arg)
{
    relay_t *self = arg;
    if (!self->keys)
        return NULL;
    nostr_event_t *event = nostr_event_new(22242, time(NULL), "", 0);
    if (!event)
        return NULL;
    nostr_event_add_tagv(event, "relay", relay_url, NULL);
    nostr_event_add_tagv(event, "challenge", challenge, NULL);
    char *json = nostr_event_sign(event, self->keys) == 0 ? nostr_event_to_json(event, NULL) : NULL;
    nostr_event_destroy(&event);
    log_info("answering the AUTH challenge of %s", relay_url);
    return json;
}

static void
s_on_status(relay_conn_t *conn, void *arg)
{
    relay_t *self = arg;
    static const char *const names[] = {"disconnected", "connecting", "connected", "backoff"};
    const relay_status_t *status = relay_conn_status(conn);
    for (int i = 0; i < self->relay_count; i++)
        if (self->relays[i] == conn) {
            if (self->logged[i] == status->state)
                return;     /* a counter moved, not the state */
            self->logged[i] = status->state;
        }
    if (status->state == RELAY_CONNECTED || status->state == RELAY_BACKOFF)
        log_info("%s: %s%s%s", relay_conn_url(conn), names[status->state],
                 status->state == RELAY_BACKOFF && status->last_error[0] ? " after: " : "",
                 status->state == RELAY_BACKOFF ? status->last_error : "");
}

/* ---- the poll loop ---------------------------------------------------------------------- */

static void
s_service(relay_t *self)
{
    ws_client_service(self->ws);
    for (int i = 0; i < self->relay_count; i++)
        if (relay_conn_timeout(self->relays[i]) == 0)
            relay_conn_tick(self->relays[i]);
    s_rearm(self);
}

static void
s_on_fd(void *state, int fd, short revents)
{
    s_service(state);
}

static void
s_on_timer(void *state, int timer_id)
{
    relay_t *self = state;
    self->timer = 0;
    s_service(self);
}

/* Watch exactly the descriptors libwebsockets wants, and wake for the nearest deadline. */
static void
s_rearm(relay_t *self)
{
    struct pollfd fds[256];
    int count = ws_client_pollfds(self->ws, fds, 256);
    if (count > 256)
        count = 256;
    for (int i = 0; i < self->watched_count; i++) {
        bool still = false;
        for (int j = 0; j < count && !still; j++)
            still = fds[j].fd == self->watched[i];
        if (!still)
            actor_unwatch_fd(self->ctx, self->watched[i]);
    }
    self->watched_count = 0;
    for (int j = 0; j < count; j++) {
        short events = (fds[j].events & POLLIN ? ZMQ_POLLIN : 0) | (fds[j].events & POLLOUT ? ZMQ_POLLOUT : 0);
        actor_watch_fd(self->ctx, fds[j].fd, events, s_on_fd);
        self->watched[self->watched_count++] = fds[j].fd;
    }
    int wait = ws_client_timeout(self->ws);
    for (int i = 0; i < self->relay_count; i++) {
        int t = relay_conn_timeout(self->relays[i]);
        if (t >= 0 && (wait < 0 || t < wait))
            wait = t;
    }
    if (self->timer)
        actor_timer_cancel(self->ctx, self->timer);
    self->timer = actor_timer_add(self->ctx, wait < 0 ? 1000 : wait, 0, s_on_timer);
}

/* ---- requests from other actors ----------------------------------------------------------- */

/* A NIP-01 filter given as JSON, into relay_proto's struct (arrays borrowed from obj). */
static int
s_filter(json_object *obj, relay_filter_t *filter, int *kinds, const char **authors,
         const char **p_tags, const char **e_tags)
{
    memset(filter, 0, sizeof *filter);
    filter->since = filter->until = -1;
    filter->limit = -1;
    if (!json_object_is_type(obj, json_type_object))
        return -1;
    json_object *value;
    if (json_object_object_get_ex(obj, "kinds", &value)) {
        if (!json_object_is_type(value, json_type_array) || json_object_array_length(value) > 32)
            return -1;
        for (size_t i = 0; i < json_object_array_length(value); i++)
            kinds[filter->kinds_count++] = json_object_get_int(json_object_array_get_idx(value, i));
        filter->kinds = kinds;
    }
    struct { const char *key; const char **out; size_t *count; const char *const **field; } lists[] = {
        {"authors", authors, &filter->authors_count, &filter->authors},
        {"#p", p_tags, &filter->p_tags_count, &filter->p_tags},
        {"#e", e_tags, &filter->e_tags_count, &filter->e_tags},
    };
    for (size_t l = 0; l < 3; l++)
        if (json_object_object_get_ex(obj, lists[l].key, &value)) {
            if (!json_object_is_type(value, json_type_array) || json_object_array_length(value) > 32)
                return -1;
            for (size_t i = 0; i < json_object_array_length(value); i++)
                lists[l].out[(*lists[l].count)++] = json_object_get_string(json_object_array_get_idx(value, i));
            *lists[l].field = lists[l].out;
        }
    if (json_object_object_get_ex(obj, "since", &value))
        filter->since = json_object_get_int64(value);
    if (json_object_object_get_ex(obj, "until", &value))
        filter->until = json_object_get_int64(value);
    if (json_object_object_get_ex(obj, "limit", &value))
        filter->limit = json_object_get_int(value);
    return 0;
}

/* Subscribe subid with filter_json on one relay. 0, or -1 for an invalid filter. */
static int
s_apply_filter(relay_t *self, relay_conn_t *conn, const char *subid, const char *filter_json)
{
    json_object *obj = json_tokener_parse(filter_json);
    relay_filter_t filter;
    int kinds[32];
    const char *authors[32], *p_tags[32], *e_tags[32];
    int rc = s_filter(obj, &filter, kinds, authors, p_tags, e_tags);
    if (rc == 0 && relay_conn_subscribe(conn, subid, &filter, 1) != 0)
        log_error("%s: cannot subscribe '%s'", relay_conn_url(conn), subid);
    json_object_put(obj);
    return rc;
}

static void
s_subscribe(relay_t *self, const msg_t *msg)
{
    const msg_relay_subscribe_t *ask = &msg->relay_subscribe;
    sub_t *sub = NULL;
    for (int i = 0; i < self->sub_count && !sub; i++)
        if (streq(self->subs[i].name, ask->sub))
            sub = &self->subs[i];
    if (!sub && self->sub_count == MAX_SUBS) {
        log_error("%s asked for more than %d subscriptions", msg->from, MAX_SUBS);
        return;
    }
    json_object *obj = json_tokener_parse(ask->filter);
    relay_filter_t filter;
    int kinds[32];
    const char *authors[32], *p_tags[32], *e_tags[32];
    int valid = s_filter(obj, &filter, kinds, authors, p_tags, e_tags);
    json_object_put(obj);
    if (valid != 0) {
        log_error("%s sent an invalid filter for '%s': %s", msg->from, ask->sub, ask->filter);
        return;
    }
    if (!sub)
        sub = &self->subs[self->sub_count++];
    snprintf(sub->name, sizeof sub->name, "%s", ask->sub);
    snprintf(sub->owner, sizeof sub->owner, "%s", msg->from);
    free(sub->filter);
    sub->filter = strdup(ask->filter);
    for (int i = 0; i < self->relay_count; i++)
        s_apply_filter(self, self->relays[i], ask->sub, ask->filter);
    log_info("subscribed '%s' for %s on %d relays", ask->sub, msg->from, self->relay_count);
    s_rearm(self);
}

static void
s_unsubscribe(relay_t *self, const msg_t *msg)
{
    for (int i = 0; i < self->sub_count; i++)
        if (streq(self->subs[i].name, msg->relay_unsubscribe.sub)) {
            for (int r = 0; r < self->relay_count; r++)
                relay_conn_unsubscribe(self->relays[r], self->subs[i].name);
            free(self->subs[i].filter);
            self->subs[i] = self->subs[--self->sub_count];
            break;
        }
    s_rearm(self);
}

static void
s_publish(relay_t *self, const msg_t *msg)
{
    const msg_relay_publish_t *ask = &msg->relay_publish;
    int error = 0;
    nostr_event_t *event = nostr_event_parse(ask->event, strlen(ask->event), NULL, &error);
    publish_t local = {.ref = ask->ref};
    snprintf(local.owner, sizeof local.owner, "%s", msg->from);
    snprintf(local.reason, sizeof local.reason, "no relay configured");
    if (!event) {
        log_error("%s asked to publish something that is not an event: %s", msg->from,
                  nostr_event_strerror(error));
        snprintf(local.reason, sizeof local.reason, "not an event: %s", nostr_event_strerror(error));
        s_publish_done(self, &local, "", false);
        return;
    }
    char id[65];
    nostr_event_hex(event->id, 32, id);
    memcpy(local.id, event->id, 32);
    nostr_event_destroy(&event);
    if (zhashx_lookup(self->publishing, id)) {
        publish_t *pending = zhashx_lookup(self->publishing, id);
        if (ask->ref)
            pending->ref = ask->ref;    /* the same event again: one answer, to the latest ask */
        return;
    }
    if (zhashx_size(self->publishing) >= MAX_PUBLISHING) {
        snprintf(local.reason, sizeof local.reason, "too many events being published");
        s_publish_done(self, &local, id, false);
        return;
    }
    publish_t *publish = malloc(sizeof *publish);
    *publish = local;
    publish->quorum = ask->quorum < 1 ? 1 : (int) ask->quorum;
    for (int i = 0; i < self->relay_count; i++)
        if (relay_conn_publish(self->relays[i], ask->event) == 0)
            publish->relays++;
    if (publish->quorum > publish->relays)
        publish->quorum = publish->relays > 0 ? publish->relays : 1;
    zhashx_insert(self->publishing, id, publish);
    if (publish->relays == 0)
        s_publish_done(self, zhashx_lookup(self->publishing, id), id, false);
    s_rearm(self);
}

static const relay_conn_handlers_t s_handlers = {
    .on_event = s_on_event, .on_publish = s_on_publish, .sign_auth = s_sign_auth,
    .on_status = s_on_status};

/* One more relay (RELAY_ADD, or one of [relays] urls): connected at once, with every
   subscription already asked for. */
static void
s_add_relay(relay_t *self, const char *url)
{
    for (int i = 0; i < self->relay_count; i++)
        if (streq(relay_conn_url(self->relays[i]), url))
            return;
    if (self->relay_count == MAX_RELAYS) {
        log_error("more than %d relays: %s not added", MAX_RELAYS, url);
        return;
    }
    relay_conn_t *conn = relay_conn_new(self->ws, url, NULL, &s_handlers, self);
    if (!conn) {
        log_error("not a relay URL: %s", url);
        return;
    }
    self->relays[self->relay_count++] = conn;
    relay_conn_start(conn);
}

static void
s_on_add(relay_t *self, const msg_t *msg)
{
    int before = self->relay_count;
    s_add_relay(self, msg->relay_add.url);
    if (self->relay_count == before)
        return;
    log_info("added relay %s for %s", msg->relay_add.url, msg->from);
    /* Earlier subscriptions go there too: re-asking on every relay is harmless (relay_conn
       replaces a subscription of the same id). */
    relay_conn_t *conn = self->relays[self->relay_count - 1];
    for (int i = 0; i < self->sub_count; i++)
        if (self->subs[i].filter)
            s_apply_filter(self, conn, self->subs[i].name, self->subs[i].filter);
    s_rearm(self);
}

static void
s_handle(void *state, const msg_t *msg)
{
    relay_t *self = state;
    switch (msg->type) {
    case MSG_RELAY_ADD:
        s_on_add(self, msg);
        break;
    case MSG_RELAY_SUBSCRIBE:
        s_subscribe(self, msg);
        break;
    case MSG_RELAY_UNSUBSCRIBE:
        s_unsubscribe(self, msg);
        break;
    case MSG_RELAY_PUBLISH:
        s_publish(self, msg);
        break;
    default:
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
    }
}

/* ---- life --------------------------------------------------------------------------------- */

static void *
s_create(actor_ctx_t *ctx, void *args_)
{
    const relay_args_t *args = args_;
    relay_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = args->cfg;
    if (args->seckey)
        self->keys = nostr_keys_new(args->seckey);
    self->ws = ws_client_new(NULL);
    if (!self->ws) {
        log_error("cannot create the websocket client");
        nostr_keys_destroy(&self->keys);
        free(self);
        return NULL;
    }
    self->seen = zhashx_new();
    self->seen_ring = calloc(SEEN_MAX, 65);
    self->publishing = zhashx_new();
    zhashx_set_destructor(self->publishing, (zhashx_destructor_fn *) zstr_free);
    for (size_t i = 0; i < self->cfg->relay_urls.count; i++)
        s_add_relay(self, self->cfg->relay_urls.items[i]);
    log_info("%d relays configured", self->relay_count);
    s_rearm(self);
    return self;
}

static void
s_destroy(void **state_p)
{
    relay_t *self = *state_p;
    for (int i = 0; i < self->relay_count; i++)
        relay_conn_destroy(&self->relays[i]);
    for (int i = 0; i < self->sub_count; i++)
        free(self->subs[i].filter);
    for (int i = 0; i < self->watched_count; i++)
        actor_unwatch_fd(self->ctx, self->watched[i]);
    ws_client_destroy(&self->ws);
    zhashx_destroy(&self->seen);
    zhashx_destroy(&self->publishing);
    free(self->seen_ring);
    nostr_keys_destroy(&self->keys);
    free(self);
    *state_p = NULL;
}

static char *
s_status(void *state)
{
    relay_t *self = state;
    static const char *const names[] = {"disconnected", "connecting", "connected", "backoff"};
    json_object *obj = json_object_new_object();
#define COUNT(name) json_object_object_add(obj, #name, json_object_new_int64((int64_t) self->counts.name));
    COUNT(received) COUNT(invalid) COUNT(duplicates) COUNT(delivered) COUNT(published) COUNT(failed) COUNT(unrouted)
#undef COUNT
    int connected = 0;
    json_object *relays = json_object_new_array();
    for (int i = 0; i < self->relay_count; i++) {
        const relay_status_t *s = relay_conn_status(self->relays[i]);
        connected += s->state == RELAY_CONNECTED;
        json_object *r = json_object_new_object();
        json_object_object_add(r, "url", json_object_new_string(relay_conn_url(self->relays[i])));
        json_object_object_add(r, "state", json_object_new_string(names[s->state]));
        json_object_object_add(r, "since", json_object_new_int64(s->state_since));
        json_object_object_add(r, "events_in", json_object_new_int64((int64_t) s->events_in));
        json_object_object_add(r, "events_out", json_object_new_int64((int64_t) s->events_out));
        json_object_object_add(r, "published", json_object_new_int64((int64_t) s->published));
        json_object_object_add(r, "rejected", json_object_new_int64((int64_t) s->rejected));
        json_object_object_add(r, "errors", json_object_new_int64((int64_t) (s->protocol_errors + s->dropped_oversize)));
        json_object_object_add(r, "last_latency_ms", json_object_new_int(s->last_ok_latency_ms));
        json_object_object_add(r, "pending", json_object_new_int64((int64_t) s->pending));
        if (s->last_error[0])
            json_object_object_add(r, "last_error", json_object_new_string(s->last_error));
        json_object_array_add(relays, r);
    }
    json_object_object_add(obj, "connected", json_object_new_int(connected));
    json_object_object_add(obj, "relays", relays);
    char *json = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    return json;
}

const actor_def_t relay_actor = {
    .name = "relay",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
