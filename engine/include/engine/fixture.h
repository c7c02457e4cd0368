/* Golden-fixture checking: runs a SAT fixture case (../shared/fixtures format: config.json,
 * weights.safetensors, io.safetensors, io.json) by its `kind` and `run` blocks and compares
 * every reference tensor with the fixtures README's tolerances. Used by
 * `diffstudio check-fixture` and by ctest. The engine never prints: each result line goes
 * to the report callback. */
#ifndef DS_FIXTURE_H
#define DS_FIXTURE_H

#include "engine/config.h"
#include "engine/status.h"

typedef struct ds_fixture_opts {
    const char *out_path; /* if set: every computed tensor is written here (safetensors) */
    const char *device;   /* "cpu" (default) or "cuda" */
    bool verbose;         /* one line per compared tensor (otherwise failures and a summary) */
    void (*report)(void *user, const char *line);
    void *user;
    /* Device runs only: "32" (default; the README's tolerances) or "16-mixed" / "bf16-mixed":
     * outputs, CFG outputs, trajectories and step values are then checked at 2e-2
     * norm-relative, and gradients and updated weights are reported, not judged. */
    const char *precision;
} ds_fixture_opts;

typedef struct ds_fixture_result {
    int compared;       /* tensors compared */
    int failed;         /* tensors over tolerance */
    double worst_ratio; /* max over tensors of error / tolerance */
    char worst[160];
    double worst_out_rel; /* largest norm-relative error of an output-class tensor */
    char device[160];     /* the device that ran the case */
} ds_fixture_result;

/* Runs the case in dir. DS_OK means the case ran (result->failed says whether it passed);
 * an error status means it could not run (bad files, unsupported kind), with a message. */
ds_status ds_fixture_check(const char *dir, const ds_fixture_opts *opts, ds_fixture_result *result, ds_err *err);
/* The same with an already loaded model config (tests, and callers that built one). */
ds_status ds_fixture_check_config(const char *dir, const ds_model_config *cfg, const ds_fixture_opts *opts,
                                  ds_fixture_result *result, ds_err *err);

#endif
