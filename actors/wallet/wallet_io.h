/*  wallet_io.h: the network plumbing shared by the wallet backends that talk to a node (LND,
    LNbits over HTTP; Core Lightning over a unix socket), and the JSON helpers they share.

    The wallet actor's fd and timer callbacks are called with the actor's state (the wallet
    core), which is opaque to a backend. A wallet_io_t bridges that: it owns one non-blocking
    HTTP client (runtime/http.h) driven from the actor's loop, and it dispatches any raw file
    descriptor a backend watches to that backend's own callback with the backend's argument.
    There is one wallet actor per thread, so the io object of the running actor is found
    through a thread-local pointer; wallet_io_new refuses a second one in the same thread.

    Requests started here re-arm the client's timer; completions and chunks arrive from the
    actor's loop. wallet_io_destroy drops requests in flight without their callbacks. */
#ifndef PYLON_WALLET_IO_H
#define PYLON_WALLET_IO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"
#include "http.h"

#define WALLET_JSON_DEPTH   16          /* nesting accepted in a wallet's answer */

typedef struct wallet_io wallet_io_t;

/* A raw descriptor is ready: revents has ZMQ_POLLIN / ZMQ_POLLOUT / ZMQ_POLLERR bits. */
typedef void (wallet_io_fd_fn)(void *arg, int fd, short revents);

/* The io object of the actor running in this thread. NULL (with err) when one already exists
   in this thread or the HTTP client cannot start. */
wallet_io_t *wallet_io_new(actor_ctx_t *ctx, char *err, size_t err_size);
/* Unwatch everything, drop requests in flight (no callbacks), free, null *self_p. */
void wallet_io_destroy(wallet_io_t **self_p);

/* Start an HTTP request (see http_client_start). Its id, or 0 with the reason in err. */
uint64_t wallet_io_http(wallet_io_t *self, const http_request_t *request, char *err,
                        size_t err_size);
/* Cancel a request in flight; its completion runs with HTTP_ERR_CANCELLED. */
void wallet_io_cancel(wallet_io_t *self, uint64_t id);

/* Watch a raw fd for events (ZMQ_POLLIN | ZMQ_POLLOUT); again to change the events.
   0, or -1 when the actor watches too many descriptors. */
int wallet_io_watch(wallet_io_t *self, int fd, short events, wallet_io_fd_fn *fn, void *arg);
void wallet_io_unwatch(wallet_io_t *self, int fd);

/* ---- JSON helpers for wallet answers ------------------------------------------------------ */

/* Parse exactly len bytes as one JSON object (strict, at most WALLET_JSON_DEPTH deep).
   NULL with err when it is not one. */
json_object *wallet_json_object(const char *text, size_t len, char *err, size_t err_size);
/* A string member into out (size bytes with the NUL): absent or null → "" (0), a string that
   fits without a NUL inside → 0, anything else → -1. */
int wallet_json_str(json_object *obj, const char *name, char *out, size_t size);
/* A non-negative integer member, as a JSON integer or a decimal string (LND writes int64 as
   strings): absent or null → 0 and *present false (0); malformed or negative → -1. */
int wallet_json_u64(json_object *obj, const char *name, uint64_t *out, bool *present);
/* 64 hex digits (either case) into 32 bytes: 0 or -1. */
int wallet_hex32(const char *hex, uint8_t out[32]);
/* 32 bytes as 64 lowercase hex digits and a NUL. */
void wallet_hex(const uint8_t bytes[32], char out[65]);

#endif
