/*  fuzz_cln_rpc.c: libFuzzer target for the Core Lightning JSON-RPC response reader and parsers
    (actors/wallet/cln.h). The first byte picks how the rest is cut into reads (1 to 64 bytes,
    or all at once); the reader's buffer is small (4 KiB) so that oversized responses are
    common. Every object handed out starts with '{', ends with '}' and lies inside what was
    fed; every response, invoice creation and invoice entry is parsed, and whatever they
    return, the text fields stay NUL-terminated and printable (they go into log lines). */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "wallet/cln.h"

#define READER_MAX 4096

static void
s_printable(const char *text, size_t size)
{
    assert(strlen(text) < size);
    for (const char *p = text; *p; p++)
        assert((unsigned char) *p >= 0x20 && *p != 0x7f);
}

static void
s_result(json_object *result)
{
    char bolt11[128], warning[256], err[128];
    uint8_t hash[32];
    if (cln_created_parse(result, bolt11, sizeof bolt11, hash, warning, sizeof warning, err,
                          sizeof err) == 0) {
        assert(*bolt11 && strlen(bolt11) < sizeof bolt11);
        s_printable(warning, sizeof warning);
    }
    else
        assert(strlen(err) < sizeof err);
    cln_invoice_t inv;
    if (cln_invoice_parse(result, &inv, err, sizeof err) == 0)
        assert(inv.status != CLN_PAID || inv.pay_index > 0);
    json_object *list;
    if (json_object_object_get_ex(result, "invoices", &list)
        && json_object_is_type(list, json_type_array))
        for (size_t i = 0; i < json_object_array_length(list); i++)
            if (cln_invoice_parse(json_object_array_get_idx(list, i), &inv, err, sizeof err) == 0)
                assert(inv.status <= CLN_EXPIRED);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = data[0] % 65 ? data[0] % 65 : size;
    const char *text = (const char *) data + 1;
    size_t len = size - 1;
    cln_reader_t reader;
    if (cln_reader_init(&reader, READER_MAX) != 0)
        return 0;
    int rc = 0;
    for (size_t at = 0; at < len && rc >= 0; at += step) {
        size_t n = len - at < step ? len - at : step;
        if (cln_reader_feed(&reader, text + at, n) != 0)
            break;              /* larger than the buffer: the backend drops the connection */
        const char *json;
        size_t json_len;
        char err[128];
        while ((rc = cln_reader_next(&reader, &json, &json_len, err, sizeof err)) == 1) {
            assert(json >= reader.buf && json + json_len <= reader.buf + reader.len);
            assert(json_len >= 2 && json[0] == '{');
            assert(json[json_len - 1] == '}' || json[json_len - 1] == ']');
            cln_response_t resp;
            if (cln_response_parse(json, json_len, &resp, err, sizeof err) == 0) {
                s_printable(resp.message, sizeof resp.message);
                if (resp.result)
                    s_result(resp.result);
                json_object_put(resp.result);
            }
            else
                assert(strlen(err) < sizeof err && !resp.result);
        }
        if (rc < 0)
            assert(strlen(err) < sizeof err);
        assert(cln_reader_pending(&reader) <= READER_MAX);
    }
    cln_reader_free(&reader);
    return 0;
}
