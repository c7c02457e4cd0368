/* Atomic writing of clips through libsndfile.
 *
 * Protocol: mkstemp "<dir>/.<name>.tmp.XXXXXX" next to the target (same filesystem, hidden so
 * dataset scans skip it), write through libsndfile on that fd, sf_close (which finalises the
 * header), fsync, close, rename over the target, fsync the folder. Any failure unlinks the
 * temporary file and leaves the target as it was. */
#include "audio/file.h"
#include "internal.h"

#include <sndfile.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 4096 };

static int sf_format_of(audio_file_format fmt) {
    switch (fmt) {
    case AUDIO_FILE_WAV16: return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case AUDIO_FILE_WAV24: return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    case AUDIO_FILE_WAV_FLOAT: return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case AUDIO_FILE_FLAC: return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case AUDIO_FILE_OGG_VORBIS: return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    case AUDIO_FILE_OPUS: return SF_FORMAT_OGG | SF_FORMAT_OPUS;
    case AUDIO_FILE_MP3: return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    case AUDIO_FILE_AIFF16: return SF_FORMAT_AIFF | SF_FORMAT_PCM_16;
    }
    return 0;
}

const char *audio_file_format_str(audio_file_format fmt) {
    switch (fmt) {
    case AUDIO_FILE_WAV16: return "wav16";
    case AUDIO_FILE_WAV24: return "wav24";
    case AUDIO_FILE_WAV_FLOAT: return "wav-float";
    case AUDIO_FILE_FLAC: return "flac";
    case AUDIO_FILE_OGG_VORBIS: return "ogg-vorbis";
    case AUDIO_FILE_OPUS: return "opus";
    case AUDIO_FILE_MP3: return "mp3";
    case AUDIO_FILE_AIFF16: return "aiff16";
    }
    return "?";
}

bool audio_file_format_available(audio_file_format fmt, int rate, int channels) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = sf_format_of(fmt)};
    return info.format != 0 && rate > 0 && channels > 0 && sf_format_check(&info);
}

/* The sample writer: either float frames (libsndfile converts and, with clipping on,
 * saturates) or int16 frames computed here (the demo path, for SAT's exact rounding). */
typedef struct {
    const audio_clip *clip;
    float demo_peak; /* > 0: write int16((x / demo_peak) * 32767) truncated; 0: write floats */
} source;

static audio_status write_frames(SNDFILE *snd, const source *src, const char *path, audio_err *err) {
    const audio_clip *c = src->clip;
    int C = c->channels;
    void *buf = malloc((size_t)CHUNK * (size_t)C * sizeof(float));
    if (!buf) return audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", path);
    audio_status st = AUDIO_OK;
    for (int64_t n0 = 0; n0 < c->frames; n0 += CHUNK) {
        int64_t n = c->frames - n0 < CHUNK ? c->frames - n0 : CHUNK;
        sf_count_t put;
        if (src->demo_peak > 0) {
            /* SAT: audio.div(max|audio|).mul(32767).to(int16): two float32 roundings, then
             * truncation toward zero (C's conversion does the same). |x/peak| <= 1, so no
             * clamping is needed. */
            short *s = buf;
            for (int ch = 0; ch < C; ch++) {
                const float *x = audio_clip_channel(c, ch) + n0;
                for (int64_t i = 0; i < n; i++) {
                    float v = (x[i] / src->demo_peak) * 32767.0f;
                    s[i * C + ch] = v == v ? (short)v : 0; /* NaN → int16 would be undefined */
                }
            }
            put = sf_writef_short(snd, s, n);
        } else {
            float *f = buf;
            for (int ch = 0; ch < C; ch++) {
                const float *x = audio_clip_channel(c, ch) + n0;
                for (int64_t i = 0; i < n; i++) f[i * C + ch] = x[i];
            }
            put = sf_writef_float(snd, f, n);
        }
        if (put != n) {
            st = audio_err_set(err, AUDIO_ERR_IO, "%s: write failed at frame %lld: %s", path,
                               (long long)n0, sf_strerror(snd));
            break;
        }
    }
    free(buf);
    return st;
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd); /* some filesystems refuse fsync on folders; the rename already happened */
    close(fd);
}

static audio_status write_atomic(const char *path, const audio_clip *clip, int sf_fmt,
                                 const source *src, audio_err *err) {
    if (!path || !*path || !clip || clip->channels <= 0 || clip->rate <= 0 || clip->frames < 0 ||
        (clip->frames > 0 && !clip->data))
        return audio_err_set(err, AUDIO_ERR_INVALID, "%s: write: bad clip", path ? path : "(null)");
    SF_INFO info = {.samplerate = clip->rate, .channels = clip->channels, .format = sf_fmt};
    if (!sf_format_check(&info))
        return audio_err_set(err, AUDIO_ERR_UNSUPPORTED,
                             "%s: libsndfile cannot write format 0x%06x at %d Hz with %d channels",
                             path, sf_fmt, clip->rate, clip->channels);

    /* Temporary name in the target's folder: rename() is atomic only within a filesystem. */
    size_t len = strlen(path);
    char *dir = malloc(len + 2), *tmp = malloc(len + 32);
    if (!dir || !tmp) {
        free(dir);
        free(tmp);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", path);
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash) {
        memcpy(dir, path, (size_t)(slash - path) + 1);
        dir[slash - path + 1] = '\0';
        if (slash == path) dir[1] = '\0';
    } else {
        strcpy(dir, ".");
    }
    snprintf(tmp, len + 32, "%.*s.%s.tmp.XXXXXX", (int)(base - path), path, base);

    audio_status st = AUDIO_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = audio_err_set(err, AUDIO_ERR_IO, "%s: cannot create a temporary file in %s: %s", path, dir,
                           strerror(errno));
        goto out;
    }
    /* mkstemp makes 0600; written audio is ordinary user data. Keep an existing target's mode. */
    struct stat old;
    (void)fchmod(fd, stat(path, &old) == 0 && S_ISREG(old.st_mode) ? (old.st_mode & 07777) : 0644);

    pthread_mutex_lock(&audio_sf_open_mu);
    SNDFILE *snd = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
    if (!snd) st = audio_err_set(err, AUDIO_ERR_IO, "%s: %s", path, sf_strerror(NULL));
    pthread_mutex_unlock(&audio_sf_open_mu);
    if (!snd) goto fail_fd;
    /* Integer formats: saturate out-of-range floats instead of wrapping around. */
    sf_command(snd, SFC_SET_CLIPPING, NULL, SF_TRUE);
    st = write_frames(snd, src, path, err);
    int rc = sf_close(snd); /* writes the final header: can fail on a full disk */
    if (st == AUDIO_OK && rc != 0) {
        st = audio_err_set(err, AUDIO_ERR_IO, "%s: finishing the file failed: %s", path, sf_error_number(rc));
    }
    if (st != AUDIO_OK) goto fail_fd;
    if (fsync(fd) != 0) {
        st = audio_err_set(err, AUDIO_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
        goto fail_fd;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = audio_err_set(err, AUDIO_ERR_IO, "%s: close failed: %s", path, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = audio_err_set(err, AUDIO_ERR_IO, "%s: cannot replace: %s", path, strerror(errno));
        goto fail;
    }
    fsync_dir(dir);
    goto out;
fail_fd:
    if (fd >= 0) close(fd);
fail:
    unlink(tmp);
out:
    free(dir);
    free(tmp);
    return st;
}

audio_status audio_file_write(const char *path, const audio_clip *clip, audio_file_format fmt,
                              audio_err *err) {
    int sf_fmt = sf_format_of(fmt);
    if (!sf_fmt) return audio_err_set(err, AUDIO_ERR_INVALID, "%s: unknown output format %d", path, (int)fmt);
    source src = {.clip = clip, .demo_peak = 0};
    return write_atomic(path, clip, sf_fmt, &src, err);
}

audio_status audio_file_write_demo(const char *path, const audio_clip *clip, audio_err *err) {
    float peak = clip && clip->data ? audio_clip_peak(clip) : 0.0f;
    /* An all-zero clip: SAT would divide by zero; write zeros through the float path. */
    source src = {.clip = clip, .demo_peak = peak};
    return write_atomic(path, clip, SF_FORMAT_WAV | SF_FORMAT_PCM_16, &src, err);
}
