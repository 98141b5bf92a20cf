/*  ledger_db.h: the ledger's SQLite file, pylon.db: migrations, writes and queries.

    The ledger actor (ledger.c) is the only writer; `pylon status`, `jobs` and `earnings` open
    the same file read-only when the daemon is not running. WAL mode, synchronous=NORMAL: a
    committed transaction survives the process being killed at any moment (the kill -9
    campaign's case); a power cut may lose the last batch, never corrupt the file.

    Every write returns 0 or -1 (with the reason in the db's error text); writes that may
    find the row already there say so with *existing and the row's state, which is how a
    request seen twice or a settlement reported twice is handled once. */
#ifndef PYLON_LEDGER_DB_H
#define PYLON_LEDGER_DB_H

#include <stdbool.h>

#include "msg.h"

typedef struct ledger_db ledger_db_t;

#define LEDGER_STATE_MAX 16

ledger_db_t *ledger_db_open(const char *path, bool readonly, char *err, size_t err_size);
void ledger_db_close(ledger_db_t **self_p);
const char *ledger_db_error(const ledger_db_t *self);

int ledger_db_begin(ledger_db_t *self);
int ledger_db_commit(ledger_db_t *self);
void ledger_db_rollback(ledger_db_t *self);

int ledger_db_job_new(ledger_db_t *self, const msg_ledger_job_new_t *job, bool *existing,
                      char state[LEDGER_STATE_MAX + 1]);
int ledger_db_job_update(ledger_db_t *self, const msg_ledger_job_update_t *update);
int ledger_db_invoice_new(ledger_db_t *self, const msg_ledger_invoice_new_t *invoice,
                          bool *existing);
/* Mark paid, book the earning and move its job from quoted to queued, all at once.
   *existing: it was already settled (nothing booked again); state: the job's state after. */
int ledger_db_invoice_settled(ledger_db_t *self, const msg_ledger_invoice_settled_t *settled,
                              bool *existing, char state[LEDGER_STATE_MAX + 1]);
/* Mark expired (if still open) and its job, if still quoted, expired. */
int ledger_db_invoice_expired(ledger_db_t *self, const msg_ledger_invoice_expired_t *expired,
                              bool *existing);
int ledger_db_kv_set(ledger_db_t *self, const char *key, const char *value);

/* Read-only questions; returns fresh JSON text, or NULL with the reason in err.
     "status"         {jobs_today, jobs_total, delivered_today, earned_today_msats,
                       earned_total_msats, in_flight, open_invoices}
     "jobs"           [{id, state, kind, backend, price_msats, created_at, ...}] newest first;
                      args {"limit": N} (default 20, at most 1000)
     "earnings"       {"days": [{day, jobs, msats}], "backends": [{backend, jobs, msats}]}
     "open_jobs"      {"rows": [...], "more", "last"}: the jobs not in a final state, with
                      their request and result event, in pages; args {"after": last} for the next
     "open_invoices"  every open invoice (with the demo wallet's preimage)
     "kv"             {"value": ...} for args {"key": K}                                    */
char *ledger_db_query(ledger_db_t *self, const char *what, const char *args, char *err,
                      size_t err_size);

#endif
