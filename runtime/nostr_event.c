/*  nostr_event.c: NIP-01 events. See nostr_event.h for the contract.

    Parsing is two passes over untrusted text. First our own strict lexical scan
    (s_prescan), which json-c does not do for us: json-c 0.16 accepts single-quoted strings,
    NaN, raw control characters inside strings, turns lone surrogate escapes into U+FFFD and
    keeps only the last of repeated keys. The scan rejects all of those, validates UTF-8,
    enforces the nesting depth and counts the members of the top-level object, so that a
    repeated key shows up as "more members in the text than in the parsed object". Then
    json-c (json_tokener with a depth limit) builds the tree and s_extract copies the seven
    fields into the event with type, range and size checks.

    The canonical serialization is written by our own small writer, because it must match
    JavaScript's JSON.stringify byte for byte (json-c escapes '/' and writes other control
    characters differently): \n \" \\ \r \t \b \f get short escapes, other bytes below 0x20
    become \u00xx in lowercase hex, everything else (including '/', 0x7f and all non-ASCII
    UTF-8) is copied as is. The writer first computes the exact length, then fills one
    buffer: on the stack for events up to 4 KiB, on the heap above. */
#include "nostr_event.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

//  Fields of the event object, as bits of a "seen" mask.
enum {
    s_FIELD_ID = 1, s_FIELD_PUBKEY = 2, s_FIELD_CREATED_AT = 4, s_FIELD_KIND = 8,
    s_FIELD_TAGS = 16, s_FIELD_CONTENT = 32, s_FIELD_SIG = 64, s_FIELD_ALL = 127
};
#define s_FIELD_COUNT 7

//  --- SHA-256 -----------------------------------------------------------------------------
//  OpenSSL's SHA-256 uses the CPU's SHA extensions (5x libsodium's portable code on a 600-byte
//  event). The algorithm is fetched once; libsodium is the fallback if OpenSSL cannot give it.

static pthread_once_t s_sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_sha256;

static void
s_sha_init (void)
{
    s_sha256 = EVP_MD_fetch (NULL, "SHA256", NULL);
}

static void
s_sha256_digest (const void *data, size_t len, uint8_t out[32])
{
    pthread_once (&s_sha_once, s_sha_init);
    if (s_sha256 && EVP_Digest (data, len, out, NULL, s_sha256, NULL) == 1)
        return;
    crypto_hash_sha256 (out, (const unsigned char *) data, len);
}

//  --- Hex -----------------------------------------------------------------------------

void
nostr_event_hex (const uint8_t *bytes, size_t len, char *out)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out [2 * i] = digits [bytes [i] >> 4];
        out [2 * i + 1] = digits [bytes [i] & 15];
    }
    out [2 * len] = 0;
}

static int
s_hex_digit (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;                  //  Uppercase is not canonical NIP-01 hex
}

int
nostr_event_unhex (const char *hex, size_t hex_len, uint8_t *out, size_t len)
{
    if (hex_len != 2 * len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int high = s_hex_digit (hex [2 * i]);
        int low = s_hex_digit (hex [2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        out [i] = (uint8_t) (high << 4 | low);
    }
    return 0;
}

//  --- UTF-8 ---------------------------------------------------------------------------

//  Length of the valid UTF-8 sequence starting at S (at most AVAIL bytes), or 0 if invalid:
//  overlong forms, surrogates (U+D800..DFFF) and values above U+10FFFF are rejected.
static size_t
s_utf8_sequence (const uint8_t *s, size_t avail)
{
    uint8_t c = s [0];
    if (c < 0x80)
        return 1;
    size_t need;
    uint8_t low = 0x80, high = 0xBF;    //  Allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else
    if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            low = 0xA0;                 //  No overlong 3-byte forms
        if (c == 0xED)
            high = 0x9F;                //  No surrogates
    }
    else
    if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            low = 0x90;                 //  No overlong 4-byte forms
        if (c == 0xF4)
            high = 0x8F;                //  Nothing above U+10FFFF
    }
    else
        return 0;
    if (avail < need || s [1] < low || s [1] > high)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s [i] & 0xC0) != 0x80)
            return 0;
    return need;
}

static bool
s_utf8_valid (const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *) str;
    size_t i = 0;
    while (i < len) {
        if (s [i] < 0x80) {
            i++;
            continue;
        }
        size_t step = s_utf8_sequence (s + i, len - i);
        if (step == 0)
            return false;
        i += step;
    }
    return true;
}

//  --- Strict lexical scan ---------------------------------------------------------------

static int
s_hex4 (const uint8_t *s, size_t avail, unsigned *value)
{
    if (avail < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = s_hex_digit ((char) s [i]);
        if (d < 0 && s [i] >= 'A' && s [i] <= 'F')
            d = s [i] - 'A' + 10;   //  Escapes may use either case
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned) d;
    }
    *value = v;
    return 0;
}

//  Scan one string body starting after its opening quote at TEXT[*pos]. On success *pos is
//  just past the closing quote.
static int
s_scan_string (const uint8_t *text, size_t len, size_t *pos)
{
    //  Bytes that need no attention inside a string: printable ASCII but '"' and '\\'.
    static const bool plain [256] = {
        [0x20 ... 0x21] = true, [0x23 ... 0x5B] = true, [0x5D ... 0x7F] = true
    };
    size_t i = *pos;
    while (i < len) {
        while (i < len && plain [text [i]])
            i++;                        //  The fast path: most of every string
        if (i == len)
            break;
        uint8_t c = text [i];
        if (c == '"') {
            *pos = i + 1;
            return 0;
        }
        if (c < 0x20)
            return NOSTR_EVENT_ERR_JSON;        //  Raw control characters are not JSON
        if (c == '\\') {
            if (i + 1 >= len)
                return NOSTR_EVENT_ERR_JSON;
            uint8_t e = text [i + 1];
            if (e != 'u') {
                if (!strchr ("\"\\/bfnrt", e) || e == 0)
                    return NOSTR_EVENT_ERR_JSON;
                i += 2;
                continue;
            }
            unsigned unit;
            if (s_hex4 (text + i + 2, len - i - 2, &unit))
                return NOSTR_EVENT_ERR_JSON;
            i += 6;
            if (unit >= 0xDC00 && unit <= 0xDFFF)
                return NOSTR_EVENT_ERR_UTF8;    //  Low surrogate without a high one
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                unsigned second;
                if (i + 1 >= len || text [i] != '\\' || text [i + 1] != 'u'
                ||  s_hex4 (text + i + 2, len - i - 2, &second)
                ||  second < 0xDC00 || second > 0xDFFF)
                    return NOSTR_EVENT_ERR_UTF8;
                i += 6;
            }
            continue;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t step = s_utf8_sequence (text + i, len - i);
        if (step == 0)
            return NOSTR_EVENT_ERR_UTF8;
        i += step;
    }
    return NOSTR_EVENT_ERR_JSON;                //  Unterminated string
}

//  Strict lexical check of the whole text (see the file header). Outside strings only
//  structural characters, whitespace, digits and '-' may appear: an event holds nothing but
//  strings and integers, so true/false/null, fractions and exponents are all wrong types.
//  *MEMBERS gets the number of members of the top-level object as written.
static int
s_prescan (const uint8_t *text, size_t len, size_t *members)
{
    size_t depth = 0, commas = 0, pos = 0;
    bool top_has_member = false;
    bool expect_key = false;        //  The next string at depth 1 is a member name
    while (pos < len) {
        uint8_t c = text [pos];
        switch (c) {
            case ' ': case '\t': case '\n': case '\r':
            case ':': case '-':
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                pos++;
                break;
            case '{': case '[':
                if (++depth > NOSTR_EVENT_MAX_DEPTH)
                    return NOSTR_EVENT_ERR_DEPTH;
                expect_key = depth == 1;
                pos++;
                break;
            case '}': case ']':
                if (depth == 0)
                    return NOSTR_EVENT_ERR_JSON;
                depth--;
                pos++;
                break;
            case ',':
                if (depth == 1) {
                    commas++;
                    expect_key = true;
                }
                pos++;
                break;
            case '"': {
                size_t start = ++pos;
                int rc = s_scan_string (text, len, &pos);
                if (rc)
                    return rc;
                if (depth == 1 && expect_key) {
                    //  Event field names never need escapes. json-c would cut a name at
                    //  an escaped NUL ("id\u0000x" read as "id"): refuse them all.
                    if (memchr (text + start, '\\', pos - start))
                        return NOSTR_EVENT_ERR_SHAPE;
                    top_has_member = true;
                    expect_key = false;
                }
                break;
            }
            default:
                return NOSTR_EVENT_ERR_JSON;
        }
    }
    *members = top_has_member ? commas + 1 : 0;
    return 0;
}

//  --- Event memory ------------------------------------------------------------------------

static void
s_free_tags (nostr_event_t *self)
{
    for (size_t i = 0; i < self->tag_count; i++)
        free (self->tags [i].elems);
    free (self->tags);
    self->tags = NULL;
    self->tag_count = self->tag_alloc = 0;
}

void
nostr_event_destroy (nostr_event_t **self_p)
{
    if (self_p && *self_p) {
        nostr_event_t *self = *self_p;
        s_free_tags (self);
        free (self->content.str);
        free (self);
        *self_p = NULL;
    }
}

//  An empty event with an empty content string.
static nostr_event_t *
s_event_alloc (void)
{
    nostr_event_t *self = (nostr_event_t *) calloc (1, sizeof (nostr_event_t));
    if (!self)
        return NULL;
    self->content.str = (char *) calloc (1, 1);
    if (!self->content.str) {
        free (self);
        return NULL;
    }
    return self;
}

//  Reserve room for N tags in total.
static int
s_reserve_tags (nostr_event_t *self, size_t n)
{
    if (n <= self->tag_alloc)
        return 0;
    size_t alloc = self->tag_alloc ? self->tag_alloc : 4;
    while (alloc < n)
        alloc *= 2;
    nostr_tag_t *tags = (nostr_tag_t *) realloc (self->tags, alloc * sizeof (nostr_tag_t));
    if (!tags)
        return -1;
    self->tags = tags;
    self->tag_alloc = alloc;
    return 0;
}

//  Append a tag whose COUNT strings are given as pointers and lengths. One allocation per
//  tag: the nostr_str_t array followed by the NUL-terminated strings.
static int
s_append_tag (nostr_event_t *self, size_t count, const char *const *strs, const size_t *lens)
{
    if (s_reserve_tags (self, self->tag_count + 1))
        return -1;
    size_t bytes = count * sizeof (nostr_str_t);
    for (size_t i = 0; i < count; i++)
        bytes += lens [i] + 1;
    nostr_str_t *elems = (nostr_str_t *) malloc (bytes);
    if (!elems)
        return -1;
    char *cursor = (char *) (elems + count);
    for (size_t i = 0; i < count; i++) {
        memcpy (cursor, strs [i], lens [i]);
        cursor [lens [i]] = 0;
        elems [i].str = cursor;
        elems [i].len = lens [i];
        cursor += lens [i] + 1;
    }
    self->tags [self->tag_count].elems = elems;
    self->tags [self->tag_count].count = count;
    self->tag_count++;
    return 0;
}

static int
s_set_content (nostr_event_t *self, const char *content, size_t len)
{
    char *copy = (char *) malloc (len + 1);
    if (!copy)
        return -1;
    memcpy (copy, content, len);
    copy [len] = 0;
    free (self->content.str);
    self->content.str = copy;
    self->content.len = len;
    return 0;
}

//  --- Building ----------------------------------------------------------------------------

nostr_event_t *
nostr_event_new (uint32_t kind, int64_t created_at, const char *content, size_t content_len)
{
    if (kind > 65535 || created_at < 0 || created_at > NOSTR_EVENT_MAX_CREATED_AT)
        return NULL;
    if (!content)
        content = "";
    if (!s_utf8_valid (content, content_len))
        return NULL;
    nostr_event_t *self = s_event_alloc ();
    if (!self)
        return NULL;
    self->kind = kind;
    self->created_at = created_at;
    if (s_set_content (self, content, content_len))
        nostr_event_destroy (&self);
    return self;
}

int
nostr_event_add_tag (nostr_event_t *self, size_t count, const char *const *elems)
{
    if (count == 0 || count > 4096)
        return -1;
    size_t lens_small [16];
    size_t *lens = count <= 16 ? lens_small : (size_t *) malloc (count * sizeof (size_t));
    if (!lens)
        return -1;
    for (size_t i = 0; i < count; i++)
        lens [i] = strlen (elems [i]);
    int rc = nostr_event_add_tag_len (self, count, elems, lens);
    if (lens != lens_small)
        free (lens);
    return rc;
}

int
nostr_event_add_tag_len (nostr_event_t *self, size_t count, const char *const *elems,
                         const size_t *lens)
{
    if (count == 0 || count > 4096)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (!s_utf8_valid (elems [i], lens [i]))
            return -1;
    return s_append_tag (self, count, elems, lens);
}

int
nostr_event_add_tagv (nostr_event_t *self, const char *name, ...)
{
    const char *elems [64];
    size_t count = 0;
    elems [count++] = name;
    va_list args;
    va_start (args, name);
    const char *next;
    while ((next = va_arg (args, const char *)) != NULL) {
        if (count == 64) {
            va_end (args);
            return -1;
        }
        elems [count++] = next;
    }
    va_end (args);
    return nostr_event_add_tag (self, count, elems);
}

int
nostr_event_sign_aux (nostr_event_t *self, const nostr_keys_t *keys, const uint8_t aux[32])
{
    memcpy (self->pubkey, nostr_keys_pubkey (keys), 32);
    if (nostr_event_compute_id (self, self->id))
        return -1;
    return nostr_keys_sign (keys, self->id, 32, aux, self->sig);
}

int
nostr_event_sign (nostr_event_t *self, const nostr_keys_t *keys)
{
    return nostr_event_sign_aux (self, keys, NULL);
}

//  --- Receiving ---------------------------------------------------------------------------

static nostr_event_limits_t
s_limits (const nostr_event_limits_t *given)
{
    nostr_event_limits_t limits = {
        NOSTR_EVENT_DEFAULT_MAX_JSON, NOSTR_EVENT_DEFAULT_MAX_TAGS,
        NOSTR_EVENT_DEFAULT_MAX_TAG_ELEMS, NOSTR_EVENT_DEFAULT_MAX_STRING,
        NOSTR_EVENT_DEFAULT_MAX_CONTENT
    };
    if (given) {
        if (given->max_json)
            limits.max_json = given->max_json;
        if (given->max_tags)
            limits.max_tags = given->max_tags;
        if (given->max_tag_elems)
            limits.max_tag_elems = given->max_tag_elems;
        if (given->max_string)
            limits.max_string = given->max_string;
        if (given->max_content)
            limits.max_content = given->max_content;
    }
    return limits;
}

static int
s_extract_hex (json_object *value, uint8_t *out, size_t len)
{
    if (!json_object_is_type (value, json_type_string))
        return NOSTR_EVENT_ERR_TYPE;
    if (nostr_event_unhex (json_object_get_string (value),
                           (size_t) json_object_get_string_len (value), out, len))
        return NOSTR_EVENT_ERR_HEX;
    return 0;
}

static int
s_extract_int (json_object *value, int64_t max, int64_t *out)
{
    if (!json_object_is_type (value, json_type_int))
        return NOSTR_EVENT_ERR_TYPE;
    int64_t v = json_object_get_int64 (value);     //  Clamps values beyond int64
    if (v < 0 || v > max)
        return NOSTR_EVENT_ERR_RANGE;
    *out = v;
    return 0;
}

static int
s_extract_tags (nostr_event_t *self, json_object *value, const nostr_event_limits_t *limits)
{
    if (!json_object_is_type (value, json_type_array))
        return NOSTR_EVENT_ERR_TYPE;
    size_t count = json_object_array_length (value);
    if (count > limits->max_tags)
        return NOSTR_EVENT_ERR_TAGS;
    if (s_reserve_tags (self, count))
        return NOSTR_EVENT_ERR_NOMEM;
    const char *strs_small [16];
    size_t lens_small [16];
    for (size_t t = 0; t < count; t++) {
        json_object *tag = json_object_array_get_idx (value, t);
        if (!json_object_is_type (tag, json_type_array))
            return NOSTR_EVENT_ERR_TYPE;
        size_t elems = json_object_array_length (tag);
        if (elems == 0 || elems > limits->max_tag_elems)
            return NOSTR_EVENT_ERR_TAGS;
        const char **strs = strs_small;
        size_t *lens = lens_small;
        if (elems > 16) {
            strs = (const char **) malloc (elems * sizeof (char *));
            lens = (size_t *) malloc (elems * sizeof (size_t));
        }
        int rc = strs && lens ? 0 : NOSTR_EVENT_ERR_NOMEM;
        for (size_t e = 0; e < elems && rc == 0; e++) {
            json_object *item = json_object_array_get_idx (tag, e);
            if (!json_object_is_type (item, json_type_string))
                rc = NOSTR_EVENT_ERR_TYPE;
            else {
                strs [e] = json_object_get_string (item);
                lens [e] = (size_t) json_object_get_string_len (item);
                if (lens [e] > limits->max_string)
                    rc = NOSTR_EVENT_ERR_STRING;
            }
        }
        if (rc == 0 && s_append_tag (self, elems, strs, lens))
            rc = NOSTR_EVENT_ERR_NOMEM;
        if (strs != strs_small) {
            free ((void *) strs);
            free (lens);
        }
        if (rc)
            return rc;
    }
    return 0;
}

//  Copy the seven fields of OBJECT into SELF. Returns 0 or a NOSTR_EVENT_ERR_ code.
static int
s_extract (nostr_event_t *self, json_object *object, const nostr_event_limits_t *limits)
{
    if (!json_object_is_type (object, json_type_object))
        return NOSTR_EVENT_ERR_SHAPE;
    if (json_object_object_length (object) != s_FIELD_COUNT)
        return NOSTR_EVENT_ERR_SHAPE;   //  With 7 distinct known keys required, any other
                                        //  count means a missing or an unknown field
    unsigned seen = 0;
    int rc = 0;
    json_object_object_foreach (object, key, value) {
        int64_t number = 0;
        if (strcmp (key, "id") == 0) {
            seen |= s_FIELD_ID;
            rc = s_extract_hex (value, self->id, 32);
        }
        else
        if (strcmp (key, "pubkey") == 0) {
            seen |= s_FIELD_PUBKEY;
            rc = s_extract_hex (value, self->pubkey, 32);
        }
        else
        if (strcmp (key, "sig") == 0) {
            seen |= s_FIELD_SIG;
            rc = s_extract_hex (value, self->sig, 64);
        }
        else
        if (strcmp (key, "created_at") == 0) {
            seen |= s_FIELD_CREATED_AT;
            rc = s_extract_int (value, NOSTR_EVENT_MAX_CREATED_AT, &number);
            self->created_at = number;
        }
        else
        if (strcmp (key, "kind") == 0) {
            seen |= s_FIELD_KIND;
            rc = s_extract_int (value, 65535, &number);
            self->kind = (uint32_t) number;
        }
        else
        if (strcmp (key, "tags") == 0) {
            seen |= s_FIELD_TAGS;
            rc = s_extract_tags (self, value, limits);
        }
        else
        if (strcmp (key, "content") == 0) {
            seen |= s_FIELD_CONTENT;
            if (!json_object_is_type (value, json_type_string))
                rc = NOSTR_EVENT_ERR_TYPE;
            else {
                size_t len = (size_t) json_object_get_string_len (value);
                if (len > limits->max_content)
                    rc = NOSTR_EVENT_ERR_STRING;
                else
                if (s_set_content (self, json_object_get_string (value), len))
                    rc = NOSTR_EVENT_ERR_NOMEM;
            }
        }
        else
            rc = NOSTR_EVENT_ERR_SHAPE;
        if (rc)
            return rc;
    }
    return seen == s_FIELD_ALL ? 0 : NOSTR_EVENT_ERR_SHAPE;
}

nostr_event_t *
nostr_event_from_object (json_object *object, const nostr_event_limits_t *limits,
                         int *error)
{
    nostr_event_limits_t lim = s_limits (limits);
    int rc = NOSTR_EVENT_ERR_NOMEM;
    nostr_event_t *self = s_event_alloc ();
    if (self)
        rc = s_extract (self, object, &lim);
    if (rc) {
        nostr_event_destroy (&self);
        if (error)
            *error = rc;
        return NULL;
    }
    //  The strings came through json-c; decoded escapes are valid UTF-8 only if json-c
    //  was given valid text, which nostr_event_parse ensures but a caller's tree may not.
    if (!s_utf8_valid (self->content.str, self->content.len))
        rc = NOSTR_EVENT_ERR_UTF8;
    for (size_t t = 0; t < self->tag_count && rc == 0; t++)
        for (size_t e = 0; e < self->tags [t].count && rc == 0; e++)
            if (!s_utf8_valid (self->tags [t].elems [e].str, self->tags [t].elems [e].len))
                rc = NOSTR_EVENT_ERR_UTF8;
    if (rc) {
        nostr_event_destroy (&self);
        if (error)
            *error = rc;
        return NULL;
    }
    if (error)
        *error = 0;
    return self;
}

nostr_event_t *
nostr_event_parse (const char *json, size_t len, const nostr_event_limits_t *limits,
                   int *error)
{
    nostr_event_limits_t lim = s_limits (limits);
    int rc = 0;
    size_t members = 0;
    nostr_event_t *self = NULL;
    json_object *object = NULL;
    json_tokener *tokener = NULL;

    if (len > lim.max_json)
        rc = NOSTR_EVENT_ERR_TOO_LARGE;
    else
    if (len > INT32_MAX)
        rc = NOSTR_EVENT_ERR_TOO_LARGE;     //  json_tokener_parse_ex takes an int length
    if (rc == 0)
        rc = s_prescan ((const uint8_t *) json, len, &members);
    if (rc == 0) {
        //  json-c counts the value being parsed as one level more than our depth.
        tokener = json_tokener_new_ex (NOSTR_EVENT_MAX_DEPTH + 1);
        if (!tokener)
            rc = NOSTR_EVENT_ERR_NOMEM;
    }
    if (rc == 0) {
        json_tokener_set_flags (tokener, JSON_TOKENER_STRICT);
        object = json_tokener_parse_ex (tokener, json, (int) len);
        if (!object)
            rc = json_tokener_get_error (tokener) == json_tokener_error_depth
                 ? NOSTR_EVENT_ERR_DEPTH : NOSTR_EVENT_ERR_JSON;
        else {
            //  After the value only whitespace may follow.
            for (size_t i = json_tokener_get_parse_end (tokener); i < len; i++)
                if (!strchr (" \t\r\n", json [i]) || json [i] == 0)
                    rc = NOSTR_EVENT_ERR_JSON;
        }
    }
    if (rc == 0 && json_object_is_type (object, json_type_object)
    &&  (size_t) json_object_object_length (object) != members)
        rc = NOSTR_EVENT_ERR_SHAPE;          //  A key was repeated: json-c kept only one
    if (rc == 0) {
        //  The prescan validated the UTF-8 and the escapes, so s_extract's strings are valid.
        self = s_event_alloc ();
        rc = self ? s_extract (self, object, &lim) : NOSTR_EVENT_ERR_NOMEM;
    }
    json_object_put (object);
    if (tokener)
        json_tokener_free (tokener);
    if (rc)
        nostr_event_destroy (&self);
    if (error)
        *error = rc;
    return self;
}

int
nostr_event_check (const nostr_event_t *self)
{
    uint8_t id [32];
    if (nostr_event_compute_id (self, id))
        return NOSTR_EVENT_ERR_NOMEM;
    if (memcmp (id, self->id, 32) != 0)
        return NOSTR_EVENT_ERR_ID;
    if (nostr_keys_verify (self->pubkey, self->id, 32, self->sig))
        return NOSTR_EVENT_ERR_SIG;
    return 0;
}

//  --- Writer ------------------------------------------------------------------------------

//  How JSON.stringify writes each byte inside a string: 0 = as is, 'u' = \u00xx, else the
//  letter of a two-character escape.
static const char s_escape [256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
    //  0x60..0xFF: all zero
};

//  Written length of a JSON string, quotes included.
static size_t
s_string_len (const nostr_str_t *s)
{
    size_t len = s->len + 2;
    const uint8_t *p = (const uint8_t *) s->str;
    for (size_t i = 0; i < s->len; i++) {
        char e = s_escape [p [i]];
        if (e)
            len += e == 'u' ? 5 : 1;
    }
    return len;
}

static char *
s_write_string (char *out, const nostr_str_t *s)
{
    static const char digits [] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *) s->str;
    *out++ = '"';
    size_t run = 0;                         //  Start of the pending run of plain bytes
    for (size_t i = 0; i < s->len; i++) {
        char e = s_escape [p [i]];
        if (!e)
            continue;
        memcpy (out, p + run, i - run);
        out += i - run;
        run = i + 1;
        *out++ = '\\';
        if (e == 'u') {
            memcpy (out, "u00", 3);
            out [3] = digits [p [i] >> 4];
            out [4] = digits [p [i] & 15];
            out += 5;
        }
        else
            *out++ = e;
    }
    memcpy (out, p + run, s->len - run);
    out += s->len - run;
    *out++ = '"';
    return out;
}

static size_t
s_int_len (int64_t v)
{
    size_t len = 1;
    while (v >= 10) {
        v /= 10;
        len++;
    }
    return len;
}

static char *
s_write_int (char *out, int64_t v)
{
    size_t len = s_int_len (v);
    for (size_t i = len; i > 0; i--) {
        out [i - 1] = (char) ('0' + v % 10);
        v /= 10;
    }
    return out + len;
}

static size_t
s_tags_len (const nostr_event_t *self)
{
    size_t len = 2 + (self->tag_count ? self->tag_count - 1 : 0);  //  [ ] and commas
    for (size_t t = 0; t < self->tag_count; t++) {
        const nostr_tag_t *tag = &self->tags [t];
        len += 2 + tag->count - 1;
        for (size_t e = 0; e < tag->count; e++)
            len += s_string_len (&tag->elems [e]);
    }
    return len;
}

static char *
s_write_tags (char *out, const nostr_event_t *self)
{
    *out++ = '[';
    for (size_t t = 0; t < self->tag_count; t++) {
        const nostr_tag_t *tag = &self->tags [t];
        if (t)
            *out++ = ',';
        *out++ = '[';
        for (size_t e = 0; e < tag->count; e++) {
            if (e)
                *out++ = ',';
            out = s_write_string (out, &tag->elems [e]);
        }
        *out++ = ']';
    }
    *out++ = ']';
    return out;
}

static char *
s_write_hex (char *out, const uint8_t *bytes, size_t len)
{
    *out++ = '"';
    nostr_event_hex (bytes, len, out);
    out += 2 * len;
    *out++ = '"';
    return out;
}

static size_t
s_canonical_len (const nostr_event_t *self)
{
    //  [0,"<64>",created_at,kind,tags,content]
    return 4 + 66 + 1 + s_int_len (self->created_at) + 1 + s_int_len (self->kind) + 1
         + s_tags_len (self) + 1 + s_string_len (&self->content) + 1;
}

static char *
s_write_canonical (char *out, const nostr_event_t *self)
{
    memcpy (out, "[0,", 3);
    out = s_write_hex (out + 3, self->pubkey, 32);
    *out++ = ',';
    out = s_write_int (out, self->created_at);
    *out++ = ',';
    out = s_write_int (out, self->kind);
    *out++ = ',';
    out = s_write_tags (out, self);
    *out++ = ',';
    out = s_write_string (out, &self->content);
    *out++ = ']';
    return out;
}

char *
nostr_event_serialize (const nostr_event_t *self, size_t *len)
{
    size_t size = s_canonical_len (self);
    char *text = (char *) malloc (size + 1);
    if (!text)
        return NULL;
    char *end = s_write_canonical (text, self);
    *end = 0;
    if (len)
        *len = (size_t) (end - text);
    return text;
}

int
nostr_event_compute_id (const nostr_event_t *self, uint8_t id[32])
{
    char stack [4096];
    size_t size = s_canonical_len (self);
    char *text = size <= sizeof stack ? stack : (char *) malloc (size);
    if (!text)
        return -1;
    char *end = s_write_canonical (text, self);
    s_sha256_digest (text, (size_t) (end - text), id);
    if (text != stack)
        free (text);
    return 0;
}

char *
nostr_event_to_json (const nostr_event_t *self, size_t *len)
{
    static const char k_id [] = "{\"id\":", k_pubkey [] = ",\"pubkey\":",
        k_created [] = ",\"created_at\":", k_kind [] = ",\"kind\":", k_tags [] = ",\"tags\":",
        k_content [] = ",\"content\":", k_sig [] = ",\"sig\":";
    size_t size = sizeof k_id + sizeof k_pubkey + sizeof k_created + sizeof k_kind
                + sizeof k_tags + sizeof k_content + sizeof k_sig   //  includes 7 spare NULs
                + 66 + 66 + 130 + s_int_len (self->created_at) + s_int_len (self->kind)
                + s_tags_len (self) + s_string_len (&self->content) + 1;
    char *text = (char *) malloc (size);
    if (!text)
        return NULL;
    char *out = text;
#define s_PUT(literal) (memcpy (out, literal, sizeof literal - 1), out += sizeof literal - 1)
    s_PUT (k_id);
    out = s_write_hex (out, self->id, 32);
    s_PUT (k_pubkey);
    out = s_write_hex (out, self->pubkey, 32);
    s_PUT (k_created);
    out = s_write_int (out, self->created_at);
    s_PUT (k_kind);
    out = s_write_int (out, self->kind);
    s_PUT (k_tags);
    out = s_write_tags (out, self);
    s_PUT (k_content);
    out = s_write_string (out, &self->content);
    s_PUT (k_sig);
    out = s_write_hex (out, self->sig, 64);
#undef s_PUT
    *out++ = '}';
    *out = 0;
    if (len)
        *len = (size_t) (out - text);
    return text;
}

//  --- Tags, NIP-13, NIP-40 ----------------------------------------------------------------

const nostr_tag_t *
nostr_event_tag (const nostr_event_t *self, const char *name)
{
    size_t name_len = strlen (name);
    for (size_t t = 0; t < self->tag_count; t++) {
        const nostr_str_t *first = &self->tags [t].elems [0];
        if (first->len == name_len && memcmp (first->str, name, name_len) == 0)
            return &self->tags [t];
    }
    return NULL;
}

//  A plain decimal number of 1..18 digits (so it cannot overflow). 0 or -1.
static int
s_parse_decimal (const nostr_str_t *s, int64_t *value)
{
    if (s->len == 0 || s->len > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->str [i] < '0' || s->str [i] > '9')
            return -1;
        v = v * 10 + (s->str [i] - '0');
    }
    *value = v;
    return 0;
}

int
nostr_event_difficulty (const uint8_t id[32])
{
    int bits = 0;
    for (int i = 0; i < 32; i++) {
        if (id [i] == 0) {
            bits += 8;
            continue;
        }
        for (uint8_t mask = 0x80; mask && !(id [i] & mask); mask >>= 1)
            bits++;
        break;
    }
    return bits;
}

bool
nostr_event_pow_ok (const nostr_event_t *self, int min_bits)
{
    if (min_bits <= 0)
        return true;
    if (nostr_event_difficulty (self->id) < min_bits)
        return false;
    const nostr_tag_t *nonce = nostr_event_tag (self, "nonce");
    int64_t target;
    if (!nonce || nonce->count < 3 || s_parse_decimal (&nonce->elems [2], &target))
        return false;
    return target >= min_bits;
}

int
nostr_event_expiration (const nostr_event_t *self, int64_t *when)
{
    const nostr_tag_t *tag = nostr_event_tag (self, "expiration");
    if (!tag)
        return 0;
    if (tag->count < 2 || s_parse_decimal (&tag->elems [1], when))
        return -1;
    return 1;
}

bool
nostr_event_expired (const nostr_event_t *self, int64_t now)
{
    int64_t when;
    return nostr_event_expiration (self, &when) == 1 && now > when;
}

const char *
nostr_event_strerror (int error)
{
    switch (error) {
        case NOSTR_EVENT_OK:            return "ok";
        case NOSTR_EVENT_ERR_TOO_LARGE: return "invalid: event too large";
        case NOSTR_EVENT_ERR_JSON:      return "invalid: malformed JSON";
        case NOSTR_EVENT_ERR_DEPTH:     return "invalid: JSON nested too deep";
        case NOSTR_EVENT_ERR_UTF8:      return "invalid: bad UTF-8";
        case NOSTR_EVENT_ERR_SHAPE:     return "invalid: event fields missing, repeated or unknown";
        case NOSTR_EVENT_ERR_TYPE:      return "invalid: event field of the wrong type";
        case NOSTR_EVENT_ERR_HEX:       return "invalid: id, pubkey or sig is not lowercase hex";
        case NOSTR_EVENT_ERR_RANGE:     return "invalid: kind or created_at out of range";
        case NOSTR_EVENT_ERR_TAGS:      return "invalid: too many tags or bad tag size";
        case NOSTR_EVENT_ERR_STRING:    return "invalid: string too long";
        case NOSTR_EVENT_ERR_ID:        return "invalid: event id does not match";
        case NOSTR_EVENT_ERR_SIG:       return "invalid: bad signature";
        case NOSTR_EVENT_ERR_NOMEM:     return "error: out of memory";
        default:                        return "error: unknown";
    }
}
