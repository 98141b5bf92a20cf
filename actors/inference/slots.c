/*  slots.c: bounded slot counter with a FIFO ring of waiting job ids (see slots.h).
*/
#include "inference/slots.h"

#include <stdlib.h>
#include <string.h>

struct _slots_t {
    size_t limit;           //  most jobs running at once
    size_t running;         //  jobs holding a slot
    uint64_t *queue;        //  ring of waiting job ids
    size_t queue_max;       //  ring capacity
    size_t head;            //  index of the oldest waiting job
    size_t count;           //  waiting jobs
};

slots_t *
slots_new (size_t limit, size_t queue_max)
{
    slots_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->limit = limit ? limit : 1;
    self->queue_max = queue_max;
    self->queue = calloc (queue_max ? queue_max : 1, sizeof *self->queue);
    if (!self->queue) {
        free (self);
        return NULL;
    }
    return self;
}

void
slots_destroy (slots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->queue);
    free (*self_p);
    *self_p = NULL;
}

int
slots_acquire (slots_t *self, uint64_t job)
{
    if (self->running < self->limit && self->count == 0) {
        self->running++;
        return SLOTS_RUN;
    }
    if (self->count == self->queue_max)
        return SLOTS_FULL;
    self->queue [(self->head + self->count) % self->queue_max] = job;
    self->count++;
    return SLOTS_QUEUED;
}

uint64_t
slots_next (slots_t *self)
{
    if (self->running >= self->limit || self->count == 0)
        return 0;
    uint64_t job = self->queue [self->head];
    self->head = (self->head + 1) % self->queue_max;
    self->count--;
    self->running++;
    return job;
}

uint64_t
slots_release (slots_t *self)
{
    if (self->running > 0)
        self->running--;
    return slots_next (self);
}

int
slots_forget (slots_t *self, uint64_t job)
{
    for (size_t i = 0; i < self->count; i++) {
        size_t at = (self->head + i) % self->queue_max;
        if (self->queue [at] != job)
            continue;
        //  Close the gap: shift the younger entries one place towards the head
        for (size_t j = i; j + 1 < self->count; j++)
            self->queue [(self->head + j) % self->queue_max] =
                self->queue [(self->head + j + 1) % self->queue_max];
        self->count--;
        return 0;
    }
    return -1;
}

void
slots_set_limit (slots_t *self, size_t limit)
{
    self->limit = limit ? limit : 1;
}

size_t
slots_running (slots_t *self)
{
    return self->running;
}

size_t
slots_queued (slots_t *self)
{
    return self->count;
}

size_t
slots_limit (slots_t *self)
{
    return self->limit;
}
