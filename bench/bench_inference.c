/*  bench_inference.c: cost of the inference HTTP path, and scaling with server slots.

    Part 1, overhead: N sequential non-streamed chat requests against the backend stub
    (llama.cpp API, answering at once), timed per request, through
      (a) http_client + the llama.cpp adapter (build, send, parse into a result),
    (d) http_client alone with the same body (no adapter),
      (b) plain libcurl easy (one reused handle, body bytes only, no parsing),
      (c) plain libcurl multi (one reused handle driven by curl_multi_poll),
    in the same run against the same stub, with requests/second, p50, p99 and the ratios.
    Part 2, scaling: a stub with S slots (llama.cpp queueing) and a fixed latency per request;
    C requests kept in flight through http_client + adapter for C = 1, 2, 4, ... 4S.
    Throughput should grow with C up to S and stay flat past it.

    Usage: bench_inference [N] [latency_ms] [slots]     (defaults 2000 100 4)
    Run from the repository root (it starts node tests/stubs/backend_stub.mjs).
*/
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "inference/backend.h"
#include "../tests/stubs/stub_proc.h"

#define MESSAGES "[{\"role\":\"user\",\"content\":\"Say hello.\"}]"
//  What the llama.cpp adapter sends for MESSAGES with max_tokens 8, for the plain clients
static const char s_body [] = "{\"model\":\"gpt-oss-20b\",\"messages\":" MESSAGES ",\"max_tokens\":8,\"stream\":false}";

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

//  Sort latencies and report; returns requests/second.
static double
s_report (const char *name, double *lat, int n, double wall, int errors)
{
    qsort (lat, (size_t) n, sizeof *lat, s_cmp);
    double rps = n / wall;
    printf ("  %-34s %8.0f req/s   p50 %7.3f ms   p99 %7.3f ms   errors %d\n", name, rps,
            lat [n / 2] * 1e3, lat [(int) (n * 0.99)] * 1e3, errors);
    return rps;
}

//  --------------------------------------------------------------------------
//  (a) http_client + adapter

typedef struct {
    int done;               //  completions
    int errors;             //  failed completions
    int64_t tokens;         //  completion tokens reported (proves parsing happened)
    double *lat;            //  latency per request, indexed by request number
    double *start;          //  start time per request
    int next;               //  next request number to start
    int total;              //  requests to run
    http_client_t *client;  //  the client
    backend_t backend;      //  the stub as a llama.cpp backend
} s_run_t;

typedef struct {
    s_run_t *run;           //  the run this request belongs to
    int index;              //  request number
} s_req_t;

static void s_start (s_run_t *run);

static void
s_on_done (void *arg, const backend_result_t *result, const backend_error_t *error)
{
    s_req_t *req = (s_req_t *) arg;
    s_run_t *run = req->run;
    run->lat [req->index] = s_now () - run->start [req->index];
    run->done++;
    if (error->code != BACKEND_OK)
        run->errors++;
    run->tokens += result->completion_tokens;
    free (req);
    if (run->next < run->total)
        s_start (run);
}

static void
s_start (s_run_t *run)
{
    backend_chat_t chat;
    backend_chat_init (&chat);
    chat.messages = MESSAGES;
    chat.max_tokens = 8;
    s_req_t *req = malloc (sizeof *req);
    req->run = run;
    req->index = run->next++;
    run->start [req->index] = s_now ();
    backend_error_t err;
    if (!backend_call_start (run->client, &run->backend, &chat, NULL, NULL, s_on_done, req, &err)) {
        fprintf (stderr, "start failed: %s\n", err.message);
        exit (1);
    }
}

//  Run `total` requests keeping `concurrency` in flight. Returns wall seconds.
static double
s_pylon_run (const char *url, int total, int concurrency, double *lat, int *errors)
{
    s_run_t run = { .lat = lat, .total = total };
    run.start = calloc ((size_t) total, sizeof *run.start);
    run.client = http_client_new ();
    backend_config_t config = { .llama_url = url };
    backend_error_t err;
    backend_resolve ("llamacpp:gpt_oss_20b", &config, &run.backend, &err);
    double t0 = s_now ();
    for (int i = 0; i < concurrency && i < total; i++)
        s_start (&run);
    while (run.done < total)
        http_client_run (run.client, 1000);
    double wall = s_now () - t0;
    http_client_destroy (&run.client);
    free (run.start);
    *errors = run.errors;
    if (run.tokens == 0)
        *errors = total;    //  nothing parsed: count as failure
    return wall;
}

//  --------------------------------------------------------------------------
//  (b), (c) plain libcurl

static size_t
s_discard (char *data, size_t size, size_t nmemb, void *userp)
{
    *(size_t *) userp += size * nmemb;
    return size * nmemb;
}

static CURL *
s_plain_handle (const char *url, struct curl_slist *headers, size_t *received)
{
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_POSTFIELDS, s_body);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, received);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    return easy;
}

//  (d) http_client alone, no adapter: where the time goes between client and parsing
typedef struct {
    http_client_t *client;  //  the client
    const char *url;        //  chat URL
    double *lat;            //  latencies
    double start;           //  start of the request in flight
    int next;               //  requests started
    int total;              //  requests to run
    int errors;             //  failures
} s_raw_t;

static void s_raw_start (s_raw_t *raw);

static void
s_raw_done (void *arg, const http_result_t *result)
{
    s_raw_t *raw = (s_raw_t *) arg;
    raw->lat [raw->next - 1] = s_now () - raw->start;
    if (result->error != HTTP_OK || result->status != 200)
        raw->errors++;
    if (raw->next < raw->total)
        s_raw_start (raw);
}

static void
s_raw_start (s_raw_t *raw)
{
    http_request_t r = { .method = "POST", .url = raw->url, .body = s_body, .body_len = sizeof s_body - 1,
                         .on_done = s_raw_done, .arg = raw };
    raw->next++;
    raw->start = s_now ();
    if (!http_client_start (raw->client, &r))
        exit (1);
}

static double
s_raw_run (const char *url, int total, double *lat, int *errors)
{
    s_raw_t raw = { .client = http_client_new (), .url = url, .lat = lat, .total = total };
    double t0 = s_now ();
    s_raw_start (&raw);
    while (http_client_active (raw.client) > 0)
        http_client_run (raw.client, 1000);
    double wall = s_now () - t0;
    http_client_destroy (&raw.client);
    *errors = raw.errors;
    return wall;
}

static double
s_easy_run (const char *url, int total, double *lat, int *errors)
{
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, "Expect:");
    size_t received = 0;
    CURL *easy = s_plain_handle (url, headers, &received);
    *errors = 0;
    double t0 = s_now ();
    for (int i = 0; i < total; i++) {
        double start = s_now ();
        long status = 0;
        if (curl_easy_perform (easy) != CURLE_OK)
            (*errors)++;
        curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200)
            (*errors)++;
        lat [i] = s_now () - start;
    }
    double wall = s_now () - t0;
    curl_easy_cleanup (easy);
    curl_slist_free_all (headers);
    return wall;
}

static double
s_multi_run (const char *url, int total, double *lat, int *errors)
{
    struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
    headers = curl_slist_append (headers, "Expect:");
    size_t received = 0;
    CURL *easy = s_plain_handle (url, headers, &received);
    CURLM *multi = curl_multi_init ();
    *errors = 0;
    double t0 = s_now ();
    for (int i = 0; i < total; i++) {
        double start = s_now ();
        curl_multi_add_handle (multi, easy);
        int running = 1;
        while (running) {
            curl_multi_perform (multi, &running);
            if (running)
                curl_multi_poll (multi, NULL, 0, 1000, NULL);
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read (multi, &left)))
            if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
                (*errors)++;
        curl_multi_remove_handle (multi, easy);
        lat [i] = s_now () - start;
    }
    double wall = s_now () - t0;
    curl_multi_cleanup (multi);
    curl_easy_cleanup (easy);
    curl_slist_free_all (headers);
    return wall;
}

int
main (int argc, char **argv)
{
    int total = argc > 1 ? atoi (argv [1]) : 2000;
    int latency = argc > 2 ? atoi (argv [2]) : 100;
    int slots = argc > 3 ? atoi (argv [3]) : 4;
    printf ("command:");
    for (int i = 0; i < argc; i++)
        printf (" %s", argv [i]);
    printf ("   (N=%d latency=%d ms slots=%d)\n", total, latency, slots);
    curl_global_init (CURL_GLOBAL_DEFAULT);

    const char *flags [] = { "--api", "llama", "--slots", "64", NULL };
    stub_t stub;
    if (stub_start (&stub, flags)) {
        fprintf (stderr, "cannot start the stub (run from the repository root)\n");
        return 1;
    }
    char chat_url [128];
    snprintf (chat_url, sizeof chat_url, "%s/v1/chat/completions", stub.url);
    double *lat = calloc ((size_t) total, sizeof *lat);
    int errors;

    printf ("\nPart 1: %d sequential non-streamed chat requests, stub answering at once\n", total);
    //  Warm up the stub (node's JIT) with every client before timing anything
    s_easy_run (chat_url, total / 4 + 1, lat, &errors);
    s_pylon_run (stub.url, total / 4 + 1, 1, lat, &errors);
    s_raw_run (chat_url, total / 4 + 1, lat, &errors);
    double wall = s_pylon_run (stub.url, total, 1, lat, &errors);
    double pylon = s_report ("http_client + llama.cpp adapter", lat, total, wall, errors);
    wall = s_raw_run (chat_url, total, lat, &errors);
    s_report ("http_client alone (no parsing)", lat, total, wall, errors);
    wall = s_easy_run (chat_url, total, lat, &errors);
    double easy = s_report ("plain libcurl easy (no parsing)", lat, total, wall, errors);
    wall = s_multi_run (chat_url, total, lat, &errors);
    double multi = s_report ("plain libcurl multi (no parsing)", lat, total, wall, errors);
    printf ("  ratio pylon/easy %.2f   pylon/multi %.2f\n", pylon / easy, pylon / multi);
    stub_stop (&stub);

    char slots_arg [16], latency_arg [16];
    snprintf (slots_arg, sizeof slots_arg, "%d", slots);
    snprintf (latency_arg, sizeof latency_arg, "%d", latency);
    const char *slow_flags [] = { "--api", "llama", "--slots", slots_arg, "--first-token-delay", latency_arg, NULL };
    if (stub_start (&stub, slow_flags)) {
        fprintf (stderr, "cannot start the stub\n");
        return 1;
    }
    printf ("\nPart 2: stub with %d slots and %d ms per request (llama.cpp queueing)\n", slots, latency);
    for (int concurrency = 1; concurrency <= 4 * slots; concurrency *= 2) {
        int n = concurrency * 8 > 16 ? concurrency * 8 : 16;
        double *clat = calloc ((size_t) n, sizeof *clat);
        wall = s_pylon_run (stub.url, n, concurrency, clat, &errors);
        char name [64];
        snprintf (name, sizeof name, "%2d in flight (%d requests)", concurrency, n);
        double rps = s_report (name, clat, n, wall, errors);
        printf ("  %-34s ideal %.1f req/s\n", "", (concurrency < slots ? concurrency : slots) * 1000.0 / latency);
        (void) rps;
        free (clat);
    }
    stub_stop (&stub);
    free (lat);
    curl_global_cleanup ();
    return 0;
}
