/* Bump allocator for per-step activations, saved values and activation gradients.
 *
 * One block of memory, sized before the first step by a planning pass (see ds_ctx.dry):
 * in counting mode the arena hands out no memory and only records how much a step
 * needs. ds_arena_reset() rewinds to empty; nothing is freed individually.
 * If a step outgrows the block (shapes changed without re-planning) the arena falls
 * back to extra heap chunks and the next reset regrows the block to the new peak, so
 * work is never lost; ds_arena_stats() reports it. Not thread-safe: one owner. */
#ifndef DS_ARENA_H
#define DS_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ds_arena_chunk ds_arena_chunk;

/* Where an arena's memory comes from: NULL = host heap (the CPU path). A device arena
 * (device/device.h) allocates its block and overflow chunks through these and zeroes with
 * `zero`; alloc returns NULL on failure (the device records why), and the arena then hands
 * out NULL instead of aborting, so the step fails with the device's error. */
typedef struct ds_arena_mem {
    void *(*alloc)(void *user, size_t bytes);
    void (*free)(void *user, void *p, size_t bytes);
    void (*zero)(void *user, void *p, size_t bytes);
    void *user;
} ds_arena_mem;

typedef struct ds_arena {
    char *base;
    size_t cap, used;
    size_t peak;           /* largest `used + overflow` seen since creation */
    size_t overflow;       /* bytes in extra chunks this round */
    ds_arena_chunk *extra; /* heap chunks used when the block is full */
    bool counting;         /* planning mode: return NULL, count bytes */
    size_t regrows;
    const ds_arena_mem *mem; /* NULL: host memory */
} ds_arena;

#define DS_ARENA_ALIGN 64

void ds_arena_init(ds_arena *a);
/* Makes the block at least `bytes` large (frees and reallocates if smaller). 0 on success. */
int ds_arena_reserve(ds_arena *a, size_t bytes);
void *ds_arena_alloc(ds_arena *a, size_t bytes);
void *ds_arena_calloc(ds_arena *a, size_t bytes);
size_t ds_arena_mark(const ds_arena *a);
/* Rewinds to a mark taken earlier this round (only valid while no overflow chunk is live). */
void ds_arena_rewind(ds_arena *a, size_t mark);
void ds_arena_reset(ds_arena *a);
void ds_arena_free(ds_arena *a);

#endif
