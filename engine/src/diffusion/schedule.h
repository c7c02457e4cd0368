/* Noise/time schedules of SAT's samplers (sat-spec §4.3, §5.2-5.4, §6), in double.
 *
 * Pure functions of their arguments: no allocation, no model, no state. The caller owns
 * every output array and sizes it as each function says. SAT builds these as float32
 * torch tensors; computing them in double differs by at most one float32 rounding, far
 * below the fixtures' 1e-4 tolerance, and the samplers' coefficients come out cleaner.
 *
 * Vocabulary: "sigma" is k-diffusion's VE noise level (x = x0 + sigma·eps, sigma_min 0.01
 * to sigma_max 100 by default); "t" is the diffusion time in [0, 1] the backbone sees (v:
 * alpha = cos(t·pi/2), sigma = sin(t·pi/2); rectified flow: alpha = 1 − t, sigma = t). */
#ifndef DS_SCHEDULE_H
#define DS_SCHEDULE_H

#include <math.h>
#include <stdint.h>

#include "engine/config.h"

/* torch.linspace(a, b, n) in double, with torch's symmetric formula (the first half counts
 * up from a, the second half down from b, so both ends are exact). n >= 1; n == 1 gives a. */
void ds_linspace(double a, double b, int n, double *out);

/* k_diffusion.sampling.get_sigmas_polyexponential(steps, sigma_min, sigma_max, rho):
 *   ramp = linspace(1, 0, steps)^rho;  s_i = exp(ramp_i·(ln sigma_max − ln sigma_min) + ln sigma_min)
 * then a trailing 0. out has steps + 1 entries. rho = 1 is log-uniform.
 * (5, 0.03, 500, 1) = [500, 44.0056, 3.87298, 0.340866, 0.03, 0]. */
void ds_sched_polyexponential(int steps, double sigma_min, double sigma_max, double rho, double *out);

/* v-DDIM (inference.sampling.sample): t = linspace(t_max, 0, steps + 1)[:-1] (steps values,
 * the final t = 0 is never evaluated), then the distribution shift when given. */
void ds_sched_vddim(int steps, double t_max, const ds_dist_shift_config *shift, int64_t length, double *t);

/* Rectified flow, sample_rf's logSNR-linear grid (also the rf_denoiser demo grid at
 * t_max = 1): lambda_max = ln((1 − t_max)/t_max + 1e-6) if t_max < 1 else −6;
 * t = sigmoid(−linspace(lambda_max, 2, steps + 1)); t[0] = t_max; t[steps] = 0.
 * out has steps + 1 entries. steps 8, t_max 1: 1, .993307, .982014, .952574, .880797,
 * .731059, .5, .268941, 0. */
void ds_sched_rf_logsnr(int steps, double t_max, double *t);

/* Linear grid of sample_discrete_euler / sample_rk4 / the RF demo: t = linspace(t_max, 0,
 * steps + 1), then the distribution shift when given. out has steps + 1 entries. */
void ds_sched_linear(int steps, double t_max, const ds_dist_shift_config *shift, int64_t length, double *t);

/* DistributionShift.time_shift(t, length) (sat-spec §4.3), SD3-style shift towards noise:
 *   L' = clamp(L, min_length, max_length)     (as sat-spec §4.3 reads SAT 50049e3; older SAT
 *                                               extrapolated linearly outside the range)
 *   mu = −(base + (max − base)·(L' − min_length)/(max_length − min_length))
 *   t' = 1 − e^mu / (e^mu + 1/(1 − t) − 1)        (t = 1 stays 1, t = 0 stays 0)
 *   use_sine: t' = sin(t'·pi/2).
 * shift NULL or !shift->present: t unchanged. */
double ds_dist_shift_time(const ds_dist_shift_config *shift, double t, int64_t length);

/* VDenoiser's sigma -> backbone t: atan(sigma)·2/pi (sigma 1 -> 0.5, 100 -> 0.99363). */
static inline double ds_sigma_to_vt(double sigma) {
    return atan(sigma) / M_PI * 2.0; /* torch: sigma.atan() / math.pi * 2 */
}

#endif
