/*  openai.c: the OpenAI chat-completions adapter and its shared parsers (see openai.h).

    Token counts come from the server only: usage.prompt_tokens / completion_tokens (or the
    FM v0.2 promptTokens / completionTokens), else llama.cpp's timings (prompt_n + cache_n,
    predicted_n). When none of them is there, the result says it has no usage.
*/
#include "inference/openai.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  --------------------------------------------------------------------------
//  Errors

static void
s_copy (char *dest, size_t size, const char *text)
{
    snprintf (dest, size, "%s", text ? text : "");
}

void
openai_error_info (const char *body, size_t len, openai_error_info_t *info)
{
    memset (info, 0, sizeof *info);
    backend_error_t ignored;
    json_object *root = backend_json_parse (body, len, &ignored), *error;
    if (!root) {
        //  Not JSON (an HTML page, plain text): keep the start of it
        size_t n = len < sizeof info->message - 1 ? len : sizeof info->message - 1;
        memcpy (info->message, body, n);
        info->message [n] = 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char) info->message [i] < 0x20)
                info->message [i] = ' ';
        return;
    }
    if (json_object_object_get_ex (root, "error", &error) && json_object_is_type (error, json_type_object)) {
        s_copy (info->message, sizeof info->message, backend_json_string (error, "message"));
        s_copy (info->type, sizeof info->type, backend_json_string (error, "type"));
        json_object *code;
        if (json_object_object_get_ex (error, "code", &code) && !json_object_is_type (code, json_type_null))
            s_copy (info->code, sizeof info->code, json_object_get_string (code));
        backend_json_int (error, "n_prompt_tokens", &info->n_prompt_tokens);
        backend_json_int (error, "n_ctx", &info->n_ctx);
    }
    else
    if (backend_json_string (root, "error")) {
        //  Ollama {"error":"text"}, or FM v0.2 {"error":"code","message":"text"}
        const char *message = backend_json_string (root, "message");
        if (message) {
            s_copy (info->type, sizeof info->type, backend_json_string (root, "error"));
            s_copy (info->message, sizeof info->message, message);
        }
        else
            s_copy (info->message, sizeof info->message, backend_json_string (root, "error"));
        s_copy (info->reason, sizeof info->reason, backend_json_string (root, "unavailableReason"));
    }
    else
        s_copy (info->message, sizeof info->message, backend_json_string (root, "detail"));
    json_object_put (root);
}

void
openai_map_error (const char *name, long status, const char *body, size_t len, backend_error_t *err)
{
    openai_error_info_t info;
    openai_error_info (body, len, &info);
    bool context = streq (info.type, "exceed_context_size_error")
                || streq (info.code, "context_length_exceeded");
    if (context) {
        backend_error_set (err, BACKEND_ERR_CONTEXT_TOO_LONG, status,
                           "%s: context too long: prompt %lld tokens, context %lld tokens (HTTP %ld: %s)",
                           name, (long long) info.n_prompt_tokens, (long long) info.n_ctx, status,
                           info.message);
        err->n_prompt_tokens = info.n_prompt_tokens;
        err->n_ctx = info.n_ctx;
        return;
    }
    backend_code_t code;
    const char *what;
    if (status == 401 || status == 403)
        code = BACKEND_ERR_AUTH, what = "authentication failed";
    else
    if (status == 404)
        code = BACKEND_ERR_MODEL_NOT_FOUND, what = "model not found";
    else
    if (status == 429)
        code = BACKEND_ERR_BUSY, what = "rate limited";
    else
    if (status == 503 && strstr (info.message, "Loading model"))
        code = BACKEND_ERR_LOADING, what = "model loading";
    else
    if (status == 503)
        code = BACKEND_ERR_BUSY, what = "server busy";
    else
    if (status >= 400 && status < 500)
        code = BACKEND_ERR_BAD_REQUEST, what = "request refused";
    else
        code = BACKEND_ERR_SERVER, what = "server error";
    backend_error_set (err, code, status, "%s: %s (HTTP %ld): %s", name, what, status, info.message);
}

static void
s_parse_error (long status, const char *body, size_t len, backend_error_t *err)
{
    openai_map_error ("openai", status, body, len, err);
}

//  --------------------------------------------------------------------------
//  Requests

json_object *
openai_messages (const char *messages, bool map_developer)
{
    json_object *input = json_tokener_parse (messages);
    if (!input || !json_object_is_type (input, json_type_array)) {
        json_object_put (input);
        return NULL;
    }
    json_object *output = json_object_new_array ();
    size_t count = json_object_array_length (input);
    for (size_t i = 0; i < count; i++) {
        json_object *message = json_object_array_get_idx (input, i), *content;
        const char *role = backend_json_string (message, "role");
        if (!role || !json_object_object_get_ex (message, "content", &content))
            continue;       //  backend_chat_check refused these already
        if (map_developer && streq (role, "developer"))
            role = "system";
        json_object *copy = json_object_new_object ();
        json_object_object_add (copy, "role", json_object_new_string (role));
        json_object_object_add (copy, "content", json_object_get (content));
        json_object_array_add (output, copy);
    }
    json_object_put (input);
    return output;
}

int
openai_finish_body (json_object *body, const char *path, bool streams, backend_http_t *out,
                    backend_error_t *err)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length (body, JSON_C_TO_STRING_PLAIN, &len);
    out->body = text ? malloc (len + 1) : NULL;
    if (!out->body) {
        json_object_put (body);
        backend_error_set (err, BACKEND_ERR_BAD_REQUEST, 0, "out of memory");
        return -1;
    }
    memcpy (out->body, text, len + 1);
    out->body_len = len;
    snprintf (out->path, sizeof out->path, "%s", path);
    out->streams = streams;
    json_object_put (body);
    return 0;
}

static json_object *
s_stop_array (const backend_chat_t *chat)
{
    if (!chat->stop [0])
        return NULL;
    json_object *stop = json_object_new_array ();
    for (size_t i = 0; i < BACKEND_MAX_STOP && chat->stop [i]; i++)
        json_object_array_add (stop, json_object_new_string (chat->stop [i]));
    return stop;
}

static int
s_build_chat (const backend_t *backend, const backend_chat_t *chat, backend_http_t *out,
              backend_error_t *err)
{
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "model", json_object_new_string (backend->model));
    json_object_object_add (body, "messages", openai_messages (chat->messages, false));
    if (chat->max_tokens != -1)
        json_object_object_add (body, "max_tokens", json_object_new_int64 (chat->max_tokens));
    if (!isnan (chat->temperature))
        json_object_object_add (body, "temperature", json_object_new_double (chat->temperature));
    if (!isnan (chat->top_p))
        json_object_object_add (body, "top_p", json_object_new_double (chat->top_p));
    if (!isnan (chat->frequency_penalty))
        json_object_object_add (body, "frequency_penalty", json_object_new_double (chat->frequency_penalty));
    if (chat->seed != -1)
        json_object_object_add (body, "seed", json_object_new_int64 (chat->seed));
    json_object *stop = s_stop_array (chat);
    if (stop)
        json_object_object_add (body, "stop", stop);
    //  top_k is not part of the OpenAI API: not sent
    json_object_object_add (body, "stream", json_object_new_boolean (chat->stream));
    if (chat->stream) {
        json_object *options = json_object_new_object ();
        json_object_object_add (options, "include_usage", json_object_new_boolean (1));
        json_object_object_add (body, "stream_options", options);
    }
    return openai_finish_body (body, "/v1/chat/completions", chat->stream, out, err);
}

//  --------------------------------------------------------------------------
//  Responses

//  usage: snake_case or camelCase; else llama.cpp timings.
static void
s_take_usage (json_object *root, backend_result_t *res)
{
    json_object *usage, *timings;
    int64_t prompt, completion;
    if (json_object_object_get_ex (root, "usage", &usage) && json_object_is_type (usage, json_type_object)) {
        if ((backend_json_int (usage, "prompt_tokens", &prompt) || backend_json_int (usage, "promptTokens", &prompt))
        &&  (backend_json_int (usage, "completion_tokens", &completion)
          || backend_json_int (usage, "completionTokens", &completion))
        &&  prompt >= 0 && completion >= 0) {
            res->prompt_tokens = prompt;
            res->completion_tokens = completion;
            res->has_usage = true;
            const char *truth = backend_json_string (usage, "truth");
            if (truth && !streq (truth, "exact"))
                res->usage_estimated = true;
        }
    }
    if (!res->has_usage && json_object_object_get_ex (root, "timings", &timings)) {
        int64_t prompt_n, cache_n = 0, predicted_n;
        if (backend_json_int (timings, "prompt_n", &prompt_n) && backend_json_int (timings, "predicted_n", &predicted_n)
        &&  prompt_n >= 0 && predicted_n >= 0) {
            backend_json_int (timings, "cache_n", &cache_n);
            res->prompt_tokens = prompt_n + (cache_n > 0 ? cache_n : 0);
            res->completion_tokens = predicted_n;
            res->has_usage = true;
        }
    }
}

static void
s_take_model (json_object *root, backend_result_t *res)
{
    const char *model = backend_json_string (root, "model");
    if (model)
        snprintf (res->model, sizeof res->model, "%s", model);
}

//  choices[0], or NULL.
static json_object *
s_first_choice (json_object *root)
{
    json_object *choices;
    if (!json_object_object_get_ex (root, "choices", &choices)
    ||  !json_object_is_type (choices, json_type_array) || json_object_array_length (choices) == 0)
        return NULL;
    json_object *choice = json_object_array_get_idx (choices, 0);
    return json_object_is_type (choice, json_type_object) ? choice : NULL;
}

static const char *
s_finish_reason (json_object *choice)
{
    const char *reason = backend_json_string (choice, "finish_reason");
    return reason ? reason : backend_json_string (choice, "finishReason");
}

//  An {"error": ...} object inside a 2xx body or stream.
static bool
s_error_inside (json_object *root, backend_code_t code, const char *what, backend_error_t *err)
{
    json_object *error;
    if (!json_object_object_get_ex (root, "error", &error) || json_object_is_type (error, json_type_null))
        return false;
    const char *message = json_object_is_type (error, json_type_object)
                        ? backend_json_string (error, "message") : json_object_get_string (error);
    backend_error_set (err, code, 0, "%s: %s", what, message ? message : "(no message)");
    return true;
}

int
openai_parse_response (const char *body, size_t len, backend_result_t *res, backend_error_t *err)
{
    json_object *root = backend_json_parse (body, len, err);
    if (!root)
        return -1;
    int rc = -1;
    if (s_error_inside (root, BACKEND_ERR_SERVER, "error in a successful answer", err))
        goto done;
    json_object *choice = s_first_choice (root), *message, *content;
    if (!choice || !json_object_object_get_ex (choice, "message", &message)) {
        backend_error_set (err, BACKEND_ERR_MALFORMED, 0, "answer has no choices[0].message");
        goto done;
    }
    if (json_object_object_get_ex (message, "content", &content)
    &&  json_object_is_type (content, json_type_string)) {
        if (backend_result_append (res, json_object_get_string (content),
                                   (size_t) json_object_get_string_len (content))) {
            backend_error_set (err, BACKEND_ERR_TOO_LARGE, 0, "content too large");
            goto done;
        }
    }
    //  content null (tool calls only) is an empty text, not an error
    res->finish = backend_finish_parse (s_finish_reason (choice));
    if (res->finish == BACKEND_FINISH_NONE)
        res->finish = BACKEND_FINISH_OTHER;
    s_take_model (root, res);
    s_take_usage (root, res);
    rc = 0;
done:
    json_object_put (root);
    return rc;
}

int
openai_parse_chunk (const char *data, size_t len, backend_result_t *acc, backend_error_t *err)
{
    json_object *root = backend_json_parse (data, len, err);
    if (!root)
        return -1;
    int rc = -1;
    if (s_error_inside (root, BACKEND_ERR_STREAM, "error in the middle of the stream", err))
        goto done;
    json_object *choice = s_first_choice (root), *delta, *content;
    if (choice && json_object_object_get_ex (choice, "delta", &delta)
    &&  json_object_object_get_ex (delta, "content", &content)
    &&  json_object_is_type (content, json_type_string)) {
        if (backend_result_append (acc, json_object_get_string (content),
                                   (size_t) json_object_get_string_len (content))) {
            backend_error_set (err, BACKEND_ERR_TOO_LARGE, 0, "content too large");
            goto done;
        }
    }
    if (choice) {
        backend_finish_t finish = backend_finish_parse (s_finish_reason (choice));
        if (finish != BACKEND_FINISH_NONE)
            acc->finish = finish;
    }
    s_take_model (root, acc);
    s_take_usage (root, acc);
    rc = 0;
done:
    json_object_put (root);
    return rc;
}

//  --------------------------------------------------------------------------
//  Health: GET /v1/models lists the model?

static int
s_parse_probe (int step, long status, const char *body, size_t len, const backend_t *backend,
               backend_health_t *health)
{
    if (status != 200) {
        health->state = BACKEND_STATE_DOWN;
        openai_map_error ("openai", status, body, len, &health->error);
        return 1;
    }
    json_object *root = backend_json_parse (body, len, &health->error), *data;
    if (!root) {
        health->state = BACKEND_STATE_DOWN;
        return 1;
    }
    health->state = BACKEND_STATE_MODEL_MISSING;
    if (json_object_object_get_ex (root, "data", &data) && json_object_is_type (data, json_type_array))
        for (size_t i = 0; i < json_object_array_length (data); i++) {
            const char *id = backend_json_string (json_object_array_get_idx (data, i), "id");
            if (id && streq (id, backend->model)) {
                health->state = BACKEND_STATE_READY;
                snprintf (health->model, sizeof health->model, "%s", id);
            }
        }
    if (health->state == BACKEND_STATE_MODEL_MISSING)
        backend_error_set (&health->error, BACKEND_ERR_MODEL_NOT_FOUND, status,
                           "openai: model %s is not listed by /v1/models", backend->model);
    json_object_put (root);
    return 1;
}

const backend_ops_t openai_ops = {
    .name = "openai",
    .ndjson = false,
    .build_chat = s_build_chat,
    .parse_response = openai_parse_response,
    .parse_chunk = openai_parse_chunk,
    .parse_error = s_parse_error,
    .probe_paths = { "/v1/models", NULL },
    .parse_probe = s_parse_probe
};
