/*  bip39.h: BIP-39 mnemonic phrases (English word list only).

    A node's whole identity is one mnemonic: from it come the Nostr key (NIP-06, see bip32.h)
    and any other key the node needs. This module turns entropy into words and back, checks a
    phrase typed by a person (with an error that says what is wrong and where), and stretches a
    phrase into the 64-byte BIP-39 seed.

    Input rules. A phrase from outside is at most BIP39_INPUT_MAX bytes. Before anything else it
    is normalised: runs of ASCII whitespace become one space, leading and trailing whitespace go,
    ASCII letters are lowercased. The seed is computed from that normal form, which for a valid
    English phrase is exactly the form BIP-39 specifies (NFKD of ASCII is the identity).
    BIP-39 applies NFKD to the passphrase too; we have no Unicode tables, so a BIP-39
    passphrase must be ASCII (BIP39_ERR_PASSPHRASE otherwise) rather than silently give a
    different seed from other wallets.

    Errors are negative BIP39_ERR_* codes; bip39_strerror() names them.
*/
#ifndef PYLON_BIP39_H
#define PYLON_BIP39_H

#include <stddef.h>
#include <stdint.h>

#define BIP39_INPUT_MAX      1024   //  Longest phrase accepted from outside, bytes, whitespace included
#define BIP39_MNEMONIC_MAX   216    //  Buffer for any valid phrase: 24 words of <= 8 letters + 23 spaces + NUL
#define BIP39_PASSPHRASE_MAX 256    //  Longest BIP-39 passphrase, bytes
#define BIP39_SEED_SIZE      64     //  Seed length, bytes
#define BIP39_ENTROPY_MAX    32     //  Entropy of a 24-word phrase, bytes
#define BIP39_WORDS_MAX      24     //  Longest phrase, words
#define BIP39_PBKDF2_ROUNDS  2048   //  Fixed by BIP-39

#define BIP39_OK                0
#define BIP39_ERR_TOO_LONG     -1   //  Input longer than BIP39_INPUT_MAX
#define BIP39_ERR_WORD_COUNT   -2   //  Not 12, 15, 18, 21 or 24 words
#define BIP39_ERR_UNKNOWN_WORD -3   //  A word is not in the list; its position is reported
#define BIP39_ERR_CHECKSUM     -4   //  All words known, checksum does not match (a typo)
#define BIP39_ERR_ENTROPY      -5   //  Entropy length not 16, 20, 24, 28 or 32 bytes
#define BIP39_ERR_PASSPHRASE   -6   //  Passphrase too long or not ASCII
#define BIP39_ERR_BUFFER       -7   //  Caller's output buffer too small
#define BIP39_ERR_NOMEM        -8   //  Secure memory allocation failed

//  Text for a BIP39_* code (never NULL).
const char *
    bip39_strerror (int rc);

//  Word number INDEX (0..2047) of the English list, or NULL if out of range.
const char *
    bip39_word (int index);

//  Index of WORD in the English list (exact, lowercase), or -1.
int
    bip39_word_index (const char *word);

//  Normalise INPUT (see the header comment) into OUT (OUT_SIZE bytes, NUL-terminated).
//  Returns the length written, BIP39_ERR_TOO_LONG or BIP39_ERR_BUFFER.
int
    bip39_normalize (const char *input, char *out, size_t out_size);

//  Encode ENTROPY (16, 20, 24, 28 or 32 bytes) as a phrase into OUT.
int
    bip39_from_entropy (const uint8_t *entropy, size_t entropy_len, char *out, size_t out_size);

//  Fresh phrase of WORDS words (12, 15, 18, 21 or 24) from the system CSPRNG.
int
    bip39_generate (int words, char *out, size_t out_size);

//  Check PHRASE (normalised first) and decode it to its entropy, written to ENTROPY
//  (BIP39_ENTROPY_MAX bytes) with its length in *ENTROPY_LEN; either may be NULL.
//  On BIP39_ERR_UNKNOWN_WORD, *POSITION (if not NULL) is the 1-based number of the first
//  unknown word; it is 0 for every other result.
int
    bip39_decode (const char *phrase, uint8_t *entropy, size_t *entropy_len, size_t *position);

//  Same check without the entropy: BIP39_OK or the first error found.
int
    bip39_validate (const char *phrase, size_t *position);

//  Seed from a valid PHRASE and an optional PASSPHRASE (NULL = ""):
//  PBKDF2-HMAC-SHA512(normal form, "mnemonic" + passphrase, 2048 rounds) into SEED.
//  The phrase is validated first: an invalid phrase gives its error and no seed.
int
    bip39_to_seed (const char *phrase, const char *passphrase, uint8_t seed[BIP39_SEED_SIZE]);

//  PBKDF2 with HMAC-SHA512 (RFC 8018), exposed so it can be tested on its own.
void
    bip39_pbkdf2_sha512 (const uint8_t *password, size_t password_len,
                         const uint8_t *salt, size_t salt_len,
                         uint32_t rounds, uint8_t *out, size_t out_len);

#endif
