/*  node.c: see node.h. */
#include "node.h"
#include "log.h"
#include "tap.h"

struct node {
    actor_t *actors[NODE_MAX_ACTORS];   /* in start order */
    int count;
    tap_t *tap;
    actor_directory_t dir;
};

node_t *
node_start(const node_member_t *members, int count, const actor_directory_t *dir,
           const char *prefix, const char *tap_ipc)
{
    assert(count <= NODE_MAX_ACTORS);
    zsys_init();
    node_t *self = calloc(1, sizeof *self);
    if (dir)
        self->dir = *dir;
    char endpoint[ACTOR_ENDPOINT_MAX];
    for (int i = 0; i < count; i++)
        if (!actor_directory_find(&self->dir, members[i].def->name)) {
            snprintf(endpoint, sizeof endpoint, "inproc://%s%s", prefix, members[i].def->name);
            actor_directory_add(&self->dir, members[i].def->name, endpoint);
        }
    char tap_out[ACTOR_ENDPOINT_MAX];
    snprintf(self->dir.tap, sizeof self->dir.tap, "inproc://%stap-in", prefix);
    snprintf(tap_out, sizeof tap_out, "inproc://%stap", prefix);
    self->tap = tap_new(self->dir.tap, tap_out, tap_ipc);
    for (int i = 0; i < count; i++) {
        self->actors[i] = actor_new(members[i].def, &self->dir, members[i].args);
        if (!self->actors[i]) {
            node_stop(&self);
            return NULL;
        }
        self->count++;
    }
    return self;
}

void
node_stop(node_t **self_p)
{
    node_t *self = *self_p;
    if (!self)
        return;
    for (int i = self->count - 1; i >= 0; i--) {
        log_debug("stopping %s", actor_name(self->actors[i]));
        actor_destroy(&self->actors[i]);
    }
    tap_destroy(&self->tap);
    free(self);
    *self_p = NULL;
}

actor_t *
node_actor(node_t *self, const char *name)
{
    for (int i = 0; i < self->count; i++)
        if (streq(actor_name(self->actors[i]), name))
            return self->actors[i];
    return NULL;
}

const actor_directory_t *
node_directory(const node_t *self)
{
    return &self->dir;
}
