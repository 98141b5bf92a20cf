/*  link.c: farm key files, the allow-list, and catalogue messages over ZeroMQ (see link.h). */
#include "link.h"
#include "log.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir path 0700, or make an existing one 0700. 0, or -1 with err. */
static int
s_private_dir(const char *path, char *err, size_t err_size)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (chmod(path, 0700) != 0) {
        snprintf(err, err_size, "cannot make %s owner-only: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
farm_keys_path(const char *dir, const char *role, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/farm/%s.key", dir, role);
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

int
farm_allow_dir(const char *dir, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/" FARM_ALLOW_DIR, dir);
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

zcert_t *
farm_keys_load(const char *dir, const char *role, bool create, bool *created, char *err,
               size_t err_size)
{
    char farm_dir[4096], path[4096], secret_path[4200];
    *created = false;
    if (snprintf(farm_dir, sizeof farm_dir, "%s/farm", dir) >= (int) sizeof farm_dir
        || farm_keys_path(dir, role, path, sizeof path)) {
        snprintf(err, err_size, "the config dir path is too long");
        return NULL;
    }
    snprintf(secret_path, sizeof secret_path, "%s_secret", path);
    struct stat st;
    if (stat(secret_path, &st) == 0) {
        if (st.st_mode & 077) {
            snprintf(err, err_size, "%s may be read by others: `chmod 600 %s` (and make a "
                     "new key pair if someone else could have read it)", secret_path, secret_path);
            return NULL;
        }
        zcert_t *cert = zcert_load(path);
        if (!cert || !farm_key_valid(zcert_public_txt(cert))) {
            snprintf(err, err_size, "%s is not a CURVE key pair", secret_path);
            zcert_destroy(&cert);
            return NULL;
        }
        return cert;
    }
    if (!create) {
        snprintf(err, err_size, "no key pair at %s: `pylon %s keygen` creates it", secret_path,
                 streq(role, "node") ? "farm" : "worker");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (s_private_dir(farm_dir, err, err_size))
        return NULL;
    zcert_t *cert = zcert_new();
    if (!cert) {
        snprintf(err, err_size, "cannot make a CURVE key pair (is libzmq built with CURVE?)");
        return NULL;
    }
    zcert_set_meta(cert, "role", "%s", role);
    /* The directory is 0700 already, so nobody else can open the files before the chmod. */
    if (zcert_save(cert, path) != 0 || chmod(secret_path, 0600) != 0 || chmod(path, 0600) != 0) {
        snprintf(err, err_size, "cannot write %s: %s", secret_path, strerror(errno));
        zcert_destroy(&cert);
        return NULL;
    }
    *created = true;
    return cert;
}

bool
farm_key_valid(const char *text)
{
    uint8_t key[32];
    return text && strlen(text) == 40 && zmq_z85_decode(key, text) != NULL;
}

int
farm_allow_add(const char *dir, const char *name, const char *public_key, char *err,
               size_t err_size)
{
    if (!*name || strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(name)
        || name[0] == '.') {
        snprintf(err, err_size, "a worker name is 1 to 64 letters, digits, '-', '_' or '.', "
                 "not starting with '.'");
        return -1;
    }
    if (!farm_key_valid(public_key)) {
        snprintf(err, err_size, "'%.60s' is not a CURVE public key (40 Z85 characters, as "
                 "`pylon worker keygen` prints)", public_key);
        return -1;
    }
    char allow[4096], path[4200];
    if (farm_allow_dir(dir, allow, sizeof allow)) {
        snprintf(err, err_size, "the config dir path is too long");
        return -1;
    }
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || s_private_dir(allow, err, err_size)) {
        if (!*err)
            snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.key", allow, name);
    /* A public certificate alone: czmq wants a secret text too, and saves only the public. */
    uint8_t public_bytes[32], no_secret[32] = {0};
    zmq_z85_decode(public_bytes, public_key);
    zcert_t *cert = zcert_new_from(public_bytes, no_secret);
    if (!cert) {
        snprintf(err, err_size, "cannot make a certificate for that key");
        return -1;
    }
    zcert_set_meta(cert, "worker", "%s", name);
    int rc = zcert_save_public(cert, path);
    zcert_destroy(&cert);
    if (rc != 0 || chmod(path, 0600) != 0) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
farm_send(zsock_t *sock, zframe_t *routing_id, const char *from, const char *to, msg_t *msg,
          msg_buf_t *buf)
{
    msg_set_route(msg, from, to);
    int rc = msg_encode(msg, buf);
    if (rc) {
        log_error("not sending %s: %s", msg_type_name(msg->type), msg_strerror(rc));
        errno = EINVAL;
        return -1;
    }
    void *handle = zsock_resolve(sock);
    if (routing_id && zmq_send(handle, zframe_data(routing_id), zframe_size(routing_id),
                               ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(handle, buf->data, buf->size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

int
farm_recv(zsock_t *sock, bool router, farm_peer_t *peer, msg_t *msg, int *decode_rc)
{
    void *handle = zsock_resolve(sock);
    memset(peer, 0, sizeof *peer);
    *decode_rc = 0;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return 0;
    }
    if (router) {
        peer->routing_id = zframe_new(zmq_msg_data(&frame), zmq_msg_size(&frame));
        bool more = zmq_msg_more(&frame);
        zmq_msg_close(&frame);
        zmq_msg_init(&frame);
        if (!more || zmq_msg_recv(&frame, handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            *decode_rc = MSG_ERR_MALFORMED;
            return -1;
        }
        const char *user = zmq_msg_gets(&frame, "User-Id");
        const char *address = zmq_msg_gets(&frame, "Peer-Address");
        snprintf(peer->user_id, sizeof peer->user_id, "%s", user ? user : "");
        snprintf(peer->address, sizeof peer->address, "%s", address ? address : "");
    }
    /* One message is one frame: anything more is not ours, and is read away. */
    bool extra = zmq_msg_more(&frame);
    int rc = extra ? MSG_ERR_MALFORMED
                   : msg_decode(msg, zmq_msg_data(&frame), zmq_msg_size(&frame));
    zmq_msg_close(&frame);
    while (extra) {
        zmq_msg_init(&frame);
        extra = zmq_msg_recv(&frame, handle, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&frame);
        zmq_msg_close(&frame);
    }
    *decode_rc = rc;
    return rc == 0 ? 1 : -1;
}
