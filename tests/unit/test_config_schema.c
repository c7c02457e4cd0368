/* The schema table: internally consistent (parents, defaults that satisfy their own rows,
 * enums, bindings, help text), complete (every key of sat-spec §1.1-1.8, §1.10 and the
 * backbone sections), and its lookup functions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "testutil.h"

static void test_rows_consistent(void) {
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        CHECKF(k->path && k->path[0], "row %d has no path", i);
        CHECKF(k->help && strlen(k->help) > 8, "%s: no help", k->path);
        CHECKF(k->applies, "%s: applies to nothing", k->path);
        CHECKF(!((k->flags & DS_SF_REQUIRED) && k->def), "%s: required with a default", k->path);
        /* the parent is a container row that covers at least the same files */
        char parent[JPATH_MAX], last[JPATH_MAX];
        CHECK(path_split(k->path, parent, sizeof parent, last, sizeof last));
        if (parent[0]) {
            bool is_elem = strlen(parent) > 2 && !strcmp(parent + strlen(parent) - 2, "[]");
            char container[JPATH_MAX];
            snprintf(container, sizeof container, "%.*s", (int)strlen(parent) - (is_elem ? 2 : 0), parent);
            const ds_schema_key *rows[16];
            int n = ds_schema_find_all(container, rows, 16);
            bool ok = false;
            for (int j = 0; j < n && j < 16; j++) {
                ds_schema_type t = rows[j]->type;
                if (is_elem ? t == DS_ST_OBJECT_ARRAY : (t == DS_ST_OBJECT || t == DS_ST_MAP)) ok |= (rows[j]->applies & k->applies) != 0;
            }
            CHECKF(ok, "%s: parent %s is not a container row for the same files", k->path, container);
        }
        if (!strcmp(last, "*")) {
            size_t pl = strlen(parent);
            bool elem = pl > 2 && !strcmp(parent + pl - 2, "[]");
            char cont[JPATH_MAX];
            snprintf(cont, sizeof cont, "%.*s", (int)(pl - (elem ? 2 : 0)), parent);
            const ds_schema_key *p = ds_schema_find(cont, k->applies);
            CHECKF(p && (elem ? p->type == DS_ST_OBJECT_ARRAY : (p->type == DS_ST_MAP || p->type == DS_ST_OBJECT)),
                   "%s: '*' under a non-object", k->path);
        }
        if (k->type == DS_ST_ENUM) CHECKF(k->choices && k->choices[0], "%s: enum without choices", k->path);
        if (k->when_key) {
            CHECKF(k->when_in && k->when_in[0], "%s: when_key without when_in", k->path);
            const ds_schema_key *d = ds_schema_find(k->when_key, k->applies);
            CHECKF(d && d->type == DS_ST_ENUM, "%s: discriminator %s is not an enum row", k->path, k->when_key);
            if (d && !(d->flags & DS_SF_OPEN_ENUM))
                for (const char *p = k->when_in; p && *p;) { /* every when value is a valid choice */
                    const char *e = strchr(p, '|');
                    char v[64];
                    snprintf(v, sizeof v, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
                    CHECKF(list_has(d->choices, v), "%s: when value %s is not a choice of %s", k->path, v, d->path);
                    p = e ? e + 1 : NULL;
                }
        }
        if (k->def) { /* the default is valid JSON and satisfies its own row */
            cJSON *v = cJSON_Parse(k->def);
            char msg[512] = "";
            CHECKF(v != NULL, "%s: default %s is not JSON", k->path, k->def);
            if (v) CHECKF(schema_check_value(NULL, k, v, msg, sizeof msg), "%s: default %s: %s", k->path, k->def, msg);
            cJSON_Delete(v);
        }
        /* bindings fit the value type */
        const ds_schema_bind *b = &k->bind;
        if (b->ctype) {
            bool ok;
            switch (k->type) {
            case DS_ST_INT: ok = b->ctype == DS_BC_INT || b->ctype == DS_BC_INT64 || b->ctype == DS_BC_U64 ||
                                 b->ctype == DS_BC_DOUBLE; break;
            case DS_ST_NUMBER: ok = b->ctype == DS_BC_DOUBLE; break;
            case DS_ST_BOOL: ok = b->ctype == DS_BC_BOOL; break;
            case DS_ST_STRING: ok = b->ctype == DS_BC_STR; break;
            case DS_ST_ENUM: ok = b->ctype == DS_BC_ENUM || b->ctype == DS_BC_STR; break;
            case DS_ST_INT_LIST: ok = b->ctype == DS_BC_INT_LIST; break;
            case DS_ST_NUMBER_LIST: ok = b->ctype == DS_BC_DOUBLE_LIST; break;
            case DS_ST_STRING_LIST: ok = b->ctype == DS_BC_STR_LIST; break;
            case DS_ST_ID_LIST: ok = b->ctype == DS_BC_ID_LIST; break;
            default: ok = false;
            }
            CHECKF(ok, "%s: binding %d does not fit type %s", k->path, b->ctype, ds_schema_type_name(k->type));
            CHECKF((strstr(k->path, "[]") != NULL) ==
                       (b->target == DS_BT_CONDITIONER || b->target == DS_BT_DATASET_ENTRY),
                   "%s: element rows bind to element structs", k->path);
            if (b->ctype == DS_BC_STR || b->ctype == DS_BC_STR_LIST || b->ctype == DS_BC_ID_LIST)
                CHECKF(b->size >= 16, "%s: tiny string field", k->path);
            if (b->ctype == DS_BC_INT_LIST || b->ctype == DS_BC_DOUBLE_LIST || b->ctype == DS_BC_STR_LIST)
                CHECKF(b->cap >= 2, "%s: list capacity", k->path);
        }
        /* no two variants of a path apply at once (same files and overlapping discriminator) */
        for (int j = 0; j < i; j++) {
            const ds_schema_key *o = &ds_schema[j];
            if (strcmp(o->path, k->path) || !(o->applies & k->applies)) continue;
            bool disjoint = o->when_key && k->when_key && !strcmp(o->when_key, k->when_key) &&
                            !(o->flags & DS_SF_WHEN_NOT) && !(k->flags & DS_SF_WHEN_NOT);
            for (const char *p = k->when_in; disjoint && p && *p;) {
                const char *e = strchr(p, '|');
                char v[64];
                snprintf(v, sizeof v, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
                disjoint = !list_has(o->when_in, v);
                p = e ? e + 1 : NULL;
            }
            CHECKF(disjoint, "%s: rows %d and %d overlap", k->path, j, i);
        }
    }
}

/* Every key the spec lists (sat-spec §1.1-1.8, §1.10, §2.1.1, §2.1.7, §2.2, §2.3.1). */
static void test_complete(void) {
    static const char *const keys[] = {
        "model_type", "sample_size", "sample_rate", "audio_channels", "model", "training",
        "model.diffusion", "model.io_channels", "model.pretransform", "model.conditioning",
        "model.diffusion.type", "model.diffusion.config", "model.diffusion.diffusion_objective",
        "model.diffusion.cross_attention_cond_ids", "model.diffusion.global_cond_ids",
        "model.diffusion.input_concat_ids", "model.diffusion.prepend_cond_ids",
        "model.diffusion.distribution_shift_options.base_shift", "model.diffusion.distribution_shift_options.max_shift",
        "model.diffusion.distribution_shift_options.max_length", "model.diffusion.distribution_shift_options.min_length",
        "model.diffusion.distribution_shift_options.use_sine", "model.type", "model.config",
        "model.conditioning.configs", "model.conditioning.configs[].id", "model.conditioning.configs[].type",
        "model.conditioning.configs[].config", "model.conditioning.cond_dim", "model.conditioning.default_keys",
        "model.conditioning.pre_encoded_keys",
        "model.pretransform.type", "model.pretransform.config", "model.pretransform.enable_grad",
        "model.pretransform.scale", "model.pretransform.model_half", "model.pretransform.iterate_batch",
        "model.pretransform.chunked", "model.pretransform.config.latent_dim",
        "model.pretransform.config.downsampling_ratio", "model.pretransform.config.levels",
        "model.pretransform.config.wavelet", "model.pretransform.config.attenuation",
        "model.pretransform.config.num_bands", "model.pretransform.config.patch_size",
        "model.pretransform.config.oversampling", "model.pretransform.config.model_bitrate",
        "model.pretransform.config.quantize_on_decode",
        "training.learning_rate", "training.optimizer_configs", "training.use_ema", "training.log_loss_info",
        "training.pre_encoded", "training.cfg_dropout_prob", "training.timestep_sampler",
        "training.timestep_sampler_options.mean_logsnr", "training.timestep_sampler_options.std_logsnr",
        "training.p_one_shot", "training.mask_padding", "training.mask_padding_dropout", "training.inpainting",
        "training.demo", "training.arc", "training.clip_grad_norm", "training.trim_config", "training.loss_configs",
        "training.optimizer_configs.diffusion.optimizer.type", "training.optimizer_configs.diffusion.optimizer.config",
        "training.optimizer_configs.diffusion.scheduler.type", "training.optimizer_configs.diffusion.scheduler.config",
        "training.optimizer_configs.diffusion.scheduler.config.inv_gamma",
        "training.optimizer_configs.diffusion.scheduler.config.power",
        "training.optimizer_configs.diffusion.scheduler.config.warmup",
        "training.optimizer_configs.diffusion.scheduler.config.final_lr",
        "training.optimizer_configs.diffusion.optimizer.config.betas",
        "training.optimizer_configs.diffusion.optimizer.config.weight_decay",
        "training.demo.demo_every", "training.demo.demo_steps", "training.demo.num_demos", "training.demo.demo_cond",
        "training.demo.demo_cfg_scales", "training.demo.demo_cond_from_batch", "training.demo.display_audio_cond",
        "training.demo.cond_display_configs",
        "dataset_type", "datasets", "datasets[].id", "datasets[].path", "datasets[].s3_path",
        "datasets[].custom_metadata_module", "datasets[].profile", "random_crop", "drop_last", "latent_crop_length",
        "min_length_sec", "max_length_sec", "latent_extension", "remove_silence", "silence_threshold",
        "max_silence_duration", "volume_norm", "volume_norm_param", "epoch_steps", "pre_encoded", "resampled_shards",
        "model_config", "dataset_config", "run_dir", "name", "batch_size", "checkpoint_every", "keep_checkpoints",
        "seed", "device", "precision", "accum_batches", "threads", "gradient_clip_val", "pretrained_ckpt_path",
        "max_steps", "nan_max_skips", "num_workers", "cache_mb",
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        CHECKF(ds_schema_find(keys[i], ~0u) != NULL, "missing %s", keys[i]);
    static const char *const dit[] = {
        "io_channels", "patch_size", "embed_dim", "depth", "num_heads", "cond_token_dim", "project_cond_tokens",
        "global_cond_dim", "project_global_cond", "input_concat_dim", "prepend_cond_dim", "transformer_type",
        "global_cond_type", "timestep_cond_type", "timestep_embed_dim", "rotary_pos_emb",
        "zero_init_branch_outputs", "conformer", "layer_scale", "remove_norms", "use_sinusoidal_emb",
        "use_abs_pos_emb", "abs_pos_emb_max_length", "num_memory_tokens", "final_cross_attn_ix", "sliding_window",
        "add_rope", "causal", "attn_kwargs.qk_norm", "attn_kwargs.differential", "attn_kwargs.feat_scale",
        "ff_kwargs.mult", "ff_kwargs.no_bias", "ff_kwargs.glu", "ff_kwargs.use_conv", "ff_kwargs.conv_kernel_size",
        "norm_kwargs.bias", "norm_kwargs.fix_scale", "norm_kwargs.force_fp32", "norm_kwargs.eps",
    };
    static const char *const dau[] = {"io_channels", "depth", "n_attn_layers", "channels", "cond_dim",
                                      "cond_noise_aug", "kernel_size", "learned_resample", "strides", "conv_bias",
                                      "use_snake"};
    static const char *const adp[] = {
        "in_channels", "channels", "multipliers", "factors", "num_blocks", "attentions", "patch_size",
        "resnet_groups", "use_context_time", "kernel_multiplier_downsample", "use_nearest_upsample",
        "use_skip_scale", "use_stft", "use_stft_context", "out_channels", "context_features",
        "context_features_multiplier", "context_channels", "context_embedding_features", "attention_heads",
        "attention_features", "attention_multiplier"};
    const char *prefixes[] = {"model.diffusion.config.", "model.config."};
    char p[256];
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < sizeof dit / sizeof *dit; i++) {
            snprintf(p, sizeof p, "%s%s", prefixes[l], l && !i ? "in_channels" : dit[i]);
            const ds_schema_key *rows[8];
            int n = ds_schema_find_all(p, rows, 8);
            bool found = false;
            for (int j = 0; j < n && j < 8; j++) found |= rows[j]->when_in && list_has(rows[j]->when_in, "dit");
            CHECKF(found, "missing DiT key %s", p);
        }
        for (size_t i = 0; i < sizeof dau / sizeof *dau; i++) {
            snprintf(p, sizeof p, "%s%s", prefixes[l], dau[i]);
            const ds_schema_key *rows[8];
            int n = ds_schema_find_all(p, rows, 8);
            bool found = false;
            for (int j = 0; j < n && j < 8; j++) found |= rows[j]->when_in && list_has(rows[j]->when_in, "DAU1d");
            CHECKF(found, "missing DAU1d key %s", p);
        }
        for (size_t i = 0; i < sizeof adp / sizeof *adp; i++) {
            snprintf(p, sizeof p, "%s%s", prefixes[l], adp[i]);
            const ds_schema_key *rows[8];
            int n = ds_schema_find_all(p, rows, 8);
            bool found = false;
            for (int j = 0; j < n && j < 8; j++) found |= rows[j]->when_in && list_has(rows[j]->when_in, "adp_1d");
            CHECKF(found, "missing ADP key %s", p);
        }
    }
    CHECK(ds_schema_find("model.diffusion.config.context_embedding_max_length", ~0u) != NULL);
    CHECK(ds_schema_find("model.diffusion.config.use_xattn_time", ~0u) != NULL);
    /* every conditioner type has its config keys */
    static const struct { const char *type, *key; } ck[] = {
        {"t5", "t5_model_name"}, {"t5", "max_length"}, {"t5", "enable_grad"}, {"clap_text", "clap_ckpt_path"},
        {"clap_text", "use_text_features"}, {"clap_text", "feature_layer_ix"}, {"clap_audio", "audio_model_type"},
        {"int", "min_val"}, {"int", "max_val"}, {"number", "min_val"}, {"number", "max_val"}, {"list", "options"},
        {"lut", "tokenizer_name"}, {"lut", "special_tokens"}, {"phoneme", "max_length"},
        {"pretransform", "sample_rate"}, {"pretransform", "pretransform_config"},
        {"source_mix", "source_keys"}, {"source_mix", "allow_null_source"},
    };
    for (size_t i = 0; i < sizeof ck / sizeof *ck; i++) {
        snprintf(p, sizeof p, "model.conditioning.configs[].config.%s", ck[i].key);
        const ds_schema_key *rows[8];
        int n = ds_schema_find_all(p, rows, 8);
        bool found = false;
        for (int j = 0; j < n && j < 8; j++) found |= list_has(rows[j]->when_in, ck[i].type);
        CHECKF(found, "missing %s key %s", ck[i].type, ck[i].key);
    }
}

static const ds_schema_key *variant(const char *path, const char *when) {
    const ds_schema_key *rows[8];
    int n = ds_schema_find_all(path, rows, 8);
    for (int j = 0; j < n && j < 8; j++)
        if (rows[j]->when_in && list_has(rows[j]->when_in, when)) return rows[j];
    return NULL;
}

static void test_defaults_in_table(void) {
    const ds_schema_key *k;
    k = variant("model.conditioning.configs[].config.max_val", "number");
    CHECK(k && !strcmp(k->def, "1"));
    k = variant("model.conditioning.configs[].config.max_val", "int");
    CHECK(k && !strcmp(k->def, "512"));
    k = variant("training.optimizer_configs.diffusion.optimizer.config.weight_decay", "AdamW");
    CHECK(k && !strcmp(k->def, "0.01"));
    k = variant("training.optimizer_configs.diffusion.optimizer.config.weight_decay", "Adam");
    CHECK(k && !strcmp(k->def, "0"));
    k = ds_schema_find("training.cfg_dropout_prob", DS_APPLY_COND);
    CHECK(k && !strcmp(k->def, "0.1"));
    k = ds_schema_find("training.learning_rate", DS_APPLY_UNCOND);
    CHECK(k && (k->flags & DS_SF_REQUIRED));
    k = ds_schema_find("training.demo.num_demos", DS_APPLY_COND);
    CHECK(k && (k->flags & DS_SF_REQUIRED));
    k = ds_schema_find("training.demo.demo_cfg_scales", DS_APPLY_COND);
    CHECK(k && (k->flags & DS_SF_REQUIRED));
    k = ds_schema_find("model.type", DS_APPLY_UNCOND);
    CHECK(k && list_has(k->choices, "adp_1d") && list_has(k->choices, "adp_uncond_1d") &&
          list_has(k->choices, "DAU1d") && list_has(k->choices, "dit"));
    k = ds_schema_find("model.diffusion.type", DS_APPLY_COND);
    CHECK(k && strstr(k->help, "For conditioned diffusion models, be one of dit (Diffusion Transformer)") != NULL);
    k = ds_schema_find("training.demo.demo_cond", DS_APPLY_COND);
    CHECK(k && strstr(k->help, "NOTE: List must be the same length as num_demos"));
}

static void test_lookups(void) {
    char pat[128];
    ds_schema_pattern("training.demo.demo_cond[12].prompt", pat, sizeof pat);
    CHECK(!strcmp(pat, "training.demo.demo_cond[].prompt"));
    ds_schema_pattern("model.conditioning.default_keys[\"a[1]\"]", pat, sizeof pat);
    CHECK(!strcmp(pat, "model.conditioning.default_keys[\"a[1]\"]"));
    const ds_schema_key *k = ds_schema_find("model.conditioning.configs[3].config.min_val", DS_APPLY_COND);
    CHECK(k && k->type != DS_ST_ANY);
    const ds_schema_key *kids[128];
    int n = ds_schema_children("model.diffusion.config.ff_kwargs", kids, 128);
    CHECK(n == 5);
    n = ds_schema_children("", kids, 128);
    bool has_model_type = false, has_batch = false;
    for (int i = 0; i < n && i < 128; i++) {
        has_model_type |= !strcmp(kids[i]->path, "model_type");
        has_batch |= !strcmp(kids[i]->path, "batch_size");
    }
    CHECK(has_model_type && has_batch);
    n = ds_schema_element_keys("model.conditioning.configs", kids, 128);
    CHECK(n == 3 && !strcmp(kids[0]->path, "model.conditioning.configs[].id"));
    n = ds_schema_element_keys("datasets", kids, 128);
    CHECK(n == 5);
    char buf[256];
    ds_schema_describe(ds_schema_find("model.diffusion.config.embed_dim", ~0u), buf, sizeof buf);
    CHECK(!strcmp(buf, "an integer from 1 to 65536"));
    ds_schema_describe(ds_schema_find("sample_size", ~0u), buf, sizeof buf);
    CHECK(!strcmp(buf, "an integer > 0"));
    ds_schema_describe(variant("training.optimizer_configs.diffusion.scheduler.config.warmup", "InverseLR"), buf,
                       sizeof buf);
    CHECK(!strcmp(buf, "a number in [0, 1)"));
    ds_schema_describe(ds_schema_find("model.diffusion.diffusion_objective", ~0u), buf, sizeof buf);
    CHECK(!strcmp(buf, "one of \"v\", \"rectified_flow\", \"rf_denoiser\""));
    const char *c[] = {"embed_dim", "num_heads", "depth"};
    CHECK(near_miss("embed_dimm", c, 3) == c[0]);
    CHECK(near_miss("num_head", c, 3) == c[1]);
    CHECK(near_miss("dpeth", c, 3) == c[2]);
    CHECK(near_miss("zzzzzz", c, 3) == NULL);
    CHECK(edit_distance("abc", "acb") == 1);
}

int main(void) {
    test_rows_consistent();
    test_complete();
    test_defaults_in_table();
    test_lookups();
    fprintf(stderr, "schema: %d rows\n", ds_schema_count);
    return tu_finish("test_config_schema");
}
