/*  fuzz_identity_file.c: libFuzzer target for the identity file parser (identity.enc).

    The header is parsed for every input. The full decode (Argon2id + AEAD) runs when the
    header asks for no key stretching or for a small one (<= 64 KiB, <= 2 passes): a file's
    limits up to IDENTITY_MEMLIMIT_MAX are legal but too slow for fuzzing. The committed
    corpus holds files made with passphrase "fuzz" and such small limits.
    Checks: only documented codes; a decoded file gives a valid mnemonic and the right
    unprotected flag; a failed decode allocates nothing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bip39.h"
#include "identity.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    identity_info_t info;
    int rc = identity_parse_header (data, size, &info);
    if (rc != IDENTITY_OK) {
        if (rc != IDENTITY_ERR_FORMAT && rc != IDENTITY_ERR_VERSION && rc != IDENTITY_ERR_TOO_LARGE
        &&  rc != IDENTITY_ERR_KDF_LIMITS)
            abort ();
        return 0;
    }
    if (info.is_protected && (info.memlimit > 65536 || info.opslimit > 2))
        return 0;
    char *mnemonic = NULL;
    bool unprotected = false;
    rc = identity_decode (data, size, "fuzz", &mnemonic, &unprotected);
    if (rc == IDENTITY_OK) {
        if (!mnemonic || bip39_validate (mnemonic, NULL) != BIP39_OK || unprotected == info.is_protected)
            abort ();
        identity_secret_free (&mnemonic);
    }
    else
    if (mnemonic
    ||  (rc != IDENTITY_ERR_WRONG_PASSPHRASE && rc != IDENTITY_ERR_CORRUPT
      && rc != IDENTITY_ERR_MNEMONIC && rc != IDENTITY_ERR_NOMEM))
        abort ();
    return 0;
}
