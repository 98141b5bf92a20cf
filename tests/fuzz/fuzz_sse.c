/*  fuzz_sse.c: libFuzzer target for the incremental SSE parser (runtime/stream).

    The first input byte picks a chunk size; the rest is fed once whole and once in chunks of
    that size. Both runs must report the same events, the same status and the same [DONE]
    flag: splitting the bytes differently must never change what is parsed. Small limits make
    the line and event limits trigger often. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define MAX_LINE   256
#define MAX_EVENT  512

//  A digest of the events seen (FNV-1a over every field) and their count.
typedef struct {
    uint64_t hash;          //  running digest
    size_t events;          //  events seen
} s_log_t;

static void
s_mix (s_log_t *log, const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *) data;
    for (size_t i = 0; i < len; i++)
        log->hash = (log->hash ^ bytes [i]) * 1099511628211ull;
    log->hash = (log->hash ^ 0xff) * 1099511628211ull;     //  field separator
}

static int
s_on_event (void *arg, const stream_sse_event_t *event)
{
    s_log_t *log = (s_log_t *) arg;
    assert (event->data_len <= MAX_EVENT);
    assert (event->data [event->data_len] == 0);
    assert (event->done == (event->data_len == 6 && memcmp (event->data, "[DONE]", 6) == 0));
    s_mix (log, event->event, strlen (event->event));
    s_mix (log, event->id, strlen (event->id));
    s_mix (log, event->data, event->data_len);
    log->events++;
    return 0;
}

static int
s_run (const uint8_t *data, size_t size, size_t chunk, s_log_t *log, int *finish, bool *done)
{
    log->hash = 14695981039346656037ull;
    log->events = 0;
    stream_sse_t *sse = stream_sse_new (MAX_LINE, MAX_EVENT, s_on_event, log);
    int rc = STREAM_OK;
    for (size_t at = 0; at < size && rc == STREAM_OK; at += chunk) {
        size_t len = size - at < chunk ? size - at : chunk;
        rc = stream_sse_feed (sse, (const char *) data + at, len);
    }
    *finish = stream_sse_finish (sse);
    *done = stream_sse_done (sse);
    stream_sse_destroy (&sse);
    assert (sse == NULL);
    return rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t) data [0] % 17 + 1;
    data++, size--;
    s_log_t whole, split;
    int finish_whole, finish_split;
    bool done_whole, done_split;
    int rc_whole = s_run (data, size, size ? size : 1, &whole, &finish_whole, &done_whole);
    int rc_split = s_run (data, size, chunk, &split, &finish_split, &done_split);
    assert (rc_whole == rc_split);
    assert (finish_whole == finish_split);
    assert (done_whole == done_split);
    assert (whole.events == split.events);
    assert (whole.hash == split.hash);
    return 0;
}
