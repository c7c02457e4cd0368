/* audio/: sound files, resampling, datasets, playback and analysis. Knows nothing of
 * models: the engine receives batches through its own interface, wired by the caller.
 * This umbrella header includes every public audio header. */
#ifndef AUDIO_AUDIO_H
#define AUDIO_AUDIO_H

#include "audio/status.h"
#include "audio/file.h"
#include "audio/resample.h"
#include "audio/dataset.h"
#include "audio/player.h"
#include "audio/analysis.h"

/* libsndfile's version string, e.g. "libsndfile-1.2.0". */
const char *audio_version(void);

#endif
