/*  job_request.c: see job_request.h. Everything here reads network input: every length,
    count and number is bounded, every type checked, and nothing is trusted until parsed. */
#include "job_request.h"
#include "nip04.h"
#include "nip44.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGES   256      /* chat messages in one request */
#define MAX_STOP       4        /* stop sequences */
#define MAX_STOP_BYTES 64
#define MAX_INPUTS     64       /* i tags of a 5050 request */

static const char *const s_roles[] = {"system", "user", "assistant", "developer", "tool", NULL};

const char *
job_encryption_name(job_encryption_t scheme)
{
    return scheme == JOB_NIP44 ? "nip44" : scheme == JOB_NIP04 ? "nip04" : "";
}

void
job_request_free(job_request_t *request)
{
    free(request->messages);
    free(request->params);
    free(request->inputs);
    memset(request, 0, sizeof *request);
}

static int
s_invalid(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
s_invalid(char *why, size_t why_size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, why_size, fmt, args);
    va_end(args);
    return JOB_REQUEST_INVALID;
}

/* Decrypt the content of an encrypted request; fresh text or NULL with why. */
static char *
s_decrypt(const nostr_event_t *event, const nostr_keys_t *keys, job_encryption_t *scheme,
          char *why, size_t why_size)
{
    uint8_t shared[32];
    if (nostr_keys_ecdh(keys, event->pubkey, shared) != 0) {
        snprintf(why, why_size, "cannot decrypt: the author's key is not a valid point");
        return NULL;
    }
    size_t len = 0;
    int error = 0;
    uint8_t *plain;
    if (memmem(event->content.str, event->content.len, "?iv=", 4)) {
        *scheme = JOB_NIP04;
        plain = nip04_decrypt(shared, event->content.str, event->content.len, 0, &len, &error);
        if (!plain)
            snprintf(why, why_size, "cannot decrypt the NIP-04 content: %s", nip04_strerror(error));
    }
    else {
        *scheme = JOB_NIP44;
        uint8_t conv[32];
        nip44_conversation_key_from_shared(shared, conv);
        plain = nip44_decrypt(conv, event->content.str, event->content.len, 0, &len, &error);
        sodium_memzero(conv, sizeof conv);
        if (!plain)
            snprintf(why, why_size, "cannot decrypt the NIP-44 content: %s", nip44_strerror(error));
    }
    sodium_memzero(shared, sizeof shared);
    if (plain && strlen((char *) plain) != len) {
        free(plain);
        snprintf(why, why_size, "the decrypted content holds a NUL byte");
        return NULL;
    }
    return (char *) plain;
}

/* A number param within [lo, hi] into the clean params object. */
static int
s_number(json_object *clean, const char *key, json_object *value, double lo, double hi,
         bool integer, char *why, size_t why_size)
{
    if (!value)
        return 0;
    double number;
    if (json_object_is_type(value, json_type_int) || json_object_is_type(value, json_type_double))
        number = json_object_get_double(value);
    else if (json_object_is_type(value, json_type_string)) {
        /* 5050 param tags carry numbers as strings. */
        const char *text = json_object_get_string(value);
        char *end;
        number = strtod(text, &end);
        if (!*text || *end)
            return s_invalid(why, why_size, "%s must be a number, not \"%.32s\"", key, text);
    }
    else
        return s_invalid(why, why_size, "%s must be a number", key);
    if (!isfinite(number) || number < lo || number > hi || (integer && number != floor(number)))
        return s_invalid(why, why_size, "%s must be %s between %g and %g", key,
                         integer ? "a whole number" : "a number", lo, hi);
    json_object_object_add(clean, key, integer ? json_object_new_int64((int64_t) number)
                                               : json_object_new_double(number));
    return 0;
}

/* Read the options (5935 "params" object, or 5050 param tags gathered into one) into the
   clean params object passed to the backend. */
static int
s_params(json_object *given, const job_request_rules_t *rules, job_request_t *request,
         char *why, size_t why_size)
{
    json_object *clean = json_object_new_object();
    int rc = 0;
    json_object *value;
    rc = rc ? rc : s_number(clean, "temperature", json_object_object_get(given, "temperature"), 0, 2, false, why, why_size);
    rc = rc ? rc : s_number(clean, "top_p", json_object_object_get(given, "top_p"), 0, 1, false, why, why_size);
    rc = rc ? rc : s_number(clean, "top_k", json_object_object_get(given, "top_k"), 1, 1000, true, why, why_size);
    rc = rc ? rc : s_number(clean, "frequency_penalty", json_object_object_get(given, "frequency_penalty"), -2, 2, false, why, why_size);
    rc = rc ? rc : s_number(clean, "seed", json_object_object_get(given, "seed"), 0, 4294967295.0, true, why, why_size);
    if (rc == 0 && (value = json_object_object_get(given, "max_tokens"))) {
        rc = s_number(clean, "max_tokens", value, 1, 1e12, true, why, why_size);
        if (rc == 0) {
            request->max_tokens = (uint64_t) json_object_get_int64(json_object_object_get(clean, "max_tokens"));
            if (request->max_tokens > rules->max_tokens)
                rc = s_invalid(why, why_size, "max_tokens %llu is over this node's limit of %llu",
                               (unsigned long long) request->max_tokens,
                               (unsigned long long) rules->max_tokens);
        }
    }
    if (rc == 0 && !json_object_object_get(clean, "max_tokens")) {
        request->max_tokens = rules->default_max_tokens < rules->max_tokens ? rules->default_max_tokens : rules->max_tokens;
        json_object_object_add(clean, "max_tokens", json_object_new_int64((int64_t) request->max_tokens));
    }
    if (rc == 0 && (value = json_object_object_get(given, "stop"))) {
        json_object *stops = json_object_new_array();
        json_object_object_add(clean, "stop", stops);
        bool single = json_object_is_type(value, json_type_string);
        size_t count = single ? 1 : json_object_is_type(value, json_type_array) ? json_object_array_length(value) : 0;
        if (!single && !json_object_is_type(value, json_type_array))
            rc = s_invalid(why, why_size, "stop must be a string or an array of strings");
        else if (count > MAX_STOP)
            rc = s_invalid(why, why_size, "at most %d stop sequences", MAX_STOP);
        for (size_t i = 0; rc == 0 && i < count; i++) {
            json_object *stop = single ? value : json_object_array_get_idx(value, i);
            if (!json_object_is_type(stop, json_type_string) || json_object_get_string_len(stop) == 0
                || json_object_get_string_len(stop) > MAX_STOP_BYTES)
                rc = s_invalid(why, why_size, "each stop sequence must be a string of 1 to %d bytes", MAX_STOP_BYTES);
            else
                json_object_array_add(stops, json_object_new_string(json_object_get_string(stop)));
        }
    }
    if (rc == 0 && (value = json_object_object_get(given, "stream"))) {
        if (json_object_is_type(value, json_type_boolean))
            request->stream = json_object_get_boolean(value);
        else if (json_object_is_type(value, json_type_string))
            request->stream = strcmp(json_object_get_string(value), "true") == 0;
        else
            rc = s_invalid(why, why_size, "stream must be true or false");
    }
    if (rc == 0)
        request->params = strdup(json_object_to_json_string_ext(clean, JSON_C_TO_STRING_PLAIN));
    json_object_put(clean);
    return rc;
}

static bool
s_one_of(const char *value, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

/* 5935: {"backend", "messages", "params"}. */
static int
s_parse_5935(const char *text, const job_request_rules_t *rules, job_request_t *request,
             char *why, size_t why_size)
{
    json_tokener *tokener = json_tokener_new_ex(8);
    json_object *root = json_tokener_parse_ex(tokener, text, (int) strlen(text));
    bool complete = root && json_tokener_get_error(tokener) == json_tokener_success
                    && (size_t) json_tokener_get_parse_end(tokener) == strlen(text);
    json_tokener_free(tokener);
    if (!complete || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return s_invalid(why, why_size, "content is not a JSON object {\"backend\", \"messages\", \"params\"}");
    }
    int rc = 0;
    json_object *backend = json_object_object_get(root, "backend");
    json_object *messages = json_object_object_get(root, "messages");
    json_object *params = json_object_object_get(root, "params");
    if (backend && (!json_object_is_type(backend, json_type_string)
                    || json_object_get_string_len(backend) > JOB_BACKEND_MAX))
        rc = s_invalid(why, why_size, "backend must be a string naming a backend");
    else if (backend)
        snprintf(request->backend, sizeof request->backend, "%s", json_object_get_string(backend));
    if (rc == 0 && (!messages || !json_object_is_type(messages, json_type_array)
                    || json_object_array_length(messages) == 0))
        rc = s_invalid(why, why_size, "messages must be a non-empty array of {\"role\", \"content\"}");
    if (rc == 0 && json_object_array_length(messages) > MAX_MESSAGES)
        rc = s_invalid(why, why_size, "at most %d messages", MAX_MESSAGES);
    json_object *clean = json_object_new_array();
    for (size_t i = 0; rc == 0 && i < json_object_array_length(messages); i++) {
        json_object *message = json_object_array_get_idx(messages, i);
        json_object *role = json_object_object_get(message, "role");
        json_object *content = json_object_object_get(message, "content");
        if (!json_object_is_type(message, json_type_object) || !json_object_is_type(role, json_type_string)
            || !s_one_of(json_object_get_string(role), s_roles))
            rc = s_invalid(why, why_size, "messages[%zu]: role must be system, user, assistant, developer or tool", i);
        else if (!json_object_is_type(content, json_type_string))
            rc = s_invalid(why, why_size, "messages[%zu]: content must be a string", i);
        else {
            request->prompt_bytes += (uint64_t) json_object_get_string_len(content);
            json_object *copy = json_object_new_object();
            json_object_object_add(copy, "role", json_object_get(role));
            json_object_object_add(copy, "content", json_object_get(content));
            json_object_array_add(clean, copy);
        }
    }
    if (rc == 0 && request->prompt_bytes > rules->max_prompt_bytes)
        rc = s_invalid(why, why_size, "the prompt is %llu bytes, over this node's limit of %llu",
                       (unsigned long long) request->prompt_bytes,
                       (unsigned long long) rules->max_prompt_bytes);
    if (rc == 0 && params && !json_object_is_type(params, json_type_object))
        rc = s_invalid(why, why_size, "params must be a JSON object");
    if (rc == 0) {
        json_object *empty = json_object_new_object();
        rc = s_params(params ? params : empty, rules, request, why, why_size);
        json_object_put(empty);
    }
    if (rc == 0)
        request->messages = strdup(json_object_to_json_string_ext(clean, JSON_C_TO_STRING_PLAIN));
    json_object_put(clean);
    json_object_put(root);
    return rc;
}

/* 5050: i tags and param tags, from the event or from the decrypted tag array. */
static int
s_parse_5050_tags(json_object *tags, const job_request_rules_t *rules, job_request_t *request,
                  char *why, size_t why_size)
{
    /* tags: a json array of arrays of strings (both plain and decrypted requests are put in
       this form first). */
    json_object *params = json_object_new_object();
    json_object *inputs = json_object_new_array();
    size_t prompt_len = 0, input_count = 0;
    char *prompt = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(tags); i++) {
        json_object *tag = json_object_array_get_idx(tags, i);
        size_t n = json_object_is_type(tag, json_type_array) ? json_object_array_length(tag) : 0;
        if (n == 0)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!json_object_is_type(json_object_array_get_idx(tag, k), json_type_string))
                rc = s_invalid(why, why_size, "tags must hold strings only");
        if (rc)
            break;
        const char *name = json_object_get_string(json_object_array_get_idx(tag, 0));
        if (strcmp(name, "i") == 0 && n >= 2) {
            const char *type = n >= 3 ? json_object_get_string(json_object_array_get_idx(tag, 2)) : "text";
            if (strcmp(type, "url") == 0 || strcmp(type, "event") == 0 || strcmp(type, "job") == 0) {
                rc = s_invalid(why, why_size, "input type '%s' is not supported: send the prompt as text", type);
                break;
            }
            if (++input_count > MAX_INPUTS) {
                rc = s_invalid(why, why_size, "at most %d inputs", MAX_INPUTS);
                break;
            }
            json_object *data = json_object_array_get_idx(tag, 1);
            size_t len = (size_t) json_object_get_string_len(data);
            if (prompt_len + len + 2 > rules->max_prompt_bytes + 2) {
                rc = s_invalid(why, why_size, "the prompt is over this node's limit of %llu bytes",
                               (unsigned long long) rules->max_prompt_bytes);
                break;
            }
            prompt = realloc(prompt, prompt_len + len + 3);
            if (prompt_len) {
                memcpy(prompt + prompt_len, "\n\n", 2);
                prompt_len += 2;
            }
            memcpy(prompt + prompt_len, json_object_get_string(data), len);
            prompt_len += len;
            prompt[prompt_len] = 0;
            json_object_array_add(inputs, json_object_get(tag));
        }
        else if (strcmp(name, "param") == 0 && n >= 3) {
            char key[32];
            snprintf(key, sizeof key, "%s", json_object_get_string(json_object_array_get_idx(tag, 1)));
            for (char *c = key; *c; c++)
                if (*c == '-')
                    *c = '_';       /* top-k and top_k both seen in the wild */
            json_object *value = json_object_array_get_idx(tag, 2);
            if (strcmp(key, "backend") == 0 || strcmp(key, "model") == 0) {
                if (json_object_get_string_len(value) > JOB_BACKEND_MAX)
                    rc = s_invalid(why, why_size, "%s is too long", key);
                else if (strcmp(key, "backend") == 0 || !request->backend[0])
                    snprintf(request->backend, sizeof request->backend, "%s", json_object_get_string(value));
            }
            else
                json_object_object_add(params, key, json_object_get(value));
        }
    }
    if (rc == 0 && input_count == 0)
        rc = s_invalid(why, why_size, "no input: put the prompt in an [\"i\", \"<text>\", \"text\"] tag");
    if (rc == 0)
        rc = s_params(params, rules, request, why, why_size);
    if (rc == 0) {
        json_object *messages = json_object_new_array();
        json_object *message = json_object_new_object();
        json_object_object_add(message, "role", json_object_new_string("user"));
        json_object_object_add(message, "content", json_object_new_string_len(prompt, (int) prompt_len));
        json_object_array_add(messages, message);
        request->messages = strdup(json_object_to_json_string_ext(messages, JSON_C_TO_STRING_PLAIN));
        request->inputs = strdup(json_object_to_json_string_ext(inputs, JSON_C_TO_STRING_PLAIN));
        request->prompt_bytes = prompt_len;
        json_object_put(messages);
    }
    free(prompt);
    json_object_put(params);
    json_object_put(inputs);
    return rc;
}

/* The event's own tags as a json array (for 5050 without encryption). */
static json_object *
s_tags_json(const nostr_event_t *event)
{
    json_object *tags = json_object_new_array();
    for (size_t i = 0; i < event->tag_count; i++) {
        json_object *tag = json_object_new_array();
        for (size_t k = 0; k < event->tags[i].count; k++)
            json_object_array_add(tag, json_object_new_string_len(event->tags[i].elems[k].str,
                                                                  (int) event->tags[i].elems[k].len));
        json_object_array_add(tags, tag);
    }
    return tags;
}

int
job_request_parse(const nostr_event_t *event, const job_request_rules_t *rules,
                  job_request_t *request, char *why, size_t why_size)
{
    memset(request, 0, sizeof *request);
    why[0] = 0;
    if (event->kind != 5935 && event->kind != 5050)
        return JOB_REQUEST_NOT_FOR_US;
    request->kind = event->kind;
    /* Addressed to us: some p tag names our key. */
    char ours[65];
    nostr_event_hex(nostr_keys_pubkey(rules->keys), 32, ours);
    bool for_us = false, encrypted = false, bad_bid = false;
    for (size_t i = 0; i < event->tag_count; i++) {
        const nostr_tag_t *tag = &event->tags[i];
        if (strcmp(tag->elems[0].str, "p") == 0 && tag->count >= 2 && strcmp(tag->elems[1].str, ours) == 0)
            for_us = true;
        else if (strcmp(tag->elems[0].str, "encrypted") == 0)
            encrypted = true;
        else if (strcmp(tag->elems[0].str, "bid") == 0 && tag->count >= 2) {
            char *end;
            errno = 0;
            unsigned long long bid = strtoull(tag->elems[1].str, &end, 10);
            if (*end || errno || !tag->elems[1].len || tag->elems[1].str[0] == '-')
                bad_bid = true;
            else
                request->bid_msats = bid;
        }
    }
    /* Only a request for us, and not expired, is answered, even when it is malformed. */
    if (!for_us)
        return JOB_REQUEST_NOT_FOR_US;
    int64_t expires;
    int has_expiry = nostr_event_expiration(event, &expires);
    if (has_expiry < 0)
        return s_invalid(why, why_size, "the expiration tag is not a unix time");
    if (has_expiry > 0 && expires <= rules->now)
        return JOB_REQUEST_EXPIRED;
    if (bad_bid)
        return s_invalid(why, why_size, "bid must be a whole number of millisatoshis");

    char *text = NULL;
    if (encrypted) {
        text = s_decrypt(event, rules->keys, &request->encryption, why, why_size);
        if (!text)
            return JOB_REQUEST_INVALID;
    }
    int rc;
    if (event->kind == 5935)
        rc = s_parse_5935(text ? text : event->content.str, rules, request, why, why_size);
    else {
        json_object *tags = NULL;
        if (text) {
            /* NIP-90: the encrypted content is the JSON array of the i and param tags. */
            json_tokener *tokener = json_tokener_new_ex(4);
            tags = json_tokener_parse_ex(tokener, text, (int) strlen(text));
            json_tokener_free(tokener);
            if (!json_object_is_type(tags, json_type_array)) {
                json_object_put(tags);
                tags = NULL;
            }
        }
        else
            tags = s_tags_json(event);
        rc = tags ? s_parse_5050_tags(tags, rules, request, why, why_size)
                  : s_invalid(why, why_size, "the decrypted content is not a JSON array of tags");
        json_object_put(tags);
    }
    if (text) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
    if (rc != JOB_REQUEST_OK) {
        job_encryption_t scheme = request->encryption;
        job_request_free(request);
        request->encryption = scheme;   /* the error feedback still goes in the buyer's scheme */
        request->kind = event->kind;
    }
    return rc;
}

char *
job_request_encrypt(const nostr_keys_t *keys, const uint8_t buyer[32], job_encryption_t scheme,
                    const char *text)
{
    uint8_t shared[32];
    if (nostr_keys_ecdh(keys, buyer, shared) != 0)
        return NULL;
    int error = 0;
    char *out;
    if (scheme == JOB_NIP04)
        out = nip04_encrypt(shared, (const uint8_t *) text, strlen(text), NULL, 0, NULL, &error);
    else {
        uint8_t conv[32];
        nip44_conversation_key_from_shared(shared, conv);
        out = nip44_encrypt(conv, (const uint8_t *) text, strlen(text), NULL, 0, NULL, &error);
        sodium_memzero(conv, sizeof conv);
    }
    sodium_memzero(shared, sizeof shared);
    return out;
}
