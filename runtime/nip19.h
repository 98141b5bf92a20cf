/*  nip19.h: NIP-19 bech32 entities: npub, nsec, note, nprofile, nevent.

    These strings are for display and user input only (config files, logs, the command line):
    events and filters carry hex. Decoding is strict about everything the entity needs (exact
    32-byte keys, whole TLV records, a 32-byte "special" entry, a 4-byte kind) and ignores TLV
    types it does not know, as NIP-19 asks. Strings are limited to NIP19_MAX_LEN characters and
    relay lists to NIP19_MAX_RELAYS entries of at most NIP19_RELAY_MAX bytes.

    An nsec entity and the string it encodes to hold a secret key: wipe them with
    sodium_memzero (nip19_entity_wipe for the struct) when done. */
#ifndef PYLON_NIP19_H
#define PYLON_NIP19_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bech32.h"

//  Longest entity string accepted or produced (the limit NIP-19 recommends).
#define NIP19_MAX_LEN 5000
//  Most relay hints kept in an nprofile/nevent; more is an error, not silently dropped.
#define NIP19_MAX_RELAYS 16
//  Longest relay URL in bytes (a TLV length is one byte).
#define NIP19_RELAY_MAX 255

typedef enum {
    NIP19_NPUB,                 //  32-byte public key
    NIP19_NSEC,                 //  32-byte secret key
    NIP19_NOTE,                 //  32-byte event id
    NIP19_NPROFILE,             //  public key + relay hints (TLV)
    NIP19_NEVENT                //  event id + relay hints + optional author and kind (TLV)
} nip19_type_t;

//  A decoded entity, or one to encode. Plain data, no heap.
typedef struct {
    nip19_type_t type;          //  which entity
    uint8_t bytes [32];         //  the key or event id (TLV type 0 "special" for TLV entities)
    bool has_author;            //  nevent: author pubkey present (TLV type 2)
    uint8_t author [32];        //  nevent: author pubkey, when has_author
    bool has_kind;              //  nevent: event kind present (TLV type 3)
    uint32_t kind;              //  nevent: event kind, when has_kind
    size_t relay_count;         //  nprofile/nevent: number of relay hints (TLV type 1)
    char relays [NIP19_MAX_RELAYS][NIP19_RELAY_MAX + 1];   //  relay URLs, NUL-terminated
} nip19_entity_t;

//  Error codes: the bech32_error_t values pass through, these follow below them.
typedef enum {
    NIP19_ERR_PREFIX = -20,         //  not npub/nsec/note/nprofile/nevent
    NIP19_ERR_LENGTH = -21,         //  bare entity whose payload is not exactly 32 bytes
    NIP19_ERR_TLV_TRUNCATED = -22,  //  a TLV record runs past the end of the data
    NIP19_ERR_TLV_SPECIAL = -23,    //  missing special (type 0) entry, or not 32 bytes
    NIP19_ERR_TLV_FIELD = -24,      //  author not 32 bytes or kind not 4 bytes
    NIP19_ERR_TOO_MANY_RELAYS = -25,//  more than NIP19_MAX_RELAYS relay hints
    NIP19_ERR_RELAY = -26           //  empty relay, or a relay with control characters / NUL
} nip19_error_t;

//  Encode an entity into out (NUL-terminated; NIP19_MAX_LEN + 1 bytes is always enough).
//  Fields that do not belong to the type are ignored. Returns 0 or a negative error code.
int
    nip19_encode (char *out, size_t out_size, const nip19_entity_t *entity);

//  Shorthand for npub/nsec/note: encode 32 bytes under that type.
int
    nip19_encode_bytes (char *out, size_t out_size, nip19_type_t type, const uint8_t bytes [32]);

//  Decode a NUL-terminated entity string (either case, not mixed). On success fills *entity
//  and returns 0; on failure returns a negative error code and *entity holds no secret.
int
    nip19_decode (const char *str, nip19_entity_t *entity);

//  The bech32 prefix of a type ("npub", ...).
const char *
    nip19_type_name (nip19_type_t type);

//  Wipe an entity (it may hold a secret key).
void
    nip19_entity_wipe (nip19_entity_t *entity);

//  A short English description of a nip19 or bech32 error code.
const char *
    nip19_strerror (int rc);

#endif
