/* Plot math (see scale.h). */
#include "scale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ui_ema_init(ui_ema *e, double weight) {
    memset(e, 0, sizeof *e);
    e->w = weight < 0 ? 0 : weight > 0.999 ? 0.999 : weight;
    e->pow_w = 1;
    e->constant = true;
}

float ui_ema_push(ui_ema *e, float y) {
    if (!isfinite(y)) return y;
    if (e->n == 0) e->first = y;
    if (y != e->first) e->constant = false;
    e->last = e->last * e->w + (1 - e->w) * y;
    e->pow_w *= e->w;
    e->n++;
    if (e->constant) return y;
    double debias = 1 - e->pow_w;
    return (float)(debias > 0 ? e->last / debias : e->last);
}

void ui_smooth(const float *y, int64_t n, double weight, float *out) {
    ui_ema e;
    ui_ema_init(&e, weight);
    for (int64_t i = 0; i < n; i++) out[i] = ui_ema_push(&e, y[i]);
}

int64_t ui_lower_bound(const int64_t *xs, int64_t n, double v) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((double)xs[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int64_t ui_thin(const int64_t *xs, const float *ys, int64_t n, double x0, double x1, int ncols, bool positive_only,
                ui_col *cols) {
    if (ncols <= 0) return 0;
    memset(cols, 0, (size_t)ncols * sizeof *cols);
    if (n <= 0 || x1 < x0) return 0;
    double span = x1 - x0;
    double k = span > 0 ? ncols / span : 0;
    int64_t used = 0;
    for (int64_t i = ui_lower_bound(xs, n, x0); i < n && (double)xs[i] <= x1; i++) {
        float y = ys[i];
        if (!isfinite(y) || (positive_only && y <= 0)) continue;
        int c = span > 0 ? (int)(((double)xs[i] - x0) * k) : ncols - 1;
        if (c >= ncols) c = ncols - 1;
        if (c < 0) c = 0;
        ui_col *col = &cols[c];
        if (col->n == 0) {
            col->min = col->max = y;
        } else {
            if (y < col->min) col->min = y;
            if (y > col->max) col->max = y;
        }
        col->last = y;
        col->n++;
        used++;
    }
    return used;
}

/* ---- the min/max pyramid --------------------------------------------------------------------- */

void ui_mmtree_free(ui_mmtree *t) {
    for (int k = 1; k <= UI_MM_LEVELS; k++) {
        free(t->mn[k]);
        free(t->mx[k]);
        free(t->mnpos[k]);
    }
    memset(t, 0, sizeof *t);
}

static bool mm_reserve(ui_mmtree *t, int64_t need) {
    if (need <= t->cap) return true;
    int64_t cap = t->cap ? t->cap : 1024;
    while (cap < need) cap *= 2;
    for (int k = 1; k <= UI_MM_LEVELS; k++) {
        size_t m = (size_t)((cap >> k) + 1);
        float *a = realloc(t->mn[k], m * sizeof(float));
        if (a) t->mn[k] = a;
        float *b = a ? realloc(t->mx[k], m * sizeof(float)) : NULL;
        if (b) t->mx[k] = b;
        float *c = b ? realloc(t->mnpos[k], m * sizeof(float)) : NULL;
        if (c) t->mnpos[k] = c;
        if (!a || !b || !c) return false;
    }
    t->cap = cap;
    return true;
}

bool ui_mmtree_push(ui_mmtree *t, const float *ys) {
    if (!mm_reserve(t, t->n + 1)) return false;
    int64_t i = t->n;
    float y = ys[i];
    bool fin = isfinite(y);
    for (int k = 1; k <= UI_MM_LEVELS; k++) {
        int64_t j = i >> k;
        if ((i & ((INT64_C(1) << k) - 1)) == 0) {
            t->mn[k][j] = INFINITY;
            t->mx[k][j] = -INFINITY;
            t->mnpos[k][j] = INFINITY;
        }
        if (!fin) continue;
        if (y < t->mn[k][j]) t->mn[k][j] = y;
        if (y > t->mx[k][j]) t->mx[k][j] = y;
        if (y > 0 && y < t->mnpos[k][j]) t->mnpos[k][j] = y;
    }
    t->n++;
    return true;
}

bool ui_mmtree_rebuild(ui_mmtree *t, const float *ys, int64_t n) {
    t->n = 0;
    for (int64_t i = 0; i < n; i++)
        if (!ui_mmtree_push(t, ys)) return false;
    return true;
}

bool ui_mmtree_query(const ui_mmtree *t, const float *ys, int64_t i0, int64_t i1, float *mn, float *mx, float *mnpos) {
    float a = INFINITY, b = -INFINITY, c = INFINITY;
    if (i1 > t->n) i1 = t->n;
    int64_t i = i0;
    while (i < i1) {
        int k = 0; /* the largest aligned block that starts at i and fits */
        while (k < UI_MM_LEVELS && (i & ((INT64_C(2) << k) - 1)) == 0 && i + (INT64_C(2) << k) <= i1) k++;
        if (k == 0) {
            float y = ys[i];
            if (isfinite(y)) {
                if (y < a) a = y;
                if (y > b) b = y;
                if (y > 0 && y < c) c = y;
            }
            i++;
        } else {
            int64_t j = i >> k;
            if (t->mn[k][j] < a) a = t->mn[k][j];
            if (t->mx[k][j] > b) b = t->mx[k][j];
            if (t->mnpos[k][j] < c) c = t->mnpos[k][j];
            i += INT64_C(1) << k;
        }
    }
    *mn = a;
    *mx = b;
    *mnpos = c;
    return a <= b;
}

void ui_thin_fast(const int64_t *xs, const float *ys, const ui_mmtree *t, int64_t n, double x0, double x1, int ncols,
                  bool positive_only, ui_col *cols) {
    if (ncols <= 0) return;
    memset(cols, 0, (size_t)ncols * sizeof *cols);
    if (n <= 0 || x1 < x0) return;
    double span = x1 - x0, k = span > 0 ? ncols / span : 0;
    int64_t i = ui_lower_bound(xs, n, x0);
    int64_t end = i;
    { /* first x > x1 */
        int64_t lo = i, hi = n;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if ((double)xs[mid] <= x1)
                lo = mid + 1;
            else
                hi = mid;
        }
        end = lo;
    }
    for (int c = 0; c < ncols && i < end; c++) {
        /* the first index whose column (as ui_thin computes it) is past c */
        int64_t lo = i, hi = end;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            int cm = span > 0 ? (int)(((double)xs[mid] - x0) * k) : ncols - 1;
            if (cm >= ncols) cm = ncols - 1;
            if (cm <= c)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t i1 = lo;
        if (i1 == i) continue;
        ui_col *col = &cols[c];
        int64_t j = i1 - 1; /* last qualifying value */
        while (j >= i && (!isfinite(ys[j]) || (positive_only && ys[j] <= 0))) j--;
        if (j >= i) {
            col->last = ys[j];
            col->n = (int)(i1 - i);
            if (t) {
                float mn, mx, mnpos;
                ui_mmtree_query(t, ys, i, i1, &mn, &mx, &mnpos);
                col->min = positive_only ? mnpos : mn;
                col->max = mx;
            } else {
                col->min = col->max = col->last;
            }
        }
        i = i1;
    }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

bool ui_range_of(const ui_col *cols, int ncols, bool log, bool robust, ui_range *out) {
    double lo = INFINITY, hi = -INFINITY;
    int have = 0;
    for (int c = 0; c < ncols; c++) {
        if (!cols[c].n) continue;
        if (log && cols[c].max <= 0) continue;
        double mn = log && cols[c].min <= 0 ? cols[c].max : cols[c].min;
        if (mn < lo) lo = mn;
        if (cols[c].max > hi) hi = cols[c].max;
        have++;
    }
    if (!have) return false;
    float buf[4096];
    if (robust && have >= 10 && 2 * have <= (int)(sizeof buf / sizeof *buf)) {
        int m = 0;
        for (int c = 0; c < ncols; c++) {
            if (!cols[c].n || (log && cols[c].min <= 0)) continue;
            buf[m++] = cols[c].min;
            buf[m++] = cols[c].max;
        }
        if (m >= 20) {
            qsort(buf, (size_t)m, sizeof *buf, cmp_float);
            lo = buf[(int)(0.02 * (m - 1))];
            hi = buf[(int)ceil(0.98 * (m - 1))];
        }
    }
    if (log) {
        double a = log10(lo), b = log10(hi);
        if (b - a < 1e-9) {
            a -= 0.5;
            b += 0.5;
        } else {
            double pad = 0.05 * (b - a);
            a -= pad;
            b += pad;
        }
        out->lo = pow(10, a);
        out->hi = pow(10, b);
    } else {
        if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
            double d = lo != 0 ? fabs(lo) * 0.1 : 1;
            lo -= d;
            hi += d;
        } else {
            double pad = 0.05 * (hi - lo);
            lo -= pad;
            hi += pad;
        }
        out->lo = lo;
        out->hi = hi;
    }
    return true;
}

ui_range ui_range_union(ui_range a, ui_range b) {
    if (!(a.lo <= a.hi)) return b;
    if (!(b.lo <= b.hi)) return a;
    ui_range r = {a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
    return r;
}

int ui_scale_row(double v, ui_range r, bool log, int rows) {
    if (rows <= 0) return 0;
    double t;
    if (log) {
        if (v <= 0) return rows - 1;
        double a = log10(r.lo), b = log10(r.hi);
        t = b > a ? (log10(v) - a) / (b - a) : 0.5;
    } else {
        t = r.hi > r.lo ? (v - r.lo) / (r.hi - r.lo) : 0.5;
    }
    if (!(t == t)) return rows - 1; /* NaN */
    int row = (int)floor((1 - t) * rows);
    return row < 0 ? 0 : row >= rows ? rows - 1 : row;
}

int ui_scale_col(double x, double x0, double x1, int cols) {
    if (cols <= 0) return 0;
    double t = x1 > x0 ? (x - x0) / (x1 - x0) : 1;
    int c = (int)floor(t * cols);
    return c < 0 ? 0 : c >= cols ? cols - 1 : c;
}

int ui_ticks_linear(double lo, double hi, int max_ticks, double *out, double *step_out) {
    if (step_out) *step_out = 0;
    if (max_ticks <= 0 || !isfinite(lo) || !isfinite(hi) || hi < lo) return 0;
    if (hi == lo) {
        out[0] = lo;
        return 1;
    }
    double span = hi - lo;
    double base = pow(10, floor(log10(span / max_ticks)));
    static const double mult[] = {1, 2, 5};
    for (int e = 0; e < 8; e++)
        for (int m = 0; m < 3; m++) {
            double step = mult[m] * base * pow(10, e);
            double first = ceil(lo / step - 1e-9), last = floor(hi / step + 1e-9);
            int count = (int)(last - first) + 1;
            if (count > max_ticks) continue;
            if (count < 2 && max_ticks >= 2) { /* the range is narrower than one nice step */
                out[0] = lo;
                out[1] = hi;
                if (step_out) *step_out = span;
                return 2;
            }
            for (int i = 0; i < count; i++) {
                double v = (first + i) * step;
                out[i] = fabs(v) < step * 1e-9 ? 0 : v;
            }
            if (step_out) *step_out = step;
            return count;
        }
    return 0;
}

int ui_ticks_log(double lo, double hi, int max_ticks, double *out) {
    if (max_ticks <= 0 || !(lo > 0) || !(hi >= lo) || !isfinite(hi)) return 0;
    double vals[256];
    int n = 0;
    int d0 = (int)ceil(log10(lo) - 1e-9), d1 = (int)floor(log10(hi) + 1e-9);
    int decades = d1 - d0 + 1;
    if (decades < 2) {
        for (int d = d0 - 1; d <= d1 && n < 250; d++)
            for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) { /* 1, 2, 5 */
                double v = m * pow(10, d);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) vals[n++] = v;
            }
    } else {
        for (int d = d0; d <= d1 && n < 250; d++) vals[n++] = pow(10, d);
    }
    int every = 1;
    while ((n + every - 1) / every > max_ticks) every++;
    int m = 0;
    for (int i = 0; i < n; i += every) out[m++] = vals[i];
    return m;
}

/* 1e-05 → "1e-5", 2.5e+06 → "2.5e6" */
static void compact_e(double v, char *buf, size_t n) {
    int e = (int)floor(log10(fabs(v)) + 1e-9);
    double m = v / pow(10, e);
    if (fabs(m - round(m)) < 1e-6)
        snprintf(buf, n, "%de%d", (int)round(m), e);
    else
        snprintf(buf, n, "%.1fe%d", m, e);
}

void ui_tick_label(double v, double step, char *buf, size_t n) {
    double a = fabs(v);
    if (a < 1e-300) {
        snprintf(buf, n, "0");
        return;
    }
    if (a >= 1 && fabs(a - round(a)) < 1e-9 && (step <= 0 || step >= 1)) {
        if (a >= 1e9) {
            compact_e(v, buf, n);
        } else if (a >= 1e6) {
            int dec = step >= 1e6 || step <= 0 ? (fmod(a, 1e6) == 0 ? 0 : 1) : step >= 1e5 ? 1 : 2;
            snprintf(buf, n, "%.*fM", dec, v / 1e6);
        } else if (a >= 1e4) {
            int dec = step >= 1e3 || step <= 0 ? (fmod(a, 1e3) == 0 ? 0 : 1) : step >= 100 ? 1 : 2;
            snprintf(buf, n, "%.*fk", dec, v / 1e3);
        } else {
            snprintf(buf, n, "%.0f", v);
        }
        return;
    }
    if (a < 1e-3 || a >= 1e6) {
        compact_e(v, buf, n);
        return;
    }
    double s = step > 0 ? step : a;
    int dec = (int)ceil(-log10(s) - 1e-9);
    if (dec < 0) dec = 0;
    if (dec > 6) dec = 6;
    snprintf(buf, n, "%.*f", dec, v);
}
