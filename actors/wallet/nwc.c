/*  nwc.c: the Nostr Wallet Connect (NIP-47) wallet backend, for operators without a node.

    Everything goes through the relay actor: RELAY_SUBSCRIBE for the wallet service's info
    event (kind 13194) and for its answers and notifications (23195, 23196, 23197 to our key),
    RELAY_PUBLISH for our requests (23194). The relay actor has already checked each event's
    id and signature; here we check who wrote it, who it is for, and which request it answers.

        make_invoice     an invoice for a job (never retried: a timeout is a failed create)
        lookup_invoice   the core's polling of open invoices, expiry checks, reconciliation
        get_info         once, to learn the wallet's network and alias (status)
        get_balance      every minute when the wallet offers it (status)
        payment_received notifications settle at once, when the wallet sends them

    Encryption follows the info event: NIP-44 v2 when its encryption tag names nip44_v2, else
    NIP-04. Requests made before the info event arrived wait for it (within their timeout).
    The client secret from the URI lives only in the keypair and the two derived keys, all in
    locked memory, wiped on destroy; it is never logged. */
#include "log.h"
#include "wallet/backend.h"
#include "wallet/nwc.h"

#include "nip04.h"
#include "nip44.h"
#include "nostr_event.h"
#include "nostr_keys.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the connection URI -------------------------------------------------------------------- */

static int
s_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Exactly 64 hex digits (either case) into 32 bytes. */
static int
s_hex32(const char *text, size_t len, uint8_t out[32])
{
    if (len != 64)
        return -1;
    for (size_t i = 0; i < 64; i += 2) {
        int hi = s_hexval(text[i]), lo = s_hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t) (hi << 4 | lo);
    }
    return 0;
}

/* Percent-decode len bytes into out (size bytes with the NUL). -1 on a bad escape, a control
   character or overflow. */
static int
s_unescape(const char *in, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char) in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = s_hexval(in[i + 1]), lo = s_hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || n + 1 >= size)
            return -1;
        out[n++] = (char) c;
    }
    out[n] = 0;
    return 0;
}

void
nwc_uri_wipe(nwc_uri_t *uri)
{
    sodium_memzero(uri, sizeof *uri);
}

int
nwc_uri_parse(const char *uri, nwc_uri_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    size_t total = uri ? strnlen(uri, NWC_URI_MAX + 1) : 0;
    static const char scheme[] = "nostr+walletconnect:";
    const char *fail = NULL;
    if (total == 0)
        fail = "the NWC URI is empty: set [wallet] nwc_uri";
    else if (total > NWC_URI_MAX)
        fail = "the NWC URI is longer than 4096 bytes";
    else if (strncasecmp(uri, scheme, sizeof scheme - 1) != 0)
        fail = "the NWC URI must start with nostr+walletconnect://";
    if (fail) {
        snprintf(err, err_size, "%s", fail);
        return -1;
    }
    const char *p = uri + sizeof scheme - 1;
    if (strncmp(p, "//", 2) == 0)
        p += 2;
    const char *query = strchr(p, '?');
    size_t key_len = query ? (size_t) (query - p) : strlen(p);
    if (s_hex32(p, key_len, out->wallet_pubkey) != 0) {
        snprintf(err, err_size, "the NWC URI's wallet key must be 64 hex digits");
        return -1;
    }
    bool has_secret = false;
    char value[NWC_URI_MAX + 1];
    const char *param = query ? query + 1 : "";
    while (*param && !fail) {
        size_t len = strcspn(param, "&");
        const char *eq = memchr(param, '=', len);
        size_t name_len = eq ? (size_t) (eq - param) : len;
        const char *raw = eq ? eq + 1 : param + len;
        size_t raw_len = eq ? len - name_len - 1 : 0;
        if (s_unescape(raw, raw_len, value, sizeof value) != 0)
            fail = "the NWC URI has a malformed %-escape or a control character";
        else if (name_len == 5 && strncmp(param, "relay", 5) == 0) {
            if (strncmp(value, "wss://", 6) != 0 && strncmp(value, "ws://", 5) != 0)
                fail = "an NWC relay must be a ws:// or wss:// URL";
            else if (strlen(value) > NWC_RELAY_MAX)
                fail = "an NWC relay URL is longer than 512 bytes";
            else if (out->relay_count < NWC_MAX_RELAYS)
                snprintf(out->relays[out->relay_count++], NWC_RELAY_MAX + 1, "%s", value);
        }
        else if (name_len == 6 && strncmp(param, "secret", 6) == 0) {
            uint8_t check[32];
            if (has_secret)
                fail = "the NWC URI has two secret= parameters";
            else if (s_hex32(value, strlen(value), out->secret) != 0)
                fail = "the NWC URI's secret must be 64 hex digits";
            else if (nostr_keys_pubkey_from_seckey(out->secret, check) != 0)
                fail = "the NWC URI's secret is not a valid secp256k1 key";
            has_secret = true;
        }
        else if (name_len == 5 && strncmp(param, "lud16", 5) == 0) {
            if (strlen(value) > NWC_LUD16_MAX || !strchr(value, '@'))
                fail = "the NWC URI's lud16 is not a lightning address (name@domain)";
            else
                snprintf(out->lud16, sizeof out->lud16, "%s", value);
        }
        /* Other parameters are ignored, as NIP-47 allows. */
        param += len + (param[len] == '&');
    }
    sodium_memzero(value, sizeof value);
    if (!fail && out->relay_count == 0)
        fail = "the NWC URI has no relay= parameter";
    if (!fail && !has_secret)
        fail = "the NWC URI has no secret= parameter";
    if (!fail) {
        uint8_t conv[32];
        if (nip44_conversation_key(out->secret, out->wallet_pubkey, conv) != 0)
            fail = "the NWC URI's wallet key is not a point on secp256k1";
        sodium_memzero(conv, sizeof conv);
    }
    if (fail) {
        snprintf(err, err_size, "%s", fail);
        nwc_uri_wipe(out);
        return -1;
    }
    return 0;
}

/* ---- responses and notifications ----------------------------------------------------------- */

/* A string member: absent or null → "" (0), else a string up to size-1 bytes (0), else -1. */
static int
s_get_str(json_object *obj, const char *name, char *out, size_t size)
{
    json_object *v;
    out[0] = 0;
    if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string) || (size_t) json_object_get_string_len(v) >= size)
        return -1;
    memcpy(out, json_object_get_string(v), (size_t) json_object_get_string_len(v) + 1);
    return (int) strlen(out) == json_object_get_string_len(v) ? 0 : -1;   /* no NUL inside */
}

/* A non-negative integer member: absent or null → 0. Integral doubles are accepted (some
   wallets write 1000.0). */
static int
s_get_u64(json_object *obj, const char *name, uint64_t *out, bool *present)
{
    json_object *v;
    *out = 0;
    if (present)
        *present = false;
    if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i < 0)
            return -1;
        *out = (uint64_t) json_object_get_uint64(v);
    }
    else if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d >= 0 && d <= 9007199254740992.0) || d != (double) (uint64_t) d)
            return -1;
        *out = (uint64_t) d;
    }
    else
        return -1;
    if (present)
        *present = true;
    return 0;
}

static int
s_parse_tx(json_object *tx, nwc_message_t *out, char *err, size_t err_size)
{
    char text[128];
    if (s_get_str(tx, "invoice", out->invoice, sizeof out->invoice)) {
        snprintf(err, err_size, "result.invoice is not a string of at most 4096 bytes");
        return -1;
    }
    if (s_get_str(tx, "payment_hash", text, sizeof text)) {
        snprintf(err, err_size, "result.payment_hash is not a string");
        return -1;
    }
    if (*text) {
        if (s_hex32(text, strlen(text), out->payment_hash)) {
            snprintf(err, err_size, "result.payment_hash is not 64 hex digits");
            return -1;
        }
        out->has_payment_hash = true;
    }
    if (s_get_str(tx, "preimage", text, sizeof text)) {
        snprintf(err, err_size, "result.preimage is not a string");
        return -1;
    }
    out->has_preimage = *text != 0;
    if (s_get_str(tx, "state", text, sizeof text)) {
        snprintf(err, err_size, "result.state is not a string");
        return -1;
    }
    static const struct { const char *name; nwc_state_t state; } states[] = {
        {"", NWC_STATE_NONE}, {"pending", NWC_STATE_PENDING}, {"settled", NWC_STATE_SETTLED},
        {"accepted", NWC_STATE_ACCEPTED}, {"expired", NWC_STATE_EXPIRED},
        {"failed", NWC_STATE_FAILED}};
    size_t i;
    for (i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(text, states[i].name) == 0)
            break;
    if (i == sizeof states / sizeof states[0]) {
        snprintf(err, err_size, "result.state is not one of NIP-47's states");
        return -1;
    }
    out->state = states[i].state;
    const char *bad = s_get_u64(tx, "amount", &out->amount, NULL) ? "amount"
                    : s_get_u64(tx, "settled_at", &out->settled_at, NULL) ? "settled_at"
                    : s_get_u64(tx, "expires_at", &out->expires_at, NULL) ? "expires_at"
                    : s_get_u64(tx, "balance", &out->balance, &out->has_balance) ? "balance"
                    : NULL;
    if (bad) {
        snprintf(err, err_size, "result.%s is not a non-negative integer", bad);
        return -1;
    }
    if (s_get_str(tx, "network", out->network, sizeof out->network))
        out->network[0] = 0;        /* informational only */
    json_object *v;
    if (json_object_object_get_ex(tx, "alias", &v) && json_object_is_type(v, json_type_string))
        snprintf(out->alias, sizeof out->alias, "%s", json_object_get_string(v));
    return 0;
}

int
nwc_message_parse(const char *json, size_t len, nwc_message_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (len > NWC_MESSAGE_MAX) {
        snprintf(err, err_size, "message longer than %d bytes", NWC_MESSAGE_MAX);
        return -1;
    }
    json_tokener *tok = json_tokener_new_ex(NWC_MESSAGE_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *top = json_tokener_parse_ex(tok, json, (int) len);
    bool whole = top && json_tokener_get_parse_end(tok) == len;
    json_tokener_free(tok);
    int rc = -1;
    json_object *v, *body = NULL;
    if (!whole || !json_object_is_type(top, json_type_object)) {
        snprintf(err, err_size, "not a JSON object");
        goto done;
    }
    if (json_object_object_get_ex(top, "notification_type", &v)) {
        out->is_notification = true;
        if (s_get_str(top, "notification_type", out->type, sizeof out->type) || !*out->type) {
            snprintf(err, err_size, "notification_type is not a short string");
            goto done;
        }
        json_object_object_get_ex(top, "notification", &body);
    }
    else {
        if (s_get_str(top, "result_type", out->type, sizeof out->type) || !*out->type) {
            snprintf(err, err_size, "result_type missing or not a short string");
            goto done;
        }
        json_object *error = NULL;
        json_object_object_get_ex(top, "error", &error);
        if (error && !json_object_is_type(error, json_type_null)) {
            if (!json_object_is_type(error, json_type_object)
                || s_get_str(error, "code", out->error_code, sizeof out->error_code)
                || !*out->error_code) {
                snprintf(err, err_size, "error is not an object with a code");
                goto done;
            }
            if (s_get_str(error, "message", out->error_message, sizeof out->error_message)) {
                snprintf(err, err_size, "error.message is not a string of at most 511 bytes");
                goto done;
            }
            out->has_error = true;
        }
        json_object_object_get_ex(top, "result", &body);
    }
    if (body && !json_object_is_type(body, json_type_null)) {
        if (!json_object_is_type(body, json_type_object)) {
            snprintf(err, err_size, "%s is not an object",
                     out->is_notification ? "notification" : "result");
            goto done;
        }
        out->has_result = true;
        if (s_parse_tx(body, out, err, err_size))
            goto done;
    }
    if (out->is_notification && !out->has_result) {
        snprintf(err, err_size, "notification without a body");
        goto done;
    }
    rc = 0;
done:
    json_object_put(top);
    return rc;
}

bool
nwc_message_paid(const nwc_message_t *msg)
{
    if (msg->state != NWC_STATE_NONE)
        return msg->state == NWC_STATE_SETTLED;
    return msg->settled_at > 0 || msg->has_preimage;
}

const char *
nwc_error_text(const char *code)
{
    static const struct { const char *code, *text; } table[] = {
        {"RATE_LIMITED", "the wallet is rate-limiting this connection: too many requests"},
        {"NOT_IMPLEMENTED", "the wallet does not implement this method"},
        {"INSUFFICIENT_BALANCE", "the wallet's balance is too low"},
        {"QUOTA_EXCEEDED", "this connection's spending quota in the wallet is used up"},
        {"RESTRICTED", "this connection is not allowed to use this method: grant it in the "
                       "wallet's app settings"},
        {"UNAUTHORIZED", "the wallet does not know this connection: the NWC URI was revoked "
                         "or is wrong"},
        {"INTERNAL", "the wallet had an internal error"},
        {"UNSUPPORTED_ENCRYPTION", "the wallet does not support the encryption used"},
        {"OTHER", "the wallet reported an error"},
        {"NOT_FOUND", "the wallet does not know this invoice"},
        {"PAYMENT_FAILED", "the wallet could not make the payment"},
    };
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(code, table[i].code) == 0)
            return table[i].text;
    return "the wallet answered with an error code NIP-47 does not define";
}

/* ---- the backend --------------------------------------------------------------------------- */

#define NWC_MAX_REQUESTS    512         /* requests in flight at once */
#define NWC_SWEEP_MS        250         /* how often deadlines are checked */
#define NWC_BALANCE_MS      60000       /* get_balance interval, when offered */
#define SUB_INFO            "wallet-nwc-info"
#define SUB_REPLIES         "wallet-nwc"

typedef enum { ENC_NIP44, ENC_NIP04 } nwc_enc_t;

/* One request to the wallet service. */
typedef struct {
    bool used;                  /* the slot is taken */
    char method[32];            /* "make_invoice", ... */
    char *json;                 /* the plaintext request, until it is published (owned) */
    uint64_t ref;               /* RELAY_PUBLISH ref, 0 until published */
    uint8_t id[32];             /* the request event's id, once published */
    uint64_t req;               /* make_invoice: the core's request id */
    uint8_t hash[32];           /* lookup_invoice: the payment hash */
    int64_t deadline_ms;        /* monotonic: past it, the request has failed */
} nwc_request_t;

typedef struct {
    wallet_core_t *core;        /* the actor core */
    actor_ctx_t *ctx;           /* for sends and timers */
    const config_t *cfg;        /* borrowed */
    uint8_t wallet_pubkey[32];  /* the wallet service */
    uint8_t client_pubkey[32];  /* us */
    char wallet_hex[65];        /* the same as hex, for filters and checks */
    char client_hex[65];
    nostr_keys_t *keys;         /* our keypair from the URI secret (locked memory) */
    uint8_t *conv;              /* NIP-44 conversation key (sodium_malloc, 32 bytes) */
    uint8_t *shared;            /* NIP-04 shared x (sodium_malloc, 32 bytes) */
    bolt11_network_t network;   /* [provider] network: the invoices' network */
    bool info_seen;             /* the kind 13194 event arrived */
    int64_t info_created_at;    /* its created_at (a newer one replaces it) */
    nwc_enc_t enc;              /* chosen from the info event */
    char methods[512];          /* the info event's content (capabilities) */
    bool asked_info;            /* get_info was sent */
    int64_t next_balance_ms;    /* when to ask get_balance next */
    int64_t timeout_ms;         /* per request */
    uint64_t next_ref;          /* RELAY_PUBLISH refs */
    nwc_request_t requests[NWC_MAX_REQUESTS];
    char alias[64];             /* from get_info */
    char wallet_network[16];    /* from get_info */
    uint64_t sent, answered, timeouts, errors, bad_events;   /* counters for the status */
} nwc_t;

static bool
s_offers(nwc_t *self, const char *method)
{
    size_t len = strlen(method);
    for (const char *p = self->methods; (p = strstr(p, method)); p += len)
        if ((p == self->methods || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0))
            return true;
    return false;
}

static void
s_request_free(nwc_request_t *req)
{
    free(req->json);
    memset(req, 0, sizeof *req);
}

/* Encrypt, sign and publish one request. -1 with err on failure. */
static int
s_publish(nwc_t *self, nwc_request_t *req, char *err, size_t err_size)
{
    int crypt_err = 0;
    size_t len = 0;
    char *content = self->enc == ENC_NIP44
        ? nip44_encrypt(self->conv, (const uint8_t *) req->json, strlen(req->json), NULL, 0,
                        &len, &crypt_err)
        : nip04_encrypt(self->shared, (const uint8_t *) req->json, strlen(req->json), NULL, 0,
                        &len, &crypt_err);
    free(req->json);
    req->json = NULL;
    if (!content) {
        snprintf(err, err_size, "cannot encrypt the request: %s", self->enc == ENC_NIP44
                 ? nip44_strerror(crypt_err) : nip04_strerror(crypt_err));
        return -1;
    }
    int64_t now = (int64_t) wallet_core_now();
    nostr_event_t *event = nostr_event_new(23194, now, content, len);
    free(content);
    char expiration[24];
    snprintf(expiration, sizeof expiration, "%" PRId64, now + self->timeout_ms / 1000 + 1);
    int rc = event ? 0 : -1;
    rc |= nostr_event_add_tagv(event, "p", self->wallet_hex, NULL);
    rc |= nostr_event_add_tagv(event, "encryption",
                               self->enc == ENC_NIP44 ? "nip44_v2" : "nip04", NULL);
    rc |= nostr_event_add_tagv(event, "expiration", expiration, NULL);
    rc |= nostr_event_sign(event, self->keys);
    char *json = rc == 0 ? nostr_event_to_json(event, NULL) : NULL;
    if (json)
        memcpy(req->id, event->id, 32);
    nostr_event_destroy(&event);
    if (!json) {
        snprintf(err, err_size, "cannot build the request event");
        return -1;
    }
    req->ref = ++self->next_ref;
    msg_t pub = {.type = MSG_RELAY_PUBLISH,
                 .relay_publish = {.ref = req->ref, .event = json, .quorum = 1}};
    rc = actor_send(self->ctx, "relay", &pub);
    free(json);
    if (rc != 0) {
        snprintf(err, err_size, "the relay actor is not reachable");
        return -1;
    }
    self->sent++;
    return 0;
}

static void s_fail(nwc_t *self, nwc_request_t *req, const char *error);

/* Queue a request; it is published now if the info event is known, else when it arrives. */
static void
s_request(nwc_t *self, const char *method, const char *params_json, uint64_t core_req,
          const uint8_t *hash)
{
    nwc_request_t *req = NULL;
    for (int i = 0; i < NWC_MAX_REQUESTS && !req; i++)
        if (!self->requests[i].used)
            req = &self->requests[i];
    nwc_request_t overflow = {0};
    if (!req)
        req = &overflow;
    req->used = true;
    snprintf(req->method, sizeof req->method, "%s", method);
    req->req = core_req;
    if (hash)
        memcpy(req->hash, hash, 32);
    req->deadline_ms = actor_now_ms() + self->timeout_ms;
    if (req == &overflow) {
        s_fail(self, req, "too many NWC requests in flight");
        return;
    }
    if (asprintf(&req->json, "{\"method\":\"%s\",\"params\":%s}", method, params_json) < 0) {
        req->json = NULL;
        s_fail(self, req, "out of memory");
        return;
    }
    char err[WALLET_ERROR_MAX];
    if (self->info_seen && s_publish(self, req, err, sizeof err) != 0)
        s_fail(self, req, err);
}

/* A request failed (error from the wallet, the relay, or its deadline): tell the core. */
static void
s_fail(nwc_t *self, nwc_request_t *req, const char *error)
{
    if (strcmp(req->method, "make_invoice") == 0)
        wallet_core_invoice_made(self->core, req->req, NULL, NULL, NULL, error);
    else if (strcmp(req->method, "lookup_invoice") == 0)
        wallet_core_lookup_done(self->core, req->hash, WALLET_INVOICE_FAILED, 0, 0, error);
    else
        log_warn("NWC %s failed: %s", req->method, error);
    s_request_free(req);
}

static void
s_sweep(void *state)
{
    nwc_t *self = state;
    int64_t now = actor_now_ms();
    for (int i = 0; i < NWC_MAX_REQUESTS; i++) {
        nwc_request_t *req = &self->requests[i];
        if (!req->used || now < req->deadline_ms)
            continue;
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "the NWC wallet did not answer %s within %" PRId64 " ms%s",
                 req->method, self->timeout_ms, self->info_seen ? ""
                 : " (its info event, kind 13194, was not found on the relay)");
        self->timeouts++;
        wallet_core_reachable(self->core, false, why);
        s_fail(self, req, why);
    }
    if (self->info_seen && self->next_balance_ms && now >= self->next_balance_ms) {
        self->next_balance_ms = now + NWC_BALANCE_MS;
        s_request(self, "get_balance", "{}", 0, NULL);
    }
}

static void
s_subscribe(nwc_t *self)
{
    char filter[512];
    snprintf(filter, sizeof filter, "{\"kinds\":[13194],\"authors\":[\"%s\"],\"limit\":1}",
             self->wallet_hex);
    msg_t sub = {.type = MSG_RELAY_SUBSCRIBE,
                 .relay_subscribe = {.sub = SUB_INFO, .filter = filter}};
    actor_send(self->ctx, "relay", &sub);
    snprintf(filter, sizeof filter, "{\"kinds\":[23195,23196,23197],\"authors\":[\"%s\"],"
             "\"#p\":[\"%s\"],\"since\":%" PRIu64 "}", self->wallet_hex, self->client_hex,
             wallet_core_now() - 60);
    sub.relay_subscribe.sub = SUB_REPLIES;
    sub.relay_subscribe.filter = filter;
    actor_send(self->ctx, "relay", &sub);
}

static bolt11_network_t
s_network_of(const char *name)
{
    return strcmp(name, "mainnet") == 0 ? BOLT11_MAINNET
         : strcmp(name, "testnet") == 0 ? BOLT11_TESTNET
         : strcmp(name, "signet") == 0 ? BOLT11_SIGNET : BOLT11_REGTEST;
}

static void *
s_create(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args, char *err,
         size_t err_size)
{
    nwc_uri_t *uri = sodium_malloc(sizeof *uri);
    if (!uri) {
        snprintf(err, err_size, "out of secure memory");
        return NULL;
    }
    if (nwc_uri_parse(args->cfg->nwc_uri, uri, err, err_size) != 0) {
        sodium_free(uri);
        return NULL;
    }
    nwc_t *self = calloc(1, sizeof *self);
    self->core = core;
    self->ctx = ctx;
    self->cfg = args->cfg;
    memcpy(self->wallet_pubkey, uri->wallet_pubkey, 32);
    self->keys = nostr_keys_new(uri->secret);
    self->conv = sodium_malloc(32);
    self->shared = sodium_malloc(32);
    bool ok = self->keys && self->conv && self->shared
              && nip44_conversation_key(uri->secret, uri->wallet_pubkey, self->conv) == 0
              && nostr_keys_ecdh(self->keys, uri->wallet_pubkey, self->shared) == 0;
    /* The wallet service listens on its own relays: the relay actor connects to those not
       already in [relays] urls (it ignores the ones it has). */
    for (size_t i = 0; ok && i < uri->relay_count; i++) {
        msg_t add = {.type = MSG_RELAY_ADD, .relay_add = {uri->relays[i]}};
        actor_send(ctx, "relay", &add);
    }
    sodium_free(uri);       /* wipes the secret */
    if (!ok) {
        snprintf(err, err_size, "cannot set up the NWC keys");
        nostr_keys_destroy(&self->keys);
        if (self->conv)
            sodium_free(self->conv);
        if (self->shared)
            sodium_free(self->shared);
        free(self);
        return NULL;
    }
    memcpy(self->client_pubkey, nostr_keys_pubkey(self->keys), 32);
    nostr_event_hex(self->wallet_pubkey, 32, self->wallet_hex);
    nostr_event_hex(self->client_pubkey, 32, self->client_hex);
    self->network = s_network_of(args->cfg->network);
    self->timeout_ms = args->cfg->wallet_request_timeout_ms > 0
                     ? args->cfg->wallet_request_timeout_ms : 15000;
    s_subscribe(self);
    log_info("NWC wallet %.16s…, client key %.16s…", self->wallet_hex, self->client_hex);
    return self;
}

static void
s_destroy(void **state_p)
{
    nwc_t *self = *state_p;
    if (!self)
        return;
    for (int i = 0; i < NWC_MAX_REQUESTS; i++)
        s_request_free(&self->requests[i]);
    nostr_keys_destroy(&self->keys);
    sodium_free(self->conv);
    sodium_free(self->shared);
    free(self);
    *state_p = NULL;
}

static void
s_make_invoice(void *state, uint64_t req, uint64_t amount_msats, const char *description,
               uint64_t expiry_s)
{
    nwc_t *self = state;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "amount", json_object_new_int64((int64_t) amount_msats));
    json_object_object_add(params, "description", json_object_new_string(description));
    json_object_object_add(params, "expiry", json_object_new_int64((int64_t) expiry_s));
    s_request(self, "make_invoice", json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
              req, NULL);
    json_object_put(params);
}

static void
s_lookup(void *state, const uint8_t payment_hash[32])
{
    nwc_t *self = state;
    char params[100], hex[65];
    nostr_event_hex(payment_hash, 32, hex);
    snprintf(params, sizeof params, "{\"payment_hash\":\"%s\"}", hex);
    s_request(self, "lookup_invoice", params, 0, payment_hash);
}

/* The info event: which encryption, which methods. */
static void
s_info(nwc_t *self, const nostr_event_t *event)
{
    if (self->info_seen && event->created_at <= self->info_created_at)
        return;
    const nostr_tag_t *tag = nostr_event_tag(event, "encryption");
    bool nip44 = tag && tag->count >= 2 && strstr(tag->elems[1].str, "nip44_v2");
    self->enc = nip44 ? ENC_NIP44 : ENC_NIP04;
    snprintf(self->methods, sizeof self->methods, "%.*s",
             (int) (event->content.len < sizeof self->methods ? event->content.len
                                                               : sizeof self->methods - 1),
             event->content.str);
    bool first = !self->info_seen;
    self->info_seen = true;
    self->info_created_at = event->created_at;
    log_info("NWC wallet offers: %s (encryption %s)", self->methods, nip44 ? "NIP-44" : "NIP-04");
    if (!s_offers(self, "make_invoice") || !s_offers(self, "lookup_invoice"))
        log_error("the NWC wallet does not offer make_invoice and lookup_invoice: this "
                  "connection cannot take payments");
    if (!first)
        return;
    char err[WALLET_ERROR_MAX];
    for (int i = 0; i < NWC_MAX_REQUESTS; i++) {
        nwc_request_t *req = &self->requests[i];
        if (req->used && req->json && s_publish(self, req, err, sizeof err) != 0)
            s_fail(self, req, err);
    }
    if (!self->asked_info && s_offers(self, "get_info")) {
        self->asked_info = true;
        s_request(self, "get_info", "{}", 0, NULL);
    }
    if (s_offers(self, "get_balance"))
        self->next_balance_ms = actor_now_ms();
}

/* A decrypted answer to one of our requests. */
static void
s_answer(nwc_t *self, nwc_request_t *req, const nwc_message_t *m)
{
    char why[WALLET_ERROR_MAX];
    bool make = strcmp(req->method, "make_invoice") == 0;
    bool lookup = strcmp(req->method, "lookup_invoice") == 0;
    if (m->has_error) {
        self->errors++;
        if (lookup && strcmp(m->error_code, "NOT_FOUND") == 0) {
            wallet_core_lookup_done(self->core, req->hash, WALLET_INVOICE_UNKNOWN, 0, 0, NULL);
            s_request_free(req);
            return;
        }
        snprintf(why, sizeof why, "%s (%s%s%.300s)", nwc_error_text(m->error_code),
                 m->error_code, *m->error_message ? ": " : "", m->error_message);
        if (strcmp(m->error_code, "UNAUTHORIZED") == 0
            || strcmp(m->error_code, "UNSUPPORTED_ENCRYPTION") == 0)
            wallet_core_reachable(self->core, false, why);
        s_fail(self, req, why);
        return;
    }
    if (!m->has_result) {
        s_fail(self, req, "the NWC wallet answered with neither a result nor an error");
        return;
    }
    if (make) {
        if (!*m->invoice)
            s_fail(self, req, "the NWC wallet's make_invoice answer has no invoice");
        else {
            wallet_core_invoice_made(self->core, req->req, m->invoice,
                                     m->has_payment_hash ? m->payment_hash : NULL, "", NULL);
            s_request_free(req);
        }
        return;
    }
    if (lookup && m->has_payment_hash && memcmp(m->payment_hash, req->hash, 32) != 0) {
        s_fail(self, req, "the NWC wallet answered lookup_invoice with another invoice");
        return;
    }
    if (lookup) {
        wallet_invoice_state_t state = nwc_message_paid(m) ? WALLET_INVOICE_SETTLED
            : m->state == NWC_STATE_EXPIRED || m->state == NWC_STATE_FAILED
            ? WALLET_INVOICE_EXPIRED : WALLET_INVOICE_OPEN;
        wallet_core_lookup_done(self->core, req->hash, state, m->amount, m->settled_at, NULL);
    }
    else if (strcmp(req->method, "get_balance") == 0 && m->has_balance)
        wallet_core_balance(self->core, m->balance);
    else if (strcmp(req->method, "get_info") == 0) {
        snprintf(self->alias, sizeof self->alias, "%s", m->alias);
        snprintf(self->wallet_network, sizeof self->wallet_network, "%s", m->network);
        if (*m->network && strcmp(m->network, self->cfg->network) != 0)
            log_error("the NWC wallet is on %s but [provider] network is %s: its invoices "
                      "will be refused", m->network, self->cfg->network);
    }
    s_request_free(req);
}

static void
s_event(nwc_t *self, const msg_relay_event_t *ev)
{
    int perr = 0;
    nostr_event_t *event = nostr_event_parse(ev->event, strlen(ev->event), NULL, &perr);
    if (!event || memcmp(event->pubkey, self->wallet_pubkey, 32) != 0) {
        self->bad_events++;
        nostr_event_destroy(&event);
        return;
    }
    if (event->kind == 13194) {
        s_info(self, event);
        nostr_event_destroy(&event);
        return;
    }
    const nostr_tag_t *p = nostr_event_tag(event, "p");
    if ((event->kind != 23195 && event->kind != 23196 && event->kind != 23197)
        || !p || p->count < 2 || strcmp(p->elems[1].str, self->client_hex) != 0) {
        self->bad_events++;
        nostr_event_destroy(&event);
        return;
    }
    nwc_request_t *req = NULL;
    if (event->kind == 23195) {
        const nostr_tag_t *e = nostr_event_tag(event, "e");
        uint8_t id[32];
        if (e && e->count >= 2 && nostr_event_unhex(e->elems[1].str, e->elems[1].len, id, 32) == 0)
            for (int i = 0; i < NWC_MAX_REQUESTS && !req; i++)
                if (self->requests[i].used && self->requests[i].ref
                    && memcmp(self->requests[i].id, id, 32) == 0)
                    req = &self->requests[i];
        if (!req) {     /* a duplicate, or the answer to a request already timed out */
            nostr_event_destroy(&event);
            return;
        }
    }
    int cerr = 0;
    size_t plain_len = 0;
    bool nip04 = memmem(event->content.str, event->content.len, "?iv=", 4) != NULL;
    uint8_t *plain = nip04
        ? nip04_decrypt(self->shared, event->content.str, event->content.len, NWC_MESSAGE_MAX,
                        &plain_len, &cerr)
        : nip44_decrypt(self->conv, event->content.str, event->content.len, NWC_MESSAGE_MAX,
                        &plain_len, &cerr);
    nostr_event_destroy(&event);
    nwc_message_t *m = calloc(1, sizeof *m);
    char err[256];
    if (!plain)
        snprintf(err, sizeof err, "cannot decrypt: %s", nip04 ? nip04_strerror(cerr)
                 : nip44_strerror(cerr));
    bool parsed = plain && nwc_message_parse((const char *) plain, plain_len, m, err,
                                             sizeof err) == 0;
    if (plain) {
        sodium_memzero(plain, plain_len);
        free(plain);
    }
    if (!parsed) {
        self->bad_events++;
        log_warn("unusable NWC %s: %s", req ? "answer" : "notification", err);
        if (req) {
            char why[WALLET_ERROR_MAX];
            snprintf(why, sizeof why, "the NWC wallet's answer is unusable: %s", err);
            s_fail(self, req, why);
        }
        free(m);
        return;
    }
    wallet_core_reachable(self->core, true, NULL);
    if (req) {
        self->answered++;
        s_answer(self, req, m);
    }
    else if (m->is_notification && strcmp(m->type, "payment_received") == 0
             && m->has_payment_hash && nwc_message_paid(m))
        wallet_core_settled(self->core, m->payment_hash, m->amount, m->settled_at);
    free(m);
}

static bool
s_handle(void *state, const msg_t *msg)
{
    nwc_t *self = state;
    if (msg->type == MSG_RELAY_EVENT) {
        if (strcmp(msg->relay_event.sub, SUB_INFO) == 0
            || strcmp(msg->relay_event.sub, SUB_REPLIES) == 0)
            s_event(self, &msg->relay_event);
        return true;
    }
    if (msg->type == MSG_RELAY_PUBLISHED) {
        const msg_relay_published_t *pub = &msg->relay_published;
        for (int i = 0; i < NWC_MAX_REQUESTS; i++) {
            nwc_request_t *req = &self->requests[i];
            if (req->used && req->ref == pub->ref && !pub->ok) {
                char why[WALLET_ERROR_MAX];
                snprintf(why, sizeof why, "no relay took the NWC request: %.400s", pub->reason);
                wallet_core_reachable(self->core, false, why);
                s_fail(self, req, why);
            }
        }
        return true;
    }
    return false;
}

static void
s_status(void *state, json_object *status)
{
    nwc_t *self = state;
    json_object *nwc = json_object_new_object();
    json_object_object_add(nwc, "wallet_pubkey", json_object_new_string(self->wallet_hex));
    json_object_object_add(nwc, "info_seen", json_object_new_boolean(self->info_seen));
    json_object_object_add(nwc, "encryption", json_object_new_string(
                               !self->info_seen ? "" : self->enc == ENC_NIP44 ? "nip44_v2" : "nip04"));
    json_object_object_add(nwc, "methods", json_object_new_string(self->methods));
    json_object_object_add(nwc, "alias", json_object_new_string(self->alias));
    json_object_object_add(nwc, "network", json_object_new_string(self->wallet_network));
    json_object_object_add(nwc, "requests", json_object_new_int64((int64_t) self->sent));
    json_object_object_add(nwc, "answers", json_object_new_int64((int64_t) self->answered));
    json_object_object_add(nwc, "timeouts", json_object_new_int64((int64_t) self->timeouts));
    json_object_object_add(nwc, "errors", json_object_new_int64((int64_t) self->errors));
    json_object_object_add(nwc, "bad_events", json_object_new_int64((int64_t) self->bad_events));
    json_object_object_add(status, "nwc", nwc);
}

static bolt11_network_t
s_network(void *state)
{
    return ((nwc_t *) state)->network;
}

const wallet_backend_def_t wallet_backend_nwc = {
    .name = "nwc",
    .create = s_create,
    .destroy = s_destroy,
    .make_invoice = s_make_invoice,
    .lookup = s_lookup,
    .handle = s_handle,
    .status = s_status,
    .tick = s_sweep,
    .tick_ms = NWC_SWEEP_MS,
    .network = s_network,
};
