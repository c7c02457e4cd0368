#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

#include "core/assert.h"

struct ds_arena_chunk {
    ds_arena_chunk *next;
    size_t size;
    char *ext; /* device arenas: the chunk's memory (host arenas use data[]) */
    _Alignas(DS_ARENA_ALIGN) char data[];
};

static size_t align_up(size_t n) { return (n + DS_ARENA_ALIGN - 1) & ~(size_t)(DS_ARENA_ALIGN - 1); }

void ds_arena_init(ds_arena *a) { memset(a, 0, sizeof *a); }

int ds_arena_reserve(ds_arena *a, size_t bytes) {
    bytes = align_up(bytes);
    if (bytes <= a->cap) return 0;
    DS_ASSERT(a->used == 0 && a->extra == NULL);
    if (a->mem) {
        if (a->base) a->mem->free(a->mem->user, a->base, a->cap);
        a->base = a->mem->alloc(a->mem->user, bytes ? bytes : DS_ARENA_ALIGN);
        a->cap = a->base ? bytes : 0;
        return a->base ? 0 : -1;
    }
    free(a->base);
    a->base = aligned_alloc(DS_ARENA_ALIGN, bytes ? bytes : DS_ARENA_ALIGN);
    a->cap = a->base ? bytes : 0;
    return a->base ? 0 : -1;
}

void *ds_arena_alloc(ds_arena *a, size_t bytes) {
    bytes = align_up(bytes ? bytes : 1);
    if (a->counting) {
        a->used += bytes;
        if (a->used > a->peak) a->peak = a->used;
        return NULL;
    }
    if (a->used + bytes <= a->cap) {
        void *p = a->base + a->used;
        a->used += bytes;
        if (a->used + a->overflow > a->peak) a->peak = a->used + a->overflow;
        return p;
    }
    /* Block full: an extra chunk keeps the step going; reset() will regrow. */
    if (a->mem) {
        ds_arena_chunk *c = aligned_alloc(DS_ARENA_ALIGN, align_up(sizeof *c)); /* the struct is 64-aligned */
        char *p = c ? a->mem->alloc(a->mem->user, bytes) : NULL;
        if (!p) {
            free(c);
            return NULL;
        }
        c->ext = p;
        c->size = bytes;
        c->next = a->extra;
        a->extra = c;
        a->overflow += bytes;
        if (a->used + a->overflow > a->peak) a->peak = a->used + a->overflow;
        return p;
    }
    ds_arena_chunk *c = aligned_alloc(DS_ARENA_ALIGN, align_up(sizeof *c + bytes));
    DS_ASSERTF(c != NULL, "out of memory allocating %zu bytes of activations", bytes);
    c->size = bytes;
    c->next = a->extra;
    a->extra = c;
    a->overflow += bytes;
    if (a->used + a->overflow > a->peak) a->peak = a->used + a->overflow;
    return c->data;
}

void *ds_arena_calloc(ds_arena *a, size_t bytes) {
    void *p = ds_arena_alloc(a, bytes);
    if (p) {
        if (a->mem)
            a->mem->zero(a->mem->user, p, bytes);
        else
            memset(p, 0, bytes);
    }
    return p;
}

size_t ds_arena_mark(const ds_arena *a) { return a->used; }

void ds_arena_rewind(ds_arena *a, size_t mark) {
    DS_ASSERT(mark <= a->used);
    if (a->extra == NULL) a->used = mark;
}

void ds_arena_reset(ds_arena *a) {
    bool overflowed = a->extra != NULL;
    while (a->extra) {
        ds_arena_chunk *n = a->extra->next;
        if (a->mem) a->mem->free(a->mem->user, a->extra->ext, a->extra->size);
        free(a->extra);
        a->extra = n;
    }
    a->overflow = 0;
    a->used = 0;
    if (overflowed && !a->counting) {
        a->regrows++;
        size_t want = a->peak + a->peak / 8;
        if (ds_arena_reserve(a, want) != 0 && !a->mem)
            DS_ASSERTF(0, "out of memory growing the activation arena to %zu bytes", want);
    }
}

void ds_arena_free(ds_arena *a) {
    ds_arena_reset(a);
    if (a->mem) {
        if (a->base) a->mem->free(a->mem->user, a->base, a->cap);
        memset(a, 0, sizeof *a);
        return;
    }
    free(a->base);
    memset(a, 0, sizeof *a);
}
