/* Device selection, the sticky error, and allocation bookkeeping (see device.h). */
#include "device/device.h"
#include "engine/device.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *const g_roles[DS_ROLE_COUNT] = {"parameters", "gradients", "Adam exp_avg", "Adam exp_avg_sq",
                                                   "EMA weights", "half parameters", "activation arena",
                                                   "workspace", "step state", "other"};

const char *ds_role_name(ds_role r) { return r >= 0 && r < DS_ROLE_COUNT ? g_roles[r] : "?"; }

ds_status ds_precision_parse(const char *s, ds_precision *p, ds_err *err) {
    if (!s || !*s || !strcmp(s, "32") || !strcmp(s, "32-true")) {
        *p = DS_PREC_32;
    } else if (!strcmp(s, "16-mixed") || !strcmp(s, "16")) {
        *p = DS_PREC_16_MIXED;
    } else if (!strcmp(s, "bf16-mixed") || !strcmp(s, "bf16")) {
        *p = DS_PREC_BF16_MIXED;
    } else {
        return ds_err_set(err, DS_ERR_INVALID, "precision \"%s\": expected 32, 16-mixed or bf16-mixed", s);
    }
    return DS_OK;
}

const char *ds_precision_name(ds_precision p) {
    switch (p) {
    case DS_PREC_16_MIXED: return "16-mixed";
    case DS_PREC_BF16_MIXED: return "bf16-mixed";
    default: return "32";
    }
}

void ds_device_fail(ds_device *d, ds_status code, const char *fmt, ...) {
    if (!d || d->status != DS_OK) return;
    va_list ap;
    va_start(ap, fmt);
    ds_err_setv(&d->err, code, fmt, ap);
    va_end(ap);
    d->status = code;
}

ds_status ds_device_check(ds_device *d, ds_err *err) {
    if (!d || d->status == DS_OK) return DS_OK;
    if (err) *err = d->err;
    return d->status;
}

ds_status ds_device_sync(ds_device *d, ds_err *err) {
    if (!d) return DS_OK;
    if (d->status == DS_OK) d->mem->sync(d);
    return ds_device_check(d, err);
}

void *ds_device_alloc(ds_device *d, ds_role role, size_t bytes) {
    if (d->status != DS_OK) return NULL;
    void *p = d->mem->alloc(d, bytes ? bytes : 64);
    if (!p) {
        /* the backend's message names the call; add the role and size */
        char msg[sizeof d->err.msg];
        snprintf(msg, sizeof msg, "%s", d->err.msg);
        snprintf(d->err.msg, sizeof d->err.msg, "allocating %.1f MiB for the %s on %.100s: %.300s", (double)bytes / 1048576.0,
                 ds_role_name(role), d->name, msg);
        return NULL;
    }
    d->allocs++;
    d->bytes_by_role[role] += bytes;
    d->bytes_live += bytes;
    return p;
}

void ds_device_free(ds_device *d, ds_role role, void *p, size_t bytes) {
    if (!p) return;
    d->mem->free(d, p);
    d->frees++;
    d->bytes_by_role[role] -= bytes < d->bytes_by_role[role] ? bytes : d->bytes_by_role[role];
    d->bytes_live -= bytes < d->bytes_live ? bytes : d->bytes_live;
}

ds_status ds_device_upload_sync(ds_device *d, void *dst, const void *src, size_t bytes, ds_err *err) {
    if (bytes) d->mem->upload(d, dst, src, bytes);
    return ds_device_sync(d, err);
}

ds_status ds_device_download_sync(ds_device *d, void *dst, const void *src, size_t bytes, ds_err *err) {
    if (bytes) d->mem->download(d, dst, src, bytes);
    return ds_device_sync(d, err);
}

/* Parses "cuda" / "cuda:N"; -1 when name is not a CUDA device. */
static int cuda_index(const char *name) {
    if (strncmp(name, "cuda", 4) != 0) return -1;
    if (name[4] == 0) return 0;
    if (name[4] != ':' || !name[5]) return -1;
    char *end;
    long i = strtol(name + 5, &end, 10);
    return *end || i < 0 || i > 64 ? -1 : (int)i;
}

ds_status ds_device_open(const char *name, ds_precision prec, ds_device **out, ds_err *err) {
    *out = NULL;
    if (!name) name = "cpu";
    if (!strcmp(name, "cpu"))
        return ds_err_set(err, DS_ERR_INTERNAL, "device \"cpu\" is the host: use no device (ds_ctx.dev = NULL)");
    int idx = cuda_index(name);
    if (idx < 0 && strcmp(name, "sim") != 0)
        return ds_err_set(err, DS_ERR_INVALID, "device \"%s\": expected cpu, cuda or cuda:N", name);
    ds_device *d = calloc(1, sizeof *d);
    if (!d) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    d->precision = prec;
    ds_status s = idx >= 0 ? ds_cuda_open(d, idx, err) : ds_sim_open(d, err);
    if (s != DS_OK) {
        free(d);
        return s;
    }
    d->peak_bf16_tflops = ds_device_peak_bf16_tflops(d->name);
    *out = d;
    return DS_OK;
}

void ds_device_close(ds_device *d) {
    if (!d) return;
    if (d->kind == DS_DEV_CUDA)
        ds_cuda_close(d);
    else
        ds_sim_close(d);
    free(d);
}

int ds_device_available(const char *name, char *why, size_t n) {
    if (why && n) why[0] = 0;
    if (!name || !strcmp(name, "cpu") || !strcmp(name, "sim")) return 1;
    if (cuda_index(name) < 0) {
        if (why) snprintf(why, n, "device \"%s\": expected cpu, cuda or cuda:N", name);
        return 0;
    }
    return ds_cuda_available(cuda_index(name), why, n);
}

/* Dense (no sparsity) bf16 tensor-core peaks from NVIDIA's data sheets. */
double ds_device_peak_bf16_tflops(const char *n) {
    if (!n) return 0;
    if (strstr(n, "H200")) return 989.0;
    if (strstr(n, "GH200")) return 989.0;
    if (strstr(n, "H100")) {
        if (strstr(n, "PCIe")) return 756.0;
        if (strstr(n, "NVL")) return 835.0;
        return 989.0; /* SXM (HBM3) */
    }
    if (strstr(n, "H800")) return strstr(n, "PCIe") ? 756.0 : 989.0;
    if (strstr(n, "A100") || strstr(n, "A800")) return 312.0;
    if (strstr(n, "L40S")) return 362.0;
    if (strstr(n, "L4")) return 121.0;
    if (strstr(n, "B200")) return 2250.0;
    return 0;
}

/* ---- the public face (engine/device.h) ---- */

void ds_device_query(const char *name, ds_device_info *out) {
    memset(out, 0, sizeof *out);
    if (!name || !strcmp(name, "cpu")) {
        out->available = true;
        snprintf(out->name, sizeof out->name, "cpu");
        return;
    }
    ds_device *d = NULL;
    ds_err e = {0};
    if (ds_device_open(name, DS_PREC_32, &d, &e) != DS_OK) {
        snprintf(out->why, sizeof out->why, "%.250s", e.msg);
        return;
    }
    out->available = true;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    out->peak_bf16_tflops = d->peak_bf16_tflops;
    out->cudnn = ds_cuda_has_cudnn(d);
    ds_device_close(d);
}

ds_status ds_device_usable(const char *name, ds_err *err) {
    if (!name || !name[0] || !strcmp(name, "cpu")) return DS_OK;
    char why[256];
    if (!ds_device_available(name, why, sizeof why)) return ds_err_set(err, DS_ERR_UNSUPPORTED, "%s", why);
    return DS_OK;
}
