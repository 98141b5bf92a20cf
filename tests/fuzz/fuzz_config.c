/*  fuzz_config.c: the TOML subset parser and the config mapping on arbitrary text. Whatever
    is accepted must be written back by config_write() to text that loads to the same file. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t cfg;
    config_defaults(&cfg);
    char err[CONFIG_ERROR_MAX];
    if (config_apply_text(&cfg, "fuzz.toml", (const char *) data, size, err, sizeof err) == 0) {
        char *text = NULL, *text2 = NULL;
        size_t len = 0, len2 = 0;
        FILE *out = open_memstream(&text, &len);
        config_write(out, &cfg);
        fclose(out);
        config_t again;
        config_defaults(&again);
        int rc = config_apply_text(&again, "written.toml", text, len, err, sizeof err);
        assert(rc == 0);
        out = open_memstream(&text2, &len2);
        config_write(out, &again);
        fclose(out);
        assert(len == len2 && memcmp(text, text2, len) == 0);
        free(text);
        free(text2);
        config_free(&again);
    }
    config_free(&cfg);
    return 0;
}
