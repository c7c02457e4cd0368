/* The end of a training step's gradient statistics and torch's GradScaler update, shared by
 * the host (the CPU stand-in, unit tests) and the CUDA kernel that runs them on the device
 * inside a captured step (one implementation, tested on the CPU).
 *
 * GradScaler (torch.cuda.amp, as Lightning's "16-mixed" uses it): init_scale 2^16,
 * growth_factor 2 every growth_interval 2000 consecutive clean steps, backoff_factor 0.5 and
 * a skipped optimiser step on any inf/NaN gradient (torch._amp_update_scale_). */
#ifndef DS_SCALER_H
#define DS_SCALER_H

#include <math.h>
#include <stdint.h>

#include "device/backend.h"

#ifdef __CUDACC__
#define DS_HD __host__ __device__
#else
#define DS_HD
#endif

#define DS_SCALER_INIT 65536.0f
#define DS_SCALER_GROWTH_INTERVAL 2000

static inline DS_HD void ds_scaler_update(float *scale, int32_t *tracker, int found_inf) {
    if (found_inf) {
        *scale *= 0.5f;
        *tracker = 0;
        return;
    }
    int32_t ok = *tracker + 1;
    if (ok == DS_SCALER_GROWTH_INTERVAL) {
        float grown = *scale * 2.0f;
        if (isfinite(grown)) *scale = grown;
        *tracker = 0;
    } else {
        *tracker = ok;
    }
}

/* From st->grad_sumsq and st->loss: the unscaled norm, the skip decision (non-finite loss or
 * norm, as train/trainer.c decides on the CPU), the factor AdamW applies to g (unscale ×
 * Lightning's clip coefficient max/(norm + 1e-6) when norm > max), then the scaler update. */
static inline DS_HD void ds_step_finish(ds_step_state *st, const ds_step_scalars *sc) {
    float scale = sc->scaler ? st->loss_scale : 1.0f;
    st->scale_used = scale;
    double norm = sqrt(st->grad_sumsq) / (double)scale;
    st->grad_norm = (float)norm;
    st->found_inf = !(isfinite(st->loss) && isfinite(norm));
    float coef = 1.0f;
    if (sc->max_norm > 0.0f && norm > (double)sc->max_norm) coef = (float)((double)sc->max_norm / (norm + 1e-6));
    st->gscale = (sc->scaler ? 1.0f / scale : 1.0f) * coef;
    if (sc->scaler) ds_scaler_update(&st->loss_scale, &st->growth_tracker, st->found_inf);
}

#endif
