/* A small thread pool for everything that is not a GEMM.
 *
 * ds_parallel_for(n, grain, fn, arg) splits [0, n) into chunks of at least `grain`
 * items and runs fn(arg, begin, end) on the pool's threads and the caller's. It returns
 * when every chunk is done. One job runs at a time: a second thread that calls it
 * while a job is running (or a nested call from inside fn) runs its range serially, so
 * the pool never oversubscribes the cores. OpenBLAS keeps its own threads for GEMMs;
 * GEMMs are never issued from inside a parallel region except with the single-thread
 * variant (ds_sgemm_serial), so the two never compete. */
#ifndef DS_POOL_H
#define DS_POOL_H

#include <stdint.h>

typedef void (*ds_range_fn)(void *arg, int64_t begin, int64_t end);

/* Starts nthreads-1 workers (nthreads <= 0: the number of online CPUs). Idempotent;
 * a later call with another count restarts the pool. */
void ds_pool_init(int nthreads);
int ds_pool_threads(void);
void ds_pool_shutdown(void);
void ds_parallel_for(int64_t n, int64_t grain, ds_range_fn fn, void *arg);

#endif
