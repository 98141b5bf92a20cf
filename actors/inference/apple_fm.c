/*  apple_fm.c: the Apple Foundation Models bridge adapter (see apple_fm.h).
*/
#include "inference/apple_fm.h"
#include "inference/openai.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

static int
s_build_chat (const backend_t *backend, const backend_chat_t *chat, backend_http_t *out,
              backend_error_t *err)
{
    bool v2 = backend->fm_wire == 2;
    bool streams = backend->fm_wire == 1 && chat->stream;
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "model", json_object_new_string (backend->model));
    json_object_object_add (body, "messages", openai_messages (chat->messages, true));
    if (!isnan (chat->temperature))
        json_object_object_add (body, "temperature", json_object_new_double (chat->temperature));
    if (chat->max_tokens != -1)
        json_object_object_add (body, v2 ? "maxTokens" : "max_tokens", json_object_new_int64 (chat->max_tokens));
    if (!v2 && (chat->top_k != -1 || !isnan (chat->top_p))) {
        //  v1 samples through sampling_mode: top_k wins over nucleus when both are set
        json_object *mode = json_object_new_object ();
        if (chat->top_k != -1) {
            json_object_object_add (mode, "type", json_object_new_string ("top_k"));
            json_object_object_add (mode, "k", json_object_new_int (chat->top_k));
        }
        else {
            json_object_object_add (mode, "type", json_object_new_string ("nucleus"));
            json_object_object_add (mode, "p", json_object_new_double (chat->top_p));
        }
        json_object_object_add (body, "sampling_mode", mode);
    }
    //  seed, stop and frequency_penalty have no equivalent on the bridge: not sent
    if (!v2)
        json_object_object_add (body, "stream", json_object_new_boolean (streams));
    if (openai_finish_body (body, "/v1/chat/completions", streams, out, err))
        return -1;
    out->no_reuse = true;
    if (!v2 && out->body_len > BACKEND_FM_V1_MAX_BODY) {
        free (out->body);
        out->body = NULL;
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0,
                           "apple_fm: request is %zu bytes, the v1 bridge reads at most %d",
                           out->body_len, BACKEND_FM_V1_MAX_BODY);
        return -1;
    }
    return 0;
}

static int
s_parse_response (const char *body, size_t len, backend_result_t *res, backend_error_t *err)
{
    if (openai_parse_response (body, len, res, err))
        return -1;
    if (res->has_usage)
        res->usage_estimated = true;
    return 0;
}

static int
s_parse_chunk (const char *data, size_t len, backend_result_t *acc, backend_error_t *err)
{
    if (openai_parse_chunk (data, len, acc, err))
        return -1;
    if (acc->has_usage)
        acc->usage_estimated = true;
    return 0;
}

static void
s_parse_error (long status, const char *body, size_t len, backend_error_t *err)
{
    openai_error_info_t info;
    openai_error_info (body, len, &info);
    backend_code_t code;
    const char *what;
    if (status == 503)
        code = BACKEND_ERR_UNAVAILABLE, what = "model unavailable";
    else
    if (status == 400 && strstr (info.message, "context window"))
        code = BACKEND_ERR_CONTEXT_TOO_LONG, what = "context too long";
    else
    if (status == 401 || status == 403)
        code = BACKEND_ERR_AUTH, what = "authentication failed";
    else
    if (status >= 400 && status < 500)
        code = BACKEND_ERR_BAD_REQUEST, what = "request refused";
    else
        code = BACKEND_ERR_SERVER, what = "generation failed";
    backend_error_set (err, code, status, "apple_fm: %s (HTTP %ld): %s%s%s%s", what, status,
                       info.message, info.reason [0] ? " (" : "", info.reason,
                       info.reason [0] ? ")" : "");
}

//  GET /health: v1 {"status":"ok"|"degraded","model_available"}, v0.2 {"ready","unavailableReason"}
static int
s_parse_probe (int step, long status, const char *body, size_t len, const backend_t *backend,
               backend_health_t *health)
{
    health->state = BACKEND_STATE_DOWN;
    if (status != 200) {
        s_parse_error (status, body, len, &health->error);
        return 1;
    }
    json_object *root = backend_json_parse (body, len, &health->error), *ready, *available;
    if (!root)
        return 1;
    const char *model = backend_json_string (root, "model");
    snprintf (health->model, sizeof health->model, "%s", model ? model : "apple-foundation-model");
    const char *state = backend_json_string (root, "status");
    if (json_object_object_get_ex (root, "ready", &ready)) {
        health->fm_wire = 2;
        if (json_object_get_boolean (ready))
            health->state = BACKEND_STATE_READY;
        else {
            const char *reason = backend_json_string (root, "unavailableReason");
            health->state = BACKEND_STATE_UNAVAILABLE;
            backend_error_set (&health->error, BACKEND_ERR_UNAVAILABLE, status,
                               "apple_fm: not ready (%s)", reason ? reason : "no reason given");
        }
    }
    else
    if (state) {
        health->fm_wire = 1;
        bool model_ok = !json_object_object_get_ex (root, "model_available", &available)
                     || json_object_get_boolean (available);
        if ((streq (state, "ok") || streq (state, "healthy")) && model_ok)
            health->state = BACKEND_STATE_READY;
        else {
            health->state = BACKEND_STATE_UNAVAILABLE;
            backend_error_set (&health->error, BACKEND_ERR_UNAVAILABLE, status,
                               "apple_fm: status %.40s, model_available %s", state,
                               model_ok ? "true" : "false");
        }
    }
    else
        backend_error_set (&health->error, BACKEND_ERR_MALFORMED, status,
                           "apple_fm: /health has neither status nor ready");
    json_object_put (root);
    return 1;
}

const backend_ops_t apple_fm_ops = {
    .name = "apple_fm",
    .ndjson = false,
    .build_chat = s_build_chat,
    .parse_response = s_parse_response,
    .parse_chunk = s_parse_chunk,
    .parse_error = s_parse_error,
    .probe_paths = { "/health", NULL },
    .parse_probe = s_parse_probe
};
