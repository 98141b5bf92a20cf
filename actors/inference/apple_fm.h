/*  apple_fm.h: the Apple Foundation Models bridge adapter (apis.md A3), both wire generations.

    The wire is detected by the health probe (backend_health_t.fm_wire, to be stored in
    backend_t.fm_wire): v1 answers /health with "status", v0.2 with "ready".
      - v1: snake_case OpenAI shape, max_tokens, optional SSE streaming (with id: lines),
        sampling through "sampling_mode"; the server reads ONE packet of at most 64 KiB, so the
        body is capped at BACKEND_FM_V1_MAX_BODY.
      - v0.2: camelCase (maxTokens, finishReason, promptTokens), no streaming on
        /v1/chat/completions: a streamed job gets the whole text as one delta.
      - unknown (no probe yet): the v1 shape without streaming, which both understand.
    Every response has Connection: close, so connections are never reused. Usage is the
    bridge's own estimate (characters / 4) and is marked as such.
*/
#ifndef PYLON_INFERENCE_APPLE_FM_H
#define PYLON_INFERENCE_APPLE_FM_H

#include "inference/backend.h"

extern const backend_ops_t apple_fm_ops;

#endif
