/*  utf8.c: see utf8.h. A table-free decoder: each lead byte says how many continuation bytes
    follow and which ranges the first of them may take. */
#include "utf8.h"

bool
utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *) text, *end = s + len;
    while (s < end) {
        unsigned char c = *s++;
        if (c < 0x80)
            continue;
        int more;
        unsigned char lo = 0x80, hi = 0xBF;   /* allowed range of the first continuation */
        if (c >= 0xC2 && c <= 0xDF)
            more = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0)
                lo = 0xA0;          /* no overlongs */
            if (c == 0xED)
                hi = 0x9F;          /* no surrogates */
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0)
                lo = 0x90;          /* no overlongs */
            if (c == 0xF4)
                hi = 0x8F;          /* nothing past U+10FFFF */
        }
        else
            return false;
        if (end - s < more || *s < lo || *s > hi)
            return false;
        s++;
        for (int i = 1; i < more; i++, s++)
            if ((*s & 0xC0) != 0x80)
                return false;
    }
    return true;
}
