/* Status codes and error messages of the engine (and everything that links it).
 *
 * Every engine function that can fail for a reason outside the programmer's control
 * returns a ds_status and fills a caller-owned ds_err with a message a user can act
 * on ("file: json.path: expected …, got …"). Nothing below main() calls exit().
 * Any thread may use these; a ds_err belongs to its caller. */
#ifndef DS_STATUS_H
#define DS_STATUS_H

#include <stdarg.h>

typedef enum ds_status {
    DS_OK = 0,
    DS_ERR_INVALID = -1,   /* bad argument, bad config value */
    DS_ERR_IO = -2,        /* file missing, unreadable, write failed, disk full */
    DS_ERR_FORMAT = -3,    /* malformed file: JSON, safetensors, audio */
    DS_ERR_NOMEM = -4,
    DS_ERR_UNSUPPORTED = -5, /* valid config the engine cannot run (yet): T5, CLAP, … */
    DS_ERR_NUMERIC = -6,   /* NaN/Inf */
    DS_ERR_DEVICE = -7,    /* CUDA / cuBLAS / cuDNN */
    DS_ERR_CANCELLED = -8,
    DS_ERR_INTERNAL = -9,
} ds_status;

typedef struct ds_err {
    ds_status code;
    char msg[512];
} ds_err;

const char *ds_status_str(ds_status s);

/* Sets err (if not NULL) and returns code, so that `return ds_err_set(err, …)` reads well. */
ds_status ds_err_set(ds_err *err, ds_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ds_status ds_err_setv(ds_err *err, ds_status code, const char *fmt, va_list ap);
/* Prepends "prefix: " to an already set message (adds context while unwinding). */
ds_status ds_err_prefix(ds_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ds_err_clear(ds_err *err);

#define DS_TRY(expr)                                                                         \
    do {                                                                                     \
        ds_status ds_try_s_ = (expr);                                                        \
        if (ds_try_s_ != DS_OK) return ds_try_s_;                                            \
    } while (0)

#endif
