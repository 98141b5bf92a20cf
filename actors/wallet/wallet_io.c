/*  wallet_io.c: the HTTP client and raw descriptors of a node-backed wallet backend in the
    wallet actor's loop, and the JSON helpers those backends share. See wallet_io.h. */
#include "wallet/wallet_io.h"
#include "log.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IO_MAX_RAW 8                    /* raw descriptors one backend watches */

/* A raw descriptor a backend watches. */
typedef struct {
    int fd;                             /* -1 when the slot is free */
    wallet_io_fd_fn *fn;                /* the backend's callback */
    void *arg;                          /* its argument */
} io_raw_t;

struct wallet_io {
    actor_ctx_t *ctx;                   /* the wallet actor */
    http_client_t *client;              /* every HTTP request of the backend */
    int http_timer;                     /* fires http_client_on_timeout; 0 when none */
    io_raw_t raw[IO_MAX_RAW];           /* raw descriptors watched for the backend */
};

/* The io object of the wallet actor running in this thread (one actor per thread). */
static _Thread_local wallet_io_t *s_io;

static void s_on_fd(void *state, int fd, short revents);

static void
s_on_timer(void *state, int timer_id)
{
    (void) state;
    (void) timer_id;
    wallet_io_t *self = s_io;
    if (!self)
        return;
    self->http_timer = 0;       /* a one-shot timer is gone once it fired */
    http_client_on_timeout(self->client);
    long wait_ms = http_client_timeout(self->client);
    if (wait_ms >= 0 && !self->http_timer)
        self->http_timer = actor_timer_add(self->ctx, wait_ms, 0, s_on_timer);
}

/* Re-arm the one timer that calls http_client_on_timeout. */
static void
s_rearm(wallet_io_t *self)
{
    if (self->http_timer)
        actor_timer_cancel(self->ctx, self->http_timer);
    self->http_timer = 0;
    long wait_ms = http_client_timeout(self->client);
    if (wait_ms >= 0)
        self->http_timer = actor_timer_add(self->ctx, wait_ms, 0, s_on_timer);
}

/* The client wants fd watched for poll() events, or no longer when events is 0. */
static void
s_on_watch(void *arg, int fd, int events)
{
    wallet_io_t *self = arg;
    if (events == 0) {
        actor_unwatch_fd(self->ctx, fd);
        return;
    }
    short zevents = (short) ((events & HTTP_POLL_IN ? ZMQ_POLLIN : 0)
                             | (events & HTTP_POLL_OUT ? ZMQ_POLLOUT : 0));
    if (actor_watch_fd(self->ctx, fd, zevents, s_on_fd))
        log_error("wallet: cannot watch socket %d: too many open connections", fd);
}

static void
s_on_fd(void *state, int fd, short revents)
{
    (void) state;
    wallet_io_t *self = s_io;
    if (!self)
        return;
    for (int i = 0; i < IO_MAX_RAW; i++)
        if (self->raw[i].fd == fd) {
            self->raw[i].fn(self->raw[i].arg, fd, revents);
            s_rearm(self);      /* the callback may have started HTTP requests */
            return;
        }
    int events = (revents & ZMQ_POLLIN ? POLLIN : 0) | (revents & ZMQ_POLLOUT ? POLLOUT : 0)
               | (revents & ZMQ_POLLERR ? POLLERR : 0);
    http_client_on_socket(self->client, fd, events);
    s_rearm(self);
}

wallet_io_t *
wallet_io_new(actor_ctx_t *ctx, char *err, size_t err_size)
{
    if (s_io) {
        snprintf(err, err_size, "a wallet backend is already running in this thread");
        return NULL;
    }
    wallet_io_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->client = http_client_new();
    if (!self->client) {
        free(self);
        snprintf(err, err_size, "cannot start the HTTP client (libcurl)");
        return NULL;
    }
    for (int i = 0; i < IO_MAX_RAW; i++)
        self->raw[i].fd = -1;
    http_client_set_watch(self->client, s_on_watch, self);
    s_io = self;
    return self;
}

void
wallet_io_destroy(wallet_io_t **self_p)
{
    wallet_io_t *self = *self_p;
    if (!self)
        return;
    struct pollfd fds[ACTOR_MAX_WATCHES];
    size_t watched = http_client_fds(self->client, fds, ACTOR_MAX_WATCHES);
    for (size_t i = 0; i < watched && i < ACTOR_MAX_WATCHES; i++)
        actor_unwatch_fd(self->ctx, fds[i].fd);
    http_client_set_watch(self->client, NULL, NULL);
    http_client_destroy(&self->client);
    for (int i = 0; i < IO_MAX_RAW; i++)
        if (self->raw[i].fd >= 0)
            actor_unwatch_fd(self->ctx, self->raw[i].fd);
    if (self->http_timer)
        actor_timer_cancel(self->ctx, self->http_timer);
    if (s_io == self)
        s_io = NULL;
    free(self);
    *self_p = NULL;
}

uint64_t
wallet_io_http(wallet_io_t *self, const http_request_t *request, char *err, size_t err_size)
{
    uint64_t id = http_client_start(self->client, request);
    if (id == 0)
        snprintf(err, err_size, "cannot start the request: %s",
                 http_client_last_error(self->client));
    s_rearm(self);
    return id;
}

void
wallet_io_cancel(wallet_io_t *self, uint64_t id)
{
    http_client_cancel(self->client, id);
    s_rearm(self);
}

int
wallet_io_watch(wallet_io_t *self, int fd, short events, wallet_io_fd_fn *fn, void *arg)
{
    io_raw_t *slot = NULL;
    for (int i = 0; i < IO_MAX_RAW && !slot; i++)
        if (self->raw[i].fd == fd)
            slot = &self->raw[i];
    for (int i = 0; i < IO_MAX_RAW && !slot; i++)
        if (self->raw[i].fd < 0)
            slot = &self->raw[i];
    if (!slot || actor_watch_fd(self->ctx, fd, events, s_on_fd) != 0)
        return -1;
    *slot = (io_raw_t) {.fd = fd, .fn = fn, .arg = arg};
    return 0;
}

void
wallet_io_unwatch(wallet_io_t *self, int fd)
{
    for (int i = 0; i < IO_MAX_RAW; i++)
        if (self->raw[i].fd == fd) {
            actor_unwatch_fd(self->ctx, fd);
            self->raw[i].fd = -1;
        }
}

/* ---- JSON helpers -------------------------------------------------------------------------- */

json_object *
wallet_json_object(const char *text, size_t len, char *err, size_t err_size)
{
    if (len > (size_t) INT32_MAX) {
        snprintf(err, err_size, "answer too long");
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(WALLET_JSON_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *top = json_tokener_parse_ex(tok, text, (int) len);
    bool whole = top && json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(top, json_type_object)) {
        json_object_put(top);
        snprintf(err, err_size, "the answer is not a JSON object");
        return NULL;
    }
    return top;
}

int
wallet_json_str(json_object *obj, const char *name, char *out, size_t size)
{
    json_object *v;
    out[0] = 0;
    if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    size_t len = (size_t) json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (len >= size || strlen(s) != len)
        return -1;
    memcpy(out, s, len + 1);
    return 0;
}

int
wallet_json_u64(json_object *obj, const char *name, uint64_t *out, bool *present)
{
    json_object *v;
    *out = 0;
    if (present)
        *present = false;
    if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        if (json_object_get_int64(v) < 0)
            return -1;
        *out = json_object_get_uint64(v);
    }
    else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        size_t len = strlen(s);
        if (len == 0 || len > 20 || len != (size_t) json_object_get_string_len(v))
            return -1;
        uint64_t value = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            unsigned digit = (unsigned) (s[i] - '0');
            if (value > (UINT64_MAX - digit) / 10)
                return -1;
            value = value * 10 + digit;
        }
        *out = value;
    }
    else
        return -1;
    if (present)
        *present = true;
    return 0;
}

int
wallet_hex32(const char *hex, uint8_t out[32])
{
    if (!hex || strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 64; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t) (v << 4);
        else
            out[i / 2] |= (uint8_t) v;
    }
    return 0;
}

void
wallet_hex(const uint8_t bytes[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[64] = 0;
}
