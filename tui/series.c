/* Metric history (see series.h). */
#include "series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ui_series_init(ui_series *s, double weight) {
    memset(s, 0, sizeof *s);
    s->weight = weight;
    ui_ema_init(&s->ema, weight);
}

void ui_series_free(ui_series *s) {
    free(s->step);
    free(s->loss);
    free(s->smooth);
    free(s->lr);
    free(s->grad);
    free(s->time);
    for (int k = 0; k < UI_BUCKETS; k++) free(s->bucket[k]);
    ui_mmtree_free(&s->tree_loss);
    ui_mmtree_free(&s->tree_grad);
    double w = s->weight;
    ui_series_init(s, w);
}

void ui_series_clear(ui_series *s) {
    s->n = 0;
    s->tree_loss.n = s->tree_grad.n = 0;
    s->n_marks = 0;
    s->has_buckets = false;
    ui_ema_init(&s->ema, s->weight);
    s->version++;
}

static bool grow(void **p, int64_t cap, size_t elem) {
    void *q = realloc(*p, (size_t)cap * elem);
    if (!q) return false;
    *p = q;
    return true;
}

static bool reserve(ui_series *s, int64_t need) {
    if (need <= s->cap) return true;
    int64_t cap = s->cap ? s->cap : 1024;
    while (cap < need) cap *= 2;
    if (!grow((void **)&s->step, cap, sizeof *s->step) || !grow((void **)&s->loss, cap, sizeof(float)) ||
        !grow((void **)&s->smooth, cap, sizeof(float)) || !grow((void **)&s->lr, cap, sizeof(float)) ||
        !grow((void **)&s->grad, cap, sizeof(float)) || !grow((void **)&s->time, cap, sizeof(double)))
        return false;
    for (int k = 0; k < UI_BUCKETS; k++)
        if (s->bucket[k] && !grow((void **)&s->bucket[k], cap, sizeof(float))) return false;
    s->cap = cap;
    return true;
}

static void resmooth(ui_series *s) {
    ui_ema_init(&s->ema, s->weight);
    for (int64_t i = 0; i < s->n; i++) s->smooth[i] = ui_ema_push(&s->ema, s->loss[i]);
}

bool ui_series_push(ui_series *s, const ui_metric *m) {
    if (s->n > 0 && m->step <= s->step[s->n - 1]) {
        /* a resume replaying steps after its checkpoint: keep only what came before */
        s->n = ui_lower_bound(s->step, s->n, (double)m->step);
        if (s->n_marks < UI_RESUME_MARKS) s->marks[s->n_marks++] = m->step;
        resmooth(s);
        if (!ui_mmtree_rebuild(&s->tree_loss, s->loss, s->n) || !ui_mmtree_rebuild(&s->tree_grad, s->grad, s->n))
            return false;
    }
    bool any_bucket = false;
    for (int k = 0; k < UI_BUCKETS; k++) any_bucket = any_bucket || isfinite(m->bucket[k]);
    if (any_bucket && !s->has_buckets) {
        for (int k = 0; k < UI_BUCKETS; k++) {
            if (!s->bucket[k]) {
                s->bucket[k] = malloc((size_t)(s->cap ? s->cap : 1) * sizeof(float));
                if (!s->bucket[k]) return false;
            }
            for (int64_t i = 0; i < s->n; i++) s->bucket[k][i] = NAN;
        }
        s->has_buckets = true;
    }
    if (!reserve(s, s->n + 1)) return false;
    int64_t i = s->n;
    s->step[i] = m->step;
    s->loss[i] = m->loss;
    s->lr[i] = m->lr;
    s->grad[i] = m->grad_norm;
    s->time[i] = m->time_s;
    s->smooth[i] = ui_ema_push(&s->ema, m->loss);
    if (s->has_buckets)
        for (int k = 0; k < UI_BUCKETS; k++) s->bucket[k][i] = m->bucket[k];
    if (!ui_mmtree_push(&s->tree_loss, s->loss) || !ui_mmtree_push(&s->tree_grad, s->grad)) return false;
    s->n++;
    s->version++;
    return true;
}

void ui_series_set_weight(ui_series *s, double weight) {
    if (weight < 0) weight = 0;
    if (weight > 0.999) weight = 0.999;
    s->weight = weight;
    resmooth(s);
    s->version++;
}

const float *ui_series_get(const ui_series *s, const char *name) {
    if (!strcmp(name, "loss")) return s->loss;
    if (!strcmp(name, "smooth")) return s->smooth;
    if (!strcmp(name, "lr")) return s->lr;
    if (!strcmp(name, "grad")) return s->grad;
    if (!strncmp(name, "bucket", 6) && s->has_buckets) {
        int k = atoi(name + 6);
        if (k >= 0 && k < UI_BUCKETS) return s->bucket[k];
    }
    return NULL;
}
