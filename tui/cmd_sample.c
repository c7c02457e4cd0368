/* `diffstudio sample`: generation from a run, a checkpoint or exported weights. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "cli.h"
#include "commands.h"
#include "engine/config_doc.h"
#include "engine/generate.h"

#define MAX_CONDS 16

static void progress(void *user, int step, int steps) {
    (void)user;
    if (steps <= 0) {
        fprintf(stderr, "\rstep %d", step);
        return;
    }
    int w = 30, fill = (int)((double)step / steps * w + 0.5);
    fprintf(stderr, "\r[");
    for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %d/%d steps", step, steps);
    if (step >= steps) fputc('\n', stderr);
    fflush(stderr);
}

static void set_kv(ds_meta *m, const char *key, const char *val) {
    char *end;
    double d = strtod(val, &end);
    if (end != val && *end == 0 && isfinite(d))
        ds_meta_set_number(m, key, d);
    else
        ds_meta_set_string(m, key, val);
}

static void usage(void) {
    printf("usage: diffstudio sample RUN_DIR|CHECKPOINT|WEIGHTS.safetensors --out FILE.wav [options]\n"
           "\n"
           "Generates audio as SAT's generate_diffusion_cond does (EMA weights of a run by default).\n"
           "  --prompt TEXT         value of the \"prompt\" conditioner\n"
           "  --cond KEY=VALUE      value of any conditioner (repeatable); numbers stay numbers\n"
           "  --negative TEXT       negative prompt (cross-attention conditioning)\n"
           "  --seconds S           length; also seconds_total (and seconds_start 0) when conditioned on them\n"
           "  --steps N             sampler steps (default 100 for v models, 50 for rectified flow)\n"
           "  --cfg-scale S         classifier-free guidance (default 7)\n"
           "  --sampler NAME        SAT sampler_type (default dpmpp-3m-sde for v, euler for rectified flow)\n"
           "  --sigma-min S, --sigma-max S   k-diffusion schedule (default 0.01, 100)\n"
           "  --seed N              (default 42); the same seed renders the same audio\n"
           "  --batch N             items; FILE.wav becomes FILE_1.wav … FILE_N.wav\n"
           "  --online              use the online weights instead of the EMA\n"
           "  --config FILE         the model config (default: the run's config.json)\n"
           "  --threads N\n"
           "  --device cpu|cuda     where the model runs (default cpu); --precision 32|bf16-mixed|16-mixed on cuda\n");
}

int cmd_sample(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        usage();
        return 0;
    }
    const char *src = NULL, *out = NULL, *config = NULL, *prompt = NULL, *negative = NULL, *sampler = NULL, *v;
    const char *conds[MAX_CONDS];
    int n_conds = 0;
    double seconds = 0, cfg_scale = 0, smin = 0, smax = 0;
    int64_t steps = 0, seed = 42, batch = 1, threads = 0;
    const char *device = NULL, *precision = NULL;
    bool online = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        if (cli_opt(argc, argv, &i, "--device", &device, &bad) || cli_opt(argc, argv, &i, "--precision", &precision, &bad))
            continue;
        if (cli_opt(argc, argv, &i, "--out", &out, &bad) || cli_opt(argc, argv, &i, "--config", &config, &bad) ||
            cli_opt(argc, argv, &i, "--prompt", &prompt, &bad) || cli_opt(argc, argv, &i, "--negative", &negative, &bad) ||
            cli_opt(argc, argv, &i, "--sampler", &sampler, &bad))
            continue;
        if (cli_opt(argc, argv, &i, "--cond", &v, &bad)) {
            if (!bad && (!strchr(v, '=') || v[0] == '=' || n_conds == MAX_CONDS)) {
                fprintf(stderr, "diffstudio sample: --cond: expected KEY=VALUE, got \"%s\"\n", v);
                bad = true;
            } else if (!bad)
                conds[n_conds++] = v;
        } else if (cli_opt(argc, argv, &i, "--seconds", &v, &bad)) {
            bad = bad || !cli_double("sample", "--seconds", v, 1e-3, 86400, &seconds);
        } else if (cli_opt(argc, argv, &i, "--cfg-scale", &v, &bad)) {
            bad = bad || !cli_double("sample", "--cfg-scale", v, 0, 1000, &cfg_scale);
        } else if (cli_opt(argc, argv, &i, "--sigma-min", &v, &bad)) {
            bad = bad || !cli_double("sample", "--sigma-min", v, 1e-6, 1e6, &smin);
        } else if (cli_opt(argc, argv, &i, "--sigma-max", &v, &bad)) {
            bad = bad || !cli_double("sample", "--sigma-max", v, 1e-6, 1e6, &smax);
        } else if (cli_opt(argc, argv, &i, "--steps", &v, &bad)) {
            bad = bad || !cli_int("sample", "--steps", v, 1, 100000, &steps);
        } else if (cli_opt(argc, argv, &i, "--seed", &v, &bad)) {
            bad = bad || !cli_int("sample", "--seed", v, 0, INT64_MAX, &seed);
        } else if (cli_opt(argc, argv, &i, "--batch", &v, &bad)) {
            bad = bad || !cli_int("sample", "--batch", v, 1, 1024, &batch);
        } else if (cli_opt(argc, argv, &i, "--threads", &v, &bad)) {
            bad = bad || !cli_int("sample", "--threads", v, 0, 256, &threads);
        } else if (cli_flag(a, "--online")) {
            online = true;
        } else if (a[0] == '-' || src) {
            fprintf(stderr, "diffstudio sample: unexpected argument %s (see --help)\n", a);
            bad = true;
        } else {
            src = a;
        }
    }
    if (bad) return 2;
    if (!src || !out) {
        fprintf(stderr, "diffstudio sample: give a run, checkpoint or weights file and --out FILE.wav\n");
        return 2;
    }
    char cfg_path[1100];
    if (!cli_run_config("sample", src, config, cfg_path, sizeof cfg_path)) return 2;
    static ds_model_config cfg;
    if (!cli_load_model("sample", cfg_path, &cfg) || !cli_check_runnable("sample", &cfg)) return 1;

    /* Conditioning: the same values for every item of the batch. */
    ds_meta base, neg;
    memset(&base, 0, sizeof base);
    memset(&neg, 0, sizeof neg);
    if (prompt) ds_meta_set_string(&base, "prompt", prompt);
    for (int k = 0; k < n_conds; k++) {
        char key[64];
        const char *eq = strchr(conds[k], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - conds[k]), conds[k]);
        set_kv(&base, key, eq + 1);
    }
    int64_t sample_size = 0;
    if (seconds > 0) {
        int64_t m = ds_min_input_length(&cfg);
        sample_size = (int64_t)ceil(seconds * cfg.sample_rate);
        sample_size = (sample_size + m - 1) / m * m;
        if (!ds_meta_get(&base, "seconds_total")) ds_meta_set_number(&base, "seconds_total", ceil(seconds));
        if (!ds_meta_get(&base, "seconds_start")) ds_meta_set_number(&base, "seconds_start", 0);
    }
    bool cond_model = cfg.model_type != DS_MODEL_DIFFUSION_UNCOND;
    if (cond_model) {
        for (int i = 0; i < cfg.conditioning.n; i++) {
            const char *id = cfg.conditioning.c[i].id;
            bool have = ds_meta_get(&base, id) != NULL;
            for (int d = 0; !have && d < cfg.conditioning.n_default_keys; d++)
                if (!strcmp(cfg.conditioning.default_key_id[d], id))
                    have = ds_meta_get(&base, cfg.conditioning.default_key_val[d]) != NULL;
            if (!have) {
                fprintf(stderr, "diffstudio sample: no value for conditioner \"%s\" (%s): give %s%s=VALUE\n", id,
                        cfg.conditioning.c[i].type_name, strcmp(id, "prompt") ? "--cond " : "--prompt or --cond ", id);
                return 2;
            }
        }
        /* A key no conditioner reads is most likely a typo: SAT would ignore it silently. */
        for (int k = 0; k < n_conds; k++) {
            int len = (int)(strchr(conds[k], '=') - conds[k]);
            bool known = false;
            for (int i = 0; !known && i < cfg.conditioning.n; i++)
                known = (int)strlen(cfg.conditioning.c[i].id) == len && !strncmp(cfg.conditioning.c[i].id, conds[k], len);
            for (int d = 0; !known && d < cfg.conditioning.n_default_keys; d++)
                known = (int)strlen(cfg.conditioning.default_key_val[d]) == len &&
                        !strncmp(cfg.conditioning.default_key_val[d], conds[k], len);
            if (!known) {
                char ids[512] = "";
                for (int i = 0; i < cfg.conditioning.n; i++)
                    snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "", cfg.conditioning.c[i].id);
                fprintf(stderr, "diffstudio sample: --cond %.*s: this model has no conditioner \"%.*s\" (its conditioners: %s)\n",
                        len, conds[k], len, conds[k], ids);
                return 2;
            }
        }
        /* A list conditioner maps a value outside its options to its "unknown" entry (index 0),
         * as SAT does; say so, since it is rarely what was meant. */
        for (int i = 0; i < cfg.conditioning.n; i++) {
            const ds_conditioner_config *c = &cfg.conditioning.c[i];
            const ds_meta_kv *mv = ds_meta_get(&base, c->id);
            if (c->type != DS_COND_LIST || !mv || !mv->is_string) continue;
            bool found = false;
            for (int o = 0; !found && o < c->n_options; o++) found = !strcmp(c->options[o], mv->string);
            if (!found) {
                char opts[1024] = "";
                for (int o = 0; o < c->n_options; o++)
                    snprintf(opts + strlen(opts), sizeof opts - strlen(opts), "%s%s", o ? ", " : "", c->options[o]);
                fprintf(stderr, "diffstudio sample: warning: \"%s\" is not one of conditioner \"%s\"'s options (%s): "
                        "it gets the unknown entry, as in SAT\n", mv->string, c->id, opts);
            }
        }
        if (negative) {
            neg = base;
            ds_meta_set_string(&neg, "prompt", negative);
        }
    }
    ds_meta *items = calloc((size_t)batch, sizeof *items), *negs = negative ? calloc((size_t)batch, sizeof *negs) : NULL;
    for (int64_t b = 0; b < batch; b++) {
        items[b] = base;
        if (negs) negs[b] = neg;
    }
    ds_generate_opts o = {&cfg, src, !online, sampler, (int)steps, cfg_scale, smin, smax, 0, (uint64_t)seed, (int)batch,
                          sample_size, items, negs, (int)threads, NULL, progress, NULL, device, precision};
    ds_generate_result r;
    ds_err err = {0};
    ds_status s = ds_generate(&o, &r, &err);
    free(items);
    free(negs);
    if (s != DS_OK) {
        fprintf(stderr, "\ndiffstudio sample: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    const char *dot = strrchr(out, '.');
    for (int b = 0; b < r.batch && rc == 0; b++) {
        char path[1200];
        if (r.batch == 1)
            snprintf(path, sizeof path, "%s", out);
        else if (dot)
            snprintf(path, sizeof path, "%.*s_%d%s", (int)(dot - out), out, b + 1, dot);
        else
            snprintf(path, sizeof path, "%s_%d", out, b + 1);
        audio_clip c = {r.audio + (int64_t)b * r.channels * r.frames, r.channels, r.frames, r.sample_rate};
        audio_err ae = {0};
        if (audio_file_write_demo(path, &c, &ae) != AUDIO_OK) {
            fprintf(stderr, "diffstudio sample: %s\n", ae.msg);
            rc = 1;
        } else {
            printf("wrote %s (%.2f s, %d ch, %d Hz; %s, %d steps, cfg %g, seed %lld)\n", path,
                   (double)r.frames / r.sample_rate, r.channels, r.sample_rate, r.sampler, r.steps, r.cfg_scale,
                   (long long)seed);
        }
    }
    free(r.audio);
    return rc;
}
