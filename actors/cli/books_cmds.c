/*  books_cmds.c: pylon jobs, pylon earnings and pylon wallet: what the ledger knows, read
    straight from pylon.db (read-only, so they work whether or not the node runs), and the
    demo wallet's payment act, which needs the running node. */
#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "ledger_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A ledger query's answer, parsed; NULL with the failure printed. */
static json_object *
s_query(cli_t *cli, const char *what, const char *args, int *rc)
{
    char path[4096], err[256];
    *rc = CLI_OK;
    if (!cli_path(cli, "pylon.db", path, sizeof path) || access(path, R_OK) != 0) {
        *rc = cli_fail(cli, CLI_FAILED, "no ledger yet in %s: it is created by `pylon start`", cli->cfg.dir);
        return NULL;
    }
    ledger_db_t *db = ledger_db_open(path, true, err, sizeof err);
    char *text = db ? ledger_db_query(db, what, args, err, sizeof err) : NULL;
    ledger_db_close(&db);
    json_object *answer = text ? json_tokener_parse(text) : NULL;
    free(text);
    if (!answer)
        *rc = cli_fail(cli, CLI_FAILED, "reading the ledger: %s", err);
    return answer;
}

static const char *
s_time(int64_t when, char *buf, size_t size)
{
    if (when <= 0)
        return "-";
    time_t t = (time_t) when;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%m-%d %H:%M:%S", &tm);
    return buf;
}

#define GET_INT(obj, key) json_object_get_int64(json_object_object_get(obj, key))
#define GET_STR(obj, key) json_object_get_string(json_object_object_get(obj, key))

int
cli_jobs(cli_t *cli, int argc, char **argv)
{
    long limit = 20;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--limit") == 0)
            limit = atol(argv[i + 1]);
    char args[64];
    snprintf(args, sizeof args, "{\"limit\":%ld}", limit);
    int rc;
    json_object *jobs = s_query(cli, "jobs", args, &rc);
    if (!jobs)
        return rc;
    if (cli->json) {
        cli_print_json(jobs);
        return CLI_OK;
    }
    printf("%-14s %-10s %-5s %-22s %10s %15s %9s %9s  %s\n", "job", "state", "kind", "backend",
           "sats", "created", "wait s", "run s", "error");
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *job = json_object_array_get_idx(jobs, i);
        char created[32];
        int64_t created_at = GET_INT(job, "created_at"), paid = GET_INT(job, "paid_at");
        int64_t started = GET_INT(job, "started_at"), finished = GET_INT(job, "finished_at");
        char wait[16] = "-", run[16] = "-";
        if (started && (paid || created_at))
            snprintf(wait, sizeof wait, "%lld", (long long) (started - (paid ? paid : created_at)));
        if (finished && started)
            snprintf(run, sizeof run, "%lld", (long long) (finished - started));
        printf("%-14.12s %-10s %-5lld %-22.22s %10.3f %15s %9s %9s  %s\n", GET_STR(job, "id"),
               GET_STR(job, "state"), (long long) GET_INT(job, "kind"), GET_STR(job, "backend"),
               (double) GET_INT(job, "price_msats") / 1000.0,
               s_time(created_at, created, sizeof created), wait, run, GET_STR(job, "error"));
    }
    if (json_object_array_length(jobs) == 0)
        printf("(no jobs yet)\n");
    json_object_put(jobs);
    return CLI_OK;
}

int
cli_earnings(cli_t *cli, int argc, char **argv)
{
    int rc;
    json_object *earnings = s_query(cli, "earnings", NULL, &rc);
    if (!earnings)
        return rc;
    json_object *status = s_query(cli, "status", NULL, &rc);
    if (!status) {              /* said already: one answer, the error */
        json_object_put(earnings);
        return rc;
    }
    json_object_object_add(earnings, "total_msats", json_object_new_int64(GET_INT(status, "earned_total_msats")));
    json_object_put(status);
    if (cli->json) {
        cli_print_json(earnings);
        return CLI_OK;
    }
    json_object *days = json_object_object_get(earnings, "days");
    json_object *backends = json_object_object_get(earnings, "backends");
    printf("%-12s %6s %12s\n", "day", "jobs", "sats");
    for (size_t i = 0; i < json_object_array_length(days); i++) {
        json_object *day = json_object_array_get_idx(days, i);
        printf("%-12s %6lld %12.3f\n", GET_STR(day, "day"), (long long) GET_INT(day, "jobs"),
               (double) GET_INT(day, "msats") / 1000.0);
    }
    printf("\n%-24s %6s %12s\n", "backend", "jobs", "sats");
    for (size_t i = 0; i < json_object_array_length(backends); i++) {
        json_object *b = json_object_array_get_idx(backends, i);
        printf("%-24s %6lld %12.3f\n", GET_STR(b, "backend"), (long long) GET_INT(b, "jobs"),
               (double) GET_INT(b, "msats") / 1000.0);
    }
    printf("\ntotal: %.3f sats\n", (double) GET_INT(earnings, "total_msats") / 1000.0);
    json_object_put(earnings);
    return CLI_OK;
}

int
cli_wallet(cli_t *cli, int argc, char **argv)
{
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : "status";
    char socket_path[DAEMON_PATH_MAX], *reply = NULL;
    if (!cli_path(cli, "control.sock", socket_path, sizeof socket_path))
        return cli_fail(cli, CLI_FAILED, "config dir path too long");
    if (strcmp(sub, "demo-pay") == 0) {
        if (argc < 3)
            return cli_fail(cli, CLI_USAGE, "usage: pylon wallet demo-pay <bolt11>");
        json_object *args = json_object_new_object();
        json_object_object_add(args, "bolt11", json_object_new_string(argv[2]));
        int rc = control_call(socket_path, "DEMO_PAY", json_object_to_json_string(args), 15000, &reply);
        json_object_put(args);
        if (rc < 0)
            return cli_fail(cli, CLI_NOT_RUNNING, "pylon is not running: start it with `pylon start`");
        if (rc > 0) {
            json_object *answer = reply ? json_tokener_parse(reply) : NULL;
            int code = cli_fail(cli, CLI_FAILED, "not paid: %s", answer ? GET_STR(answer, "error") : "?");
            json_object_put(answer);
            free(reply);
            return code;
        }
        if (cli->json)
            printf("%s\n", reply);
        else
            printf("paid with the demo wallet (regtest: no real money moves)\n");
        free(reply);
        return CLI_OK;
    }
    if (strcmp(sub, "status") != 0 && strcmp(sub, "invoices") != 0)
        return cli_fail(cli, CLI_USAGE, "usage: pylon wallet [status | invoices | demo-pay <bolt11>]");
    /* The wallet actor's own report (backend, reachable, balance) when the node runs, and the
       open invoices from the ledger either way. */
    json_object *out = json_object_new_object();
    if (control_call(socket_path, "STATUS", "{}", 3000, &reply) == 0) {
        json_object *status = json_tokener_parse(reply);
        json_object *wallet = json_object_object_get(json_object_object_get(status, "actors"), "wallet");
        json_object_object_add(out, "wallet", wallet ? json_object_get(wallet) : NULL);
        json_object_put(status);
    }
    free(reply);
    int rc;
    json_object *invoices = s_query(cli, "open_invoices", NULL, &rc);
    if (!invoices) {            /* said already: one answer, the error, and its exit code */
        json_object_put(out);
        return rc;
    }
    /* the demo wallet's preimages are secrets until paid: never shown */
    for (size_t i = 0; i < json_object_array_length(invoices); i++)
        json_object_object_del(json_object_array_get_idx(invoices, i), "preimage");
    json_object_object_add(out, "open_invoices", invoices);
    if (cli->json) {
        cli_print_json(out);
        return CLI_OK;
    }
    json_object *wallet = json_object_object_get(out, "wallet");
    printf("wallet: %s\n", wallet ? json_object_to_json_string_ext(wallet, JSON_C_TO_STRING_PLAIN) : "(node not running)");
    printf("open invoices: %zu\n", invoices ? json_object_array_length(invoices) : 0);
    for (size_t i = 0; invoices && i < json_object_array_length(invoices); i++) {
        json_object *inv = json_object_array_get_idx(invoices, i);
        char when[32];
        printf("  %.12s %10.3f sats  expires %s  %s\n", GET_STR(inv, "payment_hash"),
               (double) GET_INT(inv, "amount_msats") / 1000.0, s_time(GET_INT(inv, "expires_at"), when, sizeof when),
               GET_STR(inv, "bolt11"));
    }
    json_object_put(out);
    return CLI_OK;
}
