/*  test_stream.c: the SSE and NDJSON incremental parsers.

    Every example stream is fed whole, byte by byte, and split in two at every offset; each way
    must give exactly the expected event log. Hostile inputs check the limits and the errors.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stream.h"

//  What the callbacks saw, as one printable log.
typedef struct {
    char text [8192];       //  one entry per event/line
    size_t len;             //  bytes used in text
    int stop_after;         //  stop the parser after this many callbacks (0 = never)
    int calls;              //  callbacks so far
} s_log_t;

static void
s_log_add (s_log_t *log, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (log->text + log->len, sizeof log->text - log->len, fmt, args);
    va_end (args);
    assert_true (n >= 0 && (size_t) n < sizeof log->text - log->len);
    log->len += (size_t) n;
}

static int
s_on_event (void *arg, const stream_sse_event_t *event)
{
    s_log_t *log = (s_log_t *) arg;
    assert_int_equal (strlen (event->data), event->data_len);
    s_log_add (log, "[%s|%s|%s%s]", event->event, event->id, event->data,
               event->done ? "|DONE" : "");
    log->calls++;
    return log->stop_after && log->calls >= log->stop_after;
}

static int
s_on_line (void *arg, const char *line, size_t len)
{
    s_log_t *log = (s_log_t *) arg;
    s_log_add (log, "<%.*s>", (int) len, line);
    log->calls++;
    return log->stop_after && log->calls >= log->stop_after;
}

//  Feed input in the pieces given by cuts (offsets, ascending), then finish.
static int
s_sse_run (const char *input, const size_t *cuts, size_t ncuts, s_log_t *log)
{
    memset (log, 0, sizeof *log);
    stream_sse_t *sse = stream_sse_new (1024, 4096, s_on_event, log);
    size_t len = strlen (input), at = 0;
    int rc = STREAM_OK;
    for (size_t i = 0; i <= ncuts && rc == STREAM_OK; i++) {
        size_t end = i < ncuts ? cuts [i] : len;
        rc = stream_sse_feed (sse, input + at, end - at);
        at = end;
    }
    if (rc == STREAM_OK)
        rc = stream_sse_finish (sse);
    stream_sse_destroy (&sse);
    assert_null (sse);
    return rc;
}

//  Whole, every two-way split, and byte by byte must all give `expect` and `expect_rc`.
static void
s_sse_check (const char *input, const char *expect, int expect_rc)
{
    s_log_t log;
    size_t len = strlen (input);
    assert_int_equal (s_sse_run (input, NULL, 0, &log), expect_rc);
    assert_string_equal (log.text, expect);
    for (size_t cut = 0; cut <= len; cut++) {
        assert_int_equal (s_sse_run (input, &cut, 1, &log), expect_rc);
        assert_string_equal (log.text, expect);
    }
    size_t *cuts = malloc (len * sizeof *cuts);
    for (size_t i = 0; i < len; i++)
        cuts [i] = i;
    assert_int_equal (s_sse_run (input, cuts, len, &log), expect_rc);
    assert_string_equal (log.text, expect);
    free (cuts);
}

static void
test_sse_llamacpp_stream (void **state)
{
    //  The shape recorded from a real llama-server (shortened), with a UTF-8 delta
    s_sse_check (
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\xe1\x83\xab\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":\"length\",\"delta\":{}}]}\n\n"
        "data: [DONE]\n\n",
        "[||{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}]"
        "[||{\"choices\":[{\"delta\":{\"content\":\"\xe1\x83\xab\"}}]}]"
        "[||{\"choices\":[{\"finish_reason\":\"length\",\"delta\":{}}]}]"
        "[||[DONE]|DONE]",
        STREAM_OK);
}

static void
test_sse_crlf_comments_multiline (void **state)
{
    s_sse_check (
        ": ping\r\n\r\n"
        "data: one\r\ndata: two\r\n\r\n"
        "event: snapshot\rdata:no-space\r\r"
        "id: fm-7E0D\ndata:  two spaces\n\n"
        ":another comment\n"
        "retry: 100\n"
        "data\n\n",
        "[||one\ntwo][snapshot||no-space][|fm-7E0D| two spaces][|fm-7E0D|]",
        STREAM_OK);
}

static void
test_sse_fm_bridge_stream (void **state)
{
    s_sse_check (
        "id: fm-1\ndata: {\"a\":1}\n\n"
        "id: fm-1\ndata: {\"error\":{\"message\":\"boom\"}}\n\n",
        "[|fm-1|{\"a\":1}][|fm-1|{\"error\":{\"message\":\"boom\"}}]",
        STREAM_OK);
}

static void
test_sse_truncated (void **state)
{
    //  Server died inside an event: the complete events are delivered, the rest reported
    s_sse_check ("data: a\n\ndata: {\"par", "[||a]", STREAM_ERR_TRUNCATED);
    s_sse_check ("data: a\n\ndata: b\n", "[||a]", STREAM_ERR_TRUNCATED);
    //  An event field without data is not an event, and not a truncation
    s_sse_check ("event: x\n\n", "", STREAM_OK);
}

static void
test_sse_limits (void **state)
{
    s_log_t log = { 0 };
    stream_sse_t *sse = stream_sse_new (16, 32, s_on_event, &log);
    //  Exactly at the line limit is fine
    assert_int_equal (stream_sse_feed (sse, "data: 0123456789\n\n", 18), STREAM_OK);
    assert_string_equal (log.text, "[||0123456789]");
    //  One byte more is not, even without a newline ever coming
    assert_int_equal (stream_sse_feed (sse, "data: 0123456789A", 17), STREAM_ERR_LINE_TOO_LONG);
    assert_int_equal (stream_sse_feed (sse, "\n\n", 2), STREAM_ERR_FAILED);
    assert_int_equal (stream_sse_finish (sse), STREAM_ERR_LINE_TOO_LONG);
    stream_sse_destroy (&sse);

    //  Many short data lines that add up past the event limit
    memset (&log, 0, sizeof log);
    sse = stream_sse_new (16, 32, s_on_event, &log);
    int rc = STREAM_OK;
    for (int i = 0; i < 10 && rc == STREAM_OK; i++)
        rc = stream_sse_feed (sse, "data: 0123456\n", 14);
    assert_int_equal (rc, STREAM_ERR_EVENT_TOO_LARGE);
    assert_int_equal (log.calls, 0);
    stream_sse_destroy (&sse);
    assert_string_not_equal (stream_strerror (STREAM_ERR_EVENT_TOO_LARGE), "");
}

static void
test_sse_stop_and_done (void **state)
{
    s_log_t log = { 0 };
    log.stop_after = 1;
    stream_sse_t *sse = stream_sse_new (1024, 1024, s_on_event, &log);
    assert_int_equal (stream_sse_feed (sse, "data: a\n\ndata: b\n\n", 18), STREAM_ERR_STOPPED);
    assert_string_equal (log.text, "[||a]");
    assert_false (stream_sse_done (sse));
    stream_sse_destroy (&sse);

    memset (&log, 0, sizeof log);
    sse = stream_sse_new (1024, 1024, s_on_event, &log);
    assert_int_equal (stream_sse_feed (sse, "data: [DONE]\n\n", 14), STREAM_OK);
    assert_true (stream_sse_done (sse));
    stream_sse_destroy (&sse);
}

static void
test_sse_nul_bytes (void **state)
{
    //  A NUL inside data: the length says how much there is, nothing crashes
    s_log_t log = { 0 };
    stream_sse_t *sse = stream_sse_new (1024, 1024, NULL, &log);
    assert_int_equal (stream_sse_feed (sse, "data: a\0b\n\n", 11), STREAM_OK);
    assert_int_equal (stream_sse_finish (sse), STREAM_OK);
    stream_sse_destroy (&sse);
}

//  NDJSON ------------------------------------------------------------------

static int
s_ndjson_run (const char *input, const size_t *cuts, size_t ncuts, s_log_t *log)
{
    memset (log, 0, sizeof *log);
    stream_ndjson_t *nd = stream_ndjson_new (256, s_on_line, log);
    size_t len = strlen (input), at = 0;
    int rc = STREAM_OK;
    for (size_t i = 0; i <= ncuts && rc == STREAM_OK; i++) {
        size_t end = i < ncuts ? cuts [i] : len;
        rc = stream_ndjson_feed (nd, input + at, end - at);
        at = end;
    }
    if (rc == STREAM_OK)
        rc = stream_ndjson_finish (nd);
    stream_ndjson_destroy (&nd);
    return rc;
}

static void
s_ndjson_check (const char *input, const char *expect, int expect_rc)
{
    s_log_t log;
    size_t len = strlen (input);
    assert_int_equal (s_ndjson_run (input, NULL, 0, &log), expect_rc);
    assert_string_equal (log.text, expect);
    for (size_t cut = 0; cut <= len; cut++) {
        assert_int_equal (s_ndjson_run (input, &cut, 1, &log), expect_rc);
        assert_string_equal (log.text, expect);
    }
    size_t *cuts = malloc (len * sizeof *cuts);
    for (size_t i = 0; i < len; i++)
        cuts [i] = i;
    assert_int_equal (s_ndjson_run (input, cuts, len, &log), expect_rc);
    assert_string_equal (log.text, expect);
    free (cuts);
}

static void
test_ndjson_ollama_stream (void **state)
{
    s_ndjson_check (
        "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}\n"
        "{\"message\":{\"content\":\" sky\"},\"done\":false}\r\n"
        "\n  \n"
        "{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":282}\n",
        "<{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"The\"},\"done\":false}>"
        "<{\"message\":{\"content\":\" sky\"},\"done\":false}>"
        "<{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":282}>",
        STREAM_OK);
    //  A last line without its newline is still delivered at finish
    s_ndjson_check ("{\"a\":1}\n{\"b\":2}", "<{\"a\":1}><{\"b\":2}>", STREAM_OK);
    //  A lone CR does not end an NDJSON line
    s_ndjson_check ("{\"a\":\r1}\n", "<{\"a\":\r1}>", STREAM_OK);
}

static void
test_ndjson_limits (void **state)
{
    s_log_t log = { 0 };
    stream_ndjson_t *nd = stream_ndjson_new (8, s_on_line, &log);
    assert_int_equal (stream_ndjson_feed (nd, "12345678\r\n", 10), STREAM_OK);
    assert_int_equal (stream_ndjson_feed (nd, "123456789\r\n", 11), STREAM_ERR_LINE_TOO_LONG);
    assert_int_equal (stream_ndjson_feed (nd, "1\n", 2), STREAM_ERR_FAILED);
    stream_ndjson_destroy (&nd);
    assert_string_equal (log.text, "<12345678>");

    //  Endless bytes without a newline stop at the limit, however they are split
    memset (&log, 0, sizeof log);
    nd = stream_ndjson_new (100, s_on_line, &log);
    int rc = STREAM_OK;
    for (int i = 0; i < 1000 && rc == STREAM_OK; i++)
        rc = stream_ndjson_feed (nd, "xxxxxxx", 7);
    assert_int_equal (rc, STREAM_ERR_LINE_TOO_LONG);
    stream_ndjson_destroy (&nd);

    //  Unfinished last line past the limit
    memset (&log, 0, sizeof log);
    nd = stream_ndjson_new (4, s_on_line, &log);
    assert_int_equal (stream_ndjson_feed (nd, "12345", 5), STREAM_OK);
    assert_int_equal (stream_ndjson_finish (nd), STREAM_ERR_LINE_TOO_LONG);
    stream_ndjson_destroy (&nd);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sse_llamacpp_stream),
        cmocka_unit_test (test_sse_crlf_comments_multiline),
        cmocka_unit_test (test_sse_fm_bridge_stream),
        cmocka_unit_test (test_sse_truncated),
        cmocka_unit_test (test_sse_limits),
        cmocka_unit_test (test_sse_stop_and_done),
        cmocka_unit_test (test_sse_nul_bytes),
        cmocka_unit_test (test_ndjson_ollama_stream),
        cmocka_unit_test (test_ndjson_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
