/*  toml.c: see toml.h. A recursive-descent parser over one buffer with a cursor; every error
    names the line. Nothing is allocated for a value until it has been read completely. */
#include "toml.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOML_MAX_DEPTH 16   /* inline tables within inline tables */

typedef struct {
    const char *p;          /* cursor */
    const char *end;        /* one past the last byte */
    int line;               /* current line, 1-based */
    int depth;              /* inline tables open at the cursor */
    char *table;            /* current [table] path, owned */
    toml_doc_t *doc;        /* output */
    char *err;              /* caller's error buffer */
    size_t err_size;
} parser_t;

static int
s_fail(parser_t *self, const char *fmt, ...)
{
    int n = snprintf(self->err, self->err_size, "line %d: ", self->line);
    va_list args;
    va_start(args, fmt);
    if (n >= 0 && (size_t) n < self->err_size)
        vsnprintf(self->err + n, self->err_size - n, fmt, args);
    va_end(args);
    return -1;
}

static void
s_value_free(toml_value_t *value)
{
    if (value->type == TOML_STRING)
        free(value->u.s);
    else if (value->type == TOML_ARRAY) {
        for (size_t i = 0; i < value->u.array.count; i++)
            s_value_free(&value->u.array.items[i]);
        free(value->u.array.items);
    }
    memset(value, 0, sizeof *value);
}

/* Skip spaces and tabs, and a comment up to (not including) the newline. */
static void
s_skip_blank(parser_t *self)
{
    while (self->p < self->end && (*self->p == ' ' || *self->p == '\t'))
        self->p++;
    if (self->p < self->end && *self->p == '#')
        while (self->p < self->end && *self->p != '\n')
            self->p++;
}

/* Skip blanks, comments and newlines (inside arrays). */
static void
s_skip_all(parser_t *self)
{
    for (;;) {
        s_skip_blank(self);
        if (self->p < self->end && (*self->p == '\n' || *self->p == '\r')) {
            self->line += *self->p == '\n';
            self->p++;
        }
        else
            return;
    }
}

/* After a value or header: only blanks, a comment, then end of line or text. */
static int
s_expect_eol(parser_t *self)
{
    s_skip_blank(self);
    if (self->p < self->end && *self->p == '\r')
        self->p++;
    if (self->p < self->end && *self->p != '\n')
        return s_fail(self, "unexpected '%c' after the value", *self->p);
    return 0;
}

/* Append a UTF-8 encoding of code point cp; -1 if cp is not a Unicode scalar value. */
static int
s_put_utf8(char *out, size_t *n, unsigned long cp)
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    if (cp < 0x80)
        out[(*n)++] = (char) cp;
    else if (cp < 0x800) {
        out[(*n)++] = (char) (0xC0 | (cp >> 6));
        out[(*n)++] = (char) (0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        out[(*n)++] = (char) (0xE0 | (cp >> 12));
        out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char) (0x80 | (cp & 0x3F));
    }
    else {
        out[(*n)++] = (char) (0xF0 | (cp >> 18));
        out[(*n)++] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char) (0x80 | (cp & 0x3F));
    }
    return 0;
}

/* A "basic" or 'literal' string at the cursor; *out is fresh. */
static int
s_parse_string(parser_t *self, char **out)
{
    char quote = *self->p++;
    if (self->end - self->p >= 2 && self->p[0] == quote && self->p[1] == quote)
        return s_fail(self, "multi-line strings are not supported");
    /* The decoded string is never longer than its source text. */
    const char *start = self->p;
    while (self->p < self->end && *self->p != quote && *self->p != '\n') {
        if (quote == '"' && *self->p == '\\' && self->p + 1 < self->end)
            self->p++;
        self->p++;
    }
    if (self->p >= self->end || *self->p != quote)
        return s_fail(self, "unterminated string");
    size_t source_len = (size_t) (self->p - start);
    if (source_len > TOML_MAX_STRING)
        return s_fail(self, "string longer than %d bytes", TOML_MAX_STRING);
    char *s = malloc(source_len + 1);
    size_t n = 0;
    for (const char *q = start; q < self->p; q++) {
        unsigned char c = (unsigned char) *q;
        if (c < 0x20 && c != '\t') {
            free(s);
            return s_fail(self, "control character in string");
        }
        if (quote == '\'' || c != '\\') {
            s[n++] = (char) c;
            continue;
        }
        char esc = *++q;
        const char *simple = strchr("\"\\btnfr", esc);
        if (esc && simple) {
            s[n++] = "\"\\\b\t\n\f\r"[simple - "\"\\btnfr"];
            continue;
        }
        int digits = esc == 'u' ? 4 : esc == 'U' ? 8 : 0;
        unsigned long cp = 0;
        if (digits == 0 || self->p - q - 1 < digits) {
            free(s);
            return s_fail(self, "bad escape '\\%c' in string", esc ? esc : '?');
        }
        for (int i = 0; i < digits; i++) {
            char h = *++q;
            if (!isxdigit((unsigned char) h)) {
                free(s);
                return s_fail(self, "bad \\%c escape in string", esc);
            }
            cp = cp * 16 + (unsigned long) (isdigit((unsigned char) h) ? h - '0' : (tolower(h) - 'a' + 10));
        }
        /* 4 UTF-8 bytes never exceed the 6 or 10 source bytes of the escape. */
        if (s_put_utf8(s, &n, cp) != 0) {
            free(s);
            return s_fail(self, "escape is not a Unicode scalar value");
        }
    }
    s[n] = 0;
    self->p++;   /* closing quote */
    *out = s;
    return 0;
}

static bool
s_is_bare(char c)
{
    return isalnum((unsigned char) c) || c == '_' || c == '-';
}

/* One key segment: bare, "quoted" or 'literal'. */
static int
s_parse_key_segment(parser_t *self, char **out)
{
    s_skip_blank(self);
    if (self->p < self->end && (*self->p == '"' || *self->p == '\''))
        return s_parse_string(self, out);
    const char *start = self->p;
    while (self->p < self->end && s_is_bare(*self->p))
        self->p++;
    if (self->p == start)
        return s_fail(self, "expected a key");
    *out = strndup(start, (size_t) (self->p - start));
    return 0;
}

/* A dotted key: every segment but the last is appended to *path (with '.'). */
static int
s_parse_key(parser_t *self, char **path, char **key)
{
    *key = NULL;
    for (;;) {
        char *segment;
        if (s_parse_key_segment(self, &segment))
            return -1;
        s_skip_blank(self);
        if (self->p < self->end && *self->p == '.') {
            self->p++;
            if (strchr(segment, '.')) {
                free(segment);
                return s_fail(self, "a quoted table name may not contain '.'");
            }
            size_t len = strlen(*path);
            char *joined = malloc(len + strlen(segment) + 2);
            sprintf(joined, "%s%s%s", *path, len ? "." : "", segment);
            free(*path);
            free(segment);
            *path = joined;
            continue;
        }
        *key = segment;
        return 0;
    }
}

static int s_parse_value(parser_t *self, toml_value_t *value, int depth, const char *table);

static int
s_add_entry(parser_t *self, const char *table, char *key, toml_value_t *value, int line)
{
    toml_doc_t *doc = self->doc;
    for (size_t i = 0; i < doc->count; i++)
        if (strcmp(doc->entries[i].table, table) == 0 && strcmp(doc->entries[i].key, key) == 0) {
            self->line = line;
            s_fail(self, "key '%s' is defined twice (first on line %d)", key, doc->entries[i].line);
            free(key);
            s_value_free(value);
            return -1;
        }
    if (doc->count >= TOML_MAX_ENTRIES) {
        free(key);
        s_value_free(value);
        return s_fail(self, "more than %d values", TOML_MAX_ENTRIES);
    }
    if (doc->count == 0 || (doc->count >= 8 && (doc->count & (doc->count - 1)) == 0)) {
        size_t capacity = doc->count ? doc->count * 2 : 8;
        doc->entries = realloc(doc->entries, capacity * sizeof *doc->entries);
    }
    doc->entries[doc->count++] = (toml_entry_t) {strdup(table), key, *value, line};
    return 0;
}

/* key = value, at the cursor, into table; used at top level and inside inline tables. */
static int
s_parse_keyval(parser_t *self, const char *table)
{
    int line = self->line;
    char *path = strdup(table), *key;
    if (s_parse_key(self, &path, &key)) {
        free(path);
        return -1;
    }
    s_skip_blank(self);
    if (self->p >= self->end || *self->p != '=') {
        free(path);
        free(key);
        return s_fail(self, "expected '=' after key");
    }
    self->p++;
    s_skip_blank(self);
    toml_value_t value = {0};
    if (self->p < self->end && *self->p == '{') {
        /* Inline table: its pairs become entries of table "path.key". Each level is a
           recursion: the depth is bounded, or a document of "{a=" would exhaust the stack. */
        if (self->depth >= TOML_MAX_DEPTH) {
            free(key);
            free(path);
            return s_fail(self, "inline tables nested deeper than %d", TOML_MAX_DEPTH);
        }
        self->p++;
        self->depth++;
        size_t len = strlen(path);
        char *inner = malloc(len + strlen(key) + 2);
        sprintf(inner, "%s%s%s", path, len ? "." : "", key);
        free(key);
        free(path);
        s_skip_blank(self);
        int rc = 0;
        if (self->p < self->end && *self->p == '}')
            self->p++;
        else
            for (;;) {
                if ((rc = s_parse_keyval(self, inner)))
                    break;
                s_skip_blank(self);
                if (self->p < self->end && *self->p == ',') {
                    self->p++;
                    continue;
                }
                if (self->p < self->end && *self->p == '}') {
                    self->p++;
                    break;
                }
                rc = s_fail(self, "expected ',' or '}' in inline table");
                break;
            }
        free(inner);
        self->depth--;
        return rc;
    }
    if (s_parse_value(self, &value, 0, path)) {
        free(path);
        free(key);
        return -1;
    }
    int rc = s_add_entry(self, path, key, &value, line);
    free(path);
    return rc;
}

static int
s_parse_number(parser_t *self, toml_value_t *value)
{
    char digits[128];
    size_t n = 0;
    bool is_float = false;
    const char *start = self->p;
    while (self->p < self->end && strchr("+-0123456789_.eE", *self->p)) {
        char c = *self->p++;
        if (c == '_') {
            if (self->p - 1 == start || !isdigit((unsigned char) self->p[-2])
                || self->p >= self->end || !isdigit((unsigned char) *self->p))
                return s_fail(self, "'_' must stand between digits");
            continue;
        }
        if (c == '.' || c == 'e' || c == 'E')
            is_float = true;
        if (n + 1 >= sizeof digits)
            return s_fail(self, "number too long");
        digits[n++] = c;
    }
    digits[n] = 0;
    if (n == 0)
        return s_fail(self, "expected a value");
    const char *body = digits + (digits[0] == '+' || digits[0] == '-');
    if (body[0] == '0' && isdigit((unsigned char) body[1]))
        return s_fail(self, "leading zeros are not allowed in numbers");
    char *rest;
    errno = 0;
    if (is_float) {
        double f = strtod(digits, &rest);
        if (*rest || errno || !isfinite(f) || !isdigit((unsigned char) body[0]))
            return s_fail(self, "bad float '%s'", digits);
        value->type = TOML_FLOAT;
        value->u.f = f;
    }
    else {
        long long i = strtoll(digits, &rest, 10);
        if (*rest || errno || !isdigit((unsigned char) body[0]))
            return s_fail(self, "bad integer '%s'", digits);
        value->type = TOML_INT;
        value->u.i = i;
    }
    return 0;
}

static int
s_parse_value(parser_t *self, toml_value_t *value, int depth, const char *table)
{
    if (self->p >= self->end)
        return s_fail(self, "expected a value");
    char c = *self->p;
    if (c == '"' || c == '\'') {
        value->type = TOML_STRING;
        return s_parse_string(self, &value->u.s);
    }
    if (c == '[') {
        if (depth > 0)
            return s_fail(self, "nested arrays are not supported");
        self->p++;
        value->type = TOML_ARRAY;
        value->u.array.items = NULL;
        value->u.array.count = 0;
        for (;;) {
            s_skip_all(self);
            if (self->p < self->end && *self->p == ']') {
                self->p++;
                return 0;
            }
            if (value->u.array.count >= TOML_MAX_ARRAY) {
                s_value_free(value);
                return s_fail(self, "array longer than %d items", TOML_MAX_ARRAY);
            }
            toml_value_t item = {0};
            if (s_parse_value(self, &item, depth + 1, table)) {
                s_value_free(value);
                return -1;
            }
            value->u.array.items = realloc(value->u.array.items,
                                           (value->u.array.count + 1) * sizeof item);
            value->u.array.items[value->u.array.count++] = item;
            s_skip_all(self);
            if (self->p < self->end && *self->p == ',')
                self->p++;
            else if (!(self->p < self->end && *self->p == ']')) {
                s_value_free(value);
                return s_fail(self, "expected ',' or ']' in array");
            }
        }
    }
    if (c == '{')
        return s_fail(self, "inline tables are only allowed as values of keys, not in arrays");
    size_t left = (size_t) (self->end - self->p);
    if (left >= 4 && memcmp(self->p, "true", 4) == 0 && (left == 4 || !s_is_bare(self->p[4]))) {
        self->p += 4;
        value->type = TOML_BOOL;
        value->u.b = true;
        return 0;
    }
    if (left >= 5 && memcmp(self->p, "false", 5) == 0 && (left == 5 || !s_is_bare(self->p[5]))) {
        self->p += 5;
        value->type = TOML_BOOL;
        value->u.b = false;
        return 0;
    }
    if (isdigit((unsigned char) c) || c == '+' || c == '-')
        return s_parse_number(self, value);
    return s_fail(self, "expected a value (string, number, boolean or array)");
}

static int
s_parse_header(parser_t *self)
{
    self->p++;   /* '[' */
    if (self->p < self->end && *self->p == '[')
        return s_fail(self, "arrays of tables are not supported");
    char *path = strdup(""), *last;
    if (s_parse_key(self, &path, &last)) {
        free(path);
        return -1;
    }
    s_skip_blank(self);
    if (self->p >= self->end || *self->p != ']') {
        free(path);
        free(last);
        return s_fail(self, "expected ']' after table name");
    }
    self->p++;
    free(self->table);
    self->table = malloc(strlen(path) + strlen(last) + 2);
    sprintf(self->table, "%s%s%s", path, *path ? "." : "", last);
    free(path);
    free(last);
    return s_expect_eol(self);
}

int
toml_parse(const char *text, size_t len, toml_doc_t *doc, char *err, size_t err_size)
{
    memset(doc, 0, sizeof *doc);
    parser_t self = {.p = text, .end = text + len, .line = 1, .table = strdup(""), .doc = doc,
                     .err = err, .err_size = err_size};
    int rc = 0;
    if (len > TOML_MAX_TEXT)
        rc = s_fail(&self, "document larger than %d bytes", TOML_MAX_TEXT);
    else if (memchr(text, 0, len))
        rc = s_fail(&self, "NUL byte in document");
    else if (!utf8_valid(text, len))
        rc = s_fail(&self, "document is not valid UTF-8");
    while (rc == 0) {
        s_skip_all(&self);
        if (self.p >= self.end)
            break;
        if (*self.p == '[')
            rc = s_parse_header(&self);
        else if ((rc = s_parse_keyval(&self, self.table)) == 0)
            rc = s_expect_eol(&self);
    }
    free(self.table);
    if (rc)
        toml_free(doc);
    return rc;
}

void
toml_free(toml_doc_t *doc)
{
    for (size_t i = 0; i < doc->count; i++) {
        free(doc->entries[i].table);
        free(doc->entries[i].key);
        s_value_free(&doc->entries[i].value);
    }
    free(doc->entries);
    memset(doc, 0, sizeof *doc);
}

const char *
toml_type_name(toml_type_t type)
{
    static const char *names[] = {"string", "integer", "float", "boolean", "array"};
    return names[type];
}
