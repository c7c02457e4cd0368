/* SPSC float ring: see ring.h for the memory-ordering contract. */
#include "ring.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

audio_status audio_ring_init(audio_ring *r, size_t min_samples, audio_err *err) {
    size_t cap = 2;
    while (cap < min_samples && cap < ((size_t)1 << 40)) cap <<= 1;
    r->buf = calloc(cap, sizeof(float));
    if (!r->buf) return audio_err_set(err, AUDIO_ERR_NOMEM, "ring: out of memory for %zu samples", cap);
    r->cap = cap;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return AUDIO_OK;
}

void audio_ring_free(audio_ring *r) {
    free(r->buf);
    r->buf = NULL;
}

size_t audio_ring_writable(audio_ring *r) {
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->cap - (h - t);
}

size_t audio_ring_write(audio_ring *r, const float *src, size_t n) {
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&r->tail, memory_order_acquire); /* the consumer is done with those */
    size_t room = r->cap - (h - t);
    if (n > room) n = room;
    size_t at = h & r->mask, first = r->cap - at < n ? r->cap - at : n;
    memcpy(r->buf + at, src, first * sizeof(float));
    memcpy(r->buf, src + first, (n - first) * sizeof(float));
    atomic_store_explicit(&r->head, h + n, memory_order_release);
    return n;
}

size_t audio_ring_readable(audio_ring *r) {
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    return h - t;
}

size_t audio_ring_read(audio_ring *r, float *dst, size_t n) {
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&r->head, memory_order_acquire); /* samples before h are written */
    if (n > h - t) n = h - t;
    size_t at = t & r->mask, first = r->cap - at < n ? r->cap - at : n;
    memcpy(dst, r->buf + at, first * sizeof(float));
    memcpy(dst + first, r->buf, (n - first) * sizeof(float));
    atomic_store_explicit(&r->tail, t + n, memory_order_release);
    return n;
}

size_t audio_ring_discard(audio_ring *r) {
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    atomic_store_explicit(&r->tail, h, memory_order_release);
    return h - t;
}
