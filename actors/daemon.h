/*  daemon.h: the Pylon node as a process: its actors in order, its pidfile, its signals. */
#ifndef PYLON_DAEMON_H
#define PYLON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

#define DAEMON_PATH_MAX 108     /* a unix socket path's limit (sockaddr_un) */

typedef struct {
    bool foreground;            /* stay attached (else: fork, setsid, log to pylon.log) */
    int ready_fd;               /* if >= 0: write "ok\n" or "error: ...\n" here once up */
    const uint8_t *seed;        /* the identity's 64-byte BIP-39 seed; wiped by the caller */
    bool dashboard;             /* redraw a live status view on stdout every second */
} daemon_options_t;

/* Paths inside the config dir. Return -1 if the result would not fit (sockets: 107 bytes). */
int daemon_path(const config_t *cfg, const char *file, char *buf, size_t size);

/* Run the node until SIGINT/SIGTERM or `pylon stop`. Returns the process exit code. */
int daemon_run(const config_t *cfg, const daemon_options_t *options);

/* The pid of the daemon running for this config dir, 0 if none (a stale pidfile of a dead
   daemon is removed), -1 on error. */
int daemon_running_pid(const config_t *cfg);

/* Draw the live status view (actors/cli/dashboard.c) from the control socket's STATUS. */
void dashboard_render(const char *control_socket, FILE *out);

#endif
