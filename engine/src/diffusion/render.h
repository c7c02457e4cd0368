/* Rendering with a model: wires a ds_model, its conditioning tensors and SAT's call options
 * into the samplers' model callback (sat-spec §5.1 generate_diffusion_cond, §6 demo).
 *
 * Every backbone call runs ds_model_forward with gradients off in a context owned by the
 * render; the context is reset after each call, so memory stays flat over any number of
 * steps (the first call sizes the arena). The objective decides the time mapping only
 * through the sampler family: k-diffusion samplers go through the VDenoiser (the backbone
 * sees x/√(1+σ²) and t = atan(σ)·2/π, sat-spec pitfall 17); v-ddim and the rectified-flow
 * samplers pass t as is. CFG (scale, negative conditioning, cfg_interval, scale_phi,
 * rescale_cfg, batch_cfg) is the backbone's business: the options ride along unchanged.
 *
 * Threads: one render per thread; the model's parameters are only read. */
#ifndef DS_RENDER_H
#define DS_RENDER_H

#include "diffusion/sampler.h"
#include "models/model.h"

/* Everything a sampler run saw, for the fixtures and debugging. Arrays grow as needed;
 * ds_render empties the recorder first, ds_traj_free releases it. */
typedef struct ds_traj {
    int64_t n, B;            /* values per state (B·C·T), batch */
    int calls, cap_calls;    /* backbone evaluations */
    float *model_in;         /* [calls, B, C, T] backbone input */
    float *model_t;          /* [calls, B] backbone time */
    float *model_out;        /* [calls, B, C, T] (CFG-combined) backbone output */
    int steps, cap_steps;    /* sampler callbacks */
    float *x, *denoised;     /* [steps, B, C, T] SAT's callback 'x' and 'denoised' */
    bool oom;
} ds_traj;

void ds_traj_free(ds_traj *t);

/* What a render cost (optional output). */
typedef struct ds_render_stats {
    int model_calls;      /* backbone evaluations (a batched CFG call counts once) */
    size_t arena_peak;    /* activation bytes of the largest call */
    size_t arena_regrows; /* arena growths: 1 (the first call sizes it), never per step */
    int64_t graph_captures, graph_replays; /* CUDA graphs of the model call (device renders) */
} ds_render_stats;

typedef struct ds_render_args {
    ds_model *model;
    const ds_cond_tensors *cond; /* NULL: unconditional; tensors must outlive the render */
    ds_call_opts call;           /* cfg_scale, batch_cfg, rescale_cfg, scale_phi, cfg_interval;
                                    out_cond / out_uncond are the render's own */
    ds_sampler_params sampler;   /* sampler, steps, schedule, rng, progress, cancel */
    int64_t batch, length;       /* B and the latent length T; C is the model's io_channels */
    const float *noise;          /* [B, C, T], or NULL: drawn from sampler.rng first, as
                                    generate_diffusion_cond draws its noise before anything */
    const float *init;           /* variations: start latents [B, C, T] or NULL; then
                                    sampler.sigma_max plays init_noise_level (§5.1) */
    ds_ctx *ctx;                 /* optional, CPU models only: a context kept by the caller across
                                    renders, so its arena (sized by the first call) is reused
                                    instead of fresh memory being mapped and faulted in each time */
    ds_traj *traj;               /* optional recorder */
    ds_render_stats *stats;      /* optional */
} ds_render_args;

/* Samples out [B, C, T]. Errors: DS_ERR_INVALID (sampler unfit for the model's objective,
 * listing the valid names; bad sizes), DS_ERR_CANCELLED, DS_ERR_NUMERIC (non-finite model
 * output), DS_ERR_NOMEM. */
ds_status ds_render(const ds_render_args *a, float *out, ds_err *err);

/* Call options as SAT's callers set them: generate_diffusion_cond passes batch_cfg=True
 * and rescale_cfg=True (ADP then rescales with phi 0.4; the DiT only with scale_phi); the
 * training demo passes batch_cfg=True and no rescale. */
ds_call_opts ds_call_opts_generate(float cfg_scale);
ds_call_opts ds_call_opts_demo(float cfg_scale);

#endif
