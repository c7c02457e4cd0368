// GEMMs through cuBLASLt, and nn.Linear on top of them.
//
// Precision (device.h): "32" runs fp32 inputs with CUBLAS_COMPUTE_32F (TF32 off, so results
// compare with the CPU's sgemm at fp32 rounding); the mixed modes give cuBLASLt bf16/fp16
// inputs with fp32 accumulation and an fp32 output (what torch.autocast's matmul computes
// before it rounds the output; keeping it fp32 here costs nothing and loses nothing).
// Weights come from the parameters' half copy (refreshed by the optimiser); activations and
// gradients are cast into a workspace slot per call.
//
// Row-major on column-major: C[M,N] = op(A)·op(B) is, seen column-major, Cᵀ[N,M] =
// op(B)ᵀ·op(A)ᵀ, so cuBLASLt gets m = N, n = M, A := B (transposed iff tb), B := A
// (transposed iff ta). The bias epilogue adds a length-m vector per column of Cᵀ: bias[N].
#include <string.h>

#include "cuda/cuda_internal.cuh"

cu_dtype cu_gemm_type(const ds_device *d) {
    return d->precision == DS_PREC_BF16_MIXED ? CU_BF16 : d->precision == DS_PREC_16_MIXED ? CU_F16 : CU_F32;
}

static cudaDataType cu_cuda_type(cu_dtype t) {
    return t == CU_BF16 ? CUDA_R_16BF : t == CU_F16 ? CUDA_R_16F : CUDA_R_32F;
}

__global__ void k_cast_bf16(const float *__restrict__ s, __nv_bfloat16 *__restrict__ d, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        d[i] = __float2bfloat16_rn(s[i]);
}

__global__ void k_cast_f16(const float *__restrict__ s, __half *__restrict__ d, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        d[i] = __float2half_rn(s[i]); // ±inf beyond 65504: the loss scaler sees it
}

void cu_cast(ds_device *d, const float *src, void *dst, int64_t n, cu_dtype t, const char *op) {
    if (d->status != DS_OK || n <= 0) return;
    if (t == CU_BF16)
        k_cast_bf16<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(src, (__nv_bfloat16 *)dst, n);
    else
        k_cast_f16<<<cu_blocks(n, 256), 256, 0, cu_stream(d)>>>(src, (__half *)dst, n);
    CU_LAUNCHED(d, op);
}

const void *cu_operand(ds_device *d, const float *p, int64_t n, int slot, const char *op) {
    cu_dtype t = cu_gemm_type(d);
    if (t == CU_F32) return p;
    if (d->param_lp && p >= d->param_base && p + n <= d->param_base + d->param_n)
        return (const char *)d->param_lp + (size_t)(p - d->param_base) * 2;
    void *h = cu_scratch(d, slot, (size_t)n * 2, op);
    if (!h) return NULL;
    cu_cast(d, p, h, n, t, op);
    return h;
}

// ---------- cuBLASLt ----------

static int align_of(const void *p) {
    uintptr_t a = (uintptr_t)p;
    int al = 16;
    while (al > 1 && (a % (uintptr_t)al) != 0) al /= 2;
    return al;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

int cu_matmul(ds_device *d, const char *op, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
              const void *A, int64_t lda, int64_t sA, const void *B, int64_t ldb, int64_t sB, float beta, float *C,
              int64_t ldc, int64_t sC, int64_t batch, cu_dtype in, const float *bias) {
    if (d->status != DS_OK) return 0;
    if (M <= 0 || N <= 0 || batch <= 0) return 1;
    ds_cuda *c = cu(d);
    if (K <= 0) { // C = beta·C: no product; only reachable with empty inner dims
        if (beta == 0.0f)
            for (int64_t b = 0; b < batch; b++)
                CU_CHECK(d, op, cudaMemset2DAsync(C + b * sC, (size_t)ldc * 4, 0, (size_t)N * 4, (size_t)M, c->stream));
        return d->status == DS_OK;
    }
    if (bias && (beta != 0.0f || align_of(bias) < 16)) return -1;
    cudaDataType it = cu_cuda_type(in);
    cublasOperation_t opa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opb = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    uint64_t ar = tb ? K : N, ac = tb ? N : K; // A_cm = B_row
    uint64_t br = ta ? M : K, bc = ta ? K : M; // B_cm = A_row
    int alA = align_of(B), alB = align_of(A), alC = align_of(C);
    bool use_bias = bias && beta == 0.0f;
    uint64_t key[4];
    key[0] = (uint64_t)M | ((uint64_t)N << 32);
    key[1] = (uint64_t)K | ((uint64_t)batch << 32);
    key[2] = mix(mix(mix((uint64_t)lda, (uint64_t)ldb), (uint64_t)ldc), mix(mix((uint64_t)sA, (uint64_t)sB), (uint64_t)sC));
    key[3] = (uint64_t)ta | (uint64_t)tb << 1 | (uint64_t)in << 2 | (uint64_t)use_bias << 4 | (uint64_t)(beta != 0.0f) << 5 |
             (uint64_t)alA << 8 | (uint64_t)alB << 16 | (uint64_t)alC << 24;

    ds_flops_add((uint64_t)(2 * M * N * K * batch));
    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    bool no_algo = false;
    bool ok = CU_CHECK(d, op, cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F)) &&
              CU_CHECK(d, op, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa)) &&
              CU_CHECK(d, op, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb)) &&
              CU_CHECK(d, op, cublasLtMatrixLayoutCreate(&la, it, ar, ac, ldb)) &&
              CU_CHECK(d, op, cublasLtMatrixLayoutCreate(&lb, it, br, bc, lda)) &&
              CU_CHECK(d, op, cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, (uint64_t)N, (uint64_t)M, ldc));
    if (ok && use_bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        cudaDataType bt = CUDA_R_32F;
        ok = CU_CHECK(d, op, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi)) &&
             CU_CHECK(d, op, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt)) &&
             CU_CHECK(d, op, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    if (ok && batch > 1) {
        int32_t bn = (int32_t)batch;
        int64_t s_a = sB, s_b = sA, s_c = sC;
        ok = CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(la, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &bn, sizeof bn)) &&
             CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(lb, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &bn, sizeof bn)) &&
             CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(lc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &bn, sizeof bn)) &&
             CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(la, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &s_a, sizeof s_a)) &&
             CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(lb, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &s_b, sizeof s_b)) &&
             CU_CHECK(d, op, cublasLtMatrixLayoutSetAttribute(lc, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &s_c, sizeof s_c));
    }
    // The algorithm: cached per shape, layout, type and alignment.
    uint64_t h = mix(mix(mix(key[0], key[1]), key[2]), key[3]);
    cu_gemm_entry *e = NULL;
    for (int probe = 0; probe < 8 && ok; probe++) {
        cu_gemm_entry *x = &c->gemm_cache[(h + (uint64_t)probe) % CU_GEMM_CACHE];
        if (x->used && !memcmp(x->key, key, sizeof key)) {
            e = x;
            break;
        }
        if (!x->used) {
            e = x;
            break;
        }
    }
    if (!e) { // the probe window is full: reuse its first entry
        e = &c->gemm_cache[h % CU_GEMM_CACHE];
        e->used = false;
    }
    if (ok && !e->used) {
        uint32_t a32[3] = {(uint32_t)alA, (uint32_t)alB, (uint32_t)alC};
        uint64_t ws = c->lt_ws_bytes;
        cublasLtMatmulHeuristicResult_t res;
        int found = 0;
        ok = CU_CHECK(d, op, cublasLtMatmulPreferenceCreate(&pref)) &&
             CU_CHECK(d, op, cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws)) &&
             CU_CHECK(d, op, cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &a32[0], 4)) &&
             CU_CHECK(d, op, cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &a32[1], 4)) &&
             CU_CHECK(d, op, cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &a32[2], 4)) &&
             CU_CHECK(d, op, cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &a32[2], 4)) &&
             CU_CHECK(d, op, cublasLtMatmulAlgoGetHeuristic(c->lt, desc, la, lb, lc, lc, pref, 1, &res, &found));
        if (ok && found == 0 && use_bias) {
            ok = false;
            no_algo = true;
        } else if (ok && found == 0) {
            ds_device_fail(d, DS_ERR_DEVICE,
                           "%s: cuBLASLt has no algorithm for a %s GEMM %lldx%lldx%lld (batch %lld, ld %lld/%lld/%lld%s)",
                           op, in == CU_F32 ? "fp32" : in == CU_BF16 ? "bf16" : "fp16", (long long)M, (long long)N,
                           (long long)K, (long long)batch, (long long)lda, (long long)ldb, (long long)ldc,
                           use_bias ? ", bias epilogue" : "");
            ok = false;
        }
        if (ok) {
            memcpy(e->key, key, sizeof key);
            e->algo = res.algo;
            e->used = true;
        }
    }
    if (ok)
        ok = CU_CHECK(d, op, cublasLtMatmul(c->lt, desc, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &e->algo, c->lt_ws,
                                            c->lt_ws_bytes, c->stream));
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (desc) cublasLtMatmulDescDestroy(desc);
    return no_algo ? -1 : ok ? 1 : 0;
}

// Extent in elements of a strided operand: rows × cols at leading dimension ld, batch at stride s.
static int64_t extent(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t s) {
    return (batch - 1) * s + (rows - 1) * ld + cols;
}

static void op_gemm(ds_device *d, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, int64_t sA, const float *B, int64_t ldb, int64_t sB, float beta, float *C, int64_t ldc,
                    int64_t sC, int64_t batch) {
    CU_ENTER(d);
    const char *op = "gemm";
    const void *a = cu_operand(d, A, extent(ta ? K : M, ta ? M : K, lda, batch, sA), CU_SLOT_CAST_A, op);
    const void *b = cu_operand(d, B, extent(tb ? N : K, tb ? K : N, ldb, batch, sB), CU_SLOT_CAST_B, op);
    if (!a || !b) return;
    cu_matmul(d, op, ta, tb, M, N, K, alpha, a, lda, sA, b, ldb, sB, beta, C, ldc, sC, batch, cu_gemm_type(d), NULL);
}

// ---------- nn.Linear ----------

// y[r, n] = b[n] (when the bias epilogue is not available).
__global__ void k_bias_rows(float *__restrict__ y, const float *__restrict__ b, int64_t M, int64_t N) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < M * N; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = b[i % N];
}

// db[n] += Σ_r dy[r, n]: a block per 32 columns, 8 row lanes, fixed summation order.
__global__ void k_colsum_add(float *__restrict__ db, const float *__restrict__ dy, int64_t M, int64_t N) {
    __shared__ float sh[8][33];
    int64_t n = (int64_t)blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (n < N)
        for (int64_t r = threadIdx.y; r < M; r += 8) s += dy[r * N + n];
    sh[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && n < N) {
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += sh[k][threadIdx.x];
        db[n] += t;
    }
}

static void op_linear_fwd(ds_device *d, const float *x, const float *w, const float *b, float *y, int64_t M, int64_t K,
                          int64_t N) {
    CU_ENTER(d);
    const char *op = "linear";
    const void *xa = cu_operand(d, x, M * K, CU_SLOT_CAST_A, op);
    const void *wa = cu_operand(d, w, N * K, CU_SLOT_CAST_B, op);
    if (!xa || !wa) return;
    if (cu_matmul(d, op, false, true, M, N, K, 1.0f, xa, K, 0, wa, K, 0, 0.0f, y, N, 0, 1, cu_gemm_type(d), b) >= 0)
        return;
    // No bias epilogue for this shape/alignment: bias rows, then accumulate the product.
    k_bias_rows<<<cu_blocks(M * N, 256), 256, 0, cu_stream(d)>>>(y, b, M, N);
    if (CU_LAUNCHED(d, op))
        cu_matmul(d, op, false, true, M, N, K, 1.0f, xa, K, 0, wa, K, 0, 1.0f, y, N, 0, 1, cu_gemm_type(d), NULL);
}

static void op_linear_bwd(ds_device *d, const float *x, const float *w, const float *dy, float *dx, float *dw,
                          float *db, int64_t M, int64_t K, int64_t N) {
    CU_ENTER(d);
    const char *op = "linear backward";
    cu_dtype t = cu_gemm_type(d);
    if (dx || dw) {
        const void *g = cu_operand(d, dy, M * N, CU_SLOT_CAST_A, op);
        if (!g) return;
        if (dx) { // dx[M,K] += dy[M,N]·w[N,K]
            const void *wa = cu_operand(d, w, N * K, CU_SLOT_CAST_B, op);
            if (!wa) return;
            cu_matmul(d, op, false, false, M, K, N, 1.0f, g, N, 0, wa, K, 0, 1.0f, dx, K, 0, 1, t, NULL);
        }
        if (dw) { // dw[N,K] += dy[M,N]ᵀ·x[M,K]
            const void *xa = cu_operand(d, x, M * K, CU_SLOT_CAST_C, op);
            if (!xa) return;
            cu_matmul(d, op, true, false, N, K, M, 1.0f, g, N, 0, xa, K, 0, 1.0f, dw, K, 0, 1, t, NULL);
        }
    }
    if (db) {
        dim3 th(32, 8);
        k_colsum_add<<<(unsigned)((N + 31) / 32), th, 0, cu_stream(d)>>>(db, dy, M, N);
        CU_LAUNCHED(d, op);
    }
}

void cu_fill_gemm_ops(ds_dev_ops *o) {
    o->gemm = op_gemm;
    o->linear_fwd = op_linear_fwd;
    o->linear_bwd = op_linear_bwd;
}
