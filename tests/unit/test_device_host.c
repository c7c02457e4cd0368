/* The host side of the device path, on the CPU: everything of the CUDA backend that is not a
 * kernel. The loss scaler's state machine and the step statistics (shared with the kernel),
 * the CUDA-graph decisions, device selection and its error messages, the sticky error, the
 * op dispatch of every op wrapper (a recording op table stands in for the CUDA one), one
 * allocation per role and none inside later steps, the staging halves, planning sizes and
 * gradient recycling (on the CPU stand-in device "sim"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "device/dispatch.h"
#include "device/scaler.h"
#include "engine/config_doc.h"
#include "engine/device.h"
#include "models/model.h"
#include "ops/ops.h"
#include "testutil.h"
#include "train/step_graph.h"
#include "train/trainer.h"

/* ---------- loss scaler and step statistics ---------- */

static void test_scaler(void) {
    float scale = DS_SCALER_INIT;
    int32_t tr = 0;
    CHECK(scale == 65536.0f);
    ds_scaler_update(&scale, &tr, 1);
    CHECK(scale == 32768.0f && tr == 0);
    for (int i = 0; i < 1999; i++) ds_scaler_update(&scale, &tr, 0);
    CHECK(scale == 32768.0f && tr == 1999);
    ds_scaler_update(&scale, &tr, 0);
    CHECK(scale == 65536.0f && tr == 0);
    ds_scaler_update(&scale, &tr, 0);
    ds_scaler_update(&scale, &tr, 1);
    CHECK(scale == 32768.0f && tr == 0);
    float big = 3e38f;
    tr = 1999;
    ds_scaler_update(&big, &tr, 0); /* growth to inf is not taken; the tracker restarts */
    CHECK(big == 3e38f && tr == 0);

    ds_step_scalars sc;
    memset(&sc, 0, sizeof sc);
    ds_step_state st;
    memset(&st, 0, sizeof st);
    st.loss = 0.5f;
    st.grad_sumsq = 16.0;
    ds_step_finish(&st, &sc);
    CHECK(st.grad_norm == 4.0f && !st.found_inf && st.gscale == 1.0f);
    sc.max_norm = 1.0f; /* Lightning: coef = max / (norm + 1e-6) */
    ds_step_finish(&st, &sc);
    CHECK(fabsf(st.gscale - (float)(1.0 / (4.0 + 1e-6))) == 0.0f);
    sc.max_norm = 0;
    sc.scaler = 1;
    st.loss_scale = 1024.0f;
    st.grad_sumsq = 16.0 * 1024.0 * 1024.0; /* gradients carry the scale */
    ds_step_finish(&st, &sc);
    CHECK(st.grad_norm == 4.0f && st.gscale == 1.0f / 1024.0f && st.scale_used == 1024.0f && st.growth_tracker == 1);
    st.grad_sumsq = INFINITY;
    ds_step_finish(&st, &sc);
    CHECK(st.found_inf && st.loss_scale == 512.0f && st.growth_tracker == 0);
    st.grad_sumsq = 1.0;
    st.loss = NAN;
    ds_step_finish(&st, &sc);
    CHECK(st.found_inf);
}

/* ---------- CUDA-graph decisions ---------- */

static void test_graphs(void) {
    ds_step_graphs g;
    bool drop;
    ds_graphs_init(&g, false, "off for a reason");
    CHECK(ds_graphs_decide(&g, 0, 1, &drop) == DS_GRAPH_EAGER && !strcmp(g.why_off, "off for a reason"));
    ds_graphs_init(&g, true, NULL);
    CHECK(ds_graphs_decide(&g, 0, 7, &drop) == DS_GRAPH_EAGER); /* first time: warm up */
    CHECK(ds_graphs_decide(&g, 1, 7, &drop) == DS_GRAPH_CAPTURE);
    ds_graphs_captured(&g, 1, 7, true, NULL);
    CHECK(ds_graphs_decide(&g, 0, 7, &drop) == DS_GRAPH_CAPTURE);
    ds_graphs_captured(&g, 0, 7, true, NULL);
    for (int k = 0; k < 6; k++) CHECK(ds_graphs_decide(&g, k & 1, 7, &drop) == DS_GRAPH_REPLAY && !drop);
    /* shapes change: both graphs go, one eager step, then captures again */
    CHECK(ds_graphs_decide(&g, 1, 9, &drop) == DS_GRAPH_EAGER && drop && !g.have[0] && !g.have[1]);
    CHECK(ds_graphs_decide(&g, 0, 9, &drop) == DS_GRAPH_CAPTURE && !drop);
    ds_graphs_captured(&g, 0, 9, true, NULL);
    CHECK(ds_graphs_decide(&g, 1, 9, &drop) == DS_GRAPH_CAPTURE);
    ds_graphs_captured(&g, 1, 9, false, "cudaErrorStreamCaptureUnsupported");
    CHECK(!g.enabled && strstr(g.why_off, "StreamCaptureUnsupported") != NULL);
    CHECK(ds_graphs_decide(&g, 0, 9, &drop) == DS_GRAPH_EAGER);
    CHECK(g.captures == 4 && g.replays == 6 && g.drops == 1);
}

/* ---------- device selection, messages, sticky errors ---------- */

static void test_selection(void) {
    ds_err e = {0};
    ds_precision p;
    CHECK(ds_precision_parse("bf16-mixed", &p, &e) == DS_OK && p == DS_PREC_BF16_MIXED);
    CHECK(ds_precision_parse("16-mixed", &p, &e) == DS_OK && p == DS_PREC_16_MIXED);
    CHECK(ds_precision_parse("32", &p, &e) == DS_OK && p == DS_PREC_32);
    CHECK(ds_precision_parse("64", &p, &e) == DS_ERR_INVALID && strstr(e.msg, "bf16-mixed"));
    ds_device *d = NULL;
    CHECK(ds_device_open("tpu", DS_PREC_32, &d, &e) == DS_ERR_INVALID && !d);
    CHECK(ds_device_open("cpu", DS_PREC_32, &d, &e) != DS_OK && !d);
    /* cuda works where it can, and otherwise says why (no GPU, no driver, no nvcc) */
    ds_status s = ds_device_open("cuda", DS_PREC_32, &d, &e);
    if (s == DS_OK) {
        CHECK(d->kind == DS_DEV_CUDA && d->ops != NULL);
        ds_device_close(d);
    } else {
        CHECK(!d && (s == DS_ERR_UNSUPPORTED || s == DS_ERR_DEVICE));
        CHECKF(strstr(e.msg, "nvcc") || strstr(e.msg, "driver") || strstr(e.msg, "GPU") || strstr(e.msg, "device"),
               "%s", e.msg);
    }
    ds_device_info info;
    ds_device_query("cpu", &info);
    CHECK(info.available);
    CHECK(ds_device_usable("cpu", &e) == DS_OK);
    CHECK(ds_device_peak_bf16_tflops("NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB") == 989.0);
    CHECK(ds_device_peak_bf16_tflops("NVIDIA H100 PCIe, sm_90") == 756.0);
    CHECK(ds_device_peak_bf16_tflops("NVIDIA H200, sm_90") == 989.0);
    CHECK(ds_device_peak_bf16_tflops("NVIDIA A100-SXM4-80GB, sm_80") == 312.0);
    CHECK(ds_device_peak_bf16_tflops("Some GPU") == 0.0);

    CHECK(ds_device_open("sim", DS_PREC_32, &d, &e) == DS_OK && d->kind == DS_DEV_SIM && !d->ops);
    CHECK(ds_device_check(d, &e) == DS_OK);
    ds_device_fail(d, DS_ERR_DEVICE, "linear: cublasLtMatmul failed: status 13 (x.cu:1)");
    ds_device_fail(d, DS_ERR_DEVICE, "a later failure");
    CHECK(ds_device_check(d, &e) == DS_ERR_DEVICE && strstr(e.msg, "linear: cublasLtMatmul") != NULL);
    CHECK(ds_device_alloc(d, DS_ROLE_OTHER, 64) == NULL); /* nothing runs after an error */
    ds_device_close(d);
}

/* ---------- dispatch: every op wrapper reaches the device's op table ---------- */

enum { E_LINEAR, E_CONV, E_BIN, E_BC, E_UN, E_GLU, E_MOD, E_PERM, E_COPY, E_RESIZE, E_PAD, E_LN, E_L2, E_GN, E_ATT,
       E_ROPE, E_FOUR, E_MSE, E_CFG, E_SEED, E_EMB, E_COUNT };
static int g_fwd[E_COUNT], g_bwd[E_COUNT];
#define REC(e) g_fwd[e]++
#define RECB(e) g_bwd[e]++

static void r_gemm(ds_device *d, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float al, const float *A, int64_t lda,
                   int64_t sA, const float *B, int64_t ldb, int64_t sB, float be, float *C, int64_t ldc, int64_t sC,
                   int64_t bt) {
    (void)d, (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)al, (void)A, (void)lda, (void)sA, (void)B, (void)ldb;
    (void)sB, (void)be, (void)C, (void)ldc, (void)sC, (void)bt;
}
static void r_lin_f(ds_device *d, const float *x, const float *w, const float *b, float *y, int64_t M, int64_t K, int64_t N) {
    (void)d, (void)x, (void)w, (void)b, (void)y;
    CHECK(M == 15 && K == 17 && N == 13);
    REC(E_LINEAR);
}
static void r_lin_b(ds_device *d, const float *x, const float *w, const float *dy, float *dx, float *dw, float *db,
                    int64_t M, int64_t K, int64_t N) {
    (void)d, (void)x, (void)w, (void)dy, (void)M, (void)K, (void)N;
    CHECK(dx && dw && db);
    RECB(E_LINEAR);
}
static void r_conv_f(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    (void)d, (void)x, (void)w, (void)b, (void)y;
    CHECK(g->To == 19 && g->pad_l == 1 && g->pad_r == 1);
    REC(E_CONV);
}
static void r_conv_b(ds_device *d, const ds_conv_geom *g, const float *x, const float *w, const float *dy, float *dx,
                     float *dw, float *db) {
    (void)d, (void)g, (void)x, (void)w, (void)dy, (void)dx, (void)dw, (void)db;
    RECB(E_CONV);
}
static void r_bin_f(ds_device *d, int k, const float *a, const float *b, float *y, int64_t n) { (void)d, (void)k, (void)a, (void)b, (void)y, (void)n; REC(E_BIN); }
static void r_bin_b(ds_device *d, int k, const float *a, const float *b, const float *dy, float *da, float *db, int64_t n) {
    (void)d, (void)k, (void)a, (void)b, (void)dy, (void)da, (void)db, (void)n;
    RECB(E_BIN);
}
static void r_bc_f(ds_device *d, int k, const ds_bcast *g, const float *a, const float *b, float *y) { (void)d, (void)k, (void)g, (void)a, (void)b, (void)y; REC(E_BC); }
static void r_bc_b(ds_device *d, int k, const ds_bcast *g, const float *a, const float *b, const float *dy, float *da, float *db) {
    (void)d, (void)k, (void)g, (void)a, (void)b, (void)dy, (void)da, (void)db;
    RECB(E_BC);
}
static void r_un_f(ds_device *d, int k, float al, float be, const float *x, float *y, int64_t n) { (void)d, (void)k, (void)al, (void)be, (void)x, (void)y, (void)n; REC(E_UN); }
static void r_un_b(ds_device *d, int k, float al, const float *x, const float *dy, float *dx, int64_t n) { (void)d, (void)k, (void)al, (void)x, (void)dy, (void)dx, (void)n; RECB(E_UN); }
static void r_glu_f(ds_device *d, const float *h, float *y, int64_t r, int64_t I) { (void)d, (void)h, (void)y, (void)r, (void)I; REC(E_GLU); }
static void r_glu_b(ds_device *d, const float *h, const float *dy, float *dh, int64_t r, int64_t I) { (void)d, (void)h, (void)dy, (void)dh, (void)r, (void)I; RECB(E_GLU); }
static void r_mod_f(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *h, float *y) { (void)d, (void)g, (void)x, (void)s, (void)h, (void)y; REC(E_MOD); }
static void r_mod_b(ds_device *d, const ds_bcast *g, const float *x, const float *s, const float *dy, float *dx, float *ds, float *dh) {
    (void)d, (void)g, (void)x, (void)s, (void)dy, (void)dx, (void)ds, (void)dh;
    RECB(E_MOD);
}
static void r_perm(ds_device *d, const int64_t *os, const int64_t *is, const float *s, float *t, bool bw) {
    (void)d, (void)os, (void)is, (void)s, (void)t;
    if (bw) RECB(E_PERM); else REC(E_PERM);
}
static void r_copy(ds_device *d, float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols, bool add) {
    (void)d, (void)dst, (void)ldd, (void)src, (void)lds, (void)rows, (void)cols;
    if (add) RECB(E_COPY); else REC(E_COPY);
}
static void r_resize(ds_device *d, int mode, bool bw, const float *s, float *t, int64_t r, int64_t Ti, int64_t T) {
    (void)d, (void)mode, (void)s, (void)t, (void)r, (void)Ti, (void)T;
    if (bw) RECB(E_RESIZE); else REC(E_RESIZE);
}
static void r_pad(ds_device *d, bool bw, const float *s, float *t, int64_t r, int64_t T, int64_t To, int64_t l) {
    (void)d, (void)s, (void)t, (void)r, (void)T, (void)To, (void)l;
    if (bw) RECB(E_PAD); else REC(E_PAD);
}
static void r_ln_f(ds_device *d, const float *x, const float *g, const float *b, float *y, float *m, float *r, int64_t R, int64_t E, float eps) {
    (void)d, (void)x, (void)g, (void)b, (void)y, (void)m, (void)r, (void)R, (void)E, (void)eps;
    REC(E_LN);
}
static void r_ln_b(ds_device *d, const float *x, const float *g, const float *m, const float *r, const float *dy, float *dx, float *dg, float *db, int64_t R, int64_t E) {
    (void)d, (void)x, (void)g, (void)m, (void)r, (void)dy, (void)dx, (void)dg, (void)db, (void)R, (void)E;
    RECB(E_LN);
}
static void r_l2_f(ds_device *d, const float *x, float *y, int64_t R, int64_t D) { (void)d, (void)x, (void)y, (void)R, (void)D; REC(E_L2); }
static void r_l2_b(ds_device *d, const float *x, const float *dy, float *dx, int64_t R, int64_t D) { (void)d, (void)x, (void)dy, (void)dx, (void)R, (void)D; RECB(E_L2); }
static void r_gn_f(ds_device *d, const ds_gn_geom *g, const float *x, const float *ga, const float *be, const float *sc, const float *sh, float *y, float *m, float *r) {
    (void)d, (void)x, (void)ga, (void)be, (void)sc, (void)sh, (void)y, (void)m, (void)r;
    CHECK(g->G == 2 && g->act == DS_ACT_SILU);
    REC(E_GN);
}
static void r_gn_b(ds_device *d, const ds_gn_geom *g, const float *x, const float *ga, const float *be, const float *sc, const float *sh,
                   const float *m, const float *r, const float *dy, float *dx, float *dga, float *dbe, float *dsc, float *dsh) {
    (void)d, (void)g, (void)x, (void)ga, (void)be, (void)sc, (void)sh, (void)m, (void)r, (void)dy, (void)dx, (void)dga, (void)dbe;
    (void)dsc, (void)dsh;
    RECB(E_GN);
}
static void r_att_f(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v, float *o, float *lse) {
    (void)d, (void)q, (void)k, (void)v, (void)o;
    CHECK(g->Hq == 4 && g->Hk == 2 && g->D == 8 && lse != NULL);
    REC(E_ATT);
}
static void r_att_b(ds_device *d, const ds_attn_geom *g, const float *q, const float *k, const float *v, const float *o,
                    const float *lse, const float *dout, float *dq, float *dk, float *dv) {
    (void)d, (void)g, (void)q, (void)k, (void)v, (void)o, (void)lse, (void)dout, (void)dq, (void)dk, (void)dv;
    RECB(E_ATT);
}
static void r_rope(ds_device *d, const float *x, const float *f, float *y, int64_t rows, int64_t N, int64_t H, int64_t D,
                   int64_t R, int64_t p0, float sign, bool acc) {
    (void)d, (void)x, (void)f, (void)y, (void)rows, (void)N, (void)H, (void)D, (void)R, (void)p0, (void)sign;
    if (acc) RECB(E_ROPE); else REC(E_ROPE);
}
static void r_four_f(ds_device *d, int k, const float *t, const float *w, float *y, int64_t B, int64_t F) { (void)d, (void)k, (void)t, (void)w, (void)y, (void)B, (void)F; REC(E_FOUR); }
static void r_four_b(ds_device *d, int k, const float *t, const float *w, const float *dy, float *dt, float *dw, int64_t B, int64_t F) {
    (void)d, (void)k, (void)t, (void)w, (void)dy, (void)dt, (void)dw, (void)B, (void)F;
    RECB(E_FOUR);
}
static void r_mse_f(ds_device *d, const float *a, const float *b, const float *m, float *y, float *c, int64_t n, int64_t C, int64_t T) {
    (void)d, (void)a, (void)b, (void)m, (void)y, (void)c, (void)n, (void)C, (void)T;
    REC(E_MSE);
}
static void r_mse_b(ds_device *d, const float *a, const float *b, const float *m, const float *c, const float *dy, float *da, float *db, int64_t n, int64_t C, int64_t T) {
    (void)d, (void)a, (void)b, (void)m, (void)c, (void)dy, (void)da, (void)db, (void)n, (void)C, (void)T;
    RECB(E_MSE);
}
static void r_cfg(ds_device *d, const float *c, const float *r, float *y, int64_t B, int64_t C, int64_t T, float phi) {
    (void)d, (void)c, (void)r, (void)y, (void)B, (void)C, (void)T, (void)phi;
    REC(E_CFG);
}
static void r_seed(ds_device *d, float *g, const float *dout, const float *scale, int64_t n) { (void)d, (void)g, (void)dout, (void)scale, (void)n; REC(E_SEED); }
static void r_fill(ds_device *d, float *p, int64_t n, float v) { (void)d, (void)p, (void)n, (void)v; }
static void r_emb_f(ds_device *d, const float *t, const float *idx, float *y, int64_t B, int64_t E) {
    (void)d, (void)t, (void)y, (void)E;
    CHECK(B == 2 && idx != NULL);
    REC(E_EMB);
}
static void r_emb_b(ds_device *d, const float *idx, const float *dy, float *dt, int64_t B, int64_t E) {
    (void)d, (void)idx, (void)dy, (void)dt, (void)B, (void)E;
    RECB(E_EMB);
}

static ds_tensor *in3(ds_ctx *c, float *buf, int64_t a, int64_t b, int64_t d, bool g) {
    return ds_input(c, buf, 3, (int64_t[]){a, b, d}, g);
}

static void test_dispatch(void) {
    ds_err e;
    ds_device *d = NULL;
    CHECK(ds_device_open("sim", DS_PREC_32, &d, &e) == DS_OK);
    ds_dev_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.gemm = r_gemm, ops.linear_fwd = r_lin_f, ops.linear_bwd = r_lin_b, ops.conv_fwd = r_conv_f, ops.conv_bwd = r_conv_b;
    ops.binary_fwd = r_bin_f, ops.binary_bwd = r_bin_b, ops.bcast_fwd = r_bc_f, ops.bcast_bwd = r_bc_b;
    ops.unary_fwd = r_un_f, ops.unary_bwd = r_un_b, ops.swiglu_fwd = r_glu_f, ops.swiglu_bwd = r_glu_b;
    ops.modulate_fwd = r_mod_f, ops.modulate_bwd = r_mod_b, ops.permute = r_perm, ops.copy2d = r_copy;
    ops.resize = r_resize, ops.pad_reflect = r_pad, ops.layernorm_fwd = r_ln_f, ops.layernorm_bwd = r_ln_b;
    ops.l2norm_fwd = r_l2_f, ops.l2norm_bwd = r_l2_b, ops.groupnorm_fwd = r_gn_f, ops.groupnorm_bwd = r_gn_b;
    ops.attention_fwd = r_att_f, ops.attention_bwd = r_att_b, ops.rope = r_rope, ops.fourier_fwd = r_four_f;
    ops.fourier_bwd = r_four_b, ops.mse_fwd = r_mse_f, ops.mse_bwd = r_mse_b, ops.cfg_rescale = r_cfg;
    ops.seed_grad = r_seed, ops.fill = r_fill, ops.embed_fwd = r_emb_f, ops.embed_bwd = r_emb_b;
    d->ops = &ops; /* the stand-in's memory with a recording op table */
    float *buf = calloc(1 << 16, sizeof(float));
    ds_ctx c;
    ds_ctx_init(&c);
    ds_ctx_set_device(&c, d, false);
    c.grad = true;
    CHECK(ds_ops_of(&c) == &ops);
    ds_tensor *x = in3(&c, buf, 3, 5, 17, true), *w = ds_input(&c, buf, 2, (int64_t[]){13, 17}, true);
    ds_tensor *b = ds_input(&c, buf, 1, (int64_t[]){13}, true);
    ds_tensor *y = ds_linear(&c, x, w, b);
    ds_tensor *xc = in3(&c, buf, 2, 6, 19, true), *wc = in3(&c, buf, 5, 6, 3, true);
    ds_tensor *yc = ds_conv1d(&c, xc, wc, NULL, 1, 1, 1, 1, 1);
    ds_tensor *a1 = in3(&c, buf, 2, 3, 4, true), *a2 = in3(&c, buf, 2, 3, 4, true), *a3 = in3(&c, buf, 2, 1, 4, true);
    ds_tensor *z = ds_add(&c, ds_mul_bc(&c, ds_silu(&c, a1), a3), a2);
    z = ds_modulate(&c, z, a3, a3);
    z = ds_concat(&c, 1, 2, (ds_tensor *[]){ds_slice(&c, z, 1, 0, 2), ds_swiglu(&c, in3(&c, buf, 2, 1, 8, true))});
    z = ds_add(&c, ds_transpose12(&c, ds_transpose12(&c, z)), ds_repeat0(&c, in3(&c, buf, 1, 3, 4, true), 2));
    z = ds_layernorm(&c, ds_l2norm(&c, z), NULL, NULL, 1e-5f);
    ds_tensor *r1 = ds_resize_linear(&c, ds_pad_reflect(&c, in3(&c, buf, 2, 2, 9, true), 2, 2), 20);
    ds_tensor *gn = ds_group_norm_act(&c, in3(&c, buf, 2, 4, 9, true), 2, NULL, NULL, 1e-5f,
                                      ds_input(&c, buf, 2, (int64_t[]){2, 4}, true),
                                      ds_input(&c, buf, 2, (int64_t[]){2, 4}, true), DS_ACT_SILU);
    ds_tensor *q = in3(&c, buf, 2, 5, 32, true), *kv = in3(&c, buf, 2, 7, 16, true);
    ds_tensor *inv = ds_input(&c, buf, 1, (int64_t[]){4}, false);
    ds_tensor *att = ds_attention(&c, ds_rope(&c, q, 4, 8, inv, 0), kv, kv, 4, 2, 0.35f);
    ds_tensor *f = ds_fourier(&c, ds_input(&c, buf, 1, (int64_t[]){3}, true), ds_input(&c, buf, 1, (int64_t[]){5}, true),
                              DS_FOURIER_COS_SIN);
    ds_tensor *emb = ds_embedding(&c, ds_input(&c, buf, 2, (int64_t[]){4, 6}, true), (const int64_t[]){1, 3}, 2);
    ds_tensor *l1 = ds_mse(&c, y, y, NULL), *l2 = ds_mse(&c, yc, yc, NULL), *l3 = ds_mse(&c, z, z, NULL);
    ds_tensor *l4 = ds_mse(&c, r1, r1, NULL), *l5 = ds_mse(&c, gn, gn, NULL), *l6 = ds_mse(&c, att, att, NULL);
    ds_tensor *l7 = ds_mse(&c, f, f, NULL), *l8 = ds_mse(&c, emb, emb, NULL);
    ds_tensor *loss = ds_add(&c, ds_add(&c, ds_add(&c, l1, l2), ds_add(&c, l3, l4)), ds_add(&c, ds_add(&c, l5, l6), ds_add(&c, l7, l8)));
    ds_backward(&c, loss, NULL);
    const char *names[E_COUNT] = {"linear", "conv", "binary", "bcast", "unary", "swiglu", "modulate", "permute", "copy2d",
                                  "resize", "pad", "layernorm", "l2norm", "groupnorm", "attention", "rope", "fourier",
                                  "mse", "cfg", "seed", "embedding"};
    for (int k = 0; k < E_COUNT; k++) {
        if (k == E_CFG) continue; /* forward-only: below */
        CHECKF(g_fwd[k] > 0, "no device forward call for %s", names[k]);
        if (k != E_SEED) CHECKF(g_bwd[k] > 0, "no device backward call for %s", names[k]);
    }
    c.grad = false;
    ds_cfg_combine(&c, in3(&c, buf, 2, 3, 4, false), in3(&c, buf, 2, 3, 4, false), 3.0f, 0.7f);
    CHECK(g_fwd[E_CFG] == 1);
    ds_ctx_free(&c);
    free(buf);
    d->ops = NULL;
    ds_device_close(d);
}

/* ---------- roles, staging, planning, gradient recycling: a trainer on the stand-in ---------- */

static void test_trainer_memory(void) {
    ds_err e = {0};
    ds_model_config *cfg = malloc(sizeof *cfg);
    CHECKF(ds_model_config_load(tu_fixture("dit_basic/config.json"), cfg, NULL, &e) == DS_OK, "%s", e.msg);
    ds_model *m = NULL;
    CHECK(ds_model_create(cfg, &m, &e) == DS_OK);
    ds_model_init_random(m, 3);
    ds_device *d = NULL;
    CHECK(ds_device_open("sim", DS_PREC_32, &d, &e) == DS_OK);
    ds_trainer tr;
    CHECK(ds_trainer_init(&tr, m, 5, &e) == DS_OK);
    CHECK(ds_trainer_use_device(&tr, d, &e) == DS_OK);
    /* one allocation per role */
    CHECK(d->allocs == 6); /* parameters, gradients, m, v, EMA, step state */
    CHECK(d->bytes_by_role[DS_ROLE_PARAMS] == (size_t)m->params.total * 4);
    CHECK(d->bytes_by_role[DS_ROLE_ADAM_M] == (size_t)ds_params_trainable(&m->params) * 4);
    CHECK(d->bytes_by_role[DS_ROLE_EMA] > 0 && d->bytes_by_role[DS_ROLE_ARENA] == 0);
    int B = 2, C = cfg->io_channels;
    int64_t T = cfg->sample_size;
    float *audio = calloc((size_t)(B * C * T), sizeof(float)), *mask = malloc((size_t)(B * T) * sizeof(float));
    for (int64_t i = 0; i < (int64_t)B * C * T; i++) audio[i] = (float)sin(0.1 * (double)i);
    for (int64_t i = 0; i < (int64_t)B * T; i++) mask[i] = 1;
    ds_meta meta[2];
    memset(meta, 0, sizeof meta);
    for (int b = 0; b < B; b++) {
        ds_meta_set_number(&meta[b], "seconds_start", b);
        ds_meta_set_number(&meta[b], "seconds_total", 10 + b);
    }
    ds_batch batch = {B, C, T, audio, mask, meta};
    CHECK(ds_trainer_plan(&tr, &batch, &e) == DS_OK);
    size_t planned = tr.arena_bytes;
    CHECK(d->allocs == 7 && d->bytes_by_role[DS_ROLE_ARENA] >= planned); /* + the arena, one block */
    /* without gradient recycling the same step needs more: the plan shows the saving */
    ds_ctx plain;
    ds_ctx_init(&plain);
    plain.grad = true;
    ds_ctx_set_dry(&plain, true);
    {
        ds_trainer cpu;
        CHECK(ds_trainer_init(&cpu, m, 5, &e) == DS_OK);
        CHECK(ds_trainer_plan(&cpu, &batch, &e) == DS_OK);
        CHECKF(cpu.arena_bytes > planned, "recycled gradients %zu, all kept %zu", planned, cpu.arena_bytes);
        ds_trainer_free(&cpu);
    }
    ds_ctx_free(&plain);
    const float *stage_ptr[4];
    for (int k = 0; k < 4; k++) {
        ds_step_stats st;
        CHECK(ds_trainer_submit(&tr, &batch, NULL, &e) == DS_OK);
        stage_ptr[k] = (const float *)tr.ctx.stage[tr.ctx.stage_i].base;
        CHECK(ds_trainer_collect(&tr, &st, &e) == DS_OK && !st.skipped);
        CHECKF(tr.ctx.arena.regrows == 0 && tr.ctx.stage[0].regrows == 0 && tr.ctx.stage[1].regrows == 0,
               "step %d: regrows arena %zu, staging %zu/%zu (peaks %zu %zu %zu, caps %zu %zu %zu)", k, tr.ctx.arena.regrows,
               tr.ctx.stage[0].regrows, tr.ctx.stage[1].regrows, tr.ctx.arena.peak, tr.ctx.stage[0].peak,
               tr.ctx.stage[1].peak, tr.ctx.arena.cap, tr.ctx.stage[0].cap, tr.ctx.stage[1].cap);
        CHECK(tr.ctx.arena.overflow == 0);
    }
    CHECK(d->allocs == 7);                                          /* nothing allocated inside a step */
    CHECK(stage_ptr[0] == stage_ptr[2] && stage_ptr[1] == stage_ptr[3]); /* two staging halves, alternating */
    CHECK(stage_ptr[0] != stage_ptr[1]);
    CHECK(d->uploads > 0 && tr.global_step == 4);
    /* a second submit without collect is refused */
    CHECK(ds_trainer_submit(&tr, &batch, NULL, &e) == DS_OK);
    CHECK(ds_trainer_submit(&tr, &batch, NULL, &e) == DS_ERR_INTERNAL);
    ds_step_stats st;
    CHECK(ds_trainer_collect(&tr, &st, &e) == DS_OK);
    ds_trainer_free(&tr);
    CHECK(m->params.dev == NULL); /* unbound: the host copies are current again */
    CHECK(d->bytes_live == 0);
    ds_model_free(m);
    ds_device_close(d);
    free(cfg);
    free(audio);
    free(mask);
}

int main(void) {
    test_scaler();
    test_graphs();
    test_selection();
    test_dispatch();
    test_trainer_memory();
    return tu_finish("test_device_host");
}
