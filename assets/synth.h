/* The bundled example dataset: short one-shot sounds in clearly different classes,
 * synthesised in C from a seed (so every machine makes the same files; nothing large is
 * stored in the repository). Pure functions: samples out, no I/O.
 *   kick   pitch-swept sine (≈150 → 45 Hz) with a click, ~0.35 s decay
 *   snare  a 180-200 Hz tone plus band-limited noise, ~0.15 s decay
 *   hihat  high-passed noise, ~0.05 s decay
 *   pluck_low / pluck_mid / pluck_high  Karplus-Strong strings near 110 / 220 / 440 Hz */
#ifndef DS_ASSETS_SYNTH_H
#define DS_ASSETS_SYNTH_H

#include <stdint.h>

#define EX_N_CLASSES 6

/* The bundled example's data (configs/example.json trains on it): what `make run` and a bare
 * `diffstudio` create, and `diffstudio example-data` writes by default. */
#define EX_DEFAULT_DIR ".cache/example-data"
#define EX_DEFAULT_PER_CLASS 48
#define EX_DEFAULT_SEED 1
#define EX_DEFAULT_RATE 16000
#define EX_DEFAULT_SECONDS 0.256 /* 4096 samples: the model's sample_size, so no clip is cropped */

typedef struct ex_class {
    const char *name;   /* the prompt */
    const char *description;
} ex_class;

extern const ex_class EX_CLASSES[EX_N_CLASSES];

/* Renders variation `index` of class `cls` into out[frames] (mono, peak ≈ 0.9) at `rate`.
 * Deterministic in (seed, cls, index). */
void ex_render(int cls, int index, uint64_t seed, int rate, float *out, int64_t frames);

#endif
