/*  relay_proto.c: decode relay-to-client messages, encode client-to-relay messages (NIP-01).

    The decoder parses with a depth-limited json-c tokener over an explicit length, refuses
    trailing data, then checks the array's arity and each element's type before copying or
    pointing at anything. See relay_proto.h for the limits and the meaning of each field.
*/
#include "relay_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Prefix names, indexed by relay_reason_t.
static const char *s_reason_names[] = {
    [RELAY_REASON_NONE] = "",
    [RELAY_REASON_DUPLICATE] = "duplicate",
    [RELAY_REASON_POW] = "pow",
    [RELAY_REASON_BLOCKED] = "blocked",
    [RELAY_REASON_RATE_LIMITED] = "rate-limited",
    [RELAY_REASON_INVALID] = "invalid",
    [RELAY_REASON_RESTRICTED] = "restricted",
    [RELAY_REASON_MUTE] = "mute",
    [RELAY_REASON_ERROR] = "error",
    [RELAY_REASON_AUTH_REQUIRED] = "auth-required",
    [RELAY_REASON_UNSUPPORTED] = "unsupported",
    [RELAY_REASON_OTHER] = "other",
};

const char *
relay_proto_strerror (int rc)
{
    switch (rc) {
        case 0: return "ok";
        case RELAY_PROTO_ETOOBIG: return "message too big";
        case RELAY_PROTO_EJSON: return "not a single JSON value (or nested too deep)";
        case RELAY_PROTO_ESHAPE: return "wrong message shape (arity or element types)";
        case RELAY_PROTO_EUNKNOWN: return "unknown message type";
        case RELAY_PROTO_EFIELD: return "invalid field (length, hex, empty or NUL byte)";
        default: return "unknown error";
    }
}

const char *
relay_proto_reason_name (relay_reason_t reason)
{
    if ((size_t) reason >= sizeof s_reason_names / sizeof s_reason_names [0])
        return "other";
    return s_reason_names [reason];
}

relay_reason_t
relay_proto_reason (const char *text, size_t len)
{
    if (!text || len == 0)
        return RELAY_REASON_NONE;
    const char *colon = memchr (text, ':', len);
    if (!colon)
        return RELAY_REASON_NONE;
    size_t prefix_len = (size_t) (colon - text);
    for (size_t i = RELAY_REASON_DUPLICATE; i < RELAY_REASON_OTHER; i++) {
        if (strlen (s_reason_names [i]) == prefix_len
        &&  memcmp (s_reason_names [i], text, prefix_len) == 0)
            return (relay_reason_t) i;
    }
    return RELAY_REASON_OTHER;
}

static bool
s_is_lower_hex (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool
s_subid_valid (const char *subid, size_t len)
{
    if (len == 0 || len > RELAY_PROTO_MAX_SUBID)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) subid [i] < 0x20 || (unsigned char) subid [i] == 0x7f)
            return false;       //  no control bytes, in particular no NUL
    return true;
}

bool
relay_proto_subid_valid (const char *subid)
{
    return subid && s_subid_valid (subid, strnlen (subid, RELAY_PROTO_MAX_SUBID + 1));
}

//  The string at index `i` of `array`, with its length; NULL if that element is not a string.
static const char *
s_string_at (json_object *array, size_t i, size_t *len)
{
    json_object *item = json_object_array_get_idx (array, i);
    if (!json_object_is_type (item, json_type_string))
        return NULL;
    *len = (size_t) json_object_get_string_len (item);
    return json_object_get_string (item);
}

//  A text field (message, challenge): at most `max` bytes and no NUL byte inside.
static int
s_take_text (relay_msg_t *msg, size_t i, size_t max)
{
    size_t len;
    const char *text = s_string_at (msg->root, i, &len);
    if (!text)
        return RELAY_PROTO_ESHAPE;
    if (len > max || memchr (text, '\0', len))
        return RELAY_PROTO_EFIELD;
    msg->text = text;
    msg->text_len = len;
    return 0;
}

static int
s_take_subid (relay_msg_t *msg, size_t i)
{
    size_t len;
    const char *subid = s_string_at (msg->root, i, &len);
    if (!subid)
        return RELAY_PROTO_ESHAPE;
    if (!s_subid_valid (subid, len))
        return RELAY_PROTO_EFIELD;
    memcpy (msg->subid, subid, len);
    msg->subid [len] = '\0';
    return 0;
}

//  Checks the array's element count against [min, max] for the message type.
static int
s_arity (size_t count, size_t min, size_t max)
{
    return count >= min && count <= max ? 0 : RELAY_PROTO_ESHAPE;
}

static int
s_decode_fields (relay_msg_t *msg)
{
    json_object *root = msg->root;
    size_t count = json_object_array_length (root);
    size_t type_len;
    const char *type = count ? s_string_at (root, 0, &type_len) : NULL;
    if (!type)
        return RELAY_PROTO_ESHAPE;
    int rc;

    if (strcmp (type, "EVENT") == 0) {
        msg->type = RELAY_MSG_EVENT;
        if ((rc = s_arity (count, 3, 3)) || (rc = s_take_subid (msg, 1)))
            return rc;
        msg->event = json_object_array_get_idx (root, 2);
        return json_object_is_type (msg->event, json_type_object) ? 0 : RELAY_PROTO_ESHAPE;
    }
    if (strcmp (type, "OK") == 0) {
        msg->type = RELAY_MSG_OK;
        //  NIP-01 says the message is always there; some old relays leave it out: tolerated.
        if ((rc = s_arity (count, 3, 4)))
            return rc;
        size_t id_len;
        const char *id = s_string_at (root, 1, &id_len);
        json_object *accepted = json_object_array_get_idx (root, 2);
        if (!id || !json_object_is_type (accepted, json_type_boolean))
            return RELAY_PROTO_ESHAPE;
        if (id_len != 64 || !s_is_lower_hex (id, 64))
            return RELAY_PROTO_EFIELD;
        memcpy (msg->event_id, id, 64);
        msg->event_id [64] = '\0';
        msg->accepted = json_object_get_boolean (accepted);
        if (count == 4 && (rc = s_take_text (msg, 3, RELAY_PROTO_MAX_TEXT)))
            return rc;
        if (count == 3)
            msg->text = "";
        msg->reason = relay_proto_reason (msg->text, msg->text_len);
        return 0;
    }
    if (strcmp (type, "EOSE") == 0) {
        msg->type = RELAY_MSG_EOSE;
        if ((rc = s_arity (count, 2, 2)))
            return rc;
        return s_take_subid (msg, 1);
    }
    if (strcmp (type, "CLOSED") == 0) {
        msg->type = RELAY_MSG_CLOSED;
        if ((rc = s_arity (count, 2, 3)) || (rc = s_take_subid (msg, 1)))
            return rc;
        if (count == 3 && (rc = s_take_text (msg, 2, RELAY_PROTO_MAX_TEXT)))
            return rc;
        if (count == 2)
            msg->text = "";
        msg->reason = relay_proto_reason (msg->text, msg->text_len);
        return 0;
    }
    if (strcmp (type, "NOTICE") == 0) {
        msg->type = RELAY_MSG_NOTICE;
        if ((rc = s_arity (count, 2, 2)))
            return rc;
        return s_take_text (msg, 1, RELAY_PROTO_MAX_TEXT);
    }
    if (strcmp (type, "AUTH") == 0) {
        msg->type = RELAY_MSG_AUTH;
        if ((rc = s_arity (count, 2, 2)) || (rc = s_take_text (msg, 1, RELAY_PROTO_MAX_CHALLENGE)))
            return rc;
        return msg->text_len > 0 ? 0 : RELAY_PROTO_EFIELD;
    }
    if (strcmp (type, "COUNT") == 0) {
        msg->type = RELAY_MSG_COUNT;
        return 0;
    }
    return RELAY_PROTO_EUNKNOWN;
}

int
relay_proto_decode (const char *data, size_t size, relay_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    if (size > RELAY_PROTO_MAX_MESSAGE)
        return RELAY_PROTO_ETOOBIG;
    if (!data || size == 0)
        return RELAY_PROTO_EJSON;

    json_tokener *tok = json_tokener_new_ex (RELAY_PROTO_MAX_DEPTH);
    if (!tok)
        return RELAY_PROTO_EJSON;
    json_object *root = json_tokener_parse_ex (tok, data, (int) size);
    enum json_tokener_error err = json_tokener_get_error (tok);
    size_t end = json_tokener_get_parse_end (tok);
    json_tokener_free (tok);
    if (!root || err != json_tokener_success) {
        json_object_put (root);
        return RELAY_PROTO_EJSON;
    }
    //  One value only: trailing whitespace is fine, anything else is not.
    for (; end < size; end++) {
        char c = data [end];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put (root);
            return RELAY_PROTO_EJSON;
        }
    }
    if (!json_object_is_type (root, json_type_array)) {
        json_object_put (root);
        return RELAY_PROTO_ESHAPE;
    }
    msg->root = root;
    int rc = s_decode_fields (msg);
    if (rc != 0)
        relay_msg_release (msg);
    return rc;
}

void
relay_msg_release (relay_msg_t *msg)
{
    if (!msg)
        return;
    json_object_put (msg->root);
    memset (msg, 0, sizeof *msg);
}

//  ---------------------------------------------------------------------------------------
//  Encoding

//  A fresh copy of the plain (no whitespace, no "\/") text of `value`.
static char *
s_to_text (json_object *value)
{
    const char *text = json_object_to_json_string_ext (
        value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return text ? strdup (text) : NULL;
}

//  Adds `key`: [hex strings] to `filter`; false when a value is not 64-char lowercase hex.
static bool
s_add_hex_list (json_object *filter, const char *key, const char *const *values, size_t count)
{
    if (count == 0)
        return true;
    if (!values)
        return false;
    json_object *list = json_object_new_array_ext ((int) count);
    json_object_object_add (filter, key, list);
    for (size_t i = 0; i < count; i++) {
        if (!values [i] || strlen (values [i]) != 64 || !s_is_lower_hex (values [i], 64))
            return false;
        json_object_array_add (list, json_object_new_string_len (values [i], 64));
    }
    return true;
}

json_object *
relay_proto_filter_json (const relay_filter_t *f)
{
    json_object *filter = json_object_new_object ();
    bool valid = f != NULL;
    if (valid && f->kinds_count > 0) {
        json_object *kinds = json_object_new_array_ext ((int) f->kinds_count);
        json_object_object_add (filter, "kinds", kinds);
        for (size_t i = 0; valid && i < f->kinds_count; i++) {
            valid = f->kinds && f->kinds [i] >= 0 && f->kinds [i] <= 65535;
            if (valid)
                json_object_array_add (kinds, json_object_new_int (f->kinds [i]));
        }
    }
    valid = valid
         && s_add_hex_list (filter, "authors", f->authors, f->authors_count)
         && s_add_hex_list (filter, "#p", f->p_tags, f->p_tags_count)
         && s_add_hex_list (filter, "#e", f->e_tags, f->e_tags_count);
    if (valid && f->since >= 0)
        json_object_object_add (filter, "since", json_object_new_int64 (f->since));
    if (valid && f->until >= 0)
        json_object_object_add (filter, "until", json_object_new_int64 (f->until));
    if (valid && f->limit >= 0)
        json_object_object_add (filter, "limit", json_object_new_int (f->limit));
    if (!valid) {
        json_object_put (filter);
        return NULL;
    }
    return filter;
}

char *
relay_proto_req_json (const char *subid, json_object *filters)
{
    if (!relay_proto_subid_valid (subid) || !json_object_is_type (filters, json_type_array)
    ||  json_object_array_length (filters) == 0)
        return NULL;
    json_object *req = json_object_new_array ();
    json_object_array_add (req, json_object_new_string ("REQ"));
    json_object_array_add (req, json_object_new_string (subid));
    for (size_t i = 0; i < json_object_array_length (filters); i++)
        json_object_array_add (req, json_object_get (json_object_array_get_idx (filters, i)));
    char *text = s_to_text (req);
    json_object_put (req);
    return text;
}

char *
relay_proto_req (const char *subid, const relay_filter_t *filters, size_t count)
{
    if (!filters || count == 0)
        return NULL;
    json_object *list = json_object_new_array ();
    for (size_t i = 0; i < count; i++) {
        json_object *filter = relay_proto_filter_json (&filters [i]);
        if (!filter) {
            json_object_put (list);
            return NULL;
        }
        json_object_array_add (list, filter);
    }
    char *text = relay_proto_req_json (subid, list);
    json_object_put (list);
    return text;
}

char *
relay_proto_close (const char *subid)
{
    if (!relay_proto_subid_valid (subid))
        return NULL;
    json_object *close = json_object_new_array ();
    json_object_array_add (close, json_object_new_string ("CLOSE"));
    json_object_array_add (close, json_object_new_string (subid));
    char *text = s_to_text (close);
    json_object_put (close);
    return text;
}

//  ["<type>", <event text>] with the event's bytes kept as they are (its id and signature
//  were computed over its fields, and re-serializing could change number or escape forms).
static char *
s_wrap_event (const char *type, const char *event_json)
{
    if (!event_json)
        return NULL;
    size_t len = strlen (event_json);
    if (len == 0 || len > RELAY_PROTO_MAX_MESSAGE)
        return NULL;
    json_tokener *tok = json_tokener_new_ex (RELAY_PROTO_MAX_DEPTH);
    json_object *event = json_tokener_parse_ex (tok, event_json, (int) len);
    bool whole = json_tokener_get_error (tok) == json_tokener_success
              && json_tokener_get_parse_end (tok) == len;
    json_tokener_free (tok);
    bool is_object = json_object_is_type (event, json_type_object);
    json_object_put (event);
    if (!whole || !is_object)
        return NULL;
    size_t size = strlen (type) + len + 8;
    char *text = malloc (size);
    if (text)
        snprintf (text, size, "[\"%s\",%s]", type, event_json);
    return text;
}

char *
relay_proto_event (const char *event_json)
{
    return s_wrap_event ("EVENT", event_json);
}

char *
relay_proto_auth (const char *event_json)
{
    return s_wrap_event ("AUTH", event_json);
}
