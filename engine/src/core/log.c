#include "engine/log.h"

#include <stdarg.h>
#include <stdio.h>

static void log_stderr(ds_log_level level, const char *line, void *user) {
    (void)user;
    static const char *tag[] = {"debug", "info", "warning", "error"};
    if (level == DS_LOG_INFO)
        fprintf(stderr, "%s\n", line);
    else
        fprintf(stderr, "%s: %s\n", tag[level], line);
}

static ds_log_fn g_cb = log_stderr;
static void *g_user;
static ds_log_level g_min = DS_LOG_INFO;

void ds_log_set(ds_log_fn cb, void *user) {
    g_cb = cb ? cb : log_stderr;
    g_user = cb ? user : NULL;
}

void ds_log_set_level(ds_log_level min_level) { g_min = min_level; }

void ds_log(ds_log_level level, const char *fmt, ...) {
    if (level < g_min) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_cb(level, line, g_user);
}
