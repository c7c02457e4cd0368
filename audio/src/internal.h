/* Private helpers shared by the audio sources: error formatting, logging, the counter-based
 * random numbers of the dataset, and small allocation wrappers. Not installed. */
#ifndef AUDIO_INTERNAL_H
#define AUDIO_INTERNAL_H

#include "audio/status.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIO_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Fills err (may be NULL) and returns code, so that `return audio_err_set(…)` reads well. */
audio_status audio_err_set(audio_err *err, audio_status code, const char *fmt, ...) AUDIO_PRINTF(3, 4);
/* Prepends "prefix: " to the message already in err (context while unwinding). */
void audio_err_prefix(audio_err *err, const char *fmt, ...) AUDIO_PRINTF(2, 3);

void audio_log(audio_log_level level, const char *fmt, ...) AUDIO_PRINTF(2, 3);

/* ---- counter-based RNG ------------------------------------------------------------------
 * Every random decision of the dataset is a pure function of a key built from
 * (seed, purpose, epoch, index, attempt, …), so any batch can be recomputed from its position
 * alone (resume) and worker threads need no shared generator. splitmix64 finaliser. */
static inline uint64_t audio_mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static inline uint64_t audio_key(uint64_t seed, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t k = audio_mix64(seed ^ 0x5851F42D4C957F2Dull);
    k = audio_mix64(k ^ a);
    k = audio_mix64(k ^ b);
    k = audio_mix64(k ^ c);
    return audio_mix64(k ^ d);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double audio_u01(uint64_t x) { return (double)(x >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform integer in [0, n), n > 0; bias below 2^-53·n, irrelevant for file counts. */
static inline uint64_t audio_below(uint64_t x, uint64_t n) {
    uint64_t r = (uint64_t)(audio_u01(x) * (double)n);
    return r < n ? r : n - 1;
}

char *audio_strdup(const char *s);
/* Text of a metadata number: integers without exponent ("120"), others the shortest
 * "%.Ng" that reads back exactly ("0.25"). */
void audio_number_text(double v, char *out, size_t cap);

/* ---- file internals shared with the dataset ----------------------------------------------
 * audio_file_read with a cancellation flag polled between decoded chunks (NULL: never);
 * returns AUDIO_ERR_CANCELLED when it fires. */
struct audio_clip;
/* Serialises every sf_open*: libsndfile reports open failures only in a process-global. */
extern pthread_mutex_t audio_sf_open_mu;
audio_status audio_file_read_cancellable(const char *path, struct audio_clip *out,
                                         atomic_int *cancel, audio_err *err);

/* Whether libsndfile seeks sample-exactly in this format (PCM-like majors and FLAC). */
#include <stdbool.h>
bool audio_file_seek_exact(int sf_format);

/* audio_resample with a cancellation flag polled between chunks. */
#include "audio/resample.h"
audio_status audio_resample_cancellable(const struct audio_clip *in, int rate, audio_resample_quality q,
                                        struct audio_clip *out, atomic_int *cancel, audio_err *err);

#endif
