/* Plot math for the studio's charts, pure and unit-tested (tests/unit/test_ui_plot.c):
 * smoothing (TensorBoard's debiased EMA), thinning N points to W columns with min/max/last
 * per column so spikes survive, y ranges (linear or log, optionally ignoring outliers),
 * nice tick values and short tick labels. No curses; any thread. */
#ifndef UI_SCALE_H
#define UI_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TensorBoard's classic smoothing (data_transformer.ts classicSmoothing):
 *   last = last·w + (1−w)·y;  n++;  out = last / (1 − w^n)
 * starting from last = 0. Non-finite values pass through unchanged and do not advance the
 * state. While every finite value so far is equal, the value itself is returned (a constant
 * series is not smoothed, so it stays exactly constant). w is clamped to [0, 0.999]. */
typedef struct ui_ema {
    double w;
    double last;
    double pow_w; /* w^n */
    int64_t n;
    float first;
    bool constant;
} ui_ema;

void ui_ema_init(ui_ema *e, double weight);
float ui_ema_push(ui_ema *e, float y);
/* The whole series at once (out may alias y). */
void ui_smooth(const float *y, int64_t n, double weight, float *out);

/* One chart column: the points whose x falls in it. n == 0: empty column. */
typedef struct ui_col {
    float min, max, last;
    int n;
} ui_col;

/* Buckets the points with x in [x0, x1] into ncols equal columns (column c covers
 * [x0 + c·span/ncols, x0 + (c+1)·span/ncols), span = x1 − x0, and x1 itself falls in the last
 * column). xs must be ascending. Non-finite y are skipped, and y <= 0 too when
 * positive_only (log scale). Returns the number of points that landed in a column.
 * Cost: O(log n + points in range). */
int64_t ui_thin(const int64_t *xs, const float *ys, int64_t n, double x0, double x1, int ncols, bool positive_only,
                ui_col *cols);

/* A min/max pyramid over a growing series, so that thinning costs O(columns · log n) however
 * long the history is: level k (1..UI_MM_LEVELS) keeps, for every aligned block of 2^k points,
 * the minimum, the maximum and the minimum of the positive values (non-finite values left
 * out; empty: +inf/-inf). Appending updates one entry per level. */
#define UI_MM_LEVELS 16
typedef struct ui_mmtree {
    int64_t n, cap;
    float *mn[UI_MM_LEVELS + 1], *mx[UI_MM_LEVELS + 1], *mnpos[UI_MM_LEVELS + 1]; /* [k][j], k >= 1 */
} ui_mmtree;

void ui_mmtree_free(ui_mmtree *t);
/* Appends ys[t->n] (the caller appends to ys first). False when out of memory. */
bool ui_mmtree_push(ui_mmtree *t, const float *ys);
/* Rebuilds for the first n values of ys (after the series was cut back). */
bool ui_mmtree_rebuild(ui_mmtree *t, const float *ys, int64_t n);
/* min, max and min of the positives over ys[i0..i1), non-finite left out; false if none. */
bool ui_mmtree_query(const ui_mmtree *t, const float *ys, int64_t i0, int64_t i1, float *mn, float *mx, float *mnpos);

/* ui_thin's columns through the pyramid: the same points land in the same columns, min and
 * max are exact, last is the last qualifying value; n counts the points in the column's range
 * (0 when none qualifies). With t == NULL only `last` is computed (min = max = last): enough
 * for a line, at O(columns · log n). */
void ui_thin_fast(const int64_t *xs, const float *ys, const ui_mmtree *t, int64_t n, double x0, double x1, int ncols,
                  bool positive_only, ui_col *cols);

/* Index of the first x >= v in an ascending array (n if none). */
int64_t ui_lower_bound(const int64_t *xs, int64_t n, double v);

typedef struct ui_range {
    double lo, hi;
} ui_range;

/* The y range of the columns' min..max (log: of positive values only), padded by 5 % of
 * the span (log: in decades) so lines do not sit on the frame. robust: the 2nd to 98th
 * percentile of the column values instead, for ignoring a few outliers. A flat range is
 * widened around its value. Returns false when no column has data. */
bool ui_range_of(const ui_col *cols, int ncols, bool log, bool robust, ui_range *out);
/* Combines two ranges (either may come from a series without data: lo > hi). */
ui_range ui_range_union(ui_range a, ui_range b);

/* Maps v in r to a row in [0, rows) with row 0 at the top; values outside are clamped.
 * log: log10 scale (r positive). */
int ui_scale_row(double v, ui_range r, bool log, int rows);
/* Maps x in [x0, x1] to a column in [0, cols). */
int ui_scale_col(double x, double x0, double x1, int cols);

/* Tick values for [lo, hi]: multiples of a step from {1, 2, 5}·10^k, at most max_ticks of
 * them (at least 2 when max_ticks >= 2 and the range is not flat). Returns the count and
 * the step in *step. */
int ui_ticks_linear(double lo, double hi, int max_ticks, double *out, double *step);
/* Log ticks for positive [lo, hi]: powers of ten, with 2 and 5 between them when fewer than
 * two decades are in range; thinned to at most max_ticks. Returns the count. */
int ui_ticks_log(double lo, double hi, int max_ticks, double *out);
/* A short label for tick v (at most 7 characters): integers as 12, 1.5k, 20k, 1.2M; other
 * values with the decimals their step needs (0.25, 0.003) or as 1e-05 when tiny or huge. */
void ui_tick_label(double v, double step, char *buf, size_t n);

#endif
