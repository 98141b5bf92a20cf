/*  probe.h: test fixtures. A probe is the test thread playing an actor: it binds an inbox
    under a name in the directory, so real actors can send to it, and it sends encoded
    messages to their inboxes. A hop actor forwards every RELAY_EVENT it gets to the next
    name: chains of hops exercise the runtime in tests and benchmarks. */
#ifndef PYLON_PROBE_H
#define PYLON_PROBE_H

#include "actor.h"

typedef struct probe probe_t;

/* Bind the probe's inbox at endpoint (ipc/tcp/inproc); name is what actors send to. */
probe_t *probe_new(const char *name, const char *endpoint);
void probe_destroy(probe_t **self_p);
/* The endpoint as bound (for tcp port 0, the real port). */
const char *probe_endpoint(const probe_t *self);
/* Send msg to the actor named to, whose inbox is at endpoint. 0 or -1. */
int probe_send(probe_t *self, const char *to, const char *endpoint, msg_t *msg);
/* Wait up to timeout_ms for one message; 0 with msg filled, or -1 on timeout. */
int probe_recv(probe_t *self, msg_t *msg, int timeout_ms);

/* Hop actors: hop_def(i) is an actor named "hop<i>" (i from 1 to 8) that forwards each
   RELAY_EVENT, re-encoded, to the actor named in its create args (a const char *). */
const actor_def_t *hop_def(int i);

#endif
