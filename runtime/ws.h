/*  ws.h: websocket client connections (ws:// and wss://) driven by the owner's poll loop.

    A thin layer over libwebsockets for the relay actor: no threads, no blocking waits. The
    owner asks for the file descriptors to watch (ws_client_pollfds) and for how long it may
    sleep (ws_client_timeout), puts both into its own zmq_poll, and calls ws_client_service
    when either fires. Every callback runs inside ws_client_service, never inside open, send,
    close or destroy.

    The installed libwebsockets is built without LWS_WITH_EXTERNAL_POLL, so it never reports
    its descriptors through ADD/DEL/CHANGE_MODE_POLL_FD callbacks. This module therefore knows
    the one socket of each connection itself, watches it for input (and for output while it has
    something to write), and lets libwebsockets do a non-blocking poll of its own descriptors
    with their exact event masks when woken (lws_service with timeout -1). While a connection
    is being set up (TCP, TLS, HTTP upgrade) the socket is also polled every few milliseconds,
    because libwebsockets waits for writability at steps this module cannot see.

    What the module adds to libwebsockets: a message reassembled from its frames and chunks,
    with a size limit (a larger message is dropped and counted, the connection kept); an
    outgoing queue with a byte limit; ping after silence and a read timeout, so a dead TCP
    link is noticed; a connect timeout; one close callback per connection with a reason.

    Host names are resolved with the blocking getaddrinfo inside libwebsockets 4.1 (it is not
    built with its asynchronous resolver): use IP addresses or a local resolver cache where a
    stall at connect time matters.
*/
#ifndef WS_H_INCLUDED
#define WS_H_INCLUDED

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_URL_MAX_HOST 255     // bytes of a host name
#define WS_URL_MAX_PATH 1023    // bytes of path + query

typedef struct _ws_client_t ws_client_t;
typedef struct _ws_conn_t ws_conn_t;

//  Settings of a client; zero fields take the defaults shown.
typedef struct {
    size_t max_message;       // largest incoming message kept (1 MiB); larger: dropped, counted
    size_t max_queue;         // bytes of outgoing messages queued per connection (4 MiB)
    int connect_timeout_ms;   // TCP + TLS + upgrade must finish within this (10000)
    int ping_interval_ms;     // a ping is sent after this much silence from the server (20000)
    int read_timeout_ms;      // nothing received for this long closes the connection (60000)
    int close_timeout_ms;     // a close handshake longer than this is cut (2000)
    const char *ca_file;      // PEM file of CAs trusted for wss://; NULL: the system store
} ws_config_t;

//  The owner's callbacks, all optional. `arg` is the pointer given to ws_conn_open.
typedef struct {
    //  The websocket handshake completed: sends go out from now on.
    void (*on_open) (ws_conn_t *conn, void *arg);
    //  One complete text message. `text` is NUL-terminated for convenience, and valid only
    //  during the call.
    void (*on_message) (ws_conn_t *conn, const char *text, size_t len, void *arg);
    //  The connection failed or closed; called exactly once, last. The owner may destroy the
    //  connection here.
    void (*on_close) (ws_conn_t *conn, const char *reason, void *arg);
} ws_handlers_t;

typedef enum {
    WS_CONNECTING,   // TCP/TLS/HTTP upgrade in progress
    WS_OPEN,         // messages flow
    WS_CLOSING,      // a close was asked for, the handshake is under way
    WS_CLOSED        // gone: on_close has been (or is about to be) called
} ws_state_t;

//  Counters of one connection.
typedef struct {
    uint64_t messages_in;        // complete text messages delivered
    uint64_t bytes_in;           // payload bytes received (delivered or not)
    uint64_t messages_out;       // text messages written
    uint64_t bytes_out;          // payload bytes written
    uint64_t dropped_oversize;   // incoming messages over max_message, dropped
    uint64_t dropped_binary;     // incoming binary messages, dropped (Nostr is text)
    uint64_t pings_sent;         // keepalive pings sent
    uint64_t pongs_received;     // pongs received
} ws_stats_t;

//  A parsed ws:// or wss:// URL.
typedef struct {
    bool tls;                            // wss://
    char host [WS_URL_MAX_HOST + 1];     // name or address, IPv6 without brackets
    int port;                            // explicit, or 80 / 443
    char path [WS_URL_MAX_PATH + 1];     // path and query, at least "/"
} ws_url_t;

//  Parses a websocket URL strictly (no user info, no fragment, no spaces or control bytes).
//  Returns 0 or -1.
int
    ws_url_parse (const char *url, ws_url_t *out);

//  A client context for any number of connections. NULL config: defaults. NULL on failure.
ws_client_t *
    ws_client_new (const ws_config_t *config);

//  Closes every connection without callbacks and frees the context. Connections still held
//  by the owner become WS_CLOSED and must still be destroyed by it.
void
    ws_client_destroy (ws_client_t **self_p);

//  Fills up to `max` entries of `fds` with the descriptors to watch and their events.
//  Returns how many there are, which may exceed `max` (then call again with more room).
int
    ws_client_pollfds (ws_client_t *self, struct pollfd *fds, int max);

//  Milliseconds the owner may wait before calling ws_client_service even if no descriptor
//  is ready: 0 means now, -1 means no deadline.
int
    ws_client_timeout (ws_client_t *self);

//  Does all pending network work and timers, and runs the owner's callbacks.
void
    ws_client_service (ws_client_t *self);

//  For tests and tools without a loop of their own: waits up to timeout_ms for activity on
//  this client's descriptors, then services it once. Returns 0, or -1 if poll failed.
int
    ws_client_run (ws_client_t *self, int timeout_ms);

//  Starts connecting to `url`. NULL only for an invalid URL or out of memory: every network
//  failure is reported through on_close. `handlers` is copied.
ws_conn_t *
    ws_conn_open (ws_client_t *client, const char *url, const ws_handlers_t *handlers, void *arg);

//  Queues one text message; it is written once the connection is open. Returns -1 when the
//  connection is closing or closed, or the queue would exceed max_queue.
int
    ws_conn_send (ws_conn_t *self, const char *text, size_t len);

//  Starts a normal close; on_close follows.
void
    ws_conn_close (ws_conn_t *self);

//  Closes the connection if needed, without calling on_close, and frees it. Allowed inside
//  callbacks (the memory is released once the callback has returned).
void
    ws_conn_destroy (ws_conn_t **self_p);

//  State and counters.
ws_state_t
    ws_conn_state (const ws_conn_t *self);
const ws_stats_t *
    ws_conn_stats (const ws_conn_t *self);

//  Bytes queued and not yet written.
size_t
    ws_conn_queued (const ws_conn_t *self);

#endif
