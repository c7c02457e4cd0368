#include "engine/status.h"

#include <stdio.h>
#include <string.h>

const char *ds_status_str(ds_status s) {
    switch (s) {
    case DS_OK: return "ok";
    case DS_ERR_INVALID: return "invalid";
    case DS_ERR_IO: return "i/o error";
    case DS_ERR_FORMAT: return "bad format";
    case DS_ERR_NOMEM: return "out of memory";
    case DS_ERR_UNSUPPORTED: return "unsupported";
    case DS_ERR_NUMERIC: return "non-finite number";
    case DS_ERR_DEVICE: return "device error";
    case DS_ERR_CANCELLED: return "cancelled";
    case DS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

ds_status ds_err_setv(ds_err *err, ds_status code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

ds_status ds_err_set(ds_err *err, ds_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ds_err_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

ds_status ds_err_prefix(ds_err *err, const char *fmt, ...) {
    if (!err) return DS_OK;
    char pre[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.200s: %.300s", pre, old);
    return err->code;
}

void ds_err_clear(ds_err *err) {
    if (err) {
        err->code = DS_OK;
        err->msg[0] = 0;
    }
}
