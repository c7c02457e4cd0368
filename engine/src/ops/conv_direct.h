/* Direct stride-1 convolution kernels for one channel group (ops/conv_direct.c), used by
 * ops/conv.c. Rows are channels; x rows have T valid samples (zero outside) at stride ldx.
 * Not part of the op API. */
#ifndef DS_CONV_DIRECT_H
#define DS_CONV_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

/* Floats needed to pack a [Co, Ci, K] weight (outputs rounded up to the block size). */
int64_t ds_convd_packed_size(int64_t Co, int64_t Ci, int64_t K);
/* Packs outputs [o_begin, o_end) (o_begin a multiple of ds_convd_pack_block()) of the weight
 * whose element (o, i, k) is w[o·so + i·si + k·sk] (k → K−1−k when flip) into the layout
 * ds_convd_fwd reads; wp is the whole packed weight. */
void ds_convd_pack(const float *w, int64_t so, int64_t si, int64_t sk, int64_t Co, int64_t Ci, int64_t K, bool flip,
                   int64_t o_begin, int64_t o_end, float *wp);
/* Outputs per packed block. */
int64_t ds_convd_pack_block(void);
/* y[o, n] = init + Σ_{i, k} w[o, i, k] · x[i, n + k·dil − pad] for o < Co, n in [n_begin, n_end);
 * init = y[o, n] when accumulate, else bias[o] (0 if bias is NULL). y rows at stride ldy. */
void ds_convd_fwd(const float *wp, const float *bias, const float *x, int64_t ldx, int64_t T, float *y, int64_t ldy,
                  int64_t Co, int64_t Ci, int64_t K, int dil, int pad, int64_t n_begin, int64_t n_end, bool accumulate);
/* dw[o, i, k] += Σ_{n in [n_begin, n_end)} dy[o, n] · x[i, n + k·dil − pad]; dw is [Co, Ci, K]. */
void ds_convd_dw(const float *dy, int64_t ldy, const float *x, int64_t ldx, int64_t T, float *dw, int64_t Co,
                 int64_t Ci, int64_t K, int dil, int pad, int64_t n_begin, int64_t n_end);

#endif
