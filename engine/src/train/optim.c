#include "train/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"

ds_status ds_optim_init(ds_optim *o, const ds_training_config *t, int64_t n, ds_err *err) {
    memset(o, 0, sizeof *o);
    if (t->has_optimizer_configs) {
        if (t->optimizer != DS_OPT_ADAM && t->optimizer != DS_OPT_ADAMW)
            return ds_err_set(err, DS_ERR_UNSUPPORTED,
                              "training.optimizer_configs.diffusion.optimizer.type: \"%s\" cannot run in diffstudio "
                              "(Adam and AdamW can)",
                              t->optimizer_name);
        if (t->amsgrad)
            return ds_err_set(err, DS_ERR_UNSUPPORTED,
                              "training.optimizer_configs.diffusion.optimizer.config.amsgrad: not supported");
        if (t->scheduler == DS_SCHED_OTHER)
            return ds_err_set(err, DS_ERR_UNSUPPORTED,
                              "training.optimizer_configs.diffusion.scheduler.type: \"%s\" cannot run in diffstudio "
                              "(InverseLR can)",
                              t->scheduler_name);
        o->type = t->optimizer;
        o->lr = t->lr;
        o->beta1 = t->beta1;
        o->beta2 = t->beta2;
        o->eps = t->eps;
        o->weight_decay = t->weight_decay;
        o->sched = t->scheduler;
        o->inv_gamma = t->inv_gamma;
        o->power = t->power;
        o->warmup = t->warmup;
        o->final_lr = t->final_lr;
    } else {
        if (!t->has_learning_rate)
            return ds_err_set(err, DS_ERR_INVALID, "training: set learning_rate or optimizer_configs");
        o->type = DS_OPT_ADAM; /* torch.optim.Adam(params, lr) with torch defaults */
        o->lr = t->learning_rate;
        o->beta1 = 0.9;
        o->beta2 = 0.999;
        o->eps = 1e-8;
        o->sched = DS_SCHED_NONE;
    }
    o->n = n;
    o->m = calloc((size_t)(n ? n : 1), sizeof(float));
    o->v = calloc((size_t)(n ? n : 1), sizeof(float));
    if (!o->m || !o->v) {
        ds_optim_free(o);
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory for the optimiser state (%lld floats)", (long long)n);
    }
    return DS_OK;
}

void ds_optim_free(ds_optim *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

double ds_optim_lr_at(const ds_optim *o, int64_t k) {
    if (o->sched != DS_SCHED_INVERSE_LR) return o->lr;
    double warm = 1.0 - pow(o->warmup, (double)(k + 1));
    double mult = pow(1.0 + (double)k / o->inv_gamma, -o->power);
    double lr = o->lr * mult;
    return warm * (lr > o->final_lr ? lr : o->final_lr);
}

double ds_optim_lr(const ds_optim *o) { return ds_optim_lr_at(o, o->step); }

typedef struct adam_job {
    float *p, *m, *v;
    const float *g;
    float decay, b1, one_b1, b2, one_b2, bc2_sqrt, eps, neg_step, l2;
    int adamw;
} adam_job;

/* torch 1.13 _single_tensor_adam(w), op by op:
 *   AdamW: p.mul_(1 - lr*wd)             Adam: g = g.add(p, alpha=wd)
 *   m.mul_(b1).add_(g, alpha=1-b1);  v.mul_(b2).addcmul_(g, g, value=1-b2)
 *   denom = (v.sqrt() / sqrt(bc2)).add_(eps);  p.addcdiv_(m, denom, value=-lr/bc1) */
static void adam_range(void *arg, int64_t i0, int64_t i1) {
    const adam_job *j = arg;
    for (int64_t i = i0; i < i1; i++) {
        float p = j->p[i], g = j->g[i];
        if (j->adamw)
            p = p * j->decay;
        else if (j->l2 != 0.0f)
            g = g + j->l2 * p;
        float m = j->m[i] * j->b1;
        m = m + j->one_b1 * g;
        float v = j->v[i] * j->b2;
        v = v + (j->one_b2 * g) * g;
        float denom = sqrtf(v) / j->bc2_sqrt + j->eps;
        p = p + (j->neg_step * m) / denom;
        j->p[i] = p;
        j->m[i] = m;
        j->v[i] = v;
    }
}

void ds_optim_step(ds_optim *o, float *params, const float *grads) {
    double lr = ds_optim_lr(o);
    int64_t s = o->step + 1;
    double bc1 = 1.0 - pow(o->beta1, (double)s), bc2 = 1.0 - pow(o->beta2, (double)s);
    adam_job j = {params,
                  o->m,
                  o->v,
                  grads,
                  (float)(1.0 - lr * o->weight_decay),
                  (float)o->beta1,
                  (float)(1.0 - o->beta1),
                  (float)o->beta2,
                  (float)(1.0 - o->beta2),
                  (float)sqrt(bc2),
                  (float)o->eps,
                  (float)(-(lr / bc1)),
                  (float)o->weight_decay,
                  o->type == DS_OPT_ADAMW};
    ds_parallel_for(o->n, 1 << 14, adam_range, &j);
    o->step = s;
}

/* Sums of squares over fixed 64 Ki-element chunks (threaded), then added in chunk order: the
 * same result for any thread count, so a resumed run's norms (and clipping) are identical. */
#define NORM_CHUNK 65536

typedef struct norm_job {
    const float *g;
    int64_t n;
    double *part;
} norm_job;

static void norm_chunks(void *arg, int64_t c0, int64_t c1) {
    const norm_job *j = arg;
    for (int64_t c = c0; c < c1; c++) {
        int64_t b = c * NORM_CHUNK, e = b + NORM_CHUNK < j->n ? b + NORM_CHUNK : j->n;
        double s = 0;
        for (int64_t i = b; i < e; i++) s += (double)j->g[i] * j->g[i];
        j->part[c] = s;
    }
}

double ds_grad_norm(const float *g, int64_t n) {
    int64_t chunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    double stack[64], *part = chunks <= 64 ? stack : malloc((size_t)chunks * sizeof(double));
    double s = 0;
    if (!part) { /* out of memory: the serial sum */
        for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
        return sqrt(s);
    }
    norm_job j = {g, n, part};
    ds_parallel_for(chunks, 1, norm_chunks, &j);
    for (int64_t c = 0; c < chunks; c++) s += part[c];
    if (part != stack) free(part);
    return sqrt(s);
}

void ds_clip_grad_norm(float *g, int64_t n, double norm, double max_norm) {
    if (max_norm <= 0 || !(norm > max_norm)) return;
    float coef = (float)(max_norm / (norm + 1e-6));
    for (int64_t i = 0; i < n; i++) g[i] *= coef;
}
