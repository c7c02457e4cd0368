// Shape ops (ops/shape.c): permute, strided row copies (concat, slice, repeat, embedding
// rows), resize along time, reflect padding. Backward passes are written as gathers (each
// input element sums the outputs that read it, in the CPU's order) so that no two threads
// add into one element.
#include <math.h>

#include "cuda/cuda_internal.cuh"

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

struct perm4 {
    int64_t os[4], is[4];
};

// Forward: dst[o] = src[in(o)]. Backward: dst[in(o)] += src[o] (a permutation: one writer each).
__global__ void k_permute(perm4 p, const float *__restrict__ src, float *__restrict__ dst, int64_t n, bool backward) {
    GS_LOOP(o, n) {
        int64_t i = o, c3 = i % p.os[3];
        i /= p.os[3];
        int64_t c2 = i % p.os[2];
        i /= p.os[2];
        int64_t c1 = i % p.os[1], c0 = i / p.os[1];
        int64_t in = c0 * p.is[0] + c1 * p.is[1] + c2 * p.is[2] + c3 * p.is[3];
        if (backward)
            dst[in] += src[o];
        else
            dst[o] = src[in];
    }
}

static void op_permute(ds_device *d, const int64_t *os, const int64_t *is, const float *src, float *dst, bool backward) {
    CU_ENTER(d);
    perm4 p;
    for (int k = 0; k < 4; k++) p.os[k] = os[k], p.is[k] = is[k];
    int64_t n = os[0] * os[1] * os[2] * os[3];
    k_permute<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(p, src, dst, n, backward);
    CU_LAUNCHED(d, backward ? "permute backward" : "permute");
}

__global__ void k_copy2d(float *__restrict__ dst, int64_t ldd, const float *__restrict__ src, int64_t lds, int64_t rows,
                         int64_t cols, bool add) {
    GS_LOOP(i, rows * cols) {
        int64_t r = i / cols, j = i % cols;
        float v = src[r * lds + j];
        if (add)
            dst[r * ldd + j] += v;
        else
            dst[r * ldd + j] = v;
    }
}

static void op_copy2d(ds_device *d, float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                      bool add) {
    CU_ENTER(d);
    if (rows <= 0 || cols <= 0) return;
    if (!add && (lds == cols || rows == 1) && (ldd == cols || rows == 1)) { // contiguous
        CU_CHECK(d, "copy", cudaMemcpyAsync(dst, src, (size_t)(rows * cols) * 4, cudaMemcpyDeviceToDevice, cu_stream(d)));
        return;
    }
    if (!add && lds != 0) {
        CU_CHECK(d, "copy", cudaMemcpy2DAsync(dst, (size_t)ldd * 4, src, (size_t)lds * 4, (size_t)cols * 4,
                                              (size_t)rows, cudaMemcpyDeviceToDevice, cu_stream(d)));
        return;
    }
    k_copy2d<<<cu_blocks(rows * cols, 256), 256, 0, cu_stream(d)>>>(dst, ldd, src, lds, rows, cols, add);
    CU_LAUNCHED(d, add ? "copy (accumulate)" : "copy");
}

// ---------- resize along time (PyTorch's index arithmetic, as ops/shape.c) ----------

__device__ __forceinline__ int64_t nearest_src(int64_t j, int64_t Ti, int64_t T) {
    float scale = __fdiv_rn((float)Ti, (float)T);
    int64_t s = (int64_t)floorf(__fmul_rn((float)j, scale));
    return s < Ti - 1 ? s : Ti - 1;
}

__device__ __forceinline__ void linear_src(int64_t j, int64_t Ti, int64_t T, int64_t *i0, int64_t *i1, float *l0,
                                           float *l1) {
    float scale = __fdiv_rn((float)Ti, (float)T);
    float src = __fsub_rn(__fmul_rn(scale, __fadd_rn((float)j, 0.5f)), 0.5f);
    if (src < 0) src = 0;
    *i0 = (int64_t)src;
    *i1 = *i0 + (*i0 < Ti - 1 ? 1 : 0);
    *l1 = src - (float)*i0;
    *l0 = 1.0f - *l1;
}

__global__ void k_resize(int mode, const float *__restrict__ x, float *__restrict__ y, int64_t rows, int64_t Ti, int64_t T) {
    GS_LOOP(i, rows * T) {
        int64_t q = i / T, j = i % T;
        const float *xr = x + q * Ti;
        if (mode == 0) {
            y[i] = xr[nearest_src(j, Ti, T)];
        } else {
            int64_t i0, i1;
            float l0, l1;
            linear_src(j, Ti, T, &i0, &i1, &l0, &l1);
            y[i] = l0 * xr[i0] + l1 * xr[i1];
        }
    }
}

// Backward: one thread per row walks the outputs in order (resizes act on conditioning
// inputs only: few rows, short; exact CPU order).
__global__ void k_resize_bwd(int mode, const float *__restrict__ dy, float *__restrict__ dx, int64_t rows, int64_t Ti,
                             int64_t T) {
    GS_LOOP(q, rows) {
        const float *g = dy + q * T;
        float *d = dx + q * Ti;
        for (int64_t j = 0; j < T; j++) {
            if (mode == 0) {
                d[nearest_src(j, Ti, T)] += g[j];
            } else {
                int64_t i0, i1;
                float l0, l1;
                linear_src(j, Ti, T, &i0, &i1, &l0, &l1);
                d[i0] += l0 * g[j];
                d[i1] += l1 * g[j];
            }
        }
    }
}

static void op_resize(ds_device *d, int mode, bool backward, const float *src, float *dst, int64_t rows, int64_t Ti,
                      int64_t T) {
    CU_ENTER(d);
    if (backward)
        k_resize_bwd<<<cu_blocks(rows, 64), 64, 0, cu_stream(d)>>>(mode, src, dst, rows, Ti, T);
    else
        k_resize<<<cu_blocks(rows * T, 256), 256, 0, cu_stream(d)>>>(mode, src, dst, rows, Ti, T);
    CU_LAUNCHED(d, mode == 0 ? "resize_nearest" : "resize_linear");
}

// ---------- reflect padding ----------

__device__ __forceinline__ int64_t reflect_src(int64_t j, int64_t left, int64_t T) {
    int64_t i = j - left;
    if (i < 0) return -i;
    if (i >= T) return 2 * (T - 1) - i;
    return i;
}

__global__ void k_pad(const float *__restrict__ x, float *__restrict__ y, int64_t rows, int64_t T, int64_t To, int64_t left) {
    GS_LOOP(i, rows * To) {
        int64_t q = i / To, o = i % To;
        y[i] = x[q * T + reflect_src(o, left, T)];
    }
}

// dx[s] += the outputs reading s: o = s + left, the left mirror o = left − s (0 < s ≤ left),
// the right mirror o = left + 2(T−1) − s (when below To), in increasing o as the CPU adds.
__global__ void k_pad_bwd(const float *__restrict__ dy, float *__restrict__ dx, int64_t rows, int64_t T, int64_t To,
                          int64_t left) {
    GS_LOOP(i, rows * T) {
        int64_t q = i / T, s = i % T;
        const float *g = dy + q * To;
        float acc = 0.0f;
        if (s > 0 && s <= left) acc += g[left - s];
        acc += g[s + left];
        int64_t o = left + 2 * (T - 1) - s;
        if (s < T - 1 && o < To) acc += g[o];
        dx[i] += acc;
    }
}

static void op_pad_reflect(ds_device *d, bool backward, const float *src, float *dst, int64_t rows, int64_t T,
                           int64_t To, int64_t left) {
    CU_ENTER(d);
    if (backward)
        k_pad_bwd<<<cu_blocks(rows * T, 256), 256, 0, cu_stream(d)>>>(src, dst, rows, T, To, left);
    else
        k_pad<<<cu_blocks(rows * To, 256), 256, 0, cu_stream(d)>>>(src, dst, rows, T, To, left);
    CU_LAUNCHED(d, backward ? "pad_reflect backward" : "pad_reflect");
}

// ---------- embedding rows, indices on the device ----------

__global__ void k_embed(const float *__restrict__ table, const float *__restrict__ idx, float *__restrict__ y, int64_t B,
                        int64_t E) {
    GS_LOOP(i, B * E) y[i] = table[(int64_t)idx[i / E] * E + i % E];
}

// A thread per column walks the items in order: repeated indices add up without races.
__global__ void k_embed_bwd(const float *__restrict__ idx, const float *__restrict__ dy, float *__restrict__ dt, int64_t B,
                            int64_t E) {
    GS_LOOP(e, E)
    for (int64_t b = 0; b < B; b++) dt[(int64_t)idx[b] * E + e] += dy[b * E + e];
}

static void op_embed_fwd(ds_device *d, const float *table, const float *idx, float *y, int64_t B, int64_t E) {
    CU_ENTER(d);
    k_embed<<<cu_blocks(B * E, 256), 256, 0, cu_stream(d)>>>(table, idx, y, B, E);
    CU_LAUNCHED(d, "embedding");
}

static void op_embed_bwd(ds_device *d, const float *idx, const float *dy, float *dt, int64_t B, int64_t E) {
    CU_ENTER(d);
    k_embed_bwd<<<cu_blocks(E, 256), 256, 0, cu_stream(d)>>>(idx, dy, dt, B, E);
    CU_LAUNCHED(d, "embedding backward");
}

void cu_fill_shape_ops(ds_dev_ops *o) {
    o->embed_fwd = op_embed_fwd;
    o->embed_bwd = op_embed_bwd;
    o->permute = op_permute;
    o->copy2d = op_copy2d;
    o->resize = op_resize;
    o->pad_reflect = op_pad_reflect;
}
