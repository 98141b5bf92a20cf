/*  test_relay_proto.c: the NIP-01 relay message codec, with valid and hostile relay input.

    Every relay message type is decoded from the text a real relay sends; then each rule of
    the decoder is broken once (arity, types, lengths, hex, NUL bytes, depth, size, trailing
    data) and must give its own error code without touching memory it should not.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_proto.h"

#define ID64 "000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358"
#define PK64 "a48380f4cfcc1ad5378294fcac36439770f9c878dd880ffa94bb74ea54a6f243"

static int
s_decode (const char *text, relay_msg_t *msg)
{
    return relay_proto_decode (text, strlen (text), msg);
}

static void
test_event (void **state)
{
    relay_msg_t msg;
    assert_int_equal (s_decode ("[\"EVENT\",\"sub1\",{\"id\":\"" ID64 "\",\"kind\":1}]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_EVENT);
    assert_string_equal (msg.subid, "sub1");
    assert_non_null (msg.event);
    json_object *kind;
    assert_true (json_object_object_get_ex (msg.event, "kind", &kind));
    assert_int_equal (json_object_get_int (kind), 1);
    relay_msg_release (&msg);
    assert_null (msg.root);
}

static void
test_ok_and_reasons (void **state)
{
    relay_msg_t msg;
    assert_int_equal (s_decode ("[\"OK\",\"" ID64 "\",true,\"\"]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_OK);
    assert_string_equal (msg.event_id, ID64);
    assert_true (msg.accepted);
    assert_int_equal (msg.reason, RELAY_REASON_NONE);
    relay_msg_release (&msg);

    assert_int_equal (s_decode ("[\"OK\",\"" ID64 "\",false,\"rate-limited: slow down\"]", &msg), 0);
    assert_false (msg.accepted);
    assert_int_equal (msg.reason, RELAY_REASON_RATE_LIMITED);
    assert_int_equal (msg.text_len, strlen ("rate-limited: slow down"));
    relay_msg_release (&msg);

    //  Old relays omit the message: tolerated, with an empty text.
    assert_int_equal (s_decode ("[\"OK\",\"" ID64 "\",true]", &msg), 0);
    assert_string_equal (msg.text, "");
    relay_msg_release (&msg);

    struct { const char *text; relay_reason_t reason; } cases[] = {
        { "duplicate: have it", RELAY_REASON_DUPLICATE },
        { "pow: difficulty 25>=24", RELAY_REASON_POW },
        { "blocked: you are banned", RELAY_REASON_BLOCKED },
        { "invalid: bad sig", RELAY_REASON_INVALID },
        { "restricted: not allowed", RELAY_REASON_RESTRICTED },
        { "mute: no one listens", RELAY_REASON_MUTE },
        { "error: db down", RELAY_REASON_ERROR },
        { "auth-required: who are you", RELAY_REASON_AUTH_REQUIRED },
        { "unsupported: filter", RELAY_REASON_UNSUPPORTED },
        { "weird: thing", RELAY_REASON_OTHER },
        { "no prefix here", RELAY_REASON_NONE },
        { "", RELAY_REASON_NONE },
        { "duplicate : spaced", RELAY_REASON_OTHER },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        assert_int_equal (relay_proto_reason (cases [i].text, strlen (cases [i].text)),
                          cases [i].reason);
    assert_string_equal (relay_proto_reason_name (RELAY_REASON_RATE_LIMITED), "rate-limited");
    assert_string_equal (relay_proto_reason_name (RELAY_REASON_NONE), "");
}

static void
test_other_messages (void **state)
{
    relay_msg_t msg;
    assert_int_equal (s_decode ("[\"EOSE\",\"s\"]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_EOSE);
    assert_string_equal (msg.subid, "s");
    relay_msg_release (&msg);

    assert_int_equal (s_decode (" [\"CLOSED\",\"s\",\"auth-required: log in\"]\n", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_CLOSED);
    assert_int_equal (msg.reason, RELAY_REASON_AUTH_REQUIRED);
    relay_msg_release (&msg);

    assert_int_equal (s_decode ("[\"NOTICE\",\"hello \\u00e9\"]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_NOTICE);
    assert_string_equal (msg.text, "hello \xc3\xa9");
    relay_msg_release (&msg);

    assert_int_equal (s_decode ("[\"AUTH\",\"challenge-1\"]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_AUTH);
    assert_string_equal (msg.text, "challenge-1");
    relay_msg_release (&msg);

    assert_int_equal (s_decode ("[\"COUNT\",\"s\",{\"count\":5}]", &msg), 0);
    assert_int_equal (msg.type, RELAY_MSG_COUNT);
    relay_msg_release (&msg);
}

static void
test_hostile (void **state)
{
    struct { const char *text; int rc; } cases[] = {
        { "", RELAY_PROTO_EJSON },
        { "garbage", RELAY_PROTO_EJSON },
        { "[\"EOSE\",\"s\"", RELAY_PROTO_EJSON },                  //  truncated
        { "[\"EOSE\",\"s\"] x", RELAY_PROTO_EJSON },               //  trailing data
        { "[\"EOSE\",\"s\"][\"EOSE\",\"s\"]", RELAY_PROTO_EJSON }, //  two values
        { "{\"EOSE\":1}", RELAY_PROTO_ESHAPE },
        { "\"EOSE\"", RELAY_PROTO_ESHAPE },
        { "[]", RELAY_PROTO_ESHAPE },
        { "[1,2]", RELAY_PROTO_ESHAPE },
        { "[\"PING\"]", RELAY_PROTO_EUNKNOWN },
        { "[\"event\",\"s\",{}]", RELAY_PROTO_EUNKNOWN },          //  case matters
        { "[\"EVENT\",\"s\"]", RELAY_PROTO_ESHAPE },
        { "[\"EVENT\",\"s\",[]]", RELAY_PROTO_ESHAPE },
        { "[\"EVENT\",\"s\",\"{}\"]", RELAY_PROTO_ESHAPE },
        { "[\"EVENT\",\"s\",{},{}]", RELAY_PROTO_ESHAPE },
        { "[\"EVENT\",5,{}]", RELAY_PROTO_ESHAPE },
        { "[\"EVENT\",\"\",{}]", RELAY_PROTO_EFIELD },             //  empty subid
        { "[\"EVENT\",\"a\\u0000b\",{}]", RELAY_PROTO_EFIELD },    //  NUL in subid
        { "[\"EVENT\",\"a\\nb\",{}]", RELAY_PROTO_EFIELD },        //  control byte
        { "[\"OK\",\"" ID64 "\",\"true\",\"\"]", RELAY_PROTO_ESHAPE },
        { "[\"OK\",\"" ID64 "\",1,\"\"]", RELAY_PROTO_ESHAPE },
        { "[\"OK\",\"" ID64 "\",true,5]", RELAY_PROTO_ESHAPE },
        { "[\"OK\",\"" ID64 "\",true,\"\",\"extra\"]", RELAY_PROTO_ESHAPE },
        { "[\"OK\",\"abc\",true,\"\"]", RELAY_PROTO_EFIELD },
        { "[\"OK\",\"" PK64 "0\",true,\"\"]", RELAY_PROTO_EFIELD },   //  65 chars
        { "[\"OK\",\"000006D8C378AF1779D2FEEBC7603A125D99ECA0CCF1085959B307F64E5DD358\",true,\"\"]",
          RELAY_PROTO_EFIELD },                                    //  uppercase hex
        { "[\"OK\",\"" ID64 "\",false,\"bad\\u0000nul\"]", RELAY_PROTO_EFIELD },
        { "[\"EOSE\"]", RELAY_PROTO_ESHAPE },
        { "[\"EOSE\",\"s\",\"t\"]", RELAY_PROTO_ESHAPE },
        { "[\"EOSE\",null]", RELAY_PROTO_ESHAPE },
        { "[\"CLOSED\",\"s\",7]", RELAY_PROTO_ESHAPE },
        { "[\"NOTICE\"]", RELAY_PROTO_ESHAPE },
        { "[\"NOTICE\",{}]", RELAY_PROTO_ESHAPE },
        { "[\"AUTH\",\"\"]", RELAY_PROTO_EFIELD },
        { "[\"AUTH\",[\"x\"]]", RELAY_PROTO_ESHAPE },
        { "[null,\"s\"]", RELAY_PROTO_ESHAPE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        relay_msg_t msg;
        int rc = s_decode (cases [i].text, &msg);
        if (rc != cases [i].rc)
            print_error ("case %zu: %s gave %d\n", i, cases [i].text, rc);
        assert_int_equal (rc, cases [i].rc);
        assert_null (msg.root);
        relay_msg_release (&msg);
    }
    //  A NULL pointer and an explicit length that cuts the text short.
    relay_msg_t msg;
    assert_int_equal (relay_proto_decode (NULL, 0, &msg), RELAY_PROTO_EJSON);
    assert_int_equal (relay_proto_decode ("[\"EOSE\",\"s\"]", 5, &msg), RELAY_PROTO_EJSON);
    assert_string_not_equal (relay_proto_strerror (RELAY_PROTO_EFIELD), "unknown error");
}

static void
test_limits (void **state)
{
    relay_msg_t msg;
    //  Subscription id: 64 characters pass, 65 do not.
    char text [256];
    char subid [66];
    memset (subid, 'a', 65);
    subid [64] = '\0';
    snprintf (text, sizeof text, "[\"EOSE\",\"%s\"]", subid);
    assert_int_equal (s_decode (text, &msg), 0);
    relay_msg_release (&msg);
    subid [64] = 'a';
    subid [65] = '\0';
    snprintf (text, sizeof text, "[\"EOSE\",\"%s\"]", subid);
    assert_int_equal (s_decode (text, &msg), RELAY_PROTO_EFIELD);

    //  Deep nesting inside the event object is refused by the tokener, not by the stack.
    size_t depth = 10000;
    char *deep = malloc (depth * 2 + 64);
    size_t n = (size_t) sprintf (deep, "[\"EVENT\",\"s\",{\"x\":");
    for (size_t i = 0; i < depth; i++)
        deep [n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep [n++] = ']';
    n += (size_t) sprintf (deep + n, "}]");
    assert_int_equal (relay_proto_decode (deep, n, &msg), RELAY_PROTO_EJSON);
    free (deep);

    //  A NOTICE over the text limit, then a message over the size limit.
    size_t big = RELAY_PROTO_MAX_TEXT + 1;
    char *notice = malloc (big + 32);
    n = (size_t) sprintf (notice, "[\"NOTICE\",\"");
    memset (notice + n, 'x', big);
    n += big;
    n += (size_t) sprintf (notice + n, "\"]");
    assert_int_equal (relay_proto_decode (notice, n, &msg), RELAY_PROTO_EFIELD);
    free (notice);

    size_t huge = RELAY_PROTO_MAX_MESSAGE + 1;
    char *blob = malloc (huge);
    memset (blob, ' ', huge);
    assert_int_equal (relay_proto_decode (blob, huge, &msg), RELAY_PROTO_ETOOBIG);
    free (blob);
}

static void
test_encode (void **state)
{
    int kinds [] = { 5050, 7000 };
    const char *pubkeys [] = { PK64 };
    relay_filter_t filter = {
        .kinds = kinds, .kinds_count = 2, .p_tags = pubkeys, .p_tags_count = 1,
        .authors = pubkeys, .authors_count = 1, .since = 1700000000, .until = -1, .limit = 10,
    };
    char *req = relay_proto_req ("jobs", &filter, 1);
    assert_non_null (req);
    assert_string_equal (req,
        "[\"REQ\",\"jobs\",{\"kinds\":[5050,7000],\"authors\":[\"" PK64 "\"],"
        "\"#p\":[\"" PK64 "\"],\"since\":1700000000,\"limit\":10}]");
    //  What we encode, a relay parser reads back as the same values.
    json_object *parsed = json_tokener_parse (req);
    assert_int_equal (json_object_array_length (parsed), 3);
    json_object_put (parsed);
    free (req);

    relay_filter_t empty = { .since = -1, .until = -1, .limit = -1 };
    req = relay_proto_req ("all", &empty, 1);
    assert_string_equal (req, "[\"REQ\",\"all\",{}]");
    free (req);

    //  Invalid input gives NULL, never a half-built message.
    const char *bad_keys [] = { "xyz" };
    relay_filter_t bad = empty;
    bad.authors = bad_keys;
    bad.authors_count = 1;
    assert_null (relay_proto_req ("s", &bad, 1));
    int bad_kinds [] = { 70000 };
    bad = empty;
    bad.kinds = bad_kinds;
    bad.kinds_count = 1;
    assert_null (relay_proto_req ("s", &bad, 1));
    assert_null (relay_proto_req ("", &empty, 1));
    assert_null (relay_proto_req ("s", &empty, 0));
    char long_subid [70];
    memset (long_subid, 'q', 65);
    long_subid [65] = '\0';
    assert_null (relay_proto_req (long_subid, &empty, 1));
    assert_null (relay_proto_close (long_subid));

    char *close = relay_proto_close ("jobs");
    assert_string_equal (close, "[\"CLOSE\",\"jobs\"]");
    free (close);

    //  EVENT and AUTH keep the event's bytes exactly as given.
    const char *event = "{\"id\":\"" ID64 "\",\"content\":\"a\\/b \\u00e9\"}";
    char *wrapped = relay_proto_event (event);
    char expect [256];
    snprintf (expect, sizeof expect, "[\"EVENT\",%s]", event);
    assert_string_equal (wrapped, expect);
    free (wrapped);
    wrapped = relay_proto_auth (event);
    snprintf (expect, sizeof expect, "[\"AUTH\",%s]", event);
    assert_string_equal (wrapped, expect);
    free (wrapped);
    assert_null (relay_proto_event ("[1]"));
    assert_null (relay_proto_event ("{} {}"));
    assert_null (relay_proto_event ("{\"a\":"));
    assert_null (relay_proto_event (""));
    assert_null (relay_proto_event ("{}],[\"EVENT\",{}"));   //  no smuggling a second message
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_event),
        cmocka_unit_test (test_ok_and_reasons),
        cmocka_unit_test (test_other_messages),
        cmocka_unit_test (test_hostile),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_encode),
    };
    return cmocka_run_group_tests_name ("relay_proto", tests, NULL, NULL);
}
