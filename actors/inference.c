/*  inference.c: the inference actor. It runs chat completions on the configured backends
    (llama.cpp, the Apple FM bridge, Ollama, OpenAI-compatible servers) for the job router,
    over one non-blocking HTTP client (runtime/http.h) driven from the actor's poll loop, with
    the adapters and drivers of actors/inference/backend.h.

    Backends served: llamacpp:<model> for each [backends.llamacpp] models entry, apple_fm,
    ollama:<model>, openai:<model>, of the enabled tables only. For each the actor keeps:
      - availability: a health probe at start, then every [backends] probe_interval_ms while
        ready and every probe_retry_ms while down or loading, and at once after a job failed
        with a retryable error (connection, timeout, loading, busy, unavailable). The first
        verdict and every change (available, state, slots) go to "job_router" as
        BACKEND_STATUS {backend, available, slots, detail};
      - capacity: a slot limiter (inference/slots.h). Never more requests in flight than the
        server has slots (llama.cpp: /props total_slots, 1 until the first probe says; the
        others: [backends.*] slots); the rest wait in a FIFO of [limits] queue_per_backend
        jobs. A job that cannot even queue is answered at once with error_code "busy".

    A job:
        INFER_REQUEST {job, backend, messages, params, stream}
          ─► refused at once (INFER_RESULT ok=false): unknown backend ("config_error"),
             bad messages or params ("bad_request", with the check's reason), queue full
             ("busy")
          ─► queued ─► running ─► INFER_PARTIAL {job, seq, text}* (stream only; deltas are
             coalesced and sent every FLUSH_MS or FLUSH_BYTES, whichever comes first; seq
             counts from 0) ─► INFER_RESULT {job, ok, content, finish_reason, tokens, model,
             error_code, error}
    error_code is backend_code_name() of the failure ("model_loading", "context_too_long",
    ...) and error the adapter's message with the server's numbers. Answers go to the actor
    that sent the INFER_REQUEST, not to a fixed name.

    INFER_CANCEL {job} stops a queued or running job (a running one's HTTP request is
    cancelled, which closes its connection). A cancelled job gets no INFER_RESULT: the sender
    asked for the cancel and has stopped waiting. An unknown job id is ignored (it finished
    first; its result is already on the way).

    Text sent on (partials, content) is made valid UTF-8 without NUL bytes, as the message
    catalogue requires: anything else becomes U+FFFD. A content longer than INFER_RESULT's
    1 MiB field is a "response_too_large" failure. */
#include "inference.h"
#include "actors.h"
#include "inference/backend.h"
#include "inference/slots.h"
#include "http.h"
#include "log.h"
#include "utf8.h"

#include <assert.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_MS          100       /* longest a streamed piece waits before it is sent */
#define FLUSH_BYTES       256       /* ... or as soon as this much text waits */
#define PARTIAL_MAX       65536     /* INFER_PARTIAL text limit (schemas/messages.def) */
#define CONTENT_MAX       1048576   /* INFER_RESULT content limit (schemas/messages.def) */
#define PROBE_TICK_MS     100       /* how often the actor looks for probes that are due */
#define PROBE_CONNECT_MS  2000      /* a health probe's connect timeout */
#define PROBE_TOTAL_MS    5000      /* a health probe's whole-request timeout (each step) */
#define MIN_PROBE_MS      100       /* probe intervals below this are raised to it */
#define DETAIL_MAX        512       /* BACKEND_STATUS detail limit (schemas/messages.def) */

typedef struct inference inference_t;

/* One backend this actor serves. */
typedef struct {
    inference_t *owner;             /* the actor's state, for callbacks */
    backend_t backend;              /* resolved: kind, URL, model, API key */
    bool resolved;                  /* backend_resolve accepted the identifier */
    slots_t *slots;                 /* admission control: running and waiting jobs */
    backend_state_t state;          /* the last probe's verdict */
    char detail[DETAIL_MAX];        /* that verdict in words (or why it is not resolved) */
    bool probing;                   /* a health probe is in flight */
    uint64_t probe_id;              /* its first HTTP request, to cancel it on stop */
    int64_t next_probe_ms;          /* when the next probe is due (actor_now_ms) */
    bool reported;                  /* BACKEND_STATUS was sent at least once */
    bool reported_available;        /* ... and said this */
    uint64_t reported_slots;        /* ... and this */
    backend_state_t reported_state; /* ... for this state */
    uint64_t done;                  /* jobs completed successfully */
    uint64_t errors;                /* jobs answered with ok=false (busy and bad ones too) */
    uint64_t cancelled;             /* jobs cancelled */
    char last_error[DETAIL_MAX];    /* the latest job failure, "" before any */
} served_t;

/* One job, from INFER_REQUEST to its result (or its cancellation). */
typedef struct {
    inference_t *owner;             /* the actor's state, for callbacks */
    served_t *served;               /* the backend it runs on */
    uint8_t id[32];                 /* the job id (the request event's id) */
    char hex[65];                   /* the same in hex, the key in inference_t.jobs */
    uint64_t key;                   /* its id in the slot limiter, > 0 */
    char reply_to[MSG_NAME_MAX + 1];/* the actor that asked: partials and result go there */
    bool stream;                    /* send INFER_PARTIAL while it runs */
    backend_chat_t chat;            /* the request; its strings point at the fields below */
    char *messages;                 /* the messages JSON text (owned) */
    char *stops[BACKEND_MAX_STOP];  /* stop sequences (owned), NULL-padded */
    uint64_t call;                  /* the HTTP request while running, 0 while queued */
    bool cancelled;                 /* INFER_CANCEL arrived while running: no result */
    char *pending;                  /* streamed text not sent yet (owned) */
    size_t pending_len;             /* bytes in pending */
    size_t pending_cap;             /* bytes allocated for pending */
    uint64_t seq;                   /* INFER_PARTIAL messages sent */
} job_t;

struct inference {
    actor_ctx_t *ctx;               /* the runtime side of this actor */
    const config_t *cfg;            /* borrowed, read-only */
    http_client_t *client;          /* every backend request goes through this one */
    int http_timer;                 /* fires http_client_on_timeout; 0 when none */
    int flush_timer;                /* sends coalesced partials; 0 when none */
    int probe_timer;                /* periodic: starts the probes that are due */
    served_t *served;               /* the backends (owned array) */
    size_t served_count;            /* entries in served */
    zhashx_t *jobs;                 /* job hex -> job_t (owned), queued or running */
    uint64_t next_key;              /* the last slot-limiter id given out */
    int64_t probe_interval_ms;      /* probe period of a ready backend */
    int64_t probe_retry_ms;         /* probe period of a backend that is not ready */
    bool stopping;                  /* destroy is cancelling: completions send nothing */
};

static void s_on_http_fd(void *state, int fd, short revents);
static void s_on_http_timer(void *state, int timer_id);
static void s_probe_start(served_t *served);
static void s_run(served_t *served, uint64_t key);

/* ---- the HTTP client in the actor's poll loop ------------------------------------------- */

/* The client wants fd watched for events (poll() bits), or no longer when events is 0.
   ZeroMQ's poller has its own bit values: convert. */
static void
s_on_http_watch(void *arg, int fd, int events)
{
    inference_t *self = arg;
    if (events == 0) {
        actor_unwatch_fd(self->ctx, fd);
        return;
    }
    short zevents = (short) ((events & HTTP_POLL_IN ? ZMQ_POLLIN : 0)
                             | (events & HTTP_POLL_OUT ? ZMQ_POLLOUT : 0));
    if (actor_watch_fd(self->ctx, fd, zevents, s_on_http_fd))
        log_error("cannot watch socket %d: too many open connections", fd);
}

/* Re-arm the one timer that calls http_client_on_timeout, after anything that may have
   changed what the client waits for. */
static void
s_http_rearm(inference_t *self)
{
    if (self->http_timer)
        actor_timer_cancel(self->ctx, self->http_timer);
    self->http_timer = 0;
    long wait_ms = http_client_timeout(self->client);
    if (wait_ms >= 0)
        self->http_timer = actor_timer_add(self->ctx, wait_ms, 0, s_on_http_timer);
}

static void
s_on_http_fd(void *state, int fd, short revents)
{
    inference_t *self = state;
    int events = (revents & ZMQ_POLLIN ? POLLIN : 0) | (revents & ZMQ_POLLOUT ? POLLOUT : 0)
               | (revents & ZMQ_POLLERR ? POLLERR : 0);
    http_client_on_socket(self->client, fd, events);
    s_http_rearm(self);
}

static void
s_on_http_timer(void *state, int timer_id)
{
    inference_t *self = state;
    self->http_timer = 0;       /* a one-shot timer is gone once it fired */
    http_client_on_timeout(self->client);
    s_http_rearm(self);
}

/* ---- text for the message catalogue ------------------------------------------------------ */

/* A copy of len bytes of text as valid UTF-8 without NUL bytes: each NUL or invalid byte
   becomes U+FFFD. Fresh, NUL-terminated; its length in *out_len. */
static char *
s_clean_text(const char *text, size_t len, size_t *out_len)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    char *out = malloc(len * 3 + 1);     /* at worst every byte is replaced */
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char lead = (unsigned char) text[i];
        size_t size = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
        if (lead != 0 && size && i + size <= len && utf8_valid(text + i, size)) {
            memcpy(out + n, text + i, size);
            n += size;
            i += size;
        }
        else {
            memcpy(out + n, replacement, 3);
            n += 3;
            i++;
        }
    }
    out[n] = 0;
    *out_len = n;
    return out;
}

/* The longest prefix of UTF-8 text that is at most max bytes and ends on a codepoint. */
static size_t
s_utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char) text[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

/* Text into out (size bytes with the NUL) as s_clean_text makes it, cut on a codepoint:
   what a server wrote (a model name, an error message) may be cut mid-character or not be
   UTF-8 at all, and a message with such a field cannot be sent. out may be text. */
static const char *
s_clean_into(char *out, size_t size, const char *text)
{
    size_t len;
    char *clean = s_clean_text(text, strlen(text), &len);
    size_t n = s_utf8_cut(clean, len, size - 1);
    memcpy(out, clean, n);
    out[n] = 0;
    free(clean);
    return out;
}

/* ---- backend status ----------------------------------------------------------------------- */

static bool
s_available(const served_t *served)
{
    return served->resolved && served->state == BACKEND_STATE_READY;
}

/* Tell the job router about this backend if it has not heard of it yet or anything it was
   told has changed. */
static void
s_report(served_t *served)
{
    bool available = s_available(served);
    uint64_t slots = slots_limit(served->slots);
    s_clean_into(served->detail, sizeof served->detail, served->detail);
    if (served->reported && served->reported_available == available
        && served->reported_slots == slots && served->reported_state == served->state)
        return;
    served->reported = true;
    served->reported_available = available;
    served->reported_slots = slots;
    served->reported_state = served->state;
    log_info("backend %s is %savailable: %s", served->backend.id, available ? "" : "not ",
             served->detail);
    msg_t status = {.type = MSG_BACKEND_STATUS,
                    .backend_status = {.backend = served->backend.id, .available = available,
                                       .slots = slots, .detail = served->detail}};
    actor_send(served->owner->ctx, "job_router", &status);
}

/* Start every job that a larger slot limit (or a finished job) now admits. */
static void
s_admit(served_t *served)
{
    uint64_t key;
    while ((key = slots_next(served->slots)))
        s_run(served, key);
}

static void
s_on_health(void *arg, const backend_health_t *health)
{
    served_t *served = arg;
    inference_t *self = served->owner;
    served->probing = false;
    served->probe_id = 0;
    if (self->stopping)
        return;
    served->state = health->state;
    if (health->fm_wire)
        served->backend.fm_wire = health->fm_wire;
    bool ready = health->state == BACKEND_STATE_READY;
    if (ready && served->backend.kind == BACKEND_LLAMACPP && health->total_slots > 0)
        slots_set_limit(served->slots, (size_t) health->total_slots);
    if (ready)
        snprintf(served->detail, sizeof served->detail, "ready: model %s, %zu slot%s",
                 *health->model ? health->model : served->backend.model,
                 slots_limit(served->slots), slots_limit(served->slots) == 1 ? "" : "s");
    else
        snprintf(served->detail, sizeof served->detail, "%s%s%.480s",
                 backend_state_name(health->state), *health->error.message ? ": " : "",
                 health->error.message);
    served->next_probe_ms = actor_now_ms() + (ready ? self->probe_interval_ms
                                                    : self->probe_retry_ms);
    s_report(served);
    if (ready)
        s_admit(served);
}

static void
s_probe_start(served_t *served)
{
    inference_t *self = served->owner;
    if (served->probing || !served->resolved || self->stopping)
        return;
    backend_limits_t limits = {.connect_ms = PROBE_CONNECT_MS, .total_ms = PROBE_TOTAL_MS};
    served->probing = true;
    served->probe_id = backend_probe_start(self->client, &served->backend, &limits, s_on_health,
                                           served);
    if (served->probe_id == 0) {
        served->probing = false;
        served->state = BACKEND_STATE_DOWN;
        snprintf(served->detail, sizeof served->detail, "down: the probe could not start: %s",
                 http_client_last_error(self->client));
        served->next_probe_ms = actor_now_ms() + self->probe_retry_ms;
        s_report(served);
    }
}

static void
s_on_probe_tick(void *state, int timer_id)
{
    inference_t *self = state;
    int64_t now = actor_now_ms();
    for (size_t i = 0; i < self->served_count; i++)
        if (now >= self->served[i].next_probe_ms)
            s_probe_start(&self->served[i]);
    s_http_rearm(self);
}

/* ---- jobs --------------------------------------------------------------------------------- */

static void
s_job_destroy(void **item)
{
    job_t *job = *item;
    free(job->messages);
    for (int i = 0; i < BACKEND_MAX_STOP; i++)
        free(job->stops[i]);
    free(job->pending);
    free(job);
    *item = NULL;
}

/* The job holding slot-limiter id key (a scan: there are at most slots + queue per backend). */
static job_t *
s_job_by_key(inference_t *self, uint64_t key)
{
    for (job_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        if (job->key == key)
            return job;
    return NULL;
}

/* Send a job's INFER_RESULT as a failure. */
static void
s_send_failure(inference_t *self, const char *to, const uint8_t *job_id, const char *code,
               const char *error)
{
    char text[1025];            /* INFER_RESULT's error limit (schemas/messages.def) */
    msg_t result = {.type = MSG_INFER_RESULT,
                    .infer_result = {.ok = false, .content = "", .finish_reason = "", .model = "",
                                     .error_code = code,
                                     .error = s_clean_into(text, sizeof text, error)}};
    memcpy(result.infer_result.job, job_id, 32);
    actor_send(self->ctx, to, &result);
}

/* Count a failure against a backend and answer the job with it. */
static void
s_fail(served_t *served, const char *to, const uint8_t *job_id, const char *code,
       const char *error)
{
    served->errors++;
    snprintf(served->last_error, sizeof served->last_error, "%.32s: %.470s", code, error);
    s_clean_into(served->last_error, sizeof served->last_error, served->last_error);
    s_send_failure(served->owner, to, job_id, code, error);
}

/* Send the streamed text that waits, in INFER_PARTIAL messages of at most PARTIAL_MAX. */
static void
s_flush(job_t *job)
{
    if (job->pending_len == 0)
        return;
    size_t len;
    char *text = s_clean_text(job->pending, job->pending_len, &len);
    job->pending_len = 0;
    for (size_t at = 0; at < len;) {
        size_t n = s_utf8_cut(text + at, len - at, PARTIAL_MAX);
        char saved = text[at + n];
        text[at + n] = 0;
        msg_t partial = {.type = MSG_INFER_PARTIAL,
                         .infer_partial = {.seq = job->seq++, .text = text + at}};
        memcpy(partial.infer_partial.job, job->id, 32);
        actor_send(job->owner->ctx, job->reply_to, &partial);
        text[at + n] = saved;
        at += n;
    }
    free(text);
}

static void
s_on_flush_timer(void *state, int timer_id)
{
    inference_t *self = state;
    self->flush_timer = 0;
    for (job_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        s_flush(job);
}

static void
s_on_delta(void *arg, const char *text, size_t len)
{
    job_t *job = arg;
    inference_t *self = job->owner;
    if (job->cancelled || !job->stream || len == 0)
        return;
    if (job->pending_len + len + 1 > job->pending_cap) {
        size_t cap = job->pending_cap ? job->pending_cap : 1024;
        while (cap < job->pending_len + len + 1)
            cap *= 2;
        job->pending = realloc(job->pending, cap);
        job->pending_cap = cap;
    }
    memcpy(job->pending + job->pending_len, text, len);
    job->pending_len += len;
    if (job->pending_len >= FLUSH_BYTES)
        s_flush(job);
    else if (!self->flush_timer)
        self->flush_timer = actor_timer_add(self->ctx, FLUSH_MS, 0, s_on_flush_timer);
}

/* The call ended: answer the job (unless cancelled), free it, pass its slot on. */
static void
s_on_done(void *arg, const backend_result_t *result, const backend_error_t *error)
{
    job_t *job = arg;
    served_t *served = job->served;
    inference_t *self = job->owner;
    job->call = 0;
    if (self->stopping) {
        zhashx_delete(self->jobs, job->hex);
        return;
    }
    if (job->cancelled)
        served->cancelled++;
    else {
        s_flush(job);
        /* Cleaning never shrinks text: one over the limit before is over it after. */
        size_t len = result->content_len;
        char *content = error->code == BACKEND_OK && len <= CONTENT_MAX
                      ? s_clean_text(result->content ? result->content : "", len, &len)
                      : NULL;
        if (error->code != BACKEND_OK) {
            s_fail(served, job->reply_to, job->id, backend_code_name(error->code), error->message);
            if (backend_code_retryable(error->code))
                s_probe_start(served);      /* is the server still there? */
        }
        else if (len > CONTENT_MAX) {
            char why[128];
            snprintf(why, sizeof why, "the answer of %zu bytes is over the %d bytes a result holds",
                     len, CONTENT_MAX);
            s_fail(served, job->reply_to, job->id, backend_code_name(BACKEND_ERR_TOO_LARGE), why);
        }
        else {
            served->done++;
            char model[257];    /* INFER_RESULT's model limit (schemas/messages.def) */
            msg_t reply = {.type = MSG_INFER_RESULT,
                           .infer_result = {.ok = true, .content = content,
                                            .finish_reason = backend_finish_name(result->finish),
                                            .prompt_tokens = (uint64_t) (result->prompt_tokens > 0 ? result->prompt_tokens : 0),
                                            .completion_tokens = (uint64_t) (result->completion_tokens > 0 ? result->completion_tokens : 0),
                                            .model = s_clean_into(model, sizeof model, result->model),
                                            .error_code = "",
                                            .error = ""}};
            memcpy(reply.infer_result.job, job->id, 32);
            actor_send(self->ctx, job->reply_to, &reply);
        }
        free(content);
    }
    zhashx_delete(self->jobs, job->hex);
    s_run(served, slots_release(served->slots));
}

/* Start the job that holds slot `key`. A job that cannot start is answered with why, and its
   slot goes to the next one waiting, until one starts or none waits. */
static void
s_run(served_t *served, uint64_t key)
{
    inference_t *self = served->owner;
    while (key) {
        job_t *job = s_job_by_key(self, key);
        assert(job);
        backend_error_t err;
        job->call = backend_call_start(self->client, &served->backend, &job->chat, NULL,
                                       s_on_delta, s_on_done, job, &err);
        if (job->call)
            return;
        s_fail(served, job->reply_to, job->id, backend_code_name(err.code), err.message);
        zhashx_delete(self->jobs, job->hex);
        key = slots_release(served->slots);
    }
}

/* A number in the params object: -1 bad type, 0 absent, 1 found. */
static int
s_param_number(json_object *params, const char *key, bool integer, double *value)
{
    json_object *item;
    if (!json_object_object_get_ex(params, key, &item))
        return 0;
    bool is_int = json_object_is_type(item, json_type_int);
    if (!is_int && !json_object_is_type(item, json_type_double))
        return -1;
    *value = json_object_get_double(item);
    if (integer && !is_int && *value != floor(*value))
        return -1;
    return 1;
}

/* Fill job->chat from the params JSON object (temperature, top_p, top_k, frequency_penalty,
   max_tokens, seed, stop; other keys are not ours and are ignored). The values' ranges are
   backend_chat_check's business. 0, or -1 with err. */
static int
s_params(job_t *job, const char *text, backend_error_t *err)
{
    if (!*text)
        return 0;
    json_object *params = backend_json_parse(text, strlen(text), err);
    if (!params) {
        backend_error_set(err, BACKEND_ERR_BAD_REQUEST, 0, "params is not a JSON object");
        return -1;
    }
    static const struct { const char *key; bool integer; } numbers[] = {
        {"temperature", false}, {"top_p", false}, {"frequency_penalty", false},
        {"top_k", true}, {"max_tokens", true}, {"seed", true},
    };
    double value[6];
    int rc = 0;
    for (size_t i = 0; i < 6 && rc == 0; i++) {
        value[i] = NAN;
        if (s_param_number(params, numbers[i].key, numbers[i].integer, &value[i]) < 0) {
            backend_error_set(err, BACKEND_ERR_BAD_REQUEST, 0, "params: %s must be %s",
                              numbers[i].key, numbers[i].integer ? "a whole number" : "a number");
            rc = -1;
        }
    }
    if (rc == 0) {
        job->chat.temperature = value[0];
        job->chat.top_p = value[1];
        job->chat.frequency_penalty = value[2];
        /* A value out of range becomes one the check refuses (never "unset", -1). */
        if (!isnan(value[3]))
            job->chat.top_k = value[3] >= 1 && value[3] <= 1e9 ? (int) value[3] : 0;
        if (!isnan(value[4]))
            job->chat.max_tokens = value[4] >= 1 && value[4] <= 1e18 ? (int64_t) value[4] : 0;
        if (!isnan(value[5]))
            job->chat.seed = value[5] >= 0 && value[5] <= 1e18 ? (int64_t) value[5] : -2;
    }
    json_object *stop;
    if (rc == 0 && json_object_object_get_ex(params, "stop", &stop)) {
        bool single = json_object_is_type(stop, json_type_string);
        size_t count = single ? 1 : json_object_is_type(stop, json_type_array)
                                  ? json_object_array_length(stop) : 0;
        if (!single && !json_object_is_type(stop, json_type_array))
            rc = -1;
        else if (count > BACKEND_MAX_STOP) {
            backend_error_set(err, BACKEND_ERR_BAD_REQUEST, 0, "params: at most %d stop sequences",
                              BACKEND_MAX_STOP);
            rc = -1;
        }
        for (size_t i = 0; rc == 0 && i < count; i++) {
            json_object *one = single ? stop : json_object_array_get_idx(stop, i);
            if (!json_object_is_type(one, json_type_string))
                rc = -1;
            else
                job->chat.stop[i] = job->stops[i] = strdup(json_object_get_string(one));
        }
        if (rc && !err->code)
            backend_error_set(err, BACKEND_ERR_BAD_REQUEST, 0,
                              "params: stop must be a string or an array of strings");
    }
    json_object_put(params);
    return rc;
}

static served_t *
s_served(inference_t *self, const char *id)
{
    for (size_t i = 0; i < self->served_count; i++)
        if (streq(self->served[i].backend.id, id))
            return &self->served[i];
    return NULL;
}

static void
s_on_request(inference_t *self, const msg_t *msg)
{
    const msg_infer_request_t *request = &msg->infer_request;
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", request->job[i]);
    if (zhashx_lookup(self->jobs, hex)) {
        log_error("job %.12s from %s is already running here: request dropped", hex, msg->from);
        return;
    }
    served_t *served = s_served(self, request->backend);
    if (!served) {
        char why[256];
        snprintf(why, sizeof why, "backend '%.128s' is not served by this node", request->backend);
        s_send_failure(self, msg->from, request->job, backend_code_name(BACKEND_ERR_CONFIG), why);
        return;
    }
    if (!served->resolved) {
        s_fail(served, msg->from, request->job, backend_code_name(BACKEND_ERR_CONFIG),
               served->detail);
        return;
    }

    job_t *job = calloc(1, sizeof *job);
    job->owner = self;
    job->served = served;
    memcpy(job->id, request->job, 32);
    memcpy(job->hex, hex, sizeof hex);
    job->key = ++self->next_key;
    snprintf(job->reply_to, sizeof job->reply_to, "%s", msg->from);
    job->stream = request->stream;
    job->messages = strdup(request->messages);
    backend_chat_init(&job->chat);
    job->chat.messages = job->messages;
    job->chat.stream = request->stream;
    backend_error_t err = {0};
    if (s_params(job, request->params, &err) == 0)
        backend_chat_check(&served->backend, &job->chat, &err);
    if (err.code != BACKEND_OK) {
        s_fail(served, msg->from, request->job, backend_code_name(err.code), err.message);
        s_job_destroy((void **) &job);
        return;
    }
    int admitted = slots_acquire(served->slots, job->key);
    if (admitted == SLOTS_FULL) {
        char why[256];
        snprintf(why, sizeof why, "%s: %zu jobs run and %zu wait already, the most this node "
                 "queues ([limits] queue_per_backend): try again later", served->backend.id,
                 slots_running(served->slots), slots_queued(served->slots));
        s_fail(served, msg->from, request->job, "busy", why);
        s_job_destroy((void **) &job);
        return;
    }
    zhashx_insert(self->jobs, job->hex, job);
    if (admitted == SLOTS_RUN)
        s_run(served, job->key);
}

static void
s_on_cancel(inference_t *self, const msg_infer_cancel_t *cancel)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", cancel->job[i]);
    job_t *job = zhashx_lookup(self->jobs, hex);
    if (!job)
        return;     /* finished first: its result is on its way */
    if (job->call) {
        job->cancelled = true;      /* s_on_done frees it and passes its slot on */
        if (http_client_cancel(self->client, job->call))
            log_error("job %.12s: its request %llu was not running", hex,
                      (unsigned long long) job->call);
    }
    else {
        slots_forget(job->served->slots, job->key);
        job->served->cancelled++;
        zhashx_delete(self->jobs, hex);
    }
}

/* ---- the actor ---------------------------------------------------------------------------- */

/* Add a backend to serve (once per identifier). */
static void
s_add_served(inference_t *self, const char *id, const backend_config_t *config)
{
    if (s_served(self, id))
        return;
    served_t *served = &self->served[self->served_count++];
    served->owner = self;
    const config_t *cfg = self->cfg;
    backend_error_t err;
    served->resolved = backend_resolve(id, config, &served->backend, &err) == 0;
    if (!served->resolved) {
        snprintf(served->backend.id, sizeof served->backend.id, "%s", id);
        snprintf(served->detail, sizeof served->detail, "not usable: %.480s", err.message);
        log_error("backend %s: %s", id, err.message);
    }
    else
        snprintf(served->detail, sizeof served->detail, "not probed yet");
    if (served->resolved && served->backend.kind == BACKEND_LLAMACPP && *cfg->llamacpp_api_key) {
        if (strlen(cfg->llamacpp_api_key) < sizeof served->backend.api_key
            && !strpbrk(cfg->llamacpp_api_key, "\r\n"))
            strcpy(served->backend.api_key, cfg->llamacpp_api_key);
        else
            log_error("backend %s: [backends.llamacpp] api_key is too long or has a line break", id);
    }
    int64_t limit = served->backend.kind == BACKEND_APPLE_FM ? cfg->apple_fm_slots
                  : served->backend.kind == BACKEND_OLLAMA ? cfg->ollama_slots
                  : served->backend.kind == BACKEND_OPENAI ? cfg->openai_slots
                  : 1;      /* llama.cpp: until /props says how many */
    int64_t queue = cfg->queue_per_backend;
    served->slots = slots_new(limit < 1 ? 1 : (size_t) limit, queue < 1 ? 1 : (size_t) queue);
}

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    const inference_args_t *given = args;
    const config_t *cfg = given->cfg;
    inference_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = cfg;
    self->client = http_client_new();
    if (!self->client) {
        log_error("cannot start an HTTP client (libcurl)");
        free(self);
        return NULL;
    }
    http_client_set_watch(self->client, s_on_http_watch, self);
    self->jobs = zhashx_new();
    zhashx_set_destructor(self->jobs, s_job_destroy);
    self->probe_interval_ms = cfg->probe_interval_ms < MIN_PROBE_MS ? MIN_PROBE_MS : cfg->probe_interval_ms;
    self->probe_retry_ms = cfg->probe_retry_ms < MIN_PROBE_MS ? MIN_PROBE_MS : cfg->probe_retry_ms;

    size_t count = (cfg->llamacpp_enabled ? cfg->llamacpp_models.count : 0)
                 + (cfg->apple_fm_enabled ? 1 : 0)
                 + (cfg->ollama_enabled ? cfg->ollama_models.count : 0)
                 + (cfg->openai_enabled ? cfg->openai_models.count : 0);
    self->served = calloc(count ? count : 1, sizeof *self->served);
    backend_config_t config = {.llama_url = cfg->llamacpp_url, .fm_url = cfg->apple_fm_url,
                               .ollama_url = cfg->ollama_url, .openai_url = cfg->openai_url,
                               .openai_api_key = cfg->openai_api_key};
    char id[256];
    for (size_t i = 0; cfg->llamacpp_enabled && i < cfg->llamacpp_models.count; i++) {
        snprintf(id, sizeof id, "llamacpp:%s", cfg->llamacpp_models.items[i]);
        s_add_served(self, id, &config);
    }
    if (cfg->apple_fm_enabled)
        s_add_served(self, "apple_fm", &config);
    for (size_t i = 0; cfg->ollama_enabled && i < cfg->ollama_models.count; i++) {
        snprintf(id, sizeof id, "ollama:%s", cfg->ollama_models.items[i]);
        s_add_served(self, id, &config);
    }
    for (size_t i = 0; cfg->openai_enabled && i < cfg->openai_models.count; i++) {
        snprintf(id, sizeof id, "openai:%s", cfg->openai_models.items[i]);
        s_add_served(self, id, &config);
    }
    if (self->served_count == 0)
        log_warn("no backend is enabled in [backends.*]: every job will be refused");

    /* The first probes now; those that cannot even be resolved are reported as they are. */
    for (size_t i = 0; i < self->served_count; i++) {
        if (self->served[i].resolved)
            s_probe_start(&self->served[i]);
        else
            s_report(&self->served[i]);
    }
    self->probe_timer = actor_timer_add(ctx, PROBE_TICK_MS, PROBE_TICK_MS, s_on_probe_tick);
    s_http_rearm(self);
    return self;
}

/* Cancel everything in flight, then free. No message is sent from here. */
static void
s_destroy(void **state_p)
{
    inference_t *self = *state_p;
    if (!self)
        return;
    self->stopping = true;
    /* Collect first: cancelling removes jobs from the table. */
    size_t count = zhashx_size(self->jobs), n = 0;
    job_t **jobs = calloc(count ? count : 1, sizeof *jobs);
    for (job_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        jobs[n++] = job;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->call)
            http_client_cancel(self->client, jobs[i]->call);   /* s_on_done frees it */
        else
            zhashx_delete(self->jobs, jobs[i]->hex);
    }
    free(jobs);
    for (size_t i = 0; i < self->served_count; i++)
        if (self->served[i].probing)
            http_client_cancel(self->client, self->served[i].probe_id);
    /* A probe past its first request cannot be cancelled by id: let it end (it is bounded by
       PROBE_TOTAL_MS), so that it frees what it holds. */
    struct pollfd fds[ACTOR_MAX_WATCHES];
    size_t watched = http_client_fds(self->client, fds, ACTOR_MAX_WATCHES);
    for (size_t i = 0; i < watched && i < ACTOR_MAX_WATCHES; i++)
        actor_unwatch_fd(self->ctx, fds[i].fd);
    http_client_set_watch(self->client, NULL, NULL);
    int64_t deadline = actor_now_ms() + PROBE_TOTAL_MS + 1000;
    while (http_client_active(self->client) > 0 && actor_now_ms() < deadline)
        http_client_run(self->client, 100);
    http_client_destroy(&self->client);
    zhashx_destroy(&self->jobs);
    for (size_t i = 0; i < self->served_count; i++)
        slots_destroy(&self->served[i].slots);
    free(self->served);
    free(self);
    *state_p = NULL;
}

static void
s_handle(void *state, const msg_t *msg)
{
    inference_t *self = state;
    switch (msg->type) {
    case MSG_INFER_REQUEST:
        s_on_request(self, msg);
        break;
    case MSG_INFER_CANCEL:
        s_on_cancel(self, &msg->infer_cancel);
        break;
    default:
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
        break;
    }
    s_http_rearm(self);
}

static char *
s_status(void *state)
{
    inference_t *self = state;
    json_object *root = json_object_new_object();
    json_object *backends = json_object_new_object();
    json_object_object_add(root, "backends", backends);
    for (size_t i = 0; i < self->served_count; i++) {
        served_t *served = &self->served[i];
        json_object *one = json_object_new_object();
        json_object_object_add(one, "available", json_object_new_boolean(s_available(served)));
        json_object_object_add(one, "state", json_object_new_string(
            served->resolved ? backend_state_name(served->state) : "not_usable"));
        json_object_object_add(one, "detail", json_object_new_string(served->detail));
        json_object_object_add(one, "slots", json_object_new_int64((int64_t) slots_limit(served->slots)));
        json_object_object_add(one, "running", json_object_new_int64((int64_t) slots_running(served->slots)));
        json_object_object_add(one, "queued", json_object_new_int64((int64_t) slots_queued(served->slots)));
        json_object_object_add(one, "done", json_object_new_int64((int64_t) served->done));
        json_object_object_add(one, "errors", json_object_new_int64((int64_t) served->errors));
        json_object_object_add(one, "cancelled", json_object_new_int64((int64_t) served->cancelled));
        json_object_object_add(one, "last_error", json_object_new_string(served->last_error));
        json_object_object_add(backends, served->backend.id, one);
    }
    char *json = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN
                                                             | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return json;
}

const actor_def_t inference_actor = {
    .name = "inference",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
