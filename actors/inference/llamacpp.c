/*  llamacpp.c: the llama.cpp llama-server adapter (see llamacpp.h).
*/
#include "inference/llamacpp.h"
#include "inference/openai.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

static int
s_build_chat (const backend_t *backend, const backend_chat_t *chat, backend_http_t *out,
              backend_error_t *err)
{
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "model", json_object_new_string (backend->model));
    json_object_object_add (body, "messages", openai_messages (chat->messages, true));
    if (chat->max_tokens != -1)
        json_object_object_add (body, "max_tokens", json_object_new_int64 (chat->max_tokens));
    if (!isnan (chat->temperature))
        json_object_object_add (body, "temperature", json_object_new_double (chat->temperature));
    if (!isnan (chat->top_p))
        json_object_object_add (body, "top_p", json_object_new_double (chat->top_p));
    if (chat->top_k != -1)
        json_object_object_add (body, "top_k", json_object_new_int (chat->top_k));
    if (!isnan (chat->frequency_penalty))
        json_object_object_add (body, "frequency_penalty", json_object_new_double (chat->frequency_penalty));
    if (chat->seed != -1)
        json_object_object_add (body, "seed", json_object_new_int64 (chat->seed));
    if (chat->stop [0]) {
        json_object *stop = json_object_new_array ();
        for (size_t i = 0; i < BACKEND_MAX_STOP && chat->stop [i]; i++)
            json_object_array_add (stop, json_object_new_string (chat->stop [i]));
        json_object_object_add (body, "stop", stop);
    }
    json_object_object_add (body, "stream", json_object_new_boolean (chat->stream));
    if (chat->stream) {
        json_object *options = json_object_new_object ();
        json_object_object_add (options, "include_usage", json_object_new_boolean (1));
        json_object_object_add (body, "stream_options", options);
    }
    return openai_finish_body (body, "/v1/chat/completions", chat->stream, out, err);
}

static void
s_parse_error (long status, const char *body, size_t len, backend_error_t *err)
{
    openai_map_error ("llama.cpp", status, body, len, err);
}

//  Step 0: GET /health. Step 1: GET /props.
static int
s_parse_probe (int step, long status, const char *body, size_t len, const backend_t *backend,
               backend_health_t *health)
{
    if (step == 0) {
        if (status == 200) {
            backend_error_t ignored;
            json_object *root = backend_json_parse (body, len, &ignored);
            const char *state = backend_json_string (root, "status");
            bool ok = state && streq (state, "ok");
            json_object_put (root);
            if (ok)
                return 0;       //  go on to /props
        }
        if (status == 200)
            backend_error_set (&health->error, BACKEND_ERR_MALFORMED, status,
                               "llama.cpp: /health answered 200 without status ok");
        else
            s_parse_error (status, body, len, &health->error);
        health->state = status == 503 ? BACKEND_STATE_LOADING : BACKEND_STATE_DOWN;
        return 1;
    }
    if (status != 200) {
        //  /props needs the API key when one is set; a 503 here means loading again
        s_parse_error (status, body, len, &health->error);
        health->state = status == 503 ? BACKEND_STATE_LOADING : BACKEND_STATE_DOWN;
        return 1;
    }
    json_object *root = backend_json_parse (body, len, &health->error), *settings;
    if (!root) {
        health->state = BACKEND_STATE_DOWN;
        return 1;
    }
    int64_t slots = 0, n_ctx = 0;
    if (backend_json_int (root, "total_slots", &slots) && slots > 0 && slots <= 4096)
        health->total_slots = (int) slots;
    if (json_object_object_get_ex (root, "default_generation_settings", &settings)
    &&  backend_json_int (settings, "n_ctx", &n_ctx) && n_ctx > 0)
        health->n_ctx = n_ctx;
    const char *model = backend_json_string (root, "model_alias");
    if (!model)
        model = backend_json_string (root, "model_path");
    if (model)
        snprintf (health->model, sizeof health->model, "%s", model);
    json_object_put (root);
    if (health->total_slots == 0) {
        health->state = BACKEND_STATE_DOWN;
        backend_error_set (&health->error, BACKEND_ERR_MALFORMED, status,
                           "llama.cpp: /props has no usable total_slots");
        return 1;
    }
    //  A sleeping server (is_sleeping) wakes on the next completion: still ready
    health->state = BACKEND_STATE_READY;
    return 1;
}

const backend_ops_t llamacpp_ops = {
    .name = "llama.cpp",
    .ndjson = false,
    .build_chat = s_build_chat,
    .parse_response = openai_parse_response,
    .parse_chunk = openai_parse_chunk,
    .parse_error = s_parse_error,
    .probe_paths = { "/health", "/props", NULL },
    .parse_probe = s_parse_probe
};
