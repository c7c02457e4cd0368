/* Single-producer single-consumer float ring (the pa_ringbuffer idea with C11 atomics).
 *
 * head and tail are free-running sample counters (wrap-around of size_t is harmless:
 * differences stay correct); the buffer index is counter & mask, capacity a power of two.
 * The producer owns head, the consumer owns tail; each publishes its counter with a release
 * store and reads the other's with an acquire load, so the samples written before a head
 * store are visible to the consumer that sees it. Lock-free, no allocation after init:
 * the consumer side is safe in a PortAudio callback. Exactly one producer thread and one
 * consumer thread at a time. */
#ifndef AUDIO_RING_H
#define AUDIO_RING_H

#include "audio/status.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct audio_ring {
    float *buf;
    size_t cap, mask;               /* cap = mask + 1, a power of two, in samples */
    alignas(64) atomic_size_t head; /* written by the producer */
    alignas(64) atomic_size_t tail; /* written by the consumer */
} audio_ring;

/* Capacity: the smallest power of two ≥ min_samples (≥ 2). */
audio_status audio_ring_init(audio_ring *r, size_t min_samples, audio_err *err);
void audio_ring_free(audio_ring *r);

/* Producer: copies up to n samples, returns how many fit. */
size_t audio_ring_write(audio_ring *r, const float *src, size_t n);
/* Producer: free space now (may grow concurrently, never shrink). */
size_t audio_ring_writable(audio_ring *r);

/* Consumer: copies up to n samples out, returns how many were available. */
size_t audio_ring_read(audio_ring *r, float *dst, size_t n);
/* Consumer: samples ready now (may grow concurrently, never shrink). */
size_t audio_ring_readable(audio_ring *r);
/* Consumer: drops everything written so far; returns how many samples were dropped. */
size_t audio_ring_discard(audio_ring *r);

#endif
