/* libsamplerate conversion of planar clips, one channel at a time, in bounded chunks so a
 * long file can be cancelled between chunks; and SAT's Mono/Stereo channel forcing. */
#include "audio/resample.h"
#include "internal.h"

#include <samplerate.h>

#include <stdlib.h>
#include <string.h>

enum { IN_CHUNK = 1 << 14 }; /* ~25 ms of BEST-quality work: the cancellation granularity */

const char *audio_resample_quality_str(audio_resample_quality q) {
    switch (q) {
    case AUDIO_RESAMPLE_BEST: return "best";
    case AUDIO_RESAMPLE_MEDIUM: return "medium";
    case AUDIO_RESAMPLE_FAST: return "fast";
    }
    return "?";
}

int audio_resample_quality_parse(const char *s) {
    for (int q = AUDIO_RESAMPLE_BEST; q <= AUDIO_RESAMPLE_FAST; q++)
        if (s && strcmp(s, audio_resample_quality_str((audio_resample_quality)q)) == 0) return q;
    return -1;
}

int64_t audio_resampled_length(int64_t frames, int from, int to) {
    if (from <= 0 || to <= 0 || frames <= 0) return 0;
    /* frames < 2^40 and rates < 2^22 in practice: the product fits in int64. */
    return (frames * (int64_t)to + from - 1) / from;
}

static int src_type(audio_resample_quality q) {
    switch (q) {
    case AUDIO_RESAMPLE_BEST: return SRC_SINC_BEST_QUALITY;
    case AUDIO_RESAMPLE_FAST: return SRC_SINC_FASTEST;
    default: return SRC_SINC_MEDIUM_QUALITY;
    }
}

/* One channel: x[n] → y[len] (y zero-filled by the caller). libsamplerate's total output
 * after end_of_input is within a frame or two of n·ratio; the tail is truncated or left as
 * the zeros already there, so the length is exactly torchaudio's. */
static audio_status convert_channel(SRC_STATE *s, const float *x, int64_t n, float *y, int64_t len,
                                    double ratio, atomic_int *cancel, audio_err *err) {
    src_reset(s);
    int64_t in = 0, outn = 0;
    float scratch[256];
    for (;;) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed))
            return audio_err_set(err, AUDIO_ERR_CANCELLED, "resampling cancelled");
        int64_t chunk = n - in < IN_CHUNK ? n - in : IN_CHUNK;
        SRC_DATA d = {0};
        d.data_in = x + in;
        d.input_frames = (long)chunk;
        d.end_of_input = in + chunk >= n;
        d.src_ratio = ratio;
        /* Write straight into y while it has room; past its end, into a scratch buffer
         * whose contents are dropped (the converter still has to be drained). */
        if (outn < len) {
            d.data_out = y + outn;
            d.output_frames = (long)(len - outn);
        } else {
            d.data_out = scratch;
            d.output_frames = (long)(sizeof scratch / sizeof scratch[0]);
        }
        int e = src_process(s, &d);
        if (e) return audio_err_set(err, AUDIO_ERR_INTERNAL, "libsamplerate: %s", src_strerror(e));
        in += d.input_frames_used;
        if (outn < len) outn += d.output_frames_gen;
        if (d.end_of_input && d.input_frames_used == chunk && d.output_frames_gen == 0) break;
    }
    return AUDIO_OK;
}

audio_status audio_resample_cancellable(const audio_clip *in, int rate, audio_resample_quality q,
                                        audio_clip *out, atomic_int *cancel, audio_err *err) {
    memset(out, 0, sizeof *out);
    if (!in || in->channels <= 0 || in->rate <= 0 || in->frames < 0 || rate <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "resample: bad clip or rate %d", rate);
    double ratio = (double)rate / (double)in->rate;
    if (!src_is_valid_ratio(ratio))
        return audio_err_set(err, AUDIO_ERR_INVALID, "resample: ratio %d/%d outside libsamplerate's 1/256..256",
                             rate, in->rate);
    int64_t len = rate == in->rate ? in->frames : audio_resampled_length(in->frames, in->rate, rate);
    audio_status st = audio_clip_alloc(out, in->channels, len, rate, err);
    if (st != AUDIO_OK) return st;
    if (len == 0) return AUDIO_OK;
    if (rate == in->rate) {
        memcpy(out->data, in->data, (size_t)len * (size_t)in->channels * sizeof(float));
        return AUDIO_OK;
    }
    int e = 0;
    SRC_STATE *s = src_new(src_type(q), 1, &e);
    if (!s) {
        audio_clip_free(out);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "libsamplerate: %s", src_strerror(e));
    }
    for (int c = 0; c < in->channels && st == AUDIO_OK; c++)
        st = convert_channel(s, audio_clip_channel(in, c), in->frames, audio_clip_channel(out, c), len,
                             ratio, cancel, err);
    src_delete(s);
    if (st != AUDIO_OK) audio_clip_free(out);
    return st;
}

audio_status audio_resample(const audio_clip *in, int rate, audio_resample_quality q, audio_clip *out,
                            audio_err *err) {
    return audio_resample_cancellable(in, rate, q, out, NULL, err);
}

audio_status audio_channels_force(const float *in, int cin, float *out, int cout, int64_t n, audio_err *err) {
    if (cin <= 0 || n < 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "channels: bad input (%d channels)", cin);
    if (cout == 1) {
        if (cin == 1) {
            memcpy(out, in, (size_t)n * sizeof(float));
            return AUDIO_OK;
        }
        /* torch.mean over dim 0: sum in channel order, then divide. */
        for (int64_t i = 0; i < n; i++) {
            float acc = 0.0f;
            for (int c = 0; c < cin; c++) acc += in[(int64_t)c * n + i];
            out[i] = acc / (float)cin;
        }
        return AUDIO_OK;
    }
    if (cout == 2) {
        memcpy(out, in, (size_t)n * sizeof(float));
        memcpy(out + n, cin == 1 ? in : in + n, (size_t)n * sizeof(float));
        return AUDIO_OK;
    }
    return audio_err_set(err, AUDIO_ERR_INVALID, "channels: can force 1 (mono) or 2 (stereo), not %d", cout);
}

audio_status audio_clip_force_channels(const audio_clip *in, int channels, audio_clip *out, audio_err *err) {
    audio_status st = audio_clip_alloc(out, channels, in->frames, in->rate, err);
    if (st != AUDIO_OK) return st;
    st = audio_channels_force(in->data, in->channels, out->data, channels, in->frames, err);
    if (st != AUDIO_OK) audio_clip_free(out);
    return st;
}
