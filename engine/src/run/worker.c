/* DESIGN
 * Threads: the controlling thread (UI main thread or headless loop) and one worker thread
 * per run. The worker thread owns the model, trainer, data source and run files; nothing
 * else touches them.
 * Shared state lives in struct ds_worker under `mu`: the command flags (written by the
 * controller, consumed by the worker), the published status, the metric history, the log
 * ring and the queue of finished demos (written by the worker, copied out by the
 * controller). Lock order: only `mu`; no callback is called with `mu` held.
 * Wake-up: after every publish the worker writes one byte to a non-blocking pipe; the
 * controller polls the read end and drains it with ds_worker_clear_wake().
 * Cancellation is cooperative: the worker checks the flags between training steps (and
 * a paused worker sleeps on `cv`). stop → save a checkpoint, then FINISHED; abort → leave
 * at once without saving. */
#include "engine/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "ops/ops.h"
#include "run/run.h"

#define LOG_RING 512

struct ds_worker {
    pthread_t thread;
    bool thread_live;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wake[2];
    /* commands: written by the controller, consumed by the worker (under mu) */
    bool pause, stop, abort_, save_now, demo_now;
    /* published by the worker (under mu) */
    ds_worker_status st;
    ds_metric_point *hist;
    int64_t n_hist, cap_hist;
    ds_log_line ring[LOG_RING];
    uint64_t log_seq;
    ds_demo **demos;
    int n_demos, cap_demos;
    /* set by stop/abort, read by long operations (demo renders) between their steps */
    atomic_int cancel;
    /* worker-thread only */
    ds_run_spec *spec;
};

const char *ds_worker_state_str(ds_worker_state s) {
    static const char *n[] = {"idle", "starting", "running", "paused", "stopping", "finished", "failed"};
    return (unsigned)s < sizeof n / sizeof *n ? n[s] : "?";
}

const char *ds_phase_str(ds_phase p) {
    static const char *n[] = {"", "loading data", "planning", "training", "rendering demos", "saving"};
    return (unsigned)p < sizeof n / sizeof *n ? n[p] : "?";
}

void ds_demo_free(ds_demo *d) {
    if (!d) return;
    free(d->data);
    free(d);
}

ds_status ds_worker_create(ds_worker **out, ds_err *err) {
    ds_worker *w = calloc(1, sizeof *w);
    if (!w) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pipe(w->wake) != 0) {
        free(w);
        return ds_err_set(err, DS_ERR_IO, "cannot create the worker's wake pipe: %s", strerror(errno));
    }
    for (int i = 0; i < 2; i++) {
        fcntl(w->wake[i], F_SETFL, fcntl(w->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(w->wake[i], F_SETFD, FD_CLOEXEC);
    }
    w->st.state = DS_STATE_IDLE;
    *out = w;
    return DS_OK;
}

int ds_worker_wake_fd(const ds_worker *w) { return w->wake[0]; }

void ds_worker_clear_wake(ds_worker *w) {
    char buf[256];
    while (read(w->wake[0], buf, sizeof buf) > 0) {
    }
}

/* ---- worker-side publishing (called on the worker thread) ---- */

void ds_worker_poke(ds_worker *w) {
    char c = 1;
    ssize_t r = write(w->wake[1], &c, 1); /* a full pipe already wakes the reader */
    (void)r;
}

void ds_worker_publish(ds_worker *w, const ds_worker_status *st) {
    pthread_mutex_lock(&w->mu);
    uint64_t seq = w->st.seq + 1;
    int pending = w->n_demos;
    w->st = *st;
    w->st.seq = seq;
    w->st.demos_pending = pending;
    pthread_mutex_unlock(&w->mu);
    ds_worker_poke(w);
}

void ds_worker_log_line(ds_worker *w, ds_log_level level, const char *text) {
    pthread_mutex_lock(&w->mu);
    ds_log_line *l = &w->ring[w->log_seq % LOG_RING];
    l->seq = ++w->log_seq;
    l->level = level;
    snprintf(l->text, sizeof l->text, "%s", text);
    pthread_mutex_unlock(&w->mu);
    ds_worker_poke(w);
}

void ds_worker_add_metric(ds_worker *w, const ds_metric_point *p) {
    pthread_mutex_lock(&w->mu);
    if (w->n_hist == w->cap_hist) {
        int64_t cap = w->cap_hist ? 2 * w->cap_hist : 4096;
        ds_metric_point *n = realloc(w->hist, (size_t)cap * sizeof *n);
        if (n) {
            w->hist = n;
            w->cap_hist = cap;
        }
    }
    if (w->n_hist < w->cap_hist) w->hist[w->n_hist++] = *p;
    pthread_mutex_unlock(&w->mu);
}

void ds_worker_add_demo(ds_worker *w, ds_demo *d) {
    pthread_mutex_lock(&w->mu);
    if (w->n_demos == w->cap_demos) {
        int cap = w->cap_demos ? 2 * w->cap_demos : 16;
        ds_demo **n = realloc(w->demos, (size_t)cap * sizeof *n);
        if (n) {
            w->demos = n;
            w->cap_demos = cap;
        }
    }
    if (w->n_demos < w->cap_demos)
        w->demos[w->n_demos++] = d;
    else
        ds_demo_free(d);
    w->st.demos_pending = w->n_demos;
    pthread_mutex_unlock(&w->mu);
    ds_worker_poke(w);
}

/* Takes the pending commands; blocks while paused (publishing the paused state). */
ds_worker_cmds ds_worker_take_cmds(ds_worker *w, ds_worker_status *st) {
    ds_worker_cmds c = {0};
    pthread_mutex_lock(&w->mu);
    if (w->pause && !w->stop && !w->abort_) {
        ds_worker_state prev = st->state;
        st->state = DS_STATE_PAUSED;
        w->st.state = DS_STATE_PAUSED;
        w->st.seq++;
        pthread_mutex_unlock(&w->mu);
        ds_worker_poke(w);
        pthread_mutex_lock(&w->mu);
        while (w->pause && !w->stop && !w->abort_ && !w->save_now && !w->demo_now) pthread_cond_wait(&w->cv, &w->mu);
        st->state = prev;
    }
    c.stop = w->stop;
    c.abort_ = w->abort_;
    c.save = w->save_now;
    c.demo = w->demo_now;
    c.paused = w->pause;
    w->save_now = w->demo_now = false;
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* ---- controller side ---- */

static void *thread_main(void *arg) {
    ds_worker *w = arg;
    ds_run_main(w, w->spec);
    return NULL;
}

ds_status ds_worker_start(ds_worker *w, const ds_run_spec *spec, ds_err *err) {
    pthread_mutex_lock(&w->mu);
    ds_worker_state s = w->st.state;
    pthread_mutex_unlock(&w->mu);
    if (s == DS_STATE_STARTING || s == DS_STATE_RUNNING || s == DS_STATE_PAUSED || s == DS_STATE_STOPPING)
        return ds_err_set(err, DS_ERR_INVALID, "a run is already in progress");
    if (w->thread_live) {
        pthread_join(w->thread, NULL);
        w->thread_live = false;
    }
    if (!spec->io.open_data)
        return ds_err_set(err, DS_ERR_INVALID, "no data source: the caller must provide ds_run_io.open_data");
    free(w->spec);
    w->spec = malloc(sizeof *w->spec);
    if (!w->spec) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    *w->spec = *spec;
    pthread_mutex_lock(&w->mu);
    w->pause = w->stop = w->abort_ = w->save_now = w->demo_now = false;
    atomic_store(&w->cancel, 0);
    w->n_hist = 0;
    memset(&w->st, 0, sizeof w->st);
    w->st.state = DS_STATE_STARTING;
    pthread_mutex_unlock(&w->mu);
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        pthread_mutex_lock(&w->mu);
        w->st.state = DS_STATE_FAILED;
        pthread_mutex_unlock(&w->mu);
        return ds_err_set(err, DS_ERR_INTERNAL, "cannot start the worker thread");
    }
    w->thread_live = true;
    return DS_OK;
}

static void set_flag(ds_worker *w, bool *flag, bool v) {
    pthread_mutex_lock(&w->mu);
    *flag = v;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ds_worker_pause(ds_worker *w) { set_flag(w, &w->pause, true); }
void ds_worker_resume(ds_worker *w) { set_flag(w, &w->pause, false); }
void ds_worker_stop(ds_worker *w) {
    atomic_store(&w->cancel, 1);
    set_flag(w, &w->stop, true);
}
void ds_worker_abort(ds_worker *w) {
    atomic_store(&w->cancel, 1);
    set_flag(w, &w->abort_, true);
}

const atomic_int *ds_worker_cancel_flag(ds_worker *w) { return &w->cancel; }
void ds_worker_save_now(ds_worker *w) { set_flag(w, &w->save_now, true); }
void ds_worker_demo_now(ds_worker *w) { set_flag(w, &w->demo_now, true); }

bool ds_worker_should_abort(ds_worker *w) {
    pthread_mutex_lock(&w->mu);
    bool a = w->abort_;
    pthread_mutex_unlock(&w->mu);
    return a;
}

void ds_worker_snapshot(ds_worker *w, ds_worker_status *out) {
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    out->demos_pending = w->n_demos;
    pthread_mutex_unlock(&w->mu);
}

int64_t ds_worker_metric_count(ds_worker *w) {
    pthread_mutex_lock(&w->mu);
    int64_t n = w->n_hist;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int64_t ds_worker_metrics(ds_worker *w, int64_t from, ds_metric_point *out, int64_t max) {
    pthread_mutex_lock(&w->mu);
    int64_t n = 0;
    for (int64_t i = from; i < w->n_hist && n < max; i++) out[n++] = w->hist[i];
    pthread_mutex_unlock(&w->mu);
    return n;
}

int ds_worker_log(ds_worker *w, uint64_t after, ds_log_line *out, int max) {
    pthread_mutex_lock(&w->mu);
    uint64_t first = w->log_seq > LOG_RING ? w->log_seq - LOG_RING + 1 : 1;
    if (after + 1 > first) first = after + 1;
    int n = 0;
    for (uint64_t s = first; s <= w->log_seq && n < max; s++) out[n++] = w->ring[(s - 1) % LOG_RING];
    pthread_mutex_unlock(&w->mu);
    return n;
}

ds_demo *ds_worker_take_demo(ds_worker *w) {
    pthread_mutex_lock(&w->mu);
    ds_demo *d = NULL;
    if (w->n_demos > 0) {
        d = w->demos[0];
        memmove(w->demos, w->demos + 1, (size_t)(w->n_demos - 1) * sizeof *w->demos);
        w->n_demos--;
        w->st.demos_pending = w->n_demos;
    }
    pthread_mutex_unlock(&w->mu);
    return d;
}

void ds_worker_wait(ds_worker *w) {
    if (w->thread_live) {
        pthread_join(w->thread, NULL);
        w->thread_live = false;
    }
}

void ds_worker_destroy(ds_worker *w) {
    if (!w) return;
    if (w->thread_live) {
        ds_worker_stop(w);
        ds_worker_resume(w);
        pthread_join(w->thread, NULL);
    }
    for (int i = 0; i < w->n_demos; i++) ds_demo_free(w->demos[i]);
    free(w->demos);
    free(w->hist);
    free(w->spec);
    close(w->wake[0]);
    close(w->wake[1]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
