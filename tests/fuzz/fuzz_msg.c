/*  fuzz_msg.c: the actor message decoder on arbitrary bytes. Whatever decodes must encode
    again to bytes that decode to the same message. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg_t msg = {0}, again = {0};
    if (msg_decode(&msg, data, size) == 0) {
        msg_buf_t buf = {0};
        int rc = msg_encode(&msg, &buf);
        assert(rc == 0);
        rc = msg_decode(&again, buf.data, buf.size);
        assert(rc == 0 && again.type == msg.type);
        msg_buf_t buf2 = {0};
        msg_encode(&again, &buf2);
        assert(buf.size == buf2.size && memcmp(buf.data, buf2.data, buf.size) == 0);
        msg_buf_free(&buf);
        msg_buf_free(&buf2);
    }
    msg_release(&msg);
    msg_release(&again);
    return 0;
}
