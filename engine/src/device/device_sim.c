/* The CPU stand-in device ("sim"): the memory half of the backend table on host memory,
 * with the CUDA backend's host-side behaviour: allocations counted per role, copies only
 * through upload/download, staging reused only after its event, no graph capture. Its op
 * table is NULL, so ops run their CPU kernels on its memory.
 *
 * Fresh allocations are filled with NaN: a tensor whose host-written values never reached
 * the device (a missing ds_host_commit) poisons the result instead of passing by accident. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"

typedef struct sim {
    int events_recorded[DS_DEV_EVENTS];
} sim;

static void *sim_alloc(ds_device *d, size_t bytes) {
    float *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        ds_device_fail(d, DS_ERR_NOMEM, "sim: out of host memory (%zu bytes)", bytes);
        return NULL;
    }
    for (size_t i = 0; i < bytes / sizeof(float); i++) p[i] = NAN;
    return p;
}

static void sim_free(ds_device *d, void *p) {
    (void)d;
    free(p);
}

static void *sim_host_alloc(ds_device *d, size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) ds_device_fail(d, DS_ERR_NOMEM, "sim: out of host memory for staging (%zu bytes)", bytes);
    return p;
}

static void sim_copy(ds_device *d, void *dst, const void *src, size_t bytes) {
    if (d->status == DS_OK && bytes) memmove(dst, src, bytes);
}

static void sim_upload(ds_device *d, void *dst, const void *src, size_t bytes) {
    d->uploads++;
    sim_copy(d, dst, src, bytes);
}

static void sim_download(ds_device *d, void *dst, const void *src, size_t bytes) {
    d->downloads++;
    sim_copy(d, dst, src, bytes);
}

static void sim_zero(ds_device *d, void *p, size_t bytes) {
    if (d->status == DS_OK && bytes) memset(p, 0, bytes);
}

static void sim_sync(ds_device *d) { (void)d; }

static void sim_event_record(ds_device *d, int slot) { ((sim *)d->impl)->events_recorded[slot]++; }
static void sim_event_sync(ds_device *d, int slot) { (void)d, (void)slot; }
static bool sim_capture_begin(ds_device *d) {
    (void)d;
    return false;
}
static bool sim_capture_end(ds_device *d, int slot) {
    (void)d, (void)slot;
    return false;
}
static void sim_graph_launch(ds_device *d, int slot) {
    ds_device_fail(d, DS_ERR_INTERNAL, "sim: graph %d launched but the stand-in never captures", slot);
}
static void sim_graph_drop(ds_device *d, int slot) { (void)d, (void)slot; }

static const ds_dev_mem g_sim_mem = {"sim",          sim_alloc,         sim_free,        sim_host_alloc,
                                     sim_free,       sim_upload,        sim_download,    sim_copy,
                                     sim_zero,       sim_sync,          sim_event_record, sim_event_sync,
                                     sim_capture_begin, sim_capture_end, sim_graph_launch, sim_graph_drop};

ds_status ds_sim_open(ds_device *d, ds_err *err) {
    sim *s = calloc(1, sizeof *s);
    if (!s) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    d->kind = DS_DEV_SIM;
    d->mem = &g_sim_mem;
    d->ops = NULL;
    d->impl = s;
    snprintf(d->name, sizeof d->name, "sim (CPU stand-in)");
    return DS_OK;
}

void ds_sim_close(ds_device *d) { free(d->impl); }
