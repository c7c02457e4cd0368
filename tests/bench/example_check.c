/* The objective check of the bundled example (README, "The first five minutes"): do the
 * model's renders sound like the classes they were asked for?
 *
 * Every clip is described by what an ear uses to tell these classes apart: its long-term
 * spectrum (mean dB in 24 log-spaced bands from 40 Hz to Nyquist: pitch and brightness) and
 * its loudness contour (RMS in dB below the peak over 8 equal segments: attack and decay).
 * Both are taken relative to their loudest value and floored RANGE_DB below it, as an ear
 * attends to the loudest part of a sound: a faint hiss 40 dB under a kick does not make it
 * a hi-hat, while a kick with the wrong pitch or a snare that never decays stays wrong.
 * Features are standardised by their spread over the training clips; each class's template
 * is its mean. A render is assigned to the nearest template. A class is "recognisable" when
 * most of its renders land on it. The table also shows spectral centroid and T20 decay as
 * readable summaries. Exits 0 if every class is recognisable.
 *
 * usage: example_check DATA_DIR RENDER_DIR
 *   DATA_DIR:   the training clips (<class>_NNN.wav)
 *   RENDER_DIR: renders named <class>_*.wav (diffstudio sample --prompt CLASS --out …) */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "synth.h"

#define NB 24 /* spectral bands */
#define NS 8  /* loudness segments */
#define NF (NB + NS)
#define RANGE_DB 30.0

typedef struct acc {
    double sum[NF], sq[NF];
    double cen, dec; /* summaries: sum of centroids, of T20s that ended inside the clip */
    int n_dec;
    int n;
    int hits, total; /* renders of this class and how many classified as it */
} acc;

static int class_of(const char *name) {
    int best = -1;
    size_t bl = 0;
    for (int k = 0; k < EX_N_CLASSES; k++) {
        size_t l = strlen(EX_CLASSES[k].name);
        if (!strncmp(name, EX_CLASSES[k].name, l) && name[l] == '_' && l > bl) best = k, bl = l;
    }
    return best;
}

static bool features(const char *path, double *f, double *cen, double *dec) {
    audio_clip c = {0};
    audio_err e = {0};
    if (audio_file_read(path, &c, &e) != AUDIO_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return false;
    }
    float *mono = calloc((size_t)c.frames, sizeof *mono);
    for (int ch = 0; ch < c.channels; ch++)
        for (int64_t i = 0; i < c.frames; i++) mono[i] += c.data[ch * c.frames + i] / (float)c.channels;
    const int fft = 512, hop = 128, bins = fft / 2 + 1;
    int64_t frames = audio_frames(c.frames, fft, hop);
    float *spec = malloc((size_t)(frames * bins) * sizeof *spec);
    bool ok = spec && audio_spectrogram(mono, c.frames, fft, hop, spec, &e) == AUDIO_OK;
    if (ok) {
        double lo = log(40.0), hi = log(c.rate / 2.0);
        for (int b = 0; b < NB; b++) {
            double f0 = exp(lo + (hi - lo) * b / NB), f1 = exp(lo + (hi - lo) * (b + 1) / NB), s = 0;
            int cnt = 0;
            for (int k = 0; k < bins; k++) {
                double fk = (double)k * c.rate / fft;
                if (fk < f0 || fk >= f1) continue;
                for (int64_t t = 0; t < frames; t++) s += pow(10.0, spec[t * bins + k] / 10.0); /* power */
                cnt++;
            }
            if (!cnt) { /* a band narrower than a bin: take the nearest bin */
                int k = (int)lround(sqrt(f0 * f1) * fft / c.rate);
                for (int64_t t = 0; t < frames; t++) s += pow(10.0, spec[t * bins + k] / 10.0);
                cnt = 1;
            }
            f[b] = 10.0 * log10(s / (double)(cnt * frames) + 1e-12);
        }
        double top = f[0];
        for (int b = 1; b < NB; b++) top = f[b] > top ? f[b] : top;
        for (int b = 0; b < NB; b++) f[b] = f[b] - top < -RANGE_DB ? -RANGE_DB : f[b] - top;
        double peak = 1e-12;
        double seg[NS] = {0};
        for (int s_ = 0; s_ < NS; s_++) {
            int64_t a = c.frames * s_ / NS, z = c.frames * (s_ + 1) / NS;
            double ss = 0;
            for (int64_t i = a; i < z; i++) ss += (double)mono[i] * mono[i];
            seg[s_] = sqrt(ss / (double)(z > a ? z - a : 1));
            if (seg[s_] > peak) peak = seg[s_];
        }
        for (int s_ = 0; s_ < NS; s_++) {
            double db = 20.0 * log10(seg[s_] / peak + 1e-9);
            f[NB + s_] = db < -RANGE_DB ? -RANGE_DB : db;
        }
        *cen = audio_spectral_centroid(mono, c.frames, c.rate, fft, hop);
        *dec = audio_decay_time(mono, c.frames, c.rate, 20.0);
    }
    free(spec);
    free(mono);
    audio_clip_free(&c);
    return ok;
}

static double g_mean[EX_N_CLASSES][NF], g_scale[NF];

static int scan(const char *dir, acc *a, bool renders) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open\n", dir);
        return -1;
    }
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".wav")) continue;
        int k = class_of(de->d_name);
        if (k < 0) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        double f[NF], cen, dec;
        if (!features(path, f, &cen, &dec)) continue;
        n++;
        a[k].cen += cen;
        if (dec >= 0) a[k].dec += dec, a[k].n_dec++;
        if (!renders) {
            for (int j = 0; j < NF; j++) a[k].sum[j] += f[j], a[k].sq[j] += f[j] * f[j];
            a[k].n++;
            continue;
        }
        int best = 0;
        double bd = INFINITY;
        for (int j = 0; j < EX_N_CLASSES; j++) {
            double dist = 0;
            for (int q = 0; q < NF; q++) {
                double z = (f[q] - g_mean[j][q]) / g_scale[q];
                dist += z * z;
            }
            if (dist < bd) bd = dist, best = j;
        }
        a[k].total++;
        a[k].hits += best == k;
        printf("  %-34s centroid %6.0f Hz  T20 %6.3f s  -> %s\n", de->d_name, cen, dec, EX_CLASSES[best].name);
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: example_check DATA_DIR RENDER_DIR\n");
        return 2;
    }
    acc tr[EX_N_CLASSES] = {0}, re[EX_N_CLASSES] = {0};
    if (scan(argv[1], tr, false) <= 0) return 2;
    int total = 0;
    double pooled[NF] = {0};
    for (int k = 0; k < EX_N_CLASSES; k++) {
        if (!tr[k].n) {
            fprintf(stderr, "%s: no training clips of class %s\n", argv[1], EX_CLASSES[k].name);
            return 2;
        }
        for (int q = 0; q < NF; q++) {
            g_mean[k][q] = tr[k].sum[q] / tr[k].n;
            pooled[q] += tr[k].sq[q] - tr[k].n * g_mean[k][q] * g_mean[k][q]; /* within-class scatter */
        }
        total += tr[k].n;
    }
    for (int q = 0; q < NF; q++) g_scale[q] = sqrt(pooled[q] / total) + 1.0; /* +1 dB floor */
    printf("renders:\n");
    if (scan(argv[2], re, true) <= 0) {
        fprintf(stderr, "%s: no renders named <class>_*.wav\n", argv[2]);
        return 2;
    }
    printf("\n%-11s %15s %10s %15s %10s %9s   (T20 > clip: the sound outlasts the clip)\n", "class",
           "train centroid", "train T20", "render centroid", "render T20", "renders");
    int ok = 0;
    for (int k = 0; k < EX_N_CLASSES; k++) {
        bool good = re[k].total > 0 && 2 * re[k].hits > re[k].total;
        ok += good;
        char td[16] = "> clip", rd[16] = "> clip";
        if (tr[k].n_dec * 2 > tr[k].n) snprintf(td, sizeof td, "%.3f s", tr[k].dec / tr[k].n_dec);
        if (re[k].n_dec * 2 > re[k].total) snprintf(rd, sizeof rd, "%.3f s", re[k].dec / re[k].n_dec);
        printf("%-11s %12.0f Hz %10s %12.0f Hz %10s %4d/%-3d %s\n", EX_CLASSES[k].name, tr[k].cen / tr[k].n, td,
               re[k].total ? re[k].cen / re[k].total : 0, rd, re[k].hits, re[k].total,
               good ? "recognisable" : "NOT recognisable");
    }
    printf("%d of %d classes recognisable\n", ok, EX_N_CLASSES);
    return ok == EX_N_CLASSES ? 0 : 1;
}
