/*  ollama.h: the Ollama native API adapter (apis.md A2).

    Request: POST /api/chat {"model","messages","stream","options":{"temperature","top_p",
    "top_k","frequency_penalty","seed","stop","num_predict"}}; stream is always sent, since
    Ollama streams when it is omitted.
    Stream: NDJSON, one {"message":{"content"},"done":false} per piece, ending with a
    "done":true object holding done_reason, prompt_eval_count and eval_count. A mid-stream
    failure is a {"error":"..."} line with status still 200.
    Errors: {"error":"text"}; 404 model not found, 503 server busy (queue full), 500 runner.
    Health: GET /api/tags, is the model there ("name" or "name:latest")?
*/
#ifndef PYLON_INFERENCE_OLLAMA_H
#define PYLON_INFERENCE_OLLAMA_H

#include "inference/backend.h"

extern const backend_ops_t ollama_ops;

//  Parse one /api/chat object (a stream line or the whole non-streamed answer) into acc:
//  0 = not done yet, 1 = the final object, -1 with err (an error line, or malformed).
int
    ollama_parse_object (const char *data, size_t len, backend_result_t *acc, backend_error_t *err);

#endif
