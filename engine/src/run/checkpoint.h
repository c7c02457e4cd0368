/* Checkpoints of a run: one directory per save under <run>/checkpoints/:
 *   step-000001000/model.safetensors      online weights and buffers, SAT state_dict names
 *   step-000001000/ema.safetensors        EMA backbone (same names), when EMA is on
 *   step-000001000/optimizer.safetensors  adam.exp_avg.<name>, adam.exp_avg_sq.<name>
 *   step-000001000/state.json             step counters, RNG/data positions, config hash
 * A save writes into a hidden ".step-….partial" directory and renames it into place only
 * when every file is complete and synced: a full disk or a failed write leaves the previous
 * checkpoint untouched (and says so). The newest `keep` checkpoints are kept. */
#ifndef DS_CHECKPOINT_H
#define DS_CHECKPOINT_H

#include "engine/status.h"
#include "train/trainer.h"

#define DS_CKPT_VERSION 1

typedef struct ds_ckpt_state {
    int64_t step;
    uint64_t seed;
    int64_t data_position;
    char config_hash[32];
    double elapsed_s;
    double loss_smoothed;
} ds_ckpt_state;

ds_status ds_ckpt_save(const char *root, const ds_trainer *tr, const ds_ckpt_state *st, int keep, char *saved,
                       size_t saved_len, ds_err *err);
/* Newest complete checkpoint under root (DS_ERR_IO if none). */
ds_status ds_ckpt_latest(const char *root, char *path, size_t path_len, int64_t *step, ds_err *err);
/* Newest complete checkpoint with a step below `before` (DS_ERR_IO if none). */
ds_status ds_ckpt_latest_before(const char *root, int64_t before, char *path, size_t path_len, int64_t *step,
                                ds_err *err);
/* Reads only state.json (to check a resume before loading anything). */
ds_status ds_ckpt_read_state(const char *path, ds_ckpt_state *st, ds_err *err);
/* Restores weights, optimiser, EMA and counters into a trainer built for the same config. */
ds_status ds_ckpt_load(const char *path, ds_trainer *tr, ds_ckpt_state *st, ds_err *err);
/* Writes an unwrapped model with SAT's key names (EMA backbone if use_ema, else the online
 * one; conditioners online), loadable by SAT's get_pretrained_model. */
ds_status ds_ckpt_export(const char *ckpt_dir, const ds_model_config *cfg, const char *out_path, bool use_ema,
                         ds_err *err);

/* FNV-1a of bytes, as 16 hex digits. */
void ds_hash_hex(const void *data, size_t n, char out[17]);

#endif
