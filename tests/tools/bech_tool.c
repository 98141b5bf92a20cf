/*  bech_tool.c: NIP-19 and BOLT 11 encode/decode over stdin/stdout, for the interop tests
    (tests/integration/interop_nip19.mjs, interop_bolt11.mjs) that compare this code with the
    npm nostr-tools and bolt11 packages.

    One JSON request per input line, one JSON answer per output line, so a test can push
    thousands of cases through one process:
      {"op":"nip19_encode","type":"nevent","hex":"..","relays":[".."],"author":"..","kind":1}
      {"op":"nip19_decode","str":"nevent1.."}
      {"op":"bolt11_encode","network":"regtest","amount_msat":"1000"|null,"timestamp":N,
       "payment_hash":"..","payment_secret":"..","description":".."|"description_hash":"..",
       "expiry":N,"min_final_cltv":N,"payee_field":false,"features":[8,14],"seckey":".."}
      {"op":"bolt11_decode","invoice":"lnbcrt.."}
    Answers: {"ok":true,...fields} or {"ok":false,"error":"..."}. Amounts travel as decimal
    strings (JavaScript numbers lose precision above 2^53). Lines over LINE_MAX_LEN bytes are
    answered with an error. Test keys only: secrets pass through here in clear. */
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt11.h"
#include "nip19.h"

#define LINE_MAX_LEN 65536

static const char *s_networks [] = { "mainnet", "testnet", "signet", "regtest", "simnet" };

static void
s_to_hex (const uint8_t *bytes, size_t len, char *hex)
{
    sodium_bin2hex (hex, len * 2 + 1, bytes, len);
}

//  Hex member of exactly len bytes; false when missing or malformed.
static bool
s_get_hex (json_object *req, const char *key, uint8_t *out, size_t len)
{
    json_object *value;
    size_t got = 0;
    if (!json_object_object_get_ex (req, key, &value) || !json_object_is_type (value, json_type_string))
        return false;
    const char *hex = json_object_get_string (value);
    return strlen (hex) == len * 2
        && sodium_hex2bin (out, len, hex, len * 2, NULL, &got, NULL) == 0 && got == len;
}

static const char *
s_get_string (json_object *req, const char *key)
{
    json_object *value;
    if (!json_object_object_get_ex (req, key, &value) || !json_object_is_type (value, json_type_string))
        return NULL;
    return json_object_get_string (value);
}

static void
s_add_hex (json_object *reply, const char *key, const uint8_t *bytes, size_t len)
{
    char hex [2 * 64 + 1];
    s_to_hex (bytes, len, hex);
    json_object_object_add (reply, key, json_object_new_string (hex));
}

static json_object *
s_error (const char *message)
{
    json_object *reply = json_object_new_object ();
    json_object_object_add (reply, "ok", json_object_new_boolean (0));
    json_object_object_add (reply, "error", json_object_new_string (message));
    return reply;
}

static json_object *
s_ok (void)
{
    json_object *reply = json_object_new_object ();
    json_object_object_add (reply, "ok", json_object_new_boolean (1));
    return reply;
}

static json_object *
s_nip19_encode (json_object *req)
{
    nip19_entity_t entity = { 0 };
    const char *type = s_get_string (req, "type");
    bool known = false;
    for (int t = NIP19_NPUB; t <= NIP19_NEVENT && type; t++)
        if (strcmp (type, nip19_type_name ((nip19_type_t) t)) == 0) {
            entity.type = (nip19_type_t) t;
            known = true;
        }
    if (!known || !s_get_hex (req, "hex", entity.bytes, 32))
        return s_error ("need type and 32-byte hex");
    json_object *relays, *kind;
    if (json_object_object_get_ex (req, "relays", &relays)) {
        size_t count = json_object_array_length (relays);
        if (count > NIP19_MAX_RELAYS)
            return s_error (nip19_strerror (NIP19_ERR_TOO_MANY_RELAYS));
        for (size_t i = 0; i < count; i++) {
            const char *relay = json_object_get_string (json_object_array_get_idx (relays, i));
            if (!relay || strlen (relay) > NIP19_RELAY_MAX)
                return s_error (nip19_strerror (NIP19_ERR_RELAY));
            strcpy (entity.relays [i], relay);
        }
        entity.relay_count = count;
    }
    if (json_object_object_get_ex (req, "author", NULL)) {
        if (!s_get_hex (req, "author", entity.author, 32))
            return s_error ("bad author");
        entity.has_author = true;
    }
    if (json_object_object_get_ex (req, "kind", &kind)) {
        entity.has_kind = true;
        entity.kind = (uint32_t) json_object_get_int64 (kind);
    }
    char out [NIP19_MAX_LEN + 1];
    int rc = nip19_encode (out, sizeof out, &entity);
    nip19_entity_wipe (&entity);
    if (rc)
        return s_error (nip19_strerror (rc));
    json_object *reply = s_ok ();
    json_object_object_add (reply, "str", json_object_new_string (out));
    sodium_memzero (out, sizeof out);
    return reply;
}

static json_object *
s_nip19_decode (json_object *req)
{
    const char *str = s_get_string (req, "str");
    if (!str)
        return s_error ("need str");
    nip19_entity_t entity;
    int rc = nip19_decode (str, &entity);
    if (rc)
        return s_error (nip19_strerror (rc));
    json_object *reply = s_ok ();
    json_object_object_add (reply, "type", json_object_new_string (nip19_type_name (entity.type)));
    s_add_hex (reply, "hex", entity.bytes, 32);
    if (entity.type == NIP19_NPROFILE || entity.type == NIP19_NEVENT) {
        json_object *relays = json_object_new_array ();
        for (size_t i = 0; i < entity.relay_count; i++)
            json_object_array_add (relays, json_object_new_string (entity.relays [i]));
        json_object_object_add (reply, "relays", relays);
    }
    if (entity.has_author)
        s_add_hex (reply, "author", entity.author, 32);
    if (entity.has_kind)
        json_object_object_add (reply, "kind", json_object_new_int64 (entity.kind));
    nip19_entity_wipe (&entity);
    return reply;
}

static json_object *
s_bolt11_encode (json_object *req)
{
    static bolt11_invoice_t inv;
    uint8_t seckey [32];
    const char *network = s_get_string (req, "network");
    int net = -1;
    for (int i = 0; i < 5 && network; i++)
        if (strcmp (network, s_networks [i]) == 0)
            net = i;
    if (net < 0)
        return s_error ("bad network");
    bolt11_invoice_init (&inv, (bolt11_network_t) net);
    memset (inv.features, 0, sizeof inv.features);
    const char *amount = s_get_string (req, "amount_msat");
    if (amount) {
        inv.has_amount = true;
        inv.amount_msat = strtoull (amount, NULL, 10);
    }
    json_object *value;
    if (json_object_object_get_ex (req, "timestamp", &value))
        inv.timestamp = (uint64_t) json_object_get_int64 (value);
    if (json_object_object_get_ex (req, "expiry", &value))
        inv.expiry = (uint64_t) json_object_get_int64 (value);
    if (json_object_object_get_ex (req, "min_final_cltv", &value))
        inv.min_final_cltv = (uint64_t) json_object_get_int64 (value);
    if (json_object_object_get_ex (req, "payee_field", &value))
        inv.has_payee_field = json_object_get_boolean (value);
    if (json_object_object_get_ex (req, "features", &value))
        for (size_t i = 0; i < json_object_array_length (value); i++)
            bolt11_set_feature (&inv, (unsigned) json_object_get_int (json_object_array_get_idx (value, i)));
    const char *description = s_get_string (req, "description");
    if (description) {
        if (strlen (description) > BOLT11_DESCRIPTION_MAX)
            return s_error ("description too long");
        strcpy (inv.description, description);
        inv.has_description = true;
    }
    if (json_object_object_get_ex (req, "description_hash", NULL)) {
        if (!s_get_hex (req, "description_hash", inv.description_hash, 32))
            return s_error ("bad description_hash");
        inv.has_description_hash = true;
    }
    if (!s_get_hex (req, "payment_hash", inv.payment_hash, 32)
    ||  !s_get_hex (req, "payment_secret", inv.payment_secret, 32)
    ||  !s_get_hex (req, "seckey", seckey, 32))
        return s_error ("need payment_hash, payment_secret, seckey");
    static char out [BOLT11_MAX_LEN + 1];
    int rc = bolt11_encode (out, sizeof out, &inv, seckey);
    sodium_memzero (seckey, sizeof seckey);
    if (rc)
        return s_error (bolt11_strerror (rc));
    json_object *reply = s_ok ();
    json_object_object_add (reply, "invoice", json_object_new_string (out));
    return reply;
}

static json_object *
s_bolt11_decode (json_object *req)
{
    static bolt11_invoice_t inv;
    const char *invoice = s_get_string (req, "invoice");
    if (!invoice)
        return s_error ("need invoice");
    int rc = bolt11_decode (invoice, &inv);
    if (rc)
        return s_error (bolt11_strerror (rc));
    json_object *reply = s_ok ();
    json_object_object_add (reply, "network", json_object_new_string (s_networks [inv.network]));
    if (inv.has_amount) {
        char amount [24];
        snprintf (amount, sizeof amount, "%llu", (unsigned long long) inv.amount_msat);
        json_object_object_add (reply, "amount_msat", json_object_new_string (amount));
    }
    else
        json_object_object_add (reply, "amount_msat", NULL);
    json_object_object_add (reply, "timestamp", json_object_new_int64 ((int64_t) inv.timestamp));
    s_add_hex (reply, "payment_hash", inv.payment_hash, 32);
    s_add_hex (reply, "payment_secret", inv.payment_secret, 32);
    if (inv.has_description)
        json_object_object_add (reply, "description", json_object_new_string (inv.description));
    if (inv.has_description_hash)
        s_add_hex (reply, "description_hash", inv.description_hash, 32);
    json_object_object_add (reply, "expiry", json_object_new_int64 ((int64_t) inv.expiry));
    json_object_object_add (reply, "min_final_cltv", json_object_new_int64 ((int64_t) inv.min_final_cltv));
    s_add_hex (reply, "payee", inv.payee, 33);
    json_object_object_add (reply, "payee_field", json_object_new_boolean (inv.has_payee_field));
    json_object *features = json_object_new_array ();
    for (unsigned bit = 0; bit < 8 * BOLT11_FEATURES_BYTES; bit++)
        if (bolt11_has_feature (&inv, bit))
            json_object_array_add (features, json_object_new_int ((int) bit));
    json_object_object_add (reply, "features", features);
    return reply;
}

static json_object *
s_handle (const char *line)
{
    json_object *req = json_tokener_parse (line);
    if (!req || !json_object_is_type (req, json_type_object)) {
        json_object_put (req);
        return s_error ("not a JSON object");
    }
    const char *op = s_get_string (req, "op");
    json_object *reply;
    if (op && strcmp (op, "nip19_encode") == 0)
        reply = s_nip19_encode (req);
    else
    if (op && strcmp (op, "nip19_decode") == 0)
        reply = s_nip19_decode (req);
    else
    if (op && strcmp (op, "bolt11_encode") == 0)
        reply = s_bolt11_encode (req);
    else
    if (op && strcmp (op, "bolt11_decode") == 0)
        reply = s_bolt11_decode (req);
    else
        reply = s_error ("unknown op");
    json_object_put (req);
    return reply;
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    static char line [LINE_MAX_LEN + 2];
    while (fgets (line, sizeof line, stdin)) {
        size_t len = strlen (line);
        json_object *reply;
        if (len > 0 && line [len - 1] == '\n')
            line [len - 1] = '\0';
        else
        if (len == sizeof line - 1) {
            int c;      //  over-long line: skip the rest of it
            while ((c = getchar ()) != EOF && c != '\n')
                ;
            line [0] = '\0';
            reply = s_error ("line too long");
            puts (json_object_to_json_string_ext (reply, JSON_C_TO_STRING_PLAIN));
            json_object_put (reply);
            continue;
        }
        reply = s_handle (line);
        puts (json_object_to_json_string_ext (reply, JSON_C_TO_STRING_PLAIN));
        json_object_put (reply);
    }
    sodium_memzero (line, sizeof line);
    return 0;
}
