/*  log.h: leveled logging with the actor's name on every line.

    Lines go to stderr as `2026-11-28T08:13:09.123Z I relay: connected to ws://...`, or to syslog
    (journald picks it up) once log_to_syslog() is called by a daemonized node. Each thread names
    itself with log_set_actor(); the name is thread-local, so actors need no shared state.
    Never pass a secret (key, mnemonic, passphrase, macaroon, API key) to these functions. */
#ifndef PYLON_LOG_H
#define PYLON_LOG_H

#include <stdarg.h>

typedef enum { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } log_level_t;

void log_set_level(log_level_t level);
/* Parse "error" | "warn" | "info" | "debug"; -1 when unknown. */
int log_level_parse(const char *name);
void log_set_actor(const char *name);
void log_to_syslog(const char *ident);
/* Write to this file instead of stderr (daemon log file); NULL goes back to stderr. */
void log_to_file(const char *path);

void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
