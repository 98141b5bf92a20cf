/*  nip19.c: NIP-19 entity encoding and decoding on top of bech32.c. See nip19.h.

    Payload layouts: npub/nsec/note are the 32 bytes themselves; nprofile/nevent are a list of
    TLV records (type byte, length byte, value). Every intermediate buffer is wiped on the way
    out, because for nsec it holds the secret key. */
#include "nip19.h"

#include <sodium.h>
#include <string.h>

//  TLV record types of NIP-19.
#define TLV_SPECIAL 0
#define TLV_RELAY   1
#define TLV_AUTHOR  2
#define TLV_KIND    3

//  Largest payload that fits in NIP19_MAX_LEN characters (bytes, then 5-bit words).
#define PAYLOAD_MAX ((NIP19_MAX_LEN * 5) / 8)
#define WORDS_MAX NIP19_MAX_LEN

static const char *s_names [] = { "npub", "nsec", "note", "nprofile", "nevent" };

const char *
nip19_type_name (nip19_type_t type)
{
    return (unsigned) type < sizeof s_names / sizeof s_names [0] ? s_names [type] : "?";
}

static bool
s_is_tlv_type (nip19_type_t type)
{
    return type == NIP19_NPROFILE || type == NIP19_NEVENT;
}

//  Append one TLV record; returns false when the payload buffer would overflow.
static bool
s_tlv_put (uint8_t *payload, size_t *len, uint8_t type, const void *value, size_t value_len)
{
    if (value_len > 255 || *len + 2 + value_len > PAYLOAD_MAX)
        return false;
    payload [(*len)++] = type;
    payload [(*len)++] = (uint8_t) value_len;
    memcpy (payload + *len, value, value_len);
    *len += value_len;
    return true;
}

//  A relay URL must be non-empty and free of control characters (it ends up in logs, config
//  and JSON); non-ASCII bytes are passed through as UTF-8.
static bool
s_relay_ok (const uint8_t *value, size_t len)
{
    if (len == 0 || len > NIP19_RELAY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (value [i] < 0x20 || value [i] == 0x7f)
            return false;
    return true;
}

//  Build the TLV payload of an nprofile/nevent.
static int
s_tlv_build (const nip19_entity_t *entity, uint8_t *payload, size_t *len)
{
    *len = 0;
    if (entity->relay_count > NIP19_MAX_RELAYS)
        return NIP19_ERR_TOO_MANY_RELAYS;
    if (!s_tlv_put (payload, len, TLV_SPECIAL, entity->bytes, 32))
        return BECH32_ERR_TOO_LONG;
    for (size_t i = 0; i < entity->relay_count; i++) {
        const char *relay = entity->relays [i];
        size_t relay_len = strnlen (relay, NIP19_RELAY_MAX + 1);
        if (!s_relay_ok ((const uint8_t *) relay, relay_len))
            return NIP19_ERR_RELAY;
        if (!s_tlv_put (payload, len, TLV_RELAY, relay, relay_len))
            return BECH32_ERR_TOO_LONG;
    }
    if (entity->type == NIP19_NEVENT && entity->has_author
    &&  !s_tlv_put (payload, len, TLV_AUTHOR, entity->author, 32))
        return BECH32_ERR_TOO_LONG;
    if (entity->type == NIP19_NEVENT && entity->has_kind) {
        uint8_t kind [4] = {
            (uint8_t) (entity->kind >> 24), (uint8_t) (entity->kind >> 16),
            (uint8_t) (entity->kind >> 8), (uint8_t) entity->kind
        };
        if (!s_tlv_put (payload, len, TLV_KIND, kind, 4))
            return BECH32_ERR_TOO_LONG;
    }
    return 0;
}

int
nip19_encode (char *out, size_t out_size, const nip19_entity_t *entity)
{
    if ((unsigned) entity->type > NIP19_NEVENT)
        return NIP19_ERR_PREFIX;
    uint8_t payload [PAYLOAD_MAX];
    uint8_t words [WORDS_MAX];
    size_t payload_len = 0, words_len = 0;
    int rc = 0;
    if (s_is_tlv_type (entity->type))
        rc = s_tlv_build (entity, payload, &payload_len);
    else {
        memcpy (payload, entity->bytes, 32);
        payload_len = 32;
    }
    if (rc == 0)
        rc = bech32_convert_bits (words, sizeof words, &words_len, 5,
                                  payload, payload_len, 8, true);
    if (rc == 0)
        rc = bech32_encode (out, out_size, nip19_type_name (entity->type),
                            words, words_len, NIP19_MAX_LEN);
    sodium_memzero (payload, sizeof payload);
    sodium_memzero (words, sizeof words);
    return rc;
}

int
nip19_encode_bytes (char *out, size_t out_size, nip19_type_t type, const uint8_t bytes [32])
{
    if (s_is_tlv_type (type))
        return NIP19_ERR_PREFIX;
    nip19_entity_t entity = { .type = type };
    memcpy (entity.bytes, bytes, 32);
    int rc = nip19_encode (out, out_size, &entity);
    nip19_entity_wipe (&entity);
    return rc;
}

//  Parse the TLV payload of an nprofile/nevent into entity. The first special, author and
//  kind records win (as in other implementations); unknown types are skipped.
static int
s_tlv_parse (const uint8_t *payload, size_t len, nip19_entity_t *entity)
{
    bool has_special = false;
    size_t at = 0;
    while (at < len) {
        if (len - at < 2)
            return NIP19_ERR_TLV_TRUNCATED;
        uint8_t type = payload [at];
        size_t value_len = payload [at + 1];
        const uint8_t *value = payload + at + 2;
        if (len - at - 2 < value_len)
            return NIP19_ERR_TLV_TRUNCATED;
        at += 2 + value_len;

        if (type == TLV_SPECIAL) {
            if (value_len != 32)
                return NIP19_ERR_TLV_SPECIAL;
            if (!has_special)
                memcpy (entity->bytes, value, 32);
            has_special = true;
        }
        else
        if (type == TLV_RELAY) {
            if (!s_relay_ok (value, value_len))
                return NIP19_ERR_RELAY;
            if (entity->relay_count == NIP19_MAX_RELAYS)
                return NIP19_ERR_TOO_MANY_RELAYS;
            memcpy (entity->relays [entity->relay_count], value, value_len);
            entity->relays [entity->relay_count][value_len] = '\0';
            entity->relay_count++;
        }
        else
        if (type == TLV_AUTHOR && entity->type == NIP19_NEVENT) {
            if (value_len != 32)
                return NIP19_ERR_TLV_FIELD;
            if (!entity->has_author)
                memcpy (entity->author, value, 32);
            entity->has_author = true;
        }
        else
        if (type == TLV_KIND && entity->type == NIP19_NEVENT) {
            if (value_len != 4)
                return NIP19_ERR_TLV_FIELD;
            if (!entity->has_kind)
                entity->kind = (uint32_t) value [0] << 24 | (uint32_t) value [1] << 16
                             | (uint32_t) value [2] << 8 | value [3];
            entity->has_kind = true;
        }
        //  Any other type: ignored, as NIP-19 requires.
    }
    return has_special ? 0 : NIP19_ERR_TLV_SPECIAL;
}

int
nip19_decode (const char *str, nip19_entity_t *entity)
{
    memset (entity, 0, sizeof *entity);
    char hrp [BECH32_HRP_MAX + 1];
    uint8_t words [WORDS_MAX];
    uint8_t payload [PAYLOAD_MAX];
    size_t words_len = 0, payload_len = 0;

    int rc = bech32_decode (str, NIP19_MAX_LEN, hrp, sizeof hrp, words, sizeof words, &words_len);
    if (rc == 0) {
        rc = NIP19_ERR_PREFIX;
        for (size_t i = 0; i < sizeof s_names / sizeof s_names [0]; i++)
            if (strcmp (hrp, s_names [i]) == 0) {
                entity->type = (nip19_type_t) i;
                rc = 0;
            }
    }
    if (rc == 0)
        rc = bech32_convert_bits (payload, sizeof payload, &payload_len, 8,
                                  words, words_len, 5, false);
    if (rc == 0) {
        if (s_is_tlv_type (entity->type))
            rc = s_tlv_parse (payload, payload_len, entity);
        else
        if (payload_len != 32)
            rc = NIP19_ERR_LENGTH;
        else
            memcpy (entity->bytes, payload, 32);
    }
    sodium_memzero (words, sizeof words);
    sodium_memzero (payload, sizeof payload);
    if (rc != 0)
        nip19_entity_wipe (entity);
    return rc;
}

void
nip19_entity_wipe (nip19_entity_t *entity)
{
    sodium_memzero (entity, sizeof *entity);
}

const char *
nip19_strerror (int rc)
{
    switch (rc) {
        case NIP19_ERR_PREFIX:        return "nip19: unknown prefix (want npub, nsec, note, nprofile, nevent)";
        case NIP19_ERR_LENGTH:        return "nip19: payload is not 32 bytes";
        case NIP19_ERR_TLV_TRUNCATED: return "nip19: truncated TLV record";
        case NIP19_ERR_TLV_SPECIAL:   return "nip19: missing or malformed special (type 0) TLV";
        case NIP19_ERR_TLV_FIELD:     return "nip19: malformed author or kind TLV";
        case NIP19_ERR_TOO_MANY_RELAYS: return "nip19: too many relay hints";
        case NIP19_ERR_RELAY:         return "nip19: empty relay or relay with control characters";
        default:                      return bech32_strerror (rc);
    }
}
