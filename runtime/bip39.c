/*  bip39.c: BIP-39 mnemonic phrases, see bip39.h.

    The English word list is compiled into the binary (runtime/data/bip39-english.txt via the
    Makefile's embed rule) and split once, on first use, into a sorted table that is searched
    by bisection. Phrases are handled as 11-bit word indexes packed big-endian into a bit
    buffer: entropy bits first, then ENT/32 checksum bits taken from SHA-256(entropy).

    Everything that holds secret material (the normalised phrase, entropy, bit buffers, the
    PBKDF2 state) lives on the stack only for the call and is wiped with sodium_memzero
    before returning.
*/
#include "bip39.h"
#include "embed.h"

#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

EMBED_DECLARE (bip39_english_txt)

#define WORD_COUNT 2048             //  Words in a BIP-39 list
#define WORD_LEN_MAX 8              //  Longest English word ("abstract", ...)

//  The word list, split into NUL-terminated words, in list (= alphabetical) order.
static char s_words [WORD_COUNT][WORD_LEN_MAX + 1];
static pthread_once_t s_words_once = PTHREAD_ONCE_INIT;

//  Split the embedded list. A malformed list is a build error, hence the asserts.
static void
s_words_load (void)
{
    const char *text = (const char *) embed_bip39_english_txt;
    const char *end = text + embed_bip39_english_txt_len;
    int count = 0;
    while (text < end) {
        const char *eol = memchr (text, '\n', (size_t) (end - text));
        const char *line_end = eol ? eol : end;
        size_t len = (size_t) (line_end - text);
        if (len > 0 && text [len - 1] == '\r')
            len--;
        if (len > 0) {
            assert (count < WORD_COUNT && len <= WORD_LEN_MAX);
            memcpy (s_words [count], text, len);
            s_words [count][len] = 0;
            assert (count == 0 || strcmp (s_words [count - 1], s_words [count]) < 0);
            count++;
        }
        text = line_end + 1;
    }
    assert (count == WORD_COUNT);
}

const char *
bip39_word (int index)
{
    if (index < 0 || index >= WORD_COUNT)
        return NULL;
    pthread_once (&s_words_once, s_words_load);
    return s_words [index];
}

int
bip39_word_index (const char *word)
{
    pthread_once (&s_words_once, s_words_load);
    int low = 0, high = WORD_COUNT - 1;
    while (low <= high) {
        int mid = low + (high - low) / 2;
        int cmp = strcmp (word, s_words [mid]);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            high = mid - 1;
        else
            low = mid + 1;
    }
    return -1;
}

const char *
bip39_strerror (int rc)
{
    switch (rc) {
        case BIP39_OK:               return "ok";
        case BIP39_ERR_TOO_LONG:     return "mnemonic input longer than 1024 bytes";
        case BIP39_ERR_WORD_COUNT:   return "mnemonic must have 12, 15, 18, 21 or 24 words";
        case BIP39_ERR_UNKNOWN_WORD: return "mnemonic word not in the BIP-39 English list";
        case BIP39_ERR_CHECKSUM:     return "mnemonic checksum mismatch (a word is wrong or misplaced)";
        case BIP39_ERR_ENTROPY:      return "entropy must be 16, 20, 24, 28 or 32 bytes";
        case BIP39_ERR_PASSPHRASE:   return "BIP-39 passphrase must be ASCII and at most 256 bytes";
        case BIP39_ERR_BUFFER:       return "output buffer too small";
        case BIP39_ERR_NOMEM:        return "out of secure memory";
        default:                     return "unknown BIP-39 error";
    }
}

static int
s_is_space (unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int
bip39_normalize (const char *input, char *out, size_t out_size)
{
    size_t input_len = strnlen (input, BIP39_INPUT_MAX + 1);
    if (input_len > BIP39_INPUT_MAX)
        return BIP39_ERR_TOO_LONG;
    size_t len = 0;
    int pending_space = 0;      //  Whitespace seen since the last word
    for (size_t i = 0; i < input_len; i++) {
        unsigned char c = (unsigned char) input [i];
        if (s_is_space (c)) {
            pending_space = len > 0;
            continue;
        }
        if (len + pending_space + 1 >= out_size) {
            sodium_memzero (out, out_size);
            return BIP39_ERR_BUFFER;
        }
        if (pending_space)
            out [len++] = ' ';
        pending_space = 0;
        out [len++] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : (char) c;
    }
    if (out_size == 0)
        return BIP39_ERR_BUFFER;
    out [len] = 0;
    return (int) len;
}

//  Read 11 bits starting at bit BIT (big-endian bit order) of BUF.
static unsigned
s_get11 (const uint8_t *buf, size_t bit)
{
    unsigned value = 0;
    for (size_t k = bit; k < bit + 11; k++)
        value = (value << 1) | ((buf [k / 8] >> (7 - k % 8)) & 1);
    return value;
}

//  Write the 11-bit VALUE at bit BIT of BUF (which starts zeroed).
static void
s_put11 (uint8_t *buf, size_t bit, unsigned value)
{
    for (size_t k = 0; k < 11; k++)
        if (value & (1u << (10 - k)))
            buf [(bit + k) / 8] |= (uint8_t) (0x80 >> ((bit + k) % 8));
}

//  First CS = ENT/32 bits of SHA-256(entropy), in the top bits of one byte (CS <= 8).
static uint8_t
s_checksum (const uint8_t *entropy, size_t entropy_len)
{
    uint8_t hash [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, entropy, entropy_len);
    size_t cs_bits = entropy_len * 8 / 32;
    uint8_t cs = (uint8_t) (hash [0] & (0xFF << (8 - cs_bits)));
    sodium_memzero (hash, sizeof hash);
    return cs;
}

int
bip39_from_entropy (const uint8_t *entropy, size_t entropy_len, char *out, size_t out_size)
{
    if (entropy_len < 16 || entropy_len > BIP39_ENTROPY_MAX || entropy_len % 4)
        return BIP39_ERR_ENTROPY;
    uint8_t bits [BIP39_ENTROPY_MAX + 1] = { 0 };  //  Entropy then checksum
    memcpy (bits, entropy, entropy_len);
    bits [entropy_len] = s_checksum (entropy, entropy_len);

    size_t words = (entropy_len * 8 + entropy_len / 4) / 11;
    size_t len = 0;
    int rc = BIP39_OK;
    for (size_t w = 0; w < words && rc == BIP39_OK; w++) {
        const char *word = bip39_word ((int) s_get11 (bits, w * 11));
        size_t word_len = strlen (word);
        if (len + (w > 0) + word_len + 1 > out_size) {
            rc = BIP39_ERR_BUFFER;
            break;
        }
        if (w > 0)
            out [len++] = ' ';
        memcpy (out + len, word, word_len);
        len += word_len;
    }
    if (rc == BIP39_OK)
        out [len] = 0;
    else
        sodium_memzero (out, out_size);
    sodium_memzero (bits, sizeof bits);
    return rc;
}

int
bip39_generate (int words, char *out, size_t out_size)
{
    if (words < 12 || words > BIP39_WORDS_MAX || words % 3)
        return BIP39_ERR_WORD_COUNT;
    if (sodium_init () < 0)
        return BIP39_ERR_NOMEM;
    uint8_t entropy [BIP39_ENTROPY_MAX];
    size_t entropy_len = (size_t) words * 4 / 3;
    randombytes_buf (entropy, entropy_len);
    int rc = bip39_from_entropy (entropy, entropy_len, out, out_size);
    sodium_memzero (entropy, sizeof entropy);
    return rc;
}

//  Decode the normalised phrase NORM. Word by word: an unknown word is reported at once
//  with its position; more than 24 words stop the scan (no valid phrase is that long).
static int
s_decode_normal (const char *norm, uint8_t *entropy, size_t *entropy_len, size_t *position)
{
    uint8_t bits [BIP39_ENTROPY_MAX + 1] = { 0 };
    size_t words = 0;
    int rc = BIP39_OK;
    const char *cursor = norm;
    while (*cursor && rc == BIP39_OK) {
        const char *space = strchr (cursor, ' ');
        size_t len = space ? (size_t) (space - cursor) : strlen (cursor);
        if (words == BIP39_WORDS_MAX) {
            rc = BIP39_ERR_WORD_COUNT;
            break;
        }
        char word [WORD_LEN_MAX + 1];
        int index = -1;
        if (len <= WORD_LEN_MAX) {
            memcpy (word, cursor, len);
            word [len] = 0;
            index = bip39_word_index (word);
            sodium_memzero (word, sizeof word);
        }
        words++;
        if (index < 0) {
            if (position)
                *position = words;
            rc = BIP39_ERR_UNKNOWN_WORD;
            break;
        }
        s_put11 (bits, (words - 1) * 11, (unsigned) index);
        cursor += len + (space != NULL);
    }
    if (rc == BIP39_OK && (words < 12 || words % 3))
        rc = BIP39_ERR_WORD_COUNT;
    if (rc == BIP39_OK) {
        size_t ent_len = words * 4 / 3;           //  ENT bits = words * 32 / 3
        size_t cs_bits = ent_len / 4;
        uint8_t cs_mask = (uint8_t) (0xFF << (8 - cs_bits));
        if ((bits [ent_len] & cs_mask) != s_checksum (bits, ent_len))
            rc = BIP39_ERR_CHECKSUM;
        else {
            if (entropy)
                memcpy (entropy, bits, ent_len);
            if (entropy_len)
                *entropy_len = ent_len;
        }
    }
    sodium_memzero (bits, sizeof bits);
    return rc;
}

int
bip39_decode (const char *phrase, uint8_t *entropy, size_t *entropy_len, size_t *position)
{
    if (position)
        *position = 0;
    char norm [BIP39_INPUT_MAX + 1];
    int rc = bip39_normalize (phrase, norm, sizeof norm);
    if (rc >= 0)
        rc = s_decode_normal (norm, entropy, entropy_len, position);
    sodium_memzero (norm, sizeof norm);
    return rc;
}

int
bip39_validate (const char *phrase, size_t *position)
{
    return bip39_decode (phrase, NULL, NULL, position);
}

/*  PBKDF2-HMAC-SHA512, RFC 8018 section 5.2. libsodium has HMAC-SHA512 but no PBKDF2, and no
    other Debian library we link provides it, so here it is in a few lines:
        T_i = U_1 ^ U_2 ^ ... ^ U_c,  U_1 = HMAC(P, S || INT(i)),  U_j = HMAC(P, U_{j-1})
    The HMAC state keyed with the password is computed once and copied for each call. */
void
bip39_pbkdf2_sha512 (const uint8_t *password, size_t password_len,
                     const uint8_t *salt, size_t salt_len,
                     uint32_t rounds, uint8_t *out, size_t out_len)
{
    crypto_auth_hmacsha512_state keyed, state;
    uint8_t u [crypto_auth_hmacsha512_BYTES];     //  U_j
    uint8_t t [crypto_auth_hmacsha512_BYTES];     //  T_i, the running XOR
    crypto_auth_hmacsha512_init (&keyed, password, password_len);

    for (uint32_t block = 1; out_len > 0; block++) {
        uint8_t block_be [4] = {
            (uint8_t) (block >> 24), (uint8_t) (block >> 16), (uint8_t) (block >> 8), (uint8_t) block
        };
        state = keyed;
        crypto_auth_hmacsha512_update (&state, salt, salt_len);
        crypto_auth_hmacsha512_update (&state, block_be, sizeof block_be);
        crypto_auth_hmacsha512_final (&state, u);
        memcpy (t, u, sizeof t);
        for (uint32_t round = 1; round < rounds; round++) {
            state = keyed;
            crypto_auth_hmacsha512_update (&state, u, sizeof u);
            crypto_auth_hmacsha512_final (&state, u);
            for (size_t k = 0; k < sizeof t; k++)
                t [k] ^= u [k];
        }
        size_t take = out_len < sizeof t ? out_len : sizeof t;
        memcpy (out, t, take);
        out += take;
        out_len -= take;
    }
    sodium_memzero (&keyed, sizeof keyed);
    sodium_memzero (&state, sizeof state);
    sodium_memzero (u, sizeof u);
    sodium_memzero (t, sizeof t);
}

int
bip39_to_seed (const char *phrase, const char *passphrase, uint8_t seed [BIP39_SEED_SIZE])
{
    if (!passphrase)
        passphrase = "";
    size_t pass_len = strnlen (passphrase, BIP39_PASSPHRASE_MAX + 1);
    if (pass_len > BIP39_PASSPHRASE_MAX)
        return BIP39_ERR_PASSPHRASE;
    for (size_t i = 0; i < pass_len; i++)
        if ((unsigned char) passphrase [i] >= 0x80)
            return BIP39_ERR_PASSPHRASE;

    char norm [BIP39_INPUT_MAX + 1];
    uint8_t salt [8 + BIP39_PASSPHRASE_MAX];       //  "mnemonic" + passphrase
    int len = bip39_normalize (phrase, norm, sizeof norm);
    int rc = len < 0 ? len : s_decode_normal (norm, NULL, NULL, NULL);
    if (rc == BIP39_OK) {
        memcpy (salt, "mnemonic", 8);
        memcpy (salt + 8, passphrase, pass_len);
        bip39_pbkdf2_sha512 ((const uint8_t *) norm, (size_t) len, salt, 8 + pass_len,
                             BIP39_PBKDF2_ROUNDS, seed, BIP39_SEED_SIZE);
    }
    sodium_memzero (norm, sizeof norm);
    sodium_memzero (salt, sizeof salt);
    return rc;
}
