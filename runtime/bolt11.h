/*  bolt11.h: BOLT 11 Lightning invoices: decode, encode + sign, and check a wallet's invoice.

    Pylon asks a wallet (NWC or a node backend) for invoices and hands them to customers, so it
    must read an invoice to confirm it says what was asked (amount, payment hash, expiry), and
    tests need to write invoices the way a node does. No Debian library decodes BOLT 11; this
    module is written to the current spec (lightning/bolts 11-payment-encoding.md), including
    the 2025 rule that p/h/s/n fields with the wrong data_length make the invoice invalid.

    A decoded invoice is a plain struct with no heap. Strings longer than BOLT11_MAX_LEN are
    refused before any work; every field is length-checked. The signature is checked in every
    decode: against the `n` field when present (low-S required), else by public-key recovery,
    and the resulting payee key is returned. */
#ifndef PYLON_BOLT11_H
#define PYLON_BOLT11_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bech32.h"

//  Longest invoice accepted or written: the capacity of the largest QR code, the limit other
//  Lightning implementations use too.
#define BOLT11_MAX_LEN 7089
//  Largest amount: 21 million BTC in millisatoshi.
#define BOLT11_MAX_MSAT 2100000000000000000ULL
//  A tagged field holds at most 1023 words = 639 bytes.
#define BOLT11_FIELD_BYTES_MAX 639
#define BOLT11_DESCRIPTION_MAX BOLT11_FIELD_BYTES_MAX
//  Feature bits 0..1023 are kept (bytes, bit n at features[n / 8] & (1 << n % 8)).
#define BOLT11_FEATURES_BYTES 128
//  Route-hint hops kept (across all r fields); further hops are dropped, hops_truncated set.
#define BOLT11_MAX_HOPS 16
//  Defaults for absent fields.
#define BOLT11_DEFAULT_EXPIRY 3600
#define BOLT11_DEFAULT_MIN_FINAL_CLTV 18

typedef enum {
    BOLT11_MAINNET,             //  lnbc
    BOLT11_TESTNET,             //  lntb
    BOLT11_SIGNET,              //  lntbs
    BOLT11_REGTEST,             //  lnbcrt
    BOLT11_SIMNET               //  lnsb
} bolt11_network_t;

//  One hop of a route hint (r field).
typedef struct {
    uint8_t route;              //  index of the r field this hop belongs to (0, 1, ...)
    uint8_t pubkey [33];        //  node id of the hop
    uint64_t short_channel_id;  //  block << 40 | tx << 16 | output
    uint32_t fee_base_msat;     //  base fee
    uint32_t fee_proportional_millionths;   //  proportional fee
    uint16_t cltv_expiry_delta; //  CLTV delta of the hop
} bolt11_hop_t;

typedef struct {
    bolt11_network_t network;   //  from the currency prefix
    bool has_amount;            //  false: "any amount" invoice
    uint64_t amount_msat;       //  amount in millisatoshi, when has_amount
    uint64_t timestamp;         //  creation time, seconds since 1970 (35 bits)
    uint8_t payment_hash [32];  //  p: SHA-256 of the preimage (first p field)
    uint8_t payment_secret [32];//  s: payment secret (first s field)
    bool has_description;       //  d present
    char description [BOLT11_DESCRIPTION_MAX + 1];  //  d: UTF-8 text, NUL-terminated
    bool has_description_hash;  //  h present
    uint8_t description_hash [32];                  //  h: SHA-256 of a long description
    uint64_t expiry;            //  x: seconds after timestamp (default 3600)
    uint64_t min_final_cltv;    //  c: min_final_cltv_expiry_delta (default 18)
    bool has_payee_field;       //  decode: an n field was present; encode: write an n field
    uint8_t payee [33];         //  payee node id (from n, or recovered from the signature)
    uint8_t features [BOLT11_FEATURES_BYTES];       //  9: feature bits 0..1023
    bool has_metadata;          //  m present
    size_t metadata_len;        //  m: length in bytes
    uint8_t metadata [BOLT11_FIELD_BYTES_MAX];      //  m: payment_metadata
    bool has_fallback;          //  a usable f field was present (the first is kept)
    uint8_t fallback_version;   //  f: 0..16 witness version, 17 P2PKH, 18 P2SH
    size_t fallback_len;        //  f: program length in bytes
    uint8_t fallback [40];      //  f: hash or witness program
    size_t hop_count;           //  r: hops kept in hops[]
    bool hops_truncated;        //  r: more than BOLT11_MAX_HOPS hops were present
    bolt11_hop_t hops [BOLT11_MAX_HOPS];            //  r: route hints, in order
} bolt11_invoice_t;

//  Error codes: bech32_error_t values pass through, these follow.
typedef enum {
    BOLT11_ERR_PREFIX = -40,        //  not "ln" + a known currency
    BOLT11_ERR_AMOUNT = -41,        //  bad amount: leading zero, bad multiplier, sub-msat, overflow
    BOLT11_ERR_TOO_SHORT = -42,     //  no room for timestamp and signature
    BOLT11_ERR_TRUNCATED = -43,     //  a tagged field runs into the signature
    BOLT11_ERR_FIELD_LENGTH = -44,  //  p/h/s not 52 words or n not 53 words
    BOLT11_ERR_FIELD = -45,         //  malformed x/c/9/d/r field (leading zeros, overflow, bad UTF-8)
    BOLT11_ERR_NO_PAYMENT_HASH = -46,   //  no p field
    BOLT11_ERR_NO_PAYMENT_SECRET = -47, //  no s field
    BOLT11_ERR_DESCRIPTION = -48,   //  not exactly one d or h field
    BOLT11_ERR_FEATURE = -49,       //  an unknown even (required) feature bit is set
    BOLT11_ERR_SIGNATURE = -50,     //  signature does not verify or recover
    BOLT11_ERR_HIGH_S = -51,        //  high-S signature with an n field
    BOLT11_ERR_INPUT = -52,         //  encode: the invoice struct or secret key is not usable
    BOLT11_ERR_WRONG_AMOUNT = -53,  //  check: amount differs from what was asked
    BOLT11_ERR_WRONG_HASH = -54,    //  check: payment hash differs
    BOLT11_ERR_EXPIRED = -55        //  check: expired at the given time
} bolt11_error_t;

//  Set an invoice to the spec defaults before filling it for bolt11_encode: everything zero,
//  expiry 3600, min_final_cltv 18, features var_onion_optin (8) and payment_secret (14).
void
    bolt11_invoice_init (bolt11_invoice_t *self, bolt11_network_t network);

//  Decode and verify a NUL-terminated invoice (either case, not mixed; no "lightning:" prefix).
//  Returns 0 and fills *self, or a negative error code.
int
    bolt11_decode (const char *str, bolt11_invoice_t *self);

//  Encode self as an invoice signed with seckey (low-S, recoverable) into out (NUL-terminated).
//  Writes, in this order: p, d or h, x and c when not the default, n when has_payee_field,
//  m when has_metadata, s, and 9 when any feature is set. Route hints and fallbacks are not
//  written; self->payee is ignored (the key comes from seckey). Signatures are deterministic
//  (RFC 6979), so the same fields and key give the same string. Returns 0 or an error code.
int
    bolt11_encode (char *out, size_t out_size, const bolt11_invoice_t *self,
                   const uint8_t seckey [32]);

//  Check an invoice a wallet returned against what was asked: it has an amount equal to
//  amount_msat, its payment hash equals payment_hash (skipped when NULL) and it is not expired
//  at now (seconds since 1970). Returns 0 or BOLT11_ERR_WRONG_AMOUNT/_WRONG_HASH/_EXPIRED.
int
    bolt11_check (const bolt11_invoice_t *self, uint64_t amount_msat,
                  const uint8_t *payment_hash, uint64_t now);

//  Feature bit accessors (bits 0..1023).
bool
    bolt11_has_feature (const bolt11_invoice_t *self, unsigned bit);
void
    bolt11_set_feature (bolt11_invoice_t *self, unsigned bit);

//  "lnbc", "lntb", "lntbs", "lnbcrt" or "lnsb".
const char *
    bolt11_network_prefix (bolt11_network_t network);

//  A short English description of a bolt11 or bech32 error code.
const char *
    bolt11_strerror (int rc);

#endif
