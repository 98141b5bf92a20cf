/*  ws.c: websocket client connections over libwebsockets, driven by the owner's poll loop.

    How it fits together (see ws.h for why it is built this way):
    - one lws_context per ws_client_t, no listening vhost, one protocol whose callback
      (s_lws_callback) finds the ws_conn_t through the wsi's opaque user data;
    - ws_client_pollfds lists each connection's socket; ws_client_service runs lws_service
      with timeout -1 (a non-blocking pass over lws's own descriptors), then this module's
      timers (connect timeout, ping, read timeout, close timeout), then frees connections
      the owner destroyed during callbacks;
    - a connection this module ends itself (timeouts, destroy) is detached from its wsi first
      (opaque data cleared) and the wsi is killed asynchronously, so lws never calls back into
      freed memory;
    - the context is made without LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT and its one vhost
      explicitly with it (see ws_client_new): in lws 4.1 that option on a context reallocates
      the process-wide OpenSSL ex-data indexes by which every context finds its TLS client
      context at destroy, and its wsi in the certificate check, so one client made while
      another lived would make the older one leak that context (and could fail its handshake).
*/
#include "ws.h"

#include <libwebsockets.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  While a connection is being set up, its socket is serviced at least this often.
#define CONNECT_TICK_MS 10
//  Descriptors lws may use for one context: the connections plus a few of its own.
#define FD_LIMIT        1024

//  One queued outgoing text message, with the LWS_PRE headroom lws_write needs.
typedef struct _s_out_t {
    struct _s_out_t *next;        // next message in the queue
    size_t len;                   // payload bytes
    unsigned char data [];        // LWS_PRE bytes of headroom, then the payload
} s_out_t;

struct _ws_conn_t {
    ws_client_t *client;          // owning context; NULL once the context is destroyed
    ws_conn_t *prev, *next;       // neighbours in the client's list of connections
    struct lws *wsi;              // the libwebsockets connection, NULL when there is none
    ws_handlers_t handlers;       // the owner's callbacks
    void *arg;                    // the owner's argument to them
    ws_url_t url;                 // where to connect
    ws_state_t state;             // connecting, open, closing, closed
    bool established;             // the websocket handshake completed once
    bool reported;                // on_close was called
    bool report_pending;          // failed inside ws_conn_open: report at the next service
    bool doomed;                  // destroyed by the owner during service: free at the sweep
    bool close_requested;         // ws_conn_close was called
    bool ping_due;                // a ping is to be written when writable
    char reason [192];            // why it closed (set before reporting)
    char *rx;                     // the incoming message being reassembled
    size_t rx_len;                // bytes in rx
    size_t rx_cap;                // bytes allocated for rx
    bool rx_active;               // inside a message (more fragments or chunks to come)
    bool rx_discard;              // the current message went over max_message: skip the rest
    bool rx_binary;               // the current message is binary: skip it
    s_out_t *out_head;            // first queued outgoing message
    s_out_t *out_tail;            // last queued outgoing message
    size_t out_bytes;             // payload bytes queued
    int64_t opened_at;            // ms: ws_conn_open
    int64_t last_rx_at;           // ms: last byte or pong received
    int64_t last_ping_at;         // ms: last ping written
    int64_t closing_at;           // ms: ws_conn_close
    ws_stats_t stats;             // counters
};

struct _ws_client_t {
    struct lws_context *lws;      // the libwebsockets context
    struct lws_vhost *vhost;      // its one vhost, where connections are made
    ws_config_t config;           // settings, defaults filled in
    char *ca_file;                // owned copy of config.ca_file
    ws_conn_t *conns;             // list of live connections
    ws_conn_t *opening;           // the connection inside lws_client_connect_via_info
    bool in_service;              // inside ws_client_service: destroys are deferred
    bool kick;                    // something needs service now (timeout 0)
};

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  ---------------------------------------------------------------------------------------
//  URL parsing

int
ws_url_parse (const char *url, ws_url_t *out)
{
    memset (out, 0, sizeof *out);
    if (!url || strlen (url) > WS_URL_MAX_HOST + WS_URL_MAX_PATH + 16)
        return -1;
    const char *p = url;
    if (strncasecmp (p, "wss://", 6) == 0) {
        out->tls = true;
        p += 6;
    }
    else
    if (strncasecmp (p, "ws://", 5) == 0)
        p += 5;
    else
        return -1;

    //  Host: [IPv6] or letters, digits, '.', '-', '_'.
    const char *host = p;
    size_t host_len;
    if (*p == '[') {
        const char *end = strchr (p, ']');
        if (!end)
            return -1;
        host = p + 1;
        host_len = (size_t) (end - host);
        for (size_t i = 0; i < host_len; i++)
            if (!isxdigit ((unsigned char) host [i]) && host [i] != ':' && host [i] != '.')
                return -1;
        p = end + 1;
    }
    else {
        while (isalnum ((unsigned char) *p) || *p == '.' || *p == '-' || *p == '_')
            p++;
        host_len = (size_t) (p - host);
    }
    if (host_len == 0 || host_len > WS_URL_MAX_HOST)
        return -1;
    memcpy (out->host, host, host_len);
    out->host [host_len] = '\0';

    out->port = out->tls ? 443 : 80;
    if (*p == ':') {
        p++;
        long port = 0;
        int digits = 0;
        while (isdigit ((unsigned char) *p) && digits < 6) {
            port = port * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || port < 1 || port > 65535)
            return -1;
        out->port = (int) port;
    }
    if (*p == '\0') {
        strcpy (out->path, "/");
        return 0;
    }
    if (*p != '/' && *p != '?')
        return -1;                      //  user info, stray characters
    size_t path_len = strlen (p);
    if (path_len + 1 > WS_URL_MAX_PATH)
        return -1;
    for (size_t i = 0; i < path_len; i++)
        if ((unsigned char) p [i] <= 0x20 || (unsigned char) p [i] >= 0x7f || p [i] == '#')
            return -1;
    size_t at = 0;
    if (*p == '?')
        out->path [at++] = '/';
    memcpy (out->path + at, p, path_len + 1);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Connection helpers

static void
s_free_queue (ws_conn_t *self)
{
    while (self->out_head) {
        s_out_t *next = self->out_head->next;
        free (self->out_head);
        self->out_head = next;
    }
    self->out_tail = NULL;
    self->out_bytes = 0;
}

static void
s_free_rx (ws_conn_t *self)
{
    free (self->rx);
    self->rx = NULL;
    self->rx_len = self->rx_cap = 0;
    self->rx_active = false;
}

//  Calls on_close once, with the reason stored in self->reason.
static void
s_report_close (ws_conn_t *self)
{
    if (self->reported)
        return;
    self->reported = true;
    self->report_pending = false;
    self->state = WS_CLOSED;
    s_free_queue (self);
    s_free_rx (self);
    if (self->handlers.on_close && !self->doomed)
        self->handlers.on_close (self, self->reason, self->arg);
}

static void
s_set_reason (ws_conn_t *self, const char *reason)
{
    if (self->reason [0] == '\0')
        snprintf (self->reason, sizeof self->reason, "%s", reason);
}

//  Lets go of the wsi: lws will not call back for it, and kills it at its next service.
static void
s_detach (ws_conn_t *self)
{
    if (!self->wsi)
        return;
    lws_set_opaque_user_data (self->wsi, NULL);
    lws_set_timeout (self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    self->wsi = NULL;
    if (self->client)
        self->client->kick = true;
}

//  Ends a connection from this side at once (timeouts): detach, then report.
static void
s_abort (ws_conn_t *self, const char *reason)
{
    s_set_reason (self, reason);
    s_detach (self);
    s_report_close (self);
}

static void
s_unlink (ws_conn_t *self)
{
    ws_client_t *client = self->client;
    if (!client)
        return;
    if (self->prev)
        self->prev->next = self->next;
    else
        client->conns = self->next;
    if (self->next)
        self->next->prev = self->prev;
    self->prev = self->next = NULL;
}

static void
s_free (ws_conn_t *self)
{
    s_unlink (self);
    s_free_queue (self);
    s_free_rx (self);
    free (self);
}

//  ---------------------------------------------------------------------------------------
//  libwebsockets callback

static void
s_on_receive (ws_conn_t *self, struct lws *wsi, const char *in, size_t len)
{
    ws_client_t *client = self->client;
    self->last_rx_at = s_now_ms ();
    self->stats.bytes_in += len;
    if (!self->rx_active) {
        self->rx_active = true;
        self->rx_len = 0;
        self->rx_discard = false;
        self->rx_binary = lws_frame_is_binary (wsi) != 0;
    }
    bool final = lws_is_final_fragment (wsi) && lws_remaining_packet_payload (wsi) == 0;
    if (!self->rx_binary && !self->rx_discard) {
        size_t max = client->config.max_message;
        if (len > max - self->rx_len) {
            self->rx_discard = true;
            self->stats.dropped_oversize++;
            s_free_rx (self);
            self->rx_active = true;
        }
        else {
            if (self->rx_len + len + 1 > self->rx_cap) {
                size_t cap = self->rx_cap ? self->rx_cap : 4096;
                while (cap < self->rx_len + len + 1)
                    cap *= 2;
                if (cap > max + 1)
                    cap = max + 1;
                char *rx = realloc (self->rx, cap);
                if (!rx) {
                    self->rx_discard = true;
                    self->stats.dropped_oversize++;
                    s_free_rx (self);
                    self->rx_active = true;
                    goto done;
                }
                self->rx = rx;
                self->rx_cap = cap;
            }
            memcpy (self->rx + self->rx_len, in, len);
            self->rx_len += len;
        }
    }
done:
    if (!final)
        return;
    self->rx_active = false;
    if (self->rx_binary)
        self->stats.dropped_binary++;
    else
    if (!self->rx_discard) {
        self->rx [self->rx_len] = '\0';
        self->stats.messages_in++;
        if (self->handlers.on_message)
            self->handlers.on_message (self, self->rx, self->rx_len, self->arg);
    }
    //  Keep a small buffer for the next message, give back a large one.
    if (self->rx_cap > 65536)
        s_free_rx (self);
    self->rx_len = 0;
}

static int
s_on_writable (ws_conn_t *self, struct lws *wsi)
{
    if (self->close_requested) {
        lws_close_reason (wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *) "bye", 3);
        return -1;
    }
    if (self->ping_due) {
        unsigned char ping [LWS_PRE + 4];
        if (lws_write (wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        self->ping_due = false;
        self->last_ping_at = s_now_ms ();
        self->stats.pings_sent++;
        if (self->out_head)
            lws_callback_on_writable (wsi);
        return 0;
    }
    s_out_t *out = self->out_head;
    if (!out)
        return 0;
    //  One lws_write per writable callback; lws buffers whatever the socket does not take.
    int written = lws_write (wsi, out->data + LWS_PRE, out->len, LWS_WRITE_TEXT);
    if (written < (int) out->len)
        return -1;
    self->out_head = out->next;
    if (!self->out_head)
        self->out_tail = NULL;
    self->out_bytes -= out->len;
    self->stats.messages_out++;
    self->stats.bytes_out += out->len;
    free (out);
    if (self->out_head)
        lws_callback_on_writable (wsi);
    return 0;
}

static int
s_lws_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len)
{
    ws_conn_t *self = wsi ? lws_get_opaque_user_data (wsi) : NULL;
    if (!self)
        return 0;                       //  not ours, or detached: nothing to do
    switch (reason) {
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
            char text [160];
            snprintf (text, sizeof text, "connect failed: %s", in ? (const char *) in : "unknown");
            s_set_reason (self, text);
            lws_set_opaque_user_data (wsi, NULL);
            self->wsi = NULL;
            if (self->client->opening == self)
                self->report_pending = true;   //  inside ws_conn_open: report from service
            else
                s_report_close (self);
            return 0;
        }
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            if (self->doomed)
                return -1;
            self->established = true;
            self->last_rx_at = s_now_ms ();
            if (self->close_requested) {
                lws_callback_on_writable (wsi);
                return 0;
            }
            self->state = WS_OPEN;
            if (self->out_head)
                lws_callback_on_writable (wsi);
            if (self->handlers.on_open)
                self->handlers.on_open (self, self->arg);
            return 0;
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if (self->doomed || self->reported)
                return -1;
            s_on_receive (self, wsi, in, len);
            return 0;
        case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
            self->last_rx_at = s_now_ms ();
            self->stats.pongs_received++;
            return 0;
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if (self->doomed || self->reported)
                return -1;
            return s_on_writable (self, wsi);
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
            //  in: a 2-byte big-endian status, then the reason text
            const unsigned char *bytes = in;
            int code = len >= 2 ? (bytes [0] << 8) | bytes [1] : 1005;
            int text_len = len > 2 ? (int) (len - 2) : 0;
            if (text_len > 120)
                text_len = 120;
            char text [160];
            snprintf (text, sizeof text, "closed by server: %d %.*s", code, text_len,
                      len > 2 ? (const char *) bytes + 2 : "");
            s_set_reason (self, text);
            return 0;
        }
        case LWS_CALLBACK_CLIENT_CLOSED:
            s_set_reason (self, self->close_requested ? "closed by client" : "connection closed");
            lws_set_opaque_user_data (wsi, NULL);
            self->wsi = NULL;
            s_report_close (self);
            return 0;
        case LWS_CALLBACK_WSI_DESTROY:
            lws_set_opaque_user_data (wsi, NULL);
            self->wsi = NULL;
            s_set_reason (self, "connection lost");
            if (self->client->opening == self)
                self->report_pending = true;
            else
                s_report_close (self);
            return 0;
        default:
            return 0;
    }
}

static const struct lws_protocols s_protocols [] = {
    { "pylon-ws", s_lws_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

//  ---------------------------------------------------------------------------------------
//  Client

ws_client_t *
ws_client_new (const ws_config_t *config)
{
    ws_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (config)
        self->config = *config;
    ws_config_t *c = &self->config;
    if (!c->max_message)
        c->max_message = 1024 * 1024;
    if (!c->max_queue)
        c->max_queue = 4 * 1024 * 1024;
    if (c->connect_timeout_ms <= 0)
        c->connect_timeout_ms = 10000;
    if (c->ping_interval_ms <= 0)
        c->ping_interval_ms = 20000;
    if (c->read_timeout_ms <= 0)
        c->read_timeout_ms = 60000;
    if (c->close_timeout_ms <= 0)
        c->close_timeout_ms = 2000;
    if (c->ca_file) {
        self->ca_file = strdup (c->ca_file);
        c->ca_file = self->ca_file;
    }

    lws_set_log_level (LLL_ERR, NULL);
    //  LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT goes on the vhost only. On a context, lws 4.1 takes
    //  it as "allocate the OpenSSL ex-data indexes again" and overwrites process-wide ones that
    //  every live context relies on: at destroy, to find (and free) its TLS client context, and
    //  in the certificate check, to find the wsi. On the vhost it only makes that TLS client
    //  context (OpenSSL initialises itself), and the indexes stay the same for every client.
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.fd_limit_per_thread = FD_LIMIT;
    self->lws = lws_create_context (&info);
    if (self->lws) {
        memset (&info, 0, sizeof info);
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = s_protocols;
        info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = self->ca_file;
        self->vhost = lws_create_vhost (self->lws, &info);
    }
    if (!self->vhost) {
        lws_context_destroy (self->lws);
        free (self->ca_file);
        free (self);
        return NULL;
    }
    return self;
}

void
ws_client_destroy (ws_client_t **self_p)
{
    ws_client_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    //  Detach every connection first: lws_context_destroy then closes the sockets without
    //  finding an owner to call back.
    ws_conn_t *conn = self->conns;
    while (conn) {
        ws_conn_t *next = conn->next;
        if (conn->wsi)
            lws_set_opaque_user_data (conn->wsi, NULL);
        conn->wsi = NULL;
        conn->state = WS_CLOSED;
        conn->reported = true;
        conn->client = NULL;
        conn->prev = conn->next = NULL;
        if (conn->doomed)
            s_free (conn);
        conn = next;
    }
    self->conns = NULL;
    lws_context_destroy (self->lws);
    free (self->ca_file);
    free (self);
    *self_p = NULL;
}

int
ws_client_pollfds (ws_client_t *self, struct pollfd *fds, int max)
{
    int count = 0;
    for (ws_conn_t *conn = self->conns; conn; conn = conn->next) {
        if (!conn->wsi || conn->doomed)
            continue;
        int fd = (int) lws_get_socket_fd (conn->wsi);
        if (fd < 0)
            continue;
        short events = POLLIN;
        if (conn->established
        &&  (conn->out_head || conn->ping_due || conn->close_requested
             || lws_partial_buffered (conn->wsi)))
            events |= POLLOUT;
        if (count < max) {
            fds [count].fd = fd;
            fds [count].events = events;
            fds [count].revents = 0;
        }
        count++;
    }
    return count;
}

//  Keeps `*best` the smallest of itself and `deadline - now` (not below 0).
static void
s_earliest (int64_t *best, int64_t deadline, int64_t now)
{
    int64_t wait = deadline > now ? deadline - now : 0;
    if (*best < 0 || wait < *best)
        *best = wait;
}

int
ws_client_timeout (ws_client_t *self)
{
    if (self->kick)
        return 0;
    int64_t now = s_now_ms ();
    int64_t best = -1;
    const ws_config_t *c = &self->config;
    for (ws_conn_t *conn = self->conns; conn; conn = conn->next) {
        if (conn->report_pending || conn->doomed)
            return 0;
        if (conn->state == WS_CLOSED)
            continue;
        if (!conn->established) {
            s_earliest (&best, now + CONNECT_TICK_MS, now);
            s_earliest (&best, conn->opened_at + c->connect_timeout_ms, now);
        }
        else
        if (conn->state == WS_CLOSING)
            s_earliest (&best, conn->closing_at + c->close_timeout_ms, now);
        else {
            int64_t last = conn->last_rx_at > conn->last_ping_at ? conn->last_rx_at
                                                                 : conn->last_ping_at;
            s_earliest (&best, last + c->ping_interval_ms, now);
            s_earliest (&best, conn->last_rx_at + c->read_timeout_ms, now);
        }
    }
    if (best > INT32_MAX)
        best = INT32_MAX;
    //  lws may hold decrypted bytes that no descriptor will announce: then service now.
    int lws_wait = lws_service_adjust_timeout (self->lws, best < 0 ? 1000 : (int) best, 0);
    if (lws_wait == 0)
        return 0;
    return (int) best;
}

//  This module's own timers for one connection.
static void
s_check_timers (ws_client_t *self, ws_conn_t *conn, int64_t now)
{
    const ws_config_t *c = &self->config;
    if (conn->report_pending) {
        s_report_close (conn);
        return;
    }
    if (conn->state == WS_CLOSED)
        return;
    if (conn->close_requested && !conn->established) {
        s_abort (conn, "closed by client");
        return;
    }
    if (!conn->established) {
        if (now >= conn->opened_at + c->connect_timeout_ms)
            s_abort (conn, "connect timeout");
        return;
    }
    if (conn->state == WS_CLOSING) {
        if (now >= conn->closing_at + c->close_timeout_ms)
            s_abort (conn, "closed by client");
        return;
    }
    if (now >= conn->last_rx_at + c->read_timeout_ms) {
        char text [64];
        snprintf (text, sizeof text, "read timeout: nothing received for %d ms",
                  c->read_timeout_ms);
        s_abort (conn, text);
        return;
    }
    int64_t last = conn->last_rx_at > conn->last_ping_at ? conn->last_rx_at : conn->last_ping_at;
    if (!conn->ping_due && now >= last + c->ping_interval_ms)
        conn->ping_due = true;
    if (conn->wsi && (conn->ping_due || conn->out_head))
        lws_callback_on_writable (conn->wsi);
}

void
ws_client_service (ws_client_t *self)
{
    assert (!self->in_service);         //  no service from inside a callback
    self->in_service = true;
    self->kick = false;
    lws_service (self->lws, -1);        //  -1: poll lws's descriptors without waiting

    int64_t now = s_now_ms ();
    for (ws_conn_t *conn = self->conns; conn; conn = conn->next)
        if (!conn->doomed)
            s_check_timers (self, conn, now);

    //  Free what the owner destroyed during the callbacks above.
    ws_conn_t *conn = self->conns;
    while (conn) {
        ws_conn_t *next = conn->next;
        if (conn->doomed) {
            s_detach (conn);
            s_free (conn);
        }
        conn = next;
    }
    self->in_service = false;
}

int
ws_client_run (ws_client_t *self, int timeout_ms)
{
    struct pollfd fds [64];
    int count = ws_client_pollfds (self, fds, 64);
    if (count > 64)
        count = 64;                     //  the rest are served by lws's own poll pass
    int wait = ws_client_timeout (self);
    if (wait < 0 || wait > timeout_ms)
        wait = timeout_ms;
    int rc = poll (fds, (nfds_t) count, wait);
    if (rc < 0 && errno != EINTR)
        return -1;
    ws_client_service (self);
    return 0;
}

//  ---------------------------------------------------------------------------------------
//  Connections

ws_conn_t *
ws_conn_open (ws_client_t *client, const char *url, const ws_handlers_t *handlers, void *arg)
{
    ws_conn_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (ws_url_parse (url, &self->url) != 0) {
        free (self);
        return NULL;
    }
    self->client = client;
    if (handlers)
        self->handlers = *handlers;
    self->arg = arg;
    self->state = WS_CONNECTING;
    self->opened_at = s_now_ms ();
    self->next = client->conns;
    if (client->conns)
        client->conns->prev = self;
    client->conns = self;

    //  Host header: the name, with the port when it is not the scheme's default.
    char host_header [WS_URL_MAX_HOST + 16];
    bool v6 = strchr (self->url.host, ':') != NULL;
    if (self->url.port == (self->url.tls ? 443 : 80))
        snprintf (host_header, sizeof host_header, v6 ? "[%s]" : "%s", self->url.host);
    else
        snprintf (host_header, sizeof host_header, v6 ? "[%s]:%d" : "%s:%d",
                  self->url.host, self->url.port);

    struct lws_client_connect_info info;
    memset (&info, 0, sizeof info);
    info.context = client->lws;
    info.vhost = client->vhost;
    info.address = self->url.host;
    info.port = self->url.port;
    info.path = self->url.path;
    info.host = host_header;
    info.origin = host_header;
    info.ssl_connection = self->url.tls ? LCCSCF_USE_SSL : 0;
    info.local_protocol_name = s_protocols [0].name;
    info.opaque_user_data = self;
    //  No info.pwsi: lws would write to it when the wsi dies, possibly after this connection
    //  was destroyed. The wsi is known from the return value, and callbacks during the call
    //  find this connection through the opaque user data.
    client->opening = self;
    struct lws *wsi = lws_client_connect_via_info (&info);
    client->opening = NULL;
    if (!wsi || self->report_pending) {
        self->wsi = NULL;
        s_set_reason (self, "connect failed");
        self->report_pending = true;
    }
    else
        self->wsi = wsi;
    if (self->report_pending)
        client->kick = true;
    return self;
}

int
ws_conn_send (ws_conn_t *self, const char *text, size_t len)
{
    if (!self->client || self->doomed || self->close_requested || self->state == WS_CLOSED
    ||  self->report_pending)
        return -1;
    if (len > self->client->config.max_queue - self->out_bytes
    ||  self->out_bytes > self->client->config.max_queue)
        return -1;
    s_out_t *out = malloc (sizeof *out + LWS_PRE + len);
    if (!out)
        return -1;
    out->next = NULL;
    out->len = len;
    memcpy (out->data + LWS_PRE, text, len);
    if (self->out_tail)
        self->out_tail->next = out;
    else
        self->out_head = out;
    self->out_tail = out;
    self->out_bytes += len;
    if (self->wsi && self->state == WS_OPEN)
        lws_callback_on_writable (self->wsi);
    return 0;
}

void
ws_conn_close (ws_conn_t *self)
{
    if (!self->client || self->close_requested || self->state == WS_CLOSED)
        return;
    self->close_requested = true;
    self->closing_at = s_now_ms ();
    self->state = WS_CLOSING;
    if (self->wsi && self->established)
        lws_callback_on_writable (self->wsi);
    else
        self->client->kick = true;      //  not open yet: the service ends it
}

void
ws_conn_destroy (ws_conn_t **self_p)
{
    ws_conn_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    *self_p = NULL;
    if (self->client && self->client->in_service) {
        //  Inside a callback: lws or the list walk may still hold this connection.
        self->doomed = true;
        memset (&self->handlers, 0, sizeof self->handlers);
        return;
    }
    s_detach (self);
    s_free (self);
}

ws_state_t
ws_conn_state (const ws_conn_t *self)
{
    return self->state;
}

const ws_stats_t *
ws_conn_stats (const ws_conn_t *self)
{
    return &self->stats;
}

size_t
ws_conn_queued (const ws_conn_t *self)
{
    return self->out_bytes;
}
