/* The studio's event loop (see app.h): one thread, one poll() on the terminal, the signal
 * pipe and the worker's wake fd. Every turn drains keys and signals, copies what the worker
 * published, and draws a frame if anything changed: at once after a key, at most every
 * FRAME_MS for data (a fast run publishes every step; the UI reads it ten times a second).
 * While playing, a short timer moves the play cursor; otherwise poll() sleeps until
 * something happens. */
#include "app.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/status.h"
#include "loglines.h"
#include "run_spec.h"
#include "widgets.h"

#define FRAME_MS 100  /* data-driven redraws: at most 10 per second (keys redraw at once) */
#define MESSAGE_S 8.0 /* how long a status message stays */

static const char *SCREEN_NAMES[UI_SCREEN_COUNT] = {"Config", "Train", "Demos", "Runs"};

double app_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void app_message(app *a, int role, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    for (char *p = a->msg; *p; p++)
        if ((unsigned char)*p < 32) *p = ' ';
    a->msg_role = role;
    a->msg_time = app_now();
    a->dirty = true;
    if (role != UI_R_NORMAL) /* events worth keeping in the log pane, not hints */
        ui_log_push(role == UI_R_ERROR ? UI_LOG_ERROR : role == UI_R_WARN ? UI_LOG_WARN : UI_LOG_INFO, a->msg);
}

bool app_run_active(const app *a) {
    ds_worker_state s = a->st.state;
    return a->run_started && (s == DS_STATE_STARTING || s == DS_STATE_RUNNING || s == DS_STATE_PAUSED ||
                              s == DS_STATE_STOPPING);
}

bool app_any_modified(const app *a) {
    for (int i = 0; i < UI_DOC_COUNT; i++)
        if (a->have_doc[i] && a->docs[i].modified) return true;
    return false;
}

/* ---- the worker's output -------------------------------------------------------------------- */

static void update(app *a) {
    ds_worker_status st;
    ds_worker_snapshot(a->worker, &st);
    if (st.seq != a->st_seq || st.state != a->st.state) {
        bool was_active = app_run_active(a);
        a->st = st;
        a->st_seq = st.seq;
        a->dirty = true;
        if (a->run_started && st.run_dir[0] && strcmp(st.run_dir, a->run_dir)) {
            snprintf(a->run_dir, sizeof a->run_dir, "%s", st.run_dir);
            view_demos_reset(a);
        }
        if (was_active && !app_run_active(a)) {
            if (st.state == DS_STATE_FAILED)
                app_message(a, UI_R_ERROR, "training failed: %s", st.message);
            else
                app_message(a, UI_R_OK, "training %s; run directory %s", st.message, st.run_dir);
            a->vr.loaded = false; /* the runs list changed */
        }
    }
    if (a->quitting && !app_run_active(a)) a->done = true;
    if (a->run_started) {
        int64_t count = ds_worker_metric_count(a->worker);
        while (a->metrics_taken < count) {
            int64_t got = ds_worker_metrics(a->worker, a->metrics_taken, a->mbuf, 4096);
            if (got <= 0) break;
            for (int64_t i = 0; i < got; i++) {
                const ds_metric_point *p = &a->mbuf[i];
                ui_metric m = {.step = p->step, .loss = p->loss, .lr = p->lr, .grad_norm = p->grad_norm, .time_s = p->time_s};
                memcpy(m.bucket, p->bucket_loss, sizeof m.bucket);
                ui_series_push(&a->hist, &m);
            }
            a->metrics_taken += got;
            a->dirty = true;
        }
    }
    ds_log_line lines[64];
    int k;
    while ((k = ds_worker_log(a->worker, a->worker_log_seq, lines, 64)) > 0) {
        for (int i = 0; i < k; i++) {
            int lvl = lines[i].level == DS_LOG_ERROR ? UI_LOG_ERROR
                      : lines[i].level == DS_LOG_WARN ? UI_LOG_WARN
                      : lines[i].level == DS_LOG_INFO ? UI_LOG_INFO
                                                      : UI_LOG_DEBUG;
            ui_log_push(lvl, lines[i].text);
        }
        a->worker_log_seq = lines[k - 1].seq;
        a->dirty = true;
    }
    ds_demo *d;
    while ((d = ds_worker_take_demo(a->worker)) != NULL) {
        view_demos_take(a, d);
        a->dirty = true;
    }
    static uint64_t seen_log;
    if (ui_log_last() != seen_log) {
        seen_log = ui_log_last();
        a->dirty = true;
    }
    view_demos_update(a);
}

/* ---- quitting ------------------------------------------------------------------------------- */

static void quit_now(app *a, bool save_docs) {
    if (save_docs && !app_save_all(a)) return;
    if (app_run_active(a)) {
        ds_worker_resume(a->worker); /* a paused run must wake up to stop */
        ds_worker_stop(a->worker);
        a->quitting = true;
        app_message(a, UI_R_WARN, "stopping training and saving a checkpoint before quitting… (Ctrl-C again: quit without it)");
    } else {
        a->done = true;
    }
}

static void request_quit(app *a, bool from_ctrl_c) {
    if (a->quitting) {
        if (from_ctrl_c) {
            ds_worker_abort(a->worker);
            app_message(a, UI_R_WARN, "quitting without a final checkpoint");
        }
        return;
    }
    bool running = app_run_active(a), modified = app_any_modified(a);
    if (running && modified)
        ui_modal_confirm(&a->modal, MP_QUIT, "Quit",
                         "Training is running and a config has unsaved changes.\n\n"
                         "  s  save the configs, stop training (saving a checkpoint) and quit\n"
                         "  y  stop training (saving a checkpoint) and quit, discarding the changes\n"
                         "  n  keep going",
                         "nsy");
    else if (running)
        ui_modal_confirm(&a->modal, MP_QUIT, "Quit",
                         "Training is running.\n\n"
                         "  y  stop after this step, save a checkpoint and quit\n"
                         "  n  keep training",
                         "ny");
    else if (modified)
        ui_modal_confirm(&a->modal, MP_QUIT, "Quit",
                         "A config has unsaved changes.\n\n"
                         "  s  save and quit\n"
                         "  y  quit without saving\n"
                         "  n  stay",
                         "nsy");
    else
        a->done = true;
}

static void on_signal(app *a, int sig) {
    if (sig == SIGINT) {
        if (a->modal.kind == UI_MODAL_CONFIRM && a->modal.purpose == MP_QUIT) {
            ui_modal_close(&a->modal);
            quit_now(a, false);
        } else {
            request_quit(a, true);
        }
        return;
    }
    /* SIGTERM, SIGHUP: no questions; the run still ends with a checkpoint */
    ui_modal_close(&a->modal);
    if (a->quitting)
        ds_worker_abort(a->worker);
    else
        quit_now(a, false);
}

/* ---- keys ----------------------------------------------------------------------------------- */

static void show_help(app *a) {
    char text[2048];
    size_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        int scr = pass == 0 ? a->screen : UI_SCREEN_GLOBAL, n;
        const ui_binding *t = ui_keymap_table(scr, &n);
        off += (size_t)snprintf(text + off, sizeof text - off, "%s%s\n", pass ? "\nEverywhere\n" : "",
                                pass ? "" : SCREEN_NAMES[a->screen]);
        for (int i = 0; i < n && off < sizeof text; i++) {
            char name[16];
            ui_key_name(t[i].key, a->caps.utf8, name, sizeof name);
            off += (size_t)snprintf(text + off, sizeof text - off, "  %-7s %s\n", name, t[i].help);
        }
    }
    char title[64];
    snprintf(title, sizeof title, "Keys: %s", SCREEN_NAMES[a->screen]);
    ui_modal_text(&a->modal, MP_HELP, title, text);
}

static void set_screen(app *a, int s) {
    a->screen = (s + UI_SCREEN_COUNT) % UI_SCREEN_COUNT;
    if (a->screen == UI_SCREEN_RUNS && !a->vr.loaded) view_runs_refresh(a);
}

static void modal_done(app *a) {
    ui_modal m = a->modal; /* handlers may open another modal */
    ui_modal_close(&a->modal);
    switch (m.purpose) {
    case MP_QUIT:
        if (m.answer == 's' || m.answer == 'y') quit_now(a, m.answer == 's');
        break;
    case MP_START_UNSAVED:
        if (m.answer == 's') {
            if (app_save_all(a)) app_start_training(a, true);
        } else if (m.answer == 't') {
            app_start_training(a, true);
        }
        break;
    case MP_START_RESUME:
        if (m.answer == 'r')
            app_start_run(a, m.ctx, true, NULL);
        else if (m.answer == 'n') {
            char dir[DS_PATH_LEN + 32];
            time_t t = time(NULL);
            struct tm tm;
            localtime_r(&t, &tm);
            char ts[32];
            strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
            snprintf(dir, sizeof dir, "%.1000s-%s", m.ctx, ts);
            app_start_run(a, dir, false, NULL);
        }
        break;
    case MP_RUN_RESUME: view_runs_modal(a, &m); break;
    case MP_HELP: break;
    default: view_config_modal(a, &m); break;
    }
}

static void on_key(app *a, int key) {
    a->dirty = true;
    if (key == UI_KEY_RESIZE) return;
    if (a->modal.kind != UI_MODAL_NONE) {
        ui_modal_result r = ui_modal_key(&a->modal, key);
        if (r == UI_MODAL_CANCEL)
            ui_modal_close(&a->modal);
        else if (r == UI_MODAL_DONE)
            modal_done(a);
        return;
    }
    ui_action act = ui_key_action(a->screen, key);
    switch (act) {
    case UA_QUIT: request_quit(a, key == UI_KEY_CTRL('c')); return;
    case UA_HELP: show_help(a); return;
    case UA_SCREEN_CONFIG: set_screen(a, UI_SCREEN_CONFIG); return;
    case UA_SCREEN_TRAIN: set_screen(a, UI_SCREEN_TRAIN); return;
    case UA_SCREEN_DEMOS: set_screen(a, UI_SCREEN_DEMOS); return;
    case UA_SCREEN_RUNS: set_screen(a, UI_SCREEN_RUNS); return;
    case UA_SCREEN_NEXT: set_screen(a, a->screen + 1); return;
    case UA_SCREEN_PREV: set_screen(a, a->screen - 1); return;
    case UA_REDRAW: clearok(curscr, TRUE); return;
    case UA_FRAME_STATS: a->show_stats = !a->show_stats; return;
    default: break;
    }
    switch (a->screen) {
    case UI_SCREEN_CONFIG: view_config_action(a, act, key); break;
    case UI_SCREEN_TRAIN: view_train_action(a, act); break;
    case UI_SCREEN_DEMOS: view_demos_action(a, act); break;
    case UI_SCREEN_RUNS: view_runs_action(a, act); break;
    default: break;
    }
}

/* ---- drawing -------------------------------------------------------------------------------- */

static void draw_tabs(app *a, const ui_layout *l) {
    ui_fill(l->tabs, ui_attr(UI_R_TAB));
    int x = ui_put(0, 0, l->w, ui_attr(UI_R_TITLE) | A_BOLD, " diffstudio ");
    for (int s = 0; s < UI_SCREEN_COUNT && x < l->w; s++) {
        char t[32];
        snprintf(t, sizeof t, " %d %s%s ", s + 1, SCREEN_NAMES[s],
                 s == UI_SCREEN_CONFIG && app_any_modified(a) ? "*" : "");
        x += ui_put(0, x, l->w - x, ui_attr(s == a->screen ? UI_R_TAB_ACTIVE : UI_R_TAB), t);
    }
    char badge[160];
    const ds_worker_status *st = &a->st;
    if (a->run_started && st->state != DS_STATE_IDLE) {
        const char *dot = a->caps.utf8 ? (st->state == DS_STATE_RUNNING ? "● " : "○ ") : "";
        snprintf(badge, sizeof badge, "%s%s%s%s  step %lld ", dot, ds_worker_state_str(st->state),
                 st->phase != DS_PHASE_NONE && st->phase != DS_PHASE_TRAINING ? ", " : "",
                 st->phase != DS_PHASE_NONE && st->phase != DS_PHASE_TRAINING ? ds_phase_str(st->phase) : "",
                 (long long)st->step);
    } else {
        snprintf(badge, sizeof badge, "not training ");
    }
    int bw = ui_text_cols(badge);
    if (x + bw + 1 < l->w) {
        int role = st->state == DS_STATE_RUNNING ? UI_R_OK : st->state == DS_STATE_FAILED ? UI_R_ERROR : UI_R_DIM;
        ui_put(0, l->w - bw, bw, ui_attr(role), badge);
    }
}

static void draw_bottom(app *a, const ui_layout *l) {
    char hints[512];
    ui_keymap_hints(a->screen, l->w - 1, a->caps.utf8, hints, sizeof hints);
    ui_put(l->hints.y, 1, l->w - 1, ui_attr(UI_R_KEY), hints);
    ui_fill(l->status, ui_attr(UI_R_STATUS));
    char line[1024];
    int role = UI_R_STATUS;
    double now = app_now();
    if (a->msg[0] && (now - a->msg_time < MESSAGE_S || a->quitting)) {
        snprintf(line, sizeof line, " %s", a->msg);
        role = a->msg_role;
    } else {
        a->msg[0] = 0;
        snprintf(line, sizeof line, " %.300s  ·  run %.300s  ·  audio: %.300s", a->file, a->run_dir[0] ? a->run_dir : "(none)",
                 a->player ? audio_player_device_name(a->player) : a->player_err[0] ? a->player_err : "not opened yet");
    }
    int attr = role == UI_R_STATUS ? ui_attr(UI_R_STATUS) : (int)((unsigned)ui_attr(role) | A_REVERSE);
    if (role != UI_R_STATUS) ui_fill(l->status, attr);
    char stats[128] = "";
    if (a->show_stats)
        snprintf(stats, sizeof stats, " frame %.2f ms (avg %.2f, max %.2f), %lld points ", a->frame_ms, a->frame_ms_avg,
                 a->frame_ms_max, (long long)a->hist.n);
    int sw = ui_text_cols(stats);
    ui_put_cut(l->status.y, 0, l->w - sw, attr, line);
    if (sw) ui_put(l->status.y, l->w - sw, sw, ui_attr(UI_R_STATUS) | A_BOLD, stats);
}

static void draw(app *a) {
    double t0 = app_now();
    getmaxyx(stdscr, a->h, a->w);
    erase();
    ui_layout l;
    ui_layout_compute(a->screen, a->w, a->h, &l);
    if (l.too_small) {
        mvprintw(0, 0, "terminal too small: %dx%d", a->w, a->h);
        mvprintw(1, 0, "the studio needs %dx%d (q quits)", UI_MIN_W, UI_MIN_H);
    } else {
        draw_tabs(a, &l);
        switch (a->screen) {
        case UI_SCREEN_CONFIG: view_config_draw(a, &l); break;
        case UI_SCREEN_TRAIN: view_train_draw(a, &l); break;
        case UI_SCREEN_DEMOS: view_demos_draw(a, &l); break;
        case UI_SCREEN_RUNS: view_runs_draw(a, &l); break;
        default: break;
        }
        draw_bottom(a, &l);
        if (a->modal.kind != UI_MODAL_NONE) ui_modal_draw(&a->modal, a->w, a->h);
    }
    double t1 = app_now();
    refresh();
    double ms = (app_now() - t0) * 1e3;
    a->frame_draw_ms = (t1 - t0) * 1e3;
    a->frame_ms = ms;
    a->frames++;
    a->frame_ms_avg = a->frames == 1 ? ms : 0.95 * a->frame_ms_avg + 0.05 * ms;
    if (ms > a->frame_ms_max) a->frame_ms_max = ms;
    if (a->frame_log) {
        fprintf(a->frame_log, "frame %lld screen %d %dx%d points %lld draw %.3f output %.3f ms %.3f\n",
                (long long)a->frames, a->screen, a->w, a->h, (long long)a->hist.n, a->frame_draw_ms,
                ms - a->frame_draw_ms, ms);
        fflush(a->frame_log);
    }
    a->dirty = false;
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void audio_log(audio_log_level level, const char *msg, void *user) {
    (void)user;
    /* fd 2 is the session's log file while curses is active */
    fprintf(stderr, "audio: %s\n", msg);
    if (level >= AUDIO_LOG_WARN) ui_log_push(level == AUDIO_LOG_ERROR ? UI_LOG_ERROR : UI_LOG_WARN, msg);
}

static void open_docs(app *a) {
    for (int i = 0; i < UI_DOC_COUNT; i++) {
        if (a->have_doc[i]) cfg_doc_close(&a->docs[i]);
        a->have_doc[i] = false;
        a->doc_note[i][0] = 0;
    }
    ds_err err = {0};
    const ds_studio_config *sc = &a->studio;
    if (sc->model_config[0] && cfg_doc_open(&a->docs[UI_DOC_MODEL], sc->model_config, &err) == DS_OK)
        a->have_doc[UI_DOC_MODEL] = true;
    else
        snprintf(a->doc_note[UI_DOC_MODEL], sizeof a->doc_note[0], "%s", sc->model_config[0] ? err.msg : "no model config");
    if (!sc->dataset_config[0])
        snprintf(a->doc_note[UI_DOC_DATASET], sizeof a->doc_note[0], "no dataset_config in the studio file");
    else if (sc->dataset_is_folder)
        snprintf(a->doc_note[UI_DOC_DATASET], sizeof a->doc_note[0],
                 "dataset_config is a folder of audio (%.900s): no dataset config file to edit", sc->dataset_config);
    else if (cfg_doc_open(&a->docs[UI_DOC_DATASET], sc->dataset_config, &err) == DS_OK)
        a->have_doc[UI_DOC_DATASET] = true;
    else
        snprintf(a->doc_note[UI_DOC_DATASET], sizeof a->doc_note[0], "%s", err.msg);
    if (a->is_model)
        snprintf(a->doc_note[UI_DOC_STUDIO], sizeof a->doc_note[0],
                 "opened on a model config: studio defaults (run directory %.900s)", sc->run_dir);
    else if (cfg_doc_open(&a->docs[UI_DOC_STUDIO], a->file, &err) == DS_OK)
        a->have_doc[UI_DOC_STUDIO] = true;
    else
        snprintf(a->doc_note[UI_DOC_STUDIO], sizeof a->doc_note[0], "%s", err.msg);
}

void app_reload_studio(app *a) {
    if (a->is_model) return;
    ds_studio_config sc;
    bool is_model;
    ds_err err = {0};
    if (ui_studio_load(a->file, &sc, &is_model, NULL, &err) != DS_OK) {
        app_message(a, UI_R_WARN, "%s", err.msg);
        return;
    }
    bool model_changed = strcmp(sc.model_config, a->studio.model_config) != 0;
    bool data_changed = strcmp(sc.dataset_config, a->studio.dataset_config) != 0;
    bool dir_changed = strcmp(sc.run_dir, a->studio.run_dir) != 0;
    a->studio = sc;
    if ((model_changed && !a->docs[UI_DOC_MODEL].modified) || (data_changed && !a->docs[UI_DOC_DATASET].modified)) {
        cfg_doc keep = a->docs[UI_DOC_STUDIO];
        bool had = a->have_doc[UI_DOC_STUDIO];
        a->have_doc[UI_DOC_STUDIO] = false; /* keep the studio document (and its undo) as it is */
        open_docs(a);
        if (a->have_doc[UI_DOC_STUDIO]) cfg_doc_close(&a->docs[UI_DOC_STUDIO]);
        a->docs[UI_DOC_STUDIO] = keep;
        a->have_doc[UI_DOC_STUDIO] = had;
        a->doc_note[UI_DOC_STUDIO][0] = 0;
    }
    if (dir_changed && !app_run_active(a)) app_open_run(a, sc.run_dir);
}

static void stderr_log_path(const app *a, char *out, size_t n) {
    struct stat st;
    if (a->studio.run_dir[0] && stat(a->studio.run_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, n, "%s/diffstudio-stderr.log", a->studio.run_dir);
        return;
    }
    const char *home = getenv("HOME");
    char dir[DS_PATH_LEN];
    snprintf(dir, sizeof dir, "%s/.cache", home && home[0] ? home : "/tmp");
    mkdir(dir, 0755);
    snprintf(out, n, "%s/diffstudio-stderr.log", dir);
}

int ui_studio_run(const char *file, char *errbuf, size_t n) {
    app *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(errbuf, n, "out of memory");
        return 1;
    }
    a->mbuf = malloc(4096 * sizeof *a->mbuf);
    snprintf(a->file, sizeof a->file, "%s", file);
    ds_err err = {0};
    ds_diag_list diags;
    ds_diag_list_init(&diags);
    ds_status s = ui_studio_load(file, &a->studio, &a->is_model, &diags, &err);
    if (s != DS_OK) {
        /* a studio file with mistakes still opens, so they can be fixed in the editor */
        ds_config_doc *doc = NULL;
        bool studio = ds_config_doc_load(file, &doc, NULL, NULL) == DS_OK && ds_config_doc_kind(doc) == DS_KIND_STUDIO;
        ds_config_doc_free(doc);
        if (!studio) {
            char line[1200];
            size_t off = 0;
            for (int i = 0; i < diags.n && off < n; i++) {
                ds_diag_format(&diags.items[i], line, sizeof line);
                off += (size_t)snprintf(errbuf + off, n - off, "%s\n", line);
            }
            if (!diags.n) snprintf(errbuf, n, "%s\n", err.msg);
            ds_diag_list_free(&diags);
            free(a->mbuf);
            free(a);
            return 1;
        }
    }
    ds_diag_list_free(&diags);
    if (ds_worker_create(&a->worker, &err) != DS_OK) {
        snprintf(errbuf, n, "%s\n", err.msg);
        free(a->mbuf);
        free(a);
        return 1;
    }
    open_docs(a);
    ui_series_init(&a->hist, 0.6);
    snprintf(a->run_dir, sizeof a->run_dir, "%s", a->studio.run_dir);
    const char *fl = getenv("DIFFSTUDIO_FRAME_LOG");
    if (fl && fl[0]) a->frame_log = fopen(fl, "a");
    char logpath[DS_PATH_LEN + 64];
    stderr_log_path(a, logpath, sizeof logpath);
    audio_log_set(audio_log, NULL);
    char terr[256];
    if (!ui_term_start(logpath, &a->caps, terr, sizeof terr)) {
        snprintf(errbuf, n, "%s\n", terr);
        ds_worker_destroy(a->worker);
        free(a->mbuf);
        free(a);
        return 1;
    }
    ui_widgets_init(a->caps.utf8);
    a->glyphs = a->caps.utf8 ? UI_GLYPH_BRAILLE : UI_GLYPH_ASCII;
    view_config_init(a);
    view_train_init(a);
    view_demos_init(a);
    view_runs_init(a);
    const char *scr = getenv("DIFFSTUDIO_SCREEN"); /* tests and demos: open on a screen */
    a->screen = scr && *scr >= '1' && *scr <= '4' ? *scr - '1' : UI_SCREEN_CONFIG;
    app_open_run(a, a->run_dir);
    if (a->screen == UI_SCREEN_RUNS) view_runs_refresh(a);
    app_message(a, UI_R_NORMAL, "diffstudio: %s. Press ? for the keys of each screen.", file);
    a->dirty = true;
    double last_frame = 0, next_update = 0;
    bool key_frame = true;
    while (!a->done) {
        int timeout = -1;
        double now = app_now();
        /* While a run is going, the worker publishes every step; its output is read at most
         * every FRAME_MS (its wake fd is left out of poll() until then), so a fast run does
         * not wake the UI a hundred times a second. Idle, every publish is read at once. */
        bool busy = app_run_active(a) && !a->quitting;
        bool watch = !busy || now >= next_update;
        if (!watch) timeout = (int)((next_update - now) * 1e3) + 1;
        if (a->dirty) {
            double wait = key_frame ? 0 : last_frame + FRAME_MS / 1e3 - now;
            int t = wait > 0 ? (int)(wait * 1e3) + 1 : 0;
            if (timeout < 0 || t < timeout) timeout = t;
        }
        if (view_demos_playing(a) && (timeout < 0 || timeout > 40)) timeout = 40;
        if (a->msg[0] && !a->quitting) {
            int left = (int)((a->msg_time + MESSAGE_S - now) * 1e3) + 1;
            if (left < 1) left = 1;
            if (timeout < 0 || left < timeout) timeout = left;
        }
        struct pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0},
                                {ui_term_signal_fd(), POLLIN, 0},
                                {ds_worker_wake_fd(a->worker), POLLIN, 0}};
        if (timeout != 0 && poll(fds, watch ? 3 : 2, timeout) < 0 && errno != EINTR) break;
        int sig = ui_term_signal();
        if (sig) on_signal(a, sig);
        int key, nkeys = 0;
        while (nkeys < 256 && (key = ui_term_key()) != UI_KEY_NONE) {
            on_key(a, key);
            nkeys++;
        }
        if (nkeys) key_frame = true;
        now = app_now();
        if (nkeys || sig || !busy || now >= next_update) {
            ds_worker_clear_wake(a->worker);
            update(a);
            next_update = now + FRAME_MS / 1e3;
        }
        if (a->msg[0] && !a->quitting && now - a->msg_time >= MESSAGE_S) a->dirty = true;
        if (a->dirty && (key_frame || now - last_frame >= FRAME_MS / 1e3)) {
            draw(a);
            last_frame = now;
            key_frame = false;
        }
    }
    ui_term_end();
    audio_log_set(NULL, NULL);
    audio_player_close(a->player);
    ds_worker_destroy(a->worker);
    int rc = 0;
    if (a->st.state == DS_STATE_FAILED && a->run_started) {
        snprintf(errbuf, n, "training failed: %s\n", a->st.message);
    } else if (a->run_started && a->st.state == DS_STATE_FINISHED) {
        snprintf(errbuf, n, "%s; run directory %s\n", a->st.message, a->st.run_dir);
    }
    view_config_free(a);
    view_train_free(a);
    view_demos_free(a);
    view_runs_free(a);
    for (int i = 0; i < UI_DOC_COUNT; i++)
        if (a->have_doc[i]) cfg_doc_close(&a->docs[i]);
    ui_series_free(&a->hist);
    ui_demos_free(&a->demos);
    if (a->frame_log) fclose(a->frame_log);
    free(a->mbuf);
    free(a);
    return rc;
}
