/*  fuzz_event.c: nostr_event_parse on arbitrary bytes. Whatever parses must survive the round
    trip: its wire JSON parses again to an event with the same fields, the same canonical
    serialization and the same id. Signatures are not checked (the fuzzer cannot sign). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr_event.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int err;
    nostr_event_t *event = nostr_event_parse ((const char *) data, size, NULL, &err);
    if (!event)
        return 0;
    size_t len;
    char *json = nostr_event_to_json (event, &len);
    if (!json)
        abort ();
    nostr_event_t *again = nostr_event_parse (json, len, NULL, &err);
    if (!again)
        abort ();                           //  Our own output must parse
    uint8_t id1 [32], id2 [32];
    if (nostr_event_compute_id (event, id1) || nostr_event_compute_id (again, id2)
    ||  memcmp (id1, id2, 32) != 0
    ||  memcmp (event->id, again->id, 32) != 0
    ||  memcmp (event->sig, again->sig, 64) != 0
    ||  event->tag_count != again->tag_count
    ||  event->content.len != again->content.len
    ||  memcmp (event->content.str, again->content.str, event->content.len) != 0)
        abort ();
    size_t len1, len2;
    char *s1 = nostr_event_serialize (event, &len1);
    char *s2 = nostr_event_serialize (again, &len2);
    if (!s1 || !s2 || len1 != len2 || memcmp (s1, s2, len1) != 0)
        abort ();
    nostr_event_difficulty (event->id);
    nostr_event_expired (event, 1700000000);
    free (s1);
    free (s2);
    free (json);
    nostr_event_destroy (&again);
    nostr_event_destroy (&event);
    return 0;
}
