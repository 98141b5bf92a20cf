/*  farm_cmds.c: pylon farm and pylon worker: inference on other hosts behind one node.

        pylon farm keygen              the node's CURVE key pair (farm/node.key_secret), made
                                       once; prints its public key (workers need it)
        pylon farm allow NAME KEY      let a worker in: farm_workers/NAME.key
        pylon farm list                the workers allowed in
        pylon worker keygen            this worker's key pair; prints its public key
        pylon worker [--node tcp://host:port] [--node-key KEY] [--name NAME]
                                       run a worker: the inference actor on this host's
                                       [backends.*], linked to the node (actors/farm_worker.c)

    A worker runs in the foreground (systemd: deploy/pylon-worker.service) until SIGINT or
    SIGTERM; the node going away makes it wait and reconnect, never exit. It prints one line
    on stdout when it starts, and one each time it joins the node or loses it. */
#include "cli.h"
#include "farm.h"
#include "farm/link.h"
#include "inference.h"
#include "actors.h"
#include "log.h"
#include "node.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
s_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return NULL;
}

/* keygen for role: create the key pair if there is none, print the public key. */
static int
s_keygen(cli_t *cli, const char *role)
{
    char err[512];
    bool created;
    zcert_t *cert = farm_keys_load(cli->cfg.dir, role, true, &created, err, sizeof err);
    if (!cert)
        return cli_fail(cli, CLI_FAILED, "%s", err);
    char path[4096];
    farm_keys_path(cli->cfg.dir, role, path, sizeof path);
    if (cli->json) {
        json_object *obj = json_object_new_object();
        json_object_object_add(obj, "public_key", json_object_new_string(zcert_public_txt(cert)));
        json_object_object_add(obj, "created", json_object_new_boolean(created));
        json_object_object_add(obj, "certificate", json_object_new_string(path));
        cli_print_json(obj);
    }
    else {
        printf("%s key pair %s (%s_secret, owner-only)\npublic key: %s\n",
               streq(role, "node") ? "node" : "worker", created ? "created" : "exists already",
               path, zcert_public_txt(cert));
        if (streq(role, "node"))
            printf("give the public key to each worker: [farm] node_key, or pylon worker --node-key\n");
        else
            printf("on the node: pylon farm allow <name> %s\n", zcert_public_txt(cert));
    }
    zcert_destroy(&cert);
    return CLI_OK;
}

static int
s_list(cli_t *cli)
{
    char allow[4096];
    if (farm_allow_dir(cli->cfg.dir, allow, sizeof allow))
        return cli_fail(cli, CLI_FAILED, "the config dir path is too long");
    json_object *list = json_object_new_array();
    DIR *dir = opendir(allow);
    for (struct dirent *entry; dir && (entry = readdir(dir));) {
        size_t len = strlen(entry->d_name);
        if (entry->d_name[0] == '.' || len < 5 || strcmp(entry->d_name + len - 4, ".key") != 0)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", allow, entry->d_name);
        zcert_t *cert = zcert_load(path);
        if (!cert)
            continue;
        json_object *one = json_object_new_object();
        json_object_object_add(one, "name", json_object_new_string_len(entry->d_name, (int) len - 4));
        json_object_object_add(one, "public_key", json_object_new_string(zcert_public_txt(cert)));
        json_object_array_add(list, one);
        zcert_destroy(&cert);
    }
    if (dir)
        closedir(dir);
    if (cli->json) {
        cli_print_json(list);
        return CLI_OK;
    }
    if (json_object_array_length(list) == 0)
        printf("no worker is allowed in yet (%s/ is empty): pylon farm allow NAME KEY\n", allow);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *one = json_object_array_get_idx(list, i);
        printf("%-20s %s\n", json_object_get_string(json_object_object_get(one, "name")),
               json_object_get_string(json_object_object_get(one, "public_key")));
    }
    json_object_put(list);
    return CLI_OK;
}

int
cli_farm(cli_t *cli, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    if (streq(verb, "keygen"))
        return s_keygen(cli, "node");
    if (streq(verb, "list"))
        return s_list(cli);
    if (streq(verb, "allow")) {
        if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-')
            return cli_fail(cli, CLI_USAGE, "usage: pylon farm allow NAME PUBLIC_KEY");
        char err[512];
        if (farm_allow_add(cli->cfg.dir, argv[2], argv[3], err, sizeof err))
            return cli_fail(cli, CLI_FAILED, "%s", err);
        if (cli->json) {
            json_object *obj = json_object_new_object();
            json_object_object_add(obj, "allowed", json_object_new_string(argv[2]));
            cli_print_json(obj);
        }
        else
            printf("worker %s is allowed in (a running node takes it at once)\n", argv[2]);
        return CLI_OK;
    }
    return cli_fail(cli, CLI_USAGE, "usage: pylon farm keygen | allow NAME PUBLIC_KEY | list");
}

int
cli_worker(cli_t *cli, int argc, char **argv)
{
    if (argc > 1 && streq(argv[1], "keygen"))
        return s_keygen(cli, "worker");
    const config_t *cfg = &cli->cfg;
    const char *node = s_flag(argc, argv, "--node");
    const char *node_key = s_flag(argc, argv, "--node-key");
    const char *name = s_flag(argc, argv, "--name");
    node = node ? node : cfg->farm_node;
    node_key = node_key ? node_key : cfg->farm_node_key;
    char host[65] = "worker";
    if (!name || !*name)
        name = *cfg->farm_worker_name ? cfg->farm_worker_name
                                      : (gethostname(host, sizeof host - 1) == 0 ? host : "worker");
    if (!node || strncmp(node, "tcp://", 6) != 0)
        return cli_fail(cli, CLI_USAGE, "give the node's farm endpoint: --node tcp://host:port "
                        "(or [farm] node in config.toml)");
    if (!farm_key_valid(node_key))
        return cli_fail(cli, CLI_USAGE, "give the node's public key: --node-key KEY (or [farm] "
                        "node_key), as `pylon farm keygen` prints it on the node");
    if (strlen(name) > 64)
        return cli_fail(cli, CLI_USAGE, "--name is at most 64 bytes");
    char err[512];
    bool created;
    zcert_t *cert = farm_keys_load(cfg->dir, "worker", false, &created, err, sizeof err);
    if (!cert)
        return cli_fail(cli, CLI_FAILED, "%s", err);
    char public_key[FARM_KEY_TEXT];
    snprintf(public_key, sizeof public_key, "%s", zcert_public_txt(cert));
    zcert_destroy(&cert);

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

    farm_worker_args_t link = {cfg, node, node_key, name};
    inference_args_t inference = {cfg};
    node_member_t members[] = {
        {&farm_worker_actor, &link},        /* first: stops last, after the inference actor */
        {&inference_actor, &inference},
    };
    /* The inference actor reports to "job_router": here, that is the worker actor's inbox. */
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "worker", "inproc://pylon-worker-worker");
    actor_directory_add(&dir, "job_router", "inproc://pylon-worker-worker");
    actor_directory_add(&dir, "inference", "inproc://pylon-worker-inference");
    node_t *workers = node_start(members, 2, &dir, "pylon-worker-", NULL);
    if (!workers) {
        close(signal_fd);
        return cli_fail(cli, CLI_FAILED, "the worker did not start (see the log above)");
    }
    printf("pylon worker %s: connecting to %s (worker key %s)\n", name, node, public_key);
    fflush(stdout);
    actor_t *link_actor = node_actor(workers, "worker");
    for (bool stop = false; !stop;) {
        zmq_pollitem_t items[] = {{NULL, signal_fd, ZMQ_POLLIN, 0},
                                  {zsock_resolve(actor_sock(link_actor)), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof info) == sizeof info) {
                log_info("signal %s: stopping", strsignal((int) info.ssi_signo));
                stop = true;
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char *event = actor_event(link_actor);
            if (event && streq(event, "JOINED"))
                printf("pylon worker %s: joined the node at %s\n", name, node);
            else if (event && streq(event, "LOST"))
                printf("pylon worker %s: lost the node at %s; reconnecting\n", name, node);
            fflush(stdout);
            stop = event == NULL;
            zstr_free(&event);
        }
    }
    node_stop(&workers);
    close(signal_fd);
    return CLI_OK;
}
