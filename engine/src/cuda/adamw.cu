// AdamW over flat fp32 buffers: the first kernel of the CUDA backend (issue: GPU path).
// One thread per element; the op order matches engine/src/train/optim.c (torch 1.13).
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>

extern "C" {
#include "cuda/cuda_backend.h"
}

#define DS_CUDA_CHECK(call, err)                                                               \
    do {                                                                                       \
        cudaError_t e_ = (call);                                                               \
        if (e_ != cudaSuccess)                                                                 \
            return ds_err_set((err), DS_ERR_DEVICE, "%s failed: %s (%s:%d)", #call,            \
                              cudaGetErrorString(e_), __FILE__, __LINE__);                     \
    } while (0)

__global__ void adamw_kernel(float *__restrict__ p, const float *__restrict__ g, float *__restrict__ m,
                             float *__restrict__ v, int64_t n, float lr, float b1, float b2, float eps,
                             float wd, float bc1, float bc2_sqrt) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float pi = p[i] * (1.0f - lr * wd);
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    float denom = sqrtf(vi) / bc2_sqrt + eps;
    pi += -(lr / bc1) * (mi / denom);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
}

extern "C" int ds_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" ds_status ds_cuda_device_name(int device, char *buf, int n, ds_err *err) {
    cudaDeviceProp prop;
    DS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), err);
    snprintf(buf, (size_t)n, "%s, sm_%d%d, %.1f GiB", prop.name, prop.major, prop.minor,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return DS_OK;
}

extern "C" ds_status ds_cuda_adamw_host(float *p, const float *g, float *m, float *v, int64_t n, float lr,
                                        float b1, float b2, float eps, float wd, int step, ds_err *err) {
    float *d = NULL;
    size_t bytes = (size_t)n * sizeof(float);
    DS_CUDA_CHECK(cudaMalloc(&d, 4 * bytes), err);
    float *dp = d, *dg = d + n, *dm = d + 2 * n, *dv = d + 3 * n;
    ds_status s = DS_OK;
    cudaError_t e = cudaMemcpy(dp, p, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(dg, g, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(dm, m, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemcpy(dv, v, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) {
        float bc1 = 1.0f - powf(b1, (float)step), bc2 = 1.0f - powf(b2, (float)step);
        int threads = 256;
        int64_t blocks = (n + threads - 1) / threads;
        adamw_kernel<<<(unsigned)blocks, threads>>>(dp, dg, dm, dv, n, lr, b1, b2, eps, wd, bc1, sqrtf(bc2));
        e = cudaGetLastError();
    }
    if (e == cudaSuccess) e = cudaMemcpy(p, dp, bytes, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess) e = cudaMemcpy(m, dm, bytes, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess) e = cudaMemcpy(v, dv, bytes, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess)
        s = ds_err_set(err, DS_ERR_DEVICE, "adamw on the GPU failed: %s", cudaGetErrorString(e));
    cudaFree(d);
    return s;
}
