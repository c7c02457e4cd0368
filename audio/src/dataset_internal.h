/* Private structures of the dataset (dataset.c, scan.c, metadata.c, item.c, loader.c). */
#ifndef AUDIO_DATASET_INTERNAL_H
#define AUDIO_DATASET_INTERNAL_H

#include "audio/dataset.h"
#include "audio/file.h"
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>

/* A sidecar key/value list owned by the dataset (keys and strings are heap copies). */
typedef struct meta_list {
    audio_meta_kv *kv;
    int n, cap;
} meta_list;

typedef struct ds_file {
    char *path;          /* owned */
    const char *relpath; /* points into path */
    int root;            /* index into audio_dataset.roots */
    int channels, rate, sf_format;
    int64_t frames;      /* probed, file rate */
    int64_t length;      /* frames at the dataset rate */
    char format[96];
    meta_list meta;
    bool rejected;       /* "__reject__" (only used while opening) */
    bool usable;         /* probe succeeded (only used while opening) */
    atomic_int dead;     /* 1 once decoding failed at run time; reported once */
} ds_file;

/* Decoded (resampled) audio of one file, shared by workers. refs > 0 pins it. */
typedef struct cache_entry {
    audio_clip clip;     /* at the dataset rate, the file's own channel count */
    int64_t file;
    int refs;            /* guarded by cache_mu */
    bool cached;         /* in the table and the LRU list */
    struct cache_entry *prev, *next; /* LRU list, most recent first; guarded by cache_mu */
} cache_entry;

/* One epoch's order: perm[i] is the file at global position i. Shared, refcounted. */
typedef struct ds_perm {
    uint64_t epoch;
    int64_t *perm;
    int refs; /* guarded by perm_mu */
} ds_perm;

enum { PERM_CACHE = 3 };

struct audio_dataset {
    audio_dataset_config cfg;  /* roots points at `roots` below */
    audio_dataset_root *roots; /* owned strings */
    ds_file *files;            /* usable files only, sorted by (root, path) */
    int64_t n_files, n_skipped, n_rejected;
    int max_meta;              /* most sidecar keys on one file */
    size_t decoded_total;      /* every file decoded at the dataset rate, bytes */

    pthread_mutex_t cache_mu;  /* guards the cache fields and cache_entry.refs/prev/next */
    cache_entry **table;       /* [n_files]: the cached entry of a file or NULL */
    cache_entry *lru_head, *lru_tail;
    size_t cache_used;

    pthread_mutex_t perm_mu;   /* guards perms[] */
    ds_perm *perms[PERM_CACHE];

    /* statistics: relaxed atomics, written by workers */
    atomic_llong st_hits, st_misses, st_decodes, st_ranged, st_replacements, st_failed;
    atomic_llong st_decode_ns;
};

/* scan.c: fills ds->files (usable, sorted), n_skipped; logs each skipped file once. */
audio_status ds_scan_and_probe(audio_dataset *ds, audio_err *err);
void ds_file_free(ds_file *f);

/* metadata.c */
/* Reads a whole small file; *buf is NUL-terminated, caller frees. */
audio_status ds_slurp(const char *path, char **buf, size_t *len, audio_err *err);
void meta_list_free(meta_list *m);
/* Attaches sidecar metadata to every file of ds->files[0..n) and marks rejected ones. */
audio_status ds_attach_metadata(audio_dataset *ds, ds_file *files, int64_t n, audio_err *err);

/* item.c: builds item j of a batch at global epoch position g (see dataset.c). */
typedef struct item_job {
    uint64_t epoch;
    uint64_t gpos;        /* position in the epoch's global order */
    int64_t file;         /* perm[gpos] */
    float *audio;         /* [C][T] destination */
    float *mask;          /* [T] */
    audio_item *item;
    audio_meta_kv *kv;    /* room for 8 + max sidecar keys */
    char *text;           /* room for the builtins' number texts (ITEM_TEXT bytes) */
} item_job;
enum { ITEM_BUILTINS = 8, ITEM_TEXT = 8 * 32 };
audio_status ds_build_item(audio_dataset *ds, const item_job *job, atomic_int *cancel, audio_err *err);

/* dataset.c: shared helpers for the loader */
ds_perm *ds_perm_get(audio_dataset *ds, uint64_t epoch, audio_err *err);
void ds_perm_put(audio_dataset *ds, ds_perm *p);
int64_t ds_epoch_items(const audio_dataset *ds, const audio_batching *b); /* per shard */
int ds_batch_len(const audio_dataset *ds, const audio_batching *b, audio_position pos);
audio_position ds_next_pos(const audio_dataset *ds, const audio_batching *b, audio_position pos);
int ds_max_meta(const audio_dataset *ds);
/* Validates a batching against the dataset (sizes, shard, at least one batch per epoch). */
audio_status ds_check_batching(const audio_dataset *ds, const audio_batching *b, audio_err *err);
/* Allocates an empty batch for `n` items (audio, mask, items, kv and text storage). */
audio_status ds_batch_alloc(const audio_dataset *ds, int n, audio_batch **out, audio_err *err);
/* The job for item j of batch b (at b->pos) with permutation p. */
void ds_job_for(const audio_dataset *ds, const audio_batching *bt, const ds_perm *p, audio_batch *b, int j,
                item_job *job);

#endif
