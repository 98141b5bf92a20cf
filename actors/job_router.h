/*  job_router.h: what the daemon hands the job router. */
#ifndef PYLON_JOB_ROUTER_H
#define PYLON_JOB_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct {
    const config_t *cfg;            /* borrowed, read-only */
    const uint8_t *seckey;          /* the node's Nostr secret key (32 bytes; copied at start) */
    const char *const *assume_available;   /* backends taken as available before any probe */
    size_t assume_available_count;  /* (tests without an inference actor) */
} job_router_args_t;

#endif
