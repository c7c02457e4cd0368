/* LayerNorm over the last dim (nn.LayerNorm / F.layer_norm; SAT's bias-less variant passes a
 * zero `beta` buffer) and L2 normalisation (F.normalize).
 * Ref: https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
 * Statistics accumulate in double: the result is at least as accurate as PyTorch's float
 * Welford, which is all the fixtures' tolerances ask. */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "ops/ops.h"

typedef struct ln_job {
    const float *x, *gamma, *beta, *dy;
    float *y, *mean, *rstd, *dx;
    int64_t E;
    float eps;
} ln_job;

static void ln_rows(void *arg, int64_t r0, int64_t r1) {
    const ln_job *j = arg;
    int64_t E = j->E;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * E;
        double s = 0, ss = 0;
        for (int64_t e = 0; e < E; e++) s += x[e];
        double m = s / (double)E;
        for (int64_t e = 0; e < E; e++) {
            double d = x[e] - m;
            ss += d * d;
        }
        float mean = (float)m, rstd = (float)(1.0 / sqrt(ss / (double)E + (double)j->eps));
        j->mean[r] = mean;
        j->rstd[r] = rstd;
        float *y = j->y + r * E;
        for (int64_t e = 0; e < E; e++) {
            float v = (x[e] - mean) * rstd;
            if (j->gamma) v *= j->gamma[e];
            if (j->beta) v += j->beta[e];
            y[e] = v;
        }
    }
}

static void ln_bw_rows(void *arg, int64_t r0, int64_t r1) {
    const ln_job *j = arg;
    int64_t E = j->E;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = j->x + r * E, *dy = j->dy + r * E;
        float mean = j->mean[r], rstd = j->rstd[r];
        double a = 0, b = 0; /* mean(dy·g), mean(dy·g·xhat) */
        for (int64_t e = 0; e < E; e++) {
            float g = dy[e] * (j->gamma ? j->gamma[e] : 1.0f);
            float xh = (x[e] - mean) * rstd;
            a += g;
            b += g * xh;
        }
        float ma = (float)(a / (double)E), mb = (float)(b / (double)E);
        float *dx = j->dx + r * E;
        for (int64_t e = 0; e < E; e++) {
            float g = dy[e] * (j->gamma ? j->gamma[e] : 1.0f);
            float xh = (x[e] - mean) * rstd;
            dx[e] += rstd * (g - ma - xh * mb);
        }
    }
}

typedef struct ln_param_job {
    const float *x, *dy, *mean, *rstd;
    float *dgamma, *dbeta;
    int64_t R, E;
} ln_param_job;

static void ln_bw_cols(void *arg, int64_t c0, int64_t c1) {
    const ln_param_job *j = arg;
    for (int64_t r = 0; r < j->R; r++) {
        const float *x = j->x + r * j->E, *dy = j->dy + r * j->E;
        float mean = j->mean[r], rstd = j->rstd[r];
        for (int64_t e = c0; e < c1; e++) {
            if (j->dgamma) j->dgamma[e] += dy[e] * ((x[e] - mean) * rstd);
            if (j->dbeta) j->dbeta[e] += dy[e];
        }
    }
}

static void layernorm_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2];
    int64_t E = r->i[0], R = ds_numel(x) / E;
    float *mean = r->saved[0]->data, *rstd = r->saved[1]->data;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->layernorm_bwd(r->dev, x->data, gamma ? gamma->data : NULL, mean, rstd, r->out->grad, ds_grad_or_null(x),
                          ds_grad_or_null(gamma), ds_grad_or_null(beta), R, E);
        return;
    }
    if (x->requires_grad) {
        ln_job j = {x->data, gamma ? gamma->data : NULL, NULL, r->out->grad, NULL, mean, rstd, x->grad, E, 0};
        ds_parallel_for(R, 8, ln_bw_rows, &j);
    }
    bool dg = gamma && gamma->requires_grad, db = beta && beta->requires_grad;
    if (dg || db) {
        ln_param_job p = {x->data, r->out->grad, mean, rstd, dg ? gamma->grad : NULL, db ? beta->grad : NULL, R, E};
        ds_parallel_for(E, 32, ln_bw_cols, &p);
    }
}

ds_tensor *ds_layernorm(ds_ctx *c, ds_tensor *x, ds_tensor *gamma, ds_tensor *beta, float eps) {
    int64_t E = ds_dim(x, -1), R = ds_numel(x) / E;
    DS_ASSERT(!gamma || ds_numel(gamma) == E);
    DS_ASSERT(!beta || ds_numel(beta) == E);
    ds_tensor *y = ds_new_like(c, x);
    ds_tensor *mean = ds_new1(c, R), *rstd = ds_new1(c, R);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->layernorm_fwd(c->dev, x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, y->data, mean->data,
                          rstd->data, R, E, eps);
    } else if (!c->dry) {
        ln_job j = {x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, NULL, y->data, mean->data,
                    rstd->data, NULL, E, eps};
        ds_parallel_for(R, 8, ln_rows, &j);
    }
    ds_rec *r = ds_record(c, "layernorm", layernorm_backward, y, 3, (ds_tensor *[]){x, gamma, beta});
    if (r) {
        r->i[0] = E;
        r->saved[0] = mean;
        r->saved[1] = rstd;
    }
    return y;
}

/* ---------- F.normalize(x, dim=-1): x / max(||x||, 1e-12) ---------- */

static void l2norm_backward(ds_rec *r) {
    ds_tensor *x = r->in[0];
    int64_t D = r->i[0], R = ds_numel(x) / D;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->l2norm_bwd(r->dev, x->data, r->out->grad, x->grad, R, D);
        return;
    }
    for (int64_t q = 0; q < R; q++) {
        const float *xv = x->data + q * D, *dy = r->out->grad + q * D;
        float *dx = x->grad + q * D;
        double n2 = 0, dot = 0;
        for (int64_t d = 0; d < D; d++) {
            n2 += (double)xv[d] * xv[d];
            dot += (double)xv[d] * dy[d];
        }
        double n = sqrt(n2);
        if (n > 1e-12) {
            for (int64_t d = 0; d < D; d++) dx[d] += (float)(dy[d] / n - xv[d] * dot / (n * n * n));
        } else {
            for (int64_t d = 0; d < D; d++) dx[d] += (float)(dy[d] / 1e-12);
        }
    }
}

ds_tensor *ds_l2norm(ds_ctx *c, ds_tensor *x) {
    int64_t D = ds_dim(x, -1), R = ds_numel(x) / D;
    ds_tensor *y = ds_new_like(c, x);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv)
        dv->l2norm_fwd(c->dev, x->data, y->data, R, D);
    else if (!c->dry)
        for (int64_t q = 0; q < R; q++) {
            const float *xv = x->data + q * D;
            double n2 = 0;
            for (int64_t d = 0; d < D; d++) n2 += (double)xv[d] * xv[d];
            float n = (float)sqrt(n2);
            if (n < 1e-12f) n = 1e-12f;
            for (int64_t d = 0; d < D; d++) y->data[q * D + d] = xv[d] / n;
        }
    ds_rec *r = ds_record(c, "l2norm", l2norm_backward, y, 1, (ds_tensor *[]){x});
    if (r) r->i[0] = D;
    return y;
}
