/* Runs screen: the runs in the runs folder (the parent of the studio file's run_dir), newest
 * first, with their model, last step, last loss, checkpoints and demos; Enter opens one (its
 * curves on the Train screen, its renders on the Demos screen), r resumes training from its
 * newest checkpoint with the config it was trained with (its config.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "widgets.h"

void view_runs_init(app *a) { ui_path_parent(a->studio.run_dir[0] ? a->studio.run_dir : "runs/x", a->vr.root, sizeof a->vr.root); }

void view_runs_free(app *a) {
    free(a->vr.runs);
    a->vr.runs = NULL;
}

void view_runs_refresh(app *a) {
    view_runs *v = &a->vr;
    char keep[UI_PATH] = "";
    if (v->n && v->sel < v->n) snprintf(keep, sizeof keep, "%s", v->runs[v->sel].dir);
    free(v->runs);
    v->runs = NULL;
    ui_path_parent(a->studio.run_dir[0] ? a->studio.run_dir : "runs/x", v->root, sizeof v->root);
    v->n = ui_runs_scan(v->root, &v->runs);
    v->sel = 0;
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->runs[i].dir, keep[0] ? keep : a->run_dir)) v->sel = i;
    v->loaded = true;
    a->dirty = true;
}

static void fmt_when(time_t t, char *buf, size_t n) {
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
}

void view_runs_draw(app *a, const ui_layout *l) {
    view_runs *v = &a->vr;
    if (!v->loaded) view_runs_refresh(a);
    char title[UI_PATH + 32];
    snprintf(title, sizeof title, "runs in %s", v->root);
    char right[32];
    snprintf(right, sizeof right, "%d", v->n);
    ui_rect in = ui_pane(l->pane[UI_P_RN_LIST], title, right, true);
    if (!ui_rect_empty(in)) {
        if (!v->n) {
            ui_wrap(in.y + 1, in.x + 1, in.w - 2, in.h - 1, ui_attr(UI_R_DIM),
                    "No runs here yet: t on the Train screen starts one.");
        } else {
            ui_putf(in.y, in.x + 1, in.w - 2, ui_attr(UI_R_DIM), "  %-24s %9s %9s %6s  %s", "run", "step", "loss", "ckpts",
                    "last change");
            int rows = in.h - 1;
            v->top = ui_list_top(v->top, v->sel, v->n, rows);
            for (int i = 0; i < rows && v->top + i < v->n; i++) {
                int k = v->top + i;
                const ui_run_info *r = &v->runs[k];
                bool sel = k == v->sel;
                int attr = ui_attr(sel ? UI_R_SELECT : UI_R_NORMAL);
                if (sel) ui_fill((ui_rect){in.x, in.y + 1 + i, in.w, 1}, attr);
                char when[32], step[24], loss[24];
                fmt_when(r->mtime, when, sizeof when);
                snprintf(step, sizeof step, r->last_step >= 0 ? "%lld" : "-", (long long)r->last_step);
                snprintf(loss, sizeof loss, r->last_step >= 0 ? "%.4f" : "-", r->last_smoothed == r->last_smoothed ? r->last_smoothed : r->last_loss);
                bool current = !strcmp(r->dir, a->run_dir);
                ui_putf(in.y + 1 + i, in.x + 1, in.w - 2, attr | (current ? A_BOLD : 0), "%s %-24.24s %9s %9s %6d  %s",
                        current ? ">" : " ", r->name, step, loss, r->n_ckpt, when);
            }
        }
    }
    ui_rect d = ui_pane(l->pane[UI_P_RN_DETAIL], v->n ? v->runs[v->sel].name : "run", NULL, false);
    if (ui_rect_empty(d) || !v->n) return;
    const ui_run_info *r = &v->runs[v->sel];
    int y = d.y, x = d.x + 1, w = d.w - 2;
    char when[32];
    fmt_when(r->mtime, when, sizeof when);
    static const char *keys[7] = {"folder", "model", "last step", "last loss", "checkpoint", "demos", "changed"};
    char vals[7][UI_PATH + 64];
    snprintf(vals[0], sizeof vals[0], "%s", r->dir);
    snprintf(vals[1], sizeof vals[1], "%s", r->model[0] ? r->model : "(no config.json)");
    snprintf(vals[2], sizeof vals[2], r->last_step >= 0 ? "%lld" : "-", (long long)r->last_step);
    if (r->last_step >= 0)
        snprintf(vals[3], sizeof vals[3], "%.4f (smoothed %.4f)", r->last_loss, r->last_smoothed);
    else
        snprintf(vals[3], sizeof vals[3], "-");
    if (r->ckpt_step >= 0)
        snprintf(vals[4], sizeof vals[4], "step %lld (%d kept): r resumes", (long long)r->ckpt_step, r->n_ckpt);
    else
        snprintf(vals[4], sizeof vals[4], "none");
    snprintf(vals[5], sizeof vals[5], "%d renders", r->n_demos);
    snprintf(vals[6], sizeof vals[6], "%s", when);
    for (int i = 0; i < 7 && y < d.y + d.h; i++, y++) {
        ui_put(y, x, 12, ui_attr(UI_R_DIM), keys[i]);
        ui_put_cut(y, x + 12, w - 12, ui_attr(UI_R_NORMAL), vals[i]);
    }
    if (y + 1 < d.y + d.h)
        ui_wrap(y + 1, x, w, d.y + d.h - y - 1, ui_attr(UI_R_DIM),
                "Enter shows its curves (2) and demos (3); r resumes training from its newest checkpoint.");
}

void view_runs_action(app *a, ui_action act) {
    view_runs *v = &a->vr;
    const ui_run_info *r = v->n ? &v->runs[v->sel] : NULL;
    switch (act) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_TOP:
    case UA_BOTTOM: v->sel = ui_list_move(v->sel, v->n, act, 10); break;
    case UA_RUN_REFRESH: view_runs_refresh(a); break;
    case UA_RUN_OPEN:
        if (!r) break;
        if (app_run_active(a) && strcmp(r->dir, a->run_dir)) {
            app_message(a, UI_R_WARN, "training is running: stop it (x on the Train screen) before opening another run");
            break;
        }
        app_open_run(a, r->dir);
        a->screen = UI_SCREEN_TRAIN;
        app_message(a, UI_R_OK, "showing %s: %lld points, %d renders", r->dir, (long long)a->hist.n, a->demos.n);
        break;
    case UA_RUN_RESUME: {
        if (!r) break;
        if (app_run_active(a)) {
            app_message(a, UI_R_WARN, "already training: stop it first (x on the Train screen)");
            break;
        }
        if (r->ckpt_step < 0) {
            app_message(a, UI_R_WARN, "%s has no checkpoint to resume", r->name);
            break;
        }
        char text[UI_PATH + 512];
        snprintf(text, sizeof text,
                 "Resume %.400s from step %lld with the model config it was trained with (its config.json) and the "
                 "data and settings of %.300s?\n\n  y  resume\n  n  cancel",
                 r->dir, (long long)r->ckpt_step, a->file);
        ui_modal_confirm(&a->modal, MP_RUN_RESUME, "Resume", text, "ny");
        snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", r->dir);
        break;
    }
    default: break;
    }
}

void view_runs_modal(app *a, const ui_modal *m) {
    if (m->purpose != MP_RUN_RESUME || m->answer != 'y') return;
    char cfg[UI_PATH + 32];
    snprintf(cfg, sizeof cfg, "%s/config.json", m->ctx);
    app_start_run(a, m->ctx, true, cfg);
    a->screen = UI_SCREEN_TRAIN;
}
