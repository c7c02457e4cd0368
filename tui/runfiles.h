/* Reading a run directory for the studio (no curses): metrics.jsonl into the metric history,
 * demos/index.jsonl into the demo gallery, and the runs folder into a list of runs with
 * their model, last step and last loss. The formats are the run writer's
 * (engine/src/run/run.c, demo.c): one JSON object per line; bad lines are skipped and counted.
 * Unit-tested in tests/unit/test_ui_runfiles.c. */
#ifndef UI_RUNFILES_H
#define UI_RUNFILES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "series.h"

#define UI_PATH 1024

/* Appends <run_dir>/metrics.jsonl to s. Returns the points read (0 when the file is
 * missing); *bad counts lines that were not metric points. */
int64_t ui_metrics_load(const char *run_dir, ui_series *s, int *bad);
/* One metrics.jsonl line → m; false if it is not a metric point. */
bool ui_metric_parse(const char *line, ui_metric *m);

/* One render of the gallery. */
typedef struct ui_demo_entry {
    int64_t step;
    double cfg_scale;
    int index;       /* demo index; -1 for the file with every demo one after another */
    char cond[256];  /* its conditioning as compact JSON ("" for index -1) */
    char path[UI_PATH]; /* full path of the WAV */
    double seconds;  /* render time */
} ui_demo_entry;

typedef struct ui_demo_list {
    ui_demo_entry *v;
    int n, cap;
    uint64_t version;
} ui_demo_list;

void ui_demos_free(ui_demo_list *l);
void ui_demos_clear(ui_demo_list *l);
/* Adds a render unless its path is already listed; keeps the list in gallery order:
 * newest step first, then cfg scale, then demo index (-1 first). Returns its index, or -1
 * when it was already there or out of memory. */
int ui_demos_add(ui_demo_list *l, const ui_demo_entry *e);
/* Reads <run_dir>/demos/index.jsonl (paths in it are relative to demos/). Returns the
 * renders added. */
int ui_demos_load(const char *run_dir, ui_demo_list *l);
/* One index.jsonl line → e (path joined to demos_dir); false if it is not a render. */
bool ui_demo_parse(const char *line, const char *demos_dir, ui_demo_entry *e);
int ui_demos_find(const ui_demo_list *l, const char *path);

/* A run in the runs folder. */
typedef struct ui_run_info {
    char dir[UI_PATH];
    char name[256];
    char model[128];     /* "diffusion_cond dit, 16000 Hz" from its config.json; "" if none */
    int64_t last_step;   /* from metrics.jsonl's last line; -1: none */
    double last_loss, last_smoothed;
    int64_t ckpt_step;   /* newest checkpoint; -1: none */
    int n_ckpt;
    int n_demos;         /* renders in demos/index.jsonl */
    time_t mtime;        /* newest of metrics.jsonl, log.txt, the folder */
} ui_run_info;

/* The runs under root (folders with a config.json, metrics.jsonl or checkpoints/), newest
 * first. *out is malloc'd (free it); returns the count, 0 when root is missing. */
int ui_runs_scan(const char *root, ui_run_info **out);
/* Fills info for one run folder; false if it does not look like a run. */
bool ui_run_read(const char *dir, ui_run_info *info);

/* The parent folder of a path ("runs/example" → "runs", "x" → "."). */
void ui_path_parent(const char *path, char *out, size_t n);

#endif
