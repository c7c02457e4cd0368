/* The studio: its state and the four screens. app.c runs the event loop (poll on the
 * terminal, the worker's wake fd and the signal pipe; a timer only while playing or while a
 * frame is due), copies the worker's snapshot, metrics, log lines and demos into the app,
 * and draws a frame only when something changed. Each screen is a view with
 *   view_x_update(app)          copy what it shows out of the app (cheap, every loop),
 *   view_x_draw(app, layout)    draw from that copy,
 *   view_x_action(app, action)  act on a key (keymap.h), possibly opening a modal,
 *   view_x_modal(app, modal)    act on the modal's answer.
 * The worker is reached only through engine/worker.h; only the main thread runs any of this. */
#ifndef UI_APP_H
#define UI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "audio/file.h"
#include "audio/player.h"
#include "braille.h"
#include "cfgtree.h"
#include "engine/worker.h"
#include "keymap.h"
#include "layout.h"
#include "modal.h"
#include "runfiles.h"
#include "series.h"
#include "term.h"

/* The three files the Config screen edits. */
enum { UI_DOC_MODEL, UI_DOC_DATASET, UI_DOC_STUDIO, UI_DOC_COUNT };

/* What a modal answers (app.h so every view can open any). */
enum {
    MP_NONE,
    MP_HELP,
    MP_QUIT,
    MP_START_UNSAVED,
    MP_START_RESUME,
    MP_CFG_TEXT,
    MP_CFG_CHOICE,
    MP_CFG_IDS,
    MP_CFG_ROW,
    MP_CFG_ADD,
    MP_CFG_ADD_VALUE,
    MP_CFG_SAVE_AS,
    MP_CFG_REVERT,
    MP_CFG_SEARCH,
    MP_RUN_RESUME,
};

#define UI_FOLDED_MAX 64

typedef struct view_config {
    int file; /* UI_DOC_* shown */
    char sel_path[UI_DOC_COUNT][CFG_PATH];
    int sel, top;
    char folded[UI_DOC_COUNT][UI_FOLDED_MAX][CFG_PATH];
    int n_folded[UI_DOC_COUNT];
    bool hide_defaults;
    bool problems_focus;
    int prob_sel, prob_top;
    char search[128];
    int *vis;
    int n_vis, cap_vis;
    uint64_t vis_version; /* doc version the visible list was made for */
    int vis_file;
    bool vis_stale;
} view_config;

#define UI_PLOT_MAX 12 /* series in one chart */

typedef enum { UI_CHART_LOSS, UI_CHART_LR, UI_CHART_GRAD, UI_CHART_BUCKETS, UI_CHART_COUNT } ui_chart_kind;

typedef struct view_train {
    ui_chart_kind main;
    bool log_scale, show_raw, robust;
    double span;  /* steps shown (0: all) */
    double end;   /* the last step shown when not following */
    bool follow;
    int log_scroll;
    ui_canvas canvas;
    ui_col *cols[UI_PLOT_MAX];
    int cap_cols;
} view_train;

#define UI_CLIP_CACHE 8

typedef struct ui_clip_entry {
    char path[UI_PATH];
    audio_clip clip;
    uint64_t used;
} ui_clip_entry;

typedef struct view_demos {
    int sel, top;
    bool show_whole; /* list the concatenated renders too */
    int *vis;
    int n_vis, cap_vis;
    uint64_t vis_version;
    char sel_path[UI_PATH];
    /* the selected render, analysed for drawing */
    char shown_path[UI_PATH];
    float *mono;
    int64_t frames;
    int rate;
    float *spec;
    int spec_frames, spec_bins;
    char err[256];
    ui_clip_entry cache[UI_CLIP_CACHE];
    uint64_t cache_tick;
    /* playback: slot 0 = A, slot 1 = B */
    char slot_path[2][UI_PATH];
    int playing_slot; /* -1: none */
} view_demos;

typedef struct view_runs {
    char root[UI_PATH];
    ui_run_info *runs;
    int n, sel, top;
    bool loaded;
} view_runs;

typedef struct app {
    /* files */
    char file[DS_PATH_LEN]; /* what the studio was opened on */
    bool is_model;          /* a bare model config (no studio file) */
    ds_studio_config studio;
    cfg_doc docs[UI_DOC_COUNT];
    bool have_doc[UI_DOC_COUNT];
    char doc_note[UI_DOC_COUNT][1280]; /* why a document is not there */
    /* training */
    ds_worker *worker;
    ds_worker_status st;
    uint64_t st_seq;
    bool run_started; /* started in this session */
    int64_t metrics_taken;
    uint64_t worker_log_seq;
    char run_dir[DS_PATH_LEN]; /* the run whose curves and demos are shown */
    ui_series hist;
    ui_demo_list demos;
    ds_metric_point *mbuf;
    /* audio */
    audio_player *player;
    bool player_tried;
    char player_err[256];
    /* interface */
    int screen;
    ui_term_caps caps;
    ui_glyphs glyphs;
    ui_modal modal;
    char msg[512];
    int msg_role;
    double msg_time;
    bool dirty;
    bool quitting; /* a stop was sent to quit when the worker finishes */
    bool done;
    int w, h;
    /* frame statistics (F12, DIFFSTUDIO_FRAME_LOG) */
    bool show_stats;
    double frame_ms, frame_ms_avg, frame_ms_max;
    double frame_draw_ms; /* of frame_ms: building the frame (the rest is curses writing it out) */
    int64_t frames;
    void *frame_log; /* FILE* */
    /* screens */
    view_config vc;
    view_train vt;
    view_demos vd;
    view_runs vr;
} app;

/* app.c */
int ui_studio_run(const char *file, char *err, size_t n);
void app_message(app *a, int role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool app_run_active(const app *a);
bool app_any_modified(const app *a);
/* Saves every modified document; false (with a message) when one fails. */
bool app_save_all(app *a);
/* Starts training: checks unsaved changes, offers to resume, builds the spec, starts. */
void app_start_training(app *a, bool skip_unsaved_check);
void app_start_run(app *a, const char *run_dir, bool resume, const char *model_path);
/* Shows a run's curves and demos (reads its files). */
void app_open_run(app *a, const char *run_dir);
/* Reloads the studio file (after it was saved) and the documents it names. */
void app_reload_studio(app *a);
double app_now(void);

/* views */
void view_config_init(app *a);
void view_config_free(app *a);
void view_config_draw(app *a, const ui_layout *l);
void view_config_action(app *a, ui_action act, int key);
void view_config_modal(app *a, const ui_modal *m);
void view_config_jump(app *a, int doc, const char *path);

void view_train_init(app *a);
void view_train_free(app *a);
void view_train_draw(app *a, const ui_layout *l);
void view_train_action(app *a, ui_action act);

void view_demos_init(app *a);
void view_demos_free(app *a);
void view_demos_update(app *a);
void view_demos_draw(app *a, const ui_layout *l);
void view_demos_action(app *a, ui_action act);
void view_demos_take(app *a, ds_demo *d); /* a render handed over by the worker */
void view_demos_reset(app *a);            /* the run shown changed */
bool view_demos_playing(const app *a);

void view_runs_init(app *a);
void view_runs_free(app *a);
void view_runs_draw(app *a, const ui_layout *l);
void view_runs_action(app *a, ui_action act);
void view_runs_modal(app *a, const ui_modal *m);
void view_runs_refresh(app *a);

/* plot.c: a chart of series from the history into a rect. */
typedef struct ui_plot_series {
    const float *y;
    int role;      /* colour role (term.h) */
    bool band;     /* draw min..max per dot column (raw data) instead of a line */
    const ui_mmtree *tree; /* the series' min/max pyramid (bands); NULL: thinned point by point */
    const char *name;
} ui_plot_series;
typedef struct ui_plot_opts {
    double x0, x1; /* steps shown */
    bool log_y, robust;
    ui_glyphs glyphs;
    const int64_t *marks; /* resume marks */
    int n_marks;
} ui_plot_opts;
void ui_plot_draw(view_train *vt, ui_rect r, const int64_t *xs, int64_t n, const ui_plot_series *s, int ns,
                  const ui_plot_opts *o);

#endif
