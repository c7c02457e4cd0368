/* Helpers shared by the CPU op implementations (not part of the op API). */
#ifndef DS_KERNELS_H
#define DS_KERNELS_H

#include <stdint.h>

/* db[n] += Σ_r dy[r, n] for dy [M, N] (threaded over columns). */
void ds_colsum_add(float *db, const float *dy, int64_t M, int64_t N);

/* Broadcast geometry of two same-ndim shapes, padded to 4 dims. */
typedef struct ds_bcast {
    int64_t out[4];
    int64_t sa[4], sb[4]; /* element strides of a and b (0 on broadcast dims) */
} ds_bcast;

#endif
