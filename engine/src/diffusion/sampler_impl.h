/* Internals shared by the sampler families (sampler.c, sampler_k.c, sampler_dpm.c,
 * sampler_vrf.c). Not for use outside engine/src/diffusion/. */
#ifndef DS_SAMPLER_IMPL_H
#define DS_SAMPLER_IMPL_H

#include "diffusion/sampler.h"

/* One sampler run: parameters, sizes, counters. */
typedef struct ds_srun {
    const ds_sampler_params *p;
    int64_t B, C, T, n; /* n = B·C·T */
    int nfe;            /* model evaluations so far */
    int n_steps;        /* steps planned (0: unknown) */
    float *tb;          /* [B] backbone time vector */
    ds_err *err;
} ds_srun;

/* count buffers of n floats each (NULLs on failure, with err set). */
ds_status ds_srun_alloc(ds_srun *r, int count, float **bufs);
void ds_srun_free(int count, float **bufs);

/* Model / denoiser evaluation, counted. */
ds_status ds_srun_model(ds_srun *r, const ds_model_fn *f, const float *x, double t, float *out, float *out_uncond);
ds_status ds_srun_denoise(ds_srun *r, const ds_denoiser *d, const float *x, double sigma, float *out);
/* SAT's callback point of step i (where SAT calls `callback`): the step callback. */
void ds_srun_step(ds_srun *r, int i, double progress, double sigma, const float *x, const float *denoised);
/* Between steps (before step i's first model call): DS_ERR_CANCELLED if the flag is set. */
ds_status ds_srun_check(ds_srun *r, int i);
/* z [n] ~ N(0, I) from p->rng. */
ds_status ds_srun_noise(ds_srun *r, float *z);

/* The families. x holds the start state (and is clobbered); the result goes to out. */
ds_status ds_run_k(ds_srun *r, const ds_denoiser *d, float *x, float *out);
ds_status ds_run_dpm_fast(ds_srun *r, const ds_denoiser *d, float *x, float *out);
ds_status ds_run_dpm_adaptive(ds_srun *r, const ds_denoiser *d, float *x, float *out);
ds_status ds_run_v(ds_srun *r, const ds_model_fn *f, float *x, float *out);
ds_status ds_run_rf(ds_srun *r, const ds_model_fn *f, float *x, float *out);

/* Effective sigma_max of the v / rf families: min(sigma_max, 1). */
static inline double ds_unit_sigma_max(const ds_sampler_params *p) { return p->sigma_max > 1.0 ? 1.0 : p->sigma_max; }

#endif
