/*  test_identity.c: the identity file. Round trips (protected, unprotected, default Argon2id
    limits), wrong passphrase changing nothing, refusal to overwrite, atomic write leaving no
    temporary file, permission / owner / file-type checks, every byte of a file tampered with
    or truncated, hostile KDF limits, passphrase change, and the three passphrase sources
    (file, environment, no-echo prompt on a pseudo-terminal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bip39.h"
#include "identity.h"

//  Fast Argon2id limits for tests that do not test the limits themselves.
#define FAST_OPS 1
#define FAST_MEM (1u << 20)

static const char *s_phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
static const char *s_phrase24 = "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold";
static char s_dir [64];             //  Scratch directory of this run

static int
s_setup (void **state)
{
    strcpy (s_dir, "/tmp/test_identity.XXXXXX");
    return mkdtemp (s_dir) ? 0 : -1;
}

static int
s_teardown (void **state)
{
    DIR *dir = opendir (s_dir);
    struct dirent *entry;
    char path [sizeof s_dir + sizeof entry->d_name + 1];
    while (dir && (entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        snprintf (path, sizeof path, "%s/%s", s_dir, entry->d_name);
        if (rmdir (path) != 0)
            unlink (path);
    }
    if (dir)
        closedir (dir);
    return rmdir (s_dir);
}

static const char *
s_path (const char *name)
{
    static char path [256];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    unlink (path);
    return path;
}

static size_t
s_read_file (const char *path, uint8_t *buf, size_t size)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    size_t len = fread (buf, 1, size, file);
    fclose (file);
    return len;
}

static void
s_write_file (const char *path, const void *data, size_t len, mode_t mode)
{
    unlink (path);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, data, len), (ssize_t) len);
    assert_int_equal (fchmod (fd, mode), 0);
    close (fd);
}

//  Number of entries in the scratch directory whose name contains NEEDLE.
static int
s_count_entries (const char *needle)
{
    DIR *dir = opendir (s_dir);
    assert_non_null (dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        count += strstr (entry->d_name, needle) != NULL;
    closedir (dir);
    return count;
}

static void
test_round_trip (void **state)
{
    const char *path = s_path ("identity.enc");
    assert_int_equal (identity_save_kdf (path, "  VOID come effort suffer camp survey warrior heavy shoot primary\n"
                                               "clutch crush open amazing screen patrol group space point ten exist slush involve unfold\n",
                                         "correct horse", 0, FAST_OPS, FAST_MEM), IDENTITY_OK);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (s_count_entries (".tmp-"), 0);

    identity_info_t info;
    assert_int_equal (identity_inspect (path, &info), IDENTITY_OK);
    assert_true (info.is_protected);
    assert_int_equal (info.version, 1);
    assert_int_equal (info.opslimit, FAST_OPS);
    assert_int_equal (info.memlimit, FAST_MEM);
    assert_int_equal (info.mnemonic_len, strlen (s_phrase24));
    assert_int_equal (st.st_size, IDENTITY_HEADER_SIZE + strlen (s_phrase24) + 16);

    //  The mnemonic is stored normalised and is not in the file in clear
    uint8_t file [1024];
    size_t len = s_read_file (path, file, sizeof file);
    assert_null (memmem (file, len, "effort", 6));

    char *mnemonic = NULL;
    bool unprotected = true;
    assert_int_equal (identity_load (path, "correct horse", &mnemonic, &unprotected), IDENTITY_OK);
    assert_non_null (mnemonic);
    assert_string_equal (mnemonic, s_phrase24);
    assert_false (unprotected);
    identity_secret_free (&mnemonic);
    assert_null (mnemonic);
}

//  The default limits (Argon2id MODERATE) are what identity_save writes and reads back.
static void
test_default_limits (void **state)
{
    const char *path = s_path ("default.enc");
    assert_int_equal (identity_save (path, s_phrase, "pass", 0), IDENTITY_OK);
    identity_info_t info;
    assert_int_equal (identity_inspect (path, &info), IDENTITY_OK);
    assert_int_equal (info.opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
    assert_int_equal (info.memlimit, crypto_pwhash_MEMLIMIT_MODERATE);
    char *mnemonic = NULL;
    assert_int_equal (identity_load (path, "pass", &mnemonic, NULL), IDENTITY_OK);
    assert_string_equal (mnemonic, s_phrase);
    identity_secret_free (&mnemonic);
}

static void
test_wrong_passphrase_changes_nothing (void **state)
{
    const char *path = s_path ("wrong.enc");
    assert_int_equal (identity_save_kdf (path, s_phrase, "right", 0, FAST_OPS, FAST_MEM), IDENTITY_OK);
    uint8_t before [1024], after [1024];
    size_t before_len = s_read_file (path, before, sizeof before);
    struct stat st_before, st_after;
    assert_int_equal (stat (path, &st_before), 0);

    char *mnemonic = NULL;
    bool unprotected = false;
    assert_int_equal (identity_load (path, "wrong", &mnemonic, &unprotected), IDENTITY_ERR_WRONG_PASSPHRASE);
    assert_null (mnemonic);
    assert_int_equal (identity_load (path, "", &mnemonic, NULL), IDENTITY_ERR_WRONG_PASSPHRASE);
    assert_int_equal (identity_load (path, NULL, &mnemonic, NULL), IDENTITY_ERR_NEED_PASSPHRASE);
    assert_int_equal (identity_change_passphrase (path, "wrong", "new", 0), IDENTITY_ERR_WRONG_PASSPHRASE);
    assert_null (mnemonic);

    size_t after_len = s_read_file (path, after, sizeof after);
    assert_int_equal (stat (path, &st_after), 0);
    assert_int_equal (before_len, after_len);
    assert_memory_equal (before, after, before_len);
    assert_int_equal (st_before.st_ino, st_after.st_ino);
    assert_int_equal (s_count_entries (".tmp-"), 0);
}

static void
test_unprotected_mode (void **state)
{
    const char *path = s_path ("open.enc");
    //  No passphrase needs the explicit flag; a passphrase with the flag is a contradiction
    assert_int_equal (identity_save_kdf (path, s_phrase, NULL, 0, FAST_OPS, FAST_MEM), IDENTITY_ERR_NEED_PASSPHRASE);
    assert_int_equal (identity_save (path, s_phrase, "x", IDENTITY_NO_PASSPHRASE), IDENTITY_ERR_BAD_PASSPHRASE);
    assert_int_equal (identity_save (path, s_phrase, "", 0), IDENTITY_ERR_BAD_PASSPHRASE);
    assert_int_equal (access (path, F_OK), -1);

    assert_int_equal (identity_save (path, s_phrase, NULL, IDENTITY_NO_PASSPHRASE), IDENTITY_OK);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    identity_info_t info;
    assert_int_equal (identity_inspect (path, &info), IDENTITY_OK);
    assert_false (info.is_protected);
    assert_int_equal (info.opslimit, 0);

    char *mnemonic = NULL;
    bool unprotected = false;
    assert_int_equal (identity_load (path, NULL, &mnemonic, &unprotected), IDENTITY_OK);
    assert_true (unprotected);
    assert_string_equal (mnemonic, s_phrase);
    identity_secret_free (&mnemonic);
    //  A passphrase given anyway is ignored, the flag still says unprotected
    unprotected = false;
    assert_int_equal (identity_load (path, "anything", &mnemonic, &unprotected), IDENTITY_OK);
    assert_true (unprotected);
    identity_secret_free (&mnemonic);

    //  Corruption is still detected
    uint8_t file [1024];
    size_t len = s_read_file (path, file, sizeof file);
    file [len - 20] ^= 0x40;
    assert_int_equal (identity_decode (file, len, NULL, &mnemonic, NULL), IDENTITY_ERR_CORRUPT);
    assert_null (mnemonic);

    //  Protect it later with a passphrase
    assert_int_equal (identity_change_passphrase (path, NULL, "now secret", 0), IDENTITY_OK);
    assert_int_equal (identity_load (path, NULL, &mnemonic, NULL), IDENTITY_ERR_NEED_PASSPHRASE);
    assert_int_equal (identity_load (path, "now secret", &mnemonic, &unprotected), IDENTITY_OK);
    assert_false (unprotected);
    assert_string_equal (mnemonic, s_phrase);
    identity_secret_free (&mnemonic);
}

static void
test_no_overwrite (void **state)
{
    const char *path = s_path ("keep.enc");
    assert_int_equal (identity_save_kdf (path, s_phrase, "one", 0, FAST_OPS, FAST_MEM), IDENTITY_OK);
    assert_int_equal (identity_save_kdf (path, s_phrase24, "two", 0, FAST_OPS, FAST_MEM), IDENTITY_ERR_EXISTS);
    assert_int_equal (s_count_entries (".tmp-"), 0);
    char *mnemonic = NULL;
    assert_int_equal (identity_load (path, "one", &mnemonic, NULL), IDENTITY_OK);
    assert_string_equal (mnemonic, s_phrase);
    identity_secret_free (&mnemonic);

    assert_int_equal (identity_save_kdf (path, s_phrase24, "two", IDENTITY_OVERWRITE, FAST_OPS, FAST_MEM),
                      IDENTITY_OK);
    assert_int_equal (s_count_entries (".tmp-"), 0);
    assert_int_equal (identity_load (path, "two", &mnemonic, NULL), IDENTITY_OK);
    assert_string_equal (mnemonic, s_phrase24);
    identity_secret_free (&mnemonic);

    //  A directory that does not exist, and an invalid mnemonic, write nothing
    assert_int_equal (identity_save_kdf ("/nonexistent-dir/identity.enc", s_phrase, "x", 0, FAST_OPS, FAST_MEM),
                      IDENTITY_ERR_NOT_FOUND);
    const char *bad = s_path ("bad.enc");
    assert_int_equal (identity_save_kdf (bad, "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo", "x", 0,
                                         FAST_OPS, FAST_MEM), IDENTITY_ERR_MNEMONIC);
    assert_int_equal (access (bad, F_OK), -1);
    assert_int_equal (identity_save_kdf (bad, s_phrase, "x", 0, 0, FAST_MEM), IDENTITY_ERR_KDF_LIMITS);
    assert_int_equal (identity_save_kdf (bad, s_phrase, "x", 0, IDENTITY_OPSLIMIT_MAX + 1, FAST_MEM),
                      IDENTITY_ERR_KDF_LIMITS);
    assert_int_equal (identity_save_kdf (bad, s_phrase, "x", 0, FAST_OPS, IDENTITY_MEMLIMIT_MAX + 1),
                      IDENTITY_ERR_KDF_LIMITS);
    assert_int_equal (access (bad, F_OK), -1);
}

static void
test_file_checks (void **state)
{
    const char *path = s_path ("perm.enc");
    assert_int_equal (identity_save_kdf (path, s_phrase, "p", 0, FAST_OPS, FAST_MEM), IDENTITY_OK);
    char *mnemonic = NULL;
    identity_info_t info;
    mode_t open_modes [] = { 0640, 0604, 0620, 0602, 0610, 0601, 0644 };
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes [0]; i++) {
        assert_int_equal (chmod (path, open_modes [i]), 0);
        assert_int_equal (identity_load (path, "p", &mnemonic, NULL), IDENTITY_ERR_PERMISSIONS);
        assert_int_equal (identity_inspect (path, &info), IDENTITY_ERR_PERMISSIONS);
    }
    assert_int_equal (chmod (path, 0400), 0);
    assert_int_equal (identity_load (path, "p", &mnemonic, NULL), IDENTITY_OK);
    identity_secret_free (&mnemonic);
    assert_int_equal (chmod (path, 0600), 0);

    //  Owned by someone else (needs root to arrange)
    if (geteuid () == 0) {
        assert_int_equal (chown (path, 4242, 4242), 0);
        assert_int_equal (identity_load (path, "p", &mnemonic, NULL), IDENTITY_ERR_OWNER);
        assert_int_equal (chown (path, 0, 0), 0);
    }
    else
        print_message ("# not root: owner check not exercised\n");

    //  Symlink, directory, missing file
    char link_path [256];
    snprintf (link_path, sizeof link_path, "%s/link.enc", s_dir);
    unlink (link_path);
    assert_int_equal (symlink (path, link_path), 0);
    assert_int_equal (identity_load (link_path, "p", &mnemonic, NULL), IDENTITY_ERR_NOT_FILE);
    const char *dir = s_path ("subdir");
    assert_int_equal (mkdir (dir, 0700), 0);
    assert_int_equal (identity_load (dir, "p", &mnemonic, NULL), IDENTITY_ERR_NOT_FILE);
    assert_int_equal (identity_load (s_path ("missing.enc"), "p", &mnemonic, NULL), IDENTITY_ERR_NOT_FOUND);

    //  Oversize and empty files
    static uint8_t big [IDENTITY_FILE_MAX + 1];
    const char *big_path = s_path ("big.enc");
    s_write_file (big_path, big, sizeof big, 0600);
    assert_int_equal (identity_load (big_path, "p", &mnemonic, NULL), IDENTITY_ERR_TOO_LARGE);
    s_write_file (big_path, big, 0, 0600);
    assert_int_equal (identity_load (big_path, "p", &mnemonic, NULL), IDENTITY_ERR_FORMAT);
    const char *text = "not an identity file at all, just some text that is long enough to pass";
    s_write_file (big_path, text, strlen (text), 0600);
    assert_int_equal (identity_load (big_path, "p", &mnemonic, NULL), IDENTITY_ERR_FORMAT);
    assert_null (mnemonic);
}

//  Every single-byte change and every truncation or extension of a file is rejected.
static void
test_tampering (void **state)
{
    uint8_t file [IDENTITY_FILE_MAX + 1], copy [IDENTITY_FILE_MAX + 1];
    size_t len = 0;
    assert_int_equal (identity_encode (s_phrase, "p", 0, FAST_OPS, FAST_MEM, file, &len), IDENTITY_OK);
    char *mnemonic = NULL;
    assert_int_equal (identity_decode (file, len, "p", &mnemonic, NULL), IDENTITY_OK);
    identity_secret_free (&mnemonic);

    for (size_t i = 0; i < len; i++) {
        memcpy (copy, file, len);
        copy [i] ^= 0x01;                   //  low bit: keeps any changed limit cheap
        int rc = identity_decode (copy, len, "p", &mnemonic, NULL);
        assert_int_not_equal (rc, IDENTITY_OK);
        assert_null (mnemonic);
        if (i == 8)
            assert_int_equal (rc, IDENTITY_ERR_VERSION);
        else
        if (i >= IDENTITY_HEADER_SIZE)
            assert_int_equal (rc, IDENTITY_ERR_WRONG_PASSPHRASE);
    }
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal (identity_decode (file, cut, "p", &mnemonic, NULL), IDENTITY_ERR_FORMAT);
    memcpy (copy, file, len);
    copy [len] = 0;
    assert_int_equal (identity_decode (copy, len + 1, "p", &mnemonic, NULL), IDENTITY_ERR_FORMAT);
    assert_null (mnemonic);
}

//  Header fields that would make loading hang or allocate without bound are refused.
static void
test_hostile_limits (void **state)
{
    uint8_t file [IDENTITY_FILE_MAX], copy [IDENTITY_FILE_MAX];
    size_t len = 0;
    assert_int_equal (identity_encode (s_phrase, "p", 0, FAST_OPS, FAST_MEM, file, &len), IDENTITY_OK);
    char *mnemonic = NULL;
    struct { size_t offset; uint8_t value; int rc; } cases [] = {
        { 12, 0x80, IDENTITY_ERR_KDF_LIMITS },      //  opslimit 2^63
        { 19, 0x00, IDENTITY_ERR_KDF_LIMITS },      //  opslimit 0
        { 19, IDENTITY_OPSLIMIT_MAX + 1, IDENTITY_ERR_KDF_LIMITS },
        { 20, 0x01, IDENTITY_ERR_KDF_LIMITS },      //  memlimit 2^56 + 1 MiB
        { 23, 0x01, IDENTITY_ERR_KDF_LIMITS },      //  memlimit 4 GiB + 1 MiB
        { 25, 0x00, IDENTITY_ERR_KDF_LIMITS },      //  memlimit 0
        { 9, 0x02, IDENTITY_ERR_FORMAT },           //  unknown protection
        { 9, 0x00, IDENTITY_ERR_FORMAT },           //  "unprotected" with limits set
        { 10, 0x01, IDENTITY_ERR_FORMAT },          //  reserved not zero
        { 68, 0xFF, IDENTITY_ERR_FORMAT },          //  ciphertext length past the end
        { 0, 'X', IDENTITY_ERR_FORMAT },            //  magic
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        memcpy (copy, file, len);
        copy [cases [i].offset] = cases [i].value;
        assert_int_equal (identity_decode (copy, len, "p", &mnemonic, NULL), cases [i].rc);
        identity_info_t info;
        assert_int_equal (identity_parse_header (copy, len, &info), cases [i].rc);
    }
    //  A passphrase longer than any we write is refused before key stretching
    char long_pass [IDENTITY_PASSPHRASE_MAX + 2];
    memset (long_pass, 'a', sizeof long_pass - 1);
    long_pass [sizeof long_pass - 1] = 0;
    assert_int_equal (identity_decode (file, len, long_pass, &mnemonic, NULL), IDENTITY_ERR_BAD_PASSPHRASE);
    assert_int_equal (identity_encode (s_phrase, long_pass, 0, FAST_OPS, FAST_MEM, copy, &len),
                      IDENTITY_ERR_BAD_PASSPHRASE);
    assert_null (mnemonic);
}

static void
test_change_passphrase (void **state)
{
    const char *path = s_path ("change.enc");
    assert_int_equal (identity_save_kdf (path, s_phrase24, "old", 0, 2, 2 * FAST_MEM), IDENTITY_OK);
    assert_int_equal (identity_change_passphrase (path, "old", "new", 0), IDENTITY_OK);
    char *mnemonic = NULL;
    assert_int_equal (identity_load (path, "old", &mnemonic, NULL), IDENTITY_ERR_WRONG_PASSPHRASE);
    assert_int_equal (identity_load (path, "new", &mnemonic, NULL), IDENTITY_OK);
    assert_string_equal (mnemonic, s_phrase24);
    identity_secret_free (&mnemonic);
    identity_info_t info;
    assert_int_equal (identity_inspect (path, &info), IDENTITY_OK);
    assert_int_equal (info.opslimit, 2);              //  the file's limits are kept
    assert_int_equal (info.memlimit, 2 * FAST_MEM);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 0777, 0600);
    assert_int_equal (s_count_entries (".tmp-"), 0);
}

static void
test_passphrase_file (void **state)
{
    const char *path = s_path ("pass.txt");
    char *pass = NULL;
    s_write_file (path, "hunter2\nsecond line\n", 20, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_OK);
    assert_string_equal (pass, "hunter2");
    identity_secret_free (&pass);
    s_write_file (path, "with spaces \r\n", 14, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_OK);
    assert_string_equal (pass, "with spaces ");
    identity_secret_free (&pass);
    s_write_file (path, "no newline", 10, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_OK);
    assert_string_equal (pass, "no newline");
    identity_secret_free (&pass);

    s_write_file (path, "\nsecret on line two\n", 20, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);
    s_write_file (path, "", 0, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);
    s_write_file (path, "a\0b\n", 4, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);

    static char line [IDENTITY_PASSPHRASE_MAX + 10];
    memset (line, 'x', sizeof line);
    line [IDENTITY_PASSPHRASE_MAX] = '\n';            //  exactly the limit
    s_write_file (path, line, IDENTITY_PASSPHRASE_MAX + 1, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_OK);
    assert_int_equal (strlen (pass), IDENTITY_PASSPHRASE_MAX);
    identity_secret_free (&pass);
    line [IDENTITY_PASSPHRASE_MAX] = 'x';             //  one over, with and without newline
    line [IDENTITY_PASSPHRASE_MAX + 1] = '\n';
    s_write_file (path, line, IDENTITY_PASSPHRASE_MAX + 2, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);
    s_write_file (path, line, IDENTITY_PASSPHRASE_MAX + 1, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);
    s_write_file (path, line, sizeof line, 0600);
    assert_int_equal (identity_passphrase_from_file (path, &pass), IDENTITY_ERR_BAD_PASSPHRASE);
    assert_null (pass);

    assert_int_equal (identity_passphrase_from_file (s_path ("nope.txt"), &pass), IDENTITY_ERR_NOT_FOUND);

    //  identity_passphrase_get prefers the file over the environment
    setenv (IDENTITY_PASSPHRASE_ENV, "from env", 1);
    s_write_file (path, "from file\n", 10, 0600);
    assert_int_equal (identity_passphrase_get (path, false, &pass), IDENTITY_OK);
    assert_string_equal (pass, "from file");
    identity_secret_free (&pass);
    assert_int_equal (identity_passphrase_get (NULL, false, &pass), IDENTITY_OK);
    assert_string_equal (pass, "from env");
    identity_secret_free (&pass);
    unsetenv (IDENTITY_PASSPHRASE_ENV);
}

static void
test_passphrase_env (void **state)
{
    char *pass = NULL;
    unsetenv (IDENTITY_PASSPHRASE_ENV);
    assert_int_equal (identity_passphrase_from_env (&pass), IDENTITY_ERR_NOT_FOUND);
    setenv (IDENTITY_PASSPHRASE_ENV, "", 1);
    assert_int_equal (identity_passphrase_from_env (&pass), IDENTITY_ERR_BAD_PASSPHRASE);
    setenv (IDENTITY_PASSPHRASE_ENV, "env pass", 1);
    assert_int_equal (identity_passphrase_from_env (&pass), IDENTITY_OK);
    assert_string_equal (pass, "env pass");
    identity_secret_free (&pass);
    static char long_value [IDENTITY_PASSPHRASE_MAX + 2];
    memset (long_value, 'e', sizeof long_value - 1);
    setenv (IDENTITY_PASSPHRASE_ENV, long_value, 1);
    assert_int_equal (identity_passphrase_from_env (&pass), IDENTITY_ERR_BAD_PASSPHRASE);
    assert_null (pass);
    unsetenv (IDENTITY_PASSPHRASE_ENV);
}

//  The prompt runs in a thread on the slave side of a pseudo-terminal; the test types on the
//  master side once the prompt is visible, then checks the passphrase was not echoed.
typedef struct {
    int slave;                      //  Terminal the prompt reads and writes
    bool confirm;                   //  Ask twice
    int rc;                         //  Result of the prompt
    char *passphrase;               //  Passphrase read
} prompt_job_t;

static void *
s_prompt_thread (void *arg)
{
    prompt_job_t *job = (prompt_job_t *) arg;
    job->rc = identity_passphrase_prompt_fd (job->slave, job->slave, "Passphrase: ", job->confirm,
                                             &job->passphrase);
    return NULL;
}

//  Read from the pty master until TEXT has appeared; return everything read in BUF.
static void
s_wait_for (int master, const char *text, char *buf, size_t size)
{
    size_t len = 0;
    buf [0] = 0;
    while (!strstr (buf, text)) {
        assert_true (len < size - 1);
        ssize_t n = read (master, buf + len, size - 1 - len);
        assert_true (n > 0);
        len += (size_t) n;
        buf [len] = 0;
    }
}

static void
s_run_prompt (bool confirm, const char *first, const char *second, prompt_job_t *job, char *seen, size_t size)
{
    int master = posix_openpt (O_RDWR | O_NOCTTY);
    assert_true (master >= 0);
    assert_int_equal (grantpt (master), 0);
    assert_int_equal (unlockpt (master), 0);
    job->slave = open (ptsname (master), O_RDWR | O_NOCTTY);
    assert_true (job->slave >= 0);
    job->confirm = confirm;
    job->passphrase = NULL;
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_prompt_thread, job), 0);

    char buf [512];
    s_wait_for (master, "Passphrase: ", buf, sizeof buf);
    assert_int_equal (write (master, first, strlen (first)), (ssize_t) strlen (first));
    if (second) {
        s_wait_for (master, "Repeat passphrase: ", buf, sizeof buf);
        assert_int_equal (write (master, second, strlen (second)), (ssize_t) strlen (second));
    }
    assert_int_equal (pthread_join (thread, NULL), 0);
    //  Collect whatever else the terminal printed (the echo, if it were on)
    size_t len = strlen (buf);
    int flags = fcntl (master, F_GETFL);
    fcntl (master, F_SETFL, flags | O_NONBLOCK);
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read (master, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t) n;
    buf [len] = 0;
    snprintf (seen, size, "%s", buf);
    close (job->slave);
    close (master);
}

static void
test_passphrase_prompt (void **state)
{
    prompt_job_t job;
    char seen [512];
    s_run_prompt (false, "tty secret\n", NULL, &job, seen, sizeof seen);
    assert_int_equal (job.rc, IDENTITY_OK);
    assert_string_equal (job.passphrase, "tty secret");
    assert_null (strstr (seen, "tty secret"));
    identity_secret_free (&job.passphrase);

    s_run_prompt (true, "same one\n", "same one\n", &job, seen, sizeof seen);
    assert_int_equal (job.rc, IDENTITY_OK);
    assert_string_equal (job.passphrase, "same one");
    assert_null (strstr (seen, "same one"));
    identity_secret_free (&job.passphrase);

    s_run_prompt (true, "first\n", "second\n", &job, seen, sizeof seen);
    assert_int_equal (job.rc, IDENTITY_ERR_MISMATCH);
    assert_null (job.passphrase);

    s_run_prompt (false, "\n", NULL, &job, seen, sizeof seen);
    assert_int_equal (job.rc, IDENTITY_ERR_BAD_PASSPHRASE);

    //  Not a terminal: refuse rather than read a passphrase with echo
    int pipe_fds [2];
    assert_int_equal (pipe (pipe_fds), 0);
    char *pass = NULL;
    assert_int_equal (identity_passphrase_prompt_fd (pipe_fds [0], pipe_fds [1], "P: ", false, &pass),
                      IDENTITY_ERR_TTY);
    assert_null (pass);
    close (pipe_fds [0]);
    close (pipe_fds [1]);
}

static void
test_strerror (void **state)
{
    for (int a = IDENTITY_ERR_KDF_LIMITS; a <= IDENTITY_OK; a++)
        for (int b = a + 1; b <= IDENTITY_OK; b++)
            assert_string_not_equal (identity_strerror (a), identity_strerror (b));
    assert_non_null (strstr (identity_strerror (IDENTITY_ERR_PERMISSIONS), "600"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_default_limits),
        cmocka_unit_test (test_wrong_passphrase_changes_nothing),
        cmocka_unit_test (test_unprotected_mode),
        cmocka_unit_test (test_no_overwrite),
        cmocka_unit_test (test_file_checks),
        cmocka_unit_test (test_tampering),
        cmocka_unit_test (test_hostile_limits),
        cmocka_unit_test (test_change_passphrase),
        cmocka_unit_test (test_passphrase_file),
        cmocka_unit_test (test_passphrase_env),
        cmocka_unit_test (test_passphrase_prompt),
        cmocka_unit_test (test_strerror),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
