/* Model construction, weight IO and the generic entry points (sat-spec §1.2-1.4, §2). */
#include "models/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "tensor/safetensors.h"

ds_call_opts ds_call_opts_default(void) {
    ds_call_opts o;
    memset(&o, 0, sizeof o);
    o.cfg_scale = 1.0f;
    o.batch_cfg = true;
    o.cfg_interval[0] = 0.0f;
    o.cfg_interval[1] = 1.0f;
    return o;
}

static ds_status conditioners_create(ds_model *m, ds_err *err) {
    const ds_conditioning_config *cc = &m->cfg.conditioning;
    m->n_cond = cc->n;
    for (int i = 0; i < cc->n; i++) {
        const ds_conditioner_config *k = &cc->c[i];
        ds_conditioner *d = &m->cond[i];
        memset(d, 0, sizeof *d);
        d->cfg = k;
        snprintf(m->params.prefix, sizeof m->params.prefix, "conditioner.conditioners.%s.", k->id);
        int D = k->output_dim;
        switch (k->type) {
        case DS_COND_NUMBER:
            /* NumberEmbedder(features=D): LearnedPositionalEmbedding(256) + Linear(257, D) */
            d->fourier_w = ds_param_add1(&m->params, DS_PG_COND, "embedder.embedding.0.weights", 128);
            ds_param_init_as(d->fourier_w, DS_INIT_NORMAL, 1.0f);
            d->lin_w = ds_param_add2(&m->params, DS_PG_COND, "embedder.embedding.1.weight", D, 257);
            d->lin_b = ds_param_add1(&m->params, DS_PG_COND, "embedder.embedding.1.bias", D);
            break;
        case DS_COND_INT: {
            int64_t rows = (int64_t)k->max_val - (int64_t)k->min_val + 1;
            if (rows < 1 || rows > 100000000)
                return ds_err_set(err, DS_ERR_INVALID, "conditioner \"%s\": int range %g..%g is not usable", k->id,
                                  k->min_val, k->max_val);
            d->table = ds_param_add2(&m->params, DS_PG_COND, "int_embedder.weight", rows, D);
            ds_param_init_as(d->table, DS_INIT_NORMAL, 1.0f);
            break;
        }
        case DS_COND_LIST:
            d->table = ds_param_add2(&m->params, DS_PG_COND, "embedder.weight", k->n_options + 1, D);
            ds_param_init_as(d->table, DS_INIT_NORMAL, 1.0f);
            break;
        default:
            m->params.prefix[0] = 0;
            return ds_err_set(err, DS_ERR_UNSUPPORTED,
                              "model.conditioning.configs[%d] (id \"%s\"): conditioner type \"%s\" cannot run in "
                              "diffstudio yet (runnable: number, int, list)",
                              i, k->id, k->type_name);
        }
    }
    m->params.prefix[0] = 0;
    return DS_OK;
}

ds_status ds_model_create(const ds_model_config *cfg, ds_model **out, ds_err *err) {
    *out = NULL;
    ds_model *m = calloc(1, sizeof *m);
    if (!m) return ds_err_set(err, DS_ERR_NOMEM, "out of memory creating the model");
    m->cfg = *cfg;
    ds_params_init(&m->params);
    ds_status s = DS_OK;
    if (cfg->model_type == DS_MODEL_DIFFUSION_COND || cfg->model_type == DS_MODEL_DIFFUSION_COND_INPAINT)
        s = conditioners_create(m, err);
    else if (cfg->model_type != DS_MODEL_DIFFUSION_UNCOND)
        s = ds_err_set(err, DS_ERR_UNSUPPORTED, "model_type \"%s\" is not a diffusion model diffstudio can train",
                       cfg->model_type_name);
    if (s == DS_OK) {
        /* DAU1d under DiffusionModelWrapper is "model.*"; every other wrapper nests "model.model.*". */
        bool dau_uncond = cfg->backbone == DS_BB_DAU1D && cfg->model_type == DS_MODEL_DIFFUSION_UNCOND;
        snprintf(m->params.prefix, sizeof m->params.prefix, "%s", dau_uncond ? "model." : "model.model.");
        m->bb.init_scale = 1.0f;
        switch (cfg->backbone) {
        case DS_BB_DIT: s = ds_dit_create(m, err); break;
        case DS_BB_DAU1D: s = ds_dau1d_create(m, err); break;
        case DS_BB_ADP_CFG_1D:
        case DS_BB_ADP_1D:
        case DS_BB_ADP_UNCOND_1D: s = ds_adp_create(m, err); break;
        default: s = ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.type: unknown backbone"); break;
        }
        m->params.prefix[0] = 0;
    }
    if (s == DS_OK) s = ds_params_alloc(&m->params, err);
    if (s != DS_OK) {
        ds_model_free(m);
        return s;
    }
    ds_model_init_buffers(m);
    *out = m;
    return DS_OK;
}

void ds_model_free(ds_model *m) {
    if (!m) return;
    if (m->bb.destroy) m->bb.destroy(m->bb.impl);
    ds_params_free(&m->params);
    free(m);
}

void ds_model_init_buffers(ds_model *m) {
    if (m->bb.init_buffers) m->bb.init_buffers(m);
}

void ds_model_init_random(ds_model *m, uint64_t seed) {
    ds_params_init_random(&m->params, seed, 1.0f);
    /* SAT's wrappers scale the backbone (not the conditioners) after construction. */
    if (m->bb.init_scale != 1.0f)
        for (int64_t i = m->params.range_begin[DS_PG_BACKBONE]; i < m->params.range_end[DS_PG_BACKBONE]; i++)
            m->params.data[i] *= m->bb.init_scale;
    ds_model_init_buffers(m);
}

ds_status ds_model_load(ds_model *m, const char *path, bool strict, ds_err *err) {
    ds_safetensors f;
    DS_TRY(ds_st_open(&f, path, err));
    ds_status s = DS_OK;
    int missing = 0;
    char first_missing[160] = "";
    for (int i = 0; i < m->params.n && s == DS_OK; i++) {
        ds_param *e = m->params.items[i];
        const ds_st_tensor *t = ds_st_find(&f, e->name);
        if (!t) {
            if (strict || e->group != DS_PG_BUFFER) {
                if (!missing++) snprintf(first_missing, sizeof first_missing, "%s", e->name);
            }
            continue;
        }
        s = ds_st_load_f32(&f, e->name, e->t.ndim, e->t.shape, e->t.data, err);
    }
    ds_st_close(&f);
    if (s == DS_OK && missing)
        s = ds_err_set(err, DS_ERR_FORMAT, "%s: %d tensor%s of the model missing, first \"%s\"", path, missing,
                       missing == 1 ? " is" : "s are", first_missing);
    return s;
}

ds_status ds_model_load_matching(ds_model *m, const char *path, int *loaded, int *skipped, ds_err *err) {
    ds_safetensors f;
    DS_TRY(ds_st_open(&f, path, err));
    *loaded = *skipped = 0;
    for (int i = 0; i < m->params.n; i++) {
        ds_param *e = m->params.items[i];
        const ds_st_tensor *t = ds_st_find(&f, e->name);
        bool same = t && t->ndim == e->t.ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == e->t.shape[d];
        if (!same) {
            ++*skipped;
            continue;
        }
        ds_st_to_f32(t, e->t.data);
        ++*loaded;
    }
    ds_st_close(&f);
    if (*loaded == 0)
        return ds_err_set(err, DS_ERR_FORMAT, "%s: no tensor matches this model by name and shape", path);
    return DS_OK;
}

ds_tensor *ds_model_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                            const ds_call_opts *o) {
    static const ds_cond_tensors none;
    ds_call_opts def = ds_call_opts_default();
    return m->bb.forward(m, c, x, t, cond ? cond : &none, o ? o : &def);
}
