/*  embed.h: data files compiled into the binary (see scripts/embed.sh and the Makefile's
    EMBED list: runtime/data/ and schemas/, the .sql files). Each is NUL-terminated. */
#ifndef PYLON_EMBED_H
#define PYLON_EMBED_H
#include <stddef.h>

#define EMBED_DECLARE(name) \
    extern const unsigned char embed_##name[]; \
    extern const size_t embed_##name##_len;

#endif
