/*  test_backends.c: the inference backend adapters, the call and probe drivers, and the slot
    limiter, against the backend stub (one child process per API: llama, ollama, fm1, fm2,
    openai).

    Every backend: success with and without streaming (text, finish reason, model and the
    server's usage numbers), the request fields it is sent, each documented error mapped to
    its own job error code, and its health probe. Also: loading then ready, killed mid-stream,
    too large, timeouts, connection refused, cancellation, and more concurrent jobs than slots.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "http.h"
#include "inference/backend.h"
#include "inference/slots.h"
#include "../stubs/stub_proc.h"

enum { LLAMA, OLLAMA, FM1, FM2, OPENAI, STUBS };
static const char *s_api [STUBS] = { "llama", "ollama", "fm1", "fm2", "openai" };
static stub_t s_stub [STUBS];
static http_client_t *s_client;

#define MESSAGES "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Say hello.\"}]"
//  The stub counts prompt tokens as ceil(characters of all contents / 4): (9 + 10) / 4 -> 5
#define PROMPT_TOKENS 5
#define REPLY "Hello, world \xe1\x83\xab"

//  What a call's callbacks saw.
typedef struct {
    int done_calls;             //  completion callbacks (must end at 1)
    backend_error_t error;      //  the error, code OK on success
    char content [65536];       //  result content
    char deltas [65536];        //  deltas, concatenated
    int delta_count;            //  delta callbacks
    backend_finish_t finish;    //  result finish reason
    bool has_usage;             //  result usage present
    bool estimated;             //  usage is an estimate
    int64_t prompt;             //  prompt tokens
    int64_t completion;         //  completion tokens
    char model [128];           //  model reported
    uint64_t id;                //  call id, for cancel
    int cancel_after;           //  cancel after this many deltas (0 = never)
} s_out_t;

static void
s_on_delta (void *arg, const char *text, size_t len)
{
    s_out_t *out = (s_out_t *) arg;
    size_t have = strlen (out->deltas);
    if (have + len < sizeof out->deltas) {     //  a huge reply is only counted
        memcpy (out->deltas + have, text, len);
        out->deltas [have + len] = 0;
    }
    out->delta_count++;
    if (out->cancel_after && out->delta_count == out->cancel_after)
        assert_int_equal (http_client_cancel (s_client, out->id), 0);
}

static void
s_on_done (void *arg, const backend_result_t *result, const backend_error_t *error)
{
    s_out_t *out = (s_out_t *) arg;
    out->done_calls++;
    out->error = *error;
    if (result->content_len && result->content_len < sizeof out->content) {
        memcpy (out->content, result->content, result->content_len);
        out->content [result->content_len] = 0;
    }
    out->finish = result->finish;
    out->has_usage = result->has_usage;
    out->estimated = result->usage_estimated;
    out->prompt = result->prompt_tokens;
    out->completion = result->completion_tokens;
    snprintf (out->model, sizeof out->model, "%s", result->model);
}

//  A backend pointing at stub `which`.
static backend_t
s_backend (int which)
{
    static const char *ids [STUBS] = { "llamacpp:gpt_oss_20b", "ollama:llama3.2", "apple_fm",
                                       "apple_fm", "openai:gpt-4o-mini" };
    backend_config_t config = { 0 };
    config.llama_url = config.ollama_url = config.fm_url = config.openai_url = s_stub [which].url;
    config.openai_api_key = "sk-test";
    backend_t backend;
    backend_error_t err;
    assert_int_equal (backend_resolve (ids [which], &config, &backend, &err), 0);
    if (which == FM1)
        backend.fm_wire = 1;
    if (which == FM2)
        backend.fm_wire = 2;
    return backend;
}

static backend_chat_t
s_chat (bool stream)
{
    backend_chat_t chat;
    backend_chat_init (&chat);
    chat.messages = MESSAGES;
    chat.stream = stream;
    return chat;
}

//  Run one chat to completion.
static void
s_run (int which, const backend_chat_t *chat, const backend_limits_t *limits, s_out_t *out)
{
    backend_t backend = s_backend (which);
    memset (out, 0, sizeof *out);
    backend_error_t err;
    out->id = backend_call_start (s_client, &backend, chat, limits, s_on_delta, s_on_done, out, &err);
    assert_true (out->id > 0);
    http_client_run (s_client, 15000);
    assert_int_equal (out->done_calls, 1);
}

//  Run a chat on stub `which` with stub settings `config` and expect error `code`.
static void
s_expect_error (int which, const char *config, bool stream, backend_code_t code)
{
    assert_int_equal (stub_config (&s_stub [which], config), 0);
    backend_chat_t chat = s_chat (stream);
    s_out_t out;
    backend_limits_t limits = { .first_byte_ms = 1000, .max_response = 1024 * 1024 };
    s_run (which, &chat, &limits, &out);
    if (out.error.code != code)
        fail_msg ("%s %s stream=%d: expected %s, got %s (%s)", s_api [which], config, stream,
                  backend_code_name (code), backend_code_name (out.error.code), out.error.message);
    assert_string_not_equal (out.error.message, "");
    //  The API key is never part of a message
    assert_null (strstr (out.error.message, "sk-test"));
}

static int
s_setup (void **state)
{
    unsetenv ("PYLON_LLAMA_SERVER_URL");
    unsetenv ("PYLON_OLLAMA_URL");
    unsetenv ("PYLON_FM_BRIDGE_URL");
    unsetenv ("PYLON_OPENAI_URL");
    unsetenv ("PYLON_OPENAI_API_KEY");
    for (int i = 0; i < STUBS; i++) {
        const char *flags [] = { "--api", s_api [i], "--slots", "8", "--api-key",
                                 i == OPENAI ? "sk-test" : "", NULL };
        if (stub_start (&s_stub [i], flags))
            return -1;
    }
    s_client = http_client_new ();
    return s_client ? 0 : -1;
}

static int
s_teardown (void **state)
{
    http_client_destroy (&s_client);
    for (int i = 0; i < STUBS; i++)
        stub_stop (&s_stub [i]);
    return 0;
}

static int
s_reset (void **state)
{
    for (int i = 0; i < STUBS; i++)
        if (stub_config (&s_stub [i], "{\"fail\":\"\",\"token-delay\":0,\"first-token-delay\":0,"
                                      "\"loading-ms\":0,\"split\":0,\"ping\":false,\"slots\":8,"
                                      "\"ctx\":4096,\"models\":\"llama3.2:latest\"}")
        ||  stub_config (&s_stub [i], i == OPENAI ? "{\"api-key\":\"sk-test\"}" : "{\"api-key\":\"\"}"))
            return -1;
    return 0;
}

//  --------------------------------------------------------------------------

static void
test_resolve (void **state)
{
    backend_t b;
    backend_error_t err;
    assert_int_equal (backend_resolve ("llamacpp:gpt_oss_20b", NULL, &b, &err), 0);
    assert_int_equal (b.kind, BACKEND_LLAMACPP);
    assert_string_equal (b.base_url, "http://localhost:8080");
    assert_int_equal (backend_resolve ("llamacpp:gpt_oss_120b", NULL, &b, &err), 0);
    assert_string_equal (b.model, "gpt-oss-120b");
    assert_int_equal (backend_resolve ("apple_fm", NULL, &b, &err), 0);
    assert_int_equal (b.kind, BACKEND_APPLE_FM);
    assert_string_equal (b.base_url, "http://localhost:11435");
    assert_int_equal (backend_resolve ("ollama:llama3.2:3b", NULL, &b, &err), 0);
    assert_int_equal (b.kind, BACKEND_OLLAMA);
    assert_string_equal (b.base_url, "http://localhost:11434");
    assert_string_equal (b.model, "llama3.2:3b");

    //  Configuration, then the environment over it; trailing slashes dropped
    backend_config_t config = { .ollama_url = "http://gpu1:11434/", .openai_url = "https://api.example.com",
                                .openai_api_key = "from-config" };
    assert_int_equal (backend_resolve ("ollama:qwen", &config, &b, &err), 0);
    assert_string_equal (b.base_url, "http://gpu1:11434");
    setenv ("PYLON_OLLAMA_URL", "http://127.0.0.1:9999", 1);
    assert_int_equal (backend_resolve ("ollama:qwen", &config, &b, &err), 0);
    assert_string_equal (b.base_url, "http://127.0.0.1:9999");
    unsetenv ("PYLON_OLLAMA_URL");
    assert_int_equal (backend_resolve ("openai:gpt-4o", &config, &b, &err), 0);
    assert_string_equal (b.api_key, "from-config");
    setenv ("PYLON_OPENAI_API_KEY", "from-env", 1);
    assert_int_equal (backend_resolve ("openai:gpt-4o", &config, &b, &err), 0);
    assert_string_equal (b.api_key, "from-env");
    unsetenv ("PYLON_OPENAI_API_KEY");

    //  Refusals
    assert_int_equal (backend_resolve ("openai:gpt-4o", NULL, &b, &err), -1);
    assert_int_equal (err.code, BACKEND_ERR_CONFIG);
    assert_non_null (strstr (err.message, "PYLON_OPENAI_URL"));
    assert_int_equal (backend_resolve ("llamacpp:other", NULL, &b, &err), -1);
    assert_int_equal (backend_resolve ("ollama:", NULL, &b, &err), -1);
    assert_int_equal (backend_resolve ("ollama:a b", NULL, &b, &err), -1);
    assert_int_equal (backend_resolve ("", NULL, &b, &err), -1);
    backend_config_t bad = { .fm_url = "ftp://x" };
    assert_int_equal (backend_resolve ("apple_fm", &bad, &b, &err), -1);
    bad.fm_url = "http://a b";
    assert_int_equal (backend_resolve ("apple_fm", &bad, &b, &err), -1);
}

static void
test_chat_check (void **state)
{
    backend_t llama = s_backend (LLAMA), ollama = s_backend (OLLAMA);
    backend_error_t err;
    backend_chat_t chat = s_chat (false);
    assert_int_equal (backend_chat_check (&llama, &chat, &err), 0);

    struct { const char *messages; } bad_messages [] = {
        { "{}" }, { "[]" }, { "[1]" }, { "[{\"role\":\"robot\",\"content\":\"x\"}]" },
        { "[{\"role\":\"user\"}]" }, { "[{\"role\":\"user\",\"content\":5}]" }, { "[{\"role\":\"user\"," }, { "" }
    };
    for (size_t i = 0; i < sizeof bad_messages / sizeof bad_messages [0]; i++) {
        chat.messages = bad_messages [i].messages;
        assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
        assert_int_equal (err.code, BACKEND_ERR_BAD_REQUEST);
    }
    //  Content parts: fine for llama.cpp, not for Ollama's native API
    chat.messages = "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]";
    assert_int_equal (backend_chat_check (&llama, &chat, &err), 0);
    assert_int_equal (backend_chat_check (&ollama, &chat, &err), -1);

    //  Too many messages
    char *many = malloc (300 * 40);
    strcpy (many, "[");
    for (int i = 0; i < 257; i++)
        strcat (many, i ? ",{\"role\":\"user\",\"content\":\"x\"}" : "{\"role\":\"user\",\"content\":\"x\"}");
    strcat (many, "]");
    chat.messages = many;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    free (many);

    //  Parameter bounds
    chat = s_chat (false);
    chat.temperature = 2.5;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat = s_chat (false);
    chat.top_p = -0.1;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat = s_chat (false);
    chat.top_k = 0;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat = s_chat (false);
    chat.max_tokens = 0;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat = s_chat (false);
    chat.seed = (int64_t) UINT32_MAX + 1;
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat = s_chat (false);
    chat.frequency_penalty = NAN;
    chat.stop [0] = "0123456789012345678901234567890123456789012345678901234567890123456789";
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
    chat.stop [0] = "";
    assert_int_equal (backend_chat_check (&llama, &chat, &err), -1);
}

//  Success, streamed and not, on every backend.
static void
test_success_each_backend (void **state)
{
    for (int which = 0; which < STUBS; which++)
        for (int stream = 0; stream < 2; stream++) {
            backend_chat_t chat = s_chat (stream);
            s_out_t out;
            s_run (which, &chat, NULL, &out);
            if (out.error.code != BACKEND_OK)
                fail_msg ("%s stream=%d: %s", s_api [which], stream, out.error.message);
            assert_string_equal (out.content, REPLY);
            assert_int_equal (out.finish, BACKEND_FINISH_STOP);
            if (which == FM1 && stream)
                //  The v1 bridge's stream carries no usage: none is made up
                assert_false (out.has_usage);
            else {
                assert_true (out.has_usage);
                assert_int_equal (out.prompt, PROMPT_TOKENS);
                assert_int_equal (out.completion, 3);
                assert_int_equal (out.estimated, which == FM1 || which == FM2);
            }
            assert_string_not_equal (out.model, "");
            if (stream) {
                assert_string_equal (out.deltas, REPLY);
                //  FM v0.2 cannot stream: one delta with the whole text
                assert_int_equal (out.delta_count, which == FM2 ? 1 : 3);
            }
            else
                assert_int_equal (out.delta_count, 0);
        }
}

//  Pieces split at odd byte offsets (inside UTF-8), with comment pings in between.
static void
test_stream_split_and_pings (void **state)
{
    int apis [] = { LLAMA, OLLAMA, FM1, OPENAI };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal (stub_config (&s_stub [apis [i]], "{\"split\":3,\"ping\":true}"), 0);
        backend_chat_t chat = s_chat (true);
        s_out_t out;
        s_run (apis [i], &chat, NULL, &out);
        assert_int_equal (out.error.code, BACKEND_OK);
        assert_string_equal (out.deltas, REPLY);
        assert_string_equal (out.content, REPLY);
    }
}

//  What each backend is sent.
static void
test_request_fields (void **state)
{
    backend_chat_t chat = s_chat (true);
    chat.temperature = 0.25;
    chat.top_p = 0.5;
    chat.top_k = 40;
    chat.frequency_penalty = 0.5;
    chat.max_tokens = 64;
    chat.seed = 42;
    chat.stop [0] = "\n\n";
    s_out_t out;
    struct { int which; const char *has [8]; const char *lacks [4]; } cases [] = {
        { LLAMA,  { "\"top_k\":40", "\"max_tokens\":64", "\"seed\":42", "\"stop\":[\"\\n\\n\"]",
                    "\"include_usage\":true", "\"frequency_penalty\":0.5", "\"stream\":true" }, { NULL } },
        { OPENAI, { "\"model\":\"gpt-4o-mini\"", "\"max_tokens\":64", "\"top_p\":0.5", "\"include_usage\":true" },
                  { "top_k" } },
        { OLLAMA, { "\"options\":{", "\"num_predict\":64", "\"top_k\":40", "\"seed\":42", "\"stream\":true",
                    "\"model\":\"llama3.2\"" }, { "max_tokens", "stream_options" } },
        { FM1,    { "\"max_tokens\":64", "\"sampling_mode\":{\"type\":\"top_k\",\"k\":40}", "\"stream\":true" },
                  { "seed", "stop", "maxTokens" } },
        { FM2,    { "\"maxTokens\":64", "\"temperature\":0.25" }, { "max_tokens", "stream", "seed" } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_run (cases [i].which, &chat, NULL, &out);
        assert_int_equal (out.error.code, BACKEND_OK);
        char *body = stub_last_body (&s_stub [cases [i].which]);
        assert_non_null (body);
        for (size_t j = 0; j < 8 && cases [i].has [j]; j++)
            if (!strstr (body, cases [i].has [j]))
                fail_msg ("%s: %s not in %s", s_api [cases [i].which], cases [i].has [j], body);
        for (size_t j = 0; j < 4 && cases [i].lacks [j]; j++)
            if (strstr (body, cases [i].lacks [j]))
                fail_msg ("%s: %s in %s", s_api [cases [i].which], cases [i].lacks [j], body);
        free (body);
    }
}

static void
test_finish_length (void **state)
{
    int apis [] = { LLAMA, OLLAMA, OPENAI, FM2 };
    for (size_t i = 0; i < 4; i++)
        for (int stream = 0; stream < 2; stream++) {
            backend_chat_t chat = s_chat (stream);
            chat.max_tokens = 2;
            s_out_t out;
            s_run (apis [i], &chat, NULL, &out);
            assert_int_equal (out.error.code, BACKEND_OK);
            assert_int_equal (out.finish, BACKEND_FINISH_LENGTH);
            assert_int_equal (out.completion, 2);
            assert_string_equal (out.content, "Hello, world");
        }
}

static void
test_errors_llamacpp (void **state)
{
    s_expect_error (LLAMA, "{\"fail\":\"unavailable\"}", false, BACKEND_ERR_LOADING);
    s_expect_error (LLAMA, "{\"fail\":\"server\"}", true, BACKEND_ERR_SERVER);
    s_expect_error (LLAMA, "{\"fail\":\"bad_request\"}", false, BACKEND_ERR_BAD_REQUEST);
    s_expect_error (LLAMA, "{\"fail\":\"malformed\"}", false, BACKEND_ERR_MALFORMED);
    s_expect_error (LLAMA, "{\"fail\":\"malformed\"}", true, BACKEND_ERR_MALFORMED);
    s_expect_error (LLAMA, "{\"fail\":\"stream_error\",\"die-after\":2}", true, BACKEND_ERR_STREAM);
    s_expect_error (LLAMA, "{\"fail\":\"die\",\"die-after\":2}", true, BACKEND_ERR_CONNECTION);
    s_expect_error (LLAMA, "{\"fail\":\"die\"}", false, BACKEND_ERR_CONNECTION);
    s_expect_error (LLAMA, "{\"fail\":\"huge\",\"huge-bytes\":3000000}", false, BACKEND_ERR_TOO_LARGE);
    s_expect_error (LLAMA, "{\"fail\":\"huge\",\"huge-bytes\":3000000}", true, BACKEND_ERR_TOO_LARGE);
    s_expect_error (LLAMA, "{\"fail\":\"stall\"}", true, BACKEND_ERR_TIMEOUT);
    s_expect_error (LLAMA, "{\"fail\":\"not_found\"}", false, BACKEND_ERR_MODEL_NOT_FOUND);
    //  API key configured on the server, none sent
    s_expect_error (LLAMA, "{\"api-key\":\"secret\"}", false, BACKEND_ERR_AUTH);
    assert_int_equal (stub_config (&s_stub [LLAMA], "{\"api-key\":\"\",\"fail\":\"\"}"), 0);

    //  Context too long, streamed or not: a plain JSON 400 whose numbers are kept
    for (int stream = 0; stream < 2; stream++) {
        assert_int_equal (stub_config (&s_stub [LLAMA], "{\"ctx\":3}"), 0);
        backend_chat_t chat = s_chat (stream);
        s_out_t out;
        s_run (LLAMA, &chat, NULL, &out);
        assert_int_equal (out.error.code, BACKEND_ERR_CONTEXT_TOO_LONG);
        assert_int_equal (out.error.n_prompt_tokens, PROMPT_TOKENS);
        assert_int_equal (out.error.n_ctx, 3);
        assert_int_equal (out.error.http_status, 400);
        assert_non_null (strstr (out.error.message, "prompt 5 tokens, context 3 tokens"));
    }
    assert_int_equal (stub_config (&s_stub [LLAMA], "{\"ctx\":4096}"), 0);
}

static void
test_errors_other_backends (void **state)
{
    s_expect_error (OLLAMA, "{\"fail\":\"not_found\"}", true, BACKEND_ERR_MODEL_NOT_FOUND);
    s_expect_error (OLLAMA, "{\"fail\":\"busy\"}", false, BACKEND_ERR_BUSY);
    s_expect_error (OLLAMA, "{\"fail\":\"server\"}", false, BACKEND_ERR_SERVER);
    s_expect_error (OLLAMA, "{\"fail\":\"stream_error\",\"die-after\":1}", true, BACKEND_ERR_STREAM);
    s_expect_error (OLLAMA, "{\"fail\":\"die\",\"die-after\":1}", true, BACKEND_ERR_CONNECTION);
    s_expect_error (OLLAMA, "{\"fail\":\"malformed\"}", true, BACKEND_ERR_MALFORMED);
    s_expect_error (FM1, "{\"fail\":\"unavailable\"}", false, BACKEND_ERR_UNAVAILABLE);
    s_expect_error (FM1, "{\"fail\":\"server\"}", true, BACKEND_ERR_SERVER);
    s_expect_error (FM1, "{\"fail\":\"stream_error\",\"die-after\":1}", true, BACKEND_ERR_STREAM);
    s_expect_error (FM1, "{\"fail\":\"bad_request\"}", false, BACKEND_ERR_BAD_REQUEST);
    s_expect_error (FM2, "{\"fail\":\"unavailable\"}", false, BACKEND_ERR_UNAVAILABLE);
    s_expect_error (FM2, "{\"fail\":\"server\"}", false, BACKEND_ERR_SERVER);
    s_expect_error (OPENAI, "{\"fail\":\"busy\"}", true, BACKEND_ERR_BUSY);
    s_expect_error (OPENAI, "{\"fail\":\"not_found\"}", false, BACKEND_ERR_MODEL_NOT_FOUND);
    s_expect_error (OPENAI, "{\"fail\":\"context\"}", false, BACKEND_ERR_CONTEXT_TOO_LONG);
    s_expect_error (OPENAI, "{\"api-key\":\"other\"}", false, BACKEND_ERR_AUTH);
    assert_int_equal (stub_config (&s_stub [OPENAI], "{\"api-key\":\"sk-test\"}"), 0);
    s_expect_error (OPENAI, "{\"fail\":\"stream_error\",\"die-after\":2}", true, BACKEND_ERR_STREAM);
}

static void
test_fm_v1_body_limit (void **state)
{
    //  The v1 bridge reads one 64 KiB packet: a bigger request is refused before sending
    backend_t fm = s_backend (FM1);
    char *big = malloc (70000);
    snprintf (big, 70000, "[{\"role\":\"user\",\"content\":\"%0*d\"}]", 65000, 0);
    backend_chat_t chat = s_chat (false);
    chat.messages = big;
    backend_error_t err;
    s_out_t out = { 0 };
    assert_int_equal (backend_call_start (s_client, &fm, &chat, NULL, s_on_delta, s_on_done, &out, &err), 0);
    assert_int_equal (err.code, BACKEND_ERR_BAD_REQUEST);
    assert_int_equal (out.done_calls, 0);
    free (big);
}

static void
test_connection_refused (void **state)
{
    char url [64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", stub_closed_port ());
    backend_config_t config = { .llama_url = url };
    backend_t backend;
    backend_error_t err;
    assert_int_equal (backend_resolve ("llamacpp:gpt_oss_20b", &config, &backend, &err), 0);
    backend_chat_t chat = s_chat (true);
    s_out_t out = { 0 };
    assert_true (backend_call_start (s_client, &backend, &chat, NULL, s_on_delta, s_on_done, &out, &err) > 0);
    http_client_run (s_client, 5000);
    assert_int_equal (out.done_calls, 1);
    assert_int_equal (out.error.code, BACKEND_ERR_CONNECTION);
    assert_true (backend_code_retryable (out.error.code));
}

//  --------------------------------------------------------------------------
//  Health probes

typedef struct {
    int calls;                  //  callbacks
    backend_health_t health;    //  the verdict
} s_probe_out_t;

static void
s_on_health (void *arg, const backend_health_t *health)
{
    s_probe_out_t *out = (s_probe_out_t *) arg;
    out->calls++;
    out->health = *health;
}

static backend_health_t
s_probe (const backend_t *backend)
{
    s_probe_out_t out = { 0 };
    assert_true (backend_probe_start (s_client, backend, NULL, s_on_health, &out) > 0);
    http_client_run (s_client, 5000);
    assert_int_equal (out.calls, 1);
    return out.health;
}

static void
test_loading_then_ready (void **state)
{
    backend_t llama = s_backend (LLAMA);
    assert_int_equal (stub_config (&s_stub [LLAMA], "{\"loading-ms\":400}"), 0);
    backend_health_t health = s_probe (&llama);
    assert_int_equal (health.state, BACKEND_STATE_LOADING);
    assert_int_equal (health.error.code, BACKEND_ERR_LOADING);
    s_expect_error (LLAMA, "{}", true, BACKEND_ERR_LOADING);
    //  Poll like the actor would until it is ready
    int probes = 1;
    while (health.state != BACKEND_STATE_READY && probes < 100) {
        usleep (50000);
        health = s_probe (&llama);
        probes++;
    }
    assert_int_equal (health.state, BACKEND_STATE_READY);
    assert_true (probes > 2);
    assert_int_equal (health.total_slots, 8);
    assert_int_equal (health.n_ctx, 4096);
    assert_string_equal (health.model, "tiny.gguf");
    backend_chat_t chat = s_chat (true);
    s_out_t out;
    s_run (LLAMA, &chat, NULL, &out);
    assert_int_equal (out.error.code, BACKEND_OK);

    //  Ollama: loading only makes the first answer slow
    assert_int_equal (stub_config (&s_stub [OLLAMA], "{\"loading-ms\":300}"), 0);
    s_run (OLLAMA, &chat, NULL, &out);
    assert_int_equal (out.error.code, BACKEND_OK);
}

static void
test_probes (void **state)
{
    backend_t ollama = s_backend (OLLAMA);
    assert_int_equal (s_probe (&ollama).state, BACKEND_STATE_READY);
    assert_int_equal (stub_config (&s_stub [OLLAMA], "{\"models\":\"qwen2:7b,mistral:latest\"}"), 0);
    backend_health_t health = s_probe (&ollama);
    assert_int_equal (health.state, BACKEND_STATE_MODEL_MISSING);
    assert_int_equal (health.error.code, BACKEND_ERR_MODEL_NOT_FOUND);
    assert_int_equal (stub_config (&s_stub [OLLAMA], "{\"models\":\"llama3.2:latest\"}"), 0);

    //  The FM bridge: the wire generation is detected from /health
    backend_t fm = s_backend (FM1);
    fm.fm_wire = 0;
    health = s_probe (&fm);
    assert_int_equal (health.state, BACKEND_STATE_READY);
    assert_int_equal (health.fm_wire, 1);
    fm = s_backend (FM2);
    fm.fm_wire = 0;
    health = s_probe (&fm);
    assert_int_equal (health.state, BACKEND_STATE_READY);
    assert_int_equal (health.fm_wire, 2);
    assert_int_equal (stub_config (&s_stub [FM2], "{\"loading-ms\":10000}"), 0);
    health = s_probe (&fm);
    assert_int_equal (health.state, BACKEND_STATE_UNAVAILABLE);
    assert_non_null (strstr (health.error.message, "model_unavailable"));
    assert_int_equal (stub_config (&s_stub [FM1], "{\"loading-ms\":10000}"), 0);
    health = s_probe (&fm);     //  fm still points at FM2
    fm = s_backend (FM1);
    health = s_probe (&fm);
    assert_int_equal (health.state, BACKEND_STATE_UNAVAILABLE);
    assert_int_equal (health.fm_wire, 1);

    //  An unknown wire (no probe yet) still works, without streaming
    fm = s_backend (FM2);
    assert_int_equal (stub_config (&s_stub [FM2], "{\"loading-ms\":0}"), 0);
    fm.fm_wire = 0;
    backend_chat_t chat = s_chat (true);
    s_out_t out = { 0 };
    backend_error_t err;
    assert_true (backend_call_start (s_client, &fm, &chat, NULL, s_on_delta, s_on_done, &out, &err) > 0);
    http_client_run (s_client, 5000);
    assert_int_equal (out.error.code, BACKEND_OK);
    assert_string_equal (out.deltas, REPLY);

    backend_t openai = s_backend (OPENAI);
    assert_int_equal (s_probe (&openai).state, BACKEND_STATE_READY);
    snprintf (openai.api_key, sizeof openai.api_key, "wrong");
    health = s_probe (&openai);
    assert_int_equal (health.state, BACKEND_STATE_DOWN);
    assert_int_equal (health.error.code, BACKEND_ERR_AUTH);
    openai = s_backend (OPENAI);
    snprintf (openai.model, sizeof openai.model, "gpt-5");
    assert_int_equal (s_probe (&openai).state, BACKEND_STATE_MODEL_MISSING);

    //  Nothing listening
    char url [64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", stub_closed_port ());
    backend_t gone = s_backend (LLAMA);
    snprintf (gone.base_url, sizeof gone.base_url, "%s", url);
    health = s_probe (&gone);
    assert_int_equal (health.state, BACKEND_STATE_DOWN);
    assert_int_equal (health.error.code, BACKEND_ERR_CONNECTION);
}

static void
test_cancel (void **state)
{
    assert_int_equal (stub_config (&s_stub [LLAMA], "{\"token-delay\":50}"), 0);
    backend_t llama = s_backend (LLAMA);
    backend_chat_t chat = s_chat (true);
    s_out_t out = { .cancel_after = 1 };
    backend_error_t err;
    out.id = backend_call_start (s_client, &llama, &chat, NULL, s_on_delta, s_on_done, &out, &err);
    out.cancel_after = 1;
    assert_true (out.id > 0);
    http_client_run (s_client, 5000);
    assert_int_equal (out.done_calls, 1);
    assert_int_equal (out.error.code, BACKEND_ERR_CANCELLED);
    assert_int_equal (out.delta_count, 1);
}

//  --------------------------------------------------------------------------
//  Slots

static void
test_slots_unit (void **state)
{
    slots_t *slots = slots_new (2, 3);
    assert_int_equal (slots_acquire (slots, 1), SLOTS_RUN);
    assert_int_equal (slots_acquire (slots, 2), SLOTS_RUN);
    assert_int_equal (slots_acquire (slots, 3), SLOTS_QUEUED);
    assert_int_equal (slots_acquire (slots, 4), SLOTS_QUEUED);
    assert_int_equal (slots_acquire (slots, 5), SLOTS_QUEUED);
    assert_int_equal (slots_acquire (slots, 6), SLOTS_FULL);
    assert_int_equal (slots_forget (slots, 4), 0);
    assert_int_equal (slots_forget (slots, 4), -1);
    assert_int_equal (slots_release (slots), 3);     //  FIFO, 4 was forgotten
    assert_int_equal (slots_running (slots), 2);
    assert_int_equal (slots_release (slots), 5);
    assert_int_equal (slots_release (slots), 0);
    assert_int_equal (slots_running (slots), 1);
    //  Growing the limit lets waiting jobs in
    assert_int_equal (slots_acquire (slots, 7), SLOTS_RUN);
    assert_int_equal (slots_acquire (slots, 8), SLOTS_QUEUED);
    assert_int_equal (slots_acquire (slots, 9), SLOTS_QUEUED);
    slots_set_limit (slots, 4);
    assert_int_equal (slots_next (slots), 8);
    assert_int_equal (slots_next (slots), 9);
    assert_int_equal (slots_next (slots), 0);
    assert_int_equal (slots_limit (slots), 4);
    //  A new job does not overtake waiting ones
    slots_set_limit (slots, 1);
    assert_int_equal (slots_acquire (slots, 10), SLOTS_QUEUED);
    slots_destroy (&slots);
    assert_null (slots);
}

//  More jobs than slots through the limiter: never more in flight than slots.
typedef struct {
    slots_t *slots;             //  the limiter
    backend_t backend;          //  where jobs go
    s_out_t out [12];           //  per job
    int finished;               //  jobs done
    size_t max_running;         //  most jobs the limiter let run at once
} s_farm_t;

static s_farm_t *s_farm;

static void s_farm_done (void *arg, const backend_result_t *result, const backend_error_t *error);

static void
s_farm_start (uint64_t job)
{
    backend_chat_t chat = s_chat (true);
    backend_error_t err;
    s_farm->out [job - 1].id = backend_call_start (s_client, &s_farm->backend, &chat, NULL, s_on_delta,
                                                   s_farm_done, &s_farm->out [job - 1], &err);
    assert_true (s_farm->out [job - 1].id > 0);
    if (slots_running (s_farm->slots) > s_farm->max_running)
        s_farm->max_running = slots_running (s_farm->slots);
}

static void
s_farm_done (void *arg, const backend_result_t *result, const backend_error_t *error)
{
    s_on_done (arg, result, error);
    s_farm->finished++;
    uint64_t next = slots_release (s_farm->slots);
    if (next)
        s_farm_start (next);
}

static void
test_slots_against_server (void **state)
{
    //  The server has 2 slots and queues the rest without telling; 100 ms per job
    assert_int_equal (stub_config (&s_stub [LLAMA], "{\"slots\":2,\"first-token-delay\":100}"), 0);
    assert_int_equal (stub_call (&s_stub [LLAMA], "/__stub/reset", "", NULL), 0);
    backend_t llama = s_backend (LLAMA);
    backend_health_t health = s_probe (&llama);
    assert_int_equal (health.total_slots, 2);

    s_farm_t farm = { .slots = slots_new ((size_t) health.total_slots, 8), .backend = llama };
    s_farm = &farm;
    int started = 0, queued = 0, refused = 0;
    for (uint64_t job = 1; job <= 12; job++) {
        int rc = slots_acquire (farm.slots, job);
        if (rc == SLOTS_RUN) {
            backend_chat_t chat = s_chat (true);
            backend_error_t err;
            farm.out [job - 1].id = backend_call_start (s_client, &llama, &chat, NULL, s_on_delta,
                                                        s_farm_done, &farm.out [job - 1], &err);
            started++;
        }
        else
        if (rc == SLOTS_QUEUED)
            queued++;
        else
            refused++;
    }
    assert_int_equal (started, 2);
    assert_int_equal (queued, 8);
    assert_int_equal (refused, 2);
    //  Each completion hands its slot to the next queued job (s_farm_done)
    http_client_run (s_client, 10000);
    assert_int_equal (farm.finished, 10);
    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += farm.out [i].done_calls == 1 && farm.out [i].error.code == BACKEND_OK;
    assert_int_equal (ok, 10);
    assert_true (farm.max_running <= 2);
    //  The server never saw more than its 2 slots' worth, so nothing waited there
    assert_int_equal (stub_stat (&s_stub [LLAMA], "max_concurrent"), 2);
    assert_int_equal (stub_stat (&s_stub [LLAMA], "max_queued"), 0);
    slots_destroy (&farm.slots);
    s_farm = NULL;
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_resolve),
        cmocka_unit_test_setup (test_chat_check, s_reset),
        cmocka_unit_test_setup (test_success_each_backend, s_reset),
        cmocka_unit_test_setup (test_stream_split_and_pings, s_reset),
        cmocka_unit_test_setup (test_request_fields, s_reset),
        cmocka_unit_test_setup (test_finish_length, s_reset),
        cmocka_unit_test_setup (test_errors_llamacpp, s_reset),
        cmocka_unit_test_setup (test_errors_other_backends, s_reset),
        cmocka_unit_test_setup (test_fm_v1_body_limit, s_reset),
        cmocka_unit_test_setup (test_connection_refused, s_reset),
        cmocka_unit_test_setup (test_loading_then_ready, s_reset),
        cmocka_unit_test_setup (test_probes, s_reset),
        cmocka_unit_test_setup (test_cancel, s_reset),
        cmocka_unit_test (test_slots_unit),
        cmocka_unit_test_setup (test_slots_against_server, s_reset),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
