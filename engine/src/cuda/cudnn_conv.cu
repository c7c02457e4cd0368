// Convolutions through cuDNN (its convolution API), as 2-D convolutions of height 1:
//   conv1d:            x [B, Ci, 1, T], w [Co, Ci/G, 1, K], y [B, Co, 1, To], pad (0, p)
//   conv_transpose1d:  the adjoint of the conv from y-space to x-space with the same weight
//                      [Ci, Co/G, 1, K]: forward = BackwardData, dx = Forward(dy),
//                      dW = BackwardFilter(x := dy, dy := x).
// cuDNN pads symmetrically: a call is taken only when padding p = pad_l gives exactly our
// output length (otherwise the caller runs its plain kernels). Precision "32" asks for
// CUDNN_FMA_MATH (no TF32), so results compare with the CPU at fp32 rounding; the mixed
// modes give cuDNN bf16/fp16 tensors with fp32 compute (tensor cores) and convert the
// result to fp32 in the same pass that adds the bias or accumulates the gradient.
#include <math.h>
#include <string.h>

#include "cuda/cuda_internal.cuh"

void cu_conv_bias_grad(ds_device *d, const ds_conv_geom *g, const float *dy, float *db);

#ifdef DS_HAVE_CUDNN

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

template <typename H> __device__ __forceinline__ float to_f(H v);
template <> __device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_f<__half>(__half v) { return __half2float(v); }

// dst[i] = (accumulate ? dst[i] : bias[(i / inner) % C]) + float(src[i])
template <typename H>
__global__ void k_from_half(const H *__restrict__ src, float *__restrict__ dst, const float *__restrict__ bias, int64_t n,
                            int64_t C, int64_t inner, bool accumulate) {
    GS_LOOP(i, n) {
        float v = to_f(src[i]);
        if (accumulate)
            dst[i] += v;
        else
            dst[i] = v + (bias ? bias[(i / inner) % C] : 0.0f);
    }
}

// y[b, o, t] += bias[o]
__global__ void k_add_bias(float *__restrict__ y, const float *__restrict__ b, int64_t n, int64_t C, int64_t inner) {
    GS_LOOP(i, n) y[i] += b[(i / inner) % C];
}

struct dnn_conv {
    cudnnTensorDescriptor_t in, out;  // the cuDNN convolution's input and output (see header)
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnDataType_t dt;
    bool half;
};

static void dnn_free(dnn_conv *c) {
    if (c->in) cudnnDestroyTensorDescriptor(c->in);
    if (c->out) cudnnDestroyTensorDescriptor(c->out);
    if (c->w) cudnnDestroyFilterDescriptor(c->w);
    if (c->conv) cudnnDestroyConvolutionDescriptor(c->conv);
}

// The cuDNN convolution of g: input length Lin → output Lout (conv: T → To; transposed: the
// adjoint conv To → T). false when symmetric padding cannot give our lengths.
static bool eligible(const ds_conv_geom *g) {
    int64_t Lin = g->transposed ? g->To : g->T, Lout = g->transposed ? g->T : g->To;
    int dil = g->transposed ? 1 : g->dil;
    int64_t span = (int64_t)dil * (g->K - 1) + 1;
    if (g->pad_l < 0 || Lin + 2 * g->pad_l < span) return false;
    return (Lin + 2 * g->pad_l - span) / g->stride + 1 == Lout;
}

static bool dnn_setup(ds_device *d, const char *op, const ds_conv_geom *g, dnn_conv *c) {
    memset(c, 0, sizeof *c);
    ds_flops_add((uint64_t)(2 * g->B * g->Co * g->To * g->Cig * g->K)); /* one pass of the convolution */
    cu_dtype t = cu_gemm_type(d);
    c->half = t != CU_F32;
    c->dt = t == CU_BF16 ? CUDNN_DATA_BFLOAT16 : t == CU_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    int Cin = (int)(g->transposed ? g->Co : g->Ci), Cout = (int)(g->transposed ? g->Ci : g->Co);
    int Lin = (int)(g->transposed ? g->To : g->T), Lout = (int)(g->transposed ? g->T : g->To);
    int dil = g->transposed ? 1 : g->dil;
    return CU_CHECK(d, op, cudnnCreateTensorDescriptor(&c->in)) && CU_CHECK(d, op, cudnnCreateTensorDescriptor(&c->out)) &&
           CU_CHECK(d, op, cudnnCreateFilterDescriptor(&c->w)) &&
           CU_CHECK(d, op, cudnnCreateConvolutionDescriptor(&c->conv)) &&
           CU_CHECK(d, op, cudnnSetTensor4dDescriptor(c->in, CUDNN_TENSOR_NCHW, c->dt, (int)g->B, Cin, 1, Lin)) &&
           CU_CHECK(d, op, cudnnSetTensor4dDescriptor(c->out, CUDNN_TENSOR_NCHW, c->dt, (int)g->B, Cout, 1, Lout)) &&
           CU_CHECK(d, op, cudnnSetFilter4dDescriptor(c->w, c->dt, CUDNN_TENSOR_NCHW, Cout, Cin / (int)g->G, 1, (int)g->K)) &&
           CU_CHECK(d, op, cudnnSetConvolution2dDescriptor(c->conv, 0, g->pad_l, 1, g->stride, 1, dil,
                                                           CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT)) &&
           CU_CHECK(d, op, cudnnSetConvolutionGroupCount(c->conv, (int)g->G)) &&
           CU_CHECK(d, op, cudnnSetConvolutionMathType(c->conv, c->half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
}

static const size_t kMaxWs = (size_t)1 << 30;

// out = conv(in, w) (alpha 1, beta as given).
static int dnn_forward(ds_device *d, const char *op, dnn_conv *c, const void *in, const void *w, void *out, float beta) {
    ds_cuda *k = cu(d);
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int n = 0;
    if (!CU_CHECK(d, op, cudnnGetConvolutionForwardAlgorithm_v7(k->dnn, c->in, c->w, c->conv, c->out, 8, &n, perf)))
        return 0;
    for (int i = 0; i < n; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWs) continue;
        if (!c->half && perf[i].mathType != CUDNN_FMA_MATH) continue; // no TF32 in precision 32
        void *ws = perf[i].memory ? cu_scratch(d, CU_SLOT_CONV, perf[i].memory, op) : NULL;
        if (perf[i].memory && !ws) return 0;
        float alpha = 1.0f;
        return (int)CU_CHECK(d, op, cudnnConvolutionForward(k->dnn, &alpha, c->in, in, c->w, w, c->conv, perf[i].algo, ws,
                                                       perf[i].memory, &beta, c->out, out));
    }
    return -1; // none suitable: the caller runs its plain kernels
}

// din = convᵀ(dout, w) (the data gradient of out = conv(in, w)).
static int dnn_bwd_data(ds_device *d, const char *op, dnn_conv *c, const void *w, const void *dout, void *din, float beta) {
    ds_cuda *k = cu(d);
    cudnnConvolutionBwdDataAlgoPerf_t perf[8];
    int n = 0;
    if (!CU_CHECK(d, op, cudnnGetConvolutionBackwardDataAlgorithm_v7(k->dnn, c->w, c->out, c->conv, c->in, 8, &n, perf)))
        return 0;
    for (int i = 0; i < n; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWs) continue;
        if (!c->half && perf[i].mathType != CUDNN_FMA_MATH) continue; // no TF32 in precision 32
        void *ws = perf[i].memory ? cu_scratch(d, CU_SLOT_CONV, perf[i].memory, op) : NULL;
        if (perf[i].memory && !ws) return 0;
        float alpha = 1.0f;
        return (int)CU_CHECK(d, op, cudnnConvolutionBackwardData(k->dnn, &alpha, c->w, w, c->out, dout, c->conv, perf[i].algo,
                                                            ws, perf[i].memory, &beta, c->in, din));
    }
    return -1; // none suitable: the caller runs its plain kernels
}

// dw (+)= the filter gradient of out = conv(in, w).
static int dnn_bwd_filter(ds_device *d, const char *op, dnn_conv *c, const void *in, const void *dout, void *dw,
                           float beta) {
    ds_cuda *k = cu(d);
    cudnnConvolutionBwdFilterAlgoPerf_t perf[8];
    int n = 0;
    if (!CU_CHECK(d, op, cudnnGetConvolutionBackwardFilterAlgorithm_v7(k->dnn, c->in, c->out, c->conv, c->w, 8, &n, perf)))
        return 0;
    for (int i = 0; i < n; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWs) continue;
        if (!c->half && perf[i].mathType != CUDNN_FMA_MATH) continue; // no TF32 in precision 32
        void *ws = perf[i].memory ? cu_scratch(d, CU_SLOT_CONV, perf[i].memory, op) : NULL;
        if (perf[i].memory && !ws) return 0;
        float alpha = 1.0f;
        return (int)CU_CHECK(d, op, cudnnConvolutionBackwardFilter(k->dnn, &alpha, c->in, in, c->out, dout, c->conv,
                                                              perf[i].algo, ws, perf[i].memory, &beta, c->w, dw));
    }
    return -1; // none suitable: the caller runs its plain kernels
}

// dst (+)= float(h) [+ bias], n elements of C channels × inner.
static void from_half(ds_device *d, const char *op, cu_dtype t, const void *h, float *dst, const float *bias, int64_t n,
                      int64_t C, int64_t inner, bool acc) {
    if (t == CU_BF16)
        k_from_half<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>((const __nv_bfloat16 *)h, dst, bias, n, C, inner, acc);
    else
        k_from_half<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>((const __half *)h, dst, bias, n, C, inner, acc);
    CU_LAUNCHED(d, op);
}

bool cu_cudnn_conv_fwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    if (!eligible(g)) return false;
    const char *op = g->transposed ? "conv_transpose1d (cuDNN)" : "conv1d (cuDNN)";
    dnn_conv c;
    bool ok = dnn_setup(d, op, g, &c);
    int r = 1;
    int64_t nx = g->B * g->Ci * g->T, ny = g->B * g->Co * g->To, nw = g->transposed ? g->Ci * g->Cog * g->K : g->Co * g->Cig * g->K;
    cu_dtype t = cu_gemm_type(d);
    if (ok && !c.half) {
        r = g->transposed ? dnn_bwd_data(d, op, &c, w, x, y, 0.0f) : dnn_forward(d, op, &c, x, w, y, 0.0f);
        if (r == 1 && b) {
            k_add_bias<<<cu_blocks(ny, 256), 256, 0, cu_stream(d)>>>(y, b, ny, g->Co, g->To);
            CU_LAUNCHED(d, op);
        }
    } else if (ok) {
        const void *xa = cu_operand(d, x, nx, CU_SLOT_CAST_A, op), *wa = cu_operand(d, w, nw, CU_SLOT_CAST_B, op);
        void *yh = cu_scratch(d, CU_SLOT_CAST_C, (size_t)ny * 2, op);
        r = !(xa && wa && yh) ? 0
            : g->transposed   ? dnn_bwd_data(d, op, &c, wa, xa, yh, 0.0f)
                              : dnn_forward(d, op, &c, xa, wa, yh, 0.0f);
        if (r == 1) from_half(d, op, t, yh, y, b, ny, g->Co, g->To, false);
    }
    dnn_free(&c);
    return !ok || r != -1; // taken, unless cuDNN had no suitable algorithm (errors are sticky)
}

// Returns what it did: 1 the bias gradient, 2 dx, 4 dW (the caller computes the rest).
int cu_cudnn_conv_bwd(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                      float *dw, float *db) {
    if (!eligible(g)) return 0;
    const char *op = g->transposed ? "conv_transpose1d backward (cuDNN)" : "conv1d backward (cuDNN)";
    int done = 1;
    if (db) cu_conv_bias_grad(d, g, dy, db);
    if (!dx && !dw) return 7;
    dnn_conv c;
    bool ok = dnn_setup(d, op, g, &c);
    if (!ok) {
        dnn_free(&c);
        return 7; // the error is sticky: nothing more runs
    }
    int64_t nx = g->B * g->Ci * g->T, ny = g->B * g->Co * g->To, nw = g->transposed ? g->Ci * g->Cog * g->K : g->Co * g->Cig * g->K;
    cu_dtype t = cu_gemm_type(d);
    int r;
    if (!c.half) {
        if (!dx) done |= 2;
        if (!dw) done |= 4;
        if (dx && (r = g->transposed ? dnn_forward(d, op, &c, dy, w, dx, 1.0f) : dnn_bwd_data(d, op, &c, w, dy, dx, 1.0f)) != -1)
            done |= 2;
        if (dw && (r = g->transposed ? dnn_bwd_filter(d, op, &c, dy, x, dw, 1.0f) : dnn_bwd_filter(d, op, &c, x, dy, dw, 1.0f)) != -1)
            done |= 4;
    } else {
        const void *xa = cu_operand(d, x, nx, CU_SLOT_CAST_A, op), *wa = cu_operand(d, w, nw, CU_SLOT_CAST_B, op);
        const void *ga = cu_operand(d, dy, ny, CU_SLOT_CAST_D, op);
        if (!xa || !wa || !ga) {
            dnn_free(&c);
            return 7;
        }
        done |= (dx ? 0 : 2) | (dw ? 0 : 4);
        if (dx) {
            void *h = cu_scratch(d, CU_SLOT_CAST_C, (size_t)nx * 2, op);
            r = !h ? 0 : g->transposed ? dnn_forward(d, op, &c, ga, wa, h, 0.0f) : dnn_bwd_data(d, op, &c, wa, ga, h, 0.0f);
            if (r == 1) from_half(d, op, t, h, dx, NULL, nx, 1, 1, true);
            if (r != -1) done |= 2;
        }
        if (dw) {
            void *h = cu_scratch(d, CU_SLOT_CAST_E, (size_t)nw * 2, op);
            r = !h ? 0 : g->transposed ? dnn_bwd_filter(d, op, &c, ga, xa, h, 0.0f) : dnn_bwd_filter(d, op, &c, xa, ga, h, 0.0f);
            if (r == 1) from_half(d, op, t, h, dw, NULL, nw, 1, 1, true);
            if (r != -1) done |= 4;
        }
    }
    dnn_free(&c);
    return done;
}

#else // no cuDNN in this build: the plain kernels run

bool cu_cudnn_conv_fwd(ds_device *, const ds_conv_geom *, const float *, const float *, const float *, float *) {
    return false;
}
int cu_cudnn_conv_bwd(ds_device *, const ds_conv_geom *, const float *, const float *, const float *, float *, float *,
                      float *) {
    return 0;
}

#endif

extern "C" int ds_cuda_has_cudnn(ds_device *d) {
    if (!d || d->kind != DS_DEV_CUDA) return 0;
#ifdef DS_HAVE_CUDNN
    return cu(d)->use_cudnn ? 1 : 0;
#else
    return 0;
#endif
}

// Test hook: cuDNN convolutions on/off for one device (parity tests compare both paths).
extern "C" void ds_cuda_use_cudnn(ds_device *d, int on) {
#ifdef DS_HAVE_CUDNN
    ds_cuda *c = cu(d);
    if (on && !c->dnn) return; // not created (DS_CUDNN=0 at open)
    c->use_cudnn = on != 0;
#else
    (void)d, (void)on;
#endif
}
