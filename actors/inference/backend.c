/*  backend.c: identifier resolution, request checks, the chat-call and health-probe drivers,
    and the small helpers the adapters share (see backend.h).

    A chat call is one HTTP request. Its body bytes go to an SSE or NDJSON parser (when the
    server streams) whose events go to the adapter's parse_chunk; new text is handed to the
    caller as a delta. When the HTTP request completes, exactly one of these decides the
    outcome, in this order: an error the parser or adapter found in the body, a transport error
    (refused, reset, timeout, too large, cancelled), a non-2xx status (the adapter's
    parse_error), a stream that ended without its terminator, or success.
*/
#include "inference/backend.h"
#include "inference/apple_fm.h"
#include "inference/llamacpp.h"
#include "inference/ollama.h"
#include "inference/openai.h"
#include "stream.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKEND_JSON_DEPTH  32      //  deepest JSON nesting accepted from a server
#define streq(a, b) (strcmp ((a), (b)) == 0)

const backend_ops_t *
backend_ops (backend_kind_t kind)
{
    switch (kind) {
        case BACKEND_LLAMACPP: return &llamacpp_ops;
        case BACKEND_OLLAMA:   return &ollama_ops;
        case BACKEND_APPLE_FM: return &apple_fm_ops;
        case BACKEND_OPENAI:   return &openai_ops;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Helpers

void
backend_error_set (backend_error_t *err, backend_code_t code, long status, const char *format, ...)
{
    err->code = code;
    err->http_status = status;
    va_list args;
    va_start (args, format);
    vsnprintf (err->message, sizeof err->message, format, args);
    va_end (args);
    //  Server text goes into job feedback and logs: keep it printable
    for (char *c = err->message; *c; c++)
        if ((unsigned char) *c < 0x20)
            *c = ' ';
}

struct json_object *
backend_json_parse (const char *data, size_t len, backend_error_t *err)
{
    json_tokener *tok = json_tokener_new_ex (BACKEND_JSON_DEPTH);
    if (!tok) {
        backend_error_set (err, BACKEND_ERR_MALFORMED, 0, "out of memory");
        return NULL;
    }
    json_object *obj = NULL;
    if (len <= INT32_MAX)
        obj = json_tokener_parse_ex (tok, data, (int) len);
    enum json_tokener_error jerr = json_tokener_get_error (tok);
    //  The whole text must be one JSON value (trailing whitespace allowed)
    size_t used = json_tokener_get_parse_end (tok);
    json_tokener_free (tok);
    while (obj && used < len && data [used] && strchr (" \t\r\n", data [used]))
        used++;
    if (!obj || jerr != json_tokener_success || used != len
    ||  !json_object_is_type (obj, json_type_object)) {
        json_object_put (obj);
        //  Quote the start of what came (data need not be NUL-terminated)
        int shown = len > 60 ? 60 : (int) len;
        backend_error_set (err, BACKEND_ERR_MALFORMED, 0, "malformed JSON from the server (%.*s%s)",
                           shown, len ? data : "", len > 60 ? "..." : "");
        return NULL;
    }
    return obj;
}

const char *
backend_json_string (json_object *obj, const char *key)
{
    json_object *value;
    if (obj && json_object_object_get_ex (obj, key, &value) && json_object_is_type (value, json_type_string))
        return json_object_get_string (value);
    return NULL;
}

bool
backend_json_int (json_object *obj, const char *key, int64_t *out)
{
    json_object *value;
    if (!obj || !json_object_object_get_ex (obj, key, &value))
        return false;
    if (json_object_is_type (value, json_type_int)) {
        *out = json_object_get_int64 (value);
        return true;
    }
    if (json_object_is_type (value, json_type_double)) {
        double d = json_object_get_double (value);
        if (!isfinite (d) || d < -9e15 || d > 9e15)
            return false;
        *out = (int64_t) d;
        return true;
    }
    return false;
}

int
backend_result_append (backend_result_t *res, const char *text, size_t len)
{
    if (res->content_len + len > BACKEND_MAX_RESPONSE)
        return -1;
    if (res->content_len + len + 1 > res->content_cap) {
        size_t cap = res->content_cap ? res->content_cap : 256;
        while (cap < res->content_len + len + 1)
            cap *= 2;
        char *grown = realloc (res->content, cap);
        if (!grown)
            return -1;
        res->content = grown;
        res->content_cap = cap;
    }
    memcpy (res->content + res->content_len, text, len);
    res->content_len += len;
    res->content [res->content_len] = 0;
    return 0;
}

void
backend_result_clear (backend_result_t *res)
{
    free (res->content);
    memset (res, 0, sizeof *res);
}

backend_finish_t
backend_finish_parse (const char *reason)
{
    if (!reason)
        return BACKEND_FINISH_NONE;
    if (streq (reason, "stop"))
        return BACKEND_FINISH_STOP;
    if (streq (reason, "length"))
        return BACKEND_FINISH_LENGTH;
    if (streq (reason, "tool_calls") || streq (reason, "function_call"))
        return BACKEND_FINISH_TOOL_CALLS;
    if (streq (reason, "content_filter"))
        return BACKEND_FINISH_CONTENT_FILTER;
    return BACKEND_FINISH_OTHER;
}

//  --------------------------------------------------------------------------
//  Resolution

//  Copy a base URL: http(s)://, bounded, printable, no trailing slash. -1 if unusable.
static int
s_set_url (backend_t *backend, const char *url, const char *what, backend_error_t *err)
{
    size_t len = strlen (url);
    if ((strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0)
    ||  len >= sizeof backend->base_url || len < 8) {
        backend_error_set (err, BACKEND_ERR_CONFIG, 0, "%s: base URL must be http(s)://host[:port] "
                           "and shorter than %zu bytes", what, sizeof backend->base_url);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) url [i] <= 0x20 || url [i] == 0x7f) {
            backend_error_set (err, BACKEND_ERR_CONFIG, 0, "%s: base URL has a space or control byte", what);
            return -1;
        }
    memcpy (backend->base_url, url, len + 1);
    while (len > 0 && backend->base_url [len - 1] == '/')
        backend->base_url [--len] = 0;
    return 0;
}

//  The first of: environment variable, configuration value, default.
static const char *
s_pick (const char *env_name, const char *configured, const char *fallback)
{
    const char *env = getenv (env_name);
    if (env && *env)
        return env;
    if (configured && *configured)
        return configured;
    return fallback;
}

//  Model names: letters, digits and . _ : - / + only, 1..127 bytes.
static int
s_set_model (backend_t *backend, const char *model, backend_error_t *err)
{
    size_t len = strlen (model);
    if (len == 0 || len >= sizeof backend->model) {
        backend_error_set (err, BACKEND_ERR_CONFIG, 0, "model name must be 1..%zu bytes",
                           sizeof backend->model - 1);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-/+", model [i])) {
            backend_error_set (err, BACKEND_ERR_CONFIG, 0, "model name has an unexpected character");
            return -1;
        }
    memcpy (backend->model, model, len + 1);
    return 0;
}

int
backend_resolve (const char *id, const backend_config_t *config, backend_t *backend,
                 backend_error_t *err)
{
    static const backend_config_t none = { 0 };
    if (!config)
        config = &none;
    memset (backend, 0, sizeof *backend);
    memset (err, 0, sizeof *err);
    if (!id || strlen (id) >= sizeof backend->id) {
        backend_error_set (err, BACKEND_ERR_CONFIG, 0, "backend identifier missing or too long");
        return -1;
    }
    strcpy (backend->id, id);
    const char *url;
    if (streq (id, "llamacpp:gpt_oss_20b") || streq (id, "llamacpp:gpt_oss_120b")) {
        backend->kind = BACKEND_LLAMACPP;
        url = s_pick ("PYLON_LLAMA_SERVER_URL", config->llama_url, "http://localhost:8080");
        //  llama-server serves whatever it loaded; the name is informative
        if (s_set_model (backend, streq (id, "llamacpp:gpt_oss_20b") ? "gpt-oss-20b" : "gpt-oss-120b", err))
            return -1;
    }
    else
    if (streq (id, "apple_fm")) {
        backend->kind = BACKEND_APPLE_FM;
        url = s_pick ("PYLON_FM_BRIDGE_URL", config->fm_url, "http://localhost:11435");
        if (s_set_model (backend, "apple-foundation-model", err))
            return -1;
    }
    else
    if (strncmp (id, "ollama:", 7) == 0) {
        backend->kind = BACKEND_OLLAMA;
        url = s_pick ("PYLON_OLLAMA_URL", config->ollama_url, "http://localhost:11434");
        if (s_set_model (backend, id + 7, err))
            return -1;
    }
    else
    if (strncmp (id, "openai:", 7) == 0) {
        backend->kind = BACKEND_OPENAI;
        url = s_pick ("PYLON_OPENAI_URL", config->openai_url, NULL);
        if (!url) {
            backend_error_set (err, BACKEND_ERR_CONFIG, 0, "%s: no URL configured (set PYLON_OPENAI_URL)", id);
            return -1;
        }
        if (s_set_model (backend, id + 7, err))
            return -1;
        const char *key = s_pick ("PYLON_OPENAI_API_KEY", config->openai_api_key, "");
        if (strlen (key) >= sizeof backend->api_key || strpbrk (key, "\r\n")) {
            backend_error_set (err, BACKEND_ERR_CONFIG, 0, "%s: API key too long or has a line break", id);
            return -1;
        }
        strcpy (backend->api_key, key);
    }
    else {
        backend_error_set (err, BACKEND_ERR_CONFIG, 0, "unknown backend identifier '%.100s'", id);
        return -1;
    }
    return s_set_url (backend, url, id, err);
}

//  --------------------------------------------------------------------------
//  Chat request checks

void
backend_chat_init (backend_chat_t *chat)
{
    memset (chat, 0, sizeof *chat);
    chat->temperature = NAN;
    chat->top_p = NAN;
    chat->top_k = -1;
    chat->frequency_penalty = NAN;
    chat->max_tokens = -1;
    chat->seed = -1;
}

static bool
s_in_range (double value, double low, double high)
{
    return isnan (value) || (value >= low && value <= high);
}

int
backend_chat_check (const backend_t *backend, const backend_chat_t *chat, backend_error_t *err)
{
    memset (err, 0, sizeof *err);
    if (!chat->messages) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "no messages");
        return -1;
    }
    size_t len = strlen (chat->messages);
    if (len > BACKEND_MAX_MESSAGES_BYTES) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "messages are %zu bytes, limit %d",
                           len, BACKEND_MAX_MESSAGES_BYTES);
        return -1;
    }
    json_tokener *tok = json_tokener_new_ex (BACKEND_JSON_DEPTH);
    json_object *messages = tok ? json_tokener_parse_ex (tok, chat->messages, (int) len) : NULL;
    if (tok)
        json_tokener_free (tok);
    int rc = -1;
    if (!messages || !json_object_is_type (messages, json_type_array)) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "messages must be a JSON array");
        goto done;
    }
    size_t count = json_object_array_length (messages);
    if (count == 0 || count > BACKEND_MAX_MESSAGES) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "need 1..%d messages, got %zu",
                           BACKEND_MAX_MESSAGES, count);
        goto done;
    }
    //  Ollama's native API and the FM bridge take only string contents
    bool string_only = backend->kind == BACKEND_OLLAMA || backend->kind == BACKEND_APPLE_FM;
    for (size_t i = 0; i < count; i++) {
        json_object *message = json_object_array_get_idx (messages, i), *content;
        const char *role = backend_json_string (message, "role");
        if (!role || !(streq (role, "system") || streq (role, "user") || streq (role, "assistant")
                    || streq (role, "tool") || streq (role, "developer"))) {
            backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0,
                               "message %zu: role must be system, user, assistant, tool or developer", i);
            goto done;
        }
        if (!json_object_object_get_ex (message, "content", &content)
        ||  !(json_object_is_type (content, json_type_string)
           || (!string_only && json_object_is_type (content, json_type_array)))) {
            backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "message %zu: content must be a string%s",
                               i, string_only ? "" : " or an array of parts");
            goto done;
        }
    }
    if (!s_in_range (chat->temperature, 0, 2) || !s_in_range (chat->top_p, 0, 1)
    ||  !s_in_range (chat->frequency_penalty, -2, 2)) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0,
                           "temperature must be 0..2, top_p 0..1, frequency_penalty -2..2");
        goto done;
    }
    if (chat->top_k != -1 && (chat->top_k < 1 || chat->top_k > 1000)) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "top_k must be 1..1000");
        goto done;
    }
    if (chat->max_tokens != -1 && (chat->max_tokens < 1 || chat->max_tokens > BACKEND_MAX_TOKENS_LIMIT)) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "max_tokens must be 1..%d", BACKEND_MAX_TOKENS_LIMIT);
        goto done;
    }
    if (chat->seed != -1 && (chat->seed < 0 || chat->seed > (int64_t) UINT32_MAX)) {
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "seed must be 0..%u", UINT32_MAX);
        goto done;
    }
    for (size_t i = 0; i < BACKEND_MAX_STOP && chat->stop [i]; i++) {
        size_t stop_len = strlen (chat->stop [i]);
        if (stop_len == 0 || stop_len > BACKEND_MAX_STOP_BYTES) {
            backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "stop sequences must be 1..%d bytes",
                               BACKEND_MAX_STOP_BYTES);
            goto done;
        }
    }
    rc = 0;
done:
    json_object_put (messages);
    return rc;
}

//  --------------------------------------------------------------------------
//  The chat call

typedef struct {
    const backend_ops_t *ops;       //  the adapter
    char name [32];                 //  adapter name, for messages
    backend_result_t result;        //  what we have so far
    backend_error_t error;          //  first error found in the body, code OK if none
    stream_sse_t *sse;              //  SSE parser when the server streams SSE
    stream_ndjson_t *ndjson;        //  NDJSON parser when it streams NDJSON
    bool streams;                   //  the server answers as a stream
    bool want_deltas;               //  the caller asked for streaming
    bool finished;                  //  the terminator ([DONE] or a final chunk) was seen
    backend_delta_fn *on_delta;     //  caller's delta callback
    backend_done_fn *on_done;       //  caller's completion callback
    void *arg;                      //  their argument
} s_call_t;

//  One stream event or line: hand it to the adapter, pass new text on.
static int
s_call_chunk (s_call_t *call, const char *data, size_t len)
{
    if (call->finished)
        return 0;                   //  ignore anything after the terminator
    size_t before = call->result.content_len;
    int rc = call->ops->parse_chunk (data, len, &call->result, &call->error);
    if (rc < 0)
        return -1;
    if (call->result.content_len > before && call->on_delta)
        call->on_delta (call->arg, call->result.content + before, call->result.content_len - before);
    if (rc == 1)
        call->finished = true;
    return 0;
}

static int
s_call_sse_event (void *arg, const stream_sse_event_t *event)
{
    s_call_t *call = (s_call_t *) arg;
    if (event->done) {
        call->finished = true;
        return 0;
    }
    return s_call_chunk (call, event->data, event->data_len);
}

static int
s_call_ndjson_line (void *arg, const char *line, size_t len)
{
    return s_call_chunk ((s_call_t *) arg, line, len);
}

//  Body bytes of a 2xx answer to a streaming request.
static int
s_call_on_body (void *arg, long status, const char *data, size_t len)
{
    s_call_t *call = (s_call_t *) arg;
    int rc = call->sse ? stream_sse_feed (call->sse, data, len)
                       : stream_ndjson_feed (call->ndjson, data, len);
    if (rc == STREAM_OK)
        return 0;
    if (call->error.code == BACKEND_OK)
        backend_error_set (&call->error, BACKEND_ERR_MALFORMED, status, "%s: bad stream: %s",
                           call->name, stream_strerror (rc));
    return -1;
}

static void
s_call_free (s_call_t *call)
{
    stream_sse_destroy (&call->sse);
    stream_ndjson_destroy (&call->ndjson);
    backend_result_clear (&call->result);
    free (call);
}

//  Map a transport failure to a job error.
static void
s_transport_error (const char *name, const http_result_t *http, backend_error_t *err)
{
    backend_code_t code;
    switch (http->error) {
        case HTTP_ERR_TIMEOUT_CONNECT:
        case HTTP_ERR_TIMEOUT_FIRST_BYTE:
        case HTTP_ERR_TIMEOUT_IDLE:
        case HTTP_ERR_TIMEOUT_TOTAL:
            code = BACKEND_ERR_TIMEOUT;
            break;
        case HTTP_ERR_TOO_LARGE:
            code = BACKEND_ERR_TOO_LARGE;
            break;
        case HTTP_ERR_CANCELLED:
            code = BACKEND_ERR_CANCELLED;
            break;
        case HTTP_ERR_INVALID:
            code = BACKEND_ERR_CONFIG;
            break;
        default:
            code = BACKEND_ERR_CONNECTION;
    }
    backend_error_set (err, code, http->status, "%s: %s", name, http->message);
}

static void
s_call_on_done (void *arg, const http_result_t *http)
{
    s_call_t *call = (s_call_t *) arg;
    backend_error_t *err = &call->error;
    bool ok_status = http->status >= 200 && http->status < 300;

    if (err->code != BACKEND_OK && http->error == HTTP_ERR_ABORTED)
        ;   //  the body had an error chunk or was malformed: already in err
    else
    if (http->error != HTTP_OK)
        s_transport_error (call->name, http, err);
    else
    if (!ok_status)
        call->ops->parse_error (http->status, http->body, http->body_len, err);
    else
    if (call->streams) {
        int rc = call->sse ? stream_sse_finish (call->sse) : stream_ndjson_finish (call->ndjson);
        if (err->code == BACKEND_OK && !call->finished)
            backend_error_set (err, BACKEND_ERR_TRUNCATED, http->status,
                               "%s: the stream ended without its terminator%s%s", call->name,
                               rc != STREAM_OK ? ": " : "", rc != STREAM_OK ? stream_strerror (rc) : "");
    }
    else
    if (call->ops->parse_response (http->body, http->body_len, &call->result, err) == 0
    &&  call->want_deltas && call->on_delta && call->result.content_len)
        //  Asked to stream from a server that cannot: the whole text is one delta
        call->on_delta (call->arg, call->result.content, call->result.content_len);

    if (err->code != BACKEND_OK && err->http_status == 0)
        err->http_status = http->status;
    call->on_done (call->arg, &call->result, err);
    s_call_free (call);
}

static void
s_limits_defaults (const backend_limits_t *limits, backend_limits_t *out)
{
    *out = limits ? *limits : (backend_limits_t) { 0 };
    if (!out->connect_ms)
        out->connect_ms = 5000;
    if (!out->first_byte_ms)
        out->first_byte_ms = 300000;
    if (!out->idle_ms)
        out->idle_ms = 60000;
    if (!out->max_response)
        out->max_response = BACKEND_MAX_RESPONSE;
}

uint64_t
backend_call_start (http_client_t *client, const backend_t *backend, const backend_chat_t *chat,
                    const backend_limits_t *limits, backend_delta_fn *on_delta,
                    backend_done_fn *on_done, void *arg, backend_error_t *err)
{
    if (backend_chat_check (backend, chat, err))
        return 0;
    const backend_ops_t *ops = backend_ops (backend->kind);
    backend_http_t request;
    memset (&request, 0, sizeof request);
    if (ops->build_chat (backend, chat, &request, err))
        return 0;

    s_call_t *call = calloc (1, sizeof *call);
    if (!call) {
        free (request.body);
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "out of memory");
        return 0;
    }
    call->ops = ops;
    snprintf (call->name, sizeof call->name, "%s", ops->name);
    call->streams = request.streams;
    call->want_deltas = chat->stream;
    call->on_delta = on_delta;
    call->on_done = on_done;
    call->arg = arg;
    if (request.streams) {
        if (ops->ndjson)
            call->ndjson = stream_ndjson_new (BACKEND_MAX_LINE, s_call_ndjson_line, call);
        else
            call->sse = stream_sse_new (BACKEND_MAX_LINE, BACKEND_MAX_LINE, s_call_sse_event, call);
    }

    backend_limits_t lim;
    s_limits_defaults (limits, &lim);
    char url [sizeof backend->base_url + sizeof request.path];
    snprintf (url, sizeof url, "%s%s", backend->base_url, request.path);
    http_request_t http = {
        .method = "POST",
        .url = url,
        .bearer = backend->api_key [0] ? backend->api_key : NULL,
        .body = request.body,
        .body_len = request.body_len,
        .connect_timeout_ms = lim.connect_ms,
        .first_byte_timeout_ms = lim.first_byte_ms,
        .idle_timeout_ms = lim.idle_ms,
        .total_timeout_ms = lim.total_ms,
        .max_response = lim.max_response,
        .no_reuse = request.no_reuse,
        .on_chunk = request.streams ? s_call_on_body : NULL,
        .on_done = s_call_on_done,
        .arg = call
    };
    uint64_t id = http_client_start (client, &http);
    free (request.body);
    if (!id) {
        backend_error_set (err, BACKEND_ERR_CONFIG, 0, "%s: %s", ops->name, http_client_last_error (client));
        s_call_free (call);
    }
    return id;
}

//  --------------------------------------------------------------------------
//  Health probes: GET each of ops->probe_paths in turn until the adapter has a verdict

typedef struct {
    http_client_t *client;          //  the client running the probe
    backend_t backend;              //  a copy: the caller's may change meanwhile
    const backend_ops_t *ops;       //  the adapter
    backend_limits_t limits;        //  timeouts
    int step;                       //  index in ops->probe_paths
    backend_health_t health;        //  the verdict being built
    backend_health_fn *fn;          //  caller's callback
    void *arg;                      //  its argument
} s_probe_t;

static uint64_t s_probe_step (s_probe_t *probe);

static void
s_probe_on_done (void *arg, const http_result_t *http)
{
    s_probe_t *probe = (s_probe_t *) arg;
    backend_health_t *health = &probe->health;
    int verdict = 1;
    if (http->error != HTTP_OK) {
        health->state = BACKEND_STATE_DOWN;
        s_transport_error (probe->ops->name, http, &health->error);
    }
    else
        verdict = probe->ops->parse_probe (probe->step, http->status, http->body, http->body_len,
                                           &probe->backend, health);
    if (verdict == 0 && probe->ops->probe_paths [probe->step + 1]) {
        probe->step++;
        if (s_probe_step (probe))
            return;
        health->state = BACKEND_STATE_DOWN;
        backend_error_set (&health->error, BACKEND_ERR_CONFIG, 0, "%s: %s", probe->ops->name,
                           http_client_last_error (probe->client));
    }
    probe->fn (probe->arg, health);
    free (probe);
}

static uint64_t
s_probe_step (s_probe_t *probe)
{
    char url [sizeof probe->backend.base_url + 64];
    snprintf (url, sizeof url, "%s%s", probe->backend.base_url, probe->ops->probe_paths [probe->step]);
    http_request_t http = {
        .method = "GET",
        .url = url,
        .bearer = probe->backend.api_key [0] ? probe->backend.api_key : NULL,
        .connect_timeout_ms = probe->limits.connect_ms,
        .total_timeout_ms = probe->limits.total_ms ? probe->limits.total_ms : 10000,
        .max_response = 1024 * 1024,
        .no_reuse = probe->backend.kind == BACKEND_APPLE_FM,
        .on_done = s_probe_on_done,
        .arg = probe
    };
    return http_client_start (probe->client, &http);
}

uint64_t
backend_probe_start (http_client_t *client, const backend_t *backend,
                     const backend_limits_t *limits, backend_health_fn *fn, void *arg)
{
    s_probe_t *probe = calloc (1, sizeof *probe);
    if (!probe)
        return 0;
    probe->client = client;
    probe->backend = *backend;
    probe->ops = backend_ops (backend->kind);
    s_limits_defaults (limits, &probe->limits);
    probe->fn = fn;
    probe->arg = arg;
    uint64_t id = s_probe_step (probe);
    if (!id)
        free (probe);
    return id;
}

//  --------------------------------------------------------------------------
//  Names

const char *
backend_code_name (backend_code_t code)
{
    switch (code) {
        case BACKEND_OK:                   return "ok";
        case BACKEND_ERR_LOADING:          return "model_loading";
        case BACKEND_ERR_MODEL_NOT_FOUND:  return "model_not_found";
        case BACKEND_ERR_CONTEXT_TOO_LONG: return "context_too_long";
        case BACKEND_ERR_BUSY:             return "server_busy";
        case BACKEND_ERR_AUTH:             return "auth_failed";
        case BACKEND_ERR_UNAVAILABLE:      return "model_unavailable";
        case BACKEND_ERR_BAD_REQUEST:      return "bad_request";
        case BACKEND_ERR_SERVER:           return "server_error";
        case BACKEND_ERR_MALFORMED:        return "malformed_response";
        case BACKEND_ERR_STREAM:           return "stream_error";
        case BACKEND_ERR_TRUNCATED:        return "stream_truncated";
        case BACKEND_ERR_CONNECTION:       return "connection_failed";
        case BACKEND_ERR_TIMEOUT:          return "timeout";
        case BACKEND_ERR_TOO_LARGE:        return "response_too_large";
        case BACKEND_ERR_CANCELLED:        return "cancelled";
        case BACKEND_ERR_CONFIG:           return "config_error";
    }
    return "unknown";
}

const char *
backend_finish_name (backend_finish_t finish)
{
    switch (finish) {
        case BACKEND_FINISH_NONE:           return "";
        case BACKEND_FINISH_STOP:           return "stop";
        case BACKEND_FINISH_LENGTH:         return "length";
        case BACKEND_FINISH_TOOL_CALLS:     return "tool_calls";
        case BACKEND_FINISH_CONTENT_FILTER: return "content_filter";
        case BACKEND_FINISH_OTHER:          return "other";
    }
    return "other";
}

const char *
backend_state_name (backend_state_t state)
{
    switch (state) {
        case BACKEND_STATE_DOWN:          return "down";
        case BACKEND_STATE_LOADING:       return "loading";
        case BACKEND_STATE_UNAVAILABLE:   return "unavailable";
        case BACKEND_STATE_MODEL_MISSING: return "model_missing";
        case BACKEND_STATE_READY:         return "ready";
    }
    return "down";
}

bool
backend_code_retryable (backend_code_t code)
{
    return code == BACKEND_ERR_LOADING || code == BACKEND_ERR_BUSY
        || code == BACKEND_ERR_CONNECTION || code == BACKEND_ERR_TIMEOUT
        || code == BACKEND_ERR_UNAVAILABLE;
}
