/*  fuzz_backend_response.c: libFuzzer target for the inference adapters' parsers.

    The first byte picks the adapter (llama.cpp, Ollama, Apple FM, OpenAI) and the second a
    status code; the rest is a server answer handed to every parser of that adapter: the full
    response, each line as a stream chunk (accumulating into one result, as a stream does),
    the error mapping and each health-probe step. Whatever the bytes, a parser must return
    0/1 or -1 with an error code set, keep content_len consistent, and report usage only
    with non-negative numbers. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/backend.h"

static void
s_check_result (const backend_result_t *res)
{
    assert (res->content_len == 0 || res->content [res->content_len] == 0);
    assert (res->content_len <= res->content_cap);
    if (res->has_usage)
        assert (res->prompt_tokens >= 0 && res->completion_tokens >= 0);
    assert (memchr (res->model, 0, sizeof res->model) != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const long statuses [] = { 200, 400, 401, 404, 429, 500, 501, 503 };
    const backend_ops_t *ops = backend_ops ((backend_kind_t) (data [0] % 4));
    long status = statuses [data [1] % 8];
    const char *body = (const char *) data + 2;
    size = size - 2;

    backend_result_t res = { 0 };
    backend_error_t err = { 0 };
    if (ops->parse_response (body, size, &res, &err) < 0)
        assert (err.code != BACKEND_OK);
    s_check_result (&res);
    backend_result_clear (&res);

    //  Each line as one stream chunk, accumulating like a stream
    for (size_t at = 0; at < size;) {
        const char *end = memchr (body + at, '\n', size - at);
        size_t len = end ? (size_t) (end - (body + at)) : size - at;
        memset (&err, 0, sizeof err);
        int rc = ops->parse_chunk (body + at, len, &res, &err);
        assert (rc >= -1 && rc <= 1);
        if (rc < 0)
            assert (err.code != BACKEND_OK);
        s_check_result (&res);
        at += len + 1;
    }
    backend_result_clear (&res);

    memset (&err, 0, sizeof err);
    ops->parse_error (status, body, size, &err);
    assert (err.code != BACKEND_OK);
    assert (memchr (err.message, 0, sizeof err.message) != NULL);
    for (size_t i = 0; i < strlen (err.message); i++)
        assert ((unsigned char) err.message [i] >= 0x20);

    backend_t backend = { .kind = BACKEND_OLLAMA, .model = "llama3.2", .base_url = "http://x" };
    for (int step = 0; ops->probe_paths [step]; step++) {
        backend_health_t health = { 0 };
        int rc = ops->parse_probe (step, status, body, size, &backend, &health);
        assert (rc == 0 || rc == 1);
        if (rc == 1 && health.state != BACKEND_STATE_READY)
            assert (health.error.code != BACKEND_OK);
    }
    return 0;
}
