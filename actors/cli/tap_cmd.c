/*  tap_cmd.c: pylon tap, the live decoded message stream of a running node. */
#include "cli.h"
#include "daemon.h"
#include "msg.h"
#include "tap.h"

#include <czmq.h>
#include <time.h>

int
cli_tap(cli_t *cli, int argc, char **argv)
{
    const char *actor = NULL, *type = NULL;
    long count = -1;
    for (int i = 1; i < argc; i++) {
        if (streq(argv[i], "--actor") && i + 1 < argc)
            actor = argv[++i];
        else if (streq(argv[i], "--type") && i + 1 < argc)
            type = argv[++i];
        else if (streq(argv[i], "--count") && i + 1 < argc)
            count = atol(argv[++i]);
        else if (!streq(argv[i], "--json"))
            return cli_fail(cli, CLI_USAGE, "tap: unknown option %s (see pylon tap --help)", argv[i]);
    }
    if (type && msg_type_by_name(type) < 0)
        return cli_fail(cli, CLI_USAGE, "tap: no message type '%s'", type);
    if (daemon_running_pid(&cli->cfg) <= 0)
        return cli_fail(cli, CLI_NOT_RUNNING, "pylon is not running: start it with `pylon start`");
    char path[DAEMON_PATH_MAX];
    if (!cli_path(cli, "tap.sock", path, sizeof path))
        return cli_fail(cli, CLI_FAILED, "config dir path too long");
    zsys_init();
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_subscribe(sub, "");
    zsock_set_rcvhwm(sub, 100000);
    if (zsock_connect(sub, "ipc://%s", path) < 0) {
        zsock_destroy(&sub);
        return cli_fail(cli, CLI_FAILED, "cannot connect to %s", path);
    }
    msg_t msg = {0};
    int wanted = type ? msg_type_by_name(type) : -1;
    while (count != 0) {
        zmsg_t *tapped = zmsg_recv(sub);
        if (!tapped)
            break;      /* interrupted (Ctrl-C) */
        zframe_t *header = zmsg_first(tapped), *body = zmsg_next(tapped);
        uint64_t ts, seq;
        char from[32], to[32];
        int msg_type;
        if (body && tap_header_decode(zframe_data(header), zframe_size(header), &ts, &seq, from,
                                      to, sizeof from, &msg_type) == 0
            && (wanted < 0 || msg_type == wanted)
            && (!actor || streq(actor, from) || streq(actor, to))
            && msg_decode(&msg, zframe_data(body), zframe_size(body)) == 0) {
            time_t secs = (time_t) (ts / 1000000);
            struct tm tm;
            localtime_r(&secs, &tm);
            char when[32];
            strftime(when, sizeof when, "%H:%M:%S", &tm);
            printf("%s.%06u #%llu ", when, (unsigned) (ts % 1000000), (unsigned long long) seq);
            msg_print(stdout, &msg, 120);
            fflush(stdout);
            if (count > 0)
                count--;
        }
        zmsg_destroy(&tapped);
    }
    msg_release(&msg);
    zsock_destroy(&sub);
    return CLI_OK;
}
