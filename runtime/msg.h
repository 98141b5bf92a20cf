/*  msg.h: the actor-to-actor messages and their msgpack codec.

    The catalogue is schemas/messages.def; this header turns it into C: an enum of type ids, a
    struct per message, and msg_t, the tagged union every actor sends and receives. Nothing
    here is written by hand per message: add a message to messages.def and it has a struct, an
    encoder, a bounds-checked decoder, a printer and a round-trip test.

    Ownership: to send, fill a msg_t whose STR/BIN fields point at the caller's data and call
    msg_encode(). msg_decode() copies strings and bytes into the msg_t's own arena (each STR is
    NUL-terminated), valid until the next msg_decode() into the same msg_t or msg_release(). */
#ifndef PYLON_MSG_H
#define PYLON_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "messages.def"

#define MSG_VERSION   1
#define MSG_MAX_SIZE  (4 * 1024 * 1024)   /* one encoded message, bytes */
#define MSG_NAME_MAX  31                  /* an actor's name, bytes */

typedef enum {
#define MSG_ENUM(id, NAME, name, summary) MSG_##NAME = id,
    PYLON_MESSAGES(MSG_ENUM)
#undef MSG_ENUM
} msg_type_t;

#define MSG_FIELD_U64(name)  uint64_t name;
#define MSG_FIELD_I64(name)  int64_t name;
#define MSG_FIELD_F64(name)  double name;
#define MSG_FIELD_BOOL(name) bool name;
#define MSG_FIELD_STR(name)  const char *name;
#define MSG_FIELD_BIN(name)  const uint8_t *name; size_t name##_size;
#define MSG_FIELD_H32(name)  uint8_t name[32];
#define MSG_FIELD(TYPE, name, max) MSG_FIELD_##TYPE(name)

#define MSG_STRUCT(id, NAME, name, summary) typedef struct { NAME##_FIELDS(MSG_FIELD) } msg_##name##_t;
PYLON_MESSAGES(MSG_STRUCT)
#undef MSG_STRUCT

typedef struct {
    msg_type_t type;                    /* which member of the union is valid */
    char from[MSG_NAME_MAX + 1];        /* sending actor's name */
    char to[MSG_NAME_MAX + 1];          /* receiving actor's name */
    union {
#define MSG_MEMBER(id, NAME, name, summary) msg_##name##_t name;
        PYLON_MESSAGES(MSG_MEMBER)
#undef MSG_MEMBER
    };
    char *arena;                        /* decoder's copy of strings and bytes (owned) */
    size_t arena_size;                  /* bytes allocated in arena */
} msg_t;

/* Decoder results: 0, or one of these (each a different reason, see msg_strerror). */
enum {
    MSG_ERR_TRUNCATED  = -1,    /* input ends inside a value */
    MSG_ERR_MALFORMED  = -2,    /* not a msgpack array of the envelope's shape */
    MSG_ERR_VERSION    = -3,    /* unknown MSG_VERSION */
    MSG_ERR_UNKNOWN    = -4,    /* unknown message type id */
    MSG_ERR_FIELDS     = -5,    /* wrong number of fields for the type */
    MSG_ERR_TYPE       = -6,    /* a field of the wrong msgpack type */
    MSG_ERR_OVERSIZE   = -7,    /* a field or the whole message over its limit */
    MSG_ERR_TRAILING   = -8,    /* bytes after the message */
    MSG_ERR_TEXT       = -9,    /* a STR with a NUL byte or invalid UTF-8 */
};

/* A growable output buffer for msg_encode (reuse it: it keeps its allocation). */
typedef struct {
    uint8_t *data;
    size_t size;        /* bytes written */
    size_t capacity;    /* bytes allocated */
} msg_buf_t;

/* Encode msg into out (out->size = 0 first). Returns 0 or MSG_ERR_OVERSIZE / MSG_ERR_UNKNOWN /
   MSG_ERR_TEXT when msg breaks the catalogue's limits (a bug in the sender). */
int msg_encode(const msg_t *msg, msg_buf_t *out);
/* Decode one message; on error msg->type is 0 and nothing else is meaningful. */
int msg_decode(msg_t *msg, const uint8_t *data, size_t size);
/* Free what msg_decode allocated. */
void msg_release(msg_t *msg);
void msg_buf_free(msg_buf_t *buf);

const char *msg_strerror(int rc);
/* "relay_event", or NULL for an unknown id. */
const char *msg_type_name(int type);
/* Type id of a name, or -1. */
int msg_type_by_name(const char *name);
/* One line, "from->to name field=value ...", strings cut at max_text bytes. */
void msg_print(FILE *out, const msg_t *msg, size_t max_text);

/* Set an actor name field (from/to) safely. */
void msg_set_route(msg_t *msg, const char *from, const char *to);

#endif
