/*  lnd.h: the parts of the LND wallet backend (lnd.c) that read LND's answers, public so
    that the unit tests and the fuzz target reach them.

    LND's REST gateway writes every int64 as a JSON string and every bytes field as standard
    base64; its invoice subscription is a stream of newline-delimited JSON objects, each
    {"result": <Invoice>} or {"error": {"code","message","details"}}. */
#ifndef PYLON_LND_H
#define PYLON_LND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LND_LINE_MAX    (256 * 1024)    /* longest stream line (one invoice) accepted */
#define LND_STATE_MAX   16              /* "OPEN", "SETTLED", "CANCELED", "ACCEPTED" */

/* One invoice as LND describes it (the members Pylon uses). */
typedef struct {
    uint8_t r_hash[32];         /* payment hash */
    char state[LND_STATE_MAX];  /* OPEN | SETTLED | CANCELED | ACCEPTED */
    uint64_t amt_paid_msat;     /* what arrived (0 until settled) */
    uint64_t settle_date;       /* unix seconds, 0 until settled */
    uint64_t settle_index;      /* position in the settlement order, 0 until settled */
    uint64_t add_index;         /* position in the creation order */
} lnd_invoice_t;

/* One line of the subscription stream. */
typedef struct {
    bool is_error;              /* {"error": ...}: the stream failed (message below) */
    char message[256];          /* is_error: LND's message, control characters replaced */
    long code;                  /* is_error: the gRPC code */
    lnd_invoice_t invoice;      /* !is_error: the invoice of the event */
} lnd_event_t;

/* Parse one invoice object (the AddInvoice / LookupInvoice answer, or a stream "result").
   len bytes of JSON text. 0, or -1 with err. */
int lnd_invoice_parse(const char *json, size_t len, lnd_invoice_t *out, char *err,
                      size_t err_size);
/* Parse one stream line (without its newline; at most LND_LINE_MAX bytes). 0, or -1 with
   err when it is neither a result with a valid invoice nor an error object. */
int lnd_stream_line(const char *line, size_t len, lnd_event_t *out, char *err, size_t err_size);

#endif
