/*  toml.h: a small parser for the subset of TOML that config.toml uses.

    Debian has no TOML library for C, so this is ours; it is deliberately small. Supported:
    comments, [table] and [dotted.table] headers, bare / "quoted" / 'literal' keys, dotted keys,
    basic strings with escapes (\" \\ \b \t \n \f \r \uXXXX \UXXXXXXXX), literal strings,
    integers (decimal, underscores), floats, booleans, arrays of those (multi-line, trailing
    comma) and one-line inline tables. Not supported (a clear error, never a guess): multi-line
    strings, dates, arrays of tables, hex/octal/binary integers, inf/nan.

    The document is a flat list of entries: each value with its table path ("backends.llamacpp"),
    its key ("url") and the line it was on, so config errors can name file, line and key. */
#ifndef PYLON_TOML_H
#define PYLON_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_TEXT    (1024 * 1024)   /* bytes in one document */
#define TOML_MAX_STRING  (64 * 1024)     /* bytes in one string value */
#define TOML_MAX_ARRAY   1024            /* items in one array */
#define TOML_MAX_ENTRIES 4096            /* values in one document */

typedef enum { TOML_STRING, TOML_INT, TOML_FLOAT, TOML_BOOL, TOML_ARRAY } toml_type_t;

typedef struct toml_value {
    toml_type_t type;
    union {
        char *s;                    /* TOML_STRING: NUL-terminated, owned */
        int64_t i;                  /* TOML_INT */
        double f;                   /* TOML_FLOAT */
        bool b;                     /* TOML_BOOL */
        struct {
            struct toml_value *items;   /* TOML_ARRAY: owned, scalars only */
            size_t count;
        } array;
    } u;
} toml_value_t;

typedef struct {
    char *table;                    /* dotted table path, "" for the root table */
    char *key;                      /* the key within that table, unquoted */
    toml_value_t value;
    int line;                       /* 1-based line of the key */
} toml_entry_t;

typedef struct {
    toml_entry_t *entries;
    size_t count;
} toml_doc_t;

/* Parse text (need not be NUL-terminated). Returns 0, or -1 with "line N: what" in err. */
int toml_parse(const char *text, size_t len, toml_doc_t *doc, char *err, size_t err_size);
void toml_free(toml_doc_t *doc);
const char *toml_type_name(toml_type_t type);

#endif
