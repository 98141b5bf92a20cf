/*  lnd.c: the LND wallet backend, over LND's REST gateway (HTTPS, grpc-gateway JSON).

        make_invoice   POST /v1/invoices {"value_msat","memo","expiry"} → {r_hash (base64),
                       payment_request, add_index}; never retried
        lookup         GET /v1/invoice/{hex hash} → state OPEN | ACCEPTED | SETTLED | CANCELED;
                       404 → unknown (the core's reconciliation and expiry checks)
        settlements    GET /v1/invoices/subscribe?settle_index=N, a stream of {"result":
                       <Invoice>} lines; each SETTLED one settles at once and its settle_index
                       is kept in the ledger (LEDGER_KV_SET "lnd.settle_index"). At start the
                       index is read back (LEDGER_QUERY kv) before the stream opens, and after
                       any disconnect the stream reopens from the last index (LND replays the
                       settlements after it) with a backoff of 1 s doubling to 30 s
        balance        GET /v1/balance/channels every minute, when the macaroon allows it
                       (invoice.macaroon does not: then it is not asked again)

    Authentication: the macaroon file's bytes, hex-encoded, in Grpc-Metadata-macaroon (kept in
    locked memory, wiped on destroy, never logged). TLS: the node's own tls.cert is the only
    trusted certificate. A refused macaroon (401/403, or LND's 500 texts about macaroons) or
    a certificate that does not match is a configuration error: reported on every create and
    not retried, and the stream stays closed. */
#include "log.h"
#include "wallet/backend.h"
#include "wallet/lnd.h"
#include "wallet/wallet_io.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LND_MACAROON_MAX    4096            /* largest macaroon file accepted */
#define LND_URL_MAX         1024            /* longest base URL accepted */
#define LND_BODY_MAX        (1024 * 1024)   /* longest answer read */
#define LND_STREAM_MAX      ((size_t) 1 << 30)  /* a stream is reopened after this many bytes */
#define LND_BALANCE_MS      60000           /* balance interval */
#define LND_TICK_MS         250             /* the backend's tick */
#define LND_BACKOFF_MIN_MS  1000            /* first reconnect delay */
#define LND_BACKOFF_MAX_MS  30000           /* longest reconnect delay */
#define LND_STABLE_MS       10000           /* a stream up this long resets the backoff */
#define LND_KV_RETRY_MS     5000            /* ask the ledger again for the settle index */
#define LND_KV_KEY          "lnd.settle_index"
#define LND_REF_BASE        ((uint64_t) 1 << 62)    /* our ledger refs, apart from the core's */

/* ---- parsing LND's answers ----------------------------------------------------------------- */

/* Replace control characters so a server's text is safe in a log line. */
static void
s_printable(char *text)
{
    for (; *text; text++)
        if ((unsigned char) *text < 0x20 || *text == 0x7f)
            *text = ' ';
}

static int
s_invoice_from(json_object *obj, lnd_invoice_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    char b64[64];
    size_t hash_len = 0;
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, err_size, "the invoice is not a JSON object");
        return -1;
    }
    if (wallet_json_str(obj, "r_hash", b64, sizeof b64) || !*b64
        || sodium_base642bin(out->r_hash, 32, b64, strlen(b64), NULL, &hash_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL) != 0
        || hash_len != 32) {
        snprintf(err, err_size, "r_hash is not 32 bytes of base64");
        return -1;
    }
    if (wallet_json_str(obj, "state", out->state, sizeof out->state)) {
        snprintf(err, err_size, "state is not a short string");
        return -1;
    }
    const char *bad = wallet_json_u64(obj, "amt_paid_msat", &out->amt_paid_msat, NULL)
                      ? "amt_paid_msat"
                    : wallet_json_u64(obj, "settle_date", &out->settle_date, NULL) ? "settle_date"
                    : wallet_json_u64(obj, "settle_index", &out->settle_index, NULL)
                      ? "settle_index"
                    : wallet_json_u64(obj, "add_index", &out->add_index, NULL) ? "add_index"
                    : NULL;
    if (bad) {
        snprintf(err, err_size, "%s is not a non-negative integer", bad);
        return -1;
    }
    return 0;
}

int
lnd_invoice_parse(const char *json, size_t len, lnd_invoice_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    json_object *top = wallet_json_object(json, len, err, err_size);
    if (!top)
        return -1;
    int rc = s_invoice_from(top, out, err, err_size);
    json_object_put(top);
    return rc;
}

int
lnd_stream_line(const char *line, size_t len, lnd_event_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (len > LND_LINE_MAX) {
        snprintf(err, err_size, "stream line longer than %d bytes", LND_LINE_MAX);
        return -1;
    }
    json_object *top = wallet_json_object(line, len, err, err_size);
    if (!top)
        return -1;
    json_object *result = NULL, *error = NULL;
    json_object_object_get_ex(top, "result", &result);
    json_object_object_get_ex(top, "error", &error);
    int rc = -1;
    if (error && !json_object_is_type(error, json_type_null)) {
        json_object *code;
        if (!json_object_is_type(error, json_type_object)) {
            snprintf(err, err_size, "error is not an object");
            goto done;
        }
        out->is_error = true;
        json_object *msg;
        if (json_object_object_get_ex(error, "message", &msg)
            && json_object_is_type(msg, json_type_string))
            snprintf(out->message, sizeof out->message, "%s", json_object_get_string(msg));
        s_printable(out->message);
        if (json_object_object_get_ex(error, "code", &code) && json_object_is_type(code, json_type_int))
            out->code = (long) json_object_get_int64(code);
        rc = 0;
    }
    else if (result)
        rc = s_invoice_from(result, &out->invoice, err, err_size);
    else
        snprintf(err, err_size, "a stream line with neither result nor error");
done:
    json_object_put(top);
    return rc;
}

/* ---- the backend --------------------------------------------------------------------------- */

typedef enum { CALL_CREATE, CALL_LOOKUP, CALL_BALANCE, CALL_STREAM } call_kind_t;

typedef struct lnd lnd_t;

/* One request in flight (the completion's argument), in the backend's list of them. */
typedef struct lnd_call lnd_call_t;
struct lnd_call {
    lnd_t *owner;               /* the backend */
    lnd_call_t *prev, *next;    /* the list of calls in flight (freed on destroy) */
    call_kind_t kind;           /* what it asks */
    uint64_t req;               /* CALL_CREATE: the core's request id */
    uint8_t hash[32];           /* CALL_LOOKUP: the payment hash */
};

struct lnd {
    wallet_core_t *core;        /* the actor core */
    actor_ctx_t *ctx;           /* for the ledger messages */
    wallet_io_t *io;            /* HTTP client in the actor's loop */
    char url[LND_URL_MAX + 1];  /* base URL without a trailing slash */
    char *ca_file;              /* [wallet] lnd_tls_cert: the only trusted certificate */
    char *mac_header;           /* "Grpc-Metadata-macaroon: <hex>" (sodium_malloc, wiped) */
    bolt11_network_t network;   /* [provider] network */
    long timeout_ms;            /* total deadline of one request */
    lnd_call_t *calls;          /* requests in flight */
    bool fatal;                 /* macaroon or certificate refused: stop asking */
    char fatal_error[WALLET_ERROR_MAX];     /* ... why */
    /* the settlement stream */
    bool index_known;           /* settle_index was read back from the ledger */
    uint64_t settle_index;      /* last settlement seen (kept in the ledger) */
    uint64_t kv_ref;            /* ref of the kv query in flight, 0 once answered */
    int64_t kv_asked_ms;        /* when it was (last) sent */
    lnd_call_t *stream;         /* the subscription in flight, NULL when closed */
    uint64_t stream_id;         /* its request id */
    int64_t stream_opened_ms;   /* when it was opened */
    int64_t reconnect_at_ms;    /* when to open it again (0: now, if closed) */
    int64_t backoff_ms;         /* the next reconnect delay */
    char *line;                 /* a partial stream line (LND_LINE_MAX + 1 bytes) */
    size_t line_len;            /* bytes in line */
    bool line_skip;             /* the current line was too long: drop it up to its newline */
    uint64_t ref;               /* last ledger ref used (above LND_REF_BASE) */
    /* the balance */
    bool balance_denied;        /* the macaroon does not allow /v1/balance/channels */
    bool balance_inflight;      /* a balance request is running */
    int64_t next_balance_ms;    /* when to ask next */
    uint64_t events, settlements, reconnects, bad_lines;    /* counters for the status */
};

static void s_on_done(void *arg, const http_result_t *res);
static int s_on_chunk(void *arg, long status, const char *data, size_t len);

static void
s_unlink(lnd_t *self, lnd_call_t *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        self->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    free(call);
}

/* Start a call; on failure to start, complete it at once as a transport error. */
static uint64_t
s_call(lnd_t *self, call_kind_t kind, const char *method, const char *path, const char *body,
       uint64_t req, const uint8_t *hash)
{
    lnd_call_t *call = calloc(1, sizeof *call);
    *call = (lnd_call_t) {.owner = self, .kind = kind, .req = req, .next = self->calls};
    if (hash)
        memcpy(call->hash, hash, 32);
    if (self->calls)
        self->calls->prev = call;
    self->calls = call;
    if (kind == CALL_STREAM)
        self->stream = call;
    char url[LND_URL_MAX + 160];
    snprintf(url, sizeof url, "%s%s", self->url, path);
    const char *headers[] = {self->mac_header, "Accept: application/json", NULL};
    bool stream = kind == CALL_STREAM;
    http_request_t request = {
        .method = method, .url = url, .ca_file = self->ca_file, .headers = headers,
        .body = body, .body_len = body ? strlen(body) : 0,
        .connect_timeout_ms = self->timeout_ms < 5000 ? self->timeout_ms : 5000,
        /* A stream is silent while nothing happens: no total or idle deadline. */
        .total_timeout_ms = stream ? 0 : self->timeout_ms,
        .max_response = stream ? LND_STREAM_MAX : LND_BODY_MAX,
        .on_chunk = stream ? s_on_chunk : NULL,
        .on_done = s_on_done, .arg = call,
    };
    char err[WALLET_ERROR_MAX];
    uint64_t id = wallet_io_http(self->io, &request, err, sizeof err);
    if (id == 0) {
        http_result_t failed = {.error = HTTP_ERR_INVALID, .message = err, .body = "",
                                .content_type = ""};
        s_on_done(call, &failed);
    }
    return id;
}

/* LND's error text, from its rpcStatus body, bounded and printable. */
static void
s_message(const http_result_t *res, char *out, size_t size)
{
    char err[64];
    out[0] = 0;
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    if (top && wallet_json_str(top, "message", out, size) != 0)
        out[0] = 0;
    json_object_put(top);
    s_printable(out);
}

/* Is this answer LND refusing the macaroon? (Many of those are plain 500s: match the text.) */
static bool
s_auth_refused(const http_result_t *res, const char *message)
{
    return res->status == 401 || res->status == 403
        || (res->status == 500 && (strstr(message, "macaroon") || strstr(message, "verification failed")
                                   || strstr(message, "permission denied")));
}

/* Why a call failed, in words; marks a fatal configuration error. true when it failed. */
static bool
s_failed(lnd_t *self, const http_result_t *res, const char *what, char *why, size_t size)
{
    char message[300];
    if (res->error == HTTP_ERR_TLS) {
        snprintf(why, size, "LND's TLS certificate is not the one in [wallet] lnd_tls_cert "
                 "(%s): %.300s", what, res->message);
        self->fatal = true;
    }
    else if (res->error != HTTP_OK) {
        snprintf(why, size, "LND at %.200s cannot be reached (%s): %.250s", self->url, what,
                 res->message);
        wallet_core_reachable(self->core, false, why);
        return true;
    }
    else if (res->status >= 200 && res->status < 300)
        return false;
    else {
        s_message(res, message, sizeof message);
        if (s_auth_refused(res, message)) {
            snprintf(why, size, "LND refused the macaroon (%s: HTTP %ld %.200s): check [wallet] "
                     "lnd_macaroon (invoice.macaroon)", what, res->status, message);
            self->fatal = true;
        }
        else {
            snprintf(why, size, "LND answered %s with HTTP %ld %.300s", what, res->status,
                     message);
            if (res->status >= 500)
                wallet_core_reachable(self->core, false, why);
            return true;
        }
    }
    snprintf(self->fatal_error, sizeof self->fatal_error, "%s", why);
    log_error("%s", why);
    wallet_core_reachable(self->core, false, why);
    return true;
}

static void
s_created(lnd_t *self, lnd_call_t *call, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX], err[128], b64[64];
    if (s_failed(self, res, "the invoice creation", why, sizeof why)) {
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
        return;
    }
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    char *bolt11 = malloc(BOLT11_MAX_LEN + 1);
    uint8_t hash[32];
    size_t hash_len = 0;
    const char *bad = !top ? "is not a JSON object"
        : wallet_json_str(top, "r_hash", b64, sizeof b64) || !*b64
          || sodium_base642bin(hash, 32, b64, strlen(b64), NULL, &hash_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) != 0 || hash_len != 32
          ? "has no r_hash of 32 bytes in base64"
        : wallet_json_str(top, "payment_request", bolt11, BOLT11_MAX_LEN + 1) || !*bolt11
          ? "has no payment_request"
        : NULL;
    json_object_put(top);
    if (bad) {
        snprintf(why, sizeof why, "LND's AddInvoice answer %s", bad);
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
    }
    else {
        wallet_core_reachable(self->core, true, NULL);
        wallet_core_invoice_made(self->core, call->req, bolt11, hash, "", NULL);
    }
    free(bolt11);
}

static void
s_looked_up(lnd_t *self, lnd_call_t *call, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX];
    if (res->error == HTTP_OK && res->status == 404) {
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_UNKNOWN, 0, 0, NULL);
        return;
    }
    if (s_failed(self, res, "an invoice lookup", why, sizeof why)) {
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
        return;
    }
    lnd_invoice_t inv;
    char err[128];
    if (lnd_invoice_parse(res->body, res->body_len, &inv, err, sizeof err) != 0
        || memcmp(inv.r_hash, call->hash, 32) != 0) {
        snprintf(why, sizeof why, "LND's LookupInvoice answer is unusable: %s",
                 memcmp(inv.r_hash, call->hash, 32) ? "another invoice's r_hash" : err);
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
        return;
    }
    wallet_core_reachable(self->core, true, NULL);
    wallet_invoice_state_t state = strcmp(inv.state, "SETTLED") == 0 ? WALLET_INVOICE_SETTLED
        : strcmp(inv.state, "CANCELED") == 0 ? WALLET_INVOICE_EXPIRED : WALLET_INVOICE_OPEN;
    wallet_core_lookup_done(self->core, call->hash, state, inv.amt_paid_msat, inv.settle_date,
                            NULL);
}

static void
s_balanced(lnd_t *self, const http_result_t *res)
{
    char message[300], err[128];
    self->balance_inflight = false;
    if (res->error == HTTP_OK && (res->status == 403 || res->status == 500)) {
        s_message(res, message, sizeof message);
        if (res->status == 403 || strstr(message, "permission denied")) {
            self->balance_denied = true;
            log_info("the LND macaroon does not allow /v1/balance/channels: no balance shown");
            return;
        }
    }
    if (res->error != HTTP_OK || res->status != 200)
        return;     /* asked again in a minute */
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err), *local;
    uint64_t msat = 0;
    bool present = false;
    if (top && json_object_object_get_ex(top, "local_balance", &local)
        && wallet_json_u64(local, "msat", &msat, &present) == 0 && present)
        wallet_core_balance(self->core, msat);
    json_object_put(top);
}

/* ---- the stream ---------------------------------------------------------------------------- */

static void
s_keep_index(lnd_t *self)
{
    char value[24];
    snprintf(value, sizeof value, "%" PRIu64, self->settle_index);
    msg_t kv = {.type = MSG_LEDGER_KV_SET,
                .ledger_kv_set = {.ref = ++self->ref, .key = LND_KV_KEY, .value = value}};
    actor_send(self->ctx, "ledger", &kv);
}

static void
s_stream_line(lnd_t *self, const char *line, size_t len)
{
    lnd_event_t ev;
    char err[256];
    if (len == 0)
        return;
    if (lnd_stream_line(line, len, &ev, err, sizeof err) != 0) {
        self->bad_lines++;
        log_warn("unusable line in LND's invoice stream: %s", err);
        return;
    }
    if (ev.is_error) {
        log_warn("LND's invoice stream reports an error (code %ld): %s", ev.code, ev.message);
        return;     /* LND closes the stream after it: the completion reconnects */
    }
    self->events++;
    self->backoff_ms = LND_BACKOFF_MIN_MS;
    if (strcmp(ev.invoice.state, "SETTLED") != 0)
        return;
    self->settlements++;
    wallet_core_settled(self->core, ev.invoice.r_hash, ev.invoice.amt_paid_msat,
                        ev.invoice.settle_date);
    if (ev.invoice.settle_index > self->settle_index) {
        self->settle_index = ev.invoice.settle_index;
        s_keep_index(self);
    }
}

static int
s_on_chunk(void *arg, long status, const char *data, size_t len)
{
    lnd_call_t *call = arg;
    lnd_t *self = call->owner;
    (void) status;
    wallet_core_reachable(self->core, true, NULL);
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t) (nl - data) : len;
        if (self->line_skip || self->line_len + take > LND_LINE_MAX) {
            if (!self->line_skip) {
                self->bad_lines++;
                log_warn("a line of LND's invoice stream is longer than %d bytes: skipped",
                         LND_LINE_MAX);
            }
            self->line_skip = !nl;
            self->line_len = 0;
        }
        else {
            memcpy(self->line + self->line_len, data, take);
            self->line_len += take;
            if (nl) {
                s_stream_line(self, self->line, self->line_len);
                self->line_len = 0;
            }
        }
        data += take + (nl != NULL);
        len -= take + (nl != NULL);
    }
    return 0;
}

static void
s_open_stream(lnd_t *self)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/invoices/subscribe?settle_index=%" PRIu64, self->settle_index);
    self->line_len = 0;
    self->line_skip = false;
    self->stream_opened_ms = actor_now_ms();
    self->stream_id = s_call(self, CALL_STREAM, "GET", path, NULL, 0, NULL);
}

static void
s_stream_closed(lnd_t *self, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX];
    self->stream = NULL;
    if (res->error == HTTP_ERR_CANCELLED)
        return;
    if (s_failed(self, res, "the invoice subscription", why, sizeof why) && self->fatal)
        return;     /* a configuration error: reopening would fail the same way */
    if (res->error == HTTP_OK && res->status >= 200 && res->status < 300)
        snprintf(why, sizeof why, "LND closed the invoice stream");
    int64_t now = actor_now_ms();
    if (now - self->stream_opened_ms >= LND_STABLE_MS)
        self->backoff_ms = LND_BACKOFF_MIN_MS;
    self->reconnect_at_ms = now + self->backoff_ms;
    log_warn("%s: reopening from settle_index %" PRIu64 " in %" PRId64 " ms", why,
             self->settle_index, self->backoff_ms);
    self->backoff_ms = self->backoff_ms * 2 > LND_BACKOFF_MAX_MS ? LND_BACKOFF_MAX_MS
                                                                 : self->backoff_ms * 2;
    self->reconnects++;
}

static void
s_on_done(void *arg, const http_result_t *res)
{
    lnd_call_t *call = arg;
    lnd_t *self = call->owner;
    switch (call->kind) {
    case CALL_CREATE:
        s_created(self, call, res);
        break;
    case CALL_LOOKUP:
        s_looked_up(self, call, res);
        break;
    case CALL_BALANCE:
        s_balanced(self, res);
        break;
    case CALL_STREAM:
        s_stream_closed(self, res);     /* its lines went through s_on_chunk */
        break;
    }
    s_unlink(self, call);
}

static void
s_ask_index(lnd_t *self)
{
    self->kv_ref = ++self->ref;
    self->kv_asked_ms = actor_now_ms();
    msg_t ask = {.type = MSG_LEDGER_QUERY,
                 .ledger_query = {.ref = self->kv_ref, .what = "kv",
                                  .args = "{\"key\":\"" LND_KV_KEY "\"}"}};
    actor_send(self->ctx, "ledger", &ask);
}

/* The ledger's answer to the settle-index query: {"value": "N"} or {"value": null}. */
static void
s_index_answer(lnd_t *self, const msg_ledger_rows_t *rows)
{
    self->kv_ref = 0;
    char err[128];
    json_object *top = rows->ok ? wallet_json_object(rows->json, strlen(rows->json), err,
                                                     sizeof err) : NULL;
    uint64_t index = 0;
    bool ok = top && wallet_json_u64(top, "value", &index, NULL) == 0;
    json_object_put(top);
    if (!ok) {
        log_error("the ledger's lnd.settle_index is unusable (%.200s): asking again",
                  rows->json);
        self->kv_asked_ms = actor_now_ms();
        self->kv_ref = ++self->ref;     /* no answer carries this ref: the tick asks again */
        return;
    }
    self->index_known = true;
    self->settle_index = index;
    log_info("LND invoice stream resumes after settle_index %" PRIu64, index);
    s_open_stream(self);
}

static bool
s_handle(void *state, const msg_t *msg)
{
    lnd_t *self = state;
    if (msg->type == MSG_LEDGER_ROWS && self->kv_ref && msg->ledger_rows.ref == self->kv_ref) {
        s_index_answer(self, &msg->ledger_rows);
        return true;
    }
    return false;
}

static void
s_tick(void *state)
{
    lnd_t *self = state;
    int64_t now = actor_now_ms();
    if (self->fatal)
        return;
    if (!self->index_known && self->kv_ref && now - self->kv_asked_ms >= LND_KV_RETRY_MS)
        s_ask_index(self);
    if (self->index_known && !self->stream && now >= self->reconnect_at_ms)
        s_open_stream(self);
    if (!self->balance_denied && !self->balance_inflight && now >= self->next_balance_ms) {
        self->next_balance_ms = now + LND_BALANCE_MS;
        self->balance_inflight = true;
        s_call(self, CALL_BALANCE, "GET", "/v1/balance/channels", NULL, 0, NULL);
    }
}

/* ---- life ---------------------------------------------------------------------------------- */

/* Read the macaroon file into the header (hex). 0, or -1 with err. */
static int
s_read_macaroon(lnd_t *self, const char *path, char *err, size_t err_size)
{
    FILE *file = *path ? fopen(path, "rb") : NULL;
    if (!file) {
        snprintf(err, err_size, "cannot read the LND macaroon at '%.300s': set [wallet] "
                 "lnd_macaroon to invoice.macaroon", path);
        return -1;
    }
    uint8_t *raw = sodium_malloc(LND_MACAROON_MAX + 1);
    size_t len = raw ? fread(raw, 1, LND_MACAROON_MAX + 1, file) : 0;
    fclose(file);
    size_t size = sizeof "Grpc-Metadata-macaroon: " + 2 * LND_MACAROON_MAX;
    self->mac_header = raw && len > 0 && len <= LND_MACAROON_MAX ? sodium_malloc(size) : NULL;
    if (self->mac_header) {
        int n = snprintf(self->mac_header, size, "Grpc-Metadata-macaroon: ");
        sodium_bin2hex(self->mac_header + n, size - (size_t) n, raw, len);
    }
    if (raw)
        sodium_free(raw);
    if (!self->mac_header) {
        snprintf(err, err_size, "the LND macaroon at '%.300s' is empty or larger than %d bytes",
                 path, LND_MACAROON_MAX);
        return -1;
    }
    return 0;
}

static void s_destroy(void **state_p);

static void *
s_create(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args, char *err,
         size_t err_size)
{
    const config_t *cfg = args->cfg;
    size_t url_len = strlen(cfg->lnd_url);
    if (url_len == 0 || url_len > LND_URL_MAX || strncmp(cfg->lnd_url, "https://", 8) != 0) {
        snprintf(err, err_size, "[wallet] lnd_url must be an https:// URL of at most %d bytes "
                 "(LND's REST port, 8080 by default)", LND_URL_MAX);
        return NULL;
    }
    if (!*cfg->lnd_tls_cert || access(cfg->lnd_tls_cert, R_OK) != 0) {
        snprintf(err, err_size, "cannot read LND's certificate at '%.300s': set [wallet] "
                 "lnd_tls_cert to the node's tls.cert", cfg->lnd_tls_cert);
        return NULL;
    }
    lnd_t *self = calloc(1, sizeof *self);
    self->core = core;
    self->ctx = ctx;
    if (s_read_macaroon(self, cfg->lnd_macaroon, err, err_size) != 0
        || !(self->io = wallet_io_new(ctx, err, err_size))) {
        void *state = self;
        s_destroy(&state);
        return NULL;
    }
    self->ca_file = strdup(cfg->lnd_tls_cert);
    self->line = malloc(LND_LINE_MAX + 1);
    snprintf(self->url, sizeof self->url, "%s", cfg->lnd_url);
    while (url_len > 0 && self->url[url_len - 1] == '/')
        self->url[--url_len] = 0;
    self->network = strcmp(cfg->network, "mainnet") == 0 ? BOLT11_MAINNET
                  : strcmp(cfg->network, "testnet") == 0 ? BOLT11_TESTNET
                  : strcmp(cfg->network, "signet") == 0 ? BOLT11_SIGNET : BOLT11_REGTEST;
    self->timeout_ms = cfg->wallet_request_timeout_ms > 0 ? cfg->wallet_request_timeout_ms
                                                          : 15000;
    self->ref = LND_REF_BASE;
    self->backoff_ms = LND_BACKOFF_MIN_MS;
    self->next_balance_ms = actor_now_ms();
    s_ask_index(self);
    log_info("LND wallet at %s", self->url);
    return self;
}

static void
s_destroy(void **state_p)
{
    lnd_t *self = *state_p;
    if (!self)
        return;
    wallet_io_destroy(&self->io);       /* drops the calls in flight: free their args */
    while (self->calls) {
        lnd_call_t *next = self->calls->next;
        free(self->calls);
        self->calls = next;
    }
    if (self->mac_header)
        sodium_free(self->mac_header);  /* wipes the macaroon */
    free(self->ca_file);
    free(self->line);
    free(self);
    *state_p = NULL;
}

static void
s_make_invoice(void *state, uint64_t req, uint64_t amount_msats, const char *description,
               uint64_t expiry_s)
{
    lnd_t *self = state;
    if (self->fatal) {
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, self->fatal_error);
        return;
    }
    char number[24];
    json_object *body = json_object_new_object();
    snprintf(number, sizeof number, "%" PRIu64, amount_msats);
    json_object_object_add(body, "value_msat", json_object_new_string(number));
    json_object_object_add(body, "memo", json_object_new_string(description));
    snprintf(number, sizeof number, "%" PRIu64, expiry_s);
    json_object_object_add(body, "expiry", json_object_new_string(number));
    s_call(self, CALL_CREATE, "POST", "/v1/invoices",
           json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), req, NULL);
    json_object_put(body);
}

static void
s_lookup(void *state, const uint8_t payment_hash[32])
{
    lnd_t *self = state;
    if (self->fatal) {
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_FAILED, 0, 0,
                                self->fatal_error);
        return;
    }
    char path[100], hex[65];
    wallet_hex(payment_hash, hex);
    snprintf(path, sizeof path, "/v1/invoice/%s", hex);
    s_call(self, CALL_LOOKUP, "GET", path, NULL, 0, payment_hash);
}

static void
s_status(void *state, json_object *status)
{
    lnd_t *self = state;
    json_object *lnd = json_object_new_object();
    json_object_object_add(lnd, "url", json_object_new_string(self->url));
    json_object_object_add(lnd, "streaming", json_object_new_boolean(self->stream != NULL));
    json_object_object_add(lnd, "settle_index", json_object_new_int64((int64_t) self->settle_index));
    json_object_object_add(lnd, "events", json_object_new_int64((int64_t) self->events));
    json_object_object_add(lnd, "settlements", json_object_new_int64((int64_t) self->settlements));
    json_object_object_add(lnd, "reconnects", json_object_new_int64((int64_t) self->reconnects));
    json_object_object_add(lnd, "bad_lines", json_object_new_int64((int64_t) self->bad_lines));
    json_object_object_add(lnd, "config_error", json_object_new_string(self->fatal_error));
    json_object_object_add(status, "lnd", lnd);
}

static bolt11_network_t
s_network(void *state)
{
    return ((lnd_t *) state)->network;
}

const wallet_backend_def_t wallet_backend_lnd = {
    .name = "lnd",
    .create = s_create,
    .destroy = s_destroy,
    .make_invoice = s_make_invoice,
    .lookup = s_lookup,
    .handle = s_handle,
    .status = s_status,
    .tick = s_tick,
    .tick_ms = LND_TICK_MS,
    .network = s_network,
};
