/*  child.h: test fixture for a helper process (a node relay, a stub server) that prints a
    line when it is ready. Tests wait for that line instead of sleeping. The child dies with
    the test process (PR_SET_PDEATHSIG), so a failed test never leaves a server behind. */
#ifndef PYLON_CHILD_H
#define PYLON_CHILD_H

#include <stddef.h>

typedef struct child child_t;

/* Start argv[0] (searched in PATH) with stdout piped to us, stderr shared. NULL on failure. */
child_t *child_start(char *const argv[]);
/* Wait up to timeout_ms for a stdout line starting with prefix; copies it (without newline)
   to line. 0, or -1 on timeout / end of output. */
int child_wait_line(child_t *self, const char *prefix, char *line, size_t size, int timeout_ms);
/* Wait for "LISTENING <port>"; the port, or -1. */
int child_wait_listening(child_t *self, int timeout_ms);
/* Send a signal (SIGSTOP, SIGCONT, SIGKILL...). 0 or -1. */
int child_signal(child_t *self, int sig);
/* SIGTERM, wait up to 5 s (then SIGKILL), reap, free. Returns the exit status, or -1. */
int child_stop(child_t **self_p);

#endif
