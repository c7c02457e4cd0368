/* nn.Linear: y[M, N] = x[M, K] · w[N, K]ᵀ + b[N], M = all leading dims of x.
 * Ref: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html */
#include <string.h>

#include "core/assert.h"
#include "core/pool.h"
#include "device/dispatch.h"
#include "ops/ops.h"

typedef struct bias_job {
    float *y;
    const float *b;
    int64_t N;
} bias_job;

static void bias_rows(void *arg, int64_t r0, int64_t r1) {
    const bias_job *j = arg;
    for (int64_t r = r0; r < r1; r++) {
        float *y = j->y + r * j->N;
        for (int64_t n = 0; n < j->N; n++) y[n] = j->b[n];
    }
}

/* db[n] += Σ_r dy[r, n]: parallel over column blocks so no two threads write the same db. */
typedef struct colsum_job {
    float *db;
    const float *dy;
    int64_t M, N;
} colsum_job;

static void colsum_cols(void *arg, int64_t c0, int64_t c1) {
    const colsum_job *j = arg;
    for (int64_t r = 0; r < j->M; r++) {
        const float *dy = j->dy + r * j->N;
        for (int64_t n = c0; n < c1; n++) j->db[n] += dy[n];
    }
}

void ds_colsum_add(float *db, const float *dy, int64_t M, int64_t N) {
    colsum_job j = {db, dy, M, N};
    ds_parallel_for(N, 64, colsum_cols, &j);
}

static void linear_backward(ds_rec *r) {
    ds_tensor *x = r->in[0], *w = r->in[1], *b = r->in[2];
    int64_t M = r->i[0], K = r->i[1], N = r->i[2];
    const float *dy = r->out->grad;
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) {
        dv->linear_bwd(r->dev, x->data, w->data, dy, ds_grad_or_null(x), ds_grad_or_null(w), ds_grad_or_null(b), M, K, N);
        return;
    }
    if (x->requires_grad) ds_gemm(false, false, M, K, N, 1.0f, dy, N, w->data, K, 1.0f, x->grad, K);
    if (w->requires_grad) ds_gemm(true, false, N, K, M, 1.0f, dy, N, x->data, K, 1.0f, w->grad, K);
    if (b && b->requires_grad) ds_colsum_add(b->grad, dy, M, N);
}

ds_tensor *ds_linear(ds_ctx *c, ds_tensor *x, ds_tensor *w, ds_tensor *b) {
    int64_t K = ds_dim(x, -1), N = w->shape[0];
    DS_ASSERTF(w->ndim == 2 && w->shape[1] == K, "linear: x width %lld, weight [%lld, %lld]", (long long)K,
               (long long)w->shape[0], (long long)w->shape[1]);
    DS_ASSERT(!b || (b->ndim == 1 && b->shape[0] == N));
    int64_t M = ds_numel(x) / (K ? K : 1);
    int64_t shape[DS_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = N;
    ds_tensor *y = ds_new(c, x->ndim, shape);
    const ds_dev_ops *dv = ds_ops_of(c);
    if (!c->dry && dv) {
        dv->linear_fwd(c->dev, x->data, w->data, b ? b->data : NULL, y->data, M, K, N);
    } else if (!c->dry) {
        if (b) {
            bias_job j = {y->data, b->data, N};
            ds_parallel_for(M, 64, bias_rows, &j);
        }
        ds_gemm(false, true, M, N, K, 1.0f, x->data, K, w->data, K, b ? 1.0f : 0.0f, y->data, N);
    }
    ds_rec *r = ds_record(c, "linear", linear_backward, y, 3, (ds_tensor *[]){x, w, b});
    if (r) {
        r->i[0] = M;
        r->i[1] = K;
        r->i[2] = N;
    }
    return y;
}
