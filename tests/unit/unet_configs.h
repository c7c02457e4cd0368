/* U-Net model configs built in C for tests and the benchmark, mirroring the fixtures'
 * and ../shared/bench's config.json files with SAT's defaults applied by hand (the config
 * loader, which will do this from JSON, lands separately). Header-only: each test program
 * is one translation unit. */
#ifndef DS_TEST_UNET_CONFIGS_H
#define DS_TEST_UNET_CONFIGS_H

#include <stdio.h>
#include <string.h>

#include "engine/config.h"

/* DiffusionAttnUnet1D's keyword defaults (sat-spec §2.2). */
static inline void tu_dau1d_defaults(ds_dau1d_config *d) {
    memset(d, 0, sizeof *d);
    d->io_channels = 2;
    d->depth = 14;
    d->n_attn_layers = 6;
    static const int ch[14] = {128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512, 512, 512};
    d->n_channels = 14;
    memcpy(d->channels, ch, sizeof ch);
    d->kernel_size = 5;
    d->n_strides = 13;
    for (int i = 0; i < 13; i++) d->strides[i] = 2;
    d->conv_bias = true;
}

/* UNet1d / UNetCFG1d keyword defaults (sat-spec §2.3.1); required keys left 0. */
static inline void tu_adp_defaults(ds_adp_config *a) {
    memset(a, 0, sizeof *a);
    a->patch_size = 1;
    a->resnet_groups = 8;
    a->use_context_time = true;
    a->kernel_multiplier_downsample = 2;
    a->use_skip_scale = true;
    a->context_features_multiplier = 4;
}

static inline void tu_set_list(int *n, int *dst, int count, const int *src) {
    *n = count;
    memcpy(dst, src, (size_t)count * sizeof *src);
}

/* diffusion_cond with two `number` conditioners (seconds_start, seconds_total; 0..512). */
static inline void tu_number_conditioning(ds_model_config *c, int cond_dim, bool cross, bool global) {
    c->model_type = DS_MODEL_DIFFUSION_COND;
    snprintf(c->model_type_name, sizeof c->model_type_name, "diffusion_cond");
    c->objective = DS_OBJ_V;
    c->conditioning.present = true;
    c->conditioning.cond_dim = cond_dim;
    c->conditioning.n = 2;
    const char *ids[2] = {"seconds_start", "seconds_total"};
    for (int i = 0; i < 2; i++) {
        ds_conditioner_config *k = &c->conditioning.c[i];
        snprintf(k->id, sizeof k->id, "%s", ids[i]);
        k->type = DS_COND_NUMBER;
        snprintf(k->type_name, sizeof k->type_name, "number");
        k->output_dim = cond_dim;
        k->min_val = 0;
        k->max_val = 512;
        if (cross) snprintf(c->cross_attention_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
        if (global) snprintf(c->global_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
    }
    c->cross_attention_cond_ids.n = cross ? 2 : 0;
    c->global_cond_ids.n = global ? 2 : 0;
}

static inline void tu_uncond(ds_model_config *c, ds_backbone_type bb, const char *name) {
    memset(c, 0, sizeof *c);
    c->model_type = DS_MODEL_DIFFUSION_UNCOND;
    snprintf(c->model_type_name, sizeof c->model_type_name, "diffusion_uncond");
    c->backbone = bb;
    snprintf(c->backbone_name, sizeof c->backbone_name, "%s", name);
    c->objective = DS_OBJ_V;
}

/* tests/fixtures/dau1d_basic/config.json */
static inline void tu_dau1d_basic_config(ds_model_config *c) {
    tu_uncond(c, DS_BB_DAU1D, "DAU1d");
    c->sample_size = 64;
    ds_dau1d_config *d = &c->dau1d;
    tu_dau1d_defaults(d);
    d->io_channels = 2;
    d->depth = 4;
    d->n_attn_layers = 1;
    tu_set_list(&d->n_channels, d->channels, 4, (int[]){16, 32, 32, 32});
    tu_set_list(&d->n_strides, d->strides, 3, (int[]){2, 2, 2});
    d->kernel_size = 5;
    c->io_channels = d->io_channels;
}

/* tests/fixtures/adp_cfg_basic/config.json */
static inline void tu_adp_cfg_basic_config(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    tu_number_conditioning(c, 32, true, true);
    c->sample_size = 32;
    c->io_channels = 4;
    c->backbone = DS_BB_ADP_CFG_1D;
    snprintf(c->backbone_name, sizeof c->backbone_name, "adp_cfg_1d");
    ds_adp_config *a = &c->adp;
    tu_adp_defaults(a);
    a->in_channels = 4;
    a->context_embedding_features = 32;
    a->context_embedding_max_length = 8;
    a->context_features = 64;
    a->channels = 16;
    a->resnet_groups = 8;
    a->kernel_multiplier_downsample = 2;
    tu_set_list(&a->n_multipliers, a->multipliers, 3, (int[]){1, 2, 2});
    tu_set_list(&a->n_factors, a->factors, 2, (int[]){2, 2});
    tu_set_list(&a->n_num_blocks, a->num_blocks, 2, (int[]){1, 1});
    tu_set_list(&a->n_attentions, a->attentions, 3, (int[]){0, 1, 1});
    a->attention_heads = 2;
    a->attention_multiplier = 2;
}

/* tests/fixtures/adp_uncond_basic/config.json */
static inline void tu_adp_uncond_basic_config(ds_model_config *c) {
    tu_uncond(c, DS_BB_ADP_UNCOND_1D, "adp_uncond_1d");
    c->sample_size = 32;
    c->io_channels = 2;
    ds_adp_config *a = &c->adp;
    tu_adp_defaults(a);
    a->in_channels = 2;
    a->channels = 16;
    tu_set_list(&a->n_multipliers, a->multipliers, 3, (int[]){1, 2, 2});
    tu_set_list(&a->n_factors, a->factors, 2, (int[]){2, 2});
    tu_set_list(&a->n_num_blocks, a->num_blocks, 2, (int[]){1, 2});
    tu_set_list(&a->n_attentions, a->attentions, 3, (int[]){0, 0, 1});
    a->attention_heads = 2;
    a->attention_multiplier = 2;
}

/* ../shared/bench/dau1d.json: [4, 2, 4096] */
static inline void tu_dau1d_bench_config(ds_model_config *c) {
    tu_uncond(c, DS_BB_DAU1D, "DAU1d");
    c->sample_size = 4096;
    ds_dau1d_config *d = &c->dau1d;
    tu_dau1d_defaults(d);
    d->io_channels = 2;
    d->depth = 7;
    d->n_attn_layers = 2;
    tu_set_list(&d->n_channels, d->channels, 7, (int[]){32, 32, 64, 64, 128, 128, 128});
    tu_set_list(&d->n_strides, d->strides, 6, (int[]){2, 2, 2, 2, 2, 2});
    d->kernel_size = 5;
    c->io_channels = 2;
}

/* ../shared/bench/adp_cfg.json: [4, 64, 256], 2 cross-attention tokens of 256 */
static inline void tu_adp_cfg_bench_config(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    tu_number_conditioning(c, 256, true, false);
    c->sample_size = 256;
    c->io_channels = 64;
    c->backbone = DS_BB_ADP_CFG_1D;
    snprintf(c->backbone_name, sizeof c->backbone_name, "adp_cfg_1d");
    ds_adp_config *a = &c->adp;
    tu_adp_defaults(a);
    a->in_channels = 64;
    a->context_embedding_features = 256;
    a->context_embedding_max_length = 66;
    a->channels = 64;
    a->resnet_groups = 16;
    tu_set_list(&a->n_multipliers, a->multipliers, 4, (int[]){2, 2, 4, 4});
    tu_set_list(&a->n_factors, a->factors, 3, (int[]){1, 2, 2});
    tu_set_list(&a->n_num_blocks, a->num_blocks, 3, (int[]){2, 2, 2});
    tu_set_list(&a->n_attentions, a->attentions, 4, (int[]){1, 1, 1, 1});
    a->attention_heads = 8;
    a->attention_multiplier = 2;
}

/* ../shared/bench/adp_uncond.json: [4, 2, 8192] */
static inline void tu_adp_uncond_bench_config(ds_model_config *c) {
    tu_uncond(c, DS_BB_ADP_UNCOND_1D, "adp_uncond_1d");
    c->sample_size = 8192;
    c->io_channels = 2;
    ds_adp_config *a = &c->adp;
    tu_adp_defaults(a);
    a->in_channels = 2;
    a->channels = 32;
    tu_set_list(&a->n_multipliers, a->multipliers, 4, (int[]){1, 2, 4, 4});
    tu_set_list(&a->n_factors, a->factors, 3, (int[]){4, 4, 4});
    tu_set_list(&a->n_num_blocks, a->num_blocks, 3, (int[]){2, 2, 2});
    tu_set_list(&a->n_attentions, a->attentions, 4, (int[]){0, 0, 1, 1});
    a->attention_heads = 4;
    a->attention_multiplier = 2;
}

#endif
