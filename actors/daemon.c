/*  daemon.c: assemble the node and live as a process.

    Start order is dependency order; node_stop() reverses it, so the actors facing the outside
    stop first and the ledger last:
        ledger → pricing → wallet → inference → job_router → relay → control
    (in farm mode, [farm] listen set, "inference" is the farm broker of actors/farm.c)
    so the relay actor (the door to the outside) stops right after the CLI's door, and the
    ledger last.

    Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread before any actor starts
    and read from a signalfd by the main thread, which turns them into an ordered stop; czmq's
    own handler is switched off, so no poll loop is interrupted behind our back.

    One daemon per config dir: pylon.pid is held with flock() for the daemon's whole life. A
    pidfile whose lock nobody holds belongs to a dead daemon and is simply taken over. */
#include "daemon.h"
#include "actors.h"
#include "control.h"
#include "bip32.h"
#include "farm.h"
#include "inference.h"
#include "job_router.h"
#include "ledger.h"
#include "relay.h"
#include "wallet.h"

#include <sodium.h>
#include "log.h"
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

int
daemon_path(const config_t *cfg, const char *file, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", cfg->dir, file);
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

int
daemon_running_pid(const config_t *cfg)
{
    char path[4096];
    if (daemon_path(cfg, "pylon.pid", path, sizeof path))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    char text[32] = "";
    ssize_t n = read(fd, text, sizeof text - 1);
    text[n > 0 ? n : 0] = 0;
    int pid = atoi(text);
    /* If we can take the lock, nobody holds it: the daemon is dead. */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    return pid > 0 ? pid : -1;
}

/* Create and lock the pidfile; -1 if another daemon holds it. The fd stays open for life. */
static int
s_take_pidfile(const char *path, int *pid_out)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char text[32] = "";
        ssize_t n = read(fd, text, sizeof text - 1);
        text[n > 0 ? n : 0] = 0;
        *pid_out = atoi(text);
        close(fd);
        return -1;
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%d\n", getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t) len, 0) != len) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
s_ready(const daemon_options_t *options, const char *text)
{
    if (options->ready_fd >= 0) {
        ssize_t ignored = write(options->ready_fd, text, strlen(text));
        (void) ignored;
        close(options->ready_fd);
    }
}

int
daemon_run(const config_t *cfg, const daemon_options_t *options)
{
    char pid_path[4096], control_path[DAEMON_PATH_MAX], tap_path[DAEMON_PATH_MAX + 8];
    char error[512];
    if (mkdir(cfg->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(error, sizeof error, "error: cannot create %s: %s\n", cfg->dir, strerror(errno));
        s_ready(options, error);
        log_error("%s", error + 7);
        return 1;
    }
    if (daemon_path(cfg, "control.sock", control_path, sizeof control_path)
        || daemon_path(cfg, "tap.sock", tap_path, DAEMON_PATH_MAX)) {
        snprintf(error, sizeof error,
                 "error: the config dir path is too long for a unix socket (%zu bytes): "
                 "set PYLON_CONFIG_DIR to a shorter path\n", strlen(cfg->dir));
        s_ready(options, error);
        log_error("%s", error + 7);
        return 1;
    }
    daemon_path(cfg, "pylon.pid", pid_path, sizeof pid_path);
    int other = 0;
    int pid_fd = s_take_pidfile(pid_path, &other);
    if (pid_fd < 0) {
        snprintf(error, sizeof error, "error: pylon is already running for %s (pid %d)\n",
                 cfg->dir, other);
        s_ready(options, error);
        log_error("%s", error + 7);
        return 1;
    }

    /* Signals become a message for this thread alone: block them before any thread starts. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    zsys_init();

    char db_path[4096];
    daemon_path(cfg, "pylon.db", db_path, sizeof db_path);
    ledger_args_t ledger = {db_path};
    control_args_t control = {control_path};
    /* The node's Nostr key (NIP-06); every actor that needs it copies it at start. */
    uint8_t *secret = sodium_malloc(32), public_key[32];
    if (!options->seed || bip32_nip06(options->seed, 64, 0, secret, public_key) != 0) {
        s_ready(options, "error: the identity does not give a Nostr key\n");
        sodium_free(secret);
        unlink(pid_path);
        close(pid_fd);
        close(signal_fd);
        return 1;
    }
    wallet_args_t wallet = {cfg, options->seed, 64};
    inference_args_t inference = {cfg};
    /* Farm mode ([farm] listen set): the farm broker takes the name "inference" and the jobs
       run in `pylon worker` processes (actors/farm.c); otherwise the local inference actor. */
    farm_args_t farm = {cfg, NULL};
    node_member_t inference_member = {&inference_actor, &inference};
    if (cfg->farm_listen && *cfg->farm_listen)
        inference_member = (node_member_t) {&farm_actor, &farm};
    job_router_args_t router = {cfg, secret, NULL, 0};
    relay_args_t relay = {cfg, secret};
    node_member_t members[] = {
        {&ledger_actor, &ledger},
        {&pricing_actor, (void *) cfg},
        {&wallet_actor, &wallet},
        inference_member,
        {&job_router_actor, &router},
        {&relay_actor, &relay},
        {&control_actor, &control},
    };
    int count = sizeof members / sizeof members[0];
    actor_directory_t dir = {0};
    for (int i = 0; i < count; i++) {
        const char *endpoint = config_endpoint(cfg, members[i].def->name);
        if (endpoint)
            actor_directory_add(&dir, members[i].def->name, endpoint);
    }
    char tap_endpoint[DAEMON_PATH_MAX + 16];
    snprintf(tap_endpoint, sizeof tap_endpoint, "ipc://%s", tap_path);
    node_t *node = node_start(members, count, &dir, "pylon-", tap_endpoint);
    sodium_free(secret);     /* copied by the actors that sign */
    if (!node) {
        s_ready(options, "error: the actors did not start (see the log)\n");
        unlink(pid_path);
        close(pid_fd);
        close(signal_fd);
        return 1;
    }
    chmod(tap_path, 0600);
    log_info("pylon started (pid %d, config %s)", getpid(), cfg->dir);
    s_ready(options, "ok\n");

    actor_t *control_actor_handle = node_actor(node, "control");
    for (bool stop = false; !stop;) {
        zmq_pollitem_t items[] = {{NULL, signal_fd, ZMQ_POLLIN, 0},
                                  {zsock_resolve(actor_sock(control_actor_handle)), 0, ZMQ_POLLIN, 0}};
        int ready = zmq_poll(items, 2, options->dashboard ? 1000 : -1);
        if (ready < 0 && zmq_errno() != EINTR)
            break;
        if (options->dashboard && ready == 0)
            dashboard_render(control_path, stdout);
        if (items[0].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof info) == sizeof info) {
                log_info("signal %s: stopping", strsignal((int) info.ssi_signo));
                stop = true;
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char *event = actor_event(control_actor_handle);
            stop = !event || streq(event, "STOP");
            zstr_free(&event);
        }
    }
    node_stop(&node);
    log_info("pylon stopped");
    unlink(tap_path);
    unlink(pid_path);
    close(pid_fd);
    close(signal_fd);
    return 0;
}
