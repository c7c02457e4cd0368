/* The two callbacks the samplers see, and the wrapper between them (DESIGN §2 "Diffusion":
 * objective, denoiser wrapper and samplers are independent pieces).
 *
 *   ds_model_fn  F(x, t): the backbone call exactly as SAT makes it, x [B, C, T] and the
 *                backbone time t [B] in, the (CFG-combined) output out. For "v" models the
 *                output is v, for rectified flow it is the velocity. CFG, negative prompts,
 *                cfg_interval and rescale all happen inside this call, as in SAT (sat-spec
 *                §2.1.8, §2.3.4); a sampler never knows about them.
 *   ds_denoiser  D(x, sigma): k-diffusion's denoiser in VE space (x = x0 + sigma·eps),
 *                what every k-diffusion sampler calls. sigma is one scalar for the batch
 *                (k-diffusion always broadcasts sigmas[i]·s_in).
 *   VDenoiser    k_diffusion.external.VDenoiser (sigma_data = 1) turns a v-model F into D:
 *                D(x, sigma) = F(x·c_in, t(sigma))·c_out + x·c_skip. */
#ifndef DS_DENOISER_H
#define DS_DENOISER_H

#include <stdint.h>

#include "engine/status.h"

typedef struct ds_model_fn {
    /* x [B, C, T], t [B]; writes out [B, C, T]. out_uncond is NULL, or [B, C, T] to receive
     * the unconditional output of a CFG call (SAT's info["uncond_output"], used by
     * v-ddim-cfgpp); a call that did no CFG copies out there. The inputs stay unchanged. */
    ds_status (*call)(void *user, const float *x, const float *t, float *out, float *out_uncond, ds_err *err);
    void *user;
} ds_model_fn;

typedef struct ds_denoiser {
    /* x [n]; writes the x0 estimate at noise level sigma > 0 to out [n]. */
    ds_status (*call)(void *user, const float *x, double sigma, float *out, ds_err *err);
    void *user;
} ds_denoiser;

/* VDenoiser scalings (k_diffusion.external.VDenoiser.get_scalings, sigma_data = 1):
 *   c_skip = 1/(sigma² + 1), c_out = −sigma/√(sigma² + 1), c_in = 1/√(sigma² + 1). */
void ds_vdenoiser_scalings(double sigma, double *c_skip, double *c_out, double *c_in);

/* A VDenoiser over a model fn for a batch of B items of n/B values each. Holds its
 * scratch (the scaled input, the model output, the time vector); init allocates them. */
typedef struct ds_vdenoiser {
    ds_model_fn f;
    int64_t B, n;
    float *xin, *vout, *t;
} ds_vdenoiser;

ds_status ds_vdenoiser_init(ds_vdenoiser *v, const ds_model_fn *f, int64_t B, int64_t n, ds_err *err);
void ds_vdenoiser_free(ds_vdenoiser *v);
/* D(x, sigma) backed by v (v must outlive the returned denoiser). */
ds_denoiser ds_vdenoiser_denoiser(ds_vdenoiser *v);

#endif
