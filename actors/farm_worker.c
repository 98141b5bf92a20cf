/*  farm_worker.c: the worker end of the farm, inside `pylon worker` (actors/cli/farm_cmds.c).

    The worker process runs two actors: this one, named "worker", and the ordinary inference
    actor (actors/inference.c) on the backends of the worker host's own config.toml. The
    inference actor answers whoever sent the request, so jobs forwarded from here come back
    here; it reports BACKEND_STATUS to the name "job_router", which in a worker process is an
    alias of this actor's inbox. So the inference actor runs unchanged, and the broker sees
    every worker the same way.

    The link: a DEALER, CURVE client with the worker's key pair (farm/worker.key_secret, made
    by `pylon worker keygen`) and the node's public key, connected to the node's farm endpoint.
    ZeroMQ reconnects by itself; messages to the node wait in the DEALER's queue meanwhile, so
    a result finished during a short cut is delivered when the link is back.

        at start, and every heartbeat while not joined:  WORKER_HELLO {name, session, backends}
        every [farm] heartbeat_ms:   WORKER_HEARTBEAT {session, ids of the jobs running here}
        the node's WORKER_HEARTBEAT: with our session: joined; with 0: the node does not know
                                     us (it restarted, or gave us up): HELLO again
        INFER_REQUEST / INFER_CANCEL from the node  → the inference actor
        INFER_PARTIAL / INFER_RESULT / BACKEND_STATUS from the inference actor → the node

    The node silent for [farm] liveness_ms: the worker logs it and waits for it to come back;
    it never exits for that. Jobs running here go on: the node decides whether their results
    still count (it discards those of jobs it gave to someone else, and cancels them here).
    The owner thread gets "JOINED" and "LOST" events (actor_signal_owner) to print. */
#include "farm.h"
#include "farm/link.h"
#include "log.h"

#include <json-c/json.h>
#include <sodium.h>

#define MAX_BACKENDS     32         /* backends one worker announces (the broker's limit) */
#define MAX_JOBS         256        /* job ids one heartbeat carries (schemas/messages.def) */
#define DETAIL_MAX       512        /* BACKEND_STATUS detail limit */
#define MIN_HEARTBEAT_MS 100        /* [farm] heartbeat_ms below this is raised to it */

/* One backend of this host, as the inference actor last reported it. */
typedef struct {
    char name[129];                 /* its identifier */
    bool available;                 /* ready to take jobs */
    uint64_t slots;                 /* requests it runs at once */
    char detail[DETAIL_MAX];        /* the inference actor's words */
} local_backend_t;

typedef struct {
    actor_ctx_t *ctx;               /* the runtime side of this actor */
    char name[65];                  /* this worker's name in the node's status */
    char node[256];                 /* the node's farm endpoint */
    zcert_t *cert;                  /* the worker's key pair (secret inside: never logged) */
    zsock_t *dealer;                /* the link to the node */
    zsock_t *monitor;               /* PAIR reading the DEALER's handshake events */
    int handshake;                  /* the last handshake event logged, 0 for none */
    bool queue_full;                /* a send to the node failed (logged once until one works) */
    char public_key[41];            /* this worker's public key (Z85), for the operator */
    uint64_t session;               /* random, for this process's life */
    bool joined;                    /* the node acknowledged our session */
    bool lost;                      /* the node has been silent too long (logged once) */
    int64_t last_heard_ms;          /* anything arrived from the node (actor_now_ms) */
    int64_t heartbeat_ms;           /* [farm] heartbeat_ms */
    int64_t liveness_ms;            /* [farm] liveness_ms */
    local_backend_t backends[MAX_BACKENDS]; /* what this host serves */
    int backend_count;              /* entries in backends */
    zhashx_t *jobs;                 /* job hex -> 32-byte id (owned): running here */
    uint64_t done;                  /* results sent to the node */
    msg_buf_t out;                  /* encode buffer for the DEALER, reused */
    msg_t in;                       /* decode target for the DEALER, reused */
} worker_t;

static void
s_free_id(void **item)
{
    free(*item);
    *item = NULL;
}

static void
s_hex(const uint8_t id[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

/* Send a copy of msg to the node (its route fields are ours to set). */
static void
s_to_node(worker_t *self, const msg_t *msg)
{
    msg_t copy = *msg;
    copy.arena = NULL;
    bool failed = farm_send(self->dealer, NULL, "worker", "inference", &copy, &self->out) != 0;
    if (failed && !self->queue_full)
        log_warn("cannot queue %s for the node (%s): messages to it are dropped until the link "
                 "works", msg_type_name(msg->type), zmq_strerror(zmq_errno()));
    self->queue_full = failed;
}

/* A handshake event on the link: say why the node does not take us, once per change. */
static void
s_on_monitor(void *state, zsock_t *monitor)
{
    worker_t *self = state;
    zmsg_t *event = zmsg_recv(monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    if (head && zframe_size(head) >= 6) {
        uint16_t id;
        memcpy(&id, zframe_data(head), 2);
        if (id != self->handshake) {
            self->handshake = id;
            if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                log_error("the node at %s refused this worker's key: on the node, `pylon farm "
                          "allow NAME '%s'` lets it in", self->node, self->public_key);
            else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                     || id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                log_error("the CURVE handshake with %s failed: is [farm] node_key (--node-key) "
                          "the node's public key, and is it a farm node?", self->node);
            else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                log_info("secure link to the node at %s is up", self->node);
        }
    }
    zmsg_destroy(&event);
}

static void
s_hello(worker_t *self)
{
    json_object *list = json_object_new_array();
    for (int i = 0; i < self->backend_count; i++) {
        json_object *one = json_object_new_object();
        json_object_object_add(one, "backend", json_object_new_string(self->backends[i].name));
        json_object_object_add(one, "available", json_object_new_boolean(self->backends[i].available));
        json_object_object_add(one, "slots", json_object_new_int64((int64_t) self->backends[i].slots));
        json_object_object_add(one, "detail", json_object_new_string(self->backends[i].detail));
        json_object_array_add(list, one);
    }
    msg_t hello = {.type = MSG_WORKER_HELLO,
                   .worker_hello = {.worker = self->name, .session = self->session,
                                    .backends = json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN)}};
    s_to_node(self, &hello);
    json_object_put(list);
}

static void
s_heartbeat(worker_t *self)
{
    uint8_t ids[MAX_JOBS * 32];
    size_t n = 0;
    for (const uint8_t *id = zhashx_first(self->jobs); id && n < MAX_JOBS; id = zhashx_next(self->jobs))
        memcpy(ids + 32 * n++, id, 32);
    msg_t beat = {.type = MSG_WORKER_HEARTBEAT,
                  .worker_heartbeat = {.session = self->session, .jobs = ids, .jobs_size = 32 * n}};
    s_to_node(self, &beat);
}

static void
s_on_tick(void *state, int timer_id)
{
    worker_t *self = state;
    if (!self->lost && actor_now_ms() - self->last_heard_ms > self->liveness_ms) {
        self->lost = true;
        self->joined = false;
        log_warn("the node at %s has been silent for %lld ms: waiting for it (%zu job%s still "
                 "running here)", self->node, (long long) (actor_now_ms() - self->last_heard_ms),
                 zhashx_size(self->jobs), zhashx_size(self->jobs) == 1 ? "" : "s");
        actor_signal_owner(self->ctx, "LOST");
    }
    if (!self->joined)
        s_hello(self);
    s_heartbeat(self);
}

/* Messages from the node. */
static void
s_on_dealer(void *state, zsock_t *dealer)
{
    worker_t *self = state;
    for (int i = 0; i < 256; i++) {
        farm_peer_t peer;
        int decode_rc;
        int got = farm_recv(dealer, false, &peer, &self->in, &decode_rc);
        if (got == 0)
            break;
        self->last_heard_ms = actor_now_ms();
        if (self->lost) {
            self->lost = false;
            log_info("the node at %s answers again", self->node);
        }
        if (got < 0) {
            log_warn("a message from the node does not decode: %s", msg_strerror(decode_rc));
            continue;
        }
        char hex[65];
        switch (self->in.type) {
        case MSG_WORKER_HEARTBEAT:
            if (self->in.worker_heartbeat.session == self->session && !self->joined) {
                self->joined = true;
                log_info("joined the node at %s as %s", self->node, self->name);
                actor_signal_owner(self->ctx, "JOINED");
            }
            else if (self->in.worker_heartbeat.session == 0) {
                if (self->joined)
                    log_info("the node does not know this worker (it restarted, or gave it up): "
                             "joining again");
                self->joined = false;
                s_hello(self);
            }
            break;
        case MSG_INFER_REQUEST:
            s_hex(self->in.infer_request.job, hex);
            if (!zhashx_lookup(self->jobs, hex)) {
                uint8_t *id = malloc(32);
                memcpy(id, self->in.infer_request.job, 32);
                zhashx_insert(self->jobs, hex, id);
            }
            actor_send(self->ctx, "inference", &self->in);
            break;
        case MSG_INFER_CANCEL:
            s_hex(self->in.infer_cancel.job, hex);
            zhashx_delete(self->jobs, hex);
            actor_send(self->ctx, "inference", &self->in);
            break;
        default:
            log_warn("the node sent %s, which a node does not send", msg_type_name(self->in.type));
        }
    }
}

static local_backend_t *
s_backend(worker_t *self, const char *name)
{
    for (int i = 0; i < self->backend_count; i++)
        if (streq(self->backends[i].name, name))
            return &self->backends[i];
    if (self->backend_count == MAX_BACKENDS)
        return NULL;
    local_backend_t *backend = &self->backends[self->backend_count++];
    snprintf(backend->name, sizeof backend->name, "%s", name);
    return backend;
}

/* Messages from the inference actor. */
static void
s_handle(void *state, const msg_t *msg)
{
    worker_t *self = state;
    char hex[65];
    switch (msg->type) {
    case MSG_BACKEND_STATUS: {
        local_backend_t *backend = s_backend(self, msg->backend_status.backend);
        if (!backend) {
            log_error("more than %d backends: %s is not offered to the node", MAX_BACKENDS,
                      msg->backend_status.backend);
            break;
        }
        backend->available = msg->backend_status.available;
        backend->slots = msg->backend_status.slots;
        snprintf(backend->detail, sizeof backend->detail, "%s", msg->backend_status.detail);
        s_to_node(self, msg);
        break;
    }
    case MSG_INFER_PARTIAL:
        s_hex(msg->infer_partial.job, hex);
        if (zhashx_lookup(self->jobs, hex))
            s_to_node(self, msg);
        break;
    case MSG_INFER_RESULT:
        s_hex(msg->infer_result.job, hex);
        if (zhashx_lookup(self->jobs, hex)) {
            zhashx_delete(self->jobs, hex);
            self->done++;
            s_to_node(self, msg);
        }
        break;
    default:
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
    }
}

static void s_destroy(void **state_p);

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    const farm_worker_args_t *given = args;
    const config_t *cfg = given->cfg;
    if (!zsys_has_curve()) {
        log_error("this libzmq has no CURVE: a worker cannot connect securely");
        return NULL;
    }
    worker_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    snprintf(self->name, sizeof self->name, "%s", given->name);
    snprintf(self->node, sizeof self->node, "%s", given->node);
    self->heartbeat_ms = cfg->farm_heartbeat_ms < MIN_HEARTBEAT_MS ? MIN_HEARTBEAT_MS : cfg->farm_heartbeat_ms;
    self->liveness_ms = cfg->farm_liveness_ms < 2 * self->heartbeat_ms ? 2 * self->heartbeat_ms
                                                                       : cfg->farm_liveness_ms;
    self->jobs = zhashx_new();
    zhashx_set_destructor(self->jobs, s_free_id);
    do
        randombytes_buf(&self->session, sizeof self->session);
    while (self->session == 0);
    self->last_heard_ms = actor_now_ms();

    char err[512];
    bool created;
    self->cert = farm_keys_load(cfg->dir, "worker", false, &created, err, sizeof err);
    if (!self->cert) {
        log_error("worker: %s", err);
        s_destroy((void **) &self);
        return NULL;
    }
    snprintf(self->public_key, sizeof self->public_key, "%s", zcert_public_txt(self->cert));
    self->dealer = zsock_new(ZMQ_DEALER);
    char monitor_endpoint[64];
    snprintf(monitor_endpoint, sizeof monitor_endpoint, "inproc://pylon-worker-monitor-%p",
             (void *) self);
    zmq_socket_monitor(zsock_resolve(self->dealer), monitor_endpoint,
                       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                       | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    self->monitor = zsock_new(ZMQ_PAIR);
    zsock_connect(self->monitor, "%s", monitor_endpoint);
    actor_watch_socket(ctx, self->monitor, s_on_monitor);
    zcert_apply(self->cert, self->dealer);
    zsock_set_curve_serverkey(self->dealer, given->node_key);
    zsock_set_maxmsgsize(self->dealer, MSG_MAX_SIZE);
    zsock_set_sndhwm(self->dealer, 10000);
    zsock_set_reconnect_ivl(self->dealer, 250);
    zsock_set_reconnect_ivl_max(self->dealer, 2000);
    if (zsock_connect(self->dealer, "%s", self->node) < 0) {
        log_error("worker: cannot connect to %s: %s", self->node, zmq_strerror(zmq_errno()));
        s_destroy((void **) &self);
        return NULL;
    }
    actor_watch_socket(ctx, self->dealer, s_on_dealer);
    actor_timer_add(ctx, self->heartbeat_ms, self->heartbeat_ms, s_on_tick);
    s_hello(self);
    log_info("worker %s connecting to %s (key %s)", self->name, self->node,
             zcert_public_txt(self->cert));
    return self;
}

static void
s_destroy(void **state_p)
{
    worker_t *self = *state_p;
    if (!self)
        return;
    if (self->dealer) {
        actor_unwatch_socket(self->ctx, self->dealer);
        zmq_socket_monitor(zsock_resolve(self->dealer), NULL, 0);
        zsock_set_linger(self->dealer, 0);
    }
    if (self->monitor)
        actor_unwatch_socket(self->ctx, self->monitor);
    zsock_destroy(&self->dealer);
    zsock_destroy(&self->monitor);
    zcert_destroy(&self->cert);
    zhashx_destroy(&self->jobs);
    msg_buf_free(&self->out);
    msg_release(&self->in);
    free(self);
    *state_p = NULL;
}

static char *
s_status(void *state)
{
    worker_t *self = state;
    json_object *root = json_object_new_object();
    json_object_object_add(root, "node", json_object_new_string(self->node));
    json_object_object_add(root, "joined", json_object_new_boolean(self->joined));
    json_object_object_add(root, "jobs", json_object_new_int64((int64_t) zhashx_size(self->jobs)));
    json_object_object_add(root, "done", json_object_new_int64((int64_t) self->done));
    char *json = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return json;
}

const actor_def_t farm_worker_actor = {
    .name = "worker",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
