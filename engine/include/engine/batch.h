/* How data reaches the engine: batches of audio (or latents) with per-item metadata.
 * The engine knows nothing of files: a ds_batch_source fills batches (the studio wires
 * audio/'s dataset loader to it; tests use in-memory sources). */
#ifndef DS_BATCH_H
#define DS_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/status.h"

#define DS_META_MAX 16
#define DS_META_KEY_LEN 64
#define DS_META_STR_LEN 256

/* One metadata value: SAT's per-item dict entries (prompt, seconds_start, …). */
typedef struct ds_meta_kv {
    char key[DS_META_KEY_LEN];
    bool is_string;
    double number;
    char string[DS_META_STR_LEN];
} ds_meta_kv;

typedef struct ds_meta {
    int n;
    ds_meta_kv kv[DS_META_MAX];
} ds_meta;

const ds_meta_kv *ds_meta_get(const ds_meta *m, const char *key);
/* Adds or replaces a value (silently ignored when full: callers size DS_META_MAX). */
void ds_meta_set_number(ds_meta *m, const char *key, double v);
void ds_meta_set_string(ds_meta *m, const char *key, const char *s);

/* A batch: audio [B, C, T] (C = audio channels, or latent channels when pre-encoded),
 * padding_mask [B, T] (1 real, 0 padding), one ds_meta per item. The source owns the
 * memory; it stays valid until the next call to next(). */
typedef struct ds_batch {
    int B, C;
    int64_t T;
    float *audio;
    float *padding_mask;
    ds_meta *meta;
} ds_batch;

typedef struct ds_batch_source {
    void *user;
    /* Fills *b with the next batch. Blocking; returns a status (DS_ERR_CANCELLED when shut
     * down). Called from the training thread only. */
    ds_status (*next)(void *user, ds_batch *b, ds_err *err);
    /* Opaque resume position (e.g. epoch and cursor), saved in checkpoints. */
    int64_t (*position)(void *user);
    ds_status (*seek)(void *user, int64_t position, ds_err *err);
} ds_batch_source;

#endif
