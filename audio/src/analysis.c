/* Analysis helpers. The FFT is a plain iterative radix-2 (none of the project's
 * dependencies ships one); sizes here are small (≤ 64k), so clarity wins over speed. */
#include "audio/analysis.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t audio_frames(int64_t n, int win, int hop) {
    if (win <= 0 || hop <= 0) return 0;
    if (n <= win) return 1;
    return 1 + (n - win + hop - 1) / hop;
}

void audio_envelope_minmax(const float *x, int64_t n, int cols, float *mins, float *maxs) {
    for (int k = 0; k < cols; k++) {
        if (n <= 0) {
            mins[k] = maxs[k] = 0.0f;
            continue;
        }
        int64_t a = (int64_t)k * n / cols, b = (int64_t)(k + 1) * n / cols;
        if (b <= a) b = a + 1;
        if (a >= n) a = n - 1, b = n;
        float lo = x[a], hi = x[a];
        for (int64_t i = a + 1; i < b; i++) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
        mins[k] = lo;
        maxs[k] = hi;
    }
}

/* ---- FFT ---------------------------------------------------------------------------------- */

typedef struct {
    int n, log2n;
    float *cos_t, *sin_t; /* [n/2] twiddles e^{-2πik/n} */
    float *re, *im;       /* [n] work */
    float *window;        /* [n] periodic Hann */
    double wsum;
} fft_plan;

static void plan_free(fft_plan *p) {
    free(p->cos_t);
    free(p->sin_t);
    free(p->re);
    free(p->im);
    free(p->window);
}

static int plan_init(fft_plan *p, int n) {
    memset(p, 0, sizeof *p);
    if (n < 16 || n > 65536 || (n & (n - 1))) return -1;
    p->n = n;
    while ((1 << p->log2n) < n) p->log2n++;
    p->cos_t = malloc((size_t)n / 2 * sizeof(float));
    p->sin_t = malloc((size_t)n / 2 * sizeof(float));
    p->re = malloc((size_t)n * sizeof(float));
    p->im = malloc((size_t)n * sizeof(float));
    p->window = malloc((size_t)n * sizeof(float));
    if (!p->cos_t || !p->sin_t || !p->re || !p->im || !p->window) {
        plan_free(p);
        return -2;
    }
    for (int k = 0; k < n / 2; k++) {
        p->cos_t[k] = (float)cos(2 * M_PI * k / n);
        p->sin_t[k] = (float)-sin(2 * M_PI * k / n);
    }
    /* periodic Hann, as torch.hann_window(n) */
    for (int i = 0; i < n; i++) {
        p->window[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / n));
        p->wsum += p->window[i];
    }
    return 0;
}

/* In-place forward DFT of (re, im): bit-reversal permutation, then log2(n) butterfly passes. */
static void fft(fft_plan *p) {
    int n = p->n;
    float *re = p->re, *im = p->im;
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j |= bit;
        if (i < j) {
            float t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        int half = len >> 1, step = n / len;
        for (int s = 0; s < n; s += len)
            for (int k = 0; k < half; k++) {
                float wr = p->cos_t[k * step], wi = p->sin_t[k * step];
                int a = s + k, b = a + half;
                float xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
    }
}

/* Windowed frame f of x into the plan, transformed. */
static void frame_fft(fft_plan *p, const float *x, int64_t n, int64_t start) {
    for (int i = 0; i < p->n; i++) {
        int64_t j = start + i;
        p->re[i] = j < n ? x[j] * p->window[i] : 0.0f;
        p->im[i] = 0.0f;
    }
    fft(p);
}

audio_status audio_spectrogram(const float *x, int64_t n, int fft_size, int hop, float *out, audio_err *err) {
    if (hop < 1) return audio_err_set(err, AUDIO_ERR_INVALID, "spectrogram: hop must be ≥ 1, got %d", hop);
    fft_plan p;
    int rc = plan_init(&p, fft_size);
    if (rc == -1)
        return audio_err_set(err, AUDIO_ERR_INVALID, "spectrogram: fft_size %d is not a power of two in 16..65536",
                             fft_size);
    if (rc) return audio_err_set(err, AUDIO_ERR_NOMEM, "spectrogram: out of memory");
    int bins = fft_size / 2 + 1;
    int64_t frames = audio_frames(n, fft_size, hop);
    float scale = (float)(2.0 / p.wsum);
    for (int64_t f = 0; f < frames; f++) {
        frame_fft(&p, x, n, f * hop);
        float *o = out + f * bins;
        for (int k = 0; k < bins; k++) {
            float mag = hypotf(p.re[k], p.im[k]) * scale;
            o[k] = 20.0f * log10f(mag > 1e-10f ? mag : 1e-10f);
        }
    }
    plan_free(&p);
    return AUDIO_OK;
}

double audio_spectral_centroid(const float *x, int64_t n, int rate, int fft_size, int hop) {
    fft_plan p;
    if (rate <= 0 || hop < 1 || plan_init(&p, fft_size)) return 0.0;
    double num = 0, den = 0;
    int64_t frames = audio_frames(n, fft_size, hop);
    for (int64_t f = 0; f < frames; f++) {
        frame_fft(&p, x, n, f * hop);
        for (int k = 0; k <= fft_size / 2; k++) {
            double mag = hypot(p.re[k], p.im[k]);
            num += mag * k * (double)rate / fft_size;
            den += mag;
        }
    }
    plan_free(&p);
    return den > 0 ? num / den : 0.0;
}

void audio_rms_envelope(const float *x, int64_t n, int win, int hop, float *out) {
    int64_t frames = audio_frames(n, win, hop);
    for (int64_t f = 0; f < frames; f++) {
        double s = 0;
        for (int64_t i = f * hop; i < f * hop + win && i < n; i++) s += (double)x[i] * x[i];
        out[f] = (float)sqrt(s / win);
    }
}

double audio_decay_time(const float *x, int64_t n, int rate, double drop_db) {
    int win = (int)lround(0.010 * rate), hop = win / 4 > 0 ? win / 4 : 1;
    if (win < 1 || n < win) return 0.0;
    int64_t frames = audio_frames(n, win, hop);
    float *env = malloc((size_t)frames * sizeof *env);
    if (!env) return 0.0;
    audio_rms_envelope(x, n, win, hop, env);
    int64_t peak = 0;
    for (int64_t f = 1; f < frames; f++)
        if (env[f] > env[peak]) peak = f;
    double result = -1.0;
    if (env[peak] <= 0) {
        result = 0.0;
    } else {
        float floor_level = env[peak] * (float)pow(10.0, -drop_db / 20.0);
        for (int64_t f = peak + 1; f < frames; f++)
            if (env[f] <= floor_level) {
                result = (double)(f - peak) * hop / rate;
                break;
            }
    }
    free(env);
    return result;
}
