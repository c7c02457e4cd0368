/* audio/: SAT `audio_dir` datasets and a threaded batch loader.
 *
 * A dataset is a list of roots [{id, path}], scanned recursively for .wav .mp3 .flac .ogg
 * .aif .aiff .opus (case-insensitive; hidden files and folders skipped), sorted by path.
 * Every file is probed at open; unusable ones (unreadable, empty, 0 frames, truncated
 * header, not audio, not a regular file) are skipped and reported once through the log
 * callback. Sidecar metadata (FILE.ext.json, FILE.json, metadata.jsonl, metadata.csv: see
 * audio/README.md) replaces SAT's Python custom_metadata_module; "__reject__" drops a file.
 *
 * Each item follows SAT's SampleDataset: decode → resample to sample_rate →
 * PadCrop_Normalized_T(sample_size, random_crop) → silence check (peak below silence_db:
 * replaced by another item) → phase flip (p = 0.5) → clamp [-1, 1] → force mono/stereo.
 *
 * Determinism: a batch is a pure function of (seed, position). Epoch e's order is a
 * permutation keyed by (seed, e); an item's crop offset, flip and any replacement draw from a
 * generator keyed by (seed, e, position in the epoch), so a loader restarted at a saved
 * audio_position returns exactly the batches it would have returned (as long as the files
 * on disk are the same and none failed to decode).
 *
 * Threads: audio_dataset_* functions may be called from any thread concurrently, except
 * open/close. A loader is driven by one consumer thread (next/destroy). Batches borrow
 * strings from their dataset: free every batch before closing the dataset. */
#ifndef AUDIO_DATASET_H
#define AUDIO_DATASET_H

#include "audio/resample.h"
#include "audio/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct audio_dataset audio_dataset;

typedef struct audio_dataset_root {
    const char *id;   /* SAT datasets[].id; reported in item metadata as "id" */
    const char *path; /* folder to scan */
} audio_dataset_root;

typedef struct audio_dataset_config {
    const audio_dataset_root *roots; /* n_roots entries; open copies them */
    int n_roots;
    int sample_rate;      /* model rate, Hz; files are resampled to it */
    int64_t sample_size;  /* frames per item (SAT sample_size) */
    int channels;         /* 1: mean of channels (SAT Mono); 2: SAT Stereo */
    bool random_crop;     /* SAT random_crop, default true */
    bool drop_last;       /* SAT drop_last, default true */
    bool phase_flip;      /* SAT PhaseFlipper(p=0.5), default true */
    float silence_db;     /* replace items whose peak (dBFS) is below this; default -60;
                             -INFINITY disables the check */
    uint64_t seed;        /* default 42 (SAT's --seed) */
    size_t cache_bytes;   /* LRU budget for decoded, resampled audio; 0: no cache;
                             default 1 GiB. The cache is used when the whole dataset fits it:
                             otherwise (random access would mostly miss) and for files larger
                             than it, each crop is read on its own where the format seeks. */
    bool cache_always;    /* cache whole files even when the dataset does not fit (tests) */
    audio_resample_quality resample_quality; /* default AUDIO_RESAMPLE_DEFAULT */
    int probe_threads;    /* threads probing files at open; default 4 */
} audio_dataset_config;

audio_dataset_config audio_dataset_config_default(void);

/* Scans, probes and reads sidecars. Fails with AUDIO_ERR_IO when a root is missing or not
 * a folder, AUDIO_ERR_FORMAT on a malformed sidecar or manifest (names file and line),
 * AUDIO_ERR_EMPTY when no usable audio remains (names the folders and how many files were
 * skipped). *out is the caller's; audio_dataset_close frees it. */
audio_status audio_dataset_open(const audio_dataset_config *cfg, audio_dataset **out, audio_err *err);
void audio_dataset_close(audio_dataset *ds);

/* ---- metadata ----------------------------------------------------------------------------- */

typedef enum audio_meta_type { AUDIO_META_STRING = 0, AUDIO_META_NUMBER = 1 } audio_meta_type;

/* One key/value. str is always set (a number's text: "3", "0.25", or the CSV/JSON text);
 * num is valid when type == AUDIO_META_NUMBER. JSON booleans are numbers 0/1; JSON arrays
 * and objects are strings holding their compact JSON. */
typedef struct audio_meta_kv {
    const char *key;
    audio_meta_type type;
    const char *str;
    double num;
} audio_meta_kv;

typedef struct audio_dataset_file {
    const char *path;    /* as scanned: root path + "/" + relpath */
    const char *relpath; /* relative to its root */
    const char *id;      /* its root's id */
    int channels, rate;  /* as probed */
    int64_t frames;      /* as probed, at the file's rate */
    int64_t length;      /* frames at the dataset's sample_rate */
    const char *format;  /* libsndfile's format name */
    int n_meta;          /* sidecar keys only */
    const audio_meta_kv *meta;
} audio_dataset_file;

int64_t audio_dataset_size(const audio_dataset *ds);     /* usable files */
int64_t audio_dataset_skipped(const audio_dataset *ds);  /* unusable files skipped at open */
int64_t audio_dataset_rejected(const audio_dataset *ds); /* files dropped by "__reject__" */
/* Describes usable file i (0 ≤ i < size); pointers live as long as the dataset. */
audio_status audio_dataset_file_info(const audio_dataset *ds, int64_t i, audio_dataset_file *out);

typedef struct audio_dataset_stats {
    int64_t cache_hits, cache_misses, decodes, ranged_reads, replacements, failed_files;
    size_t cache_bytes; /* decoded audio held now */
    double decode_seconds; /* wall time spent decoding + resampling, summed over threads */
} audio_dataset_stats;
void audio_dataset_stats_get(const audio_dataset *ds, audio_dataset_stats *out);

/* ---- positions and batches ------------------------------------------------------------------ */

/* Where the next batch starts: the epoch and the item offset in that epoch's order (per
 * shard). Save it with a checkpoint; hand it back to resume. */
typedef struct audio_position {
    uint64_t epoch;
    uint64_t cursor;
} audio_position;

typedef struct audio_batching {
    int batch_size;  /* SAT's --batch_size; default 4 */
    int shard_index; /* data-parallel rank, 0 ≤ shard_index < shard_count */
    int shard_count; /* world size; 1: no sharding. Every shard sees the same epoch order
                        and takes positions shard_index, shard_index + count, …; the tail that
                        does not divide evenly is dropped so every rank has as many batches */
} audio_batching;

audio_batching audio_batching_default(void);

/* Per-item facts plus the full metadata list (builtins and sidecar keys). */
typedef struct audio_item {
    const char *path, *relpath, *id;
    int64_t file_index;    /* usable-file index of the file actually used */
    int64_t offset;        /* crop start, frames at sample_rate */
    int64_t length;        /* L: the whole file's length at sample_rate */
    double t_start, t_end; /* SAT timestamps */
    int seconds_start;     /* floor(offset / sample_rate) */
    int seconds_total;     /* ceil(L / sample_rate) */
    int sample_rate;
    bool flipped;          /* phase flip applied */
    int replaced;          /* how many candidates were replaced (silent / failed) */
    /* path, relpath, id, seconds_start, seconds_total, sample_rate, t_start, t_end, then the
     * sidecar keys; a sidecar key with a builtin's name replaces it (as SAT's info.update). */
    int n_meta;
    const audio_meta_kv *meta;
} audio_item;

typedef struct audio_batch {
    int batch_size;       /* items in this batch (the last one of an epoch may be short
                             when drop_last is false) */
    int channels;         /* C */
    int64_t frames;       /* T = sample_size */
    float *audio;         /* [batch_size][C][T], contiguous */
    float *padding_mask;  /* [batch_size][T]: 1 real sample, 0 padding */
    audio_item *items;    /* [batch_size] */
    audio_position pos;   /* where this batch started */
    audio_position next;  /* where the following batch starts: save this to resume */
} audio_batch;

void audio_batch_free(audio_batch *b);

/* Lookups in an item's metadata; NULL / false when absent. */
const audio_meta_kv *audio_item_meta(const audio_item *it, const char *key);
const char *audio_item_str(const audio_item *it, const char *key);
bool audio_item_num(const audio_item *it, const char *key, double *out);

/* Batches per epoch for this batching (0 when none can be formed). */
int64_t audio_dataset_batches_per_epoch(const audio_dataset *ds, const audio_batching *b);
/* The canonical form of pos (an exhausted epoch moves to the next one's start). */
audio_position audio_dataset_normalize(const audio_dataset *ds, const audio_batching *b, audio_position pos);

/* Builds the batch at pos synchronously on the calling thread: exactly what a loader
 * started at pos returns first. *out is the caller's (audio_batch_free). */
audio_status audio_dataset_read_batch(audio_dataset *ds, const audio_batching *b, audio_position pos,
                                      audio_batch **out, audio_err *err);

/* ---- the loader ------------------------------------------------------------------------------ */

typedef struct audio_loader audio_loader;

typedef struct audio_loader_config {
    audio_batching batching;
    int workers;           /* decode threads, ≥ 1; default 2 */
    int prefetch;          /* batches ready or in flight ahead of the consumer, ≥ 2; default 4 */
    audio_position start;  /* first batch's position; default {0, 0} */
} audio_loader_config;

audio_loader_config audio_loader_config_default(void);

/* Starts the worker threads, which begin filling the queue at once. The dataset must
 * outlive the loader. */
audio_status audio_loader_create(audio_dataset *ds, const audio_loader_config *cfg, audio_loader **out,
                                 audio_err *err);

/* Hands over the next batch in order (caller owns; audio_batch_free). Blocks only while it
 * is not ready. A failure while building it (e.g. every file vanished) is returned here as
 * a status and repeats on later calls; the loader stays destroyable. */
audio_status audio_loader_next(audio_loader *l, audio_batch **out, audio_err *err);

/* Position after the last batch handed out by next() (or cfg.start before the first). */
audio_position audio_loader_position(const audio_loader *l);

/* Stops the workers (decoding in progress is cancelled between chunks), joins them and
 * frees undelivered batches. Any time, from the consumer thread. NULL is fine. */
void audio_loader_destroy(audio_loader *l);

/* ---- SAT dataset config JSON ----------------------------------------------------------------- */

/* What diffstudio reads from SAT's dataset config (sat-spec §1.8): dataset_type must be
 * "audio_dir"; datasets[].id/path; random_crop; drop_last. Relative paths are taken
 * relative to the JSON file's folder. custom_metadata_module is logged as ignored (Python
 * cannot run here: use sidecars). Free with audio_sat_dataset_free. */
typedef struct audio_sat_dataset {
    audio_dataset_root *roots; /* n_roots; strings owned by this struct */
    int n_roots;
    bool random_crop, drop_last;
} audio_sat_dataset;

audio_status audio_sat_dataset_load(const char *json_path, audio_sat_dataset *out, audio_err *err);
void audio_sat_dataset_free(audio_sat_dataset *d);

#endif
