/*  log.c: see log.h. One formatted line per call, written with a single write() so lines from
    different actor threads never interleave. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static atomic_int s_level = LOG_LEVEL_INFO;
static atomic_int s_syslog;
static atomic_int s_fd = STDERR_FILENO;
static __thread const char *s_actor = "main";

void
log_set_level(log_level_t level)
{
    atomic_store(&s_level, level);
}

int
log_level_parse(const char *name)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void
log_set_actor(const char *name)
{
    s_actor = name;
}

void
log_to_syslog(const char *ident)
{
    openlog(ident, LOG_PID, LOG_DAEMON);
    atomic_store(&s_syslog, 1);
}

void
log_to_file(const char *path)
{
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : STDERR_FILENO;
    if (fd < 0)
        return;
    int old = atomic_exchange(&s_fd, fd);
    if (old != STDERR_FILENO)
        close(old);
}

void
log_write(log_level_t level, const char *fmt, ...)
{
    if ((int) level > atomic_load(&s_level))
        return;
    char line[2048];
    size_t n = 0;
    va_list args;
    if (atomic_load(&s_syslog)) {
        static const int priority[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        va_start(args, fmt);
        vsnprintf(line, sizeof line, fmt, args);
        va_end(args);
        syslog(priority[level], "%s: %s", s_actor, line);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - n, ".%03dZ %c %s: ", (int) (tv.tv_usec / 1000),
                  "EWID"[level], s_actor);
    va_start(args, fmt);
    int body = vsnprintf(line + n, sizeof line - n, fmt, args);
    va_end(args);
    n = body < 0 ? n : n + (size_t) body;
    if (n > sizeof line - 2)
        n = sizeof line - 2;  /* truncated: a log line is never allowed to grow without bound */
    line[n++] = '\n';
    ssize_t ignored = write(atomic_load(&s_fd), line, n);
    (void) ignored;
}
