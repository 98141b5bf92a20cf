/*  fuzz_lnd_stream.c: libFuzzer target for the LND invoice-stream line parser and the invoice
    parser (actors/wallet/lnd.h). Whatever they return, the parsed text fields stay
    NUL-terminated within their buffers, and an error event's message has no control
    characters (it goes into log lines). */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "wallet/lnd.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    lnd_event_t ev;
    char err [256];
    if (lnd_stream_line ((const char *) data, size, &ev, err, sizeof err) == 0) {
        assert (strlen (ev.invoice.state) < LND_STATE_MAX);
        assert (strlen (ev.message) < sizeof ev.message);
        for (const char *p = ev.message; *p; p++)
            assert ((unsigned char) *p >= 0x20 && *p != 0x7f);
    }
    else
        assert (strlen (err) < sizeof err);
    lnd_invoice_t inv;
    if (lnd_invoice_parse ((const char *) data, size, &inv, err, sizeof err) == 0)
        assert (strlen (inv.state) < LND_STATE_MAX);
    return 0;
}
