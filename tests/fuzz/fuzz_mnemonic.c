/*  fuzz_mnemonic.c: libFuzzer target for the BIP-39 phrase validator (bip39_decode), the
    decoder of the one secret a person types in.

    Beyond "no crash, no hang, no leak", it checks the validator's promises and aborts when
    one breaks: normalisation is idempotent; an accepted phrase re-encodes from its entropy to
    exactly its normal form and yields a seed; an unknown word is reported at a position
    1..24, every other result at position 0; only documented error codes come back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bip39.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = 0;

    static char norm [BIP39_INPUT_MAX + 1], again [BIP39_INPUT_MAX + 1];
    int norm_len = bip39_normalize (text, norm, sizeof norm);
    if (norm_len >= 0) {
        if (bip39_normalize (norm, again, sizeof again) != norm_len || strcmp (norm, again) != 0)
            abort ();
    }
    else
    if (norm_len != BIP39_ERR_TOO_LONG)
        abort ();

    uint8_t entropy [BIP39_ENTROPY_MAX];
    size_t entropy_len = 0, position = 999;
    int rc = bip39_decode (text, entropy, &entropy_len, &position);
    switch (rc) {
        case BIP39_OK: {
            char phrase [BIP39_MNEMONIC_MAX];
            uint8_t seed [BIP39_SEED_SIZE];
            if (position != 0
            ||  bip39_from_entropy (entropy, entropy_len, phrase, sizeof phrase) != BIP39_OK
            ||  strcmp (phrase, norm) != 0
            ||  bip39_to_seed (text, "", seed) != BIP39_OK)
                abort ();
            break;
        }
        case BIP39_ERR_UNKNOWN_WORD:
            if (position < 1 || position > BIP39_WORDS_MAX)
                abort ();
            break;
        case BIP39_ERR_TOO_LONG:
        case BIP39_ERR_WORD_COUNT:
        case BIP39_ERR_CHECKSUM:
            if (position != 0)
                abort ();
            break;
        default:
            abort ();
    }
    if (bip39_validate (text, NULL) != rc)
        abort ();
    free (text);
    return 0;
}
