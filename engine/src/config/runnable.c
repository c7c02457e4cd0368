/* What diffstudio can run today. A config may be valid SAT and still name parts the engine
 * does not implement yet; RUNNABLE[] is the one place that says which. To support a new
 * part, set its `needs` to NULL (or add a row). */
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

typedef enum { R_MODEL_TYPE, R_BACKBONE, R_CONDITIONER, R_PRETRANSFORM, R_OPTIMIZER, R_SCHEDULER, R_DATASET } rkind;

static const struct {
    rkind kind;
    const char *name;
    const char *needs; /* NULL: runnable; otherwise what is missing */
} RUNNABLE[] = {
    {R_MODEL_TYPE, "diffusion_cond", NULL},
    {R_MODEL_TYPE, "diffusion_uncond", NULL},
    {R_MODEL_TYPE, "diffusion_cond_inpaint", "inpainting training"},
    {R_MODEL_TYPE, "autoencoder", "autoencoder training (diffstudio trains diffusion models)"},
    {R_BACKBONE, "dit", NULL},
    {R_BACKBONE, "DAU1d", NULL},
    {R_BACKBONE, "adp_cfg_1d", NULL},
    {R_BACKBONE, "adp_1d", NULL},
    {R_BACKBONE, "adp_uncond_1d", NULL},
    {R_CONDITIONER, "number", NULL},
    {R_CONDITIONER, "int", NULL},
    {R_CONDITIONER, "list", NULL},
    {R_CONDITIONER, "t5", "the T5 text encoder"},
    {R_CONDITIONER, "clap_text", "the CLAP model"},
    {R_CONDITIONER, "clap_audio", "the CLAP model"},
    {R_CONDITIONER, "lut", "a Hugging Face tokenizer"},
    {R_CONDITIONER, "phoneme", "the g2p_en phonemizer"},
    {R_CONDITIONER, "pretransform", "pretransform conditioning"},
    {R_CONDITIONER, "source_mix", "source-mix conditioning"},
    {R_PRETRANSFORM, "none", NULL},
    {R_PRETRANSFORM, "patched", NULL},
    {R_PRETRANSFORM, "pqmf", "the PQMF filter bank"},
    {R_PRETRANSFORM, "autoencoder", "the autoencoder (its encoder and decoder networks)"},
    {R_PRETRANSFORM, "wavelet", "the wavelet transform"},
    {R_PRETRANSFORM, "dac_pretrained", "the pretrained DAC codec"},
    {R_PRETRANSFORM, "audiocraft_pretrained", "the AudioCraft EnCodec model"},
    {R_OPTIMIZER, "Adam", NULL},
    {R_OPTIMIZER, "AdamW", NULL},
    {R_SCHEDULER, "none", NULL},
    {R_SCHEDULER, "InverseLR", NULL},
    {R_DATASET, "audio_dir", NULL},
    {R_DATASET, "pre_encoded", "reading pre-encoded .npy latents"},
    {R_DATASET, "s3", "streaming WebDataset shards from S3"},
    {R_DATASET, "wds", "reading WebDataset shards"},
};

static const char *KIND_WORD[] = {"model_type", "backbone", "conditioner type", "pretransform type",
                                  "optimizer", "scheduler", "dataset_type"};

/* NULL if runnable; otherwise what it needs ("" for names the table does not know). */
static const char *needs(rkind k, const char *name) {
    for (size_t i = 0; i < sizeof RUNNABLE / sizeof *RUNNABLE; i++)
        if (RUNNABLE[i].kind == k && !strcmp(RUNNABLE[i].name, name)) return RUNNABLE[i].needs;
    return "";
}

typedef struct rctx {
    const ds_config_doc *doc;
    ds_diag_list *diags;
    ds_diag_severity sev;
    const char *file;
    int count;
    char first[512]; /* "path (id "x"): message", for ds_err */
} rctx;

/* label: how the first-problem summary names the part (the path, plus the id for conditioners). */
static void report(rctx *r, const char *path, const char *label, const char *fmt, const char *a,
                   const char *b, const char *c) {
    char msg[400];
    CUT_PRINTF(msg, sizeof msg, fmt, a, b, c);
    int line = 0, col = 0;
    if (r->doc) doc_pos_or_parent(r->doc, path, false, &line, &col);
    ds_diag_add(r->diags, r->sev, r->file, path, line, col, "%s", msg);
    if (!r->count++) CUT_PRINTF(r->first, sizeof r->first, "%s: %s", label, msg);
}

static void missing(rctx *r, const char *path, rkind k, const char *name) {
    const char *n = needs(k, name);
    if (n && *n)
        report(r, path, path, "%s \"%s\" needs %s, which diffstudio cannot run yet", KIND_WORD[k], name, n);
    else if (n)
        report(r, path, path, "%s \"%s\" is not implemented in diffstudio%s", KIND_WORD[k], name, "");
}

static void runnable_model_r(rctx *r, const ds_model_config *m) {
    missing(r, "model_type", R_MODEL_TYPE, m->model_type_name);
    if (m->model_type > DS_MODEL_DIFFUSION_UNCOND) return;
    bool cond = m->model_type != DS_MODEL_DIFFUSION_UNCOND;
    missing(r, cond ? "model.diffusion.type" : "model.type", R_BACKBONE, m->backbone_name);
    for (int i = 0; cond && i < m->conditioning.n; i++) {
        const ds_conditioner_config *c = &m->conditioning.c[i];
        const char *n = needs(R_CONDITIONER, c->type_name);
        if (!n) continue;
        char p[JPATH_MAX], label[JPATH_MAX + 80];
        CUT_PRINTF(p, sizeof p, "model.conditioning.configs[%d]", i);
        CUT_PRINTF(label, sizeof label, "%s (id \"%s\")", p, c->id);
        if (*n)
            report(r, p, label, "conditioner type \"%s\" needs %s, which diffstudio cannot run yet%s", c->type_name,
                   n, "");
        else
            report(r, p, label, "conditioner type \"%s\" is not implemented in diffstudio%s%s", c->type_name, "", "");
    }
    missing(r, "model.pretransform.type", R_PRETRANSFORM, m->pretransform.type_name);
    if (m->training.present) {
        missing(r, m->training.has_optimizer_configs ? "training.optimizer_configs.diffusion.optimizer.type"
                                                     : "training",
                R_OPTIMIZER, m->training.optimizer_name);
        missing(r, "training.optimizer_configs.diffusion.scheduler.type", R_SCHEDULER, m->training.scheduler_name);
    }
    if ((m->backbone == DS_BB_ADP_CFG_1D || m->backbone == DS_BB_ADP_1D || m->backbone == DS_BB_ADP_UNCOND_1D) &&
        m->adp.use_stft) {
        char p[JPATH_MAX];
        CUT_PRINTF(p, sizeof p, "%s.use_stft", cond ? "model.diffusion.config" : "model.config");
        report(r, p, p, "use_stft needs %s, which diffstudio cannot run yet%s%s", "the STFT front end", "", "");
    }
}

void runnable_model(const ds_model_config *m, const ds_config_doc *doc, ds_diag_list *diags, ds_diag_severity sev) {
    rctx r = {.doc = doc, .diags = diags, .sev = sev, .file = m->path};
    runnable_model_r(&r, m);
}

void runnable_dataset(const ds_dataset_config *d, const ds_config_doc *doc, ds_diag_list *diags,
                      ds_diag_severity sev) {
    rctx r = {.doc = doc, .diags = diags, .sev = sev, .file = d->path};
    missing(&r, "dataset_type", R_DATASET, d->dataset_type);
}

static ds_status finish(rctx *r, ds_err *err) {
    if (!r->count) return DS_OK;
    if (err) {
        if (r->count > 1)
            ds_err_set(err, DS_ERR_UNSUPPORTED, "%s%s%.400s (and %d more)", r->file, r->file[0] ? ": " : "",
                       r->first, r->count - 1);
        else
            ds_err_set(err, DS_ERR_UNSUPPORTED, "%s%s%.450s", r->file, r->file[0] ? ": " : "", r->first);
    }
    return DS_ERR_UNSUPPORTED;
}

ds_status ds_model_config_check_runnable(const ds_model_config *cfg, ds_diag_list *diags, ds_err *err) {
    rctx r = {.diags = diags, .sev = DS_DIAG_ERROR, .file = cfg->path};
    runnable_model_r(&r, cfg);
    return finish(&r, err);
}

ds_status ds_dataset_config_check_runnable(const ds_dataset_config *cfg, ds_diag_list *diags, ds_err *err) {
    rctx r = {.diags = diags, .sev = DS_DIAG_ERROR, .file = cfg->path};
    missing(&r, "dataset_type", R_DATASET, cfg->dataset_type);
    return finish(&r, err);
}
