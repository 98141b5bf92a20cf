/*  control.c: the control actor, the CLI's only door into a running daemon.

    It binds a ROUTER at ipc://<config dir>/control.sock (the directory is owner-only, the
    socket file 0600) and answers requests from `pylon` commands:
        request:  [verb] [json arguments]            (a DEALER sends two frames)
        reply:    ["ok" | "error"] [json]
    Verbs: PING; STATUS (asks every actor for its status and answers with all of them, or
    with those that answered within 500 ms); STOP (answers, then tells the daemon to stop);
    DEMO_PAY {"bolt11"} (has the demo wallet settle one of its invoices: no real money moves).

    At start it pings every actor of the node and logs how long the whole set took to answer:
    the first proof, in every log, that the actors are up and talking. */
#include "actors.h"
#include "control.h"
#include "log.h"

#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATUS_TIMEOUT_MS 500
#define MAX_PENDING       32        /* STATUS requests being gathered at once */

typedef struct {
    uint64_t seq;                   /* our STATUS_REQUEST seq, 0 for a free slot */
    zframe_t *client;               /* ROUTER identity of the CLI that asked */
    json_object *actors;            /* reports gathered so far */
    int awaited;                    /* actors that have not answered yet */
    int timer;                      /* gives up waiting after STATUS_TIMEOUT_MS */
} pending_t;

typedef struct {
    uint64_t ref;                   /* our WALLET_DEMO_PAY ref, 0 for a free slot */
    zframe_t *client;               /* who asked */
    int timer;                      /* gives up after 10 s */
} payment_t;

typedef struct {
    actor_ctx_t *ctx;
    const control_args_t *args;     /* borrowed from the daemon */
    payment_t payments[MAX_PENDING];    /* DEMO_PAY requests waiting for the wallet */
    zsock_t *router;                /* the CLI socket, NULL when args->socket_path is NULL */
    uint64_t seq;                   /* last request seq we used */
    uint64_t ping_seq;              /* seq of the start-up ping round */
    int64_t ping_started_ms;
    int pongs_awaited;
    pending_t pending[MAX_PENDING];
    int64_t started_at;             /* unix seconds */
} control_t;

static void
s_reply(control_t *self, zframe_t *client, const char *status, const char *json)
{
    zmsg_t *reply = zmsg_new();
    zmsg_append(reply, &client);    /* takes the frame */
    zmsg_addstr(reply, status);
    zmsg_addstr(reply, json);
    zmsg_send(&reply, self->router);
}

static void
s_finish_status(control_t *self, pending_t *pending)
{
    json_object *top = json_object_new_object();
    json_object_object_add(top, "online", json_object_new_boolean(1));
    json_object_object_add(top, "pid", json_object_new_int64(getpid()));
    json_object_object_add(top, "started_at", json_object_new_int64(self->started_at));
    json_object_object_add(top, "actors", pending->actors);
    if (pending->awaited)
        json_object_object_add(top, "unanswered", json_object_new_int(pending->awaited));
    s_reply(self, pending->client, "ok", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN));
    json_object_put(top);
    actor_timer_cancel(self->ctx, pending->timer);
    memset(pending, 0, sizeof *pending);
}

static void
s_status_timeout(void *state, int timer_id)
{
    control_t *self = state;
    for (int i = 0; i < MAX_PENDING; i++)
        if (self->pending[i].seq && self->pending[i].timer == timer_id)
            s_finish_status(self, &self->pending[i]);
}

static void
s_start_status(control_t *self, zframe_t *client)
{
    pending_t *pending = NULL;
    for (int i = 0; i < MAX_PENDING && !pending; i++)
        if (self->pending[i].seq == 0)
            pending = &self->pending[i];
    if (!pending) {
        s_reply(self, client, "error", "{\"error\":\"too many status requests at once\"}");
        return;
    }
    pending->seq = ++self->seq;
    pending->client = client;
    pending->actors = json_object_new_object();
    const actor_directory_t *dir = actor_ctx_directory(self->ctx);
    for (int i = 0; i < dir->count; i++) {
        if (streq(dir->entries[i].name, "control"))
            continue;
        msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {pending->seq}};
        if (actor_send(self->ctx, dir->entries[i].name, &ask) == 0)
            pending->awaited++;
    }
    pending->timer = actor_timer_add(self->ctx, STATUS_TIMEOUT_MS, 0, s_status_timeout);
    if (pending->awaited == 0)
        s_finish_status(self, pending);
}

static void
s_payment_timeout(void *state, int timer_id)
{
    control_t *self = state;
    for (int i = 0; i < MAX_PENDING; i++)
        if (self->payments[i].ref && self->payments[i].timer == timer_id) {
            s_reply(self, self->payments[i].client, "error", "{\"error\":\"the wallet did not answer\"}");
            memset(&self->payments[i], 0, sizeof self->payments[i]);
        }
}

static void
s_start_demo_pay(control_t *self, zframe_t *client, const char *args)
{
    json_object *obj = json_tokener_parse(args);
    const char *bolt11 = json_object_get_string(json_object_object_get(obj, "bolt11"));
    payment_t *payment = NULL;
    for (int i = 0; i < MAX_PENDING && !payment; i++)
        if (self->payments[i].ref == 0)
            payment = &self->payments[i];
    if (!bolt11 || strlen(bolt11) > 4096 || !payment)
        s_reply(self, client, "error", payment ? "{\"error\":\"give {\\\"bolt11\\\": ...}\"}"
                                                : "{\"error\":\"too many payments at once\"}");
    else {
        payment->ref = ++self->seq;
        payment->client = client;
        payment->timer = actor_timer_add(self->ctx, 10000, 0, s_payment_timeout);
        msg_t pay = {.type = MSG_WALLET_DEMO_PAY, .wallet_demo_pay = {payment->ref, bolt11}};
        actor_send(self->ctx, "wallet", &pay);
    }
    json_object_put(obj);
}

/* A request from the CLI. */
static void
s_on_router(void *state, zsock_t *router)
{
    control_t *self = state;
    zmsg_t *request = zmsg_recv(router);
    if (!request)
        return;
    zframe_t *client = zmsg_pop(request);
    char *verb = zmsg_popstr(request);
    if (!client || !verb)
        zframe_destroy(&client);
    else if (streq(verb, "PING"))
        s_reply(self, client, "ok", "{\"pong\":true}");
    else if (streq(verb, "STATUS"))
        s_start_status(self, client);
    else if (streq(verb, "DEMO_PAY")) {
        char *args = zmsg_popstr(request);
        s_start_demo_pay(self, client, args ? args : "{}");
        zstr_free(&args);
    }
    else if (streq(verb, "STOP")) {
        s_reply(self, client, "ok", "{\"stopping\":true}");
        log_info("stop requested through the control socket");
        actor_signal_owner(self->ctx, "STOP");
    }
    else
        s_reply(self, client, "error", "{\"error\":\"unknown verb\"}");
    zstr_free(&verb);
    zmsg_destroy(&request);
}

static void
s_ping_all(void *state, int timer_id)
{
    control_t *self = state;
    const actor_directory_t *dir = actor_ctx_directory(self->ctx);
    self->ping_seq = ++self->seq;
    self->ping_started_ms = actor_now_ms();
    for (int i = 0; i < dir->count; i++)
        if (!streq(dir->entries[i].name, "control")) {
            msg_t ping = {.type = MSG_PING, .ping = {self->ping_seq, "hello from control"}};
            if (actor_send(self->ctx, dir->entries[i].name, &ping) == 0)
                self->pongs_awaited++;
        }
}

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    control_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->args = args;
    self->started_at = time(NULL);
    if (self->args->socket_path) {
        self->router = zsock_new(ZMQ_ROUTER);
        zsock_set_router_mandatory(self->router, 1);
        unlink(self->args->socket_path);   /* a stale socket of a dead daemon */
        if (zsock_bind(self->router, "ipc://%s", self->args->socket_path) < 0) {
            log_error("cannot bind the control socket %s: %s", self->args->socket_path,
                      zmq_strerror(zmq_errno()));
            zsock_destroy(&self->router);
            free(self);
            return NULL;
        }
        chmod(self->args->socket_path, 0600);
        actor_watch_socket(ctx, self->router, s_on_router);
    }
    actor_timer_add(ctx, 0, 0, s_ping_all);
    return self;
}

static void
s_destroy(void **state_p)
{
    control_t *self = *state_p;
    for (int i = 0; i < MAX_PENDING; i++) {
        if (self->pending[i].seq) {
            zframe_destroy(&self->pending[i].client);
            json_object_put(self->pending[i].actors);
        }
        if (self->payments[i].ref)
            zframe_destroy(&self->payments[i].client);
    }
    if (self->router) {
        zsock_destroy(&self->router);
        unlink(self->args->socket_path);
    }
    free(self);
    *state_p = NULL;
}

static void
s_handle(void *state, const msg_t *msg)
{
    control_t *self = state;
    if (msg->type == MSG_PONG) {
        if (msg->pong.seq == self->ping_seq && --self->pongs_awaited == 0)
            log_info("all actors answered in %lld ms", (long long) (actor_now_ms() - self->ping_started_ms));
        return;
    }
    if (msg->type == MSG_STATUS_REPORT) {
        for (int i = 0; i < MAX_PENDING; i++) {
            pending_t *pending = &self->pending[i];
            if (pending->seq == 0 || pending->seq != msg->status_report.seq)
                continue;
            json_object *report = json_tokener_parse(msg->status_report.json);
            json_object_object_add(pending->actors, msg->from, report ? report : json_object_new_object());
            if (--pending->awaited == 0)
                s_finish_status(self, pending);
            return;
        }
        return;    /* a late answer to a request we already finished */
    }
    if (msg->type == MSG_WALLET_DEMO_PAID) {
        for (int i = 0; i < MAX_PENDING; i++) {
            payment_t *payment = &self->payments[i];
            if (payment->ref == 0 || payment->ref != msg->wallet_demo_paid.ref)
                continue;
            json_object *answer = json_object_new_object();
            json_object_object_add(answer, "paid", json_object_new_boolean(msg->wallet_demo_paid.ok));
            if (!msg->wallet_demo_paid.ok)
                json_object_object_add(answer, "error", json_object_new_string(msg->wallet_demo_paid.error));
            s_reply(self, payment->client, msg->wallet_demo_paid.ok ? "ok" : "error",
                    json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN));
            json_object_put(answer);
            actor_timer_cancel(self->ctx, payment->timer);
            memset(payment, 0, sizeof *payment);
        }
        return;
    }
    log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
}

const actor_def_t control_actor = {
    .name = "control",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
};

/* ---- client side ----------------------------------------------------------------------------- */

int
control_call(const char *socket_path, const char *verb, const char *json, int timeout_ms,
             char **reply_json)
{
    *reply_json = NULL;
    if (access(socket_path, F_OK) != 0)
        return -1;
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_sndtimeo(dealer, timeout_ms);
    zsock_set_rcvtimeo(dealer, timeout_ms);
    zsock_set_linger(dealer, 0);
    int rc = -1;
    if (zsock_connect(dealer, "ipc://%s", socket_path) == 0
        && zstr_sendm(dealer, verb) == 0 && zstr_send(dealer, json ? json : "{}") == 0) {
        zmsg_t *reply = zmsg_recv(dealer);
        char *status = reply ? zmsg_popstr(reply) : NULL;
        if (status) {
            *reply_json = zmsg_popstr(reply);
            rc = streq(status, "ok") ? 0 : 1;
        }
        zstr_free(&status);
        zmsg_destroy(&reply);
    }
    zsock_destroy(&dealer);
    return rc;
}
