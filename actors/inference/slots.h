/*  slots.h: client-side admission control for one backend: never more requests in flight
    than the server has slots, the rest waiting in a bounded FIFO.

    llama.cpp queues excess requests without limit and without any answer (no status line
    until a slot frees), and Ollama refuses past its queue: either way the daemon must keep
    its own count. The inference actor asks slots_acquire before starting a job's HTTP call,
    calls slots_release when the call completes (which hands the freed slot to the next
    waiting job, returned to be started), and slots_forget when a waiting job is cancelled.
    Jobs are plain ids, so nothing here owns memory of the caller's.
*/
#ifndef PYLON_INFERENCE_SLOTS_H
#define PYLON_INFERENCE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#define SLOTS_RUN       1       //  slots_acquire: a slot is yours, start now
#define SLOTS_QUEUED    0       //  slots_acquire: waiting; slots_release will return the id
#define SLOTS_FULL     -1       //  slots_acquire: the queue is full, refuse the job

typedef struct _slots_t slots_t;

//  Create with `limit` slots (>= 1) and room for `queue_max` waiting jobs.
slots_t *
    slots_new (size_t limit, size_t queue_max);

//  Destroy and null the pointer.
void
    slots_destroy (slots_t **self_p);

//  Ask for a slot for job (an id > 0). Returns SLOTS_RUN, SLOTS_QUEUED or SLOTS_FULL.
int
    slots_acquire (slots_t *self, uint64_t job);

//  A running job finished: its slot goes to the next waiting job, whose id is returned (start
//  it now), or 0 when none waits.
uint64_t
    slots_release (slots_t *self);

//  Remove a waiting job (cancelled before it started). Returns 0, or -1 if it was not waiting.
int
    slots_forget (slots_t *self, uint64_t job);

//  Change the number of slots (e.g. from /props total_slots). Jobs already running keep
//  running; call slots_next until it returns 0 to start the jobs a larger limit admits.
void
    slots_set_limit (slots_t *self, size_t limit);

//  If a slot is free and a job waits, take the slot for it and return its id; else 0.
uint64_t
    slots_next (slots_t *self);

//  Jobs running / waiting / the slot limit.
size_t
    slots_running (slots_t *self);
size_t
    slots_queued (slots_t *self);
size_t
    slots_limit (slots_t *self);

#endif
