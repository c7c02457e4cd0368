/* audio/: sound files through libsndfile, as float32 planar clips.
 *
 * Reads anything the linked libsndfile reads (WAV, RF64, AIFF, FLAC, OGG/Vorbis, Opus,
 * MP3 on Debian's 1.1+ builds, …) into [channels][frames] float32 at the file's own rate.
 * Writes WAV (16-bit PCM for demos, 24-bit, float) and, for tests and exports, FLAC,
 * OGG/Vorbis, Opus, MP3 and AIFF; every write is atomic: a temporary file in the target's
 * folder, fsync, rename (then fsync of the folder), so a crash or a failed write leaves
 * the previous file untouched and no partial file behind.
 *
 * Error messages name the path and libsndfile's reason. Thread-safe: any thread may call
 * any function here concurrently (libsndfile reports open failures only through a
 * process-global, so every open in this library is serialised by one internal mutex
 * and the reason is copied out at once). */
#ifndef AUDIO_FILE_H
#define AUDIO_FILE_H

#include "audio/status.h"

#include <stdbool.h>
#include <stdint.h>

/* A planar clip. data holds channels*frames floats: channel c is data[c*frames .. +frames).
 * Whoever fills a clip owns data and frees it with audio_clip_free. */
typedef struct audio_clip {
    float *data;
    int channels;
    int64_t frames;
    int rate; /* Hz */
} audio_clip;

/* Allocates a zeroed clip. On failure *c is zeroed. */
audio_status audio_clip_alloc(audio_clip *c, int channels, int64_t frames, int rate, audio_err *err);
/* Frees c->data and zeroes *c. NULL and already-freed clips are fine. */
void audio_clip_free(audio_clip *c);
static inline float *audio_clip_channel(const audio_clip *c, int ch) {
    return c->data + (int64_t)ch * c->frames;
}
/* max |x| over all channels (0 for an empty clip). */
float audio_clip_peak(const audio_clip *c);

typedef struct audio_info {
    int channels;
    int64_t frames;        /* as reported by the header/decoder; 0 = no audio */
    int rate;              /* Hz */
    int sf_format;         /* libsndfile's SF_FORMAT_* word (major | subtype) */
    char format_name[96];  /* e.g. "WAV (Microsoft), Signed 16 bit PCM" */
} audio_info;

/* Opens the file and reads its header only; does not decode. Fails with AUDIO_ERR_IO for
 * missing/unreadable paths and non-regular files, AUDIO_ERR_FORMAT for non-audio, truncated
 * headers and 0-frame files. */
audio_status audio_file_probe(const char *path, audio_info *out, audio_err *err);

/* Decodes the whole file into *out (caller owns; audio_clip_free). A decoder error part
 * way through is an error, not a short clip. */
audio_status audio_file_read(const char *path, audio_clip *out, audio_err *err);

/* Decodes frames [start, start+count) (clamped to the file) without decoding the rest, for
 * formats where seeking is exact (PCM-like: WAV, AIFF, W64, RF64, CAF, AU, FLAC); other
 * formats return AUDIO_ERR_UNSUPPORTED and callers fall back to audio_file_read. */
audio_status audio_file_read_range(const char *path, int64_t start, int64_t count,
                                   audio_clip *out, audio_err *err);

typedef enum audio_file_format {
    AUDIO_FILE_WAV16 = 0,  /* 16-bit PCM WAV: SAT's demo format */
    AUDIO_FILE_WAV24,
    AUDIO_FILE_WAV_FLOAT,  /* 32-bit IEEE float WAV, lossless for clip data */
    AUDIO_FILE_FLAC,       /* 16-bit FLAC */
    AUDIO_FILE_OGG_VORBIS,
    AUDIO_FILE_OPUS,       /* OGG/Opus; libopus accepts 8, 12, 16, 24 and 48 kHz only */
    AUDIO_FILE_MP3,
    AUDIO_FILE_AIFF16,
} audio_file_format;

/* Whether the linked libsndfile can write this format at this rate and channel count. */
bool audio_file_format_available(audio_file_format fmt, int rate, int channels);
const char *audio_file_format_str(audio_file_format fmt);

/* Writes clip atomically. Integer formats clip samples to [-1, 1] (no wrap-around). */
audio_status audio_file_write(const char *path, const audio_clip *clip, audio_file_format fmt,
                              audio_err *err);

/* SAT's demo WAV (sat-spec §6): 16-bit PCM of int16(x / max|x| · 32767), truncated toward
 * zero as torch's .to(int16) does, one peak over all channels. An all-zero clip is written
 * as zeros (SAT would divide by zero). Atomic like audio_file_write. */
audio_status audio_file_write_demo(const char *path, const audio_clip *clip, audio_err *err);

#endif
