/*  tap.c: see tap.h. The tap is a small proxy thread (XSUB in, XPUB out) that also reads the
    subscription frames XPUB hands it (\x01 subscribe, \x00 unsubscribe; with XPUB_VERBOSER
    every one of them, including those generated when a subscriber goes away) to keep count. */
#include "tap.h"
#include "log.h"

#include <msgpack.h>
#include <stdatomic.h>
#include <sys/time.h>

struct tap {
    zactor_t *actor;        /* the proxy thread */
};

typedef struct {
    const char *in;         /* endpoints, borrowed from tap_new's caller until ready */
    const char *out;
    const char *ipc;
} tap_args_t;

static atomic_int s_listeners;   /* subscriptions across every tap of this process */
static atomic_uint_fast64_t s_seq;   /* order of tap copies, process-wide */

bool
tap_listening(void)
{
    return atomic_load_explicit(&s_listeners, memory_order_relaxed) > 0;
}

static void
s_tap_actor(zsock_t *pipe, void *args_)
{
    tap_args_t *args = args_;
    log_set_actor("tap");
    zsock_t *in = zsock_new(ZMQ_XSUB);
    zsock_t *out = zsock_new(ZMQ_XPUB);
    zsock_set_xpub_verboser(out, 1);
    zsock_set_sndhwm(out, 100000);
    int rc = zsock_bind(in, "%s", args->in);
    if (rc >= 0)
        rc = zsock_bind(out, "%s", args->out);
    if (rc >= 0 && args->ipc)
        rc = zsock_bind(out, "%s", args->ipc);
    if (rc < 0)
        log_error("cannot bind the tap (%s, %s, %s): %s", args->in, args->out,
                  args->ipc ? args->ipc : "-", zmq_strerror(zmq_errno()));
    int mine = 0;   /* subscriptions this tap counted, returned on exit */
    zsock_signal(pipe, rc < 0 ? 1 : 0);
    bool terminated = rc < 0;
    void *in_h = zsock_resolve(in), *out_h = zsock_resolve(out);
    while (!terminated) {
        zmq_pollitem_t items[] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                                  {in_h, 0, ZMQ_POLLIN, 0},
                                  {out_h, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, -1) < 0 && zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *verb = zstr_recv(pipe);
            terminated = !verb || streq(verb, "$TERM");
            zstr_free(&verb);
        }
        /* Forward whole multi-frame messages in batches so one side cannot starve the other. */
        for (int batch = 0; batch < 256 && (items[1].revents & ZMQ_POLLIN); batch++) {
            zmq_msg_t frame;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, in_h, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&frame);
                break;
            }
            int more = zmq_msg_more(&frame);
            zmq_msg_send(&frame, out_h, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
            zmq_msg_close(&frame);
            if (more)
                batch--;    /* a message counts once, whatever its frames */
        }
        for (int batch = 0; batch < 256 && (items[2].revents & ZMQ_POLLIN); batch++) {
            zmq_msg_t frame;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, out_h, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&frame);
                break;
            }
            const uint8_t *data = zmq_msg_data(&frame);
            if (zmq_msg_size(&frame) >= 1 && (data[0] == 1 || data[0] == 0)) {
                int delta = data[0] == 1 ? 1 : -1;
                mine += delta;
                atomic_fetch_add(&s_listeners, delta);
            }
            zmq_msg_send(&frame, in_h, ZMQ_DONTWAIT);
            zmq_msg_close(&frame);
        }
    }
    atomic_fetch_sub(&s_listeners, mine);
    zsock_destroy(&in);
    zsock_destroy(&out);
    zsock_signal(pipe, 0);
}

tap_t *
tap_new(const char *in_endpoint, const char *out_endpoint, const char *ipc_endpoint)
{
    tap_args_t args = {in_endpoint, out_endpoint, ipc_endpoint};
    tap_t *self = calloc(1, sizeof *self);
    self->actor = zactor_new(s_tap_actor, &args);
    return self;
}

void
tap_destroy(tap_t **self_p)
{
    if (*self_p) {
        zactor_destroy(&(*self_p)->actor);
        free(*self_p);
        *self_p = NULL;
    }
}

static int
s_frame_write(void *data, const char *bytes, size_t len)
{
    zchunk_extend(data, bytes, len);
    return 0;
}

void
tap_publish(zsock_t *pub, const char *from, const char *to, int type, const void *body,
            size_t size)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    zchunk_t *header = zchunk_new(NULL, 128);
    msgpack_packer pk;
    msgpack_packer_init(&pk, header, s_frame_write);
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint64(&pk, (uint64_t) tv.tv_sec * 1000000u + (uint64_t) tv.tv_usec);
    msgpack_pack_uint64(&pk, atomic_fetch_add(&s_seq, 1));
    msgpack_pack_str_with_body(&pk, from, strlen(from));
    msgpack_pack_str_with_body(&pk, to, strlen(to));
    msgpack_pack_int(&pk, type);
    void *handle = zsock_resolve(pub);
    zmq_send(handle, zchunk_data(header), zchunk_size(header), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(handle, body, size, ZMQ_DONTWAIT);
    zchunk_destroy(&header);
}

int
tap_header_decode(const void *data, size_t size, uint64_t *timestamp_us, uint64_t *seq,
                  char *from, char *to, size_t name_size, int *type)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    int rc = -1;
    /* A header is tiny: bound its size and insist on a 5-array before msgpack-c allocates. */
    if (size <= 256 && size > 0 && ((const uint8_t *) data)[0] == 0x95
        && msgpack_unpack_next(&unpacked, data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        msgpack_object *o = &unpacked.data;
        msgpack_object *a = o->via.array.ptr;
        if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 5
            && (a[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            && (a[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            && a[2].type == MSGPACK_OBJECT_STR && a[3].type == MSGPACK_OBJECT_STR
            && a[4].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            *timestamp_us = a[0].via.u64;
            *seq = a[1].via.u64;
            snprintf(from, name_size, "%.*s", (int) a[2].via.str.size, a[2].via.str.ptr);
            snprintf(to, name_size, "%.*s", (int) a[3].via.str.size, a[3].via.str.ptr);
            *type = (int) a[4].via.u64;
            rc = 0;
        }
    }
    msgpack_unpacked_destroy(&unpacked);
    return rc;
}
