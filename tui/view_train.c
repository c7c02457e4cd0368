/* Train screen: start/pause/resume/stop, save and demo now; a status panel of the worker's
 * snapshot; live charts of the metric history (loss raw as min/max per column and smoothed
 * with TensorBoard's debiased EMA, weight adjustable; learning rate; grad norm; loss by
 * noise-level bucket), log scale, zoom and pan over steps; the log pane. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "loglines.h"
#include "widgets.h"

static const double WEIGHTS[] = {0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999};
#define N_WEIGHTS (int)(sizeof WEIGHTS / sizeof *WEIGHTS)

void view_train_init(app *a) {
    view_train *v = &a->vt;
    v->main = UI_CHART_LOSS;
    v->show_raw = true;
    v->follow = true;
}

void view_train_free(app *a) {
    ui_canvas_free(&a->vt.canvas);
    for (int k = 0; k < UI_PLOT_MAX; k++) free(a->vt.cols[k]);
}

static void fmt_dur(double s, char *buf, size_t n) {
    if (s < 0 || !isfinite(s)) {
        snprintf(buf, n, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

static int field(int y, ui_rect in, const char *name, int role, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int field(int y, ui_rect in, const char *name, int role, const char *fmt, ...) {
    if (y >= in.y + in.h) return y;
    char val[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    ui_put(y, in.x + 1, 10, ui_attr(UI_R_DIM), name);
    ui_put_cut(y, in.x + 11, in.w - 11, ui_attr(role), val);
    return y + 1;
}

static void draw_status(app *a, ui_rect r) {
    const ds_worker_status *st = &a->st;
    bool live = a->run_started && st->state != DS_STATE_IDLE;
    ui_rect in = ui_pane(r, "status", NULL, false);
    if (ui_rect_empty(in)) return;
    int y = in.y;
    char buf[64], buf2[64];
    if (!live) {
        y = field(y, in, "State", UI_R_DIM, "not training (t starts)");
        if (a->hist.n) {
            int64_t i = a->hist.n - 1;
            y = field(y, in, "Showing", UI_R_NORMAL, "%s", a->run_dir);
            y = field(y, in, "Last step", UI_R_NORMAL, "%lld", (long long)a->hist.step[i]);
            y = field(y, in, "Loss", UI_R_NORMAL, "%.4f", a->hist.loss[i]);
            y = field(y, in, "Smoothed", UI_R_SMOOTH, "%.4f", a->hist.smooth[i]);
            y = field(y, in, "LR", UI_R_NORMAL, "%.3g", a->hist.lr[i]);
            y = field(y, in, "Grad norm", UI_R_NORMAL, "%.4g", a->hist.grad[i]);
        } else {
            y = field(y, in, "Run dir", UI_R_NORMAL, "%s", a->run_dir[0] ? a->run_dir : "(none)");
            y = field(y, in, "History", UI_R_DIM, "no metrics yet");
        }
        return;
    }
    int srole = st->state == DS_STATE_RUNNING ? UI_R_OK : st->state == DS_STATE_FAILED ? UI_R_ERROR
                : st->state == DS_STATE_PAUSED || st->state == DS_STATE_STOPPING ? UI_R_WARN : UI_R_NORMAL;
    bool phase = st->phase != DS_PHASE_NONE && st->phase != DS_PHASE_TRAINING;
    y = field(y, in, "State", srole, "%s%s%s", ds_worker_state_str(st->state), phase ? ": " : "",
              phase ? ds_phase_str(st->phase) : "");
    if (st->max_steps > 0)
        y = field(y, in, "Step", UI_R_NORMAL, "%lld / %lld", (long long)st->step, (long long)st->max_steps);
    else
        y = field(y, in, "Step", UI_R_NORMAL, "%lld", (long long)st->step);
    y = field(y, in, "Loss", UI_R_NORMAL, "%.4f", st->loss);
    y = field(y, in, "Smoothed", UI_R_SMOOTH, "%.4f", st->loss_smoothed);
    y = field(y, in, "LR", UI_R_NORMAL, "%.3g", st->lr);
    y = field(y, in, "Grad norm", UI_R_NORMAL, "%.4g", st->grad_norm);
    y = field(y, in, "Speed", UI_R_NORMAL, "%.2f it/s", st->it_per_s);
    fmt_dur(st->eta_s, buf, sizeof buf);
    fmt_dur(st->elapsed_s, buf2, sizeof buf2);
    y = field(y, in, "ETA", UI_R_NORMAL, "%s", buf);
    y = field(y, in, "Elapsed", UI_R_NORMAL, "%s", buf2);
    y = field(y, in, "Device", UI_R_NORMAL, "%s", st->device[0] ? st->device : "-");
    y = field(y, in, "Run dir", UI_R_NORMAL, "%s", st->run_dir[0] ? st->run_dir : a->run_dir);
    if (st->last_checkpoint_step > 0)
        y = field(y, in, "Last ckpt", UI_R_NORMAL, "step %lld", (long long)st->last_checkpoint_step);
    else
        y = field(y, in, "Last ckpt", UI_R_DIM, "none yet");
    if (st->last_demo_step > 0)
        y = field(y, in, "Demos", UI_R_NORMAL, "step %lld, %.1f s", (long long)st->last_demo_step,
                  st->last_demo_seconds);
    else
        y = field(y, in, "Demos", UI_R_DIM, "none yet");
    y = field(y, in, "NaN skips", st->nan_skips_total ? UI_R_WARN : UI_R_NORMAL, "%d (%d in a row)",
              st->nan_skips_total, st->nan_skips_in_row);
    if (st->message[0] && y < in.y + in.h)
        ui_wrap(y, in.x + 1, in.w - 2, in.y + in.h - y, ui_attr(st->state == DS_STATE_FAILED ? UI_R_ERROR : UI_R_DIM),
                st->message);
}

/* The steps shown: [x0, x1]. */
static void x_window(app *a, double *x0, double *x1) {
    view_train *v = &a->vt;
    const ui_series *h = &a->hist;
    double first = h->n ? (double)h->step[0] : 0, last = h->n ? (double)h->step[h->n - 1] : 1;
    if (last <= first) last = first + 1;
    if (v->span <= 0 || v->span >= last - first) {
        *x0 = first;
        *x1 = last;
        return;
    }
    double end = v->follow ? last : v->end;
    if (end > last) end = last;
    if (end - v->span < first) end = first + v->span;
    *x0 = end - v->span;
    *x1 = end;
}

static void chart(app *a, ui_rect r, ui_chart_kind kind, bool main) {
    view_train *v = &a->vt;
    const ui_series *h = &a->hist;
    double x0, x1;
    x_window(a, &x0, &x1);
    ui_plot_series s[UI_PLOT_MAX];
    int ns = 0;
    char title[128], right[160];
    bool log_y = v->log_scale;
    switch (kind) {
    case UI_CHART_LOSS:
        if (v->show_raw) s[ns++] = (ui_plot_series){h->loss, UI_R_RAW, true, &h->tree_loss, "raw"};
        s[ns++] = (ui_plot_series){h->smooth, UI_R_SMOOTH, false, NULL, "smoothed"};
        snprintf(title, sizeof title, "loss: %ssmoothed (weight %.3g)", v->show_raw ? "raw min/max, " : "", h->weight);
        break;
    case UI_CHART_LR:
        s[ns++] = (ui_plot_series){h->lr, UI_R_SERIES2, false, NULL, "lr"};
        snprintf(title, sizeof title, "learning rate");
        log_y = main && v->log_scale;
        break;
    case UI_CHART_GRAD:
        s[ns++] = (ui_plot_series){h->grad, UI_R_SERIES2, main && v->show_raw, &h->tree_grad, "grad norm"};
        snprintf(title, sizeof title, "grad norm");
        log_y = main && v->log_scale;
        break;
    case UI_CHART_BUCKETS:
        if (h->has_buckets)
            for (int k = 0; k < UI_BUCKETS && ns < UI_PLOT_MAX; k++)
                s[ns++] = (ui_plot_series){h->bucket[k], UI_R_BUCKET0 + k, false, NULL, "bucket"};
        snprintf(title, sizeof title, "loss by noise level (t buckets 0.0..0.9, blue to yellow)");
        break;
    default: return;
    }
    if (main)
        snprintf(right, sizeof right, "%s%s steps %.0f-%.0f%s", v->log_scale ? "log · " : "", v->robust ? "no outliers ·" : "",
                 x0, x1, v->follow || v->span <= 0 ? " · following" : "");
    else
        right[0] = 0;
    ui_rect in = ui_pane(r, title, right, main);
    if (ui_rect_empty(in)) return;
    if (kind == UI_CHART_BUCKETS && !h->has_buckets) {
        ui_wrap(in.y + 1, in.x + 2, in.w - 4, in.h - 1, ui_attr(UI_R_DIM),
                "No loss buckets in this run: set training.log_loss_info to true in the model config to record the "
                "loss per noise level.");
        return;
    }
    ui_plot_opts o = {x0, x1, log_y, v->robust, a->glyphs, h->marks, h->n_marks};
    ui_rect plot = {in.x, in.y, in.w - 1, in.h};
    ui_plot_draw(v, plot, h->step, h->n, s, ns, &o);
}

static void draw_log(app *a, ui_rect r) {
    view_train *v = &a->vt;
    uint64_t last = ui_log_last();
    char right[64];
    snprintf(right, sizeof right, "%s", v->log_scroll ? "PgDn: newer" : "PgUp: older");
    ui_rect in = ui_pane(r, "log", right, false);
    if (ui_rect_empty(in)) return;
    int rows = in.h;
    uint64_t newest = last > (uint64_t)v->log_scroll ? last - (uint64_t)v->log_scroll : 0;
    for (int i = 0; i < rows; i++) {
        uint64_t seq = newest >= (uint64_t)(rows - 1 - i) ? newest - (uint64_t)(rows - 1 - i) : 0;
        ui_log_line l;
        if (!seq || !ui_log_get(seq, &l)) continue;
        int role = l.level == UI_LOG_ERROR ? UI_R_ERROR : l.level == UI_LOG_WARN ? UI_R_WARN : l.level == UI_LOG_DEBUG ? UI_R_DIM : UI_R_NORMAL;
        ui_put_cut(in.y + i, in.x + 1, in.w - 2, ui_attr(role), l.text);
    }
}

void view_train_draw(app *a, const ui_layout *l) {
    view_train *v = &a->vt;
    draw_status(a, l->pane[UI_P_TR_STATUS]);
    chart(a, l->pane[UI_P_TR_CHART], v->main, true);
    if (!ui_rect_empty(l->pane[UI_P_TR_CHART2]))
        chart(a, l->pane[UI_P_TR_CHART2], v->main == UI_CHART_LR ? UI_CHART_LOSS : UI_CHART_LR, false);
    if (!ui_rect_empty(l->pane[UI_P_TR_CHART3]))
        chart(a, l->pane[UI_P_TR_CHART3],
              v->main == UI_CHART_GRAD ? (a->hist.has_buckets ? UI_CHART_BUCKETS : UI_CHART_LOSS) : UI_CHART_GRAD, false);
    draw_log(a, l->pane[UI_P_TR_LOG]);
}

void view_train_action(app *a, ui_action act) {
    view_train *v = &a->vt;
    const ui_series *h = &a->hist;
    double first = h->n ? (double)h->step[0] : 0, last = h->n ? (double)h->step[h->n - 1] : 0;
    double full = last - first;
    bool active = app_run_active(a);
    switch (act) {
    case UA_TRAIN_START: app_start_training(a, false); break;
    case UA_TRAIN_PAUSE:
        if (!active)
            app_message(a, UI_R_WARN, "not training (t starts)");
        else if (a->st.state == DS_STATE_PAUSED) {
            ds_worker_resume(a->worker);
            app_message(a, UI_R_OK, "resumed");
        } else {
            ds_worker_pause(a->worker);
            app_message(a, UI_R_WARN, "pausing after this step (p resumes)");
        }
        break;
    case UA_TRAIN_STOP:
        if (!active) {
            app_message(a, UI_R_WARN, "not training");
        } else {
            ds_worker_resume(a->worker);
            ds_worker_stop(a->worker);
            app_message(a, UI_R_WARN, "stopping after this step and saving a checkpoint…");
        }
        break;
    case UA_TRAIN_SAVE:
        if (active) {
            ds_worker_save_now(a->worker);
            app_message(a, UI_R_OK, "saving a checkpoint after this step");
        } else {
            app_message(a, UI_R_WARN, "not training");
        }
        break;
    case UA_TRAIN_DEMO:
        if (active) {
            ds_worker_demo_now(a->worker);
            app_message(a, UI_R_OK, "rendering demos after this step (Demos screen: 3)");
        } else {
            app_message(a, UI_R_WARN, "not training");
        }
        break;
    case UA_PLOT_LOG: v->log_scale = !v->log_scale; break;
    case UA_PLOT_ZOOM_IN: {
        double span = v->span > 0 ? v->span : full;
        span /= 2;
        if (span < 8) span = 8;
        if (!v->follow && v->span <= 0) v->end = last;
        v->span = span;
        break;
    }
    case UA_PLOT_ZOOM_OUT:
        if (v->span > 0) {
            v->span *= 2;
            if (v->span >= full) {
                v->span = 0;
                v->follow = true;
            }
        }
        break;
    case UA_LEFT:
    case UA_RIGHT:
        if (v->span > 0 && full > 0) {
            double x0, x1;
            x_window(a, &x0, &x1);
            double end = x1 + (act == UA_LEFT ? -1 : 1) * v->span / 4;
            v->follow = end >= last;
            v->end = end < first + v->span ? first + v->span : end;
        } else {
            app_message(a, UI_R_NORMAL, "+ zooms in first; then ← → pan over the steps");
        }
        break;
    case UA_PLOT_RESET:
        v->span = 0;
        v->follow = true;
        break;
    case UA_PLOT_SMOOTH_MORE:
    case UA_PLOT_SMOOTH_LESS: {
        int i = 0;
        while (i < N_WEIGHTS - 1 && WEIGHTS[i] < h->weight - 1e-9) i++;
        i += act == UA_PLOT_SMOOTH_MORE ? 1 : -1;
        if (i < 0) i = 0;
        if (i >= N_WEIGHTS) i = N_WEIGHTS - 1;
        ui_series_set_weight(&a->hist, WEIGHTS[i]);
        app_message(a, UI_R_NORMAL, "smoothing weight %.3g", WEIGHTS[i]);
        break;
    }
    case UA_PLOT_SERIES: v->main = (ui_chart_kind)((v->main + 1) % UI_CHART_COUNT); break;
    case UA_PLOT_RAW: v->show_raw = !v->show_raw; break;
    case UA_PLOT_OUTLIERS: v->robust = !v->robust; break;
    case UA_PLOT_GLYPHS:
        if (a->caps.utf8) {
            a->glyphs = (ui_glyphs)((a->glyphs + 1) % UI_GLYPH_COUNT);
            static const char *names[] = {"Braille", "blocks", "ASCII"};
            app_message(a, UI_R_NORMAL, "chart dots: %s", names[a->glyphs]);
        }
        break;
    case UA_LOG_SCROLL_UP: v->log_scroll += 5; break;
    case UA_LOG_SCROLL_DOWN: v->log_scroll = v->log_scroll > 5 ? v->log_scroll - 5 : 0; break;
    default: break;
    }
}
