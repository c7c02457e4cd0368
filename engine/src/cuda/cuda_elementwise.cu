// Elementwise ops (ops/elementwise.c), their broadcasting backward reductions, and the
// small ops: fill, the backward seed, Fourier features, MSE and the CFG rescale.
//
// Broadcast backward: the gradient of a broadcast operand X is a sum over the output
// elements that read it. Each X element's sum runs over R output elements, split into
// `splits` ranges whose partials land in a workspace and are added in a fixed order by a
// second kernel: deterministic, and parallel even when X is small (a [1, 1, E] layer scale
// over [B, N, E]). Two layouts: when the innermost output dim is kept, 32 consecutive X
// elements per block (coalesced) and 8 reduction lanes; when it is reduced (per-channel
// sums over time), a warp per X element with lanes along time.
#include <math.h>

#include "cuda/cuda_internal.cuh"

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

enum { BIN_ADD, BIN_SUB, BIN_MUL };
enum { UN_AFFINE, UN_SILU, UN_GELU, UN_SIGMOID };

__device__ __forceinline__ float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

// ---------- same-shape binary ----------

__global__ void k_binary(int kind, const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y,
                         int64_t n) {
    GS_LOOP(i, n) {
        float va = a[i], vb = b[i];
        y[i] = kind == BIN_ADD ? va + vb : kind == BIN_SUB ? va - vb : va * vb;
    }
}

__global__ void k_binary_bwd(int kind, const float *__restrict__ a, const float *__restrict__ b,
                             const float *__restrict__ dy, float *__restrict__ da, float *__restrict__ db, int64_t n) {
    GS_LOOP(i, n) {
        float g = dy[i];
        if (kind == BIN_MUL) {
            if (da) da[i] += g * b[i];
            if (db) db[i] += g * a[i];
        } else {
            if (da) da[i] += g;
            if (db) db[i] += kind == BIN_SUB ? -g : g;
        }
    }
}

static void op_binary_fwd(ds_device *d, int kind, const float *a, const float *b, float *y, int64_t n) {
    CU_ENTER(d);
    k_binary<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(kind, a, b, y, n);
    CU_LAUNCHED(d, "binary");
}

static void op_binary_bwd(ds_device *d, int kind, const float *a, const float *b, const float *dy, float *da, float *db,
                          int64_t n) {
    CU_ENTER(d);
    k_binary_bwd<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(kind, a, b, dy, da, db, n);
    CU_LAUNCHED(d, "binary backward");
}

// ---------- broadcasting ----------

struct bc4 {
    int64_t out[4], sa[4], sb[4];
};

static bc4 to_bc4(const ds_bcast *g) {
    bc4 r;
    for (int k = 0; k < 4; k++) r.out[k] = g->out[k], r.sa[k] = g->sa[k], r.sb[k] = g->sb[k];
    return r;
}

__device__ __forceinline__ void coords(int64_t i, const int64_t *out, int64_t c[4]) {
    c[3] = i % out[3];
    i /= out[3];
    c[2] = i % out[2];
    i /= out[2];
    c[1] = i % out[1];
    c[0] = i / out[1];
}

__global__ void k_bcast(int kind, bc4 g, const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y,
                        int64_t n) {
    GS_LOOP(i, n) {
        int64_t c[4];
        coords(i, g.out, c);
        int64_t ia = c[0] * g.sa[0] + c[1] * g.sa[1] + c[2] * g.sa[2] + c[3] * g.sa[3];
        int64_t ib = c[0] * g.sb[0] + c[1] * g.sb[1] + c[2] * g.sb[2] + c[3] * g.sb[3];
        y[i] = kind == BIN_ADD ? a[ia] + b[ib] : a[ia] * b[ib];
    }
}

// The gradient of an operand X with strides sx (0 on its broadcast dims) over output
// shape out: dX[x] += Σ_{outputs o reading x} dy[o] · (other ? other[o·so] : 1) · scale,
// where `other` (strides so) is the second factor of a product (or NULL).
struct red_geom {
    int64_t out[4], ostr[4], sx[4], so[4];
    int64_t xs[4];   // X's own shape (1 on reduced dims)
    int64_t rs[4];   // reduced dims (out where X broadcasts, else 1)
    int64_t nX, R;
};

__device__ __forceinline__ void red_index(const red_geom &g, int64_t jx, int64_t r, int64_t *oi, int64_t *oo) {
    int64_t c[4];
    for (int k = 3; k >= 0; k--) {
        int64_t cx = jx % g.xs[k], cr = r % g.rs[k];
        jx /= g.xs[k];
        r /= g.rs[k];
        c[k] = cx + cr; // one of the two is always 0
    }
    *oi = c[0] * g.ostr[0] + c[1] * g.ostr[1] + c[2] * g.ostr[2] + c[3] * g.ostr[3];
    *oo = c[0] * g.so[0] + c[1] * g.so[1] + c[2] * g.so[2] + c[3] * g.so[3];
}

// Inner dim kept: block (32 X elements, 8 lanes), blockIdx.y = split.
__global__ void k_red_cols(red_geom g, const float *__restrict__ dy, const float *__restrict__ other,
                           float *__restrict__ part, int64_t per) {
    __shared__ float sh[8][33];
    int64_t jx = (int64_t)blockIdx.x * 32 + threadIdx.x;
    int64_t r0 = (int64_t)blockIdx.y * per, r1 = r0 + per < g.R ? r0 + per : g.R;
    float s = 0.0f;
    if (jx < g.nX)
        for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
            int64_t oi, oo;
            red_index(g, jx, r, &oi, &oo);
            s += other ? dy[oi] * other[oo] : dy[oi];
        }
    sh[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && jx < g.nX) {
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += sh[k][threadIdx.x];
        part[(int64_t)blockIdx.y * g.nX + jx] = t;
    }
}

// Inner dim reduced: a warp per X element (8 per block), lanes along the reduction.
__global__ void k_red_rows(red_geom g, const float *__restrict__ dy, const float *__restrict__ other,
                           float *__restrict__ part, int64_t per) {
    int lane = threadIdx.x & 31;
    int64_t jx = (int64_t)blockIdx.x * 8 + (threadIdx.x >> 5);
    int64_t r0 = (int64_t)blockIdx.y * per, r1 = r0 + per < g.R ? r0 + per : g.R;
    if (jx >= g.nX) return;
    float s = 0.0f;
    for (int64_t r = r0 + lane; r < r1; r += 32) {
        int64_t oi, oo;
        red_index(g, jx, r, &oi, &oo);
        s += other ? dy[oi] * other[oo] : dy[oi];
    }
    s = cu_warp_sum(s);
    if (lane == 0) part[(int64_t)blockIdx.y * g.nX + jx] = s;
}

__global__ void k_red_finish(const float *__restrict__ part, float *__restrict__ dx, int64_t nX, int splits, float scale) {
    GS_LOOP(j, nX) {
        float t = 0.0f;
        for (int s = 0; s < splits; s++) t += part[(int64_t)s * nX + j];
        dx[j] += scale * t;
    }
}

// Elementwise case (X not broadcast): dX[o] += scale · dy[o] · (other ? other[o·so] : 1).
__global__ void k_red_elem(red_geom g, const float *__restrict__ dy, const float *__restrict__ other,
                           float *__restrict__ dx, int64_t n, float scale, float add_one) {
    GS_LOOP(i, n) {
        int64_t c[4];
        coords(i, g.out, c);
        int64_t oo = c[0] * g.so[0] + c[1] * g.so[1] + c[2] * g.so[2] + c[3] * g.so[3];
        float f = other ? other[oo] + add_one : 1.0f;
        dx[i] += scale * dy[i] * f;
    }
}

// dX (+)= reduction as described above. add_one: the factor is (other + 1) (modulate's dx).
static void reduce_grad(ds_device *d, const char *op, const int64_t *out, const int64_t *sx, const float *dy,
                        const float *other, const int64_t *so, float *dx, float scale, float add_one) {
    red_geom g;
    int64_t st = 1;
    g.nX = 1;
    g.R = 1;
    for (int k = 3; k >= 0; k--) {
        g.out[k] = out[k];
        g.ostr[k] = st;
        st *= out[k];
        g.sx[k] = sx[k];
        g.so[k] = so ? so[k] : 0;
        bool red = sx[k] == 0 && out[k] > 1;
        g.xs[k] = red ? 1 : out[k];
        g.rs[k] = red ? out[k] : 1;
        g.nX *= g.xs[k];
        g.R *= g.rs[k];
    }
    int64_t n = st;
    cudaStream_t s = cu_stream(d);
    if (g.R == 1) {
        k_red_elem<<<cu_blocks(n, 256), 256, 0, s>>>(g, dy, other, dx, n, scale, add_one);
        CU_LAUNCHED(d, op);
        return;
    }
    bool inner_kept = g.rs[3] == 1;
    int64_t xblocks = inner_kept ? (g.nX + 31) / 32 : (g.nX + 7) / 8;
    int64_t want = 4 * (int64_t)cu(d)->sm_count;
    int64_t splits = xblocks >= want ? 1 : (want + xblocks - 1) / xblocks;
    int64_t maxs = (g.R + 255) / 256; // at least 256 reduction elements per split
    if (splits > maxs) splits = maxs;
    if (splits > 128) splits = 128;
    if (splits < 1) splits = 1;
    int64_t per = (g.R + splits - 1) / splits;
    float *part = (float *)cu_scratch(d, CU_SLOT_REDUCE, (size_t)(splits * g.nX) * sizeof(float), op);
    if (!part) return;
    dim3 grid((unsigned)xblocks, (unsigned)splits);
    if (inner_kept)
        k_red_cols<<<grid, dim3(32, 8), 0, s>>>(g, dy, other, part, per);
    else
        k_red_rows<<<grid, 256, 0, s>>>(g, dy, other, part, per);
    if (!CU_LAUNCHED(d, op)) return;
    k_red_finish<<<cu_blocks(g.nX, 256), 256, 0, s>>>(part, dx, g.nX, (int)splits, scale);
    CU_LAUNCHED(d, op);
}

static const int64_t k_dense_zero[4] = {0, 0, 0, 0};

static void dense_strides(const int64_t *out, int64_t *st) {
    int64_t s = 1;
    for (int k = 3; k >= 0; k--) {
        st[k] = s;
        s *= out[k];
    }
}

static void op_bcast_fwd(ds_device *d, int kind, const ds_bcast *g, const float *a, const float *b, float *y) {
    CU_ENTER(d);
    bc4 h = to_bc4(g);
    int64_t n = h.out[0] * h.out[1] * h.out[2] * h.out[3];
    k_bcast<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(kind, h, a, b, y, n);
    CU_LAUNCHED(d, kind == BIN_ADD ? "add_bc" : "mul_bc");
}

static void op_bcast_bwd(ds_device *d, int kind, const ds_bcast *g, const float *a, const float *b, const float *dy,
                         float *da, float *db) {
    CU_ENTER(d);
    const char *op = kind == BIN_ADD ? "add_bc backward" : "mul_bc backward";
    if (da) reduce_grad(d, op, g->out, g->sa, dy, kind == BIN_MUL ? b : NULL, g->sb, da, 1.0f, 0.0f);
    if (db) reduce_grad(d, op, g->out, g->sb, dy, kind == BIN_MUL ? a : NULL, g->sa, db, 1.0f, 0.0f);
}

// ---------- unary ----------

__global__ void k_unary(int kind, float alpha, float beta, const float *__restrict__ x, float *__restrict__ y, int64_t n) {
    GS_LOOP(i, n) {
        float v = x[i];
        switch (kind) {
        case UN_AFFINE: y[i] = alpha * v + beta; break;
        case UN_SILU: y[i] = v / (1.0f + expf(-v)); break;
        case UN_GELU: y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); break;
        default: y[i] = sigm(v); break;
        }
    }
}

__global__ void k_unary_bwd(int kind, float alpha, const float *__restrict__ x, const float *__restrict__ dy,
                            float *__restrict__ dx, int64_t n) {
    GS_LOOP(i, n) {
        float v = x[i], g = dy[i];
        switch (kind) {
        case UN_AFFINE: dx[i] += alpha * g; break;
        case UN_SILU: {
            float s = sigm(v);
            dx[i] += g * s * (1.0f + v * (1.0f - s));
            break;
        }
        case UN_GELU: {
            float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
            float pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
            dx[i] += g * (cdf + v * pdf);
            break;
        }
        default: {
            float s = sigm(v);
            dx[i] += g * s * (1.0f - s);
            break;
        }
        }
    }
}

static void op_unary_fwd(ds_device *d, int kind, float alpha, float beta, const float *x, float *y, int64_t n) {
    CU_ENTER(d);
    k_unary<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(kind, alpha, beta, x, y, n);
    CU_LAUNCHED(d, "unary");
}

static void op_unary_bwd(ds_device *d, int kind, float alpha, const float *x, const float *dy, float *dx, int64_t n) {
    CU_ENTER(d);
    k_unary_bwd<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(kind, alpha, x, dy, dx, n);
    CU_LAUNCHED(d, "unary backward");
}

// ---------- SwiGLU ----------

__global__ void k_swiglu(const float *__restrict__ h, float *__restrict__ y, int64_t rows, int64_t I) {
    GS_LOOP(i, rows * I) {
        int64_t r = i / I, j = i % I;
        float a = h[r * 2 * I + j], g = h[r * 2 * I + I + j];
        y[i] = a * (g / (1.0f + expf(-g)));
    }
}

__global__ void k_swiglu_bwd(const float *__restrict__ h, const float *__restrict__ dy, float *__restrict__ dh,
                             int64_t rows, int64_t I) {
    GS_LOOP(i, rows * I) {
        int64_t r = i / I, j = i % I;
        float a = h[r * 2 * I + j], g = h[r * 2 * I + I + j], s = sigm(g), d = dy[i];
        dh[r * 2 * I + j] += d * g * s;
        dh[r * 2 * I + I + j] += d * a * s * (1.0f + g * (1.0f - s));
    }
}

static void op_swiglu_fwd(ds_device *d, const float *h, float *y, int64_t rows, int64_t I) {
    CU_ENTER(d);
    k_swiglu<<<cu_blocks(rows * I, 256), 256, 0, cu_stream(d)>>>(h, y, rows, I);
    CU_LAUNCHED(d, "swiglu");
}

static void op_swiglu_bwd(ds_device *d, const float *h, const float *dy, float *dh, int64_t rows, int64_t I) {
    CU_ENTER(d);
    k_swiglu_bwd<<<cu_blocks(rows * I, 256), 256, 0, cu_stream(d)>>>(h, dy, dh, rows, I);
    CU_LAUNCHED(d, "swiglu backward");
}

// ---------- modulation: y = x·(1 + s) + h ----------

__global__ void k_modulate(bc4 g, const float *__restrict__ x, const float *__restrict__ s, const float *__restrict__ h,
                           float *__restrict__ y, int64_t n) {
    GS_LOOP(i, n) {
        int64_t c[4];
        coords(i, g.out, c);
        int64_t is = c[0] * g.sb[0] + c[1] * g.sb[1] + c[2] * g.sb[2] + c[3] * g.sb[3];
        y[i] = x[i] * (1.0f + s[is]) + h[is];
    }
}

static void op_modulate_fwd(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *h, float *y) {
    CU_ENTER(d);
    bc4 b = to_bc4(g);
    int64_t n = b.out[0] * b.out[1] * b.out[2] * b.out[3];
    k_modulate<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(b, x, s, h, y, n);
    CU_LAUNCHED(d, "modulate");
}

static void op_modulate_bwd(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *dy, float *dx,
                            float *ds, float *dh) {
    CU_ENTER(d);
    const char *op = "modulate backward";
    int64_t dense[4];
    dense_strides(g->out, dense);
    if (dx) reduce_grad(d, op, g->out, dense, dy, s, g->sb, dx, 1.0f, 1.0f);
    if (ds) reduce_grad(d, op, g->out, g->sb, dy, x, dense, ds, 1.0f, 0.0f);
    if (dh) reduce_grad(d, op, g->out, g->sb, dy, NULL, k_dense_zero, dh, 1.0f, 0.0f);
}

// ---------- fill, backward seed ----------

__global__ void k_fill(float *p, int64_t n, float v) {
    GS_LOOP(i, n) p[i] = v;
}

__global__ void k_seed(float *__restrict__ g, const float *__restrict__ dout, const float *__restrict__ scale, int64_t n) {
    float s = scale ? *scale : 1.0f;
    GS_LOOP(i, n) g[i] += (dout ? dout[i] : 1.0f) * s;
}

static void op_fill(ds_device *d, float *p, int64_t n, float v) {
    CU_ENTER(d);
    k_fill<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(p, n, v);
    CU_LAUNCHED(d, "fill");
}

static void op_seed_grad(ds_device *d, float *g, const float *dout, const float *scale, int64_t n) {
    CU_ENTER(d);
    k_seed<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(g, dout, scale, n);
    CU_LAUNCHED(d, "backward seed");
}

// ---------- Fourier features (ops/embed.c; the rounding order of the PyTorch expressions) ----------

#define TWO_PI_F 6.2831853071795864769f
#define PI_F 3.14159265358979323846f

__device__ __forceinline__ float fangle(float t, float w, int kind) {
    return kind == 0 ? __fmul_rn(__fmul_rn(TWO_PI_F, t), w) : __fmul_rn(__fmul_rn(__fmul_rn(t, w), 2.0f), PI_F);
}

__global__ void k_fourier(int kind, const float *__restrict__ t, const float *__restrict__ w, float *__restrict__ y,
                          int64_t B, int64_t F) {
    int64_t W = kind == 0 ? 2 * F : 2 * F + 1;
    GS_LOOP(i, B * F) {
        int64_t b = i / F, j = i % F;
        float tb = t[b], f = fangle(tb, w[j], kind);
        float sn, cs;
        sincosf(f, &sn, &cs);
        float *o = y + b * W;
        if (kind == 0) {
            o[j] = cs;
            o[F + j] = sn;
        } else {
            if (j == 0) o[0] = tb;
            o[1 + j] = sn;
            o[1 + F + j] = cs;
        }
    }
}

// One block per batch item for dt (a sum over j) and one thread per j for dw (a sum over b).
__global__ void k_fourier_bwd_t(int kind, const float *__restrict__ t, const float *__restrict__ w,
                                const float *__restrict__ dy, float *__restrict__ dt, int64_t F) {
    __shared__ float sh[32];
    int64_t b = blockIdx.x, W = kind == 0 ? 2 * F : 2 * F + 1;
    const float *g = dy + b * W;
    float tb = t[b], s = 0.0f;
    for (int64_t j = threadIdx.x; j < F; j += blockDim.x) {
        float sn, cs, f = fangle(tb, w[j], kind);
        sincosf(f, &sn, &cs);
        float df = kind == 0 ? -sn * g[j] + cs * g[F + j] : cs * g[1 + j] - sn * g[1 + F + j];
        s += df * TWO_PI_F * w[j];
    }
    s = cu_block_sum(s, sh);
    if (threadIdx.x == 0) dt[b] += s + (kind == 1 ? g[0] : 0.0f);
}

__global__ void k_fourier_bwd_w(int kind, const float *__restrict__ t, const float *__restrict__ w,
                                const float *__restrict__ dy, float *__restrict__ dw, int64_t B, int64_t F) {
    int64_t W = kind == 0 ? 2 * F : 2 * F + 1;
    GS_LOOP(j, F) {
        float s = 0.0f;
        for (int64_t b = 0; b < B; b++) {
            const float *g = dy + b * W;
            float tb = t[b], sn, cs, f = fangle(tb, w[j], kind);
            sincosf(f, &sn, &cs);
            float df = kind == 0 ? -sn * g[j] + cs * g[F + j] : cs * g[1 + j] - sn * g[1 + F + j];
            s += df * TWO_PI_F * tb;
        }
        dw[j] += s;
    }
}

static void op_fourier_fwd(ds_device *d, int kind, const float *t, const float *w, float *y, int64_t B, int64_t F) {
    CU_ENTER(d);
    k_fourier<<<cu_blocks(B * F, 256), 256, 0, cu_stream(d)>>>(kind, t, w, y, B, F);
    CU_LAUNCHED(d, "fourier");
}

static void op_fourier_bwd(ds_device *d, int kind, const float *t, const float *w, const float *dy, float *dt, float *dw,
                           int64_t B, int64_t F) {
    CU_ENTER(d);
    if (dt) {
        k_fourier_bwd_t<<<(unsigned)B, 128, 0, cu_stream(d)>>>(kind, t, w, dy, dt, F);
        if (!CU_LAUNCHED(d, "fourier backward")) return;
    }
    if (dw) {
        k_fourier_bwd_w<<<cu_blocks(F, 128), 128, 0, cu_stream(d)>>>(kind, t, w, dy, dw, B, F);
        CU_LAUNCHED(d, "fourier backward");
    }
}

// ---------- MSE ----------

// One block; double accumulation of (a − b)² and of the count (as the CPU's loop).
__global__ void k_mse(const float *__restrict__ a, const float *__restrict__ b, const float *__restrict__ mask,
                      float *__restrict__ y, float *__restrict__ count, int64_t n, int64_t C, int64_t T) {
    __shared__ double sh[32];
    double s = 0.0, cn = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        if (mask && mask[(i / (C * T)) * T + i % T] == 0.0f) continue;
        double e = (double)a[i] - (double)b[i];
        s += e * e;
        cn += 1.0;
    }
    s = cu_block_sum(s, sh);
    cn = cu_block_sum(cn, sh);
    if (threadIdx.x == 0) {
        y[0] = cn > 0 ? (float)(s / cn) : 0.0f;
        count[0] = (float)(cn > 0 ? cn : 1.0);
    }
}

__global__ void k_mse_bwd(const float *__restrict__ a, const float *__restrict__ b, const float *__restrict__ mask,
                          const float *__restrict__ count, const float *__restrict__ dy, float *__restrict__ da,
                          float *__restrict__ db, int64_t n, int64_t C, int64_t T) {
    float g = dy[0] * 2.0f / count[0];
    GS_LOOP(i, n) {
        if (mask && mask[(i / (C * T)) * T + i % T] == 0.0f) continue;
        float e = g * (a[i] - b[i]);
        if (da) da[i] += e;
        if (db) db[i] -= e;
    }
}

static void op_mse_fwd(ds_device *d, const float *a, const float *b, const float *mask, float *y, float *count, int64_t n,
                       int64_t C, int64_t T) {
    CU_ENTER(d);
    k_mse<<<1, 1024, 0, cu_stream(d)>>>(a, b, mask, y, count, n, C, T);
    CU_LAUNCHED(d, "mse");
}

static void op_mse_bwd(ds_device *d, const float *a, const float *b, const float *mask, const float *count,
                       const float *dy, float *da, float *db, int64_t n, int64_t C, int64_t T) {
    CU_ENTER(d);
    k_mse_bwd<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(a, b, mask, count, dy, da, db, n, C, T);
    CU_LAUNCHED(d, "mse backward");
}

// ---------- CFG rescale (models/cfg.c) ----------

__device__ float std_c(const float *x, int64_t b, int64_t t, int64_t C, int64_t T) {
    double s = 0, ss = 0;
    for (int64_t ch = 0; ch < C; ch++) s += x[(b * C + ch) * T + t];
    double mean = s / (double)C;
    for (int64_t ch = 0; ch < C; ch++) {
        double e = x[(b * C + ch) * T + t] - mean;
        ss += e * e;
    }
    return (float)sqrt(ss / (double)(C > 1 ? C - 1 : 1));
}

__global__ void k_cfg_rescale(const float *__restrict__ cond, const float *__restrict__ raw, float *__restrict__ y,
                              int64_t B, int64_t C, int64_t T, float phi) {
    GS_LOOP(i, B * T) {
        int64_t b = i / T, t = i % T;
        float sc = std_c(cond, b, t, C, T), sg = std_c(raw, b, t, C, T);
        for (int64_t ch = 0; ch < C; ch++) {
            int64_t k = (b * C + ch) * T + t;
            float cfg = raw[k];
            y[k] = phi * (cfg * (sc / sg)) + (1.0f - phi) * cfg;
        }
    }
}

static void op_cfg_rescale(ds_device *d, const float *cond, const float *raw, float *y, int64_t B, int64_t C, int64_t T,
                           float phi) {
    CU_ENTER(d);
    k_cfg_rescale<<<cu_blocks(B * T, 128), 128, 0, cu_stream(d)>>>(cond, raw, y, B, C, T, phi);
    CU_LAUNCHED(d, "cfg rescale");
}

void cu_fill_elementwise_ops(ds_dev_ops *o) {
    o->binary_fwd = op_binary_fwd;
    o->binary_bwd = op_binary_bwd;
    o->bcast_fwd = op_bcast_fwd;
    o->bcast_bwd = op_bcast_bwd;
    o->unary_fwd = op_unary_fwd;
    o->unary_bwd = op_unary_bwd;
    o->swiglu_fwd = op_swiglu_fwd;
    o->swiglu_bwd = op_swiglu_bwd;
    o->modulate_fwd = op_modulate_fwd;
    o->modulate_bwd = op_modulate_bwd;
    o->fill = op_fill;
    o->seed_grad = op_seed_grad;
    o->fourier_fwd = op_fourier_fwd;
    o->fourier_bwd = op_fourier_bwd;
    o->mse_fwd = op_mse_fwd;
    o->mse_bwd = op_mse_bwd;
    o->cfg_rescale = op_cfg_rescale;
}
