/*  job_request.h: a NIP-90 job request, read and checked.

    Two request kinds are served (docs/buyers-guide.md has the exact formats):
      5935  content JSON {"backend", "messages": [OpenAI chat messages], "params": {...}}
      5050  the standard text generation: prompt in "i" tags (type text, or "prompt" as seen
            in the wild; an unknown type counts as text), options in "param" tags
    Either may be encrypted (an ["encrypted"] tag; NIP-44 v2, or NIP-04 when the content has
    "?iv="): then the content is the ciphertext of the 5935 JSON, or of the 5050 tag array.

    job_request_parse() turns a verified event into a job_request_t with everything the router
    needs, normalised: the backend asked for, the messages as a JSON array, the inference
    parameters as a clean JSON object holding only known, bounded keys, the prompt's size.
    What it cannot accept it explains in `why`, in words a buyer can act on. */
#ifndef PYLON_JOB_REQUEST_H
#define PYLON_JOB_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "nostr_event.h"
#include "nostr_keys.h"

enum {
    JOB_REQUEST_OK = 0,
    JOB_REQUEST_NOT_FOR_US = -1,    /* no p tag naming us, or a kind we do not serve: drop */
    JOB_REQUEST_EXPIRED = -2,       /* NIP-40 expiration passed: drop */
    JOB_REQUEST_INVALID = -3,       /* answer with error feedback saying why */
};

typedef enum { JOB_PLAIN = 0, JOB_NIP44, JOB_NIP04 } job_encryption_t;

#define JOB_BACKEND_MAX 127

typedef struct {
    uint32_t kind;                  /* 5935 or 5050 */
    job_encryption_t encryption;    /* how the request came, and how replies must go */
    char backend[JOB_BACKEND_MAX + 1];  /* asked for ("" = the node's default) */
    char *messages;                 /* JSON array of {role, content} (owned) */
    char *params;                   /* JSON object for the backend (owned) */
    char *inputs;                   /* 5050: JSON array of the i tags, to echo (owned) */
    uint64_t max_tokens;            /* from params, or the default */
    uint64_t prompt_bytes;          /* sum of the messages' content */
    uint64_t bid_msats;             /* 0 when there is no bid */
    bool stream;                    /* the buyer wants partial feedback */
} job_request_t;

typedef struct {
    const nostr_keys_t *keys;       /* ours: the p tag must name us; decrypts */
    uint64_t max_prompt_bytes;
    uint64_t max_tokens;            /* largest max_tokens a buyer may ask */
    uint64_t default_max_tokens;    /* when the buyer does not say */
    int64_t now;                    /* unix seconds, for NIP-40 */
} job_request_rules_t;

int job_request_parse(const nostr_event_t *event, const job_request_rules_t *rules,
                      job_request_t *request, char *why, size_t why_size);
void job_request_free(job_request_t *request);

/* Encrypt text for the buyer in the request's scheme; fresh, or NULL. */
char *job_request_encrypt(const nostr_keys_t *keys, const uint8_t buyer[32],
                          job_encryption_t scheme, const char *text);
const char *job_encryption_name(job_encryption_t scheme);

#endif
