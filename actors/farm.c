/*  farm.c: the farm broker. In farm mode ([farm] listen set) the daemon starts it under the
    actor name "inference": the job router sends it INFER_REQUEST and INFER_CANCEL and gets
    INFER_PARTIAL, INFER_RESULT and BACKEND_STATUS back, exactly as from the local inference
    actor. The work itself runs in `pylon worker` processes (actors/farm_worker.c), each with
    the inference actor of its own host, connected over the network.

    The link: a ROUTER bound at [farm] listen, a CURVE server with the node's key pair
    (farm/node.key_secret, created at first start or by `pylon farm keygen`). This actor is
    also the process's ZAP handler: a connecting worker's CURVE public key must have a
    certificate in farm_workers/ (read through a czmq zcertstore, so a key added there counts
    at once); any other key is refused and logged with its address. A peer that fails the
    handshake itself (no CURVE, or the wrong node key) is logged from the socket monitor.
    Workers are known by their authenticated public key, never by anything they say.

    Messages are the catalogue's (runtime/msg.h), one msgpack frame each:
        worker → broker: WORKER_HELLO {worker, session, backends}, BACKEND_STATUS (a change),
                         WORKER_HEARTBEAT {session, jobs}, INFER_PARTIAL, INFER_RESULT
        broker → worker: WORKER_HEARTBEAT {session}, INFER_REQUEST, INFER_CANCEL

    Credit: a worker is sent a job only while it has credit for that job's backend: the slots
    it announced for the backend (available ones only) minus the jobs the broker has given it
    there. Among the workers with credit the one with the most goes first (ties: the one that
    got a job longest ago), which spreads the jobs. A job nobody has credit for waits in a FIFO
    of [limits] queue_per_backend jobs per backend (beyond that: "busy" at once); a job whose
    backend no live worker serves fails "model_unavailable" after [farm] wait_ms.

    Liveness: heartbeats both ways every [farm] heartbeat_ms. A worker not heard from for
    [farm] liveness_ms is gone: its jobs go back to the head of the queue and run elsewhere.
    Exactly one result per job: the broker knows which worker holds each job and takes
    INFER_PARTIAL / INFER_RESULT for it from that worker only; anything else (a worker that
    was declared gone and came back, a job already answered) is discarded and counted. A job
    that already streamed partials and has to run again streams nothing more: its buyer gets
    the whole result, not the same text twice. The worker's heartbeat lists the jobs it runs:
    a job the broker gave it more than liveness_ms ago and that is not listed was lost on the
    way and is queued again; a listed job the broker did not give it (any more) is cancelled
    there, which frees its slot.

    Availability: a backend is available while at least one live worker says it is; its slots
    are the sum of theirs. Each change goes to the job router as BACKEND_STATUS. */
#include "farm.h"
#include "farm/link.h"
#include "inference/backend.h"
#include "log.h"

#include <errno.h>
#include <json-c/json.h>

#define ZAP_ENDPOINT        "inproc://zeromq.zap.01"
#define ZAP_DOMAIN          "pylon-farm"
#define MAX_BACKENDS        64      /* backends the farm offers, all workers together */
#define WORKER_BACKENDS     32      /* backends one worker may announce */
#define MAX_JOBS_PER_WORKER 256     /* what one heartbeat can list (WORKER_HEARTBEAT jobs) */
#define DETAIL_MAX          512     /* BACKEND_STATUS detail limit (schemas/messages.def) */
#define NAME_MAX_           128     /* a backend identifier (schemas/messages.def) */
#define DENY_LOG_MS         10000   /* the same refused key is logged at most this often */
#define MIN_HEARTBEAT_MS    100     /* [farm] heartbeat_ms below this is raised to it */

typedef struct farm farm_t;

/* One backend as one worker announced it. */
typedef struct {
    char name[NAME_MAX_ + 1];       /* e.g. "llamacpp:gpt_oss_20b" */
    bool available;                 /* the worker's inference actor says it is ready */
    uint64_t slots;                 /* requests it runs at once there */
    uint64_t running;               /* jobs of ours the worker holds on it */
} wbackend_t;

/* One worker process, known by its CURVE public key. */
typedef struct {
    char key[FARM_KEY_TEXT];        /* its authenticated public key (Z85): who it is */
    char name[65];                  /* the name it gave in WORKER_HELLO */
    char address[FARM_ADDRESS_MAX]; /* where it connects from */
    zframe_t *routing_id;           /* its current connection on the ROUTER (owned) */
    bool reachable;                 /* the last send to it did not fail */
    uint64_t session;               /* its process's session (WORKER_HELLO) */
    wbackend_t backends[WORKER_BACKENDS];   /* what it serves */
    int backend_count;              /* entries in backends */
    uint64_t held;                  /* jobs it holds now */
    int64_t last_heard_ms;          /* anything arrived from it (actor_now_ms) */
    int64_t joined_ms;              /* when it said HELLO */
    uint64_t last_dispatch;         /* farm_t.dispatch_seq of its latest job, for fairness */
    uint64_t done;                  /* results relayed with ok */
    uint64_t failed;                /* results relayed with ok=false */
} worker_t;

/* One job between the job router's INFER_REQUEST and the result (or its cancellation). */
typedef struct {
    uint8_t id[32];                 /* the job id */
    char hex[65];                   /* the same in hex, the key in farm_t.jobs */
    char backend[NAME_MAX_ + 1];    /* where it runs */
    char *messages;                 /* the request's messages JSON (owned) */
    char *params;                   /* the request's params JSON (owned) */
    bool stream;                    /* partials wanted */
    char reply_to[MSG_NAME_MAX + 1];/* the actor that asked */
    worker_t *worker;               /* the worker holding it, NULL while queued */
    void *handle;                   /* its place in farm_t.queue while queued, else NULL */
    int64_t queued_ms;              /* when it (last) entered the queue */
    int64_t sent_ms;                /* when it was given to its worker */
    uint64_t attempts;              /* workers it was given to */
    bool partials_sent;             /* some INFER_PARTIAL of it reached the job router */
    bool mute;                      /* it ran before and streamed: send no more partials */
} fjob_t;

/* A backend the farm offers, as last reported to the job router. */
typedef struct {
    char name[NAME_MAX_ + 1];       /* its identifier */
    bool reported;                  /* a BACKEND_STATUS was sent */
    bool available;                 /* ... saying this */
    uint64_t slots;                 /* ... and this */
} offered_t;

struct farm {
    actor_ctx_t *ctx;               /* the runtime side of this actor */
    const config_t *cfg;            /* borrowed, read-only */
    char endpoint[256];             /* where the ROUTER is bound (as bound: real port) */
    zcert_t *cert;                  /* the node's key pair (secret inside: never logged) */
    zsock_t *router;                /* the workers' socket, CURVE server */
    zsock_t *zap;                   /* the ZAP handler's REP socket */
    zsock_t *monitor;               /* PAIR reading the ROUTER's handshake failures */
    char monitor_endpoint[64];      /* where the monitor publishes */
    zcertstore_t *allowed;          /* farm_workers/: the keys let in */
    zhashx_t *workers;              /* key -> worker_t (owned) */
    zhashx_t *jobs;                 /* hex -> fjob_t (owned), queued or held by a worker */
    zlistx_t *queue;                /* fjob_t waiting for credit, oldest first (borrowed) */
    offered_t offered[MAX_BACKENDS];/* the backends seen so far */
    int offered_count;              /* entries in offered */
    int64_t heartbeat_ms;           /* [farm] heartbeat_ms */
    int64_t liveness_ms;            /* [farm] liveness_ms */
    int64_t wait_ms;                /* [farm] wait_ms */
    uint64_t dispatch_seq;          /* jobs given out so far */
    msg_buf_t out;                  /* encode buffer for the ROUTER, reused */
    msg_t in;                       /* decode target for the ROUTER, reused */
    uint64_t denied;                /* connections refused by the ZAP handler */
    char last_denied[FARM_KEY_TEXT];/* the latest refused key (public), for the log limit */
    int64_t last_denied_ms;         /* when it was logged */
    uint64_t handshake_failures;    /* peers that failed the CURVE handshake itself */
    uint64_t late;                  /* answers discarded: not from the job's worker */
    uint64_t requeued;              /* jobs given back by a worker that went away */
    uint64_t bad;                   /* worker messages that did not decode or made no sense */
};

static void s_dispatch(farm_t *self);

static void
s_hex(const uint8_t id[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

/* ---- answers to the job router ---------------------------------------------------------- */

static void
s_fail(farm_t *self, const char *to, const uint8_t job[32], const char *code, const char *why)
{
    msg_t result = {.type = MSG_INFER_RESULT,
                    .infer_result = {.ok = false, .content = "", .finish_reason = "",
                                     .model = "", .error_code = code, .error = why}};
    memcpy(result.infer_result.job, job, 32);
    actor_send(self->ctx, to, &result);
}

static offered_t *
s_offered(farm_t *self, const char *name, bool add)
{
    for (int i = 0; i < self->offered_count; i++)
        if (streq(self->offered[i].name, name))
            return &self->offered[i];
    if (!add || self->offered_count == MAX_BACKENDS)
        return NULL;
    offered_t *offered = &self->offered[self->offered_count++];
    snprintf(offered->name, sizeof offered->name, "%s", name);
    return offered;
}

static wbackend_t *
s_wbackend(worker_t *worker, const char *name)
{
    for (int i = 0; i < worker->backend_count; i++)
        if (streq(worker->backends[i].name, name))
            return &worker->backends[i];
    return NULL;
}

/* Tell the job router about every backend whose farm-wide availability or slots changed. */
static void
s_report(farm_t *self)
{
    for (int i = 0; i < self->offered_count; i++) {
        offered_t *offered = &self->offered[i];
        bool available = false;
        uint64_t slots = 0, serving = 0;
        char names[DETAIL_MAX] = "";
        for (worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers)) {
            wbackend_t *wb = s_wbackend(w, offered->name);
            if (!wb || !wb->available)
                continue;
            available = true;
            slots += wb->slots;
            serving++;
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", w->name);
        }
        if (offered->reported && offered->available == available && offered->slots == slots)
            continue;
        offered->reported = true;
        offered->available = available;
        offered->slots = slots;
        char detail[DETAIL_MAX];
        if (available)
            snprintf(detail, sizeof detail, "farm: %llu worker%s (%.400s), %llu slots",
                     (unsigned long long) serving, serving == 1 ? "" : "s", names,
                     (unsigned long long) slots);
        else
            snprintf(detail, sizeof detail, "farm: no live worker serves it");
        log_info("backend %s is %savailable: %s", offered->name, available ? "" : "not ", detail);
        msg_t status = {.type = MSG_BACKEND_STATUS,
                        .backend_status = {.backend = offered->name, .available = available,
                                           .slots = slots, .detail = detail}};
        actor_send(self->ctx, "job_router", &status);
    }
}

/* ---- the queue and the workers ------------------------------------------------------------ */

static void
s_job_destroy(void **item)
{
    fjob_t *job = *item;
    free(job->messages);
    free(job->params);
    free(job);
    *item = NULL;
}

static void
s_worker_destroy(void **item)
{
    worker_t *worker = *item;
    zframe_destroy(&worker->routing_id);
    free(worker);
    *item = NULL;
}

/* Drop a job from wherever it is (queue or worker) and free it. */
static void
s_job_forget(farm_t *self, fjob_t *job)
{
    if (job->handle)
        zlistx_delete(self->queue, job->handle);
    if (job->worker) {
        wbackend_t *wb = s_wbackend(job->worker, job->backend);
        if (wb && wb->running)
            wb->running--;
        job->worker->held--;
    }
    zhashx_delete(self->jobs, job->hex);
}

/* Take a job back from its worker and put it at the head of the queue. */
static void
s_requeue(farm_t *self, fjob_t *job, const char *why)
{
    worker_t *worker = job->worker;
    wbackend_t *wb = s_wbackend(worker, job->backend);
    if (wb && wb->running)
        wb->running--;
    worker->held--;
    job->worker = NULL;
    job->mute = job->mute || job->partials_sent;
    job->queued_ms = actor_now_ms();
    job->handle = zlistx_add_start(self->queue, job);
    self->requeued++;
    log_info("job %.12s back in the queue: %s", job->hex, why);
}

/* Every job a worker holds goes back to the queue (it is gone, or it restarted). */
static void
s_requeue_all(farm_t *self, worker_t *worker, const char *why)
{
    size_t count = zhashx_size(self->jobs), n = 0;
    fjob_t **held = calloc(count ? count : 1, sizeof *held);
    for (fjob_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs))
        if (job->worker == worker)
            held[n++] = job;
    for (size_t i = 0; i < n; i++)
        s_requeue(self, held[i], why);
    free(held);
}

static void
s_worker_gone(farm_t *self, worker_t *worker, const char *why)
{
    log_warn("worker %s (%s) is gone: %s; its %llu job%s go back to the queue", worker->name,
             worker->address, why, (unsigned long long) worker->held, worker->held == 1 ? "" : "s");
    s_requeue_all(self, worker, "its worker went away");
    zhashx_delete(self->workers, worker->key);
    s_report(self);
}

/* The worker with the most credit for backend (ties: the one idle longest), or NULL. */
static worker_t *
s_pick(farm_t *self, const char *backend)
{
    worker_t *best = NULL;
    uint64_t best_free = 0;
    for (worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers)) {
        wbackend_t *wb = s_wbackend(w, backend);
        if (!w->reachable || !wb || !wb->available || wb->running >= wb->slots
            || w->held >= MAX_JOBS_PER_WORKER)
            continue;
        uint64_t free_slots = wb->slots - wb->running;
        if (!best || free_slots > best_free
            || (free_slots == best_free && w->last_dispatch < best->last_dispatch)) {
            best = w;
            best_free = free_slots;
        }
    }
    return best;
}

/* Give a queued job to worker. 0, or -1 when the worker cannot be reached (the job stays). */
static int
s_give(farm_t *self, fjob_t *job, worker_t *worker)
{
    msg_t run = {.type = MSG_INFER_REQUEST,
                 .infer_request = {.backend = job->backend, .messages = job->messages,
                                   .params = job->params, .stream = job->stream}};
    memcpy(run.infer_request.job, job->id, 32);
    if (farm_send(self->router, worker->routing_id, "inference", "worker", &run, &self->out)) {
        log_warn("worker %s cannot be reached (%s): no jobs for it until it is heard again",
                 worker->name, zmq_strerror(zmq_errno()));
        worker->reachable = false;
        return -1;
    }
    zlistx_delete(self->queue, job->handle);
    job->handle = NULL;
    job->worker = worker;
    job->sent_ms = actor_now_ms();
    job->attempts++;
    s_wbackend(worker, job->backend)->running++;
    worker->held++;
    worker->last_dispatch = ++self->dispatch_seq;
    return 0;
}

/* Give every queued job that some worker has credit for to that worker, oldest first. */
static void
s_dispatch(farm_t *self)
{
    size_t count = zlistx_size(self->queue), n = 0;
    if (count == 0)
        return;
    fjob_t **waiting = calloc(count, sizeof *waiting);
    for (fjob_t *job = zlistx_first(self->queue); job; job = zlistx_next(self->queue))
        waiting[n++] = job;
    for (size_t i = 0; i < n; i++) {
        worker_t *worker;
        while ((worker = s_pick(self, waiting[i]->backend)) && s_give(self, waiting[i], worker))
            ;   /* unreachable: s_give marked it, try the next best */
    }
    free(waiting);
}

static size_t
s_queued_for(farm_t *self, const char *backend)
{
    size_t n = 0;
    for (fjob_t *job = zlistx_first(self->queue); job; job = zlistx_next(self->queue))
        n += streq(job->backend, backend);
    return n;
}

/* ---- from the job router ------------------------------------------------------------------ */

static void
s_on_request(farm_t *self, const msg_t *msg)
{
    const msg_infer_request_t *request = &msg->infer_request;
    char hex[65];
    s_hex(request->job, hex);
    if (zhashx_lookup(self->jobs, hex)) {
        log_error("job %.12s from %s is already here: request dropped", hex, msg->from);
        return;
    }
    int64_t limit = self->cfg->queue_per_backend < 1 ? 1 : self->cfg->queue_per_backend;
    if (!s_pick(self, request->backend) && s_queued_for(self, request->backend) >= (size_t) limit) {
        char why[256];
        snprintf(why, sizeof why, "%.128s: %lld jobs wait for a worker already, the most this "
                 "node queues ([limits] queue_per_backend): try again later", request->backend,
                 (long long) limit);
        s_fail(self, msg->from, request->job, "busy", why);
        return;
    }
    fjob_t *job = calloc(1, sizeof *job);
    memcpy(job->id, request->job, 32);
    memcpy(job->hex, hex, sizeof hex);
    snprintf(job->backend, sizeof job->backend, "%s", request->backend);
    job->messages = strdup(request->messages);
    job->params = strdup(request->params);
    job->stream = request->stream;
    snprintf(job->reply_to, sizeof job->reply_to, "%s", msg->from);
    job->queued_ms = actor_now_ms();
    zhashx_insert(self->jobs, job->hex, job);
    job->handle = zlistx_add_end(self->queue, job);
    s_dispatch(self);
}

static void
s_on_cancel(farm_t *self, const msg_infer_cancel_t *cancel)
{
    char hex[65];
    s_hex(cancel->job, hex);
    fjob_t *job = zhashx_lookup(self->jobs, hex);
    if (!job)
        return;     /* answered first: the result is on its way */
    if (job->worker) {
        msg_t stop = {.type = MSG_INFER_CANCEL};
        memcpy(stop.infer_cancel.job, job->id, 32);
        farm_send(self->router, job->worker->routing_id, "inference", "worker", &stop, &self->out);
    }
    s_job_forget(self, job);
    s_dispatch(self);
}

/* ---- from the workers --------------------------------------------------------------------- */

/* Read a WORKER_HELLO's backends JSON into worker. -1 when it is not what the catalogue says. */
static int
s_read_backends(worker_t *worker, const char *text)
{
    json_object *list = json_tokener_parse(text);
    if (!list || !json_object_is_type(list, json_type_array)
        || json_object_array_length(list) > WORKER_BACKENDS) {
        json_object_put(list);
        return -1;
    }
    worker->backend_count = 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *one = json_object_array_get_idx(list, i), *name, *available, *slots;
        if (!json_object_object_get_ex(one, "backend", &name)
            || !json_object_is_type(name, json_type_string)
            || json_object_get_string_len(name) < 1 || json_object_get_string_len(name) > NAME_MAX_
            || !json_object_object_get_ex(one, "available", &available)
            || !json_object_object_get_ex(one, "slots", &slots)
            || !json_object_is_type(slots, json_type_int) || json_object_get_int64(slots) < 0
            || json_object_get_int64(slots) > MAX_JOBS_PER_WORKER)
            continue;
        if (s_wbackend(worker, json_object_get_string(name)))
            continue;
        wbackend_t *wb = &worker->backends[worker->backend_count++];
        snprintf(wb->name, sizeof wb->name, "%s", json_object_get_string(name));
        wb->available = json_object_get_boolean(available);
        wb->slots = (uint64_t) json_object_get_int64(slots);
    }
    json_object_put(list);
    return 0;
}

static void
s_heartbeat_to(farm_t *self, zframe_t *routing_id, uint64_t session)
{
    static const uint8_t none[1];   /* no job list from the broker (never NULL: memcpy) */
    msg_t beat = {.type = MSG_WORKER_HEARTBEAT,
                  .worker_heartbeat = {.session = session, .jobs = none, .jobs_size = 0}};
    farm_send(self->router, routing_id, "inference", "worker", &beat, &self->out);
}

static void
s_on_hello(farm_t *self, worker_t *worker, const farm_peer_t *peer, const msg_worker_hello_t *hello)
{
    worker_t scratch = {0};
    if (s_read_backends(&scratch, hello->backends)) {
        self->bad++;
        log_warn("a worker at %s sent a HELLO whose backends are not a list of backends: "
                 "ignored", peer->address);
        return;
    }
    bool fresh = worker == NULL;
    bool rejoined = !fresh && worker->session != hello->session;
    if (fresh) {
        worker = calloc(1, sizeof *worker);
        memcpy(worker->key, peer->user_id, sizeof worker->key);
        zhashx_insert(self->workers, worker->key, worker);
    }
    else if (rejoined)
        s_requeue_all(self, worker, "its worker restarted");
    zframe_destroy(&worker->routing_id);
    worker->routing_id = zframe_dup(peer->routing_id);
    worker->reachable = true;
    worker->last_heard_ms = actor_now_ms();
    /* Keep our own counts of the jobs it holds, backend by backend. */
    for (int i = 0; i < scratch.backend_count; i++) {
        wbackend_t *old = s_wbackend(worker, scratch.backends[i].name);
        scratch.backends[i].running = old ? old->running : 0;
    }
    memcpy(worker->backends, scratch.backends, sizeof worker->backends);
    worker->backend_count = scratch.backend_count;
    worker->session = hello->session;
    snprintf(worker->name, sizeof worker->name, "%s", *hello->worker ? hello->worker : "worker");
    snprintf(worker->address, sizeof worker->address, "%s", peer->address);
    if (fresh || rejoined) {
        worker->joined_ms = actor_now_ms();
        char list[1024] = "";
        for (int i = 0; i < worker->backend_count; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s (%llu slots%s)", len ? ", " : "",
                     worker->backends[i].name, (unsigned long long) worker->backends[i].slots,
                     worker->backends[i].available ? "" : ", not available yet");
        }
        log_info("worker %s joined from %s (key %s): %s", worker->name, worker->address,
                 worker->key, *list ? list : "no backends yet");
    }
    for (int i = 0; i < worker->backend_count; i++)
        s_offered(self, worker->backends[i].name, true);
    s_heartbeat_to(self, worker->routing_id, worker->session);
    s_report(self);
}

static void
s_on_backend(farm_t *self, worker_t *worker, const msg_backend_status_t *status)
{
    wbackend_t *wb = s_wbackend(worker, status->backend);
    if (!wb) {
        if (worker->backend_count == WORKER_BACKENDS)
            return;
        wb = &worker->backends[worker->backend_count++];
        snprintf(wb->name, sizeof wb->name, "%s", status->backend);
    }
    wb->available = status->available;
    wb->slots = status->slots > MAX_JOBS_PER_WORKER ? MAX_JOBS_PER_WORKER : status->slots;
    s_offered(self, wb->name, true);
    s_report(self);
}

/* Reconcile what the worker says it runs with what we gave it. */
static void
s_on_worker_beat(farm_t *self, worker_t *worker, const msg_worker_heartbeat_t *beat)
{
    if (beat->session != worker->session)
        return;     /* a heartbeat from before its HELLO crossed ours */
    size_t listed = beat->jobs_size / 32;
    int64_t now = actor_now_ms();
    /* Listed but not ours (any more): stop it there. */
    for (size_t i = 0; i < listed; i++) {
        char hex[65];
        s_hex(beat->jobs + 32 * i, hex);
        fjob_t *job = zhashx_lookup(self->jobs, hex);
        if (!job || job->worker != worker) {
            msg_t stop = {.type = MSG_INFER_CANCEL};
            memcpy(stop.infer_cancel.job, beat->jobs + 32 * i, 32);
            farm_send(self->router, worker->routing_id, "inference", "worker", &stop, &self->out);
        }
    }
    /* Ours, given long enough ago, and not listed: it never arrived. */
    size_t count = zhashx_size(self->jobs), n = 0;
    fjob_t **lost = calloc(count ? count : 1, sizeof *lost);
    for (fjob_t *job = zhashx_first(self->jobs); job; job = zhashx_next(self->jobs)) {
        if (job->worker != worker || now - job->sent_ms <= self->liveness_ms)
            continue;
        bool found = false;
        for (size_t i = 0; i < listed && !found; i++)
            found = memcmp(beat->jobs + 32 * i, job->id, 32) == 0;
        if (!found)
            lost[n++] = job;
    }
    for (size_t i = 0; i < n; i++)
        s_requeue(self, lost[i], "its worker does not have it");
    free(lost);
}

/* INFER_PARTIAL or INFER_RESULT from a worker: relayed only from the job's own worker. */
static void
s_on_answer(farm_t *self, worker_t *worker, msg_t *msg)
{
    const uint8_t *id = msg->type == MSG_INFER_RESULT ? msg->infer_result.job : msg->infer_partial.job;
    char hex[65];
    s_hex(id, hex);
    fjob_t *job = zhashx_lookup(self->jobs, hex);
    if (!job || job->worker != worker) {
        self->late++;
        if (msg->type == MSG_INFER_RESULT)
            log_info("a result for job %.12s from worker %s was discarded: %s", hex,
                     worker ? worker->name : "(not joined)",
                     !job ? "the job is answered or unknown" : "another worker has it now");
        return;
    }
    if (msg->type == MSG_INFER_PARTIAL) {
        if (!job->mute && job->stream) {
            job->partials_sent = true;
            actor_send(self->ctx, job->reply_to, msg);
        }
        return;
    }
    if (msg->infer_result.ok)
        worker->done++;
    else
        worker->failed++;
    char reply_to[MSG_NAME_MAX + 1];
    snprintf(reply_to, sizeof reply_to, "%s", job->reply_to);
    s_job_forget(self, job);
    actor_send(self->ctx, reply_to, msg);
}

static void
s_on_router(void *state, zsock_t *router)
{
    farm_t *self = state;
    for (int i = 0; i < 256; i++) {
        farm_peer_t peer;
        int decode_rc;
        int got = farm_recv(router, true, &peer, &self->in, &decode_rc);
        if (got == 0)
            break;
        worker_t *worker = *peer.user_id ? zhashx_lookup(self->workers, peer.user_id) : NULL;
        if (got < 0 || !*peer.user_id) {
            self->bad++;
            log_warn("a message from %s (%s) does not decode: %s", worker ? worker->name : "a worker",
                     peer.address, got < 0 ? msg_strerror(decode_rc) : "no CURVE key");
        }
        else if (self->in.type == MSG_WORKER_HELLO)
            s_on_hello(self, worker, &peer, &self->in.worker_hello);
        else if (!worker) {
            /* Not joined (or declared gone): discard, and ask it to say HELLO. */
            if (self->in.type == MSG_INFER_RESULT || self->in.type == MSG_INFER_PARTIAL)
                s_on_answer(self, NULL, &self->in);
            s_heartbeat_to(self, peer.routing_id, 0);
        }
        else {
            if (!zframe_eq(worker->routing_id, peer.routing_id)) {
                zframe_destroy(&worker->routing_id);
                worker->routing_id = zframe_dup(peer.routing_id);
            }
            worker->reachable = true;
            worker->last_heard_ms = actor_now_ms();
            switch (self->in.type) {
            case MSG_WORKER_HEARTBEAT:
                s_on_worker_beat(self, worker, &self->in.worker_heartbeat);
                break;
            case MSG_BACKEND_STATUS:
                s_on_backend(self, worker, &self->in.backend_status);
                break;
            case MSG_INFER_PARTIAL:
            case MSG_INFER_RESULT:
                s_on_answer(self, worker, &self->in);
                break;
            default:
                self->bad++;
                log_warn("worker %s sent %s, which workers do not send", worker->name,
                         msg_type_name(self->in.type));
            }
        }
        zframe_destroy(&peer.routing_id);
    }
    s_dispatch(self);
}

/* ---- security: the ZAP handler and the handshake monitor ---------------------------------- */

/* One ZAP request (RFC 27): let in CURVE clients whose key is in farm_workers/. */
static void
s_on_zap(void *state, zsock_t *zap)
{
    farm_t *self = state;
    zmsg_t *request = zmsg_recv(zap);
    if (!request)
        return;
    char *version = zmsg_popstr(request), *request_id = zmsg_popstr(request);
    char *domain = zmsg_popstr(request), *address = zmsg_popstr(request);
    zframe_t *identity = zmsg_pop(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *credentials = zmsg_pop(request);
    char key[FARM_KEY_TEXT] = "";
    bool curve = mechanism && streq(mechanism, "CURVE") && credentials
                 && zframe_size(credentials) == 32;
    if (curve)
        zmq_z85_encode(key, zframe_data(credentials), 32);
    bool allowed = curve && zcertstore_lookup(self->allowed, key) != NULL;
    if (!allowed) {
        self->denied++;
        int64_t now = actor_now_ms();
        if (!streq(key, self->last_denied) || now - self->last_denied_ms > DENY_LOG_MS) {
            log_warn("refused a worker from %s: %s%s%s", address ? address : "?",
                     curve ? "its key " : "no CURVE key", key,
                     curve ? " is not in " FARM_ALLOW_DIR "/ (`pylon farm allow NAME KEY` lets it in)" : "");
            snprintf(self->last_denied, sizeof self->last_denied, "%s", key);
            self->last_denied_ms = now;
        }
    }
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    zmsg_addstr(reply, request_id ? request_id : "");
    zmsg_addstr(reply, allowed ? "200" : "400");
    zmsg_addstr(reply, allowed ? "OK" : "not allowed");
    zmsg_addstr(reply, allowed ? key : "");     /* the User-Id frames will carry */
    zmsg_addmem(reply, NULL, 0);                /* no metadata */
    zmsg_send(&reply, zap);
    zstr_free(&version);
    zstr_free(&request_id);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&mechanism);
    zframe_destroy(&identity);
    zframe_destroy(&credentials);
    zmsg_destroy(&request);
}

/* A handshake failure on the ROUTER: a peer without CURVE, or with the wrong node key. Those
   refused by the ZAP handler were logged there already. */
static void
s_on_monitor(void *state, zsock_t *monitor)
{
    farm_t *self = state;
    zmsg_t *event = zmsg_recv(monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    zframe_t *where = event ? zmsg_next(event) : NULL;
    if (head && zframe_size(head) >= 6) {
        uint16_t id;
        uint32_t value;
        memcpy(&id, zframe_data(head), 2);
        memcpy(&value, zframe_data(head) + 2, 4);
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            self->handshake_failures++;
            char *text = where ? zframe_strdup(where) : NULL;
            log_warn("a peer failed the CURVE handshake on %s (%s 0x%x): not a worker with "
                     "this node's key, or no CURVE at all", text ? text : "?",
                     id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error" : "error",
                     (unsigned) value);
            free(text);
        }
    }
    zmsg_destroy(&event);
}

/* ---- timers ------------------------------------------------------------------------------- */

static void
s_on_tick(void *state, int timer_id)
{
    farm_t *self = state;
    int64_t now = actor_now_ms();
    /* Silent workers are gone (collect first: going changes the table). */
    size_t count = zhashx_size(self->workers), n = 0;
    worker_t **silent = calloc(count ? count : 1, sizeof *silent);
    for (worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        if (now - w->last_heard_ms > self->liveness_ms)
            silent[n++] = w;
    for (size_t i = 0; i < n; i++) {
        char why[64];
        snprintf(why, sizeof why, "not heard from for %lld ms",
                 (long long) (now - silent[i]->last_heard_ms));
        s_worker_gone(self, silent[i], why);
    }
    free(silent);
    for (worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        s_heartbeat_to(self, w->routing_id, w->session);
    /* Jobs nobody can run for too long fail. */
    size_t queued = zlistx_size(self->queue), m = 0;
    fjob_t **expired = calloc(queued ? queued : 1, sizeof *expired);
    for (fjob_t *job = zlistx_first(self->queue); job; job = zlistx_next(self->queue)) {
        offered_t *offered = s_offered(self, job->backend, false);
        if (now - job->queued_ms > self->wait_ms && !(offered && offered->available))
            expired[m++] = job;
    }
    for (size_t i = 0; i < m; i++) {
        char why[256];
        snprintf(why, sizeof why, "no worker serving %.128s was there for %lld ms",
                 expired[i]->backend, (long long) self->wait_ms);
        s_fail(self, expired[i]->reply_to, expired[i]->id,
               backend_code_name(BACKEND_ERR_UNAVAILABLE), why);
        s_job_forget(self, expired[i]);
    }
    free(expired);
    s_dispatch(self);
}

/* ---- the actor ---------------------------------------------------------------------------- */

static void s_destroy(void **state_p);

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    const farm_args_t *given = args;
    const config_t *cfg = given->cfg;
    const char *listen = given->listen ? given->listen : cfg->farm_listen;
    if (!zsys_has_curve()) {
        log_error("this libzmq has no CURVE: the farm cannot be secured, so it does not start");
        return NULL;
    }
    if (!listen || strncmp(listen, "tcp://", 6) != 0) {
        log_error("[farm] listen must be a tcp:// endpoint, not '%s'", listen ? listen : "");
        return NULL;
    }
    farm_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = cfg;
    self->heartbeat_ms = cfg->farm_heartbeat_ms < MIN_HEARTBEAT_MS ? MIN_HEARTBEAT_MS : cfg->farm_heartbeat_ms;
    self->liveness_ms = cfg->farm_liveness_ms < 2 * self->heartbeat_ms ? 2 * self->heartbeat_ms
                                                                       : cfg->farm_liveness_ms;
    self->wait_ms = cfg->farm_wait_ms < 0 ? 0 : cfg->farm_wait_ms;
    self->workers = zhashx_new();
    zhashx_set_destructor(self->workers, s_worker_destroy);
    self->jobs = zhashx_new();
    zhashx_set_destructor(self->jobs, s_job_destroy);
    self->queue = zlistx_new();

    char err[512], allow[4096];
    bool created;
    self->cert = farm_keys_load(cfg->dir, "node", true, &created, err, sizeof err);
    if (!self->cert || farm_allow_dir(cfg->dir, allow, sizeof allow)) {
        log_error("farm: %s", self->cert ? "the config dir path is too long" : err);
        s_destroy((void **) &self);
        return NULL;
    }
    if (created)
        log_info("made the node's farm key pair; its public key (give it to each worker): %s",
                 zcert_public_txt(self->cert));
    self->allowed = zcertstore_new(allow);

    /* The ZAP handler first: the ROUTER must never accept a peer without it. */
    self->zap = zsock_new(ZMQ_REP);
    if (!self->zap || zsock_bind(self->zap, ZAP_ENDPOINT) != 0) {
        log_error("cannot bind the ZAP handler (is another farm running in this process?)");
        s_destroy((void **) &self);
        return NULL;
    }
    self->router = zsock_new(ZMQ_ROUTER);
    zsock_set_router_mandatory(self->router, 1);
    zsock_set_maxmsgsize(self->router, MSG_MAX_SIZE);
    zsock_set_zap_domain(self->router, ZAP_DOMAIN);
    zcert_apply(self->cert, self->router);
    zsock_set_curve_server(self->router, 1);
    snprintf(self->monitor_endpoint, sizeof self->monitor_endpoint, "inproc://pylon-farm-monitor-%p",
             (void *) self);
    zmq_socket_monitor(zsock_resolve(self->router), self->monitor_endpoint,
                       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    self->monitor = zsock_new(ZMQ_PAIR);
    zsock_connect(self->monitor, "%s", self->monitor_endpoint);
    if (zsock_bind(self->router, "%s", listen) < 0) {
        log_error("farm: cannot bind %s: %s", listen, zmq_strerror(zmq_errno()));
        s_destroy((void **) &self);
        return NULL;
    }
    char *bound = zsock_last_endpoint(self->router);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", bound ? bound : listen);
    zstr_free(&bound);
    actor_watch_socket(ctx, self->zap, s_on_zap);
    actor_watch_socket(ctx, self->monitor, s_on_monitor);
    actor_watch_socket(ctx, self->router, s_on_router);
    actor_timer_add(ctx, self->heartbeat_ms, self->heartbeat_ms, s_on_tick);
    log_info("farm broker on %s (CURVE, workers allowed from %s/); node key %s", self->endpoint,
             allow, zcert_public_txt(self->cert));
    return self;
}

/* Free everything; jobs in flight are dropped (the job router resumes them from the ledger). */
static void
s_destroy(void **state_p)
{
    farm_t *self = *state_p;
    if (!self)
        return;
    if (self->router) {
        actor_unwatch_socket(self->ctx, self->router);
        zmq_socket_monitor(zsock_resolve(self->router), NULL, 0);
    }
    if (self->monitor)
        actor_unwatch_socket(self->ctx, self->monitor);
    if (self->zap)
        actor_unwatch_socket(self->ctx, self->zap);
    zsock_destroy(&self->router);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->zap);
    zcertstore_destroy(&self->allowed);
    zcert_destroy(&self->cert);
    zlistx_destroy(&self->queue);
    zhashx_destroy(&self->jobs);
    zhashx_destroy(&self->workers);
    msg_buf_free(&self->out);
    msg_release(&self->in);
    free(self);
    *state_p = NULL;
}

static void
s_handle(void *state, const msg_t *msg)
{
    farm_t *self = state;
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
}

static char *
s_status(void *state)
{
    farm_t *self = state;
    int64_t now = actor_now_ms();
    json_object *root = json_object_new_object();
    json_object *farm = json_object_new_object();
    json_object_object_add(root, "farm", farm);
    json_object_object_add(farm, "listen", json_object_new_string(self->endpoint));
    json_object_object_add(farm, "node_key", json_object_new_string(zcert_public_txt(self->cert)));
    json_object_object_add(farm, "queued", json_object_new_int64((int64_t) zlistx_size(self->queue)));
    json_object_object_add(farm, "running", json_object_new_int64(
        (int64_t) (zhashx_size(self->jobs) - zlistx_size(self->queue))));
    json_object_object_add(farm, "requeued", json_object_new_int64((int64_t) self->requeued));
    json_object_object_add(farm, "late_discarded", json_object_new_int64((int64_t) self->late));
    json_object_object_add(farm, "refused", json_object_new_int64((int64_t) self->denied));
    json_object_object_add(farm, "handshake_failures", json_object_new_int64((int64_t) self->handshake_failures));
    json_object_object_add(farm, "bad_messages", json_object_new_int64((int64_t) self->bad));
    json_object *workers = json_object_new_array();
    json_object_object_add(root, "workers", workers);
    for (worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers)) {
        json_object *one = json_object_new_object();
        json_object_object_add(one, "name", json_object_new_string(w->name));
        json_object_object_add(one, "key", json_object_new_string(w->key));
        json_object_object_add(one, "address", json_object_new_string(w->address));
        json_object_object_add(one, "jobs", json_object_new_int64((int64_t) w->held));
        json_object_object_add(one, "done", json_object_new_int64((int64_t) w->done));
        json_object_object_add(one, "failed", json_object_new_int64((int64_t) w->failed));
        json_object_object_add(one, "heard_ms_ago", json_object_new_int64(now - w->last_heard_ms));
        json_object_object_add(one, "up_s", json_object_new_int64((now - w->joined_ms) / 1000));
        json_object *backends = json_object_new_object();
        for (int i = 0; i < w->backend_count; i++) {
            json_object *b = json_object_new_object();
            json_object_object_add(b, "available", json_object_new_boolean(w->backends[i].available));
            json_object_object_add(b, "slots", json_object_new_int64((int64_t) w->backends[i].slots));
            json_object_object_add(b, "in_use", json_object_new_int64((int64_t) w->backends[i].running));
            json_object_object_add(backends, w->backends[i].name, b);
        }
        json_object_object_add(one, "backends", backends);
        json_object_array_add(workers, one);
    }
    json_object *backends = json_object_new_object();
    json_object_object_add(root, "backends", backends);
    for (int i = 0; i < self->offered_count; i++) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "available", json_object_new_boolean(self->offered[i].available));
        json_object_object_add(b, "slots", json_object_new_int64((int64_t) self->offered[i].slots));
        json_object_object_add(b, "queued", json_object_new_int64((int64_t) s_queued_for(self, self->offered[i].name)));
        json_object_object_add(backends, self->offered[i].name, b);
    }
    char *json = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN
                                                             | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return json;
}

const actor_def_t farm_actor = {
    .name = "inference",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
