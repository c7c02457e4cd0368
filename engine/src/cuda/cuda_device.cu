// The CUDA device: open/close, the memory half of the backend table (device/backend.h),
// events and graph capture, error reporting and the workspace slots.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_internal.cuh"

extern "C" {
#include "cuda/cuda_backend.h"
}

// ---------- errors ----------

bool cu_check_rt(ds_device *d, cudaError_t e, const char *call, const char *op, const char *file, int line) {
    if (e == cudaSuccess) return true;
    cudaGetLastError(); // clear a non-sticky error so the message is about this call
    ds_device_fail(d, DS_ERR_DEVICE, "%s: %s failed: %s (%s) (%s:%d)", op, call, cudaGetErrorName(e),
                   cudaGetErrorString(e), file, line);
    return false;
}

bool cu_check_lt(ds_device *d, cublasStatus_t e, const char *call, const char *op, const char *file, int line) {
    if (e == CUBLAS_STATUS_SUCCESS) return true;
    ds_device_fail(d, DS_ERR_DEVICE, "%s: %s failed: cuBLAS status %d (%s:%d)", op, call, (int)e, file, line);
    return false;
}

#ifdef DS_HAVE_CUDNN
bool cu_check_dnn(ds_device *d, cudnnStatus_t e, const char *call, const char *op, const char *file, int line) {
    if (e == CUDNN_STATUS_SUCCESS) return true;
    ds_device_fail(d, DS_ERR_DEVICE, "%s: %s failed: %s (%s:%d)", op, call, cudnnGetErrorString(e), file, line);
    return false;
}
#endif

void *cu_scratch(ds_device *d, int slot, size_t bytes, const char *op) {
    ds_cuda *c = cu(d);
    if (bytes <= c->slot_bytes[slot]) return c->slot[slot];
    if (d->status != DS_OK) return NULL;
    if (d->capturing) {
        ds_device_fail(d, DS_ERR_DEVICE,
                       "%s: the workspace must grow to %zu bytes while a CUDA graph is being captured (the step's "
                       "shapes changed after its first run)",
                       op, bytes);
        return NULL;
    }
    // Growing: the old buffer may still be read by queued kernels.
    if (c->slot[slot]) {
        if (!CU_CHECK(d, op, cudaStreamSynchronize(c->stream))) return NULL;
        ds_device_free(d, DS_ROLE_WORKSPACE, c->slot[slot], c->slot_bytes[slot]);
        c->slot[slot] = NULL;
        c->slot_bytes[slot] = 0;
    }
    size_t want = bytes + bytes / 8;
    want = (want + 255) / 256 * 256;
    c->slot[slot] = ds_device_alloc(d, DS_ROLE_WORKSPACE, want);
    if (c->slot[slot]) c->slot_bytes[slot] = want;
    return c->slot[slot];
}

// ---------- memory table ----------

static void *m_alloc(ds_device *d, size_t bytes) {
    void *p = NULL;
    if (!CU_CHECK(d, "alloc", cudaMalloc(&p, bytes))) return NULL;
    return p;
}

static void m_free(ds_device *d, void *p) {
    if (p) cudaFree(p); // errors here cannot be acted on (teardown); not recorded
    (void)d;
}

static void *m_host_alloc(ds_device *d, size_t bytes) {
    void *p = NULL;
    if (!CU_CHECK(d, "staging", cudaMallocHost(&p, bytes))) return NULL;
    return p;
}

static void m_host_free(ds_device *d, void *p) {
    if (p) cudaFreeHost(p);
    (void)d;
}

static void m_upload(ds_device *d, void *dst, const void *src, size_t bytes) {
    CU_ENTER(d);
    d->uploads++;
    CU_CHECK(d, "upload", cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cu_stream(d)));
}

static void m_download(ds_device *d, void *dst, const void *src, size_t bytes) {
    CU_ENTER(d);
    d->downloads++;
    CU_CHECK(d, "download", cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cu_stream(d)));
}

static void m_copy(ds_device *d, void *dst, const void *src, size_t bytes) {
    CU_ENTER(d);
    CU_CHECK(d, "copy", cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cu_stream(d)));
}

static void m_zero(ds_device *d, void *p, size_t bytes) {
    CU_ENTER(d);
    CU_CHECK(d, "zero", cudaMemsetAsync(p, 0, bytes, cu_stream(d)));
}

static void m_sync(ds_device *d) {
    CU_ENTER(d);
    CU_CHECK(d, "sync", cudaStreamSynchronize(cu_stream(d)));
}

static void m_event_record(ds_device *d, int slot) {
    CU_ENTER(d);
    CU_CHECK(d, "event", cudaEventRecord(cu(d)->events[slot], cu_stream(d)));
}

static void m_event_sync(ds_device *d, int slot) {
    CU_ENTER(d);
    CU_CHECK(d, "event", cudaEventSynchronize(cu(d)->events[slot]));
}

static bool m_capture_begin(ds_device *d) {
    if (d->status != DS_OK) return false;
    if (!CU_CHECK(d, "graph capture", cudaStreamBeginCapture(cu_stream(d), cudaStreamCaptureModeThreadLocal)))
        return false;
    d->capturing = true;
    return true;
}

static bool m_capture_end(ds_device *d, int slot) {
    ds_cuda *c = cu(d);
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(c->stream, &g);
    d->capturing = false;
    if (d->status != DS_OK || !CU_CHECK(d, "graph capture", e)) {
        if (g) cudaGraphDestroy(g);
        /* A launch that failed under capture leaves the runtime's last error set (e.g.
         * cudaErrorStreamCaptureInvalidated): clear it, or the eager re-issue of the step
         * would report it at its first kernel. */
        (void)cudaGetLastError();
        return false;
    }
    if (c->graphs[slot]) {
        cudaGraphExecDestroy(c->graphs[slot]);
        c->graphs[slot] = NULL;
    }
    bool ok = CU_CHECK(d, "graph capture", cudaGraphInstantiate(&c->graphs[slot], g, 0));
    cudaGraphDestroy(g);
    return ok;
}

static void m_graph_launch(ds_device *d, int slot) {
    CU_ENTER(d);
    if (!cu(d)->graphs[slot]) {
        ds_device_fail(d, DS_ERR_INTERNAL, "graph launch: slot %d holds no captured graph", slot);
        return;
    }
    CU_CHECK(d, "graph launch", cudaGraphLaunch(cu(d)->graphs[slot], cu_stream(d)));
}

static void m_graph_drop(ds_device *d, int slot) {
    ds_cuda *c = cu(d);
    if (c->graphs[slot]) cudaGraphExecDestroy(c->graphs[slot]);
    c->graphs[slot] = NULL;
}

static bool m_prof_init(ds_device *d, int cap) {
    ds_cuda *c = cu(d);
    if (d->status != DS_OK) return false;
    if (!(c->prof = (cudaEvent_t *)calloc((size_t)cap, sizeof *c->prof))) {
        ds_device_fail(d, DS_ERR_NOMEM, "profile: out of memory for %d events", cap);
        return false;
    }
    c->prof_n = cap;
    for (int i = 0; i < cap; i++)
        if (!CU_CHECK(d, "profile", cudaEventCreate(&c->prof[i]))) return false;
    return true;
}

static void m_prof_record(ds_device *d, int i) {
    CU_ENTER(d);
    CU_CHECK(d, "profile", cudaEventRecord(cu(d)->prof[i], cu_stream(d)));
}

static double m_prof_elapsed(ds_device *d, int a, int b) {
    float ms = 0.0f;
    if (d->status != DS_OK || !CU_CHECK(d, "profile", cudaEventElapsedTime(&ms, cu(d)->prof[a], cu(d)->prof[b])))
        return 0.0;
    return ms;
}

static void m_prof_free(ds_device *d) {
    ds_cuda *c = cu(d);
    for (int i = 0; i < c->prof_n; i++)
        if (c->prof[i]) cudaEventDestroy(c->prof[i]);
    free(c->prof);
    c->prof = NULL;
    c->prof_n = 0;
}

static const ds_dev_mem g_cuda_mem = {
    "cuda",   m_alloc,        m_free,          m_host_alloc,    m_host_free,   m_upload,       m_download,
    m_copy,   m_zero,         m_sync,          m_event_record,  m_event_sync,  m_capture_begin, m_capture_end,
    m_graph_launch, m_graph_drop, m_prof_init, m_prof_record, m_prof_elapsed, m_prof_free,
};

static ds_dev_ops g_cuda_ops;
static bool g_ops_filled;

// ---------- device discovery ----------

extern "C" int ds_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" int ds_cuda_available(int index, char *why, size_t n) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        if (why)
            snprintf(why, n, "no usable CUDA device: %s (%s)",
                     e == cudaErrorInsufficientDriver ? "the NVIDIA driver is missing or older than this CUDA runtime"
                     : e == cudaErrorNoDevice         ? "no NVIDIA GPU is present"
                                                      : cudaGetErrorString(e),
                     cudaGetErrorName(e));
        return 0;
    }
    if (count == 0) {
        if (why) snprintf(why, n, "no usable CUDA device: no NVIDIA GPU is present");
        return 0;
    }
    if (index >= count) {
        if (why) snprintf(why, n, "cuda:%d: this machine has %d CUDA device%s", index, count, count == 1 ? "" : "s");
        return 0;
    }
    return 1;
}

extern "C" ds_status ds_cuda_device_name(int device, char *buf, int n, ds_err *err) {
    cudaDeviceProp prop;
    cudaError_t e = cudaGetDeviceProperties(&prop, device);
    if (e != cudaSuccess)
        return ds_err_set(err, DS_ERR_DEVICE, "cudaGetDeviceProperties failed: %s", cudaGetErrorString(e));
    snprintf(buf, (size_t)n, "%s, sm_%d%d, %.1f GiB", prop.name, prop.major, prop.minor,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return DS_OK;
}

extern "C" ds_status ds_cuda_open(ds_device *d, int index, ds_err *err) {
    char why[256];
    if (!ds_cuda_available(index, why, sizeof why)) return ds_err_set(err, DS_ERR_UNSUPPORTED, "%s", why);
    ds_cuda *c = (ds_cuda *)calloc(1, sizeof *c);
    if (!c) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    c->index = index;
    d->kind = DS_DEV_CUDA;
    d->mem = &g_cuda_mem;
    d->impl = c;
    if (!g_ops_filled) {
        cu_fill_gemm_ops(&g_cuda_ops);
        cu_fill_elementwise_ops(&g_cuda_ops);
        cu_fill_shape_ops(&g_cuda_ops);
        cu_fill_norm_ops(&g_cuda_ops);
        cu_fill_attention_ops(&g_cuda_ops);
        cu_fill_conv_ops(&g_cuda_ops);
        cu_fill_optim_ops(&g_cuda_ops);
        g_ops_filled = true;
    }
    d->ops = &g_cuda_ops;
    ds_status s = DS_OK;
    const char *op = "device open";
    cudaDeviceProp prop;
    if (!CU_CHECK(d, op, cudaSetDevice(index)) || !CU_CHECK(d, op, cudaGetDeviceProperties(&prop, index))) goto fail;
    snprintf(d->name, sizeof d->name, "%.120s, sm_%d%d, %.1f GiB", prop.name, prop.major, prop.minor,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    c->sm_count = prop.multiProcessorCount;
    if (prop.major < 8) {
        ds_device_fail(d, DS_ERR_UNSUPPORTED, "%s: compute capability %d.%d; diffstudio's CUDA backend is built for "
                       "sm_80 (Ampere) and sm_90 (Hopper)", prop.name, prop.major, prop.minor);
        goto fail;
    }
    if (!CU_CHECK(d, op, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking))) goto fail;
    for (int i = 0; i < DS_DEV_EVENTS; i++)
        if (!CU_CHECK(d, op, cudaEventCreateWithFlags(&c->events[i], cudaEventDisableTiming))) goto fail;
    if (!CU_CHECK(d, op, cublasLtCreate(&c->lt))) goto fail;
    c->lt_ws_bytes = 32u << 20;
    if (!(c->lt_ws = ds_device_alloc(d, DS_ROLE_WORKSPACE, c->lt_ws_bytes))) goto fail;
    {
        const char *env = getenv("DS_CUDNN");
        c->use_cudnn = !(env && env[0] == '0');
        env = getenv("DS_CUDNN_SDPA");
        c->sdpa_mode = c->use_cudnn && env && (env[0] == '1' || env[0] == '2') ? env[0] - '0' : 0;
    }
#ifdef DS_HAVE_CUDNN
    if (c->use_cudnn) {
        if (!CU_CHECK(d, op, cudnnCreate(&c->dnn)) || !CU_CHECK(d, op, cudnnSetStream(c->dnn, c->stream))) goto fail;
    }
#else
    c->use_cudnn = false;
#endif
    return DS_OK;
fail:
    s = ds_device_check(d, err);
    ds_cuda_close(d);
    d->impl = NULL;
    return s == DS_OK ? ds_err_set(err, DS_ERR_DEVICE, "opening cuda:%d failed", index) : s;
}

extern "C" void ds_cuda_close(ds_device *d) {
    ds_cuda *c = cu(d);
    if (!c) return;
    if (c->stream) cudaStreamSynchronize(c->stream);
    for (int i = 0; i < DS_DEV_GRAPHS; i++)
        if (c->graphs[i]) cudaGraphExecDestroy(c->graphs[i]);
    for (int i = 0; i < CU_SLOT_COUNT; i++)
        if (c->slot[i]) cudaFree(c->slot[i]);
    if (c->lt_ws) cudaFree(c->lt_ws);
    if (c->lt) cublasLtDestroy(c->lt);
#ifdef DS_HAVE_CUDNN
    cu_sdpa_release(c);
    if (c->dnn) cudnnDestroy(c->dnn);
#endif
    if (c->prof) m_prof_free(d);
    for (int i = 0; i < DS_DEV_EVENTS; i++)
        if (c->events[i]) cudaEventDestroy(c->events[i]);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
    d->impl = NULL;
}
