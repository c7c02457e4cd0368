#include "core/assert.h"

#include "engine/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void (*g_hook)(void);

void ds_set_abort_hook(void (*hook)(void)) { g_hook = hook; }

_Noreturn void ds_abort(const char *file, int line, const char *fmt, ...) {
    if (g_hook) g_hook();
    fprintf(stderr, "diffstudio: internal error at %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
