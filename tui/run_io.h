/* The studio's services for a training run (engine/worker.h ds_run_io): the dataset and
 * its loader thread from audio/, and WAV writing. The engine never sees audio/. */
#ifndef UI_RUN_IO_H
#define UI_RUN_IO_H

#include "engine/worker.h"

typedef struct ui_run_io_opts {
    int workers;         /* decode threads (0: the loader's default) */
    int64_t cache_bytes; /* decoded-audio cache budget (0: no cache, each crop read alone; < 0: audio's default) */
} ui_run_io_opts;

/* io.user points at a static copy of opts: one configuration per process. */
ds_run_io ui_run_io(const ui_run_io_opts *opts);

/* Routes audio/'s log lines into the engine's log callback. */
void ui_route_audio_log(void);

#endif
