/*  lnbits.c: the LNbits wallet backend (LNbits v1.x REST, and the pre-1.0 create answer).

        make_invoice   POST {lnbits_url}/api/v1/payments {"out":false,"amount":<sats>,
                       "unit":"sat","memo","expiry"} → 201 {payment_hash, bolt11 |
                       payment_request}; never retried (a failure is a failed create)
        lookup         GET {lnbits_url}/api/v1/payments/{payment_hash} → {"paid":true|false,
                       "status"?, "details"?{amount msat}}; 404 → unknown. The core calls it
                       for every open invoice each [wallet] poll_interval_ms: LNbits has no
                       push that a daemon behind NAT can rely on, so payments are polled.
        balance        GET {lnbits_url}/api/v1/wallet → {"balance": msat}, every minute; also
                       the reachability check at start

    Every call sends the key in X-Api-Key. Errors are LNbits' FastAPI {"detail": ...}: 401 no
    key, 404 "Wallet not found." (an unknown key), 403 a key without the right, 400 a
    validation error, 520 the funding source failed. The key lives in locked memory, is never
    logged, and is wiped on destroy. */
#include "log.h"
#include "wallet/backend.h"
#include "wallet/wallet_io.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LNBITS_KEY_MAX      256         /* longest API key accepted */
#define LNBITS_URL_MAX      1024        /* longest base URL accepted */
#define LNBITS_BODY_MAX     (256 * 1024)    /* longest answer read */
#define LNBITS_BALANCE_MS   60000       /* balance check interval */
#define LNBITS_TICK_MS      1000        /* the backend's tick */

/* What a request in flight is for. */
typedef enum { CALL_CREATE, CALL_LOOKUP, CALL_BALANCE } call_kind_t;

typedef struct lnbits lnbits_t;

/* One request in flight (the completion's argument), in the backend's list of them. */
typedef struct lnbits_call lnbits_call_t;
struct lnbits_call {
    lnbits_t *owner;            /* the backend */
    lnbits_call_t *prev, *next; /* the list of calls in flight (freed on destroy) */
    call_kind_t kind;           /* what it asks */
    uint64_t req;               /* CALL_CREATE: the core's request id */
    uint64_t amount_msats;      /* CALL_CREATE: what was asked */
    uint8_t hash[32];           /* CALL_LOOKUP: the payment hash */
};

struct lnbits {
    wallet_core_t *core;        /* the actor core */
    wallet_io_t *io;            /* HTTP client in the actor's loop */
    char url[LNBITS_URL_MAX + 1];   /* base URL without a trailing slash */
    char *key_header;           /* "X-Api-Key: <key>" (sodium_malloc, wiped on destroy) */
    bolt11_network_t network;   /* [provider] network */
    lnbits_call_t *calls;       /* requests in flight */
    long timeout_ms;            /* total deadline of one request */
    int64_t next_balance_ms;    /* when to ask the balance next (monotonic) */
    bool balance_inflight;      /* a balance request is running */
    bool auth_failed;           /* LNbits refused the key: say so on every create */
    char auth_error[WALLET_ERROR_MAX];  /* ... with this text */
    uint64_t requests, errors;  /* counters for the status */
};

/* The "detail" of a FastAPI error body, or "" (bounded, printable for a log line). */
static void
s_detail(const http_result_t *res, char *out, size_t size)
{
    out[0] = 0;
    char err[64];
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    json_object *detail;
    if (top && json_object_object_get_ex(top, "detail", &detail)) {
        const char *text = json_object_is_type(detail, json_type_string)
                         ? json_object_get_string(detail)
                         : json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN);
        snprintf(out, size, "%s", text);
    }
    json_object_put(top);
    for (char *p = out; *p; p++)
        if ((unsigned char) *p < 0x20)
            *p = ' ';
}

/* Why a request failed, in words, from its transport error or HTTP status. Sets the auth
   failure and reachability as a side effect. Returns true when it was a failure. */
static bool
s_failed(lnbits_t *self, const http_result_t *res, const char *what, char *why, size_t size)
{
    char detail[300];
    if (res->error != HTTP_OK) {
        snprintf(why, size, "LNbits at %.200s cannot be reached (%s): %.250s", self->url, what,
                 res->message);
        wallet_core_reachable(self->core, false, why);
        return true;
    }
    if (res->status >= 200 && res->status < 300)
        return false;
    s_detail(res, detail, sizeof detail);
    bool auth = false;
    if (res->status == 401) {
        snprintf(why, size, "LNbits refused %s: no API key was accepted (401 %.200s): set "
                 "[wallet] lnbits_api_key", what, detail);
        auth = true;
    }
    else if (res->status == 404 && strstr(detail, "Wallet not found")) {
        snprintf(why, size, "LNbits does not know this API key (404 Wallet not found): check "
                 "[wallet] lnbits_api_key");
        auth = true;
    }
    else if (res->status == 403) {
        snprintf(why, size, "LNbits refused %s: the API key lacks the right (403 %.200s): use "
                 "the wallet's invoice key", what, detail);
        auth = true;
    }
    else if (res->status == 400 || res->status == 422)
        snprintf(why, size, "LNbits rejected %s as invalid (%ld %.300s)", what, res->status,
                 detail);
    else if (res->status == 520)
        snprintf(why, size, "LNbits' funding source failed during %s (520 %.300s)", what,
                 detail);
    else
        snprintf(why, size, "LNbits answered %s with HTTP %ld %.300s", what, res->status,
                 detail);
    if (auth) {
        self->auth_failed = true;
        snprintf(self->auth_error, sizeof self->auth_error, "%s", why);
        wallet_core_reachable(self->core, false, why);
    }
    else if (res->status >= 500)
        wallet_core_reachable(self->core, false, why);
    self->errors++;
    return true;
}

static void
s_created(lnbits_t *self, lnbits_call_t *call, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX], err[128];
    if (s_failed(self, res, "the invoice creation", why, sizeof why)) {
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
        return;
    }
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    char hash_hex[80], *bolt11 = malloc(BOLT11_MAX_LEN + 1);
    uint8_t hash[32];
    const char *bad = !top ? "is not a JSON object"
        : wallet_json_str(top, "payment_hash", hash_hex, sizeof hash_hex)
          || wallet_hex32(hash_hex, hash) ? "has no payment_hash of 64 hex digits"
        : wallet_json_str(top, "bolt11", bolt11, BOLT11_MAX_LEN + 1) ? "has a bad bolt11"
        : NULL;
    if (!bad && !*bolt11 && wallet_json_str(top, "payment_request", bolt11, BOLT11_MAX_LEN + 1))
        bad = "has a bad payment_request";
    if (!bad && !*bolt11)
        bad = "has neither bolt11 nor payment_request";
    json_object_put(top);
    if (bad) {
        snprintf(why, sizeof why, "LNbits' invoice answer %s", bad);
        self->errors++;
        wallet_core_invoice_made(self->core, call->req, NULL, NULL, NULL, why);
    }
    else {
        wallet_core_reachable(self->core, true, NULL);
        wallet_core_invoice_made(self->core, call->req, bolt11, hash, "", NULL);
    }
    free(bolt11);
}

static void
s_looked_up(lnbits_t *self, lnbits_call_t *call, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX], err[128];
    if (res->error == HTTP_OK && res->status == 404) {
        char detail[300];
        s_detail(res, detail, sizeof detail);
        if (!strstr(detail, "Wallet not found")) {
            wallet_core_reachable(self->core, true, NULL);
            wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_UNKNOWN, 0, 0, NULL);
            return;
        }
    }
    if (s_failed(self, res, "a payment lookup", why, sizeof why)) {
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
        return;
    }
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    json_object *paid = NULL, *details = NULL;
    char status[32] = "";
    uint64_t amount = 0;
    if (top) {
        json_object_object_get_ex(top, "paid", &paid);
        json_object_object_get_ex(top, "details", &details);
    }
    bool ok = top && json_object_is_type(paid, json_type_boolean)
              && wallet_json_str(top, "status", status, sizeof status) == 0;
    if (ok && details && json_object_is_type(details, json_type_object)) {
        /* details.amount is in msat, positive for incoming payments. */
        json_object *v;
        if (json_object_object_get_ex(details, "amount", &v) && json_object_is_type(v, json_type_int)
            && json_object_get_int64(v) > 0)
            amount = (uint64_t) json_object_get_int64(v);
    }
    if (!ok) {
        json_object_put(top);
        self->errors++;
        snprintf(why, sizeof why, "LNbits' payment answer has no boolean \"paid\"");
        wallet_core_lookup_done(self->core, call->hash, WALLET_INVOICE_FAILED, 0, 0, why);
        return;
    }
    bool is_paid = json_object_get_boolean(paid);
    json_object_put(top);
    wallet_core_reachable(self->core, true, NULL);
    wallet_invoice_state_t state = is_paid ? WALLET_INVOICE_SETTLED
        : strcmp(status, "failed") == 0 ? WALLET_INVOICE_EXPIRED : WALLET_INVOICE_OPEN;
    wallet_core_lookup_done(self->core, call->hash, state, amount, 0, NULL);
}

static void
s_balanced(lnbits_t *self, const http_result_t *res)
{
    char why[WALLET_ERROR_MAX], err[128];
    self->balance_inflight = false;
    if (s_failed(self, res, "the balance check", why, sizeof why)) {
        log_warn("%s", why);
        return;
    }
    json_object *top = wallet_json_object(res->body, res->body_len, err, sizeof err);
    uint64_t balance = 0;
    bool present = false;
    if (top && wallet_json_u64(top, "balance", &balance, &present) == 0 && present) {
        wallet_core_reachable(self->core, true, NULL);
        wallet_core_balance(self->core, balance);
    }
    else
        log_warn("LNbits' wallet answer has no balance");
    json_object_put(top);
}

static void
s_on_done(void *arg, const http_result_t *res)
{
    lnbits_call_t *call = arg;
    lnbits_t *self = call->owner;
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
    }
    if (call->prev)
        call->prev->next = call->next;
    else
        self->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    free(call);
}

/* Start a call; on failure to start, complete it at once as a transport error. */
static void
s_call(lnbits_t *self, lnbits_call_t *call, const char *method, const char *path,
       const char *body)
{
    char url[LNBITS_URL_MAX + 128];
    snprintf(url, sizeof url, "%s%s", self->url, path);
    const char *headers[] = {self->key_header, "Accept: application/json", NULL};
    http_request_t request = {
        .method = method, .url = url, .headers = headers,
        .body = body, .body_len = body ? strlen(body) : 0,
        .connect_timeout_ms = self->timeout_ms < 5000 ? self->timeout_ms : 5000,
        .total_timeout_ms = self->timeout_ms, .max_response = LNBITS_BODY_MAX,
        .on_done = s_on_done, .arg = call,
    };
    char err[WALLET_ERROR_MAX];
    self->requests++;
    call->next = self->calls;
    if (self->calls)
        self->calls->prev = call;
    self->calls = call;
    if (wallet_io_http(self->io, &request, err, sizeof err) == 0) {
        http_result_t failed = {.error = HTTP_ERR_INVALID, .message = err, .body = "",
                                .content_type = ""};
        s_on_done(call, &failed);
    }
}

static void *
s_create(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args, char *err,
         size_t err_size)
{
    const config_t *cfg = args->cfg;
    const char *key = cfg->lnbits_api_key;
    size_t url_len = strlen(cfg->lnbits_url);
    if (url_len == 0 || url_len > LNBITS_URL_MAX
        || (strncmp(cfg->lnbits_url, "https://", 8) != 0
            && strncmp(cfg->lnbits_url, "http://", 7) != 0)) {
        snprintf(err, err_size, "[wallet] lnbits_url must be an http:// or https:// URL of at "
                 "most %d bytes", LNBITS_URL_MAX);
        return NULL;
    }
    size_t key_len = strlen(key);
    bool key_ok = key_len > 0 && key_len <= LNBITS_KEY_MAX;
    for (size_t i = 0; key_ok && i < key_len; i++)
        key_ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!key_ok) {
        snprintf(err, err_size, "[wallet] lnbits_api_key must be the wallet's invoice key: 1 "
                 "to %d printable characters without spaces", LNBITS_KEY_MAX);
        return NULL;
    }
    lnbits_t *self = calloc(1, sizeof *self);
    self->core = core;
    self->io = wallet_io_new(ctx, err, err_size);
    self->key_header = sodium_malloc(LNBITS_KEY_MAX + 16);
    if (!self->io || !self->key_header) {
        if (self->io)       /* else err already says why */
            snprintf(err, err_size, "out of secure memory");
        wallet_io_destroy(&self->io);
        if (self->key_header)
            sodium_free(self->key_header);
        free(self);
        return NULL;
    }
    snprintf(self->key_header, LNBITS_KEY_MAX + 16, "X-Api-Key: %s", key);
    snprintf(self->url, sizeof self->url, "%s", cfg->lnbits_url);
    while (url_len > 0 && self->url[url_len - 1] == '/')
        self->url[--url_len] = 0;
    self->network = strcmp(cfg->network, "mainnet") == 0 ? BOLT11_MAINNET
                  : strcmp(cfg->network, "testnet") == 0 ? BOLT11_TESTNET
                  : strcmp(cfg->network, "signet") == 0 ? BOLT11_SIGNET : BOLT11_REGTEST;
    self->timeout_ms = cfg->wallet_request_timeout_ms > 0 ? cfg->wallet_request_timeout_ms
                                                          : 15000;
    self->next_balance_ms = actor_now_ms();     /* the first tick checks the key */
    log_info("LNbits wallet at %s", self->url);
    return self;
}

static void
s_destroy(void **state_p)
{
    lnbits_t *self = *state_p;
    if (!self)
        return;
    wallet_io_destroy(&self->io);       /* drops the calls in flight: free their args */
    while (self->calls) {
        lnbits_call_t *next = self->calls->next;
        free(self->calls);
        self->calls = next;
    }
    sodium_free(self->key_header);      /* wipes the key */
    free(self);
    *state_p = NULL;
}

static void
s_make_invoice(void *state, uint64_t req, uint64_t amount_msats, const char *description,
               uint64_t expiry_s)
{
    lnbits_t *self = state;
    if (self->auth_failed) {
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, self->auth_error);
        return;
    }
    if (amount_msats % 1000 != 0) {
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "LNbits makes invoices in whole satoshis: %" PRIu64
                 " msats is not a multiple of 1000", amount_msats);
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, why);
        return;
    }
    json_object *body = json_object_new_object();
    json_object_object_add(body, "out", json_object_new_boolean(0));
    json_object_object_add(body, "amount", json_object_new_int64((int64_t) (amount_msats / 1000)));
    json_object_object_add(body, "unit", json_object_new_string("sat"));
    json_object_object_add(body, "memo", json_object_new_string(description));
    json_object_object_add(body, "expiry", json_object_new_int64((int64_t) expiry_s));
    lnbits_call_t *call = calloc(1, sizeof *call);
    *call = (lnbits_call_t) {.owner = self, .kind = CALL_CREATE, .req = req,
                             .amount_msats = amount_msats};
    s_call(self, call, "POST", "/api/v1/payments",
           json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
    json_object_put(body);
}

static void
s_lookup(void *state, const uint8_t payment_hash[32])
{
    lnbits_t *self = state;
    char path[100], hex[65];
    wallet_hex(payment_hash, hex);
    snprintf(path, sizeof path, "/api/v1/payments/%s", hex);
    lnbits_call_t *call = calloc(1, sizeof *call);
    *call = (lnbits_call_t) {.owner = self, .kind = CALL_LOOKUP};
    memcpy(call->hash, payment_hash, 32);
    s_call(self, call, "GET", path, NULL);
}

static void
s_tick(void *state)
{
    lnbits_t *self = state;
    int64_t now = actor_now_ms();
    if (self->balance_inflight || now < self->next_balance_ms)
        return;
    self->next_balance_ms = now + LNBITS_BALANCE_MS;
    self->balance_inflight = true;
    lnbits_call_t *call = calloc(1, sizeof *call);
    *call = (lnbits_call_t) {.owner = self, .kind = CALL_BALANCE};
    s_call(self, call, "GET", "/api/v1/wallet", NULL);
}

static void
s_status(void *state, json_object *status)
{
    lnbits_t *self = state;
    json_object *lnbits = json_object_new_object();
    json_object_object_add(lnbits, "url", json_object_new_string(self->url));
    json_object_object_add(lnbits, "requests", json_object_new_int64((int64_t) self->requests));
    json_object_object_add(lnbits, "errors", json_object_new_int64((int64_t) self->errors));
    json_object_object_add(lnbits, "auth_failed", json_object_new_boolean(self->auth_failed));
    json_object_object_add(status, "lnbits", lnbits);
}

static bolt11_network_t
s_network(void *state)
{
    return ((lnbits_t *) state)->network;
}

const wallet_backend_def_t wallet_backend_lnbits = {
    .name = "lnbits",
    .create = s_create,
    .destroy = s_destroy,
    .make_invoice = s_make_invoice,
    .lookup = s_lookup,
    .status = s_status,
    .tick = s_tick,
    .tick_ms = LNBITS_TICK_MS,
    .network = s_network,
};
