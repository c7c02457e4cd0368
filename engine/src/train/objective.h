/* Diffusion objectives and SAT's timestep samplers (sat-spec §4.1-4.3).
 *   v:                α = cos(tπ/2), σ = sin(tπ/2), target = α·ε − σ·x0
 *   rectified_flow / rf_denoiser: α = 1 − t, σ = t, target = ε − x0
 *   x_t = α·x0 + σ·ε;  t = 0 clean, t = 1 pure noise. */
#ifndef DS_OBJECTIVE_H
#define DS_OBJECTIVE_H

#include <stdint.h>

#include "core/rng.h"
#include "engine/config.h"

/* α, σ of each t[B] (float32, SAT's rounding: cos((t·π)/2)). */
void ds_alphas_sigmas(ds_objective obj, const float *t, int64_t B, float *alpha, float *sigma);
/* x_t[B, N] and target[B, N] from x0, noise (N = C·T per item). */
void ds_noise_and_target(ds_objective obj, const float *x0, const float *noise, const float *alpha,
                         const float *sigma, int64_t B, int64_t N, float *xt, float *target);
/* The noise level logged per item: σ = sin(tπ/2) for v, t for RF. */
float ds_noise_level(ds_objective obj, float t);

/* Scrambled 1-D Sobol points (van der Corput in base 2 with a random digital shift): the
 * low-discrepancy uniform sampler SAT uses (torch SobolEngine(1, scramble=True)). The state is
 * the index, so a resumed run continues the same sequence. */
typedef struct ds_sobol {
    uint32_t shift;
    uint64_t index;
} ds_sobol;
void ds_sobol_init(ds_sobol *s, ds_rng *r);
float ds_sobol_next(ds_sobol *s);

/* Draws t[B] with the configured sampler (uniform via Sobol, logit_normal, trunc_logit_normal,
 * log_snr), then applies p_one_shot. */
void ds_sample_timesteps(const ds_training_config *tc, ds_sobol *sobol, ds_rng *r, int64_t B, float *t);

/* Standard normal CDF and its inverse (double). */
double ds_norm_cdf(double x);
double ds_norm_icdf(double p);

#endif
