/* Status strings, caller-owned error messages and the process-wide log callback. */
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *audio_status_str(int s) {
    switch (s) {
    case AUDIO_OK: return "ok";
    case AUDIO_ERR_INVALID: return "invalid argument";
    case AUDIO_ERR_IO: return "I/O error";
    case AUDIO_ERR_FORMAT: return "bad or unsupported file contents";
    case AUDIO_ERR_NOMEM: return "out of memory";
    case AUDIO_ERR_UNSUPPORTED: return "unsupported";
    case AUDIO_ERR_DEVICE: return "audio device error";
    case AUDIO_ERR_EMPTY: return "no usable audio";
    case AUDIO_ERR_CANCELLED: return "cancelled";
    case AUDIO_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

void audio_err_clear(audio_err *err) {
    if (!err) return;
    err->code = AUDIO_OK;
    err->msg[0] = '\0';
}

audio_status audio_err_set(audio_err *err, audio_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void audio_err_prefix(audio_err *err, const char *fmt, ...) {
    if (!err) return;
    char head[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation of an over-long message is acceptable: the head carries the context. */
    size_t h = strlen(head);
    if (h > sizeof err->msg - 3) h = sizeof err->msg - 3;
    memcpy(err->msg, head, h);
    memcpy(err->msg + h, ": ", 2);
    size_t room = sizeof err->msg - h - 3;
    size_t o = strnlen(old, room);
    memcpy(err->msg + h + 2, old, o);
    err->msg[h + 2 + o] = '\0';
}

void audio_number_text(double v, char *out, size_t cap) {
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%lld", (long long)v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, v);
        if (strtod(out, NULL) == v) return;
    }
}

char *audio_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- logging ----------------------------------------------------------------------------
 * The callback pair is read under log_mu so that (fn, user) are always seen together; the
 * callback itself runs outside the lock so it may log or take its own locks. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static audio_log_fn log_fn;   /* guarded by log_mu; NULL = stderr */
static void *log_user;        /* guarded by log_mu */
static atomic_int log_min = AUDIO_LOG_INFO;

void audio_log_set(audio_log_fn fn, void *user) {
    pthread_mutex_lock(&log_mu);
    log_fn = fn;
    log_user = user;
    pthread_mutex_unlock(&log_mu);
}

void audio_log_set_level(audio_log_level min_level) { atomic_store(&log_min, (int)min_level); }

static const char *level_name(audio_log_level l) {
    switch (l) {
    case AUDIO_LOG_DEBUG: return "debug";
    case AUDIO_LOG_INFO: return "info";
    case AUDIO_LOG_WARN: return "warning";
    default: return "error";
    }
}

void audio_log(audio_log_level level, const char *fmt, ...) {
    if ((int)level < atomic_load(&log_min)) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_mu);
    audio_log_fn fn = log_fn;
    void *user = log_user;
    pthread_mutex_unlock(&log_mu);
    if (fn)
        fn(level, line, user);
    else
        fprintf(stderr, "audio: %s: %s\n", level_name(level), line);
}
