/*  config.c: see config.h. The parser walks the TOML entries and finds each one in the
    table generated from schemas/config.def; anything not there is an error naming its line. */
#include "config.h"
#include "toml.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum { T_STR, T_INT, T_FLOAT, T_BOOL, T_STRS, T_FMAP } key_type_t;

typedef struct {
    const char *table;      /* [table] */
    const char *key;        /* key within it */
    key_type_t type;
    size_t offset;          /* of the field in config_t */
    const char *help;
} key_info_t;

static const key_info_t s_keys[] = {
#define CONFIG_KEY(table, key, TYPE, field, def, help) \
    {#table, #key, T_##TYPE, offsetof(config_t, field), help},
#include "config.def"
#undef CONFIG_KEY
};
#define KEY_COUNT (sizeof s_keys / sizeof s_keys[0])

static const char *s_type_names[] = {"string", "integer", "number", "boolean",
                                     "array of strings", "table of numbers"};

static void
s_strs_set_lines(config_strs_t *strs, const char *lines)
{
    for (size_t i = 0; i < strs->count; i++)
        free(strs->items[i]);
    free(strs->items);
    strs->items = NULL;
    strs->count = 0;
    while (lines && *lines) {
        size_t len = strcspn(lines, "\n,");
        if (len) {
            strs->items = realloc(strs->items, (strs->count + 1) * sizeof(char *));
            strs->items[strs->count++] = strndup(lines, len);
        }
        lines += len + (lines[len] != 0);
    }
}

static void
s_fmap_clear(config_fmap_t *map)
{
    for (size_t i = 0; i < map->count; i++)
        free(map->keys[i]);
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof *map);
}

/* Set a string-typed field from text (used for defaults and the environment). */
static void
s_set_from_text(config_t *cfg, const key_info_t *info, const char *text)
{
    void *field = (char *) cfg + info->offset;
    if (info->type == T_STR) {
        free(*(char **) field);
        *(char **) field = strdup(text);
    }
    else if (info->type == T_STRS)
        s_strs_set_lines(field, text);
}

void
config_dir_default(char *buf, size_t size)
{
    const char *dir = getenv("PYLON_CONFIG_DIR");
    if (dir && *dir)
        snprintf(buf, size, "%s", dir);
    else {
        const char *home = getenv("HOME");
        snprintf(buf, size, "%s/.config/openagents/pylon", home && *home ? home : ".");
    }
}

void
config_defaults(config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
#define STR_DEFAULT(field, def)   cfg->field = strdup(def);
#define INT_DEFAULT(field, def)   cfg->field = def;
#define FLOAT_DEFAULT(field, def) cfg->field = def;
#define BOOL_DEFAULT(field, def)  cfg->field = def;
#define STRS_DEFAULT(field, def)  s_strs_set_lines(&cfg->field, def);
#define FMAP_DEFAULT(field, def)  (void) def;
#define CONFIG_KEY(table, key, TYPE, field, def, help) TYPE##_DEFAULT(field, def)
#include "config.def"
#undef CONFIG_KEY
}

void
config_free(config_t *cfg)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        void *field = (char *) cfg + s_keys[i].offset;
        if (s_keys[i].type == T_STR)
            free(*(char **) field);
        else if (s_keys[i].type == T_STRS)
            s_strs_set_lines(field, NULL);
        else if (s_keys[i].type == T_FMAP)
            s_fmap_clear(field);
    }
    free(cfg->dir);
    memset(cfg, 0, sizeof *cfg);
}

static const key_info_t *
s_find(const char *table, const char *key)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(s_keys[i].table, table) == 0 && strcmp(s_keys[i].key, key) == 0)
            return &s_keys[i];
    return NULL;
}

/* An FMAP key holds a table: its entries arrive as table "<table>.<key>". */
static const key_info_t *
s_find_fmap(const char *table)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        size_t len = strlen(s_keys[i].table);
        if (s_keys[i].type == T_FMAP && strncmp(table, s_keys[i].table, len) == 0
            && table[len] == '.' && strcmp(table + len + 1, s_keys[i].key) == 0)
            return &s_keys[i];
    }
    return NULL;
}

static int
s_apply_entry(config_t *cfg, const toml_entry_t *entry, char *why, size_t why_size)
{
    const key_info_t *info = s_find(entry->table, entry->key);
    const toml_value_t *value = &entry->value;
    if (!info) {
        const key_info_t *map = s_find_fmap(entry->table);
        if (!map) {
            snprintf(why, why_size, "unknown key");
            return -1;
        }
        if (value->type != TOML_FLOAT && value->type != TOML_INT) {
            snprintf(why, why_size, "expected a number, got %s", toml_type_name(value->type));
            return -1;
        }
        config_fmap_t *fmap = (config_fmap_t *) ((char *) cfg + map->offset);
        fmap->keys = realloc(fmap->keys, (fmap->count + 1) * sizeof(char *));
        fmap->values = realloc(fmap->values, (fmap->count + 1) * sizeof(double));
        fmap->keys[fmap->count] = strdup(entry->key);
        fmap->values[fmap->count++] = value->type == TOML_INT ? (double) value->u.i : value->u.f;
        return 0;
    }
    void *field = (char *) cfg + info->offset;
    switch (info->type) {
    case T_STR:
        if (value->type != TOML_STRING)
            break;
        s_set_from_text(cfg, info, value->u.s);
        return 0;
    case T_INT:
        if (value->type != TOML_INT)
            break;
        *(int64_t *) field = value->u.i;
        return 0;
    case T_FLOAT:
        if (value->type != TOML_FLOAT && value->type != TOML_INT)
            break;
        *(double *) field = value->type == TOML_INT ? (double) value->u.i : value->u.f;
        return 0;
    case T_BOOL:
        if (value->type != TOML_BOOL)
            break;
        *(bool *) field = value->u.b;
        return 0;
    case T_STRS: {
        if (value->type != TOML_ARRAY)
            break;
        for (size_t i = 0; i < value->u.array.count; i++)
            if (value->u.array.items[i].type != TOML_STRING) {
                snprintf(why, why_size, "expected an array of strings, item %zu is %s", i + 1,
                         toml_type_name(value->u.array.items[i].type));
                return -1;
            }
        config_strs_t *strs = field;
        s_strs_set_lines(strs, NULL);
        strs->items = calloc(value->u.array.count + 1, sizeof(char *));
        for (size_t i = 0; i < value->u.array.count; i++)
            strs->items[strs->count++] = strdup(value->u.array.items[i].u.s);
        return 0;
    }
    case T_FMAP:
        snprintf(why, why_size, "expected a table of numbers, e.g. { \"name\" = 1.5 }");
        return -1;
    }
    snprintf(why, why_size, "expected %s, got %s", s_type_names[info->type],
             toml_type_name(value->type));
    return -1;
}

int
config_apply_text(config_t *cfg, const char *name, const char *text, size_t len, char *err,
                  size_t err_size)
{
    toml_doc_t doc;
    char why[256];
    if (toml_parse(text, len, &doc, why, sizeof why) != 0) {
        snprintf(err, err_size, "%s: %s", name, why);   /* why starts with "line N:" */
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < doc.count && rc == 0; i++) {
        const toml_entry_t *entry = &doc.entries[i];
        if (s_apply_entry(cfg, entry, why, sizeof why) != 0) {
            snprintf(err, err_size, "%s:%d: key '%s' in [%s]: %s", name, entry->line, entry->key,
                     entry->table, why);
            rc = -1;
        }
    }
    toml_free(&doc);
    return rc;
}

void
config_apply_env(config_t *cfg)
{
    const char *value;
#define CONFIG_ENV(variable, field) \
    if ((value = getenv(#variable)) && *value) \
        for (size_t i = 0; i < KEY_COUNT; i++) \
            if (s_keys[i].offset == offsetof(config_t, field)) \
                s_set_from_text(cfg, &s_keys[i], value);
#define CONFIG_KEY(...)
#include "config.def"
#undef CONFIG_KEY
#undef CONFIG_ENV
}

int
config_load(config_t *cfg, const char *dir, char *err, size_t err_size)
{
    config_defaults(cfg);
    cfg->dir = strdup(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.toml", dir);
    FILE *file = fopen(path, "rb");
    int rc = 0;
    if (file) {
        char *text = malloc(TOML_MAX_TEXT + 1);
        size_t len = fread(text, 1, TOML_MAX_TEXT + 1, file);
        fclose(file);
        if (len > TOML_MAX_TEXT) {
            snprintf(err, err_size, "%s: larger than %d bytes", path, TOML_MAX_TEXT);
            rc = -1;
        }
        else
            rc = config_apply_text(cfg, path, text, len, err, err_size);
        free(text);
    }
    if (rc == 0)
        config_apply_env(cfg);
    return rc;
}

static bool
s_one_of(const char *value, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

int
config_validate(const config_t *cfg, char *err, size_t err_size)
{
    static const char *const networks[] = {"mainnet", "testnet", "signet", "regtest", NULL};
    static const char *const wallets[] = {"demo", "nwc", "lnd", "cln", "lnbits", NULL};
    static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
    if (!s_one_of(cfg->network, networks))
        snprintf(err, err_size, "[provider] network '%s': use mainnet, testnet, signet or regtest", cfg->network);
    else if (!s_one_of(cfg->wallet_backend, wallets))
        snprintf(err, err_size, "[wallet] backend '%s': use demo, nwc, lnd, cln or lnbits", cfg->wallet_backend);
    else if (!s_one_of(cfg->log_level, levels))
        snprintf(err, err_size, "[provider] log_level '%s': use error, warn, info or debug", cfg->log_level);
    else if (cfg->base_price_sats < 0 || cfg->price_per_1k_tokens < 0)
        snprintf(err, err_size, "[pricing] prices cannot be negative");
    else if (cfg->max_tokens <= 0 || cfg->max_prompt_bytes <= 0 || cfg->queue_per_backend <= 0)
        snprintf(err, err_size, "[limits] max_tokens, max_prompt_bytes and queue_per_backend must be positive");
    else if (cfg->publish_quorum < 1)
        snprintf(err, err_size, "[relays] publish_quorum must be at least 1");
    else if (cfg->invoice_expiry_s < 60 || cfg->invoice_expiry_s > 86400)
        snprintf(err, err_size, "[wallet] invoice_expiry_s must be between 60 and 86400");
    else {
        for (size_t i = 0; i < cfg->relay_urls.count; i++)
            if (strncmp(cfg->relay_urls.items[i], "ws://", 5) != 0
                && strncmp(cfg->relay_urls.items[i], "wss://", 6) != 0) {
                snprintf(err, err_size, "[relays] urls: '%s' is not a ws:// or wss:// URL",
                         cfg->relay_urls.items[i]);
                return -1;
            }
        for (size_t i = 0; i < cfg->backend_multipliers.count; i++)
            if (!(cfg->backend_multipliers.values[i] > 0)) {
                snprintf(err, err_size, "[pricing] backend_multipliers: '%s' must be above 0",
                         cfg->backend_multipliers.keys[i]);
                return -1;
            }
        return 0;
    }
    return -1;
}

/* A TOML basic string, escaped. */
static void
s_write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void
config_write(FILE *out, const config_t *cfg)
{
    fprintf(out, "# Pylon configuration. Every key is listed with its meaning; delete a line to\n"
                 "# get the built-in default back.\n");
    const char *table = "";
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const key_info_t *info = &s_keys[i];
        if (strcmp(info->table, table) != 0) {
            table = info->table;
            fprintf(out, "\n[%s]\n", table);
        }
        fprintf(out, "# %s\n%s = ", info->help, info->key);
        const void *field = (const char *) cfg + info->offset;
        switch (info->type) {
        case T_STR:
            s_write_string(out, *(char *const *) field);
            break;
        case T_INT:
            fprintf(out, "%lld", (long long) *(const int64_t *) field);
            break;
        case T_FLOAT: {
            char number[64];
            snprintf(number, sizeof number, "%.17g", *(const double *) field);
            /* TOML needs a '.' or an exponent to read it back as a float. */
            fprintf(out, "%s%s", number, strpbrk(number, ".e") ? "" : ".0");
            break;
        }
        case T_BOOL:
            fprintf(out, "%s", *(const bool *) field ? "true" : "false");
            break;
        case T_STRS: {
            const config_strs_t *strs = field;
            fputc('[', out);
            for (size_t j = 0; j < strs->count; j++) {
                fprintf(out, j ? ", " : "");
                s_write_string(out, strs->items[j]);
            }
            fputc(']', out);
            break;
        }
        case T_FMAP: {
            const config_fmap_t *map = field;
            fputc('{', out);
            for (size_t j = 0; j < map->count; j++) {
                fprintf(out, j ? ", " : " ");
                s_write_string(out, map->keys[j]);
                fprintf(out, " = %.17g", map->values[j]);
            }
            fprintf(out, map->count ? " }" : "}");
            break;
        }
        }
        fputc('\n', out);
    }
}

const char *
config_endpoint(const config_t *cfg, const char *actor)
{
    const char *configured = NULL;
#define CONFIG_KEY(table, key, TYPE, field, def, help) \
    if (strcmp(#table, "endpoints") == 0 && strcmp(#key, actor) == 0) \
        configured = *(char *const *) ((const char *) cfg + offsetof(config_t, field));
#include "config.def"
#undef CONFIG_KEY
    return configured && *configured ? configured : NULL;
}

double
config_backend_multiplier(const config_t *cfg, const char *backend)
{
    for (size_t i = 0; i < cfg->backend_multipliers.count; i++)
        if (strcmp(cfg->backend_multipliers.keys[i], backend) == 0)
            return cfg->backend_multipliers.values[i];
    return 1.0;
}
