/*  identity.c: the encrypted identity file and passphrase sources, see identity.h.

    Three layers, each usable alone: identity_encode/identity_decode turn a mnemonic into the
    file's bytes and back (all crypto is libsodium: crypto_pwhash Argon2id, XChaCha20-Poly1305);
    s_write_atomic/s_read_checked move bytes to and from disk with the permission and atomicity
    rules; the passphrase readers fetch the passphrase from a file, the environment or a tty.

    Secrets (stretched key, plaintext, passphrases) live in sodium_malloc'd buffers that are
    wiped on free; the few stack copies are wiped with sodium_memzero before return.
*/
#include "identity.h"
#include "bip39.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const uint8_t s_magic [8] = { 'P', 'Y', 'L', 'O', 'N', 'I', 'D', '\n' };

#define VERSION          1
#define PROTECTION_NONE  0
#define PROTECTION_PWHASH 1
#define KEY_SIZE         crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define TAG_SIZE         crypto_aead_xchacha20poly1305_ietf_ABYTES

//  Offsets of the header fields (see the layout in identity.h)
#define OFF_VERSION      8
#define OFF_PROTECTION   9
#define OFF_RESERVED     10
#define OFF_OPSLIMIT     12
#define OFF_MEMLIMIT     20
#define OFF_SALT         28
#define OFF_NONCE        44
#define OFF_LENGTH       68

_Static_assert (OFF_NONCE - OFF_SALT == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert (OFF_LENGTH - OFF_NONCE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert (OFF_LENGTH + 2 == IDENTITY_HEADER_SIZE, "header size");
_Static_assert (IDENTITY_HEADER_SIZE + BIP39_MNEMONIC_MAX + TAG_SIZE <= IDENTITY_FILE_MAX, "file size");

const char *
identity_strerror (int rc)
{
    switch (rc) {
        case IDENTITY_OK:                   return "ok";
        case IDENTITY_ERR_IO:               return "identity file: input/output error";
        case IDENTITY_ERR_NOT_FOUND:        return "identity file (or passphrase source) not found";
        case IDENTITY_ERR_EXISTS:           return "identity file already exists (refusing to overwrite keys)";
        case IDENTITY_ERR_NOT_FILE:         return "identity path is not a regular file (symlinks are refused)";
        case IDENTITY_ERR_OWNER:            return "identity file is owned by another user";
        case IDENTITY_ERR_PERMISSIONS:      return "identity file is accessible by group or others: chmod 600 it";
        case IDENTITY_ERR_TOO_LARGE:        return "identity file too large";
        case IDENTITY_ERR_FORMAT:           return "not a valid identity file (bad magic, length or fields)";
        case IDENTITY_ERR_VERSION:          return "identity file version not supported by this build";
        case IDENTITY_ERR_WRONG_PASSPHRASE: return "wrong passphrase (or the identity file was modified)";
        case IDENTITY_ERR_CORRUPT:          return "identity file is corrupt (integrity check failed)";
        case IDENTITY_ERR_NEED_PASSPHRASE:  return "a passphrase is required";
        case IDENTITY_ERR_BAD_PASSPHRASE:   return "passphrase empty, longer than 1024 bytes, or given with no-passphrase mode";
        case IDENTITY_ERR_MNEMONIC:         return "not a valid BIP-39 mnemonic";
        case IDENTITY_ERR_NOMEM:            return "out of memory for secrets or key stretching";
        case IDENTITY_ERR_TTY:              return "no terminal to ask for the passphrase";
        case IDENTITY_ERR_MISMATCH:         return "the passphrases entered do not match";
        case IDENTITY_ERR_KDF_LIMITS:       return "Argon2id limits out of range (at most 16 passes and 1 GiB)";
        default:                            return "unknown identity error";
    }
}

void
identity_secret_free (char **secret_p)
{
    if (*secret_p) {
        sodium_free (*secret_p);            //  wipes, then unmaps
        *secret_p = NULL;
    }
}

//  A fresh zeroed secret buffer of SIZE bytes, or NULL.
static char *
s_secret_new (size_t size)
{
    if (sodium_init () < 0)
        return NULL;
    char *secret = (char *) sodium_malloc (size);
    if (secret)
        sodium_memzero (secret, size);
    return secret;
}

static void
s_put64 (uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        out [i] = (uint8_t) value;
}

static uint64_t
s_get64 (const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | in [i];
    return value;
}

static bool
s_limits_ok (uint64_t opslimit, uint64_t memlimit)
{
    return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= IDENTITY_OPSLIMIT_MAX
        && memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= IDENTITY_MEMLIMIT_MAX
        && memlimit <= SIZE_MAX;
}

//  The AEAD key: Argon2id(passphrase, salt) for protected files, all zero otherwise.
static int
s_derive_key (uint8_t *key, const char *passphrase, const uint8_t *salt,
              uint64_t opslimit, uint64_t memlimit)
{
    if (!passphrase) {
        sodium_memzero (key, KEY_SIZE);
        return IDENTITY_OK;
    }
    if (crypto_pwhash (key, KEY_SIZE, passphrase, strlen (passphrase), salt,
                       (unsigned long long) opslimit, (size_t) memlimit,
                       crypto_pwhash_ALG_ARGON2ID13) != 0)
        return IDENTITY_ERR_NOMEM;          //  the only failure with valid limits
    return IDENTITY_OK;
}

int
identity_encode (const char *mnemonic, const char *passphrase, int flags,
                 uint64_t opslimit, uint64_t memlimit,
                 uint8_t out [IDENTITY_FILE_MAX], size_t *out_len)
{
    bool no_passphrase = (flags & IDENTITY_NO_PASSPHRASE) != 0;
    if (no_passphrase && passphrase)
        return IDENTITY_ERR_BAD_PASSPHRASE;
    if (!no_passphrase && !passphrase)
        return IDENTITY_ERR_NEED_PASSPHRASE;
    if (passphrase) {
        size_t pass_len = strnlen (passphrase, IDENTITY_PASSPHRASE_MAX + 1);
        if (pass_len == 0 || pass_len > IDENTITY_PASSPHRASE_MAX)
            return IDENTITY_ERR_BAD_PASSPHRASE;
        if (!s_limits_ok (opslimit, memlimit))
            return IDENTITY_ERR_KDF_LIMITS;
    }
    else
        opslimit = memlimit = 0;
    if (sodium_init () < 0)
        return IDENTITY_ERR_NOMEM;

    char *plain = s_secret_new (BIP39_MNEMONIC_MAX);
    uint8_t *key = (uint8_t *) s_secret_new (KEY_SIZE);
    int rc = plain && key ? IDENTITY_OK : IDENTITY_ERR_NOMEM;
    int plain_len = 0;
    if (rc == IDENTITY_OK && bip39_validate (mnemonic, NULL) != BIP39_OK)
        rc = IDENTITY_ERR_MNEMONIC;
    if (rc == IDENTITY_OK) {
        plain_len = bip39_normalize (mnemonic, plain, BIP39_MNEMONIC_MAX);
        if (plain_len <= 0)
            rc = IDENTITY_ERR_MNEMONIC;
    }
    if (rc == IDENTITY_OK) {
        memset (out, 0, IDENTITY_HEADER_SIZE);
        memcpy (out, s_magic, sizeof s_magic);
        out [OFF_VERSION] = VERSION;
        out [OFF_PROTECTION] = passphrase ? PROTECTION_PWHASH : PROTECTION_NONE;
        s_put64 (out + OFF_OPSLIMIT, opslimit);
        s_put64 (out + OFF_MEMLIMIT, memlimit);
        randombytes_buf (out + OFF_SALT, crypto_pwhash_SALTBYTES);
        randombytes_buf (out + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
        size_t cipher_len = (size_t) plain_len + TAG_SIZE;
        out [OFF_LENGTH] = (uint8_t) (cipher_len >> 8);
        out [OFF_LENGTH + 1] = (uint8_t) cipher_len;
        rc = s_derive_key (key, passphrase, out + OFF_SALT, opslimit, memlimit);
    }
    if (rc == IDENTITY_OK) {
        unsigned long long cipher_len;
        crypto_aead_xchacha20poly1305_ietf_encrypt (out + IDENTITY_HEADER_SIZE, &cipher_len,
                                                    (const uint8_t *) plain, (size_t) plain_len,
                                                    out, IDENTITY_HEADER_SIZE,  //  header is AAD
                                                    NULL, out + OFF_NONCE, key);
        *out_len = IDENTITY_HEADER_SIZE + (size_t) cipher_len;
    }
    if (plain)
        sodium_free (plain);
    if (key)
        sodium_free (key);
    return rc;
}

int
identity_parse_header (const uint8_t *data, size_t len, identity_info_t *info)
{
    if (len > IDENTITY_FILE_MAX)
        return IDENTITY_ERR_TOO_LARGE;
    if (len < IDENTITY_HEADER_SIZE || memcmp (data, s_magic, sizeof s_magic) != 0)
        return IDENTITY_ERR_FORMAT;
    if (data [OFF_VERSION] != VERSION)
        return IDENTITY_ERR_VERSION;
    uint8_t protection = data [OFF_PROTECTION];
    uint64_t opslimit = s_get64 (data + OFF_OPSLIMIT);
    uint64_t memlimit = s_get64 (data + OFF_MEMLIMIT);
    size_t cipher_len = (size_t) data [OFF_LENGTH] << 8 | data [OFF_LENGTH + 1];
    if (data [OFF_RESERVED] || data [OFF_RESERVED + 1])
        return IDENTITY_ERR_FORMAT;
    if (protection == PROTECTION_PWHASH) {
        if (!s_limits_ok (opslimit, memlimit))
            return IDENTITY_ERR_KDF_LIMITS;     //  refuse before spending time or memory
    }
    else
    if (protection != PROTECTION_NONE || opslimit || memlimit)
        return IDENTITY_ERR_FORMAT;
    //  At least one byte of mnemonic; never more than the longest valid phrase
    if (cipher_len <= TAG_SIZE || cipher_len - TAG_SIZE >= BIP39_MNEMONIC_MAX
    ||  IDENTITY_HEADER_SIZE + cipher_len != len)
        return IDENTITY_ERR_FORMAT;
    info->version = VERSION;
    info->is_protected = protection == PROTECTION_PWHASH;
    info->opslimit = opslimit;
    info->memlimit = memlimit;
    info->mnemonic_len = cipher_len - TAG_SIZE;
    return IDENTITY_OK;
}

int
identity_decode (const uint8_t *data, size_t len, const char *passphrase,
                 char **mnemonic_p, bool *unprotected)
{
    identity_info_t info;
    int rc = identity_parse_header (data, len, &info);
    if (rc != IDENTITY_OK)
        return rc;
    if (!info.is_protected)
        passphrase = NULL;                  //  ignored: the key is all zero
    else
    if (!passphrase)
        return IDENTITY_ERR_NEED_PASSPHRASE;
    else
    if (strnlen (passphrase, IDENTITY_PASSPHRASE_MAX + 1) > IDENTITY_PASSPHRASE_MAX)
        return IDENTITY_ERR_BAD_PASSPHRASE;

    char *plain = s_secret_new (info.mnemonic_len + 1);
    uint8_t *key = (uint8_t *) s_secret_new (KEY_SIZE);
    rc = plain && key ? IDENTITY_OK : IDENTITY_ERR_NOMEM;
    if (rc == IDENTITY_OK)
        rc = s_derive_key (key, passphrase, data + OFF_SALT, info.opslimit, info.memlimit);
    if (rc == IDENTITY_OK) {
        unsigned long long plain_len;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt ((uint8_t *) plain, &plain_len, NULL,
                                                        data + IDENTITY_HEADER_SIZE,
                                                        len - IDENTITY_HEADER_SIZE,
                                                        data, IDENTITY_HEADER_SIZE,
                                                        data + OFF_NONCE, key) != 0)
            rc = info.is_protected ? IDENTITY_ERR_WRONG_PASSPHRASE : IDENTITY_ERR_CORRUPT;
        else
        if (memchr (plain, 0, (size_t) plain_len) || bip39_validate (plain, NULL) != BIP39_OK)
            rc = IDENTITY_ERR_MNEMONIC;
    }
    if (key)
        sodium_free (key);
    if (rc == IDENTITY_OK) {
        *mnemonic_p = plain;
        if (unprotected)
            *unprotected = !info.is_protected;
    }
    else
    if (plain)
        sodium_free (plain);
    return rc;
}

//  Write all of DATA to FD, retrying short writes and EINTR.
static int
s_write_all (int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

//  fsync the directory holding PATH, so a new name in it survives a crash.
static int
s_fsync_dir (const char *path)
{
    char dir [PATH_MAX];
    const char *slash = strrchr (path, '/');
    if (slash && slash - path >= PATH_MAX)
        return -1;
    if (!slash)
        strcpy (dir, ".");
    else
    if (slash == path)
        strcpy (dir, "/");
    else {
        memcpy (dir, path, (size_t) (slash - path));
        dir [slash - path] = 0;
    }
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Put DATA at PATH atomically, mode 0600 (see identity.h).
static int
s_write_atomic (const char *path, const uint8_t *data, size_t len, bool overwrite)
{
    char temp [PATH_MAX];
    uint8_t random [8];
    char random_hex [sizeof random * 2 + 1];
    randombytes_buf (random, sizeof random);
    sodium_bin2hex (random_hex, sizeof random_hex, random, sizeof random);
    if (snprintf (temp, sizeof temp, "%s.tmp-%s", path, random_hex) >= (int) sizeof temp) {
        errno = ENAMETOOLONG;
        return IDENTITY_ERR_IO;
    }
    int fd = open (temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == ENOENT ? IDENTITY_ERR_NOT_FOUND : IDENTITY_ERR_IO;
    int rc = IDENTITY_OK;
    //  fchmod: the umask may have taken bits away from 0600, never added any
    if (fchmod (fd, 0600) != 0 || s_write_all (fd, data, len) != 0 || fsync (fd) != 0)
        rc = IDENTITY_ERR_IO;
    if (close (fd) != 0 && rc == IDENTITY_OK)
        rc = IDENTITY_ERR_IO;
    if (rc == IDENTITY_OK) {
        if (overwrite) {
            if (rename (temp, path) != 0)
                rc = IDENTITY_ERR_IO;
        }
        else
        if (link (temp, path) != 0)         //  fails atomically if PATH exists
            rc = errno == EEXIST ? IDENTITY_ERR_EXISTS : IDENTITY_ERR_IO;
    }
    if (rc != IDENTITY_OK) {
        int saved_errno = errno;            //  keep the cause for the caller
        unlink (temp);
        errno = saved_errno;
        return rc;
    }
    if (!overwrite)
        unlink (temp);                      //  PATH is now the only name of the new file
    return s_fsync_dir (path) == 0 ? IDENTITY_OK : IDENTITY_ERR_IO;
}

//  Read PATH into BUF (IDENTITY_FILE_MAX + 1 bytes: one over, to see a file grow) after the
//  file checks of identity.h.
static int
s_read_checked (const char *path, uint8_t *buf, size_t *len)
{
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return IDENTITY_ERR_NOT_FOUND;
        return errno == ELOOP ? IDENTITY_ERR_NOT_FILE : IDENTITY_ERR_IO;
    }
    struct stat st;
    int rc = IDENTITY_OK;
    if (fstat (fd, &st) != 0)
        rc = IDENTITY_ERR_IO;
    else
    if (!S_ISREG (st.st_mode))
        rc = IDENTITY_ERR_NOT_FILE;
    else
    if (st.st_uid != geteuid ())
        rc = IDENTITY_ERR_OWNER;
    else
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        rc = IDENTITY_ERR_PERMISSIONS;
    else
    if (st.st_size > IDENTITY_FILE_MAX)
        rc = IDENTITY_ERR_TOO_LARGE;
    size_t total = 0;
    while (rc == IDENTITY_OK) {
        //  Read one byte past the limit, so a file that grew since fstat is caught too
        ssize_t n = read (fd, buf + total, IDENTITY_FILE_MAX + 1 - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = IDENTITY_ERR_IO;
        else
        if (n == 0)
            break;
        else {
            total += (size_t) n;
            if (total > IDENTITY_FILE_MAX)
                rc = IDENTITY_ERR_TOO_LARGE;
        }
    }
    close (fd);
    *len = total;
    return rc;
}

int
identity_save_kdf (const char *path, const char *mnemonic, const char *passphrase, int flags,
                   uint64_t opslimit, uint64_t memlimit)
{
    uint8_t file [IDENTITY_FILE_MAX];
    size_t len = 0;
    int rc = identity_encode (mnemonic, passphrase, flags, opslimit, memlimit, file, &len);
    if (rc == IDENTITY_OK)
        rc = s_write_atomic (path, file, len, (flags & IDENTITY_OVERWRITE) != 0);
    sodium_memzero (file, sizeof file);
    return rc;
}

int
identity_save (const char *path, const char *mnemonic, const char *passphrase, int flags)
{
    return identity_save_kdf (path, mnemonic, passphrase, flags,
                              crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE);
}

int
identity_load (const char *path, const char *passphrase, char **mnemonic_p, bool *unprotected)
{
    uint8_t file [IDENTITY_FILE_MAX + 1];
    size_t len = 0;
    int rc = s_read_checked (path, file, &len);
    if (rc == IDENTITY_OK)
        rc = identity_decode (file, len, passphrase, mnemonic_p, unprotected);
    sodium_memzero (file, sizeof file);
    return rc;
}

int
identity_inspect (const char *path, identity_info_t *info)
{
    uint8_t file [IDENTITY_FILE_MAX + 1];
    size_t len = 0;
    int rc = s_read_checked (path, file, &len);
    if (rc == IDENTITY_OK)
        rc = identity_parse_header (file, len, info);
    return rc;
}

int
identity_change_passphrase (const char *path, const char *old_passphrase,
                            const char *new_passphrase, int flags)
{
    char *mnemonic = NULL;
    identity_info_t info;
    int rc = identity_inspect (path, &info);
    if (rc == IDENTITY_OK)
        rc = identity_load (path, old_passphrase, &mnemonic, NULL);
    if (rc == IDENTITY_OK) {
        //  Keep the file's own limits if it has any, else the defaults
        uint64_t opslimit = info.is_protected ? info.opslimit : crypto_pwhash_OPSLIMIT_MODERATE;
        uint64_t memlimit = info.is_protected ? info.memlimit : crypto_pwhash_MEMLIMIT_MODERATE;
        rc = identity_save_kdf (path, mnemonic, new_passphrase, flags | IDENTITY_OVERWRITE,
                                opslimit, memlimit);
    }
    identity_secret_free (&mnemonic);
    return rc;
}

//  Validate a passphrase just read into SECRET (LEN bytes) and hand it over.
static int
s_passphrase_take (char **secret, size_t len, char **passphrase_p)
{
    if (len == 0 || len > IDENTITY_PASSPHRASE_MAX) {
        identity_secret_free (secret);
        return IDENTITY_ERR_BAD_PASSPHRASE;
    }
    *passphrase_p = *secret;
    *secret = NULL;
    return IDENTITY_OK;
}

int
identity_passphrase_from_file (const char *path, char **passphrase_p)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? IDENTITY_ERR_NOT_FOUND : IDENTITY_ERR_IO;
    //  Room for the longest passphrase, its CR LF, and one byte to detect a longer line
    size_t size = IDENTITY_PASSPHRASE_MAX + 3;
    char *secret = s_secret_new (size + 1);
    if (!secret) {
        close (fd);
        return IDENTITY_ERR_NOMEM;
    }
    size_t total = 0;
    int rc = IDENTITY_OK;
    while (total < size && !memchr (secret, '\n', total)) {
        ssize_t n = read (fd, secret + total, size - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = IDENTITY_ERR_IO;
        if (n <= 0)
            break;
        total += (size_t) n;
    }
    close (fd);
    if (rc != IDENTITY_OK) {
        identity_secret_free (&secret);
        return rc;
    }
    char *newline = memchr (secret, '\n', total);
    size_t len = newline ? (size_t) (newline - secret) : total;
    if (len > 0 && secret [len - 1] == '\r')
        len--;
    if (!newline && total == size)
        len = size;                         //  no line end in reach: too long
    sodium_memzero (secret + len, size + 1 - len);
    if (memchr (secret, 0, len))            //  a NUL would silently cut the passphrase
        len = 0;
    return s_passphrase_take (&secret, len, passphrase_p);
}

int
identity_passphrase_from_env (char **passphrase_p)
{
    const char *value = getenv (IDENTITY_PASSPHRASE_ENV);
    if (!value)
        return IDENTITY_ERR_NOT_FOUND;
    size_t len = strnlen (value, IDENTITY_PASSPHRASE_MAX + 1);
    if (len == 0 || len > IDENTITY_PASSPHRASE_MAX)
        return IDENTITY_ERR_BAD_PASSPHRASE;
    char *secret = s_secret_new (len + 1);
    if (!secret)
        return IDENTITY_ERR_NOMEM;
    memcpy (secret, value, len);
    return s_passphrase_take (&secret, len, passphrase_p);
}

//  Print PROMPT on OUT_FD and read one line from IN_FD with echo off. Signals that would stop
//  or end the process (Ctrl-C, Ctrl-Z, Ctrl-\) are held until the terminal is restored.
static int
s_prompt_once (int in_fd, int out_fd, const char *prompt, char **passphrase_p)
{
    struct termios saved, quiet;
    if (!isatty (in_fd) || tcgetattr (in_fd, &saved) != 0)
        return IDENTITY_ERR_TTY;
    size_t size = IDENTITY_PASSPHRASE_MAX + 2;
    char *secret = s_secret_new (size);
    if (!secret)
        return IDENTITY_ERR_NOMEM;

    sigset_t hold, previous;
    sigemptyset (&hold);
    sigaddset (&hold, SIGINT);
    sigaddset (&hold, SIGTSTP);
    sigaddset (&hold, SIGQUIT);
    pthread_sigmask (SIG_BLOCK, &hold, &previous);
    quiet = saved;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK | ECHONL);
    int rc = tcsetattr (in_fd, TCSAFLUSH, &quiet) == 0 ? IDENTITY_OK : IDENTITY_ERR_TTY;
    if (rc == IDENTITY_OK && s_write_all (out_fd, (const uint8_t *) prompt, strlen (prompt)) != 0)
        rc = IDENTITY_ERR_TTY;

    size_t len = 0;
    bool too_long = false;
    while (rc == IDENTITY_OK) {
        char c;
        ssize_t n = read (in_fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = IDENTITY_ERR_TTY;
        if (n <= 0 || c == '\n' || c == '\r')
            break;
        if (len < size - 1)
            secret [len++] = c;
        else
            too_long = true;                //  keep reading to the end of the line
    }
    tcsetattr (in_fd, TCSAFLUSH, &saved);
    s_write_all (out_fd, (const uint8_t *) "\n", 1);
    pthread_sigmask (SIG_SETMASK, &previous, NULL);

    if (rc != IDENTITY_OK) {
        identity_secret_free (&secret);
        return rc;
    }
    return s_passphrase_take (&secret, too_long ? size : len, passphrase_p);
}

int
identity_passphrase_prompt_fd (int in_fd, int out_fd, const char *prompt, bool confirm,
                               char **passphrase_p)
{
    char *first = NULL, *second = NULL;
    int rc = s_prompt_once (in_fd, out_fd, prompt, &first);
    if (rc == IDENTITY_OK && confirm) {
        rc = s_prompt_once (in_fd, out_fd, "Repeat passphrase: ", &second);
        if (rc == IDENTITY_OK && strcmp (first, second) != 0)
            rc = IDENTITY_ERR_MISMATCH;
    }
    identity_secret_free (&second);
    if (rc == IDENTITY_OK)
        *passphrase_p = first;
    else
        identity_secret_free (&first);
    return rc;
}

int
identity_passphrase_prompt (const char *prompt, bool confirm, char **passphrase_p)
{
    int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return IDENTITY_ERR_TTY;
    int rc = identity_passphrase_prompt_fd (fd, fd, prompt, confirm, passphrase_p);
    close (fd);
    return rc;
}

int
identity_passphrase_get (const char *file, bool confirm, char **passphrase_p)
{
    if (file)
        return identity_passphrase_from_file (file, passphrase_p);
    int rc = identity_passphrase_from_env (passphrase_p);
    if (rc != IDENTITY_ERR_NOT_FOUND)
        return rc;
    return identity_passphrase_prompt ("Identity passphrase: ", confirm, passphrase_p);
}
