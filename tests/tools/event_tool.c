/*  event_tool.c: the C side of tests/integration/interop_events.mjs. Reads one JSON request
    per line on stdin and writes one JSON answer per line on stdout, so that thousands of
    cases cross the process boundary in one run. Requests ("op" selects):

      {"op":"sign","seckey":hex,"kind":n,"created_at":n,"tags":[[..]],"content":s}
          -> the signed event as wire JSON (written by nostr_event_to_json)
      {"op":"verify","event":"<event JSON text>"}
          -> {"ok":bool,"id":hex,"error":s}   (strict parse, id recomputed, signature checked)
      {"op":"nip44_encrypt","seckey":hex,"pubkey":hex,"plaintext":s}  -> {"payload":s}
      {"op":"nip44_decrypt","seckey":hex,"pubkey":hex,"payload":s}    -> {"plaintext":s}
      {"op":"nip04_encrypt","seckey":hex,"pubkey":hex,"plaintext":s}  -> {"content":s}
      {"op":"nip04_decrypt","seckey":hex,"pubkey":hex,"content":s}    -> {"plaintext":s}

    Any failure answers {"error":"..."}; the tool itself keeps going. */
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nip04.h"
#include "nip44.h"
#include "nostr_event.h"
#include "nostr_keys.h"

#define s_MAX_LINE (4 * 1024 * 1024)

static const char *
s_string (json_object *request, const char *key, size_t *len)
{
    json_object *value;
    if (!json_object_object_get_ex (request, key, &value)
    ||  !json_object_is_type (value, json_type_string))
        return NULL;
    if (len)
        *len = (size_t) json_object_get_string_len (value);
    return json_object_get_string (value);
}

static int
s_hex_field (json_object *request, const char *key, uint8_t *out, size_t len)
{
    size_t hex_len;
    const char *hex = s_string (request, key, &hex_len);
    return hex ? nostr_event_unhex (hex, hex_len, out, len) : -1;
}

//  Print {"KEY": VALUE (a string of LEN bytes)} on one line.
static void
s_answer (const char *key, const char *value, size_t len)
{
    json_object *answer = json_object_new_object ();
    json_object_object_add (answer, key, json_object_new_string_len (value, (int) len));
    puts (json_object_to_json_string_ext (answer, JSON_C_TO_STRING_PLAIN
                                                  | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put (answer);
}

static void
s_error (const char *text)
{
    s_answer ("error", text, strlen (text));
}

static void
s_sign (json_object *request)
{
    uint8_t seckey [32];
    json_object *kind, *created_at, *tags;
    size_t content_len;
    const char *content = s_string (request, "content", &content_len);
    if (s_hex_field (request, "seckey", seckey, 32) || !content
    ||  !json_object_object_get_ex (request, "kind", &kind)
    ||  !json_object_object_get_ex (request, "created_at", &created_at)
    ||  !json_object_object_get_ex (request, "tags", &tags)) {
        s_error ("bad sign request");
        return;
    }
    nostr_keys_t *keys = nostr_keys_new (seckey);
    sodium_memzero (seckey, sizeof seckey);
    nostr_event_t *event = nostr_event_new ((uint32_t) json_object_get_int64 (kind),
                                            json_object_get_int64 (created_at),
                                            content, content_len);
    int rc = keys && event ? 0 : -1;
    for (size_t t = 0; rc == 0 && t < json_object_array_length (tags); t++) {
        json_object *tag = json_object_array_get_idx (tags, t);
        size_t count = json_object_array_length (tag);
        const char **elems = (const char **) calloc (count + 1, sizeof (char *));
        size_t *lens = (size_t *) calloc (count + 1, sizeof (size_t));
        for (size_t e = 0; e < count; e++) {
            json_object *item = json_object_array_get_idx (tag, e);
            elems [e] = json_object_get_string (item);
            lens [e] = (size_t) json_object_get_string_len (item);
        }
        rc = nostr_event_add_tag_len (event, count, elems, lens);
        free ((void *) elems);
        free (lens);
    }
    if (rc == 0)
        rc = nostr_event_sign (event, keys);
    char *json = rc == 0 ? nostr_event_to_json (event, NULL) : NULL;
    if (json)
        puts (json);
    else
        s_error ("cannot build or sign");
    free (json);
    nostr_event_destroy (&event);
    nostr_keys_destroy (&keys);
}

static void
s_verify (json_object *request)
{
    size_t len;
    const char *text = s_string (request, "event", &len);
    if (!text) {
        s_error ("bad verify request");
        return;
    }
    int err;
    nostr_event_t *event = nostr_event_parse (text, len, NULL, &err);
    char id_hex [65] = "";
    if (event) {
        uint8_t id [32];
        nostr_event_compute_id (event, id);
        nostr_event_hex (id, 32, id_hex);
        err = nostr_event_check (event);
    }
    printf ("{\"ok\":%s,\"id\":\"%s\",\"error\":\"%s\"}\n", err == 0 ? "true" : "false",
            id_hex, nostr_event_strerror (err));
    nostr_event_destroy (&event);
}

//  The shared x of SECKEY and PUBKEY from the request, for both ciphers.
static int
s_shared_x (json_object *request, uint8_t shared_x[32])
{
    uint8_t seckey [32], pubkey [32];
    int rc = -1;
    if (s_hex_field (request, "seckey", seckey, 32) == 0
    &&  s_hex_field (request, "pubkey", pubkey, 32) == 0)
        rc = nostr_keys_ecdh_raw (seckey, pubkey, shared_x);
    sodium_memzero (seckey, sizeof seckey);
    return rc;
}

static void
s_cipher (json_object *request, const char *op)
{
    uint8_t shared_x [32], conv [32];
    if (s_shared_x (request, shared_x)) {
        s_error ("bad keys");
        return;
    }
    nip44_conversation_key_from_shared (shared_x, conv);
    bool nip44 = strncmp (op, "nip44", 5) == 0;
    bool encrypt = strstr (op, "encrypt") != NULL;
    const char *input_key = encrypt ? "plaintext" : nip44 ? "payload" : "content";
    size_t in_len, out_len = 0;
    const char *input = s_string (request, input_key, &in_len);
    int err = -1;
    char *out = NULL;
    if (input) {
        if (nip44 && encrypt)
            out = nip44_encrypt (conv, (const uint8_t *) input, in_len, NULL, 0, &out_len, &err);
        else
        if (nip44)
            out = (char *) nip44_decrypt (conv, input, in_len, 0, &out_len, &err);
        else
        if (encrypt)
            out = nip04_encrypt (shared_x, (const uint8_t *) input, in_len, NULL, 0, &out_len,
                                 &err);
        else
            out = (char *) nip04_decrypt (shared_x, input, in_len, 0, &out_len, &err);
    }
    sodium_memzero (shared_x, sizeof shared_x);
    sodium_memzero (conv, sizeof conv);
    if (!out)
        s_error (!input ? "bad request" : nip44 ? nip44_strerror (err) : nip04_strerror (err));
    else
        s_answer (encrypt ? (nip44 ? "payload" : "content") : "plaintext", out, out_len);
    free (out);
}

int
main (void)
{
    char *line = NULL;
    size_t size = 0;
    ssize_t got;
    while ((got = getline (&line, &size, stdin)) > 0) {
        if (got > s_MAX_LINE) {
            s_error ("line too long");
            continue;
        }
        json_tokener *tokener = json_tokener_new_ex (16);
        json_object *request = json_tokener_parse_ex (tokener, line, (int) got);
        json_tokener_free (tokener);
        const char *op = request ? s_string (request, "op", NULL) : NULL;
        if (!op)
            s_error ("bad request");
        else
        if (strcmp (op, "sign") == 0)
            s_sign (request);
        else
        if (strcmp (op, "verify") == 0)
            s_verify (request);
        else
        if (strncmp (op, "nip44_", 6) == 0 || strncmp (op, "nip04_", 6) == 0)
            s_cipher (request, op);
        else
            s_error ("unknown op");
        json_object_put (request);
        fflush (stdout);
    }
    free (line);
    return 0;
}
