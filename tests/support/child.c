/*  child.c: start a helper process, read its ready line, stop it (see child.h). */
#include "child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
    pid_t pid;          /* the process */
    int out_fd;         /* read end of its stdout */
    char buf[4096];     /* stdout bytes read and not yet returned as lines */
    size_t len;         /* bytes in buf */
};

child_t *child_start(char *const argv[])
{
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return NULL;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(pipe_fds[1], STDOUT_FILENO);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    child_t *self = calloc(1, sizeof *self);
    self->pid = pid;
    self->out_fd = pipe_fds[0];
    return self;
}

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int child_wait_line(child_t *self, const char *prefix, char *line, size_t size, int timeout_ms)
{
    long long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        char *newline;
        while ((newline = memchr(self->buf, '\n', self->len))) {
            size_t n = (size_t) (newline - self->buf);
            int match = strncmp(self->buf, prefix, strlen(prefix)) == 0 && n >= strlen(prefix);
            if (match && line && size) {
                size_t copy = n < size - 1 ? n : size - 1;
                memcpy(line, self->buf, copy);
                line[copy] = '\0';
            }
            memmove(self->buf, newline + 1, self->len - n - 1);
            self->len -= n + 1;
            if (match)
                return 0;
        }
        if (self->len == sizeof self->buf)
            self->len = 0;      /* a line longer than the buffer: not one we wait for */
        long long left = deadline - s_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = { .fd = self->out_fd, .events = POLLIN };
        int rc = poll(&pfd, 1, (int) left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t got = read(self->out_fd, self->buf + self->len, sizeof self->buf - self->len);
        if (got <= 0)
            return -1;
        self->len += (size_t) got;
    }
}

int child_wait_listening(child_t *self, int timeout_ms)
{
    char line[128];
    if (child_wait_line(self, "LISTENING ", line, sizeof line, timeout_ms) != 0)
        return -1;
    int port = atoi(line + strlen("LISTENING "));
    return port > 0 && port < 65536 ? port : -1;
}

int child_signal(child_t *self, int sig)
{
    return kill(self->pid, sig);
}

int child_stop(child_t **self_p)
{
    child_t *self = self_p ? *self_p : NULL;
    if (!self)
        return -1;
    *self_p = NULL;
    kill(self->pid, SIGCONT);
    kill(self->pid, SIGTERM);
    int status = -1;
    long long deadline = s_now_ms() + 5000;
    while (waitpid(self->pid, &status, WNOHANG) == 0) {
        if (s_now_ms() > deadline) {
            kill(self->pid, SIGKILL);
            waitpid(self->pid, &status, 0);
            break;
        }
        usleep(10 * 1000);
    }
    close(self->out_fd);
    free(self);
    return status;
}
