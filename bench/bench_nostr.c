/*  bench_nostr.c: what an event costs beyond its cryptography. Each row runs about a second
    and prints its rate next to the bare libsecp256k1 rate measured in the same run:

      sign          nostr_keys_sign of a 32-byte id            vs  schnorrsig_sign32
      verify        nostr_keys_verify (cached key)             vs  schnorrsig_verify
      ingest warm   parse + id check + verify, repeat author   vs  schnorrsig_verify
      ingest cold   the same over 4,096 authors (cache misses) vs  xonly parse + verify
      build         new + tags + id + sign + wire JSON         vs  schnorrsig_sign32

    The event is a realistic ~600-byte NIP-90 job request. The raw sign uses aux = NULL
    (no randomness), so the sign rows include the cost of drawing fresh aux bytes. Usage: bench_nostr [seconds]. */
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nostr_event.h"
#include "nostr_keys.h"

#define s_AUTHORS 4096          //  4x the key cache: nearly every lookup misses

static double s_seconds = 1.0;  //  Time per row
static volatile int s_sink;     //  Keeps results alive

static double
s_now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

//  Run FN (with its iteration number) for s_seconds; return operations per second.
typedef void (s_fn_t) (size_t i);
static double
s_rate (s_fn_t *fn)
{
    for (size_t i = 0; i < 50; i++)             //  Warm up
        fn (i);
    size_t n = 0;
    double start = s_now (), elapsed;
    do {
        for (size_t k = 0; k < 64; k++, n++)
            fn (n);
        elapsed = s_now () - start;
    } while (elapsed < s_seconds);
    return (double) n / elapsed;
}

//  --- Shared state ----------------------------------------------------------------------

static const secp256k1_context *s_ctx;
static nostr_keys_t *s_keys;
static secp256k1_keypair s_keypair;
static secp256k1_xonly_pubkey s_xonly;
static uint8_t s_pubkey [32], s_msg [32], s_sig [64];
static char *s_json;                        //  The signed job request, wire JSON
static size_t s_json_len;
static char *s_cold_json [s_AUTHORS];       //  The same request signed by other authors
static size_t s_cold_len [s_AUTHORS];

static const char *s_prompt =
    "Summarise in one sentence: \"The node received 1,024 job requests in the last hour.\"";

static nostr_event_t *
s_job_request (const nostr_keys_t *keys)
{
    nostr_event_t *event = nostr_event_new (5050, 1700000000, "", 0);
    nostr_event_add_tagv (event, "i", s_prompt, "text", NULL);
    nostr_event_add_tagv (event, "param", "model", "llama-3.1-8b-instruct", NULL);
    nostr_event_add_tagv (event, "param", "max_tokens", "512", NULL);
    nostr_event_add_tagv (event, "output", "text/plain", NULL);
    nostr_event_add_tagv (event, "bid", "10000", NULL);
    nostr_event_add_tagv (event, "relays", "wss://relay.example.com", NULL);
    nostr_event_add_tagv (event, "p",
                          "17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917",
                          NULL);
    if (nostr_event_sign (event, keys)) {
        fprintf (stderr, "bench_nostr: signing failed\n");
        exit (1);
    }
    return event;
}

//  --- The rows ---------------------------------------------------------------------------

static void
s_raw_sign (size_t i)
{
    s_msg [0] = (uint8_t) i;
    s_sink += secp256k1_schnorrsig_sign32 (s_ctx, s_sig, s_msg, &s_keypair, NULL);
}

static void
s_raw_verify (size_t i)
{
    s_sink += secp256k1_schnorrsig_verify (s_ctx, s_sig, s_msg, 32, &s_xonly);
}

static void
s_raw_parse_verify (size_t i)
{
    secp256k1_xonly_pubkey parsed;
    s_sink += secp256k1_xonly_pubkey_parse (s_ctx, &parsed, s_pubkey);
    s_sink += secp256k1_schnorrsig_verify (s_ctx, s_sig, s_msg, 32, &parsed);
}

static void
s_sign (size_t i)
{
    s_msg [0] = (uint8_t) i;
    s_sink += nostr_keys_sign (s_keys, s_msg, 32, NULL, s_sig);
}

static void
s_verify (size_t i)
{
    s_sink += nostr_keys_verify (s_pubkey, s_msg, 32, s_sig);
}

static void
s_ingest (const char *json, size_t len)
{
    int err;
    nostr_event_t *event = nostr_event_parse (json, len, NULL, &err);
    if (!event || nostr_event_check (event) != 0) {
        fprintf (stderr, "bench_nostr: ingest failed\n");
        exit (1);
    }
    nostr_event_destroy (&event);
}

static void
s_ingest_warm (size_t i)
{
    s_ingest (s_json, s_json_len);
}

static void
s_ingest_cold (size_t i)
{
    s_ingest (s_cold_json [i % s_AUTHORS], s_cold_len [i % s_AUTHORS]);
}

static void
s_build (size_t i)
{
    nostr_event_t *event = s_job_request (s_keys);
    size_t len;
    char *json = nostr_event_to_json (event, &len);
    s_sink += (int) len;
    free (json);
    nostr_event_destroy (&event);
}

static double
s_max (double a, double b)
{
    return a > b ? a : b;
}

static void
s_row (const char *name, double rate, const char *base_name, double base)
{
    printf ("%-13s %10.0f /s   %-26s %10.0f /s   ratio %.3f  (overhead %+.1f%%)\n",
            name, rate, base_name, base, rate / base, (base / rate - 1) * 100);
}

int
main (int argc, char **argv)
{
    printf ("$");
    for (int i = 0; i < argc; i++)
        printf (" %s", argv [i]);
    printf ("\n");
    if (argc > 1)
        s_seconds = atof (argv [1]) > 0 ? atof (argv [1]) : 1.0;

    s_ctx = nostr_keys_context ();
    s_keys = nostr_keys_generate ();
    uint8_t seckey [32];
    randombytes_buf (seckey, sizeof seckey);
    if (!s_keys || !secp256k1_keypair_create (s_ctx, &s_keypair, seckey)
    ||  !secp256k1_keypair_xonly_pub (s_ctx, &s_xonly, NULL, &s_keypair)
    ||  !secp256k1_xonly_pubkey_serialize (s_ctx, s_pubkey, &s_xonly))
        return 1;
    sodium_memzero (seckey, sizeof seckey);
    randombytes_buf (s_msg, sizeof s_msg);
    s_raw_sign (0);

    nostr_event_t *event = s_job_request (s_keys);
    s_json = nostr_event_to_json (event, &s_json_len);
    nostr_event_destroy (&event);
    for (int a = 0; a < s_AUTHORS; a++) {
        nostr_keys_t *author = nostr_keys_generate ();
        event = s_job_request (author);
        s_cold_json [a] = nostr_event_to_json (event, &s_cold_len [a]);
        nostr_event_destroy (&event);
        nostr_keys_destroy (&author);
    }
    printf ("event: kind 5050 job request, %zu bytes of JSON, 8 tags; %.1f s per row\n\n",
            s_json_len, s_seconds);

    //  Other processes share the machine: run every row in 3 interleaved rounds and keep
    //  each row's best, so a busy moment does not land on one side of a ratio only.
    double raw_sign = 0, raw_verify = 0, raw_parse_verify = 0, sign = 0, verify = 0;
    double warm = 0, cold = 0, build = 0;
    uint64_t hits = 0, misses = 0;
    for (int round = 0; round < 3; round++) {
        raw_sign = s_max (raw_sign, s_rate (s_raw_sign));
        raw_verify = s_max (raw_verify, s_rate (s_raw_verify));
        raw_parse_verify = s_max (raw_parse_verify, s_rate (s_raw_parse_verify));
        sign = s_max (sign, s_rate (s_sign));
        s_raw_sign (0);                         //  s_sig matches s_msg again
        verify = s_max (verify, s_rate (s_verify));
        warm = s_max (warm, s_rate (s_ingest_warm));
        nostr_keys_cache_clear ();
        cold = s_max (cold, s_rate (s_ingest_cold));
        nostr_keys_cache_stats (&hits, &misses);
        build = s_max (build, s_rate (s_build));
    }

    s_row ("sign", sign, "raw schnorrsig_sign32", raw_sign);
    s_row ("verify", verify, "raw schnorrsig_verify", raw_verify);
    s_row ("ingest warm", warm, "raw schnorrsig_verify", raw_verify);
    s_row ("ingest cold", cold, "raw xonly parse + verify", raw_parse_verify);
    printf ("%-13s %10s     (cache misses in that row: %.1f%%)\n", "", "",
            100.0 * (double) misses / (double) (hits + misses));
    s_row ("build", build, "raw schnorrsig_sign32", raw_sign);

    free (s_json);
    for (int a = 0; a < s_AUTHORS; a++)
        free (s_cold_json [a]);
    nostr_keys_destroy (&s_keys);
    return s_sink == 42 ? 1 : 0;
}
