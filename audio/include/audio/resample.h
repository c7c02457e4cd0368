/* audio/: sample-rate conversion (libsamplerate) and SAT's channel forcing.
 *
 * Resampling: SAT resamples with torchaudio's windowed-sinc `Resample` (Hann-windowed
 * sinc, lowpass_filter_width 6, rolloff 0.99); libsamplerate's band-limited sinc
 * converters are a different filter, so output cannot match SAT bit for bit, only in
 * spectrum (both pass the band below ~0.99·Nyquist of the lower rate). What does match is
 * the length: ceil(frames · to / from), torchaudio's rule, which keeps seconds_total and
 * padding masks identical to SAT's.
 *
 * Pure functions of their inputs; any thread. */
#ifndef AUDIO_RESAMPLE_H
#define AUDIO_RESAMPLE_H

#include "audio/file.h"
#include "audio/status.h"

#include <stdint.h>

typedef enum audio_resample_quality {
    AUDIO_RESAMPLE_BEST = 0,   /* SRC_SINC_BEST_QUALITY: 97 dB SNR, 97% bandwidth */
    AUDIO_RESAMPLE_MEDIUM = 1, /* SRC_SINC_MEDIUM_QUALITY: 97 dB SNR, 90% bandwidth */
    AUDIO_RESAMPLE_FAST = 2,   /* SRC_SINC_FASTEST: 97 dB SNR, 80% bandwidth */
} audio_resample_quality;

/* The dataset's default (see the measurements in audio/README.md). */
#define AUDIO_RESAMPLE_DEFAULT AUDIO_RESAMPLE_MEDIUM

/* "best", "medium", "fast"; parse returns -1 for anything else. */
const char *audio_resample_quality_str(audio_resample_quality q);
int audio_resample_quality_parse(const char *s);

/* ceil(frames · to / from): torchaudio's output length. */
int64_t audio_resampled_length(int64_t frames, int from, int to);

/* *out = in converted to `rate` (caller owns; audio_clip_free). Same channel count; length
 * audio_resampled_length(). rate == in->rate copies. Ratio must lie in [1/256, 256]. */
audio_status audio_resample(const audio_clip *in, int rate, audio_resample_quality q, audio_clip *out,
                            audio_err *err);

/* SAT's channel forcing on planar buffers, in [cin][n] → out [cout][n] (distinct buffers):
 *   cout == 1: the mean over input channels (SAT `Mono`);
 *   cout == 2: mono duplicated, stereo copied, > 2 channels truncated to the first two
 *              (SAT `Stereo`).
 * Other cout: AUDIO_ERR_INVALID (SAT only forces mono or stereo). */
audio_status audio_channels_force(const float *in, int cin, float *out, int cout, int64_t n,
                                  audio_err *err);

/* Clip form of audio_channels_force: *out is a new clip (caller owns). */
audio_status audio_clip_force_channels(const audio_clip *in, int channels, audio_clip *out, audio_err *err);

#endif
