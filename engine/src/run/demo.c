/* Training demos (sat-spec §6, DiffusionCondDemoCallback / DiffusionUncondDemoCallback).
 * Conditioned: one noise tensor [num_demos, io, T] shared by every cfg scale; per scale one
 * render with the demo sampler of the objective (v: v-DDIM eta 0; rectified_flow: Euler on
 * the linear t grid; rf_denoiser: pingpong), batched CFG, no rescale; the EMA backbone
 * when use_ema. Unconditional: 8 demos, v-DDIM, one file demo_{step:08}.wav.
 * The cfg scale in file names is printed as Python's str() prints the JSON value for the
 * integral scales every SAT config uses ("3", not "3.0"); other values use the shortest
 * repr ("6.5"). */
#include "run/demo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diffusion/render.h"
#include "models/pretransform.h"
#include "run/run.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void scale_str(double s, char *buf, size_t n) {
    if (s == floor(s) && fabs(s) < 1e15)
        snprintf(buf, n, "%lld", (long long)s);
    else {
        for (int prec = 1; prec <= 17; prec++) { /* shortest round-tripping decimal, like repr() */
            snprintf(buf, n, "%.*g", prec, s);
            if (strtod(buf, NULL) == s) break;
        }
    }
}

/* The demo_cond entry as ds_meta and as JSON text. */
static void demo_meta(const ds_demo_cond *dc, ds_meta *m, char *json, size_t n) {
    memset(m, 0, sizeof *m);
    size_t off = (size_t)snprintf(json, n, "{");
    for (int k = 0; k < dc->n && off < n; k++) {
        const ds_demo_value *v = &dc->v[k];
        if (v->is_string) {
            ds_meta_set_string(m, v->key, v->string);
            off += (size_t)snprintf(json + off, n - off, "%s\"%s\": \"%s\"", k ? ", " : "", v->key, v->string);
        } else {
            ds_meta_set_number(m, v->key, v->number);
            off += (size_t)snprintf(json + off, n - off, "%s\"%s\": %.10g", k ? ", " : "", v->key, v->number);
        }
    }
    if (off < n) snprintf(json + off, n - off, "}");
}

/* "b d n -> d (b n)": demos [N, C, T] -> planar [C][N·T]. */
static void concat_in_time(const float *x, int64_t N, int64_t C, int64_t T, float *out) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t b = 0; b < N; b++) memcpy(out + c * N * T + b * T, x + (b * C + c) * T, (size_t)T * sizeof(float));
}

static void append_index(const char *dir, int64_t step, double scale, int index, const char *cond, const char *path,
                         double secs) {
    char p[4200];
    snprintf(p, sizeof p, "%s/index.jsonl", dir);
    FILE *f = fopen(p, "a");
    if (!f) return;
    char sc[32];
    scale_str(scale, sc, sizeof sc);
    fprintf(f, "{\"step\": %lld, \"cfg_scale\": %s, \"demo\": %d, \"cond\": %s, \"path\": \"%s\", \"seconds\": %.3f}\n",
            (long long)step, sc, index, cond[0] ? cond : "{}", path, secs);
    fclose(f);
}

static ds_status emit(const ds_demo_ctx *dc, int64_t step, double scale, int index, const char *cond, const char *name,
                      const float *planar, int C, int64_t frames, int rate, double secs, ds_err *err) {
    char path[DS_PATH_LEN];
    if (snprintf(path, sizeof path, "%s/%s", dc->dir, name) >= (int)sizeof path)
        return ds_err_set(err, DS_ERR_INVALID, "%s: demo path too long", dc->dir);
    DS_TRY(dc->io->write_wav(dc->io->user, path, planar, C, frames, rate, err));
    append_index(dc->dir, step, scale, index, cond, name, secs);
    if (dc->w) {
        ds_demo *d = calloc(1, sizeof *d);
        if (d) {
            d->data = malloc((size_t)(C * frames) * sizeof(float));
            if (!d->data) {
                free(d);
                return DS_OK;
            }
            memcpy(d->data, planar, (size_t)(C * frames) * sizeof(float));
            d->step = step;
            d->cfg_scale = scale;
            d->index = index;
            snprintf(d->cond, sizeof d->cond, "%s", cond);
            snprintf(d->path, sizeof d->path, "%s", path);
            d->channels = C;
            d->frames = frames;
            d->sample_rate = rate;
            d->seconds = secs;
            ds_worker_add_demo(dc->w, d);
        }
    }
    return DS_OK;
}

ds_status ds_demo_render(const ds_demo_ctx *dc, int64_t step, ds_err *err) {
    ds_model *m = dc->m;
    const ds_model_config *cfg = &m->cfg;
    const ds_demo_config *demo = &cfg->training.demo;
    bool cond_model = cfg->model_type != DS_MODEL_DIFFUSION_UNCOND;
    int N = cond_model ? demo->num_demos : 8;
    if (N <= 0) return ds_err_set(err, DS_ERR_INVALID, "training.demo.num_demos: expected a positive number of demos");
    if (cond_model && m->n_cond > 0 && demo->n_demo_cond < N)
        return ds_err_set(err, DS_ERR_INVALID,
                          "training.demo.demo_cond: %d entries for %d demos (one conditioning dict per demo)",
                          demo->n_demo_cond, N);
    int steps = demo->demo_steps > 0 ? demo->demo_steps : 250;
    int ratio = cfg->pretransform.ratio > 0 ? cfg->pretransform.ratio : 1;
    int64_t C = cfg->io_channels, T = cfg->sample_size / ratio, n = (int64_t)N * C * T;
    int rate = cfg->sample_rate;

    /* One noise tensor for every scale, seeded by the step: a resumed run renders the same. */
    ds_rng noise_rng;
    ds_rng_init(&noise_rng, ((uint64_t)step << 20) ^ 0xD3E0);
    float *noise = malloc((size_t)n * sizeof(float)), *lat = malloc((size_t)n * sizeof(float));
    int64_t Ca = C, Ta = T;
    if (cfg->pretransform.type == DS_PT_PATCHED && cfg->pretransform.patch_size > 1) {
        Ca = C / cfg->pretransform.patch_size;
        Ta = T * cfg->pretransform.patch_size;
    }
    float *audio = malloc((size_t)(N * Ca * Ta) * sizeof(float)), *planar = malloc((size_t)(N * Ca * Ta) * sizeof(float));
    ds_meta *meta = calloc((size_t)N, sizeof *meta);
    char (*cond_json)[512] = calloc((size_t)N, sizeof *cond_json);
    const ds_params *p = &m->params;
    int64_t nb = p->range_end[DS_PG_BACKBONE] - p->range_begin[DS_PG_BACKBONE];
    bool swap = dc->tr->use_ema && dc->tr->ema.initted;
    float *online = swap ? malloc((size_t)nb * sizeof(float)) : NULL;
    ds_status s = DS_OK;
    if (!noise || !lat || !audio || !planar || !meta || !cond_json || (swap && !online)) {
        s = ds_err_set(err, DS_ERR_NOMEM, "out of memory for the demos");
        goto out;
    }
    ds_rng_normal_fill(&noise_rng, noise, n);
    for (int d = 0; d < N; d++)
        if (cond_model && d < demo->n_demo_cond) demo_meta(&demo->demo_cond[d], &meta[d], cond_json[d], sizeof cond_json[d]);
    /* Render with the EMA backbone: swap it in, and the online weights back afterwards. On
     * a device the host copies are refreshed first and the swapped table is uploaded. */
    float *w = p->data + p->range_begin[DS_PG_BACKBONE];
    /* refreshing the host copies changes no training state: the const is kept by intent */
    if (dc->tr->dev && (s = ds_trainer_sync_host((ds_trainer *)dc->tr, err)) != DS_OK) goto out;
    if (swap) {
        memcpy(online, w, (size_t)nb * sizeof(float));
        memcpy(w, dc->tr->ema.w, (size_t)nb * sizeof(float));
        if (dc->tr->dev && (s = ds_params_upload(&m->params, err)) != DS_OK) goto out;
    }
    int n_scales = cond_model && demo->n_cfg_scales > 0 ? demo->n_cfg_scales : 1;
    for (int k = 0; k < n_scales && s == DS_OK; k++) {
        double scale = cond_model && demo->n_cfg_scales > 0 ? demo->cfg_scales[k] : 1.0;
        double t0 = now_s();
        ds_ctx c;
        ds_ctx_init(&c);
        ds_ctx_set_device(&c, m->params.dev, false);
        ds_cond_tensors ct;
        memset(&ct, 0, sizeof ct);
        if (cond_model && m->n_cond > 0) s = ds_model_condition(m, &c, meta, N, &ct, err);
        if (s == DS_OK) {
            ds_render_args a;
            memset(&a, 0, sizeof a);
            a.model = m;
            a.cond = cond_model ? &ct : NULL;
            a.call = ds_call_opts_demo((float)scale);
            a.sampler = ds_sampler_demo(cfg->model_type == DS_MODEL_DIFFUSION_UNCOND ? DS_OBJ_V : cfg->objective, steps,
                                        &cfg->dist_shift);
            ds_rng srng;
            ds_rng_init(&srng, ((uint64_t)step << 20) ^ 0x5A3 ^ (uint64_t)k);
            a.sampler.rng = &srng;
            a.sampler.cancel = dc->cancel;
            a.ctx = dc->render_ctx;
            a.batch = N;
            a.length = T;
            a.noise = noise;
            s = ds_render(&a, lat, err);
        }
        ds_ctx_free(&c);
        if (s == DS_OK) s = ds_pretransform_decode(&cfg->pretransform, lat, N, C, T, audio, err);
        if (s != DS_OK) break;
        double secs = now_s() - t0;
        char name[128], sc[32];
        scale_str(scale, sc, sizeof sc);
        concat_in_time(audio, N, Ca, Ta, planar);
        if (cond_model)
            snprintf(name, sizeof name, "demo_cfg_%s_%08lld.wav", sc, (long long)step);
        else
            snprintf(name, sizeof name, "demo_%08lld.wav", (long long)step);
        s = emit(dc, step, scale, -1, "", name, planar, (int)Ca, (int64_t)N * Ta, rate, secs, err);
        for (int d = 0; d < N && s == DS_OK; d++) {
            if (cond_model)
                snprintf(name, sizeof name, "demo_cfg_%s_%08lld_%02d.wav", sc, (long long)step, d);
            else
                snprintf(name, sizeof name, "demo_%08lld_%02d.wav", (long long)step, d);
            s = emit(dc, step, scale, d, cond_json[d], name, audio + (int64_t)d * Ca * Ta, (int)Ca, Ta, rate, secs, err);
        }
    }
    if (swap) {
        memcpy(w, online, (size_t)nb * sizeof(float));
        ds_err e2;
        if (dc->tr->dev && ds_params_upload(&m->params, &e2) != DS_OK && s == DS_OK) {
            *err = e2;
            s = e2.code;
        }
    }
out:
    free(noise);
    free(lat);
    free(audio);
    free(planar);
    free(meta);
    free(cond_json);
    free(online);
    return s;
}
