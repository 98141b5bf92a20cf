/*  ollama.c: the Ollama native API adapter (see ollama.h).

    Usage: prompt_eval_count and eval_count of the final object. Ollama leaves out zero
    counts (omitempty; a fully cached prompt can give no prompt_eval_count), so a missing
    prompt_eval_count in a final object that has eval_count means 0, as the server meant.
*/
#include "inference/ollama.h"
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
    json_object_object_add (body, "stream", json_object_new_boolean (chat->stream));
    json_object *options = json_object_new_object ();
    if (!isnan (chat->temperature))
        json_object_object_add (options, "temperature", json_object_new_double (chat->temperature));
    if (!isnan (chat->top_p))
        json_object_object_add (options, "top_p", json_object_new_double (chat->top_p));
    if (chat->top_k != -1)
        json_object_object_add (options, "top_k", json_object_new_int (chat->top_k));
    if (!isnan (chat->frequency_penalty))
        json_object_object_add (options, "frequency_penalty", json_object_new_double (chat->frequency_penalty));
    if (chat->seed != -1)
        json_object_object_add (options, "seed", json_object_new_int64 (chat->seed));
    if (chat->max_tokens != -1)
        json_object_object_add (options, "num_predict", json_object_new_int64 (chat->max_tokens));
    if (chat->stop [0]) {
        json_object *stop = json_object_new_array ();
        for (size_t i = 0; i < BACKEND_MAX_STOP && chat->stop [i]; i++)
            json_object_array_add (stop, json_object_new_string (chat->stop [i]));
        json_object_object_add (options, "stop", stop);
    }
    if (json_object_object_length (options) > 0)
        json_object_object_add (body, "options", options);
    else
        json_object_put (options);
    return openai_finish_body (body, "/api/chat", chat->stream, out, err);
}

int
ollama_parse_object (const char *data, size_t len, backend_result_t *acc, backend_error_t *err)
{
    json_object *root = backend_json_parse (data, len, err), *message, *content, *done;
    if (!root)
        return -1;
    int rc = -1;
    const char *error = backend_json_string (root, "error");
    if (error) {
        backend_error_set (err, BACKEND_ERR_STREAM, 0, "ollama: error while generating: %s", error);
        goto end;
    }
    if (json_object_object_get_ex (root, "message", &message)
    &&  json_object_object_get_ex (message, "content", &content)
    &&  json_object_is_type (content, json_type_string)
    &&  backend_result_append (acc, json_object_get_string (content),
                               (size_t) json_object_get_string_len (content))) {
        backend_error_set (err, BACKEND_ERR_TOO_LARGE, 0, "ollama: content too large");
        goto end;
    }
    const char *model = backend_json_string (root, "model");
    if (model)
        snprintf (acc->model, sizeof acc->model, "%s", model);
    rc = 0;
    if (json_object_object_get_ex (root, "done", &done) && json_object_get_boolean (done)) {
        acc->finish = backend_finish_parse (backend_json_string (root, "done_reason"));
        if (acc->finish == BACKEND_FINISH_NONE)
            acc->finish = BACKEND_FINISH_STOP;
        int64_t prompt = 0, completion;
        if (backend_json_int (root, "eval_count", &completion) && completion >= 0) {
            backend_json_int (root, "prompt_eval_count", &prompt);
            acc->prompt_tokens = prompt > 0 ? prompt : 0;
            acc->completion_tokens = completion;
            acc->has_usage = true;
        }
        rc = 1;
    }
end:
    json_object_put (root);
    return rc;
}

static int
s_parse_chunk (const char *data, size_t len, backend_result_t *acc, backend_error_t *err)
{
    return ollama_parse_object (data, len, acc, err);
}

static int
s_parse_response (const char *body, size_t len, backend_result_t *res, backend_error_t *err)
{
    int rc = ollama_parse_object (body, len, res, err);
    if (rc == 0) {
        backend_error_set (err, BACKEND_ERR_MALFORMED, 0, "ollama: answer without done:true");
        return -1;
    }
    if (rc < 0 && err->code == BACKEND_ERR_STREAM)
        err->code = BACKEND_ERR_SERVER;     //  an error object in a complete answer
    return rc < 0 ? -1 : 0;
}

static void
s_parse_error (long status, const char *body, size_t len, backend_error_t *err)
{
    openai_error_info_t info;
    openai_error_info (body, len, &info);
    backend_code_t code;
    const char *what;
    if (status == 404)
        code = BACKEND_ERR_MODEL_NOT_FOUND, what = "model not found";
    else
    if (status == 503 || status == 429)
        code = BACKEND_ERR_BUSY, what = "server busy";
    else
    if (status == 401 || status == 403)
        code = BACKEND_ERR_AUTH, what = "authentication failed";
    else
    if (status == 400 && strstr (info.message, "context length"))
        code = BACKEND_ERR_CONTEXT_TOO_LONG, what = "context too long";
    else
    if (status >= 400 && status < 500)
        code = BACKEND_ERR_BAD_REQUEST, what = "request refused";
    else
        code = BACKEND_ERR_SERVER, what = "server error";
    backend_error_set (err, code, status, "ollama: %s (HTTP %ld): %s", what, status, info.message);
}

//  GET /api/tags: is the model among "models"?
static int
s_parse_probe (int step, long status, const char *body, size_t len, const backend_t *backend,
               backend_health_t *health)
{
    if (status != 200) {
        s_parse_error (status, body, len, &health->error);
        health->state = BACKEND_STATE_DOWN;
        return 1;
    }
    json_object *root = backend_json_parse (body, len, &health->error), *models;
    if (!root) {
        health->state = BACKEND_STATE_DOWN;
        return 1;
    }
    char with_tag [sizeof backend->model + 8];
    snprintf (with_tag, sizeof with_tag, "%s:latest", backend->model);
    health->state = BACKEND_STATE_MODEL_MISSING;
    if (json_object_object_get_ex (root, "models", &models) && json_object_is_type (models, json_type_array))
        for (size_t i = 0; i < json_object_array_length (models); i++) {
            json_object *entry = json_object_array_get_idx (models, i);
            const char *name = backend_json_string (entry, "name");
            if (!name)
                name = backend_json_string (entry, "model");
            if (name && (streq (name, backend->model) || streq (name, with_tag))) {
                health->state = BACKEND_STATE_READY;
                snprintf (health->model, sizeof health->model, "%s", name);
                break;
            }
        }
    if (health->state == BACKEND_STATE_MODEL_MISSING)
        backend_error_set (&health->error, BACKEND_ERR_MODEL_NOT_FOUND, status,
                           "ollama: model %s is not pulled (not in /api/tags)", backend->model);
    json_object_put (root);
    return 1;
}

const backend_ops_t ollama_ops = {
    .name = "ollama",
    .ndjson = true,
    .build_chat = s_build_chat,
    .parse_response = s_parse_response,
    .parse_chunk = s_parse_chunk,
    .parse_error = s_parse_error,
    .probe_paths = { "/api/tags", NULL },
    .parse_probe = s_parse_probe
};
