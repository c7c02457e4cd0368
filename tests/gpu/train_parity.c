/* A short training run on a device against the same run on the CPU: the fixtures' DiT
 * (conditioned on seconds_start/seconds_total), AdamW with InverseLR, EMA, clipping at 1.0,
 * the same seed and batches, N steps through ds_trainer_submit/collect.
 *
 *   train_parity [--device cuda|sim] [--precision 32|bf16-mixed|16-mixed] [--steps N] [--config FILE]
 *
 * Checks: every step's loss (fp32: 1e-4 relative; mixed: 2e-2), the final parameters and EMA
 * weights (fp32: 1e-3 norm-relative; mixed: reported), and that the device made no allocation
 * after the first step (one allocation per role, workspaces sized by the first step). On the
 * CPU stand-in ("sim") the run must be bit-identical to the CPU, for precision 32 and for
 * 16-mixed (the loss scale is a power of two, so scaling is exact). Exits 77 when the device
 * is not usable here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "engine/config_doc.h"
#include "models/model.h"
#include "train/trainer.h"

static void make_batch(int B, int C, int64_t T, int step, float *audio, float *mask, ds_meta *meta) {
    for (int b = 0; b < B; b++) {
        double f = 0.05 + 0.01 * ((step * 7 + b * 3) % 11);
        for (int c = 0; c < C; c++)
            for (int64_t t = 0; t < T; t++) audio[((int64_t)b * C + c) * T + t] = (float)(0.7 * sin(f * (double)t + c));
        memset(&meta[b], 0, sizeof meta[b]);
        ds_meta_set_number(&meta[b], "seconds_start", (double)((step + b) % 5));
        ds_meta_set_number(&meta[b], "seconds_total", (double)(10 + (step * 3 + b) % 20));
    }
    for (int64_t i = 0; i < (int64_t)B * T; i++) mask[i] = 1.0f;
}

static double rel(const float *a, const float *b, int64_t n, double *maxabs) {
    double me = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!isfinite(a[i])) e = INFINITY;
        if (e > me) me = e;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    if (maxabs) *maxabs = me;
    return me / (mr > 0 ? mr : 1);
}

int main(int argc, char **argv) {
    const char *dev_name = "cuda", *prec_name = "32", *cfg_path = NULL;
    int steps = 6;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            dev_name = argv[++i];
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc)
            prec_name = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            cfg_path = argv[++i];
        else {
            fprintf(stderr, "usage: train_parity [--device D] [--precision P] [--steps N] [--config FILE]\n");
            return 2;
        }
    }
    char pathbuf[4096];
    if (!cfg_path) {
        const char *fx = getenv("DS_FIXTURES");
        snprintf(pathbuf, sizeof pathbuf, "%s/dit_basic/config.json", fx ? fx : "tests/fixtures");
        cfg_path = pathbuf;
    }
    ds_err e = {0};
    ds_precision prec;
    if (ds_precision_parse(prec_name, &prec, &e) != DS_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    ds_device *d = NULL;
    if (ds_device_open(dev_name, prec, &d, &e) != DS_OK) {
        printf("train_parity: skipped: %s\n", e.msg);
        return 77;
    }
    ds_model_config *cfg = malloc(sizeof *cfg);
    if (ds_model_config_load(cfg_path, cfg, NULL, &e) != DS_OK) {
        fprintf(stderr, "train_parity: %s\n", e.msg);
        return 1;
    }
    ds_model *mc = NULL, *md = NULL;
    if (ds_model_create(cfg, &mc, &e) != DS_OK || ds_model_create(cfg, &md, &e) != DS_OK) {
        fprintf(stderr, "train_parity: %s\n", e.msg);
        return 1;
    }
    ds_model_init_random(mc, 7);
    ds_model_init_random(md, 7);
    ds_trainer tc, td;
    if (ds_trainer_init(&tc, mc, 99, &e) != DS_OK || ds_trainer_init(&td, md, 99, &e) != DS_OK) {
        fprintf(stderr, "train_parity: %s\n", e.msg);
        return 1;
    }
    tc.clip = td.clip = 1.0;
    if (ds_trainer_use_device(&td, d, &e) != DS_OK) {
        fprintf(stderr, "train_parity: %s\n", e.msg);
        return 1;
    }
    bool sim = d->kind == DS_DEV_SIM, mixed = prec != DS_PREC_32;
    int B = 2, C = cfg->io_channels;
    int64_t T = cfg->sample_size > 0 ? cfg->sample_size : 64;
    float *audio = malloc((size_t)(B * C * T) * sizeof(float)), *mask = malloc((size_t)(B * T) * sizeof(float));
    ds_meta *meta = calloc((size_t)B, sizeof *meta);
    int failures = 0;
    int64_t allocs_after_first = -1;
    printf("train_parity: %s, precision %s, %d steps of B=%d x %d x %lld\n", d->name, ds_precision_name(prec), steps, B,
           C, (long long)T);
    for (int k = 0; k < steps; k++) {
        make_batch(B, C, T, k, audio, mask, meta);
        ds_batch b = {B, C, T, audio, mask, meta};
        ds_step_stats sc, sd;
        if (ds_trainer_step(&tc, &b, NULL, &sc, &e) != DS_OK || ds_trainer_submit(&td, &b, NULL, &e) != DS_OK ||
            ds_trainer_collect(&td, &sd, &e) != DS_OK) {
            fprintf(stderr, "train_parity: step %d: %s\n", k, e.msg);
            failures++;
            break;
        }
        if (k == 0) allocs_after_first = d->allocs;
        double r = fabs(sd.loss - sc.loss) / (fabs(sc.loss) > 0 ? fabs(sc.loss) : 1);
        double tol = sim ? (mixed ? 1e-6 : 0.0) : (mixed ? 2e-2 : 1e-4);
        bool ok = r <= tol && !sd.skipped;
        if (!ok) failures++;
        printf("%s step %d: loss cpu %.7f  device %.7f  rel %.2e  grad norm %.5f / %.5f%s%s\n", ok ? "ok  " : "FAIL", k,
               sc.loss, sd.loss, r, sc.grad_norm, sd.grad_norm, sd.graph ? "  [graph]" : "",
               sd.scaler_skip ? "  [scaler skip]" : "");
    }
    if (allocs_after_first >= 0 && d->allocs != allocs_after_first) {
        printf("FAIL device allocations after the first step: %lld -> %lld\n", (long long)allocs_after_first,
               (long long)d->allocs);
        failures++;
    }
    if (ds_trainer_sync_host(&td, &e) != DS_OK) {
        fprintf(stderr, "train_parity: %s\n", e.msg);
        failures++;
    }
    const ds_params *pc = &mc->params, *pd = &md->params;
    int64_t n = ds_params_trainable(pc);
    double maxabs;
    double rp = rel(pd->data, pc->data, n, &maxabs);
    double tolp = sim ? (mixed ? 1e-6 : 0.0) : 1e-3;
    bool okp = rp <= tolp || (mixed && !sim);
    if (!okp) failures++;
    printf("%s parameters after %d steps: rel %.2e (max abs %.2e)%s\n", okp ? "ok  " : "FAIL", steps, rp, maxabs,
           mixed && !sim ? " (reported)" : "");
    if (tc.use_ema) {
        double re = rel(td.ema.w, tc.ema.w, tc.ema.n, &maxabs);
        bool oke = re <= tolp || (mixed && !sim);
        if (!oke) failures++;
        printf("%s EMA after %d steps: rel %.2e%s\n", oke ? "ok  " : "FAIL", steps, re, mixed && !sim ? " (reported)" : "");
    }
    int64_t cap, rep, eag;
    char why[200];
    ds_trainer_graph_stats(&td, &cap, &rep, &eag, why, sizeof why);
    printf("graphs: %lld captured, %lld replayed, %lld eager%s%s\n", (long long)cap, (long long)rep, (long long)eag,
           why[0] ? "; off: " : "", why);
    printf("device memory by role:");
    for (int r = 0; r < DS_ROLE_COUNT; r++)
        if (d->bytes_by_role[r]) printf(" %s %.1f MiB;", ds_role_name((ds_role)r), (double)d->bytes_by_role[r] / 1048576.0);
    printf(" %lld allocations\n", (long long)d->allocs);
    ds_trainer_free(&td);
    ds_trainer_free(&tc);
    ds_model_free(md);
    ds_model_free(mc);
    ds_device_close(d);
    free(cfg);
    free(audio);
    free(mask);
    free(meta);
    printf("train_parity: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
