/* audio/: sound files, resampling, datasets and playback. Knows nothing of models. */
#ifndef AUDIO_AUDIO_H
#define AUDIO_AUDIO_H

const char *audio_version(void);

#endif
