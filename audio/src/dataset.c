/* Dataset lifetime, epoch orders, positions and batch assembly. The per-item pipeline is
 * in item.c, discovery in scan.c, sidecars in metadata.c, the threaded loader in loader.c.
 *
 * Positions: an epoch's global order is perm_e (a permutation of the usable files keyed by
 * (seed, e)). Shard r of W takes global positions r, r+W, r+2W, …; its local cursor c maps
 * to global position g = c·W + r, and n_local = N / W (N when W = 1). A batch at cursor c
 * has min(B, n_local − c) items; with drop_last, a cursor with fewer than B items left moves
 * to the next epoch's start (as torch's DataLoader drops the short last batch). */
#include "dataset_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_PERM = 0 };

audio_dataset_config audio_dataset_config_default(void) {
    return (audio_dataset_config){
        .roots = NULL,
        .n_roots = 0,
        .sample_rate = 48000,
        .sample_size = 65536,
        .channels = 2,
        .random_crop = true,
        .drop_last = true,
        .phase_flip = true,
        .silence_db = -60.0f,
        .seed = 42,
        .cache_bytes = (size_t)1 << 30,
        .resample_quality = AUDIO_RESAMPLE_DEFAULT,
        .probe_threads = 4,
    };
}

audio_batching audio_batching_default(void) {
    return (audio_batching){.batch_size = 4, .shard_index = 0, .shard_count = 1};
}

static audio_status validate(const audio_dataset_config *c, audio_err *err) {
    if (!c->roots || c->n_roots <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: no folders given (datasets[] is empty)");
    for (int r = 0; r < c->n_roots; r++)
        if (!c->roots[r].path || !c->roots[r].path[0])
            return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: datasets[%d] has no path", r);
    if (c->sample_rate <= 0 || c->sample_rate > 1000000)
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: sample_rate %d out of range", c->sample_rate);
    if (c->sample_size <= 0 || c->sample_size > ((int64_t)1 << 36))
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: sample_size %lld out of range",
                             (long long)c->sample_size);
    if (c->channels != 1 && c->channels != 2)
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: channels must be 1 or 2 (SAT forces mono or stereo), got %d",
                             c->channels);
    if (isnan(c->silence_db)) return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: silence_db is NaN");
    return AUDIO_OK;
}

/* Trailing slashes removed ("/" stays), so relpaths never start with '/'. */
static char *root_copy(const char *p) {
    char *s = audio_strdup(p);
    if (!s) return NULL;
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/') s[--n] = '\0';
    return s;
}

audio_status audio_dataset_open(const audio_dataset_config *cfg, audio_dataset **out, audio_err *err) {
    *out = NULL;
    audio_status st = validate(cfg, err);
    if (st != AUDIO_OK) return st;
    audio_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
    ds->cfg = *cfg;
    pthread_mutex_init(&ds->cache_mu, NULL);
    pthread_mutex_init(&ds->perm_mu, NULL);
    ds->roots = calloc((size_t)cfg->n_roots, sizeof *ds->roots);
    if (!ds->roots) {
        audio_dataset_close(ds);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
    }
    ds->cfg.roots = ds->roots;
    for (int r = 0; r < cfg->n_roots; r++) {
        ds->roots[r].id = audio_strdup(cfg->roots[r].id ? cfg->roots[r].id : "");
        ds->roots[r].path = root_copy(cfg->roots[r].path);
        if (!ds->roots[r].id || !ds->roots[r].path) {
            audio_dataset_close(ds);
            return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
        }
    }
    st = ds_scan_and_probe(ds, err);
    if (st == AUDIO_OK) st = ds_attach_metadata(ds, ds->files, ds->n_files, err);
    if (st != AUDIO_OK) {
        audio_dataset_close(ds);
        return st;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < ds->n_files; i++) {
        if (ds->files[i].rejected) {
            ds->n_rejected++;
            ds_file_free(&ds->files[i]);
        } else {
            ds->files[k++] = ds->files[i];
        }
    }
    ds->n_files = k;
    if (ds->n_files == 0) {
        char where[400] = "";
        size_t w = 0;
        for (int r = 0; r < cfg->n_roots && w < sizeof where; r++)
            w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", r ? ", " : "", ds->roots[r].path);
        audio_err_set(err, AUDIO_ERR_EMPTY,
                      "dataset: no usable audio in %s (%lld audio-named file(s) skipped as unreadable or "
                      "empty, %lld rejected by \"__reject__\"; looked for .wav .mp3 .flac .ogg .aif .aiff "
                      ".opus)",
                      where, (long long)ds->n_skipped, (long long)ds->n_rejected);
        audio_dataset_close(ds);
        return AUDIO_ERR_EMPTY;
    }
    for (int64_t i = 0; i < ds->n_files; i++) {
        atomic_init(&ds->files[i].dead, 0);
        ds->decoded_total += (size_t)ds->files[i].length * (size_t)ds->files[i].channels * sizeof(float);
        if (ds->files[i].meta.n > ds->max_meta) ds->max_meta = ds->files[i].meta.n;
    }
    ds->table = calloc((size_t)ds->n_files, sizeof *ds->table);
    if (!ds->table) {
        audio_dataset_close(ds);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
    }
    audio_log(AUDIO_LOG_INFO, "dataset: %lld usable file(s), %lld skipped, %lld rejected",
              (long long)ds->n_files, (long long)ds->n_skipped, (long long)ds->n_rejected);
    *out = ds;
    return AUDIO_OK;
}

void audio_dataset_close(audio_dataset *ds) {
    if (!ds) return;
    for (cache_entry *e = ds->lru_head; e;) {
        cache_entry *n = e->next;
        audio_clip_free(&e->clip);
        free(e);
        e = n;
    }
    free(ds->table);
    for (int i = 0; i < PERM_CACHE; i++)
        if (ds->perms[i]) {
            free(ds->perms[i]->perm);
            free(ds->perms[i]);
        }
    for (int64_t i = 0; i < ds->n_files; i++) ds_file_free(&ds->files[i]);
    free(ds->files);
    if (ds->roots)
        for (int r = 0; r < ds->cfg.n_roots; r++) {
            free((char *)ds->roots[r].id);
            free((char *)ds->roots[r].path);
        }
    free(ds->roots);
    pthread_mutex_destroy(&ds->cache_mu);
    pthread_mutex_destroy(&ds->perm_mu);
    free(ds);
}

int64_t audio_dataset_size(const audio_dataset *ds) { return ds->n_files; }
int64_t audio_dataset_skipped(const audio_dataset *ds) { return ds->n_skipped; }
int64_t audio_dataset_rejected(const audio_dataset *ds) { return ds->n_rejected; }

audio_status audio_dataset_file_info(const audio_dataset *ds, int64_t i, audio_dataset_file *out) {
    if (i < 0 || i >= ds->n_files) return AUDIO_ERR_INVALID;
    const ds_file *f = &ds->files[i];
    *out = (audio_dataset_file){
        .path = f->path, .relpath = f->relpath, .id = ds->roots[f->root].id, .channels = f->channels,
        .rate = f->rate, .frames = f->frames, .length = f->length, .format = f->format,
        .n_meta = f->meta.n, .meta = f->meta.kv,
    };
    return AUDIO_OK;
}

void audio_dataset_stats_get(const audio_dataset *ds, audio_dataset_stats *out) {
    audio_dataset *m = (audio_dataset *)ds; /* the mutex and atomics are not logically state */
    out->cache_hits = atomic_load(&m->st_hits);
    out->cache_misses = atomic_load(&m->st_misses);
    out->decodes = atomic_load(&m->st_decodes);
    out->ranged_reads = atomic_load(&m->st_ranged);
    out->replacements = atomic_load(&m->st_replacements);
    out->failed_files = atomic_load(&m->st_failed);
    out->decode_seconds = (double)atomic_load(&m->st_decode_ns) * 1e-9;
    pthread_mutex_lock(&m->cache_mu);
    out->cache_bytes = m->cache_used;
    pthread_mutex_unlock(&m->cache_mu);
}

int ds_max_meta(const audio_dataset *ds) { return ds->max_meta; }

/* ---- epoch orders --------------------------------------------------------------------------- */

static ds_perm *perm_make(const audio_dataset *ds, uint64_t epoch) {
    ds_perm *p = calloc(1, sizeof *p);
    int64_t N = ds->n_files;
    if (!p || !(p->perm = malloc((size_t)N * sizeof *p->perm))) {
        free(p);
        return NULL;
    }
    p->epoch = epoch;
    for (int64_t i = 0; i < N; i++) p->perm[i] = i;
    /* Fisher-Yates, each swap's index keyed by (seed, epoch, i). */
    for (int64_t i = N - 1; i > 0; i--) {
        int64_t j = (int64_t)audio_below(audio_key(ds->cfg.seed, P_PERM, epoch, (uint64_t)i, 0), (uint64_t)i + 1);
        int64_t t = p->perm[i];
        p->perm[i] = p->perm[j];
        p->perm[j] = t;
    }
    return p;
}

ds_perm *ds_perm_get(audio_dataset *ds, uint64_t epoch, audio_err *err) {
    pthread_mutex_lock(&ds->perm_mu);
    for (int i = 0; i < PERM_CACHE; i++) {
        ds_perm *p = ds->perms[i];
        if (p && p->epoch == epoch) {
            p->refs++;
            pthread_mutex_unlock(&ds->perm_mu);
            return p;
        }
    }
    ds_perm *p = perm_make(ds, epoch);
    if (!p) {
        pthread_mutex_unlock(&ds->perm_mu);
        audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory for the epoch order");
        return NULL;
    }
    p->refs = 1;
    /* Replace an unpinned cached order, preferring the oldest epoch; with all pinned the new
     * order is used uncached (freed when its last user puts it). */
    int slot = -1;
    for (int i = 0; i < PERM_CACHE; i++) {
        ds_perm *q = ds->perms[i];
        if (!q) {
            slot = i;
            break;
        }
        if (q->refs == 0 && (slot < 0 || q->epoch < ds->perms[slot]->epoch)) slot = i;
    }
    if (slot >= 0) {
        if (ds->perms[slot]) {
            free(ds->perms[slot]->perm);
            free(ds->perms[slot]);
        }
        ds->perms[slot] = p;
    }
    pthread_mutex_unlock(&ds->perm_mu);
    return p;
}

void ds_perm_put(audio_dataset *ds, ds_perm *p) {
    if (!p) return;
    pthread_mutex_lock(&ds->perm_mu);
    bool cached = false;
    for (int i = 0; i < PERM_CACHE; i++) cached |= ds->perms[i] == p;
    bool drop = --p->refs == 0 && !cached;
    pthread_mutex_unlock(&ds->perm_mu);
    if (drop) {
        free(p->perm);
        free(p);
    }
}

/* ---- positions -------------------------------------------------------------------------------- */

int64_t ds_epoch_items(const audio_dataset *ds, const audio_batching *b) {
    return b->shard_count > 1 ? ds->n_files / b->shard_count : ds->n_files;
}

int64_t audio_dataset_batches_per_epoch(const audio_dataset *ds, const audio_batching *b) {
    int64_t n = ds_epoch_items(ds, b);
    if (b->batch_size <= 0) return 0;
    return ds->cfg.drop_last ? n / b->batch_size : (n + b->batch_size - 1) / b->batch_size;
}

audio_position audio_dataset_normalize(const audio_dataset *ds, const audio_batching *b, audio_position pos) {
    uint64_t n = (uint64_t)ds_epoch_items(ds, b), B = (uint64_t)b->batch_size;
    if (pos.cursor >= n || (ds->cfg.drop_last && pos.cursor + B > n)) return (audio_position){pos.epoch + 1, 0};
    return pos;
}

int ds_batch_len(const audio_dataset *ds, const audio_batching *b, audio_position pos) {
    uint64_t n = (uint64_t)ds_epoch_items(ds, b);
    uint64_t left = n - pos.cursor;
    return (int)(left < (uint64_t)b->batch_size ? left : (uint64_t)b->batch_size);
}

audio_position ds_next_pos(const audio_dataset *ds, const audio_batching *b, audio_position pos) {
    pos.cursor += (uint64_t)ds_batch_len(ds, b, pos);
    return audio_dataset_normalize(ds, b, pos);
}

/* ---- batches ----------------------------------------------------------------------------------- */

typedef struct batch_impl {
    audio_batch pub; /* first: audio_batch_free casts back */
    audio_meta_kv *kv;
    char *text;
} batch_impl;

audio_status ds_batch_alloc(const audio_dataset *ds, int n, audio_batch **out, audio_err *err) {
    *out = NULL;
    batch_impl *b = calloc(1, sizeof *b);
    int64_t C = ds->cfg.channels, T = ds->cfg.sample_size;
    int per = ITEM_BUILTINS + ds_max_meta(ds);
    if (b) {
        b->pub.audio = malloc((size_t)n * (size_t)C * (size_t)T * sizeof(float));
        b->pub.padding_mask = malloc((size_t)n * (size_t)T * sizeof(float));
        b->pub.items = calloc((size_t)n, sizeof(audio_item));
        b->kv = calloc((size_t)n * (size_t)per, sizeof(audio_meta_kv));
        b->text = calloc((size_t)n, ITEM_TEXT);
    }
    if (!b || !b->pub.audio || !b->pub.padding_mask || !b->pub.items || !b->kv || !b->text) {
        if (b) audio_batch_free(&b->pub);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory for a batch of %d x %lld x %lld", n,
                             (long long)C, (long long)T);
    }
    b->pub.batch_size = n;
    b->pub.channels = (int)C;
    b->pub.frames = T;
    *out = &b->pub;
    return AUDIO_OK;
}

void audio_batch_free(audio_batch *pub) {
    if (!pub) return;
    batch_impl *b = (batch_impl *)pub;
    free(b->pub.audio);
    free(b->pub.padding_mask);
    free(b->pub.items);
    free(b->kv);
    free(b->text);
    free(b);
}

void ds_job_for(const audio_dataset *ds, const audio_batching *bt, const ds_perm *p, audio_batch *pub, int j,
                item_job *job) {
    batch_impl *b = (batch_impl *)pub;
    int64_t C = ds->cfg.channels, T = ds->cfg.sample_size;
    int per = ITEM_BUILTINS + ds_max_meta(ds);
    uint64_t W = bt->shard_count > 1 ? (uint64_t)bt->shard_count : 1;
    uint64_t r = bt->shard_count > 1 ? (uint64_t)bt->shard_index : 0;
    job->epoch = pub->pos.epoch;
    job->gpos = (pub->pos.cursor + (uint64_t)j) * W + r;
    job->file = p->perm[job->gpos];
    job->audio = pub->audio + (int64_t)j * C * T;
    job->mask = pub->padding_mask + (int64_t)j * T;
    job->item = &pub->items[j];
    job->kv = b->kv + (int64_t)j * per;
    job->text = b->text + (int64_t)j * ITEM_TEXT;
}

static audio_status check_batching(const audio_dataset *ds, const audio_batching *b, audio_err *err) {
    if (b->batch_size <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: batch_size must be positive, got %d", b->batch_size);
    if (b->shard_count < 1 || b->shard_index < 0 || b->shard_index >= b->shard_count)
        return audio_err_set(err, AUDIO_ERR_INVALID, "dataset: shard %d of %d is invalid", b->shard_index,
                             b->shard_count);
    if (audio_dataset_batches_per_epoch(ds, b) == 0)
        return audio_err_set(err, AUDIO_ERR_EMPTY,
                             "dataset: %lld usable file(s)%s cannot fill one batch of %d with drop_last",
                             (long long)ds_epoch_items(ds, b), b->shard_count > 1 ? " per shard" : "",
                             b->batch_size);
    return AUDIO_OK;
}

audio_status ds_check_batching(const audio_dataset *ds, const audio_batching *b, audio_err *err) {
    return check_batching(ds, b, err);
}

audio_status audio_dataset_read_batch(audio_dataset *ds, const audio_batching *bt, audio_position pos,
                                      audio_batch **out, audio_err *err) {
    *out = NULL;
    audio_status st = check_batching(ds, bt, err);
    if (st != AUDIO_OK) return st;
    pos = audio_dataset_normalize(ds, bt, pos);
    ds_perm *p = ds_perm_get(ds, pos.epoch, err);
    if (!p) return AUDIO_ERR_NOMEM;
    audio_batch *b;
    st = ds_batch_alloc(ds, ds_batch_len(ds, bt, pos), &b, err);
    if (st == AUDIO_OK) {
        b->pos = pos;
        b->next = ds_next_pos(ds, bt, pos);
        for (int j = 0; j < b->batch_size && st == AUDIO_OK; j++) {
            item_job job;
            ds_job_for(ds, bt, p, b, j, &job);
            st = ds_build_item(ds, &job, NULL, err);
        }
        if (st != AUDIO_OK) audio_batch_free(b);
        else *out = b;
    }
    ds_perm_put(ds, p);
    return st;
}

/* ---- metadata lookups ----------------------------------------------------------------------------- */

const audio_meta_kv *audio_item_meta(const audio_item *it, const char *key) {
    for (int i = 0; i < it->n_meta; i++)
        if (strcmp(it->meta[i].key, key) == 0) return &it->meta[i];
    return NULL;
}

const char *audio_item_str(const audio_item *it, const char *key) {
    const audio_meta_kv *kv = audio_item_meta(it, key);
    return kv ? kv->str : NULL;
}

bool audio_item_num(const audio_item *it, const char *key, double *out) {
    const audio_meta_kv *kv = audio_item_meta(it, key);
    if (!kv || kv->type != AUDIO_META_NUMBER) return false;
    *out = kv->num;
    return true;
}
