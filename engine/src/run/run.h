/* A training run on the worker thread (run.c), and the worker-side half of the worker
 * API (worker.c) it publishes through. */
#ifndef DS_RUN_H
#define DS_RUN_H

#include <stdatomic.h>

#include "engine/worker.h"

typedef struct ds_worker_cmds {
    bool stop, abort_, save, demo, paused;
} ds_worker_cmds;

/* Runs spec to completion on the calling (worker) thread. */
void ds_run_main(ds_worker *w, const ds_run_spec *spec);

/* Worker-side publishing; each wakes the controller. */
void ds_worker_publish(ds_worker *w, const ds_worker_status *st);
void ds_worker_log_line(ds_worker *w, ds_log_level level, const char *text);
void ds_worker_add_metric(ds_worker *w, const ds_metric_point *p);
void ds_worker_add_demo(ds_worker *w, ds_demo *d);
void ds_worker_poke(ds_worker *w);
/* Consumes pending commands; blocks while paused. */
ds_worker_cmds ds_worker_take_cmds(ds_worker *w, ds_worker_status *st);
bool ds_worker_should_abort(ds_worker *w);
/* Nonzero once stop or abort was requested (long operations poll it between steps). */
const atomic_int *ds_worker_cancel_flag(ds_worker *w);

#endif
