/* Without nvcc the CUDA backend is not built; these report that clearly. */
#ifndef DS_HAVE_CUDA
#include <stdio.h>

#include "cuda/cuda_backend.h"

#define NOT_BUILT "this diffstudio was built without CUDA (nvcc was not found when it was configured)"

int ds_cuda_device_count(void) { return 0; }

int ds_cuda_available(int index, char *why, size_t n) {
    (void)index;
    if (why && n) snprintf(why, n, "%s", NOT_BUILT);
    return 0;
}

ds_status ds_cuda_device_name(int device, char *buf, int n, ds_err *err) {
    (void)device;
    if (n > 0) buf[0] = 0;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, NOT_BUILT);
}

ds_status ds_cuda_open(struct ds_device *d, int index, ds_err *err) {
    (void)d, (void)index;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, "cuda: " NOT_BUILT);
}

void ds_cuda_close(struct ds_device *d) { (void)d; }

void ds_cuda_use_cudnn(struct ds_device *d, int on) { (void)d, (void)on; }

void ds_cuda_use_sdpa(struct ds_device *d, int mode) { (void)d, (void)mode; }

int64_t ds_cuda_sdpa_calls(struct ds_device *d, int backward) {
    (void)d, (void)backward;
    return 0;
}

int ds_cuda_has_cudnn(struct ds_device *d) {
    (void)d;
    return 0;
}

ds_status ds_cuda_adamw_host(float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
                             float b2, float eps, float wd, int step, ds_err *err) {
    (void)p, (void)g, (void)m, (void)v, (void)n, (void)lr, (void)b1, (void)b2, (void)eps, (void)wd, (void)step;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, NOT_BUILT);
}
#else
typedef int ds_cuda_stub_unused;
#endif
