/*  wallet.c: the wallet actor. The book of open invoices, the ledger hand-shakes and the
    messages to the job router; the wallet-specific work is in a backend (actors/wallet/).

    One invoice's life, as the messages go:

        job_router  INVOICE_REQUEST ─► wallet ─► backend make_invoice
                                       wallet ◄─ backend: bolt11 (decoded and checked here)
                                       wallet ─► ledger  LEDGER_INVOICE_NEW (ref)
                                       wallet ◄─ ledger  LEDGER_ACK (ref)
        job_router  ◄─ INVOICE ok ──── wallet                      the invoice is now OPEN
                                       wallet ◄─ backend: settled (or a lookup says so)
                                       wallet ─► ledger  LEDGER_INVOICE_SETTLED (ref)
                                       wallet ◄─ ledger  LEDGER_ACK (ref)
        job_router  ◄─ INVOICE_SETTLED  wallet                     the invoice is gone

    and the same with LEDGER_INVOICE_EXPIRED / INVOICE_EXPIRED for an invoice found past its
    expiry (the backend is asked once more before: a last-second payment wins). A ledger write
    that fails is said again on a later tick: the ledger books each settlement once by payment
    hash, so repeating is harmless. A tick every second drives expiry, the polling of backends
    without push notifications, the retries and the deadlines. */
#include "actors.h"
#include "log.h"
#include "wallet.h"
#include "wallet/backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS              1000       /* the expiry / retry / deadline sweep */
#define CREATE_DEADLINE_MS   60000      /* a backend that never answers a create */
#define LEDGER_DEADLINE_MS   30000      /* a ledger that never acknowledges an invoice record */
#define RETRY_MS             5000       /* again after a failed lookup or ledger write */
#define QUERY_RETRY_MS       5000       /* again when the ledger did not answer open_invoices */
#define MAX_EXPIRY_S         (7 * 86400) /* longest invoice expiry accepted from a request */
#define MAX_ROWS_JSON        4194000    /* LEDGER_ROWS json limit (messages.def) */

/* Where an open invoice is in its life. */
typedef enum {
    INV_OPEN,               /* payable; waiting for a payment or its expiry */
    INV_BOOK_SETTLED,       /* paid: LEDGER_INVOICE_SETTLED said, waiting for its ack */
    INV_BOOK_EXPIRED        /* expired: LEDGER_INVOICE_EXPIRED said, waiting for its ack */
} inv_state_t;

/* An invoice recorded in the ledger and not yet settled or expired. */
typedef struct {
    uint8_t hash[32];           /* payment hash: the key */
    uint8_t job[32];            /* the job it pays for */
    uint64_t amount_msats;      /* what it asks */
    uint64_t expires_at;        /* unix seconds */
    inv_state_t state;          /* see above */
    uint64_t paid_msats;        /* INV_BOOK_SETTLED: what arrived */
    uint64_t settled_at;        /* INV_BOOK_SETTLED: when (unix seconds) */
    uint64_t ledger_ref;        /* the ledger write in flight for it, 0 when none */
    int64_t retry_at_ms;        /* no ledger retry or lookup before this (monotonic ms) */
    bool lookup_inflight;       /* a backend lookup has not answered yet */
} invoice_t;

/* An INVOICE_REQUEST being served: from the backend call to the ledger's ack. */
typedef struct {
    uint64_t req;               /* our id, also the LEDGER_INVOICE_NEW ref */
    uint8_t job[32];            /* from the request */
    uint64_t amount_msats;      /* from the request */
    char requester[MSG_NAME_MAX + 1];   /* who asked (gets the INVOICE) */
    int64_t started_ms;         /* monotonic, for the deadlines */
    bool recording;             /* the backend answered, the ledger record is in flight */
    char *bolt11;               /* the invoice (owned), once the backend answered */
    uint8_t hash[32];           /* its payment hash */
    uint64_t expires_at;        /* its expiry, unix seconds */
    bool paid_early;            /* the payment arrived before the ledger's ack */
    uint64_t paid_msats;        /* ... with this amount */
    uint64_t settled_at;        /* ... at this time */
} pending_t;

/* What a LEDGER_ACK with a given ref acknowledges. */
typedef enum { WRITE_NEW, WRITE_SETTLED, WRITE_EXPIRED } write_kind_t;

struct wallet_core {
    actor_ctx_t *ctx;
    const config_t *cfg;                /* borrowed from the daemon */
    const wallet_backend_def_t *def;    /* the backend */
    void *backend;                      /* its state */
    zhashx_t *invoices;                 /* hex payment hash → invoice_t (owned) */
    zhashx_t *pending;                  /* decimal req → pending_t (owned) */
    uint64_t next_ref;                  /* last ref / req id used */
    uint64_t query_ref;                 /* ref of the open_invoices query, 0 once answered */
    int64_t query_sent_ms;              /* when it was (last) sent */
    int tick;                           /* the sweep timer */
    int64_t poll_ms;                    /* interval of payment lookups, 0: the backend pushes */
    int64_t last_poll_ms;               /* when the last polling round started */
    bool reachable;                     /* the backend's last contact succeeded */
    bool balance_known;                 /* balance_msats is meaningful */
    uint64_t balance_msats;             /* last balance the backend reported */
    uint64_t created;                   /* invoices handed out */
    uint64_t settled;                   /* invoices settled (booked and announced) */
    uint64_t expired;                   /* invoices expired */
    uint64_t failed;                    /* INVOICE ok=false answers */
    uint64_t reconciled;                /* open invoices read back from the ledger */
    char last_error[WALLET_ERROR_MAX];  /* last problem, for the status */
};

uint64_t
wallet_core_now(void)
{
    return (uint64_t) time(NULL);
}

static void
s_hex(const uint8_t hash[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[64] = 0;
}

static int
s_unhex(const char *hex, uint8_t out[32])
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

static void
s_set_error(wallet_core_t *self, const char *error)
{
    snprintf(self->last_error, sizeof self->last_error, "%s", error);
}

static invoice_t *
s_invoice(wallet_core_t *self, const uint8_t hash[32])
{
    char key[65];
    s_hex(hash, key);
    return zhashx_lookup(self->invoices, key);
}

static pending_t *
s_pending(wallet_core_t *self, uint64_t req)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, req);
    return zhashx_lookup(self->pending, key);
}

static void
s_pending_remove(wallet_core_t *self, pending_t *pending)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, pending->req);
    zhashx_delete(self->pending, key);
}

static void
s_pending_free(void **item_p)
{
    pending_t *pending = *item_p;
    if (pending) {
        free(pending->bolt11);
        free(pending);
        *item_p = NULL;
    }
}

static void
s_invoice_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

/* ---- invoice creation ---------------------------------------------------------------------- */

/* Answer the requester with ok=false and forget the request. */
static void
s_fail_request(wallet_core_t *self, pending_t *pending, const char *error)
{
    msg_t reply = {.type = MSG_INVOICE, .invoice = {.ok = false, .bolt11 = "", .error = error}};
    memcpy(reply.invoice.job, pending->job, 32);
    log_warn("invoice for %" PRIu64 " msats not created: %s", pending->amount_msats, error);
    s_set_error(self, error);
    self->failed++;
    actor_send(self->ctx, pending->requester, &reply);
    s_pending_remove(self, pending);
}

static void
s_handle_request(wallet_core_t *self, const msg_t *msg)
{
    const msg_invoice_request_t *ask = &msg->invoice_request;
    pending_t *pending = calloc(1, sizeof *pending);
    pending->req = ++self->next_ref;
    memcpy(pending->job, ask->job, 32);
    pending->amount_msats = ask->amount_msats;
    snprintf(pending->requester, sizeof pending->requester, "%s", msg->from);
    pending->started_ms = actor_now_ms();
    char key[24];
    snprintf(key, sizeof key, "%" PRIu64, pending->req);
    zhashx_insert(self->pending, key, pending);

    uint64_t expiry = ask->expiry_s ? ask->expiry_s : (uint64_t) self->cfg->invoice_expiry_s;
    char error[WALLET_ERROR_MAX] = "";
    if (ask->amount_msats == 0)
        snprintf(error, sizeof error, "an invoice needs an amount above 0 msats");
    else if (ask->amount_msats > BOLT11_MAX_MSAT)
        snprintf(error, sizeof error, "amount of %" PRIu64 " msats is more than 21 million BTC",
                 ask->amount_msats);
    else if (expiry == 0 || expiry > MAX_EXPIRY_S)
        snprintf(error, sizeof error, "expiry of %" PRIu64 " s is outside 1..%d s", expiry,
                 MAX_EXPIRY_S);
    else if (self->cfg->max_open_invoices > 0
             && (int64_t) (zhashx_size(self->invoices) + zhashx_size(self->pending))
                    > self->cfg->max_open_invoices)
        snprintf(error, sizeof error, "too many open invoices (%" PRId64 "): try again later",
                 self->cfg->max_open_invoices);
    if (*error) {
        s_fail_request(self, pending, error);
        return;
    }
    self->def->make_invoice(self->backend, pending->req, ask->amount_msats, ask->description,
                            expiry);
}

void
wallet_core_invoice_made(wallet_core_t *self, uint64_t req, const char *bolt11,
                         const uint8_t *payment_hash, const char *preimage_hex,
                         const char *error)
{
    pending_t *pending = s_pending(self, req);
    if (!pending || pending->recording)
        return;                 /* already failed by its deadline */
    char why[WALLET_ERROR_MAX];
    if (!bolt11) {
        snprintf(why, sizeof why, "%s wallet: %s", self->def->name,
                 error && *error ? error : "no invoice and no reason");
        s_fail_request(self, pending, why);
        return;
    }
    /* Decode and check what the wallet gave before anybody sees it. */
    bolt11_invoice_t *inv = malloc(sizeof *inv);
    int rc = strlen(bolt11) > 4096 ? BOLT11_ERR_INPUT : bolt11_decode(bolt11, inv);
    uint64_t now = wallet_core_now();
    if (rc == 0 && inv->network != self->def->network(self->backend))
        snprintf(why, sizeof why, "%s wallet returned an invoice for the wrong network (%s)",
                 self->def->name, bolt11_network_prefix(inv->network));
    else if (rc == 0 && (rc = bolt11_check(inv, pending->amount_msats, payment_hash, now)) != 0)
        snprintf(why, sizeof why, "%s wallet returned an invoice that does not match: %s",
                 self->def->name, bolt11_strerror(rc));
    else if (rc != 0)
        snprintf(why, sizeof why, "%s wallet returned an invalid invoice: %s", self->def->name,
                 rc == BOLT11_ERR_INPUT ? "longer than 4096 characters" : bolt11_strerror(rc));
    else
        why[0] = 0;
    if (*why) {
        free(inv);
        s_fail_request(self, pending, why);
        return;
    }
    memcpy(pending->hash, inv->payment_hash, 32);
    pending->expires_at = inv->timestamp + inv->expiry;
    free(inv);
    if (s_invoice(self, pending->hash)) {
        s_fail_request(self, pending, "the wallet returned an invoice already open for another job");
        return;
    }
    pending->bolt11 = strdup(bolt11);
    pending->recording = true;
    msg_t rec = {.type = MSG_LEDGER_INVOICE_NEW,
                 .ledger_invoice_new = {.ref = pending->req, .bolt11 = bolt11,
                                        .amount_msats = pending->amount_msats,
                                        .expires_at = pending->expires_at,
                                        .preimage = preimage_hex ? preimage_hex : "",
                                        .wallet = self->def->name}};
    memcpy(rec.ledger_invoice_new.payment_hash, pending->hash, 32);
    memcpy(rec.ledger_invoice_new.job, pending->job, 32);
    if (actor_send(self->ctx, "ledger", &rec) != 0)
        s_fail_request(self, pending, "the ledger is not reachable: the invoice was not recorded");
}

static void s_settle(wallet_core_t *self, invoice_t *inv, uint64_t amount_msats,
                     uint64_t settled_at);

/* The ledger answered LEDGER_INVOICE_NEW: the invoice becomes visible, or the request fails. */
static void
s_recorded(wallet_core_t *self, pending_t *pending, const msg_ledger_ack_t *ack)
{
    if (!ack->ok) {
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "the ledger could not record the invoice: %s", ack->error);
        s_fail_request(self, pending, why);
        return;
    }
    invoice_t *inv = calloc(1, sizeof *inv);
    memcpy(inv->hash, pending->hash, 32);
    memcpy(inv->job, pending->job, 32);
    inv->amount_msats = pending->amount_msats;
    inv->expires_at = pending->expires_at;
    char key[65];
    s_hex(inv->hash, key);
    zhashx_insert(self->invoices, key, inv);
    msg_t reply = {.type = MSG_INVOICE,
                   .invoice = {.ok = true, .bolt11 = pending->bolt11,
                               .expires_at = pending->expires_at, .error = ""}};
    memcpy(reply.invoice.job, pending->job, 32);
    memcpy(reply.invoice.payment_hash, pending->hash, 32);
    actor_send(self->ctx, pending->requester, &reply);
    self->created++;
    log_debug("invoice %.16s… for %" PRIu64 " msats is open", key, inv->amount_msats);
    bool paid = pending->paid_early;
    uint64_t paid_msats = pending->paid_msats, settled_at = pending->settled_at;
    s_pending_remove(self, pending);
    if (paid)
        s_settle(self, inv, paid_msats, settled_at);
}

/* ---- settlement and expiry ----------------------------------------------------------------- */

static void
s_book_settled(wallet_core_t *self, invoice_t *inv)
{
    inv->ledger_ref = ++self->next_ref;
    msg_t book = {.type = MSG_LEDGER_INVOICE_SETTLED,
                  .ledger_invoice_settled = {.ref = inv->ledger_ref,
                                             .amount_msats = inv->paid_msats,
                                             .settled_at = inv->settled_at}};
    memcpy(book.ledger_invoice_settled.payment_hash, inv->hash, 32);
    actor_send(self->ctx, "ledger", &book);
}

static void
s_book_expired(wallet_core_t *self, invoice_t *inv)
{
    inv->ledger_ref = ++self->next_ref;
    msg_t book = {.type = MSG_LEDGER_INVOICE_EXPIRED,
                  .ledger_invoice_expired = {.ref = inv->ledger_ref}};
    memcpy(book.ledger_invoice_expired.payment_hash, inv->hash, 32);
    actor_send(self->ctx, "ledger", &book);
}

static void
s_settle(wallet_core_t *self, invoice_t *inv, uint64_t amount_msats, uint64_t settled_at)
{
    if (inv->state == INV_BOOK_SETTLED)
        return;                 /* heard twice: already being booked */
    if (amount_msats == 0)
        amount_msats = inv->amount_msats;   /* the wallet did not say: the invoice's amount */
    if (amount_msats < inv->amount_msats)
        log_warn("invoice paid %" PRIu64 " msats of %" PRIu64, amount_msats, inv->amount_msats);
    inv->state = INV_BOOK_SETTLED;
    inv->paid_msats = amount_msats;
    inv->settled_at = settled_at ? settled_at : wallet_core_now();
    s_book_settled(self, inv);
}

static void
s_expire(wallet_core_t *self, invoice_t *inv)
{
    if (inv->state != INV_OPEN)
        return;
    inv->state = INV_BOOK_EXPIRED;
    s_book_expired(self, inv);
}

void
wallet_core_settled(wallet_core_t *self, const uint8_t payment_hash[32], uint64_t amount_msats,
                    uint64_t settled_at)
{
    invoice_t *inv = s_invoice(self, payment_hash);
    if (inv) {
        s_settle(self, inv, amount_msats, settled_at);
        return;
    }
    /* Paid before the ledger acknowledged the record: settle right after the ack. */
    for (pending_t *p = zhashx_first(self->pending); p; p = zhashx_next(self->pending))
        if (p->recording && memcmp(p->hash, payment_hash, 32) == 0) {
            p->paid_early = true;
            p->paid_msats = amount_msats;
            p->settled_at = settled_at;
            return;
        }
    char hex[65];
    s_hex(payment_hash, hex);
    log_debug("payment for %.16s…, not one of our open invoices: ignored", hex);
}

void
wallet_core_lookup_done(wallet_core_t *self, const uint8_t payment_hash[32],
                        wallet_invoice_state_t state, uint64_t amount_msats,
                        uint64_t settled_at, const char *error)
{
    invoice_t *inv = s_invoice(self, payment_hash);
    if (!inv)
        return;
    inv->lookup_inflight = false;
    if (inv->state != INV_OPEN)
        return;
    bool past = wallet_core_now() >= inv->expires_at;
    switch (state) {
    case WALLET_INVOICE_SETTLED:
        s_settle(self, inv, amount_msats, settled_at);
        break;
    case WALLET_INVOICE_EXPIRED:
        s_expire(self, inv);
        break;
    case WALLET_INVOICE_OPEN:
    case WALLET_INVOICE_UNKNOWN:
        /* An open invoice past its expiry can no longer be paid; an unknown one before its
           expiry is kept (the wallet may only be slow to index it). */
        if (past)
            s_expire(self, inv);
        break;
    case WALLET_INVOICE_FAILED:
        inv->retry_at_ms = actor_now_ms() + RETRY_MS;
        s_set_error(self, error ? error : "lookup failed");
        break;
    }
}

/* A LEDGER_ACK for an invoice's settlement or expiry. */
static void
s_booked(wallet_core_t *self, invoice_t *inv, const msg_ledger_ack_t *ack)
{
    inv->ledger_ref = 0;
    if (!ack->ok) {
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "the ledger could not book the invoice: %s", ack->error);
        log_error("%s (will say it again)", why);
        s_set_error(self, why);
        inv->retry_at_ms = actor_now_ms() + RETRY_MS;
        return;
    }
    char key[65];
    s_hex(inv->hash, key);
    if (inv->state == INV_BOOK_SETTLED) {
        msg_t news = {.type = MSG_INVOICE_SETTLED,
                      .invoice_settled = {.amount_msats = inv->paid_msats,
                                          .settled_at = inv->settled_at}};
        memcpy(news.invoice_settled.payment_hash, inv->hash, 32);
        actor_send(self->ctx, "job_router", &news);
        self->settled++;
        log_info("invoice %.16s… settled: %" PRIu64 " msats", key, inv->paid_msats);
        if (self->def->booked)
            self->def->booked(self->backend, inv->hash);
    }
    else {
        msg_t news = {.type = MSG_INVOICE_EXPIRED};
        memcpy(news.invoice_expired.payment_hash, inv->hash, 32);
        actor_send(self->ctx, "job_router", &news);
        self->expired++;
        log_info("invoice %.16s… expired unpaid", key);
    }
    zhashx_delete(self->invoices, key);
}

static void
s_handle_ack(wallet_core_t *self, const msg_ledger_ack_t *ack)
{
    pending_t *pending = s_pending(self, ack->ref);
    if (pending && pending->recording) {
        s_recorded(self, pending, ack);
        return;
    }
    for (invoice_t *inv = zhashx_first(self->invoices); inv; inv = zhashx_next(self->invoices))
        if (inv->ledger_ref == ack->ref) {
            s_booked(self, inv, ack);
            return;     /* s_booked may delete inv: stop iterating */
        }
    log_debug("ledger ack %" PRIu64 " for nothing pending (late or repeated)", ack->ref);
}

/* ---- restart reconciliation ---------------------------------------------------------------- */

static void
s_send_query(wallet_core_t *self)
{
    self->query_ref = ++self->next_ref;
    self->query_sent_ms = actor_now_ms();
    msg_t ask = {.type = MSG_LEDGER_QUERY,
                 .ledger_query = {.ref = self->query_ref, .what = "open_invoices", .args = "{}"}};
    actor_send(self->ctx, "ledger", &ask);
}

/* One row of LEDGER_ROWS: {payment_hash, job, bolt11, amount_msats, expires_at, preimage,
   wallet}. Returns 0, or -1 when a member is missing or malformed. */
static int
s_restore_row(wallet_core_t *self, json_object *row)
{
    json_object *v;
    const char *fields[] = {"payment_hash", "job", "bolt11", "amount_msats", "expires_at",
                            "preimage", "wallet"};
    const char *text[7] = {0};
    for (int i = 0; i < 7; i++) {
        bool optional = i == 5;     /* preimage: only the demo wallet keeps one */
        if (!json_object_object_get_ex(row, fields[i], &v) || json_object_is_type(v, json_type_null)) {
            if (!optional)
                return -1;
            text[i] = "";
            continue;
        }
        text[i] = json_object_get_string(v);
        if (strlen(text[i]) > 4096)
            return -1;
    }
    invoice_t inv = {0};
    json_object *amount = NULL, *expires = NULL;
    json_object_object_get_ex(row, "amount_msats", &amount);
    json_object_object_get_ex(row, "expires_at", &expires);
    if (s_unhex(text[0], inv.hash) || s_unhex(text[1], inv.job)
        || !json_object_is_type(amount, json_type_int)
        || !json_object_is_type(expires, json_type_int))
        return -1;
    inv.amount_msats = (uint64_t) json_object_get_int64(amount);
    inv.expires_at = (uint64_t) json_object_get_int64(expires);
    if (strcmp(text[6], self->def->name) != 0) {
        log_warn("open invoice %.16s… belongs to the %s wallet, not %s: left for the operator",
                 text[0], text[6], self->def->name);
        return 0;
    }
    if (s_invoice(self, inv.hash))
        return 0;       /* already known (the query was answered twice) */
    invoice_t *copy = malloc(sizeof *copy);
    *copy = inv;
    char key[65];
    s_hex(inv.hash, key);
    zhashx_insert(self->invoices, key, copy);
    self->reconciled++;
    if (self->def->restore)
        self->def->restore(self->backend, inv.hash, text[2], text[5], inv.amount_msats,
                           inv.expires_at);
    copy->lookup_inflight = true;
    self->def->lookup(self->backend, copy->hash);
    return 0;
}

/* LEDGER_ROWS: the answer to our open_invoices query. Returns false when it answers
   something else (a backend's own query, e.g. its stream position). */
static bool
s_handle_rows(wallet_core_t *self, const msg_ledger_rows_t *rows)
{
    if (rows->ref != self->query_ref || self->query_ref == 0)
        return false;
    if (!rows->ok) {
        log_warn("the ledger could not list open invoices: %s (asking again)", rows->json);
        return true;    /* the tick asks again */
    }
    self->query_ref = 0;
    json_tokener *tok = json_tokener_new_ex(8);
    json_object *list = json_tokener_parse_ex(tok, rows->json, (int) strnlen(rows->json, MAX_ROWS_JSON));
    json_tokener_free(tok);
    if (!json_object_is_type(list, json_type_array)) {
        log_error("the ledger's open_invoices answer is not a JSON array: nothing reconciled");
        json_object_put(list);
        return true;
    }
    size_t count = json_object_array_length(list), bad = 0;
    for (size_t i = 0; i < count; i++)
        bad += s_restore_row(self, json_object_array_get_idx(list, i)) != 0;
    if (bad)
        log_error("%zu of %zu open invoice rows from the ledger were malformed", bad, count);
    log_info("%" PRIu64 " open invoices to reconcile with the %s wallet", self->reconciled,
             self->def->name);
    json_object_put(list);
    return true;
}

/* ---- the tick ------------------------------------------------------------------------------ */

static void
s_tick(void *state, int timer_id)
{
    wallet_core_t *self = state;
    int64_t now_ms = actor_now_ms();
    uint64_t now = wallet_core_now();
    if (self->query_ref && now_ms - self->query_sent_ms >= QUERY_RETRY_MS)
        s_send_query(self);

    /* Deadlines of requests being served. */
    zlistx_t *late = zlistx_new();
    for (pending_t *p = zhashx_first(self->pending); p; p = zhashx_next(self->pending))
        if (now_ms - p->started_ms > (p->recording ? CREATE_DEADLINE_MS + LEDGER_DEADLINE_MS
                                                   : CREATE_DEADLINE_MS))
            zlistx_add_end(late, p);
    for (pending_t *p = zlistx_first(late); p; p = zlistx_next(late))
        s_fail_request(self, p, p->recording
                       ? "the ledger did not acknowledge the invoice record"
                       : "the wallet did not answer in time: no invoice");
    zlistx_destroy(&late);

    bool poll = self->poll_ms > 0 && now_ms - self->last_poll_ms >= self->poll_ms;
    if (poll)
        self->last_poll_ms = now_ms;
    zlistx_t *look = zlistx_new();
    for (invoice_t *inv = zhashx_first(self->invoices); inv; inv = zhashx_next(self->invoices)) {
        if (inv->retry_at_ms > now_ms)
            continue;
        if (inv->state == INV_BOOK_SETTLED && inv->ledger_ref == 0)
            s_book_settled(self, inv);          /* a failed booking, said again */
        else if (inv->state == INV_BOOK_EXPIRED && inv->ledger_ref == 0)
            s_book_expired(self, inv);
        else if (inv->state == INV_OPEN && !inv->lookup_inflight
                 && (now >= inv->expires_at || poll))
            zlistx_add_end(look, inv);
    }
    /* Lookups may answer from inside the call (demo): collect first, then ask. */
    for (invoice_t *inv = zlistx_first(look); inv; inv = zlistx_next(look)) {
        inv->lookup_inflight = true;
        uint8_t hash[32];
        memcpy(hash, inv->hash, 32);
        self->def->lookup(self->backend, hash);
    }
    zlistx_destroy(&look);
}

void
wallet_core_reachable(wallet_core_t *self, bool reachable, const char *error)
{
    if (reachable != self->reachable) {
        if (reachable)
            log_info("%s wallet reachable", self->def->name);
        else
            log_warn("%s wallet unreachable: %s", self->def->name, error ? error : "");
    }
    self->reachable = reachable;
    if (!reachable && error)
        s_set_error(self, error);
}

void
wallet_core_balance(wallet_core_t *self, uint64_t balance_msats)
{
    self->balance_known = true;
    self->balance_msats = balance_msats;
}

/* ---- the actor ----------------------------------------------------------------------------- */

static void
s_backend_tick(void *state, int timer_id)
{
    wallet_core_t *self = state;
    self->def->tick(self->backend);
}

static const wallet_backend_def_t *
s_backend_named(const char *name)
{
    if (strcmp(name, "demo") == 0)
        return &wallet_backend_demo;
    if (strcmp(name, "nwc") == 0)
        return &wallet_backend_nwc;
    if (strcmp(name, "lnd") == 0)
        return &wallet_backend_lnd;
    if (strcmp(name, "lnbits") == 0)
        return &wallet_backend_lnbits;
    if (strcmp(name, "cln") == 0)
        return &wallet_backend_cln;
    return NULL;
}

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    const wallet_args_t *wargs = args;
    const config_t *cfg = wargs->cfg;
    const wallet_backend_def_t *def = s_backend_named(cfg->wallet_backend);
    if (!def) {
        log_error("no wallet backend named '%s': use demo, nwc, lnd, cln or lnbits",
                  cfg->wallet_backend);
        return NULL;
    }
    wallet_core_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = cfg;
    self->def = def;
    self->invoices = zhashx_new();
    zhashx_set_destructor(self->invoices, s_invoice_free);
    self->pending = zhashx_new();
    zhashx_set_destructor(self->pending, s_pending_free);
    char err[WALLET_ERROR_MAX] = "";
    self->backend = def->create(self, ctx, wargs, err, sizeof err);
    if (!self->backend) {
        log_error("%s wallet cannot start: %s", def->name, err);
        zhashx_destroy(&self->invoices);
        zhashx_destroy(&self->pending);
        free(self);
        return NULL;
    }
    self->poll_ms = strcmp(def->name, "demo") == 0 ? 0 : cfg->wallet_poll_interval_ms;
    self->last_poll_ms = actor_now_ms();
    self->tick = actor_timer_add(ctx, TICK_MS, TICK_MS, s_tick);
    if (def->tick && def->tick_ms > 0)
        actor_timer_add(ctx, def->tick_ms, def->tick_ms, s_backend_tick);
    s_send_query(self);
    return self;
}

static void
s_destroy(void **state_p)
{
    wallet_core_t *self = *state_p;
    if (!self)
        return;
    self->def->destroy(&self->backend);
    zhashx_destroy(&self->invoices);
    zhashx_destroy(&self->pending);
    free(self);
    *state_p = NULL;
}

static void
s_handle(void *state, const msg_t *msg)
{
    wallet_core_t *self = state;
    switch (msg->type) {
    case MSG_INVOICE_REQUEST:
        s_handle_request(self, msg);
        return;
    case MSG_LEDGER_ACK:
        s_handle_ack(self, &msg->ledger_ack);
        return;
    case MSG_LEDGER_ROWS:
        if (s_handle_rows(self, &msg->ledger_rows))
            return;
        break;
    default:
        break;
    }
    if (self->def->handle && self->def->handle(self->backend, msg))
        return;
    if (msg->type == MSG_WALLET_DEMO_PAY) {
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "demo-pay only pays demo-wallet invoices; this node uses the "
                 "%s wallet", self->def->name);
        msg_t reply = {.type = MSG_WALLET_DEMO_PAID,
                       .wallet_demo_paid = {.ref = msg->wallet_demo_pay.ref, .error = why}};
        actor_reply(self->ctx, msg, &reply);
        return;
    }
    log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
}

static char *
s_status(void *state)
{
    wallet_core_t *self = state;
    json_object *top = json_object_new_object();
    json_object_object_add(top, "backend", json_object_new_string(self->def->name));
    json_object_object_add(top, "reachable", json_object_new_boolean(self->reachable));
    json_object_object_add(top, "balance_msats", self->balance_known
                           ? json_object_new_int64((int64_t) self->balance_msats) : NULL);
    size_t open = 0;
    for (invoice_t *inv = zhashx_first(self->invoices); inv; inv = zhashx_next(self->invoices))
        open += inv->state == INV_OPEN;
    json_object_object_add(top, "open_invoices", json_object_new_int64((int64_t) open));
    json_object_object_add(top, "pending_requests",
                           json_object_new_int64((int64_t) zhashx_size(self->pending)));
    json_object_object_add(top, "created", json_object_new_int64((int64_t) self->created));
    json_object_object_add(top, "settled", json_object_new_int64((int64_t) self->settled));
    json_object_object_add(top, "expired", json_object_new_int64((int64_t) self->expired));
    json_object_object_add(top, "failed", json_object_new_int64((int64_t) self->failed));
    json_object_object_add(top, "reconciled", json_object_new_int64((int64_t) self->reconciled));
    json_object_object_add(top, "last_error", json_object_new_string(self->last_error));
    if (self->def->status)
        self->def->status(self->backend, top);
    char *json = strdup(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN));
    json_object_put(top);
    return json;
}

const actor_def_t wallet_actor = {
    .name = "wallet",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
