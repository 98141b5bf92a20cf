/*  test_farm.c: the farm over real processes on loopback. The broker (actors/farm.c) runs in
    this process with a probe playing the job router; the workers are the real binary
    ($PYLON_BUILD/pylon worker, each with its own config dir) and each serves its own backend
    stub (tests/stubs/backend_stub.mjs as llama-server, 2 slots). Heartbeats every 250 ms,
    liveness 1500 ms, so that each loss is seen in well under the default's 3 s.

    The tests run in order on one farm, each leaving it as the next expects:
      - both allowed workers join; the backend is available with their slots summed;
      - a worker whose key is not in farm_workers/ and a client without CURVE get nothing,
        and the node logs both;
      - jobs are spread across the workers, each answered exactly once;
      - a worker killed mid-job: its jobs complete on the other, once each;
      - a killed worker that comes back is used again;
      - a worker stopped (SIGSTOP) mid-job: declared gone, its jobs run on the other; resumed
        (SIGCONT), its late answers are discarded and it rejoins and takes jobs again;
      - the node going away: the workers stay up and join the new node by themselves;
      - key files are owner-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "farm.h"
#include "child.h"
#include "log.h"
#include "node.h"
#include "probe.h"
#include "../stubs/stub_proc.h"

#include <json-c/json.h>
#include <sys/stat.h>

#define BACKEND  "llamacpp:gpt_oss_20b"
#define MESSAGES "[{\"role\":\"user\",\"content\":\"Say hello.\"}]"
#define INBOX    "inproc://tf-inference"
#define WORKERS  3                  /* w1 and w2 allowed, w3 not */

typedef struct {
    char root[256];                 /* temporary directory holding everything */
    char pylon[512];                /* the binary under test */
    char listen[64];                /* the broker's endpoint (a fixed port: it restarts) */
    char node_key[64];              /* the node's public key */
    char keys[WORKERS][64];         /* each worker's public key */
    char log_path[512];             /* where this process logs (the node's log) */
    config_t cfg;                   /* the node's configuration */
    farm_args_t args;               /* the broker's arguments */
    probe_t *router;                /* the test, named "job_router" */
    node_t *node;                   /* the broker */
    stub_t stubs[WORKERS];          /* one backend per worker */
    child_t *workers[WORKERS];      /* the worker processes */
    int probe_count;                /* probes made, for fresh inproc names */
} farm_fixture_t;

static farm_fixture_t F;

/* ---- helpers -------------------------------------------------------------------------------- */

/* Run a pylon command and return its stdout's first line (fresh), or NULL. */
static char *
s_run(const char *args)
{
    char command[2048];
    snprintf(command, sizeof command, "%s %s", F.pylon, args);    /* errors reach the test log */
    FILE *out = popen(command, "r");
    if (!out)
        return NULL;
    char line[1024] = "";
    char *got = fgets(line, sizeof line, out);
    int rc = pclose(out);
    if (!got || rc != 0)
        return NULL;
    line[strcspn(line, "\n")] = 0;
    return strdup(line);
}

/* The public key a --json keygen printed. */
static void
s_keygen(const char *dir, const char *what, char key[64])
{
    char args[512];
    snprintf(args, sizeof args, "--config-dir %s --json %s keygen", dir, what);
    char command[1024];
    snprintf(command, sizeof command, "%s %s", F.pylon, args);
    FILE *out = popen(command, "r");
    assert_non_null(out);
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    assert_int_equal(pclose(out), 0);
    json_object *obj = json_tokener_parse(text);
    assert_non_null(obj);
    snprintf(key, 64, "%s", json_object_get_string(json_object_object_get(obj, "public_key")));
    json_object_put(obj);
    assert_int_equal(strlen(key), 40);
}

static void
s_broker_up(void)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://tf-job_router-%d", ++F.probe_count);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    actor_directory_add(&dir, "inference", INBOX);
    F.router = probe_new("job_router", endpoint);
    assert_non_null(F.router);
    node_member_t members[] = {{&farm_actor, &F.args}};
    F.node = node_start(members, 1, &dir, "tf-", NULL);
    assert_non_null(F.node);
}

static void
s_broker_down(void)
{
    node_stop(&F.node);
    probe_destroy(&F.router);
}

static void
s_worker_start(int i)
{
    char dir[512], name[16];
    snprintf(dir, sizeof dir, "%s/w%d", F.root, i + 1);
    snprintf(name, sizeof name, "w%d", i + 1);
    char *argv[] = {F.pylon, "--config-dir", dir, "worker", "--name", name, NULL};
    F.workers[i] = child_start(argv);
    assert_non_null(F.workers[i]);
}

/* Wait for worker i to print a line starting with "pylon worker wN: <what>". */
static int
s_worker_says(int i, const char *what, int timeout_ms)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "pylon worker w%d: %s", i + 1, what);
    return child_wait_line(F.workers[i], prefix, NULL, 0, timeout_ms);
}

static void
s_send_job(uint8_t n)
{
    msg_t job = {.type = MSG_INFER_REQUEST,
                 .infer_request = {.backend = BACKEND, .messages = MESSAGES, .params = "",
                                   .stream = true}};
    memset(job.infer_request.job, n, 32);
    assert_int_equal(probe_send(F.router, "inference", INBOX, &job), 0);
}

/* Wait for a BACKEND_STATUS with these values (other messages are skipped). */
static void
s_expect_backend(bool available, uint64_t slots, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    for (;;) {
        int64_t left = deadline - zclock_mono();
        msg_t in = {0};
        if (left <= 0 || probe_recv(F.router, &in, (int) left))
            fail_msg("no BACKEND_STATUS available=%d slots=%llu within %d ms", available,
                     (unsigned long long) slots, timeout_ms);
        bool match = in.type == MSG_BACKEND_STATUS && in.backend_status.available == available
                     && in.backend_status.slots == slots;
        msg_release(&in);
        if (match)
            return;
    }
}

/* Collect INFER_RESULTs for jobs first..first+count-1 (ids filled with n) for up to
   timeout_ms, counting each; fails on a failed result. Stops early once each has one, unless
   linger_ms > 0: then it keeps listening that long for duplicates. */
static void
s_collect(uint8_t first, int count, int timeout_ms, int linger_ms, int results[256])
{
    memset(results, 0, 256 * sizeof *results);
    int64_t deadline = zclock_mono() + timeout_ms;
    int distinct = 0;
    for (;;) {
        int64_t left = deadline - zclock_mono();
        if (distinct == count) {
            if (linger_ms <= 0)
                return;
            deadline = zclock_mono() + linger_ms;
            left = linger_ms;
            linger_ms = 0;
            count = -1;     /* from now on, only listen */
        }
        msg_t in = {0};
        if (left <= 0 || probe_recv(F.router, &in, (int) left)) {
            if (count == -1)
                return;
            fail_msg("%d of the jobs answered within %d ms", distinct, timeout_ms);
        }
        if (in.type == MSG_INFER_RESULT) {
            uint8_t n = in.infer_result.job[0];
            if (!in.infer_result.ok)
                fail_msg("job %u failed: %s: %s", n, in.infer_result.error_code, in.infer_result.error);
            assert_true(n >= first && n < first + (count > 0 ? count : 256));
            if (results[n]++ == 0)
                distinct++;
        }
        msg_release(&in);
    }
}

/* The broker's status (a JSON object; the caller puts it). */
static json_object *
s_status(void)
{
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {.seq = 7}};
    assert_int_equal(probe_send(F.router, "inference", INBOX, &ask), 0);
    for (;;) {
        msg_t in = {0};
        if (probe_recv(F.router, &in, 3000))
            fail_msg("no status report");
        if (in.type == MSG_STATUS_REPORT) {
            json_object *status = json_tokener_parse(in.status_report.json);
            msg_release(&in);
            assert_non_null(status);
            return status;
        }
        msg_release(&in);
    }
}

static int64_t
s_farm_count(json_object *status, const char *what)
{
    return json_object_get_int64(json_object_object_get(json_object_object_get(status, "farm"), what));
}

/* The status entry of worker "wN", or NULL. */
static json_object *
s_worker_entry(json_object *status, int i)
{
    char name[8];
    snprintf(name, sizeof name, "w%d", i + 1);
    json_object *workers = json_object_object_get(status, "workers");
    for (size_t k = 0; k < json_object_array_length(workers); k++) {
        json_object *one = json_object_array_get_idx(workers, k);
        if (streq(json_object_get_string(json_object_object_get(one, "name")), name))
            return one;
    }
    return NULL;
}

static int64_t
s_worker_done(json_object *status, int i)
{
    json_object *one = s_worker_entry(status, i);
    return one ? json_object_get_int64(json_object_object_get(one, "done")) : -1;
}

static bool
s_log_has(const char *text)
{
    FILE *file = fopen(F.log_path, "r");
    if (!file)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, file))
        found = strstr(line, text) != NULL;
    fclose(file);
    return found;
}

static void
s_stub_delay(int first_token_ms)
{
    char json[128];
    snprintf(json, sizeof json, "{\"first-token-delay\":%d}", first_token_ms);
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(stub_config(&F.stubs[i], json), 0);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static int
s_setup(void **state)
{
    unsetenv("PYLON_LLAMA_SERVER_URL");
    const char *build = getenv("PYLON_BUILD") ? getenv("PYLON_BUILD") : "build/san";
    snprintf(F.pylon, sizeof F.pylon, "%s/pylon", build);
    if (access(F.pylon, X_OK) != 0) {
        fprintf(stderr, "test_farm: %s is not built\n", F.pylon);
        return -1;
    }
    snprintf(F.root, sizeof F.root, "/tmp/pylon-farm-XXXXXX");
    if (!mkdtemp(F.root))
        return -1;
    snprintf(F.listen, sizeof F.listen, "tcp://127.0.0.1:%d", stub_closed_port());

    /* Keys: the node's, three workers', two of them allowed in. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/node", F.root);
    s_keygen(dir, "farm", F.node_key);
    for (int i = 0; i < WORKERS; i++) {
        snprintf(dir, sizeof dir, "%s/w%d", F.root, i + 1);
        s_keygen(dir, "worker", F.keys[i]);
    }
    for (int i = 0; i < 2; i++) {
        char args[512];
        snprintf(args, sizeof args, "--config-dir %s/node farm allow w%d '%s'", F.root, i + 1, F.keys[i]);
        char *out = s_run(args);
        if (!out) {
            fprintf(stderr, "test_farm: set-up: `pylon %s` failed\n", args);
            return -1;
        }
        free(out);
    }

    /* Each worker: its own stub, its config.toml. */
    const char *flags[] = {"--api", "llama", "--slots", "2", NULL};
    for (int i = 0; i < WORKERS; i++) {
        if (stub_start(&F.stubs[i], flags)) {
            fprintf(stderr, "test_farm: set-up: backend stub %d did not start\n", i + 1);
            return -1;
        }
        char path[600];
        snprintf(path, sizeof path, "%s/w%d/config.toml", F.root, i + 1);
        FILE *toml = fopen(path, "w");
        if (!toml)
            return -1;
        fprintf(toml, "[backends]\nprobe_retry_ms = 200\n"
                      "[backends.llamacpp]\nurl = \"%s\"\nmodels = [\"gpt_oss_20b\"]\n"
                      "[farm]\nnode = \"%s\"\nnode_key = \"%s\"\nheartbeat_ms = 250\n"
                      "liveness_ms = 1500\n", F.stubs[i].url, F.listen, F.node_key);
        fclose(toml);
    }

    /* The node: this process, logging to a file the tests read. */
    snprintf(F.log_path, sizeof F.log_path, "%s/node.log", F.root);
    log_to_file(F.log_path);
    config_defaults(&F.cfg);
    F.cfg.dir = malloc(600);
    snprintf(F.cfg.dir, 600, "%s/node", F.root);
    F.cfg.farm_heartbeat_ms = 250;
    F.cfg.farm_liveness_ms = 1500;
    F.args = (farm_args_t) {&F.cfg, F.listen};
    s_broker_up();
    for (int i = 0; i < WORKERS; i++)
        s_worker_start(i);
    return 0;
}

static int
s_teardown(void **state)
{
    for (int i = 0; i < WORKERS; i++) {
        child_stop(&F.workers[i]);
        stub_stop(&F.stubs[i]);
    }
    s_broker_down();
    config_free(&F.cfg);
    log_to_file(NULL);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", F.root);
    if (system(command) != 0)
        fprintf(stderr, "test_farm: could not remove %s\n", F.root);
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void
t_workers_join(void **state)
{
    assert_int_equal(s_worker_says(0, "joined", 15000), 0);
    assert_int_equal(s_worker_says(1, "joined", 15000), 0);
    s_expect_backend(true, 4, 10000);     /* 2 workers x 2 slots */
    json_object *status = s_status();
    assert_int_equal(json_object_array_length(json_object_object_get(status, "workers")), 2);
    json_object *w1 = s_worker_entry(status, 0);
    assert_non_null(w1);
    assert_string_equal(json_object_get_string(json_object_object_get(w1, "key")), F.keys[0]);
    json_object *b = json_object_object_get(json_object_object_get(w1, "backends"), BACKEND);
    assert_int_equal(json_object_get_int64(json_object_object_get(b, "slots")), 2);
    assert_int_equal(json_object_get_int64(json_object_object_get(b, "in_use")), 0);
    json_object_put(status);
}

static void
t_unknown_key_and_no_curve_refused(void **state)
{
    /* w3 has a key pair but is not in farm_workers/: it never joins, and the node says so. */
    assert_int_equal(s_worker_says(2, "joined", 2000), -1);
    assert_true(s_log_has("refused a worker from 127.0.0.1: its key"));
    assert_true(s_log_has(F.keys[2]));
    /* ... and the worker is told why (its log goes to our stderr: see the worker's own
       message "refused this worker's key" in the test log). */
    /* A client without CURVE: a HELLO sent in clear reaches nothing. */
    zsock_t *plain = zsock_new(ZMQ_DEALER);
    zsock_set_linger(plain, 0);
    assert_int_equal(zsock_connect(plain, "%s", F.listen), 0);
    msg_t hello = {.type = MSG_WORKER_HELLO,
                   .worker_hello = {.worker = "intruder", .session = 1,
                                    .backends = "[{\"backend\":\"" BACKEND "\",\"available\":true,\"slots\":64}]"}};
    msg_set_route(&hello, "worker", "inference");
    msg_buf_t buf = {0};
    assert_int_equal(msg_encode(&hello, &buf), 0);
    zmq_send(zsock_resolve(plain), buf.data, buf.size, ZMQ_DONTWAIT);
    msg_buf_free(&buf);
    zclock_sleep(1000);
    zsock_destroy(&plain);
    json_object *status = s_status();
    assert_int_equal(json_object_array_length(json_object_object_get(status, "workers")), 2);
    assert_true(s_farm_count(status, "refused") >= 1);
    assert_true(s_farm_count(status, "handshake_failures") >= 1);
    json_object_put(status);
    assert_true(s_log_has("failed the CURVE handshake"));
    /* Nothing more was offered to the job router: still 4 slots. */
    msg_t in = {0};
    while (probe_recv(F.router, &in, 200) == 0) {
        if (in.type == MSG_BACKEND_STATUS)
            assert_int_equal(in.backend_status.slots, 4);
        msg_release(&in);
    }
}

static void
t_jobs_spread(void **state)
{
    s_stub_delay(300);
    for (uint8_t n = 1; n <= 8; n++)
        s_send_job(n);
    int results[256];
    s_collect(1, 8, 10000, 300, results);
    for (int n = 1; n <= 8; n++)
        assert_int_equal(results[n], 1);
    json_object *status = s_status();
    /* 8 jobs on 2 x 2 slots of equal speed: 4 each, give or take one. */
    assert_true(s_worker_done(status, 0) >= 3);
    assert_true(s_worker_done(status, 1) >= 3);
    assert_int_equal(s_worker_done(status, 0) + s_worker_done(status, 1), 8);
    json_object_put(status);
}

static void
t_worker_killed_mid_job(void **state)
{
    s_stub_delay(1500);
    for (uint8_t n = 20; n < 24; n++)
        s_send_job(n);
    zclock_sleep(500);          /* each worker runs 2 now */
    json_object *status = s_status();
    json_object *w1 = s_worker_entry(status, 0);
    assert_int_equal(json_object_get_int64(json_object_object_get(w1, "jobs")), 2);
    json_object_put(status);
    child_signal(F.workers[0], SIGKILL);
    child_stop(&F.workers[0]);
    int64_t killed = zclock_mono();
    int results[256];
    s_collect(20, 4, 15000, 2000, results);
    for (int n = 20; n < 24; n++)
        assert_int_equal(results[n], 1);
    /* w2's own 2 after 1.5 s, w1's 2 after the 1.5 s liveness plus 1.5 s on w2. */
    assert_true(zclock_mono() - killed < 9000);
    status = s_status();
    assert_true(s_farm_count(status, "requeued") >= 2);
    assert_int_equal(json_object_array_length(json_object_object_get(status, "workers")), 1);
    json_object_put(status);
    assert_true(s_log_has("worker w1 (127.0.0.1) is gone"));
}

static void
t_killed_worker_returns(void **state)
{
    s_worker_start(0);
    assert_int_equal(s_worker_says(0, "joined", 15000), 0);
    s_expect_backend(true, 4, 10000);
    s_stub_delay(300);
    for (uint8_t n = 30; n < 34; n++)
        s_send_job(n);
    int results[256];
    s_collect(30, 4, 10000, 0, results);
    json_object *status = s_status();
    assert_true(s_worker_done(status, 0) >= 1);     /* a fresh entry: counts from 0 */
    json_object_put(status);
}

static void
t_worker_stopped_and_resumed(void **state)
{
    s_stub_delay(1500);
    json_object *status = s_status();
    int64_t late_before = s_farm_count(status, "late_discarded");
    json_object_put(status);
    for (uint8_t n = 40; n < 44; n++)
        s_send_job(n);
    zclock_sleep(500);
    child_signal(F.workers[1], SIGSTOP);        /* the link goes silent, the socket stays */
    int results[256];
    s_collect(40, 4, 15000, 0, results);
    for (int n = 40; n < 44; n++)
        assert_int_equal(results[n], 1);
    status = s_status();
    assert_int_equal(json_object_array_length(json_object_object_get(status, "workers")), 1);
    json_object_put(status);
    /* Back: its answers to jobs given away are discarded, then it joins again. */
    child_signal(F.workers[1], SIGCONT);
    assert_int_equal(s_worker_says(1, "joined", 10000), 0);
    s_expect_backend(true, 4, 10000);
    s_collect(40, 0, 1500, 1500, results);      /* no duplicate arrives */
    for (int n = 40; n < 44; n++)
        assert_int_equal(results[n], 0);
    status = s_status();
    assert_true(s_farm_count(status, "late_discarded") >= late_before + 1);
    json_object_put(status);
    /* And it takes jobs again. */
    s_stub_delay(300);
    for (uint8_t n = 50; n < 58; n++)
        s_send_job(n);
    s_collect(50, 8, 10000, 0, results);
    status = s_status();
    assert_true(s_worker_done(status, 1) >= 1);
    json_object_put(status);
}

static void
t_node_goes_away(void **state)
{
    s_broker_down();
    assert_int_equal(s_worker_says(0, "lost", 5000), 0);
    assert_int_equal(s_worker_says(1, "lost", 5000), 0);
    zclock_sleep(1000);
    for (int i = 0; i < 2; i++)
        assert_int_equal(child_signal(F.workers[i], 0), 0);    /* still running */
    s_broker_up();
    assert_int_equal(s_worker_says(0, "joined", 15000), 0);
    assert_int_equal(s_worker_says(1, "joined", 15000), 0);
    s_expect_backend(true, 4, 10000);
    s_send_job(60);
    int results[256];
    s_collect(60, 1, 10000, 0, results);
}

static void
t_key_files_owner_only(void **state)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/node/farm/node.key_secret", F.root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/w1/farm/worker.key_secret", F.root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/node/farm", F.root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* No secret key in the node's log. */
    char command[800];
    snprintf(command, sizeof command, "grep -h secret-key %s/node/farm/node.key_secret "
             "%s/w1/farm/worker.key_secret | cut -d'\"' -f2", F.root, F.root);
    FILE *out = popen(command, "r");
    char secret[128];
    while (out && fgets(secret, sizeof secret, out)) {
        secret[strcspn(secret, "\n")] = 0;
        assert_int_equal(strlen(secret), 40);
        assert_false(s_log_has(secret));
    }
    if (out)
        pclose(out);
    /* A secret file others may read is refused. */
    snprintf(path, sizeof path, "%s/w3/farm/worker.key_secret", F.root);
    chmod(path, 0644);
    char args[700];
    snprintf(args, sizeof args, "--config-dir %s/w3 worker keygen", F.root);
    char *line = s_run(args);
    assert_null(line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_workers_join),
        cmocka_unit_test(t_unknown_key_and_no_curve_refused),
        cmocka_unit_test(t_jobs_spread),
        cmocka_unit_test(t_worker_killed_mid_job),
        cmocka_unit_test(t_killed_worker_returns),
        cmocka_unit_test(t_worker_stopped_and_resumed),
        cmocka_unit_test(t_node_goes_away),
        cmocka_unit_test(t_key_files_owner_only),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
