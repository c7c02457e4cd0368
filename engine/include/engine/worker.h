/* The training worker: one thread that owns the model, the device and the data, behind a
 * narrow thread-safe API. Headless `diffstudio train` and the studio both drive it.
 *
 * Threads: every function here may be called from any one controlling thread (the UI's
 * main thread); the worker thread runs the run. Commands are non-blocking requests;
 * results come back as a plain-data status snapshot (with a sequence number), copies of
 * the metric history and log, and finished demos handed over by ownership. After every
 * publish the worker makes ds_worker_wake_fd() readable, so a UI sleeps in poll().
 *
 * Services the engine cannot provide itself (it never touches files of audio or sound
 * devices) come in through ds_run_io: the caller opens the dataset (audio/ does that) and
 * writes WAV files. */
#ifndef DS_WORKER_H
#define DS_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/batch.h"
#include "engine/config.h"
#include "engine/log.h"
#include "engine/status.h"

typedef struct ds_worker ds_worker;

typedef enum ds_worker_state {
    DS_STATE_IDLE,     /* no run yet */
    DS_STATE_STARTING, /* loading model, data, checkpoint */
    DS_STATE_RUNNING,
    DS_STATE_PAUSED,
    DS_STATE_STOPPING, /* saving a final checkpoint */
    DS_STATE_FINISHED, /* stopped cleanly or reached max_steps */
    DS_STATE_FAILED,   /* see status.message */
} ds_worker_state;

typedef enum ds_phase {
    DS_PHASE_NONE,
    DS_PHASE_LOADING_DATA,
    DS_PHASE_PLANNING,
    DS_PHASE_TRAINING,
    DS_PHASE_RENDERING_DEMOS,
    DS_PHASE_SAVING,
} ds_phase;

const char *ds_worker_state_str(ds_worker_state s);
const char *ds_phase_str(ds_phase p);

/* Host services for a run. Called on the worker thread. */
typedef struct ds_run_io {
    void *user;
    /* Opens the training data for a run: items of `channels` x `frames` at `sample_rate`,
     * shuffled by `seed`; fills *src. `dataset` is a SAT dataset config path or a folder. */
    ds_status (*open_data)(void *user, const char *dataset, int sample_rate, int channels, int64_t frames,
                           int batch_size, uint64_t seed, ds_batch_source *src, ds_err *err);
    void (*close_data)(void *user, ds_batch_source *src);
    /* Writes planar float audio data[channels][frames] as 16-bit WAV at path, atomically. */
    ds_status (*write_wav)(void *user, const char *path, const float *data, int channels, int64_t frames,
                           int sample_rate, ds_err *err);
} ds_run_io;

/* What to run. Copied at start: later edits by the caller do not affect the run. */
typedef struct ds_run_spec {
    ds_model_config model;     /* the model config (SAT format, typed) */
    char model_json_path[DS_PATH_LEN]; /* its file, snapshotted into the run directory */
    ds_studio_config studio;   /* batch size, run dir, seed, device, checkpoint_every, … */
    char dataset[DS_PATH_LEN]; /* SAT dataset config or a folder of audio */
    bool resume;               /* continue the newest checkpoint in studio.run_dir */
    char init_weights[DS_PATH_LEN]; /* start from an exported model (optional) */
    int64_t max_steps;         /* 0: run until stopped */
    ds_run_io io;
} ds_run_spec;

/* Plain data, safe to copy across threads. */
typedef struct ds_worker_status {
    uint64_t seq; /* increments on every publish */
    ds_worker_state state;
    ds_phase phase;
    int64_t step;      /* optimiser steps done */
    int64_t max_steps; /* 0: unbounded */
    double loss, loss_smoothed, lr, grad_norm;
    double it_per_s, eta_s; /* eta_s < 0: unknown */
    double elapsed_s;
    int64_t samples_seen;
    int nan_skips_in_row, nan_skips_total;
    int64_t last_checkpoint_step;
    int64_t last_demo_step;
    double last_demo_seconds;
    int demos_pending; /* renders waiting in ds_worker_take_demo */
    char device[96];
    char run_dir[DS_PATH_LEN];
    char message[512]; /* the last error (FAILED) or notable event */
} ds_worker_status;

#define DS_LOSS_BUCKETS_MAX 10

typedef struct ds_metric_point {
    int64_t step;
    float loss, lr, grad_norm;
    float bucket_loss[DS_LOSS_BUCKETS_MAX]; /* NaN where a bucket had no items */
    double time_s; /* since the run started (resumed runs continue their clock) */
} ds_metric_point;

typedef struct ds_log_line {
    uint64_t seq;
    ds_log_level level;
    char text[256];
} ds_log_line;

/* A finished demo render, owned by whoever takes it. data is planar [channels][frames]. */
typedef struct ds_demo {
    int64_t step;
    double cfg_scale;
    int index;         /* demo index within the render; -1 for the concatenated file */
    char cond[512];    /* its conditioning, as JSON text */
    char path[DS_PATH_LEN];
    int channels, sample_rate;
    int64_t frames;
    float *data;
    double seconds;    /* render time */
} ds_demo;

void ds_demo_free(ds_demo *d);

ds_status ds_worker_create(ds_worker **out, ds_err *err);
/* Stops any run (saving a checkpoint), joins the thread, frees everything. */
void ds_worker_destroy(ds_worker *w);

/* Readable after every publish; read it empty with ds_worker_clear_wake(). */
int ds_worker_wake_fd(const ds_worker *w);
void ds_worker_clear_wake(ds_worker *w);

/* Commands (non-blocking). start fails only on an obviously bad spec or a run in progress;
 * everything else is reported through the status (state FAILED + message). */
ds_status ds_worker_start(ds_worker *w, const ds_run_spec *spec, ds_err *err);
void ds_worker_pause(ds_worker *w);
void ds_worker_resume(ds_worker *w);
/* Stops after the current step (or denoising step), saves a checkpoint, finishes. */
void ds_worker_stop(ds_worker *w);
/* Stops as soon as possible without saving (second Ctrl-C). */
void ds_worker_abort(ds_worker *w);
void ds_worker_save_now(ds_worker *w);
void ds_worker_demo_now(ds_worker *w);

void ds_worker_snapshot(ds_worker *w, ds_worker_status *out);
/* Copies metric points with index >= from into out (at most max); returns how many.
 * ds_worker_metric_count gives the total so far. */
int64_t ds_worker_metric_count(ds_worker *w);
int64_t ds_worker_metrics(ds_worker *w, int64_t from, ds_metric_point *out, int64_t max);
/* Log lines with seq > after (at most max); returns how many. */
int ds_worker_log(ds_worker *w, uint64_t after, ds_log_line *out, int max);
/* Takes the oldest finished demo (ownership passes to the caller), or NULL. */
ds_demo *ds_worker_take_demo(ds_worker *w);

/* Blocks until the worker is FINISHED or FAILED (headless runs). */
void ds_worker_wait(ds_worker *w);

#endif
