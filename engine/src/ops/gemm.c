/* GEMM through OpenBLAS, parallelised by the engine's pool.
 *
 * OpenBLAS runs single-threaded (set once in ds_set_threads); large products are split
 * into row (or column) blocks of C, one single-threaded sgemm per pool thread. Splitting
 * C does not change any element's reduction order, so results are identical for any
 * thread count. Small products run on the calling thread. */
#include <cblas.h>
#include <stdatomic.h>

#include "core/pool.h"
#include "ops/ops.h"

/* OpenBLAS extension (declared in its cblas.h on Debian, repeated for other BLAS headers). */
void openblas_set_num_threads(int num_threads);

static atomic_ullong g_flops;

uint64_t ds_gemm_flops(void) { return atomic_load(&g_flops); }

void ds_flops_add(uint64_t n) { atomic_fetch_add_explicit(&g_flops, (unsigned long long)n, memory_order_relaxed); }

void ds_set_threads(int n) {
    ds_pool_init(n);
    openblas_set_num_threads(1);
}

void ds_gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    atomic_fetch_add_explicit(&g_flops, (unsigned long long)(2 * M * N * (K > 0 ? K : 0)), memory_order_relaxed);
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

typedef struct gemm_job {
    bool ta, tb, split_rows;
    int64_t M, N, K, lda, ldb, ldc, block;
    float alpha, beta;
    const float *A, *B;
    float *C;
} gemm_job;

static void gemm_part(void *arg, int64_t b, int64_t e) {
    const gemm_job *j = arg;
    for (int64_t p = b; p < e; p++) {
        if (j->split_rows) {
            int64_t r0 = p * j->block, r1 = r0 + j->block < j->M ? r0 + j->block : j->M;
            /* rows r0..r1 of op(A): A + r0*lda (no trans) or A + r0 (trans) */
            const float *A = j->ta ? j->A + r0 : j->A + r0 * j->lda;
            ds_gemm_serial(j->ta, j->tb, r1 - r0, j->N, j->K, j->alpha, A, j->lda, j->B, j->ldb, j->beta,
                           j->C + r0 * j->ldc, j->ldc);
        } else {
            int64_t c0 = p * j->block, c1 = c0 + j->block < j->N ? c0 + j->block : j->N;
            const float *B = j->tb ? j->B + c0 * j->ldb : j->B + c0;
            ds_gemm_serial(j->ta, j->tb, j->M, c1 - c0, j->K, j->alpha, j->A, j->lda, B, j->ldb, j->beta,
                           j->C + c0, j->ldc);
        }
    }
}

void ds_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
             const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    int nt = ds_pool_threads();
    double work = (double)M * (double)N * (double)K;
    if (nt <= 1 || work < 2.0e6) {
        ds_gemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_job j = {ta, tb, M >= N, M, N, K, lda, ldb, ldc, 0, alpha, beta, A, B, C};
    int64_t dim = j.split_rows ? M : N;
    /* One block per thread, rounded to a multiple of 16 so kernels keep full panels. */
    int64_t block = (dim + nt - 1) / nt;
    block = (block + 15) / 16 * 16;
    if (block < 16) block = 16;
    j.block = block;
    int64_t parts = (dim + block - 1) / block;
    ds_parallel_for(parts, 1, gemm_part, &j);
}
