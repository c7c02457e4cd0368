/* The studio's plot math (tui/scale.c, tui/braille.c): TensorBoard smoothing, thinning to
 * columns with min/max (spikes survive), y ranges, ticks and labels, Braille cell encoding
 * and the glyph fallbacks. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "braille.h"
#include "scale.h"
#include "testutil.h"

static void test_smoothing(void) {
    /* TensorBoard: last = last*w + (1-w)*y; out = last / (1 - w^n) */
    float y[4] = {1, 3, NAN, 2}, out[4];
    ui_smooth(y, 4, 0.6, out);
    double l1 = 0.4 * 1, o1 = l1 / (1 - 0.6);
    double l2 = l1 * 0.6 + 0.4 * 3, o2 = l2 / (1 - 0.36);
    double l3 = l2 * 0.6 + 0.4 * 2, o3 = l3 / (1 - 0.216);
    CHECK(fabs(out[0] - o1) < 1e-6);
    CHECK(fabs(out[0] - 1) < 1e-6); /* debiased: the first value is itself */
    CHECK(fabs(out[1] - o2) < 1e-6);
    CHECK(isnan(out[2])); /* non-finite passes through ... */
    CHECK(fabs(out[3] - o3) < 1e-6); /* ... and does not advance the state */
    /* a constant series stays exactly constant */
    float c[100], co[100];
    for (int i = 0; i < 100; i++) c[i] = 0.1f;
    ui_smooth(c, 100, 0.99, co);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= co[i] == 0.1f;
    CHECK(same);
    /* weight 0: no smoothing */
    float r[3] = {5, 1, 7}, ro[3];
    ui_smooth(r, 3, 0, ro);
    CHECK(ro[0] == 5 && ro[1] == 1 && ro[2] == 7);
    /* incremental = whole */
    ui_ema e;
    ui_ema_init(&e, 0.9);
    float w[50], wo[50];
    for (int i = 0; i < 50; i++) w[i] = (float)sin(i * 0.3) + 2;
    ui_smooth(w, 50, 0.9, wo);
    int eq = 1;
    for (int i = 0; i < 50; i++) eq &= ui_ema_push(&e, w[i]) == wo[i];
    CHECK(eq);
    /* weights are clamped below 1 */
    ui_ema_init(&e, 5);
    CHECK(e.w <= 0.999);
}

static void test_thin(void) {
    enum { N = 1000 };
    int64_t *xs = malloc(N * sizeof *xs);
    float *ys = malloc(N * sizeof *ys);
    for (int i = 0; i < N; i++) {
        xs[i] = i + 1;
        ys[i] = 1.0f;
    }
    ys[500] = 50; /* a single spike among 1000 points */
    ys[10] = NAN;
    ui_col cols[10];
    int64_t used = ui_thin(xs, ys, N, 1, N, 10, false, cols);
    CHECK(used == N - 1);
    float mx = 0;
    int with = -1;
    for (int c = 0; c < 10; c++)
        if (cols[c].max > mx) {
            mx = cols[c].max;
            with = c;
        }
    CHECK(mx == 50);
    CHECK(with == ui_scale_col(501, 1, N, 10));
    CHECK(cols[0].n == 99 && cols[9].n == 100); /* x1 itself falls in the last column */
    CHECK(cols[4].min == 1.0f && cols[5].last == 1.0f);
    /* a window: only points in [x0, x1] */
    used = ui_thin(xs, ys, N, 101, 200, 4, false, cols);
    CHECK(used == 100);
    CHECK(cols[0].n == 25 && cols[3].n == 25);
    /* log scale skips y <= 0 */
    ys[600] = -1;
    ys[601] = 0;
    used = ui_thin(xs, ys, N, 1, N, 10, true, cols);
    CHECK(used == N - 3);
    /* more columns than points: empty columns between */
    ui_col wide[20];
    used = ui_thin(xs, ys, 5, 1, 5, 20, false, wide);
    int filled = 0;
    for (int c = 0; c < 20; c++) filled += wide[c].n > 0;
    CHECK(used == 5 && filled == 5);
    CHECK(ui_lower_bound(xs, N, 0.5) == 0 && ui_lower_bound(xs, N, 1000.5) == N && ui_lower_bound(xs, N, 7) == 6);

    /* 100 000 points to 200 columns: cheap (the frame budget is 5 ms) */
    enum { BIG = 100000 };
    int64_t *bx = malloc(BIG * sizeof *bx);
    float *by = malloc(BIG * sizeof *by);
    for (int i = 0; i < BIG; i++) {
        bx[i] = i;
        by[i] = (float)(1.0 / (1 + i * 0.001) + 0.01 * sin(i));
    }
    by[77777] = 1000;
    ui_col big[200];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < 10; r++) ui_thin(bx, by, BIG, 0, BIG - 1, 200, false, big);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6) / 10;
    fprintf(stderr, "thin 100000 points to 200 columns: %.3f ms\n", ms);
    CHECK(big[ui_scale_col(77777, 0, BIG - 1, 200)].max == 1000);
    free(bx);
    free(by);
    free(xs);
    free(ys);
}

/* The pyramid gives exactly ui_thin's columns (min, max, last, empty or not), for every
 * window, width and scale, with non-finite and negative values about. */
static void test_thin_fast(void) {
    enum { N = 5000 };
    int64_t *xs = malloc(N * sizeof *xs);
    float *ys = malloc(N * sizeof *ys);
    ui_mmtree t = {0};
    uint64_t r = 12345;
    int64_t x = 0;
    for (int i = 0; i < N; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        x += 1 + (int64_t)((r >> 60) & 1); /* steps with gaps */
        xs[i] = x;
        double u = (double)((r >> 11) & 0xfffff) / 0x100000;
        ys[i] = (float)(u * 2 - 0.3);
        if ((r >> 40) % 37 == 0) ys[i] = NAN;
        if (i == 3001) ys[i] = 99; /* a spike */
        CHECK(ui_mmtree_push(&t, ys));
    }
    CHECK(t.n == N);
    int mismatches = 0;
    ui_col a[300], b[300];
    const double windows[][2] = {{0, (double)x}, {1, 2}, {100, 4321}, {5000, 5050}, {(double)x - 10, (double)x}, {7, 7}};
    const int widths[] = {1, 3, 64, 300};
    for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
        for (size_t k = 0; k < sizeof widths / sizeof *widths; k++)
            for (int pos = 0; pos < 2; pos++) {
                ui_thin(xs, ys, N, windows[w][0], windows[w][1], widths[k], pos, a);
                ui_thin_fast(xs, ys, &t, N, windows[w][0], windows[w][1], widths[k], pos, b);
                for (int c = 0; c < widths[k]; c++) {
                    bool ok = (a[c].n > 0) == (b[c].n > 0);
                    if (ok && a[c].n) ok = a[c].min == b[c].min && a[c].max == b[c].max && a[c].last == b[c].last;
                    if (!ok && mismatches++ < 3)
                        fprintf(stderr, "window %zu width %d pos %d col %d: %d %g %g %g vs %d %g %g %g\n", w, widths[k], pos,
                                c, a[c].n, a[c].min, a[c].max, a[c].last, b[c].n, b[c].min, b[c].max, b[c].last);
                }
            }
    CHECK(mismatches == 0);
    /* a line needs only the last value */
    ui_thin_fast(xs, ys, NULL, N, 0, (double)x, 64, false, b);
    ui_thin(xs, ys, N, 0, (double)x, 64, false, a);
    int lines_ok = 1;
    for (int c = 0; c < 64; c++) lines_ok &= a[c].last == b[c].last && b[c].min == b[c].last;
    CHECK(lines_ok);
    /* queries and a rebuild after cutting back */
    float mn, mx, mp;
    CHECK(ui_mmtree_query(&t, ys, 0, N, &mn, &mx, &mp) && mx == 99 && mn < 0 && mp > 0);
    CHECK(ui_mmtree_rebuild(&t, ys, 3000));
    CHECK(ui_mmtree_query(&t, ys, 0, 3000, &mn, &mx, &mp) && mx < 99);
    ys[0] = NAN;
    CHECK(!ui_mmtree_query(&t, ys, 0, 1, &mn, &mx, &mp));
    ui_mmtree_free(&t);

    /* 100 000 points, with the pyramid: the cost no longer grows with the history */
    enum { BIG = 100000 };
    int64_t *bx = malloc(BIG * sizeof *bx);
    float *by = malloc(BIG * sizeof *by);
    ui_mmtree bt = {0};
    for (int i = 0; i < BIG; i++) {
        bx[i] = i;
        by[i] = (float)(1.0 / (1 + i * 0.001));
        ui_mmtree_push(&bt, by);
    }
    ui_col big[400];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int rep = 0; rep < 100; rep++) ui_thin_fast(bx, by, &bt, BIG, 0, BIG - 1, 400, false, big);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "thin 100000 points to 400 columns through the pyramid: %.3f ms\n",
            ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6) / 100);
    ui_mmtree_free(&bt);
    free(bx);
    free(by);
    free(xs);
    free(ys);
}

static void test_range_and_rows(void) {
    ui_col cols[3] = {{1, 2, 2, 1}, {0, 0, 0, 0}, {3, 4, 4, 1}};
    ui_range r;
    CHECK(ui_range_of(cols, 3, false, false, &r));
    CHECK(r.lo < 1 && r.lo > 0.8 && r.hi > 4 && r.hi < 4.2); /* 5 % padding */
    ui_col none[2] = {{0}};
    CHECK(!ui_range_of(none, 2, false, false, &r));
    ui_col flat[1] = {{2, 2, 2, 1}};
    CHECK(ui_range_of(flat, 1, false, false, &r) && r.lo < 2 && r.hi > 2);
    ui_col lg[2] = {{0.001f, 0.01f, 0.01f, 1}, {1, 10, 10, 1}};
    CHECK(ui_range_of(lg, 2, true, false, &r) && r.lo < 0.001 && r.lo > 0.0005 && r.hi > 10 && r.hi < 20);
    /* robust: one outlier column among many does not set the range */
    ui_col many[50];
    for (int i = 0; i < 50; i++) many[i] = (ui_col){1, 2, 1.5f, 1};
    many[3].max = 1000;
    CHECK(ui_range_of(many, 50, false, true, &r) && r.hi < 10);
    CHECK(ui_range_of(many, 50, false, false, &r) && r.hi > 1000);

    ui_range lin = {0, 10};
    CHECK(ui_scale_row(10, lin, false, 8) == 0);
    CHECK(ui_scale_row(0, lin, false, 8) == 7);
    CHECK(ui_scale_row(5, lin, false, 8) == 4);
    CHECK(ui_scale_row(-3, lin, false, 8) == 7 && ui_scale_row(30, lin, false, 8) == 0);
    ui_range lr = {0.01, 100};
    CHECK(ui_scale_row(1, lr, true, 4) == 2); /* the middle decade */
    CHECK(ui_scale_col(0, 0, 100, 10) == 0 && ui_scale_col(100, 0, 100, 10) == 9 && ui_scale_col(55, 0, 100, 10) == 5);
    ui_range u = ui_range_union((ui_range){1, 0}, lin);
    CHECK(u.lo == 0 && u.hi == 10);
}

static void test_ticks(void) {
    double t[32], step;
    int n = ui_ticks_linear(0, 1, 6, t, &step);
    CHECK(n >= 3 && n <= 6);
    CHECK(step == 0.2 && t[0] == 0 && fabs(t[n - 1] - 1) < 1e-12);
    n = ui_ticks_linear(0.13, 0.87, 4, t, &step);
    CHECK(n <= 4 && n >= 2 && t[0] >= 0.13 && t[n - 1] <= 0.87);
    for (int i = 1; i < n; i++) CHECK(fabs(t[i] - t[i - 1] - step) < 1e-9);
    n = ui_ticks_linear(0, 100000, 5, t, &step);
    CHECK(n <= 5 && step == 50000);
    n = ui_ticks_linear(-1, 1, 5, t, &step);
    CHECK(n == 5 && t[2] == 0); /* 0 exactly, not 1e-17 */
    n = ui_ticks_linear(0.5001, 0.5002, 1, t, &step);
    CHECK(n == 1);
    n = ui_ticks_log(0.001, 10, 10, t);
    CHECK(n == 5 && fabs(t[0] - 0.001) < 1e-15 && fabs(t[4] - 10) < 1e-9);
    n = ui_ticks_log(0.001, 1000, 3, t);
    CHECK(n <= 3 && n >= 2);
    n = ui_ticks_log(0.15, 0.9, 8, t); /* under a decade: 0.2 and 0.5 */
    CHECK(n == 2 && fabs(t[0] - 0.2) < 1e-12 && fabs(t[1] - 0.5) < 1e-12);

    char b[32];
    ui_tick_label(0.25, 0.05, b, sizeof b);
    CHECK(!strcmp(b, "0.25"));
    ui_tick_label(0.4, 0.2, b, sizeof b);
    CHECK(!strcmp(b, "0.4"));
    ui_tick_label(0.30000000000000004, 0.1, b, sizeof b);
    CHECK(!strcmp(b, "0.3"));
    ui_tick_label(20000, 10000, b, sizeof b);
    CHECK(!strcmp(b, "20k"));
    ui_tick_label(12500, 2500, b, sizeof b);
    CHECK(!strcmp(b, "12.5k"));
    ui_tick_label(1500000, 500000, b, sizeof b);
    CHECK(!strcmp(b, "1.5M"));
    ui_tick_label(350, 50, b, sizeof b);
    CHECK(!strcmp(b, "350"));
    ui_tick_label(0, 1, b, sizeof b);
    CHECK(!strcmp(b, "0"));
    ui_tick_label(1e-5, 1e-5, b, sizeof b);
    CHECK(!strcmp(b, "1e-5"));
    ui_tick_label(2.5e-4, 0, b, sizeof b);
    CHECK(!strcmp(b, "2.5e-4"));
    ui_tick_label(-0.5, 0.5, b, sizeof b);
    CHECK(!strcmp(b, "-0.5"));
    /* every label fits the axis gutter */
    double vals[] = {123456789, 0.000123, 99999, 1e30, -7.25, 3.14159};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        ui_tick_label(vals[i], vals[i] / 10, b, sizeof b);
        CHECKF(strlen(b) <= 7, "%g -> %s", vals[i], b);
    }
}

static void test_braille(void) {
    /* the Unicode dot numbering: dots 1-2-3-7 left, 4-5-6-8 right */
    CHECK(ui_braille_bit(0, 0) == 0x01 && ui_braille_bit(0, 1) == 0x02 && ui_braille_bit(0, 2) == 0x04 &&
          ui_braille_bit(0, 3) == 0x40);
    CHECK(ui_braille_bit(1, 0) == 0x08 && ui_braille_bit(1, 1) == 0x10 && ui_braille_bit(1, 2) == 0x20 &&
          ui_braille_bit(1, 3) == 0x80);
    CHECK(ui_glyph(0, UI_GLYPH_BRAILLE) == ' ');
    CHECK(ui_glyph(0xff, UI_GLYPH_BRAILLE) == 0x28ff);
    CHECK(ui_glyph(0x01, UI_GLYPH_BRAILLE) == 0x2801);
    CHECK(ui_glyph(0x01, UI_GLYPH_BLOCK) == 0x2580);  /* upper half */
    CHECK(ui_glyph(0x80, UI_GLYPH_BLOCK) == 0x2584);  /* lower half */
    CHECK(ui_glyph(0x41, UI_GLYPH_BLOCK) == 0x2588);  /* both */
    CHECK(ui_glyph(0x02, UI_GLYPH_ASCII) == '\'' && ui_glyph(0x20, UI_GLYPH_ASCII) == '.' &&
          ui_glyph(0x12 | 0x20, UI_GLYPH_ASCII) == ':');

    ui_canvas c = {0};
    CHECK(ui_canvas_reset(&c, 3, 2) == 0);
    ui_canvas_dot(&c, 0, 0, 1);
    ui_canvas_dot(&c, 5, 7, 2);
    ui_canvas_dot(&c, 6, 0, 3); /* outside: ignored */
    ui_canvas_dot(&c, -1, 0, 3);
    CHECK(c.mask[0] == 0x01 && c.color[0] == 1);
    CHECK(c.mask[1 * 3 + 2] == 0x80 && c.color[5] == 2);
    /* a vertical line through both rows of cells in column 0 */
    ui_canvas_vline(&c, 0, 0, 7, 1);
    CHECK(c.mask[0] == 0x47 && c.mask[3] == 0x47);
    /* colour priority: a higher colour wins a shared cell, a lower one does not take it */
    ui_canvas_dot(&c, 1, 0, 4);
    ui_canvas_dot(&c, 1, 1, 2);
    CHECK(c.color[0] == 4);
    /* a diagonal line touches every column once */
    CHECK(ui_canvas_reset(&c, 4, 1) == 0);
    ui_canvas_line(&c, 0, 0, 7, 3, 1);
    int dots = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++) dots += (c.mask[i] >> b) & 1;
    CHECK(dots == 8);
    CHECK((c.mask[0] & 0x01) && (c.mask[3] & 0x80));
    ui_canvas_free(&c);
}

int main(void) {
    test_smoothing();
    test_thin();
    test_thin_fast();
    test_range_and_rows();
    test_ticks();
    test_braille();
    return tu_finish("test_ui_plot");
}
