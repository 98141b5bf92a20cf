/*  relay_proto.h: the NIP-01 relay protocol, as a client speaks it.

    Decodes the messages a relay sends (EVENT, OK, EOSE, CLOSED, NOTICE, AUTH, COUNT) from
    websocket text, with strict types and hard size limits, because every byte comes from an
    untrusted server. Encodes the messages a client sends (REQ, CLOSE, EVENT, AUTH).

    The event inside an EVENT message is handed out as a json-c object, not checked here:
    parsing and verifying it is the job of the event module. Everything else is checked here,
    so the caller can trust the fields of a decoded message (lengths, hex, no NUL bytes).
*/
#ifndef RELAY_PROTO_H_INCLUDED
#define RELAY_PROTO_H_INCLUDED

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Hard limits on relay input. A message over any of them is rejected as a whole.
#define RELAY_PROTO_MAX_MESSAGE   (1024 * 1024)  // bytes of one relay message
#define RELAY_PROTO_MAX_DEPTH     16             // JSON nesting (an event's tags sit at depth 4)
#define RELAY_PROTO_MAX_SUBID     64             // subscription id length, NIP-01
#define RELAY_PROTO_MAX_TEXT      4096           // OK / CLOSED / NOTICE message bytes
#define RELAY_PROTO_MAX_CHALLENGE 1024           // AUTH challenge bytes

//  Decoder results: 0 or one of these.
#define RELAY_PROTO_ETOOBIG  -1   // over RELAY_PROTO_MAX_MESSAGE
#define RELAY_PROTO_EJSON    -2   // not one JSON value, trailing data, or nested too deep
#define RELAY_PROTO_ESHAPE   -3   // not ["TYPE", ...] with the right arity and types
#define RELAY_PROTO_EUNKNOWN -4   // a message type this client does not know
#define RELAY_PROTO_EFIELD   -5   // a field breaks a rule: length, hex, empty, NUL byte

typedef enum {
    RELAY_MSG_EVENT,    // ["EVENT", subid, {event}]
    RELAY_MSG_OK,       // ["OK", event id, accepted, message]
    RELAY_MSG_EOSE,     // ["EOSE", subid]
    RELAY_MSG_CLOSED,   // ["CLOSED", subid, message]
    RELAY_MSG_NOTICE,   // ["NOTICE", message]
    RELAY_MSG_AUTH,     // ["AUTH", challenge]
    RELAY_MSG_COUNT     // ["COUNT", ...] (NIP-45): recognised, not decoded, to be ignored
} relay_msg_type_t;

//  The machine-readable prefix of an OK or CLOSED message: the text before the first ':'.
typedef enum {
    RELAY_REASON_NONE,            // no prefix (or an empty message)
    RELAY_REASON_DUPLICATE,       // "duplicate:" the relay already has it: counts as accepted
    RELAY_REASON_POW,             // "pow:"
    RELAY_REASON_BLOCKED,         // "blocked:"
    RELAY_REASON_RATE_LIMITED,    // "rate-limited:" try again later
    RELAY_REASON_INVALID,         // "invalid:"
    RELAY_REASON_RESTRICTED,      // "restricted:" authenticated but not allowed
    RELAY_REASON_MUTE,            // "mute:"
    RELAY_REASON_ERROR,           // "error:"
    RELAY_REASON_AUTH_REQUIRED,   // "auth-required:" NIP-42: authenticate, then retry
    RELAY_REASON_UNSUPPORTED,     // "unsupported:"
    RELAY_REASON_OTHER            // a prefix not in this list
} relay_reason_t;

//  One decoded relay message. Strings point into `root` (or into the struct): they are valid
//  until relay_msg_release. Fields not used by a type are zero.
typedef struct {
    relay_msg_type_t type;                  // which message
    char subid[RELAY_PROTO_MAX_SUBID + 1];  // EVENT, EOSE, CLOSED: the subscription id
    char event_id[65];                      // OK: 64 lowercase hex characters
    bool accepted;                          // OK: the relay's true/false
    relay_reason_t reason;                  // OK, CLOSED: prefix of `text`
    const char *text;                       // OK, CLOSED, NOTICE: message; AUTH: challenge
    size_t text_len;                        // bytes in `text` (no NUL byte inside)
    json_object *event;                     // EVENT: the event object, borrowed from root
    json_object *root;                      // the whole parsed message, owned
} relay_msg_t;

//  A REQ filter as a client builds it. Counts of 0 leave a key out; so do negative numbers.
typedef struct {
    const int *kinds;               // "kinds": event kinds 0..65535
    size_t kinds_count;             // entries in kinds
    const char *const *authors;     // "authors": 64-char lowercase hex pubkeys
    size_t authors_count;           // entries in authors
    const char *const *p_tags;      // "#p": 64-char lowercase hex pubkeys
    size_t p_tags_count;            // entries in p_tags
    const char *const *e_tags;      // "#e": 64-char lowercase hex event ids
    size_t e_tags_count;            // entries in e_tags
    int64_t since;                  // "since" unix seconds, < 0: absent
    int64_t until;                  // "until" unix seconds, < 0: absent
    int limit;                      // "limit", < 0: absent
} relay_filter_t;

//  Decodes one relay message of `size` bytes. On 0 the caller owns `msg` and must call
//  relay_msg_release; on error `msg` holds nothing to release (releasing it is still safe).
int
    relay_proto_decode (const char *data, size_t size, relay_msg_t *msg);

//  Frees what a decoded message holds and zeroes it.
void
    relay_msg_release (relay_msg_t *msg);

//  A short English text for a decoder result.
const char *
    relay_proto_strerror (int rc);

//  The prefix class of an OK or CLOSED message text.
relay_reason_t
    relay_proto_reason (const char *text, size_t len);

//  The name of a reason ("rate-limited", ...), "" for RELAY_REASON_NONE.
const char *
    relay_proto_reason_name (relay_reason_t reason);

//  True when a subscription id is one this module sends and accepts: 1..64 printable ASCII.
bool
    relay_proto_subid_valid (const char *subid);

//  The filter as a fresh JSON object, or NULL when a field is invalid (bad hex, kind range).
json_object *
    relay_proto_filter_json (const relay_filter_t *filter);

//  ["REQ", subid, filter...] from an array of filter objects (as relay_proto_filter_json
//  builds them). Fresh string, or NULL when the subid is invalid or the array is empty.
char *
    relay_proto_req_json (const char *subid, json_object *filters);

//  ["REQ", subid, filter...] from filter structs. Fresh string, or NULL on invalid input.
char *
    relay_proto_req (const char *subid, const relay_filter_t *filters, size_t count);

//  ["CLOSE", subid]. Fresh string, or NULL when the subid is invalid.
char *
    relay_proto_close (const char *subid);

//  ["EVENT", event] from the event's JSON text, copied byte for byte. Fresh string, or NULL
//  when the text is not a single JSON object.
char *
    relay_proto_event (const char *event_json);

//  ["AUTH", event] from a signed kind-22242 event's JSON text. Same rules as relay_proto_event.
char *
    relay_proto_auth (const char *event_json);

#endif
