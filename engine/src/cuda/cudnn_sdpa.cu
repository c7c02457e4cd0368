// Attention through cuDNN's fused scaled-dot-product attention: the SDPA_FWD and SDPA_BWD
// operations of the backend graph API (cuDNN ≥ 9.13), one fused kernel per call with the
// Nq × Nk scores never written to memory. Taken only where it can be:
//   - the mixed precisions (cuDNN's fused attention has no fp32 engine; precision "32" keeps
//     the plain path, which is what the CPU parity checks use),
//   - as many K/V heads as query heads, head dim a multiple of 8 and at most 128,
//   - DS_CUDNN_SDPA=1 (forward) or 2 (forward and backward) in the environment: opt-in until a
//     GPU run has checked it against the plain path (tests/gpu/run.sh compares all three).
// cuDNN 9.19 is reported elsewhere not to finalize SDPA_BWD through the backend API; a refusal
// is simply the plain backward.
// Anything cuDNN refuses (no engine for the shape, an older cuDNN) returns false before any
// work is queued and the caller runs its plain kernels; the refusal is remembered per shape.
//
// Layouts: our q, k, v, o are [B, N, H·D] (row-major, head-major inside a row), which is
// cuDNN's logical [B, H, N, D] with strides [N·H·D, D, H·D, 1]. The statistics are the row
// log-sum-exp of scale·QKᵀ in natural log, [B, H, Nq, 1] — the layout and meaning of our lse,
// so the plain backward (which recomputes P = exp(S − lse)) runs unchanged after it.
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_internal.cuh"

#ifdef DS_HAVE_CUDNN

#define GS_LOOP(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

enum { UID_Q = 1, UID_K, UID_V, UID_O, UID_STATS, UID_SCALE, UID_DO, UID_DQ, UID_DK, UID_DV };

#define SDPA_PLANS 32

// Plans by shape (a refused shape is kept too, with plan NULL, so it is asked once).
struct cu_sdpa_cache {
    struct {
        int64_t key[7];
        cudnnBackendDescriptor_t plan;
        int64_t ws_bytes;
    } e[SDPA_PLANS];
    int n;
};

void cu_sdpa_release(ds_cuda *c) {
    if (!c->sdpa) return;
    for (int i = 0; i < c->sdpa->n; i++)
        if (c->sdpa->e[i].plan) cudnnBackendDestroyDescriptor(c->sdpa->e[i].plan);
    free(c->sdpa);
    c->sdpa = NULL;
}

#define TRY(call)                                                                             \
    do {                                                                                      \
        if ((call) != CUDNN_STATUS_SUCCESS) goto out;                                         \
    } while (0)

static cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t dt, const int64_t dims[4], const int64_t strides[4],
                                       bool by_value) {
    cudnnBackendDescriptor_t t = NULL;
    int64_t align = 16;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, &t) != CUDNN_STATUS_SUCCESS) return NULL;
    TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt));
    TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims));
    TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides));
    TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align));
    if (by_value) {
        bool yes = true;
        TRY(cudnnBackendSetAttribute(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &yes));
    }
    TRY(cudnnBackendFinalize(t));
    return t;
out:
    cudnnBackendDestroyDescriptor(t);
    return NULL;
}

enum sdpa_kind { SDPA_INFER, SDPA_TRAIN, SDPA_BWD }; // forward; forward with statistics; backward

// The execution plan of one kind of call for one shape, or NULL when cuDNN has no engine for it.
static cudnnBackendDescriptor_t build_plan(cudnnHandle_t h, const ds_attn_geom *g, cudnnDataType_t dt, sdpa_kind kind,
                                           int64_t *ws_bytes) {
    enum { Q, K, V, O, STATS, SCALE, DO, DQ, DK, DV, NT };
    cudnnBackendDescriptor_t t[NT] = {NULL}, op = NULL, graph = NULL, heur = NULL, plan = NULL, result = NULL;
    cudnnBackendDescriptor_t cfgs[8] = {NULL};
    int64_t ncfg = 0;
    const int64_t H = g->Hq, D = g->D;
    const int64_t dq[4] = {g->B, H, g->Nq, D}, sq[4] = {g->Nq * H * D, D, H * D, 1};
    const int64_t dk[4] = {g->B, H, g->Nk, D}, sk[4] = {g->Nk * H * D, D, H * D, 1};
    const int64_t dst[4] = {g->B, H, g->Nq, 1}, sst[4] = {H * g->Nq, g->Nq, 1, 1};
    const int64_t one[4] = {1, 1, 1, 1};
    cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
    const bool bwd = kind == SDPA_BWD, stats = kind != SDPA_INFER;
    const cudnnBackendAttributeName_t *names;
    // attribute of each tensor in the operation (0: not part of this kind)
    static const cudnnBackendAttributeName_t fwd_names[NT] = {
        CUDNN_ATTR_OPERATION_SDPA_FWD_QDESC,     CUDNN_ATTR_OPERATION_SDPA_FWD_KDESC,
        CUDNN_ATTR_OPERATION_SDPA_FWD_VDESC,     CUDNN_ATTR_OPERATION_SDPA_FWD_ODESC,
        CUDNN_ATTR_OPERATION_SDPA_FWD_STATSDESC, CUDNN_ATTR_OPERATION_SDPA_FWD_SCALEDESC};
    static const cudnnBackendAttributeName_t bwd_names[NT] = {
        CUDNN_ATTR_OPERATION_SDPA_BWD_QDESC,     CUDNN_ATTR_OPERATION_SDPA_BWD_KDESC,
        CUDNN_ATTR_OPERATION_SDPA_BWD_VDESC,     CUDNN_ATTR_OPERATION_SDPA_BWD_ODESC,
        CUDNN_ATTR_OPERATION_SDPA_BWD_STATSDESC, CUDNN_ATTR_OPERATION_SDPA_BWD_SCALEDESC,
        CUDNN_ATTR_OPERATION_SDPA_BWD_DODDESC,   CUDNN_ATTR_OPERATION_SDPA_BWD_DQDESC,
        CUDNN_ATTR_OPERATION_SDPA_BWD_DKDESC,    CUDNN_ATTR_OPERATION_SDPA_BWD_DVDESC};
    names = bwd ? bwd_names : fwd_names;

    t[Q] = tensor(UID_Q, dt, dq, sq, false);
    t[K] = tensor(UID_K, dt, dk, sk, false);
    t[V] = tensor(UID_V, dt, dk, sk, false);
    t[O] = tensor(UID_O, dt, dq, sq, false);
    t[SCALE] = tensor(UID_SCALE, CUDNN_DATA_FLOAT, one, one, true);
    if (stats) t[STATS] = tensor(UID_STATS, CUDNN_DATA_FLOAT, dst, sst, false);
    if (bwd) {
        t[DO] = tensor(UID_DO, dt, dq, sq, false);
        t[DQ] = tensor(UID_DQ, dt, dq, sq, false);
        t[DK] = tensor(UID_DK, dt, dk, sk, false);
        t[DV] = tensor(UID_DV, dt, dk, sk, false);
    }
    for (int i = 0; i < NT; i++)
        if (!t[i] && (i <= SCALE ? (i != STATS || stats) : bwd)) goto out;

    TRY(cudnnBackendCreateDescriptor(bwd ? CUDNN_BACKEND_OPERATION_SDPA_BWD_DESCRIPTOR
                                         : CUDNN_BACKEND_OPERATION_SDPA_FWD_DESCRIPTOR,
                                     &op));
    for (int i = 0; i < NT; i++)
        if (t[i]) TRY(cudnnBackendSetAttribute(op, names[i], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &t[i]));
    TRY(cudnnBackendFinalize(op));

    TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &graph));
    TRY(cudnnBackendSetAttribute(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &op));
    TRY(cudnnBackendSetAttribute(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h));
    TRY(cudnnBackendFinalize(graph));

    TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    TRY(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph));
    TRY(cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
    TRY(cudnnBackendFinalize(heur));
    for (int i = 0; i < 8; i++)
        TRY(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs[i]));
    TRY(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 8, &ncfg, cfgs));

    // The first configuration, in the heuristic's order, that makes a plan.
    for (int64_t i = 0; i < ncfg && i < 8; i++) {
        if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan) != CUDNN_STATUS_SUCCESS) break;
        int64_t n = 0;
        if (cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h) ==
                CUDNN_STATUS_SUCCESS &&
            cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                     &cfgs[i]) == CUDNN_STATUS_SUCCESS &&
            cudnnBackendFinalize(plan) == CUDNN_STATUS_SUCCESS &&
            cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n,
                                     ws_bytes) == CUDNN_STATUS_SUCCESS) {
            result = plan;
            plan = NULL;
            break;
        }
        cudnnBackendDestroyDescriptor(plan);
        plan = NULL;
    }
out:
    for (int i = 0; i < NT; i++)
        if (t[i]) cudnnBackendDestroyDescriptor(t[i]);
    cudnnBackendDescriptor_t rest[] = {op, graph, heur, plan};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        if (rest[i]) cudnnBackendDestroyDescriptor(rest[i]);
    for (int i = 0; i < 8; i++)
        if (cfgs[i]) cudnnBackendDestroyDescriptor(cfgs[i]);
    return result;
}

template <typename H> __device__ __forceinline__ float sdpa_to_f(H v);
template <> __device__ __forceinline__ float sdpa_to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float sdpa_to_f<__half>(__half v) { return __half2float(v); }

template <typename H> __global__ void k_widen(const H *__restrict__ src, float *__restrict__ dst, int64_t n) {
    GS_LOOP(i, n) dst[i] = sdpa_to_f(src[i]);
}

// The plan for this call's shape; NULL when cuDNN has none (or the cache is full: a model
// with that many attention shapes keeps the plain path for the rest).
static cudnnBackendDescriptor_t lookup(ds_cuda *c, const ds_attn_geom *g, cu_dtype t, sdpa_kind kind,
                                       int64_t *ws_bytes) {
    int64_t key[7] = {(int64_t)t, g->B, g->Nq, g->Nk, g->Hq, g->D, (int64_t)kind};
    if (!c->sdpa && !(c->sdpa = (cu_sdpa_cache *)calloc(1, sizeof *c->sdpa))) return NULL;
    cu_sdpa_cache *m = c->sdpa;
    for (int i = 0; i < m->n; i++)
        if (!memcmp(m->e[i].key, key, sizeof key)) {
            *ws_bytes = m->e[i].ws_bytes;
            return m->e[i].plan;
        }
    if (m->n == SDPA_PLANS) return NULL;
    int i = m->n++;
    memcpy(m->e[i].key, key, sizeof key);
    m->e[i].plan = build_plan(c->dnn, g, t == CU_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF, kind, &m->e[i].ws_bytes);
    *ws_bytes = m->e[i].ws_bytes;
    return m->e[i].plan;
}

template <typename H> __global__ void k_accumulate(const H *__restrict__ src, float *__restrict__ dst, int64_t n) {
    GS_LOOP(i, n) dst[i] += sdpa_to_f(src[i]);
}

static void widen(ds_device *d, const void *src, float *dst, int64_t n, cu_dtype t, bool accumulate, const char *op) {
    unsigned nb = cu_blocks(n, 256);
    cudaStream_t s = cu_stream(d);
    if (t == CU_BF16 && accumulate) k_accumulate<<<nb, 256, 0, s>>>((const __nv_bfloat16 *)src, dst, n);
    else if (t == CU_BF16) k_widen<<<nb, 256, 0, s>>>((const __nv_bfloat16 *)src, dst, n);
    else if (accumulate) k_accumulate<<<nb, 256, 0, s>>>((const __half *)src, dst, n);
    else k_widen<<<nb, 256, 0, s>>>((const __half *)src, dst, n);
    CU_LAUNCHED(d, op);
}

// Whether a call of this shape and type may go to cuDNN at all (mode 1: forward, 2: both).
static bool applies(ds_cuda *c, const ds_attn_geom *g, cu_dtype t, int mode) {
    return c->sdpa_mode >= mode && c->dnn && t != CU_F32 && g->Hq == g->Hk && g->D % 8 == 0 && g->D <= 128;
}

// Runs a plan on the variant pack (uids[i] ↔ ptrs[i]); false once the sticky error is set.
static bool execute(ds_device *d, const char *op, cudnnBackendDescriptor_t plan, const int64_t *uids, void **ptrs,
                    int64_t n, void *ws) {
    cudnnBackendDescriptor_t vp = NULL;
    bool ok = CU_CHECK(d, op, cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp)) &&
              CU_CHECK(d, op, cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                                                       n, ptrs)) &&
              CU_CHECK(d, op, cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n,
                                                       uids)) &&
              CU_CHECK(d, op, cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
                                                       &ws)) &&
              CU_CHECK(d, op, cudnnBackendFinalize(vp)) &&
              CU_CHECK(d, op, cudnnBackendExecute(cu(d)->dnn, plan, vp));
    if (vp) cudnnBackendDestroyDescriptor(vp);
    return ok;
}

bool cu_sdpa_fwd(ds_device *d, const ds_attn_geom *g, const void *q, const void *k, const void *v, cu_dtype t,
                 float *o, float *lse) {
    ds_cuda *c = cu(d);
    const char *op = "attention (cuDNN SDPA)";
    if (!applies(c, g, t, 1)) return false;
    int64_t ws_bytes = 0;
    cudnnBackendDescriptor_t plan = lookup(c, g, t, lse ? SDPA_TRAIN : SDPA_INFER, &ws_bytes);
    if (!plan) return false;
    int64_t n = g->B * g->Nq * g->Hq * g->D;
    void *oh = cu_scratch(d, CU_SLOT_SDPA_O, (size_t)n * 2, op);
    void *ws = ws_bytes ? cu_scratch(d, CU_SLOT_SDPA_WS, (size_t)ws_bytes, op) : NULL;
    if (!oh || (ws_bytes && !ws)) return true; // the sticky error is set; nothing more runs
    float scale = g->scale;
    void *ptrs[6] = {(void *)q, (void *)k, (void *)v, oh, &scale, lse};
    const int64_t uids[6] = {UID_Q, UID_K, UID_V, UID_O, UID_SCALE, UID_STATS};
    if (!execute(d, op, plan, uids, ptrs, lse ? 6 : 5, ws)) return true;
    widen(d, oh, o, n, t, false, op);
    c->sdpa_calls[0]++;
    ds_flops_add((uint64_t)(4 * g->B * g->Hq * g->Nq * g->Nk * g->D));
    return true;
}

bool cu_sdpa_bwd(ds_device *d, const ds_attn_geom *g, const void *q, const void *k, const void *v, cu_dtype t,
                 const float *o, const float *lse, const void *dO, float *dq, float *dk, float *dv) {
    ds_cuda *c = cu(d);
    const char *op = "attention backward (cuDNN SDPA)";
    if (!applies(c, g, t, 2) || !lse) return false;
    int64_t ws_bytes = 0;
    cudnnBackendDescriptor_t plan = lookup(c, g, t, SDPA_BWD, &ws_bytes);
    if (!plan) return false;
    int64_t nq = g->B * g->Nq * g->Hq * g->D, nk = g->B * g->Nk * g->Hk * g->D; // multiples of 8: 16-byte aligned halves
    void *oh = cu_scratch(d, CU_SLOT_SDPA_O, (size_t)nq * 2, op);
    char *gh = (char *)cu_scratch(d, CU_SLOT_SDPA_GRAD, (size_t)(nq + 2 * nk) * 2, op);
    void *ws = ws_bytes ? cu_scratch(d, CU_SLOT_SDPA_WS, (size_t)ws_bytes, op) : NULL;
    if (!oh || !gh || (ws_bytes && !ws)) return true;
    cu_cast(d, o, oh, nq, t, op);
    void *dqh = gh, *dkh = gh + nq * 2, *dvh = gh + (nq + nk) * 2;
    float scale = g->scale;
    void *ptrs[10] = {(void *)q, (void *)k, (void *)v, oh, (void *)lse, &scale, (void *)dO, dqh, dkh, dvh};
    const int64_t uids[10] = {UID_Q, UID_K, UID_V, UID_O, UID_STATS, UID_SCALE, UID_DO, UID_DQ, UID_DK, UID_DV};
    if (d->status != DS_OK || !execute(d, op, plan, uids, ptrs, 10, ws)) return true;
    if (dq) widen(d, dqh, dq, nq, t, true, op);
    if (dk) widen(d, dkh, dk, nk, t, true, op);
    if (dv) widen(d, dvh, dv, nk, t, true, op);
    c->sdpa_calls[1]++;
    ds_flops_add((uint64_t)(10 * g->B * g->Hq * g->Nq * g->Nk * g->D)); // the five products of the plain path
    return true;
}

// Test hooks (tests/gpu/parity.c compares the fused and the plain forward).
extern "C" void ds_cuda_use_sdpa(ds_device *d, int mode) {
    ds_cuda *c = cu(d);
    c->sdpa_mode = c->dnn ? mode : 0;
}

#else

extern "C" void ds_cuda_use_sdpa(ds_device *, int) {}

bool cu_sdpa_bwd(ds_device *, const ds_attn_geom *, const void *, const void *, const void *, cu_dtype, const float *,
                 const float *, const void *, float *, float *, float *) {
    return false;
}

bool cu_sdpa_fwd(ds_device *, const ds_attn_geom *, const void *, const void *, const void *, cu_dtype, float *,
                 float *) {
    return false;
}
void cu_sdpa_release(ds_cuda *) {}

#endif

extern "C" int64_t ds_cuda_sdpa_calls(ds_device *d, int backward) {
    return d && d->kind == DS_DEV_CUDA && d->impl ? cu(d)->sdpa_calls[backward ? 1 : 0] : 0;
}
