/*  stream.c: incremental SSE and NDJSON parsers (see stream.h).

    Both parsers share one line assembler: bytes are appended to a bounded buffer until a line
    end, then the complete line is handed to the framing's line handler. The buffer never grows
    past max_line, so a peer that never sends a newline costs at most max_line bytes.
*/
#include "stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  A bounded buffer holding the current, incomplete line.
typedef struct {
    char *buf;              //  line bytes, NUL-terminated when handed out
    size_t len;             //  bytes in buf
    size_t cap;             //  allocated size of buf
    size_t max;             //  longest accepted line, in bytes, without its line end
    bool after_cr;          //  the previous byte was a CR (a following LF belongs to it)
    bool cr_ends_line;      //  SSE: a lone CR ends a line; NDJSON: only LF does
} s_line_t;

//  Append bytes to the line; -1 if the line would exceed its limit.
static int
s_line_append (s_line_t *line, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (line->len + len > line->max)
        return -1;
    if (line->len + len + 1 > line->cap) {
        size_t cap = line->cap ? line->cap : 256;
        while (cap < line->len + len + 1)
            cap *= 2;
        if (cap > line->max + 1)
            cap = line->max + 1;
        char *grown = realloc (line->buf, cap);
        if (!grown)
            return -1;
        line->buf = grown;
        line->cap = cap;
    }
    memcpy (line->buf + line->len, data, len);
    line->len += len;
    return 0;
}

//  Split data into lines, calling handler(owner, line, len) for each complete one.
//  Returns STREAM_OK, or the first non-OK code (from the limit or the handler).
typedef int (s_line_handler_fn) (void *owner, char *line, size_t len);

static int
s_line_feed (s_line_t *line, const char *data, size_t len, s_line_handler_fn *handler, void *owner)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data [i];
        if (c == '\n' && line->after_cr) {
            //  The LF of a CRLF whose CR already ended the line
            line->after_cr = false;
            start = i + 1;
            continue;
        }
        line->after_cr = false;
        if (c == '\n' || (c == '\r' && line->cr_ends_line)) {
            if (s_line_append (line, data + start, i - start))
                return STREAM_ERR_LINE_TOO_LONG;
            line->after_cr = (c == '\r');
            //  Make sure the buffer exists so the handler always gets a valid string
            if (!line->buf) {
                line->buf = malloc (1);
                if (!line->buf)
                    return STREAM_ERR_LINE_TOO_LONG;
                line->cap = 1;
            }
            line->buf [line->len] = 0;
            size_t line_len = line->len;
            line->len = 0;
            int rc = handler (owner, line->buf, line_len);
            if (rc != STREAM_OK)
                return rc;
            start = i + 1;
        }
    }
    if (s_line_append (line, data + start, len - start))
        return STREAM_ERR_LINE_TOO_LONG;
    return STREAM_OK;
}

//  --------------------------------------------------------------------------
//  SSE

struct _stream_sse_t {
    s_line_t line;          //  the line being assembled
    char *data;             //  joined data of the event being assembled
    size_t data_len;        //  bytes in data
    size_t data_cap;        //  allocated size of data
    size_t max_event;       //  limit on data_len
    bool has_data;          //  at least one data: line in this event
    char event [64];        //  the event: field of this event (longer values are truncated)
    char id [128];          //  the last id: field (longer values are truncated)
    stream_sse_fn *fn;      //  event callback
    void *arg;              //  its argument
    int status;             //  STREAM_OK, or the error that stopped the parser
    bool done;              //  a [DONE] event was dispatched
};

stream_sse_t *
stream_sse_new (size_t max_line, size_t max_event, stream_sse_fn *fn, void *arg)
{
    stream_sse_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->line.max = max_line;
    self->line.cr_ends_line = true;
    self->max_event = max_event;
    self->fn = fn;
    self->arg = arg;
    return self;
}

void
stream_sse_destroy (stream_sse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    stream_sse_t *self = *self_p;
    free (self->line.buf);
    free (self->data);
    free (self);
    *self_p = NULL;
}

static void
s_copy_field (char *dest, size_t size, const char *value, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy (dest, value, len);
    dest [len] = 0;
}

static int
s_sse_dispatch (stream_sse_t *self)
{
    if (!self->has_data) {
        //  An event without data is not dispatched (SSE specification)
        self->event [0] = 0;
        return STREAM_OK;
    }
    stream_sse_event_t event = {
        .event = self->event,
        .id = self->id,
        .data = self->data ? self->data : "",
        .data_len = self->data_len,
        .done = self->data_len == 6 && memcmp (self->data, "[DONE]", 6) == 0
    };
    if (event.done)
        self->done = true;
    int rc = self->fn ? self->fn (self->arg, &event) : 0;
    self->data_len = 0;
    self->has_data = false;
    self->event [0] = 0;
    return rc ? STREAM_ERR_STOPPED : STREAM_OK;
}

static int
s_sse_line (void *owner, char *line, size_t len)
{
    stream_sse_t *self = (stream_sse_t *) owner;
    if (len == 0)
        return s_sse_dispatch (self);
    if (line [0] == ':')
        return STREAM_OK;           //  a comment (keep-alive ping)

    //  Split "field: value": one optional space after the colon is dropped
    const char *colon = memchr (line, ':', len);
    size_t name_len = colon ? (size_t) (colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = len - (size_t) (value - line);
    if (value_len > 0 && *value == ' ') {
        value++;
        value_len--;
    }
    if (name_len == 4 && memcmp (line, "data", 4) == 0) {
        size_t extra = value_len + (self->has_data ? 1 : 0);
        if (self->data_len + extra > self->max_event)
            return STREAM_ERR_EVENT_TOO_LARGE;
        if (self->data_len + extra + 1 > self->data_cap) {
            size_t cap = self->data_cap ? self->data_cap : 256;
            while (cap < self->data_len + extra + 1)
                cap *= 2;
            char *grown = realloc (self->data, cap);
            if (!grown)
                return STREAM_ERR_EVENT_TOO_LARGE;
            self->data = grown;
            self->data_cap = cap;
        }
        if (self->has_data)
            self->data [self->data_len++] = '\n';
        memcpy (self->data + self->data_len, value, value_len);
        self->data_len += value_len;
        self->data [self->data_len] = 0;
        self->has_data = true;
    }
    else
    if (name_len == 5 && memcmp (line, "event", 5) == 0)
        s_copy_field (self->event, sizeof self->event, value, value_len);
    else
    if (name_len == 2 && memcmp (line, "id", 2) == 0)
        s_copy_field (self->id, sizeof self->id, value, value_len);
    //  Other fields (retry:, unknown names) are ignored
    return STREAM_OK;
}

int
stream_sse_feed (stream_sse_t *self, const char *data, size_t len)
{
    if (self->status != STREAM_OK)
        return STREAM_ERR_FAILED;
    self->status = s_line_feed (&self->line, data, len, s_sse_line, self);
    return self->status;
}

int
stream_sse_finish (stream_sse_t *self)
{
    if (self->status != STREAM_OK)
        return self->status;
    if (self->line.len > 0 || self->has_data)
        return STREAM_ERR_TRUNCATED;
    return STREAM_OK;
}

bool
stream_sse_done (stream_sse_t *self)
{
    return self->done;
}

//  --------------------------------------------------------------------------
//  NDJSON

struct _stream_ndjson_t {
    s_line_t line;          //  the line being assembled
    stream_line_fn *fn;     //  line callback
    void *arg;              //  its argument
    int status;             //  STREAM_OK, or the error that stopped the parser
};

stream_ndjson_t *
stream_ndjson_new (size_t max_line, stream_line_fn *fn, void *arg)
{
    stream_ndjson_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    //  The limit counts a trailing CR, which is stripped later
    self->line.max = max_line + 1;
    self->fn = fn;
    self->arg = arg;
    return self;
}

void
stream_ndjson_destroy (stream_ndjson_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->line.buf);
    free (*self_p);
    *self_p = NULL;
}

static int
s_ndjson_line (void *owner, char *line, size_t len)
{
    stream_ndjson_t *self = (stream_ndjson_t *) owner;
    if (len > 0 && line [len - 1] == '\r')
        line [--len] = 0;
    if (len > self->line.max - 1)
        return STREAM_ERR_LINE_TOO_LONG;
    //  Blank lines (or only whitespace) carry nothing
    size_t i = 0;
    while (i < len && (line [i] == ' ' || line [i] == '\t'))
        i++;
    if (i == len)
        return STREAM_OK;
    return self->fn && self->fn (self->arg, line, len) ? STREAM_ERR_STOPPED : STREAM_OK;
}

int
stream_ndjson_feed (stream_ndjson_t *self, const char *data, size_t len)
{
    if (self->status != STREAM_OK)
        return STREAM_ERR_FAILED;
    self->status = s_line_feed (&self->line, data, len, s_ndjson_line, self);
    return self->status;
}

int
stream_ndjson_finish (stream_ndjson_t *self)
{
    if (self->status != STREAM_OK)
        return self->status;
    if (self->line.len > 0) {
        self->line.buf [self->line.len] = 0;
        size_t len = self->line.len;
        self->line.len = 0;
        self->status = s_ndjson_line (self, self->line.buf, len);
    }
    return self->status;
}

const char *
stream_strerror (int code)
{
    switch (code) {
        case STREAM_OK:                  return "ok";
        case STREAM_ERR_LINE_TOO_LONG:   return "line too long";
        case STREAM_ERR_EVENT_TOO_LARGE: return "event too large";
        case STREAM_ERR_STOPPED:         return "stopped by the consumer";
        case STREAM_ERR_TRUNCATED:       return "stream ended inside a line or event";
        case STREAM_ERR_FAILED:          return "parser already failed";
    }
    return "unknown stream error";
}
