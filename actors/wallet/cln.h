/*  cln.h: the parts of the Core Lightning wallet backend (cln.c) that read lightningd's
    JSON-RPC answers, public so that the unit tests and the fuzz target reach them.

    lightningd answers on its unix socket with JSON-RPC 2.0 objects, each followed by "\n\n":
        {"jsonrpc":"2.0","id":7,"result":{...}}
        {"jsonrpc":"2.0","id":7,"error":{"code":900,"message":"...","data":{...}}}
    The reader does not trust the delimiter: it finds each whole object by counting braces
    outside strings, in a buffer of bounded size. Anything that is not a JSON object where one
    should start, or an object larger than the buffer, is an error of the whole connection
    (the byte stream can no longer be trusted), never a crash or an unbounded wait. */
#ifndef PYLON_CLN_H
#define PYLON_CLN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLN_RESPONSE_MAX    (512 * 1024)    /* largest JSON-RPC response accepted */
#define CLN_DEPTH_MAX       16              /* nesting accepted in a response */
#define CLN_MESSAGE_MAX     256             /* bytes kept of an error message */

/* The framing state of one connection's incoming bytes. */
typedef struct {
    char *buf;                  /* max bytes: what was read and not yet handed out */
    size_t max;                 /* its size: the largest response accepted */
    size_t len;                 /* bytes in buf */
    size_t start;               /* where the next object starts: the bytes before it (handed
                                   out, or whitespace) are dropped at the next call */
    size_t scan;                /* bytes of buf already scanned */
    int depth;                  /* open braces and brackets at scan */
    bool in_string;             /* scan is inside a JSON string */
    bool escape;                /* ... right after a backslash */
    bool started;               /* the object's opening brace was seen */
} cln_reader_t;

/* One JSON-RPC response. */
typedef struct {
    uint64_t id;                /* the request it answers */
    bool is_error;              /* an "error" member rather than a "result" */
    long code;                  /* is_error: the JSON-RPC error code */
    char message[CLN_MESSAGE_MAX];  /* is_error: lightningd's text, control characters replaced */
    json_object *result;        /* !is_error: the result object (a reference: put it) */
} cln_response_t;

/* An invoice's state as lightningd says it. */
typedef enum { CLN_UNPAID, CLN_PAID, CLN_EXPIRED } cln_status_t;

/* One invoice of listinvoices, or the answer of waitanyinvoice (the members Pylon uses). */
typedef struct {
    uint8_t payment_hash[32];       /* payment hash */
    cln_status_t status;            /* unpaid | paid | expired */
    uint64_t pay_index;             /* paid: position in the payment order (> 0) */
    uint64_t amount_received_msat;  /* paid: what arrived */
    uint64_t paid_at;               /* paid: unix seconds */
    uint64_t expires_at;            /* unix seconds */
} cln_invoice_t;

/* A reader with a buffer of max bytes. 0, or -1 when out of memory. */
int cln_reader_init(cln_reader_t *self, size_t max);
void cln_reader_free(cln_reader_t *self);
/* Forget every byte (a new connection). */
void cln_reader_reset(cln_reader_t *self);
/* Where to read the next bytes to, and how many fit (0: the object in progress is larger
   than max: an error). Call cln_reader_wrote with what was put there. */
char *cln_reader_space(cln_reader_t *self, size_t *room);
void cln_reader_wrote(cln_reader_t *self, size_t n);
/* Copy len bytes in (for tests and the fuzzer). 0, or -1 when they do not fit. */
int cln_reader_feed(cln_reader_t *self, const char *data, size_t len);
/* The next whole object: 1 with *json and *len (valid until the next call), 0 when more bytes
   are needed, -1 with err when the stream is not a sequence of JSON objects. */
int cln_reader_next(cln_reader_t *self, const char **json, size_t *len, char *err,
                    size_t err_size);
/* Bytes of an unfinished object held (a response cut short shows as this staying > 0). */
size_t cln_reader_pending(const cln_reader_t *self);

/* Parse one object as a JSON-RPC 2.0 response with an integer id. 0 (put out->result when
   set), or -1 with err. */
int cln_response_parse(const char *json, size_t len, cln_response_t *out, char *err,
                       size_t err_size);
/* The invoice command's result: bolt11 (bolt11_size bytes with the NUL) and payment_hash;
   warning gets the first warning_* text lightningd added ("" when none). 0, or -1 with err. */
int cln_created_parse(json_object *result, char *bolt11, size_t bolt11_size,
                      uint8_t payment_hash[32], char *warning, size_t warning_size, char *err,
                      size_t err_size);
/* One invoice object (a listinvoices entry, or waitanyinvoice's result). A paid one must
   have its pay_index. 0, or -1 with err. */
int cln_invoice_parse(json_object *obj, cln_invoice_t *out, char *err, size_t err_size);

#endif
