/*  ledger_db.c: see ledger_db.h. Plain SQLite with prepared statements kept for the life of
    the connection; JSON answers are built with json-c. */
#include "ledger_db.h"
#include "embed.h"

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define OPEN_JOBS_PAGE (1024 * 1024)    /* bytes of open jobs per answer, well under LEDGER_ROWS' */

EMBED_DECLARE(ledger_001_initial_sql)

/* Migrations, in order; migration i brings user_version from i to i + 1. */
static const unsigned char *const s_migrations[] = {embed_ledger_001_initial_sql};
#define MIGRATION_COUNT (int) (sizeof s_migrations / sizeof s_migrations[0])

/* The statements, by name; compiled once on open (writer only). */
#define LEDGER_STATEMENTS(S) \
    S(begin, "BEGIN IMMEDIATE") \
    S(commit, "COMMIT") \
    S(rollback, "ROLLBACK") \
    S(job_state, "SELECT state FROM jobs WHERE id = ?1") \
    S(job_insert, "INSERT INTO jobs (id, buyer, kind, backend, state, request, encryption, " \
                  "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?8)") \
    S(job_update, "UPDATE jobs SET " \
                  "state = CASE WHEN ?2 = '' THEN state ELSE ?2 END, " \
                  "price_msats = CASE WHEN ?3 = 0 THEN price_msats ELSE ?3 END, " \
                  "quote = CASE WHEN ?4 = '' THEN quote ELSE ?4 END, " \
                  "payment_hash = CASE WHEN ?5 = '' THEN payment_hash ELSE ?5 END, " \
                  "result_event = CASE WHEN ?6 = '' THEN result_event ELSE ?6 END, " \
                  "error = CASE WHEN ?7 = '' THEN error ELSE ?7 END, " \
                  "prompt_tokens = CASE WHEN ?8 = 0 THEN prompt_tokens ELSE ?8 END, " \
                  "completion_tokens = CASE WHEN ?9 = 0 THEN completion_tokens ELSE ?9 END, " \
                  "backend = CASE WHEN ?11 = '' THEN backend ELSE ?11 END, " \
                  "started_at = CASE WHEN ?2 = 'running' THEN ?10 ELSE started_at END, " \
                  "finished_at = CASE WHEN ?2 IN ('delivered','failed','rejected','expired') " \
                  "              THEN ?10 ELSE finished_at END, " \
                  "updated_at = ?10 WHERE id = ?1") \
    S(invoice_insert, "INSERT OR IGNORE INTO invoices (payment_hash, job, bolt11, amount_msats, " \
                      "expires_at, preimage, wallet, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") \
    S(invoice_settle, "UPDATE invoices SET state = 'settled', settled_at = ?2 " \
                      "WHERE payment_hash = ?1 AND state != 'settled'") \
    S(earning_insert, "INSERT OR IGNORE INTO earnings (payment_hash, job, backend, amount_msats, booked_at) " \
                      "SELECT i.payment_hash, i.job, COALESCE(j.backend, ''), ?2, ?3 FROM invoices i " \
                      "LEFT JOIN jobs j ON j.id = i.job WHERE i.payment_hash = ?1") \
    S(job_paid, "UPDATE jobs SET state = 'queued', paid_at = ?2, updated_at = ?2 " \
                "WHERE id = (SELECT job FROM invoices WHERE payment_hash = ?1) " \
                "AND state IN ('quoted', 'expired')") \
    S(job_of_invoice, "SELECT j.state FROM invoices i JOIN jobs j ON j.id = i.job WHERE i.payment_hash = ?1") \
    S(invoice_expire, "UPDATE invoices SET state = 'expired' WHERE payment_hash = ?1 AND state = 'open'") \
    S(job_expire, "UPDATE jobs SET state = 'expired', finished_at = ?2, updated_at = ?2, " \
                  "error = 'invoice expired unpaid' " \
                  "WHERE id = (SELECT job FROM invoices WHERE payment_hash = ?1) AND state = 'quoted' " \
                  "AND payment_hash = ?1") \
    S(kv_set, "INSERT INTO config (key, value) VALUES (?1, ?2) " \
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value")

struct ledger_db {
    sqlite3 *db;
    bool readonly;
#define S_FIELD(name, sql) sqlite3_stmt *name;
    LEDGER_STATEMENTS(S_FIELD)
#undef S_FIELD
    char error[512];                /* the last error, for ledger_db_error() */
};

static int
s_fail(ledger_db_t *self, const char *what)
{
    snprintf(self->error, sizeof self->error, "%s: %s", what, sqlite3_errmsg(self->db));
    return -1;
}

static int
s_exec(ledger_db_t *self, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        snprintf(self->error, sizeof self->error, "%s", message ? message : "sqlite error");
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

static int
s_migrate(ledger_db_t *self)
{
    sqlite3_stmt *stmt;
    sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL);
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (version > MIGRATION_COUNT) {
        snprintf(self->error, sizeof self->error,
                 "pylon.db is from a newer Pylon (schema %d, this one knows %d)", version,
                 MIGRATION_COUNT);
        return -1;
    }
    for (; version < MIGRATION_COUNT; version++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
        if (s_exec(self, "BEGIN IMMEDIATE") || s_exec(self, (const char *) s_migrations[version])
            || s_exec(self, pragma) || s_exec(self, "COMMIT")) {
            s_exec(self, "ROLLBACK");
            return -1;
        }
    }
    return 0;
}

ledger_db_t *
ledger_db_open(const char *path, bool readonly, char *err, size_t err_size)
{
    ledger_db_t *self = calloc(1, sizeof *self);
    self->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    /* The file holds who paid what: owner-only, from its first byte. */
    mode_t old_mask = umask(077);
    int rc = sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old_mask);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        ledger_db_close(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, 5000);
    if (!readonly) {
        if (s_exec(self, "PRAGMA journal_mode = WAL") || s_exec(self, "PRAGMA synchronous = NORMAL")
            || s_exec(self, "PRAGMA foreign_keys = ON") || s_migrate(self)) {
            snprintf(err, err_size, "%s: %s", path, self->error);
            ledger_db_close(&self);
            return NULL;
        }
#define S_PREPARE(name, sql) \
        if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &self->name, NULL) != SQLITE_OK) { \
            snprintf(err, err_size, "%s: preparing " #name ": %s", path, sqlite3_errmsg(self->db)); \
            ledger_db_close(&self); \
            return NULL; \
        }
        LEDGER_STATEMENTS(S_PREPARE)
#undef S_PREPARE
    }
    return self;
}

void
ledger_db_close(ledger_db_t **self_p)
{
    ledger_db_t *self = *self_p;
    if (!self)
        return;
#define S_FINALIZE(name, sql) sqlite3_finalize(self->name);
    LEDGER_STATEMENTS(S_FINALIZE)
#undef S_FINALIZE
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}

const char *
ledger_db_error(const ledger_db_t *self)
{
    return self->error;
}

/* Run a prepared statement to completion. */
static int
s_step(ledger_db_t *self, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : s_fail(self, what);
}

/* The single text column of a one-row query into out; false when there is no row. */
static bool
s_text(sqlite3_stmt *stmt, char *out, size_t size)
{
    bool found = sqlite3_step(stmt) == SQLITE_ROW;
    if (found)
        snprintf(out, size, "%s", (const char *) sqlite3_column_text(stmt, 0));
    sqlite3_reset(stmt);
    return found;
}

static void
s_hex(const uint8_t bytes[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[64] = 0;
}

static sqlite3_int64
s_now(void)
{
    return (sqlite3_int64) time(NULL);
}

int
ledger_db_begin(ledger_db_t *self)
{
    return s_step(self, self->begin, "begin");
}

int
ledger_db_commit(ledger_db_t *self)
{
    return s_step(self, self->commit, "commit");
}

void
ledger_db_rollback(ledger_db_t *self)
{
    s_step(self, self->rollback, "rollback");
}

int
ledger_db_job_new(ledger_db_t *self, const msg_ledger_job_new_t *job, bool *existing,
                  char state[LEDGER_STATE_MAX + 1])
{
    char id[65], buyer[65];
    s_hex(job->job, id);
    s_hex(job->buyer, buyer);
    sqlite3_bind_text(self->job_state, 1, id, 64, SQLITE_STATIC);
    *existing = s_text(self->job_state, state, LEDGER_STATE_MAX + 1);
    sqlite3_clear_bindings(self->job_state);
    if (*existing)
        return 0;
    sqlite3_stmt *s = self->job_insert;
    sqlite3_bind_text(s, 1, id, 64, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, buyer, 64, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64) job->kind);
    sqlite3_bind_text(s, 4, job->backend, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, job->request, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, job->encryption, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, (sqlite3_int64) job->created_at);
    sqlite3_bind_int64(s, 8, s_now());
    snprintf(state, LEDGER_STATE_MAX + 1, "received");
    return s_step(self, s, "recording a job");
}

int
ledger_db_job_update(ledger_db_t *self, const msg_ledger_job_update_t *update)
{
    char id[65];
    s_hex(update->job, id);
    sqlite3_stmt *s = self->job_update;
    sqlite3_bind_text(s, 1, id, 64, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, update->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64) update->price_msats);
    sqlite3_bind_text(s, 4, update->quote, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, update->payment_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, update->result_event, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, update->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, (sqlite3_int64) update->prompt_tokens);
    sqlite3_bind_int64(s, 9, (sqlite3_int64) update->completion_tokens);
    sqlite3_bind_int64(s, 10, s_now());
    sqlite3_bind_text(s, 11, update->backend ? update->backend : "", -1, SQLITE_STATIC);
    if (s_step(self, s, "updating a job"))
        return -1;
    if (sqlite3_changes(self->db) == 0) {
        snprintf(self->error, sizeof self->error, "no job %s", id);
        return -1;
    }
    return 0;
}

int
ledger_db_invoice_new(ledger_db_t *self, const msg_ledger_invoice_new_t *invoice, bool *existing)
{
    char hash[65], job[65];
    s_hex(invoice->payment_hash, hash);
    s_hex(invoice->job, job);
    sqlite3_stmt *s = self->invoice_insert;
    sqlite3_bind_text(s, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, job, 64, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, invoice->bolt11, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64) invoice->amount_msats);
    sqlite3_bind_int64(s, 5, (sqlite3_int64) invoice->expires_at);
    sqlite3_bind_text(s, 6, invoice->preimage, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, invoice->wallet, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, s_now());
    if (s_step(self, s, "recording an invoice"))
        return -1;
    *existing = sqlite3_changes(self->db) == 0;
    return 0;
}

/* A write of several statements is all or nothing: a statement that fails inside the batch's
   transaction undoes only itself, so without a savepoint the statements before it would be
   committed with the rest of the batch (an invoice marked settled with no earning booked and
   its job never queued, and a repeat of the settlement then taken for one already booked). */
static int
s_savepoint(ledger_db_t *self)
{
    return s_exec(self, "SAVEPOINT ledger_write");
}

static int
s_savepoint_end(ledger_db_t *self, int rc)
{
    if (rc == 0 && s_exec(self, "RELEASE ledger_write") == 0)
        return 0;
    char error[sizeof self->error];
    memcpy(error, self->error, sizeof error);
    s_exec(self, "ROLLBACK TO ledger_write");
    s_exec(self, "RELEASE ledger_write");
    memcpy(self->error, error, sizeof error);
    return -1;
}

static int
s_invoice_settled(ledger_db_t *self, const msg_ledger_invoice_settled_t *settled,
                  bool *existing, char state[LEDGER_STATE_MAX + 1]);
static int
s_invoice_expired(ledger_db_t *self, const msg_ledger_invoice_expired_t *expired,
                  bool *existing);

int
ledger_db_invoice_settled(ledger_db_t *self, const msg_ledger_invoice_settled_t *settled,
                          bool *existing, char state[LEDGER_STATE_MAX + 1])
{
    if (s_savepoint(self))
        return -1;
    return s_savepoint_end(self, s_invoice_settled(self, settled, existing, state));
}

int
ledger_db_invoice_expired(ledger_db_t *self, const msg_ledger_invoice_expired_t *expired,
                          bool *existing)
{
    if (s_savepoint(self))
        return -1;
    return s_savepoint_end(self, s_invoice_expired(self, expired, existing));
}

static int
s_invoice_settled(ledger_db_t *self, const msg_ledger_invoice_settled_t *settled,
                  bool *existing, char state[LEDGER_STATE_MAX + 1])
{
    char hash[65];
    s_hex(settled->payment_hash, hash);
    sqlite3_int64 when = settled->settled_at ? (sqlite3_int64) settled->settled_at : s_now();
    sqlite3_bind_text(self->invoice_settle, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(self->invoice_settle, 2, when);
    if (s_step(self, self->invoice_settle, "settling an invoice"))
        return -1;
    *existing = sqlite3_changes(self->db) == 0;
    if (!*existing) {
        sqlite3_bind_text(self->earning_insert, 1, hash, 64, SQLITE_STATIC);
        sqlite3_bind_int64(self->earning_insert, 2, (sqlite3_int64) settled->amount_msats);
        sqlite3_bind_int64(self->earning_insert, 3, when);
        sqlite3_bind_text(self->job_paid, 1, hash, 64, SQLITE_STATIC);
        sqlite3_bind_int64(self->job_paid, 2, when);
        if (s_step(self, self->earning_insert, "booking an earning")
            || s_step(self, self->job_paid, "queueing a paid job"))
            return -1;
    }
    sqlite3_bind_text(self->job_of_invoice, 1, hash, 64, SQLITE_STATIC);
    if (!s_text(self->job_of_invoice, state, LEDGER_STATE_MAX + 1))
        state[0] = 0;
    sqlite3_clear_bindings(self->job_of_invoice);
    return 0;
}

static int
s_invoice_expired(ledger_db_t *self, const msg_ledger_invoice_expired_t *expired,
                  bool *existing)
{
    char hash[65];
    s_hex(expired->payment_hash, hash);
    sqlite3_bind_text(self->invoice_expire, 1, hash, 64, SQLITE_STATIC);
    if (s_step(self, self->invoice_expire, "expiring an invoice"))
        return -1;
    *existing = sqlite3_changes(self->db) == 0;
    sqlite3_bind_text(self->job_expire, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(self->job_expire, 2, s_now());
    return s_step(self, self->job_expire, "expiring a job");
}

int
ledger_db_kv_set(ledger_db_t *self, const char *key, const char *value)
{
    sqlite3_bind_text(self->kv_set, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(self->kv_set, 2, value, -1, SQLITE_STATIC);
    return s_step(self, self->kv_set, "keeping a fact");
}

/* ---- queries ------------------------------------------------------------------------------ */

/* Rows of sql (with up to one integer and one text parameter) as an array of objects whose keys
   are the column names; NULL on error. With a byte budget above 0, stops after the row that
   passes it and sets *more (the caller pages on). */
static json_object *
s_rows_paged(ledger_db_t *self, const char *sql, sqlite3_int64 number, const char *text,
             size_t budget, bool *more)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        s_fail(self, "query");
        return NULL;
    }
    if (sqlite3_bind_parameter_count(stmt) >= 1)
        sqlite3_bind_int64(stmt, 1, number);
    if (sqlite3_bind_parameter_count(stmt) >= 2)
        sqlite3_bind_text(stmt, 2, text ? text : "", -1, SQLITE_STATIC);
    json_object *rows = json_object_new_array();
    size_t bytes = 0;
    if (more)
        *more = false;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (budget && bytes > budget) {
            *more = true;
            rc = SQLITE_DONE;
            break;
        }
        json_object *row = json_object_new_object();
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            json_object *value = NULL;
            switch (sqlite3_column_type(stmt, i)) {
            case SQLITE_INTEGER:
                value = json_object_new_int64(sqlite3_column_int64(stmt, i));
                break;
            case SQLITE_FLOAT:
                value = json_object_new_double(sqlite3_column_double(stmt, i));
                break;
            case SQLITE_NULL:
                break;
            default:
                value = json_object_new_string((const char *) sqlite3_column_text(stmt, i));
                bytes += (size_t) sqlite3_column_bytes(stmt, i) * 2;   /* JSON escaping, at worst */
            }
            json_object_object_add(row, sqlite3_column_name(stmt, i), value);
        }
        json_object_array_add(rows, row);
    }
    if (rc != SQLITE_DONE) {
        s_fail(self, "query");
        json_object_put(rows);
        rows = NULL;
    }
    sqlite3_finalize(stmt);
    return rows;
}

static json_object *
s_rows(ledger_db_t *self, const char *sql, sqlite3_int64 number, const char *text)
{
    return s_rows_paged(self, sql, number, text, 0, NULL);
}

static json_object *
s_first_row(json_object *rows)
{
    json_object *row = rows && json_object_array_length(rows) ? json_object_get(json_object_array_get_idx(rows, 0)) : NULL;
    json_object_put(rows);
    return row;
}

char *
ledger_db_query(ledger_db_t *self, const char *what, const char *args, char *err, size_t err_size)
{
    json_object *argv = args && *args ? json_tokener_parse(args) : NULL;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    sqlite3_int64 midnight = (sqlite3_int64) mktime(&tm);
    json_object *answer = NULL;
    self->error[0] = 0;
    if (strcmp(what, "status") == 0)
        answer = s_first_row(s_rows(self,
            "SELECT (SELECT count(*) FROM jobs WHERE created_at >= ?1) AS jobs_today, "
            "(SELECT count(*) FROM jobs) AS jobs_total, "
            "(SELECT count(*) FROM jobs WHERE state = 'delivered' AND finished_at >= ?1) AS delivered_today, "
            "(SELECT count(*) FROM jobs WHERE state = 'delivered') AS delivered_total, "
            "(SELECT coalesce(sum(amount_msats), 0) FROM earnings WHERE booked_at >= ?1) AS earned_today_msats, "
            "(SELECT coalesce(sum(amount_msats), 0) FROM earnings) AS earned_total_msats, "
            "(SELECT count(*) FROM jobs WHERE state IN ('received','quoted','queued','running')) AS in_flight, "
            "(SELECT count(*) FROM invoices WHERE state = 'open') AS open_invoices",
            midnight, NULL));
    else if (strcmp(what, "jobs") == 0) {
        int64_t limit = argv ? json_object_get_int64(json_object_object_get(argv, "limit")) : 0;
        if (limit <= 0 || limit > 1000)
            limit = limit <= 0 ? 20 : 1000;
        answer = s_rows(self,
            "SELECT id, state, kind, backend, buyer, price_msats, prompt_tokens, completion_tokens, "
            "error, created_at, paid_at, started_at, finished_at FROM jobs "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?1", limit, NULL);
    }
    else if (strcmp(what, "earnings") == 0) {
        json_object *days = s_rows(self,
            "SELECT date(booked_at, 'unixepoch', 'localtime') AS day, count(*) AS jobs, "
            "sum(amount_msats) AS msats FROM earnings GROUP BY day ORDER BY day DESC LIMIT ?1", 366, NULL);
        json_object *backends = days ? s_rows(self,
            "SELECT backend, count(*) AS jobs, sum(amount_msats) AS msats FROM earnings "
            "GROUP BY backend ORDER BY msats DESC", 0, NULL) : NULL;
        if (days && backends) {
            answer = json_object_new_object();
            json_object_object_add(answer, "days", days);
            json_object_object_add(answer, "backends", backends);
        }
        else {
            json_object_put(days);
            json_object_put(backends);
        }
    }
    else if (strcmp(what, "open_jobs") == 0) {
        /* Paged: a page stops once it holds about OPEN_JOBS_PAGE bytes (a job's request and
           result can be large), and the caller asks again from "last". */
        int64_t after = argv ? json_object_get_int64(json_object_object_get(argv, "after")) : 0;
        bool more = false;
        json_object *rows = s_rows_paged(self,
            "SELECT rowid AS seq, id, buyer, kind, backend, state, request, encryption, price_msats, "
            "payment_hash, result_event, (SELECT bolt11 FROM invoices i WHERE i.payment_hash = "
            "jobs.payment_hash AND i.state = 'open') AS bolt11 FROM jobs WHERE rowid > ?1 AND "
            "(state IN ('received','quoted','queued','running') OR (state = 'delivered' AND "
            "finished_at = 0)) ORDER BY rowid", after, NULL, OPEN_JOBS_PAGE, &more);
        if (rows) {
            size_t n = json_object_array_length(rows);
            int64_t last = n ? json_object_get_int64(json_object_object_get(
                                   json_object_array_get_idx(rows, n - 1), "seq")) : after;
            answer = json_object_new_object();
            json_object_object_add(answer, "rows", rows);
            json_object_object_add(answer, "more", json_object_new_boolean(more));
            json_object_object_add(answer, "last", json_object_new_int64(last));
        }
    }
    else if (strcmp(what, "open_invoices") == 0)
        answer = s_rows(self,
            "SELECT payment_hash, job, bolt11, amount_msats, expires_at, preimage, wallet "
            "FROM invoices WHERE state = 'open' ORDER BY created_at LIMIT ?1", 100000, NULL);
    else if (strcmp(what, "kv") == 0) {
        const char *key = argv ? json_object_get_string(json_object_object_get(argv, "key")) : NULL;
        json_object *row = s_first_row(s_rows(self, "SELECT value FROM config WHERE ?1 = ?1 AND key = ?2", 0, key));
        answer = json_object_new_object();
        json_object_object_add(answer, "value", row ? json_object_get(json_object_object_get(row, "value")) : NULL);
        json_object_put(row);
    }
    else
        snprintf(self->error, sizeof self->error, "no query named '%s'", what);
    json_object_put(argv);
    if (!answer) {
        snprintf(err, err_size, "%s", self->error[0] ? self->error : "no answer");
        return NULL;
    }
    char *text = strdup(json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(answer);
    return text;
}
