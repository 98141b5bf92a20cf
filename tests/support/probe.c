/*  probe.c: see probe.h. */
#include "probe.h"

struct probe {
    char name[MSG_NAME_MAX + 1];
    zsock_t *inbox;                 /* PULL */
    char endpoint[ACTOR_ENDPOINT_MAX];
    struct {
        char name[MSG_NAME_MAX + 1];
        zsock_t *sock;              /* PUSH */
    } peers[ACTOR_MAX_PEERS];
    int peer_count;
    msg_buf_t buf;
};

probe_t *
probe_new(const char *name, const char *endpoint)
{
    zsys_init();
    probe_t *self = calloc(1, sizeof *self);
    snprintf(self->name, sizeof self->name, "%s", name);
    self->inbox = zsock_new(ZMQ_PULL);
    zsock_set_rcvhwm(self->inbox, 0);
    if (zsock_bind(self->inbox, "%s", endpoint) < 0) {
        zsock_destroy(&self->inbox);
        free(self);
        return NULL;
    }
    char *last = zsock_last_endpoint(self->inbox);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", last ? last : endpoint);
    zstr_free(&last);
    return self;
}

void
probe_destroy(probe_t **self_p)
{
    probe_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->peer_count; i++)
        zsock_destroy(&self->peers[i].sock);
    zsock_destroy(&self->inbox);
    msg_buf_free(&self->buf);
    free(self);
    *self_p = NULL;
}

const char *
probe_endpoint(const probe_t *self)
{
    return self->endpoint;
}

int
probe_send(probe_t *self, const char *to, const char *endpoint, msg_t *msg)
{
    zsock_t *sock = NULL;
    for (int i = 0; i < self->peer_count; i++)
        if (streq(self->peers[i].name, to))
            sock = self->peers[i].sock;
    if (!sock) {
        if (self->peer_count == ACTOR_MAX_PEERS)
            return -1;
        sock = zsock_new(ZMQ_PUSH);
        zsock_set_sndhwm(sock, 0);
        zsock_set_linger(sock, 1000);
        if (zsock_connect(sock, "%s", endpoint) < 0) {
            zsock_destroy(&sock);
            return -1;
        }
        snprintf(self->peers[self->peer_count].name, MSG_NAME_MAX + 1, "%s", to);
        self->peers[self->peer_count++].sock = sock;
    }
    msg_set_route(msg, self->name, to);
    if (msg_encode(msg, &self->buf) != 0)
        return -1;
    return zmq_send(zsock_resolve(sock), self->buf.data, self->buf.size, 0) < 0 ? -1 : 0;
}

int
probe_recv(probe_t *self, msg_t *msg, int timeout_ms)
{
    /* Take what is already there without a poll; wait only when the inbox is empty. */
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, zsock_resolve(self->inbox), ZMQ_DONTWAIT) < 0) {
        zmq_pollitem_t item = {zsock_resolve(self->inbox), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, timeout_ms) <= 0
            || zmq_msg_recv(&frame, zsock_resolve(self->inbox), ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            return -1;
        }
    }
    int rc = msg_decode(msg, zmq_msg_data(&frame), zmq_msg_size(&frame));
    zmq_msg_close(&frame);
    return rc == 0 ? 0 : -1;
}

/* ---- hop actors -------------------------------------------------------------------------- */

typedef struct {
    actor_ctx_t *ctx;
    char next[MSG_NAME_MAX + 1];    /* where to forward */
    uint64_t forwarded;             /* messages passed on */
} hop_t;

static void *
s_hop_create(actor_ctx_t *ctx, void *args)
{
    hop_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    snprintf(self->next, sizeof self->next, "%s", (const char *) args);
    return self;
}

static void
s_hop_destroy(void **state_p)
{
    free(*state_p);
    *state_p = NULL;
}

static void
s_hop_handle(void *state, const msg_t *msg)
{
    hop_t *self = state;
    if (msg->type != MSG_RELAY_EVENT)
        return;
    msg_t out = {.type = MSG_RELAY_EVENT, .relay_event = msg->relay_event};
    actor_send(self->ctx, self->next, &out);
    self->forwarded++;
}

static char *
s_hop_status(void *state)
{
    hop_t *self = state;
    char *json;
    if (asprintf(&json, "{\"forwarded\":%llu}", (unsigned long long) self->forwarded) < 0)
        return NULL;
    return json;
}

static actor_def_t s_hops[8];
static char s_hop_names[8][8];

const actor_def_t *
hop_def(int i)
{
    assert(i >= 1 && i <= 8);
    actor_def_t *def = &s_hops[i - 1];
    if (!def->name) {
        snprintf(s_hop_names[i - 1], sizeof s_hop_names[0], "hop%d", i);
        *def = (actor_def_t) {.name = s_hop_names[i - 1], .create = s_hop_create,
                              .destroy = s_hop_destroy, .handle = s_hop_handle,
                              .status = s_hop_status};
    }
    return def;
}
