/*  bench_bolt11.c: invoices decoded (with signature recovery) and encoded (with signing) per
    second, and NIP-19 decodes per second. Decoding a wallet's invoice sits on the path of
    every paid job, so its cost should stay far below a relay round trip.
    Usage: bench_bolt11 [iterations]   (default 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bolt11.h"
#include "nip19.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    int iterations = argc > 1 ? atoi (argv [1]) : 2000;
    if (iterations <= 0)
        iterations = 2000;
    static bolt11_invoice_t inv;
    bolt11_invoice_init (&inv, BOLT11_REGTEST);
    inv.has_amount = true;
    inv.amount_msat = 21000;
    inv.timestamp = 1700000000;
    memset (inv.payment_hash, 0x42, 32);
    memset (inv.payment_secret, 0x11, 32);
    inv.has_description = true;
    strcpy (inv.description, "kind 5050 text generation job, 512 tokens");
    const uint8_t key [32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
    static char invoice [BOLT11_MAX_LEN + 1];

    double start = s_now ();
    for (int i = 0; i < iterations; i++) {
        inv.timestamp++;
        if (bolt11_encode (invoice, sizeof invoice, &inv, key) != 0)
            return 1;
    }
    double encode_s = s_now () - start;

    static bolt11_invoice_t out;
    start = s_now ();
    for (int i = 0; i < iterations; i++)
        if (bolt11_decode (invoice, &out) != 0)
            return 1;
    double decode_s = s_now () - start;

    const char *nprofile = "nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p";
    static nip19_entity_t entity;
    int nip19_iterations = iterations * 20;
    start = s_now ();
    for (int i = 0; i < nip19_iterations; i++)
        if (nip19_decode (nprofile, &entity) != 0)
            return 1;
    double nip19_s = s_now () - start;

    printf ("bolt11_encode (sign)    %8.0f /s  (%d in %.3f s, %zu-char invoice)\n",
            iterations / encode_s, iterations, encode_s, strlen (invoice));
    printf ("bolt11_decode (recover) %8.0f /s  (%d in %.3f s)\n",
            iterations / decode_s, iterations, decode_s);
    printf ("nip19_decode nprofile   %8.0f /s  (%d in %.3f s)\n",
            nip19_iterations / nip19_s, nip19_iterations, nip19_s);
    return 0;
}
