/* The C face of the CUDA backend. Everything behind it is CUDA C++ under engine/src/cuda/;
 * no CUDA or C++ type crosses this header. Built whenever nvcc is found (DS_HAVE_CUDA);
 * without it, engine/src/cuda/cuda_stub.c provides the same symbols reporting "built
 * without CUDA". All functions return a ds_status (or record the device's sticky error) and
 * never exit; errors name the CUDA/cuBLAS/cuDNN call, file:line and the op. */
#ifndef DS_CUDA_BACKEND_H
#define DS_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

struct ds_device;

/* Number of usable devices (0 when none or when the driver is missing). */
int ds_cuda_device_count(void);
/* 1 when device `index` can be opened; otherwise 0 and the reason (no device, driver
 * missing or too old, built without nvcc) in why. */
int ds_cuda_available(int index, char *why, size_t n);
/* "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" into buf. */
ds_status ds_cuda_device_name(int device, char *buf, int n, ds_err *err);

/* Fills d (mem and op tables, name, impl) for CUDA device `index`: creates the stream, the
 * cuBLASLt and cuDNN handles and the GEMM workspace on the calling thread. */
ds_status ds_cuda_open(struct ds_device *d, int index, ds_err *err);
void ds_cuda_close(struct ds_device *d);
/* Test hook: convolutions through cuDNN (on) or the plain kernels (off) on device d. */
void ds_cuda_use_cudnn(struct ds_device *d, int on);
/* Test hooks: cuDNN fused attention off (0), forward (1), forward and backward (2) — what
 * DS_CUDNN_SDPA sets at open — and how many forward (backward = 0) or backward calls it ran. */
void ds_cuda_use_sdpa(struct ds_device *d, int mode);
int64_t ds_cuda_sdpa_calls(struct ds_device *d, int backward);

/* One AdamW step over flat fp32 host buffers on the device (tests): copies in, runs the
 * device's AdamW kernel with PyTorch semantics, copies out. */
ds_status ds_cuda_adamw_host(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                             float b2, float eps, float wd, int step, ds_err *err);

#endif
