/* Classifier-free guidance combination shared by the backbones (sat-spec §2.1.8, §2.3.4):
 *   cfg = uncond + (cond − uncond)·scale
 *   rescaled = phi·cfg·(std₁(cond)/std₁(cfg)) + (1 − phi)·cfg
 * std₁ is torch.std over dim 1 (channels) at every (b, t): unbiased (n − 1).
 * The combination is recorded on the tape (gradients flow through guided outputs); the
 * rescale is inference-only and asserts that no gradient is requested through it.
 * Where the std is undefined or zero — one channel (n − 1 = 0), or a constant column — SAT
 * divides 0 by 0 and returns NaN; diffstudio leaves those positions unrescaled (ratio 1),
 * which is what the formula tends to when the two stds agree. */
#include <math.h>

#include "core/assert.h"
#include "device/dispatch.h"
#include "models/model.h"
#include "ops/ops.h"

static void std_over_channels(const float *x, int64_t B, int64_t C, int64_t T, float *out) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            double s = 0, ss = 0;
            for (int64_t ch = 0; ch < C; ch++) s += x[(b * C + ch) * T + t];
            double mean = s / (double)C;
            for (int64_t ch = 0; ch < C; ch++) {
                double d = x[(b * C + ch) * T + t] - mean;
                ss += d * d;
            }
            out[b * T + t] = (float)sqrt(ss / (double)(C > 1 ? C - 1 : 1));
        }
}

ds_tensor *ds_cfg_combine(ds_ctx *c, ds_tensor *cond_out, ds_tensor *uncond_out, float scale, float phi) {
    DS_ASSERT(ds_same_shape(cond_out, uncond_out) && cond_out->ndim == 3);
    /* SAT's expression and rounding order: uncond + (cond - uncond) * scale */
    ds_tensor *y = ds_add(c, uncond_out, ds_affine(c, ds_sub(c, cond_out, uncond_out), scale, 0.0f));
    if (phi != 0.0f) {
        DS_ASSERTF(!y->requires_grad, "the CFG rescale (scale_phi) is inference-only");
        ds_tensor *raw = y;
        y = ds_new_like(c, raw);
        int64_t n = ds_numel(y), B = y->shape[0], C = y->shape[1], T = y->shape[2];
        const ds_dev_ops *dv = ds_ops_of(c);
        if (dv) {
            if (!c->dry) dv->cfg_rescale(c->dev, cond_out->data, raw->data, y->data, B, C, T, phi);
            return y;
        }
        float *sc = ds_scratch(c, B * T), *sg = ds_scratch(c, B * T);
        if (c->dry) return y;
        const float *co = cond_out->data;
        for (int64_t i = 0; i < n; i++) y->data[i] = raw->data[i];
        std_over_channels(co, B, C, T, sc);
        std_over_channels(y->data, B, C, T, sg);
        for (int64_t b = 0; b < B; b++)
            for (int64_t ch = 0; ch < C; ch++)
                for (int64_t t = 0; t < T; t++) {
                    int64_t i = (b * C + ch) * T + t;
                    float cfg = y->data[i];
                    float den = sg[b * T + t];
                    float ratio = (C > 1 && den > 0.0f && isfinite(den)) ? sc[b * T + t] / den : 1.0f;
                    float rescaled = cfg * ratio;
                    y->data[i] = phi * rescaled + (1.0f - phi) * cfg;
                }
    }
    return y;
}

ds_tensor *ds_mask_items(ds_ctx *c, ds_tensor *x, const float *keep) {
    int64_t B = x->shape[0];
    int64_t shape[4] = {B, 1, 1, 1};
    ds_tensor *k = ds_new(c, x->ndim, shape);
    float *h = ds_host_begin(c, k);
    if (h && keep)
        for (int64_t b = 0; b < B; b++) h[b] = keep[b];
    ds_host_commit(c, k);
    return ds_mul_bc(c, x, k);
}
