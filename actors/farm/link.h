/*  link.h: what the farm broker (actors/farm.c) and the farm worker (actors/farm_worker.c)
    share: their CURVE key files, the node's allow-list of workers, and catalogue messages
    (runtime/msg.h) sent and received over the ROUTER/DEALER pair between them.

    Files, under the config dir (owner-only: the directories 0700, every key file 0600):
        farm/node.key, farm/node.key_secret       the node's CURVE server key pair
        farm/worker.key, farm/worker.key_secret   a worker's CURVE client key pair
        farm_workers/<name>.key                   the node's allow-list: one public
                                                  certificate per worker allowed in
    The .key files are czmq zcert public certificates (the public key is no secret: it is what
    an operator copies to the other side); the _secret files hold the secret key and are never
    logged or printed. */
#ifndef PYLON_FARM_LINK_H
#define PYLON_FARM_LINK_H

#include <czmq.h>
#include <stdbool.h>

#include "msg.h"

#define FARM_KEY_TEXT      41       /* a Z85 CURVE key, 40 characters, and its NUL */
#define FARM_ADDRESS_MAX   64       /* a peer's IP address as ZeroMQ reports it */
#define FARM_ALLOW_DIR     "farm_workers"

/* The key pair of role ("node" or "worker") in config dir dir: loaded, or created when create
   is true and there is none (*created says which). Refuses a secret file that others may
   read. Returns the certificate (fresh), or NULL with the reason in err. */
zcert_t *farm_keys_load(const char *dir, const char *role, bool create, bool *created,
                        char *err, size_t err_size);
/* Path of that key pair's public certificate (…/farm/<role>.key). 0, or -1 if too long. */
int farm_keys_path(const char *dir, const char *role, char *buf, size_t size);
/* Path of the allow-list directory (…/farm_workers). 0, or -1 if too long. */
int farm_allow_dir(const char *dir, char *buf, size_t size);
/* Allow a worker in: write farm_workers/<name>.key holding public_key. name is letters,
   digits, '-', '_' and '.'. 0, or -1 with the reason in err. */
int farm_allow_add(const char *dir, const char *name, const char *public_key, char *err,
                   size_t err_size);
/* True when text is a Z85 CURVE public key (40 characters that decode to 32 bytes). */
bool farm_key_valid(const char *text);

/* Encode msg (routed from → to) and send it without blocking: on a ROUTER, to routing_id;
   on a DEALER, routing_id is NULL. 0, or -1 with zmq_errno() set (EHOSTUNREACH: that peer
   is not connected; EAGAIN: its queue is full). */
int farm_send(zsock_t *sock, zframe_t *routing_id, const char *from, const char *to,
              msg_t *msg, msg_buf_t *buf);

/* What farm_recv read besides the message. */
typedef struct {
    zframe_t *routing_id;           /* ROUTER: the sender's connection (owned), else NULL */
    char user_id[FARM_KEY_TEXT];    /* the sender's authenticated CURVE public key, "" if none */
    char address[FARM_ADDRESS_MAX]; /* the sender's IP address, "" if unknown */
} farm_peer_t;

/* Read one message if there is one, without blocking. 1: msg decoded (and peer filled, on a
   ROUTER); 0: nothing waiting; -1: a message arrived that does not decode (the reason in
   *decode_rc; peer is filled so the caller can say who sent it). The caller frees
   peer->routing_id with zframe_destroy. */
int farm_recv(zsock_t *sock, bool router, farm_peer_t *peer, msg_t *msg, int *decode_rc);

#endif
