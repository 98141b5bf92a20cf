/*  nostr_event.h: NIP-01 events: strict parsing of untrusted JSON, the canonical id
    serialization, wire JSON, building and signing, and the NIP-13 (proof of work) and
    NIP-40 (expiration) checks.

    An event is a plain struct that every actor may read directly: id, pubkey and sig as raw
    bytes, content and tags as owned, NUL-terminated strings with explicit lengths (a string
    may hold U+0000, so use .len). The event owns everything it points to; one
    nostr_event_destroy frees it all. Readers receive `const nostr_event_t *` and must not
    keep pointers into it past its destruction.

    Receiving (relay):   e = nostr_event_parse (text, len, NULL, &err);
                         if (e && (err = nostr_event_check (e)) == 0) accept;
    Sending:             e = nostr_event_new (7000, now, "", 0);
                         nostr_event_add_tagv (e, "status", "processing", NULL);
                         nostr_event_sign (e, keys);  json = nostr_event_to_json (e, &len);

    Parsing checks the input length before anything else, then rejects anything that is not
    strict JSON of exactly the NIP-01 shape: the seven fields, each once, of their JSON type;
    lowercase hex of the exact length for id/pubkey/sig; kind 0..65535; created_at
    0..NOSTR_EVENT_MAX_CREATED_AT; every tag an array of 1..max_tag_elems strings; valid
    UTF-8 everywhere (no lone surrogate escapes); the size limits below. */
#ifndef PYLON_NOSTR_EVENT_H
#define PYLON_NOSTR_EVENT_H
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nostr_keys.h"

//  A string owned by an event: NUL-terminated, but may contain NULs; len is authoritative.
typedef struct {
    char *str;                  //  The bytes (UTF-8), followed by a NUL
    size_t len;                 //  Length in bytes, without the final NUL
} nostr_str_t;

//  One tag: ["name", "value", ...]. Always at least one element.
typedef struct {
    nostr_str_t *elems;         //  The elements; elems[0] is the tag name
    size_t count;               //  Number of elements, >= 1
} nostr_tag_t;

typedef struct {
    uint8_t id[32];             //  SHA-256 of the canonical serialization
    uint8_t pubkey[32];         //  Author's x-only public key
    uint8_t sig[64];            //  BIP-340 signature of id
    int64_t created_at;         //  Unix seconds, 0..NOSTR_EVENT_MAX_CREATED_AT
    uint32_t kind;              //  0..65535
    nostr_str_t content;        //  The content string
    nostr_tag_t *tags;          //  tag_count tags, in order
    size_t tag_count;           //  Number of tags
    size_t tag_alloc;           //  Slots allocated in tags (internal)
} nostr_event_t;

//  Limits applied to untrusted input. Zero in a field means "use the default".
typedef struct {
    size_t max_json;            //  Whole JSON text in bytes (default 256 KiB)
    size_t max_tags;            //  Number of tags (default 5,000: large contact lists)
    size_t max_tag_elems;       //  Elements in one tag (default 64)
    size_t max_string;          //  Decoded bytes of one tag element (default 64 KiB)
    size_t max_content;         //  Decoded bytes of content (default 256 KiB)
} nostr_event_limits_t;

#define NOSTR_EVENT_DEFAULT_MAX_JSON      (256 * 1024)
#define NOSTR_EVENT_DEFAULT_MAX_TAGS      5000
#define NOSTR_EVENT_DEFAULT_MAX_TAG_ELEMS 64
#define NOSTR_EVENT_DEFAULT_MAX_STRING    (64 * 1024)
#define NOSTR_EVENT_DEFAULT_MAX_CONTENT   (256 * 1024)
#define NOSTR_EVENT_MAX_CREATED_AT        ((int64_t) 1 << 40)   //  Year ~36812: ample
#define NOSTR_EVENT_MAX_DEPTH             3     //  event object > tags array > tag array

//  Error codes (negative). nostr_event_strerror gives a NIP-01 "invalid: ..." style text.
enum {
    NOSTR_EVENT_OK = 0,
    NOSTR_EVENT_ERR_TOO_LARGE = -1,     //  Input longer than max_json
    NOSTR_EVENT_ERR_JSON = -2,          //  Not strict JSON (syntax, raw control, bad escape)
    NOSTR_EVENT_ERR_DEPTH = -3,         //  Nested deeper than an event can be
    NOSTR_EVENT_ERR_UTF8 = -4,          //  Invalid UTF-8 or a lone surrogate escape
    NOSTR_EVENT_ERR_SHAPE = -5,         //  Not an object, or a field missing, repeated, unknown
    NOSTR_EVENT_ERR_TYPE = -6,          //  A field of the wrong JSON type
    NOSTR_EVENT_ERR_HEX = -7,           //  id/pubkey/sig not lowercase hex of the right length
    NOSTR_EVENT_ERR_RANGE = -8,         //  kind or created_at out of range
    NOSTR_EVENT_ERR_TAGS = -9,          //  Too many tags, an empty tag, too many elements
    NOSTR_EVENT_ERR_STRING = -10,       //  A tag element or the content too long
    NOSTR_EVENT_ERR_ID = -11,           //  id is not the hash of the event
    NOSTR_EVENT_ERR_SIG = -12,          //  Signature invalid, or pubkey not on the curve
    NOSTR_EVENT_ERR_NOMEM = -13         //  Out of memory
};

//  --- Building ------------------------------------------------------------------------

//  A new unsigned event (id, pubkey, sig zero). Copies CONTENT. NULL if CONTENT is not valid
//  UTF-8 (it could not be signed interoperably), kind > 65535 or created_at out of range.
nostr_event_t *
    nostr_event_new (uint32_t kind, int64_t created_at, const char *content,
                     size_t content_len);

//  Append a tag of COUNT NUL-terminated strings (copied). -1 if COUNT is 0, a string is not
//  valid UTF-8, or memory runs out.
int
    nostr_event_add_tag (nostr_event_t *self, size_t count, const char *const *elems);

//  The same with explicit lengths, for strings that may contain NUL bytes.
int
    nostr_event_add_tag_len (nostr_event_t *self, size_t count, const char *const *elems,
                             const size_t *lens);

//  The same with the strings as arguments, ended by NULL:
//  nostr_event_add_tagv (e, "e", id_hex, relay, NULL).
int
    nostr_event_add_tagv (nostr_event_t *self, const char *name, ...);

//  Set pubkey from KEYS, compute id and sign it (fresh aux randomness). 0 or -1.
int
    nostr_event_sign (nostr_event_t *self, const nostr_keys_t *keys);

//  As nostr_event_sign with the given 32 bytes of aux randomness (deterministic tests).
int
    nostr_event_sign_aux (nostr_event_t *self, const nostr_keys_t *keys,
                          const uint8_t aux[32]);

//  Free the event and everything it owns, and null the pointer. Safe on NULL.
void
    nostr_event_destroy (nostr_event_t **self_p);

//  --- Receiving -----------------------------------------------------------------------

//  Parse untrusted JSON text (LEN bytes, need not be NUL-terminated) into a new event.
//  LIMITS NULL means the defaults. On failure returns NULL and sets *ERROR (if not NULL);
//  the id and signature are NOT checked here: call nostr_event_check.
nostr_event_t *
    nostr_event_parse (const char *json, size_t len, const nostr_event_limits_t *limits,
                       int *error);

//  The same from an already parsed json-c object (e.g. the third element of a relay's
//  ["EVENT", sub, {...}] message). json-c keeps only the last of repeated keys and decodes
//  lone surrogates to U+FFFD, so those two checks are only made by nostr_event_parse.
nostr_event_t *
    nostr_event_from_object (json_object *object, const nostr_event_limits_t *limits,
                             int *error);

//  Recompute the id, compare it with self->id, then verify the signature. 0 when both
//  hold, else NOSTR_EVENT_ERR_ID or NOSTR_EVENT_ERR_SIG.
int
    nostr_event_check (const nostr_event_t *self);

//  --- Serialization -------------------------------------------------------------------

//  The id of the event's current content: SHA-256 of the canonical serialization.
//  0, or -1 if memory runs out (only events over 4 KiB need a heap buffer).
int
    nostr_event_compute_id (const nostr_event_t *self, uint8_t id[32]);

//  The canonical serialization [0,"pubkey",created_at,kind,tags,"content"], exactly as
//  JavaScript's JSON.stringify writes it. Fresh, NUL-terminated; *LEN gets its length.
char *
    nostr_event_serialize (const nostr_event_t *self, size_t *len);

//  Wire JSON {"id":..,"pubkey":..,"created_at":..,"kind":..,"tags":..,"content":..,"sig":..}
//  with the same string escaping. Fresh, NUL-terminated; *LEN (if not NULL) its length.
char *
    nostr_event_to_json (const nostr_event_t *self, size_t *len);

//  --- Tags, NIP-13, NIP-40 --------------------------------------------------------------

//  The first tag whose name is NAME, or NULL.
const nostr_tag_t *
    nostr_event_tag (const nostr_event_t *self, const char *name);

//  NIP-13 difficulty: the number of leading zero bits of ID (0..256).
int
    nostr_event_difficulty (const uint8_t id[32]);

//  NIP-13 check: true if the id has at least MIN_BITS leading zero bits and the ["nonce",
//  counter, target] tag commits to a target of at least MIN_BITS (a lucky low-target
//  event does not count). MIN_BITS <= 0 always passes.
bool
    nostr_event_pow_ok (const nostr_event_t *self, int min_bits);

//  NIP-40: the ["expiration", "<unix seconds>"] tag. 1 with *WHEN set, 0 if there is none,
//  -1 if its value is not a plain decimal number.
int
    nostr_event_expiration (const nostr_event_t *self, int64_t *when);

//  NIP-40: true if the event carries an expiration time and NOW is past it (now > when).
bool
    nostr_event_expired (const nostr_event_t *self, int64_t now);

//  Text for an error code, in NIP-01 OK-message form ("invalid: ...").
const char *
    nostr_event_strerror (int error);

//  Lowercase hex of LEN bytes into OUT (2*LEN+1 bytes, NUL-terminated).
void
    nostr_event_hex (const uint8_t *bytes, size_t len, char *out);

//  Decode exactly 2*LEN lowercase hex characters of HEX into OUT. 0, or -1 on any other input.
int
    nostr_event_unhex (const char *hex, size_t hex_len, uint8_t *out, size_t len);

#endif
