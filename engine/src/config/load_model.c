/* Model configs into ds_model_config: the generic walk, the bound rows, then what a table
 * cannot say (enums with an "other" value, the two training layouts, demo_cond, derived
 * fields), then SAT's cross-field rules (checks_model.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

static const char *const MODEL_TYPES[] = {"diffusion_cond", "diffusion_cond_inpaint", "diffusion_uncond",
                                          "autoencoder"};
static const char *const COND_TYPES[] = {"number", "int",   "list",         "t5",         "clap_text",
                                         "clap_audio", "lut", "phoneme", "pretransform", "source_mix"};
static const char *const PT_TYPES[] = {"none",    "autoencoder",    "wavelet",
                                       "pqmf",    "patched",        "dac_pretrained",
                                       "audiocraft_pretrained"};

const char *ds_model_type_name(ds_model_type t) {
    return (unsigned)t < 4 ? MODEL_TYPES[t] : "other";
}
const char *ds_cond_type_name(ds_cond_type t) {
    return (unsigned)t < sizeof COND_TYPES / sizeof *COND_TYPES ? COND_TYPES[t] : "other";
}
const char *ds_pretransform_type_name(ds_pretransform_type t) {
    return (unsigned)t < sizeof PT_TYPES / sizeof *PT_TYPES ? PT_TYPES[t] : "other";
}
const char *ds_backbone_name(ds_backbone_type t) {
    static const char *const n[] = {"dit", "DAU1d", "adp_cfg_1d", "adp_1d", "adp_uncond_1d", "none"};
    return (unsigned)t < sizeof n / sizeof *n ? n[t] : "none";
}
const char *ds_objective_name(ds_objective o) {
    static const char *const n[] = {"v", "rectified_flow", "rf_denoiser"};
    return (unsigned)o < sizeof n / sizeof *n ? n[o] : "v";
}

int ds_conditioning_find(const ds_conditioning_config *c, const char *id) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->c[i].id, id)) return i;
    return -1;
}

static int name_index(const char *const *names, int n, const char *s) {
    for (int i = 0; s && i < n; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

static void copy_name(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }

static void load_conditioning(vctx *c, ds_model_config *m) {
    const ds_config_doc *doc = c->doc;
    ds_conditioning_config *cc = &m->conditioning;
    const cJSON *cond = doc_resolve(doc, "model.conditioning");
    cc->present = cJSON_IsObject(cond);
    const cJSON *cfgs = obj_get(cond, "configs");
    int i = 0;
    for (const cJSON *e = cJSON_IsArray(cfgs) ? cfgs->child : NULL; e && i < DS_MAX_CONDITIONERS;
         e = e->next, i++) {
        ds_conditioner_config *k = &cc->c[i];
        memset(k, 0, sizeof *k);
        k->feature_layer_ix = -1;
        bind_apply(c, DS_BT_CONDITIONER, k, i);
        const char *t = cJSON_IsString(obj_get(e, "type")) ? obj_get(e, "type")->valuestring : "";
        int ti = name_index(COND_TYPES, (int)(sizeof COND_TYPES / sizeof *COND_TYPES), t);
        k->type = ti < 0 ? DS_COND_OTHER : (ds_cond_type)ti;
        copy_name(k->type_name, sizeof k->type_name, t);
        if (k->output_dim <= 0) k->output_dim = cc->cond_dim;
    }
    cc->n = i;
    const cJSON *dk = obj_get(cond, "default_keys");
    cc->n_default_keys = 0;
    for (const cJSON *e = cJSON_IsObject(dk) ? dk->child : NULL; e && cc->n_default_keys < DS_MAX_CONDITIONERS;
         e = e->next) {
        if (!cJSON_IsString(e) || !e->string) continue;
        copy_name(cc->default_key_id[cc->n_default_keys], DS_ID_LEN, e->string);
        copy_name(cc->default_key_val[cc->n_default_keys], DS_ID_LEN, e->valuestring);
        cc->n_default_keys++;
    }
}

static void derive_pretransform(ds_model_config *m, const char *dac_model) {
    ds_pretransform_config *p = &m->pretransform;
    switch (p->type) {
    case DS_PT_AUTOENCODER:
        p->encoded_channels = p->latent_dim;
        p->ratio = p->downsampling_ratio;
        break;
    case DS_PT_PATCHED:
        p->encoded_channels = p->channels * p->patch_size;
        p->ratio = p->patch_size;
        break;
    case DS_PT_PQMF: /* SAT leaves both None (a bug, sat-spec §7.2); these are the intended values */
        p->encoded_channels = p->channels * p->num_bands;
        p->ratio = p->num_bands;
        break;
    case DS_PT_WAVELET:
        if (p->levels >= 0 && p->levels < 24) {
            p->encoded_channels = p->channels << p->levels;
            p->ratio = 1 << p->levels;
        }
        break;
    case DS_PT_DAC_PRETRAINED: /* latent width depends on the downloaded model: unknown here */
        p->encoded_channels = 0;
        p->ratio = dac_model && !strcmp(dac_model, "44khz") ? 512 : 320;
        break;
    case DS_PT_NONE:
        p->encoded_channels = m->io_channels;
        p->ratio = 1;
        break;
    default: /* audiocraft (token-only) and unknown kinds: ratio unknown */
        p->encoded_channels = 0;
        p->ratio = 1;
        break;
    }
    if (p->ratio <= 0) p->ratio = 1;
}

static void load_pretransform(vctx *c, ds_model_config *m) {
    const ds_config_doc *doc = c->doc;
    ds_pretransform_config *p = &m->pretransform;
    if (m->model_type == DS_MODEL_AUTOENCODER) { /* the file is itself the autoencoder */
        p->type = DS_PT_AUTOENCODER;
        copy_name(p->type_name, sizeof p->type_name, "autoencoder");
        derive_pretransform(m, NULL);
        return;
    }
    const cJSON *pt = doc_resolve(doc, "model.pretransform");
    if (!cJSON_IsObject(pt)) {
        p->type = DS_PT_NONE;
        copy_name(p->type_name, sizeof p->type_name, "none");
    } else {
        const char *t = doc_str(doc, "model.pretransform.type");
        int ti = name_index(PT_TYPES, (int)(sizeof PT_TYPES / sizeof *PT_TYPES), t);
        p->type = ti <= 0 ? DS_PT_OTHER : (ds_pretransform_type)ti;
        copy_name(p->type_name, sizeof p->type_name, t ? t : "?");
    }
    derive_pretransform(m, doc_str(doc, "model.pretransform.config.model_type"));
}

static void load_training(vctx *c, ds_model_config *m) {
    const ds_config_doc *doc = c->doc;
    ds_training_config *t = &m->training;
    t->present = cJSON_IsObject(doc_resolve(doc, "training"));
    t->has_learning_rate = cJSON_IsNumber(doc_resolve(doc, "training.learning_rate"));
    const cJSON *opt = doc_resolve(doc, "training.optimizer_configs.diffusion.optimizer");
    t->has_optimizer_configs = m->model_type != DS_MODEL_DIFFUSION_UNCOND && cJSON_IsObject(opt);
    if (t->has_optimizer_configs) {
        const char *name = doc_str(doc, "training.optimizer_configs.diffusion.optimizer.type");
        t->optimizer = name && !strcmp(name, "Adam")    ? DS_OPT_ADAM
                       : name && !strcmp(name, "AdamW") ? DS_OPT_ADAMW
                                                        : DS_OPT_OTHER;
        copy_name(t->optimizer_name, sizeof t->optimizer_name, name ? name : "?");
        const cJSON *betas = doc_resolve(doc, "training.optimizer_configs.diffusion.optimizer.config.betas");
        if (cJSON_GetArraySize(betas) == 2 && cJSON_IsNumber(betas->child) && cJSON_IsNumber(betas->child->next)) {
            t->beta1 = betas->child->valuedouble;
            t->beta2 = betas->child->next->valuedouble;
        }
        const cJSON *lr = doc_resolve(doc, "training.optimizer_configs.diffusion.optimizer.config.lr");
        if (t->optimizer == DS_OPT_OTHER) t->lr = cJSON_IsNumber(lr) ? lr->valuedouble : 0.0;
        const cJSON *sch = doc_resolve(doc, "training.optimizer_configs.diffusion.scheduler");
        if (cJSON_IsObject(sch)) {
            const char *sn = doc_str(doc, "training.optimizer_configs.diffusion.scheduler.type");
            t->scheduler = sn && !strcmp(sn, "InverseLR") ? DS_SCHED_INVERSE_LR : DS_SCHED_OTHER;
            copy_name(t->scheduler_name, sizeof t->scheduler_name, sn ? sn : "?");
        }
    } else { /* learning_rate alone: torch.optim.Adam(lr) with torch's defaults, no scheduler */
        t->optimizer = DS_OPT_ADAM;
        copy_name(t->optimizer_name, sizeof t->optimizer_name, "Adam");
        t->lr = t->learning_rate;
        t->beta1 = 0.9;
        t->beta2 = 0.999;
        t->eps = 1e-8;
        t->weight_decay = 0.0;
        t->amsgrad = false;
        t->scheduler = DS_SCHED_NONE;
        copy_name(t->scheduler_name, sizeof t->scheduler_name, "none");
    }
    if (m->model_type == DS_MODEL_DIFFUSION_UNCOND) {
        t->use_ema = true;         /* always on for diffusion_uncond */
        t->demo.num_demos = 8;     /* fixed: the uncond factory does not pass num_demos */
        t->cfg_dropout_prob = 0.0; /* no CFG without conditioning */
    }
    ds_demo_config *d = &t->demo;
    const cJSON *dc = doc_resolve(doc, "training.demo.demo_cond");
    d->n_demo_cond = 0;
    for (const cJSON *e = cJSON_IsArray(dc) ? dc->child : NULL; e && d->n_demo_cond < DS_MAX_DEMOS; e = e->next) {
        ds_demo_cond *dcond = &d->demo_cond[d->n_demo_cond++];
        memset(dcond, 0, sizeof *dcond);
        for (const cJSON *kv = cJSON_IsObject(e) ? e->child : NULL; kv && dcond->n < DS_MAX_DEMO_KEYS; kv = kv->next) {
            ds_demo_value *v = &dcond->v[dcond->n];
            copy_name(v->key, sizeof v->key, kv->string);
            if (cJSON_IsString(kv)) {
                v->is_string = true;
                copy_name(v->string, sizeof v->string, kv->valuestring);
            } else if (cJSON_IsNumber(kv)) {
                v->number = kv->valuedouble;
            } else if (cJSON_IsBool(kv)) {
                v->number = cJSON_IsTrue(kv) ? 1.0 : 0.0;
            } else {
                continue;
            }
            dcond->n++;
        }
    }
}

static int64_t mul_cap(int64_t a, int64_t b) {
    if (a <= 0 || b <= 0) return a > 0 ? a : 1;
    return a > ((int64_t)1 << 62) / b ? ((int64_t)1 << 62) : a * b;
}

static void derive_model(ds_model_config *m) {
    int64_t f = 1;
    switch (m->backbone) {
    case DS_BB_DIT: f = m->dit.patch_size; break;
    case DS_BB_ADP_CFG_1D:
    case DS_BB_ADP_1D:
    case DS_BB_ADP_UNCOND_1D:
        f = m->adp.patch_size;
        for (int i = 0; i < m->adp.n_factors; i++) f = mul_cap(f, m->adp.factors[i]);
        break;
    case DS_BB_DAU1D:
        for (int i = 0; i < m->dau1d.depth - 1 && i < m->dau1d.n_strides; i++) f = mul_cap(f, m->dau1d.strides[i]);
        break;
    case DS_BB_NONE: break;
    }
    m->min_input_length = mul_cap(m->pretransform.ratio, f);
}

static void load_model(vctx *c, ds_model_config *m) {
    const ds_config_doc *doc = c->doc;
    const char *mt = doc_str(doc, "model_type");
    int ti = name_index(MODEL_TYPES, 4, mt);
    m->model_type = ti < 0 ? DS_MODEL_OTHER : (ds_model_type)ti;
    copy_name(m->model_type_name, sizeof m->model_type_name, mt);
    bind_apply(c, DS_BT_MODEL, m, -1);

    const char *bb = NULL;
    if (m->model_type == DS_MODEL_DIFFUSION_COND || m->model_type == DS_MODEL_DIFFUSION_COND_INPAINT)
        bb = doc_str(doc, "model.diffusion.type");
    else if (m->model_type == DS_MODEL_DIFFUSION_UNCOND)
        bb = doc_str(doc, "model.type");
    static const char *const BB[] = {"dit", "DAU1d", "adp_cfg_1d", "adp_1d", "adp_uncond_1d"};
    int bi = name_index(BB, 5, bb);
    m->backbone = bi < 0 ? DS_BB_NONE : (ds_backbone_type)bi;
    copy_name(m->backbone_name, sizeof m->backbone_name, bb ? bb : "none");

    if (m->model_type == DS_MODEL_DIFFUSION_UNCOND) {
        m->io_channels = m->backbone == DS_BB_DAU1D ? m->dau1d.io_channels
                         : m->backbone == DS_BB_DIT ? m->dit.io_channels
                         : m->backbone == DS_BB_NONE ? 0
                                                     : m->adp.in_channels;
    }
    if (m->adp.out_channels <= 0) m->adp.out_channels = m->adp.in_channels;
    m->dist_shift.present = cJSON_IsObject(doc_resolve(doc, "model.diffusion.distribution_shift_options"));
    if (m->model_type == DS_MODEL_DIFFUSION_COND || m->model_type == DS_MODEL_DIFFUSION_COND_INPAINT)
        load_conditioning(c, m);
    load_pretransform(c, m);
    load_training(c, m);
    derive_model(m);
}

ds_status ds_model_config_from_doc(const ds_config_doc *doc, ds_model_config *m, ds_diag_list *diags) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    int before = dl->n_errors;
    ds_model_config_defaults(m);
    CUT_PRINTF(m->path, sizeof m->path, "%s", doc->path);
    vctx c = {.doc = doc, .diags = dl, .bit = doc_apply_bit(doc)};
    ds_config_kind kind = ds_config_doc_kind(doc);
    if (kind != DS_KIND_MODEL) {
        vdiag(&c, DS_DIAG_ERROR, "", false, "expected a model config (with \"model_type\"), this is a %s",
              ds_config_kind_name(kind));
    } else if (!c.bit) { /* no usable model_type: nothing else can be checked */
        const cJSON *mt = obj_get(doc->root, "model_type");
        const ds_schema_key *k = ds_schema_find("model_type", DS_APPLY_MODEL);
        char msg[512];
        if (!mt) {
            ds_schema_describe(k, msg, sizeof msg);
            vdiag(&c, DS_DIAG_ERROR, "model_type", false, "missing required key \"model_type\" (%s)", msg);
        } else if (!schema_check_value(doc, k, mt, msg, sizeof msg)) {
            vdiag(&c, DS_DIAG_ERROR, "model_type", false, "%s", msg);
        }
    } else {
        validate_walk(&c);
        load_model(&c, m);
        if (m->model_type <= DS_MODEL_DIFFUSION_UNCOND) model_checks(&c, m);
        if (m->model_type == DS_MODEL_OTHER)
            vdiag(&c, DS_DIAG_WARNING, "model_type", false,
                  "model_type \"%s\" is outside diffstudio's scope: the file is kept, not checked",
                  m->model_type_name);
    }
    ds_status s = dl->n_errors > before ? DS_ERR_INVALID : DS_OK;
    ds_diag_list_free(&local);
    return s;
}

ds_status ds_model_config_load(const char *path, ds_model_config *out, ds_diag_list *diags, ds_err *err) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    ds_config_doc *doc = NULL;
    ds_model_config_defaults(out);
    ds_status s = ds_config_doc_load(path, &doc, dl, err);
    if (s == DS_OK) {
        s = ds_model_config_from_doc(doc, out, dl);
        if (s != DS_OK) ds_diag_to_err(dl, s, err);
    }
    ds_config_doc_free(doc);
    ds_diag_list_free(&local);
    return s;
}
