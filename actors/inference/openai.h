/*  openai.h: the OpenAI chat-completions adapter, and the OpenAI-shape pieces that the
    llama.cpp and Apple FM bridge adapters reuse (their APIs are dialects of it).

    Request: POST /v1/chat/completions {"model","messages","max_tokens","temperature","top_p",
    "frequency_penalty","seed","stop","stream","stream_options":{"include_usage":true}}.
    Response: choices[0].message.content, choices[0].finish_reason, model, usage.
    Stream: SSE of chat.completion.chunk objects with choices[0].delta.content, a finish chunk,
    a usage chunk with "choices":[], then "data: [DONE]". Errors: {"error":{"message","type",
    "param","code"}}. Health: GET /v1/models, is the model listed?
*/
#ifndef PYLON_INFERENCE_OPENAI_H
#define PYLON_INFERENCE_OPENAI_H

#include "inference/backend.h"

extern const backend_ops_t openai_ops;

//  What an error body says, whatever its shape: {"error":{"message","type","code",
//  "n_prompt_tokens","n_ctx"}}, {"error":"text"}, or {"error":"code","message":"text",
//  "unavailableReason":"..."}.
typedef struct {
    char message [256];             //  the server's message, "" if none
    char type [64];                 //  error.type, or the error code string of the FM v0.2 shape
    char code [64];                 //  error.code as text ("context_length_exceeded", "503")
    char reason [64];               //  unavailableReason (FM v0.2)
    int64_t n_prompt_tokens;        //  llama.cpp context errors, else 0
    int64_t n_ctx;                  //  llama.cpp context errors, else 0
} openai_error_info_t;

//  Extract what an error body says (any bytes; missing parts stay empty).
void
    openai_error_info (const char *body, size_t len, openai_error_info_t *info);

//  Map an error status and body the OpenAI way (401/403 auth, 404 model not found, 400
//  context or bad request, 429 busy, 503 loading/busy, 5xx server), prefixed with name.
void
    openai_map_error (const char *name, long status, const char *body, size_t len,
                      backend_error_t *err);

//  Copy the validated messages, keeping role and content (developer becomes system, for
//  servers without that role when map_developer is set). NULL if not a JSON array.
struct json_object *
    openai_messages (const char *messages, bool map_developer);

//  Parse a complete chat.completion object (also the FM v0.2 camelCase spellings), and
//  llama.cpp's timings when it has no usage.
int
    openai_parse_response (const char *body, size_t len, backend_result_t *res, backend_error_t *err);

//  Parse one chat.completion.chunk (or an {"error":...} event).
int
    openai_parse_chunk (const char *data, size_t len, backend_result_t *acc, backend_error_t *err);

//  Serialise a body into an adapter request.
int
    openai_finish_body (struct json_object *body, const char *path, bool streams,
                        backend_http_t *out, backend_error_t *err);

#endif
