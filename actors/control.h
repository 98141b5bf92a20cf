/*  control.h: what the daemon hands the control actor, and the client side of its socket. */
#ifndef PYLON_CONTROL_H
#define PYLON_CONTROL_H

typedef struct {
    const char *socket_path;    /* where to bind the CLI socket (ipc), NULL for none */
} control_args_t;

/* Client side, for `pylon` commands: send verb with json arguments to the daemon whose control
   socket is at socket_path, wait up to timeout_ms. Returns 0 with *reply_json (fresh) when the
   daemon answered "ok", 1 when it answered "error" (the reason in *reply_json), -1 when no
   daemon answered. */
int control_call(const char *socket_path, const char *verb, const char *json, int timeout_ms,
                 char **reply_json);

#endif
