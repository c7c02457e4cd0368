// Internals of the CUDA backend, shared by engine/src/cuda/*.cu (CUDA C++ only; nothing
// here is visible to C code). One device, one stream, handles created on the thread that
// opens the device and used only from it (house style §2.8).
//
// Error handling: every CUDA, cuBLASLt and cuDNN call goes through CU_CHECK, which records
// the first failure in the device's sticky error as "<op>: <call> failed: <reason>
// (file:line)" and returns false. Every entry of the op table starts with CU_ENTER, which
// does nothing once an error is recorded, so one failure cannot cascade into launches on
// bad pointers. Nothing here exits or prints.
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#ifdef DS_HAVE_CUDNN
#include <cudnn.h>
#endif

extern "C" {
#include "device/device.h"
void ds_flops_add(uint64_t n); /* ops/gemm.c: FLOPs issued, read by the benchmarks */
}

// Scratch slots of the workspace (grown on demand outside graph capture; a planned step
// reaches its sizes in the first step, so later steps and captured graphs never grow them).
enum {
    CU_SLOT_CAST_A,   // half copies of GEMM operands
    CU_SLOT_CAST_B,
    CU_SLOT_CAST_C,
    CU_SLOT_CAST_D,
    CU_SLOT_CAST_E,
    CU_SLOT_SCORES,   // attention scores / probabilities
    CU_SLOT_DSCORES,  // attention score gradients
    CU_SLOT_COLS,     // im2col columns (convolution fallback)
    CU_SLOT_CONV,     // cuDNN workspace
    CU_SLOT_REDUCE,   // partial sums of reductions
    CU_SLOT_SDPA_O,   // cuDNN fused attention: half output
    CU_SLOT_SDPA_WS,  // cuDNN fused attention: workspace
    CU_SLOT_SDPA_GRAD, // cuDNN fused attention backward: half dQ, dK, dV
    CU_SLOT_COUNT
};

#define CU_GEMM_CACHE 512

struct cu_gemm_entry {
    uint64_t key[4];
    bool used, ok;
    cublasLtMatmulAlgo_t algo;
};

struct ds_cuda {
    int index;
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *lt_ws;
    size_t lt_ws_bytes;
    void *slot[CU_SLOT_COUNT];
    size_t slot_bytes[CU_SLOT_COUNT];
    cudaEvent_t events[DS_DEV_EVENTS];
    cudaGraphExec_t graphs[DS_DEV_GRAPHS];
    cu_gemm_entry gemm_cache[CU_GEMM_CACHE];
    int sm_count;
    bool use_cudnn;     // cuDNN convolutions (DS_CUDNN=0 in the environment turns them off)
    int sdpa_mode;      // cuDNN fused attention: 0 off, 1 forward, 2 forward + backward (DS_CUDNN_SDPA)
#ifdef DS_HAVE_CUDNN
    cudnnHandle_t dnn;
#endif
    struct cu_sdpa_cache *sdpa; // cudnn_sdpa.cu's plans, created on first use
    int64_t sdpa_calls[2];      // fused attention calls queued, forward and backward (tests read them)
    cudaEvent_t *prof;          // profiling marks (device/prof.h), while a profile runs
    int prof_n;
};

static inline ds_cuda *cu(ds_device *d) { return (ds_cuda *)d->impl; }
static inline cudaStream_t cu_stream(ds_device *d) { return cu(d)->stream; }

bool cu_check_rt(ds_device *d, cudaError_t e, const char *call, const char *op, const char *file, int line);
bool cu_check_lt(ds_device *d, cublasStatus_t e, const char *call, const char *op, const char *file, int line);
#ifdef DS_HAVE_CUDNN
bool cu_check_dnn(ds_device *d, cudnnStatus_t e, const char *call, const char *op, const char *file, int line);
static inline bool cu_check_any(ds_device *d, cudnnStatus_t e, const char *c, const char *o, const char *f, int l) {
    return cu_check_dnn(d, e, c, o, f, l);
}
#endif
static inline bool cu_check_any(ds_device *d, cudaError_t e, const char *c, const char *o, const char *f, int l) {
    return cu_check_rt(d, e, c, o, f, l);
}
static inline bool cu_check_any(ds_device *d, cublasStatus_t e, const char *c, const char *o, const char *f, int l) {
    return cu_check_lt(d, e, c, o, f, l);
}

#define CU_CHECK(d, op, call) cu_check_any((d), (call), #call, (op), __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here.
#define CU_LAUNCHED(d, op) CU_CHECK((d), (op), cudaGetLastError())
#define CU_ENTER(d)                                                                           \
    do {                                                                                      \
        if ((d)->status != DS_OK) return;                                                     \
    } while (0)

// Scratch of at least `bytes` in a slot (NULL + sticky error when it cannot grow).
void *cu_scratch(ds_device *d, int slot, size_t bytes, const char *op);

// Grid size for n elements at `threads` per block, capped (kernels use grid-stride loops).
static inline unsigned cu_blocks(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > 65535LL * 8) b = 65535LL * 8;
    return (unsigned)b;
}

// ---- GEMM (cuda_gemm.cu) ----
enum cu_dtype { CU_F32, CU_BF16, CU_F16 };
// Row-major C[M,N] = alpha·op(A)·op(B) + beta·C (+ bias[N] when given and beta == 0), batched
// at element strides, operands of type `in` (f32 or a half type), C in f32, fp32 accumulation
// and no TF32. Returns 1 on success, 0 on error (sticky error set), and -1 when a bias was
// asked for that the epilogue cannot take (beta != 0, alignment, no algorithm): nothing ran.
int cu_matmul(ds_device *d, const char *op, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
              const void *A, int64_t lda, int64_t sA, const void *B, int64_t ldb, int64_t sB, float beta, float *C,
              int64_t ldc, int64_t sC, int64_t batch, cu_dtype in, const float *bias);
// The device's GEMM input type (f32 for precision 32).
cu_dtype cu_gemm_type(const ds_device *d);
// An operand for a GEMM of the device's type: p itself (f32), the parameters' half copy at
// the same offset, or a cast of `n` floats into scratch `slot`.
const void *cu_operand(ds_device *d, const float *p, int64_t n, int slot, const char *op);
// dst[i] = half(src[i]) of the given type.
void cu_cast(ds_device *d, const float *src, void *dst, int64_t n, cu_dtype t, const char *op);

// ---- cuDNN fused attention (cudnn_sdpa.cu) ----
// o (f32) and lse from half-type q, k, v through cuDNN's SDPA; false when it does not apply or
// cuDNN refuses the shape (nothing queued: run the plain path). true once queued or once a
// sticky error is set.
bool cu_sdpa_fwd(ds_device *d, const ds_attn_geom *g, const void *q, const void *k, const void *v, cu_dtype t,
                 float *o, float *lse);
// dq, dk, dv (f32, each may be NULL) += the gradients of the attention whose forward left o
// and lse, through cuDNN's SDPA backward; dO is the upstream gradient's half copy. false when
// it does not apply or cuDNN refuses (nothing queued).
bool cu_sdpa_bwd(ds_device *d, const ds_attn_geom *g, const void *q, const void *k, const void *v, cu_dtype t,
                 const float *o, const float *lse, const void *dO, float *dq, float *dk, float *dv);
void cu_sdpa_release(ds_cuda *c);

// ---- op table pieces (one per file) ----
void cu_fill_gemm_ops(ds_dev_ops *o);
void cu_fill_elementwise_ops(ds_dev_ops *o);
void cu_fill_shape_ops(ds_dev_ops *o);
void cu_fill_norm_ops(ds_dev_ops *o);
void cu_fill_attention_ops(ds_dev_ops *o);
void cu_fill_conv_ops(ds_dev_ops *o);
void cu_fill_optim_ops(ds_dev_ops *o);

// ---- block reductions ----
template <typename T> __device__ __forceinline__ T cu_warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
template <typename T> __device__ __forceinline__ T cu_warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
// `sh` holds 32 values. Callers separate consecutive uses with __syncthreads().
template <typename T> __device__ __forceinline__ T cu_block_sum(T v, T *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = cu_warp_sum(v);
    if (lane == 0) sh[w] = v;
    __syncthreads();
    T r = lane < nw ? sh[lane] : T(0);
    r = cu_warp_sum(r);
    __syncthreads();
    return r;
}
