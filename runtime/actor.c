/*  actor.c: see actor.h. The template's poll loop, its sockets and its timers.

    Flow control, decided on purpose: inbox and outbound sockets have no high-water mark
    (0 = unbounded), as in malamute, because an internal message dropped at an HWM is a job
    lost; the bounds are the application's own (the job router caps jobs in flight, the
    inference actor caps its queue). Outbound sockets linger 2 s so that a last message to the
    ledger, which stops after every other actor, is delivered. */
#include "actor.h"
#include "log.h"
#include "tap.h"

#include <stdatomic.h>
#include <time.h>

typedef struct {
    int fd;                         /* watched descriptor, or -1 for a socket */
    zsock_t *sock;                  /* watched ZeroMQ socket, or NULL for a descriptor */
    short events;                   /* ZMQ_POLLIN | ZMQ_POLLOUT */
    actor_fd_fn *fn;                /* for a descriptor: called with revents */
    actor_sock_fn *sock_fn;         /* for a socket: called when it has input */
} watch_t;

typedef struct {
    int id;                         /* > 0 while pending, 0 for a free slot */
    int64_t due_ms;                 /* next time it fires, actor_now_ms() clock */
    int64_t interval_ms;            /* 0 for one-shot */
    actor_timer_fn *fn;
} timer_t_;

struct actor_ctx {
    const actor_def_t *def;         /* what this actor is */
    void *state;                    /* what def->create returned */
    zsock_t *pipe;                  /* control from the owner (borrowed from zactor) */
    zsock_t *inbox;                 /* PULL, bound at our endpoint */
    char endpoint[ACTOR_ENDPOINT_MAX];   /* our inbox endpoint as bound */
    zsock_t *tap;                   /* PUB to the tap input, NULL without a tap */
    actor_directory_t dir;          /* where the other actors are (a copy) */
    struct {
        char name[MSG_NAME_MAX + 1];
        zsock_t *sock;              /* PUSH connected to that actor's inbox */
    } peers[ACTOR_MAX_PEERS];
    int peer_count;
    watch_t watches[ACTOR_MAX_WATCHES];
    int watch_count;
    timer_t_ timers[ACTOR_MAX_TIMERS];
    int next_timer_id;
    msg_buf_t out;                  /* encode buffer, reused */
    msg_t in;                       /* decode target, reused (owns its arena) */
    uint64_t bad_messages;          /* inbox messages that failed to decode */
};

struct actor {
    zactor_t *zactor;               /* the thread and its pipe */
    const actor_def_t *def;
};

typedef struct {
    const actor_def_t *def;
    const actor_directory_t *dir;
    void *args;
} start_args_t;

static atomic_int s_open_sockets;

int
actor_open_sockets(void)
{
    return atomic_load(&s_open_sockets);
}

static zsock_t *
s_socket(int type)
{
    zsock_t *sock = zsock_new(type);
    if (sock)
        atomic_fetch_add(&s_open_sockets, 1);
    return sock;
}

static void
s_socket_close(zsock_t **sock_p)
{
    if (*sock_p) {
        zsock_destroy(sock_p);
        atomic_fetch_sub(&s_open_sockets, 1);
    }
}

int64_t
actor_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
actor_directory_add(actor_directory_t *dir, const char *name, const char *endpoint)
{
    assert(dir->count < ACTOR_MAX_PEERS);
    snprintf(dir->entries[dir->count].name, sizeof dir->entries[0].name, "%s", name);
    snprintf(dir->entries[dir->count].endpoint, sizeof dir->entries[0].endpoint, "%s", endpoint);
    dir->count++;
}

const char *
actor_directory_find(const actor_directory_t *dir, const char *name)
{
    for (int i = 0; i < dir->count; i++)
        if (streq(dir->entries[i].name, name))
            return dir->entries[i].endpoint;
    return NULL;
}

/* ---- actor side -------------------------------------------------------------------------- */

static zsock_t *
s_peer(actor_ctx_t *ctx, const char *name)
{
    for (int i = 0; i < ctx->peer_count; i++)
        if (streq(ctx->peers[i].name, name))
            return ctx->peers[i].sock;
    const char *endpoint = actor_directory_find(&ctx->dir, name);
    if (!endpoint || ctx->peer_count == ACTOR_MAX_PEERS)
        return NULL;
    zsock_t *sock = s_socket(ZMQ_PUSH);
    zsock_set_sndhwm(sock, 0);
    zsock_set_linger(sock, 2000);
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        log_error("cannot connect to %s at %s: %s", name, endpoint, zmq_strerror(zmq_errno()));
        s_socket_close(&sock);
        return NULL;
    }
    snprintf(ctx->peers[ctx->peer_count].name, MSG_NAME_MAX + 1, "%s", name);
    ctx->peers[ctx->peer_count++].sock = sock;
    return sock;
}

int
actor_send(actor_ctx_t *ctx, const char *to, msg_t *msg)
{
    msg_set_route(msg, ctx->def->name, to);
    int rc = msg_encode(msg, &ctx->out);
    if (rc) {
        log_error("not sending %s to %s: %s", msg_type_name(msg->type) ? msg_type_name(msg->type) : "?",
                  to, msg_strerror(rc));
        return -1;
    }
    zsock_t *peer = s_peer(ctx, to);
    if (!peer) {
        log_error("not sending %s: no actor named '%s'", msg_type_name(msg->type), to);
        return -1;
    }
    /* The tap copy goes first, so that its sequence number precedes anything the receiver
       does in answer. */
    if (ctx->tap && tap_listening())
        tap_publish(ctx->tap, ctx->def->name, to, msg->type, ctx->out.data, ctx->out.size);
    if (zmq_send(zsock_resolve(peer), ctx->out.data, ctx->out.size, 0) < 0) {
        log_error("sending %s to %s failed: %s", msg_type_name(msg->type), to,
                  zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int
actor_reply(actor_ctx_t *ctx, const msg_t *request, msg_t *reply)
{
    char to[MSG_NAME_MAX + 1];
    snprintf(to, sizeof to, "%s", request->from);   /* request may live in our decode arena */
    return actor_send(ctx, to, reply);
}

const char *
actor_ctx_name(const actor_ctx_t *ctx)
{
    return ctx->def->name;
}

const actor_directory_t *
actor_ctx_directory(const actor_ctx_t *ctx)
{
    return &ctx->dir;
}

void
actor_signal_owner(actor_ctx_t *ctx, const char *event)
{
    zstr_send(ctx->pipe, event);
}

void *
actor_ctx_state(const actor_ctx_t *ctx)
{
    return ctx->state;
}

const char *
actor_ctx_endpoint(const actor_ctx_t *ctx)
{
    return ctx->endpoint;
}

static int
s_watch(actor_ctx_t *ctx, watch_t watch)
{
    for (int i = 0; i < ctx->watch_count; i++)
        if (watch.sock ? ctx->watches[i].sock == watch.sock : ctx->watches[i].fd == watch.fd) {
            ctx->watches[i] = watch;
            return 0;
        }
    if (ctx->watch_count == ACTOR_MAX_WATCHES)
        return -1;
    ctx->watches[ctx->watch_count++] = watch;
    return 0;
}

static void
s_unwatch(actor_ctx_t *ctx, int fd, zsock_t *sock)
{
    for (int i = 0; i < ctx->watch_count; i++)
        if (sock ? ctx->watches[i].sock == sock : ctx->watches[i].fd == fd) {
            ctx->watches[i] = ctx->watches[--ctx->watch_count];
            return;
        }
}

int
actor_watch_fd(actor_ctx_t *ctx, int fd, short events, actor_fd_fn *fn)
{
    return s_watch(ctx, (watch_t) {fd, NULL, events, fn, NULL});
}

void
actor_unwatch_fd(actor_ctx_t *ctx, int fd)
{
    s_unwatch(ctx, fd, NULL);
}

int
actor_watch_socket(actor_ctx_t *ctx, zsock_t *sock, actor_sock_fn *fn)
{
    return s_watch(ctx, (watch_t) {-1, sock, ZMQ_POLLIN, NULL, fn});
}

void
actor_unwatch_socket(actor_ctx_t *ctx, zsock_t *sock)
{
    s_unwatch(ctx, -1, sock);
}

int
actor_timer_add(actor_ctx_t *ctx, int64_t delay_ms, int64_t interval_ms, actor_timer_fn *fn)
{
    for (int i = 0; i < ACTOR_MAX_TIMERS; i++)
        if (ctx->timers[i].id == 0) {
            if (++ctx->next_timer_id <= 0)
                ctx->next_timer_id = 1;
            ctx->timers[i] = (timer_t_) {ctx->next_timer_id, actor_now_ms() + delay_ms,
                                         interval_ms, fn};
            return ctx->next_timer_id;
        }
    log_error("more than %d timers", ACTOR_MAX_TIMERS);
    return -1;
}

void
actor_timer_cancel(actor_ctx_t *ctx, int timer_id)
{
    for (int i = 0; i < ACTOR_MAX_TIMERS; i++)
        if (ctx->timers[i].id == timer_id && timer_id > 0)
            ctx->timers[i].id = 0;
}

/* Milliseconds until the next timer is due (0 if one is overdue), or -1 with none. */
static long
s_next_timeout(actor_ctx_t *ctx)
{
    int64_t now = actor_now_ms(), best = -1;
    for (int i = 0; i < ACTOR_MAX_TIMERS; i++)
        if (ctx->timers[i].id) {
            int64_t wait = ctx->timers[i].due_ms - now;
            if (wait < 0)
                wait = 0;
            if (best < 0 || wait < best)
                best = wait;
        }
    return (long) best;
}

static void
s_fire_timers(actor_ctx_t *ctx)
{
    int64_t now = actor_now_ms();
    for (int i = 0; i < ACTOR_MAX_TIMERS; i++) {
        timer_t_ *timer = &ctx->timers[i];
        if (timer->id == 0 || timer->due_ms > now)
            continue;
        int id = timer->id;
        if (timer->interval_ms > 0)
            timer->due_ms = now + timer->interval_ms;
        else
            timer->id = 0;
        timer->fn(ctx->state, id);   /* may add or cancel timers */
    }
}

/* The runtime answers liveness and status for every actor; the rest is the actor's. */
static void
s_dispatch(actor_ctx_t *ctx, const msg_t *msg)
{
    if (msg->type == MSG_PING) {
        msg_t pong = {.type = MSG_PONG, .pong = {msg->ping.seq, msg->ping.note}};
        actor_reply(ctx, msg, &pong);
    }
    else if (msg->type == MSG_STATUS_REQUEST) {
        char *json = ctx->def->status ? ctx->def->status(ctx->state) : NULL;
        msg_t report = {.type = MSG_STATUS_REPORT,
                        .status_report = {msg->status_request.seq, json ? json : "{}"}};
        actor_reply(ctx, msg, &report);
        free(json);
    }
    else
        ctx->def->handle(ctx->state, msg);
}

/* Read up to max messages already waiting in the inbox and hand them to the actor. A message
   that does not decode came from one of our own actors: a bug, logged and counted. */
static void
s_drain_inbox(actor_ctx_t *ctx, int max)
{
    void *handle = zsock_resolve(ctx->inbox);
    int handled = 0;
    for (int i = 0; i < max; i++) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            break;
        }
        handled++;
        int rc = msg_decode(&ctx->in, zmq_msg_data(&frame), zmq_msg_size(&frame));
        if (rc == 0)
            s_dispatch(ctx, &ctx->in);
        else {
            ctx->bad_messages++;
            log_error("dropped an undecodable message (%zu bytes): %s", zmq_msg_size(&frame),
                      msg_strerror(rc));
        }
        zmq_msg_close(&frame);
    }
    if (handled && ctx->def->batch_end)
        ctx->def->batch_end(ctx->state);
}

/* A control verb from the owner. Returns true for $TERM (or a dead pipe). */
static bool
s_handle_pipe(actor_ctx_t *ctx)
{
    zmsg_t *request = zmsg_recv(ctx->pipe);
    if (!request)
        return true;
    char *verb = zmsg_popstr(request);
    bool terminate = !verb || streq(verb, "$TERM");
    if (!terminate) {
        zmsg_t *reply = zmsg_new();
        if (streq(verb, "ENDPOINT"))
            zmsg_addstr(reply, ctx->endpoint);
        else if (ctx->def->command)
            ctx->def->command(ctx->state, verb, request, reply);
        else
            zmsg_addstr(reply, "UNKNOWN");
        zmsg_send(&reply, ctx->pipe);
        zmsg_destroy(&reply);
    }
    zstr_free(&verb);
    zmsg_destroy(&request);
    return terminate;
}

static void
s_loop(actor_ctx_t *ctx)
{
    zmq_pollitem_t items[2 + ACTOR_MAX_WATCHES];
    for (;;) {
        items[0] = (zmq_pollitem_t) {zsock_resolve(ctx->pipe), 0, ZMQ_POLLIN, 0};
        items[1] = (zmq_pollitem_t) {zsock_resolve(ctx->inbox), 0, ZMQ_POLLIN, 0};
        int count = ctx->watch_count;
        for (int i = 0; i < count; i++) {
            watch_t *watch = &ctx->watches[i];
            items[2 + i] = (zmq_pollitem_t) {watch->sock ? zsock_resolve(watch->sock) : NULL,
                                             watch->fd, watch->events, 0};
        }
        int rc = zmq_poll(items, 2 + count, s_next_timeout(ctx));
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return;
        }
        if ((items[0].revents & ZMQ_POLLIN) && s_handle_pipe(ctx))
            return;
        if (items[1].revents & ZMQ_POLLIN)
            s_drain_inbox(ctx, 256);    /* a batch, then the others get their turn */
        /* Callbacks may change the watch list: look each one up again before calling. */
        for (int i = 0; i < count; i++) {
            if (!items[2 + i].revents)
                continue;
            for (int j = 0; j < ctx->watch_count; j++) {
                watch_t *watch = &ctx->watches[j];
                if (watch->sock && zsock_resolve(watch->sock) == items[2 + i].socket) {
                    watch->sock_fn(ctx->state, watch->sock);
                    break;
                }
                if (!watch->sock && !items[2 + i].socket && watch->fd == items[2 + i].fd) {
                    watch->fn(ctx->state, watch->fd, items[2 + i].revents);
                    break;
                }
            }
        }
        s_fire_timers(ctx);
    }
}

static void
s_actor_main(zsock_t *pipe, void *args_)
{
    start_args_t *args = args_;
    actor_ctx_t *ctx = calloc(1, sizeof *ctx);
    ctx->def = args->def;
    ctx->pipe = pipe;
    ctx->dir = *args->dir;
    log_set_actor(ctx->def->name);
    zsock_set_sndtimeo(pipe, 0);   /* a dead owner must not block our last signal */

    const char *endpoint = actor_directory_find(&ctx->dir, ctx->def->name);
    ctx->inbox = s_socket(ZMQ_PULL);
    zsock_set_rcvhwm(ctx->inbox, 0);
    bool ok = endpoint != NULL;
    if (!ok)
        log_error("no endpoint for actor '%s' in the directory", ctx->def->name);
    else if (zsock_bind(ctx->inbox, "%s", endpoint) < 0) {
        log_error("cannot bind inbox at %s: %s", endpoint, zmq_strerror(zmq_errno()));
        ok = false;
    }
    else {
        char *last = zsock_last_endpoint(ctx->inbox);
        snprintf(ctx->endpoint, sizeof ctx->endpoint, "%s", last ? last : endpoint);
        zstr_free(&last);
    }
    if (ok && ctx->dir.tap[0]) {
        ctx->tap = s_socket(ZMQ_PUB);
        zsock_set_sndhwm(ctx->tap, 10000);   /* a slow tap reader loses tap copies, never jobs */
        zsock_connect(ctx->tap, "%s", ctx->dir.tap);
    }
    if (ok)
        ctx->state = ctx->def->create(ctx, args->args);
    ok = ok && ctx->state != NULL;

    /* args belongs to actor_new(), which waits for these two signals before it returns. */
    zsock_signal(pipe, 0);
    zstr_send(pipe, ok ? "READY" : "FAILED");
    if (ok)
        s_loop(ctx);
    else {
        char *verb = zstr_recv(pipe);   /* wait for the owner's $TERM */
        zstr_free(&verb);
    }
    if (ctx->state) {
        s_drain_inbox(ctx, INT32_MAX);  /* what peers sent before they stopped is still ours */
        ctx->def->destroy(&ctx->state);
    }
    for (int i = 0; i < ctx->peer_count; i++)
        s_socket_close(&ctx->peers[i].sock);
    s_socket_close(&ctx->tap);
    s_socket_close(&ctx->inbox);
    msg_buf_free(&ctx->out);
    msg_release(&ctx->in);
    if (ctx->bad_messages)
        log_warn("%llu undecodable messages dropped in this run",
                 (unsigned long long) ctx->bad_messages);
    free(ctx);
    zsock_signal(pipe, 0);
}

/* ---- owner side -------------------------------------------------------------------------- */

actor_t *
actor_new(const actor_def_t *def, const actor_directory_t *dir, void *args)
{
    zsys_init();
    start_args_t start = {def, dir, args};
    actor_t *self = calloc(1, sizeof *self);
    self->def = def;
    self->zactor = zactor_new(s_actor_main, &start);
    char *status = self->zactor ? zstr_recv(self->zactor) : NULL;
    bool ok = status && streq(status, "READY");
    zstr_free(&status);
    if (!ok) {
        log_error("actor %s failed to start", def->name);
        actor_destroy(&self);
    }
    return self;
}

void
actor_destroy(actor_t **self_p)
{
    actor_t *self = *self_p;
    if (!self)
        return;
    /* zactor_destroy sends $TERM without blocking and skips the wait if the send fails. */
    zactor_destroy(&self->zactor);
    free(self);
    *self_p = NULL;
}

zmsg_t *
actor_command(actor_t *self, const char *verb, int timeout_ms)
{
    zsock_t *pipe = zactor_sock(self->zactor);
    if (zstr_send(pipe, verb) != 0)
        return NULL;
    zpoller_t *poller = zpoller_new(pipe, NULL);
    zmsg_t *reply = zpoller_wait(poller, timeout_ms) ? zmsg_recv(pipe) : NULL;
    zpoller_destroy(&poller);
    return reply;
}

const char *
actor_name(const actor_t *self)
{
    return self->def->name;
}

zsock_t *
actor_sock(actor_t *self)
{
    return zactor_sock(self->zactor);
}

char *
actor_event(actor_t *self)
{
    return zstr_recv(zactor_sock(self->zactor));
}
