/*  backend.h: what every inference backend adapter shares, and the driver the inference actor
    uses to run chat requests and health probes on any of them.

    A backend is an HTTP server: llama.cpp's llama-server, Ollama, the Apple Foundation Models
    bridge (wire v1 or v0.2), or any OpenAI-compatible server. Each adapter (llamacpp.c,
    ollama.c, apple_fm.c, openai.c) is a table of functions (backend_ops_t) that
      - builds the HTTP request for a common chat request, passing only what that server
        supports, after the values were validated and bounded here;
      - parses a full response, a stream chunk, an error body and a health answer into the
        common results below, taking usage numbers only from the server's own fields.
    The driver (backend_call_start, backend_probe_start) runs those over the non-blocking
    runtime/http client and the runtime/stream parsers, so the actor stays a thin poll loop:
    it starts calls, forwards deltas, and gets exactly one completion per call.
*/
#ifndef PYLON_INFERENCE_BACKEND_H
#define PYLON_INFERENCE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

//  Limits on what we send and accept
#define BACKEND_MAX_MESSAGES        256             //  messages in one chat request
#define BACKEND_MAX_MESSAGES_BYTES  (1024 * 1024)   //  the messages JSON text
#define BACKEND_MAX_STOP            4               //  stop sequences
#define BACKEND_MAX_STOP_BYTES      64              //  bytes in one stop sequence
#define BACKEND_MAX_TOKENS_LIMIT    (1 << 20)       //  largest max_tokens accepted
#define BACKEND_MAX_RESPONSE        (16u * 1024 * 1024)  //  default response size limit
#define BACKEND_MAX_LINE            (1024 * 1024)   //  one SSE / NDJSON line
#define BACKEND_FM_V1_MAX_BODY      60000           //  FM bridge v1 reads one 64 KiB packet

typedef enum {
    BACKEND_LLAMACPP,               //  llama.cpp llama-server
    BACKEND_OLLAMA,                 //  Ollama native API (/api/chat, NDJSON)
    BACKEND_APPLE_FM,               //  Apple Foundation Models bridge, wire v1 or v0.2
    BACKEND_OPENAI                  //  any OpenAI chat-completions server
} backend_kind_t;

//  Job error codes: distinct, stable, each with a name (backend_code_name).
typedef enum {
    BACKEND_OK = 0,
    BACKEND_ERR_LOADING,            //  the model is still loading (llama.cpp 503 "Loading model")
    BACKEND_ERR_MODEL_NOT_FOUND,    //  the server does not have the model
    BACKEND_ERR_CONTEXT_TOO_LONG,   //  prompt larger than the context (numbers in the message)
    BACKEND_ERR_BUSY,               //  server busy / rate limited: retry later
    BACKEND_ERR_AUTH,               //  401/403: API key missing or wrong
    BACKEND_ERR_UNAVAILABLE,        //  the FM bridge says the model is not available
    BACKEND_ERR_BAD_REQUEST,        //  the request was refused (by our checks or a 400)
    BACKEND_ERR_SERVER,             //  the server failed (5xx)
    BACKEND_ERR_MALFORMED,          //  the answer was not the expected JSON
    BACKEND_ERR_STREAM,             //  an error chunk arrived in the middle of a stream
    BACKEND_ERR_TRUNCATED,          //  the stream ended without its terminator
    BACKEND_ERR_CONNECTION,         //  connection refused, reset, or closed mid-response
    BACKEND_ERR_TIMEOUT,            //  connect, first-byte, idle or total timeout
    BACKEND_ERR_TOO_LARGE,          //  the answer passed the size limit
    BACKEND_ERR_CANCELLED,          //  cancelled by the caller
    BACKEND_ERR_CONFIG              //  unknown backend identifier, unusable URL
} backend_code_t;

//  An error with its detail. The message never holds an API key.
typedef struct {
    backend_code_t code;            //  BACKEND_OK when there is no error
    long http_status;               //  the server's status, 0 when none
    int64_t n_prompt_tokens;        //  context errors: the server's prompt size, else 0
    int64_t n_ctx;                  //  context errors: the server's context size, else 0
    char message [512];             //  what happened, for the job's error feedback
} backend_error_t;

typedef enum {
    BACKEND_FINISH_NONE = 0,        //  not finished (yet)
    BACKEND_FINISH_STOP,            //  end of text or a stop sequence
    BACKEND_FINISH_LENGTH,          //  max_tokens or context exhausted
    BACKEND_FINISH_TOOL_CALLS,      //  the model called tools
    BACKEND_FINISH_CONTENT_FILTER,  //  filtered
    BACKEND_FINISH_OTHER            //  anything else the server said
} backend_finish_t;

//  A resolved backend: where it is and what to ask for.
typedef struct {
    backend_kind_t kind;            //  which adapter
    char id [128];                  //  the identifier it was resolved from
    char base_url [512];            //  "http://host:port", no trailing slash
    char model [128];               //  model name sent to / expected from the server
    char api_key [256];             //  bearer key (OpenAI), "" when none; never logged
    int fm_wire;                    //  FM bridge wire: 0 unknown, 1 = v1, 2 = v0.2 (from a probe)
} backend_t;

//  Configuration values for backend_resolve (NULL = not configured). The environment
//  variables PYLON_LLAMA_SERVER_URL, PYLON_FM_BRIDGE_URL, PYLON_OLLAMA_URL, PYLON_OPENAI_URL
//  and PYLON_OPENAI_API_KEY override them.
typedef struct {
    const char *llama_url;          //  default http://localhost:8080
    const char *fm_url;             //  default http://localhost:11435
    const char *ollama_url;         //  default http://localhost:11434
    const char *openai_url;         //  no default: required for openai:<model>
    const char *openai_api_key;     //  bearer key for openai:<model>
} backend_config_t;

//  The common chat request. Unset optional values: NaN for doubles, -1 for integers
//  (backend_chat_init sets all of them).
typedef struct {
    const char *messages;           //  JSON array of {"role","content"} objects, as text
    double temperature;             //  0..2
    double top_p;                   //  0..1
    int top_k;                      //  1..1000
    double frequency_penalty;       //  -2..2
    int64_t max_tokens;             //  1..BACKEND_MAX_TOKENS_LIMIT
    int64_t seed;                   //  0..UINT32_MAX
    const char *stop [BACKEND_MAX_STOP];   //  stop sequences, NULL-padded
    bool stream;                    //  deliver deltas as they come
} backend_chat_t;

//  The common result of a chat request.
typedef struct {
    char *content;                  //  the full text (accumulated from deltas when streamed)
    size_t content_len;             //  bytes in content (it may hold NUL bytes)
    size_t content_cap;             //  allocated size of content
    char model [128];               //  model name the server reported, "" if none
    backend_finish_t finish;        //  why generation ended
    bool has_usage;                 //  the server reported token counts
    bool usage_estimated;           //  those counts are the server's estimate (FM bridge)
    int64_t prompt_tokens;          //  prompt tokens, from the server
    int64_t completion_tokens;      //  generated tokens, from the server
} backend_result_t;

typedef enum {
    BACKEND_STATE_DOWN = 0,         //  unreachable or broken
    BACKEND_STATE_LOADING,          //  up, model loading
    BACKEND_STATE_UNAVAILABLE,      //  up, but says it cannot serve (FM not ready)
    BACKEND_STATE_MODEL_MISSING,    //  up, but the configured model is not there
    BACKEND_STATE_READY             //  ready for jobs
} backend_state_t;

//  What a health probe found.
typedef struct {
    backend_state_t state;          //  overall verdict
    int total_slots;                //  llama.cpp /props total_slots, 0 when unknown
    int64_t n_ctx;                  //  per-slot context from /props, 0 when unknown
    char model [128];               //  model name the server reports, "" if none
    int fm_wire;                    //  FM bridge wire detected: 1 or 2, 0 otherwise
    backend_error_t error;          //  why it is not ready
} backend_health_t;

//  The HTTP request an adapter builds for a chat.
typedef struct {
    char path [64];                 //  e.g. "/v1/chat/completions"
    char *body;                     //  JSON body (owned, free with free())
    size_t body_len;                //  bytes in body
    bool streams;                   //  the server will answer as a stream
    bool no_reuse;                  //  the server closes every connection (FM bridge)
} backend_http_t;

//  An adapter. Every parse function accepts any bytes and never crashes on them.
typedef struct {
    const char *name;               //  "llama.cpp", "ollama", ...
    bool ndjson;                    //  streams are NDJSON (else SSE)
    //  Build the chat request; -1 with err set if the request cannot be sent to this server.
    int (*build_chat) (const backend_t *backend, const backend_chat_t *chat,
                       backend_http_t *out, backend_error_t *err);
    //  Parse a complete 2xx response into res; -1 with err set.
    int (*parse_response) (const char *body, size_t len, backend_result_t *res,
                           backend_error_t *err);
    //  Parse one stream event / line, appending to acc: 0 = go on, 1 = final chunk seen,
    //  -1 with err set (an error chunk, or malformed).
    int (*parse_chunk) (const char *data, size_t len, backend_result_t *acc,
                        backend_error_t *err);
    //  Turn a non-2xx answer into an error.
    void (*parse_error) (long status, const char *body, size_t len, backend_error_t *err);
    //  Health probe: the paths to GET in order, NULL-terminated.
    const char *probe_paths [3];
    //  Parse the answer to probe step `step`: 0 = go to the next step, 1 = verdict in health.
    int (*parse_probe) (int step, long status, const char *body, size_t len,
                        const backend_t *backend, backend_health_t *health);
} backend_ops_t;

//  Timeouts and limits for a call or probe (0 = the default shown).
typedef struct {
    long connect_ms;                //  5000
    long first_byte_ms;             //  300000 (llama.cpp processes the whole prompt first)
    long idle_ms;                   //  60000, once the answer started
    long total_ms;                  //  0 = none
    size_t max_response;            //  BACKEND_MAX_RESPONSE
} backend_limits_t;

//  Called with each piece of text as it arrives (streamed calls only).
typedef void (backend_delta_fn) (void *arg, const char *text, size_t len);

//  Called exactly once per started call: error->code is BACKEND_OK on success, and then
//  result holds the full content, finish reason, model and usage.
typedef void (backend_done_fn) (void *arg, const backend_result_t *result,
                                const backend_error_t *error);

//  Called once per probe with the verdict.
typedef void (backend_health_fn) (void *arg, const backend_health_t *health);

//  --------------------------------------------------------------------------

//  The adapter for a kind.
const backend_ops_t *
    backend_ops (backend_kind_t kind);

//  Resolve an identifier (llamacpp:gpt_oss_20b, llamacpp:gpt_oss_120b, apple_fm,
//  ollama:<model>, openai:<model>) to kind, base URL and model. config may be NULL.
//  Returns 0, or -1 with err (BACKEND_ERR_CONFIG).
int
    backend_resolve (const char *id, const backend_config_t *config, backend_t *backend,
                     backend_error_t *err);

//  Set every optional field of a chat request to "unset".
void
    backend_chat_init (backend_chat_t *chat);

//  Check a chat request against the limits above and what this backend accepts.
//  Returns 0, or -1 with err (BACKEND_ERR_BAD_REQUEST).
int
    backend_chat_check (const backend_t *backend, const backend_chat_t *chat,
                        backend_error_t *err);

//  Start a chat call. Returns the HTTP request id (> 0; pass it to http_client_cancel to
//  cancel, which completes the call with BACKEND_ERR_CANCELLED), or 0 with err set when the
//  request is refused before sending (on_done is then not called).
uint64_t
    backend_call_start (http_client_t *client, const backend_t *backend,
                        const backend_chat_t *chat, const backend_limits_t *limits,
                        backend_delta_fn *on_delta, backend_done_fn *on_done, void *arg,
                        backend_error_t *err);

//  Start a health probe. Returns the id of its first HTTP request, or 0 if it could not start.
uint64_t
    backend_probe_start (http_client_t *client, const backend_t *backend,
                         const backend_limits_t *limits, backend_health_fn *fn, void *arg);

//  Free what a result owns and clear it.
void
    backend_result_clear (backend_result_t *res);

//  Stable short name of a code ("loading", "context_too_long", ...).
const char *
    backend_code_name (backend_code_t code);

//  Name of a finish reason ("stop", "length", ...), "" for NONE.
const char *
    backend_finish_name (backend_finish_t finish);

//  Name of a health state ("ready", "loading", ...).
const char *
    backend_state_name (backend_state_t state);

//  True if a job failing with this code may be retried later on the same backend.
bool
    backend_code_retryable (backend_code_t code);

//  --------------------------------------------------------------------------
//  Helpers for the adapters (implemented in backend.c)

struct json_object;

//  Parse JSON text of at most len bytes (depth-limited). NULL with err (MALFORMED) if it is
//  not JSON or not an object.
struct json_object *
    backend_json_parse (const char *data, size_t len, backend_error_t *err);

//  The string value of key in obj, or NULL if absent or not a string.
const char *
    backend_json_string (struct json_object *obj, const char *key);

//  The integer value of key in obj (a JSON number); false if absent or not a number.
bool
    backend_json_int (struct json_object *obj, const char *key, int64_t *value);

//  Append text to a result's content. -1 if it would pass BACKEND_MAX_RESPONSE.
int
    backend_result_append (backend_result_t *res, const char *text, size_t len);

//  Map a finish-reason string ("stop", "length", ...; any other = OTHER, NULL = NONE).
backend_finish_t
    backend_finish_parse (const char *reason);

//  Set an error: code, HTTP status, printf-style message (non-printable bytes replaced).
void
    backend_error_set (backend_error_t *err, backend_code_t code, long status,
                       const char *format, ...) __attribute__ ((format (printf, 4, 5)));

#endif
