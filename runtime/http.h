/*  http.h: a non-blocking HTTP client for the inference backends, over libcurl's multi interface.

    One client runs many requests at once in one thread and never blocks. It is driven from the
    owner's poll loop:
      - the sockets curl wants watched are reported through a watch callback
        (http_client_set_watch) and can also be listed at any time (http_client_fds);
      - http_client_timeout() says how long the loop may sleep;
      - the loop calls http_client_on_socket(fd, events) when a watched socket is ready and
        http_client_on_timeout() when the timeout expires.
    http_client_run() is a small poll() loop of its own, for tests and tools.

    In an actor (runtime/actor.h), the watch callback maps to actor_watch_fd/actor_unwatch_fd
    (converting the event bits, see below), the fd callback calls http_client_on_socket, and
    after every event the actor re-arms one timer with http_client_timeout() whose callback
    calls http_client_on_timeout.

    Per request: method, URL, a CA file (to pin a server's own certificate), extra headers, an
    API key sent as `Authorization: Bearer`, a JSON body, connect / first-byte / idle / total timeouts, a response size limit, an optional
    streaming body callback, and a completion callback that is called exactly once (success,
    error, or cancellation) with the status, an error class and a message.
    API keys are never logged nor copied into error messages.
*/
#ifndef PYLON_HTTP_H
#define PYLON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>

//  Error classes of a finished request. HTTP_OK means a complete response arrived, whatever
//  its status code: the status is for the caller to judge.
typedef enum {
    HTTP_OK = 0,
    HTTP_ERR_CONNECT,           //  connection refused, unreachable, DNS failure
    HTTP_ERR_TIMEOUT_CONNECT,   //  no connection within connect_timeout_ms
    HTTP_ERR_TIMEOUT_FIRST_BYTE,//  connected, but no response byte within first_byte_timeout_ms
    HTTP_ERR_TIMEOUT_IDLE,      //  the response stalled for idle_timeout_ms
    HTTP_ERR_TIMEOUT_TOTAL,     //  the whole exchange took longer than total_timeout_ms
    HTTP_ERR_RESET,             //  the connection was closed or reset before the response ended
    HTTP_ERR_TOO_LARGE,         //  the response body passed max_response bytes
    HTTP_ERR_ABORTED,           //  the body callback asked to stop
    HTTP_ERR_CANCELLED,         //  http_client_cancel
    HTTP_ERR_PROTOCOL,          //  not valid HTTP, or any other transfer failure
    HTTP_ERR_INVALID,           //  the request itself was unusable (bad URL, too many requests)
    HTTP_ERR_TLS                //  TLS handshake failed: the server's certificate is not trusted
                                //  (not signed by ca_file, wrong host) or the CA file is unusable
} http_error_t;

//  Event bits for http_client_on_socket and the watch callback: poll()'s values (POLLIN 1,
//  POLLOUT 4, POLLERR 8). ZeroMQ's ZMQ_POLLIN/ZMQ_POLLOUT/ZMQ_POLLERR are 1/2/4: a loop built
//  on zmq_poll (runtime/actor.h actor_watch_fd) must convert both ways.
#define HTTP_POLL_IN   POLLIN
#define HTTP_POLL_OUT  POLLOUT

//  What a finished request gives its completion callback. Valid only during the callback.
typedef struct {
    uint64_t id;                //  the request's id, as returned by http_client_start
    long status;                //  HTTP status, 0 when none arrived
    http_error_t error;         //  error class, HTTP_OK when a full response arrived
    const char *message;        //  human-readable detail ("" on success)
    const char *body;           //  buffered body (NUL-terminated): the whole response when there
                                //  is no chunk callback, else the body of a non-2xx response
    size_t body_len;            //  bytes in body
    const char *content_type;   //  Content-Type response header, "" when absent
    double first_byte_s;        //  seconds from start to the first response byte, 0 if none
    double total_s;             //  seconds from start to completion
} http_result_t;

//  Streaming body callback: called with each chunk of a 2xx response as it arrives.
//  Return 0 to go on, non-zero to abort the request (it completes with HTTP_ERR_ABORTED).
typedef int (http_chunk_fn) (void *arg, long status, const char *data, size_t len);

//  Completion callback, called exactly once per started request. It may start new requests or
//  cancel others, but must not destroy the client.
typedef void (http_done_fn) (void *arg, const http_result_t *result);

//  Socket watch callback: watch fd for `events` (HTTP_POLL_IN|OUT), or stop watching it when
//  events is 0.
typedef void (http_watch_fn) (void *arg, int fd, int events);

//  Description of one request. Strings are copied by http_client_start.
typedef struct {
    const char *method;             //  "GET", "POST", ... (NULL = GET, or POST with a body)
    const char *url;                //  absolute http:// or https:// URL
    const char *ca_file;            //  PEM file of the certificates trusted for https instead of
                                    //  the system's (a node's own self-signed tls.cert, pinned),
                                    //  or NULL for the system CAs
    const char *bearer;             //  API key sent as "Authorization: Bearer <key>", or NULL
    const char *const *headers;     //  extra "Name: value" headers, NULL-terminated, or NULL
    const char *body;               //  request body (sent as application/json), or NULL
    size_t body_len;                //  bytes in body
    long connect_timeout_ms;        //  0 = 5000
    long first_byte_timeout_ms;     //  0 = none (bounded by the total timeout)
    long idle_timeout_ms;           //  0 = none: longest silence once the response started
    long total_timeout_ms;          //  0 = none
    size_t max_response;            //  body size limit in bytes; 0 = 8 MiB
    bool no_reuse;                  //  fresh connection, closed after (servers without keep-alive)
    http_chunk_fn *on_chunk;        //  streaming callback for 2xx bodies, or NULL to buffer
    http_done_fn *on_done;          //  completion callback (required)
    void *arg;                      //  argument for both callbacks
} http_request_t;

typedef struct _http_client_t http_client_t;

//  Create a client. Returns NULL if libcurl cannot be initialised.
http_client_t *
    http_client_new (void);

//  Destroy a client; requests still in flight are dropped without their callbacks.
void
    http_client_destroy (http_client_t **self_p);

//  Set the watch callback (see above). Sockets already watched are reported again.
void
    http_client_set_watch (http_client_t *self, http_watch_fn *fn, void *arg);

//  Start a request. Returns its id (> 0), or 0 if it could not be started (on_done is then
//  not called; the reason is in http_client_last_error).
uint64_t
    http_client_start (http_client_t *self, const http_request_t *request);

//  Cancel a request in flight: its completion callback runs with HTTP_ERR_CANCELLED (from
//  inside this call, or right after the current curl callback when called from one).
//  Returns 0, or -1 if no such request is running.
int
    http_client_cancel (http_client_t *self, uint64_t id);

//  Milliseconds until http_client_on_timeout is due: 0 = now, -1 = no timer.
long
    http_client_timeout (http_client_t *self);

//  A watched socket is ready: events is a mix of HTTP_POLL_IN, HTTP_POLL_OUT, POLLERR.
void
    http_client_on_socket (http_client_t *self, int fd, int events);

//  The timeout reported by http_client_timeout expired.
void
    http_client_on_timeout (http_client_t *self);

//  List the watched sockets into fds (at most max). Returns how many there are in total.
size_t
    http_client_fds (http_client_t *self, struct pollfd *fds, size_t max);

//  Poll the client's own sockets for up to timeout_ms (-1 = until nothing is running) and
//  process what is ready. Returns the number of requests still running.
size_t
    http_client_run (http_client_t *self, long timeout_ms);

//  Number of requests in flight.
size_t
    http_client_active (http_client_t *self);

//  Why the last http_client_start returned 0.
const char *
    http_client_last_error (http_client_t *self);

//  A short name for an error class ("connect", "timeout-idle", ...).
const char *
    http_strerror (http_error_t error);

#endif
