/*  llamacpp.h: the llama.cpp llama-server adapter.

    An OpenAI dialect (openai.h) with these differences, from apis.md A1 and what a real
    llama-server answered (llama-server-observed.md):
      - sampling extras: top_k is accepted; the model field is ignored by the server;
      - streams always ask for stream_options.include_usage, and a finish chunk's timings
        stand in for usage when a server omits it;
      - 503 {"error":{"message":"Loading model"}} on every path while the model loads;
      - 400 exceed_context_size_error carries n_prompt_tokens and n_ctx (kept in the error);
      - invalid JSON gets 500, and there is no "busy" error: requests queue for a slot.
    Health: GET /health (200 {"status":"ok"}, 503 while loading), then GET /props for
    total_slots and the per-slot n_ctx.
*/
#ifndef PYLON_INFERENCE_LLAMACPP_H
#define PYLON_INFERENCE_LLAMACPP_H

#include "inference/backend.h"

extern const backend_ops_t llamacpp_ops;

#endif
