/*  stream.h: incremental parsers for the two streaming framings the inference backends use.

    - SSE (Server-Sent Events: llama.cpp, OpenAI-compatible servers, the Apple FM bridge):
      lines ended by LF, CRLF or CR; `field: value` lines; an event ends at a blank line;
      several `data:` lines are joined with "\n"; lines starting with ':' are comments.
      The OpenAI terminator `data: [DONE]` is reported as an event with `done` set.
    - NDJSON (Ollama's native API): one JSON document per LF-terminated line.

    Bytes are fed as they come off the socket, split at any offset (inside a line, a CRLF or a
    UTF-8 codepoint). Every line and every event has a hard size limit; past it the parser
    stops with STREAM_ERR_LINE_TOO_LONG / STREAM_ERR_EVENT_TOO_LARGE and refuses further input.
    The parsers do not look inside the JSON: that is the backend adapters' job.
*/
#ifndef PYLON_STREAM_H
#define PYLON_STREAM_H

#include <stdbool.h>
#include <stddef.h>

//  Results of stream_*_feed / stream_*_finish.
#define STREAM_OK                  0
#define STREAM_ERR_LINE_TOO_LONG  -1    //  a line exceeded max_line bytes
#define STREAM_ERR_EVENT_TOO_LARGE -2   //  an SSE event's joined data exceeded max_event bytes
#define STREAM_ERR_STOPPED        -3    //  the callback returned non-zero; the parser is stopped
#define STREAM_ERR_TRUNCATED      -4    //  finish() found a partial line or event at end of input
#define STREAM_ERR_FAILED         -5    //  feed() after an earlier error

//  One SSE event, valid only during the callback.
typedef struct {
    const char *event;      //  the `event:` field, "" when absent
    const char *id;         //  the last `id:` field seen on this stream, "" when none
    const char *data;       //  the joined `data:` lines, NUL-terminated
    size_t data_len;        //  length of data (data may hold NUL bytes from the wire)
    bool done;              //  data is exactly "[DONE]" (the OpenAI terminator)
} stream_sse_event_t;

//  Called for each complete event. Return 0 to go on, non-zero to stop the parser.
typedef int (stream_sse_fn) (void *arg, const stream_sse_event_t *event);

//  Called for each non-blank NDJSON line (without its line end). Return 0 to go on.
typedef int (stream_line_fn) (void *arg, const char *line, size_t len);

typedef struct _stream_sse_t stream_sse_t;
typedef struct _stream_ndjson_t stream_ndjson_t;

//  Create an SSE parser. max_line bounds one line, max_event the joined data of one event.
stream_sse_t *
    stream_sse_new (size_t max_line, size_t max_event, stream_sse_fn *fn, void *arg);

//  Destroy an SSE parser and null the pointer.
void
    stream_sse_destroy (stream_sse_t **self_p);

//  Feed bytes; events are dispatched from inside this call. Returns STREAM_OK or an error.
int
    stream_sse_feed (stream_sse_t *self, const char *data, size_t len);

//  End of input. Returns STREAM_ERR_TRUNCATED if a partial line or an undispatched event is
//  pending (the bytes are discarded, as the SSE specification says), else the last status.
int
    stream_sse_finish (stream_sse_t *self);

//  True once a `data: [DONE]` event was dispatched.
bool
    stream_sse_done (stream_sse_t *self);

//  Create an NDJSON parser with a line-length limit.
stream_ndjson_t *
    stream_ndjson_new (size_t max_line, stream_line_fn *fn, void *arg);

//  Destroy an NDJSON parser and null the pointer.
void
    stream_ndjson_destroy (stream_ndjson_t **self_p);

//  Feed bytes; complete lines are dispatched from inside this call.
int
    stream_ndjson_feed (stream_ndjson_t *self, const char *data, size_t len);

//  End of input: a last line without its LF is dispatched (servers may omit it). Returns the
//  status of that dispatch, or the earlier error.
int
    stream_ndjson_finish (stream_ndjson_t *self);

//  A short English description of a STREAM_* code.
const char *
    stream_strerror (int code);

#endif
