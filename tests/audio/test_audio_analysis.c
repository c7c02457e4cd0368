/* Analysis helpers: column envelopes, the FFT against a naive DFT, spectrogram levels and
 * frame counts, spectral centroid, RMS envelope and decay time on synthetic drums. */
#include "atest.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_envelope(void) {
    float x[1000], mn[10], mx[10];
    for (int i = 0; i < 1000; i++) x[i] = (float)i;
    audio_envelope_minmax(x, 1000, 10, mn, mx);
    int bad = 0;
    for (int k = 0; k < 10; k++) bad += mn[k] != k * 100 || mx[k] != k * 100 + 99;
    CHECK(bad == 0);
    float y[3] = {-1, 2, -3}, a[6], b[6];
    audio_envelope_minmax(y, 3, 6, a, b); /* fewer samples than columns */
    CHECK(a[0] == -1 && b[1] == -1 && a[2] == 2 && a[5] == -3 && b[5] == -3);
    audio_envelope_minmax(y, 0, 2, a, b);
    CHECK(a[0] == 0 && b[1] == 0);
}

static void test_spectrogram(void) {
    enum { N = 1024, RATE = 16000 };
    CHECK(audio_frames(100, 1024, 256) == 1 && audio_frames(1024, 1024, 256) == 1);
    CHECK(audio_frames(1025, 1024, 256) == 2 && audio_frames(1024 + 512, 1024, 256) == 3);
    /* a full-scale sine on bin 32 reads 0 dB there and far below elsewhere */
    int64_t n = 8192;
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)sin(2 * M_PI * 32.0 * (double)i / N);
    int64_t frames = audio_frames(n, N, 512);
    CHECK(frames == 15);
    float *s = malloc((size_t)frames * (N / 2 + 1) * sizeof *s);
    audio_err e;
    CHECK(audio_spectrogram(x, n, N, 512, s, &e) == AUDIO_OK);
    float *f0 = s + 3 * (N / 2 + 1);
    CHECKF(fabsf(f0[32]) < 0.05f, "bin 32 at %g dB", f0[32]);
    CHECKF(f0[31] < -5.0f && f0[33] < -5.0f && f0[100] < -80.0f && f0[300] < -80.0f, "%g %g %g", f0[31], f0[100],
           f0[300]);
    CHECK(audio_spectrogram(x, n, 1000, 512, s, &e) == AUDIO_ERR_INVALID && strstr(e.msg, "power of two"));
    CHECK(audio_spectrogram(x, n, 1024, 0, s, &e) == AUDIO_ERR_INVALID);
    /* centroid of a 1 kHz sine is 1 kHz; white noise sits near rate/4 */
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * (float)sin(2 * M_PI * 1000.0 * (double)i / RATE);
    double c = audio_spectral_centroid(x, n, RATE, 1024, 256);
    CHECKF(fabs(c - 1000) < 15, "centroid %g", c);
    tu_fill(x, n, 3);
    c = audio_spectral_centroid(x, n, RATE, 1024, 256);
    CHECKF(fabs(c - RATE / 4.0) < RATE * 0.03, "noise centroid %g", c);
    for (int64_t i = 0; i < n; i++) x[i] = 0;
    CHECK(audio_spectral_centroid(x, n, RATE, 1024, 256) == 0.0);
    free(s);
    free(x);
}

/* The FFT inside the spectrogram against a direct DFT of a random frame (rectangular
 * comparison through the Hann-windowed magnitudes). */
static void test_fft_vs_dft(void) {
    enum { N = 64 };
    float x[N], s[N / 2 + 1];
    tu_fill(x, N, 9);
    audio_err e;
    CHECK(audio_spectrogram(x, N, N, N, s, &e) == AUDIO_OK);
    double wsum = 0, worst = 0;
    for (int i = 0; i < N; i++) wsum += 0.5 - 0.5 * cos(2 * M_PI * i / N);
    for (int k = 0; k <= N / 2; k++) {
        double re = 0, im = 0;
        for (int i = 0; i < N; i++) {
            double w = 0.5 - 0.5 * cos(2 * M_PI * i / N);
            re += w * x[i] * cos(2 * M_PI * k * i / N);
            im -= w * x[i] * sin(2 * M_PI * k * i / N);
        }
        double db = 20 * log10(fmax(hypot(re, im) * 2 / wsum, 1e-10));
        worst = fmax(worst, fabs(db - s[k]));
    }
    CHECKF(worst < 1e-3, "FFT vs DFT: %g dB", worst);
}

static void test_rms_and_decay(void) {
    enum { RATE = 44100 };
    int64_t n = RATE; /* 1 s */
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f;
    float env[64];
    audio_rms_envelope(x, 4410, 441, 441, env);
    CHECK(fabsf(env[0] - 0.5f) < 1e-6f && fabsf(env[9] - 0.5f) < 1e-6f);
    for (int64_t i = 0; i < n; i++) x[i] = 0.8f * (float)sin(2 * M_PI * 100.0 * (double)i / RATE);
    audio_rms_envelope(x, n, 4410, 4410, env);
    CHECKF(fabsf(env[3] - 0.8f / sqrtf(2)) < 1e-3f, "sine RMS %g", env[3]);
    /* a sustained tone never decays by 20 dB */
    CHECK(audio_decay_time(x, n, RATE, 20) == -1.0);
    /* a "kick": 60 Hz sine with exp(-t/τ) envelope, τ = 50 ms → T20 = τ·ln 10 ≈ 115 ms;
     * the 10 ms RMS window smooths the peak, so allow 10 % */
    for (double tau = 0.02; tau <= 0.2; tau *= 2.5) {
        for (int64_t i = 0; i < n; i++) {
            double t = (double)i / RATE;
            x[i] = (float)(exp(-t / tau) * sin(2 * M_PI * 60 * t + 0.3));
        }
        double d = audio_decay_time(x, n, RATE, 20), want = tau * log(10.0);
        CHECKF(fabs(d - want) < 0.1 * want + 0.005, "tau %g: decay %g s, want %g s", tau, d, want);
    }
    for (int64_t i = 0; i < n; i++) x[i] = 0;
    CHECK(audio_decay_time(x, n, RATE, 20) == 0.0);
    free(x);
}

int main(void) {
    test_envelope();
    test_spectrogram();
    test_fft_vs_dft();
    test_rms_and_decay();
    at_cleanup();
    return tu_finish("test_audio_analysis");
}
