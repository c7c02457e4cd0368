/* A chart of metric series into a rectangle (see app.h ui_plot_draw): each series is thinned
 * to two values per cell column (min/max per dot column, so a single spike among 100 000
 * points still shows), drawn into a Braille dot canvas (2x4 dots per cell; blocks or ASCII
 * as fallbacks), with y ticks (linear or log) on the left, step ticks below and resume
 * marks on the step axis. Keeps no history: the data and the scale are arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "scale.h"
#include "widgets.h"

#define GUTTER 8 /* y labels (7) + the axis */

static bool ensure_cols(view_train *vt, int n) {
    if (n <= vt->cap_cols) return true;
    for (int k = 0; k < UI_PLOT_MAX; k++) {
        ui_col *c = realloc(vt->cols[k], (size_t)n * sizeof *c);
        if (!c) return false;
        vt->cols[k] = c;
    }
    vt->cap_cols = n;
    return true;
}

void ui_plot_draw(view_train *vt, ui_rect r, const int64_t *xs, int64_t n, const ui_plot_series *s, int ns,
                  const ui_plot_opts *o) {
    if (r.w < GUTTER + 4 || r.h < 3) return;
    int pw = r.w - GUTTER, ph = r.h - 1, px = r.x + GUTTER, py = r.y;
    int dw = 2 * pw, dh = 4 * ph;
    if (ns > UI_PLOT_MAX) ns = UI_PLOT_MAX;
    if (!ensure_cols(vt, dw)) return;
    /* thin, and find the y range over what is shown */
    ui_range range = {1, 0};
    bool any = false;
    for (int k = 0; k < ns; k++) {
        if (!s[k].y) continue;
        if (s[k].band && !s[k].tree)
            ui_thin(xs, s[k].y, n, o->x0, o->x1, dw, o->log_y, vt->cols[k]);
        else /* O(columns · log n): a line needs the last value per column, a band the pyramid */
            ui_thin_fast(xs, s[k].y, s[k].band ? s[k].tree : NULL, n, o->x0, o->x1, dw, o->log_y, vt->cols[k]);
        ui_range rk;
        if (ui_range_of(vt->cols[k], dw, o->log_y, o->robust, &rk)) {
            range = ui_range_union(range, rk);
            any = true;
        }
    }
    int axis = ui_attr(UI_R_AXIS);
    bool u = ui_utf8();
    for (int y = py; y < py + ph; y++) ui_putwc(y, px - 1, u ? 0x2502 : '|', axis);
    if (!any) {
        ui_put(py + ph / 2, px + (pw > 20 ? pw / 2 - 10 : 0), pw, ui_attr(UI_R_DIM), "no points to show yet");
        return;
    }
    if (ui_canvas_reset(&vt->canvas, pw, ph) != 0) return;
    for (int k = 0; k < ns; k++) {
        if (!s[k].y) continue;
        const ui_col *cols = vt->cols[k];
        uint8_t color = (uint8_t)(k + 1);
        int prev_x = -1, prev_y = 0;
        for (int c = 0; c < dw; c++) {
            if (!cols[c].n) continue;
            int ymax = ui_scale_row(cols[c].max, range, o->log_y, dh);
            if (s[k].band) {
                int ymin = ui_scale_row(cols[c].min, range, o->log_y, dh);
                ui_canvas_vline(&vt->canvas, c, ymax, ymin, color);
            } else {
                int y = ui_scale_row(cols[c].last, range, o->log_y, dh);
                if (prev_x >= 0)
                    ui_canvas_line(&vt->canvas, prev_x, prev_y, c, y, color);
                else
                    ui_canvas_dot(&vt->canvas, c, y, color);
                prev_x = c;
                prev_y = y;
            }
        }
    }
    /* resume marks: a dotted vertical line */
    for (int m = 0; m < o->n_marks; m++) {
        double x = (double)o->marks[m];
        if (x < o->x0 || x > o->x1) continue;
        int c = ui_scale_col(x, o->x0, o->x1, dw);
        for (int y = 0; y < dh; y += 3) ui_canvas_dot(&vt->canvas, c, y, UI_PLOT_MAX + 1);
    }
    int role_of[UI_PLOT_MAX + 2];
    role_of[0] = UI_R_NORMAL;
    for (int k = 0; k < UI_PLOT_MAX; k++) role_of[k + 1] = k < ns ? s[k].role : UI_R_NORMAL;
    role_of[UI_PLOT_MAX + 1] = UI_R_MARK;
    for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++) {
            int i = y * pw + x;
            uint8_t mask = vt->canvas.mask[i];
            if (!mask) continue;
            ui_putwc(py + y, px + x, ui_glyph(mask, o->glyphs), ui_attr(role_of[vt->canvas.color[i]]));
        }
    /* y ticks */
    double ticks[32], step = 0;
    int nt = o->log_y ? ui_ticks_log(range.lo, range.hi, ph / 2 + 1 < 8 ? ph / 2 + 1 : 8, ticks)
                      : ui_ticks_linear(range.lo, range.hi, ph / 2 + 1 < 8 ? ph / 2 + 1 : 8, ticks, &step);
    int last_row = -2;
    for (int t = 0; t < nt; t++) {
        int row = ui_scale_row(ticks[t], range, o->log_y, ph);
        if (row == last_row) continue;
        last_row = row;
        char lab[16];
        ui_tick_label(ticks[t], o->log_y ? ticks[t] : step, lab, sizeof lab);
        int w = (int)strlen(lab);
        ui_put(py + row, px - 1 - w, w, axis, lab);
        ui_putwc(py + row, px - 1, u ? 0x2524 : '+', axis);
    }
    /* step ticks */
    int ybase = py + ph;
    ui_putwc(ybase, px - 1, u ? 0x2514 : '+', axis);
    double xt[32], xstep;
    int nx = ui_ticks_linear(o->x0, o->x1, pw / 9 > 1 ? (pw / 9 < 12 ? pw / 9 : 12) : 2, xt, &xstep);
    int next_free = px;
    for (int t = 0; t < nx; t++) {
        char lab[16];
        ui_tick_label(xt[t], xstep < 1 ? 1 : xstep, lab, sizeof lab);
        int w = (int)strlen(lab);
        int c = px + ui_scale_col(xt[t], o->x0, o->x1, pw);
        int lx = c - w / 2;
        if (lx < next_free) lx = next_free;
        if (lx + w > px + pw) lx = px + pw - w;
        if (lx < next_free) continue;
        ui_put(ybase, lx, w, axis, lab);
        next_free = lx + w + 1;
    }
    for (int m = 0; m < o->n_marks; m++) {
        double x = (double)o->marks[m];
        if (x < o->x0 || x > o->x1) continue;
        ui_putwc(ybase, px + ui_scale_col(x, o->x0, o->x1, pw), u ? 0x21BA : 'R', ui_attr(UI_R_MARK));
    }
}
