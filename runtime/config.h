/*  config.h: Pylon's configuration: defaults compiled in, config.toml on top, then environment.

    Every key is defined once in schemas/config.def; this header turns that list into config_t.
    Files: $PYLON_CONFIG_DIR (default ~/.config/openagents/pylon) holds config.toml,
    identity.enc, pylon.db, pylon.pid, and the control and tap sockets. */
#ifndef PYLON_CONFIG_H
#define PYLON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char **items;       /* owned strings */
    size_t count;
} config_strs_t;

typedef struct {
    char **keys;        /* owned strings */
    double *values;
    size_t count;
} config_fmap_t;

#define CONFIG_TYPE_STR   char *
#define CONFIG_TYPE_INT   int64_t
#define CONFIG_TYPE_FLOAT double
#define CONFIG_TYPE_BOOL  bool
#define CONFIG_TYPE_STRS  config_strs_t
#define CONFIG_TYPE_FMAP  config_fmap_t

typedef struct {
#define CONFIG_KEY(table, key, TYPE, field, def, help) CONFIG_TYPE_##TYPE field;
#include "config.def"
#undef CONFIG_KEY
    char *dir;          /* the config directory this came from (owned) */
} config_t;

#define CONFIG_ERROR_MAX 512

/* The config directory: $PYLON_CONFIG_DIR, else ~/.config/openagents/pylon. */
void config_dir_default(char *buf, size_t size);
/* Fill cfg with the compiled-in defaults (dir = NULL). */
void config_defaults(config_t *cfg);
/* Defaults, then dir/config.toml if it exists, then the environment overrides. Returns 0, or -1
   with "FILE:LINE: key 'k' in [table]: what is wrong" in err (and cfg holding the defaults). */
int config_load(config_t *cfg, const char *dir, char *err, size_t err_size);
/* Parse TOML text on top of what cfg holds; name is used in error messages. */
int config_apply_text(config_t *cfg, const char *name, const char *text, size_t len, char *err,
                      size_t err_size);
/* Apply the environment variables listed in config.def (CONFIG_ENV). */
void config_apply_env(config_t *cfg);
/* Checks beyond types: enumerations and ranges. Returns 0 or -1 with the reason. */
int config_validate(const config_t *cfg, char *err, size_t err_size);
void config_free(config_t *cfg);
/* Write a config.toml holding cfg's values, every key with its help line. */
void config_write(FILE *out, const config_t *cfg);
/* The endpoint configured for an actor's inbox ([endpoints]), or NULL for the default. */
const char *config_endpoint(const config_t *cfg, const char *actor);
/* Multiplier for a backend from [pricing] backend_multipliers, 1.0 when absent. */
double config_backend_multiplier(const config_t *cfg, const char *backend);

#endif
