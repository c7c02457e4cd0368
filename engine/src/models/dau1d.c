/* SAT's `DAU1d` backbone: DiffusionAttnUnet1D, the Dance Diffusion U-Net (sat-spec §2.2;
 * SAT models/diffusion.py and models/blocks.py). Names are SAT's state_dict names relative
 * to the wrapper prefix ("model." under diffusion_uncond), e.g. net.3.main.7.main.2.qkv_proj.weight.
 *
 * SAT cannot build this model at HEAD (ResConvBlock lost its use_snake argument); this is
 * the model it was meant to be, as the fixtures build it: GELU activations, and
 * SelfAttention1d with the mathematically intended head layout (SAT's CPU path), not the
 * scrambled reshape of its CUDA path.
 *
 * Structure (level 1 outermost, c_i = channels[i−1], s_i = strides[i−2]):
 *   net = [0] R(io+cond+emb → c1) [1] R [2] R [3] Level2 [4] R(2c1 → c1) [5] R [6] R_last(c1 → io)
 *   Level i ≥ 2 = SkipBlock: out = cat(main(x), x) over channels, main =
 *     [0] Down  [1] R(c_{i−1} → c_i) [2] A [3] R [4] A [5] R [6] A [7] Level i+1 (Identity at depth)
 *     [8] R(2c_i or c_i → c_i) [9] A [10] R [11] A [12] R(c_i → c_{i−1}) [13] A(c_{i−1}) [14] Up
 *   R = ResConvBlock: conv(k, pad k/2) → GN(1) → GELU → conv → GN(1) → GELU (last: neither), + skip
 *       (1×1 conv without bias when the widths differ);
 *   A = SelfAttention1d(c, c//32 heads) on levels i ≥ depth − n_attn_layers (n + 1 levels!);
 *   Down/Up = fixed cubic kernels (reflect pad, depthwise stride 2; buffers `kernel`, Up holds
 *       2× the kernel) or, with learned_resample, Conv1d(k 2s+1, stride s, pad s) /
 *       ConvTranspose1d(k 2s, stride s, pad s/2 + s%2, output_padding s%2).
 * Input: cat(x, FourierFeatures(t) over T, [FourierFeatures(aug level)], cond linearly
 * resized to T). Every `net` parameter is ×0.5 at construction. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "models/model.h"
#include "ops/ops.h"

static const float k_cubic[8] = {-0.01171875f, -0.03515625f, 0.11328125f, 0.43359375f,
                                 0.43359375f,  0.11328125f,  -0.03515625f, -0.01171875f};

typedef struct dau_res { /* ResConvBlock */
    ds_tensor *c0_w, *c0_b, *n1_w, *n1_b, *c3_w, *c3_b, *n4_w, *n4_b, *skip;
} dau_res;

typedef struct dau_attn { /* SelfAttention1d; heads == 0: Identity */
    int heads;
    ds_tensor *n_w, *n_b, *qkv_w, *qkv_b, *out_w, *out_b;
} dau_attn;

typedef struct dau_level { /* SkipBlock of level i >= 2 */
    int stride;
    ds_tensor *down_kernel, *down_w, *down_b; /* main.0: buffer, or learned Conv1d */
    ds_tensor *up_kernel, *up_w, *up_b;       /* main.14: buffer, or learned (transposed) conv */
    dau_res r[6];                             /* main.1, 3, 5, 8, 10, 12 */
    dau_attn a[6];                            /* main.2, 4, 6, 9, 11, 13 */
} dau_level;

typedef struct dau1d {
    ds_dau1d_config c;
    ds_tensor *te_w; /* timestep_embed.weight [8, 1] */
    dau_res top[6];  /* net.0, 1, 2, 4, 5, 6 */
    dau_level lv[DS_MAX_LEVELS + 1]; /* lv[i] for level i = 2..depth */
} dau1d;

/* ---------------- construction ---------------- */

/* `net` parameters: PyTorch's default init, then ×0.5 as DiffusionAttnUnet1D does. */
static ds_tensor *net_w(ds_model *m, const char *name, int64_t o, int64_t i, int64_t k) {
    ds_tensor *t = ds_param_add3(&m->params, DS_PG_BACKBONE, name, o, i, k);
    ds_param_init_as(t, DS_INIT_UNIFORM, 0.5f / sqrtf((float)(i * k)));
    return t;
}
static ds_tensor *net_b(ds_model *m, const char *name, int64_t n, int64_t fan_in) {
    ds_tensor *t = ds_param_add1(&m->params, DS_PG_BACKBONE, name, n);
    ds_param_init_as(t, DS_INIT_UNIFORM, 0.5f / sqrtf((float)fan_in));
    return t;
}
static void net_norm(ds_model *m, const char *path, int64_t C, ds_tensor **w, ds_tensor **b) {
    char n[256];
    snprintf(n, sizeof n, "%s.weight", path);
    *w = ds_param_add1(&m->params, DS_PG_BACKBONE, n, C);
    ds_param_init_as(*w, DS_INIT_CONST, 0.5f);
    snprintf(n, sizeof n, "%s.bias", path);
    *b = ds_param_add1(&m->params, DS_PG_BACKBONE, n, C);
    ds_param_init_as(*b, DS_INIT_ZERO, 0);
}

static void res_create(ds_model *m, const dau1d *d, dau_res *r, const char *path, int cin, int cmid, int cout,
                       bool last) {
    char n[256];
    int k = d->c.kernel_size;
    snprintf(n, sizeof n, "%s.main.0.weight", path);
    r->c0_w = net_w(m, n, cmid, cin, k);
    if (d->c.conv_bias) r->c0_b = net_b(m, (snprintf(n, sizeof n, "%s.main.0.bias", path), n), cmid, (int64_t)cin * k);
    net_norm(m, (snprintf(n, sizeof n, "%s.main.1", path), n), cmid, &r->n1_w, &r->n1_b);
    snprintf(n, sizeof n, "%s.main.3.weight", path);
    r->c3_w = net_w(m, n, cout, cmid, k);
    if (d->c.conv_bias) r->c3_b = net_b(m, (snprintf(n, sizeof n, "%s.main.3.bias", path), n), cout, (int64_t)cmid * k);
    if (!last) net_norm(m, (snprintf(n, sizeof n, "%s.main.4", path), n), cout, &r->n4_w, &r->n4_b);
    if (cin != cout) r->skip = net_w(m, (snprintf(n, sizeof n, "%s.skip.weight", path), n), cout, cin, 1);
}

static void attn_create(ds_model *m, dau_attn *a, const char *path, int c) {
    char n[256];
    a->heads = c / 32;
    net_norm(m, (snprintf(n, sizeof n, "%s.norm", path), n), c, &a->n_w, &a->n_b);
    a->qkv_w = net_w(m, (snprintf(n, sizeof n, "%s.qkv_proj.weight", path), n), 3 * (int64_t)c, c, 1);
    a->qkv_b = net_b(m, (snprintf(n, sizeof n, "%s.qkv_proj.bias", path), n), 3 * (int64_t)c, c);
    a->out_w = net_w(m, (snprintf(n, sizeof n, "%s.out_proj.weight", path), n), c, c, 1);
    a->out_b = net_b(m, (snprintf(n, sizeof n, "%s.out_proj.bias", path), n), c, c);
}

static void dau_destroy(void *impl) { free(impl); }

static void dau_init_buffers(ds_model *m) {
    dau1d *d = m->bb.impl;
    for (int i = 2; i <= d->c.depth; i++) {
        if (d->lv[i].down_kernel) memcpy(d->lv[i].down_kernel->data, k_cubic, sizeof k_cubic);
        if (d->lv[i].up_kernel)
            for (int j = 0; j < 8; j++) d->lv[i].up_kernel->data[j] = 2.0f * k_cubic[j];
    }
}

static ds_tensor *dau_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cond,
                              const ds_call_opts *o);

#define BAD(code, ...) return ds_err_set(err, code, __VA_ARGS__)

ds_status ds_dau1d_create(ds_model *m, ds_err *err) {
    const ds_dau1d_config *cc = &m->cfg.dau1d;
    const char *K = "model.config"; /* diffusion_uncond: the backbone kwargs */
    if (cc->use_snake) BAD(DS_ERR_UNSUPPORTED, "%s.use_snake: Snake activations cannot run in diffstudio yet", K);
    if (cc->depth < 2 || cc->depth > DS_MAX_LEVELS)
        BAD(DS_ERR_INVALID, "%s.depth: %d is outside 2..%d (SAT's net needs at least one SkipBlock)", K, cc->depth,
            DS_MAX_LEVELS);
    if (cc->n_channels < cc->depth)
        BAD(DS_ERR_INVALID, "%s.channels: %d entries for depth %d", K, cc->n_channels, cc->depth);
    if (cc->n_strides < cc->depth - 1)
        BAD(DS_ERR_INVALID, "%s.strides: %d entries for depth %d (needs depth - 1)", K, cc->n_strides, cc->depth);
    if (cc->kernel_size < 1 || cc->kernel_size % 2 == 0)
        BAD(DS_ERR_INVALID, "%s.kernel_size: %d (an odd size keeps the length: padding is kernel_size // 2)", K,
            cc->kernel_size);
    for (int i = 0; i < cc->depth; i++)
        if (cc->channels[i] < 1) BAD(DS_ERR_INVALID, "%s.channels[%d]: %d", K, i, cc->channels[i]);
    int attn_from = cc->depth - cc->n_attn_layers;
    for (int i = 2; i <= cc->depth; i++) {
        int s = cc->strides[i - 2];
        if (s < 1) BAD(DS_ERR_INVALID, "%s.strides[%d]: %d", K, i - 2, s);
        if (s > 2 && !cc->learned_resample)
            BAD(DS_ERR_INVALID, "%s.strides[%d]: %d needs learned_resample (the fixed kernels resample by 2)", K, i - 2, s);
        if (s == 1 && !cc->learned_resample)
            BAD(DS_ERR_INVALID,
                "%s.strides[%d]: 1 needs learned_resample (SAT pairs a stride-1 conv with the 2x cubic upsampler, "
                "so the lengths cannot match)", K, i - 2);
        if (cc->n_attn_layers > 0 && i >= attn_from) {
            int cs[2] = {cc->channels[i - 1], cc->channels[i - 2]};
            for (int q = 0; q < 2; q++)
                if (cs[q] < 32 || cs[q] % (cs[q] / 32))
                    BAD(DS_ERR_INVALID,
                        "%s.channels[%d]: %d channels cannot hold c//32 attention heads (n_attn_layers %d puts "
                        "attention on levels %d..%d)", K, i - 1 - q, cs[q], cc->n_attn_layers, attn_from < 2 ? 2 : attn_from,
                        cc->depth);
        }
    }
    if (cc->cond_dim < 0) BAD(DS_ERR_INVALID, "%s.cond_dim: %d", K, cc->cond_dim);

    dau1d *d = calloc(1, sizeof *d);
    if (!d) BAD(DS_ERR_NOMEM, "out of memory");
    m->bb.impl = d;
    m->bb.forward = dau_forward;
    m->bb.destroy = dau_destroy;
    m->bb.init_buffers = dau_init_buffers;
    /* Under diffusion_cond SAT would wrap it in DAU1DCondWrapper, which halves every
     * parameter once more (sat-spec §2.2). */
    m->bb.init_scale = m->cfg.model_type == DS_MODEL_DIFFUSION_UNCOND ? 1.0f : 0.5f;
    d->c = *cc;

    d->te_w = ds_param_add2(&m->params, DS_PG_BACKBONE, "timestep_embed.weight", 8, 1);
    ds_param_init_as(d->te_w, DS_INIT_NORMAL, 1.0f);

    /* Registration follows SAT's module order: net.0..2, the nested levels, net.4..6. */
    int io = cc->io_channels, c1 = cc->channels[0];
    int in0 = io + cc->cond_dim + (cc->cond_noise_aug ? 32 : 16);
    res_create(m, d, &d->top[0], "net.0", in0, c1, c1, false);
    res_create(m, d, &d->top[1], "net.1", c1, c1, c1, false);
    res_create(m, d, &d->top[2], "net.2", c1, c1, c1, false);
    char path[256] = "net.3", n[320];
    for (int i = 2; i <= cc->depth; i++) {
        dau_level *L = &d->lv[i];
        int c = cc->channels[i - 1], cp = cc->channels[i - 2], s = cc->strides[i - 2];
        bool attn = cc->n_attn_layers > 0 && i >= attn_from;
        L->stride = s;
        if (cc->learned_resample) {
            L->down_w = net_w(m, (snprintf(n, sizeof n, "%s.main.0.weight", path), n), cp, cp, 2 * s + 1);
            L->down_b = net_b(m, (snprintf(n, sizeof n, "%s.main.0.bias", path), n), cp, (int64_t)cp * (2 * s + 1));
        } else {
            L->down_kernel = ds_param_add1(&m->params, DS_PG_BUFFER, (snprintf(n, sizeof n, "%s.main.0.kernel", path), n), 8);
        }
        for (int q = 0; q < 3; q++) { /* main.1..6; the second half is registered after the inner level */
            snprintf(n, sizeof n, "%s.main.%d", path, 2 * q + 1);
            res_create(m, d, &L->r[q], n, q == 0 ? cp : c, c, c, false);
            if (attn) attn_create(m, &L->a[q], (snprintf(n, sizeof n, "%s.main.%d", path, 2 * q + 2), n), c);
        }
        /* the inner level's names extend this one's path */
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, ".main.7");
    }
    /* The second half of every level, innermost first (loading goes by name; this order
     * keeps each level's tensors together). */
    for (int i = cc->depth; i >= 2; i--) {
        path[strlen(path) - 7] = 0; /* back to level i's path */
        dau_level *L = &d->lv[i];
        int c = cc->channels[i - 1], cp = cc->channels[i - 2], s = L->stride;
        bool attn = cc->n_attn_layers > 0 && i >= attn_from;
        static const int ridx[3] = {8, 10, 12};
        for (int q = 3; q < 6; q++) {
            int cin = q == 3 ? (i == cc->depth ? c : 2 * c) : c, cout = q == 5 ? cp : c;
            res_create(m, d, &L->r[q], (snprintf(n, sizeof n, "%s.main.%d", path, ridx[q - 3]), n), cin, c, cout, false);
            if (attn) attn_create(m, &L->a[q], (snprintf(n, sizeof n, "%s.main.%d", path, ridx[q - 3] + 1), n), cout);
        }
        if (cc->learned_resample) {
            if (s == 1) {
                L->up_w = net_w(m, (snprintf(n, sizeof n, "%s.main.14.weight", path), n), cp, cp, 3);
                L->up_b = net_b(m, (snprintf(n, sizeof n, "%s.main.14.bias", path), n), cp, (int64_t)cp * 3);
            } else { /* ConvTranspose1d weight [in, out, k]: PyTorch's fan_in is out·k */
                L->up_w = net_w(m, (snprintf(n, sizeof n, "%s.main.14.weight", path), n), cp, cp, 2 * s);
                L->up_b = net_b(m, (snprintf(n, sizeof n, "%s.main.14.bias", path), n), cp, (int64_t)cp * 2 * s);
            }
        } else {
            L->up_kernel = ds_param_add1(&m->params, DS_PG_BUFFER, (snprintf(n, sizeof n, "%s.main.14.kernel", path), n), 8);
        }
    }
    res_create(m, d, &d->top[3], "net.4", 2 * c1, c1, c1, false);
    res_create(m, d, &d->top[4], "net.5", c1, c1, c1, false);
    res_create(m, d, &d->top[5], "net.6", c1, c1, io, true);
    return DS_OK;
}

/* ---------------- forward ---------------- */

static ds_tensor *res_fwd(ds_ctx *c, const dau1d *d, const dau_res *r, ds_tensor *x) {
    int p = d->c.kernel_size / 2;
    ds_tensor *h = ds_conv1d(c, x, r->c0_w, r->c0_b, 1, p, p, 1, 1);
    h = ds_group_norm_act(c, h, 1, r->n1_w, r->n1_b, 1e-5f, NULL, NULL, DS_ACT_GELU);
    h = ds_conv1d(c, h, r->c3_w, r->c3_b, 1, p, p, 1, 1);
    if (r->n4_w) h = ds_group_norm_act(c, h, 1, r->n4_w, r->n4_b, 1e-5f, NULL, NULL, DS_ACT_GELU);
    return ds_add(c, h, r->skip ? ds_conv1d(c, x, r->skip, NULL, 1, 0, 0, 1, 1) : x);
}

/* SelfAttention1d: x + out_proj(attention(qkv_proj(GN(x)))). The qkv channels are
 * [q heads | k heads | v heads], each head's d channels contiguous: in [B, T, 3c] after a
 * transpose that is the "b n (h d)" layout ds_attention reads. The 1×1 convs run as
 * linear layers on the transposed activations (same sums, one GEMM over B·T rows). */
static ds_tensor *attn_fwd(ds_ctx *c, const dau_attn *a, ds_tensor *x) {
    if (!a->heads) return x;
    int64_t C = x->shape[1];
    ds_tensor *h = ds_transpose12(c, ds_group_norm(c, x, 1, a->n_w, a->n_b, 1e-5f)); /* [B, T, C] */
    ds_tensor *qkv = ds_linear(c, h, ds_reshape2(c, a->qkv_w, 3 * C, C), a->qkv_b); /* [B, T, 3C] */
    ds_tensor *q = ds_slice(c, qkv, 2, 0, C), *k = ds_slice(c, qkv, 2, C, C), *v = ds_slice(c, qkv, 2, 2 * C, C);
    float scale = 1.0f / sqrtf((float)(C / a->heads));
    ds_tensor *o = ds_attention(c, q, k, v, a->heads, a->heads, scale);      /* [B, T, C] */
    o = ds_linear(c, o, ds_reshape2(c, a->out_w, C, C), a->out_b);
    return ds_add(c, x, ds_transpose12(c, o));
}

/* Fixed-kernel resampling (blocks.Downsample1d / Upsample1d, kernel "cubic"): one kernel
 * for every channel, applied as a depthwise conv whose [C, 1, 8] weight repeats it. */
static ds_tensor *depthwise_kernel(ds_ctx *c, ds_tensor *kernel, int64_t C) {
    return ds_repeat0(c, ds_reshape3(c, kernel, 1, 1, 8), (int)C); /* a buffer: nothing recorded */
}

static ds_tensor *down_fwd(ds_ctx *c, const dau_level *L, ds_tensor *x) {
    if (L->down_w) return ds_conv1d(c, x, L->down_w, L->down_b, L->stride, L->stride, L->stride, 1, 1);
    int64_t C = x->shape[1];
    /* reflect-pad 3, stride-2 correlation: T -> T/2 */
    return ds_conv1d(c, ds_pad_reflect(c, x, 3, 3), depthwise_kernel(c, L->down_kernel, C), NULL, 2, 0, 0, 1, (int)C);
}

static ds_tensor *up_fwd(ds_ctx *c, const dau_level *L, ds_tensor *x) {
    int s = L->stride;
    if (L->up_w && s == 1) return ds_conv1d(c, x, L->up_w, L->up_b, 1, 1, 1, 1, 1);
    if (L->up_w) {
        int p = s / 2 + s % 2, op = s % 2;
        return ds_conv_transpose1d(c, x, L->up_w, L->up_b, s, p, p - op, 1);
    }
    int64_t C = x->shape[1];
    /* reflect-pad 2, conv_transpose stride 2 padding 7 with the 2× kernel: T -> 2T */
    return ds_conv_transpose1d(c, ds_pad_reflect(c, x, 2, 2), depthwise_kernel(c, L->up_kernel, C), NULL, 2, 7, 7,
                               (int)C);
}

static ds_tensor *level_fwd(ds_ctx *c, const dau1d *d, int i, ds_tensor *x) {
    const dau_level *L = &d->lv[i];
    int64_t T = x->shape[2];
    DS_ASSERTF(L->down_w || T % 2 == 0, "DAU1d: length %lld at level %d is odd; the cubic resamplers need even lengths",
               (long long)T, i);
    ds_tensor *h = down_fwd(c, L, x);
    for (int q = 0; q < 3; q++) h = attn_fwd(c, &L->a[q], res_fwd(c, d, &L->r[q], h));
    if (i < d->c.depth) h = level_fwd(c, d, i + 1, h);
    for (int q = 3; q < 6; q++) h = attn_fwd(c, &L->a[q], res_fwd(c, d, &L->r[q], h));
    h = up_fwd(c, L, h);
    DS_ASSERTF(h->shape[2] == T, "DAU1d: level %d returns length %lld for input %lld (the length must be divisible by "
               "the product of the strides)", i, (long long)h->shape[2], (long long)T);
    return ds_concat(c, 1, 2, (ds_tensor *[]){h, x});
}

/* FourierFeatures(v) [B, 16] repeated over T (expand_to_planes): [B, 16, T]. */
static ds_tensor *fourier_planes(ds_ctx *c, const dau1d *d, ds_tensor *v, int64_t T) {
    int64_t B = ds_numel(v);
    ds_tensor *f = ds_reshape3(c, ds_fourier(c, v, d->te_w, DS_FOURIER_COS_SIN), B, 16, 1);
    return ds_mul_bc(c, f, ds_new_fill(c, 3, (int64_t[]){1, 1, T}, 1.0f));
}

static ds_tensor *dau_forward(ds_model *m, ds_ctx *c, ds_tensor *x, ds_tensor *t, const ds_cond_tensors *cd,
                              const ds_call_opts *o) {
    dau1d *d = m->bb.impl;
    int64_t B = x->shape[0], T = x->shape[2];
    DS_ASSERTF(x->shape[1] == d->c.io_channels, "DAU1d: input has %lld channels, io_channels is %d",
               (long long)x->shape[1], d->c.io_channels);
    ds_tensor *in[4] = {x, fourier_planes(c, d, t, T), NULL, NULL};
    ds_tensor *cond = cd->input_concat_cond;
    DS_ASSERTF(!d->c.cond_dim || cond, "DAU1d: cond_dim %d but no input-concat condition", d->c.cond_dim);
    DS_ASSERTF(!d->c.cond_noise_aug || cond, "DAU1d: cond_noise_aug needs an input-concat condition");
    if (cond && d->c.cond_dim) {
        DS_ASSERTF(cond->shape[1] == d->c.cond_dim, "DAU1d: cond has %lld channels, cond_dim is %d",
                   (long long)cond->shape[1], d->c.cond_dim);
        cond = ds_resize_linear(c, cond, T); /* F.interpolate(mode="linear", align_corners=False) */
        if (d->c.cond_noise_aug) {
            /* per item: level a ~ U[0,1) (SAT: a Sobol draw) or the given cond_aug_scale;
             * cond += randn·a; the level's Fourier features join the input */
            ds_tensor *a = ds_new1(c, B), *noise = ds_new_like(c, cond);
            float *ha = ds_host_begin(c, a), *hn = ds_host_begin(c, noise);
            if (ha && hn) {
                int64_t per = ds_numel(cond) / B;
                for (int64_t b = 0; b < B; b++) {
                    bool given = o->has_cond_aug_scale;
                    DS_ASSERTF((given && o->cond_aug_scale == 0.0f) || o->rng, "DAU1d cond_noise_aug needs a random stream");
                    ha[b] = given ? o->cond_aug_scale : ds_rng_uniform(o->rng);
                    float *nb = hn + b * per;
                    if (ha[b] == 0.0f) { /* randn·0: no draw needed */
                        memset(nb, 0, (size_t)per * sizeof(float));
                        continue;
                    }
                    ds_rng_normal_fill(o->rng, nb, per);
                    for (int64_t i = 0; i < per; i++) nb[i] *= ha[b];
                }
            }
            ds_host_commit(c, a);
            ds_host_commit(c, noise);
            cond = ds_add(c, cond, noise);
            in[2] = fourier_planes(c, d, a, T);
        }
        in[3] = cond;
    }
    ds_tensor *h = ds_concat(c, 1, 4, in);
    for (int q = 0; q < 3; q++) h = res_fwd(c, d, &d->top[q], h);
    h = level_fwd(c, d, 2, h);
    for (int q = 3; q < 6; q++) h = res_fwd(c, d, &d->top[q], h);
    return h;
}
