/* `diffstudio bench`: training-step and sampling speed of model configs, as ratios against
 * the PyTorch reference (bench/reference.timings, next to the configs) and as GFLOP/s. */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/bench.h"

static void progress(void *user, const char *line) {
    if (*(bool *)user) fprintf(stderr, "  %s\n", line);
}

/* Reference numbers for a config file: bench/reference.timings in its folder, keyed by name. */
static bool reference_for(const char *path, double *train_ms, double *sample_ms) {
    char dir[1024], base[512], ref[1100];
    snprintf(dir, sizeof dir, "%s", path);
    snprintf(base, sizeof base, "%s", path);
    snprintf(ref, sizeof ref, "%s/reference.timings", dirname(dir));
    const char *name = basename(base);
    FILE *f = fopen(ref, "rb");
    if (!f) return false;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, name);
    bool ok = false;
    if (cJSON_IsObject(e)) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "train_step_ms"), *s = cJSON_GetObjectItemCaseSensitive(e, "sample_ms");
        if (cJSON_IsNumber(t) && cJSON_IsNumber(s)) {
            *train_ms = t->valuedouble;
            *sample_ms = s->valuedouble;
            ok = true;
        }
    }
    cJSON_Delete(j);
    return ok;
}

/* --profile: the profiled step by op name, as a table or as JSON members. */
static void print_profile(const ds_bench_result *r, bool json) {
    if (json) {
        printf(", \"profile_ms\": %.3f, \"profile\": [", r->profile_ms);
        for (int i = 0; i < r->n_profile; i++) {
            const ds_bench_op_time *o = &r->profile[i];
            printf("%s{\"op\": \"%s\", \"forward_ms\": %.4f, \"forward_calls\": %d, \"backward_ms\": %.4f, "
                   "\"backward_calls\": %d}", i ? ", " : "", o->name, o->fwd_ms, o->fwd_calls, o->bwd_ms, o->bwd_calls);
        }
        printf("]");
        return;
    }
    if (r->n_profile == 0) return;
    printf("  one training step op by op: %.1f ms over %d op names%s\n", r->profile_ms, r->n_profile_names,
           r->n_profile < r->n_profile_names ? " (the largest shown)" : "");
    printf("    %-36s %11s %6s %11s %6s %7s\n", "op (time since the previous mark)", "forward ms", "calls",
           "backward ms", "calls", "share");
    for (int i = 0; i < r->n_profile; i++) {
        const ds_bench_op_time *o = &r->profile[i];
        printf("    %-36s %11.2f %6d %11.2f %6d %6.1f%%\n", o->name, o->fwd_ms, o->fwd_calls, o->bwd_ms, o->bwd_calls,
               r->profile_ms > 0 ? 100.0 * (o->fwd_ms + o->bwd_ms) / r->profile_ms : 0.0);
    }
}

/* The device benchmark's report: one row per config, then the device. */
static int bench_device_table(ds_bench_opts *o, const char **files, int nf, bool json) {
    int rc = 0;
    if (!json)
        printf("%-14s %-10s %8s %6s %9s %10s %8s %6s %10s %9s %9s %s\n", "config", "precision", "params", "batch",
               "step ms", "tokens/s", "TFLOP/s", "MFU", "gen ms", "arena GiB", "dev GiB", "graphs");
    for (int k = 0; k < nf; k++) {
        static ds_model_config cfg;
        if (!cli_load_model("bench", files[k], &cfg)) {
            rc = 1;
            continue;
        }
        if (o->batch <= 0) o->batch = 8;
        ds_bench_result r;
        ds_err err = {0};
        if (ds_bench_run(&cfg, o, &r, &err) != DS_OK) {
            fprintf(stderr, "diffstudio bench: %s: %s\n", files[k], err.msg);
            rc = 1;
            continue;
        }
        char base[512];
        snprintf(base, sizeof base, "%s", files[k]);
        const char *name = basename(base);
        if (json) {
            printf("{\"config\": \"%s\", \"device\": \"%s\", \"precision\": \"%s\", \"batch\": %d, \"params\": %lld, "
                   "\"train_step_ms\": %.3f, \"train_step_min_ms\": %.3f, \"train_step_max_ms\": %.3f, "
                   "\"tokens_per_step\": %lld, \"tokens_per_s\": %.1f, \"forward_gflop\": %.3f, \"train_tflops\": %.2f, "
                   "\"peak_tflops\": %.0f, \"mfu\": %.4f, \"gen_ms\": %.2f, \"gen_steps\": %d, \"gen_sampler\": \"%s\", "
                   "\"gen_cfg\": %.1f, \"gen_batch\": %d, \"arena_bytes\": %lld, \"device_bytes\": %lld, "
                   "\"graph_captures\": %lld, \"graph_replays\": %lld, \"graphs_off\": \"%s\"",
                   files[k], r.device, r.precision, o->batch, (long long)r.params, r.train_step_ms, r.train_step_min_ms,
                   r.train_step_max_ms, (long long)r.tokens_per_step, r.tokens_per_s, r.forward_gflop, r.train_tflops,
                   r.peak_tflops, r.mfu, r.gen_ms, r.gen_steps, r.gen_sampler, r.gen_cfg, r.gen_batch,
                   (long long)r.arena_bytes, (long long)r.device_bytes, (long long)r.graph_captures,
                   (long long)r.graph_replays, r.graphs_off);
            if (o->profile) print_profile(&r, true);
            printf("}\n");
        } else {
            char mfu[16] = "-", gen[32] = "-";
            if (r.peak_tflops > 0) snprintf(mfu, sizeof mfu, "%.1f%%", 100.0 * r.mfu);
            if (r.gen_ms > 0) snprintf(gen, sizeof gen, "%.0f", r.gen_ms);
            printf("%-14s %-10s %7.1fM %6d %9.1f %10.0f %8.1f %6s %10s %9.2f %9.2f %lld/%lld%s%s\n", name, r.precision,
                   (double)r.params / 1e6, o->batch, r.train_step_ms, r.tokens_per_s, r.train_tflops, mfu, gen,
                   (double)r.arena_bytes / 1073741824.0, (double)r.device_bytes / 1073741824.0,
                   (long long)r.graph_captures, (long long)r.graph_replays, r.graphs_off[0] ? " off: " : "",
                   r.graphs_off);
            printf("  device: %s; peak %s%.0f TFLOP/s dense bf16; generation: %d %s steps, CFG %g, batch %d\n", r.device,
                   r.peak_tflops > 0 ? "" : "unknown ", r.peak_tflops, r.gen_steps, r.gen_sampler[0] ? r.gen_sampler : "-",
                   r.gen_cfg, r.gen_batch);
            if (o->profile) print_profile(&r, false);
        }
        fflush(stdout);
    }
    return rc;
}

int cmd_bench(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio bench CONFIG... [--batch N] [--threads N] [--iters N] [--tokens N] [--json] [--no-sample] [-v]\n"
               "                       [--profile] [--device cuda [--precision P] [--gen-steps N] [--plan]]\n"
               "\n"
               "Times the training step (forward + v-objective MSE + backward + AdamW; 3 warm-ups, median of\n"
               "--iters, default 10) and sampling (8 v-DDIM steps, CFG 3) of each model config at batch 4,\n"
               "with conditioning tensors precomputed (--tokens cross-attention tokens, default 66), as the\n"
               "PyTorch reference in bench/ was measured. Prints ms, the speed-up over the reference, achieved\n"
               "GFLOP/s, the activation arena planned before the first step and peak memory.\n"
               "  --json   one JSON object per config (train_step_ms, sample_ms, train_gflops_per_s, peak_rss_bytes, …)\n"
               "  --device cuda   the GPU benchmark: the trainer's device step (precision bf16-mixed unless\n"
               "           --precision says otherwise; no EMA, CUDA graphs once shapes repeat) timed as whole steps,\n"
               "           tokens/s and MFU against the card's dense bf16 peak, then a generation of --gen-steps\n"
               "           (default 100) dpmpp-3m-sde steps with CFG 7 at batch 1\n"
               "  --plan   print parameters and the planned activation arena only\n"
               "  --profile  after timing, one more training step op by op: the time of each op name, forward\n"
               "           and backward, largest first (on a GPU from events on the stream; that step runs\n"
               "           without CUDA graphs)\n");
        return 0;
    }
    ds_bench_opts o = {0};
    bool json = false, verbose = false, bad = false;
    const char *files[64];
    int nf = 0;
    const char *v;
    for (int i = 1; i < argc && !bad; i++) {
        int64_t x;
        if (cli_opt(argc, argv, &i, "--batch", &v, &bad)) {
            if (!bad && cli_int("bench", "--batch", v, 1, 4096, &x)) o.batch = (int)x; else bad = true;
        } else if (cli_opt(argc, argv, &i, "--threads", &v, &bad)) {
            if (!bad && cli_int("bench", "--threads", v, 0, 256, &x)) o.threads = (int)x; else bad = true;
        } else if (cli_opt(argc, argv, &i, "--iters", &v, &bad)) {
            if (!bad && cli_int("bench", "--iters", v, 1, 64, &x)) o.iters = (int)x; else bad = true;
        } else if (cli_opt(argc, argv, &i, "--tokens", &v, &bad)) {
            if (!bad && cli_int("bench", "--tokens", v, 1, 100000, &x)) o.cross_tokens = (int)x; else bad = true;
        } else if (cli_opt(argc, argv, &i, "--device", &v, &bad)) {
            o.device = v;
        } else if (cli_opt(argc, argv, &i, "--precision", &v, &bad)) {
            o.precision = v;
        } else if (cli_opt(argc, argv, &i, "--gen-steps", &v, &bad)) {
            if (!bad && cli_int("bench", "--gen-steps", v, 1, 10000, &x)) o.gen_steps = (int)x; else bad = true;
        } else if (cli_flag(argv[i], "--plan")) {
            o.plan_only = true;
        } else if (cli_flag(argv[i], "--json")) {
            json = true;
        } else if (cli_flag(argv[i], "--no-sample")) {
            o.skip_sample = true;
        } else if (cli_flag(argv[i], "--profile")) {
            o.profile = true;
        } else if (cli_flag(argv[i], "-v")) {
            verbose = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "diffstudio bench: unknown option %s\n", argv[i]);
            bad = true;
        } else if (nf < 64) {
            files[nf++] = argv[i];
        }
    }
    if (bad) return 2;
    if (nf == 0) {
        fprintf(stderr, "diffstudio bench: give one or more model configs (e.g. bench/*.json)\n");
        return 2;
    }
    o.progress = progress;
    o.user = &verbose;
    int rc = 0;
    bool dev = o.device && strcmp(o.device, "cpu") != 0;
    if (dev) return bench_device_table(&o, files, nf, json);
    if (!json)
        printf("%-16s %9s %8s %9s %10s %8s %9s %10s %10s\n", "config", "params", "train ms", "vs ref", "GFLOP/s",
               "sample ms", "vs ref", "arena MiB", "peak MiB");
    for (int k = 0; k < nf; k++) {
        static ds_model_config cfg;
        if (!cli_load_model("bench", files[k], &cfg)) {
            rc = 1;
            continue;
        }
        ds_bench_result r;
        ds_err err = {0};
        if (ds_bench_run(&cfg, &o, &r, &err) != DS_OK) {
            fprintf(stderr, "diffstudio bench: %s: %s\n", files[k], err.msg);
            rc = 1;
            continue;
        }
        double ref_t = 0, ref_s = 0;
        bool have_ref = reference_for(files[k], &ref_t, &ref_s);
        char base[512];
        snprintf(base, sizeof base, "%s", files[k]);
        const char *name = basename(base);
        if (json) {
            printf("{\"config\": \"%s\", \"batch\": %d, \"threads\": %d, \"params\": %lld, \"train_step_ms\": %.3f, "
                   "\"train_step_min_ms\": %.3f, \"train_step_max_ms\": %.3f, \"sample_ms\": %.3f, "
                   "\"forward_gflop\": %.4f, \"train_gflops_per_s\": %.2f, \"sample_gflops_per_s\": %.2f, "
                   "\"param_bytes\": %lld, \"grad_bytes\": %lld, \"optimizer_bytes\": %lld, \"arena_bytes\": %lld, "
                   "\"peak_rss_bytes\": %lld",
                   files[k], o.batch ? o.batch : 4, r.threads, (long long)r.params, r.train_step_ms, r.train_step_min_ms,
                   r.train_step_max_ms, r.sample_ms, r.forward_gflop, r.train_gflops_per_s, r.sample_gflops_per_s,
                   (long long)r.param_bytes, (long long)r.grad_bytes, (long long)r.optim_bytes,
                   (long long)r.arena_bytes, (long long)r.peak_rss_bytes);
            if (have_ref)
                printf(", \"reference_train_step_ms\": %.1f, \"reference_sample_ms\": %.1f, \"train_speedup\": %.3f, "
                       "\"sample_speedup\": %.3f",
                       ref_t, ref_s, ref_t / r.train_step_ms, r.sample_ms > 0 ? ref_s / r.sample_ms : 0.0);
            if (o.profile) print_profile(&r, true);
            printf("}\n");
        } else {
            char vt[32] = "-", vs[32] = "-";
            if (have_ref) {
                snprintf(vt, sizeof vt, "%.2fx", ref_t / r.train_step_ms);
                if (r.sample_ms > 0) snprintf(vs, sizeof vs, "%.2fx", ref_s / r.sample_ms);
            }
            printf("%-16s %8.2fM %8.1f %9s %10.1f %8.1f %9s %10.1f %10.1f\n", name, (double)r.params / 1e6,
                   r.train_step_ms, vt, r.train_gflops_per_s, r.sample_ms, vs, (double)r.arena_bytes / (1 << 20),
                   (double)r.peak_rss_bytes / (1 << 20));
            if (o.profile) print_profile(&r, false);
        }
        fflush(stdout);
    }
    return rc;
}
