/* Per-thread scratch buffers for kernels that need temporary space inside a parallel
 * region (e.g. attention's score tiles). Each thread keeps one growing buffer per slot:
 * steady-state steps reuse it and allocate nothing. Freed when the thread exits. */
#ifndef DS_SCRATCH_H
#define DS_SCRATCH_H

#include <stddef.h>

#define DS_SCRATCH_SLOTS 4

/* A buffer of at least n floats for this thread and slot; contents undefined. Aborts on OOM
 * (sizes are bounded by the model's shapes, checked when the model is planned). */
float *ds_tls_scratch(int slot, size_t n);

#endif
