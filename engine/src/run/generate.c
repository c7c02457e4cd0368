/* Generation (sat-spec §5.1 generate_diffusion_cond) and export (§4.9 unwrap_model). */
#include "engine/generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pool.h"
#include "device/device.h"
#include "diffusion/render.h"
#include "models/pretransform.h"
#include "ops/ops.h"
#include "run/checkpoint.h"
#include "tensor/safetensors.h"

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

ds_status ds_resolve_weights(const char *source, char *path, size_t n, bool *is_ckpt, ds_err *err) {
    char probe[DS_PATH_LEN + 64];
    *is_ckpt = false;
    if (is_dir(source)) {
        snprintf(probe, sizeof probe, "%s/state.json", source);
        if (access(probe, R_OK) == 0) {
            snprintf(path, n, "%s", source);
            *is_ckpt = true;
            return DS_OK;
        }
        snprintf(probe, sizeof probe, "%s/checkpoints", source);
        if (is_dir(probe)) {
            DS_TRY(ds_ckpt_latest(probe, path, n, NULL, err));
            *is_ckpt = true;
            return DS_OK;
        }
        return ds_err_set(err, DS_ERR_IO, "%s: neither a run directory (no checkpoints/) nor a checkpoint (no state.json)",
                          source);
    }
    if (access(source, R_OK) != 0)
        return ds_err_set(err, DS_ERR_IO, "%s: no such run, checkpoint or weights file", source);
    snprintf(path, n, "%s", source);
    return DS_OK;
}

bool ds_run_config_path(const char *source, char *path, size_t n) {
    char dir[DS_PATH_LEN];
    snprintf(dir, sizeof dir, "%s", source);
    /* a checkpoint dir lives in <run>/checkpoints/step-N: walk up two levels */
    for (int up = 0; up < 3; up++) {
        snprintf(path, n, "%s/config.json", dir);
        if (is_dir(dir) && access(path, R_OK) == 0) return true;
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = 0;
    }
    return false;
}

/* Builds the model and loads weights from a resolved source. */
static ds_status load_model(const ds_model_config *cfg, const char *source, bool use_ema, ds_model **out, ds_err *err) {
    char path[DS_PATH_LEN + 64];
    bool ckpt;
    DS_TRY(ds_resolve_weights(source, path, sizeof path, &ckpt, err));
    DS_TRY(ds_model_create(cfg, out, err));
    ds_model *m = *out;
    ds_status s;
    if (!ckpt) {
        s = ds_model_load(m, path, false, err);
    } else {
        char file[DS_PATH_LEN + 96];
        snprintf(file, sizeof file, "%s/model.safetensors", path);
        s = ds_model_load(m, file, true, err);
        snprintf(file, sizeof file, "%s/ema.safetensors", path);
        if (s == DS_OK && use_ema && access(file, R_OK) == 0) {
            /* EMA backbone over the online one (conditioners stay online, as SAT exports) */
            ds_safetensors f;
            s = ds_st_open(&f, file, err);
            for (int i = 0; s == DS_OK && i < m->params.n; i++) {
                ds_param *e = m->params.items[i];
                if (e->group != DS_PG_BACKBONE) continue;
                s = ds_st_load_f32(&f, e->name, e->t.ndim, e->t.shape, e->t.data, err);
            }
            if (s == DS_OK || f.map) ds_st_close(&f);
        }
    }
    if (s != DS_OK) {
        ds_model_free(m);
        *out = NULL;
    }
    return s;
}

ds_status ds_export(const char *source, const ds_model_config *cfg, const char *out_path, bool use_ema, ds_err *err) {
    ds_model *m = NULL;
    DS_TRY(load_model(cfg, source, use_ema, &m, err));
    const ds_params *p = &m->params;
    ds_st_entry *e = calloc((size_t)p->n + 1, sizeof *e);
    if (!e) {
        ds_model_free(m);
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < p->n; i++) {
        const ds_param *q = p->items[i];
        e[i].name = q->name;
        e[i].dtype = DS_F32;
        e[i].ndim = q->t.ndim;
        for (int d = 0; d < q->t.ndim; d++) e[i].shape[d] = q->t.shape[d];
        e[i].data = q->t.data;
    }
    const char *mk[] = {"format", "producer"}, *mv[] = {"pt", "diffstudio export"};
    ds_status s = ds_st_write(out_path, e, p->n, mk, mv, 2, err);
    free(e);
    ds_model_free(m);
    return s;
}

typedef struct progress_ctx {
    const ds_generate_opts *o;
} progress_ctx;

static void on_step(void *user, const ds_sample_step *s) {
    const ds_generate_opts *o = ((progress_ctx *)user)->o;
    if (o->progress) o->progress(o->user, s->i + 1, s->n);
}

ds_status ds_generate(const ds_generate_opts *o, ds_generate_result *r, ds_err *err) {
    memset(r, 0, sizeof *r);
    if (o->batch < 1) return ds_err_set(err, DS_ERR_INVALID, "--batch: expected at least 1, got %d", o->batch);
    ds_set_threads(o->threads);
    ds_model_config *cfg = malloc(sizeof *cfg);
    if (!cfg) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    *cfg = *o->cfg;
    if (o->sample_size > 0) cfg->sample_size = o->sample_size;
    ds_model *m = NULL;
    ds_device *dev = NULL;
    ds_status s = DS_OK;
    if (o->device && strcmp(o->device, "cpu") != 0) {
        ds_precision prec = DS_PREC_32;
        if ((s = ds_precision_parse(o->precision, &prec, err)) == DS_OK) s = ds_device_open(o->device, prec, &dev, err);
        if (s != DS_OK) {
            free(cfg);
            return s;
        }
    }
    s = load_model(cfg, o->weights, o->use_ema, &m, err);
    if (s == DS_OK && dev) s = ds_params_bind(&m->params, dev, err); /* the model's tables onto the device */
    if (s != DS_OK) {
        ds_model_free(m);
        ds_device_close(dev);
        free(cfg);
        return s;
    }
    bool cond_model = cfg->model_type != DS_MODEL_DIFFUSION_UNCOND;
    ds_objective obj = cond_model ? cfg->objective : DS_OBJ_V;
    const char *name = o->sampler && o->sampler[0] ? o->sampler
                       : obj == DS_OBJ_V             ? "dpmpp-3m-sde"
                       : obj == DS_OBJ_RF_DENOISER   ? "pingpong"
                                                     : "euler";
    ds_sampler_kind kind;
    float *lat = NULL;
    ds_ctx c;
    ds_ctx_init(&c);
    ds_ctx_set_device(&c, dev, false); /* conditioning tensors live where the model runs */
    if ((s = ds_sampler_parse(name, &obj, &kind, err)) != DS_OK) goto out;
    ds_sampler_params sp = ds_sampler_defaults(kind);
    sp.steps = o->steps > 0 ? o->steps : (obj == DS_OBJ_RF_DENOISER ? 8 : (obj == DS_OBJ_V ? 100 : 50));
    if (o->sigma_min > 0) sp.sigma_min = o->sigma_min;
    if (o->sigma_max > 0) sp.sigma_max = o->sigma_max;
    ds_rng rng;
    ds_rng_init(&rng, o->seed);
    sp.rng = &rng;
    sp.cancel = o->cancel;
    progress_ctx pc = {o};
    sp.on_step = on_step;
    sp.user = &pc;
    int ratio = cfg->pretransform.ratio > 0 ? cfg->pretransform.ratio : 1;
    int64_t T = cfg->sample_size / ratio, C = cfg->io_channels, B = o->batch;
    if (T < 1) {
        s = ds_err_set(err, DS_ERR_INVALID, "sample length %lld is shorter than the pretransform ratio %d",
                       (long long)cfg->sample_size, ratio);
        goto out;
    }
    ds_cond_tensors ct;
    memset(&ct, 0, sizeof ct);
    if (cond_model && m->n_cond > 0) {
        if (!o->cond) {
            s = ds_err_set(err, DS_ERR_INVALID, "this model is conditioned: give a value for every conditioner");
            goto out;
        }
        if ((s = ds_model_condition(m, &c, o->cond, (int)B, &ct, err)) != DS_OK) goto out;
        if (o->negative) {
            ds_cond_tensors nt;
            if ((s = ds_model_condition(m, &c, o->negative, (int)B, &nt, err)) != DS_OK) goto out;
            ct.negative_cross_attn_cond = nt.cross_attn_cond;
            ct.negative_cross_attn_mask = nt.cross_attn_mask;
        }
    }
    double cfg_scale = o->cfg_scale > 0 ? o->cfg_scale : (obj == DS_OBJ_RF_DENOISER ? 1.0 : 7.0);
    ds_render_args a;
    memset(&a, 0, sizeof a);
    a.model = m;
    a.cond = cond_model ? &ct : NULL;
    a.call = ds_call_opts_generate((float)cfg_scale);
    if (o->scale_phi > 0) {
        a.call.has_scale_phi = true;
        a.call.scale_phi = (float)o->scale_phi;
    }
    a.sampler = sp;
    a.batch = B;
    a.length = T;
    lat = malloc((size_t)(B * C * T) * sizeof(float));
    /* audio shape after decoding: the patched pretransform folds `ratio` frames into channels */
    int64_t Ca = C / ratio, Ta = T * ratio;
    r->audio = malloc((size_t)(B * Ca * Ta) * sizeof(float));
    if (!lat || !r->audio) {
        s = ds_err_set(err, DS_ERR_NOMEM, "out of memory for %lld x %lld x %lld samples", (long long)B, (long long)C,
                       (long long)T);
        goto out;
    }
    if ((s = ds_render(&a, lat, err)) != DS_OK) goto out;
    if ((s = ds_pretransform_decode(&cfg->pretransform, lat, B, C, T, r->audio, err)) != DS_OK) goto out;
    r->batch = (int)B;
    r->channels = (int)Ca;
    r->frames = Ta;
    r->sample_rate = cfg->sample_rate;
    snprintf(r->sampler, sizeof r->sampler, "%s", ds_sampler_name(kind));
    r->steps = sp.steps;
    r->cfg_scale = cfg_scale;
out:
    if (s != DS_OK) {
        free(r->audio);
        r->audio = NULL;
    }
    free(lat);
    ds_ctx_free(&c);
    ds_model_free(m);
    ds_device_close(dev);
    free(cfg);
    return s;
}

int64_t ds_min_input_length(const ds_model_config *cfg) {
    int64_t m = cfg->pretransform.ratio > 0 ? cfg->pretransform.ratio : 1;
    switch (cfg->backbone) {
    case DS_BB_DIT: m *= cfg->dit.patch_size > 0 ? cfg->dit.patch_size : 1; break;
    case DS_BB_ADP_CFG_1D:
    case DS_BB_ADP_1D:
    case DS_BB_ADP_UNCOND_1D:
        for (int i = 0; i < cfg->adp.n_factors; i++) m *= cfg->adp.factors[i] > 0 ? cfg->adp.factors[i] : 1;
        m *= cfg->adp.patch_size > 0 ? cfg->adp.patch_size : 1;
        break;
    case DS_BB_DAU1D:
        for (int i = 0; i + 1 < cfg->dau1d.depth && i < cfg->dau1d.n_strides; i++)
            m *= cfg->dau1d.strides[i] > 0 ? cfg->dau1d.strides[i] : 1;
        break;
    default: break;
    }
    return m;
}
