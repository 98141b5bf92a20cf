/*  stub_proc.h: start tests/stubs/backend_stub.mjs as a child process, for C tests and benchmarks.

    Header-only (static functions) so each test program and benchmark can include it without a
    library of test code. The stub listens on an ephemeral 127.0.0.1 port and prints
    "LISTENING <port>"; stub_start waits for that line (30 s at most: a loaded machine starts node slowly). The stub's path is
    $PYLON_BACKEND_STUB, else tests/stubs/backend_stub.mjs relative to the repository root
    (where scripts/run-tests.sh runs every test).
*/
#ifndef PYLON_STUB_PROC_H
#define PYLON_STUB_PROC_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    pid_t pid;              //  the node process, 0 when not running
    int port;               //  its port
    char url [64];          //  "http://127.0.0.1:<port>"
} stub_t;

//  Start the stub with the given flags (NULL-terminated). Returns 0 or -1.
static inline int
stub_start (stub_t *stub, const char *const *flags)
{
    const char *script = getenv ("PYLON_BACKEND_STUB");
    if (!script)
        script = "tests/stubs/backend_stub.mjs";
    const char *argv [64] = { "node", script };
    size_t argc = 2;
    for (size_t i = 0; flags && flags [i] && argc < 62; i++)
        argv [argc++] = flags [i];
    argv [argc] = NULL;

    int out [2];
    if (pipe (out))
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        dup2 (out [1], STDOUT_FILENO);
        close (out [0]);
        close (out [1]);
        execvp ("node", (char *const *) argv);
        _exit (127);
    }
    close (out [1]);
    memset (stub, 0, sizeof *stub);
    stub->pid = pid;
    char line [128] = "";
    size_t len = 0;
    struct pollfd pfd = { .fd = out [0], .events = POLLIN };
    while (len < sizeof line - 1 && !strchr (line, '\n') && poll (&pfd, 1, 30000) > 0) {
        ssize_t n = read (out [0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t) n;
        line [len] = 0;
    }
    close (out [0]);
    if (sscanf (line, "LISTENING %d", &stub->port) != 1) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        stub->pid = 0;
        return -1;
    }
    snprintf (stub->url, sizeof stub->url, "http://127.0.0.1:%d", stub->port);
    return 0;
}

static inline void
stub_stop (stub_t *stub)
{
    if (stub->pid > 0) {
        kill (stub->pid, SIGTERM);
        waitpid (stub->pid, NULL, 0);
    }
    stub->pid = 0;
}

static inline size_t
s_stub_collect (char *data, size_t size, size_t nmemb, void *userp)
{
    char *buf = (char *) userp;
    size_t have = strlen (buf), len = size * nmemb;
    if (have + len < 65536) {
        memcpy (buf + have, data, len);
        buf [have + len] = 0;
    }
    return len;
}

//  A blocking call to the stub's control endpoint; the reply lands in reply (64 KiB) if given.
static inline int
stub_call (stub_t *stub, const char *path, const char *json, char *reply)
{
    static char sink [65536];
    char *buf = reply ? reply : sink;
    buf [0] = 0;
    char url [128];
    snprintf (url, sizeof url, "%s%s", stub->url, path);
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    if (json)
        curl_easy_setopt (easy, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_stub_collect);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform (easy);
    long status = 0;
    curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (easy);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

//  Change the stub's behaviour: json is an object of flags, e.g. {"fail":"die"}.
static inline int
stub_config (stub_t *stub, const char *json)
{
    return stub_call (stub, "/__stub/config", json, NULL);
}

//  One integer counter from /__stub/stats, or -1.
static inline long
stub_stat (stub_t *stub, const char *name)
{
    static char reply [65536];
    if (stub_call (stub, "/__stub/stats", NULL, reply))
        return -1;
    json_object *stats = json_tokener_parse (reply), *value;
    long result = -1;
    if (stats && json_object_object_get_ex (stats, name, &value))
        result = (long) json_object_get_int64 (value);
    json_object_put (stats);
    return result;
}

//  The last chat request body the stub received, as JSON text (caller frees), or NULL.
static inline char *
stub_last_body (stub_t *stub)
{
    static char reply [65536];
    if (stub_call (stub, "/__stub/stats", NULL, reply))
        return NULL;
    json_object *stats = json_tokener_parse (reply), *value;
    char *result = NULL;
    if (stats && json_object_object_get_ex (stats, "last_body", &value))
        result = strdup (json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN));
    json_object_put (stats);
    return result;
}

//  A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
#include <netinet/in.h>
#include <sys/socket.h>
static inline int
stub_closed_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    bind (fd, (struct sockaddr *) &addr, sizeof addr);
    getsockname (fd, (struct sockaddr *) &addr, &len);
    close (fd);
    return ntohs (addr.sin_port);
}

#endif
