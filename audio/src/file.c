/* libsndfile reading, probing and atomic writing of float32 planar clips.
 *
 * libsndfile is interleaved; clips are planar. Reads and writes go through a bounded
 * interleaved scratch buffer (CHUNK frames), never a second full copy of the file.
 * Error text is copied from sf_strerror(handle) immediately; for failed opens, where
 * libsndfile only has its process-global error, the open and the copy of that global
 * happen under audio_sf_open_mu so no other thread's open can overwrite it in between. */
#include "audio/audio.h"
#include "internal.h"

#include <sndfile.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 4096 };

pthread_mutex_t audio_sf_open_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- clips ------------------------------------------------------------------------------ */

audio_status audio_clip_alloc(audio_clip *c, int channels, int64_t frames, int rate, audio_err *err) {
    memset(c, 0, sizeof *c);
    if (channels <= 0 || frames < 0 || rate <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "clip: bad shape (%d channels, %lld frames, %d Hz)",
                             channels, (long long)frames, rate);
    if (frames > 0) {
        if ((uint64_t)frames > SIZE_MAX / sizeof(float) / (uint64_t)channels)
            return audio_err_set(err, AUDIO_ERR_NOMEM, "clip: %lld frames x %d channels is too large",
                                 (long long)frames, channels);
        c->data = calloc((size_t)frames * (size_t)channels, sizeof(float));
        if (!c->data)
            return audio_err_set(err, AUDIO_ERR_NOMEM, "clip: out of memory for %lld frames x %d channels",
                                 (long long)frames, channels);
    }
    c->channels = channels;
    c->frames = frames;
    c->rate = rate;
    return AUDIO_OK;
}

void audio_clip_free(audio_clip *c) {
    if (!c) return;
    free(c->data);
    memset(c, 0, sizeof *c);
}

float audio_clip_peak(const audio_clip *c) {
    float m = 0.0f;
    int64_t n = c->frames * c->channels;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(c->data[i]);
        if (a > m) m = a;
    }
    return m;
}

/* ---- opening ----------------------------------------------------------------------------- */

/* Checks what stat can tell before libsndfile sees the path, so that the common failures
 * get a precise reason (and a FIFO named x.wav never blocks an open). */
static audio_status check_regular(const char *path, audio_err *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return audio_err_set(err, AUDIO_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return audio_err_set(err, AUDIO_ERR_IO, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode))
        return audio_err_set(err, AUDIO_ERR_IO, "%s: not a regular file", path);
    if (st.st_size == 0)
        return audio_err_set(err, AUDIO_ERR_FORMAT, "%s: empty file (0 bytes)", path);
    return AUDIO_OK;
}

static SNDFILE *open_read(const char *path, SF_INFO *info, audio_err *err) {
    if (check_regular(path, err) != AUDIO_OK) return NULL;
    /* open(2) first: errno gives a clean reason for permission problems, which libsndfile
     * would report as a generic system error. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        audio_err_set(err, AUDIO_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&audio_sf_open_mu);
    SNDFILE *snd = sf_open_fd(fd, SFM_READ, info, SF_TRUE);
    if (!snd) audio_err_set(err, AUDIO_ERR_FORMAT, "%s: %s", path, sf_strerror(NULL));
    pthread_mutex_unlock(&audio_sf_open_mu);
    if (!snd) return NULL; /* a failed sf_open_fd with close_desc has closed fd already */
    if (info->frames <= 0 || info->channels <= 0 || info->samplerate <= 0) {
        audio_err_set(err, AUDIO_ERR_FORMAT, "%s: contains no audio (%lld frames, %d channels, %d Hz)",
                      path, (long long)info->frames, info->channels, info->samplerate);
        sf_close(snd);
        return NULL;
    }
    return snd;
}

static void format_name(int fmt, char *out, size_t cap) {
    SF_FORMAT_INFO major = {.format = fmt & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = fmt & SF_FORMAT_SUBMASK};
    const char *a = sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 ? major.name : "?";
    const char *b = sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 ? sub.name : "?";
    snprintf(out, cap, "%s, %s", a, b);
}

audio_status audio_file_probe(const char *path, audio_info *out, audio_err *err) {
    memset(out, 0, sizeof *out);
    SF_INFO info;
    SNDFILE *snd = open_read(path, &info, err);
    if (!snd) return err ? err->code : AUDIO_ERR_FORMAT;
    out->channels = info.channels;
    out->frames = info.frames;
    out->rate = info.samplerate;
    out->sf_format = info.format;
    format_name(info.format, out->format_name, sizeof out->format_name);
    sf_close(snd);
    return AUDIO_OK;
}

/* ---- decoding ---------------------------------------------------------------------------- */

/* Decodes up to `want` frames from the current position into a planar clip. The clip is
 * allocated with `hint` frames (the header's length) as channel stride; if the decoder
 * yields more (MP3 headers may be estimates), the buffer doubles; at the end channels are
 * compacted to the real length. */
static audio_status decode(SNDFILE *snd, const SF_INFO *info, const char *path, int64_t want,
                           int64_t hint, audio_clip *out, atomic_int *cancel, audio_err *err) {
    int C = info->channels;
    int64_t cap = hint > 0 ? hint : CHUNK;
    float *buf = NULL, *planar = NULL;
    audio_status st = AUDIO_OK;
    if ((uint64_t)cap > SIZE_MAX / sizeof(float) / (uint64_t)C) {
        return audio_err_set(err, AUDIO_ERR_NOMEM, "%s: %lld frames is too large", path, (long long)cap);
    }
    planar = malloc((size_t)cap * (size_t)C * sizeof(float));
    buf = malloc((size_t)CHUNK * (size_t)C * sizeof(float));
    if (!planar || !buf) {
        st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory decoding %lld frames", path, (long long)cap);
        goto fail;
    }
    int64_t n = 0;
    while (n < want) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed)) {
            st = audio_err_set(err, AUDIO_ERR_CANCELLED, "%s: decoding cancelled", path);
            goto fail;
        }
        sf_count_t ask = want - n < CHUNK ? (sf_count_t)(want - n) : CHUNK;
        sf_count_t got = sf_readf_float((SNDFILE *)snd, buf, ask);
        if (got <= 0) break;
        /* Float formats can hold NaN or Inf; one such sample would poison every batch that
         * crops over it, so the file is refused like any other broken file. */
        for (sf_count_t i = 0; i < got * C; i++)
            if (!isfinite(buf[i])) {
                st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: sample %lld of channel %d is %s: not usable audio", path,
                                   (long long)(n + i / C), (int)(i % C), isnan(buf[i]) ? "NaN" : "infinite");
                goto fail;
            }
        if (n + got > cap) {
            int64_t ncap = cap * 2 > n + got ? cap * 2 : n + got;
            float *np = malloc((size_t)ncap * (size_t)C * sizeof(float));
            if (!np) {
                st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory at %lld frames", path, (long long)ncap);
                goto fail;
            }
            for (int c = 0; c < C; c++) memcpy(np + c * ncap, planar + c * cap, (size_t)n * sizeof(float));
            free(planar);
            planar = np;
            cap = ncap;
        }
        for (int c = 0; c < C; c++) {
            float *dst = planar + c * cap + n;
            const float *src = buf + c;
            for (sf_count_t i = 0; i < got; i++) dst[i] = src[i * C];
        }
        n += got;
    }
    if (sf_error(snd) != SF_ERR_NO_ERROR) {
        st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: decoding failed after %lld frames: %s", path,
                           (long long)n, sf_strerror(snd));
        goto fail;
    }
    if (n == 0) {
        st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: decoder returned no audio frames", path);
        goto fail;
    }
    if (n < cap) {
        for (int c = 1; c < C; c++) memmove(planar + c * n, planar + c * cap, (size_t)n * sizeof(float));
        float *shrunk = realloc(planar, (size_t)n * (size_t)C * sizeof(float));
        if (shrunk) planar = shrunk;
    }
    free(buf);
    out->data = planar;
    out->channels = C;
    out->frames = n;
    out->rate = info->samplerate;
    return AUDIO_OK;
fail:
    free(buf);
    free(planar);
    return st;
}

audio_status audio_file_read_cancellable(const char *path, audio_clip *out, atomic_int *cancel,
                                         audio_err *err) {
    memset(out, 0, sizeof *out);
    SF_INFO info;
    SNDFILE *snd = open_read(path, &info, err);
    if (!snd) return err ? err->code : AUDIO_ERR_FORMAT;
    /* The header's length is only a hint: read to EOF. */
    audio_status st = decode(snd, &info, path, INT64_MAX, info.frames, out, cancel, err);
    sf_close(snd);
    return st;
}

audio_status audio_file_read(const char *path, audio_clip *out, audio_err *err) {
    return audio_file_read_cancellable(path, out, NULL, err);
}

bool audio_file_seek_exact(int fmt) {
    switch (fmt & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV: case SF_FORMAT_WAVEX: case SF_FORMAT_AIFF: case SF_FORMAT_W64:
    case SF_FORMAT_RF64: case SF_FORMAT_CAF: case SF_FORMAT_AU: case SF_FORMAT_FLAC:
        return true;
    default:
        return false;
    }
}

audio_status audio_file_read_range(const char *path, int64_t start, int64_t count, audio_clip *out,
                                   audio_err *err) {
    memset(out, 0, sizeof *out);
    if (start < 0 || count <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "%s: bad range [%lld, +%lld)", path,
                             (long long)start, (long long)count);
    SF_INFO info;
    SNDFILE *snd = open_read(path, &info, err);
    if (!snd) return err ? err->code : AUDIO_ERR_FORMAT;
    audio_status st;
    if (!audio_file_seek_exact(info.format)) {
        st = audio_err_set(err, AUDIO_ERR_UNSUPPORTED, "%s: ranged reads need a PCM-like format", path);
    } else if (start >= info.frames) {
        st = audio_err_set(err, AUDIO_ERR_INVALID, "%s: range start %lld beyond %lld frames", path,
                           (long long)start, (long long)info.frames);
    } else if (sf_seek(snd, start, SEEK_SET) < 0) {
        st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: seek to frame %lld failed: %s", path,
                           (long long)start, sf_strerror(snd));
    } else {
        int64_t want = info.frames - start < count ? info.frames - start : count;
        st = decode(snd, &info, path, want, want, out, NULL, err);
    }
    sf_close(snd);
    return st;
}

const char *audio_version(void) { return sf_version_string(); }
