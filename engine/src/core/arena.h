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

typedef struct ds_arena {
    char *base;
    size_t cap, used;
    size_t peak;           /* largest `used + overflow` seen since creation */
    size_t overflow;       /* bytes in extra chunks this round */
    ds_arena_chunk *extra; /* heap chunks used when the block is full */
    bool counting;         /* planning mode: return NULL, count bytes */
    size_t regrows;
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
