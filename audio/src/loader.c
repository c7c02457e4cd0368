/* The threaded batch loader.
 *
 * DESIGN
 *   Threads: W decode workers (created here) and one consumer (the trainer's thread, which
 *   calls next/position/destroy). Work is handed out item by item in batch order: claim
 *   (seq, j) = item j of the seq-th batch from the start. Workers claim only while
 *   seq < delivered + prefetch, so at most `prefetch` batches are built or ready ahead of the
 *   consumer; the batch for seq lives in slots[seq % prefetch] until the consumer takes it.
 *   Items of one batch are built by different workers in parallel, into disjoint parts of
 *   the batch's buffers, so the first batch is ready after ~B/W item times.
 *
 *   Lock: one mutex `mu` guards every field marked (mu), including slot contents; nothing
 *   is computed while holding it except the batch allocation (malloc, no page touching) and
 *   the epoch order when a new epoch starts (ds_perm_get, O(files)). Workers wait on
 *   `work_cv` (room to claim), the consumer on `ready_cv` (its batch finished).
 *
 *   Cancellation: `stop` is an atomic polled by workers between items and by the decoders
 *   between chunks (it is passed down as the cancel flag), so destroy returns within one
 *   chunk's decode time even while a long file is being read.
 *
 *   Errors: the first failing item marks its slot; next() returns that status for the batch
 *   and every later call (sticky), so a trainer sees the reason once it reaches that batch. */
#include "dataset_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    audio_batch *batch; /* (mu) NULL while free */
    ds_perm *perm;      /* (mu) the epoch order its items index */
    int remaining;      /* (mu) items not yet built */
    audio_status st;    /* (mu) first item failure */
    audio_err err;      /* (mu) its message */
} slot;

struct audio_loader {
    audio_dataset *ds;
    audio_batching bt;
    int workers, depth;
    pthread_t *threads;
    int started;

    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv;
    slot *slots;             /* [depth] */
    uint64_t claim_seq;      /* (mu) batch whose items are being claimed */
    int claim_item;          /* (mu) next item of claim_seq to claim */
    audio_position claim_pos;/* (mu) position of batch claim_seq */
    uint64_t deliver_seq;    /* (mu) batch next() hands out next */
    audio_position consumed; /* (mu) position after the last delivered batch */
    audio_status failed;     /* (mu) sticky failure */
    audio_err fail_err;      /* (mu) */
    atomic_int stop;
};

audio_loader_config audio_loader_config_default(void) {
    return (audio_loader_config){.batching = audio_batching_default(), .workers = 2, .prefetch = 4,
                                 .start = {0, 0}};
}

/* Under mu: makes sure batch claim_seq has a slot with an allocated batch. */
static audio_status open_claim_slot(audio_loader *l, audio_err *err) {
    slot *s = &l->slots[l->claim_seq % (uint64_t)l->depth];
    if (s->batch) return AUDIO_OK;
    audio_position pos = l->claim_pos;
    audio_status st = ds_batch_alloc(l->ds, ds_batch_len(l->ds, &l->bt, pos), &s->batch, err);
    if (st != AUDIO_OK) return st;
    s->perm = ds_perm_get(l->ds, pos.epoch, err);
    if (!s->perm) {
        audio_batch_free(s->batch);
        s->batch = NULL;
        return AUDIO_ERR_NOMEM;
    }
    s->batch->pos = pos;
    s->batch->next = ds_next_pos(l->ds, &l->bt, pos);
    s->remaining = s->batch->batch_size;
    s->st = AUDIO_OK;
    return AUDIO_OK;
}

static void *worker_main(void *arg) {
    audio_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!atomic_load(&l->stop)) {
        if (l->failed != AUDIO_OK || l->claim_seq >= l->deliver_seq + (uint64_t)l->depth) {
            pthread_cond_wait(&l->work_cv, &l->mu);
            continue;
        }
        audio_err aerr;
        if (open_claim_slot(l, &aerr) != AUDIO_OK) {
            l->failed = aerr.code;
            l->fail_err = aerr;
            pthread_cond_broadcast(&l->ready_cv);
            continue;
        }
        slot *s = &l->slots[l->claim_seq % (uint64_t)l->depth];
        int j = l->claim_item;
        if (++l->claim_item == s->batch->batch_size) {
            l->claim_seq++;
            l->claim_item = 0;
            l->claim_pos = s->batch->next;
        }
        item_job job;
        ds_job_for(l->ds, &l->bt, s->perm, s->batch, j, &job);
        pthread_mutex_unlock(&l->mu);

        audio_status st = ds_build_item(l->ds, &job, &l->stop, &aerr);

        pthread_mutex_lock(&l->mu);
        if (st != AUDIO_OK && s->st == AUDIO_OK) {
            s->st = st;
            s->err = aerr;
        }
        if (--s->remaining == 0) pthread_cond_broadcast(&l->ready_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

audio_status audio_loader_create(audio_dataset *ds, const audio_loader_config *cfg, audio_loader **out,
                                 audio_err *err) {
    *out = NULL;
    audio_status st = ds_check_batching(ds, &cfg->batching, err);
    if (st != AUDIO_OK) return st;
    if (cfg->workers < 1 || cfg->workers > 256)
        return audio_err_set(err, AUDIO_ERR_INVALID, "loader: workers must be 1..256, got %d", cfg->workers);
    if (cfg->prefetch < 2 || cfg->prefetch > 1024)
        return audio_err_set(err, AUDIO_ERR_INVALID, "loader: prefetch must be 2..1024, got %d", cfg->prefetch);
    audio_loader *l = calloc(1, sizeof *l);
    if (!l) return audio_err_set(err, AUDIO_ERR_NOMEM, "loader: out of memory");
    l->ds = ds;
    l->bt = cfg->batching;
    l->workers = cfg->workers;
    l->depth = cfg->prefetch;
    l->claim_pos = audio_dataset_normalize(ds, &l->bt, cfg->start);
    l->consumed = l->claim_pos;
    atomic_init(&l->stop, 0);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, NULL);
    l->slots = calloc((size_t)l->depth, sizeof *l->slots);
    l->threads = calloc((size_t)l->workers, sizeof *l->threads);
    if (!l->slots || !l->threads) {
        audio_loader_destroy(l);
        return audio_err_set(err, AUDIO_ERR_NOMEM, "loader: out of memory");
    }
    for (int i = 0; i < l->workers; i++) {
        if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0) {
            audio_loader_destroy(l);
            return audio_err_set(err, AUDIO_ERR_INTERNAL, "loader: cannot start worker thread %d", i);
        }
        l->started++;
    }
    *out = l;
    return AUDIO_OK;
}

audio_status audio_loader_next(audio_loader *l, audio_batch **out, audio_err *err) {
    *out = NULL;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        slot *s = &l->slots[l->deliver_seq % (uint64_t)l->depth];
        if (s->batch && s->remaining == 0) {
            if (s->st != AUDIO_OK && l->failed == AUDIO_OK) {
                l->failed = s->st;
                l->fail_err = s->err;
            }
            if (l->failed != AUDIO_OK) break;
            *out = s->batch;
            l->consumed = s->batch->next;
            ds_perm_put(l->ds, s->perm);
            memset(s, 0, sizeof *s);
            l->deliver_seq++;
            pthread_cond_broadcast(&l->work_cv);
            pthread_mutex_unlock(&l->mu);
            return AUDIO_OK;
        }
        if (l->failed != AUDIO_OK) break;
        pthread_cond_wait(&l->ready_cv, &l->mu);
    }
    audio_status st = l->failed;
    if (err) *err = l->fail_err;
    pthread_mutex_unlock(&l->mu);
    return st;
}

audio_position audio_loader_position(const audio_loader *l) {
    audio_loader *m = (audio_loader *)l; /* locking is not a logical mutation */
    pthread_mutex_lock(&m->mu);
    audio_position p = m->consumed;
    pthread_mutex_unlock(&m->mu);
    return p;
}

void audio_loader_destroy(audio_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->stop, 1);
    pthread_cond_broadcast(&l->work_cv);
    pthread_cond_broadcast(&l->ready_cv);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->started; i++) pthread_join(l->threads[i], NULL);
    if (l->slots)
        for (int i = 0; i < l->depth; i++) {
            audio_batch_free(l->slots[i].batch);
            ds_perm_put(l->ds, l->slots[i].perm);
        }
    free(l->slots);
    free(l->threads);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->ready_cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
