/* SAT configs as typed C structs, with SAT's defaults (../shared/reference/sat-spec.md §1-2).
 *
 * Three files configure a run, all plain JSON:
 *   - the model config: SAT's format, unchanged (ds_model_config);
 *   - the dataset config: SAT's format (ds_dataset_config);
 *   - the studio file: what SAT takes on its command line (ds_studio_config).
 *
 * The structs are the engine's typed view of a config. Loading, validation, the schema
 * table, diagnostics and writing back live in engine/config_doc.h; this header is the
 * contract the models, trainer and samplers read. Plain data, no pointers that need
 * freeing except where noted (ds_model_config_free). */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define DS_ID_LEN 64
#define DS_MAX_IDS 16          /* per routing list */
#define DS_MAX_CONDITIONERS 16
#define DS_MAX_LEVELS 32       /* U-Net levels, list lengths */
#define DS_MAX_DEMOS 32
#define DS_MAX_CFG_SCALES 16
#define DS_MAX_DEMO_KEYS 8
#define DS_PATH_LEN 1024

typedef struct ds_id_list {
    int n;
    char id[DS_MAX_IDS][DS_ID_LEN];
} ds_id_list;

typedef enum ds_model_type {
    DS_MODEL_DIFFUSION_COND,
    DS_MODEL_DIFFUSION_COND_INPAINT,
    DS_MODEL_DIFFUSION_UNCOND,
    DS_MODEL_AUTOENCODER, /* read as a pretransform config; not trainable here */
    DS_MODEL_OTHER,       /* diffusion_autoencoder, lm: loaded, not runnable */
} ds_model_type;

typedef enum ds_backbone_type {
    DS_BB_DIT,
    DS_BB_DAU1D,
    DS_BB_ADP_CFG_1D,
    DS_BB_ADP_1D,        /* UNet1DCondWrapper; also accepted for diffusion_uncond (seed) */
    DS_BB_ADP_UNCOND_1D, /* UNet1DUncondWrapper */
    DS_BB_NONE,
} ds_backbone_type;

typedef enum ds_objective { DS_OBJ_V, DS_OBJ_RECTIFIED_FLOW, DS_OBJ_RF_DENOISER } ds_objective;

/* ---- DiT (sat-spec §2.1) ---- */
typedef enum { DS_GLOBAL_COND_PREPEND, DS_GLOBAL_COND_ADALN } ds_global_cond_type;
typedef enum { DS_TIMESTEP_COND_GLOBAL, DS_TIMESTEP_COND_INPUT_CONCAT } ds_timestep_cond_type;
typedef enum { DS_QK_NORM_NONE, DS_QK_NORM_L2, DS_QK_NORM_LN, DS_QK_NORM_DYT } ds_qk_norm;

typedef struct ds_dit_config {
    int io_channels;          /* 32 */
    int patch_size;           /* 1 */
    int embed_dim;            /* 768 */
    int depth;                /* 12 */
    int num_heads;            /* 8 */
    int cond_token_dim;       /* 0: no cross-attention */
    bool project_cond_tokens; /* true */
    int global_cond_dim;      /* 0 */
    bool project_global_cond; /* true */
    int input_concat_dim;     /* 0 */
    int prepend_cond_dim;     /* 0 */
    char transformer_type[32]; /* "continuous_transformer" */
    ds_global_cond_type global_cond_type;     /* prepend */
    ds_timestep_cond_type timestep_cond_type; /* global */
    int timestep_embed_dim;                   /* 0 = None */
    /* ContinuousTransformer / TransformerBlock pass-through (sat-spec §2.1.7) */
    bool rotary_pos_emb;           /* true */
    bool zero_init_branch_outputs; /* true (init only) */
    bool conformer;                /* false */
    bool layer_scale;              /* false */
    bool remove_norms;             /* false */
    bool use_sinusoidal_emb;       /* false */
    bool use_abs_pos_emb;          /* false */
    int abs_pos_emb_max_length;    /* 10000 */
    int num_memory_tokens;         /* 0 */
    int final_cross_attn_ix;       /* -1 */
    int sliding_window;            /* 0 = None */
    bool add_rope;                 /* false */
    bool causal;                   /* false */
    ds_qk_norm qk_norm;            /* attn_kwargs.qk_norm: none */
    bool differential;             /* attn_kwargs.differential */
    bool feat_scale;               /* attn_kwargs.feat_scale */
    double ff_mult;                /* ff_kwargs.mult: 4 */
    bool ff_no_bias;               /* ff_kwargs.no_bias: false */
    bool ff_glu;                   /* ff_kwargs.glu: true */
    bool ff_use_conv;              /* ff_kwargs.use_conv: false */
    int ff_conv_kernel_size;       /* 33 */
    bool norm_bias;                /* norm_kwargs.bias: false */
    bool norm_fix_scale;           /* norm_kwargs.fix_scale: false */
    bool norm_force_fp32;          /* norm_kwargs.force_fp32: false */
    double norm_eps;               /* norm_kwargs.eps: 1e-5 */
} ds_dit_config;

/* ---- DAU1d (sat-spec §2.2) ---- */
typedef struct ds_dau1d_config {
    int io_channels;   /* 2 */
    int depth;         /* 14 */
    int n_attn_layers; /* 6 */
    int n_channels;
    int channels[DS_MAX_LEVELS]; /* [128,128,256,256] + [512]*10 */
    int cond_dim;                /* 0 */
    bool cond_noise_aug;         /* false */
    int kernel_size;             /* 5 */
    bool learned_resample;       /* false */
    int n_strides;
    int strides[DS_MAX_LEVELS]; /* [2]*13 */
    bool conv_bias;             /* true */
    bool use_snake;             /* false */
} ds_dau1d_config;

/* ---- ADP UNet1d / UNetCFG1d (sat-spec §2.3) ---- */
typedef struct ds_adp_config {
    int in_channels;
    int channels;
    int n_multipliers, multipliers[DS_MAX_LEVELS];
    int n_factors, factors[DS_MAX_LEVELS];
    int n_num_blocks, num_blocks[DS_MAX_LEVELS];
    int n_attentions, attentions[DS_MAX_LEVELS];
    int patch_size;                   /* 1 */
    int resnet_groups;                /* 8 */
    bool use_context_time;            /* true */
    int kernel_multiplier_downsample; /* 2 */
    bool use_nearest_upsample;        /* false */
    bool use_skip_scale;              /* true */
    bool use_stft;                    /* false (unsupported) */
    bool use_stft_context;            /* false */
    int out_channels;                 /* 0 = in_channels */
    int context_features;             /* 0 = None (global cond width) */
    int context_features_multiplier;  /* 4 */
    int n_context_channels, context_channels[DS_MAX_LEVELS]; /* input concat per level */
    int context_embedding_features;   /* 0 = None (cross-attn width) */
    int context_embedding_max_length; /* UNetCFG1d: required */
    bool use_xattn_time;              /* false */
    int attention_heads;              /* required when any attention */
    int attention_features;           /* 0 = derived (channels // heads) */
    int attention_multiplier;         /* required when any attention */
} ds_adp_config;

/* ---- Conditioners (sat-spec §1.4) ---- */
typedef enum ds_cond_type {
    DS_COND_NUMBER,
    DS_COND_INT,
    DS_COND_LIST,
    DS_COND_T5,
    DS_COND_CLAP_TEXT,
    DS_COND_CLAP_AUDIO,
    DS_COND_LUT,
    DS_COND_PHONEME,
    DS_COND_PRETRANSFORM,
    DS_COND_SOURCE_MIX,
    DS_COND_OTHER,
} ds_cond_type;

#define DS_MAX_LIST_OPTIONS 128
#define DS_OPTION_LEN 64

typedef struct ds_conditioner_config {
    char id[DS_ID_LEN];
    ds_cond_type type;
    char type_name[32];
    int output_dim;   /* cond_dim unless the conditioner's config sets output_dim */
    bool project_out; /* false */
    /* number (min 0, max 1) / int (min 0, max 512) */
    double min_val, max_val;
    /* list */
    int n_options;
    char options[DS_MAX_LIST_OPTIONS][DS_OPTION_LEN];
    /* t5 / lut / phoneme */
    char model_name[128]; /* t5_model_name ("t5-base") or tokenizer_name */
    int max_length;       /* t5: 128, lut: 1024 */
    bool enable_grad;
    /* clap */
    char clap_ckpt_path[DS_PATH_LEN];
    bool use_text_features;
    int feature_layer_ix; /* -1 */
} ds_conditioner_config;

typedef struct ds_conditioning_config {
    bool present;
    int cond_dim;
    int n;
    ds_conditioner_config c[DS_MAX_CONDITIONERS];
    int n_default_keys;
    char default_key_id[DS_MAX_CONDITIONERS][DS_ID_LEN];
    char default_key_val[DS_MAX_CONDITIONERS][DS_ID_LEN];
    ds_id_list pre_encoded_keys;
} ds_conditioning_config;

/* ---- Pretransform (sat-spec §1.5, §7) ---- */
typedef enum ds_pretransform_type {
    DS_PT_NONE,
    DS_PT_AUTOENCODER,
    DS_PT_WAVELET,
    DS_PT_PQMF,
    DS_PT_PATCHED,
    DS_PT_DAC_PRETRAINED,
    DS_PT_AUDIOCRAFT_PRETRAINED,
    DS_PT_OTHER,
} ds_pretransform_type;

typedef struct ds_pretransform_config {
    ds_pretransform_type type;
    char type_name[32];
    bool enable_grad;
    /* autoencoder */
    double scale; /* 1.0 */
    bool model_half, iterate_batch, chunked;
    int latent_dim, downsampling_ratio, ae_io_channels;
    /* patched / pqmf / wavelet */
    int channels, patch_size, oversampling, num_bands, levels;
    double attenuation;
    char wavelet[16]; /* wavelet: "bior4.4", ... */
    /* derived */
    int encoded_channels;
    int ratio; /* downsampling ratio of the pretransform (1 if none) */
} ds_pretransform_config;

/* ---- Training (sat-spec §1.6-1.7) ---- */
typedef enum ds_timestep_sampler {
    DS_TS_UNIFORM,
    DS_TS_LOGIT_NORMAL,
    DS_TS_TRUNC_LOGIT_NORMAL,
    DS_TS_LOG_SNR,
} ds_timestep_sampler;

typedef enum ds_optimizer_type { DS_OPT_ADAM, DS_OPT_ADAMW, DS_OPT_OTHER } ds_optimizer_type;
typedef enum ds_scheduler_type { DS_SCHED_NONE, DS_SCHED_INVERSE_LR, DS_SCHED_OTHER } ds_scheduler_type;

typedef struct ds_demo_value {
    char key[DS_ID_LEN];
    bool is_string;
    double number;
    char string[256];
} ds_demo_value;

typedef struct ds_demo_cond {
    int n;
    ds_demo_value v[DS_MAX_DEMO_KEYS];
} ds_demo_cond;

typedef struct ds_demo_config {
    int demo_every;  /* 2000 */
    int demo_steps;  /* 250 */
    int num_demos;   /* required (cond); 8 (uncond) */
    int n_cfg_scales;
    double cfg_scales[DS_MAX_CFG_SCALES];
    int n_demo_cond;
    ds_demo_cond demo_cond[DS_MAX_DEMOS];
    bool demo_cond_from_batch;
} ds_demo_config;

typedef struct ds_training_config {
    bool present;
    double learning_rate; /* 0 = unset */
    bool has_learning_rate;
    bool use_ema;         /* true */
    bool log_loss_info;   /* false */
    bool pre_encoded;     /* false */
    double cfg_dropout_prob; /* 0.1 */
    ds_timestep_sampler timestep_sampler; /* uniform */
    double mean_logsnr, std_logsnr;       /* -1.2, 2.0 */
    double p_one_shot;                    /* 0 */
    bool mask_padding;                    /* false */
    double mask_padding_dropout;          /* 0 */
    /* optimizer_configs.diffusion */
    bool has_optimizer_configs;
    ds_optimizer_type optimizer;
    char optimizer_name[32];
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad;
    ds_scheduler_type scheduler;
    char scheduler_name[32];
    double inv_gamma, power, warmup, final_lr;
    ds_demo_config demo;
} ds_training_config;

/* ---- Distribution shift (sat-spec §4.3) ---- */
typedef struct ds_dist_shift_config {
    bool present;
    double base_shift, max_shift; /* 0.5, 1.15 */
    int max_length, min_length;   /* 4096, 256 */
    bool use_sine;                /* false */
} ds_dist_shift_config;

/* ---- The model config ---- */
typedef struct ds_model_config {
    char path[DS_PATH_LEN]; /* where it was loaded from ("" if built in memory) */
    ds_model_type model_type;
    char model_type_name[48];
    int64_t sample_size;
    int sample_rate;
    int audio_channels; /* 2 */
    int io_channels;    /* model.io_channels (cond) or derived from the backbone (uncond) */
    ds_backbone_type backbone;
    char backbone_name[32];
    ds_objective objective; /* model.diffusion.diffusion_objective: v */
    ds_id_list cross_attention_cond_ids, global_cond_ids, prepend_cond_ids, input_concat_ids;
    ds_dist_shift_config dist_shift;
    ds_dit_config dit;
    ds_dau1d_config dau1d;
    ds_adp_config adp;
    ds_conditioning_config conditioning;
    ds_pretransform_config pretransform;
    ds_training_config training;
    /* derived: sample_size must be a multiple of this (pretransform ratio x backbone
     * downsampling: DiT patch_size, ADP prod(factors)*patch_size, DAU1d prod(strides)) */
    int64_t min_input_length;
} ds_model_config;

/* ---- Dataset config (sat-spec §1.8) ---- */
#define DS_MAX_DATASETS 16
typedef struct ds_dataset_entry {
    char id[DS_ID_LEN];
    char path[DS_PATH_LEN];
    char custom_metadata_module[DS_PATH_LEN];
} ds_dataset_entry;

typedef struct ds_dataset_config {
    char path[DS_PATH_LEN];  /* the dataset config file, or the audio folder it stands for */
    char dataset_type[32]; /* "audio_dir" | "pre_encoded" | "s3" | "wds" */
    int n;
    ds_dataset_entry d[DS_MAX_DATASETS];
    bool random_crop; /* true (audio_dir), false (pre_encoded) */
    bool drop_last;   /* true */
    int latent_crop_length; /* 0 = null */
    double min_length_sec, max_length_sec;
} ds_dataset_config;

/* ---- Studio file: what SAT takes on its command line (defaults.ini) ---- */
typedef struct ds_studio_config {
    char path[DS_PATH_LEN];           /* the studio file ("" if built in memory) */
    /* Paths below are resolved against the studio file's folder when loaded. */
    char model_config[DS_PATH_LEN];
    char dataset_config[DS_PATH_LEN]; /* a SAT dataset config, or a folder of audio */
    bool dataset_is_folder;           /* dataset_config names a folder of audio files */
    char run_dir[DS_PATH_LEN];        /* "runs/<name>" */
    char name[128];
    int batch_size;        /* 4 */
    int checkpoint_every;  /* 10000 */
    int keep_checkpoints;  /* 3 */
    uint64_t seed;         /* 42 */
    char device[16];       /* "cpu" | "cuda" */
    char precision[16];    /* "32" | "16-mixed" | "bf16-mixed" */
    int accum_batches;     /* 1 */
    int threads;           /* 0 = all cores */
    double gradient_clip_val; /* 0 = off */
    char pretrained_ckpt_path[DS_PATH_LEN];
    char pretransform_ckpt_path[DS_PATH_LEN]; /* weights for model.pretransform (SAT CLI) */
    int max_steps;         /* 0 = until stopped */
    int nan_max_skips;     /* stop after this many non-finite steps in a row: 5 */
    int num_workers;       /* data loader threads: 1 */
    int64_t cache_bytes;   /* decoded audio cache budget */
} ds_studio_config;

/* Defaults (what SAT uses when a key is absent). */
void ds_model_config_defaults(ds_model_config *c);
void ds_dit_config_defaults(ds_dit_config *c);
void ds_dau1d_config_defaults(ds_dau1d_config *c);
void ds_adp_config_defaults(ds_adp_config *c);
void ds_studio_config_defaults(ds_studio_config *c);
void ds_dataset_config_defaults(ds_dataset_config *c);

/* Index of conditioner `id`, or -1. */
int ds_conditioning_find(const ds_conditioning_config *c, const char *id);

const char *ds_backbone_name(ds_backbone_type t);
const char *ds_objective_name(ds_objective o);

#endif
