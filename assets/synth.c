#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const ex_class EX_CLASSES[EX_N_CLASSES] = {
    {"kick", "pitch-swept sine with a click"},
    {"snare", "tone plus noise burst"},
    {"hihat", "short high-passed noise"},
    {"pluck_low", "plucked string near 110 Hz"},
    {"pluck_mid", "plucked string near 220 Hz"},
    {"pluck_high", "plucked string near 440 Hz"},
};

/* splitmix64 stream: tiny, seedable, identical everywhere */
typedef struct rng {
    uint64_t s;
} rng;
static uint64_t next(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(rng *r) { return (double)(next(r) >> 11) / 9007199254740992.0; }
static double between(rng *r, double a, double b) { return a + (b - a) * unif(r); }
static double noise(rng *r) { return 2.0 * unif(r) - 1.0; }

static void normalise(float *x, int64_t n, float peak) {
    float m = 0;
    for (int64_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    if (m > 0)
        for (int64_t i = 0; i < n; i++) x[i] *= peak / m;
}

static void kick(rng *r, int rate, float *out, int64_t n) {
    double f0 = between(r, 130, 170), f1 = between(r, 40, 55), sweep = between(r, 0.03, 0.06);
    double decay = between(r, 0.25, 0.45), ph = 0;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double f = f1 + (f0 - f1) * exp(-t / sweep);
        ph += 2 * M_PI * f / rate;
        double click = t < 0.004 ? noise(r) * (1 - t / 0.004) * 0.5 : 0;
        out[i] = (float)(sin(ph) * exp(-t / decay) + click);
    }
}

static void snare(rng *r, int rate, float *out, int64_t n) {
    double f = between(r, 175, 210), decay = between(r, 0.10, 0.20), tone_decay = decay * 0.5;
    double lp = 0, hp_prev = 0, hp = 0, mix = between(r, 0.6, 0.8);
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double w = noise(r);
        lp += 0.35 * (w - lp);           /* soften the top */
        hp = 0.9 * (hp + lp - hp_prev);  /* remove rumble */
        hp_prev = lp;
        double body = sin(2 * M_PI * f * t) * exp(-t / tone_decay);
        out[i] = (float)((mix * hp * 2.0 + (1 - mix) * body) * exp(-t / decay));
    }
}

static void hihat(rng *r, int rate, float *out, int64_t n) {
    double decay = between(r, 0.03, 0.07), prev = 0, y = 0;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        double w = noise(r);
        y = 0.6 * (y + w - prev); /* first-order high-pass */
        prev = w;
        out[i] = (float)(y * exp(-t / decay));
    }
}

static void pluck(rng *r, int rate, double base, float *out, int64_t n) {
    double f = base * pow(2.0, between(r, -1.0, 1.0) / 12.0); /* ±1 semitone */
    int L = (int)(rate / f + 0.5);
    if (L < 2) L = 2;
    float *line = malloc((size_t)L * sizeof *line);
    if (!line) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    for (int i = 0; i < L; i++) line[i] = (float)noise(r);
    double damp = between(r, 0.994, 0.998);
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        int k1 = (k + 1) % L;
        float v = line[k];
        line[k] = (float)(damp * 0.5 * (line[k] + line[k1]));
        out[i] = v;
        k = k1;
    }
    free(line);
}

void ex_render(int cls, int index, uint64_t seed, int rate, float *out, int64_t frames) {
    rng r = {seed * 1000003ull + (uint64_t)cls * 7919ull + (uint64_t)index * 104729ull};
    next(&r);
    switch (cls) {
    case 0: kick(&r, rate, out, frames); break;
    case 1: snare(&r, rate, out, frames); break;
    case 2: hihat(&r, rate, out, frames); break;
    case 3: pluck(&r, rate, 110.0, out, frames); break;
    case 4: pluck(&r, rate, 220.0, out, frames); break;
    default: pluck(&r, rate, 440.0, out, frames); break;
    }
    /* a short fade-in avoids a click on the first sample */
    for (int64_t i = 0; i < frames && i < 16; i++) out[i] *= (float)i / 16.0f;
    normalise(out, frames, 0.9f * (float)between(&r, 0.7, 1.0));
}
