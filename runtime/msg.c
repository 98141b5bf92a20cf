/*  msg.c: see msg.h. Encoding uses msgpack-c's packer. Decoding uses a small cursor of our
    own instead of msgpack-c's unpacker, which builds the whole object tree in memory sized by
    the lengths the input claims (a 5-byte array32 header asks for gigabytes) before anything
    can be checked. Our messages are flat and typed, so the cursor checks each field against
    the catalogue as it reads it and never allocates more than the input's own size. */
#include "msg.h"
#include "utf8.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoding -------------------------------------------------------------------------- */

static int
s_buf_write(void *data, const char *bytes, size_t len)
{
    msg_buf_t *buf = data;
    if (buf->size + len > buf->capacity) {
        size_t capacity = buf->capacity ? buf->capacity : 256;
        while (capacity < buf->size + len)
            capacity *= 2;
        buf->data = realloc(buf->data, capacity);
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->size, bytes, len);
    buf->size += len;
    return 0;
}

static int
s_pack_str(msgpack_packer *pk, const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len > max)
        return MSG_ERR_OVERSIZE;
    if (!utf8_valid(s ? s : "", len))
        return MSG_ERR_TEXT;
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s ? s : "", len);
    return 0;
}

#define ENC_U64(m, name, max)  msgpack_pack_uint64(&pk, m->name);
#define ENC_I64(m, name, max)  msgpack_pack_int64(&pk, m->name);
#define ENC_F64(m, name, max)  msgpack_pack_double(&pk, m->name);
#define ENC_BOOL(m, name, max) if (m->name) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
#define ENC_STR(m, name, max)  if ((rc = s_pack_str(&pk, m->name, max))) return rc;
#define ENC_BIN(m, name, max) \
    if (m->name##_size > max) return MSG_ERR_OVERSIZE; \
    msgpack_pack_bin(&pk, m->name##_size); msgpack_pack_bin_body(&pk, m->name, m->name##_size);
#define ENC_H32(m, name, max)  msgpack_pack_bin(&pk, 32); msgpack_pack_bin_body(&pk, m->name, 32);
#define ENC_FIELD(TYPE, name, max) ENC_##TYPE(m, name, max)
#define COUNT_FIELD(TYPE, name, max) + 1

int
msg_encode(const msg_t *msg, msg_buf_t *out)
{
    out->size = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_buf_write);
    int rc;
    switch (msg->type) {
#define ENC_CASE(id, NAME, name, summary) \
    case MSG_##NAME: { \
        const msg_##name##_t *m = &msg->name; \
        msgpack_pack_array(&pk, 4 NAME##_FIELDS(COUNT_FIELD)); \
        msgpack_pack_uint8(&pk, MSG_VERSION); \
        msgpack_pack_uint16(&pk, id); \
        if ((rc = s_pack_str(&pk, msg->from, MSG_NAME_MAX)) || (rc = s_pack_str(&pk, msg->to, MSG_NAME_MAX))) \
            return rc; \
        NAME##_FIELDS(ENC_FIELD) \
        break; \
    }
        PYLON_MESSAGES(ENC_CASE)
#undef ENC_CASE
    default:
        return MSG_ERR_UNKNOWN;
    }
    return out->size > MSG_MAX_SIZE ? MSG_ERR_OVERSIZE : 0;
}

void
msg_buf_free(msg_buf_t *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* ---- decoding -------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;       /* next byte */
    const uint8_t *end;     /* one past the last */
    char *arena;            /* where strings and bytes are copied */
} reader_t;

/* Read an n-byte big-endian unsigned integer. */
static int
s_read_be(reader_t *r, int n, uint64_t *value)
{
    if (r->end - r->p < n)
        return MSG_ERR_TRUNCATED;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | *r->p++;
    *value = v;
    return 0;
}

/* Any msgpack integer; *negative says whether it was a negative int. */
static int
s_read_integer(reader_t *r, uint64_t *value, bool *negative)
{
    if (r->p >= r->end)
        return MSG_ERR_TRUNCATED;
    uint8_t tag = *r->p;
    *negative = false;
    if (tag <= 0x7f) {
        r->p++;
        *value = tag;
        return 0;
    }
    if (tag >= 0xe0) {
        r->p++;
        *negative = true;
        *value = (uint64_t) (int64_t) (int8_t) tag;
        return 0;
    }
    int size;
    bool is_signed;
    switch (tag) {
    case 0xcc: size = 1; is_signed = false; break;
    case 0xcd: size = 2; is_signed = false; break;
    case 0xce: size = 4; is_signed = false; break;
    case 0xcf: size = 8; is_signed = false; break;
    case 0xd0: size = 1; is_signed = true; break;
    case 0xd1: size = 2; is_signed = true; break;
    case 0xd2: size = 4; is_signed = true; break;
    case 0xd3: size = 8; is_signed = true; break;
    default: return MSG_ERR_TYPE;
    }
    r->p++;
    uint64_t raw;
    if (s_read_be(r, size, &raw))
        return MSG_ERR_TRUNCATED;
    if (is_signed && size < 8 && (raw >> (size * 8 - 1)))
        raw |= ~(uint64_t) 0 << (size * 8);     /* sign-extend */
    *negative = is_signed && (int64_t) raw < 0;
    *value = raw;
    return 0;
}

static int
s_read_u64(reader_t *r, uint64_t *value)
{
    bool negative;
    int rc = s_read_integer(r, value, &negative);
    return rc ? rc : negative ? MSG_ERR_TYPE : 0;
}

__attribute__((unused)) static int
s_read_i64(reader_t *r, int64_t *value)
{
    uint64_t raw;
    bool negative;
    int rc = s_read_integer(r, &raw, &negative);
    if (rc)
        return rc;
    if (!negative && raw > INT64_MAX)
        return MSG_ERR_TYPE;
    *value = (int64_t) raw;
    return 0;
}

static int
s_read_f64(reader_t *r, double *value)
{
    if (r->p >= r->end)
        return MSG_ERR_TRUNCATED;
    uint8_t tag = *r->p;
    uint64_t raw;
    if (tag == 0xcb) {
        r->p++;
        if (s_read_be(r, 8, &raw))
            return MSG_ERR_TRUNCATED;
        memcpy(value, &raw, 8);
        return 0;
    }
    if (tag == 0xca) {
        r->p++;
        if (s_read_be(r, 4, &raw))
            return MSG_ERR_TRUNCATED;
        uint32_t bits = (uint32_t) raw;
        float f;
        memcpy(&f, &bits, 4);
        *value = f;
        return 0;
    }
    return MSG_ERR_TYPE;
}

static int
s_read_bool(reader_t *r, bool *value)
{
    if (r->p >= r->end)
        return MSG_ERR_TRUNCATED;
    if (*r->p != 0xc2 && *r->p != 0xc3)
        return MSG_ERR_TYPE;
    *value = *r->p++ == 0xc3;
    return 0;
}

/* A str (want_str) or bin header; *len is the payload length, checked against what is left. */
static int
s_read_raw_header(reader_t *r, bool want_str, uint32_t *len)
{
    if (r->p >= r->end)
        return MSG_ERR_TRUNCATED;
    uint8_t tag = *r->p;
    int size;
    uint64_t value;
    if (want_str && (tag & 0xe0) == 0xa0) {
        r->p++;
        *len = tag & 0x1f;
        size = 0;
    }
    else if (tag == (want_str ? 0xd9 : 0xc4))
        size = 1;
    else if (tag == (want_str ? 0xda : 0xc5))
        size = 2;
    else if (tag == (want_str ? 0xdb : 0xc6))
        size = 4;
    else
        return MSG_ERR_TYPE;
    if (size) {
        r->p++;
        if (s_read_be(r, size, &value))
            return MSG_ERR_TRUNCATED;
        *len = (uint32_t) value;
    }
    if ((size_t) (r->end - r->p) < *len)
        return MSG_ERR_TRUNCATED;
    return 0;
}

static int
s_read_str(reader_t *r, size_t max, const char **out)
{
    uint32_t len;
    int rc = s_read_raw_header(r, true, &len);
    if (rc)
        return rc;
    if (len > max)
        return MSG_ERR_OVERSIZE;
    if (memchr(r->p, 0, len) || !utf8_valid((const char *) r->p, len))
        return MSG_ERR_TEXT;
    memcpy(r->arena, r->p, len);
    r->arena[len] = 0;
    *out = r->arena;
    r->arena += len + 1;
    r->p += len;
    return 0;
}

__attribute__((unused)) static int
s_read_bin(reader_t *r, size_t max, const uint8_t **out, size_t *size)
{
    uint32_t len;
    int rc = s_read_raw_header(r, false, &len);
    if (rc)
        return rc;
    if (len > max)
        return MSG_ERR_OVERSIZE;
    memcpy(r->arena, r->p, len);
    *out = (const uint8_t *) r->arena;
    *size = len;
    r->arena += len + 1;
    r->p += len;
    return 0;
}

static int
s_read_h32(reader_t *r, uint8_t out[32])
{
    uint32_t len;
    int rc = s_read_raw_header(r, false, &len);
    if (rc)
        return rc;
    if (len != 32)
        return MSG_ERR_TYPE;
    memcpy(out, r->p, 32);
    r->p += 32;
    return 0;
}

/* An actor name into a fixed buffer. */
static int
s_read_name(reader_t *r, char out[MSG_NAME_MAX + 1])
{
    const char *name;
    int rc = s_read_str(r, MSG_NAME_MAX, &name);
    if (rc)
        return rc == MSG_ERR_TYPE ? MSG_ERR_MALFORMED : rc;
    strcpy(out, name);
    return 0;
}

#define DEC_U64(name, max)  rc = s_read_u64(&r, &m->name);
#define DEC_I64(name, max)  rc = s_read_i64(&r, &m->name);
#define DEC_F64(name, max)  rc = s_read_f64(&r, &m->name);
#define DEC_BOOL(name, max) rc = s_read_bool(&r, &m->name);
#define DEC_STR(name, max)  rc = s_read_str(&r, max, &m->name);
#define DEC_BIN(name, max)  rc = s_read_bin(&r, max, &m->name, &m->name##_size);
#define DEC_H32(name, max)  rc = s_read_h32(&r, m->name);
#define DEC_FIELD(TYPE, name, max) if (rc == 0) { DEC_##TYPE(name, max) }

int
msg_decode(msg_t *msg, const uint8_t *data, size_t size)
{
    char *arena = msg->arena;
    size_t arena_size = msg->arena_size;
    memset(msg, 0, sizeof *msg);
    msg->arena = arena;
    msg->arena_size = arena_size;
    if (size > MSG_MAX_SIZE)
        return MSG_ERR_OVERSIZE;
    /* Strings and bytes never take more than the input itself plus one NUL each; fields
       are fewer than 64 per message. */
    if (msg->arena_size < size + 64) {
        free(msg->arena);
        msg->arena_size = size + 64;
        msg->arena = malloc(msg->arena_size);
    }
    reader_t r = {data, data + size, msg->arena};
    if (r.p >= r.end)
        return MSG_ERR_TRUNCATED;
    uint32_t count;
    uint8_t tag = *r.p;
    uint64_t value;
    if ((tag & 0xf0) == 0x90) {
        count = tag & 0x0f;
        r.p++;
    }
    else if (tag == 0xdc || tag == 0xdd) {
        r.p++;
        if (s_read_be(&r, tag == 0xdc ? 2 : 4, &value))
            return MSG_ERR_TRUNCATED;
        count = (uint32_t) value;
    }
    else
        return MSG_ERR_MALFORMED;
    if (count < 4)
        return MSG_ERR_MALFORMED;
    int rc = s_read_u64(&r, &value);
    if (rc)
        return rc == MSG_ERR_TYPE ? MSG_ERR_MALFORMED : rc;
    if (value != MSG_VERSION)
        return MSG_ERR_VERSION;
    uint64_t type;
    if ((rc = s_read_u64(&r, &type)))
        return rc == MSG_ERR_TYPE ? MSG_ERR_MALFORMED : rc;
    if (!msg_type_name((int) (type > 0xffff ? 0 : type)))
        return MSG_ERR_UNKNOWN;
    if ((rc = s_read_name(&r, msg->from)) || (rc = s_read_name(&r, msg->to)))
        return rc;
    switch ((msg_type_t) type) {
#define DEC_CASE(id, NAME, name, summary) \
    case MSG_##NAME: { \
        msg_##name##_t *m = &msg->name; \
        if (count != 4 NAME##_FIELDS(COUNT_FIELD)) \
            return MSG_ERR_FIELDS; \
        NAME##_FIELDS(DEC_FIELD) \
        break; \
    }
        PYLON_MESSAGES(DEC_CASE)
#undef DEC_CASE
    }
    if (rc)
        return rc;
    if (r.p != r.end)
        return MSG_ERR_TRAILING;
    msg->type = (msg_type_t) type;
    return 0;
}

void
msg_release(msg_t *msg)
{
    free(msg->arena);
    msg->arena = NULL;
    msg->arena_size = 0;
}

/* ---- names and printing ---------------------------------------------------------------- */

const char *
msg_strerror(int rc)
{
    switch (rc) {
    case 0: return "ok";
    case MSG_ERR_TRUNCATED: return "truncated message";
    case MSG_ERR_MALFORMED: return "malformed message envelope";
    case MSG_ERR_VERSION: return "unknown message version";
    case MSG_ERR_UNKNOWN: return "unknown message type";
    case MSG_ERR_FIELDS: return "wrong number of fields for the message type";
    case MSG_ERR_TYPE: return "field of the wrong type";
    case MSG_ERR_OVERSIZE: return "message or field over its size limit";
    case MSG_ERR_TRAILING: return "bytes after the end of the message";
    case MSG_ERR_TEXT: return "text field with a NUL byte or invalid UTF-8";
    default: return "unknown error";
    }
}

const char *
msg_type_name(int type)
{
    switch (type) {
#define NAME_CASE(id, NAME, name, summary) case id: return #name;
        PYLON_MESSAGES(NAME_CASE)
#undef NAME_CASE
    default:
        return NULL;
    }
}

int
msg_type_by_name(const char *name)
{
#define BY_NAME(id, NAME, lower, summary) if (strcmp(name, #lower) == 0) return id;
    PYLON_MESSAGES(BY_NAME)
#undef BY_NAME
    return -1;
}

static void
s_print_text(FILE *out, const char *s, size_t max_text)
{
    fputc('"', out);
    size_t i;
    for (i = 0; s && s[i] && i < max_text; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
    if (s && s[i])
        fprintf(out, "...(%zu bytes)", strlen(s));
}

static void
s_print_hex(FILE *out, const uint8_t *bytes, size_t size)
{
    for (size_t i = 0; i < size; i++)
        fprintf(out, "%02x", bytes[i]);
}

#define PRN_U64(name)  fprintf(out, " " #name "=%llu", (unsigned long long) m->name);
#define PRN_I64(name)  fprintf(out, " " #name "=%lld", (long long) m->name);
#define PRN_F64(name)  fprintf(out, " " #name "=%g", m->name);
#define PRN_BOOL(name) fprintf(out, " " #name "=%s", m->name ? "true" : "false");
#define PRN_STR(name)  fprintf(out, " " #name "="); s_print_text(out, m->name, max_text);
#define PRN_BIN(name)  fprintf(out, " " #name "="); s_print_hex(out, m->name, m->name##_size);
#define PRN_H32(name)  fprintf(out, " " #name "="); s_print_hex(out, m->name, 32);
#define PRN_FIELD(TYPE, name, max) PRN_##TYPE(name)

void
msg_print(FILE *out, const msg_t *msg, size_t max_text)
{
    fprintf(out, "%s->%s %s", msg->from, msg->to,
            msg_type_name(msg->type) ? msg_type_name(msg->type) : "?");
    switch (msg->type) {
#define PRN_CASE(id, NAME, name, summary) \
    case MSG_##NAME: { const msg_##name##_t *m = &msg->name; NAME##_FIELDS(PRN_FIELD) break; }
        PYLON_MESSAGES(PRN_CASE)
#undef PRN_CASE
    }
    fputc('\n', out);
}

void
msg_set_route(msg_t *msg, const char *from, const char *to)
{
    snprintf(msg->from, sizeof msg->from, "%s", from);
    snprintf(msg->to, sizeof msg->to, "%s", to);
}
