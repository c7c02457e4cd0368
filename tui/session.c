/* The studio's session actions that span screens: saving every config, starting or resuming
 * a run through the worker (the same run spec as `diffstudio train`), and opening a run's
 * files (curves and demos) to look at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "loglines.h"
#include "run_spec.h"
#include "ustr.h"

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

bool app_save_all(app *a) {
    bool studio_saved = false;
    for (int i = 0; i < UI_DOC_COUNT; i++) {
        if (!a->have_doc[i] || !a->docs[i].modified) continue;
        ds_err err = {0};
        if (cfg_doc_save(&a->docs[i], NULL, &err) != DS_OK) {
            app_message(a, UI_R_ERROR, "not saved: %s", err.msg);
            return false;
        }
        studio_saved |= i == UI_DOC_STUDIO;
    }
    if (studio_saved) app_reload_studio(a);
    return true;
}

void app_open_run(app *a, const char *run_dir) {
    char dir[DS_PATH_LEN];
    ui_strlcpy(dir, run_dir, sizeof dir); /* run_dir may be a->run_dir itself */
    run_dir = dir;
    ui_strlcpy(a->run_dir, dir, sizeof a->run_dir);
    ui_series_clear(&a->hist);
    int bad = 0;
    if (run_dir[0]) ui_metrics_load(run_dir, &a->hist, &bad);
    ui_demos_clear(&a->demos);
    if (run_dir[0]) ui_demos_load(run_dir, &a->demos);
    view_demos_reset(a);
    a->vt.follow = true;
    a->vt.span = 0;
    a->dirty = true;
}

void app_start_run(app *a, const char *run_dir, bool resume, const char *model_path) {
    if (app_run_active(a)) {
        app_message(a, UI_R_WARN, "a run is in progress: stop it first (x on the Train screen)");
        return;
    }
    ds_studio_config sc = a->studio;
    if (!a->is_model) {
        bool is_model;
        ds_err err = {0};
        if (ui_studio_load(a->file, &sc, &is_model, NULL, &err) != DS_OK) {
            app_message(a, UI_R_ERROR, "cannot train: %s", err.msg);
            return;
        }
        a->studio = sc;
    }
    snprintf(sc.run_dir, sizeof sc.run_dir, "%s", run_dir);
    ds_run_spec *spec = malloc(sizeof *spec);
    if (!spec) {
        app_message(a, UI_R_ERROR, "out of memory");
        return;
    }
    ds_diag_list diags;
    ds_diag_list_init(&diags);
    ds_err err = {0};
    ds_status s = ui_run_spec_build(&sc, model_path, spec, &diags, &err);
    if (s != DS_OK) {
        char line[1200];
        for (int i = 0; i < diags.n; i++) {
            ds_diag_format(&diags.items[i], line, sizeof line);
            ui_log_push(diags.items[i].severity == DS_DIAG_ERROR ? UI_LOG_ERROR : UI_LOG_WARN, line);
        }
        if (diags.n_errors && diags.items[0].severity == DS_DIAG_ERROR) {
            ds_diag_format(&diags.items[0], line, sizeof line);
            app_message(a, UI_R_ERROR, "cannot train: %s%s", line, diags.n_errors > 1 ? " (more in the log)" : "");
        } else {
            app_message(a, UI_R_ERROR, "cannot train: %s", err.msg);
        }
        ds_diag_list_free(&diags);
        free(spec);
        return;
    }
    ds_diag_list_free(&diags);
    spec->resume = resume;
    if (ds_worker_start(a->worker, spec, &err) != DS_OK) {
        app_message(a, UI_R_ERROR, "cannot train: %s", err.msg);
        free(spec);
        return;
    }
    free(spec);
    a->run_started = true;
    a->metrics_taken = 0;
    a->worker_log_seq = 0;
    a->st.state = DS_STATE_STARTING;
    /* a resumed run continues its curve: its history comes from metrics.jsonl */
    app_open_run(a, run_dir);
    if (!resume) {
        ui_series_clear(&a->hist);
        ui_demos_clear(&a->demos);
        view_demos_reset(a);
    }
    a->vr.loaded = false;
    app_message(a, UI_R_OK, "%s training in %s", resume ? "resuming" : "starting", run_dir);
}

void app_start_training(app *a, bool skip_unsaved_check) {
    if (app_run_active(a)) {
        app_message(a, UI_R_WARN, "already training (p pauses, x stops)");
        return;
    }
    if (!skip_unsaved_check && app_any_modified(a)) {
        char text[1024];
        size_t off = (size_t)snprintf(text, sizeof text, "Unsaved changes in");
        for (int i = 0; i < UI_DOC_COUNT; i++)
            if (a->have_doc[i] && a->docs[i].modified)
                off += (size_t)snprintf(text + off, sizeof text - off, " %s", base(a->docs[i].path));
        snprintf(text + off, sizeof text - off,
                 ". Training reads the files on disk.\n\n"
                 "  s  save them and start\n"
                 "  t  start with the files as they are on disk\n"
                 "  c  cancel");
        ui_modal_confirm(&a->modal, MP_START_UNSAVED, "Start training", text, "stc");
        return;
    }
    if (!a->is_model) app_reload_studio(a);
    const char *dir = a->studio.run_dir;
    ui_run_info info;
    if (dir[0] && ui_run_read(dir, &info) && info.ckpt_step >= 0) {
        char text[1400];
        snprintf(text, sizeof text,
                 "%.900s has a checkpoint at step %lld.\n\n"
                 "  r  resume it (the model config must be the one it was trained with)\n"
                 "  n  start a new run in %.200s-<date>\n"
                 "  c  cancel",
                 dir, (long long)info.ckpt_step, base(dir));
        ui_modal_confirm(&a->modal, MP_START_RESUME, "Start training", text, "rnc");
        snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", dir);
        return;
    }
    app_start_run(a, dir, false, NULL);
}
