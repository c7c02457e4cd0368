/* The training worker driven with no terminal, as the studio and headless `train` drive it:
 * start, metrics, demos, checkpoints, pause/resume, stop mid-run, stop while rendering,
 * resume bit-for-bit, a refused resume with a changed config, NaN steps skipped then a stop.
 * Runs under ThreadSanitizer too (label "thread"). Data comes from an in-memory source. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "engine/worker.h"
#include "tensor/safetensors.h"
#include "testutil.h"

/* ---- an in-memory data source: batch k is a pure function of (seed, k) ---- */
typedef struct mem_src {
    int B, C;
    int64_t T;
    uint64_t seed;
    int64_t pos;
    int nan_every;   /* >0: batches with pos % nan_every == nan_every-1 are NaN */
    bool all_nan;
    float *audio, *mask;
    ds_meta *meta;
} mem_src;

static ds_status mem_next(void *user, ds_batch *b, ds_err *err) {
    (void)err;
    mem_src *s = user;
    uint64_t x = s->seed * 0x9E3779B97F4A7C15ull + (uint64_t)s->pos * 0xBF58476D1CE4E5B9ull + 1;
    bool nan = s->all_nan || (s->nan_every > 0 && s->pos % s->nan_every == s->nan_every - 1);
    for (int i = 0; i < s->B; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double f = 2 + (double)(x % 1000) / 100.0;
        for (int c = 0; c < s->C; c++)
            for (int64_t t = 0; t < s->T; t++)
                s->audio[((int64_t)i * s->C + c) * s->T + t] = nan ? NAN : (float)(0.5 * sin(f * t * 0.1 + c));
        memset(&s->meta[i], 0, sizeof s->meta[i]);
        ds_meta_set_number(&s->meta[i], "seconds_total", (double)(x % 30));
    }
    for (int64_t i = 0; i < (int64_t)s->B * s->T; i++) s->mask[i] = 1;
    s->pos++;
    *b = (ds_batch){s->B, s->C, s->T, s->audio, s->mask, s->meta};
    return DS_OK;
}
static int64_t mem_position(void *user) { return ((mem_src *)user)->pos; }
static ds_status mem_seek(void *user, int64_t pos, ds_err *err) {
    (void)err;
    ((mem_src *)user)->pos = pos;
    return DS_OK;
}

static mem_src g_proto; /* nan settings for the next open */

static ds_status open_mem(void *user, const char *dataset, int rate, int channels, int64_t frames, int batch,
                          uint64_t seed, ds_batch_source *src, ds_err *err) {
    (void)user, (void)dataset, (void)rate, (void)err;
    mem_src *s = calloc(1, sizeof *s);
    *s = g_proto;
    s->B = batch;
    s->C = channels;
    s->T = frames;
    s->seed = seed;
    s->audio = calloc((size_t)(batch * channels * frames), sizeof(float));
    s->mask = calloc((size_t)(batch * frames), sizeof(float));
    s->meta = calloc((size_t)batch, sizeof(ds_meta));
    *src = (ds_batch_source){s, mem_next, mem_position, mem_seek};
    return DS_OK;
}
static void close_mem(void *user, ds_batch_source *src) {
    (void)user;
    mem_src *s = src->user;
    free(s->audio);
    free(s->mask);
    free(s->meta);
    free(s);
}
static ds_status write_wav(void *user, const char *path, const float *data, int channels, int64_t frames, int rate,
                           ds_err *err) {
    (void)user;
    audio_clip c = {(float *)data, channels, frames, rate};
    audio_err e = {0};
    return audio_file_write_demo(path, &c, &e) == AUDIO_OK ? DS_OK : ds_err_set(err, DS_ERR_IO, "%s", e.msg);
}

/* ---- a tiny conditioned DiT ---- */
static void tiny_config(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    c->model_type = DS_MODEL_DIFFUSION_COND;
    c->backbone = DS_BB_DIT;
    c->objective = DS_OBJ_V;
    c->sample_size = 32;
    c->sample_rate = 8000;
    c->audio_channels = 1;
    c->io_channels = 1;
    c->conditioning.present = true;
    c->conditioning.cond_dim = 32;
    c->conditioning.n = 1;
    ds_conditioner_config *k = &c->conditioning.c[0];
    snprintf(k->id, sizeof k->id, "seconds_total");
    k->type = DS_COND_NUMBER;
    k->output_dim = 32;
    k->max_val = 64;
    snprintf(c->cross_attention_cond_ids.id[0], DS_ID_LEN, "seconds_total");
    snprintf(c->global_cond_ids.id[0], DS_ID_LEN, "seconds_total");
    c->cross_attention_cond_ids.n = c->global_cond_ids.n = 1;
    ds_dit_config *d = &c->dit;
    d->io_channels = 1;
    d->patch_size = 1;
    d->embed_dim = 64;
    d->depth = 1;
    d->num_heads = 2;
    d->cond_token_dim = 32;
    d->project_cond_tokens = true;
    d->global_cond_dim = 32;
    d->project_global_cond = true;
    snprintf(d->transformer_type, sizeof d->transformer_type, "continuous_transformer");
    d->rotary_pos_emb = d->zero_init_branch_outputs = d->ff_glu = true;
    d->final_cross_attn_ix = -1;
    d->ff_mult = 4;
    d->norm_eps = 1e-5;
    ds_training_config *t = &c->training;
    t->present = t->use_ema = true;
    t->cfg_dropout_prob = 0.1;
    t->has_optimizer_configs = true;
    t->optimizer = DS_OPT_ADAMW;
    t->lr = 1e-3;
    t->beta1 = 0.9;
    t->beta2 = 0.999;
    t->eps = 1e-8;
    t->weight_decay = 1e-3;
    t->demo.demo_every = 0;
    t->demo.demo_steps = 3;
    t->demo.num_demos = 2;
    t->demo.n_cfg_scales = 2;
    t->demo.cfg_scales[0] = 1;
    t->demo.cfg_scales[1] = 3;
    t->demo.n_demo_cond = 2;
    for (int i = 0; i < 2; i++) {
        t->demo.demo_cond[i].n = 1;
        snprintf(t->demo.demo_cond[i].v[0].key, DS_ID_LEN, "seconds_total");
        t->demo.demo_cond[i].v[0].number = 10 * (i + 1);
    }
}

static ds_run_spec *spec_for(const char *dir, int64_t max_steps) {
    ds_run_spec *s = calloc(1, sizeof *s);
    tiny_config(&s->model);
    snprintf(s->studio.run_dir, sizeof s->studio.run_dir, "%s", dir);
    snprintf(s->studio.device, sizeof s->studio.device, "cpu");
    s->studio.batch_size = 2;
    s->studio.seed = 7;
    s->studio.threads = 2;
    s->studio.accum_batches = 1;
    s->studio.keep_checkpoints = 3;
    s->studio.nan_max_skips = 3;
    snprintf(s->dataset, sizeof s->dataset, "memory");
    s->max_steps = max_steps;
    s->io = (ds_run_io){NULL, open_mem, close_mem, write_wav};
    return s;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Polls until pred holds (or 60 s pass); returns the last snapshot. */
static ds_worker_status wait_for(ds_worker *w, bool (*pred)(const ds_worker_status *, int64_t), int64_t arg) {
    ds_worker_status st;
    double t0 = now_s();
    for (;;) {
        ds_worker_snapshot(w, &st);
        if (pred(&st, arg) || now_s() - t0 > 60) return st;
        usleep(2000);
    }
}
static bool done(const ds_worker_status *s, int64_t a) {
    (void)a;
    return s->state == DS_STATE_FINISHED || s->state == DS_STATE_FAILED;
}
static bool step_at_least(const ds_worker_status *s, int64_t a) { return s->step >= a || done(s, 0); }
static bool is_paused(const ds_worker_status *s, int64_t a) {
    (void)a;
    return s->state == DS_STATE_PAUSED || done(s, 0);
}
static bool rendering(const ds_worker_status *s, int64_t a) {
    (void)a;
    return s->phase == DS_PHASE_RENDERING_DEMOS || done(s, 0);
}

static bool exists(const char *dir, const char *name) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

static ds_worker_status run_to_end(ds_run_spec *spec) {
    ds_worker *w;
    ds_err err = {0};
    ds_worker_create(&w, &err);
    CHECKF(ds_worker_start(w, spec, &err) == DS_OK, "%s", err.msg);
    ds_worker_status st = wait_for(w, done, 0);
    ds_worker_destroy(w);
    return st;
}

static char g_root[256];

static void test_basic_run(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/basic", g_root);
    ds_run_spec *spec = spec_for(dir, 6);
    spec->model.training.demo.demo_every = 3;
    spec->studio.checkpoint_every = 3;
    ds_worker *w;
    ds_err err = {0};
    CHECK(ds_worker_create(&w, &err) == DS_OK);
    CHECKF(ds_worker_start(w, spec, &err) == DS_OK, "%s", err.msg);
    ds_worker_status st = wait_for(w, done, 0);
    CHECKF(st.state == DS_STATE_FINISHED, "state %s: %s", ds_worker_state_str(st.state), st.message);
    CHECKF(st.step == 6, "step %lld", (long long)st.step);
    CHECK(st.last_checkpoint_step == 6);
    CHECK(st.last_demo_step == 4);
    CHECK(isfinite(st.loss) && st.loss > 0 && st.lr > 0);
    CHECK(ds_worker_metric_count(w) == 6);
    ds_metric_point pts[8];
    CHECK(ds_worker_metrics(w, 0, pts, 8) == 6 && pts[0].step == 1 && pts[5].step == 6);
    ds_log_line lines[64];
    int nl = ds_worker_log(w, 0, lines, 64);
    bool saw_ckpt = false;
    for (int i = 0; i < nl; i++) saw_ckpt |= strstr(lines[i].text, "checkpoint saved") != NULL;
    CHECK(saw_ckpt);
    /* demos at steps 1 and 4, two cfg scales, concatenated + 2 per-demo files each */
    int got = 0;
    for (ds_demo *d; (d = ds_worker_take_demo(w));) {
        CHECK(d->channels == 1 && d->sample_rate == 8000);
        CHECK(d->frames == (d->index < 0 ? 64 : 32));
        got++;
        ds_demo_free(d);
    }
    CHECKF(got == 12, "demos handed over: %d", got);
    char demos[600], ck[600], path[700];
    snprintf(demos, sizeof demos, "%s/demos", dir);
    snprintf(ck, sizeof ck, "%s/checkpoints", dir);
    CHECK(exists(demos, "demo_cfg_1_00000001.wav") && exists(demos, "demo_cfg_3_00000004.wav"));
    CHECK(exists(demos, "demo_cfg_3_00000004_01.wav"));
    snprintf(path, sizeof path, "%s/index.jsonl", demos);
    CHECK(count_lines(path) == 12);
    CHECK(exists(ck, "step-000000003/model.safetensors") && exists(ck, "step-000000006/ema.safetensors"));
    CHECK(exists(ck, "step-000000006/optimizer.safetensors") && exists(ck, "step-000000006/state.json"));
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    CHECK(count_lines(path) == 6);
    audio_clip c = {0};
    audio_err ae = {0};
    snprintf(path, sizeof path, "%s/demo_cfg_3_00000001.wav", demos);
    CHECKF(audio_file_read(path, &c, &ae) == AUDIO_OK, "%s", ae.msg);
    CHECK(c.frames == 64 && c.channels == 1 && c.rate == 8000);
    CHECKF(fabsf(audio_clip_peak(&c) - 1.0f) < 1e-3f, "peak %g (SAT normalises to full scale)", audio_clip_peak(&c));
    audio_clip_free(&c);
    ds_worker_destroy(w);
    free(spec);
}

static void test_pause_stop(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/pause", g_root);
    ds_run_spec *spec = spec_for(dir, 0);
    ds_worker *w;
    ds_err err = {0};
    ds_worker_create(&w, &err);
    CHECK(ds_worker_start(w, spec, &err) == DS_OK);
    CHECK(ds_worker_start(w, spec, &err) != DS_OK); /* one run at a time */
    ds_worker_status st = wait_for(w, step_at_least, 2);
    CHECK(st.state == DS_STATE_RUNNING);
    ds_worker_pause(w);
    st = wait_for(w, is_paused, 0);
    CHECKF(st.state == DS_STATE_PAUSED, "state %s", ds_worker_state_str(st.state));
    int64_t at = st.step;
    usleep(100000);
    ds_worker_snapshot(w, &st);
    CHECK(st.step == at && st.state == DS_STATE_PAUSED);
    ds_worker_resume(w);
    st = wait_for(w, step_at_least, at + 2);
    CHECK(st.step >= at + 2);
    ds_worker_stop(w);
    st = wait_for(w, done, 0);
    CHECKF(st.state == DS_STATE_FINISHED, "%s", st.message);
    CHECK(st.last_checkpoint_step == st.step);
    ds_worker_destroy(w);
    free(spec);
}

static void test_stop_while_rendering(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/render", g_root);
    ds_run_spec *spec = spec_for(dir, 0);
    spec->model.training.demo.demo_every = 1;
    spec->model.training.demo.demo_steps = 100000; /* long enough to be caught rendering */
    ds_worker *w;
    ds_err err = {0};
    ds_worker_create(&w, &err);
    CHECK(ds_worker_start(w, spec, &err) == DS_OK);
    ds_worker_status st = wait_for(w, rendering, 0);
    CHECK(st.phase == DS_PHASE_RENDERING_DEMOS);
    double t0 = now_s();
    ds_worker_stop(w);
    st = wait_for(w, done, 0);
    CHECKF(st.state == DS_STATE_FINISHED, "%s", st.message);
    CHECKF(now_s() - t0 < 10, "stop took %.1f s", now_s() - t0);
    CHECK(st.last_checkpoint_step == 1);
    ds_worker_destroy(w);
    free(spec);
}

static float *read_weights(const char *ckpt, int64_t *n) {
    ds_safetensors f;
    ds_err err = {0};
    if (ds_st_open(&f, ckpt, &err) != DS_OK) return NULL;
    int64_t total = 0;
    for (int i = 0; i < f.n; i++) total += f.t[i].numel;
    float *d = malloc((size_t)total * sizeof(float)), *p = d;
    for (int i = 0; i < f.n; i++) {
        ds_st_to_f32(&f.t[i], p);
        p += f.t[i].numel;
    }
    ds_st_close(&f);
    *n = total;
    return d;
}

static void test_resume_exact(void) {
    char a[512], b[512], pa[600], pb[600];
    snprintf(a, sizeof a, "%s/split", g_root);
    snprintf(b, sizeof b, "%s/whole", g_root);
    ds_run_spec *s1 = spec_for(a, 4), *s2 = spec_for(a, 8), *s3 = spec_for(b, 8);
    s2->resume = true;
    ds_worker_status st = run_to_end(s1);
    CHECKF(st.state == DS_STATE_FINISHED && st.step == 4, "%s", st.message);
    st = run_to_end(s2);
    CHECKF(st.state == DS_STATE_FINISHED && st.step == 8, "resume: %s", st.message);
    st = run_to_end(s3);
    CHECKF(st.state == DS_STATE_FINISHED && st.step == 8, "%s", st.message);
    const char *files[] = {"model.safetensors", "ema.safetensors", "optimizer.safetensors"};
    for (int k = 0; k < 3; k++) {
        snprintf(pa, sizeof pa, "%s/checkpoints/step-000000008/%s", a, files[k]);
        snprintf(pb, sizeof pb, "%s/checkpoints/step-000000008/%s", b, files[k]);
        int64_t na = 0, nb = 0;
        float *wa = read_weights(pa, &na), *wb = read_weights(pb, &nb);
        CHECKF(wa && wb && na == nb && na > 0, "%s", files[k]);
        if (wa && wb && na == nb) CHECKF(memcmp(wa, wb, (size_t)na * sizeof(float)) == 0, "%s differs after resume", files[k]);
        free(wa);
        free(wb);
    }
    /* A changed model config is refused. */
    ds_run_spec *s4 = spec_for(a, 12);
    s4->resume = true;
    s4->model.dit.depth = 2;
    st = run_to_end(s4);
    CHECKF(st.state == DS_STATE_FAILED && strstr(st.message, "differs"), "%s", st.message);
    free(s1), free(s2), free(s3), free(s4);
}

static void test_nan(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/nan_some", g_root);
    ds_run_spec *spec = spec_for(dir, 6);
    g_proto.nan_every = 3; /* batches 2, 5, 8, … are NaN */
    ds_worker_status st = run_to_end(spec);
    CHECKF(st.state == DS_STATE_FINISHED && st.step == 6, "%s", st.message);
    CHECKF(st.nan_skips_total >= 2, "skips %d", st.nan_skips_total);
    CHECK(isfinite(st.loss));
    g_proto.nan_every = 0;
    g_proto.all_nan = true;
    snprintf(dir, sizeof dir, "%s/nan_all", g_root);
    ds_run_spec *s2 = spec_for(dir, 20);
    st = run_to_end(s2);
    CHECKF(st.state == DS_STATE_FAILED && strstr(st.message, "non-finite"), "%s", st.message);
    CHECK(st.nan_skips_in_row == 3 && st.step == 0);
    g_proto.all_nan = false;
    free(spec);
    free(s2);
}

int main(void) {
    snprintf(g_root, sizeof g_root, "/tmp/ds_test_worker_%d", (int)getpid());
    mkdir(g_root, 0755);
    ds_log_set_level(DS_LOG_WARN);
    test_basic_run();
    test_pause_stop();
    test_stop_while_rendering();
    test_resume_exact();
    test_nan();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
    if (!tu_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
    return tu_finish("test_worker");
}
