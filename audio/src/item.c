/* One dataset item, exactly SAT's SampleDataset.__getitem__ order:
 *   load (decoded-audio cache, or a ranged read) → resample → PadCrop_Normalized_T →
 *   silence check → phase flip → clamp → channel forcing → metadata.
 * Randomness comes only from audio_key(seed, purpose, epoch, position, attempt), so the same
 * (seed, epoch, position) always gives the same item. Called by loader workers concurrently. */
#include "dataset_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P_CROP = 1, P_FLIP = 2, P_REPLACE = 3 };
/* Replacement candidates are first drawn at random (SAT: random.randrange(len)); after this
 * many, every file is tried once in order so a mostly silent dataset still terminates. */
enum { RANDOM_TRIES = 16 };

/* ---- decoded-audio cache (LRU by bytes) --------------------------------------------------- */

static void lru_unlink(audio_dataset *ds, cache_entry *e) {
    if (e->prev) e->prev->next = e->next;
    else ds->lru_head = e->next;
    if (e->next) e->next->prev = e->prev;
    else ds->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(audio_dataset *ds, cache_entry *e) {
    e->prev = NULL;
    e->next = ds->lru_head;
    if (ds->lru_head) ds->lru_head->prev = e;
    ds->lru_head = e;
    if (!ds->lru_tail) ds->lru_tail = e;
}

static size_t clip_bytes(const audio_clip *c) { return (size_t)c->frames * (size_t)c->channels * sizeof(float); }

static cache_entry *cache_acquire(audio_dataset *ds, int64_t f) {
    pthread_mutex_lock(&ds->cache_mu);
    cache_entry *e = ds->table[f];
    if (e) {
        e->refs++;
        lru_unlink(ds, e);
        lru_push_front(ds, e);
    }
    pthread_mutex_unlock(&ds->cache_mu);
    return e;
}

/* Takes ownership of clip. Returns a pinned entry (refs = 1), cached when it fits the budget
 * after evicting unpinned least-recently-used entries. NULL only when out of memory. */
static cache_entry *cache_insert(audio_dataset *ds, int64_t f, audio_clip *clip) {
    cache_entry *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        audio_clip_free(clip);
        return NULL;
    }
    fresh->clip = *clip;
    fresh->file = f;
    fresh->refs = 1;
    cache_entry *victims = NULL;
    size_t bytes = clip_bytes(clip);
    pthread_mutex_lock(&ds->cache_mu);
    cache_entry *have = ds->table[f];
    if (have) { /* another worker decoded it meanwhile */
        have->refs++;
        pthread_mutex_unlock(&ds->cache_mu);
        audio_clip_free(&fresh->clip);
        free(fresh);
        return have;
    }
    if (bytes <= ds->cfg.cache_bytes) {
        for (cache_entry *v = ds->lru_tail; v && ds->cache_used + bytes > ds->cfg.cache_bytes;) {
            cache_entry *prev = v->prev;
            if (v->refs == 0) {
                lru_unlink(ds, v);
                ds->table[v->file] = NULL;
                ds->cache_used -= clip_bytes(&v->clip);
                v->cached = false;
                v->next = victims; /* freed after unlocking */
                victims = v;
            }
            v = prev;
        }
        if (ds->cache_used + bytes <= ds->cfg.cache_bytes) {
            fresh->cached = true;
            ds->table[f] = fresh;
            lru_push_front(ds, fresh);
            ds->cache_used += bytes;
        }
    }
    pthread_mutex_unlock(&ds->cache_mu);
    while (victims) {
        cache_entry *n = victims->next;
        audio_clip_free(&victims->clip);
        free(victims);
        victims = n;
    }
    return fresh;
}

static void cache_release(audio_dataset *ds, cache_entry *e) {
    pthread_mutex_lock(&ds->cache_mu);
    bool drop = --e->refs == 0 && !e->cached;
    pthread_mutex_unlock(&ds->cache_mu);
    if (drop) {
        audio_clip_free(&e->clip);
        free(e);
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Decodes and resamples file f to the dataset rate. */
static audio_status load_whole(audio_dataset *ds, const ds_file *f, audio_clip *out, atomic_int *cancel,
                               audio_err *err) {
    double t0 = now_s();
    audio_clip raw;
    audio_status st = audio_file_read_cancellable(f->path, &raw, cancel, err);
    if (st == AUDIO_OK && raw.rate != ds->cfg.sample_rate) {
        st = audio_resample_cancellable(&raw, ds->cfg.sample_rate, ds->cfg.resample_quality, out, cancel, err);
        if (st != AUDIO_OK) audio_err_prefix(err, "%s", f->path);
        audio_clip_free(&raw);
    } else if (st == AUDIO_OK) {
        *out = raw;
    }
    atomic_fetch_add_explicit(&ds->st_decodes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ds->st_decode_ns, (long long)((now_s() - t0) * 1e9), memory_order_relaxed);
    return st;
}

/* Frames [offset, offset + n) of file f at the dataset rate without resampling all of it:
 * the source window read starts on a frame whose position at the dataset rate is a whole
 * frame (a multiple of rate / gcd), and reaches past both ends by more than the sinc filter
 * (libsamplerate's longest, SINC_BEST, spans about 143 zero crossings each way), so the
 * converter sees exactly the samples the whole file's resampling sees around these frames:
 * the result is the same, bit for bit (tests/audio). `out` holds min(n, L − offset) frames. */
static audio_status load_window(audio_dataset *ds, const ds_file *f, int64_t offset, int64_t n, audio_clip *out,
                                atomic_int *cancel, audio_err *err) {
    double t0 = now_s();
    int64_t from = f->rate, to = ds->cfg.sample_rate, a = from, b = to;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    int64_t q = from / a, p = to / a; /* output frame k sits at source position k·q/p */
    double ratio = (double)to / (double)from;
    int64_t margin = (int64_t)ceil(160.0 / (ratio < 1.0 ? ratio : 1.0)) + 16;
    int64_t s0 = offset * q / p - margin;
    s0 = s0 < 0 ? 0 : s0 / q * q;
    int64_t s1 = ((offset + n) * q + p - 1) / p + margin;
    if (s1 > f->frames) s1 = f->frames;
    audio_clip raw, rs;
    audio_status st = audio_file_read_range(f->path, s0, s1 - s0, &raw, err);
    if (st != AUDIO_OK) return st;
    st = audio_resample_cancellable(&raw, (int)to, ds->cfg.resample_quality, &rs, cancel, err);
    audio_clip_free(&raw);
    if (st != AUDIO_OK) {
        audio_err_prefix(err, "%s", f->path);
        return st;
    }
    int64_t k0 = offset - s0 / q * p, m = rs.frames - k0 < n ? rs.frames - k0 : n;
    if (m < 0) m = 0;
    st = audio_clip_alloc(out, rs.channels, m, (int)to, err);
    for (int c = 0; c < rs.channels && st == AUDIO_OK; c++)
        memcpy(audio_clip_channel(out, c), audio_clip_channel(&rs, c) + k0, (size_t)m * sizeof(float));
    audio_clip_free(&rs);
    /* counted as a ranged read by the caller, not as a (whole-file) decode */
    atomic_fetch_add_explicit(&ds->st_decode_ns, (long long)((now_s() - t0) * 1e9), memory_order_relaxed);
    return st;
}

/* ---- the item --------------------------------------------------------------------------------- */

static void set_num(audio_meta_kv *kv, const char *key, double v, char *text) {
    audio_number_text(v, text, 32);
    *kv = (audio_meta_kv){.key = key, .type = AUDIO_META_NUMBER, .str = text, .num = v};
}

static void fill_meta(audio_dataset *ds, const ds_file *f, const item_job *job) {
    audio_item *it = job->item;
    audio_meta_kv *kv = job->kv;
    char *t = job->text;
    kv[0] = (audio_meta_kv){.key = "path", .type = AUDIO_META_STRING, .str = f->path};
    kv[1] = (audio_meta_kv){.key = "relpath", .type = AUDIO_META_STRING, .str = f->relpath};
    kv[2] = (audio_meta_kv){.key = "id", .type = AUDIO_META_STRING, .str = ds->roots[f->root].id};
    set_num(&kv[3], "seconds_start", it->seconds_start, t + 0 * 32);
    set_num(&kv[4], "seconds_total", it->seconds_total, t + 1 * 32);
    set_num(&kv[5], "sample_rate", it->sample_rate, t + 2 * 32);
    set_num(&kv[6], "t_start", it->t_start, t + 3 * 32);
    set_num(&kv[7], "t_end", it->t_end, t + 4 * 32);
    int n = ITEM_BUILTINS;
    for (int i = 0; i < f->meta.n; i++) {
        const audio_meta_kv *s = &f->meta.kv[i];
        int slot = n;
        for (int b = 0; b < ITEM_BUILTINS; b++)
            if (strcmp(kv[b].key, s->key) == 0) slot = b;
        kv[slot] = *s;
        if (slot == n) n++;
    }
    it->meta = kv;
    it->n_meta = n;
}

audio_status ds_build_item(audio_dataset *ds, const item_job *job, atomic_int *cancel, audio_err *err) {
    const audio_dataset_config *cfg = &ds->cfg;
    const int64_t n = cfg->sample_size, N = ds->n_files;
    const int cout = cfg->channels, sr = cfg->sample_rate;
    int silent = 0, failed = 0;
    audio_err last = {0};
    int64_t f = job->file;
    for (int64_t attempt = 0;; attempt++) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed))
            return audio_err_set(err, AUDIO_ERR_CANCELLED, "dataset: cancelled");
        if (attempt > 0) {
            atomic_fetch_add_explicit(&ds->st_replacements, 1, memory_order_relaxed);
            if (attempt <= RANDOM_TRIES) {
                f = (int64_t)audio_below(audio_key(cfg->seed, P_REPLACE, job->epoch, job->gpos, (uint64_t)attempt),
                                         (uint64_t)N);
            } else if (attempt - RANDOM_TRIES - 1 < N) {
                f = (job->file + 1 + (attempt - RANDOM_TRIES - 1)) % N;
            } else if (failed > 0 && silent == 0) {
                return audio_err_set(err, AUDIO_ERR_EMPTY, "dataset: every file failed to load; last: %s", last.msg);
            } else {
                return audio_err_set(err, AUDIO_ERR_EMPTY,
                                     "dataset: no usable item after trying every file (%d silent below %g dBFS, "
                                     "%d failed to load)%s%s",
                                     silent, (double)cfg->silence_db, failed, failed ? "; last failure: " : "",
                                     failed ? last.msg : "");
            }
        }
        ds_file *file = &ds->files[f];
        if (atomic_load_explicit(&file->dead, memory_order_relaxed)) {
            failed++;
            continue;
        }
        uint64_t ka = (uint64_t)attempt;
        int cin = file->channels;
        size_t est = (size_t)file->length * (size_t)(cin > 0 ? cin : 1) * sizeof(float);
        /* Without room for the whole dataset the cache would mostly miss (items come in random
         * order), and a file larger than it cannot enter it: such crops are read on their own
         * (resampled around the crop when the rate differs) rather than decoding and
         * resampling a whole file for each. */
        bool fits = cfg->cache_always || ds->decoded_total <= cfg->cache_bytes;
        bool ranged = (cfg->cache_bytes == 0 || est > cfg->cache_bytes || !fits) &&
                      audio_file_seek_exact(file->sf_format);
        cache_entry *e = NULL;
        audio_clip part = {0};
        int64_t L;
        audio_status st = AUDIO_OK;
        audio_err ferr;
        if (ranged) {
            L = file->length;
        } else {
            e = cache_acquire(ds, f);
            if (e) {
                atomic_fetch_add_explicit(&ds->st_hits, 1, memory_order_relaxed);
            } else {
                atomic_fetch_add_explicit(&ds->st_misses, 1, memory_order_relaxed);
                audio_clip c;
                st = load_whole(ds, file, &c, cancel, &ferr);
                if (st == AUDIO_OK && !(e = cache_insert(ds, f, &c)))
                    st = audio_err_set(&ferr, AUDIO_ERR_NOMEM, "%s: out of memory", file->path);
            }
            L = e ? e->clip.frames : 0;
            if (e) cin = e->clip.channels;
        }
        /* PadCrop_Normalized_T */
        int64_t upper = L > n ? L - n : 0;
        int64_t offset = 0;
        if (st == AUDIO_OK && cfg->random_crop && L > n)
            offset = (int64_t)audio_below(audio_key(cfg->seed, P_CROP, job->epoch, job->gpos, ka), (uint64_t)upper + 1);
        if (st == AUDIO_OK && ranged) {
            atomic_fetch_add_explicit(&ds->st_ranged, 1, memory_order_relaxed);
            st = file->rate == sr ? audio_file_read_range(file->path, offset, n, &part, &ferr)
                                  : load_window(ds, file, offset, n, &part, cancel, &ferr);
            if (st == AUDIO_OK) cin = part.channels;
        }
        if (st != AUDIO_OK) {
            if (e) cache_release(ds, e);
            if (st == AUDIO_ERR_CANCELLED || st == AUDIO_ERR_NOMEM) {
                if (err) *err = ferr;
                return st;
            }
            if (atomic_exchange(&file->dead, 1) == 0) {
                atomic_fetch_add_explicit(&ds->st_failed, 1, memory_order_relaxed);
                audio_log(AUDIO_LOG_WARN, "dataset: %s; replacing it with other files from now on", ferr.msg);
            }
            last = ferr;
            failed++;
            continue;
        }
        int64_t have = L < n ? L : n;
        float *chunk = cin == cout ? job->audio : malloc((size_t)cin * (size_t)n * sizeof(float));
        if (!chunk) {
            if (e) cache_release(ds, e);
            audio_clip_free(&part);
            return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory for a %d x %lld chunk", cin,
                                 (long long)n);
        }
        for (int c = 0; c < cin; c++) {
            float *dst = chunk + (int64_t)c * n;
            int64_t got = have;
            if (ranged) {
                got = part.frames < have ? part.frames : have; /* the file shrank since the probe */
                memcpy(dst, audio_clip_channel(&part, c), (size_t)got * sizeof(float));
            } else {
                memcpy(dst, audio_clip_channel(&e->clip, c) + offset, (size_t)got * sizeof(float));
            }
            memset(dst + got, 0, (size_t)(n - got) * sizeof(float));
        }
        if (e) cache_release(ds, e);
        audio_clip_free(&part);

        /* is_silence: 20·log10(max|x|) < threshold, over every channel incl. padding. */
        float peak = 0.0f;
        for (int64_t i = 0; i < (int64_t)cin * n; i++) {
            float a = fabsf(chunk[i]);
            if (a > peak) peak = a;
        }
        if (20.0f * log10f(peak) < cfg->silence_db) {
            if (chunk != job->audio) free(chunk);
            silent++;
            continue;
        }
        bool flip = cfg->phase_flip && audio_u01(audio_key(cfg->seed, P_FLIP, job->epoch, job->gpos, ka)) < 0.5;
        for (int64_t i = 0; i < (int64_t)cin * n; i++) {
            float x = flip ? -chunk[i] : chunk[i];
            chunk[i] = x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;
        }
        if (chunk != job->audio) {
            audio_channels_force(chunk, cin, job->audio, cout, n, NULL);
            free(chunk);
        }
        for (int64_t i = 0; i < n; i++) job->mask[i] = i < have ? 1.0f : 0.0f;

        audio_item *it = job->item;
        it->path = file->path;
        it->relpath = file->relpath;
        it->id = ds->roots[file->root].id;
        it->file_index = f;
        it->offset = offset;
        it->length = L;
        it->t_start = (double)offset / (double)(upper + n);
        it->t_end = (double)(offset + n) / (double)(upper + n);
        it->seconds_start = (int)(offset / sr);
        it->seconds_total = (int)((L + sr - 1) / sr);
        it->sample_rate = sr;
        it->flipped = flip;
        it->replaced = (int)attempt;
        fill_meta(ds, file, job);
        return AUDIO_OK;
    }
}
