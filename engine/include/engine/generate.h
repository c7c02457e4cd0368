/* Generation from a trained model (`diffstudio sample`) and checkpoint export
 * (`diffstudio export`): the engine side of SAT's generate_diffusion_cond and
 * unwrap_model.py, for callers that only see the public API. */
#ifndef DS_GENERATE_H
#define DS_GENERATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/batch.h"
#include "engine/config.h"
#include "engine/status.h"

/* Where weights come from: a run directory (its newest checkpoint), a checkpoint directory,
 * or a safetensors file with SAT key names (an exported model, or SAT's own). Fills path
 * with the checkpoint directory or file it resolved to. */
ds_status ds_resolve_weights(const char *source, char *path, size_t n, bool *is_checkpoint_dir, ds_err *err);

typedef struct ds_generate_opts {
    const ds_model_config *cfg;
    const char *weights;   /* run dir, checkpoint dir or safetensors file */
    bool use_ema;          /* checkpoints: the EMA backbone (default true) */
    const char *sampler;   /* SAT sampler_type; NULL: the objective's default */
    int steps;             /* 0: the sampler's default for generation */
    double cfg_scale;      /* <= 0: SAT's generation default (7; 1 for rf_denoiser) */
    double sigma_min, sigma_max; /* 0: defaults (0.01, 100) */
    double scale_phi;      /* DiT CFG rescale (0 = off); ADP: 0.4 when < 0 */
    uint64_t seed;
    int batch;             /* items (>= 1) */
    int64_t sample_size;   /* audio frames; 0: the config's sample_size */
    const ds_meta *cond;   /* [batch] metadata per item (conditioned models) */
    const ds_meta *negative; /* [batch] or NULL */
    int threads;
    const atomic_int *cancel;
    void (*progress)(void *user, int step, int steps);
    void *user;
    const char *device;    /* NULL or "cpu"; "cuda": the model runs on the GPU */
    const char *precision; /* on a device: "32" (default), "bf16-mixed", "16-mixed" */
} ds_generate_opts;

/* audio [batch][channels][frames] planar per item, malloc'd; free with free(). */
typedef struct ds_generate_result {
    float *audio;
    int batch, channels, sample_rate;
    int64_t frames;
    char sampler[48];
    int steps;
    double cfg_scale;
} ds_generate_result;

ds_status ds_generate(const ds_generate_opts *o, ds_generate_result *r, ds_err *err);

/* unwrap_model.py: an unwrapped model with SAT's key names (EMA backbone when use_ema and
 * the checkpoint has one; conditioners from the online model) as one safetensors file. */
ds_status ds_export(const char *source, const ds_model_config *cfg, const char *out_path, bool use_ema, ds_err *err);

/* The smallest length (audio frames) the model accepts and that lengths must be a multiple
 * of: pretransform ratio × (DiT patch_size | ADP prod(factors)·patch_size | DAU1d 2^levels). */
int64_t ds_min_input_length(const ds_model_config *cfg);

/* The run directory's model config (<run>/config.json) for a weights source, if any. */
bool ds_run_config_path(const char *source, char *path, size_t n);

#endif
