/* Compute devices, as the CLI and the studio see them (engine/src/device/device.h is the
 * engine's side). "cpu" always works; "cuda" (or "cuda:N") needs a build with nvcc, the
 * NVIDIA driver and a GPU of compute capability 8.0 or newer; "sim" is the CPU stand-in of a
 * device used by the tests. */
#ifndef DS_PUBLIC_DEVICE_H
#define DS_PUBLIC_DEVICE_H

#include <stdbool.h>

#include "engine/status.h"

typedef struct ds_device_info {
    bool available;
    char name[160];          /* "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" */
    char why[256];           /* why not, when unavailable */
    double peak_bf16_tflops; /* dense bf16 tensor peak (0: unknown) */
    bool cudnn;              /* convolutions through cuDNN */
} ds_device_info;

/* Probes a device by name (opens and closes it). */
void ds_device_query(const char *name, ds_device_info *out);
/* Checks a --device / studio "device" value: DS_OK, or why it cannot be used here. */
ds_status ds_device_usable(const char *name, ds_err *err);

#endif
