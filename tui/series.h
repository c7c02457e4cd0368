/* The metric history the Train screen draws: one array per series (loss, smoothed loss,
 * learning rate, grad norm, loss by noise-level bucket), indexed together and sorted by
 * step. Points come from the run's metrics.jsonl (history before this session) and from the
 * worker (this session). A point whose step is not after the last one is a resume that
 * replays steps lost since the last checkpoint: the history is cut back to before it, so a
 * resumed run reads as one continuous curve, and the step is remembered as a resume mark.
 * The smoothed series is TensorBoard's debiased EMA, kept up to date as points arrive and
 * recomputed when the weight changes. Pure; owned by the UI thread. */
#ifndef UI_SERIES_H
#define UI_SERIES_H

#include <stdbool.h>
#include <stdint.h>

#include "scale.h"

#define UI_BUCKETS 10
#define UI_RESUME_MARKS 32

typedef struct ui_metric {
    int64_t step;
    float loss, lr, grad_norm;
    float bucket[UI_BUCKETS]; /* NaN: no value */
    double time_s;
} ui_metric;

typedef struct ui_series {
    int64_t n, cap;
    int64_t *step;
    float *loss, *smooth, *lr, *grad;
    float *bucket[UI_BUCKETS]; /* allocated when the first bucket value arrives */
    double *time;
    bool has_buckets;
    ui_mmtree tree_loss, tree_grad; /* min/max pyramids: charts of 100 000 points cost O(columns) */
    double weight;
    ui_ema ema;
    int n_marks;
    int64_t marks[UI_RESUME_MARKS]; /* steps where the run was resumed */
    uint64_t version; /* changes with every modification (for redraw decisions) */
} ui_series;

void ui_series_init(ui_series *s, double weight);
void ui_series_free(ui_series *s);
void ui_series_clear(ui_series *s);
/* Appends (or, for a step not after the last one, cuts back first); false when out of memory. */
bool ui_series_push(ui_series *s, const ui_metric *m);
void ui_series_set_weight(ui_series *s, double weight);
/* The series a chart can show, by name: "loss", "smooth", "lr", "grad", "bucket0".."bucket9". */
const float *ui_series_get(const ui_series *s, const char *name);

#endif
