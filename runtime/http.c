/*  http.c: non-blocking HTTP client over libcurl's multi_socket interface (see http.h).

    How it fits together:
      - libcurl tells us which sockets to watch (s_curl_socket) and when to call it back
        (s_curl_timer); we keep both in the client and hand them to the owner's poll loop.
      - The owner calls http_client_on_socket / http_client_on_timeout, which call
        curl_multi_socket_action, then finish every transfer curl reports as done.
      - Deadlines curl has no option for (first byte, idle) are kept per request and folded into
        http_client_timeout; an expired request is removed from the multi handle and completed.
      - Callbacks into the owner's code (chunk, done) may cancel requests. A cancel that arrives
        while curl is on the stack is only marked, and carried out when curl has returned,
        because curl forbids removing a handle from inside its own callbacks.
*/
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_DEFAULT_CONNECT_MS  5000
#define HTTP_DEFAULT_MAX_BODY    (8u * 1024 * 1024)
#define HTTP_MAX_URL             2048       //  longest accepted URL
#define HTTP_MAX_BEARER          1024       //  longest accepted API key
#define HTTP_MAX_REQUESTS        4096       //  requests in flight per client
#define HTTP_POOL_SIZE           64         //  finished easy handles kept for reuse

//  One request in flight.
typedef struct _s_req_t s_req_t;
struct _s_req_t {
    uint64_t id;                    //  public id, > 0
    CURL *easy;                     //  the curl transfer
    struct curl_slist *headers;     //  request headers (the bearer header included)
    char errbuf [CURL_ERROR_SIZE];  //  curl's detail for a failed transfer
    char *body;                     //  buffered response body, NUL-terminated
    size_t body_len;                //  bytes in body
    size_t body_cap;                //  allocated size of body
    size_t received;                //  body bytes received in total (streamed or buffered)
    size_t max_response;            //  limit on received
    int64_t start_ms;               //  when the request started (monotonic)
    int64_t first_byte_ms;          //  when the first response byte arrived, 0 before
    int64_t last_byte_ms;           //  when the latest response byte arrived
    long first_byte_timeout_ms;     //  0 = none
    long idle_timeout_ms;           //  0 = none
    long total_timeout_ms;          //  0 = none
    http_error_t abort_reason;      //  set when our write callback stopped the transfer
    bool cancelled;                 //  cancel requested while curl was on the stack
    http_chunk_fn *on_chunk;        //  streaming callback, or NULL
    http_done_fn *on_done;          //  completion callback
    void *arg;                      //  callbacks' argument
    s_req_t *prev, *next;           //  the client's list of requests
};

//  A socket curl asked us to watch.
typedef struct {
    int fd;                         //  the socket
    int events;                     //  HTTP_POLL_IN | HTTP_POLL_OUT
} s_watch_t;

struct _http_client_t {
    CURLM *multi;                   //  the curl multi handle
    s_req_t *requests;              //  requests in flight (doubly linked)
    size_t active;                  //  how many
    uint64_t next_id;               //  id of the next request
    s_watch_t *watches;             //  sockets to watch
    size_t watch_count;             //  entries used in watches
    size_t watch_cap;               //  entries allocated
    int64_t curl_deadline_ms;       //  when curl wants s_curl_timer's callback, -1 = never
    int in_curl;                    //  > 0 while curl_multi_socket_action is on the stack
    bool cancel_pending;            //  some request has `cancelled` set
    CURL *pool [HTTP_POOL_SIZE];    //  easy handles of finished requests, reset and reused
    size_t pool_count;              //  entries used in pool
    http_watch_fn *watch_fn;        //  the owner's watch callback, or NULL
    void *watch_arg;                //  its argument
    char last_error [256];          //  why the last http_client_start failed
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static bool s_curl_ok = false;

static void
s_curl_global_init (void)
{
    s_curl_ok = curl_global_init (CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  --------------------------------------------------------------------------
//  Socket table

static void
s_watch_set (http_client_t *self, int fd, int events)
{
    size_t i;
    for (i = 0; i < self->watch_count; i++)
        if (self->watches [i].fd == fd)
            break;
    if (events == 0) {
        if (i < self->watch_count)
            self->watches [i] = self->watches [--self->watch_count];
    }
    else
    if (i < self->watch_count)
        self->watches [i].events = events;
    else {
        if (self->watch_count == self->watch_cap) {
            size_t cap = self->watch_cap ? self->watch_cap * 2 : 16;
            s_watch_t *grown = realloc (self->watches, cap * sizeof *grown);
            if (!grown)
                return;     //  the transfer will then time out rather than crash
            self->watches = grown;
            self->watch_cap = cap;
        }
        self->watches [self->watch_count++] = (s_watch_t) { fd, events };
    }
    if (self->watch_fn)
        self->watch_fn (self->watch_arg, fd, events);
}

static int
s_curl_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    http_client_t *self = (http_client_t *) userp;
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= HTTP_POLL_IN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= HTTP_POLL_OUT;
    s_watch_set (self, (int) fd, what == CURL_POLL_REMOVE ? 0 : events);
    return 0;
}

static int
s_curl_timer (CURLM *multi, long timeout_ms, void *userp)
{
    http_client_t *self = (http_client_t *) userp;
    self->curl_deadline_ms = timeout_ms < 0 ? -1 : s_now_ms () + timeout_ms;
    return 0;
}

//  --------------------------------------------------------------------------
//  Per-request callbacks

static size_t
s_curl_header (char *data, size_t size, size_t nmemb, void *userp)
{
    s_req_t *req = (s_req_t *) userp;
    int64_t now = s_now_ms ();
    if (req->first_byte_ms == 0)
        req->first_byte_ms = now;
    req->last_byte_ms = now;
    return size * nmemb;
}

static int
s_body_append (s_req_t *req, const char *data, size_t len)
{
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *grown = realloc (req->body, cap);
        if (!grown)
            return -1;
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy (req->body + req->body_len, data, len);
    req->body_len += len;
    req->body [req->body_len] = 0;
    return 0;
}

static size_t
s_curl_write (char *data, size_t size, size_t nmemb, void *userp)
{
    s_req_t *req = (s_req_t *) userp;
    size_t len = size * nmemb;
    req->last_byte_ms = s_now_ms ();
    if (req->cancelled)
        return 0;
    if (req->received + len > req->max_response) {
        req->abort_reason = HTTP_ERR_TOO_LARGE;
        return 0;
    }
    req->received += len;
    long status = 0;
    curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &status);
    if (req->on_chunk && status >= 200 && status < 300) {
        if (req->on_chunk (req->arg, status, data, len) != 0) {
            req->abort_reason = HTTP_ERR_ABORTED;
            return 0;
        }
        return req->cancelled ? 0 : len;
    }
    if (s_body_append (req, data, len)) {
        req->abort_reason = HTTP_ERR_TOO_LARGE;
        return 0;
    }
    return len;
}

//  --------------------------------------------------------------------------
//  Completion

//  Free a request; its easy handle goes back to the client's pool when there is room
//  (creating a handle costs more than resetting one).
static void
s_req_free (http_client_t *self, s_req_t *req)
{
    if (req->easy && self && self->pool_count < HTTP_POOL_SIZE) {
        curl_easy_reset (req->easy);
        self->pool [self->pool_count++] = req->easy;
    }
    else
    if (req->easy)
        curl_easy_cleanup (req->easy);
    curl_slist_free_all (req->headers);
    free (req->body);
    free (req);
}

//  Take req out of the client and curl, call its completion callback, free it.
static void
s_finish (http_client_t *self, s_req_t *req, http_error_t error, const char *message)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        self->requests = req->next;
    if (req->next)
        req->next->prev = req->prev;
    self->active--;
    curl_multi_remove_handle (self->multi, req->easy);

    long status = 0;
    char *content_type = NULL;
    curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo (req->easy, CURLINFO_CONTENT_TYPE, &content_type);
    int64_t now = s_now_ms ();
    http_result_t result = {
        .id = req->id,
        .status = status,
        .error = error,
        .message = message ? message : "",
        .body = req->body ? req->body : "",
        .body_len = req->body_len,
        .content_type = content_type ? content_type : "",
        .first_byte_s = req->first_byte_ms ? (req->first_byte_ms - req->start_ms) / 1000.0 : 0,
        .total_s = (now - req->start_ms) / 1000.0
    };
    req->on_done (req->arg, &result);
    s_req_free (self, req);
}

//  Map curl's result for a finished transfer to our error classes.
static void
s_complete (http_client_t *self, s_req_t *req, CURLcode code)
{
    char message [CURL_ERROR_SIZE + 64];
    const char *detail = req->errbuf [0] ? req->errbuf : curl_easy_strerror (code);
    http_error_t error;
    if (code == CURLE_OK)
        error = HTTP_OK;
    else
    if (req->abort_reason != HTTP_OK)
        error = req->abort_reason;
    else
    switch (code) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            error = HTTP_ERR_CONNECT;
            break;
        case CURLE_OPERATION_TIMEDOUT: {
            curl_off_t connect_us = 0;
            curl_easy_getinfo (req->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
            error = connect_us == 0 ? HTTP_ERR_TIMEOUT_CONNECT : HTTP_ERR_TIMEOUT_TOTAL;
            break;
        }
        case CURLE_FILESIZE_EXCEEDED:
            error = HTTP_ERR_TOO_LARGE;
            break;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
            error = HTTP_ERR_RESET;
            break;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            error = HTTP_ERR_INVALID;
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
            error = HTTP_ERR_TLS;
            break;
        default:
            error = HTTP_ERR_PROTOCOL;
    }
    if (error == HTTP_OK)
        message [0] = 0;
    else
    if (error == HTTP_ERR_TOO_LARGE)
        snprintf (message, sizeof message, "response larger than %zu bytes", req->max_response);
    else
    if (error == HTTP_ERR_ABORTED)
        snprintf (message, sizeof message, "stopped by the body callback");
    else
        snprintf (message, sizeof message, "%s: %s", http_strerror (error), detail);
    s_finish (self, req, error, message);
}

//  Carry out cancels that were requested while curl was on the stack.
static void
s_sweep_cancelled (http_client_t *self)
{
    while (self->cancel_pending) {
        self->cancel_pending = false;
        for (s_req_t *req = self->requests; req; req = req->next)
            if (req->cancelled) {
                s_finish (self, req, HTTP_ERR_CANCELLED, "cancelled");
                self->cancel_pending = true;    //  the list changed: scan again
                break;
            }
    }
}

//  Finish every transfer curl reports as done.
static void
s_drain_done (http_client_t *self)
{
    s_sweep_cancelled (self);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_req_t *req = NULL;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
        s_complete (self, req, msg->data.result);
    }
}

//  The earliest of a request's own deadlines, or -1.
static int64_t
s_req_deadline (const s_req_t *req)
{
    int64_t deadline = -1;
    if (req->total_timeout_ms > 0)
        deadline = req->start_ms + req->total_timeout_ms;
    int64_t other = -1;
    if (req->first_byte_ms == 0 && req->first_byte_timeout_ms > 0)
        other = req->start_ms + req->first_byte_timeout_ms;
    else
    if (req->first_byte_ms != 0 && req->idle_timeout_ms > 0)
        other = req->last_byte_ms + req->idle_timeout_ms;
    if (other >= 0 && (deadline < 0 || other < deadline))
        deadline = other;
    return deadline;
}

//  Complete every request whose own deadline passed.
static void
s_expire (http_client_t *self)
{
    int64_t now = s_now_ms ();
    bool again = true;
    while (again) {
        again = false;
        for (s_req_t *req = self->requests; req; req = req->next) {
            int64_t deadline = s_req_deadline (req);
            if (deadline < 0 || deadline > now)
                continue;
            char message [128];
            http_error_t error;
            if (req->total_timeout_ms > 0 && now >= req->start_ms + req->total_timeout_ms) {
                error = HTTP_ERR_TIMEOUT_TOTAL;
                snprintf (message, sizeof message, "no complete response within %ld ms",
                          req->total_timeout_ms);
            }
            else
            if (req->first_byte_ms == 0) {
                error = HTTP_ERR_TIMEOUT_FIRST_BYTE;
                snprintf (message, sizeof message, "no response byte within %ld ms",
                          req->first_byte_timeout_ms);
            }
            else {
                error = HTTP_ERR_TIMEOUT_IDLE;
                snprintf (message, sizeof message, "response stalled for %ld ms",
                          req->idle_timeout_ms);
            }
            s_finish (self, req, error, message);
            again = true;       //  callbacks may have changed the list
            break;
        }
    }
}

//  --------------------------------------------------------------------------
//  Public API

http_client_t *
http_client_new (void)
{
    pthread_once (&s_curl_once, s_curl_global_init);
    if (!s_curl_ok)
        return NULL;
    http_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->multi = curl_multi_init ();
    if (!self->multi) {
        free (self);
        return NULL;
    }
    self->next_id = 1;
    self->curl_deadline_ms = -1;
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_curl_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_curl_timer);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

void
http_client_destroy (http_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_client_t *self = *self_p;
    while (self->requests) {
        s_req_t *req = self->requests;
        self->requests = req->next;
        curl_multi_remove_handle (self->multi, req->easy);
        s_req_free (NULL, req);
    }
    while (self->pool_count > 0)
        curl_easy_cleanup (self->pool [--self->pool_count]);
    curl_multi_cleanup (self->multi);
    free (self->watches);
    free (self);
    *self_p = NULL;
}

void
http_client_set_watch (http_client_t *self, http_watch_fn *fn, void *arg)
{
    self->watch_fn = fn;
    self->watch_arg = arg;
    for (size_t i = 0; fn && i < self->watch_count; i++)
        fn (arg, self->watches [i].fd, self->watches [i].events);
}

static uint64_t
s_start_failed (http_client_t *self, s_req_t *req, const char *why)
{
    snprintf (self->last_error, sizeof self->last_error, "%s", why);
    if (req)
        s_req_free (self, req);
    return 0;
}

uint64_t
http_client_start (http_client_t *self, const http_request_t *r)
{
    if (!r->url || !r->on_done)
        return s_start_failed (self, NULL, "a request needs a URL and a completion callback");
    if (strlen (r->url) > HTTP_MAX_URL)
        return s_start_failed (self, NULL, "URL too long");
    if (strncmp (r->url, "http://", 7) != 0 && strncmp (r->url, "https://", 8) != 0)
        return s_start_failed (self, NULL, "URL must start with http:// or https://");
    if (self->active >= HTTP_MAX_REQUESTS)
        return s_start_failed (self, NULL, "too many requests in flight");

    s_req_t *req = calloc (1, sizeof *req);
    if (!req)
        return s_start_failed (self, NULL, "out of memory");
    req->easy = self->pool_count > 0 ? self->pool [--self->pool_count] : curl_easy_init ();
    if (!req->easy)
        return s_start_failed (self, req, "curl_easy_init failed");
    req->max_response = r->max_response ? r->max_response : HTTP_DEFAULT_MAX_BODY;
    req->first_byte_timeout_ms = r->first_byte_timeout_ms;
    req->idle_timeout_ms = r->idle_timeout_ms;
    req->total_timeout_ms = r->total_timeout_ms;
    req->on_chunk = r->on_chunk;
    req->on_done = r->on_done;
    req->arg = r->arg;

    //  Headers. "Expect:" stops curl from waiting for 100-continue before a large body.
    req->headers = curl_slist_append (req->headers, "Expect:");
    if (r->body)
        req->headers = curl_slist_append (req->headers, "Content-Type: application/json");
    if (r->bearer) {
        size_t key_len = strlen (r->bearer);
        if (key_len == 0 || key_len > HTTP_MAX_BEARER || strpbrk (r->bearer, "\r\n"))
            return s_start_failed (self, req, "unusable API key (empty, too long, or has a line break)");
        char header [HTTP_MAX_BEARER + 32];
        snprintf (header, sizeof header, "Authorization: Bearer %s", r->bearer);
        req->headers = curl_slist_append (req->headers, header);
        explicit_bzero (header, sizeof header);
    }
    for (size_t i = 0; r->headers && r->headers [i]; i++) {
        if (strpbrk (r->headers [i], "\r\n"))
            return s_start_failed (self, req, "a header has a line break");
        req->headers = curl_slist_append (req->headers, r->headers [i]);
    }
    if (!req->headers)
        return s_start_failed (self, req, "out of memory");

    CURL *e = req->easy;
    curl_easy_setopt (e, CURLOPT_URL, r->url);
    curl_easy_setopt (e, CURLOPT_PRIVATE, req);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_curl_write);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_curl_header);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS,
                      r->connect_timeout_ms > 0 ? r->connect_timeout_ms : (long) HTTP_DEFAULT_CONNECT_MS);
    curl_easy_setopt (e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_response);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->ca_file) {
        //  Only this file: no CA directory beside it, so nothing else is trusted.
        curl_easy_setopt (e, CURLOPT_CAINFO, r->ca_file);
        curl_easy_setopt (e, CURLOPT_CAPATH, NULL);
    }
    if (r->no_reuse) {
        curl_easy_setopt (e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt (e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (r->body) {
        curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
        curl_easy_setopt (e, CURLOPT_COPYPOSTFIELDS, r->body);
    }
    if (r->method)
        curl_easy_setopt (e, CURLOPT_CUSTOMREQUEST, r->method);
    else
    if (!r->body)
        curl_easy_setopt (e, CURLOPT_HTTPGET, 1L);

    req->id = self->next_id++;
    req->start_ms = s_now_ms ();
    req->next = self->requests;
    if (self->requests)
        self->requests->prev = req;
    self->requests = req;
    self->active++;
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        self->requests = req->next;
        if (req->next)
            req->next->prev = NULL;
        self->active--;
        return s_start_failed (self, req, "curl_multi_add_handle failed");
    }
    return req->id;
}

int
http_client_cancel (http_client_t *self, uint64_t id)
{
    for (s_req_t *req = self->requests; req; req = req->next)
        if (req->id == id) {
            if (self->in_curl) {
                req->cancelled = true;
                self->cancel_pending = true;
            }
            else
                s_finish (self, req, HTTP_ERR_CANCELLED, "cancelled");
            return 0;
        }
    return -1;
}

long
http_client_timeout (http_client_t *self)
{
    int64_t deadline = self->curl_deadline_ms;
    for (s_req_t *req = self->requests; req; req = req->next) {
        int64_t own = s_req_deadline (req);
        if (own >= 0 && (deadline < 0 || own < deadline))
            deadline = own;
    }
    if (self->cancel_pending)
        deadline = 0;
    if (deadline < 0)
        return -1;
    int64_t left = deadline - s_now_ms ();
    return left > 0 ? (long) left : 0;
}

void
http_client_on_socket (http_client_t *self, int fd, int events)
{
    int mask = 0;
    if (events & POLLIN)
        mask |= CURL_CSELECT_IN;
    if (events & POLLOUT)
        mask |= CURL_CSELECT_OUT;
    if (events & (POLLERR | POLLHUP))
        mask |= CURL_CSELECT_ERR;
    int running;
    self->in_curl++;
    curl_multi_socket_action (self->multi, fd, mask, &running);
    self->in_curl--;
    s_drain_done (self);
}

void
http_client_on_timeout (http_client_t *self)
{
    if (self->curl_deadline_ms >= 0 && self->curl_deadline_ms <= s_now_ms ()) {
        int running;
        self->curl_deadline_ms = -1;
        self->in_curl++;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        self->in_curl--;
    }
    s_drain_done (self);
    s_expire (self);
}

size_t
http_client_fds (http_client_t *self, struct pollfd *fds, size_t max)
{
    for (size_t i = 0; i < self->watch_count && i < max; i++)
        fds [i] = (struct pollfd) { .fd = self->watches [i].fd,
                                    .events = (short) self->watches [i].events };
    return self->watch_count;
}

size_t
http_client_run (http_client_t *self, long timeout_ms)
{
    int64_t end = timeout_ms < 0 ? -1 : s_now_ms () + timeout_ms;
    struct pollfd fds [256];
    do {
        long wait = http_client_timeout (self);
        if (end >= 0) {
            long left = (long) (end - s_now_ms ());
            if (left < 0)
                left = 0;
            if (wait < 0 || wait > left)
                wait = left;
        }
        if (wait < 0)
            wait = 1000;
        size_t count = http_client_fds (self, fds, 256);
        if (count > 256)
            count = 256;
        int ready = poll (fds, count, (int) wait);
        if (ready < 0 && errno != EINTR)
            break;
        for (size_t i = 0; ready > 0 && i < count; i++)
            if (fds [i].revents)
                http_client_on_socket (self, fds [i].fd, fds [i].revents);
        if (http_client_timeout (self) == 0)
            http_client_on_timeout (self);
    } while (self->active > 0 && (end < 0 || s_now_ms () < end));
    return self->active;
}

size_t
http_client_active (http_client_t *self)
{
    return self->active;
}

const char *
http_client_last_error (http_client_t *self)
{
    return self->last_error;
}

const char *
http_strerror (http_error_t error)
{
    switch (error) {
        case HTTP_OK:                     return "ok";
        case HTTP_ERR_CONNECT:            return "connect failed";
        case HTTP_ERR_TIMEOUT_CONNECT:    return "connect timeout";
        case HTTP_ERR_TIMEOUT_FIRST_BYTE: return "first-byte timeout";
        case HTTP_ERR_TIMEOUT_IDLE:       return "idle timeout";
        case HTTP_ERR_TIMEOUT_TOTAL:      return "total timeout";
        case HTTP_ERR_RESET:              return "connection closed mid-response";
        case HTTP_ERR_TOO_LARGE:          return "response too large";
        case HTTP_ERR_ABORTED:            return "aborted";
        case HTTP_ERR_CANCELLED:          return "cancelled";
        case HTTP_ERR_PROTOCOL:           return "transfer failed";
        case HTTP_ERR_INVALID:            return "invalid request";
        case HTTP_ERR_TLS:                return "TLS failed";
    }
    return "unknown";
}
