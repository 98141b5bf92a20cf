/*  actor.h: the one actor template every Pylon actor uses.

    An actor is a thread (czmq zactor) with private state, one inbox socket for data and the
    zactor pipe for control. Its life:

        actor_new()  ──► thread starts, binds its inbox at its endpoint, calls def->create();
                         actor_new() returns only once create() has answered (NULL on failure)
        running      ──► a poll loop over the pipe, the inbox, any file descriptors the actor
                         watches (sockets of libcurl or libwebsockets) and its timers; each
                         inbox message is decoded (msg.h) and given to def->handle()
        actor_destroy() ─► "$TERM" on the pipe; the loop drains what is already in the inbox,
                         calls def->destroy(), closes every socket, and signals back

    Actors share nothing and talk only by message: actor_send(ctx, "ledger", &msg) encodes msg
    and sends it to the inbox of the actor named "ledger", wherever the directory says that
    inbox is (inproc://, ipc:// or tcp://). Every message sent is also published on the tap
    (tap.h) when, and only when, somebody listens. */
#ifndef PYLON_ACTOR_H
#define PYLON_ACTOR_H

#include <czmq.h>
#include <stdint.h>

#include "msg.h"

#define ACTOR_MAX_PEERS     16      /* actors one actor can send to */
#define ACTOR_MAX_WATCHES   256     /* file descriptors one actor can watch */
#define ACTOR_MAX_TIMERS    64      /* timers one actor can have pending */
#define ACTOR_ENDPOINT_MAX  256

typedef struct actor_ctx actor_ctx_t;     /* the runtime side of one running actor */
typedef struct actor actor_t;             /* the owner's handle on a running actor */

/* Where each actor's inbox is. Copied into every actor at start. */
typedef struct {
    struct {
        char name[MSG_NAME_MAX + 1];          /* actor name, e.g. "ledger" */
        char endpoint[ACTOR_ENDPOINT_MAX];    /* e.g. "inproc://pylon-ledger" */
    } entries[ACTOR_MAX_PEERS];
    int count;
    char tap[ACTOR_ENDPOINT_MAX];             /* tap input endpoint, "" for no tap */
} actor_directory_t;

/* What an actor is: its name and its callbacks. One static const of these per actor file. */
typedef struct {
    const char *name;
    /* Build the state (in the actor's thread). NULL means the actor could not start: say why
       in the log. */
    void *(*create)(actor_ctx_t *ctx, void *args);
    /* Free the state and null *state_p. */
    void (*destroy)(void **state_p);
    /* One decoded message from the inbox. msg and its strings are valid during the call. */
    void (*handle)(void *state, const msg_t *msg);
    /* Optional: a control verb other than $TERM arrived on the pipe (from the owner thread);
       append the answer frames to reply, which is sent back whole. */
    void (*command)(void *state, const char *verb, zmsg_t *request, zmsg_t *reply);
    /* Optional: this actor's status as a JSON object text (fresh, the template frees it).
       The template answers STATUS_REQUEST with it, and PING with PONG, for every actor. */
    char *(*status)(void *state);
    /* Optional: called after each batch of inbox messages (the ledger commits its
       transaction here, then acknowledges the writes of the batch). */
    void (*batch_end)(void *state);
} actor_def_t;

/* ---- owner side -------------------------------------------------------------------------- */

/* Start an actor; returns when it is ready, or NULL if it failed to start. The actor binds
   its own inbox from dir before it signals ready, so peers may connect at once. */
actor_t *actor_new(const actor_def_t *def, const actor_directory_t *dir, void *args);
/* Stop the actor (drain inbox, destroy state, close sockets) and null *self_p. Never hangs on
   an actor that already died. */
void actor_destroy(actor_t **self_p);
/* Send a control verb and wait up to timeout_ms for the reply (NULL on timeout). */
zmsg_t *actor_command(actor_t *self, const char *verb, int timeout_ms);
const char *actor_name(const actor_t *self);
/* The pipe socket, to poll for events the actor sends its owner (actor_signal_owner). */
zsock_t *actor_sock(actor_t *self);
/* Read one such event (fresh string), or NULL. */
char *actor_event(actor_t *self);

/* Sockets opened by actors and not yet closed, process-wide (a test checks it returns to 0). */
int actor_open_sockets(void);

/* Directory helpers. */
void actor_directory_add(actor_directory_t *dir, const char *name, const char *endpoint);
const char *actor_directory_find(const actor_directory_t *dir, const char *name);

/* ---- actor side (call only from the actor's own callbacks) --------------------------------- */

/* Encode msg (from = this actor, to = to) and send it to that actor's inbox. Returns 0, or -1
   when the peer is unknown or msg breaks the catalogue (logged: that is a bug). */
int actor_send(actor_ctx_t *ctx, const char *to, msg_t *msg);
/* Reply to the sender of request. */
int actor_reply(actor_ctx_t *ctx, const msg_t *request, msg_t *reply);
const char *actor_ctx_name(const actor_ctx_t *ctx);
/* The directory this actor was started with (who else there is). */
const actor_directory_t *actor_ctx_directory(const actor_ctx_t *ctx);
/* Tell the owner thread something (a string on the pipe, e.g. "STOP"); the owner reads it
   with actor_event(). */
void actor_signal_owner(actor_ctx_t *ctx, const char *event);
void *actor_ctx_state(const actor_ctx_t *ctx);
/* This actor's inbox endpoint (as bound: for a tcp port 0, the real port). */
const char *actor_ctx_endpoint(const actor_ctx_t *ctx);

typedef void (actor_fd_fn)(void *state, int fd, short revents);
/* Watch fd for events (ZMQ_POLLIN | ZMQ_POLLOUT); fn is called with what happened. Calling
   again for the same fd changes its events. */
int actor_watch_fd(actor_ctx_t *ctx, int fd, short events, actor_fd_fn *fn);
void actor_unwatch_fd(actor_ctx_t *ctx, int fd);

typedef void (actor_sock_fn)(void *state, zsock_t *sock);
/* Watch a ZeroMQ socket of the actor's own (e.g. the control actor's ROUTER) for input. */
int actor_watch_socket(actor_ctx_t *ctx, zsock_t *sock, actor_sock_fn *fn);
void actor_unwatch_socket(actor_ctx_t *ctx, zsock_t *sock);

typedef void (actor_timer_fn)(void *state, int timer_id);
/* Call fn after delay_ms, then every interval_ms if that is above 0. Returns a timer id > 0. */
int actor_timer_add(actor_ctx_t *ctx, int64_t delay_ms, int64_t interval_ms, actor_timer_fn *fn);
void actor_timer_cancel(actor_ctx_t *ctx, int timer_id);

/* Monotonic milliseconds. */
int64_t actor_now_ms(void);

#endif
