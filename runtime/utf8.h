/*  utf8.h: strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing past
    U+10FFFF), for every text that arrives from outside or crosses an actor boundary. */
#ifndef PYLON_UTF8_H
#define PYLON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool utf8_valid(const char *s, size_t len);

#endif
