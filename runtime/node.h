/*  node.h: a set of actors started in order and stopped in reverse, with their tap.

    The daemon's own set and order are in actors/daemon.c; tests build smaller sets. Start
    order is dependency order (the ledger first), so stop order is edge first: the actors
    that take input from outside stop before those that keep state, and the ledger stops
    last, after everything that could still send it a write. */
#ifndef PYLON_NODE_H
#define PYLON_NODE_H

#include "actor.h"

#define NODE_MAX_ACTORS ACTOR_MAX_PEERS

typedef struct {
    const actor_def_t *def;     /* which actor */
    void *args;                 /* handed to def->create (must outlive the node) */
} node_member_t;

typedef struct node node_t;

/* Endpoints: dir gives each member's inbox; a member missing from dir gets
   inproc://<prefix><name>. The tap takes input at inproc://<prefix>tap-in and publishes at
   inproc://<prefix>tap and, if tap_ipc is not NULL, there too. Returns NULL (having stopped
   what it started) if any actor fails to start. */
node_t *node_start(const node_member_t *members, int count, const actor_directory_t *dir,
                   const char *prefix, const char *tap_ipc);
/* Stop every actor in reverse start order, then the tap; null *self_p. */
void node_stop(node_t **self_p);
/* The running actor of that name, or NULL. */
actor_t *node_actor(node_t *self, const char *name);
/* The directory the actors were started with (endpoints as configured). */
const actor_directory_t *node_directory(const node_t *self);

#endif
