/*  test_inference_actor.c: the inference actor over the runtime, against the backend stub
    (tests/stubs/backend_stub.mjs playing llama-server, a child process on an ephemeral port),
    with a probe playing the job router.

    Covered: the first BACKEND_STATUS (available, slots from /props) and the status JSON; a
    plain and a streamed job (partials joined equal the content; fast deltas coalesced);
    loading then ready; each error class reaching INFER_RESULT with its code; more jobs than
    slots (the stub never sees more than its slots at once, the overflow gets "busy");
    cancellation of a queued and of a running job; the server killed mid-stream; a backend
    down at start, and one whose identifier cannot be resolved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "actors.h"
#include "inference.h"
#include "node.h"
#include "probe.h"
#include "../stubs/stub_proc.h"

#define BACKEND  "llamacpp:gpt_oss_20b"
#define MESSAGES "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Say hello.\"}]"
#define REPLY    "Hello, world \xe1\x83\xab"   /* the stub's default pieces, joined */
#define INBOX    "inproc://ti-inference"

static stub_t s_stub;       /* one llama stub shared by the tests that do not kill it */

/* One running inference actor with the probe as its job router. */
typedef struct {
    config_t cfg;               /* its configuration */
    inference_args_t args;      /* what it was started with */
    probe_t *router;            /* the test, named "job_router" */
    node_t *node;               /* the actor */
} fixture_t;

/* Start the actor on config text (TOML over the defaults; probes retried every 200 ms). */
static void
s_up(fixture_t *f, const char *toml)
{
    config_defaults(&f->cfg);
    char err[256];
    assert_int_equal(config_apply_text(&f->cfg, "test", toml, strlen(toml), err, sizeof err), 0);
    f->cfg.probe_retry_ms = 200;
    f->args.cfg = &f->cfg;
    /* A fresh endpoint each time: closing an inproc socket frees its name only later. */
    static int count = 0;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://ti-job_router-%d", ++count);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "job_router", endpoint);
    f->router = probe_new("job_router", endpoint);
    assert_non_null(f->router);
    node_member_t members[] = {{&inference_actor, &f->args}};
    f->node = node_start(members, 1, &dir, "ti-", NULL);
    assert_non_null(f->node);
}

/* Start the actor serving llamacpp:gpt_oss_20b at url, with a queue of `queue` per backend. */
static void
s_up_at(fixture_t *f, const char *url, int queue)
{
    char toml[512];
    snprintf(toml, sizeof toml, "[limits]\nqueue_per_backend = %d\n[backends.llamacpp]\n"
             "url = \"%s\"\nmodels = [\"gpt_oss_20b\"]\n", queue, url);
    s_up(f, toml);
}

static void
s_down(fixture_t *f)
{
    node_stop(&f->node);
    probe_destroy(&f->router);
    config_free(&f->cfg);
}

/* The next message of any type, within timeout_ms. */
static void
s_next(fixture_t *f, msg_t *msg, int timeout_ms)
{
    if (probe_recv(f->router, msg, timeout_ms))
        fail_msg("nothing arrived within %d ms", timeout_ms);
}

/* The next message of `type`, skipping BACKEND_STATUS messages on the way. */
static void
s_expect(fixture_t *f, msg_type_t type, msg_t *msg, int timeout_ms)
{
    for (;;) {
        s_next(f, msg, timeout_ms);
        if (msg->type == type)
            return;
        if (msg->type != MSG_BACKEND_STATUS)
            fail_msg("expected %s, got %s", msg_type_name(type), msg_type_name(msg->type));
    }
}

/* Wait for a BACKEND_STATUS saying `available`. */
static void
s_expect_status(fixture_t *f, bool available, msg_t *msg, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    for (;;) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0 || probe_recv(f->router, msg, (int) left))
            fail_msg("no BACKEND_STATUS available=%d within %d ms", available, timeout_ms);
        if (msg->type == MSG_BACKEND_STATUS && msg->backend_status.available == available)
            return;
        if (msg->type != MSG_BACKEND_STATUS)
            fail_msg("expected BACKEND_STATUS, got %s", msg_type_name(msg->type));
    }
}

static void
s_send_job(fixture_t *f, uint8_t n, const char *backend, const char *messages,
           const char *params, bool stream)
{
    msg_t job = {.type = MSG_INFER_REQUEST,
                 .infer_request = {.backend = backend, .messages = messages, .params = params,
                                   .stream = stream}};
    memset(job.infer_request.job, n, 32);
    assert_int_equal(probe_send(f->router, "inference", INBOX, &job), 0);
}

static void
s_send_cancel(fixture_t *f, uint8_t n)
{
    msg_t cancel = {.type = MSG_INFER_CANCEL};
    memset(cancel.infer_cancel.job, n, 32);
    assert_int_equal(probe_send(f->router, "inference", INBOX, &cancel), 0);
}

/* The actor's status JSON (fresh). */
static char *
s_status_json(fixture_t *f)
{
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {.seq = 9}};
    assert_int_equal(probe_send(f->router, "inference", INBOX, &ask), 0);
    msg_t in = {0};
    s_expect(f, MSG_STATUS_REPORT, &in, 2000);
    char *json = strdup(in.status_report.json);
    msg_release(&in);
    return json;
}

static int
s_setup(void **state)
{
    unsetenv("PYLON_LLAMA_SERVER_URL");
    const char *flags[] = {"--api", "llama", "--slots", "2", NULL};
    return stub_start(&s_stub, flags);
}

static int
s_teardown(void **state)
{
    stub_stop(&s_stub);
    return 0;
}

/* Every test starts from the stub's defaults, counters zeroed. */
static int
s_reset(void **state)
{
    if (stub_config(&s_stub, "{\"fail\":\"\",\"token-delay\":0,\"first-token-delay\":0,"
                    "\"loading-ms\":0,\"slots\":2,\"model\":\"\",\"ctx\":4096,\"api-key\":\"\",\"die-after\":1,"
                    "\"tokens\":\"Hello,\\\\, world, \xe1\x83\xab\"}"))
        return -1;
    return stub_call(&s_stub, "/__stub/reset", "{}", NULL);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void
t_status_at_start(void **state)
{
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_next(&f, &in, 5000);
    assert_int_equal(in.type, MSG_BACKEND_STATUS);
    assert_string_equal(in.backend_status.backend, BACKEND);
    assert_true(in.backend_status.available);
    assert_int_equal(in.backend_status.slots, 2);     /* /props total_slots */
    assert_non_null(strstr(in.backend_status.detail, "ready"));
    msg_release(&in);
    char *json = s_status_json(&f);
    assert_non_null(strstr(json, "\"" BACKEND "\":{\"available\":true,\"state\":\"ready\""));
    assert_non_null(strstr(json, "\"slots\":2,\"running\":0,\"queued\":0,\"done\":0,\"errors\":0"));
    free(json);
    /* Nothing changed: nothing more is said. */
    assert_int_equal(probe_recv(f.router, &in, 400), -1);
    s_down(&f);
}

static void
t_plain_and_streamed(void **state)
{
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);

    /* Not streamed: the result only. */
    s_send_job(&f, 1, BACKEND, MESSAGES, "{\"temperature\":0.5,\"max_tokens\":64,\"stop\":[\"\\n\\n\"]}", false);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_int_equal(in.infer_result.job[0], 1);
    assert_true(in.infer_result.ok);
    assert_string_equal(in.infer_result.content, REPLY);
    assert_string_equal(in.infer_result.finish_reason, "stop");
    assert_int_equal(in.infer_result.prompt_tokens, 5);     /* the stub: 19 characters / 4 */
    assert_int_equal(in.infer_result.completion_tokens, 3);
    assert_string_equal(in.infer_result.model, "tiny.gguf");
    assert_string_equal(in.infer_result.error_code, "");
    char *body = stub_last_body(&s_stub);
    assert_non_null(strstr(body, "\"max_tokens\":64"));
    assert_non_null(strstr(body, "\"temperature\":0.5"));
    assert_non_null(strstr(body, "\"stop\":[\"\\n\\n\"]"));
    free(body);

    /* Streamed, pieces 150 ms apart: several partials, in order, joined equal to the content. */
    assert_int_equal(stub_config(&s_stub, "{\"token-delay\":150}"), 0);
    s_send_job(&f, 2, BACKEND, MESSAGES, "{}", true);
    char joined[256] = "";
    uint64_t partials = 0;
    for (;;) {
        s_expect(&f, MSG_INFER_PARTIAL, &in, 5000);
        assert_int_equal(in.infer_partial.job[0], 2);
        assert_int_equal(in.infer_partial.seq, partials);
        partials++;
        strcat(joined, in.infer_partial.text);
        if (streq(joined, REPLY))
            break;
    }
    assert_true(partials >= 2);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_true(in.infer_result.ok);
    assert_string_equal(in.infer_result.content, joined);

    /* Streamed fast, 200 one-byte pieces: coalesced into a few partials. */
    char tokens[1024] = "{\"token-delay\":0,\"tokens\":\"";
    for (int i = 0; i < 200; i++)
        strcat(tokens, i ? ",x" : "x");
    strcat(tokens, "\"}");
    assert_int_equal(stub_config(&s_stub, tokens), 0);
    s_send_job(&f, 3, BACKEND, MESSAGES, "", true);
    joined[0] = 0;
    partials = 0;
    for (;;) {
        s_expect(&f, MSG_INFER_PARTIAL, &in, 5000);
        partials++;
        strcat(joined, in.infer_partial.text);
        if (strlen(joined) == 200)
            break;
    }
    assert_true(partials >= 1 && partials <= 10);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_true(in.infer_result.ok);
    assert_string_equal(in.infer_result.content, joined);
    assert_int_equal(in.infer_result.completion_tokens, 200);
    msg_release(&in);

    /* A NUL byte from the server (JSON \u0000) cannot cross an actor boundary: U+FFFD. */
    assert_int_equal(stub_config(&s_stub, "{\"tokens\":\"a\\u0000,b\"}"), 0);
    for (uint8_t n = 4; n <= 5; n++) {
        s_send_job(&f, n, BACKEND, MESSAGES, "", n == 5);
        joined[0] = 0;
        for (s_next(&f, &in, 5000); in.type == MSG_INFER_PARTIAL; s_next(&f, &in, 5000))
            strcat(joined, in.infer_partial.text);
        assert_int_equal(in.type, MSG_INFER_RESULT);
        assert_true(in.infer_result.ok);
        assert_string_equal(in.infer_result.content, "a\xEF\xBF\xBD" "b");
        assert_string_equal(joined, n == 5 ? "a\xEF\xBF\xBD" "b" : "");
    }
    msg_release(&in);

    char *json = s_status_json(&f);
    assert_non_null(strstr(json, "\"done\":5,\"errors\":0"));
    free(json);
    s_down(&f);
}

static void
t_loading_then_ready(void **state)
{
    assert_int_equal(stub_config(&s_stub, "{\"loading-ms\":1200}"), 0);
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_next(&f, &in, 5000);
    assert_int_equal(in.type, MSG_BACKEND_STATUS);
    assert_false(in.backend_status.available);
    assert_non_null(strstr(in.backend_status.detail, "loading"));
    /* A job meanwhile fails as such. */
    s_send_job(&f, 1, BACKEND, MESSAGES, "", false);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_false(in.infer_result.ok);
    assert_string_equal(in.infer_result.error_code, "model_loading");
    /* Then the model is loaded: said once. */
    int64_t start = zclock_mono();
    s_expect_status(&f, true, &in, 5000);
    assert_int_equal(in.backend_status.slots, 2);
    assert_true(zclock_mono() - start < 2500);
    msg_release(&in);
    s_down(&f);
}

/* One failure: run a job with the stub set by `stub_json`, expect error code and text. */
static void
s_expect_failure(fixture_t *f, const char *stub_json, const char *backend, const char *messages,
                 const char *params, bool stream, const char *code, const char *text)
{
    static uint8_t n = 100;
    if (stub_json)
        assert_int_equal(stub_config(&s_stub, stub_json), 0);
    s_send_job(f, ++n, backend, messages, params, stream);
    msg_t in = {0};
    for (;;) {
        s_next(f, &in, 5000);
        if (in.type == MSG_INFER_RESULT)
            break;
        /* Partials may come before a stream fails. */
        if (in.type != MSG_BACKEND_STATUS && in.type != MSG_INFER_PARTIAL)
            fail_msg("unexpected %s", msg_type_name(in.type));
    }
    assert_int_equal(in.infer_result.job[0], n);
    assert_false(in.infer_result.ok);
    if (!streq(in.infer_result.error_code, code) || !strstr(in.infer_result.error, text))
        fail_msg("%s: expected %s (%s), got %s (%s)", stub_json ? stub_json : params, code, text,
                 in.infer_result.error_code, in.infer_result.error);
    msg_release(&in);
}

static void
t_errors(void **state)
{
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);
    msg_release(&in);
    /* The server's answers, each its own code. */
    s_expect_failure(&f, "{\"fail\":\"server\"}", BACKEND, MESSAGES, "", false, "server_error", "decode failed");
    s_expect_failure(&f, "{\"fail\":\"bad_request\"}", BACKEND, MESSAGES, "", false, "bad_request", "messages");
    s_expect_failure(&f, "{\"fail\":\"not_found\"}", BACKEND, MESSAGES, "", false, "model_not_found", "404");
    s_expect_failure(&f, "{\"fail\":\"busy\"}", BACKEND, MESSAGES, "", false, "server_busy", "no slot");
    s_expect_failure(&f, "{\"fail\":\"malformed\"}", BACKEND, MESSAGES, "", true, "malformed_response", "");
    s_expect_failure(&f, "{\"fail\":\"stream_error\",\"die-after\":2}", BACKEND, MESSAGES, "", true,
                     "stream_error", "decode failed mid-stream");
    s_expect_failure(&f, "{\"fail\":\"\",\"ctx\":3}", BACKEND, MESSAGES, "", true, "context_too_long",
                     "prompt 5 tokens, context 3 tokens");
    /* Refused before anything is sent, with the check's reason. */
    s_expect_failure(&f, "{\"ctx\":4096}", BACKEND, MESSAGES, "{\"temperature\":5}", false,
                     "bad_request", "temperature must be 0..2");
    s_expect_failure(&f, NULL, BACKEND, MESSAGES, "{\"top_k\":\"many\"}", false, "bad_request",
                     "top_k must be a whole number");
    s_expect_failure(&f, NULL, BACKEND, MESSAGES, "{\"stop\":[1]}", false, "bad_request", "stop");
    s_expect_failure(&f, NULL, BACKEND, MESSAGES, "[1]", false, "bad_request", "params");
    s_expect_failure(&f, NULL, BACKEND, "[]", "", false, "bad_request", "messages");
    s_expect_failure(&f, NULL, "ollama:nope", MESSAGES, "", false, "config_error", "not served");
    /* The server wants a key we were not given. */
    s_expect_failure(&f, "{\"api-key\":\"secret\"}", BACKEND, MESSAGES, "", false, "auth_failed", "401");
    char *json = s_status_json(&f);
    /* Every failure but the unknown backend's counts against the backend. */
    assert_non_null(strstr(json, "\"done\":0,\"errors\":13"));
    assert_non_null(strstr(json, "\"last_error\":\"auth_failed: "));
    free(json);
    /* What our checks refused never reached the server: only the first seven did. */
    assert_int_equal(stub_stat(&s_stub, "completions"), 7);
    s_down(&f);
}

static void
t_more_jobs_than_slots(void **state)
{
    assert_int_equal(stub_config(&s_stub, "{\"first-token-delay\":400}"), 0);
    fixture_t f;
    s_up_at(&f, s_stub.url, 2);     /* 2 slots (from /props) and 2 waiting at most */
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);
    assert_int_equal(in.backend_status.slots, 2);
    for (uint8_t n = 1; n <= 6; n++)
        s_send_job(&f, n, BACKEND, MESSAGES, "", false);
    int ok = 0, busy = 0;
    bool answered[7] = {false};
    while (ok + busy < 6) {
        s_expect(&f, MSG_INFER_RESULT, &in, 5000);
        uint8_t n = in.infer_result.job[0];
        assert_false(answered[n]);
        answered[n] = true;
        if (in.infer_result.ok)
            ok++;
        else {
            assert_string_equal(in.infer_result.error_code, "busy");
            assert_non_null(strstr(in.infer_result.error, "2 jobs run and 2 wait"));
            assert_true(n == 5 || n == 6);      /* the overflow, answered first */
            assert_int_equal(ok, 0);
            busy++;
        }
    }
    assert_int_equal(ok, 4);
    assert_int_equal(busy, 2);
    /* The stub never had a request waiting for a slot, and had both slots busy at once. */
    assert_int_equal(stub_stat(&s_stub, "max_queued"), 0);
    assert_int_equal(stub_stat(&s_stub, "max_active"), 2);
    assert_int_equal(stub_stat(&s_stub, "completions"), 4);
    msg_release(&in);
    s_down(&f);
}

static void
t_cancel(void **state)
{
    assert_int_equal(stub_config(&s_stub, "{\"first-token-delay\":800}"), 0);
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);
    s_send_job(&f, 1, BACKEND, MESSAGES, "", true);     /* running */
    s_send_job(&f, 2, BACKEND, MESSAGES, "", false);    /* running */
    s_send_job(&f, 3, BACKEND, MESSAGES, "", false);    /* queued */
    zclock_sleep(100);
    s_send_cancel(&f, 3);
    s_send_cancel(&f, 1);
    s_send_cancel(&f, 42);                              /* unknown: ignored */
    s_send_job(&f, 4, BACKEND, MESSAGES, "", false);    /* takes the slot job 1 freed */
    int64_t start = zclock_mono();
    bool got[5] = {false};
    for (int i = 0; i < 2; i++) {
        s_expect(&f, MSG_INFER_RESULT, &in, 5000);
        uint8_t n = in.infer_result.job[0];
        assert_true(n == 2 || n == 4);
        assert_true(in.infer_result.ok);
        got[n] = true;
    }
    assert_true(got[2] && got[4]);
    /* Job 4 did not wait for job 2's slot. */
    assert_true(zclock_mono() - start < 1400);
    /* No answer for the cancelled ones. */
    assert_int_equal(probe_recv(f.router, &in, 500), -1);
    /* The running job's connection was closed; the queued one never reached the server. */
    assert_int_equal(stub_stat(&s_stub, "client_closed"), 1);
    assert_int_equal(stub_stat(&s_stub, "completions"), 3);
    char *json = s_status_json(&f);
    assert_non_null(strstr(json, "\"running\":0,\"queued\":0,\"done\":2,\"errors\":0,\"cancelled\":2"));
    free(json);
    msg_release(&in);
    s_down(&f);
}

static void
t_killed_mid_stream(void **state)
{
    stub_t stub;
    const char *flags[] = {"--api", "llama", "--token-delay", "300", "--tokens", "a,b,c,d,e,f", NULL};
    assert_int_equal(stub_start(&stub, flags), 0);
    fixture_t f;
    s_up_at(&f, stub.url, 8);
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);
    s_send_job(&f, 1, BACKEND, MESSAGES, "", true);
    s_expect(&f, MSG_INFER_PARTIAL, &in, 5000);
    assert_string_equal(in.infer_partial.text, "a");
    kill(stub.pid, SIGKILL);
    waitpid(stub.pid, NULL, 0);
    stub.pid = 0;
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_false(in.infer_result.ok);
    assert_string_equal(in.infer_result.error_code, "connection_failed");
    /* The failure made the actor look again: the backend is gone. */
    s_expect_status(&f, false, &in, 3000);
    assert_non_null(strstr(in.backend_status.detail, "down"));
    msg_release(&in);
    s_down(&f);
}

static void
t_down_at_start(void **state)
{
    char toml[512];
    snprintf(toml, sizeof toml, "[backends.llamacpp]\nurl = \"http://127.0.0.1:%d\"\n"
             "models = [\"gpt_oss_20b\", \"no_such_model\"]\n", stub_closed_port());
    fixture_t f;
    s_up(&f, toml);
    msg_t in = {0};
    bool seen_down = false, seen_unusable = false;
    for (int i = 0; i < 2; i++) {
        s_next(&f, &in, 5000);
        assert_int_equal(in.type, MSG_BACKEND_STATUS);
        assert_false(in.backend_status.available);
        if (streq(in.backend_status.backend, BACKEND)) {
            assert_non_null(strstr(in.backend_status.detail, "down"));
            seen_down = true;
        }
        else {
            assert_string_equal(in.backend_status.backend, "llamacpp:no_such_model");
            assert_non_null(strstr(in.backend_status.detail, "not usable"));
            seen_unusable = true;
        }
    }
    assert_true(seen_down && seen_unusable);
    s_send_job(&f, 1, BACKEND, MESSAGES, "", true);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_string_equal(in.infer_result.error_code, "connection_failed");
    s_send_job(&f, 2, "llamacpp:no_such_model", MESSAGES, "", true);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_string_equal(in.infer_result.error_code, "config_error");
    /* Retried every 200 ms, still down: nothing new is said. */
    assert_int_equal(probe_recv(f.router, &in, 600), -1);
    char *json = s_status_json(&f);
    assert_non_null(strstr(json, "\"state\":\"down\""));
    assert_non_null(strstr(json, "\"state\":\"not_usable\""));
    free(json);
    msg_release(&in);
    s_down(&f);
}

/* A model name from the server that is cut mid-character (the adapters keep 127 bytes) or is
   not UTF-8 still lets BACKEND_STATUS and INFER_RESULT through: the catalogue refuses invalid
   UTF-8, and a result that cannot be sent leaves its job running forever. */
static void
t_model_name_not_utf8(void **state)
{
    char stub[512] = "{\"model\":\"";
    for (int i = 0; i < 60; i++)
        strcat(stub, "\xe1\x83\xab");      /* 180 bytes: cut at 127, inside a character */
    strcat(stub, "\"}");
    assert_int_equal(stub_config(&s_stub, stub), 0);
    fixture_t f;
    s_up_at(&f, s_stub.url, 8);
    msg_t in = {0};
    s_expect_status(&f, true, &in, 5000);
    assert_non_null(strstr(in.backend_status.detail, "ready: model \xe1\x83\xab"));
    s_send_job(&f, 1, BACKEND, MESSAGES, "", false);
    s_expect(&f, MSG_INFER_RESULT, &in, 5000);
    assert_true(in.infer_result.ok);
    assert_string_equal(in.infer_result.content, REPLY);
    assert_true(strlen(in.infer_result.model) >= 120);
    msg_release(&in);
    char *json = s_status_json(&f);
    free(json);
    s_down(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(t_status_at_start, s_reset),
        cmocka_unit_test_setup(t_plain_and_streamed, s_reset),
        cmocka_unit_test_setup(t_loading_then_ready, s_reset),
        cmocka_unit_test_setup(t_errors, s_reset),
        cmocka_unit_test_setup(t_more_jobs_than_slots, s_reset),
        cmocka_unit_test_setup(t_cancel, s_reset),
        cmocka_unit_test_setup(t_model_name_not_utf8, s_reset),
        cmocka_unit_test(t_killed_mid_stream),
        cmocka_unit_test(t_down_at_start),
    };
    return cmocka_run_group_tests_name("inference_actor", tests, s_setup, s_teardown);
}
