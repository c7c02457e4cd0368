/* Mean squared error (SAT's MSELoss), optionally over the unmasked elements only:
 * with a padding mask m [B, T] broadcast over channels of [B, C, T], loss = mean(e[m]).
 * Sums accumulate in double. */
#include <string.h>

#include "core/assert.h"
#include "device/dispatch.h"
#include "ops/ops.h"

static void mse_backward(ds_rec *r) {
    ds_tensor *a = r->in[0], *b = r->in[1];
    const float *mask = r->p;
    int64_t n = ds_numel(a);
    int64_t C = r->i[0], T = r->i[1];
    const ds_dev_ops *dv = ds_ops_rec(r);
    if (dv) { /* saved[0]: the element count, computed on the device */
        dv->mse_bwd(r->dev, a->data, b->data, mask, r->saved[0]->data, r->out->grad, ds_grad_or_null(a),
                    ds_grad_or_null(b), n, C, T);
        return;
    }
    float count = r->f[0], g = r->out->grad[0] * 2.0f / count;
    for (int64_t i = 0; i < n; i++) {
        if (mask && mask[(i / (C * T)) * T + i % T] == 0.0f) continue;
        float d = g * (a->data[i] - b->data[i]);
        if (a->requires_grad) a->grad[i] += d;
        if (b->requires_grad) b->grad[i] -= d;
    }
}

ds_tensor *ds_mse(ds_ctx *c, ds_tensor *a, ds_tensor *b, const float *mask) {
    DS_ASSERT(ds_same_shape(a, b));
    int64_t n = ds_numel(a), C = 1, T = n;
    if (mask) {
        DS_ASSERT(a->ndim == 3);
        C = a->shape[1];
        T = a->shape[2];
    }
    ds_tensor *y = ds_new1(c, 1);
    double count = 0;
    const ds_dev_ops *dv = ds_ops_of(c);
    ds_tensor *cnt = dv ? ds_new1(c, 1) : NULL;
    if (!c->dry && dv) {
        dv->mse_fwd(c->dev, a->data, b->data, mask, y->data, cnt->data, n, C, T);
    } else if (!c->dry) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) {
            if (mask && mask[(i / (C * T)) * T + i % T] == 0.0f) continue;
            double d = (double)a->data[i] - (double)b->data[i];
            s += d * d;
            count += 1;
        }
        y->data[0] = count > 0 ? (float)(s / count) : 0.0f;
    }
    ds_rec *r = ds_record(c, "mse", mse_backward, y, 2, (ds_tensor *[]){a, b});
    if (r) {
        r->f[0] = (float)(count > 0 ? count : 1);
        r->i[0] = C;
        r->i[1] = T;
        r->p = (void *)mask;
        r->saved[0] = cnt;
    }
    return y;
}
