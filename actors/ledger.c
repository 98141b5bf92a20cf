/*  ledger.c: the ledger actor, the only writer of pylon.db (ledger_db.h).

    Like strfry's writer thread, it groups writes: every message of one inbox batch runs in one
    transaction, committed when the batch ends (batch_end), and only then is each write
    acknowledged with LEDGER_ACK. A sender that waits for the ack before acting on a write
    therefore never makes visible something that is not yet durable. Queries are answered at
    once from the same connection (they see the batch's own writes). */
#include "actors.h"
#include "ledger.h"
#include "ledger_db.h"
#include "log.h"

#define MAX_ACKS 1024      /* acks waiting for the batch's commit; more forces an early commit */

typedef struct {
    char to[MSG_NAME_MAX + 1];          /* the actor that wrote */
    uint64_t ref;                       /* its reference for the write */
    bool ok;                            /* the write succeeded (before the commit) */
    bool existing;                      /* the row was already there */
    char state[LEDGER_STATE_MAX + 1];
    char error[256];
} ack_t;

typedef struct {
    actor_ctx_t *ctx;
    ledger_db_t *db;
    bool in_transaction;
    ack_t acks[MAX_ACKS];
    int ack_count;
    uint64_t writes;                    /* writes committed */
    uint64_t commits;                   /* transactions committed */
    uint64_t failures;                  /* writes that failed */
} ledger_t;

static void
s_commit(ledger_t *self)
{
    if (!self->in_transaction)
        return;
    bool committed = ledger_db_commit(self->db) == 0;
    if (!committed) {
        log_error("commit failed: %s", ledger_db_error(self->db));
        ledger_db_rollback(self->db);
    }
    self->in_transaction = false;
    self->commits += committed;
    for (int i = 0; i < self->ack_count; i++) {
        ack_t *ack = &self->acks[i];
        bool ok = ack->ok && committed;
        msg_t reply = {.type = MSG_LEDGER_ACK,
                       .ledger_ack = {ack->ref, ok, ack->existing, ack->state,
                                      ok ? "" : ack->error[0] ? ack->error : "commit failed"}};
        actor_send(self->ctx, ack->to, &reply);
        self->writes += ok;
        self->failures += !ok;
    }
    self->ack_count = 0;
}

/* Start the batch's transaction on its first write, and make room for one more ack. */
static ack_t *
s_write_begin(ledger_t *self, const msg_t *msg, uint64_t ref)
{
    if (self->ack_count == MAX_ACKS)
        s_commit(self);
    if (!self->in_transaction) {
        if (ledger_db_begin(self->db) != 0)
            log_error("begin failed: %s", ledger_db_error(self->db));
        self->in_transaction = true;
    }
    ack_t *ack = &self->acks[self->ack_count++];
    memset(ack, 0, sizeof *ack);
    snprintf(ack->to, sizeof ack->to, "%s", msg->from);
    ack->ref = ref;
    return ack;
}

static void
s_write_end(ledger_t *self, ack_t *ack, int rc)
{
    ack->ok = rc == 0;
    if (rc != 0) {
        snprintf(ack->error, sizeof ack->error, "%s", ledger_db_error(self->db));
        log_error("write for %s failed: %s", ack->to, ack->error);
    }
}

static void
s_handle(void *state, const msg_t *msg)
{
    ledger_t *self = state;
    ack_t *ack;
    switch (msg->type) {
    case MSG_LEDGER_JOB_NEW:
        ack = s_write_begin(self, msg, msg->ledger_job_new.ref);
        s_write_end(self, ack, ledger_db_job_new(self->db, &msg->ledger_job_new, &ack->existing, ack->state));
        break;
    case MSG_LEDGER_JOB_UPDATE:
        ack = s_write_begin(self, msg, msg->ledger_job_update.ref);
        s_write_end(self, ack, ledger_db_job_update(self->db, &msg->ledger_job_update));
        snprintf(ack->state, sizeof ack->state, "%s", msg->ledger_job_update.state);
        break;
    case MSG_LEDGER_INVOICE_NEW:
        ack = s_write_begin(self, msg, msg->ledger_invoice_new.ref);
        s_write_end(self, ack, ledger_db_invoice_new(self->db, &msg->ledger_invoice_new, &ack->existing));
        break;
    case MSG_LEDGER_INVOICE_SETTLED:
        ack = s_write_begin(self, msg, msg->ledger_invoice_settled.ref);
        s_write_end(self, ack, ledger_db_invoice_settled(self->db, &msg->ledger_invoice_settled,
                                                         &ack->existing, ack->state));
        break;
    case MSG_LEDGER_INVOICE_EXPIRED:
        ack = s_write_begin(self, msg, msg->ledger_invoice_expired.ref);
        s_write_end(self, ack, ledger_db_invoice_expired(self->db, &msg->ledger_invoice_expired, &ack->existing));
        break;
    case MSG_LEDGER_KV_SET:
        ack = s_write_begin(self, msg, msg->ledger_kv_set.ref);
        s_write_end(self, ack, ledger_db_kv_set(self->db, msg->ledger_kv_set.key, msg->ledger_kv_set.value));
        break;
    case MSG_LEDGER_QUERY: {
        char err[256];
        char *json = ledger_db_query(self->db, msg->ledger_query.what, msg->ledger_query.args, err, sizeof err);
        if (json && strlen(json) > 4194000) {   /* the LEDGER_ROWS limit */
            free(json);
            json = NULL;
            snprintf(err, sizeof err, "answer too large");
        }
        msg_t reply = {.type = MSG_LEDGER_ROWS, .ledger_rows = {msg->ledger_query.ref, json != NULL, json ? json : err}};
        actor_reply(self->ctx, msg, &reply);
        free(json);
        break;
    }
    default:
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
    }
}

static void
s_batch_end(void *state)
{
    s_commit(state);
}

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    const ledger_args_t *ledger_args = args;
    char err[512];
    ledger_db_t *db = ledger_db_open(ledger_args->path, false, err, sizeof err);
    if (!db) {
        log_error("%s", err);
        return NULL;
    }
    ledger_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->db = db;
    return self;
}

static void
s_destroy(void **state_p)
{
    ledger_t *self = *state_p;
    s_commit(self);
    ledger_db_close(&self->db);
    free(self);
    *state_p = NULL;
}

static char *
s_status(void *state)
{
    ledger_t *self = state;
    char err[256];
    char *summary = ledger_db_query(self->db, "status", NULL, err, sizeof err);
    char *json = NULL;
    if (asprintf(&json, "{\"writes\":%llu,\"commits\":%llu,\"failures\":%llu,\"books\":%s}",
                 (unsigned long long) self->writes, (unsigned long long) self->commits,
                 (unsigned long long) self->failures, summary ? summary : "null") < 0)
        json = NULL;
    free(summary);
    return json;
}

const actor_def_t ledger_actor = {
    .name = "ledger",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
    .batch_end = s_batch_end,
};
