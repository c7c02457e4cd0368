/* Adapter: audio/'s dataset + loader as an engine ds_batch_source, audio/'s demo writer
 * as ds_run_io.write_wav. Positions are packed as (epoch << 32) | cursor. */
#include "run_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/audio.h"

typedef struct data_src {
    audio_dataset *ds;
    audio_loader *loader;
    audio_batch *cur;
    audio_sat_dataset sat;
    bool have_sat;
    ds_meta *meta;
    int meta_cap;
    audio_loader_config lc;
} data_src;

static ui_run_io_opts g_opts = {0, -1};

static ds_status from_audio(int st, const audio_err *e, ds_err *err) {
    return ds_err_set(err, st == AUDIO_ERR_IO ? DS_ERR_IO : DS_ERR_FORMAT, "%s", e->msg);
}

static int64_t pack(audio_position p) { return (int64_t)((p.epoch << 32) | (p.cursor & 0xffffffffu)); }
static audio_position unpack(int64_t v) {
    audio_position p = {(uint64_t)v >> 32, (uint64_t)v & 0xffffffffu};
    return p;
}

static ds_status src_next(void *user, ds_batch *b, ds_err *err) {
    data_src *d = user;
    audio_batch_free(d->cur);
    d->cur = NULL;
    audio_err e = {0};
    int st = audio_loader_next(d->loader, &d->cur, &e);
    if (st != AUDIO_OK) return from_audio(st, &e, err);
    audio_batch *a = d->cur;
    if (a->batch_size > d->meta_cap) {
        free(d->meta);
        d->meta = calloc((size_t)a->batch_size, sizeof *d->meta);
        d->meta_cap = d->meta ? a->batch_size : 0;
        if (!d->meta) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < a->batch_size; i++) {
        ds_meta *m = &d->meta[i];
        memset(m, 0, sizeof *m);
        const audio_item *it = &a->items[i];
        for (int k = 0; k < it->n_meta; k++) {
            const audio_meta_kv *kv = &it->meta[k];
            if (kv->type == AUDIO_META_NUMBER)
                ds_meta_set_number(m, kv->key, kv->num);
            else
                ds_meta_set_string(m, kv->key, kv->str);
        }
    }
    b->B = a->batch_size;
    b->C = a->channels;
    b->T = a->frames;
    b->audio = a->audio;
    b->padding_mask = a->padding_mask;
    b->meta = d->meta;
    return DS_OK;
}

static int64_t src_position(void *user) {
    data_src *d = user;
    return pack(audio_loader_position(d->loader));
}

static ds_status src_seek(void *user, int64_t pos, ds_err *err) {
    data_src *d = user;
    audio_batch_free(d->cur);
    d->cur = NULL;
    audio_loader_destroy(d->loader);
    d->loader = NULL;
    d->lc.start = unpack(pos);
    audio_err e = {0};
    int st = audio_loader_create(d->ds, &d->lc, &d->loader, &e);
    return st == AUDIO_OK ? DS_OK : from_audio(st, &e, err);
}

static void close_data(void *user, ds_batch_source *src) {
    (void)user;
    data_src *d = src->user;
    if (!d) return;
    audio_batch_free(d->cur);
    audio_loader_destroy(d->loader);
    /* how the data was read, so a user can tell whether the cache is doing its job */
    audio_dataset_stats st;
    audio_dataset_stats_get(d->ds, &st);
    long long looked = st.cache_hits + st.cache_misses;
    ds_log(DS_LOG_INFO, "dataset: %lld file(s) decoded whole, %lld crop(s) read alone, cache hits %lld of %lld "
              "(%.0f%%), %.1f s decoding", (long long)st.decodes, (long long)st.ranged_reads, (long long)st.cache_hits, looked,
              looked ? 100.0 * (double)st.cache_hits / (double)looked : 0.0, st.decode_seconds);
    audio_dataset_close(d->ds);
    if (d->have_sat) audio_sat_dataset_free(&d->sat);
    free(d->meta);
    free(d);
    src->user = NULL;
}

static ds_status open_data(void *user, const char *dataset, int rate, int channels, int64_t frames, int batch,
                           uint64_t seed, ds_batch_source *src, ds_err *err) {
    const ui_run_io_opts *o = user;
    memset(src, 0, sizeof *src);
    if (!dataset || !dataset[0])
        return ds_err_set(err, DS_ERR_INVALID, "no dataset: give a SAT dataset config or a folder of audio");
    data_src *d = calloc(1, sizeof *d);
    if (!d) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    audio_dataset_config cfg = audio_dataset_config_default();
    audio_dataset_root folder = {"data", dataset};
    struct stat st;
    audio_err e = {0};
    int s;
    if (stat(dataset, &st) == 0 && S_ISDIR(st.st_mode)) {
        cfg.roots = &folder;
        cfg.n_roots = 1;
    } else {
        if ((s = audio_sat_dataset_load(dataset, &d->sat, &e)) != AUDIO_OK) {
            free(d);
            return from_audio(s, &e, err);
        }
        d->have_sat = true;
        cfg.roots = d->sat.roots;
        cfg.n_roots = d->sat.n_roots;
        cfg.random_crop = d->sat.random_crop;
        cfg.drop_last = d->sat.drop_last;
    }
    cfg.sample_rate = rate;
    cfg.sample_size = frames;
    cfg.channels = channels;
    cfg.seed = seed;
    if (o && o->cache_bytes >= 0) cfg.cache_bytes = (size_t)o->cache_bytes;
    if ((s = audio_dataset_open(&cfg, &d->ds, &e)) != AUDIO_OK) {
        if (d->have_sat) audio_sat_dataset_free(&d->sat);
        free(d);
        return from_audio(s, &e, err);
    }
    d->lc = audio_loader_config_default();
    d->lc.batching.batch_size = batch;
    if (o && o->workers > 0) d->lc.workers = o->workers;
    if (audio_dataset_batches_per_epoch(d->ds, &d->lc.batching) == 0) {
        int64_t n = audio_dataset_size(d->ds);
        ds_batch_source tmp = {d};
        close_data(NULL, &tmp);
        return ds_err_set(err, DS_ERR_INVALID,
                          "%s: %lld usable file%s, fewer than one batch of %d (lower batch_size)", dataset,
                          (long long)n, n == 1 ? "" : "s", batch);
    }
    if ((s = audio_loader_create(d->ds, &d->lc, &d->loader, &e)) != AUDIO_OK) {
        ds_batch_source tmp = {d};
        close_data(NULL, &tmp);
        return from_audio(s, &e, err);
    }
    src->user = d;
    src->next = src_next;
    src->position = src_position;
    src->seek = src_seek;
    return DS_OK;
}

static ds_status write_wav(void *user, const char *path, const float *data, int channels, int64_t frames, int rate,
                           ds_err *err) {
    (void)user;
    audio_clip c = {(float *)data, channels, frames, rate};
    audio_err e = {0};
    int s = audio_file_write_demo(path, &c, &e);
    return s == AUDIO_OK ? DS_OK : ds_err_set(err, DS_ERR_IO, "%s", e.msg);
}

ds_run_io ui_run_io(const ui_run_io_opts *opts) {
    if (opts) g_opts = *opts;
    ds_run_io io = {&g_opts, open_data, close_data, write_wav};
    return io;
}

static void audio_to_ds_log(audio_log_level level, const char *msg, void *user) {
    (void)user;
    ds_log_level l = level == AUDIO_LOG_ERROR ? DS_LOG_ERROR
                     : level == AUDIO_LOG_WARN ? DS_LOG_WARN
                     : level == AUDIO_LOG_INFO ? DS_LOG_INFO
                                               : DS_LOG_DEBUG;
    ds_log(l, "%s", msg);
}

void ui_route_audio_log(void) { audio_log_set(audio_to_ds_log, NULL); }
