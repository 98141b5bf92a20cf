/*  test_msg.c: every message in the catalogue round-trips, and every way of being malformed
    is rejected with its own error. The round trip is generated from schemas/messages.def, so
    a new message is tested the moment it is added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

/* Deterministic pseudo-random values (xorshift), so a failure reproduces. */
static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint64_t
s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* A random valid UTF-8 string (ASCII, 2-byte and 4-byte characters): exactly max bytes when
   at_limit, else of up to min(max, 4096) bytes. */
static char *
s_rand_text(size_t max, bool at_limit)
{
    size_t cap = max < 4096 ? max : 4096;
    size_t target = at_limit ? max : cap ? s_rand() % (cap + 1) : 0;
    char *s = malloc(target + 1);
    size_t n = 0;
    while (n < target) {
        int kind = (int) (s_rand() % 6);
        if (kind == 5 && n + 4 <= target) {
            memcpy(s + n, "\xf0\x9f\x98\x80", 4);   /* an emoji */
            n += 4;
        }
        else if (kind == 4 && n + 2 <= target) {
            memcpy(s + n, "\xc3\xa9", 2);
            n += 2;
        }
        else
            s[n++] = (char) (1 + s_rand() % 127);   /* any ASCII but NUL, controls too */
    }
    s[n] = 0;
    return s;
}

#define FILL_U64(name, max)  m->name = s_rand();
#define FILL_I64(name, max)  m->name = (int64_t) s_rand();
#define FILL_F64(name, max)  m->name = (double) (int64_t) s_rand() / 7.0;
#define FILL_BOOL(name, max) m->name = s_rand() & 1;
#define FILL_STR(name, max)  m->name = owned[n_owned++] = s_rand_text(max, round == 0);
#define FILL_BIN(name, max)  m->name##_size = s_rand() % (max + 1); \
    m->name = (const uint8_t *) (owned[n_owned++] = s_rand_text(m->name##_size, true));
#define FILL_H32(name, max)  for (int k = 0; k < 32; k++) m->name[k] = (uint8_t) s_rand();
#define FILL_FIELD(TYPE, name, max) FILL_##TYPE(name, max)

#define SAME_U64(name, max)  assert_true(a->name == b->name);
#define SAME_I64(name, max)  assert_true(a->name == b->name);
#define SAME_F64(name, max)  assert_true(a->name == b->name);
#define SAME_BOOL(name, max) assert_true(a->name == b->name);
#define SAME_STR(name, max)  assert_string_equal(a->name, b->name);
#define SAME_BIN(name, max)  assert_int_equal(a->name##_size, b->name##_size); \
    assert_memory_equal(a->name, b->name, a->name##_size);
#define SAME_H32(name, max)  assert_memory_equal(a->name, b->name, 32);
#define SAME_FIELD(TYPE, name, max) SAME_##TYPE(name, max)

static void
t_round_trip_every_type(void **state)
{
    msg_buf_t buf = {0};
    msg_t out, in = {0};
    int types = 0;
    for (int round = 0; round < 40; round++) {
#define ROUND_TRIP(id, NAME, name, summary) { \
        char *owned[64]; int n_owned = 0; \
        memset(&out, 0, sizeof out); \
        out.type = MSG_##NAME; \
        msg_set_route(&out, "job_router", "inference"); \
        msg_##name##_t *m = &out.name; \
        NAME##_FIELDS(FILL_FIELD) \
        assert_int_equal(msg_encode(&out, &buf), 0); \
        assert_int_equal(msg_decode(&in, buf.data, buf.size), 0); \
        assert_int_equal(in.type, MSG_##NAME); \
        assert_string_equal(in.from, "job_router"); \
        assert_string_equal(in.to, "inference"); \
        const msg_##name##_t *a = &out.name, *b = &in.name; \
        NAME##_FIELDS(SAME_FIELD) \
        for (int k = 0; k < n_owned; k++) free(owned[k]); \
        types += round == 0; \
    }
        PYLON_MESSAGES(ROUND_TRIP)
#undef ROUND_TRIP
    }
    assert_true(types >= 20);
    msg_release(&in);
    msg_buf_free(&buf);
}

/* A valid PING, for mutation below. */
static void
s_valid_ping(msg_buf_t *buf)
{
    msg_t ping = {.type = MSG_PING, .ping = {7, "hello"}};
    msg_set_route(&ping, "a", "b");
    assert_int_equal(msg_encode(&ping, buf), 0);
}

static int
s_decode(const void *data, size_t size)
{
    msg_t msg = {0};
    int rc = msg_decode(&msg, data, size);
    msg_release(&msg);
    return rc;
}

static void
t_truncated_at_every_offset(void **state)
{
    msg_buf_t buf = {0};
    msg_t big = {.type = MSG_INFER_RESULT};
    big.infer_result.content = "some content \xe2\x9c\x93";
    big.infer_result.ok = true;
    msg_set_route(&big, "inference", "job_router");
    assert_int_equal(msg_encode(&big, &buf), 0);
    for (size_t cut = 0; cut < buf.size; cut++)
        assert_int_equal(s_decode(buf.data, cut), MSG_ERR_TRUNCATED);
    assert_int_equal(s_decode(buf.data, buf.size), 0);
    msg_buf_free(&buf);
}

/* Pack an arbitrary envelope with msgpack-c, for hand-made bad messages. */
static int
s_write(void *data, const char *bytes, size_t len)
{
    msg_buf_t *buf = data;
    buf->data = realloc(buf->data, buf->size + len);
    memcpy(buf->data + buf->size, bytes, len);
    buf->size += len;
    return 0;
}

static void
t_each_error_is_distinct(void **state)
{
    msg_buf_t buf = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, s_write);

    /* Not an array at all. */
    msgpack_pack_uint8(&pk, 1);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_MALFORMED);

    /* Wrong version. */
    buf.size = 0;
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint8(&pk, 99);
    msgpack_pack_uint8(&pk, MSG_PING);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "x", 1);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_VERSION);

    /* Unknown type. */
    buf.size = 0;
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint8(&pk, MSG_VERSION);
    msgpack_pack_uint16(&pk, 9999);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_UNKNOWN);

    /* Wrong field count for PING. */
    buf.size = 0;
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint8(&pk, MSG_VERSION);
    msgpack_pack_uint8(&pk, MSG_PING);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_uint8(&pk, 1);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_FIELDS);

    /* Mistyped field: seq as a string, then note as an integer, then a negative seq. */
    for (int variant = 0; variant < 3; variant++) {
        buf.size = 0;
        msgpack_pack_array(&pk, 6);
        msgpack_pack_uint8(&pk, MSG_VERSION);
        msgpack_pack_uint8(&pk, MSG_PING);
        msgpack_pack_str_with_body(&pk, "a", 1);
        msgpack_pack_str_with_body(&pk, "b", 1);
        if (variant == 0)
            msgpack_pack_str_with_body(&pk, "1", 1);
        else if (variant == 1)
            msgpack_pack_uint8(&pk, 1);
        else
            msgpack_pack_int8(&pk, -1);
        if (variant == 1)
            msgpack_pack_uint8(&pk, 2);
        else
            msgpack_pack_str_with_body(&pk, "x", 1);
        assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_TYPE);
    }

    /* Oversized field: a 257-byte note (limit 256). */
    char note[258];
    memset(note, 'n', 257);
    note[257] = 0;
    buf.size = 0;
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint8(&pk, MSG_VERSION);
    msgpack_pack_uint8(&pk, MSG_PING);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, note, 257);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_OVERSIZE);
    /* ...and the encoder refuses to produce it. */
    msg_t too_long = {.type = MSG_PING, .ping = {1, note}};
    assert_int_equal(msg_encode(&too_long, &buf), MSG_ERR_OVERSIZE);

    /* A NUL inside a string, and invalid UTF-8. */
    const char *bad_texts[] = {"a\0b", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    const size_t bad_lens[] = {3, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        buf.size = 0;
        msgpack_pack_array(&pk, 6);
        msgpack_pack_uint8(&pk, MSG_VERSION);
        msgpack_pack_uint8(&pk, MSG_PING);
        msgpack_pack_str_with_body(&pk, "a", 1);
        msgpack_pack_str_with_body(&pk, "b", 1);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_str_with_body(&pk, bad_texts[i], bad_lens[i]);
        assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_TEXT);
    }

    /* A 32-byte hash field given 31 bytes. */
    buf.size = 0;
    msgpack_pack_array(&pk, 5);
    msgpack_pack_uint8(&pk, MSG_VERSION);
    msgpack_pack_uint8(&pk, MSG_INFER_CANCEL);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_bin_with_body(&pk, note, 31);
    assert_int_equal(s_decode(buf.data, buf.size), MSG_ERR_TYPE);

    /* Trailing bytes after a valid message. */
    s_valid_ping(&buf);
    uint8_t *longer = malloc(buf.size + 1);
    memcpy(longer, buf.data, buf.size);
    longer[buf.size] = 0xc0;
    assert_int_equal(s_decode(longer, buf.size + 1), MSG_ERR_TRAILING);
    free(longer);

    /* An array32 header that claims four billion items, in five bytes. */
    assert_int_equal(s_decode("\xdd\xff\xff\xff\xff", 5), MSG_ERR_TRUNCATED);
    /* Whole message over MSG_MAX_SIZE. */
    uint8_t *huge = calloc(1, MSG_MAX_SIZE + 1);
    assert_int_equal(s_decode(huge, MSG_MAX_SIZE + 1), MSG_ERR_OVERSIZE);
    free(huge);
    /* Every error has its own text. */
    for (int a = -9; a <= -1; a++)
        for (int b = a + 1; b <= -1; b++)
            assert_string_not_equal(msg_strerror(a), msg_strerror(b));
    msg_buf_free(&buf);
}

static void
t_names(void **state)
{
    assert_string_equal(msg_type_name(MSG_RELAY_EVENT), "relay_event");
    assert_int_equal(msg_type_by_name("infer_request"), MSG_INFER_REQUEST);
    assert_int_equal(msg_type_by_name("nonsense"), -1);
    assert_null(msg_type_name(0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_round_trip_every_type),
        cmocka_unit_test(t_truncated_at_every_offset),
        cmocka_unit_test(t_each_error_is_distinct),
        cmocka_unit_test(t_names),
    };
    return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
