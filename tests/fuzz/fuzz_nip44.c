/*  fuzz_nip44.c: nip44_decrypt of arbitrary payloads under a fixed conversation key. Anything
    that decrypts (the fuzzer would have to forge a MAC, so in practice only the seeds) must
    encrypt again and decrypt to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nip44.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The conversation key of the vectors' sec1 = 1, sec2 = 2 (the seeds use it).
    static const uint8_t conv [32] = {
        0xc4, 0x1c, 0x77, 0x53, 0x56, 0xfd, 0x92, 0xea, 0xdc, 0x63, 0xff, 0x5a, 0x0d, 0xc1,
        0xda, 0x21, 0x1b, 0x26, 0x8c, 0xbe, 0xa2, 0x23, 0x16, 0x76, 0x70, 0x95, 0xb2, 0x87,
        0x1e, 0xa1, 0x41, 0x2d
    };
    int err;
    size_t len;
    uint8_t *plain = nip44_decrypt (conv, (const char *) data, size, 0, &len, &err);
    if (!plain)
        return 0;
    uint8_t nonce [32] = { 1 };
    size_t payload_len, back_len;
    char *payload = nip44_encrypt (conv, plain, len, nonce, 0, &payload_len, &err);
    if (!payload)
        abort ();
    uint8_t *back = nip44_decrypt (conv, payload, payload_len, 0, &back_len, &err);
    if (!back || back_len != len || memcmp (back, plain, len) != 0)
        abort ();
    free (back);
    free (payload);
    free (plain);
    return 0;
}
