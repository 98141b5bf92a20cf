/*  daemon_cmds.c: pylon start, stop and status: the node's life as the operator sees it. */
#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "ledger_db.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool
s_has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return true;
    return false;
}

static const char *
s_flag_value(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return NULL;
}

int
cli_start(cli_t *cli, int argc, char **argv)
{
    char err[CONFIG_ERROR_MAX];
    if (config_validate(&cli->cfg, err, sizeof err) != 0)
        return cli_fail(cli, CLI_FAILED, "config.toml: %s", err);
    int pid = daemon_running_pid(&cli->cfg);
    if (pid > 0)
        return cli_fail(cli, CLI_FAILED, "already running for %s (pid %d); "
                        "`pylon stop` stops it", cli->cfg.dir, pid);
    if (mkdir(cli->cfg.dir, 0700) != 0 && errno != EEXIST)
        return cli_fail(cli, CLI_FAILED, "cannot create %s: %s", cli->cfg.dir, strerror(errno));
    /* Unlock here, before detaching, while there is a terminal to ask on. */
    uint8_t *seed = sodium_malloc(64);
    int rc = cli_unlock(cli, s_flag_value(argc, argv, "--passphrase-file"), seed);
    if (rc != CLI_OK) {
        sodium_free(seed);
        return rc;
    }
    if (s_has_flag(argc, argv, "--foreground")) {
        /* On a terminal, a live view replaces the log lines (which go to pylon.log). */
        bool dashboard = isatty(STDOUT_FILENO) && !cli->json && !s_has_flag(argc, argv, "--no-dashboard");
        char log_path[4096];
        if (dashboard && cli_path(cli, "pylon.log", log_path, sizeof log_path))
            log_to_file(log_path);
        daemon_options_t options = {.foreground = true, .ready_fd = -1, .seed = seed,
                                    .dashboard = dashboard};
        rc = daemon_run(&cli->cfg, &options);
        sodium_free(seed);
        return rc;
    }
    /* Detach: the child runs the daemon and tells us through a pipe once it is up (or not).
       Nothing of ZeroMQ exists yet in this process, so forking is safe. */
    char log_path[4096];
    int ready[2];
    pid_t child = -1;
    if (!cli_path(cli, "pylon.log", log_path, sizeof log_path) || pipe(ready) != 0) {
        sodium_free(seed);
        return cli_fail(cli, CLI_FAILED, "cannot prepare the daemon: %s", strerror(errno));
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        sodium_free(seed);
        return cli_fail(cli, CLI_FAILED, "fork: %s", strerror(errno));
    }
    if (child == 0) {
        close(ready[0]);
        setsid();
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        close(null_fd);
        log_to_file(log_path);
        daemon_options_t options = {.foreground = false, .ready_fd = ready[1], .seed = seed};
        rc = daemon_run(&cli->cfg, &options);
        sodium_free(seed);
        _exit(rc);
    }
    sodium_free(seed);
    close(ready[1]);
    char answer[600] = "";
    size_t got = 0;
    struct pollfd pfd = {ready[0], POLLIN, 0};
    while (got < sizeof answer - 1 && poll(&pfd, 1, 60000) > 0) {
        ssize_t n = read(ready[0], answer + got, sizeof answer - 1 - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close(ready[0]);
    answer[got] = 0;
    answer[strcspn(answer, "\n")] = 0;
    if (strcmp(answer, "ok") != 0) {
        waitpid(child, NULL, WNOHANG);
        return cli_fail(cli, CLI_FAILED, "%s (log: %s)",
                        strncmp(answer, "error: ", 7) == 0 ? answer + 7 : "the node did not start",
                        log_path);
    }
    if (cli->json) {
        json_object *obj = json_object_new_object();
        json_object_object_add(obj, "started", json_object_new_boolean(1));
        json_object_object_add(obj, "pid", json_object_new_int(child));
        json_object_object_add(obj, "log", json_object_new_string(log_path));
        cli_print_json(obj);
    }
    else
        printf("pylon started (pid %d); log: %s\n", (int) child, log_path);
    return CLI_OK;
}

int
cli_stop(cli_t *cli, int argc, char **argv)
{
    const char *timeout_text = s_flag_value(argc, argv, "--timeout");
    int timeout_s = timeout_text ? atoi(timeout_text) : 30;
    if (timeout_s <= 0)
        return cli_fail(cli, CLI_USAGE, "--timeout takes a number of seconds");
    int pid = daemon_running_pid(&cli->cfg);
    if (pid <= 0) {
        if (cli->json) {
            json_object *obj = json_object_new_object();
            json_object_object_add(obj, "running", json_object_new_boolean(0));
            cli_print_json(obj);
        }
        else
            printf("pylon is not running (nothing to stop)\n");
        return CLI_OK;
    }
    char socket_path[DAEMON_PATH_MAX], *reply = NULL;
    int rc = -1;
    if (cli_path(cli, "control.sock", socket_path, sizeof socket_path))
        rc = control_call(socket_path, "STOP", "{}", 5000, &reply);
    free(reply);
    if (rc != 0) {
        /* The control socket did not answer: fall back to the signal the daemon also obeys. */
        if (kill(pid, SIGTERM) != 0)
            return cli_fail(cli, CLI_FAILED, "cannot stop pid %d: %s", pid, strerror(errno));
    }
    for (int waited_ms = 0; waited_ms < timeout_s * 1000; waited_ms += 50) {
        if (daemon_running_pid(&cli->cfg) <= 0) {
            if (cli->json) {
                json_object *obj = json_object_new_object();
                json_object_object_add(obj, "stopped", json_object_new_boolean(1));
                json_object_object_add(obj, "pid", json_object_new_int(pid));
                cli_print_json(obj);
            }
            else
                printf("pylon stopped (pid %d)\n", pid);
            return CLI_OK;
        }
        usleep(50000);
    }
    return cli_fail(cli, CLI_FAILED, "pid %d did not stop within %d s; `kill -9 %d` ends it "
                    "(the ledger keeps every job's state)", pid, timeout_s, pid);
}

int
cli_status(cli_t *cli, int argc, char **argv)
{
    int pid = daemon_running_pid(&cli->cfg);
    char socket_path[DAEMON_PATH_MAX], *reply = NULL;
    json_object *status = NULL;
    if (pid > 0 && cli_path(cli, "control.sock", socket_path, sizeof socket_path)
        && control_call(socket_path, "STATUS", "{}", 3000, &reply) == 0)
        status = json_tokener_parse(reply);
    free(reply);
    if (!status) {
        status = json_object_new_object();
        json_object_object_add(status, "online", json_object_new_boolean(0));
        if (pid > 0)
            json_object_object_add(status, "pid", json_object_new_int(pid));
        /* The books are in the ledger's file, readable with the node down. */
        char db_path[4096], err[256];
        ledger_db_t *db = cli_path(cli, "pylon.db", db_path, sizeof db_path) && access(db_path, R_OK) == 0
                          ? ledger_db_open(db_path, true, err, sizeof err) : NULL;
        char *books = db ? ledger_db_query(db, "status", NULL, err, sizeof err) : NULL;
        if (books)
            json_object_object_add(status, "books", json_tokener_parse(books));
        free(books);
        ledger_db_close(&db);
    }
    json_object_object_add(status, "config_dir", json_object_new_string(cli->cfg.dir));
    bool online = json_object_get_boolean(json_object_object_get(status, "online"));
    if (cli->json) {
        cli_print_json(status);
        return online ? CLI_OK : CLI_NOT_RUNNING;
    }
    if (!online) {
        printf("pylon: offline%s (config %s)\n", pid > 0 ? ", not answering" : "", cli->cfg.dir);
        json_object *books = json_object_object_get(status, "books");
        if (books)
            printf("  jobs today %lld (delivered %lld), earned today %lld sats, in total %lld sats\n",
                   (long long) json_object_get_int64(json_object_object_get(books, "jobs_today")),
                   (long long) json_object_get_int64(json_object_object_get(books, "delivered_today")),
                   (long long) json_object_get_int64(json_object_object_get(books, "earned_today_msats")) / 1000,
                   (long long) json_object_get_int64(json_object_object_get(books, "earned_total_msats")) / 1000);
        printf("start it with `pylon start`\n");
    }
    else {
        printf("pylon: online, pid %lld, up %llds (config %s)\n",
               (long long) json_object_get_int64(json_object_object_get(status, "pid")),
               (long long) (time(NULL) - json_object_get_int64(json_object_object_get(status, "started_at"))),
               cli->cfg.dir);
        json_object_object_foreach(json_object_object_get(status, "actors"), name, report)
            printf("  %-11s %s\n", name, json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(status);
    return online ? CLI_OK : CLI_NOT_RUNNING;
}
