/*  test_http.c: the non-blocking HTTP client against the backend stub (a child node process).

    Covers buffered and streamed bodies, many requests in flight, the API key header, each
    error class (refused, first-byte / idle / total timeouts, reset mid-stream, size limit,
    abort), cancellation (outside and inside a callback), and driving the client from an
    outside poll loop through the watch callback.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "../stubs/stub_proc.h"

//  What one request's callbacks saw.
typedef struct {
    int done_calls;             //  completion callbacks (must end at 1)
    http_error_t error;         //  error class
    long status;                //  HTTP status
    char message [256];         //  error message
    char body [65536];          //  buffered body, or streamed chunks
    size_t body_len;            //  bytes in body
    size_t streamed;            //  bytes seen by the chunk callback
    int chunks;                 //  chunk callbacks
    int abort_after;            //  chunk callback returns -1 after this many (0 = never)
    http_client_t *client;      //  for cancel-in-callback
    uint64_t cancel_id;         //  request to cancel from the chunk callback
} s_seen_t;

static int
s_on_chunk (void *arg, long status, const char *data, size_t len)
{
    s_seen_t *seen = (s_seen_t *) arg;
    assert_true (status >= 200 && status < 300);
    if (seen->body_len + len < sizeof seen->body) {
        memcpy (seen->body + seen->body_len, data, len);
        seen->body_len += len;
        seen->body [seen->body_len] = 0;
    }
    seen->streamed += len;
    seen->chunks++;
    if (seen->cancel_id)
        assert_int_equal (http_client_cancel (seen->client, seen->cancel_id), 0);
    return seen->abort_after && seen->chunks >= seen->abort_after ? -1 : 0;
}

static void
s_on_done (void *arg, const http_result_t *result)
{
    s_seen_t *seen = (s_seen_t *) arg;
    seen->done_calls++;
    seen->error = result->error;
    seen->status = result->status;
    snprintf (seen->message, sizeof seen->message, "%s", result->message);
    if (result->body_len) {
        assert_true (result->body_len < sizeof seen->body);
        memcpy (seen->body, result->body, result->body_len);
        seen->body_len = result->body_len;
        seen->body [seen->body_len] = 0;
    }
}

static stub_t s_stub;

static int
s_setup (void **state)
{
    const char *flags [] = { "--api", "llama", "--slots", "64", "--api-key", "k", NULL };
    return stub_start (&s_stub, flags);
}

static int
s_teardown (void **state)
{
    stub_stop (&s_stub);
    return 0;
}

//  Reset the stub to plain success before each test.
static int
s_reset (void **state)
{
    return stub_config (&s_stub, "{\"fail\":\"\",\"token-delay\":0,\"first-token-delay\":0,"
                                 "\"split\":0,\"loading-ms\":0}");
}

static void
s_url (char *url, size_t size, const char *path)
{
    snprintf (url, size, "%s%s", s_stub.url, path);
}

#define CHAT_STREAM "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}"
#define CHAT_PLAIN  "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"

static uint64_t
s_post (http_client_t *client, const char *path, const char *body, bool stream, s_seen_t *seen,
        const http_request_t *extra)
{
    char url [128];
    s_url (url, sizeof url, path);
    http_request_t r = extra ? *extra : (http_request_t) { 0 };
    r.url = url;
    r.bearer = r.bearer ? r.bearer : "k";
    r.body = body;
    r.body_len = body ? strlen (body) : 0;
    r.on_chunk = stream ? s_on_chunk : NULL;
    r.on_done = s_on_done;
    r.arg = seen;
    uint64_t id = http_client_start (client, &r);
    assert_true (id > 0);
    return id;
}

static void
test_get_buffered (void **state)
{
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    char url [128];
    s_url (url, sizeof url, "/health");
    http_request_t r = { .url = url, .on_done = s_on_done, .arg = &seen };
    assert_true (http_client_start (client, &r) > 0);
    assert_int_equal (http_client_active (client), 1);
    assert_int_equal (http_client_run (client, 5000), 0);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.error, HTTP_OK);
    assert_int_equal (seen.status, 200);
    assert_string_equal (seen.body, "{\"status\":\"ok\"}");
    http_client_destroy (&client);
    assert_null (client);
}

static void
test_bearer (void **state)
{
    http_client_t *client = http_client_new ();
    s_seen_t good = { 0 }, bad = { 0 };
    http_request_t wrong = { .bearer = "wrong" };
    s_post (client, "/v1/chat/completions", CHAT_PLAIN, false, &good, NULL);
    s_post (client, "/v1/chat/completions", CHAT_PLAIN, false, &bad, &wrong);
    http_client_run (client, 5000);
    assert_int_equal (good.status, 200);
    assert_int_equal (bad.error, HTTP_OK);      //  a complete response, the status tells
    assert_int_equal (bad.status, 401);
    assert_non_null (strstr (bad.body, "authentication_error"));
    //  A key with a line break could inject headers: refused before sending
    char url [128];
    s_url (url, sizeof url, "/health");
    http_request_t evil = { .url = url, .bearer = "k\r\nX-Evil: 1", .on_done = s_on_done };
    assert_int_equal (http_client_start (client, &evil), 0);
    assert_null (strstr (http_client_last_error (client), "X-Evil"));
    http_client_destroy (&client);
}

static void
test_stream_chunks (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"split\":7,\"token-delay\":5}"), 0);
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen, NULL);
    http_client_run (client, 10000);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.error, HTTP_OK);
    assert_int_equal (seen.status, 200);
    assert_true (seen.chunks > 5);
    assert_non_null (strstr (seen.body, "\"content\":\"Hello\""));
    assert_non_null (strstr (seen.body, "data: [DONE]\n\n"));
    http_client_destroy (&client);
}

static void
test_error_body_not_streamed (void **state)
{
    //  A non-2xx answer to a streaming request is buffered for the completion callback
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"context\"}"), 0);
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen, NULL);
    http_client_run (client, 5000);
    assert_int_equal (seen.chunks, 0);
    assert_int_equal (seen.status, 400);
    assert_non_null (strstr (seen.body, "exceed_context_size_error"));
    http_client_destroy (&client);
}

static void
test_many_in_flight (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"first-token-delay\":100}"), 0);
    assert_int_equal (stub_call (&s_stub, "/__stub/reset", "", NULL), 0);
    http_client_t *client = http_client_new ();
    enum { N = 24 };
    s_seen_t *seen = calloc (N, sizeof *seen);
    for (int i = 0; i < N; i++)
        s_post (client, "/v1/chat/completions", CHAT_STREAM, i % 2, &seen [i], NULL);
    assert_int_equal (http_client_active (client), N);
    http_client_run (client, 10000);
    for (int i = 0; i < N; i++) {
        assert_int_equal (seen [i].done_calls, 1);
        assert_int_equal (seen [i].error, HTTP_OK);
        assert_int_equal (seen [i].status, 200);
    }
    //  They really ran at the same time in the server
    assert_true (stub_stat (&s_stub, "max_concurrent") >= N / 2);
    free (seen);
    http_client_destroy (&client);
}

static void
test_connect_refused (void **state)
{
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    char url [64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/health", stub_closed_port ());
    http_request_t r = { .url = url, .on_done = s_on_done, .arg = &seen };
    assert_true (http_client_start (client, &r) > 0);
    http_client_run (client, 5000);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.error, HTTP_ERR_CONNECT);
    assert_int_equal (seen.status, 0);
    assert_non_null (strstr (seen.message, "connect"));
    http_client_destroy (&client);
}

static void
test_timeouts (void **state)
{
    http_client_t *client = http_client_new ();
    //  Never answers: first-byte timeout
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"stall\"}"), 0);
    s_seen_t first = { 0 };
    http_request_t r1 = { .first_byte_timeout_ms = 200, .total_timeout_ms = 5000 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &first, &r1);
    http_client_run (client, 5000);
    assert_int_equal (first.error, HTTP_ERR_TIMEOUT_FIRST_BYTE);

    //  Sends one event then stalls: idle timeout
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"stall_mid\"}"), 0);
    s_seen_t idle = { 0 };
    http_request_t r2 = { .first_byte_timeout_ms = 2000, .idle_timeout_ms = 200 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &idle, &r2);
    http_client_run (client, 5000);
    assert_int_equal (idle.error, HTTP_ERR_TIMEOUT_IDLE);
    assert_true (idle.chunks >= 1);

    //  Slow but steady: the total timeout
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"\",\"token-delay\":100}"), 0);
    s_seen_t total = { 0 };
    http_request_t r3 = { .idle_timeout_ms = 1000, .total_timeout_ms = 250 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &total, &r3);
    http_client_run (client, 5000);
    assert_int_equal (total.error, HTTP_ERR_TIMEOUT_TOTAL);
    assert_int_equal (total.done_calls, 1);
    http_client_destroy (&client);
}

static void
test_reset_mid_stream (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"die\",\"die-after\":2}"), 0);
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen, NULL);
    http_client_run (client, 5000);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.error, HTTP_ERR_RESET);
    assert_true (seen.chunks >= 1);
    assert_null (strstr (seen.body, "[DONE]"));
    http_client_destroy (&client);
}

static void
test_too_large (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"huge\",\"huge-bytes\":4000000}"), 0);
    http_client_t *client = http_client_new ();
    s_seen_t buffered = { 0 }, streamed = { 0 };
    http_request_t limit = { .max_response = 1024 * 1024 };
    s_post (client, "/v1/chat/completions", CHAT_PLAIN, false, &buffered, &limit);
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &streamed, &limit);
    http_client_run (client, 10000);
    assert_int_equal (buffered.error, HTTP_ERR_TOO_LARGE);
    assert_int_equal (streamed.error, HTTP_ERR_TOO_LARGE);
    assert_true (streamed.streamed <= 1024 * 1024);
    assert_non_null (strstr (buffered.message, "larger than"));
    http_client_destroy (&client);
}

static void
test_abort_from_chunk (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"token-delay\":10}"), 0);
    http_client_t *client = http_client_new ();
    s_seen_t seen = { .abort_after = 1 };
    s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen, NULL);
    http_client_run (client, 5000);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.chunks, 1);
    assert_int_equal (seen.error, HTTP_ERR_ABORTED);
    http_client_destroy (&client);
}

static void
test_cancel (void **state)
{
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"stall\"}"), 0);
    assert_int_equal (stub_call (&s_stub, "/__stub/reset", "", NULL), 0);
    http_client_t *client = http_client_new ();
    s_seen_t seen = { 0 };
    uint64_t id = s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen, NULL);
    http_client_run (client, 100);
    assert_int_equal (seen.done_calls, 0);
    assert_int_equal (http_client_cancel (client, id), 0);
    assert_int_equal (seen.done_calls, 1);
    assert_int_equal (seen.error, HTTP_ERR_CANCELLED);
    assert_int_equal (http_client_active (client), 0);
    assert_int_equal (http_client_cancel (client, id), -1);
    //  The server notices the closed connection
    for (int i = 0; i < 50 && stub_stat (&s_stub, "client_closed") < 1; i++)
        usleep (20000);
    assert_int_equal (stub_stat (&s_stub, "client_closed"), 1);

    //  Cancel from inside a chunk callback: one stream cancels itself
    assert_int_equal (stub_config (&s_stub, "{\"fail\":\"\",\"token-delay\":20}"), 0);
    s_seen_t self_cancel = { .client = client };
    self_cancel.cancel_id = s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &self_cancel, NULL);
    http_client_run (client, 5000);
    assert_int_equal (self_cancel.done_calls, 1);
    assert_int_equal (self_cancel.error, HTTP_ERR_CANCELLED);
    assert_int_equal (self_cancel.chunks, 1);
    http_client_destroy (&client);
}

static void
test_invalid_requests (void **state)
{
    http_client_t *client = http_client_new ();
    http_request_t r = { .url = "ftp://127.0.0.1/x", .on_done = s_on_done };
    assert_int_equal (http_client_start (client, &r), 0);
    assert_non_null (strstr (http_client_last_error (client), "http://"));
    r.url = NULL;
    assert_int_equal (http_client_start (client, &r), 0);
    char long_url [4096];
    memset (long_url, 'a', sizeof long_url - 1);
    long_url [sizeof long_url - 1] = 0;
    memcpy (long_url, "http://", 7);
    r.url = long_url;
    assert_int_equal (http_client_start (client, &r), 0);
    http_client_destroy (&client);
}

//  An outside poll loop that only knows what the watch callback told it.
typedef struct {
    struct pollfd fds [64];     //  watched sockets
    size_t count;               //  entries used
    int calls;                  //  watch callbacks seen
} s_loop_t;

static void
s_watch (void *arg, int fd, int events)
{
    s_loop_t *loop = (s_loop_t *) arg;
    loop->calls++;
    size_t i;
    for (i = 0; i < loop->count && loop->fds [i].fd != fd; i++)
        ;
    if (events == 0) {
        if (i < loop->count)
            loop->fds [i] = loop->fds [--loop->count];
        return;
    }
    if (i == loop->count) {
        assert_true (loop->count < 64);
        loop->count++;
    }
    loop->fds [i] = (struct pollfd) { .fd = fd, .events = (short) events };
}

static void
test_outside_loop (void **state)
{
    http_client_t *client = http_client_new ();
    s_loop_t loop = { 0 };
    http_client_set_watch (client, s_watch, &loop);
    s_seen_t seen [4] = { { 0 } };
    for (int i = 0; i < 4; i++)
        s_post (client, "/v1/chat/completions", CHAT_STREAM, true, &seen [i], NULL);
    for (int rounds = 0; http_client_active (client) > 0 && rounds < 10000; rounds++) {
        long timeout = http_client_timeout (client);
        int ready = poll (loop.fds, loop.count, timeout < 0 || timeout > 1000 ? 1000 : (int) timeout);
        struct pollfd copy [64];
        size_t count = loop.count;
        memcpy (copy, loop.fds, count * sizeof copy [0]);
        for (size_t i = 0; ready > 0 && i < count; i++)
            if (copy [i].revents)
                http_client_on_socket (client, copy [i].fd, copy [i].revents);
        if (http_client_timeout (client) == 0)
            http_client_on_timeout (client);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal (seen [i].error, HTTP_OK);
        assert_non_null (strstr (seen [i].body, "[DONE]"));
    }
    assert_true (loop.calls > 0);
    //  The query function agrees with what the callback reported
    struct pollfd fds [64];
    assert_int_equal (http_client_fds (client, fds, 64), loop.count);
    http_client_destroy (&client);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup (test_get_buffered, s_reset),
        cmocka_unit_test_setup (test_bearer, s_reset),
        cmocka_unit_test_setup (test_stream_chunks, s_reset),
        cmocka_unit_test_setup (test_error_body_not_streamed, s_reset),
        cmocka_unit_test_setup (test_many_in_flight, s_reset),
        cmocka_unit_test_setup (test_connect_refused, s_reset),
        cmocka_unit_test_setup (test_timeouts, s_reset),
        cmocka_unit_test_setup (test_reset_mid_stream, s_reset),
        cmocka_unit_test_setup (test_too_large, s_reset),
        cmocka_unit_test_setup (test_abort_from_chunk, s_reset),
        cmocka_unit_test_setup (test_cancel, s_reset),
        cmocka_unit_test_setup (test_invalid_requests, s_reset),
        cmocka_unit_test_setup (test_outside_loop, s_reset),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
