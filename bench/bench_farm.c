/*  bench_farm.c: how the farm scales with workers, and what a remote worker adds per job.

    Part 1, scaling: the broker (actors/farm.c) in this process with a probe as job router,
    and W = 1, 2, 4 real `pylon worker` processes on loopback, each with its own backend stub
    (llama.cpp API, 2 slots, a fixed first-token delay). R rounds of 2W jobs are sent at once;
    the ideal throughput is 2W / delay. Printed: jobs/s, the ratio to the ideal, and the
    speed-up over one worker.
    Part 2, added latency: N sequential non-streamed jobs against a stub answering at once,
    (a) through the local inference actor (as a node without a farm runs it) and (b) through
    the broker and one worker over CURVE on loopback. Printed: p50 and p99 of each and their
    difference.

    Usage: bench_farm [rounds] [delay_ms] [N]      (defaults 10 200 300)
    Run from the repository root after `make` (it starts build/pylon, or $PYLON_BUILD/pylon,
    and node tests/stubs/backend_stub.mjs). Figures are measured, never asserted. */
#include "actors.h"
#include "child.h"
#include "farm.h"
#include "farm/link.h"
#include "inference.h"
#include "log.h"
#include "node.h"
#include "probe.h"
#include "../tests/stubs/stub_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKEND    "llamacpp:gpt_oss_20b"
#define MESSAGES   "[{\"role\":\"user\",\"content\":\"Say hello.\"}]"
#define MAX_WORKERS 4

typedef struct {
    char root[64];                  /* temporary directory */
    char pylon[512];                /* the worker binary */
    char listen[64];                /* the broker's endpoint */
    char node_key[FARM_KEY_TEXT];   /* the node's public key */
    config_t cfg;                   /* the node's configuration */
    int runs;                       /* node starts, for fresh inproc names */
} bench_t;

static bench_t B;

static int
s_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* A node of one actor (the broker, or the local inference actor) named "inference", with a
   probe as its job router. */
static node_t *
s_node(const actor_def_t *def, void *args, probe_t **router)
{
    char endpoint[64], inbox[64], prefix[16];
    B.runs++;
    snprintf(prefix, sizeof prefix, "bf%d-", B.runs);   /* inproc names are freed late */
    snprintf(endpoint, sizeof endpoint, "inproc://bf-job_router-%d", B.runs);
    snprintf(inbox, sizeof inbox, "inproc://bf-inference-%d", B.runs);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    actor_directory_add(&dir, "inference", inbox);
    *router = probe_new("job_router", endpoint);
    node_member_t members[] = {{def, args}};
    return node_start(members, 1, &dir, prefix, NULL);
}

static const char *
s_inbox(void)
{
    static char inbox[64];
    snprintf(inbox, sizeof inbox, "inproc://bf-inference-%d", B.runs);
    return inbox;
}

static void
s_send(probe_t *router, uint32_t n, bool stream)
{
    msg_t job = {.type = MSG_INFER_REQUEST,
                 .infer_request = {.backend = BACKEND, .messages = MESSAGES, .params = "",
                                   .stream = stream}};
    memcpy(job.infer_request.job, &n, sizeof n);
    probe_send(router, "inference", s_inbox(), &job);
}

/* Wait for count results; returns how many were ok. */
static int
s_wait_results(probe_t *router, int count, int timeout_ms)
{
    int ok = 0, got = 0;
    int64_t deadline = zclock_mono() + timeout_ms;
    while (got < count && zclock_mono() < deadline) {
        msg_t in = {0};
        if (probe_recv(router, &in, (int) (deadline - zclock_mono())))
            break;
        if (in.type == MSG_INFER_RESULT) {
            got++;
            ok += in.infer_result.ok;
        }
        msg_release(&in);
    }
    return ok;
}

/* Wait until the backend is reported available with slots slots. */
static int
s_wait_available(probe_t *router, uint64_t slots, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    while (zclock_mono() < deadline) {
        msg_t in = {0};
        if (probe_recv(router, &in, (int) (deadline - zclock_mono())))
            return -1;
        bool match = in.type == MSG_BACKEND_STATUS && in.backend_status.available
                     && in.backend_status.slots == slots;
        msg_release(&in);
        if (match)
            return 0;
    }
    return -1;
}

/* Start worker i (key pair made on first use, allowed in) on stub. */
static child_t *
s_worker(int i, const stub_t *stub)
{
    char dir[128], path[160], err[256], name[16];
    snprintf(dir, sizeof dir, "%s/w%d", B.root, i);
    snprintf(name, sizeof name, "w%d", i);
    bool created;
    zcert_t *cert = farm_keys_load(dir, "worker", true, &created, err, sizeof err);
    if (!cert || farm_allow_add(B.cfg.dir, name, zcert_public_txt(cert), err, sizeof err)) {
        fprintf(stderr, "bench_farm: %s\n", err);
        zcert_destroy(&cert);
        return NULL;
    }
    zcert_destroy(&cert);
    snprintf(path, sizeof path, "%s/config.toml", dir);
    FILE *toml = fopen(path, "w");
    if (!toml)
        return NULL;
    fprintf(toml, "[provider]\nlog_level = \"warn\"\n[backends]\nprobe_retry_ms = 200\n"
                  "[backends.llamacpp]\nurl = \"%s\"\nmodels = [\"gpt_oss_20b\"]\n"
                  "[farm]\nnode = \"%s\"\nnode_key = \"%s\"\n", stub->url, B.listen, B.node_key);
    fclose(toml);
    char *argv[] = {B.pylon, "--config-dir", dir, "worker", "--name", name, NULL};
    child_t *child = child_start(argv);
    if (child && child_wait_line(child, "pylon worker", NULL, 0, 10000) != 0)
        child_stop(&child);
    return child;
}

/* Part 1 for W workers: returns jobs/s. */
static double
s_scaling(int workers, int rounds, int delay_ms)
{
    stub_t stubs[MAX_WORKERS];
    child_t *children[MAX_WORKERS] = {0};
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_ms);
    const char *flags[] = {"--api", "llama", "--slots", "2", "--first-token-delay", delay, NULL};
    farm_args_t args = {&B.cfg, B.listen};
    probe_t *router;
    node_t *node = s_node(&farm_actor, &args, &router);
    double rate = 0;
    int started = 0;
    for (; started < workers; started++)
        if (stub_start(&stubs[started], flags)
            || !(children[started] = s_worker(started + 1, &stubs[started])))
            break;
    if (started == workers && s_wait_available(router, 2 * (uint64_t) workers, 15000) == 0) {
        uint32_t next = 1;
        /* Warm up: every worker's connection to its stub. */
        for (int i = 0; i < 2 * workers; i++)
            s_send(router, next++, true);
        s_wait_results(router, 2 * workers, 10000);
        int jobs = rounds * 2 * workers;
        double start = zclock_usecs() / 1e6;
        for (int i = 0; i < jobs; i++)
            s_send(router, next++, true);
        int ok = s_wait_results(router, jobs, 60000);
        double wall = zclock_usecs() / 1e6 - start;
        rate = ok / wall;
        double ideal = 2.0 * workers * 1000.0 / delay_ms;
        printf("  %d worker%s  %4d jobs  %6.2f s  %7.1f jobs/s   ideal %6.1f   ratio %.3f%s\n",
               workers, workers == 1 ? " " : "s", jobs, wall, rate, ideal, rate / ideal,
               ok == jobs ? "" : "   (some jobs failed)");
    }
    else
        printf("  %d workers: could not start them all\n", workers);
    for (int i = 0; i < started; i++) {
        child_stop(&children[i]);
        stub_stop(&stubs[i]);
    }
    node_stop(&node);
    probe_destroy(&router);
    return rate;
}

/* Part 2: N sequential jobs; fills lat (ms), returns 0 when all were ok. */
static int
s_latency(probe_t *router, int n, double *lat)
{
    for (int i = 0; i < n; i++) {
        double start = zclock_usecs() / 1e3;
        s_send(router, 100000 + (uint32_t) i, false);
        if (s_wait_results(router, 1, 5000) != 1)
            return -1;
        lat[i] = zclock_usecs() / 1e3 - start;
    }
    qsort(lat, (size_t) n, sizeof *lat, s_cmp);
    return 0;
}

int
main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    int delay_ms = argc > 2 ? atoi(argv[2]) : 200;
    int n = argc > 3 ? atoi(argv[3]) : 300;
    if (rounds < 1 || delay_ms < 1 || n < 10) {
        fprintf(stderr, "usage: bench_farm [rounds] [delay_ms] [N]\n");
        return 2;
    }
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("   (rounds=%d delay=%d ms N=%d)\n", rounds, delay_ms, n);
    const char *build = getenv("PYLON_BUILD") ? getenv("PYLON_BUILD") : "build";
    snprintf(B.pylon, sizeof B.pylon, "%s/pylon", build);
    snprintf(B.root, sizeof B.root, "/tmp/pylon-bench-farm-XXXXXX");
    if (access(B.pylon, X_OK) != 0 || !mkdtemp(B.root)) {
        fprintf(stderr, "bench_farm: %s is not built (make first)\n", B.pylon);
        return 1;
    }
    log_set_level(LOG_LEVEL_WARN);
    unsetenv("PYLON_LLAMA_SERVER_URL");
    config_defaults(&B.cfg);
    B.cfg.dir = malloc(128);
    snprintf(B.cfg.dir, 128, "%s/node", B.root);
    B.cfg.queue_per_backend = 10000;
    snprintf(B.listen, sizeof B.listen, "tcp://127.0.0.1:%d", stub_closed_port());
    char err[256];
    bool created;
    zcert_t *cert = farm_keys_load(B.cfg.dir, "node", true, &created, err, sizeof err);
    if (!cert) {
        fprintf(stderr, "bench_farm: %s\n", err);
        return 1;
    }
    snprintf(B.node_key, sizeof B.node_key, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);

    printf("\nPart 1: %d rounds of 2 jobs per worker sent at once; each worker: its own stub, "
           "2 slots, first token after %d ms\n", rounds, delay_ms);
    double one = s_scaling(1, rounds, delay_ms);
    double two = s_scaling(2, rounds, delay_ms);
    double four = s_scaling(4, rounds, delay_ms);
    if (one > 0)
        printf("  speed-up over 1 worker: 2 workers %.2fx (ideal 2), 4 workers %.2fx (ideal 4)\n",
               two / one, four / one);

    printf("\nPart 2: %d sequential non-streamed jobs, stub answering at once\n", n);
    double *local = calloc((size_t) n, sizeof *local), *remote = calloc((size_t) n, sizeof *remote);
    stub_t stub;
    const char *flags[] = {"--api", "llama", "--slots", "2", NULL};
    int rc = 1;
    if (stub_start(&stub, flags) == 0) {
        config_t cfg;
        config_defaults(&cfg);
        char toml[256];
        snprintf(toml, sizeof toml, "[backends.llamacpp]\nurl = \"%s\"\nmodels = [\"gpt_oss_20b\"]\n", stub.url);
        config_apply_text(&cfg, "bench", toml, strlen(toml), err, sizeof err);
        inference_args_t iargs = {&cfg};
        probe_t *router;
        node_t *node = s_node(&inference_actor, &iargs, &router);
        bool local_ok = s_wait_available(router, 2, 10000) == 0 && s_latency(router, 20, local) == 0
                        && s_latency(router, n, local) == 0;
        node_stop(&node);
        probe_destroy(&router);
        config_free(&cfg);

        farm_args_t args = {&B.cfg, B.listen};
        node = s_node(&farm_actor, &args, &router);
        child_t *worker = s_worker(1, &stub);
        bool remote_ok = worker && s_wait_available(router, 2, 15000) == 0
                         && s_latency(router, 20, remote) == 0 && s_latency(router, n, remote) == 0;
        child_stop(&worker);
        node_stop(&node);
        probe_destroy(&router);
        stub_stop(&stub);
        if (local_ok && remote_ok) {
            printf("  local inference actor        p50 %7.3f ms   p99 %7.3f ms\n", local[n / 2], local[n * 99 / 100]);
            printf("  farm: broker + 1 worker      p50 %7.3f ms   p99 %7.3f ms\n", remote[n / 2], remote[n * 99 / 100]);
            printf("  added by the remote worker   p50 %+7.3f ms  p99 %+7.3f ms  (CURVE over tcp "
                   "loopback, two more actor hops)\n", remote[n / 2] - local[n / 2],
                   remote[n * 99 / 100] - local[n * 99 / 100]);
            rc = 0;
        }
        else
            printf("  latency runs failed (local %s, remote %s)\n", local_ok ? "ok" : "failed",
                   remote_ok ? "ok" : "failed");
    }
    free(local);
    free(remote);
    config_free(&B.cfg);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", B.root);
    if (system(command) != 0)
        fprintf(stderr, "bench_farm: could not remove %s\n", B.root);
    return rc;
}
