/* The threaded loader: same batches as the synchronous path, resume from a saved position,
 * epoch and drop_last bookkeeping, sharding, many batches through a small cache, shutdown
 * while decoding, and files vanishing under a running loader. Also the ThreadSanitizer
 * target for the dataset's locks and atomics. */
#include "atest.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SR = 8000, T = 2000 };

static char root_dir[600];

static void make_files(void) {
    at_path(root_dir, sizeof root_dir, "set");
    at_mkdir(root_dir);
    char p[700];
    /* 12 files: varied lengths (shorter and longer than T), rates (some resampled) and
     * channel counts, so crops, padding, resampling and forcing all happen. */
    for (int i = 0; i < 12; i++) {
        int rate = i % 3 == 0 ? 16000 : i % 3 == 1 ? SR : 11025;
        int64_t frames = (int64_t)rate * (i % 4 == 0 ? 1 : 2) / 4 + i * 37 + (i % 5 == 0 ? 3 * rate : 0);
        snprintf(p, sizeof p, "%s/f%02d.%s", root_dir, i, i % 4 == 3 ? "flac" : "wav");
        at_write_sine(p, 1 + i % 3, frames, rate, 110.0 + 40 * i, 0.3f + 0.05f * (float)(i % 7),
                      i % 4 == 3 ? AUDIO_FILE_FLAC : AUDIO_FILE_WAV_FLOAT);
    }
}

/* always: cache whole files even when the dataset does not fit (what the cache tests exercise) */
static audio_dataset *open_set_with(const char *dir, size_t cache, bool drop_last, uint64_t seed, bool always) {
    audio_dataset_root root = {"set", dir};
    audio_dataset_config cfg = audio_dataset_config_default();
    cfg.roots = &root;
    cfg.n_roots = 1;
    cfg.sample_rate = SR;
    cfg.sample_size = T;
    cfg.channels = 2;
    cfg.drop_last = drop_last;
    cfg.cache_bytes = cache;
    cfg.cache_always = always;
    cfg.seed = seed;
    audio_dataset *ds = NULL;
    audio_err e;
    if (audio_dataset_open(&cfg, &ds, &e) != AUDIO_OK) fprintf(stderr, "open: %s\n", e.msg);
    return ds;
}

static audio_dataset *open_set(const char *dir, size_t cache, bool drop_last, uint64_t seed) {
    return open_set_with(dir, cache, drop_last, seed, false);
}

static bool same_batch(const audio_batch *a, const audio_batch *b) {
    if (!a || !b || a->batch_size != b->batch_size || a->channels != b->channels || a->frames != b->frames)
        return false;
    size_t n = (size_t)a->batch_size * (size_t)a->frames;
    if (memcmp(a->audio, b->audio, n * (size_t)a->channels * sizeof(float)) != 0) return false;
    if (memcmp(a->padding_mask, b->padding_mask, n * sizeof(float)) != 0) return false;
    if (a->pos.epoch != b->pos.epoch || a->pos.cursor != b->pos.cursor) return false;
    for (int i = 0; i < a->batch_size; i++) {
        const audio_item *x = &a->items[i], *y = &b->items[i];
        if (x->file_index != y->file_index || x->offset != y->offset || x->flipped != y->flipped ||
            x->seconds_start != y->seconds_start || x->seconds_total != y->seconds_total ||
            strcmp(x->path, y->path) != 0 || x->n_meta != y->n_meta)
            return false;
    }
    return true;
}

static audio_loader *start(audio_dataset *ds, int B, int workers, audio_position at) {
    audio_loader_config lc = audio_loader_config_default();
    lc.batching.batch_size = B;
    lc.workers = workers;
    lc.prefetch = 3;
    lc.start = at;
    audio_loader *l = NULL;
    audio_err e;
    if (audio_loader_create(ds, &lc, &l, &e) != AUDIO_OK) fprintf(stderr, "loader: %s\n", e.msg);
    return l;
}

static void test_sync_equals_threaded_and_resume(void) {
    audio_dataset *ds = open_set(root_dir, 64 << 20, true, 7);
    if (!ds) return;
    enum { K = 14, B = 5 };
    audio_batching bt = audio_batching_default();
    bt.batch_size = B;
    CHECK(audio_dataset_batches_per_epoch(ds, &bt) == 2); /* 12 files, drop_last: 2 per epoch */
    audio_batch *sync[K];
    audio_position pos = {0, 0};
    audio_err e;
    for (int k = 0; k < K; k++) {
        CHECKF(audio_dataset_read_batch(ds, &bt, pos, &sync[k], &e) == AUDIO_OK, "%s", e.msg);
        if (!sync[k]) return;
        pos = sync[k]->next;
    }
    /* epochs of 2 batches, cursor 0 then 5, the 2 left-over files dropped */
    for (int k = 0; k < K; k++) CHECK(sync[k]->pos.epoch == (uint64_t)k / 2 && sync[k]->pos.cursor == (k % 2) * 5u);
    /* within an epoch, no file repeats (no replacement happens in this set) */
    for (int k = 0; k < K; k += 2) {
        int seen[12] = {0}, dup = 0;
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < B; i++) dup += seen[sync[k + j]->items[i].file_index]++ > 0;
        CHECK(dup == 0);
    }
    /* different epochs, different orders */
    CHECK(sync[0]->items[0].file_index != sync[2]->items[0].file_index ||
          sync[0]->items[1].file_index != sync[2]->items[1].file_index);

    for (int workers = 1; workers <= 4; workers += 3) {
        audio_loader *l = start(ds, B, workers, (audio_position){0, 0});
        for (int k = 0; l && k < K; k++) {
            audio_batch *b;
            CHECK(audio_loader_next(l, &b, &e) == AUDIO_OK);
            CHECKF(same_batch(b, sync[k]), "workers=%d batch %d differs from the synchronous one", workers, k);
            audio_position lp = audio_loader_position(l);
            CHECK(lp.epoch == b->next.epoch && lp.cursor == b->next.cursor);
            audio_batch_free(b);
        }
        audio_loader_destroy(l);
    }
    /* resume: a loader started where batch 5 left off yields batches 6.. exactly */
    audio_loader *l = start(ds, B, 3, sync[5]->next);
    for (int k = 6; l && k < K; k++) {
        audio_batch *b;
        CHECK(audio_loader_next(l, &b, &e) == AUDIO_OK);
        CHECKF(same_batch(b, sync[k]), "resumed batch %d differs", k);
        audio_batch_free(b);
    }
    audio_loader_destroy(l);
    /* a fresh dataset object (as after a process restart) agrees too */
    audio_dataset *ds2 = open_set(root_dir, 0, true, 7); /* and without a cache */
    audio_batch *b = NULL;
    CHECK(ds2 && audio_dataset_read_batch(ds2, &bt, sync[9]->pos, &b, &e) == AUDIO_OK && same_batch(b, sync[9]));
    audio_batch_free(b);
    audio_dataset_close(ds2);
    /* Every batch of two epochs without a cache (each crop read alone; files at 16000 and
     * 11025 Hz resampled around the crop only) equals the cached whole-file path bit for bit. */
    ds2 = open_set(root_dir, 0, true, 7);
    for (int k = 0; ds2 && k < 4; k++) {
        b = NULL;
        CHECKF(audio_dataset_read_batch(ds2, &bt, sync[k]->pos, &b, &e) == AUDIO_OK && same_batch(b, sync[k]),
               "uncached batch %d differs from the cached one", k);
        audio_batch_free(b);
    }
    audio_dataset_stats dst;
    if (ds2) {
        audio_dataset_stats_get(ds2, &dst);
        CHECKF(dst.ranged_reads >= 4 * B - 2 && dst.cache_bytes == 0, "%lld ranged reads",
               (long long)dst.ranged_reads);
    }
    audio_dataset_close(ds2);
    /* A cache smaller than the dataset would mostly miss: crops are then read alone (where
     * the format seeks), nothing is cached, and the batches are the same. */
    ds2 = open_set(root_dir, 200000, true, 7);
    for (int k = 0; ds2 && k < 4; k++) {
        b = NULL;
        CHECKF(audio_dataset_read_batch(ds2, &bt, sync[k]->pos, &b, &e) == AUDIO_OK && same_batch(b, sync[k]),
               "batch %d with a cache smaller than the dataset differs", k);
        audio_batch_free(b);
    }
    if (ds2) {
        audio_dataset_stats_get(ds2, &dst);
        CHECKF(dst.ranged_reads > 0 && dst.cache_bytes == 0, "%lld ranged reads, %zu bytes cached",
               (long long)dst.ranged_reads, dst.cache_bytes);
    }
    audio_dataset_close(ds2);
    /* another seed, another order */
    ds2 = open_set(root_dir, 0, true, 8);
    CHECK(ds2 && audio_dataset_read_batch(ds2, &bt, (audio_position){0, 0}, &b, &e) == AUDIO_OK);
    CHECK(b && !same_batch(b, sync[0]));
    audio_batch_free(b);
    audio_dataset_close(ds2);
    for (int k = 0; k < K; k++) audio_batch_free(sync[k]);
    audio_dataset_close(ds);
}

static void test_drop_last_and_shards(void) {
    audio_dataset *ds = open_set(root_dir, 64 << 20, false, 3);
    if (!ds) return;
    audio_loader *l = start(ds, 5, 2, (audio_position){0, 0});
    int sizes[6];
    audio_err e;
    for (int k = 0; l && k < 6; k++) {
        audio_batch *b;
        CHECK(audio_loader_next(l, &b, &e) == AUDIO_OK);
        sizes[k] = b ? b->batch_size : -1;
        audio_batch_free(b);
    }
    CHECK(sizes[0] == 5 && sizes[1] == 5 && sizes[2] == 2 && sizes[3] == 5 && sizes[5] == 2);
    audio_loader_destroy(l);
    /* two shards: disjoint files within an epoch, same number of batches each */
    audio_batching bt = audio_batching_default();
    bt.batch_size = 3;
    bt.shard_count = 2;
    int seen[12] = {0}, dup = 0, total = 0;
    for (int r = 0; r < 2; r++) {
        bt.shard_index = r;
        CHECK(audio_dataset_batches_per_epoch(ds, &bt) == 2);
        audio_position pos = {0, 0};
        for (int k = 0; k < 2; k++) {
            audio_batch *b;
            CHECK(audio_dataset_read_batch(ds, &bt, pos, &b, &e) == AUDIO_OK);
            if (!b) break;
            for (int i = 0; i < b->batch_size; i++, total++) dup += seen[b->items[i].file_index]++ > 0;
            pos = b->next;
            audio_batch_free(b);
        }
    }
    CHECK(dup == 0 && total == 12);
    /* impossible batchings are errors, not hangs */
    audio_dataset_close(ds);
    ds = open_set(root_dir, 0, true, 3);
    audio_loader_config lc = audio_loader_config_default();
    lc.batching.batch_size = 13;
    CHECK(audio_loader_create(ds, &lc, &l, &e) == AUDIO_ERR_EMPTY && strstr(e.msg, "12 usable"));
    lc.batching.batch_size = 2;
    lc.workers = 0;
    CHECK(audio_loader_create(ds, &lc, &l, &e) == AUDIO_ERR_INVALID);
    audio_dataset_close(ds);
}

static void test_many_batches_small_cache(void) {
    /* A cache too small for most files forces evictions and re-decodes while 4 workers
     * race on it; every batch must still equal its synchronous twin. */
    audio_dataset *ds = open_set_with(root_dir, 40000, true, 11, true);
    audio_dataset *ref = open_set(root_dir, 0, true, 11);
    if (!ds || !ref) return;
    audio_loader *l = start(ds, 4, 4, (audio_position){0, 0});
    audio_batching bt = audio_batching_default();
    bt.batch_size = 4;
    int mismatches = 0, n = 120;
    audio_err e;
    double wait = 0;
    for (int k = 0; l && k < n; k++) {
        audio_batch *b, *s;
        double t0 = at_now();
        CHECK(audio_loader_next(l, &b, &e) == AUDIO_OK);
        wait += at_now() - t0;
        if (!b) break;
        if (k % 7 == 0) {
            CHECK(audio_dataset_read_batch(ref, &bt, b->pos, &s, &e) == AUDIO_OK);
            mismatches += !same_batch(b, s);
            audio_batch_free(s);
        }
        for (int i = 0; i < b->batch_size; i++) {
            const float *m = b->padding_mask + (int64_t)i * T;
            int64_t have = b->items[i].length - b->items[i].offset;
            mismatches += m[0] != 1.0f || (have < T && (m[have - 1] != 1.0f || m[have] != 0.0f));
        }
        audio_batch_free(b);
    }
    CHECK(mismatches == 0);
    audio_dataset_stats st;
    audio_dataset_stats_get(ds, &st);
    CHECK(st.cache_bytes <= 40000 + 4 * 2 * 16000 * sizeof(float)); /* budget + pinned entries */
    fprintf(stderr, "  %d batches: consumer waited %.1f ms in total; %lld decodes, %lld hits, %lld misses\n", n,
            wait * 1e3, (long long)st.decodes, (long long)st.cache_hits, (long long)st.cache_misses);
    audio_loader_destroy(l);
    audio_dataset_close(ds);
    audio_dataset_close(ref);
}

static void test_shutdown_while_decoding(void) {
    char d[600], p[700];
    at_path(d, sizeof d, "long");
    at_mkdir(d);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/long%d.wav", d, i);
        at_write_sine(p, 2, 44100 * 40, 44100, 220, 0.5f, AUDIO_FILE_WAV16); /* 40 s, resampled */
    }
    audio_dataset_root root = {"long", d};
    audio_dataset_config cfg = audio_dataset_config_default();
    cfg.roots = &root;
    cfg.n_roots = 1;
    cfg.sample_rate = 48000;
    cfg.sample_size = 4096;
    cfg.resample_quality = AUDIO_RESAMPLE_BEST; /* slow on purpose: seconds per file */
    audio_dataset *ds;
    audio_err e;
    CHECK(audio_dataset_open(&cfg, &ds, &e) == AUDIO_OK);
    for (int round = 0; round < 2; round++) {
        audio_loader *l = start(ds, 1, 3, (audio_position){0, 0});
        usleep(round ? 300000 : 1000); /* in the middle of decoding / right after start */
        double t0 = at_now();
        audio_loader_destroy(l);
        double dt = at_now() - t0;
        /* one decode chunk (4096 frames) or resample chunk (16384 frames, ~25 ms at BEST;
         * several times that under ThreadSanitizer) bounds the wait */
        fprintf(stderr, "  destroy while decoding: %.1f ms\n", dt * 1e3);
        CHECKF(dt < 1.0, "destroy took %.3f s", dt);
    }
    audio_dataset_close(ds);
}

static void test_vanishing_files(void) {
    char d[600], p[700];
    at_path(d, sizeof d, "vanish");
    at_mkdir(d);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/v%d.wav", d, i);
        at_write_sine(p, 1, 3000, SR, 300, 0.5f, AUDIO_FILE_WAV16);
    }
    /* one file disappears: it is reported once and replaced; the loader carries on */
    audio_dataset *ds = open_set(d, 0, true, 1);
    if (!ds) return;
    snprintf(p, sizeof p, "%s/v2.wav", d);
    unlink(p);
    at_log_start();
    audio_loader *l = start(ds, 2, 2, (audio_position){0, 0});
    audio_err e;
    int used = 0;
    for (int k = 0; l && k < 20; k++) {
        audio_batch *b;
        CHECK(audio_loader_next(l, &b, &e) == AUDIO_OK);
        for (int i = 0; b && i < b->batch_size; i++) used += strstr(b->items[i].path, "v2.wav") != NULL;
        audio_batch_free(b);
    }
    audio_loader_destroy(l);
    at_log_stop();
    CHECK(used == 0);
    CHECKF(at_log_count(p) == 1, "reported %d times", at_log_count(p));
    /* all of them vanish: next() reports it, repeatedly, and destroy still works */
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/v%d.wav", d, i);
        unlink(p);
    }
    at_log_start();
    l = start(ds, 2, 2, (audio_position){5, 0});
    audio_batch *b = NULL;
    audio_status st = l ? audio_loader_next(l, &b, &e) : AUDIO_OK;
    CHECKF(st == AUDIO_ERR_EMPTY && strstr(e.msg, "every file failed") && !b, "%d %s", st, e.msg);
    st = l ? audio_loader_next(l, &b, &e) : AUDIO_OK;
    CHECK(st == AUDIO_ERR_EMPTY && !b);
    audio_loader_destroy(l);
    at_log_stop();
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/v%d.wav", d, i);
        CHECKF(at_log_count(p) == (i == 2 ? 0 : 1), "v%d reported %d times", i, at_log_count(p));
    }
    audio_dataset_close(ds);
}

int main(void) {
    make_files();
    test_sync_equals_threaded_and_resume();
    test_drop_last_and_shards();
    test_many_batches_small_cache();
    test_shutdown_while_decoding();
    test_vanishing_files();
    at_cleanup();
    return tu_finish("test_audio_loader");
}
