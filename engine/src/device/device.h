/* Devices: where tensors live and which kernels run on them (DESIGN §2 "Backends").
 *
 * A ds_ctx with dev == NULL is the CPU reference: host memory, the CPU kernels of ops/.
 * A ds_ctx bound to a ds_device keeps every tensor in that device's memory:
 *   - the activation arena is one device allocation sized by the planning pass (dry run);
 *   - values the host computes inside a step (timesteps, noise, dropout masks, conditioner
 *     inputs) are written into page-locked staging (ds_host_begin / ds_host_commit in
 *     tensor.h) and copied asynchronously on the device's stream; staging alternates between
 *     two halves per step, so the host fills step k+1's inputs while step k still runs;
 *   - the ops dispatch to the device's op table (backend.h); with the CPU stand-in the op
 *     table is NULL and the CPU kernels run on the stand-in's (host) memory.
 *
 * Kinds:
 *   DS_DEV_CUDA  the CUDA backend (engine/src/cuda/): cuBLASLt GEMMs, cuDNN convolutions,
 *                hand kernels; one device, one stream, used from one thread.
 *   DS_DEV_SIM   the CPU stand-in: the CUDA backend's host-side logic with host memory that
 *                is separate from the tensors' host copies (poisoned with NaN on allocation),
 *                so a value that skipped its upload or download shows up in tests.
 *
 * Errors: the first failure of any device call is kept (sticky) with the call, file:line
 * and op name; later device calls do nothing. ds_device_check() returns it as a ds_status
 * (DS_ERR_DEVICE) at the caller's synchronisation points. Nothing here exits or prints. */
#ifndef DS_DEVICE_H
#define DS_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/backend.h"
#include "engine/status.h"

typedef enum ds_device_kind { DS_DEV_SIM = 1, DS_DEV_CUDA = 2 } ds_device_kind;

/* SAT's precision names (Lightning's trainer precision). Mixed: fp32 master weights,
 * gradients, optimiser state and EMA; GEMMs and convolutions take bf16/fp16 inputs and
 * accumulate in fp32; norms, softmax and reductions stay fp32. 16-mixed adds torch
 * GradScaler's dynamic loss scaling. The CPU always computes in fp32. */
typedef enum ds_precision { DS_PREC_32 = 0, DS_PREC_16_MIXED, DS_PREC_BF16_MIXED } ds_precision;

/* Roles of the flat device allocations (one allocation each). */
typedef enum ds_role {
    DS_ROLE_PARAMS,   /* parameters and buffers (fp32 master) */
    DS_ROLE_GRADS,
    DS_ROLE_ADAM_M,
    DS_ROLE_ADAM_V,
    DS_ROLE_EMA,
    DS_ROLE_PARAMS_LP, /* half copy of the parameters for mixed-precision GEMMs */
    DS_ROLE_ARENA,     /* activations, saved values, activation gradients */
    DS_ROLE_WORKSPACE, /* cuBLASLt/cuDNN workspace, casts, attention scores */
    DS_ROLE_STEP,      /* step scalars and state */
    DS_ROLE_OTHER,
    DS_ROLE_COUNT
} ds_role;

const char *ds_role_name(ds_role r);

struct ds_device {
    ds_device_kind kind;
    const ds_dev_mem *mem;
    const ds_dev_ops *ops; /* NULL: CPU kernels on host-addressable memory (stand-in) */
    void *impl;            /* backend state */
    ds_precision precision;
    char name[160];        /* "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" */
    double peak_bf16_tflops; /* dense bf16 tensor peak of the card (0: unknown) */
    /* sticky first error */
    ds_status status;
    ds_err err;
    /* bookkeeping (tests and reports) */
    int64_t allocs;               /* device allocations made */
    int64_t frees;
    size_t bytes_by_role[DS_ROLE_COUNT];
    size_t bytes_live;
    int64_t uploads, downloads;   /* copies issued */
    /* the parameter buffer of the model bound to this device and its half copy (mixed
     * precision GEMMs read weights from lp at the same offset instead of casting them) */
    const float *param_base;
    int64_t param_n;
    void *param_lp;
    bool capturing;              /* between capture_begin and capture_end */
    int next_event;              /* event slots handed to contexts (ds_ctx_set_device) */
};

/* Opens a device by name: "cuda" or "cuda:N" (the CUDA backend), "sim" (the CPU stand-in).
 * "cpu" is not a device (ds_ctx.dev = NULL); asking for it here is an error. Without a
 * GPU, without the driver, or in a build without nvcc this fails with a message that
 * says which (DS_ERR_UNSUPPORTED / DS_ERR_DEVICE). */
ds_status ds_device_open(const char *name, ds_precision prec, ds_device **out, ds_err *err);
void ds_device_close(ds_device *d);

/* "32" | "16-mixed" | "bf16-mixed" (also "16", "bf16", "32-true", as Lightning accepts). */
ds_status ds_precision_parse(const char *s, ds_precision *p, ds_err *err);
const char *ds_precision_name(ds_precision p);

/* Records the first failure (later ones are dropped). Backends call this. */
void ds_device_fail(ds_device *d, ds_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* DS_OK, or the sticky error copied into err. */
ds_status ds_device_check(ds_device *d, ds_err *err);
/* Waits for the stream, then ds_device_check. */
ds_status ds_device_sync(ds_device *d, ds_err *err);

/* One device allocation for a role (counted; NULL + sticky error on failure). */
void *ds_device_alloc(ds_device *d, ds_role role, size_t bytes);
void ds_device_free(ds_device *d, ds_role role, void *p, size_t bytes);
/* Blocking copies for set-up and results (not inside a step). */
ds_status ds_device_upload_sync(ds_device *d, void *dst, const void *src, size_t bytes, ds_err *err);
ds_status ds_device_download_sync(ds_device *d, void *dst, const void *src, size_t bytes, ds_err *err);

/* Whether a device kind can be opened on this machine, and why not (for messages and for
 * tests that exit 77): 1 = yes; 0 = no, with the reason in why. */
int ds_device_available(const char *name, char *why, size_t n);

/* Peak dense bf16 tensor TFLOP/s by device name (H100 SXM 989, H100 PCIe 756, H200 989,
 * A100 312, …); 0 when unknown. */
double ds_device_peak_bf16_tflops(const char *device_name);

/* The backends: device/device_sim.c, and the CUDA backend's C entry points (implemented in
 * engine/src/cuda/, or by cuda/cuda_stub.c in a build without nvcc, which reports that). */
ds_status ds_sim_open(ds_device *d, ds_err *err);
void ds_sim_close(ds_device *d);
ds_status ds_cuda_open(struct ds_device *d, int index, ds_err *err);
void ds_cuda_close(struct ds_device *d);
int ds_cuda_available(int index, char *why, size_t n);
int ds_cuda_device_count(void);
/* Whether convolutions of this CUDA device go through cuDNN (0 for other devices). */
int ds_cuda_has_cudnn(struct ds_device *d);

#endif
