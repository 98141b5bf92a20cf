/*  cln.c: the Core Lightning wallet backend, JSON-RPC 2.0 over lightningd's unix socket
    ([wallet] cln_rpc, e.g. ~/.lightning/bitcoin/lightning-rpc).

        make_invoice   invoice {amount_msat, label, description, expiry} → {bolt11,
                       payment_hash}; the label is unique per request ("pylon-<random>-<n>":
                       a random prefix per start, so never reused after a restart); never
                       retried: a lost connection or an error fails the request
        lookup         listinvoices {payment_hash} → status unpaid | paid | expired; an empty
                       list → unknown (the core's reconciliation at start and expiry checks)
        settlements    waitanyinvoice {lastpay_index: N}, a long poll that answers the next
                       paid invoice with pay_index > N; each answer settles at once, its
                       pay_index is kept in the ledger (LEDGER_KV_SET "cln.pay_index") and the
                       poll is armed again from it. At start the index is read back
                       (LEDGER_QUERY kv) before the first poll, so payments made while the node
                       or the socket was down are replayed, once each.
        getinfo        on every new connection: the node answers (reachable) and runs on the
                       network of [provider] network (else invoices are refused)

    Two connections to the socket, each with its own backoff (1 s doubling to 30 s): "rpc"
    carries invoice, listinvoices and getinfo, several at once, matched by id; "wait" carries
    only the long poll, so a node that handles one command per connection at a time still
    answers invoices while the poll waits. Both are non-blocking and run in the wallet
    actor's loop (wallet_io raw descriptors). Every response goes through a bounded reader
    (cln.h): a response larger than CLN_RESPONSE_MAX, malformed, or cut short (EOF, or
    nothing more for the request timeout) drops that connection and fails what was in flight
    on it; a request not answered within [wallet] request_timeout_ms fails alone. */
#include "log.h"
#include "wallet/backend.h"
#include "wallet/cln.h"
#include "wallet/wallet_io.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CLN_OUT_MAX         (64 * 1024)     /* request bytes waiting to be written, per connection */
#define CLN_TICK_MS         250             /* the backend's tick */
#define CLN_BACKOFF_MIN_MS  1000            /* first reconnect delay */
#define CLN_BACKOFF_MAX_MS  30000           /* longest reconnect delay */
#define CLN_KV_RETRY_MS     5000            /* ask the ledger again for the pay index */
#define CLN_READS_MAX       16              /* reads per readiness event (then back to the loop) */
#define CLN_KV_KEY          "cln.pay_index"
#define CLN_REF_BASE        ((uint64_t) 1 << 62)    /* our ledger refs, apart from the core's */

/* ---- reading lightningd's answers ---------------------------------------------------------- */

/* Replace control characters so a server's text is safe in a log line. */
static void
s_printable(char *text)
{
    for (; *text; text++)
        if ((unsigned char) *text < 0x20 || *text == 0x7f)
            *text = ' ';
}

int
cln_reader_init(cln_reader_t *self, size_t max)
{
    memset(self, 0, sizeof *self);
    self->buf = malloc(max);
    self->max = self->buf ? max : 0;
    return self->buf ? 0 : -1;
}

void
cln_reader_free(cln_reader_t *self)
{
    free(self->buf);
    memset(self, 0, sizeof *self);
}

void
cln_reader_reset(cln_reader_t *self)
{
    self->len = self->start = self->scan = 0;
    self->depth = 0;
    self->in_string = self->escape = self->started = false;
}

/* Drop the bytes before start (handed out, or whitespace between objects). */
static void
s_compact(cln_reader_t *self)
{
    if (self->start == 0)
        return;
    memmove(self->buf, self->buf + self->start, self->len - self->start);
    self->len -= self->start;
    self->scan -= self->start;
    self->start = 0;
}

char *
cln_reader_space(cln_reader_t *self, size_t *room)
{
    s_compact(self);
    *room = self->max - self->len;
    return self->buf + self->len;
}

void
cln_reader_wrote(cln_reader_t *self, size_t n)
{
    self->len += n <= self->max - self->len ? n : self->max - self->len;
}

int
cln_reader_feed(cln_reader_t *self, const char *data, size_t len)
{
    size_t room;
    char *space = cln_reader_space(self, &room);
    if (len > room)
        return -1;
    memcpy(space, data, len);
    cln_reader_wrote(self, len);
    return 0;
}

int
cln_reader_next(cln_reader_t *self, const char **json, size_t *len, char *err, size_t err_size)
{
    s_compact(self);
    while (self->scan < self->len) {
        char c = self->buf[self->scan++];
        if (!self->started) {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                self->start = self->scan;       /* whitespace between objects: dropped */
                continue;
            }
            if (c != '{') {
                snprintf(err, err_size, "a response that does not start with '{' (byte 0x%02x)",
                         (unsigned char) c);
                return -1;
            }
            self->started = true;
            self->depth = 1;
            continue;
        }
        if (self->in_string) {
            if (self->escape)
                self->escape = false;
            else if (c == '\\')
                self->escape = true;
            else if (c == '"')
                self->in_string = false;
            continue;
        }
        if (c == '"')
            self->in_string = true;
        else if (c == '{' || c == '[') {
            if (++self->depth > CLN_DEPTH_MAX) {
                snprintf(err, err_size, "a response nested deeper than %d levels", CLN_DEPTH_MAX);
                return -1;
            }
        }
        else if ((c == '}' || c == ']') && --self->depth == 0) {
            *json = self->buf + self->start;
            *len = self->scan - self->start;
            self->start = self->scan;           /* dropped at the next call */
            self->started = false;
            return 1;
        }
    }
    return 0;
}

size_t
cln_reader_pending(const cln_reader_t *self)
{
    return self->started ? self->len - self->start : 0;
}

int
cln_response_parse(const char *json, size_t len, cln_response_t *out, char *err,
                   size_t err_size)
{
    memset(out, 0, sizeof *out);
    char why[64];
    json_object *top = wallet_json_object(json, len, why, sizeof why), *v, *result = NULL,
                *error = NULL;
    if (!top) {
        snprintf(err, err_size, "not a valid JSON object");
        return -1;
    }
    int rc = -1;
    if (json_object_object_get_ex(top, "jsonrpc", &v)
        && (!json_object_is_type(v, json_type_string)
            || strcmp(json_object_get_string(v), "2.0") != 0)) {
        snprintf(err, err_size, "jsonrpc is not \"2.0\"");
        goto done;
    }
    if (!json_object_object_get_ex(top, "id", &v) || !json_object_is_type(v, json_type_int)
        || json_object_get_int64(v) < 0) {
        snprintf(err, err_size, "no id that is a non-negative integer");
        goto done;
    }
    out->id = json_object_get_uint64(v);
    json_object_object_get_ex(top, "result", &result);
    json_object_object_get_ex(top, "error", &error);
    if (json_object_is_type(result, json_type_null))
        result = NULL;
    if (json_object_is_type(error, json_type_null))
        error = NULL;
    if ((result != NULL) == (error != NULL)) {
        snprintf(err, err_size, "not exactly one of result and error");
        goto done;
    }
    if (error) {
        json_object *code, *message;
        if (!json_object_is_type(error, json_type_object)
            || !json_object_object_get_ex(error, "code", &code)
            || !json_object_is_type(code, json_type_int)) {
            snprintf(err, err_size, "an error without an integer code");
            goto done;
        }
        out->is_error = true;
        out->code = (long) json_object_get_int64(code);
        if (json_object_object_get_ex(error, "message", &message)
            && json_object_is_type(message, json_type_string))
            snprintf(out->message, sizeof out->message, "%s", json_object_get_string(message));
        s_printable(out->message);
    }
    else if (!json_object_is_type(result, json_type_object)) {
        snprintf(err, err_size, "a result that is not an object");
        goto done;
    }
    else
        out->result = json_object_get(result);
    rc = 0;
done:
    json_object_put(top);
    return rc;
}

/* An msat amount: a JSON integer, or a string of digits with an optional "msat" suffix (older
   lightningd). Absent or null → 0. 0, or -1 when malformed. */
static int
s_msat(json_object *obj, const char *name, uint64_t *out)
{
    json_object *v;
    *out = 0;
    if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (json_object_is_type(v, json_type_int))
        return wallet_json_u64(obj, name, out, NULL);
    if (!json_object_is_type(v, json_type_string))
        return -1;
    char digits[32];
    size_t len = (size_t) json_object_get_string_len(v);
    if (len >= sizeof digits)
        return -1;
    memcpy(digits, json_object_get_string(v), len + 1);
    if (len > 4 && strcmp(digits + len - 4, "msat") == 0)
        digits[len - 4] = 0;
    json_object *tmp = json_object_new_object();
    json_object_object_add(tmp, "v", json_object_new_string(digits));
    int rc = wallet_json_u64(tmp, "v", out, NULL);
    json_object_put(tmp);
    return rc;
}

int
cln_created_parse(json_object *result, char *bolt11, size_t bolt11_size,
                  uint8_t payment_hash[32], char *warning, size_t warning_size, char *err,
                  size_t err_size)
{
    char hex[80];
    warning[0] = 0;
    if (wallet_json_str(result, "bolt11", bolt11, bolt11_size) != 0 || !*bolt11) {
        snprintf(err, err_size, "no bolt11 string of at most %zu characters", bolt11_size - 1);
        return -1;
    }
    if (wallet_json_str(result, "payment_hash", hex, sizeof hex) != 0
        || wallet_hex32(hex, payment_hash) != 0) {
        snprintf(err, err_size, "no payment_hash of 64 hex digits");
        return -1;
    }
    json_object_object_foreach(result, key, value) {
        if (strncmp(key, "warning_", 8) == 0 && json_object_is_type(value, json_type_string)
            && !*warning) {
            snprintf(warning, warning_size, "%s: %s", key, json_object_get_string(value));
            s_printable(warning);
        }
    }
    return 0;
}

int
cln_invoice_parse(json_object *obj, cln_invoice_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    char hex[80], status[16];
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, err_size, "the invoice is not a JSON object");
        return -1;
    }
    if (wallet_json_str(obj, "payment_hash", hex, sizeof hex) != 0
        || wallet_hex32(hex, out->payment_hash) != 0) {
        snprintf(err, err_size, "no payment_hash of 64 hex digits");
        return -1;
    }
    if (wallet_json_str(obj, "status", status, sizeof status) != 0) {
        snprintf(err, err_size, "status is not a short string");
        return -1;
    }
    if (strcmp(status, "unpaid") == 0)
        out->status = CLN_UNPAID;
    else if (strcmp(status, "paid") == 0)
        out->status = CLN_PAID;
    else if (strcmp(status, "expired") == 0)
        out->status = CLN_EXPIRED;
    else {
        snprintf(err, err_size, "status is not unpaid, paid or expired");
        return -1;
    }
    const char *bad = wallet_json_u64(obj, "pay_index", &out->pay_index, NULL) ? "pay_index"
        : s_msat(obj, "amount_received_msat", &out->amount_received_msat)
          ? "amount_received_msat"
        : wallet_json_u64(obj, "paid_at", &out->paid_at, NULL) ? "paid_at"
        : wallet_json_u64(obj, "expires_at", &out->expires_at, NULL) ? "expires_at"
        : NULL;
    if (bad) {
        snprintf(err, err_size, "%s is not a non-negative integer", bad);
        return -1;
    }
    if (out->status == CLN_PAID && out->pay_index == 0) {
        snprintf(err, err_size, "a paid invoice without its pay_index");
        return -1;
    }
    return 0;
}

/* ---- the backend --------------------------------------------------------------------------- */

/* What a request in flight asks. */
typedef enum { CALL_GETINFO, CALL_INVOICE, CALL_LOOKUP, CALL_WAIT } call_kind_t;

/* One request in flight on a connection, waiting for the response with its id. */
typedef struct cln_call cln_call_t;
struct cln_call {
    cln_call_t *next;           /* the connection's list of calls in flight */
    uint64_t id;                /* the JSON-RPC id */
    call_kind_t kind;           /* what it asks */
    uint64_t req;               /* CALL_INVOICE: the core's request id */
    uint8_t hash[32];           /* CALL_LOOKUP: the payment hash */
    int64_t deadline_ms;        /* fail it after this (monotonic ms); 0: none (the long poll) */
};

typedef struct cln cln_t;

/* One connection to lightningd's socket. */
typedef struct {
    cln_t *owner;               /* the backend */
    const char *name;           /* "rpc" or "wait", for the logs */
    int fd;                     /* the socket, -1 when closed */
    bool connecting;            /* connect() has not completed yet */
    int64_t opened_ms;          /* when the connect started (monotonic ms) */
    cln_reader_t reader;        /* incoming bytes, framed into responses */
    char *out;                  /* CLN_OUT_MAX bytes: requests not yet written */
    size_t out_len;             /* bytes in out */
    cln_call_t *calls;          /* requests in flight on it */
    int64_t partial_ms;         /* since when an unfinished response waits; 0 when none */
    int64_t reconnect_at_ms;    /* when to connect again, once closed */
    int64_t backoff_ms;         /* the next reconnect delay */
} cln_conn_t;

struct cln {
    wallet_core_t *core;        /* the actor core */
    actor_ctx_t *ctx;           /* for the ledger messages */
    wallet_io_t *io;            /* raw descriptors in the actor's loop */
    char path[sizeof ((struct sockaddr_un *) 0)->sun_path];     /* [wallet] cln_rpc */
    bolt11_network_t network;   /* [provider] network */
    const char *cln_network;    /* lightningd's name of it (getinfo's network) */
    int64_t timeout_ms;         /* deadline of one request, and of a response cut short */
    cln_conn_t rpc;             /* invoice, listinvoices, getinfo */
    cln_conn_t wait;            /* waitanyinvoice only */
    uint64_t next_id;           /* last JSON-RPC id used */
    char label_prefix[24];      /* "pylon-<16 hex>", random per start */
    char down_error[WALLET_ERROR_MAX];      /* why the socket cannot be reached; "" when it can */
    char network_error[WALLET_ERROR_MAX];   /* lightningd runs on another network; "" when not */
    char version[64];           /* getinfo's version, for the status */
    /* the settlement long poll */
    bool index_known;           /* pay_index was read back from the ledger */
    uint64_t pay_index;         /* last payment seen (kept in the ledger) */
    uint64_t kv_ref;            /* ref of the kv query in flight, 0 once answered */
    int64_t kv_asked_ms;        /* when it was (last) sent */
    bool waiting;               /* a waitanyinvoice is in flight */
    int64_t rearm_at_ms;        /* after an error answer: poll again at this time */
    int64_t rearm_backoff_ms;   /* ... and the delay after the next error */
    uint64_t ref;               /* last ledger ref used (above CLN_REF_BASE) */
    uint64_t settlements, reconnects, bad_responses;   /* counters for the status */
};

static void s_on_fd(void *arg, int fd, short revents);
static void s_arm_wait(cln_t *self);
static void s_call_done(cln_t *self, cln_call_t *call, const cln_response_t *resp,
                        const char *error);

static int64_t
s_double(int64_t ms)
{
    return ms * 2 > CLN_BACKOFF_MAX_MS ? CLN_BACKOFF_MAX_MS : ms * 2;
}

/* The events a connection needs: its answers, and room to write when requests wait. */
static void
s_rewatch(cln_conn_t *c)
{
    short events = c->connecting ? ZMQ_POLLOUT
                 : (short) (ZMQ_POLLIN | (c->out_len ? ZMQ_POLLOUT : 0));
    wallet_io_watch(c->owner->io, c->fd, events, s_on_fd, c);
}

/* Close a connection and fail what was in flight on it with why; connect again later. */
static void
s_drop(cln_conn_t *c, const char *why)
{
    cln_t *self = c->owner;
    if (c->fd < 0)
        return;
    wallet_io_unwatch(self->io, c->fd);
    close(c->fd);
    c->fd = -1;
    c->connecting = false;
    c->out_len = 0;
    c->partial_ms = 0;
    cln_reader_reset(&c->reader);
    c->reconnect_at_ms = actor_now_ms() + c->backoff_ms;
    log_warn("Core Lightning %s connection: %s (connecting again in %" PRId64 " ms)", c->name,
             why, c->backoff_ms);
    c->backoff_ms = s_double(c->backoff_ms);
    self->reconnects++;
    if (c == &self->wait)
        self->waiting = false;
    wallet_core_reachable(self->core, false, why);
    cln_call_t *calls = c->calls;       /* detached first: the core may call us back */
    c->calls = NULL;
    while (calls) {
        cln_call_t *next = calls->next;
        s_call_done(self, calls, NULL, why);
        calls = next;
    }
}

/* The socket cannot be reached: remember why (invoice requests fail with it). */
static void
s_connect_failed(cln_conn_t *c, int error)
{
    cln_t *self = c->owner;
    snprintf(self->down_error, sizeof self->down_error,
             "cannot connect to Core Lightning's socket (%s)%s: is lightningd running? "
             "cln_rpc=%s", strerror(error),
             error == EACCES ? ", check the socket's permissions" : "", self->path);
    if (c->fd >= 0) {
        wallet_io_unwatch(self->io, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    c->connecting = false;
    c->reconnect_at_ms = actor_now_ms() + c->backoff_ms;
    if (c->backoff_ms == CLN_BACKOFF_MIN_MS || c == &self->rpc)
        log_warn("%s (again in %" PRId64 " ms)", self->down_error, c->backoff_ms);
    c->backoff_ms = s_double(c->backoff_ms);
    wallet_core_reachable(self->core, false, self->down_error);
}

static int s_send(cln_conn_t *c, call_kind_t kind, const char *method, json_object *params,
                  uint64_t req, const uint8_t *hash);

/* The connect completed: read, and start what each connection is for. */
static void
s_connected(cln_conn_t *c)
{
    cln_t *self = c->owner;
    c->connecting = false;
    self->down_error[0] = 0;
    s_rewatch(c);
    log_debug("Core Lightning %s connection open on %s", c->name, self->path);
    if (c == &self->rpc)
        s_send(c, CALL_GETINFO, "getinfo", json_object_new_object(), 0, NULL);
    else
        s_arm_wait(self);
}

/* Start a connection (non-blocking). 0 when it is open or opening, -1 when it failed. */
static int
s_connect(cln_conn_t *c)
{
    if (c->fd >= 0)
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, c->owner->path, sizeof addr.sun_path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        s_connect_failed(c, errno);
        return -1;
    }
    c->opened_ms = actor_now_ms();
    cln_reader_reset(&c->reader);
    c->out_len = 0;
    if (connect(c->fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
        s_connected(c);
        return c->fd >= 0 ? 0 : -1;
    }
    if (errno == EINPROGRESS || errno == EAGAIN) {
        c->connecting = true;
        s_rewatch(c);
        return 0;
    }
    s_connect_failed(c, errno);
    return -1;
}

/* Write what waits, as far as the socket takes it. */
static void
s_flush(cln_conn_t *c)
{
    while (c->out_len > 0 && !c->connecting) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            memmove(c->out, c->out + n, c->out_len - (size_t) n);
            c->out_len -= (size_t) n;
        }
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            char why[160];
            snprintf(why, sizeof why, "writing to lightningd failed: %s",
                     n < 0 ? strerror(errno) : "nothing written");
            s_drop(c, why);
            return;
        }
    }
    if (c->fd >= 0)
        s_rewatch(c);
}

/* Send one request; its answer (or failure) goes to s_call_done. 0, or -1 when it could not
   be queued (the call is failed at once). */
static int
s_send(cln_conn_t *c, call_kind_t kind, const char *method, json_object *params, uint64_t req,
       const uint8_t *hash)
{
    cln_t *self = c->owner;
    cln_call_t *call = calloc(1, sizeof *call);
    *call = (cln_call_t) {.id = ++self->next_id, .kind = kind, .req = req,
                          .deadline_ms = kind == CALL_WAIT ? 0
                                       : actor_now_ms() + self->timeout_ms};
    if (hash)
        memcpy(call->hash, hash, 32);
    json_object *body = json_object_new_object();
    json_object_object_add(body, "jsonrpc", json_object_new_string("2.0"));
    json_object_object_add(body, "id", json_object_new_int64((int64_t) call->id));
    json_object_object_add(body, "method", json_object_new_string(method));
    json_object_object_add(body, "params", params);
    size_t len = 0;
    const char *text = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    const char *error = c->fd < 0 ? (*self->down_error ? self->down_error
                                                        : "not connected to lightningd")
                      : len + 1 > CLN_OUT_MAX - c->out_len ? "too many requests waiting to be "
                                                             "written to lightningd"
                      : NULL;
    if (error) {
        json_object_put(body);
        s_call_done(self, call, NULL, error);
        return -1;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out[c->out_len + len] = '\n';
    c->out_len += len + 1;
    json_object_put(body);
    call->next = c->calls;
    c->calls = call;
    s_flush(c);
    return 0;
}

/* Remove the call with this id from the connection's list; NULL when there is none. */
static cln_call_t *
s_take(cln_conn_t *c, uint64_t id)
{
    for (cln_call_t **at = &c->calls; *at; at = &(*at)->next)
        if ((*at)->id == id) {
            cln_call_t *call = *at;
            *at = call->next;
            return call;
        }
    return NULL;
}

/* ---- answers ------------------------------------------------------------------------------- */

/* A JSON-RPC error in words, for the operator. */
static void
s_rpc_error(const char *what, const cln_response_t *resp, char *out, size_t size)
{
    const char *meaning = resp->code == 900 ? "the label is already used"
        : resp->code == 901 ? "the preimage is already used"
        : resp->code == 902 ? "no usable private channel to expose"
        : resp->code == 903 ? "the invoice expired"
        : resp->code == 904 ? "timed out waiting"
        : resp->code == -32601 ? "this lightningd does not know the command"
        : resp->code == -32602 ? "lightningd refused the parameters"
        : "lightningd refused it";
    snprintf(out, size, "Core Lightning %s failed: %s (code %ld: %.250s)", what, meaning,
             resp->code, resp->message);
}

static void
s_created(cln_t *self, cln_call_t *call, const cln_response_t *resp)
{
    char why[WALLET_ERROR_MAX], err[128], warning[256];
    if (resp->is_error) {
        s_rpc_error("invoice", resp, why, sizeof why);
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
        return;
    }
    char *bolt11 = malloc(BOLT11_MAX_LEN + 1);
    uint8_t hash[32];
    if (cln_created_parse(resp->result, bolt11, BOLT11_MAX_LEN + 1, hash, warning,
                          sizeof warning, err, sizeof err) != 0) {
        snprintf(why, sizeof why, "Core Lightning's invoice answer is unusable: %s", err);
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
    }
    else {
        if (*warning)
            log_warn("Core Lightning made the invoice with a warning (it may not be payable): "
                     "%s", warning);
        wallet_core_invoice_made(self->core, call->req, bolt11, hash, "", NULL);
    }
    free(bolt11);
}

static void
s_looked_up(cln_t *self, cln_call_t *call, const cln_response_t *resp)
{
    char why[WALLET_ERROR_MAX], err[128];
    if (resp->is_error) {
        s_rpc_error("listinvoices", resp, why, sizeof why);
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
        return;
    }
    json_object *list;
    if (!json_object_object_get_ex(resp->result, "invoices", &list)
        || !json_object_is_type(list, json_type_array)) {
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0,
                                "Core Lightning's listinvoices answer has no invoices array");
        return;
    }
    size_t count = json_object_array_length(list);
    for (size_t i = 0; i < count; i++) {
        cln_invoice_t inv;
        if (cln_invoice_parse(json_object_array_get_idx(list, i), &inv, err, sizeof err) != 0) {
            snprintf(why, sizeof why, "Core Lightning's listinvoices answer is unusable: %s",
                     err);
            wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
            return;
        }
        if (memcmp(inv.payment_hash, call->hash, 32) != 0)
            continue;
        wallet_invoice_state_t state = inv.status == CLN_PAID ? WALLET_INVOICE_SETTLED
            : inv.status == CLN_EXPIRED ? WALLET_INVOICE_EXPIRED : WALLET_INVOICE_OPEN;
        wallet_core_lookup_done(self->core, call->hash, state, inv.amount_received_msat,
                                inv.paid_at, NULL);
        return;
    }
    wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_UNKNOWN, 0, 0, NULL);
}

static void
s_keep_index(cln_t *self)
{
    char value[24];
    snprintf(value, sizeof value, "%" PRIu64, self->pay_index);
    msg_t kv = {.type = MSG_LEDGER_KV_SET,
                .ledger_kv_set = {.ref = ++self->ref, .key = CLN_KV_KEY, .value = value}};
    actor_send(self->ctx, "ledger", &kv);
}

/* The long poll answered: a payment (settle, keep the index, poll on), or an error (poll
   again later; 904 is only the poll's own timeout). */
static void
s_waited(cln_t *self, const cln_response_t *resp)
{
    char err[128];
    cln_invoice_t inv;
    int parsed = -1;
    self->waiting = false;
    if (resp->is_error) {
        if (resp->code != 904) {
            char why[WALLET_ERROR_MAX];
            s_rpc_error("waitanyinvoice", resp, why, sizeof why);
            self->rearm_at_ms = actor_now_ms() + self->rearm_backoff_ms;
            log_warn("%s: waiting again in %" PRId64 " ms", why, self->rearm_backoff_ms);
            self->rearm_backoff_ms = s_double(self->rearm_backoff_ms);
            return;
        }
    }
    else if ((parsed = cln_invoice_parse(resp->result, &inv, err, sizeof err)) != 0
             || inv.status != CLN_PAID) {
        if (parsed == 0)
            snprintf(err, sizeof err, "not a paid invoice");
        self->bad_responses++;
        self->rearm_at_ms = actor_now_ms() + self->rearm_backoff_ms;
        log_warn("Core Lightning's waitanyinvoice answer is unusable (%s): waiting again in "
                 "%" PRId64 " ms", err, self->rearm_backoff_ms);
        self->rearm_backoff_ms = s_double(self->rearm_backoff_ms);
        return;
    }
    else {
        self->settlements++;
        wallet_core_settled(self->core, inv.payment_hash, inv.amount_received_msat,
                            inv.paid_at);
        if (inv.pay_index > self->pay_index) {
            self->pay_index = inv.pay_index;
            s_keep_index(self);
        }
    }
    self->rearm_backoff_ms = CLN_BACKOFF_MIN_MS;
    s_arm_wait(self);
}

static void
s_info(cln_t *self, const cln_response_t *resp)
{
    char network[32] = "", version[64] = "";
    if (resp->is_error) {
        char why[WALLET_ERROR_MAX];
        s_rpc_error("getinfo", resp, why, sizeof why);
        log_warn("%s", why);
        return;
    }
    if (wallet_json_str(resp->result, "network", network, sizeof network) == 0 && *network
        && strcmp(network, self->cln_network) != 0
        && !(self->network == BOLT11_TESTNET && strcmp(network, "testnet4") == 0)) {
        snprintf(self->network_error, sizeof self->network_error,
                 "lightningd runs on %s but [provider] network wants %s invoices", network,
                 self->cln_network);
        log_error("%s: no invoices until that is fixed", self->network_error);
    }
    else
        self->network_error[0] = 0;
    if (wallet_json_str(resp->result, "version", version, sizeof version) == 0) {
        s_printable(version);
        snprintf(self->version, sizeof self->version, "%s", version);
    }
}

/* A call is over: resp is its answer, or NULL with error (no answer). Frees call. */
static void
s_call_done(cln_t *self, cln_call_t *call, const cln_response_t *resp, const char *error)
{
    char why[WALLET_ERROR_MAX];
    if (!resp) {
        if (call->kind == CALL_INVOICE) {
            snprintf(why, sizeof why, "%s; the invoice request is not retried", error);
            wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
        }
        else if (call->kind == CALL_LOOKUP)
            wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, error);
        else if (call->kind == CALL_WAIT)
            self->waiting = false;
    }
    else if (call->kind == CALL_INVOICE)
        s_created(self, call, resp);
    else if (call->kind == CALL_LOOKUP)
        s_looked_up(self, call, resp);
    else if (call->kind == CALL_WAIT)
        s_waited(self, resp);
    else
        s_info(self, resp);
    free(call);
}

/* One whole object from a connection. false when the connection was dropped for it. */
static bool
s_dispatch(cln_conn_t *c, const char *json, size_t len)
{
    cln_t *self = c->owner;
    cln_response_t resp;
    char err[128], why[WALLET_ERROR_MAX];
    if (cln_response_parse(json, len, &resp, err, sizeof err) != 0) {
        self->bad_responses++;
        snprintf(why, sizeof why, "lightningd sent a malformed JSON-RPC response (%s)", err);
        s_drop(c, why);
        return false;
    }
    c->backoff_ms = CLN_BACKOFF_MIN_MS;     /* the connection works */
    wallet_core_reachable(self->core, true, NULL);
    cln_call_t *call = s_take(c, resp.id);
    if (call)
        s_call_done(self, call, &resp, NULL);
    else
        log_debug("Core Lightning answered id %" PRIu64 ", which nothing waits for (late)",
                  resp.id);
    json_object_put(resp.result);
    return true;
}

/* Read what arrived and hand out every whole response. */
static void
s_read(cln_conn_t *c)
{
    char why[WALLET_ERROR_MAX], err[128];
    int fd = c->fd;
    for (int i = 0; i < CLN_READS_MAX && c->fd == fd; i++) {
        size_t room;
        char *space = cln_reader_space(&c->reader, &room);
        if (room == 0) {
            c->owner->bad_responses++;
            snprintf(why, sizeof why, "lightningd sent a response larger than %d bytes",
                     CLN_RESPONSE_MAX);
            s_drop(c, why);
            return;
        }
        ssize_t n = recv(fd, space, room, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            size_t partial = cln_reader_pending(&c->reader);
            if (n == 0 && partial)
                snprintf(why, sizeof why, "lightningd closed the connection in the middle of "
                         "a response (%zu bytes of it)", partial);
            else
                snprintf(why, sizeof why, "lightningd closed the connection%s%s",
                         n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            s_drop(c, why);
            return;
        }
        cln_reader_wrote(&c->reader, (size_t) n);
        const char *json;
        size_t len;
        int rc;
        while (c->fd == fd && (rc = cln_reader_next(&c->reader, &json, &len, err,
                                                    sizeof err)) != 0) {
            if (rc < 0) {
                c->owner->bad_responses++;
                snprintf(why, sizeof why, "lightningd sent %s", err);
                s_drop(c, why);
                return;
            }
            s_dispatch(c, json, len);
        }
    }
    if (c->fd == fd)
        c->partial_ms = cln_reader_pending(&c->reader) == 0 ? 0
                      : c->partial_ms ? c->partial_ms : actor_now_ms();
}

static void
s_on_fd(void *arg, int fd, short revents)
{
    cln_conn_t *c = arg;
    if (fd != c->fd)
        return;
    if (c->connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
            error = errno;
        if (error)
            s_connect_failed(c, error);
        else
            s_connected(c);
        return;
    }
    if (revents & ZMQ_POLLOUT)
        s_flush(c);
    if (c->fd == fd && (revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
        s_read(c);
}

/* Arm the long poll, when the index is known and the wait connection is open. */
static void
s_arm_wait(cln_t *self)
{
    if (!self->index_known || self->waiting || self->wait.fd < 0 || self->wait.connecting
        || self->rearm_at_ms > actor_now_ms())
        return;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "lastpay_index", json_object_new_int64((int64_t) self->pay_index));
    self->waiting = true;
    s_send(&self->wait, CALL_WAIT, "waitanyinvoice", params, 0, NULL);
}

/* ---- the ledger's pay index ---------------------------------------------------------------- */

static void
s_ask_index(cln_t *self)
{
    self->kv_ref = ++self->ref;
    self->kv_asked_ms = actor_now_ms();
    msg_t ask = {.type = MSG_LEDGER_QUERY,
                 .ledger_query = {.ref = self->kv_ref, .what = "kv",
                                  .args = "{\"key\":\"" CLN_KV_KEY "\"}"}};
    actor_send(self->ctx, "ledger", &ask);
}

/* The ledger's answer to the pay-index query: {"value": "N"} or {"value": null}. */
static void
s_index_answer(cln_t *self, const msg_ledger_rows_t *rows)
{
    char err[128];
    json_object *top = rows->ok ? wallet_json_object(rows->json, strlen(rows->json), err,
                                                     sizeof err) : NULL;
    uint64_t index = 0;
    bool ok = top && wallet_json_u64(top, "value", &index, NULL) == 0;
    json_object_put(top);
    if (!ok) {
        log_error("the ledger's " CLN_KV_KEY " is unusable (%.200s): asking again", rows->json);
        self->kv_asked_ms = actor_now_ms();
        self->kv_ref = ++self->ref;     /* no answer carries this ref: the tick asks again */
        return;
    }
    self->kv_ref = 0;
    self->index_known = true;
    self->pay_index = index;
    log_info("Core Lightning payments resume after pay_index %" PRIu64, index);
    s_arm_wait(self);
}

static bool
s_handle(void *state, const msg_t *msg)
{
    cln_t *self = state;
    if (msg->type == MSG_LEDGER_ROWS && self->kv_ref && msg->ledger_rows.ref == self->kv_ref) {
        s_index_answer(self, &msg->ledger_rows);
        return true;
    }
    return false;
}

/* ---- the tick ------------------------------------------------------------------------------ */

/* Fail the calls past their deadline, and drop a connection whose response stopped halfway
   (when a call times out with part of a response held, that part is most likely its answer:
   the connection is dropped rather than let the next response be read after it). */
static void
s_deadlines(cln_conn_t *c, int64_t now)
{
    cln_t *self = c->owner;
    char why[WALLET_ERROR_MAX];
    if (c->fd >= 0 && c->connecting && now - c->opened_ms >= self->timeout_ms) {
        s_connect_failed(c, ETIMEDOUT);
        return;
    }
    bool late = false;
    for (cln_call_t *call = c->calls; call; call = call->next)
        late |= call->deadline_ms && now >= call->deadline_ms;
    size_t partial = cln_reader_pending(&c->reader);
    if (c->fd >= 0 && partial && (late || now - c->partial_ms >= self->timeout_ms)) {
        self->bad_responses++;
        snprintf(why, sizeof why, "lightningd's response stopped after %zu bytes (nothing more "
                 "for %" PRId64 " ms)", partial, now - c->partial_ms);
        s_drop(c, why);
        return;
    }
    for (cln_call_t **at = &c->calls; late && *at;) {
        cln_call_t *call = *at;
        if (call->deadline_ms == 0 || now < call->deadline_ms) {
            at = &call->next;
            continue;
        }
        *at = call->next;
        snprintf(why, sizeof why, "lightningd did not answer within %" PRId64 " ms",
                 self->timeout_ms);
        s_call_done(self, call, NULL, why);
    }
}

static void
s_tick(void *state)
{
    cln_t *self = state;
    int64_t now = actor_now_ms();
    if (!self->index_known && self->kv_ref && now - self->kv_asked_ms >= CLN_KV_RETRY_MS)
        s_ask_index(self);
    cln_conn_t *conns[] = {&self->rpc, &self->wait};
    for (int i = 0; i < 2; i++) {
        s_deadlines(conns[i], now);
        if (conns[i]->fd < 0 && now >= conns[i]->reconnect_at_ms)
            s_connect(conns[i]);
    }
    s_arm_wait(self);
}

/* ---- life ---------------------------------------------------------------------------------- */

static void s_destroy(void **state_p);

static void *
s_create(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args, char *err,
         size_t err_size)
{
    const config_t *cfg = args->cfg;
    cln_t *self = calloc(1, sizeof *self);
    size_t path_len = strlen(cfg->cln_rpc);
    if (path_len == 0 || path_len >= sizeof self->path) {
        snprintf(err, err_size, "[wallet] cln_rpc must be the path of lightningd's "
                 "lightning-rpc socket (at most %zu bytes), e.g. "
                 "~/.lightning/bitcoin/lightning-rpc", sizeof self->path - 1);
        free(self);
        return NULL;
    }
    if (sodium_init() < 0) {
        snprintf(err, err_size, "libsodium cannot start (for the invoice labels)");
        free(self);
        return NULL;
    }
    self->core = core;
    self->ctx = ctx;
    memcpy(self->path, cfg->cln_rpc, path_len + 1);
    cln_conn_t *conns[] = {&self->rpc, &self->wait};
    for (int i = 0; i < 2; i++) {
        *conns[i] = (cln_conn_t) {.owner = self, .name = i ? "wait" : "rpc", .fd = -1,
                                  .backoff_ms = CLN_BACKOFF_MIN_MS, .out = malloc(CLN_OUT_MAX)};
        if (!conns[i]->out || cln_reader_init(&conns[i]->reader, CLN_RESPONSE_MAX) != 0) {
            snprintf(err, err_size, "out of memory");
            void *state = self;
            s_destroy(&state);
            return NULL;
        }
    }
    if (!(self->io = wallet_io_new(ctx, err, err_size))) {
        void *state = self;
        s_destroy(&state);
        return NULL;
    }
    uint8_t random[8];
    char hex[2 * sizeof random + 1];
    randombytes_buf(random, sizeof random);
    sodium_bin2hex(hex, sizeof hex, random, sizeof random);
    snprintf(self->label_prefix, sizeof self->label_prefix, "pylon-%s", hex);
    self->network = strcmp(cfg->network, "mainnet") == 0 ? BOLT11_MAINNET
                  : strcmp(cfg->network, "testnet") == 0 ? BOLT11_TESTNET
                  : strcmp(cfg->network, "signet") == 0 ? BOLT11_SIGNET : BOLT11_REGTEST;
    self->cln_network = self->network == BOLT11_MAINNET ? "bitcoin"
                      : self->network == BOLT11_TESTNET ? "testnet"
                      : self->network == BOLT11_SIGNET ? "signet" : "regtest";
    self->timeout_ms = cfg->wallet_request_timeout_ms > 0 ? cfg->wallet_request_timeout_ms
                                                          : 15000;
    self->ref = CLN_REF_BASE;
    self->rearm_backoff_ms = CLN_BACKOFF_MIN_MS;
    s_ask_index(self);
    s_connect(&self->rpc);
    s_connect(&self->wait);
    log_info("Core Lightning wallet at %s", self->path);
    return self;
}

static void
s_destroy(void **state_p)
{
    cln_t *self = *state_p;
    if (!self)
        return;
    wallet_io_destroy(&self->io);       /* unwatches both sockets */
    cln_conn_t *conns[] = {&self->rpc, &self->wait};
    for (int i = 0; i < 2; i++) {
        cln_conn_t *c = conns[i];
        if (c->fd >= 0)
            close(c->fd);
        while (c->calls) {
            cln_call_t *next = c->calls->next;
            free(c->calls);
            c->calls = next;
        }
        cln_reader_free(&c->reader);
        free(c->out);
    }
    free(self);
    *state_p = NULL;
}

/* The rpc connection, opened now if it is closed (a request does not wait for the backoff).
   NULL when the socket cannot be reached. */
static cln_conn_t *
s_rpc(cln_t *self)
{
    if (self->rpc.fd < 0)
        s_connect(&self->rpc);
    return self->rpc.fd >= 0 ? &self->rpc : NULL;
}

static void
s_make_invoice(void *state, uint64_t req, uint64_t amount_msats, const char *description,
               uint64_t expiry_s)
{
    cln_t *self = state;
    if (*self->network_error) {
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, self->network_error);
        return;
    }
    cln_conn_t *c = s_rpc(self);
    if (!c) {
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, self->down_error);
        return;
    }
    char label[64];
    snprintf(label, sizeof label, "%s-%" PRIu64, self->label_prefix, req);
    json_object *params = json_object_new_object();
    json_object_object_add(params, "amount_msat", json_object_new_int64((int64_t) amount_msats));
    json_object_object_add(params, "label", json_object_new_string(label));
    json_object_object_add(params, "description", json_object_new_string(description));
    json_object_object_add(params, "expiry", json_object_new_int64((int64_t) expiry_s));
    s_send(c, CALL_INVOICE, "invoice", params, req, NULL);
}

static void
s_lookup(void *state, const uint8_t payment_hash[32])
{
    cln_t *self = state;
    cln_conn_t *c = s_rpc(self);
    if (!c) {
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_FAILED, 0, 0,
                                self->down_error);
        return;
    }
    char hex[65];
    wallet_hex(payment_hash, hex);
    json_object *params = json_object_new_object();
    json_object_object_add(params, "payment_hash", json_object_new_string(hex));
    s_send(c, CALL_LOOKUP, "listinvoices", params, 0, payment_hash);
}

static void
s_status(void *state, json_object *status)
{
    cln_t *self = state;
    json_object *cln = json_object_new_object();
    json_object_object_add(cln, "rpc", json_object_new_string(self->path));
    json_object_object_add(cln, "connected", json_object_new_boolean(self->rpc.fd >= 0
                                                                     && !self->rpc.connecting));
    json_object_object_add(cln, "waiting", json_object_new_boolean(self->waiting));
    json_object_object_add(cln, "version", json_object_new_string(self->version));
    json_object_object_add(cln, "pay_index", json_object_new_int64((int64_t) self->pay_index));
    json_object_object_add(cln, "settlements", json_object_new_int64((int64_t) self->settlements));
    json_object_object_add(cln, "reconnects", json_object_new_int64((int64_t) self->reconnects));
    json_object_object_add(cln, "bad_responses",
                           json_object_new_int64((int64_t) self->bad_responses));
    json_object_object_add(cln, "error", json_object_new_string(*self->network_error
                                                                ? self->network_error
                                                                : self->down_error));
    json_object_object_add(status, "cln", cln);
}

static bolt11_network_t
s_network(void *state)
{
    return ((cln_t *) state)->network;
}

const wallet_backend_def_t wallet_backend_cln = {
    .name = "cln",
    .create = s_create,
    .destroy = s_destroy,
    .make_invoice = s_make_invoice,
    .lookup = s_lookup,
    .handle = s_handle,
    .status = s_status,
    .tick = s_tick,
    .tick_ms = CLN_TICK_MS,
    .network = s_network,
};
