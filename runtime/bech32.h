/*  bech32.h: BIP-173 bech32 strings (the checksummed base-32 text behind npub/nsec/note and
    Lightning invoices).

    No Debian library ships bech32, and the algorithm is a page long, so it lives here. It is
    plain BIP-173 (checksum constant 1, not bech32m) with one change the users need: the
    90-character limit of BIP-173 is replaced by a maximum length the caller passes, because
    NIP-19 entities (up to 5000 chars) and BOLT11 invoices (no fixed limit) are longer.

    Data is handled as 5-bit "words" (values 0..31); bech32_convert_bits regroups bytes to
    words and back with the padding rules of BIP-173. */
#ifndef PYLON_BECH32_H
#define PYLON_BECH32_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Longest human-readable part BIP-173 allows (1..83 characters).
#define BECH32_HRP_MAX 83
//  The checksum is 6 words.
#define BECH32_CHECKSUM_LEN 6

//  Error codes (all negative; 0 is success). Other modules (nip19, bolt11) pass these through
//  unchanged, so their own codes start below BECH32_ERR_LAST.
typedef enum {
    BECH32_OK = 0,
    BECH32_ERR_TOO_LONG = -1,       //  string (or result) longer than the caller's maximum
    BECH32_ERR_CHAR = -2,           //  character outside the charset or outside ASCII 33..126
    BECH32_ERR_MIXED_CASE = -3,     //  both upper- and lower-case letters
    BECH32_ERR_NO_SEPARATOR = -4,   //  no '1' separator
    BECH32_ERR_HRP = -5,            //  empty or over-long human-readable part
    BECH32_ERR_TOO_SHORT = -6,      //  data part shorter than the 6-word checksum
    BECH32_ERR_CHECKSUM = -7,       //  checksum does not match
    BECH32_ERR_PADDING = -8,        //  5->8 regrouping left 5+ bits or non-zero padding bits
    BECH32_ERR_BUFFER = -9,         //  caller's output buffer too small
    BECH32_ERR_LAST = -10
} bech32_error_t;

//  Encode hrp (lower-case ASCII 33..126, 1..83 chars) and data words (each < 32) as a bech32
//  string with checksum into out (NUL-terminated). Fails with BECH32_ERR_TOO_LONG when the
//  result would exceed max_len characters. Returns 0 or a bech32_error_t.
int
    bech32_encode (char *out, size_t out_size, const char *hrp,
                   const uint8_t *words, size_t words_len, size_t max_len);

//  Decode a NUL-terminated bech32 string of at most max_len characters. Writes the
//  human-readable part in lower case into hrp (hrp_size >= BECH32_HRP_MAX + 1 is always
//  enough) and the data words without the checksum into words. Returns 0 or a bech32_error_t.
int
    bech32_decode (const char *str, size_t max_len, char *hrp, size_t hrp_size,
                   uint8_t *words, size_t words_size, size_t *words_len);

//  Regroup in_len values of in_bits each into values of out_bits each (8->5 to encode, 5->8
//  to decode). With pad, a last partial group is zero-padded (encoding). Without pad, the
//  leftover bits must be fewer than in_bits and all zero, else BECH32_ERR_PADDING (strict
//  BIP-173 decoding). Returns 0 or a bech32_error_t; *out_len gets the count written.
int
    bech32_convert_bits (uint8_t *out, size_t out_size, size_t *out_len, int out_bits,
                         const uint8_t *in, size_t in_len, int in_bits, bool pad);

//  Number of words that n bytes become (rounded up), and bytes that n words fill (rounded down).
#define BECH32_WORDS_FOR_BYTES(n) (((n) * 8 + 4) / 5)
#define BECH32_BYTES_FOR_WORDS(n) (((n) * 5) / 8)

//  A short English description of a bech32_error_t.
const char *
    bech32_strerror (int rc);

#endif
