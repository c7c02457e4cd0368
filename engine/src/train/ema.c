#include "train/ema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"

int ds_ema_init(ds_ema *e, int64_t n) {
    memset(e, 0, sizeof *e);
    e->n = n;
    e->beta = 0.9999;
    e->power = 0.75;
    e->inv_gamma = 1.0;
    e->update_after_step = 1;
    e->w = calloc((size_t)(n ? n : 1), sizeof(float));
    return e->w ? 0 : -1;
}

void ds_ema_free(ds_ema *e) {
    free(e->w);
    e->w = NULL;
}

double ds_ema_next_decay(const ds_ema *e) {
    int64_t k = e->step;
    if (k <= e->update_after_step) return 0.0;
    double epoch = (double)(k + 1 - e->update_after_step - 1);
    if (epoch <= 0) return 0.0;
    double v = 1.0 - pow(1.0 + epoch / e->inv_gamma, -e->power);
    return v < 0 ? 0 : (v > e->beta ? e->beta : v);
}

typedef struct lerp_job {
    float *ema;
    const float *x;
    float w;
} lerp_job;

static void lerp_range(void *arg, int64_t i0, int64_t i1) {
    const lerp_job *j = arg;
    if (fabsf(j->w) < 0.5f)
        for (int64_t i = i0; i < i1; i++) j->ema[i] = j->ema[i] + j->w * (j->x[i] - j->ema[i]);
    else
        for (int64_t i = i0; i < i1; i++) j->ema[i] = j->x[i] - (j->x[i] - j->ema[i]) * (1.0f - j->w);
}

double ds_ema_prepare(const ds_ema *e, float *weight) {
    double decay = ds_ema_next_decay(e);
    int64_t k = e->step;
    bool copy = k <= e->update_after_step || !e->initted;
    *weight = copy ? 1.0f : (float)(1.0 - decay);
    return k <= e->update_after_step ? 0.0 : decay;
}

void ds_ema_advance(ds_ema *e) {
    e->step++;
    e->initted = true;
}

double ds_ema_update(ds_ema *e, const float *online) {
    double decay = ds_ema_next_decay(e);
    int64_t k = e->step;
    e->step = k + 1;
    if (k <= e->update_after_step || !e->initted) {
        memcpy(e->w, online, (size_t)e->n * sizeof(float));
        e->initted = true;
        if (k <= e->update_after_step) return 0.0;
    }
    lerp_job j = {e->w, online, (float)(1.0 - decay)};
    ds_parallel_for(e->n, 1 << 14, lerp_range, &j);
    return decay;
}
