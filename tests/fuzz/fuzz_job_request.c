/*  fuzz_job_request.c: the NIP-90 request reader on arbitrary events. The input is an event's
    JSON; whatever parses as an event (signature not needed: the relay actor checked that) is
    read as a job request addressed to a fixed node key. It must never crash, and a request it
    accepts must come out with bounded, well-formed JSON for the backend. */
#include <assert.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "job_request.h"

static nostr_keys_t *s_keys;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_keys) {
        static const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
        s_keys = nostr_keys_new(secret);
    }
    nostr_event_t *event = nostr_event_parse((const char *) data, size, NULL, NULL);
    if (!event)
        return 0;
    job_request_rules_t rules = {.keys = s_keys, .max_prompt_bytes = 4096, .max_tokens = 1000,
                                 .default_max_tokens = 100, .now = 1800000000};
    job_request_t request;
    char why[512];
    if (job_request_parse(event, &rules, &request, why, sizeof why) == JOB_REQUEST_OK) {
        assert(request.messages && request.params);
        assert(request.prompt_bytes <= rules.max_prompt_bytes);
        assert(request.max_tokens >= 1 && request.max_tokens <= rules.max_tokens);
        json_object *messages = json_tokener_parse(request.messages);
        json_object *params = json_tokener_parse(request.params);
        assert(json_object_is_type(messages, json_type_array) && json_object_array_length(messages) >= 1);
        assert(json_object_is_type(params, json_type_object));
        json_object_put(messages);
        json_object_put(params);
    }
    job_request_free(&request);
    nostr_event_destroy(&event);
    return 0;
}
