/*  fuzz_relay_msg.c: libFuzzer target for relay_proto_decode on arbitrary relay input.

    The bytes are decoded as one relay message (explicit length, no NUL termination assumed).
    A decoded message must obey the decoder's promises: bounded, NUL-free text, a valid
    subscription id, a 64-hex event id for OK, an object for EVENT. A message that decodes is
    also re-encoded where the client has an encoder (EVENT's object, a subscription id for
    CLOSE), which must succeed. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay_proto.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    relay_msg_t msg;
    int rc = relay_proto_decode ((const char *) data, size, &msg);
    if (rc != 0) {
        assert (rc >= RELAY_PROTO_EFIELD && rc <= RELAY_PROTO_ETOOBIG);
        assert (msg.root == NULL);
        return 0;
    }
    switch (msg.type) {
        case RELAY_MSG_EVENT: {
            assert (relay_proto_subid_valid (msg.subid));
            assert (json_object_is_type (msg.event, json_type_object));
            const char *text = json_object_to_json_string_ext (msg.event, JSON_C_TO_STRING_PLAIN);
            char *wrapped = relay_proto_event (text);
            assert (wrapped);
            free (wrapped);
            break;
        }
        case RELAY_MSG_EOSE: {
            char *close = relay_proto_close (msg.subid);
            assert (close);
            free (close);
            break;
        }
        case RELAY_MSG_OK:
            assert (strlen (msg.event_id) == 64);
            /* fall through */
        case RELAY_MSG_CLOSED:
        case RELAY_MSG_NOTICE:
        case RELAY_MSG_AUTH:
            assert (msg.text);
            assert (msg.text_len <= RELAY_PROTO_MAX_TEXT);
            assert (memchr (msg.text, '\0', msg.text_len) == NULL);
            assert (relay_proto_reason (msg.text, msg.text_len) == msg.reason
                    || msg.type == RELAY_MSG_NOTICE || msg.type == RELAY_MSG_AUTH);
            break;
        case RELAY_MSG_COUNT:
            break;
    }
    relay_msg_release (&msg);
    return 0;
}
