/*  fuzz_nwc_response.c: libFuzzer target for the NWC (NIP-47) decrypted-message parser and
    the connection URI parser (actors/wallet/nwc.h).

    The input is parsed as a response/notification; whatever it returns, the parsed fields
    must respect their limits (strings NUL-terminated within their buffers, a payment hash
    only when flagged). The same bytes, NUL-terminated, are parsed as a connection URI: on
    success there is at least one ws:// or wss:// relay and the lud16 holds an '@'. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/nwc.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    nwc_message_t *m = malloc (sizeof *m);
    char err [256];
    int rc = nwc_message_parse ((const char *) data, size, m, err, sizeof err);
    assert (strlen (err) < sizeof err || rc == 0);
    if (rc == 0) {
        assert (strlen (m->type) > 0 && strlen (m->type) < sizeof m->type);
        assert (strlen (m->invoice) <= NWC_INVOICE_MAX);
        assert (!m->has_error || strlen (m->error_code) > 0);
        assert (!m->is_notification || m->has_result);
        (void) nwc_message_paid (m);
        (void) nwc_error_text (m->error_code);
    }
    free (m);

    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text [size] = 0;
    nwc_uri_t uri;
    if (nwc_uri_parse (text, &uri, err, sizeof err) == 0) {
        assert (uri.relay_count >= 1 && uri.relay_count <= NWC_MAX_RELAYS);
        for (size_t i = 0; i < uri.relay_count; i++)
            assert (strncmp (uri.relays [i], "ws://", 5) == 0
                    || strncmp (uri.relays [i], "wss://", 6) == 0);
        assert (uri.lud16 [0] == 0 || strchr (uri.lud16, '@'));
    }
    nwc_uri_wipe (&uri);
    free (text);
    return 0;
}
