/* audio/: small analysis helpers for the demo view and the drum benchmark: waveform
 * envelopes per screen column, a log-magnitude spectrogram (Hann window, radix-2 FFT),
 * spectral centroid, RMS envelope and decay time.
 *
 * All take one channel (mix down first if needed), are pure and thread-safe, and write into
 * caller-owned arrays whose sizes the *_frames helpers give. Frame k of a framed analysis
 * covers samples [k·hop, k·hop + win), zero-padded past the end; there are
 * audio_frames(n, win, hop) = 1 + ceil(max(0, n − win) / hop) frames (no centring). */
#ifndef AUDIO_ANALYSIS_H
#define AUDIO_ANALYSIS_H

#include "audio/status.h"

#include <stdint.h>

int64_t audio_frames(int64_t n, int win, int hop);

/* Column k of `cols` covers samples [floor(k·n/cols), floor((k+1)·n/cols)), at least one
 * sample (when n < cols neighbouring columns share one). mins/maxs: [cols]. n = 0 gives 0s. */
void audio_envelope_minmax(const float *x, int64_t n, int cols, float *mins, float *maxs);

/* out[frames][fft_size/2 + 1]: 20·log10(max(|X_k| · 2 / Σw, 1e-10)) in dB, so a full-scale
 * sine centred on a bin reads 0 dB (DC and Nyquist read 6 dB high; irrelevant for display).
 * fft_size: a power of two in [16, 65536]; hop ≥ 1. */
audio_status audio_spectrogram(const float *x, int64_t n, int fft_size, int hop, float *out, audio_err *err);

/* Magnitude-weighted mean frequency in Hz, pooled over all frames of a Hann-windowed STFT
 * (Σ_frames Σ_k f_k·|X_k| / Σ_frames Σ_k |X_k|); 0 for silence. */
double audio_spectral_centroid(const float *x, int64_t n, int rate, int fft_size, int hop);

/* out[audio_frames(n, win, hop)]: sqrt(mean(x²)) over each frame (zero padding counts). */
void audio_rms_envelope(const float *x, int64_t n, int win, int hop, float *out);

/* Decay time in seconds: from the loudest frame of a 10 ms RMS envelope (hop 2.5 ms) to the
 * first later frame at least drop_db below it (e.g. 20 dB: "T20", a drum hit's length).
 * −1 when the level never drops that far before the end (a sustained sound); 0 for
 * silence or clips shorter than one window. */
double audio_decay_time(const float *x, int64_t n, int rate, double drop_db);

#endif
