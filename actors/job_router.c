/*  job_router.c: the job router, the heart of Pylon. It owns the job state machine:

        received ─► rejected (bad input, unknown or unavailable backend, bid too low, busy)
           │
           ▼
        quoted ──(invoice, payment-required published)──► expired (invoice expired unpaid)
           │ paid
           ▼
        queued ─► running ─► delivered (result accepted by the relays)
                         └─► failed (backend error: error feedback)

    Free jobs (price 0) skip quoted. Every transition is written to the ledger and acted on
    only once the ledger has acknowledged it (LEDGER_ACK): a state is durable before anything
    that depends on it is visible outside. The signed result event is stored before it is
    published, so after a crash the same event is published again, never a second one.

    Each job in memory waits for at most one answer at a time (a ledger ack, a quote, an
    invoice, a result, a publish): `step` says which, and the answer's handler moves it on.
    On start, the router asks the ledger for every open job and resumes each from its state. */
#include "actors.h"
#include "job_request.h"
#include "job_router.h"
#include "log.h"

#include <json-c/json.h>
#include <time.h>

#define ANNOUNCE_DELAY_MS   1500    /* wait for the first backend probes before announcing */
#define INTAKE_WAIT_MS      6000    /* longest wait for the first probes before taking requests */
#define REPUBLISH_MS        30000   /* retry a result no relay accepted */
#define MAX_JOBS_IN_MEMORY  100000  /* hard stop on anything that grows with intake */
#define MAX_BUYERS          10000   /* rate-limit buckets kept */

/* What a job waits for. */
typedef enum {
    STEP_NONE,
    STEP_RECORDED,          /* ledger: the new job is recorded (or was known) */
    STEP_REJECTED,          /* ledger: rejected; then error feedback */
    STEP_QUOTE,             /* pricing: the quote */
    STEP_INVOICE,           /* wallet: the invoice */
    STEP_QUOTED,            /* ledger: quoted; then payment-required */
    STEP_PAID,              /* ledger: the settlement is booked and the job queued */
    STEP_PAYMENT,           /* wallet: settlement or expiry (no message owed) */
    STEP_RUNNING,           /* ledger: running; then processing feedback and dispatch */
    STEP_RESULT,            /* inference: the result */
    STEP_STORED,            /* ledger: the signed result is stored; then publish */
    STEP_PUBLISHED,         /* relay: the result was accepted */
    STEP_DELIVERED,         /* ledger: delivered; then the job is done */
    STEP_FAILED,            /* ledger: failed or expired; then error feedback */
} step_t;

typedef struct {
    uint8_t id[32];                 /* the request event's id */
    char id_hex[65];
    uint8_t buyer[32];
    char buyer_hex[65];
    uint32_t kind;                  /* 5935 or 5050 */
    char *request_json;             /* the request event as received (owned) */
    job_request_t req;              /* the request, read and checked */
    char backend[JOB_BACKEND_MAX + 1];  /* the backend serving it (resolved default) */
    step_t step;
    uint64_t ref;                   /* the reference of the awaited answer */
    uint64_t price_msats;
    uint8_t payment_hash[32];
    bool has_invoice;
    char *bolt11;                   /* the invoice, for payment-required (owned) */
    char *result_event;             /* signed result JSON, once made (owned) */
    char error[512];                /* why it was rejected or failed */
    bool counted_queue;             /* counted in its backend's queue */
    bool counted_unpaid;            /* counted in the open unpaid invoices */
    bool admit_at_intake;           /* resumed as received: admitted once intake starts */
    int64_t started_ms;             /* when intake began, for latency figures */
} job_t;

typedef struct {
    char name[JOB_BACKEND_MAX + 1];
    bool available;
    bool heard;                     /* its first status came (or it is assumed available) */
    uint64_t slots;
    int queued;                     /* jobs of ours queued or running there */
} backend_t;

typedef struct {
    double tokens;                  /* token bucket: jobs the buyer may still send */
    int64_t last_ms;
    int unpaid;                     /* open unpaid invoices of this buyer */
} buyer_t;

typedef struct {
    actor_ctx_t *ctx;
    const config_t *cfg;
    nostr_keys_t *keys;             /* ours (owned) */
    char pubkey_hex[65];
    zhashx_t *jobs;                 /* id hex -> job_t */
    zhashx_t *by_ref;               /* ref (as text) -> job_t, for answers */
    zhashx_t *by_payment;           /* payment hash hex -> job_t */
    zhashx_t *buyers;               /* buyer hex -> buyer_t */
    backend_t backends[32];
    int backend_count;
    uint64_t next_ref;
    uint64_t recover_ref;           /* the open_jobs query */
    bool resumed;                   /* the open jobs are back in memory */
    size_t resumed_count;           /* open jobs read back so far (over the pages) */
    struct {
        msg_t msg;                  /* INVOICE_SETTLED or INVOICE_EXPIRED (no strings in them) */
    } early[256];                   /* ... that arrived before the open jobs were back */
    int early_count;
    bool intake_wait_over;          /* INTAKE_WAIT_MS passed: take requests, probed or not */
    bool recovered;                 /* subscribed: intake has started */
    uint64_t announce_ref;          /* the last announcement's publish */
    int announce_timer;
    bool announced;
    int unpaid_total;               /* open unpaid invoices, all buyers */
    struct {
        uint64_t received, duplicates, not_for_us, expired_requests, rejected, quoted,
                 paid, delivered, failed, invoice_expired, malformed;
    } counts;
} router_t;

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t
s_ref(router_t *self, job_t *job, step_t step)
{
    char key[24];
    if (job->ref) {
        snprintf(key, sizeof key, "%llu", (unsigned long long) job->ref);
        zhashx_delete(self->by_ref, key);
    }
    job->ref = ++self->next_ref;
    job->step = step;
    snprintf(key, sizeof key, "%llu", (unsigned long long) job->ref);
    zhashx_insert(self->by_ref, key, job);
    return job->ref;
}

static job_t *
s_job_by_ref(router_t *self, uint64_t ref, step_t step)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long) ref);
    job_t *job = zhashx_lookup(self->by_ref, key);
    if (!job || job->step != step)
        return NULL;
    zhashx_delete(self->by_ref, key);
    job->ref = 0;
    job->step = STEP_NONE;
    return job;
}

static backend_t *
s_backend(router_t *self, const char *name)
{
    for (int i = 0; i < self->backend_count; i++)
        if (streq(self->backends[i].name, name))
            return &self->backends[i];
    return NULL;
}

/* The backends this node serves, from the configuration. */
static void
s_add_backend(router_t *self, const char *name)
{
    if (self->backend_count < 32 && !s_backend(self, name))
        snprintf(self->backends[self->backend_count++].name, JOB_BACKEND_MAX + 1, "%s", name);
}

static void
s_load_backends(router_t *self)
{
    char name[JOB_BACKEND_MAX + 1];
    const config_t *cfg = self->cfg;
    if (cfg->llamacpp_enabled)
        for (size_t i = 0; i < cfg->llamacpp_models.count; i++) {
            snprintf(name, sizeof name, "llamacpp:%s", cfg->llamacpp_models.items[i]);
            s_add_backend(self, name);
        }
    if (cfg->apple_fm_enabled)
        s_add_backend(self, "apple_fm");
    if (cfg->ollama_enabled)
        for (size_t i = 0; i < cfg->ollama_models.count; i++) {
            snprintf(name, sizeof name, "ollama:%s", cfg->ollama_models.items[i]);
            s_add_backend(self, name);
        }
    if (cfg->openai_enabled)
        for (size_t i = 0; i < cfg->openai_models.count; i++) {
            snprintf(name, sizeof name, "openai:%s", cfg->openai_models.items[i]);
            s_add_backend(self, name);
        }
}

static buyer_t *
s_buyer(router_t *self, const char *hex)
{
    buyer_t *buyer = zhashx_lookup(self->buyers, hex);
    if (!buyer) {
        if (zhashx_size(self->buyers) >= MAX_BUYERS)
            zhashx_purge(self->buyers);     /* forget old buckets rather than grow */
        buyer = calloc(1, sizeof *buyer);
        buyer->tokens = (double) self->cfg->jobs_per_minute_per_buyer;
        buyer->last_ms = actor_now_ms();
        zhashx_insert(self->buyers, hex, buyer);
    }
    return buyer;
}

static void
s_release_counts(router_t *self, job_t *job)
{
    if (job->counted_queue) {
        backend_t *backend = s_backend(self, job->backend);
        if (backend)
            backend->queued--;
        job->counted_queue = false;
    }
    if (job->counted_unpaid) {
        buyer_t *buyer = zhashx_lookup(self->buyers, job->buyer_hex);
        if (buyer)
            buyer->unpaid--;
        self->unpaid_total--;
        job->counted_unpaid = false;
    }
}

static void
s_job_free(void **item)
{
    job_t *job = *item;
    if (job) {
        job_request_free(&job->req);
        free(job->request_json);
        free(job->bolt11);
        free(job->result_event);
        free(job);
        *item = NULL;
    }
}

/* The job is finished in memory (its final state is in the ledger). */
static void
s_job_done(router_t *self, job_t *job)
{
    s_release_counts(self, job);
    if (job->has_invoice) {
        char hash[65];
        nostr_event_hex(job->payment_hash, 32, hash);
        zhashx_delete(self->by_payment, hash);
    }
    if (job->ref) {
        char key[24];
        snprintf(key, sizeof key, "%llu", (unsigned long long) job->ref);
        zhashx_delete(self->by_ref, key);
    }
    zhashx_delete(self->jobs, job->id_hex);     /* frees it */
}

/* Sign and publish an event we built; ref 0 when nobody waits for the outcome. */
static char *
s_sign(router_t *self, nostr_event_t *event)
{
    if (nostr_event_sign(event, self->keys) != 0)
        return NULL;
    return nostr_event_to_json(event, NULL);
}

static void
s_publish(router_t *self, const char *json, uint64_t ref)
{
    msg_t publish = {.type = MSG_RELAY_PUBLISH,
                     .relay_publish = {ref, json, (uint64_t) self->cfg->publish_quorum}};
    actor_send(self->ctx, "relay", &publish);
}

/* Kind-7000 feedback. For a plain request the text is the status tag's reason (and, for
   partial results, the content); for an encrypted one it goes only in the encrypted content. */
static void
s_feedback(router_t *self, job_t *job, const char *status, const char *text, bool with_invoice)
{
    bool plain = job->req.encryption == JOB_PLAIN;
    char *sealed = !plain && text && *text
                   ? job_request_encrypt(self->keys, job->buyer, job->req.encryption, text) : NULL;
    const char *content = sealed ? sealed : plain && text && streq(status, "partial") ? text : "";
    nostr_event_t *event = nostr_event_new(7000, time(NULL), content, strlen(content));
    free(sealed);
    if (!event)
        return;
    nostr_event_add_tagv(event, "status", status, plain && text ? text : "", NULL);
    nostr_event_add_tagv(event, "e", job->id_hex, NULL);
    nostr_event_add_tagv(event, "p", job->buyer_hex, NULL);
    if (with_invoice && job->bolt11) {
        char amount[24];
        snprintf(amount, sizeof amount, "%llu", (unsigned long long) job->price_msats);
        nostr_event_add_tagv(event, "amount", amount, job->bolt11, NULL);
    }
    if (!plain)
        nostr_event_add_tagv(event, "encrypted", NULL);
    char *json = s_sign(self, event);
    if (json)
        s_publish(self, json, 0);
    free(json);
    nostr_event_destroy(&event);
}

static void
s_ledger_update(router_t *self, job_t *job, step_t step, const char *state, const char *error,
                const char *result_event, uint64_t prompt_tokens, uint64_t completion_tokens)
{
    char hash[65] = "";
    if (job->has_invoice)
        nostr_event_hex(job->payment_hash, 32, hash);
    msg_t update = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.ref = s_ref(self, job, step), .state = state,
                                          .price_msats = job->price_msats, .quote = "",
                                          .payment_hash = hash, .result_event = result_event ? result_event : "",
                                          .error = error ? error : "", .prompt_tokens = prompt_tokens,
                                          .completion_tokens = completion_tokens,
                                          .backend = job->backend}};
    memcpy(update.ledger_job_update.job, job->id, 32);
    actor_send(self->ctx, "ledger", &update);
}

/* Refuse the job: record it, then answer with error feedback. */
static void
s_reject(router_t *self, job_t *job, const char *why)
{
    if (why != job->error)
        snprintf(job->error, sizeof job->error, "%s", why);
    log_info("job %.12s rejected: %s", job->id_hex, why);
    self->counts.rejected++;
    s_release_counts(self, job);
    s_ledger_update(self, job, STEP_REJECTED, "rejected", job->error, NULL, 0, 0);
}

static void
s_fail(router_t *self, job_t *job, const char *state, const char *why)
{
    if (why != job->error)
        snprintf(job->error, sizeof job->error, "%s", why);
    log_warn("job %.12s %s: %s", job->id_hex, state, why);
    s_release_counts(self, job);
    /* job->error, not why: a backend's message can be longer than the ledger's error field,
       and a write that cannot be sent leaves the job waiting for an ack that never comes. */
    s_ledger_update(self, job, STEP_FAILED, state, job->error, NULL, 0, 0);
}

/* ---- the announcement (NIP-89) ------------------------------------------------------------- */

static void
s_announce(void *state, int timer_id)
{
    router_t *self = state;
    self->announce_timer = 0;
    json_object *content = json_object_new_object();
    json_object_object_add(content, "name", json_object_new_string(self->cfg->provider_name));
    json_object_object_add(content, "about", json_object_new_string(self->cfg->provider_about));
    json_object *backends = json_object_new_array();
    for (int i = 0; i < self->backend_count; i++)
        if (self->backends[i].available)
            json_object_array_add(backends, json_object_new_string(self->backends[i].name));
    json_object_object_add(content, "backends", backends);
    json_object *pricing = json_object_new_object();
    json_object_object_add(pricing, "base_price_sats", json_object_new_int64(self->cfg->base_price_sats));
    json_object_object_add(pricing, "price_per_1k_tokens", json_object_new_double(self->cfg->price_per_1k_tokens));
    json_object *multipliers = json_object_new_object();
    for (size_t i = 0; i < self->cfg->backend_multipliers.count; i++)
        json_object_object_add(multipliers, self->cfg->backend_multipliers.keys[i],
                               json_object_new_double(self->cfg->backend_multipliers.values[i]));
    json_object_object_add(pricing, "backend_multipliers", multipliers);
    json_object_object_add(content, "pricing", pricing);
    json_object *encryption = json_object_new_array();
    json_object_array_add(encryption, json_object_new_string("nip44"));
    json_object_array_add(encryption, json_object_new_string("nip04"));
    json_object_object_add(content, "encryption", encryption);
    /* Both spellings seen in the wild for "accepts encrypted requests". */
    json_object_object_add(content, "encryptionSupported", json_object_new_boolean(1));
    json_object_object_add(content, "supportsEncryption", json_object_new_boolean(1));
    const char *text = json_object_to_json_string_ext(content, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    nostr_event_t *event = nostr_event_new(31990, time(NULL), text, strlen(text));
    json_object_put(content);
    if (!event)
        return;
    nostr_event_add_tagv(event, "d", "pylon", NULL);
    nostr_event_add_tagv(event, "k", "5935", NULL);
    nostr_event_add_tagv(event, "k", "5050", NULL);
    char *json = s_sign(self, event);
    nostr_event_destroy(&event);
    if (json) {
        self->announce_ref = ++self->next_ref;
        s_publish(self, json, self->announce_ref);
        self->announced = true;
        free(json);
    }
}

static void
s_schedule_announce(router_t *self, int64_t delay_ms)
{
    if (!self->announce_timer)
        self->announce_timer = actor_timer_add(self->ctx, delay_ms, 0, s_announce);
}

/* ---- intake --------------------------------------------------------------------------------- */

/* A job object for an event, in memory, keyed by its id. */
static job_t *
s_job_new(router_t *self, const nostr_event_t *event, const char *json)
{
    job_t *job = calloc(1, sizeof *job);
    memcpy(job->id, event->id, 32);
    nostr_event_hex(event->id, 32, job->id_hex);
    memcpy(job->buyer, event->pubkey, 32);
    nostr_event_hex(event->pubkey, 32, job->buyer_hex);
    job->kind = event->kind;
    job->request_json = strdup(json);
    job->started_ms = actor_now_ms();
    if (zhashx_insert(self->jobs, job->id_hex, job) != 0) {
        void *item = job;
        s_job_free(&item);          /* already in memory: the caller checked, so a bug */
        return NULL;
    }
    return job;
}

static job_request_rules_t
s_rules(router_t *self)
{
    return (job_request_rules_t) {.keys = self->keys,
                                  .max_prompt_bytes = (uint64_t) self->cfg->max_prompt_bytes,
                                  .max_tokens = (uint64_t) self->cfg->max_tokens,
                                  .default_max_tokens = 512, .now = time(NULL)};
}

/* A verified event from the jobs subscription. */
static void
s_on_request(router_t *self, const char *json)
{
    int error = 0;
    nostr_event_t *event = nostr_event_parse(json, strlen(json), NULL, &error);
    if (!event) {
        self->counts.malformed++;   /* the relay actor checked it: this would be a bug */
        log_error("a relayed event does not parse: %s", nostr_event_strerror(error));
        return;
    }
    char id[65];
    nostr_event_hex(event->id, 32, id);
    if (zhashx_lookup(self->jobs, id)) {
        self->counts.duplicates++;  /* the same request from another relay */
        nostr_event_destroy(&event);
        return;
    }
    if (zhashx_size(self->jobs) >= MAX_JOBS_IN_MEMORY) {
        log_warn("dropping request %.12s: %d jobs in memory", id, MAX_JOBS_IN_MEMORY);
        nostr_event_destroy(&event);
        return;
    }
    job_request_rules_t rules = s_rules(self);
    job_request_t req;
    char why[512];
    int rc = job_request_parse(event, &rules, &req, why, sizeof why);
    if (rc == JOB_REQUEST_NOT_FOR_US || rc == JOB_REQUEST_EXPIRED) {
        if (rc == JOB_REQUEST_NOT_FOR_US)
            self->counts.not_for_us++;
        else
            self->counts.expired_requests++;
        nostr_event_destroy(&event);
        return;
    }
    job_t *job = s_job_new(self, event, json);
    if (!job) {
        job_request_free(&req);
        nostr_event_destroy(&event);
        return;
    }
    job->req = req;
    if (rc != JOB_REQUEST_OK)
        snprintf(job->error, sizeof job->error, "%s", why);
    self->counts.received++;
    msg_t record = {.type = MSG_LEDGER_JOB_NEW,
                    .ledger_job_new = {.ref = s_ref(self, job, STEP_RECORDED), .kind = event->kind,
                                       .backend = req.backend, .request = json,
                                       .encryption = job_encryption_name(req.encryption),
                                       .created_at = (uint64_t) event->created_at}};
    memcpy(record.ledger_job_new.job, event->id, 32);
    memcpy(record.ledger_job_new.buyer, event->pubkey, 32);
    actor_send(self->ctx, "ledger", &record);
    nostr_event_destroy(&event);
}

/* Recorded and new: check what only the router knows, then ask for a price. */
static void
s_admit(router_t *self, job_t *job)
{
    if (job->error[0]) {
        s_reject(self, job, job->error);
        return;
    }
    /* The backend: as asked, or the first one available. */
    backend_t *backend = NULL;
    if (job->req.backend[0]) {
        backend = s_backend(self, job->req.backend);
        if (!backend) {
            char why[300];
            snprintf(why, sizeof why, "unknown backend '%s'", job->req.backend);
            s_reject(self, job, why);
            return;
        }
    }
    else
        for (int i = 0; i < self->backend_count && !backend; i++)
            if (self->backends[i].available)
                backend = &self->backends[i];
    if (!backend) {
        s_reject(self, job, "no backend is available on this node right now");
        return;
    }
    snprintf(job->backend, sizeof job->backend, "%s", backend->name);
    if (!backend->available) {
        char why[300];
        snprintf(why, sizeof why, "backend '%s' is not available right now", backend->name);
        s_reject(self, job, why);
        return;
    }
    if (backend->queued >= self->cfg->queue_per_backend) {
        s_reject(self, job, "busy: the queue for this backend is full, try again later");
        return;
    }
    buyer_t *buyer = s_buyer(self, job->buyer_hex);
    int64_t now = actor_now_ms();
    double rate = (double) self->cfg->jobs_per_minute_per_buyer / 60000.0;
    buyer->tokens += (double) (now - buyer->last_ms) * rate;
    if (buyer->tokens > (double) self->cfg->jobs_per_minute_per_buyer)
        buyer->tokens = (double) self->cfg->jobs_per_minute_per_buyer;
    buyer->last_ms = now;
    if (buyer->tokens < 1) {
        s_reject(self, job, "rate-limited: too many requests from this key, slow down");
        return;
    }
    buyer->tokens -= 1;
    backend->queued++;
    job->counted_queue = true;
    msg_t ask = {.type = MSG_QUOTE_REQUEST,
                 .quote_request = {.backend = job->backend,
                                   .prompt_tokens = (job->req.prompt_bytes + 3) / 4,
                                   .max_tokens = job->req.max_tokens, .bid_msats = job->req.bid_msats}};
    memcpy(ask.quote_request.job, job->id, 32);
    s_ref(self, job, STEP_QUOTE);
    actor_send(self->ctx, "pricing", &ask);
}

static void
s_start_running(router_t *self, job_t *job)
{
    s_ledger_update(self, job, STEP_RUNNING, "running", NULL, NULL, 0, 0);
}

/* The job an answer is about, if it is waiting for that answer (its step is then cleared);
   NULL for a late or stray answer. */
static job_t *
s_job_awaiting(router_t *self, const uint8_t id[32], step_t step)
{
    char hex[65];
    nostr_event_hex(id, 32, hex);
    job_t *job = zhashx_lookup(self->jobs, hex);
    if (!job || job->step != step)
        return NULL;
    job->step = STEP_NONE;
    return job;
}

static void
s_on_quote(router_t *self, const msg_quote_t *quote)
{
    job_t *job = s_job_awaiting(self, quote->job, STEP_QUOTE);
    if (!job)
        return;
    if (!quote->admitted) {
        s_reject(self, job, quote->reason);
        return;
    }
    job->price_msats = quote->price_msats;
    if (quote->price_msats == 0) {
        s_start_running(self, job);     /* a free job skips the invoice */
        return;
    }
    buyer_t *buyer = s_buyer(self, job->buyer_hex);
    if (buyer->unpaid >= self->cfg->max_open_invoices_per_buyer
        || self->unpaid_total >= self->cfg->max_open_invoices) {
        s_reject(self, job, "too many unpaid invoices: pay or let them expire first");
        return;
    }
    buyer->unpaid++;
    self->unpaid_total++;
    job->counted_unpaid = true;
    char description[200];
    snprintf(description, sizeof description, "Pylon job %.16s on %s", job->id_hex, job->backend);
    msg_t ask = {.type = MSG_INVOICE_REQUEST,
                 .invoice_request = {.amount_msats = job->price_msats, .description = description,
                                     .expiry_s = (uint64_t) self->cfg->invoice_expiry_s}};
    memcpy(ask.invoice_request.job, job->id, 32);
    s_ref(self, job, STEP_INVOICE);
    actor_send(self->ctx, "wallet", &ask);
}

static void
s_on_invoice(router_t *self, const msg_invoice_t *invoice)
{
    job_t *job = s_job_awaiting(self, invoice->job, STEP_INVOICE);
    if (!job)
        return;
    if (!invoice->ok) {
        char why[600];
        snprintf(why, sizeof why, "the node's wallet cannot make an invoice now: %s", invoice->error);
        s_fail(self, job, "failed", why);
        return;
    }
    memcpy(job->payment_hash, invoice->payment_hash, 32);
    job->has_invoice = true;
    char hash[65];
    nostr_event_hex(job->payment_hash, 32, hash);
    zhashx_insert(self->by_payment, hash, job);
    free(job->bolt11);
    job->bolt11 = strdup(invoice->bolt11);
    self->counts.quoted++;
    s_ledger_update(self, job, STEP_QUOTED, "quoted", NULL, NULL, 0, 0);
}

static job_t *
s_job_by_payment(router_t *self, const uint8_t hash[32])
{
    char hex[65];
    nostr_event_hex(hash, 32, hex);
    return zhashx_lookup(self->by_payment, hex);
}

static void
s_on_settled(router_t *self, const msg_invoice_settled_t *settled)
{
    job_t *job = s_job_by_payment(self, settled->payment_hash);
    if (!job || (job->step != STEP_PAYMENT && job->step != STEP_NONE))
        return;     /* not ours in memory, or already moving on */
    msg_t book = {.type = MSG_LEDGER_INVOICE_SETTLED,
                  .ledger_invoice_settled = {.ref = s_ref(self, job, STEP_PAID),
                                             .amount_msats = settled->amount_msats,
                                             .settled_at = settled->settled_at}};
    memcpy(book.ledger_invoice_settled.payment_hash, settled->payment_hash, 32);
    actor_send(self->ctx, "ledger", &book);
}

static void
s_on_expired(router_t *self, const msg_invoice_expired_t *expired)
{
    job_t *job = s_job_by_payment(self, expired->payment_hash);
    if (!job || job->step != STEP_PAYMENT)
        return;
    self->counts.invoice_expired++;
    msg_t book = {.type = MSG_LEDGER_INVOICE_EXPIRED,
                  .ledger_invoice_expired = {.ref = s_ref(self, job, STEP_FAILED)}};
    memcpy(book.ledger_invoice_expired.payment_hash, expired->payment_hash, 32);
    snprintf(job->error, sizeof job->error, "the invoice expired unpaid: send the request again to get a new one");
    s_release_counts(self, job);
    actor_send(self->ctx, "ledger", &book);
}

static void
s_dispatch(router_t *self, job_t *job)
{
    s_feedback(self, job, "processing", NULL, false);
    msg_t run = {.type = MSG_INFER_REQUEST,
                 .infer_request = {.backend = job->backend, .messages = job->req.messages,
                                   .params = job->req.params, .stream = job->req.stream}};
    memcpy(run.infer_request.job, job->id, 32);
    job->step = STEP_RESULT;
    actor_send(self->ctx, "inference", &run);
}

/* The result event: kind 6935 (JSON content) or 6050 (text). */
static char *
s_result_event(router_t *self, job_t *job, const msg_infer_result_t *result)
{
    char *content;
    if (job->kind == 5935) {
        json_object *obj = json_object_new_object();
        json_object_object_add(obj, "content", json_object_new_string(result->content));
        json_object_object_add(obj, "finish_reason", json_object_new_string(result->finish_reason));
        json_object *usage = json_object_new_object();
        json_object_object_add(usage, "prompt_tokens", json_object_new_int64((int64_t) result->prompt_tokens));
        json_object_object_add(usage, "completion_tokens", json_object_new_int64((int64_t) result->completion_tokens));
        json_object_object_add(obj, "usage", usage);
        json_object_object_add(obj, "backend", json_object_new_string(job->backend));
        json_object_object_add(obj, "model", json_object_new_string(result->model));
        content = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
    }
    else
        content = strdup(result->content);
    if (job->req.encryption != JOB_PLAIN) {
        char *sealed = job_request_encrypt(self->keys, job->buyer, job->req.encryption, content);
        free(content);
        if (!sealed)
            return NULL;
        content = sealed;
    }
    nostr_event_t *event = nostr_event_new(job->kind + 1000, time(NULL), content, strlen(content));
    free(content);
    if (!event)
        return NULL;
    if (job->req.encryption == JOB_PLAIN) {
        /* The request and inputs are echoed only in clear exchanges: encrypted ones would leak. */
        nostr_event_add_tagv(event, "request", job->request_json, NULL);
        json_object *inputs = job->req.inputs ? json_tokener_parse(job->req.inputs) : NULL;
        for (size_t i = 0; inputs && i < json_object_array_length(inputs); i++) {
            json_object *tag = json_object_array_get_idx(inputs, i);
            size_t n = json_object_array_length(tag);
            const char *elems[8];
            if (n > 8)
                n = 8;
            for (size_t k = 0; k < n; k++)
                elems[k] = json_object_get_string(json_object_array_get_idx(tag, k));
            nostr_event_add_tag(event, n, elems);
        }
        json_object_put(inputs);
    }
    nostr_event_add_tagv(event, "e", job->id_hex, NULL);
    nostr_event_add_tagv(event, "p", job->buyer_hex, NULL);
    if (job->price_msats) {
        char amount[24];
        snprintf(amount, sizeof amount, "%llu", (unsigned long long) job->price_msats);
        nostr_event_add_tagv(event, "amount", amount, NULL);
    }
    if (job->req.encryption != JOB_PLAIN)
        nostr_event_add_tagv(event, "encrypted", NULL);
    char *json = s_sign(self, event);
    nostr_event_destroy(&event);
    return json;
}

static void
s_on_result(router_t *self, const msg_infer_result_t *result)
{
    job_t *job = s_job_awaiting(self, result->job, STEP_RESULT);
    if (!job) {
        char id[65];
        nostr_event_hex(result->job, 32, id);
        log_warn("a result for job %.12s, which is not running here", id);
        return;     /* a late answer for a job already settled otherwise */
    }
    if (!result->ok) {
        char why[1200];
        snprintf(why, sizeof why, "%s%s%s", result->error_code, *result->error_code ? ": " : "", result->error);
        self->counts.failed++;
        s_fail(self, job, "failed", why);
        return;
    }
    job->result_event = s_result_event(self, job, result);
    if (!job->result_event) {
        self->counts.failed++;
        s_fail(self, job, "failed", "the result could not be signed or encrypted");
        return;
    }
    s_ledger_update(self, job, STEP_STORED, "running", NULL, job->result_event,
                    result->prompt_tokens, result->completion_tokens);
}

static void
s_on_partial(router_t *self, const msg_infer_partial_t *partial)
{
    char id[65];
    nostr_event_hex(partial->job, 32, id);
    job_t *job = zhashx_lookup(self->jobs, id);
    if (job && job->step == STEP_RESULT && job->req.stream && *partial->text)
        s_feedback(self, job, "partial", partial->text, false);
}

static void
s_republish(void *state, int timer_id);

/* A ledger write of one of our jobs is durable: take the next step. */
static void
s_on_ack(router_t *self, const msg_ledger_ack_t *ack)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long) ack->ref);
    job_t *job = zhashx_lookup(self->by_ref, key);
    if (!job)
        return;
    step_t step = job->step;
    s_job_by_ref(self, ack->ref, step);
    if (!ack->ok) {
        log_error("job %.12s: the ledger refused a write: %s", job->id_hex, ack->error);
        s_job_done(self, job);     /* stays as the ledger last knew it; resumed at restart */
        return;
    }
    switch (step) {
    case STEP_RECORDED:
        if (ack->existing) {
            self->counts.duplicates++;  /* seen before a restart: handled once */
            s_job_done(self, job);
        }
        else
            s_admit(self, job);
        break;
    case STEP_REJECTED:
        s_feedback(self, job, "error", job->error, false);
        s_job_done(self, job);
        break;
    case STEP_QUOTED:
        job->step = STEP_PAYMENT;
        s_feedback(self, job, "payment-required", NULL, true);
        break;
    case STEP_PAID:
        if (!streq(ack->state, "queued")) {
            log_warn("job %.12s: paid, but the ledger has it %s", job->id_hex, ack->state);
            s_job_done(self, job);
            break;
        }
        self->counts.paid++;
        if (job->counted_unpaid) {
            buyer_t *buyer = zhashx_lookup(self->buyers, job->buyer_hex);
            if (buyer)
                buyer->unpaid--;
            self->unpaid_total--;
            job->counted_unpaid = false;
        }
        s_start_running(self, job);
        break;
    case STEP_RUNNING:
        s_dispatch(self, job);
        break;
    case STEP_STORED:
        s_ref(self, job, STEP_PUBLISHED);
        s_publish(self, job->result_event, job->ref);
        break;
    case STEP_DELIVERED:
        self->counts.delivered++;
        log_info("job %.12s delivered on %s (%lld ms)", job->id_hex, job->backend,
                 (long long) (actor_now_ms() - job->started_ms));
        s_job_done(self, job);
        break;
    case STEP_FAILED:
        s_feedback(self, job, "error", job->error, false);
        s_job_done(self, job);
        break;
    default:
        break;
    }
}

static void
s_on_published(router_t *self, const msg_relay_published_t *published)
{
    if (published->ref == self->announce_ref) {
        if (!published->ok)
            log_warn("the announcement was not accepted: %s", published->reason);
        return;
    }
    job_t *job = s_job_by_ref(self, published->ref, STEP_PUBLISHED);
    if (!job)
        return;
    if (!published->ok) {
        log_warn("job %.12s: no relay accepted the result (%s); retrying", job->id_hex, published->reason);
        job->step = STEP_STORED;    /* waiting for the retry timer */
        actor_timer_add(self->ctx, REPUBLISH_MS, 0, s_republish);
        return;
    }
    s_ledger_update(self, job, STEP_DELIVERED, "delivered", NULL, NULL, 0, 0);
}

static void
s_republish(void *state, int timer_id)
{
    router_t *self = state;
    job_t *job = zhashx_first(self->jobs);
    for (; job; job = zhashx_next(self->jobs))
        if (job->step == STEP_STORED && job->result_event && job->ref == 0) {
            s_ref(self, job, STEP_PUBLISHED);
            s_publish(self, job->result_event, job->ref);
        }
}

/* ---- recovery after a restart ----------------------------------------------------------------- */

static void
s_resume(router_t *self, json_object *row)
{
    const char *request = json_object_get_string(json_object_object_get(row, "request"));
    const char *state = json_object_get_string(json_object_object_get(row, "state"));
    int error = 0;
    nostr_event_t *event = request ? nostr_event_parse(request, strlen(request), NULL, &error) : NULL;
    if (!event || !state)
        return;
    job_request_rules_t rules = s_rules(self);
    rules.now = 0;      /* an accepted job is honoured whatever its expiration says now */
    job_request_t req;
    char why[512];
    int rc = job_request_parse(event, &rules, &req, why, sizeof why);
    char id[65];
    nostr_event_hex(event->id, 32, id);
    job_t *job = zhashx_lookup(self->jobs, id) ? NULL : s_job_new(self, event, request);
    nostr_event_destroy(&event);
    if (!job) {
        job_request_free(&req);
        return;
    }
    job->req = req;
    if (rc != JOB_REQUEST_OK)
        snprintf(job->error, sizeof job->error, "%s", why[0] ? why : "the request cannot be read");
    const char *backend = json_object_get_string(json_object_object_get(row, "backend"));
    snprintf(job->backend, sizeof job->backend, "%s", backend ? backend : "");
    job->price_msats = (uint64_t) json_object_get_int64(json_object_object_get(row, "price_msats"));
    const char *hash = json_object_get_string(json_object_object_get(row, "payment_hash"));
    if (hash && strlen(hash) == 64 && nostr_event_unhex(hash, 64, job->payment_hash, 32) == 0) {
        job->has_invoice = true;
        zhashx_insert(self->by_payment, hash, job);
    }
    const char *result = json_object_get_string(json_object_object_get(row, "result_event"));
    log_info("resuming job %.12s (%s)", job->id_hex, state);
    if (streq(state, "received")) {
        if (!job->backend[0] && job->req.backend[0])
            snprintf(job->backend, sizeof job->backend, "%s", job->req.backend);
        job->admit_at_intake = true;    /* once the backends answered their first probes */
    }
    else if (streq(state, "quoted")) {
        /* The wallet reconciles its open invoices. The buyer may never have seen the invoice
           (killed between the ledger's ack and the publish): offer the same one again. */
        job->step = STEP_PAYMENT;
        const char *bolt11 = json_object_get_string(json_object_object_get(row, "bolt11"));
        if (bolt11 && *bolt11 && job->has_invoice) {
            job->bolt11 = strdup(bolt11);
            s_feedback(self, job, "payment-required", NULL, true);
        }
    }
    else if (streq(state, "queued"))
        s_start_running(self, job);
    else if (streq(state, "running") && result && *result) {
        job->result_event = strdup(result);
        s_ref(self, job, STEP_PUBLISHED);
        s_publish(self, job->result_event, job->ref);
    }
    else if (streq(state, "running")) {
        backend_t *b = s_backend(self, job->backend);
        if (b) {
            b->queued++;
            job->counted_queue = true;
        }
        s_dispatch(self, job);          /* the run in flight at the crash was lost */
    }
}

/* Listen for requests: only once the open jobs are back in memory, so that a request the
   relays hand us again cannot race its own recovery, and once every backend has answered its
   first probe (or INTAKE_WAIT_MS passed), so that the requests that waited on the relays while
   the node was down are not refused as "no backend available" before the probes answer. */
static void
s_subscribe(router_t *self)
{
    if (self->recovered || !self->resumed)
        return;
    bool heard = true;
    for (int i = 0; i < self->backend_count; i++)
        heard = heard && self->backends[i].heard;
    if (!heard && !self->intake_wait_over)
        return;
    self->recovered = true;
    for (job_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        if (job->admit_at_intake) {
            job->admit_at_intake = false;
            s_admit(self, job);
        }
    char filter[256];
    snprintf(filter, sizeof filter, "{\"kinds\":[5935,5050],\"#p\":[\"%s\"]}", self->pubkey_hex);
    msg_t subscribe = {.type = MSG_RELAY_SUBSCRIBE, .relay_subscribe = {"jobs", filter}};
    actor_send(self->ctx, "relay", &subscribe);
}

static void
s_intake_wait_over(void *state, int timer_id)
{
    router_t *self = state;
    self->intake_wait_over = true;
    if (!self->recovered && self->resumed)
        log_warn("a backend has not answered its first probe: taking requests anyway");
    s_subscribe(self);
}

static void
s_on_rows(router_t *self, const msg_ledger_rows_t *rows)
{
    if (rows->ref != self->recover_ref)
        return;
    if (!rows->ok) {
        log_error("cannot read open jobs from the ledger: %s", rows->json);
        self->resumed = true;
        s_subscribe(self);
        return;
    }
    json_object *page = json_tokener_parse(rows->json);
    json_object *list = json_object_object_get(page, "rows");
    size_t count = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < count; i++)
        s_resume(self, json_object_array_get_idx(list, i));
    self->resumed_count += count;
    bool more = json_object_get_boolean(json_object_object_get(page, "more"));
    int64_t last = json_object_get_int64(json_object_object_get(page, "last"));
    json_object_put(page);
    if (more) {     /* the next page, from where this one ended */
        char args[64];
        snprintf(args, sizeof args, "{\"after\":%lld}", (long long) last);
        msg_t ask = {.type = MSG_LEDGER_QUERY, .ledger_query = {self->recover_ref, "open_jobs", args}};
        actor_send(self->ctx, "ledger", &ask);
        return;
    }
    if (self->resumed_count)
        log_info("resumed %zu open jobs", self->resumed_count);
    self->resumed = true;
    /* Settlements and expiries the wallet reported while the jobs were being read. */
    for (int i = 0; i < self->early_count; i++) {
        msg_t *early = &self->early[i].msg;
        if (early->type == MSG_INVOICE_SETTLED)
            s_on_settled(self, &early->invoice_settled);
        else
            s_on_expired(self, &early->invoice_expired);
    }
    self->early_count = 0;
    s_subscribe(self);
}

/* ---- the actor ------------------------------------------------------------------------------ */

static void
s_on_backend(router_t *self, const msg_backend_status_t *status)
{
    backend_t *backend = s_backend(self, status->backend);
    if (!backend)
        return;     /* not one we serve */
    bool changed = backend->available != status->available;
    backend->available = status->available;
    backend->slots = status->slots;
    if (!backend->heard) {
        backend->heard = true;
        s_subscribe(self);          /* perhaps the last backend intake waited for */
    }
    if (changed) {
        log_info("backend %s is %savailable%s%s", backend->name, status->available ? "" : "not ",
                 *status->detail ? ": " : "", status->detail);
        if (self->announced)
            s_schedule_announce(self, 1000);
    }
}

static void
s_handle(void *state, const msg_t *msg)
{
    router_t *self = state;
    switch (msg->type) {
    case MSG_RELAY_EVENT:
        if (!streq(msg->relay_event.sub, "jobs"))
            log_warn("an event for subscription '%s', which is not ours", msg->relay_event.sub);
        else if (!self->recovered)
            log_error("a request before our subscription: dropped");    /* a relay actor bug */
        else
            s_on_request(self, msg->relay_event.event);
        break;
    case MSG_RELAY_PUBLISHED:
        s_on_published(self, &msg->relay_published);
        break;
    case MSG_LEDGER_ACK:
        s_on_ack(self, &msg->ledger_ack);
        break;
    case MSG_LEDGER_ROWS:
        s_on_rows(self, &msg->ledger_rows);
        break;
    case MSG_QUOTE:
        s_on_quote(self, &msg->quote);
        break;
    case MSG_INVOICE:
        s_on_invoice(self, &msg->invoice);
        break;
    case MSG_INVOICE_SETTLED:
    case MSG_INVOICE_EXPIRED:
        if (!self->resumed) {
            /* The wallet reconciles at start too: its news may come before our open jobs are
               back, for a job we are about to resume. Keep it for then. */
            if (self->early_count < (int) (sizeof self->early / sizeof self->early[0])) {
                msg_t *keep = &self->early[self->early_count++].msg;
                *keep = (msg_t) {.type = msg->type};
                if (msg->type == MSG_INVOICE_SETTLED)
                    keep->invoice_settled = msg->invoice_settled;
                else
                    keep->invoice_expired = msg->invoice_expired;
            }
            else
                log_error("too many settlements before the open jobs were read: one dropped");
        }
        else if (msg->type == MSG_INVOICE_SETTLED)
            s_on_settled(self, &msg->invoice_settled);
        else
            s_on_expired(self, &msg->invoice_expired);
        break;
    case MSG_INFER_PARTIAL:
        s_on_partial(self, &msg->infer_partial);
        break;
    case MSG_INFER_RESULT:
        s_on_result(self, &msg->infer_result);
        break;
    case MSG_BACKEND_STATUS:
        s_on_backend(self, &msg->backend_status);
        break;
    default:
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
    }
}

static void *
s_create(actor_ctx_t *ctx, void *args_)
{
    const job_router_args_t *args = args_;
    router_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = args->cfg;
    self->keys = nostr_keys_new(args->seckey);
    if (!self->keys) {
        log_error("the node's secret key is not valid");
        free(self);
        return NULL;
    }
    nostr_event_hex(nostr_keys_pubkey(self->keys), 32, self->pubkey_hex);
    self->jobs = zhashx_new();
    zhashx_set_destructor(self->jobs, s_job_free);
    self->by_ref = zhashx_new();
    self->by_payment = zhashx_new();
    self->buyers = zhashx_new();
    zhashx_set_destructor(self->buyers, (zhashx_destructor_fn *) zstr_free);
    s_load_backends(self);
    for (size_t i = 0; i < args->assume_available_count; i++) {
        backend_t *backend = s_backend(self, args->assume_available[i]);
        if (backend)
            backend->available = backend->heard = true;
    }
    /* Resume what a previous run left open; s_on_rows then subscribes for new requests. */
    self->recover_ref = ++self->next_ref;
    msg_t ask = {.type = MSG_LEDGER_QUERY, .ledger_query = {self->recover_ref, "open_jobs", ""}};
    actor_send(ctx, "ledger", &ask);
    actor_timer_add(ctx, INTAKE_WAIT_MS, 0, s_intake_wait_over);
    s_schedule_announce(self, ANNOUNCE_DELAY_MS);
    log_info("serving NIP-90 jobs (kinds 5935, 5050) as %s", self->pubkey_hex);
    return self;
}

static void
s_destroy(void **state_p)
{
    router_t *self = *state_p;
    zhashx_destroy(&self->by_ref);
    zhashx_destroy(&self->by_payment);
    zhashx_destroy(&self->jobs);
    zhashx_destroy(&self->buyers);
    nostr_keys_destroy(&self->keys);
    free(self);
    *state_p = NULL;
}

static char *
s_status(void *state)
{
    router_t *self = state;
    json_object *obj = json_object_new_object();
    json_object_object_add(obj, "pubkey", json_object_new_string(self->pubkey_hex));
    json_object_object_add(obj, "in_flight", json_object_new_int64((int64_t) zhashx_size(self->jobs)));
    json_object_object_add(obj, "unpaid_invoices", json_object_new_int(self->unpaid_total));
#define COUNT(name) json_object_object_add(obj, #name, json_object_new_int64((int64_t) self->counts.name));
    COUNT(received) COUNT(duplicates) COUNT(not_for_us) COUNT(expired_requests) COUNT(rejected)
    COUNT(quoted) COUNT(paid) COUNT(delivered) COUNT(failed) COUNT(invoice_expired) COUNT(malformed)
#undef COUNT
    json_object *backends = json_object_new_object();
    for (int i = 0; i < self->backend_count; i++) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "available", json_object_new_boolean(self->backends[i].available));
        json_object_object_add(b, "queued", json_object_new_int(self->backends[i].queued));
        json_object_object_add(b, "slots", json_object_new_int64((int64_t) self->backends[i].slots));
        json_object_object_add(backends, self->backends[i].name, b);
    }
    json_object_object_add(obj, "backends", backends);
    char *json = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
    json_object_put(obj);
    return json;
}

const actor_def_t job_router_actor = {
    .name = "job_router",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
