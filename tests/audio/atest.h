/* Helpers for the audio tests: a private temporary folder (removed at exit), generated
 * signals written with the library's own writer, raw byte files for broken inputs, and a
 * log capture to count how often a path was reported. */
#ifndef DS_ATEST_H
#define DS_ATEST_H

#include "audio/audio.h"
#include "audio/dataset.h"

#include <stddef.h>
#include <stdint.h>

/* The test's temporary folder (created on first use; removed by at_cleanup). */
const char *at_dir(void);
/* out = "<at_dir()>/<rel>"; returns out. */
char *at_path(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void at_mkdir(const char *path);
void at_cleanup(void);

/* clip[c][i] = amp · sin(2π·hz·i/rate + c·0.5). Caller frees. */
void at_sine(audio_clip *c, int channels, int64_t frames, int rate, double hz, float amp);
/* Writes a sine file in fmt; returns 0 on success. */
int at_write_sine(const char *path, int channels, int64_t frames, int rate, double hz, float amp,
                  audio_file_format fmt);
void at_write_bytes(const char *path, const void *data, size_t n);
/* First n bytes of src into dst. */
void at_truncate_copy(const char *src, const char *dst, size_t n);

/* Captures log lines (all levels) until at_log_stop. Thread-safe. */
void at_log_start(void);
void at_log_stop(void);
/* Number of captured lines containing needle. */
int at_log_count(const char *needle);
void at_log_dump(void);

double at_now(void);
/* Dominant frequency by zero crossings over x[0..n) (rising crossings per second). */
double at_zero_cross_hz(const float *x, int64_t n, int rate);

#endif
