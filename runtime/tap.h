/*  tap.h: the monitoring tap. Every actor-to-actor message is also published here, so that
    `pylon tap` or any ZeroMQ SUB socket can watch the system live without touching it.

    Actors publish on a PUB socket connected to the tap's input (an XSUB); the tap forwards to
    its outputs (XPUB, bound inproc and optionally ipc:// in the config dir). Each tap message
    has two frames:
        1. header: msgpack [timestamp_us, seq, from, to, type_id]
        2. body:   the message exactly as sent (msg.h encoding)
    timestamp_us is wall-clock time; seq is a process-wide counter taken before the message
    is sent. Copies from different actors travel on different sockets and may reach a
    subscriber interleaved: order them by seq (a reply always has a higher seq than the
    message that caused it).
    The tap counts its subscribers; while there are none, actors skip publishing altogether,
    so an unwatched tap costs one atomic load per message. */
#ifndef PYLON_TAP_H
#define PYLON_TAP_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct tap tap_t;

/* Start the tap: input at in_endpoint, outputs at out_endpoint and (if not NULL) ipc_endpoint. */
tap_t *tap_new(const char *in_endpoint, const char *out_endpoint, const char *ipc_endpoint);
void tap_destroy(tap_t **self_p);

/* True while at least one subscriber listens on any tap in this process. */
bool tap_listening(void);

/* Publish one message (called by the actor runtime just before the send). */
void tap_publish(zsock_t *pub, const char *from, const char *to, int type, const void *body,
                 size_t size);

/* Decode a tap header frame; 0 or -1. */
int tap_header_decode(const void *data, size_t size, uint64_t *timestamp_us, uint64_t *seq,
                      char *from, char *to, size_t name_size, int *type);

#endif
