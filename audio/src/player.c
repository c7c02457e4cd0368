/* PortAudio playback: DESIGN
 *
 * Threads and what they touch:
 *   control (UI) thread: the API. Publishes a request `req` = (gen, slot, position) with one
 *     atomic store, sets `state` and `play_gen`, and wakes the feeder. Swaps slot buffers
 *     under feed_mu.
 *   feeder thread: owns the read head. On a new request it stops writing, publishes
 *     `prod` = (gen, position) and waits until the callback acknowledges (`ack_gen`) that it
 *     has discarded the ring; then it refills the ring from the slot (under feed_mu, so a
 *     load cannot free the buffer it reads) and, after the clip's last frame, sets `end_gen`.
 *   PortAudio callback: on a new `prod` gen it discards the ring (a consumer-side move of
 *     its own tail), sets `pos` to the new base and acknowledges. While PLAYING (and the
 *     flush for the latest command is done) it copies frames from the ring and advances
 *     `pos`; a short read at the clip's end turns PLAYING into ENDED (CAS). It calls no
 *     allocator, takes no lock, does no I/O.
 * Generations are 20-bit counters compared for equality; positions 40-bit frame counts.
 * Lock order: feed_mu only (the callback never locks). */
#include "audio/player.h"
#include "audio/resample.h"
#include "internal.h"
#include "ring.h"

#include <portaudio.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The callback may only touch lock-free atomics (a locked fallback would be a mutex). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_POINTER_LOCK_FREE == 2,
               "the PortAudio callback needs lock-free 64-bit and int atomics");

enum { FEED_FRAMES = 1024 };
#define POS_BITS 40
#define POS_MASK ((UINT64_C(1) << POS_BITS) - 1)
#define GEN_MASK 0xFFFFFu

static uint64_t pack(uint32_t gen, int slot, int64_t pos) {
    return ((uint64_t)(gen & GEN_MASK) << 44) | ((uint64_t)(slot & 15) << POS_BITS) | ((uint64_t)pos & POS_MASK);
}
static uint32_t gen_of(uint64_t v) { return (uint32_t)(v >> 44); }
static int slot_of(uint64_t v) { return (int)((v >> POS_BITS) & 15); }
static int64_t pos_of(uint64_t v) { return (int64_t)(v & POS_MASK); }

typedef struct clip_slot {
    float *data; /* planar [channels][frames] at the player's rate; guarded by feed_mu */
    int64_t frames;
} clip_slot;

struct audio_player {
    PaStream *stream;
    int rate, channels;
    bool quiet;
    char device[128];
    audio_ring ring; /* interleaved frames */

    pthread_mutex_t feed_mu;
    pthread_cond_t feed_cv;
    clip_slot slots[AUDIO_PLAYER_SLOTS]; /* (feed_mu) */
    atomic_llong slot_frames[AUDIO_PLAYER_SLOTS]; /* readable without the lock */
    bool quit;                           /* (feed_mu) */
    pthread_t feeder;
    bool feeder_started;
    float *feed_buf;                     /* feeder-private interleaving scratch */

    uint32_t ctl_gen;        /* control thread only */
    atomic_ullong req;       /* control → feeder: pack(gen, slot, pos) */
    atomic_ullong prod;      /* feeder → callback: pack(gen, slot, pos) of the flush */
    atomic_uint ack_gen;     /* callback → feeder/readers: last flushed gen */
    atomic_uint end_gen;     /* feeder → callback: gen whose clip is fully in the ring */
    atomic_uint play_gen;    /* control → callback: sound only once this gen is flushed */
    atomic_int state;        /* control; callback CASes PLAYING → ENDED */
    atomic_llong pos;        /* callback only: frames of the clip played */
    atomic_llong underruns;  /* callback only */
    uint32_t cb_gen;         /* callback-private */
};

const char *audio_player_state_str(audio_player_state s) {
    switch (s) {
    case AUDIO_PLAYER_STOPPED: return "stopped";
    case AUDIO_PLAYER_PLAYING: return "playing";
    case AUDIO_PLAYER_PAUSED: return "paused";
    case AUDIO_PLAYER_ENDED: return "ended";
    }
    return "?";
}

audio_player_config audio_player_config_default(void) {
    return (audio_player_config){.sample_rate = 0, .channels = 0, .device = -1, .latency = 0, .quiet = true};
}

/* ---- stderr capture around PortAudio set-up ----------------------------------------------- */

typedef struct {
    int saved;
    FILE *tmp;
} quiet_fd;

static void quiet_begin(quiet_fd *q, bool on) {
    q->saved = -1;
    q->tmp = NULL;
    if (!on) return;
    fflush(stderr);
    q->tmp = tmpfile();
    if (!q->tmp) return;
    q->saved = dup(2);
    if (q->saved < 0 || dup2(fileno(q->tmp), 2) < 0) {
        if (q->saved >= 0) close(q->saved);
        fclose(q->tmp);
        q->tmp = NULL;
        q->saved = -1;
    }
}

static void quiet_end(quiet_fd *q) {
    if (!q->tmp) return;
    fflush(stderr);
    dup2(q->saved, 2);
    close(q->saved);
    rewind(q->tmp);
    char line[512];
    while (fgets(line, sizeof line, q->tmp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0]) audio_log(AUDIO_LOG_DEBUG, "portaudio: %s", line);
    }
    fclose(q->tmp);
}

/* Pa_Initialize/Pa_Terminate are reference counted but not thread-safe. */
static pthread_mutex_t pa_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- the callback (real-time: no malloc, no locks, no I/O) ---------------------------------- */

static int pa_callback(const void *in, void *out, unsigned long frames, const PaStreamCallbackTimeInfo *ti,
                       PaStreamCallbackFlags flags, void *user) {
    (void)in;
    (void)ti;
    (void)flags;
    audio_player *p = user;
    float *o = out;
    size_t C = (size_t)p->channels, want = (size_t)frames * C;
    uint64_t prod = atomic_load_explicit(&p->prod, memory_order_acquire);
    if (gen_of(prod) != p->cb_gen) {
        /* The feeder stopped writing before publishing prod: everything in the ring is stale. */
        audio_ring_discard(&p->ring);
        p->cb_gen = gen_of(prod);
        atomic_store_explicit(&p->pos, pos_of(prod), memory_order_relaxed);
        atomic_store_explicit(&p->ack_gen, p->cb_gen, memory_order_release);
    }
    int st = atomic_load_explicit(&p->state, memory_order_acquire);
    uint32_t pg = atomic_load_explicit(&p->play_gen, memory_order_acquire);
    size_t got = 0;
    if (st == AUDIO_PLAYER_PLAYING && pg == p->cb_gen) {
        got = audio_ring_read(&p->ring, o, want - want % C);
        atomic_store_explicit(&p->pos, atomic_load_explicit(&p->pos, memory_order_relaxed) + (long long)(got / C),
                              memory_order_relaxed);
        if (got < want) {
            if (atomic_load_explicit(&p->end_gen, memory_order_acquire) == p->cb_gen &&
                audio_ring_readable(&p->ring) == 0) {
                int expect = AUDIO_PLAYER_PLAYING;
                atomic_compare_exchange_strong(&p->state, &expect, AUDIO_PLAYER_ENDED);
            } else {
                atomic_fetch_add_explicit(&p->underruns, 1, memory_order_relaxed);
            }
        }
    }
    memset(o + got, 0, (want - got) * sizeof(float));
    return paContinue;
}

/* ---- the feeder ------------------------------------------------------------------------------ */

static void timed_wait(audio_player *p, long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&p->feed_cv, &p->feed_mu, &ts);
}

static void *feeder_main(void *arg) {
    audio_player *p = arg;
    uint32_t gen = 0;
    int slot = 0;
    int64_t head = 0;
    bool flushed = true, ended = false;
    int C = p->channels;
    pthread_mutex_lock(&p->feed_mu);
    while (!p->quit) {
        uint64_t r = atomic_load_explicit(&p->req, memory_order_acquire);
        if (gen_of(r) != gen) {
            gen = gen_of(r);
            slot = slot_of(r);
            head = pos_of(r);
            if (head > p->slots[slot].frames) head = p->slots[slot].frames;
            ended = false;
            flushed = false;
            atomic_store_explicit(&p->prod, pack(gen, slot, head), memory_order_release);
        }
        if (!flushed) {
            flushed = atomic_load_explicit(&p->ack_gen, memory_order_acquire) == gen;
            if (!flushed) {
                timed_wait(p, 2);
                continue;
            }
        }
        const clip_slot *s = &p->slots[slot];
        while (!ended) {
            int64_t left = s->data ? s->frames - head : 0;
            if (left <= 0) {
                ended = true;
                atomic_store_explicit(&p->end_gen, gen, memory_order_release);
                break;
            }
            int64_t n = (int64_t)(audio_ring_writable(&p->ring) / (size_t)C);
            if (n > FEED_FRAMES) n = FEED_FRAMES;
            if (n > left) n = left;
            if (n <= 0) break;
            for (int c = 0; c < C; c++) {
                const float *x = s->data + (int64_t)c * s->frames + head;
                for (int64_t i = 0; i < n; i++) p->feed_buf[i * C + c] = x[i];
            }
            audio_ring_write(&p->ring, p->feed_buf, (size_t)(n * C));
            head += n;
        }
        /* The ring holds ~250 ms: waking every 10 ms refills it long before it drains. With
         * nothing left to feed, sleep longer; request() signals feed_cv anyway. */
        timed_wait(p, ended ? 100 : 10);
    }
    pthread_mutex_unlock(&p->feed_mu);
    return NULL;
}

/* ---- open / close ----------------------------------------------------------------------------- */

static audio_status pa_fail(audio_err *err, const char *what, PaError e) {
    const PaHostErrorInfo *h = e == paUnanticipatedHostError ? Pa_GetLastHostErrorInfo() : NULL;
    return audio_err_set(err, AUDIO_ERR_DEVICE, "audio output: %s: %s%s%s", what, Pa_GetErrorText(e),
                         h && h->errorText ? ": " : "", h && h->errorText ? h->errorText : "");
}

audio_status audio_player_open(const audio_player_config *cfg, audio_player **out, audio_err *err) {
    *out = NULL;
    audio_player *p = calloc(1, sizeof *p);
    if (!p) return audio_err_set(err, AUDIO_ERR_NOMEM, "audio output: out of memory");
    p->quiet = cfg->quiet;
    pthread_mutex_init(&p->feed_mu, NULL);
    pthread_cond_init(&p->feed_cv, NULL);
    quiet_fd q;
    pthread_mutex_lock(&pa_mu);
    quiet_begin(&q, p->quiet);
    PaError e = Pa_Initialize();
    audio_status st = AUDIO_OK;
    bool inited = e == paNoError;
    const PaDeviceInfo *di = NULL;
    PaDeviceIndex dev = paNoDevice;
    if (!inited) {
        st = pa_fail(err, "cannot initialise PortAudio", e);
    } else {
        dev = cfg->device >= 0 ? cfg->device : Pa_GetDefaultOutputDevice();
        di = dev != paNoDevice && dev < Pa_GetDeviceCount() ? Pa_GetDeviceInfo(dev) : NULL;
        if (!di || di->maxOutputChannels < 1)
            st = audio_err_set(err, AUDIO_ERR_DEVICE, "audio output: no output device (PortAudio sees %d device(s))",
                               Pa_GetDeviceCount());
    }
    if (st == AUDIO_OK) {
        const PaHostApiInfo *api = Pa_GetHostApiInfo(di->hostApi);
        snprintf(p->device, sizeof p->device, "%s: %s", api ? api->name : "?", di->name);
        p->channels = cfg->channels > 0 ? cfg->channels : di->maxOutputChannels >= 2 ? 2 : 1;
        p->rate = cfg->sample_rate > 0 ? cfg->sample_rate : (int)lrint(di->defaultSampleRate);
        if (p->channels > 2 || p->channels > di->maxOutputChannels || p->rate <= 0)
            st = audio_err_set(err, AUDIO_ERR_INVALID, "audio output: %s cannot play %d channel(s) at %d Hz",
                               p->device, p->channels, p->rate);
    }
    if (st == AUDIO_OK) {
        /* ~0.25 s of ring: the feeder wakes every few ms, so this is many wake-ups of margin. */
        st = audio_ring_init(&p->ring, (size_t)p->rate * (size_t)p->channels / 4, err);
        p->feed_buf = malloc((size_t)FEED_FRAMES * (size_t)p->channels * sizeof(float));
        if (st == AUDIO_OK && !p->feed_buf) st = audio_err_set(err, AUDIO_ERR_NOMEM, "audio output: out of memory");
    }
    if (st == AUDIO_OK) {
        PaStreamParameters op = {.device = dev, .channelCount = p->channels, .sampleFormat = paFloat32,
                                 .suggestedLatency = cfg->latency > 0 ? cfg->latency : di->defaultHighOutputLatency};
        e = Pa_OpenStream(&p->stream, NULL, &op, p->rate, paFramesPerBufferUnspecified, paNoFlag, pa_callback, p);
        if (e != paNoError) {
            p->stream = NULL;
            st = pa_fail(err, p->device, e);
        }
    }
    if (st == AUDIO_OK && (e = Pa_StartStream(p->stream)) != paNoError) st = pa_fail(err, p->device, e);
    if (st != AUDIO_OK) {
        if (p->stream) Pa_CloseStream(p->stream);
        p->stream = NULL;
        if (inited) Pa_Terminate();
    }
    quiet_end(&q);
    pthread_mutex_unlock(&pa_mu);
    if (st == AUDIO_OK) {
        if (pthread_create(&p->feeder, NULL, feeder_main, p) == 0) p->feeder_started = true;
        else st = audio_err_set(err, AUDIO_ERR_INTERNAL, "audio output: cannot start the feeder thread");
    }
    if (st != AUDIO_OK) {
        audio_player_close(p);
        return st;
    }
    *out = p;
    return AUDIO_OK;
}

void audio_player_close(audio_player *p) {
    if (!p) return;
    if (p->feeder_started) {
        pthread_mutex_lock(&p->feed_mu);
        p->quit = true;
        pthread_cond_signal(&p->feed_cv);
        pthread_mutex_unlock(&p->feed_mu);
        pthread_join(p->feeder, NULL);
    }
    if (p->stream) {
        quiet_fd q;
        pthread_mutex_lock(&pa_mu);
        quiet_begin(&q, p->quiet);
        Pa_AbortStream(p->stream);
        Pa_CloseStream(p->stream);
        Pa_Terminate();
        quiet_end(&q);
        pthread_mutex_unlock(&pa_mu);
    }
    for (int i = 0; i < AUDIO_PLAYER_SLOTS; i++) free(p->slots[i].data);
    audio_ring_free(&p->ring);
    free(p->feed_buf);
    pthread_cond_destroy(&p->feed_cv);
    pthread_mutex_destroy(&p->feed_mu);
    free(p);
}

/* ---- control ------------------------------------------------------------------------------------ */

/* Publishes a new request and wakes the feeder. Sound resumes only after its flush. */
static void request(audio_player *p, int slot, int64_t pos) {
    p->ctl_gen = (p->ctl_gen + 1) & GEN_MASK;
    atomic_store_explicit(&p->play_gen, p->ctl_gen, memory_order_release);
    atomic_store_explicit(&p->req, pack(p->ctl_gen, slot, pos < 0 ? 0 : pos), memory_order_release);
    pthread_mutex_lock(&p->feed_mu);
    pthread_cond_signal(&p->feed_cv);
    pthread_mutex_unlock(&p->feed_mu);
}

static audio_status check_slot(const audio_player *p, int slot, bool loaded, audio_err *err) {
    if (slot < 0 || slot >= AUDIO_PLAYER_SLOTS)
        return audio_err_set(err, AUDIO_ERR_INVALID, "player: slot %d out of range 0..%d", slot, AUDIO_PLAYER_SLOTS - 1);
    if (loaded && atomic_load(&((audio_player *)p)->slot_frames[slot]) <= 0)
        return audio_err_set(err, AUDIO_ERR_INVALID, "player: slot %d is empty", slot);
    return AUDIO_OK;
}

audio_status audio_player_load(audio_player *p, int slot, const audio_clip *clip, audio_err *err) {
    audio_status st = check_slot(p, slot, false, err);
    if (st != AUDIO_OK) return st;
    if (!clip || clip->channels <= 0 || clip->frames <= 0 || clip->rate <= 0 || !clip->data)
        return audio_err_set(err, AUDIO_ERR_INVALID, "player: empty or malformed clip");
    if (clip->frames > (int64_t)POS_MASK / 4)
        return audio_err_set(err, AUDIO_ERR_INVALID, "player: clip too long");
    audio_clip rs = {0}, mapped = {0};
    const audio_clip *src = clip;
    if (clip->rate != p->rate) {
        st = audio_resample(clip, p->rate, AUDIO_RESAMPLE_MEDIUM, &rs, err);
        src = &rs;
    }
    if (st == AUDIO_OK && src->channels != p->channels) {
        st = audio_clip_force_channels(src, p->channels, &mapped, err);
        src = &mapped;
    } else if (st == AUDIO_OK && src == clip) {
        st = audio_clip_alloc(&mapped, clip->channels, clip->frames, clip->rate, err);
        if (st == AUDIO_OK) memcpy(mapped.data, clip->data, (size_t)clip->frames * (size_t)clip->channels * sizeof(float));
        src = &mapped;
    }
    if (st != AUDIO_OK) {
        audio_clip_free(&rs);
        audio_clip_free(&mapped);
        return st;
    }
    /* take ownership of src's buffer */
    float *data = src->data;
    int64_t frames = src->frames;
    if (src == &rs) rs.data = NULL;
    else mapped.data = NULL;
    audio_clip_free(&rs);
    audio_clip_free(&mapped);
    pthread_mutex_lock(&p->feed_mu);
    float *old = p->slots[slot].data;
    p->slots[slot].data = data;
    p->slots[slot].frames = frames;
    atomic_store(&p->slot_frames[slot], frames);
    pthread_mutex_unlock(&p->feed_mu);
    free(old);
    uint64_t r = atomic_load(&p->req);
    if (slot_of(r) == slot && p->ctl_gen != 0) request(p, slot, audio_player_position(p));
    return AUDIO_OK;
}

void audio_player_unload(audio_player *p, int slot) {
    if (check_slot(p, slot, false, NULL) != AUDIO_OK) return;
    pthread_mutex_lock(&p->feed_mu);
    float *old = p->slots[slot].data;
    p->slots[slot].data = NULL;
    p->slots[slot].frames = 0;
    atomic_store(&p->slot_frames[slot], 0);
    pthread_mutex_unlock(&p->feed_mu);
    free(old);
}

audio_status audio_player_play(audio_player *p, int slot, audio_err *err) {
    audio_status st = check_slot(p, slot, true, err);
    if (st != AUDIO_OK) return st;
    request(p, slot, 0);
    atomic_store(&p->state, AUDIO_PLAYER_PLAYING);
    return AUDIO_OK;
}

void audio_player_pause(audio_player *p) {
    int expect = AUDIO_PLAYER_PLAYING;
    atomic_compare_exchange_strong(&p->state, &expect, AUDIO_PLAYER_PAUSED);
}

void audio_player_resume(audio_player *p) {
    int st = atomic_load(&p->state);
    if (st == AUDIO_PLAYER_ENDED) {
        request(p, slot_of(atomic_load(&p->req)), 0);
        atomic_store(&p->state, AUDIO_PLAYER_PLAYING);
    } else if (st == AUDIO_PLAYER_PAUSED) {
        atomic_store(&p->state, AUDIO_PLAYER_PLAYING);
    }
}

void audio_player_stop(audio_player *p) {
    atomic_store(&p->state, AUDIO_PLAYER_STOPPED);
    request(p, slot_of(atomic_load(&p->req)), 0);
}

audio_status audio_player_seek(audio_player *p, double seconds, audio_err *err) {
    if (!(seconds >= 0) || !isfinite(seconds))
        return audio_err_set(err, AUDIO_ERR_INVALID, "player: cannot seek to %g s", seconds);
    int slot = slot_of(atomic_load(&p->req));
    int64_t frames = atomic_load(&p->slot_frames[slot]);
    int64_t pos = (int64_t)llround(seconds * p->rate);
    if (pos > frames) pos = frames;
    int expect = AUDIO_PLAYER_ENDED;
    atomic_compare_exchange_strong(&p->state, &expect, AUDIO_PLAYER_PAUSED);
    request(p, slot, pos);
    return AUDIO_OK;
}

audio_status audio_player_switch(audio_player *p, int slot, audio_err *err) {
    audio_status st = check_slot(p, slot, true, err);
    if (st != AUDIO_OK) return st;
    int64_t pos = audio_player_position(p), frames = atomic_load(&p->slot_frames[slot]);
    request(p, slot, pos < frames ? pos : frames);
    return AUDIO_OK;
}

/* ---- getters (any thread) ------------------------------------------------------------------------ */

int64_t audio_player_position(const audio_player *p) {
    audio_player *m = (audio_player *)p; /* atomics only */
    uint64_t r = atomic_load_explicit(&m->req, memory_order_acquire);
    if (atomic_load_explicit(&m->ack_gen, memory_order_acquire) != gen_of(r)) {
        int64_t frames = atomic_load(&m->slot_frames[slot_of(r)]);
        return pos_of(r) < frames ? pos_of(r) : frames; /* requested, not yet flushed */
    }
    return atomic_load_explicit(&m->pos, memory_order_relaxed);
}

double audio_player_position_seconds(const audio_player *p) {
    return (double)audio_player_position(p) / (double)p->rate;
}

audio_player_state audio_player_get_state(const audio_player *p) {
    return (audio_player_state)atomic_load(&((audio_player *)p)->state);
}

int audio_player_slot(const audio_player *p) { return slot_of(atomic_load(&((audio_player *)p)->req)); }

int64_t audio_player_slot_frames(const audio_player *p, int slot) {
    if (slot < 0 || slot >= AUDIO_PLAYER_SLOTS) return 0;
    return atomic_load(&((audio_player *)p)->slot_frames[slot]);
}

int audio_player_rate(const audio_player *p) { return p->rate; }
int audio_player_channels(const audio_player *p) { return p->channels; }
int64_t audio_player_underruns(const audio_player *p) { return atomic_load(&((audio_player *)p)->underruns); }
const char *audio_player_device_name(const audio_player *p) { return p->device; }
