/* Direct (im2col-free) kernels for stride-1 1-D convolution of one channel group.
 *
 * For the short kernels of the U-Nets (3 or 5 taps, 2 to 512 channels, long signals), an
 * im2col copy plus a BLAS call spends as much time copying and packing as multiplying.
 * These kernels keep a block of outputs in registers and stream the input rows:
 *
 *   forward   y[o, n] = init + Σ_i Σ_k w[o, i, k] · x[i, n + k·dil − pad]        (x = 0 outside [0, T))
 *             blocks of 8 outputs × 48 positions: 24 vector accumulators; per (i, k) three
 *             vector loads of x and eight broadcasts of packed weights feed 24 FMAs.
 *   weights   dw[o, i, k] += Σ_n dy[o, n] · x[i, n + k·dil − pad]
 *             on chunks of 1024 positions copied transposed (position-major, one copy of x
 *             and of dy, zero-padded, by 16×16 register transposes): blocks of 8 outputs ×
 *             32 inputs per tap, 16 vector accumulators; per position two vector loads of x
 *             and 8 broadcasts of dy feed 16 FMAs, with no horizontal sums.
 * The input gradient of a stride-1 conv is the forward kernel applied to dy with the
 * flipped kernel (conv.c). Vectors are GCC vector extensions of 16 floats (one AVX-512
 * register; split by the compiler on narrower machines; __builtin_shufflevector needs
 * GCC 12 or Clang); this file is compiled with -ffp-contract=fast so that a·b + c becomes
 * one FMA.
 * Output blocks that run past the edges read a zero-padded copy of the input window and
 * store only their valid part; partial blocks use zero weights or zero-padded channels
 * and drop the extra results. */
#include "ops/conv_direct.h"
#include "ops/ops.h"

#include <string.h>

#include "core/scratch.h"

typedef float vf __attribute__((vector_size(64)));
#define VW 16       /* floats per vector */
#define OB 8        /* forward: outputs per block */
#define NB 3        /* forward: vectors per block along n */
#define NBLK (NB * VW)
#define DO 8        /* weights: outputs per block (broadcast) */
#define DI 2        /* weights: input vectors per block (32 inputs) */
#define DW_CHUNK 1024 /* weights: positions per transposed chunk */

/* Scratch slots inside work items (the calling thread keeps 0 and 1 for packed weights and
 * partial gradients, see conv.c): input windows or transposed x, and transposed dy. */
enum { SLOT_WINDOW = 2, SLOT_DYT = 3 };

static inline vf vload(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }

int64_t ds_convd_packed_size(int64_t Co, int64_t Ci, int64_t K) { return (Co + OB - 1) / OB * OB * Ci * K; }

void ds_convd_pack(const float *w, int64_t so, int64_t si, int64_t sk, int64_t Co, int64_t Ci, int64_t K, bool flip,
                   int64_t o_begin, int64_t o_end, float *wp) {
    for (int64_t o0 = o_begin; o0 < o_end && o0 < Co; o0 += OB)
        for (int64_t i = 0; i < Ci; i++)
            for (int64_t k = 0; k < K; k++) {
                float *dst = wp + ((o0 * Ci + i * OB) * K) + k * OB;
                const float *src = w + i * si + (flip ? K - 1 - k : k) * sk;
                for (int64_t oo = 0; oo < OB; oo++) dst[oo] = o0 + oo < Co ? src[(o0 + oo) * so] : 0.0f;
            }
}

int64_t ds_convd_pack_block(void) { return OB; }

/* One block: 8 outputs × 48 positions, weights packed in wb. The window pointer xw has row
 * stride ldx and is read at xw[i·ldx + k·dil + 0..47]. Initial values come from init
 * (rows at stride ldi; NULL: bias[o], or 0), results go to out (rows at stride ldo).
 * The accumulators are only indexed by constants after unrolling, so they live in
 * registers for the whole reduction over (i, k). */
static void fwd_block(const float *wb, const float *xw, int64_t ldx, int64_t Ci, int64_t K, int dil, const float *init,
                      int64_t ldi, const float *bias, float *out, int64_t ldo) {
    vf acc[OB][NB];
#pragma GCC unroll 8
    for (int oo = 0; oo < OB; oo++)
#pragma GCC unroll 3
        for (int b = 0; b < NB; b++)
            acc[oo][b] = init ? vload(init + oo * ldi + b * VW) : (vf){0} + (bias ? bias[oo] : 0.0f);
    for (int64_t i = 0; i < Ci; i++) {
        const float *xr = xw + i * ldx;
        const float *wi = wb + i * K * OB;
        for (int64_t k = 0; k < K; k++) {
            const float *xk = xr + k * dil;
            vf x0 = vload(xk), x1 = vload(xk + VW), x2 = vload(xk + 2 * VW);
            const float *wk = wi + k * OB;
#pragma GCC unroll 8
            for (int oo = 0; oo < OB; oo++) {
                float wv = wk[oo];
                acc[oo][0] += wv * x0;
                acc[oo][1] += wv * x1;
                acc[oo][2] += wv * x2;
            }
        }
    }
#pragma GCC unroll 8
    for (int oo = 0; oo < OB; oo++)
#pragma GCC unroll 3
        for (int b = 0; b < NB; b++) vstore(out + oo * ldo + b * VW, acc[oo][b]);
}

void ds_convd_fwd(const float *wp, const float *bias, const float *x, int64_t ldx, int64_t T, float *y, int64_t ldy,
                  int64_t Co, int64_t Ci, int64_t K, int dil, int pad, int64_t n_begin, int64_t n_end, bool accumulate) {
    if (n_end > n_begin) ds_flops_add((uint64_t)(2 * Co * Ci * K * (n_end - n_begin)));
    int64_t span = NBLK + (K - 1) * dil; /* input positions one block reads */
    float *win = NULL;
    float tmp[OB * NBLK], bias8[OB];
    for (int64_t n0 = n_begin; n0 < n_end; n0 += NBLK) {
        int64_t nv = n_end - n0 < NBLK ? n_end - n0 : NBLK; /* valid outputs of this block */
        int64_t s0 = n0 - pad;                               /* first input position read */
        const float *xw = x + s0;
        int64_t lx = ldx;
        if (s0 < 0 || s0 + span > T) { /* edge: a zero-padded copy of the window */
            if (!win) win = ds_tls_scratch(SLOT_WINDOW, (size_t)(Ci * span));
            for (int64_t i = 0; i < Ci; i++)
                for (int64_t q = 0; q < span; q++) {
                    int64_t s = s0 + q;
                    win[i * span + q] = s >= 0 && s < T ? x[i * ldx + s] : 0.0f;
                }
            xw = win;
            lx = span;
        }
        for (int64_t o0 = 0; o0 < Co; o0 += OB) {
            int64_t ov = Co - o0 < OB ? Co - o0 : OB;
            float *yb = y + o0 * ldy + n0;
            if (ov == OB && nv == NBLK) { /* a full block: straight from and into y */
                fwd_block(wp + o0 * Ci * K, xw, lx, Ci, K, dil, accumulate ? yb : NULL, ldy,
                          accumulate ? NULL : (bias ? bias + o0 : NULL), yb, ldy);
                continue;
            }
            /* a partial block: through tmp [OB, NBLK] */
            const float *b8 = NULL;
            if (accumulate) {
                memset(tmp, 0, sizeof tmp);
                for (int64_t oo = 0; oo < ov; oo++) memcpy(tmp + oo * NBLK, yb + oo * ldy, (size_t)nv * sizeof(float));
            } else if (bias) {
                for (int64_t oo = 0; oo < OB; oo++) bias8[oo] = oo < ov ? bias[o0 + oo] : 0.0f;
                b8 = bias8;
            }
            fwd_block(wp + o0 * Ci * K, xw, lx, Ci, K, dil, accumulate ? tmp : NULL, NBLK, b8, tmp, NBLK);
            for (int64_t oo = 0; oo < ov; oo++) memcpy(yb + oo * ldy, tmp + oo * NBLK, (size_t)nv * sizeof(float));
        }
    }
}

/* ---------------- transposed copies ---------------- */

/* One butterfly stage of a 16×16 transpose: rows i (bit b clear) and j = i | b swap the
 * upper-right b×b blocks of every 2b×2b block with the lower-left ones:
 *   new_i[l] = l & b ? B[l & ~b] : A[l],   new_j[l] = l & b ? B[l] : A[l | b]. */
#define SH1_LO 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define SH1_HI 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define SH2_LO 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define SH2_HI 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define SH4_LO 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define SH4_HI 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define SH8_LO 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define SH8_HI 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define STAGE(b, LO_, HI_)                                                                   \
    _Pragma("GCC unroll 16") for (int i = 0; i < VW; i++)                                    \
        if (!(i & (b))) {                                                                    \
            vf A = r[i], B = r[i | (b)];                                                     \
            r[i] = __builtin_shufflevector(A, B, LO_);                                       \
            r[i | (b)] = __builtin_shufflevector(A, B, HI_);                                 \
        }

static inline void transpose16(vf r[VW]) {
    STAGE(1, SH1_LO, SH1_HI)
    STAGE(2, SH2_LO, SH2_HI)
    STAGE(4, SH4_LO, SH4_HI)
    STAGE(8, SH8_LO, SH8_HI)
}

/* dst[r, c] = src[c, s0 + r] for r < R, c < C (0 where s0 + r is outside [0, lim)), and 0
 * for c in [C, ldd): src rows at stride lds, dst rows at stride ldd (a multiple of 16). */
static void transpose_rows(const float *src, int64_t lds, int64_t C, int64_t s0, int64_t R, int64_t lim, float *dst,
                           int64_t ldd) {
    int64_t r_lo = s0 < 0 ? -s0 : 0, r_hi = lim - s0 < R ? lim - s0 : R; /* rows with a valid source */
    if (r_hi < r_lo) r_hi = r_lo;
    for (int64_t r = 0; r < R; r++)
        if (r < r_lo || r >= r_hi) memset(dst + r * ldd, 0, (size_t)ldd * sizeof(float));
    int64_t C16 = C / VW * VW, R16 = r_lo + (r_hi - r_lo) / VW * VW;
    for (int64_t r0 = r_lo; r0 < R16; r0 += VW)
        for (int64_t c0 = 0; c0 < C16; c0 += VW) {
            vf t[VW];
#pragma GCC unroll 16
            for (int q = 0; q < VW; q++) t[q] = vload(src + (c0 + q) * lds + s0 + r0);
            transpose16(t);
#pragma GCC unroll 16
            for (int q = 0; q < VW; q++) vstore(dst + (r0 + q) * ldd + c0, t[q]);
        }
    for (int64_t r = r_lo; r < r_hi; r++) { /* the edges: scalar */
        float *d = dst + r * ldd;
        for (int64_t c = r < R16 ? C16 : 0; c < C; c++) d[c] = src[c * lds + s0 + r];
        for (int64_t c = C; c < ldd; c++) d[c] = 0.0f;
    }
}

/* ---------------- weight gradient ---------------- */

/* One block: 8 outputs × 32 inputs for one tap, summed over L positions:
 * out[o, i] = Σ_n dyt[n, o] · xt[n, i], rows of dyt at stride lo, of xt at stride li; out is
 * [DO, 32]. Accumulators stay in registers (constant indices only). */
static void dw_block(const float *dyt, int64_t lo, const float *xt, int64_t li, int64_t L, float *out) {
    vf acc[DO][DI];
#pragma GCC unroll 16
    for (int o = 0; o < DO; o++)
#pragma GCC unroll 4
        for (int q = 0; q < DI; q++) acc[o][q] = (vf){0};
    for (int64_t n = 0; n < L; n++) {
        const float *xr = xt + n * li, *dr = dyt + n * lo;
        vf xv[DI];
#pragma GCC unroll 4
        for (int q = 0; q < DI; q++) xv[q] = vload(xr + q * VW);
#pragma GCC unroll 16
        for (int o = 0; o < DO; o++) {
            float d = dr[o];
#pragma GCC unroll 4
            for (int q = 0; q < DI; q++) acc[o][q] += d * xv[q];
        }
    }
#pragma GCC unroll 16
    for (int o = 0; o < DO; o++)
#pragma GCC unroll 4
        for (int q = 0; q < DI; q++) vstore(out + o * DI * VW + q * VW, acc[o][q]);
}

void ds_convd_dw(const float *dy, int64_t ldy, const float *x, int64_t ldx, int64_t T, float *dw, int64_t Co,
                 int64_t Ci, int64_t K, int dil, int pad, int64_t n_begin, int64_t n_end) {
    if (n_end > n_begin) ds_flops_add((uint64_t)(2 * Co * Ci * K * (n_end - n_begin)));
    int64_t Cop = (Co + DO - 1) / DO * DO, Cip = (Ci + DI * VW - 1) / (DI * VW) * (DI * VW);
    int64_t span = (K - 1) * dil;
    float *xt = ds_tls_scratch(SLOT_WINDOW, (size_t)((DW_CHUNK + span) * Cip));
    float *dyt = ds_tls_scratch(SLOT_DYT, (size_t)(DW_CHUNK * Cop));
    for (int64_t c0 = n_begin; c0 < n_end; c0 += DW_CHUNK) {
        int64_t L = n_end - c0 < DW_CHUNK ? n_end - c0 : DW_CHUNK, R = L + span;
        /* xt[r, i] = x[i, c0 + r − pad] (0 outside [0, T) and for i >= Ci); dyt[n, o] = dy[o, c0 + n] */
        transpose_rows(x, ldx, Ci, c0 - pad, R, T, xt, Cip);
        transpose_rows(dy, ldy, Co, c0, L, n_end, dyt, Cop);
        for (int64_t o0 = 0; o0 < Co; o0 += DO)
            for (int64_t i0 = 0; i0 < Ci; i0 += DI * VW)
                for (int64_t k = 0; k < K; k++) {
                    float out[DO * DI * VW];
                    dw_block(dyt + o0, Cop, xt + k * dil * Cip + i0, Cip, L, out);
                    for (int o = 0; o < DO && o0 + o < Co; o++)
                        for (int i = 0; i < DI * VW && i0 + i < Ci; i++)
                            dw[((o0 + o) * Ci + i0 + i) * K + k] += out[o * DI * VW + i];
                }
    }
}

