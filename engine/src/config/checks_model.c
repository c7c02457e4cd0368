/* SAT's cross-field rules for diffusion model configs: what a single key's type and range
 * cannot show (sat-spec §1-2, the pitfalls of §8.3 that a config can show). Each rule says
 * what was found, what SAT needs, and points at the key to change. Runs on the loaded
 * struct, with the document for positions; every problem is reported. */
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

typedef struct ck {
    vctx *c;
    const ds_model_config *m;
    bool cond;           /* conditioned layout (model.diffusion...) */
    char cfg[32];        /* backbone config prefix */
} ck;

static const char *kpath(const ck *k, const char *key, char *buf, size_t n) {
    CUT_PRINTF(buf, n, "%s.%s", k->cfg, key);
    return buf;
}

static const ds_conditioner_config *cond_of(const ds_model_config *m, const char *id) {
    int i = ds_conditioning_find(&m->conditioning, id);
    return i < 0 ? NULL : &m->conditioning.c[i];
}

/* ---- conditioners and routing --------------------------------------------------------------- */

static void check_conditioners(ck *k) {
    const ds_conditioning_config *cc = &k->m->conditioning;
    int total = ds_config_doc_array_len(k->c->doc, "model.conditioning.configs");
    if (total > DS_MAX_CONDITIONERS)
        vdiag(k->c, DS_DIAG_ERROR, "model.conditioning.configs", false,
              "%d conditioners, more than the %d diffstudio supports", total, DS_MAX_CONDITIONERS);
    char p[JPATH_MAX];
    for (int i = 0; i < cc->n; i++) {
        const ds_conditioner_config *c = &cc->c[i];
        for (int j = 0; j < i; j++)
            if (c->id[0] && !strcmp(cc->c[j].id, c->id)) {
                CUT_PRINTF(p, sizeof p, "model.conditioning.configs[%d].id", i);
                vdiag(k->c, DS_DIAG_ERROR, p, false,
                      "conditioner id \"%s\" is already used by configs[%d] (ids must be unique)", c->id, j);
            }
        if (c->type == DS_COND_NUMBER && !(c->max_val > c->min_val)) {
            CUT_PRINTF(p, sizeof p, "model.conditioning.configs[%d].config.max_val", i);
            vdiag(k->c, DS_DIAG_ERROR, p, false,
                  "max_val (%g) must be greater than min_val (%g): NumberConditioner divides by "
                  "max_val - min_val", c->max_val, c->min_val);
        }
        if (c->type == DS_COND_INT) {
            CUT_PRINTF(p, sizeof p, "model.conditioning.configs[%d].config.max_val", i);
            if (c->max_val < c->min_val)
                vdiag(k->c, DS_DIAG_ERROR, p, false, "max_val (%g) is below min_val (%g)", c->max_val,
                      c->min_val);
            else if (c->min_val > 0)
                vdiag(k->c, DS_DIAG_WARNING, p, false,
                      "with min_val %g > 0, values above %g index past IntConditioner's %g table rows "
                      "(SAT indexes with the clamped value itself, not value - min_val)",
                      c->min_val, c->max_val - c->min_val, c->max_val - c->min_val + 1);
        }
        if (c->type == DS_COND_LIST && c->n_options == 0 &&
            ds_config_doc_has(k->c->doc, (snprintf(p, sizeof p, "model.conditioning.configs[%d].config.options", i), p)))
            vdiag(k->c, DS_DIAG_ERROR, p, false, "options is empty: the list conditioner needs values");
    }
}

static void check_ids(ck *k, const char *key, const ds_id_list *l) {
    const ds_conditioning_config *cc = &k->m->conditioning;
    char p[JPATH_MAX], ip[JPATH_MAX];
    CUT_PRINTF(p, sizeof p, "model.diffusion.%s", key);
    const char *ids[DS_MAX_CONDITIONERS];
    for (int i = 0; i < cc->n; i++) ids[i] = cc->c[i].id;
    for (int i = 0; i < l->n; i++) {
        path_join_index(ip, sizeof ip, p, i);
        if (ds_conditioning_find(cc, l->id[i]) < 0) {
            const char *near = near_miss(l->id[i], ids, cc->n);
            char defined[300] = "";
            size_t o = 0;
            for (int j = 0; j < cc->n && o < sizeof defined; j++)
                o += (size_t)snprintf(defined + o, sizeof defined - o, "%s\"%s\"", j ? ", " : "", cc->c[j].id);
            if (near)
                vdiag(k->c, DS_DIAG_ERROR, ip, false,
                      "\"%s\" is not a conditioner id (did you mean \"%s\"?); defined: %s", l->id[i], near,
                      defined);
            else
                vdiag(k->c, DS_DIAG_ERROR, ip, false, "\"%s\" is not a conditioner id; defined: %s", l->id[i],
                      cc->n ? defined : "none");
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(l->id[j], l->id[i]))
                vdiag(k->c, DS_DIAG_WARNING, ip, false, "\"%s\" is listed twice: its output is used twice",
                      l->id[i]);
    }
}

static void check_routing(ck *k) {
    const ds_model_config *m = k->m;
    check_ids(k, "cross_attention_cond_ids", &m->cross_attention_cond_ids);
    check_ids(k, "global_cond_ids", &m->global_cond_ids);
    check_ids(k, "prepend_cond_ids", &m->prepend_cond_ids);
    check_ids(k, "input_concat_ids", &m->input_concat_ids);
    const ds_conditioning_config *cc = &m->conditioning;
    char p[JPATH_MAX];
    for (int i = 0; i < cc->pre_encoded_keys.n; i++)
        if (ds_conditioning_find(cc, cc->pre_encoded_keys.id[i]) < 0) {
            CUT_PRINTF(p, sizeof p, "model.conditioning.pre_encoded_keys[%d]", i);
            vdiag(k->c, DS_DIAG_ERROR, p, false, "\"%s\" is not a conditioner id", cc->pre_encoded_keys.id[i]);
        }
    for (int i = 0; i < cc->n_default_keys; i++)
        if (ds_conditioning_find(cc, cc->default_key_id[i]) < 0) {
            path_join_key(p, sizeof p, "model.conditioning.default_keys", cc->default_key_id[i]);
            vdiag(k->c, DS_DIAG_WARNING, p, true, "\"%s\" is not a conditioner id: this fallback is never used",
                  cc->default_key_id[i]);
        }
    const char *bb = m->backbone_name;
    if (m->prepend_cond_ids.n && m->backbone != DS_BB_DIT)
        vdiag(k->c, DS_DIAG_ERROR, "model.diffusion.prepend_cond_ids", false,
              "prepend_cond_ids only works with diffusion transformer (dit) models; model.diffusion.type is \"%s\"",
              bb);
    if (m->cross_attention_cond_ids.n && (m->backbone == DS_BB_ADP_1D || m->backbone == DS_BB_DAU1D))
        vdiag(k->c, DS_DIAG_ERROR, "model.diffusion.cross_attention_cond_ids", false,
              "%s has no cross-attention (use dit or adp_cfg_1d)", bb);
    if (m->global_cond_ids.n && m->backbone == DS_BB_DAU1D)
        vdiag(k->c, DS_DIAG_ERROR, "model.diffusion.global_cond_ids", false,
              "DAU1d has no global conditioning (it takes input_concat_ids through cond_dim)");
    for (int i = 0; i < cc->n; i++) {
        const char *id = cc->c[i].id;
        bool used = false;
        const ds_id_list *lists[] = {&m->cross_attention_cond_ids, &m->global_cond_ids, &m->prepend_cond_ids,
                                     &m->input_concat_ids};
        for (int l = 0; l < 4; l++)
            for (int j = 0; j < lists[l]->n; j++) used |= !strcmp(lists[l]->id[j], id);
        if (!used && id[0]) {
            CUT_PRINTF(p, sizeof p, "model.conditioning.configs[%d].id", i);
            vdiag(k->c, DS_DIAG_WARNING, p, false,
                  "conditioner \"%s\" is in no routing list (SAT still runs it on every batch)", id);
        }
    }
}

/* Sum of output_dim over a routing list; -1 if an id is undefined (reported elsewhere). */
static long sum_dims(const ds_model_config *m, const ds_id_list *l, char *expl, size_t n) {
    long s = 0;
    size_t o = 0;
    if (n) expl[0] = 0;
    for (int i = 0; i < l->n; i++) {
        const ds_conditioner_config *c = cond_of(m, l->id[i]);
        if (!c) return -1;
        s += c->output_dim;
        if (o < n) o += (size_t)snprintf(expl + o, n - o, "%s%d", i ? " + " : "", c->output_dim);
    }
    return s;
}

/* Every conditioner of a sequence-concatenated list must be `want` wide. */
static void check_each_dim(ck *k, const ds_id_list *l, int want, const char *key, const char *what) {
    char p[JPATH_MAX];
    for (int i = 0; i < l->n; i++) {
        const ds_conditioner_config *c = cond_of(k->m, l->id[i]);
        if (c && c->output_dim != want)
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, key, p, sizeof p), false,
                  "%s is %d but conditioner \"%s\" gives %d-wide tokens (its output_dim; %s)", key, want, c->id,
                  c->output_dim, what);
    }
}

static void check_sum_dim(ck *k, const ds_id_list *l, int have, const char *key, const char *list) {
    char p[JPATH_MAX], expl[200];
    long s = sum_dims(k->m, l, expl, sizeof expl);
    if (s >= 0 && l->n && s != have)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, key, p, sizeof p), false,
              "%s is %d but the %s conditioners give %ld (output_dims %s, concatenated along channels)", key, have,
              list, s, expl);
}

/* ---- backbones -------------------------------------------------------------------------------- */

static void check_io(ck *k, int backbone_io, const char *key) {
    char p[JPATH_MAX];
    if (k->cond && backbone_io != k->m->io_channels && k->m->io_channels > 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, key, p, sizeof p), false,
              "%s is %d but model.io_channels is %d: they must match", key, backbone_io, k->m->io_channels);
}

static void check_dit(ck *k) {
    const ds_dit_config *d = &k->m->dit;
    const ds_model_config *m = k->m;
    char p[JPATH_MAX];
    check_io(k, d->io_channels, "io_channels");
    if (!k->cond && ds_config_doc_has(k->c->doc, "model.config.io_channels"))
        vdiag(k->c, DS_DIAG_ERROR, "model.config.io_channels", true,
              "DiTUncondWrapper passes in_channels on as io_channels: giving io_channels too makes SAT fail "
              "(use in_channels)");
    if (d->num_heads > 0 && d->embed_dim % d->num_heads)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "num_heads", p, sizeof p), false,
              "embed_dim %d is not divisible by num_heads %d", d->embed_dim, d->num_heads);
    int dh = d->num_heads > 0 ? d->embed_dim / d->num_heads : 0;
    if (d->num_heads > 0 && dh < 32 && d->rotary_pos_emb)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "num_heads", p, sizeof p), false,
              "head dimension embed_dim / num_heads = %d / %d = %d is below 32: SAT's rotary embedding "
              "uses max(head_dim/2, 32) dimensions per head and fails (use at most %d heads)",
              d->embed_dim, d->num_heads, dh, d->embed_dim / 32 > 0 ? d->embed_dim / 32 : 1);
    if (d->cond_token_dim > 0 && !d->project_cond_tokens && dh > 0) {
        if (d->cond_token_dim % dh)
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "cond_token_dim", p, sizeof p), false,
                  "with project_cond_tokens false, cond_token_dim %d must be a multiple of the head "
                  "dimension %d (the tokens are split into key/value heads)", d->cond_token_dim, dh);
        else if (d->num_heads % (d->cond_token_dim / dh))
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "cond_token_dim", p, sizeof p), false,
                  "with project_cond_tokens false, cond_token_dim %d gives %d key/value heads, which does "
                  "not divide num_heads %d", d->cond_token_dim, d->cond_token_dim / dh, d->num_heads);
    }
    if (!d->project_global_cond && d->global_cond_dim > 0 && d->global_cond_dim != d->embed_dim)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "project_global_cond", p, sizeof p), false,
              "with project_global_cond false, global_cond_dim (%d) must equal embed_dim (%d)",
              d->global_cond_dim, d->embed_dim);
    if (d->timestep_cond_type == DS_TIMESTEP_COND_INPUT_CONCAT && d->timestep_embed_dim <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "timestep_embed_dim", p, sizeof p), false,
              "timestep_cond_type \"input_concat\" needs timestep_embed_dim");
    if (d->causal)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "causal", p, sizeof p), false,
              "must be false: the diffusion transformer asserts non-causal attention");
    if (!k->cond) return;
    if (m->cross_attention_cond_ids.n && d->cond_token_dim <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "cond_token_dim", p, sizeof p), false,
              "cross_attention_cond_ids are given but cond_token_dim is 0 (no cross-attention layers)");
    else if (m->cross_attention_cond_ids.n)
        check_each_dim(k, &m->cross_attention_cond_ids, d->cond_token_dim, "cond_token_dim",
                       "cross-attention tokens are concatenated along the sequence");
    else if (d->cond_token_dim > 0)
        vdiag(k->c, DS_DIAG_WARNING, kpath(k, "cond_token_dim", p, sizeof p), false,
              "cross-attention layers are built but no cross_attention_cond_ids feed them");
    if (m->global_cond_ids.n && d->global_cond_dim <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "global_cond_dim", p, sizeof p), false,
              "global_cond_ids are given but global_cond_dim is 0");
    else
        check_sum_dim(k, &m->global_cond_ids, d->global_cond_dim, "global_cond_dim", "global");
    if (!m->global_cond_ids.n && d->global_cond_dim > 0)
        vdiag(k->c, DS_DIAG_WARNING, kpath(k, "global_cond_dim", p, sizeof p), false,
              "global_cond_dim is %d but no global_cond_ids feed it", d->global_cond_dim);
    if (m->prepend_cond_ids.n && d->prepend_cond_dim <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "prepend_cond_dim", p, sizeof p), false,
              "prepend_cond_ids are given but prepend_cond_dim is 0");
    else if (m->prepend_cond_ids.n)
        check_each_dim(k, &m->prepend_cond_ids, d->prepend_cond_dim, "prepend_cond_dim",
                       "prepended tokens are concatenated along the sequence");
    if (m->input_concat_ids.n && d->input_concat_dim <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "input_concat_dim", p, sizeof p), false,
              "input_concat_ids are given but input_concat_dim is 0");
}

static void check_adp(ck *k) {
    const ds_adp_config *a = &k->m->adp;
    const ds_model_config *m = k->m;
    char p[JPATH_MAX];
    int L = a->n_factors;
    check_io(k, a->in_channels, "in_channels");
    if (L == 0 && ds_config_doc_has(k->c->doc, kpath(k, "factors", p, sizeof p)))
        vdiag(k->c, DS_DIAG_ERROR, p, false, "factors is empty: the U-Net needs at least one level");
    if (L > 0 && a->n_multipliers != L + 1)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "multipliers", p, sizeof p), false,
              "has %d entries, expected len(factors) + 1 = %d", a->n_multipliers, L + 1);
    if (L > 0 && a->n_num_blocks != L)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "num_blocks", p, sizeof p), false,
              "has %d entries, expected len(factors) = %d", a->n_num_blocks, L);
    if (L > 0 && a->n_attentions < L)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "attentions", p, sizeof p), false,
              "has %d entries, expected at least len(factors) = %d", a->n_attentions, L);
    if (a->n_context_channels > L + 1)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "context_channels", p, sizeof p), false,
              "has %d entries, at most len(factors) + 1 = %d", a->n_context_channels, L + 1);
    if (a->out_channels > 0 && a->out_channels != a->in_channels)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "out_channels", p, sizeof p), false,
              "out_channels %d differs from in_channels %d: the prediction must match x", a->out_channels,
              a->in_channels);
    bool any_attn = false;
    for (int i = 0; i < a->n_attentions; i++) any_attn |= a->attentions[i] > 0;
    if (any_attn && a->attention_heads <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "attention_heads", p, sizeof p), false,
              "required when attentions has a non-zero entry");
    if (any_attn && a->attention_multiplier <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "attention_multiplier", p, sizeof p), false,
              "required when attentions has a non-zero entry");
    /* widths from channels: only when channels itself is valid (its own error is reported) */
    if (a->n_multipliers == L + 1 && a->resnet_groups > 0 && a->channels > 0)
        for (int i = 0; i <= L; i++) {
            long w = (long)a->channels * a->multipliers[i];
            if (w % a->resnet_groups) {
                vdiag(k->c, DS_DIAG_ERROR, kpath(k, "resnet_groups", p, sizeof p), false,
                      "channels * multipliers[%d] = %ld is not divisible by resnet_groups %d (GroupNorm)", i, w,
                      a->resnet_groups);
                break;
            }
        }
    if (a->n_multipliers == L + 1 && a->n_attentions >= L && a->channels > 0) /* GroupNorm(32) in Transformer1d */
        for (int i = 0; i <= L; i++) {
            /* attentions[L] is the bottleneck; SAT reads attentions[-1], the last entry */
            int at = i < L ? a->attentions[i] : (a->n_attentions > 0 ? a->attentions[a->n_attentions - 1] : 0);
            long w = (long)a->channels * a->multipliers[i < L ? i + 1 : L];
            char where[32];
            if (i < L)
                snprintf(where, sizeof where, "level %d", i);
            else
                snprintf(where, sizeof where, "the bottleneck");
            if (at > 0 && w % 32)
                vdiag(k->c, DS_DIAG_ERROR, kpath(k, "attentions", p, sizeof p), false,
                      "%s has attention but width %ld is not divisible by 32 (ADP's Transformer1d uses "
                      "GroupNorm(32))", where, w);
            else if (at > 0 && a->attention_heads > 0 && a->attention_features <= 0 && w < a->attention_heads)
                vdiag(k->c, DS_DIAG_ERROR, kpath(k, "attention_heads", p, sizeof p), false,
                      "%d heads do not fit the width %ld of %s", a->attention_heads, w, where);
        }
    if (!k->cond) return;
    if (m->backbone == DS_BB_ADP_CFG_1D && m->cross_attention_cond_ids.n) {
        check_each_dim(k, &m->cross_attention_cond_ids, a->context_embedding_features, "context_embedding_features",
                       "cross-attention tokens are concatenated along the sequence");
        long tokens = a->use_xattn_time ? 1 : 0;
        bool known = true;
        for (int i = 0; i < m->cross_attention_cond_ids.n; i++) {
            const ds_conditioner_config *c = cond_of(m, m->cross_attention_cond_ids.id[i]);
            if (!c) continue;
            switch (c->type) {
            case DS_COND_NUMBER: case DS_COND_INT: case DS_COND_LIST: case DS_COND_CLAP_AUDIO: tokens += 1; break;
            case DS_COND_T5: case DS_COND_LUT: tokens += c->max_length; break;
            case DS_COND_CLAP_TEXT: tokens += c->use_text_features ? 77 : 1; break;
            default: known = false;
            }
        }
        if (known && tokens > a->context_embedding_max_length && a->context_embedding_max_length > 0)
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "context_embedding_max_length", p, sizeof p), false,
                  "is %d but the cross-attention conditioners give %ld tokens (UNetCFG1d asserts tokens <= "
                  "context_embedding_max_length)", a->context_embedding_max_length, tokens);
    }
    if (m->global_cond_ids.n && a->context_features <= 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "context_features", p, sizeof p), false,
              "global_cond_ids are given but context_features (the global conditioning width) is not set");
    else
        check_sum_dim(k, &m->global_cond_ids, a->context_features, "context_features", "global");
    if (!m->global_cond_ids.n && a->context_features > 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "context_features", p, sizeof p), false,
              "context_features is set but global_cond_ids is empty: the U-Net would be called without "
              "the global features it then requires");
    bool ctx0 = a->n_context_channels > 0 && a->context_channels[0] > 0;
    if (m->input_concat_ids.n && !ctx0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "context_channels", p, sizeof p), false,
              "input_concat_ids are given but context_channels[0] (their channel count) is not set");
    if (m->training.mask_padding)
        vdiag(k->c, DS_DIAG_ERROR, "training.mask_padding", false,
              "mask_padding passes a mask to the model, which SAT's ADP U-Nets do not accept (they crash)");
}

static void check_dau1d(ck *k) {
    const ds_dau1d_config *d = &k->m->dau1d;
    char p[JPATH_MAX];
    check_io(k, d->io_channels, "io_channels");
    if (d->n_channels < d->depth)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "channels", p, sizeof p), false,
              "has %d entries, expected at least depth = %d", d->n_channels, d->depth);
    if (d->n_strides < d->depth - 1)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "strides", p, sizeof p), false,
              "has %d entries, expected at least depth - 1 = %d", d->n_strides, d->depth - 1);
    for (int i = 0; i < d->n_strides && i < d->depth - 1; i++)
        if (d->strides[i] != 2 && !d->learned_resample) {
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "strides", p, sizeof p), false,
                  "stride %d (entry %d) needs learned_resample: true (the fixed cubic resampling only halves)",
                  d->strides[i], i);
            break;
        }
    if (d->kernel_size % 2 == 0)
        vdiag(k->c, DS_DIAG_ERROR, kpath(k, "kernel_size", p, sizeof p), false,
              "kernel_size %d is even: with padding kernel_size // 2 the length would change", d->kernel_size);
    int first = d->depth - d->n_attn_layers;
    if (first < 2) first = 2;
    for (int lvl = first; lvl <= d->depth && lvl <= d->n_channels; lvl++) {
        int ch = d->channels[lvl - 1];
        if (ch < 32 || ch % (ch / 32))
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "channels", p, sizeof p), false,
                  "level %d has attention (n_attn_layers %d) but %d channels: SelfAttention1d uses "
                  "channels // 32 heads, so it needs at least 32 channels divisible into those heads",
                  lvl, d->n_attn_layers, ch);
    }
    if (k->cond) {
        vdiag(k->c, DS_DIAG_WARNING, "model.diffusion.type", false,
              "SAT's create_diffusion_cond_from_config does not build DAU1d (it fails); diffstudio accepts it "
              "as the seed document describes, with input_concat_ids as its only conditioning");
        if (k->m->input_concat_ids.n && d->cond_dim <= 0)
            vdiag(k->c, DS_DIAG_ERROR, kpath(k, "cond_dim", p, sizeof p), false,
                  "input_concat_ids are given but cond_dim (their channel count) is 0");
    }
}

/* ---- pretransform, lengths, training, demos ---------------------------------------------------- */

static void check_pretransform(ck *k) {
    const ds_model_config *m = k->m;
    const ds_pretransform_config *pt = &m->pretransform;
    char p[JPATH_MAX];
    const char *io_key = k->cond ? "model.io_channels"
                         : m->backbone == DS_BB_DAU1D ? kpath(k, "io_channels", p, sizeof p)
                                                      : kpath(k, "in_channels", p, sizeof p);
    char iokey[JPATH_MAX];
    CUT_PRINTF(iokey, sizeof iokey, "%s", io_key);
    if (pt->type != DS_PT_NONE && pt->encoded_channels > 0 && m->io_channels > 0 &&
        m->io_channels != pt->encoded_channels)
        vdiag(k->c, DS_DIAG_ERROR, iokey, false,
              "io_channels is %d but the %s pretransform encodes to %d channels: they must match", m->io_channels,
              pt->type_name, pt->encoded_channels);
    int audio = m->audio_channels == 1 ? 1 : 2;
    if (pt->type == DS_PT_NONE && !m->training.pre_encoded && m->io_channels > 0 && m->io_channels != audio)
        vdiag(k->c, DS_DIAG_WARNING, iokey, false,
              "without a pretransform the model sees the audio itself, %d channel%s (audio_channels %d), but "
              "io_channels is %d", audio, audio == 1 ? "" : "s", m->audio_channels, m->io_channels);
    int pin = pt->type == DS_PT_AUTOENCODER ? pt->ae_io_channels
              : (pt->type == DS_PT_PATCHED || pt->type == DS_PT_PQMF || pt->type == DS_PT_WAVELET) ? pt->channels
                                                                                                  : 0;
    if (pin > 0 && pin != audio)
        vdiag(k->c, DS_DIAG_WARNING, "model.pretransform", false,
              "the pretransform takes %d audio channel%s but audio_channels gives %d", pin, pin == 1 ? "" : "s",
              audio);
    if (pt->type == DS_PT_PQMF) {
        if (pt->num_bands & (pt->num_bands - 1))
            vdiag(k->c, DS_DIAG_ERROR, "model.pretransform.config.num_bands", false,
                  "num_bands %d is not a power of 2", pt->num_bands);
        vdiag(k->c, DS_DIAG_WARNING, "model.pretransform.type", false,
              "SAT's PQMF pretransform leaves its downsampling ratio and encoded channels unset and cannot "
              "build this model; diffstudio uses num_bands (%d) and channels * num_bands (%d)", pt->num_bands,
              pt->encoded_channels);
    }
    if (m->training.pre_encoded && pt->type == DS_PT_NONE)
        vdiag(k->c, DS_DIAG_WARNING, "training.pre_encoded", false,
              "pre_encoded training without a pretransform: the demos cannot be decoded to audio");
}

static void check_length(ck *k) {
    const ds_model_config *m = k->m;
    if (m->sample_size <= 0 || m->min_input_length <= 1 || m->sample_size % m->min_input_length == 0) return;
    char how[200];
    int64_t bb = m->min_input_length / (m->pretransform.ratio > 0 ? m->pretransform.ratio : 1);
    const char *what = m->backbone == DS_BB_DIT     ? "DiT patch_size"
                       : m->backbone == DS_BB_DAU1D ? "DAU1d strides"
                                                    : "ADP prod(factors) * patch_size";
    CUT_PRINTF(how, sizeof how, "pretransform ratio %d x %s %lld", m->pretransform.ratio, what, (long long)bb);
    vdiag(k->c, DS_DIAG_ERROR, "sample_size", false,
          "sample_size %lld is not a multiple of %lld (%s): the network's length would not come out whole "
          "(nearest: %lld)", (long long)m->sample_size, (long long)m->min_input_length, how,
          (long long)((m->sample_size / m->min_input_length + 1) * m->min_input_length));
}

static void check_training(ck *k) {
    const ds_model_config *m = k->m;
    const ds_training_config *t = &m->training;
    const ds_config_doc *doc = k->c->doc;
    if (!t->present || m->model_type == DS_MODEL_DIFFUSION_UNCOND) return;
    bool has_opt = ds_config_doc_has(doc, "training.optimizer_configs") &&
                   !cJSON_IsNull(doc_resolve(doc, "training.optimizer_configs"));
    if (!t->has_learning_rate && !has_opt)
        vdiag(k->c, DS_DIAG_ERROR, "training", false,
              "neither learning_rate nor optimizer_configs is given: SAT needs one of them");
    if (t->has_learning_rate && has_opt)
        vdiag(k->c, DS_DIAG_WARNING, "training.learning_rate", true,
              "both learning_rate and optimizer_configs are given: optimizer_configs wins and learning_rate "
              "is ignored (SAT warns too)");
    const cJSON *betas = doc_resolve(doc, "training.optimizer_configs.diffusion.optimizer.config.betas");
    if (cJSON_IsArray(betas) && cJSON_GetArraySize(betas) != 2)
        vdiag(k->c, DS_DIAG_ERROR, "training.optimizer_configs.diffusion.optimizer.config.betas", false,
              "has %d entries, expected 2 (beta1, beta2)", cJSON_GetArraySize(betas));
    const cJSON *mtp = doc_resolve(doc, "training.inpainting.mask_kwargs.mask_type_probabilities");
    if (cJSON_IsArray(mtp) && cJSON_GetArraySize(mtp) != 3)
        vdiag(k->c, DS_DIAG_ERROR, "training.inpainting.mask_kwargs.mask_type_probabilities", false,
              "has %d entries, expected 3 (random segments, full, causal)", cJSON_GetArraySize(mtp));
    if (ds_config_doc_has(doc, "training.timestep_sampler_options") && t->timestep_sampler != DS_TS_LOG_SNR)
        vdiag(k->c, DS_DIAG_WARNING, "training.timestep_sampler_options", true,
              "only the log_snr timestep sampler reads these options");
    if (m->dist_shift.present && m->dist_shift.min_length >= m->dist_shift.max_length)
        vdiag(k->c, DS_DIAG_ERROR, "model.diffusion.distribution_shift_options.max_length", false,
              "max_length (%d) must be greater than min_length (%d)", m->dist_shift.max_length,
              m->dist_shift.min_length);
}

static void check_demos(ck *k) {
    const ds_model_config *m = k->m;
    const ds_demo_config *d = &m->training.demo;
    const ds_config_doc *doc = k->c->doc;
    if (!m->training.present || m->model_type != DS_MODEL_DIFFUSION_COND || d->demo_cond_from_batch) return;
    int n = ds_config_doc_array_len(doc, "training.demo.demo_cond");
    if (n < 0 || n == 0) {
        vdiag(k->c, DS_DIAG_WARNING, "training.demo", false,
              "no demo_cond: the demos get no conditioning metadata (give one entry per demo, or set "
              "demo_cond_from_batch: true)");
    } else if (d->num_demos > 0 && n != d->num_demos) {
        vdiag(k->c, DS_DIAG_ERROR, "training.demo.demo_cond", false,
              "has %d entr%s but num_demos is %d (the list must be the same length as num_demos)", n,
              n == 1 ? "y" : "ies", d->num_demos);
    }
    if (!ds_config_doc_has(doc, "training.demo.demo_cfg_scales")) return;
    if (d->n_cfg_scales == 0)
        vdiag(k->c, DS_DIAG_WARNING, "training.demo.demo_cfg_scales", false, "is empty: no demos are rendered");
    const ds_conditioning_config *cc = &m->conditioning;
    for (int i = 0; i < n && i < DS_MAX_DEMOS; i++) {
        char ep[JPATH_MAX], vp[JPATH_MAX];
        CUT_PRINTF(ep, sizeof ep, "training.demo.demo_cond[%d]", i);
        const cJSON *e = doc_resolve(doc, ep);
        if (!cJSON_IsObject(e)) continue;
        if (cJSON_GetArraySize(e) > DS_MAX_DEMO_KEYS)
            vdiag(k->c, DS_DIAG_ERROR, ep, false, "%d keys, more than the %d diffstudio keeps per demo",
                  cJSON_GetArraySize(e), DS_MAX_DEMO_KEYS);
        for (const cJSON *kv = e->child; kv; kv = kv->next)
            if (cJSON_IsString(kv) && strlen(kv->valuestring) >= sizeof d->demo_cond[0].v[0].string) {
                path_join_key(vp, sizeof vp, ep, kv->string ? kv->string : "");
                vdiag(k->c, DS_DIAG_ERROR, vp, false, "%zu bytes, more than the %zu diffstudio keeps",
                      strlen(kv->valuestring), sizeof d->demo_cond[0].v[0].string - 1);
            }
        for (int j = 0; j < cc->n; j++) {
            const ds_conditioner_config *c = &cc->c[j];
            bool pre = false;
            for (int q = 0; q < cc->pre_encoded_keys.n; q++) pre |= !strcmp(cc->pre_encoded_keys.id[q], c->id);
            if (pre || !c->id[0]) continue;
            const char *key = c->id;
            const cJSON *v = obj_get(e, key);
            for (int q = 0; !v && q < cc->n_default_keys; q++)
                if (!strcmp(cc->default_key_id[q], c->id)) {
                    key = cc->default_key_val[q];
                    v = obj_get(e, key);
                }
            if (!v) {
                vdiag(k->c, DS_DIAG_ERROR, ep, false,
                      "missing \"%s\": conditioner \"%s\" reads it and SAT's conditioner fails without it", key,
                      c->id);
                continue;
            }
            path_join_key(vp, sizeof vp, ep, key);
            bool wants_num = c->type == DS_COND_NUMBER || c->type == DS_COND_INT;
            bool wants_str = c->type == DS_COND_T5 || c->type == DS_COND_CLAP_TEXT || c->type == DS_COND_LUT ||
                             c->type == DS_COND_PHONEME || c->type == DS_COND_LIST;
            if (wants_num && !cJSON_IsNumber(v))
                vdiag(k->c, DS_DIAG_ERROR, vp, false, "conditioner \"%s\" (%s) needs a number here", c->id,
                      c->type_name);
            if (wants_str && !cJSON_IsString(v))
                vdiag(k->c, DS_DIAG_ERROR, vp, false, "conditioner \"%s\" (%s) needs a string here", c->id,
                      c->type_name);
        }
    }
}

void model_checks(vctx *c, const ds_model_config *m) {
    ck k = {.c = c, .m = m, .cond = m->model_type != DS_MODEL_DIFFUSION_UNCOND};
    CUT_PRINTF(k.cfg, sizeof k.cfg, "%s", k.cond ? "model.diffusion.config" : "model.config");
    if (k.cond) {
        check_conditioners(&k);
        check_routing(&k);
    }
    switch (m->backbone) {
    case DS_BB_DIT: check_dit(&k); break;
    case DS_BB_ADP_CFG_1D:
    case DS_BB_ADP_1D:
    case DS_BB_ADP_UNCOND_1D: check_adp(&k); break;
    case DS_BB_DAU1D: check_dau1d(&k); break;
    case DS_BB_NONE: break;
    }
    check_pretransform(&k);
    check_length(&k);
    check_training(&k);
    check_demos(&k);
}
