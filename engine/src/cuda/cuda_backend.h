/* The C face of the CUDA backend. Everything behind it is CUDA C++ under engine/src/cuda/;
 * no CUDA or C++ type crosses this header. Built whenever nvcc is found (DS_HAVE_CUDA);
 * without it, engine/src/cuda/cuda_stub.c provides the same symbols reporting "not built".
 * All functions return a ds_status and never exit; errors name the CUDA call. */
#ifndef DS_CUDA_BACKEND_H
#define DS_CUDA_BACKEND_H

#include <stdint.h>

#include "engine/status.h"

/* Number of usable devices (0 when none or when the driver is missing). */
int ds_cuda_device_count(void);
/* "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" into buf. */
ds_status ds_cuda_device_name(int device, char *buf, int n, ds_err *err);

/* One AdamW step over flat fp32 buffers on the device, PyTorch semantics (decoupled weight
 * decay; bias corrections folded as torch 1.13's single-tensor path does):
 *   p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 *   p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps)
 * Host-pointer convenience for tests: copies in, runs, copies out. */
ds_status ds_cuda_adamw_host(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                             float b2, float eps, float wd, int step, ds_err *err);

#endif
