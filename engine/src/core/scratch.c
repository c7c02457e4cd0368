#include "core/scratch.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/assert.h"

typedef struct tls_bufs {
    float *p[DS_SCRATCH_SLOTS];
    size_t n[DS_SCRATCH_SLOTS];
} tls_bufs;

static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void free_bufs(void *v) {
    tls_bufs *b = v;
    for (int i = 0; i < DS_SCRATCH_SLOTS; i++) free(b->p[i]);
    free(b);
}

static void make_key(void) { pthread_key_create(&g_key, free_bufs); }

float *ds_tls_scratch(int slot, size_t n) {
    DS_ASSERT(slot >= 0 && slot < DS_SCRATCH_SLOTS);
    pthread_once(&g_once, make_key);
    tls_bufs *b = pthread_getspecific(g_key);
    if (!b) {
        b = calloc(1, sizeof *b);
        DS_ASSERT(b);
        pthread_setspecific(g_key, b);
    }
    if (b->n[slot] < n) {
        free(b->p[slot]);
        b->p[slot] = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
        DS_ASSERTF(b->p[slot], "out of memory for %zu floats of scratch", n);
        b->n[slot] = n;
    }
    return b->p[slot];
}
