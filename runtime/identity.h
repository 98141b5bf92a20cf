/*  identity.h: the node's encrypted identity file (identity.enc) and its passphrase.

    The identity is one BIP-39 mnemonic (bip39.h); every key of the node is derived from it
    (bip32.h). On disk it is encrypted with XChaCha20-Poly1305 under a key stretched from a
    passphrase by Argon2id. The whole header is authenticated, so a changed limit, flag or
    salt is detected like a wrong passphrase.

    File layout, version 1 (integers big-endian, IDENTITY_HEADER_SIZE = 70 bytes of header):
        0   8   magic "PYLONID\n"
        8   1   version (1)
        9   1   protection: 0 = none (unattended node), 1 = Argon2id passphrase
        10  2   reserved, zero
        12  8   Argon2id opslimit (0 when unprotected)
        20  8   Argon2id memlimit in bytes (0 when unprotected)
        28  16  Argon2id salt
        44  24  XChaCha20-Poly1305 nonce
        68  2   ciphertext length N (mnemonic length + 16)
        70  N   ciphertext of the normalised mnemonic (no NUL), with its 16-byte tag
    Limits and salt are stored so they can be raised later without breaking old files.

    Unprotected mode is explicit (IDENTITY_NO_PASSPHRASE): the file has the same layout and an
    all-zero key, so corruption is still detected but anyone who can read the file has the
    keys. identity_load reports it so the CLI can warn loudly.

    Files are written atomically: a 0600 temporary file in the same directory (O_CREAT|O_EXCL),
    written, fsync'd, then linked (or renamed, with IDENTITY_OVERWRITE) into place and the
    directory fsync'd; a crash leaves the old file or the new one, never half of one. A file
    that is not a regular file, not owned by the user, or open to group/others is refused.

    Passphrases come from --passphrase-file (first line), the PYLON_PASSPHRASE environment
    variable, or a no-echo terminal prompt. Every secret this module returns (mnemonic,
    passphrase) is a NUL-terminated string in sodium_malloc'd memory: free it with
    identity_secret_free(), which wipes it.

    Errors are negative IDENTITY_ERR_* codes; identity_strerror() names them.
*/
#ifndef PYLON_IDENTITY_H
#define PYLON_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDENTITY_FILE_NAME       "identity.enc"   //  Conventional name in the data directory
#define IDENTITY_HEADER_SIZE     70               //  Bytes before the ciphertext
#define IDENTITY_FILE_MAX        512              //  Largest file accepted (a 24-word file is ~300)
#define IDENTITY_PASSPHRASE_MAX  1024             //  Longest passphrase accepted, bytes
#define IDENTITY_OPSLIMIT_MAX    16               //  Largest Argon2id opslimit a file may ask for
#define IDENTITY_MEMLIMIT_MAX    (1024ULL << 20)  //  Largest Argon2id memlimit a file may ask for: 1 GiB
#define IDENTITY_PASSPHRASE_ENV  "PYLON_PASSPHRASE"

//  Flags of identity_save
#define IDENTITY_NO_PASSPHRASE   1  //  Store without passphrase (unattended node); passphrase must be NULL
#define IDENTITY_OVERWRITE       2  //  Replace an existing file (default: refuse, IDENTITY_ERR_EXISTS)

#define IDENTITY_OK                    0
#define IDENTITY_ERR_IO               -1    //  Read, write, fsync or rename failed (see errno)
#define IDENTITY_ERR_NOT_FOUND        -2    //  No such file (or PYLON_PASSPHRASE unset)
#define IDENTITY_ERR_EXISTS           -3    //  File exists and IDENTITY_OVERWRITE not given
#define IDENTITY_ERR_NOT_FILE         -4    //  Not a regular file (directory, symlink, device)
#define IDENTITY_ERR_OWNER            -5    //  Owned by another user
#define IDENTITY_ERR_PERMISSIONS      -6    //  Readable or writable by group or others
#define IDENTITY_ERR_TOO_LARGE        -7    //  Larger than IDENTITY_FILE_MAX
#define IDENTITY_ERR_FORMAT           -8    //  Not an identity file, truncated, bad fields or limits
#define IDENTITY_ERR_VERSION          -9    //  A version this build does not read
#define IDENTITY_ERR_WRONG_PASSPHRASE -10   //  Decryption failed: wrong passphrase or modified file
#define IDENTITY_ERR_CORRUPT          -11   //  Unprotected file failed its integrity check
#define IDENTITY_ERR_NEED_PASSPHRASE  -12   //  Protected file and no passphrase; or save without one
#define IDENTITY_ERR_BAD_PASSPHRASE   -13   //  Passphrase empty, too long, or given with NO_PASSPHRASE
#define IDENTITY_ERR_MNEMONIC         -14   //  Not a valid BIP-39 mnemonic
#define IDENTITY_ERR_NOMEM            -15   //  Secure memory or Argon2id memory unavailable
#define IDENTITY_ERR_TTY              -16   //  No terminal to prompt on
#define IDENTITY_ERR_MISMATCH         -17   //  The two prompted passphrases differ
#define IDENTITY_ERR_KDF_LIMITS       -18   //  Argon2id limits outside the accepted range

//  What the header of an identity file says (no secrets).
typedef struct {
    uint8_t version;            //  File format version
    bool is_protected;          //  true: passphrase needed; false: unattended (no passphrase)
    uint64_t opslimit;          //  Argon2id opslimit (0 when unprotected)
    uint64_t memlimit;          //  Argon2id memlimit in bytes (0 when unprotected)
    size_t mnemonic_len;        //  Length of the stored mnemonic, bytes
} identity_info_t;

//  Text for an IDENTITY_* code (never NULL).
const char *
    identity_strerror (int rc);

//  Encrypt MNEMONIC (validated, then normalised) to PATH with the default Argon2id limits
//  (libsodium's MODERATE: 3 passes, 256 MiB). PASSPHRASE is NULL iff FLAGS has
//  IDENTITY_NO_PASSPHRASE.
int
    identity_save (const char *path, const char *mnemonic, const char *passphrase, int flags);

//  Same with explicit Argon2id limits: opslimit 1..IDENTITY_OPSLIMIT_MAX, memlimit
//  8 KiB..IDENTITY_MEMLIMIT_MAX, else IDENTITY_ERR_KDF_LIMITS (the same bounds apply on load).
int
    identity_save_kdf (const char *path, const char *mnemonic, const char *passphrase, int flags,
                       uint64_t opslimit, uint64_t memlimit);

//  Decrypt PATH. On success *MNEMONIC_P is the mnemonic (free with identity_secret_free) and
//  *UNPROTECTED (if not NULL) is true for a file saved with IDENTITY_NO_PASSPHRASE (the
//  passphrase is then ignored). On error nothing is allocated and the file is untouched.
int
    identity_load (const char *path, const char *passphrase, char **mnemonic_p, bool *unprotected);

//  Read PATH's header only (same file checks as identity_load), e.g. to know whether to prompt.
int
    identity_inspect (const char *path, identity_info_t *info);

//  Re-encrypt PATH under NEW_PASSPHRASE (or none, with IDENTITY_NO_PASSPHRASE in FLAGS).
//  The file changes only if OLD_PASSPHRASE opens it.
int
    identity_change_passphrase (const char *path, const char *old_passphrase,
                                const char *new_passphrase, int flags);

//  In-memory forms of save and load, used by the above and by the fuzz target.
//  identity_encode writes at most IDENTITY_FILE_MAX bytes to OUT.
int
    identity_encode (const char *mnemonic, const char *passphrase, int flags,
                     uint64_t opslimit, uint64_t memlimit,
                     uint8_t out [IDENTITY_FILE_MAX], size_t *out_len);
int
    identity_parse_header (const uint8_t *data, size_t len, identity_info_t *info);
int
    identity_decode (const uint8_t *data, size_t len, const char *passphrase,
                     char **mnemonic_p, bool *unprotected);

//  Passphrase from the first line of PATH (without its line end; CR LF or LF).
int
    identity_passphrase_from_file (const char *path, char **passphrase_p);

//  Passphrase from PYLON_PASSPHRASE (IDENTITY_ERR_NOT_FOUND when unset).
int
    identity_passphrase_from_env (char **passphrase_p);

//  Prompt on the controlling terminal (/dev/tty) with echo off. With CONFIRM, ask twice and
//  fail with IDENTITY_ERR_MISMATCH if the answers differ.
int
    identity_passphrase_prompt (const char *prompt, bool confirm, char **passphrase_p);

//  Same on a given terminal: read IN_FD, write prompts to OUT_FD (both a tty, e.g. a pty).
int
    identity_passphrase_prompt_fd (int in_fd, int out_fd, const char *prompt, bool confirm,
                                   char **passphrase_p);

//  The usual order: FILE if not NULL, else PYLON_PASSPHRASE if set, else the terminal prompt.
int
    identity_passphrase_get (const char *file, bool confirm, char **passphrase_p);

//  Wipe and free a secret returned by this module; set the pointer to NULL.
void
    identity_secret_free (char **secret_p);

#endif
