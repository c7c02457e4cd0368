/* Demos during training (the seed's `demo` config, sat-spec §6): at steps 1, demo_every+1, …
 * with the EMA weights, `num_demos` examples from one shared noise tensor, `demo_steps`
 * sampler steps, one render per entry of demo_cfg_scales, conditioned on demo_cond. Files:
 * demos/demo_cfg_{scale}_{step:08}.wav (the demos concatenated in time, peak-normalised,
 * 16-bit, as SAT writes them), each demo as its own file, and demos/index.jsonl. */
#ifndef DS_DEMO_H
#define DS_DEMO_H

#include <stdatomic.h>

#include "engine/worker.h"
#include "train/trainer.h"

typedef struct ds_demo_ctx {
    ds_model *m;
    const ds_trainer *tr;
    const ds_run_io *io;
    const char *dir;
    ds_worker *w; /* receives each render (may be NULL) */
    const atomic_int *cancel; /* stop rendering between sampler steps (may be NULL) */
    ds_ctx *render_ctx;       /* kept by the run across demos (CPU), see ds_render_args.ctx */
} ds_demo_ctx;

ds_status ds_demo_render(const ds_demo_ctx *dc, int64_t step, ds_err *err);

#endif
