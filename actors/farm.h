/*  farm.h: what the daemon and `pylon worker` hand the two farm actors.

    farm_actor (actors/farm.c) is the broker inside the node: in farm mode ([farm] listen set)
    it takes the actor name "inference", so the job router's INFER_REQUEST reaches it exactly
    as it would reach the local inference actor, and it passes each job to a worker process.
    farm_worker_actor (actors/farm_worker.c) is the other end, inside `pylon worker`: it links
    the worker host's own inference actor to the node. */
#ifndef PYLON_FARM_H
#define PYLON_FARM_H

#include "actor.h"
#include "config.h"

typedef struct {
    const config_t *cfg;        /* borrowed, read-only; [farm] and [limits]; must outlive it */
    const char *listen;         /* endpoint to bind (tcp://...), NULL for cfg->farm_listen */
} farm_args_t;

typedef struct {
    const config_t *cfg;        /* borrowed, read-only: [farm]; must outlive the actor */
    const char *node;           /* the node's farm endpoint (tcp://host:port) */
    const char *node_key;       /* the node's public CURVE key, Z85 */
    const char *name;           /* this worker's name in the node's status */
} farm_worker_args_t;

extern const actor_def_t farm_actor;          /* actors/farm.c: the broker, named "inference" */
extern const actor_def_t farm_worker_actor;   /* actors/farm_worker.c: named "worker" */

#endif
