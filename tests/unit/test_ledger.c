/*  test_ledger.c: the ledger actor and its database: writes acknowledged once committed,
    requests and settlements handled once, queries, and everything still there after a
    restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors.h"
#include "ledger.h"
#include "ledger_db.h"
#include "node.h"
#include "probe.h"

typedef struct {
    char dir[64];
    char path[128];
    ledger_args_t args;
    node_t *node;
    probe_t *probe;
    const char *inbox;          /* the ledger's endpoint */
    msg_t in;
    int run;
} fixture_t;

static void
s_start(fixture_t *f)
{
    static int runs;
    char prefix[32], endpoint[64];
    snprintf(prefix, sizeof prefix, "tl%d-", ++runs);
    snprintf(endpoint, sizeof endpoint, "inproc://%sjob_router", prefix);
    f->probe = probe_new("job_router", endpoint);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    node_member_t members[] = {{&ledger_actor, &f->args}};
    f->node = node_start(members, 1, &dir, prefix, NULL);
    assert_non_null(f->node);
    f->inbox = actor_directory_find(node_directory(f->node), "ledger");
}

static void
s_stop(fixture_t *f)
{
    node_stop(&f->node);
    probe_destroy(&f->probe);
}

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pylon-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/pylon.db", f->dir);
    f->args.path = f->path;
    s_start(f);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    s_stop(f);
    msg_release(&f->in);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

/* Send a write and wait for its ack. */
static const msg_ledger_ack_t *
s_write(fixture_t *f, msg_t *msg)
{
    assert_int_equal(probe_send(f->probe, "ledger", f->inbox, msg), 0);
    assert_int_equal(probe_recv(f->probe, &f->in, 3000), 0);
    assert_int_equal(f->in.type, MSG_LEDGER_ACK);
    return &f->in.ledger_ack;
}

static json_object *
s_query(fixture_t *f, const char *what, const char *args)
{
    msg_t ask = {.type = MSG_LEDGER_QUERY, .ledger_query = {77, what, args}};
    assert_int_equal(probe_send(f->probe, "ledger", f->inbox, &ask), 0);
    assert_int_equal(probe_recv(f->probe, &f->in, 3000), 0);
    assert_int_equal(f->in.type, MSG_LEDGER_ROWS);
    assert_true(f->in.ledger_rows.ok);
    return json_tokener_parse(f->in.ledger_rows.json);
}

static int64_t
s_int(json_object *obj, const char *key)
{
    return json_object_get_int64(json_object_object_get(obj, key));
}

static msg_t
s_job(uint8_t id)
{
    msg_t msg = {.type = MSG_LEDGER_JOB_NEW,
                 .ledger_job_new = {.ref = id, .kind = 5935, .backend = "llamacpp:gpt_oss_20b",
                                    .request = "{\"id\":\"...\"}", .encryption = "",
                                    .created_at = 1700000000}};
    memset(msg.ledger_job_new.job, id, 32);
    memset(msg.ledger_job_new.buyer, 0xbb, 32);
    return msg;
}

static void
t_job_once(void **state)
{
    fixture_t *f = *state;
    msg_t job = s_job(1);
    const msg_ledger_ack_t *ack = s_write(f, &job);
    assert_true(ack->ok);
    assert_false(ack->existing);
    assert_int_equal(ack->ref, 1);
    assert_string_equal(ack->state, "received");
    /* The same request again (another relay, or after a restart): handled once. */
    ack = s_write(f, &job);
    assert_true(ack->ok);
    assert_true(ack->existing);
    assert_string_equal(ack->state, "received");
    msg_t update = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.ref = 2, .state = "quoted", .price_msats = 12000,
                                          .quote = "{}", .payment_hash = "ab", .result_event = "",
                                          .error = ""}};
    memset(update.ledger_job_update.job, 1, 32);
    ack = s_write(f, &update);
    assert_true(ack->ok);
    ack = s_write(f, &job);
    assert_string_equal(ack->state, "quoted");
    /* Updating a job that does not exist is an error, said plainly. */
    memset(update.ledger_job_update.job, 9, 32);
    ack = s_write(f, &update);
    assert_false(ack->ok);
    assert_non_null(strstr(ack->error, "no job"));
}

static void
t_settled_books_once(void **state)
{
    fixture_t *f = *state;
    msg_t job = s_job(3);
    s_write(f, &job);
    msg_t quoted = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.ref = 4, .state = "quoted", .price_msats = 21000,
                                          .quote = "", .payment_hash = "", .result_event = "", .error = ""}};
    memset(quoted.ledger_job_update.job, 3, 32);
    s_write(f, &quoted);
    msg_t invoice = {.type = MSG_LEDGER_INVOICE_NEW,
                     .ledger_invoice_new = {.ref = 5, .bolt11 = "lnbcrt210n1...", .amount_msats = 21000,
                                            .expires_at = 4000000000u, .preimage = "00", .wallet = "demo"}};
    memset(invoice.ledger_invoice_new.payment_hash, 0xcc, 32);
    memset(invoice.ledger_invoice_new.job, 3, 32);
    const msg_ledger_ack_t *ack = s_write(f, &invoice);
    assert_true(ack->ok);
    assert_false(ack->existing);
    json_object *open = s_query(f, "open_invoices", "");
    assert_int_equal(json_object_array_length(open), 1);
    json_object_put(open);

    msg_t settled = {.type = MSG_LEDGER_INVOICE_SETTLED,
                     .ledger_invoice_settled = {.ref = 6, .amount_msats = 21000, .settled_at = 1700000100}};
    memset(settled.ledger_invoice_settled.payment_hash, 0xcc, 32);
    ack = s_write(f, &settled);
    assert_true(ack->ok);
    assert_false(ack->existing);
    assert_string_equal(ack->state, "queued");     /* paid: the job may run */
    for (int again = 0; again < 3; again++) {       /* said again: nothing booked twice */
        ack = s_write(f, &settled);
        assert_true(ack->ok);
        assert_true(ack->existing);
    }
    json_object *status = s_query(f, "status", "");
    assert_int_equal(s_int(status, "earned_total_msats"), 21000);
    assert_int_equal(s_int(status, "open_invoices"), 0);
    json_object_put(status);
    json_object *earnings = s_query(f, "earnings", "");
    json_object *backends = json_object_object_get(earnings, "backends");
    assert_int_equal(json_object_array_length(backends), 1);
    assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(backends, 0), "backend")),
                        "llamacpp:gpt_oss_20b");
    json_object_put(earnings);
}

static void
t_expired(void **state)
{
    fixture_t *f = *state;
    msg_t job = s_job(7);
    s_write(f, &job);
    /* The router quotes with the invoice's payment hash (0xdd x 32 below). */
    msg_t quoted = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.ref = 8, .state = "quoted", .quote = "",
                                          .payment_hash = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
                                          .result_event = "", .error = ""}};
    memset(quoted.ledger_job_update.job, 7, 32);
    s_write(f, &quoted);
    msg_t invoice = {.type = MSG_LEDGER_INVOICE_NEW,
                     .ledger_invoice_new = {.ref = 9, .bolt11 = "x", .amount_msats = 1000, .expires_at = 1,
                                            .preimage = "", .wallet = "demo"}};
    memset(invoice.ledger_invoice_new.payment_hash, 0xdd, 32);
    memset(invoice.ledger_invoice_new.job, 7, 32);
    s_write(f, &invoice);
    msg_t expired = {.type = MSG_LEDGER_INVOICE_EXPIRED, .ledger_invoice_expired = {.ref = 10}};
    memset(expired.ledger_invoice_expired.payment_hash, 0xdd, 32);
    assert_true(s_write(f, &expired)->ok);
    json_object *jobs = s_query(f, "jobs", "{\"limit\": 5}");
    json_object *row = json_object_array_get_idx(jobs, 0);
    assert_string_equal(json_object_get_string(json_object_object_get(row, "state")), "expired");
    assert_string_equal(json_object_get_string(json_object_object_get(row, "error")), "invoice expired unpaid");
    json_object_put(jobs);
}

/* A job that got a second invoice (its first was recorded, then the node died before quoting
   with it) is not expired when the first, never shown, invoice expires. */
static void
t_old_invoice_expiry(void **state)
{
    fixture_t *f = *state;
    msg_t job = s_job(12);
    s_write(f, &job);
    uint8_t first[32], second[32];
    memset(first, 0x11, 32);
    memset(second, 0x22, 32);
    for (int i = 0; i < 2; i++) {
        msg_t invoice = {.type = MSG_LEDGER_INVOICE_NEW,
                         .ledger_invoice_new = {.ref = 20 + (uint64_t) i, .bolt11 = "x", .amount_msats = 1000,
                                                .expires_at = 4000000000u, .preimage = "", .wallet = "demo"}};
        memcpy(invoice.ledger_invoice_new.payment_hash, i ? second : first, 32);
        memset(invoice.ledger_invoice_new.job, 12, 32);
        assert_true(s_write(f, &invoice)->ok);
    }
    char second_hex[65];
    for (int i = 0; i < 32; i++)
        sprintf(second_hex + 2 * i, "%02x", second[i]);
    msg_t quoted = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.ref = 30, .state = "quoted", .quote = "", .payment_hash = second_hex,
                                          .result_event = "", .error = ""}};
    memset(quoted.ledger_job_update.job, 12, 32);
    assert_true(s_write(f, &quoted)->ok);
    msg_t expired = {.type = MSG_LEDGER_INVOICE_EXPIRED, .ledger_invoice_expired = {.ref = 31}};
    memcpy(expired.ledger_invoice_expired.payment_hash, first, 32);
    assert_true(s_write(f, &expired)->ok);
    json_object *jobs = s_query(f, "jobs", "{\"limit\": 1}");
    assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(jobs, 0), "state")), "quoted");
    json_object_put(jobs);
    /* Its own invoice expiring does end it. */
    memcpy(expired.ledger_invoice_expired.payment_hash, second, 32);
    assert_true(s_write(f, &expired)->ok);
    jobs = s_query(f, "jobs", "{\"limit\": 1}");
    assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(jobs, 0), "state")), "expired");
    json_object_put(jobs);
}

/* Open jobs come back in pages small enough for one message, however large the requests. */
static void
t_open_jobs_paged(void **state)
{
    fixture_t *f = *state;
    char *big = malloc(250001);
    memset(big, 'r', 250000);
    big[250000] = 0;
    for (int i = 0; i < 12; i++) {
        msg_t job = s_job((uint8_t) (40 + i));
        job.ledger_job_new.request = big;
        assert_true(s_write(f, &job)->ok);
    }
    free(big);
    int pages = 0, total = 0;
    int64_t after = 0;
    for (bool more = true; more; pages++) {
        char args[64];
        snprintf(args, sizeof args, "{\"after\":%lld}", (long long) after);
        json_object *page = s_query(f, "open_jobs", args);
        assert_true(strlen(f->in.ledger_rows.json) < 4000000);     /* fits a LEDGER_ROWS */
        json_object *rows = json_object_object_get(page, "rows");
        total += (int) json_object_array_length(rows);
        more = json_object_get_boolean(json_object_object_get(page, "more"));
        after = json_object_get_int64(json_object_object_get(page, "last"));
        json_object_put(page);
        assert_true(pages < 20);
    }
    assert_int_equal(total, 12);
    assert_true(pages > 1);
}

/* Many writes sent at once are grouped into few transactions, and all are acknowledged. */
static void
t_batched(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 500; i++) {
        msg_t kv = {.type = MSG_LEDGER_KV_SET, .ledger_kv_set = {.ref = (uint64_t) i, .key = "k", .value = "v"}};
        assert_int_equal(probe_send(f->probe, "ledger", f->inbox, &kv), 0);
    }
    for (int i = 0; i < 500; i++) {
        assert_int_equal(probe_recv(f->probe, &f->in, 3000), 0);
        assert_true(f->in.ledger_ack.ok);
        assert_int_equal(f->in.ledger_ack.ref, i);
    }
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {1}};
    probe_send(f->probe, "ledger", f->inbox, &ask);
    assert_int_equal(probe_recv(f->probe, &f->in, 3000), 0);
    json_object *status = json_tokener_parse(f->in.status_report.json);
    assert_true(s_int(status, "writes") >= 500);
    assert_true(s_int(status, "commits") < 500);
    json_object_put(status);
}

/* Everything acknowledged survives a restart of the actor, and the file is owner-only. */
static void
t_restart(void **state)
{
    fixture_t *f = *state;
    msg_t job = s_job(11);
    s_write(f, &job);
    msg_t kv = {.type = MSG_LEDGER_KV_SET, .ledger_kv_set = {.ref = 1, .key = "relay.since", .value = "1700000000"}};
    s_write(f, &kv);
    s_stop(f);
    s_start(f);
    const msg_ledger_ack_t *ack = s_write(f, &job);
    assert_true(ack->existing);
    json_object *value = s_query(f, "kv", "{\"key\":\"relay.since\"}");
    assert_string_equal(json_object_get_string(json_object_object_get(value, "value")), "1700000000");
    json_object_put(value);
    json_object *open = s_query(f, "open_jobs", "");
    assert_int_equal(json_object_array_length(json_object_object_get(open, "rows")), 1);
    assert_false(json_object_get_boolean(json_object_object_get(open, "more")));
    json_object_put(open);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    /* A reader (pylon status with the daemon down) sees the same. */
    char err[256];
    ledger_db_t *reader = ledger_db_open(f->path, true, err, sizeof err);
    assert_non_null(reader);
    char *text = ledger_db_query(reader, "status", NULL, err, sizeof err);
    assert_non_null(strstr(text, "\"jobs_total\":1"));
    free(text);
    assert_null(ledger_db_query(reader, "nonsense", NULL, err, sizeof err));
    assert_string_equal(err, "no query named 'nonsense'");
    ledger_db_close(&reader);
}

static void
s_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A settlement whose booking fails half-way leaves nothing behind in the batch's transaction:
   said again, it is booked and its job queued, not taken for one already booked. */
static void
t_settle_all_or_nothing(void **state)
{
    char dir[64], path[128], err[256];
    snprintf(dir, sizeof dir, "/tmp/pylon-ledger-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pylon.db", dir);
    ledger_db_t *db = ledger_db_open(path, false, err, sizeof err);
    assert_non_null(db);
    msg_t job = s_job(3);
    bool existing;
    char job_state[LEDGER_STATE_MAX + 1];
    assert_int_equal(ledger_db_begin(db), 0);
    assert_int_equal(ledger_db_job_new(db, &job.ledger_job_new, &existing, job_state), 0);
    msg_t quoted = {.type = MSG_LEDGER_JOB_UPDATE,
                    .ledger_job_update = {.state = "quoted", .price_msats = 21000, .quote = "",
                                          .payment_hash = "", .result_event = "", .error = ""}};
    memset(quoted.ledger_job_update.job, 3, 32);
    assert_int_equal(ledger_db_job_update(db, &quoted.ledger_job_update), 0);
    msg_t invoice = {.type = MSG_LEDGER_INVOICE_NEW,
                     .ledger_invoice_new = {.bolt11 = "lnbcrt210n1...", .amount_msats = 21000,
                                            .expires_at = 4000000000u, .preimage = "", .wallet = "demo"}};
    memset(invoice.ledger_invoice_new.payment_hash, 0xcc, 32);
    memset(invoice.ledger_invoice_new.job, 3, 32);
    assert_int_equal(ledger_db_invoice_new(db, &invoice.ledger_invoice_new, &existing), 0);
    assert_int_equal(ledger_db_commit(db), 0);

    /* The earning cannot be booked (as with a full disk): the write fails, the batch commits. */
    s_sql(path, "CREATE TRIGGER earning_fails BEFORE INSERT ON earnings "
                "BEGIN SELECT RAISE(ABORT, 'no room'); END");
    msg_t settled = {.type = MSG_LEDGER_INVOICE_SETTLED,
                     .ledger_invoice_settled = {.amount_msats = 21000, .settled_at = 1700000100}};
    memset(settled.ledger_invoice_settled.payment_hash, 0xcc, 32);
    assert_int_equal(ledger_db_begin(db), 0);
    assert_int_equal(ledger_db_invoice_settled(db, &settled.ledger_invoice_settled, &existing, job_state), -1);
    assert_non_null(strstr(ledger_db_error(db), "no room"));
    assert_int_equal(ledger_db_commit(db), 0);
    s_sql(path, "DROP TRIGGER earning_fails");

    /* Said again: booked now, once. */
    assert_int_equal(ledger_db_begin(db), 0);
    assert_int_equal(ledger_db_invoice_settled(db, &settled.ledger_invoice_settled, &existing, job_state), 0);
    assert_int_equal(ledger_db_commit(db), 0);
    assert_false(existing);
    assert_string_equal(job_state, "queued");
    char *text = ledger_db_query(db, "status", NULL, err, sizeof err);
    assert_non_null(strstr(text, "\"earned_total_msats\":21000"));
    free(text);
    ledger_db_close(&db);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_job_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_settled_books_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_expired, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_old_invoice_expiry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_open_jobs_paged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_batched, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_restart, s_setup, s_teardown),
        cmocka_unit_test(t_settle_all_or_nothing),
    };
    return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
