/* String copying that truncates instead of overflowing (for fixed-size fields). */
#ifndef UI_USTR_H
#define UI_USTR_H

#include <stddef.h>
#include <string.h>

/* Copies at most n-1 bytes of src and terminates dst (n > 0). */
static inline void ui_strlcpy(char *dst, const char *src, size_t n) {
    size_t len = strlen(src);
    if (len >= n) len = n - 1;
    memmove(dst, src, len);
    dst[len] = 0;
}

#endif
