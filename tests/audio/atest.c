/* nftw and its FTW_* flags are XSI. */
#define _XOPEN_SOURCE 700
#include "atest.h"

#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[512];

const char *at_dir(void) {
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/ds_audio_test_XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return dir;
}

char *at_path(char *out, size_t cap, const char *fmt, ...) {
    int n = snprintf(out, cap, "%s/", at_dir());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    return out;
}

void at_mkdir(const char *path) { mkdir(path, 0755); }

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    if (type == FTW_DP) return rmdir(p), 0;
    chmod(p, 0644);
    unlink(p);
    return 0;
}

void at_cleanup(void) {
    if (dir[0] && !getenv("DS_KEEP_TMP")) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void at_sine(audio_clip *c, int channels, int64_t frames, int rate, double hz, float amp) {
    audio_clip_alloc(c, channels, frames, rate, NULL);
    for (int ch = 0; ch < channels; ch++)
        for (int64_t i = 0; i < frames; i++)
            audio_clip_channel(c, ch)[i] = amp * (float)sin(2 * M_PI * hz * (double)i / rate + ch * 0.5);
}

int at_write_sine(const char *path, int channels, int64_t frames, int rate, double hz, float amp,
                  audio_file_format fmt) {
    audio_clip c;
    at_sine(&c, channels, frames, rate, hz, amp);
    audio_err e;
    int rc = audio_file_write(path, &c, fmt, &e) == AUDIO_OK ? 0 : -1;
    if (rc) fprintf(stderr, "at_write_sine: %s\n", e.msg);
    audio_clip_free(&c);
    return rc;
}

void at_write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return;
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

void at_truncate_copy(const char *src, const char *dst, size_t n) {
    FILE *f = fopen(src, "rb");
    if (!f) return;
    char *buf = calloc(1, n);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    at_write_bytes(dst, buf, got);
    free(buf);
}

/* ---- log capture ------------------------------------------------------------------------- */

static pthread_mutex_t cap_mu = PTHREAD_MUTEX_INITIALIZER;
static char **lines;
static int n_lines, cap_lines;

static void capture(audio_log_level level, const char *msg, void *user) {
    (void)level;
    (void)user;
    pthread_mutex_lock(&cap_mu);
    if (n_lines == cap_lines) {
        cap_lines = cap_lines ? cap_lines * 2 : 64;
        lines = realloc(lines, (size_t)cap_lines * sizeof *lines);
    }
    lines[n_lines++] = strdup(msg);
    pthread_mutex_unlock(&cap_mu);
}

void at_log_start(void) {
    pthread_mutex_lock(&cap_mu);
    for (int i = 0; i < n_lines; i++) free(lines[i]);
    n_lines = 0;
    pthread_mutex_unlock(&cap_mu);
    audio_log_set_level(AUDIO_LOG_DEBUG);
    audio_log_set(capture, NULL);
}

void at_log_stop(void) {
    audio_log_set(NULL, NULL);
    audio_log_set_level(AUDIO_LOG_INFO);
}

int at_log_count(const char *needle) {
    int n = 0;
    pthread_mutex_lock(&cap_mu);
    for (int i = 0; i < n_lines; i++) n += strstr(lines[i], needle) != NULL;
    pthread_mutex_unlock(&cap_mu);
    return n;
}

void at_log_dump(void) {
    pthread_mutex_lock(&cap_mu);
    for (int i = 0; i < n_lines; i++) fprintf(stderr, "  log: %s\n", lines[i]);
    pthread_mutex_unlock(&cap_mu);
}

double at_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double at_zero_cross_hz(const float *x, int64_t n, int rate) {
    int64_t first = -1, last = -1, count = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i - 1] < 0 && x[i] >= 0) {
            if (first < 0) first = i;
            last = i;
            count++;
        }
    if (count < 2) return 0;
    return (double)(count - 1) * rate / (double)(last - first);
}
