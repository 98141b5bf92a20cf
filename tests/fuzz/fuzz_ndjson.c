/*  fuzz_ndjson.c: libFuzzer target for the incremental NDJSON parser (runtime/stream).

    The first input byte picks a chunk size; the rest is fed once whole and once in chunks of
    that size. Both runs must deliver the same lines and end with the same status. Every line
    handed out must be within the limit and hold no LF (only the CR of a CRLF is removed, so
    "x\r\r\n" gives the line "x\r"). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define MAX_LINE 128

//  A digest of the lines seen (FNV-1a) and their count.
typedef struct {
    uint64_t hash;          //  running digest
    size_t lines;           //  lines seen
} s_log_t;

static int
s_on_line (void *arg, const char *line, size_t len)
{
    s_log_t *log = (s_log_t *) arg;
    assert (len > 0 && len <= MAX_LINE);
    assert (memchr (line, '\n', len) == NULL);
    for (size_t i = 0; i < len; i++)
        log->hash = (log->hash ^ (uint8_t) line [i]) * 1099511628211ull;
    log->hash = (log->hash ^ 0x100) * 1099511628211ull;
    log->lines++;
    return 0;
}

static int
s_run (const uint8_t *data, size_t size, size_t chunk, s_log_t *log)
{
    log->hash = 14695981039346656037ull;
    log->lines = 0;
    stream_ndjson_t *nd = stream_ndjson_new (MAX_LINE, s_on_line, log);
    int rc = STREAM_OK;
    for (size_t at = 0; at < size && rc == STREAM_OK; at += chunk) {
        size_t len = size - at < chunk ? size - at : chunk;
        rc = stream_ndjson_feed (nd, (const char *) data + at, len);
    }
    int finish = stream_ndjson_finish (nd);
    stream_ndjson_destroy (&nd);
    return rc == STREAM_OK ? finish : rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t) data [0] % 13 + 1;
    data++, size--;
    s_log_t whole, split;
    int rc_whole = s_run (data, size, size ? size : 1, &whole);
    int rc_split = s_run (data, size, chunk, &split);
    assert (rc_whole == rc_split);
    assert (whole.lines == split.lines);
    assert (whole.hash == split.hash);
    return 0;
}
