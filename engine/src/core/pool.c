/* DESIGN
 * Jobs are published under `mu` into one of two slots (alternating), then `generation`
 * is bumped and the condvar broadcast. A worker that sees a new generation copies the
 * job description under `mu` and registers itself in `active`; it then claims chunks
 * from the slot's atomic counter and leaves `active` when the counter is exhausted.
 * The submitter runs chunks too, and returns only when every chunk is finished and no
 * worker is registered, so a slot is never reused while a late worker still reads it
 * (a worker copies only the current job, and the next job uses the other slot).
 * Workers spin briefly before sleeping so the back-to-back small ops of a forward pass
 * do not each pay a futex wake-up. `busy` makes concurrent or nested submissions run
 * inline instead of queueing, so the cores are never oversubscribed. */
#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 64

typedef struct job {
    ds_range_fn fn;
    void *arg;
    int64_t n, chunk, nchunks;
    atomic_llong next;
    atomic_llong done;
} job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t threads[MAX_THREADS];
    int nthreads; /* including the submitting thread; written only by init/shutdown */
    bool running;
    job slots[2];
    unsigned long long gen_mu; /* generation, read/written under mu */
    atomic_ullong generation;  /* mirror for lock-free spinning */
    atomic_int active;
    atomic_bool stop;
    atomic_flag busy;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .busy = ATOMIC_FLAG_INIT};

static _Thread_local int tls_in_job;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static void run_chunks(job *j, ds_range_fn fn, void *arg, int64_t n, int64_t chunk,
                       int64_t nchunks) {
    for (;;) {
        int64_t c = atomic_fetch_add(&j->next, 1);
        if (c >= nchunks) break;
        int64_t b = c * chunk, e = b + chunk;
        if (e > n) e = n;
        fn(arg, b, e);
        atomic_fetch_add_explicit(&j->done, 1, memory_order_release);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    tls_in_job = 1;
    unsigned long long seen = 0;
    for (;;) {
        for (int spins = 0; spins < 4000; spins++) {
            if (atomic_load_explicit(&P.generation, memory_order_acquire) != seen ||
                atomic_load(&P.stop))
                break;
            cpu_relax();
        }
        pthread_mutex_lock(&P.mu);
        while (P.gen_mu == seen && !atomic_load(&P.stop)) pthread_cond_wait(&P.cv, &P.mu);
        if (atomic_load(&P.stop)) {
            pthread_mutex_unlock(&P.mu);
            break;
        }
        seen = P.gen_mu;
        job *j = &P.slots[seen & 1];
        ds_range_fn fn = j->fn;
        void *arg = j->arg;
        int64_t n = j->n, chunk = j->chunk, nchunks = j->nchunks;
        atomic_fetch_add(&P.active, 1);
        pthread_mutex_unlock(&P.mu);
        run_chunks(j, fn, arg, n, chunk, nchunks);
        atomic_fetch_sub_explicit(&P.active, 1, memory_order_release);
    }
    return NULL;
}

void ds_pool_shutdown(void) {
    if (!P.running) return;
    pthread_mutex_lock(&P.mu);
    atomic_store(&P.stop, true);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
    for (int i = 1; i < P.nthreads; i++) pthread_join(P.threads[i], NULL);
    P.running = false;
    P.nthreads = 1;
    atomic_store(&P.stop, false);
}

void ds_pool_init(int nthreads) {
    if (nthreads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (int)n : 1;
    }
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
    if (P.running && P.nthreads == nthreads) return;
    ds_pool_shutdown();
    P.nthreads = nthreads;
    P.running = true;
    for (int i = 1; i < nthreads; i++) {
        if (pthread_create(&P.threads[i], NULL, worker_main, NULL) != 0) {
            P.nthreads = i; /* run with what we got */
            break;
        }
    }
}

int ds_pool_threads(void) { return P.running ? P.nthreads : 1; }

void ds_parallel_for(int64_t n, int64_t grain, ds_range_fn fn, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int nt = ds_pool_threads();
    if (nt <= 1 || n <= grain || tls_in_job) {
        fn(arg, 0, n);
        return;
    }
    if (atomic_flag_test_and_set(&P.busy)) {
        fn(arg, 0, n);
        return;
    }
    /* About 4 chunks per thread for balance, never below the grain. */
    int64_t chunk = (n + 4 * nt - 1) / (4 * nt);
    if (chunk < grain) chunk = grain;
    int64_t nchunks = (n + chunk - 1) / chunk;

    pthread_mutex_lock(&P.mu);
    P.gen_mu++;
    job *j = &P.slots[P.gen_mu & 1];
    j->fn = fn;
    j->arg = arg;
    j->n = n;
    j->chunk = chunk;
    j->nchunks = nchunks;
    atomic_store(&j->next, 0);
    atomic_store(&j->done, 0);
    atomic_store_explicit(&P.generation, P.gen_mu, memory_order_release);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);

    tls_in_job = 1;
    run_chunks(j, fn, arg, n, chunk, nchunks);
    tls_in_job = 0;
    while (atomic_load_explicit(&j->done, memory_order_acquire) < nchunks ||
           atomic_load_explicit(&P.active, memory_order_acquire) > 0)
        cpu_relax();
    atomic_flag_clear(&P.busy);
}
