/*  relay.h: what the daemon hands the relay actor. */
#ifndef PYLON_RELAY_H
#define PYLON_RELAY_H

#include <stdint.h>

#include "config.h"

typedef struct {
    const config_t *cfg;            /* [relays] urls (borrowed, read-only) */
    const uint8_t *seckey;          /* the node's key for NIP-42 AUTH (copied), NULL: decline */
} relay_args_t;

#endif
