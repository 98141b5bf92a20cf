/*  inference.h: what the daemon hands the inference actor (actors/inference.c).

    The actor runs chat completions on the backends enabled in [backends.*] for whoever sends
    it INFER_REQUEST (the job router), and tells the job router when a backend becomes
    available or unavailable (BACKEND_STATUS). See inference.c for the whole protocol. */
#ifndef PYLON_INFERENCE_H
#define PYLON_INFERENCE_H

#include "config.h"

typedef struct {
    const config_t *cfg;            /* borrowed, read-only; must outlive the actor */
} inference_args_t;

#endif
