/* Every sampler SAT uses (sat-spec §5, §6), on flat float32 buffers, behind callbacks.
 *
 * A sampler never sees a network: the v-DDIM and rectified-flow samplers call a model fn
 * F(x, t) (denoiser.h), the k-diffusion samplers a denoiser D(x, sigma), which ds_sample
 * builds from F with k-diffusion's VDenoiser. The same code therefore runs any backbone
 * with any CFG setting (CFG happens inside F) and, in the tests, analytic denoisers.
 *
 * Names are SAT's sampler_type strings:
 *   v objective, sample_k:   v-ddim, v-ddim-cfgpp                    (sample(), §5.3)
 *                            dpmpp-3m-sde (the UI default), dpmpp-2m-sde (sample_k's default),
 *                            dpmpp-2m, k-heun, k-lms, k-dpmpp-2s-ancestral, k-dpm-2,
 *                            k-dpm-fast, k-dpm-adaptive              (k-diffusion 0.1.1, §5.2)
 *   rectified_flow / rf_denoiser, sample_rf: euler, rk4, dpmpp, pingpong (§5.4)
 * ("rf-euler" etc. are accepted for the RF ones, as the fixtures name them.)
 *
 * Reproducibility (sat-spec §5.5): torch's generator cannot be reproduced, so stochastic
 * samplers (dpmpp-2m-sde, dpmpp-3m-sde, k-dpmpp-2s-ancestral, pingpong, v-ddim with eta > 0)
 * draw their fresh Gaussian noise from params.rng: one ds_rng_normal_fill of the whole
 * [B, C, T] buffer per noise term, in step order. SAT's SDE samplers use a Brownian tree
 * whose increments over a fixed schedule are iid N(0, I): the same distribution. A seed
 * therefore reproduces a render bit for bit on one build and machine.
 *
 * The step callback receives what SAT's `callback` receives ('x', 'denoised', 'i'); which x
 * that is follows SAT per sampler (k-diffusion, rf dpmpp, pingpong: x before step i;
 * v-ddim: x after step i, unchanged at the last step; rf euler and rk4: x after step i).
 * Cancellation is cooperative: *cancel is read after every step's callback; a set flag
 * ends the run with DS_ERR_CANCELLED before the next model call. */
#ifndef DS_SAMPLER_H
#define DS_SAMPLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "diffusion/denoiser.h"
#include "engine/config.h"
#include "engine/status.h"

typedef enum ds_sampler_kind {
    DS_SAMPLER_V_DDIM,
    DS_SAMPLER_V_DDIM_CFGPP,
    DS_SAMPLER_DPMPP_3M_SDE,
    DS_SAMPLER_DPMPP_2M_SDE,
    DS_SAMPLER_DPMPP_2M,
    DS_SAMPLER_K_HEUN,
    DS_SAMPLER_K_LMS,
    DS_SAMPLER_K_DPMPP_2S_ANCESTRAL,
    DS_SAMPLER_K_DPM_2,
    DS_SAMPLER_K_DPM_FAST,
    DS_SAMPLER_K_DPM_ADAPTIVE,
    DS_SAMPLER_RF_EULER,
    DS_SAMPLER_RF_RK4,
    DS_SAMPLER_RF_DPMPP,
    DS_SAMPLER_RF_PINGPONG,
    DS_SAMPLER_COUNT
} ds_sampler_kind;

typedef enum ds_sampler_family {
    DS_SFAM_V,  /* v-DDIM: model fn, t = linspace(sigma_max, 0) */
    DS_SFAM_K,  /* k-diffusion: VDenoiser over the model fn, polyexponential sigmas */
    DS_SFAM_RF, /* rectified flow: model fn (velocity), t grid in [0, 1] */
} ds_sampler_family;

/* Which t grid the RF samplers walk (sat-spec §5.4, §6, pitfall 16). */
typedef enum ds_rf_grid {
    DS_RF_GRID_AUTO,   /* as sample_rf: logSNR for euler/dpmpp/pingpong, linear for rk4 */
    DS_RF_GRID_LOGSNR, /* sigmoid(−linspace(lambda_max, 2)); dist_shift is not applied */
    DS_RF_GRID_LINEAR, /* linspace(sigma_max, 0) then dist_shift (the RF Euler demo) */
} ds_rf_grid;

/* One step, as SAT's sampler callback sees it. Pointers are valid during the call only. */
typedef struct ds_sample_step {
    int i;             /* SAT's 'i' */
    int n;             /* steps planned (0 where unknown: k-dpm-adaptive) */
    double progress;   /* fraction of the schedule done, 0..1 (for a progress bar) */
    double sigma;      /* noise level of the step: k sigma; v/rf t */
    int nfe;           /* model evaluations so far */
    const float *x;    /* [B, C, T] SAT's 'x' (before or after the step, see above) */
    const float *denoised; /* [B, C, T] SAT's 'denoised' */
} ds_sample_step;

typedef struct ds_sampler_params {
    ds_sampler_kind kind;
    int steps;        /* 100 (sample_k / sample_rf); k-dpm-fast: the NFE budget */
    double sigma_min; /* 0.01: k-diffusion schedule, k-dpm-fast/adaptive end point */
    double sigma_max; /* 100 (k); v and rf clamp it to 1 and read it as a t. Variations
                         (init != NULL) pass init_noise_level here, as generate does */
    double rho;       /* 1: polyexponential exponent */
    double eta;       /* v-ddim 0 (sample_k passes 0; the demo too); SDE / ancestral 1 */
    double s_noise;   /* 1 */
    double rtol, atol; /* k-dpm-adaptive: 0.01 and 0.01, what SAT passes */
    ds_rf_grid rf_grid;
    /* v-ddim and the linear RF grid only (SAT's demos / rk4): NULL or !present = none. */
    const ds_dist_shift_config *dist_shift;
    ds_rng *rng; /* noise of stochastic samplers (and of ds_render when it draws noise) */
    void (*on_step)(void *user, const ds_sample_step *s);
    void *user;
    const atomic_int *cancel; /* nonzero: stop between steps */
} ds_sampler_params;

/* SAT's defaults for a sampler (sat-spec §5.6, sample_k / sample_rf signatures). */
ds_sampler_params ds_sampler_defaults(ds_sampler_kind kind);
/* The training demo's sampler for an objective (sat-spec §6, pitfall 16): v -> v-ddim, eta 0,
 * t = linspace(1, 0) then dist_shift; rectified_flow -> euler on the LINEAR grid then
 * dist_shift; rf_denoiser -> pingpong on sigmoid(−linspace(−6, 2)) (the logSNR grid at
 * sigma_max 1; SAT hands it explicit sigmas, so no shift). shift may be NULL. Pair it with
 * ds_call_opts_demo (render.h). The caller sets rng (pingpong), on_step and cancel. */
ds_sampler_params ds_sampler_demo(ds_objective obj, int steps, const ds_dist_shift_config *shift);

const char *ds_sampler_name(ds_sampler_kind kind);
ds_sampler_family ds_sampler_family_of(ds_sampler_kind kind);
/* True for the samplers that can serve a model of this objective. */
bool ds_sampler_fits(ds_sampler_kind kind, ds_objective obj);
/* True when params draw noise (a ds_rng is then required). */
bool ds_sampler_is_stochastic(const ds_sampler_params *p);
/* The valid names, comma-separated, for one objective (obj != NULL) or all; returns buf. */
const char *ds_sampler_names(const ds_objective *obj, char *buf, size_t n);
/* Parses a SAT sampler_type; obj (optional) restricts to the samplers of that objective.
 * Unknown or unfit names fail with DS_ERR_INVALID listing the valid names. */
ds_status ds_sampler_parse(const char *name, const ds_objective *obj, ds_sampler_kind *out, ds_err *err);

/* The schedule the sampler walks, for inspection and the fixtures: v-ddim: t [steps];
 * k samplers with a fixed grid: sigmas [steps + 1]; rf: t [steps + 1]. length is the
 * latent length T (for dist_shift). out holds steps + 1 doubles. Returns the count
 * (0 for k-dpm-fast / k-dpm-adaptive, which pick their own points). */
int ds_sampler_schedule(const ds_sampler_params *p, int64_t length, double *out);

/* Runs a sampler from noise (and init, the variation's start latents, or NULL) to out,
 * all [B, C, T]. out may alias neither input. v and rf samplers call f as is; k samplers
 * call it through a VDenoiser. */
ds_status ds_sample(const ds_model_fn *f, const ds_sampler_params *p, int64_t B, int64_t C, int64_t T,
                    const float *noise, const float *init, float *out, ds_err *err);
/* A k-diffusion sampler over a ready denoiser (e.g. an analytic one). Same start as
 * sample_k: x = noise·sigmas[0] (+ init). */
ds_status ds_sample_k(const ds_denoiser *d, const ds_sampler_params *p, int64_t B, int64_t C, int64_t T,
                      const float *noise, const float *init, float *out, ds_err *err);

#endif
