/*  actors.h: every actor of the daemon, one definition each (see runtime/actor.h for the
    template they all follow). The daemon's start order is in actors/daemon.c. */
#ifndef PYLON_ACTORS_H
#define PYLON_ACTORS_H

#include "actor.h"

extern const actor_def_t ledger_actor;      /* actors/ledger.c: the only SQLite writer */
extern const actor_def_t pricing_actor;     /* actors/pricing.c: what a job costs */
extern const actor_def_t wallet_actor;      /* actors/wallet.c: invoices and payments */
extern const actor_def_t control_actor;     /* actors/control.c: the CLI's door */
extern const actor_def_t job_router_actor;  /* actors/job_router.c: the job state machine */
extern const actor_def_t relay_actor;       /* actors/relay.c: every WebSocket to Nostr */
extern const actor_def_t inference_actor;   /* actors/inference.c: chat completions on the backends */

#endif
