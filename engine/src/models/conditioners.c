/* Conditioners `number`, `int`, `list` and the MultiConditioner assembly (sat-spec §1.4, §3).
 *
 * number: x = (clamp(v, min, max) − min)/(max − min) in float32; out = Linear(257 → D)([x, sin f, cos f])
 *         with f = x·w·2π (NumberEmbedder); [B, 1, D], mask ones [B, 1].
 * int:    row clamp(v, min, max) of int_embedder — SAT indexes by the clamped value itself, not
 *         v − min (so min_val > 0 leaves the first rows unused); non-integers are truncated.
 * list:   row (index of the string in options) + 1, or 0 for an unknown string.
 * Metadata lookup: an item without the conditioner's id uses default_keys[id]. SAT switches the
 * key for the rest of the batch once one item lacks it (sat-spec §8.3.24); diffstudio decides
 * per item, which gives SAT's result whenever SAT does not crash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "models/model.h"
#include "ops/ops.h"

static const ds_meta_kv *lookup(const ds_model *m, const ds_conditioner_config *k, const ds_meta *item) {
    const ds_meta_kv *v = ds_meta_get(item, k->id);
    if (v) return v;
    const ds_conditioning_config *cc = &m->cfg.conditioning;
    for (int i = 0; i < cc->n_default_keys; i++)
        if (strcmp(cc->default_key_id[i], k->id) == 0) return ds_meta_get(item, cc->default_key_val[i]);
    return NULL;
}

static ds_status number_of(const ds_meta_kv *v, const char *id, int b, double *out, ds_err *err) {
    if (!v->is_string) {
        *out = v->number;
        return DS_OK;
    }
    char *end;
    *out = strtod(v->string, &end);
    if (end == v->string || *end)
        return ds_err_set(err, DS_ERR_INVALID, "conditioner \"%s\", item %d: expected a number, got \"%s\"", id, b,
                          v->string);
    return DS_OK;
}

ds_status ds_conditioner_run(ds_model *m, ds_ctx *c, int index, const ds_meta *items, int B, ds_tensor **out,
                             ds_tensor **mask, ds_err *err) {
    DS_ASSERT(index >= 0 && index < m->n_cond);
    ds_conditioner *d = &m->cond[index];
    const ds_conditioner_config *k = d->cfg;
    int64_t *idx = calloc((size_t)B, sizeof *idx);
    float *vals = calloc((size_t)B, sizeof *vals);
    if (!idx || !vals) {
        free(idx);
        free(vals);
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    }
    ds_status s = DS_OK;
    for (int b = 0; b < B && s == DS_OK; b++) {
        const ds_meta_kv *v = lookup(m, k, &items[b]);
        if (!v) {
            s = ds_err_set(err, DS_ERR_INVALID, "conditioner \"%s\": item %d has no \"%s\" value%s", k->id, b, k->id,
                           m->cfg.conditioning.n_default_keys ? " (nor its default key)" : "");
            break;
        }
        double num;
        switch (k->type) {
        case DS_COND_NUMBER:
            if ((s = number_of(v, k->id, b, &num, err)) != DS_OK) break;
            {
                float f = (float)num, lo = (float)k->min_val, hi = (float)k->max_val;
                f = f < lo ? lo : (f > hi ? hi : f);
                vals[b] = (f - lo) / (float)(k->max_val - k->min_val);
            }
            break;
        case DS_COND_INT:
            if ((s = number_of(v, k->id, b, &num, err)) != DS_OK) break;
            num = num < k->min_val ? k->min_val : (num > k->max_val ? k->max_val : num);
            idx[b] = (int64_t)num;
            if (idx[b] < 0 || idx[b] >= d->table->shape[0])
                s = ds_err_set(err, DS_ERR_INVALID,
                               "conditioner \"%s\", item %d: value %lld is outside the embedding table (SAT indexes "
                               "int conditioners by the clamped value; min_val > 0 is not usable)",
                               k->id, b, (long long)idx[b]);
            break;
        case DS_COND_LIST:
            idx[b] = 0;
            if (v->is_string)
                for (int o = 0; o < k->n_options; o++)
                    if (strcmp(k->options[o], v->string) == 0) idx[b] = o + 1;
            break;
        default: s = ds_err_set(err, DS_ERR_UNSUPPORTED, "conditioner \"%s\" cannot run", k->id); break;
        }
    }
    if (s == DS_OK) {
        ds_tensor *y;
        if (k->type == DS_COND_NUMBER) {
            ds_tensor *x = ds_new_from_host(c, 1, (int64_t[]){B}, vals);
            ds_tensor *f = ds_fourier(c, x, d->fourier_w, DS_FOURIER_X_SIN_COS);
            y = ds_linear(c, f, d->lin_w, d->lin_b);
        } else {
            y = ds_embedding(c, d->table, idx, B);
        }
        *out = ds_reshape3(c, y, B, 1, ds_dim(y, -1));
        if (mask) {
            *mask = ds_new_fill(c, 2, (int64_t[]){B, 1}, 1.0f);
        }
    }
    free(idx);
    free(vals);
    return s;
}

static int find_cond(const ds_model *m, const char *id) { return ds_conditioning_find(&m->cfg.conditioning, id); }

ds_status ds_model_condition(ds_model *m, ds_ctx *c, const ds_meta *items, int B, ds_cond_tensors *out, ds_err *err) {
    memset(out, 0, sizeof *out);
    ds_tensor *emb[DS_MAX_CONDITIONERS] = {0}, *msk[DS_MAX_CONDITIONERS] = {0};
    for (int i = 0; i < m->n_cond; i++) DS_TRY(ds_conditioner_run(m, c, i, items, B, &emb[i], &msk[i], err));

    const ds_model_config *cfg = &m->cfg;
    const ds_id_list *lists[4] = {&cfg->cross_attention_cond_ids, &cfg->global_cond_ids, &cfg->prepend_cond_ids,
                                  &cfg->input_concat_ids};
    static const char *names[4] = {"cross_attention_cond_ids", "global_cond_ids", "prepend_cond_ids",
                                   "input_concat_ids"};
    for (int l = 0; l < 4; l++) {
        const ds_id_list *ids = lists[l];
        if (ids->n == 0) continue;
        ds_tensor *ts[DS_MAX_IDS], *ms[DS_MAX_IDS];
        for (int j = 0; j < ids->n; j++) {
            int ci = find_cond(m, ids->id[j]);
            if (ci < 0)
                return ds_err_set(err, DS_ERR_INVALID, "model.diffusion.%s[%d]: no conditioner \"%s\"", names[l], j,
                                  ids->id[j]);
            ts[j] = emb[ci];
            ms[j] = msk[ci];
        }
        if (ids->n > DS_REC_MAX_IN)
            return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.%s: more than %d ids", names[l], DS_REC_MAX_IN);
        switch (l) {
        case 0:
            out->cross_attn_cond = ds_concat(c, 1, ids->n, ts);
            out->cross_attn_mask = ds_concat(c, 1, ids->n, ms);
            break;
        case 1: {
            ds_tensor *g = ds_concat(c, 2, ids->n, ts); /* [B, 1, ΣD] */
            out->global_cond = ds_reshape2(c, g, B, ds_dim(g, -1));
            break;
        }
        case 2:
            out->prepend_cond = ds_concat(c, 1, ids->n, ts);
            out->prepend_cond_mask = ds_concat(c, 1, ids->n, ms);
            break;
        case 3: {
            /* Channel concatenation of [B, C_i, T] tensors. Embedding conditioners give [B, 1, D]:
             * SAT would concatenate them as 1-channel signals of length D; so do we. */
            out->input_concat_cond = ds_concat(c, 1, ids->n, ts);
            break;
        }
        }
    }
    return DS_OK;
}
