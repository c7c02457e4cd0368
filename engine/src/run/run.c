/* A training run: run directory, model, data, the step loop, metrics, checkpoints, demos.
 * Runs on the worker thread (see worker.c for the threading design). Files of a run:
 *   <run>/config.json    the model config (a copy of the file it was started from)
 *   <run>/log.txt        every log line with a timestamp
 *   <run>/metrics.jsonl  one JSON object per optimiser step (append-only across resumes)
 *   <run>/events.out.tfevents.*  TensorBoard scalars (train/loss, train/lr, …)
 *   <run>/checkpoints/   see run/checkpoint.h
 *   <run>/demos/         demo renders (see run/demo.c) */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fileio.h"
#include "core/pool.h"
#include "device/device.h"
#include "ops/ops.h"
#include "run/checkpoint.h"
#include "run/demo.h"
#include "run/run.h"
#include "run/tbevents.h"
#include "engine/config_doc.h"

typedef struct run {
    ds_worker *w;
    const ds_run_spec *spec;
    ds_worker_status st;
    ds_model *m;
    ds_trainer tr;
    bool tr_ok;
    ds_batch_source src;
    bool src_ok;
    FILE *log, *metrics;
    char metrics_path[DS_PATH_LEN + 16];
    bool metrics_failing, tb_failing; /* their last write failed (warned once) */
    ds_tb tb;
    char dir[DS_PATH_LEN], ckpt_dir[DS_PATH_LEN + 16], demo_dir[DS_PATH_LEN + 16];
    double t_start, elapsed_base;
    double loss_ema, loss_ema_w; /* debiased EMA for the smoothed loss */
    double rate_ema;             /* steps per second, smoothed */
    char config_hash[32];
    /* owned copies of the micro-batches of one step (a source's buffers live until next()) */
    ds_batch *batches;
    int n_batches;
    ds_device *dev; /* the studio file's device (NULL: the CPU) */
    /* device runs load step k+1's batches while step k computes: r->batches then holds
     * them already, and the source's position for a checkpoint is the one before them */
    bool prefetched;
    int64_t pos_before_prefetch;
    ds_ctx demo_ctx; /* reused by every demo render: its arena stays mapped between demos */
} run;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void rlog(run *r, ds_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rlog(run *r, ds_log_level level, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->log) {
        time_t t = time(NULL);
        struct tm tm;
        char ts[32];
        localtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
        static const char *tag[] = {"debug", "info", "warning", "error"};
        fprintf(r->log, "%s %s: %s\n", ts, tag[level], line);
        fflush(r->log);
    }
    ds_worker_log_line(r->w, level, line);
    ds_log(level, "%s", line);
}

static void publish(run *r) {
    r->st.elapsed_s = r->elapsed_base + (now_s() - r->t_start);
    ds_worker_publish(r->w, &r->st);
}

static void fail(run *r, const ds_err *err) {
    r->st.state = DS_STATE_FAILED;
    r->st.phase = DS_PHASE_NONE;
    snprintf(r->st.message, sizeof r->st.message, "%s", err->msg);
    rlog(r, DS_LOG_ERROR, "%s", err->msg);
    publish(r);
}

/* The config hash ignores where the config was loaded from. */
static void config_hash(const ds_model_config *cfg, char out[32]) {
    ds_model_config *c = malloc(sizeof *c);
    if (!c) {
        snprintf(out, 32, "unknown");
        return;
    }
    memcpy(c, cfg, sizeof *c);
    memset(c->path, 0, sizeof c->path);
    ds_hash_hex(c, sizeof *c, out);
    free(c);
}

static ds_status setup_dir(run *r, ds_err *err) {
    const ds_studio_config *sc = &r->spec->studio;
    if (sc->run_dir[0])
        snprintf(r->dir, sizeof r->dir, "%s", sc->run_dir);
    else {
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
        snprintf(r->dir, sizeof r->dir, "runs/%s-%s", sc->name[0] ? sc->name : "run", ts);
    }
    snprintf(r->ckpt_dir, sizeof r->ckpt_dir, "%s/checkpoints", r->dir);
    snprintf(r->demo_dir, sizeof r->demo_dir, "%s/demos", r->dir);
    DS_TRY(ds_mkdirs(r->ckpt_dir, err));
    DS_TRY(ds_mkdirs(r->demo_dir, err));
    snprintf(r->st.run_dir, sizeof r->st.run_dir, "%s", r->dir);
    char path[DS_PATH_LEN + 32];
    snprintf(path, sizeof path, "%s/log.txt", r->dir);
    r->log = fopen(path, "a");
    if (!r->log) return ds_err_set(err, DS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    snprintf(r->metrics_path, sizeof r->metrics_path, "%s/metrics.jsonl", r->dir);
    r->metrics = fopen(r->metrics_path, "a");
    if (!r->metrics) return ds_err_set(err, DS_ERR_IO, "%s: cannot open: %s", r->metrics_path, strerror(errno));
    ds_err terr;
    if (ds_tb_open(&r->tb, r->dir, &terr) != DS_OK) rlog(r, DS_LOG_WARN, "TensorBoard events disabled: %s", terr.msg);
    /* Snapshot of the model config. */
    snprintf(path, sizeof path, "%s/config.json", r->dir);
    if (r->spec->model_json_path[0] && !r->spec->resume) {
        char *text = NULL;
        size_t len = 0;
        DS_TRY(ds_read_file(r->spec->model_json_path, &text, &len, 16u << 20, err));
        ds_status s = ds_write_file_atomic(path, text, len, err);
        free(text);
        DS_TRY(s);
    }
    return DS_OK;
}

static ds_status copy_batch(ds_batch *dst, const ds_batch *src) {
    size_t na = (size_t)src->B * src->C * src->T, nm = (size_t)src->B * src->T;
    if (dst->B != src->B || dst->C != src->C || dst->T != src->T) {
        free(dst->audio);
        free(dst->padding_mask);
        free(dst->meta);
        dst->audio = malloc(na * sizeof(float));
        dst->padding_mask = malloc(nm * sizeof(float));
        dst->meta = malloc((size_t)src->B * sizeof(ds_meta));
        if (!dst->audio || !dst->padding_mask || !dst->meta) return DS_ERR_NOMEM;
        dst->B = src->B;
        dst->C = src->C;
        dst->T = src->T;
    }
    memcpy(dst->audio, src->audio, na * sizeof(float));
    if (src->padding_mask)
        memcpy(dst->padding_mask, src->padding_mask, nm * sizeof(float));
    else
        for (size_t i = 0; i < nm; i++) dst->padding_mask[i] = 1.0f;
    memcpy(dst->meta, src->meta, (size_t)src->B * sizeof(ds_meta));
    return DS_OK;
}

/* A metrics or events file that cannot be written (a full disk) costs its records, not the
 * run: say so once when it starts failing and once when it writes again. */
static void output_status(run *r, const char *path, bool *failing, ds_status s, const ds_err *e) {
    if (s != DS_OK && !*failing)
        rlog(r, DS_LOG_WARN, "%s; training goes on, these records are lost until writing works again", e->msg);
    else if (s == DS_OK && *failing)
        rlog(r, DS_LOG_INFO, "%s: written again", path);
    *failing = s != DS_OK;
}

static void write_metrics(run *r, const ds_step_stats *s, double t, double demo_s) {
    ds_metric_point p;
    memset(&p, 0, sizeof p);
    p.step = r->tr.global_step;
    p.loss = (float)s->loss;
    p.lr = (float)s->lr;
    p.grad_norm = (float)s->grad_norm;
    p.time_s = t;
    for (int k = 0; k < DS_LOSS_BUCKETS_MAX; k++) p.bucket_loss[k] = s->bucket_count[k] ? (float)s->bucket_loss[k] : NAN;
    ds_worker_add_metric(r->w, &p);
    if (r->metrics) {
        char line[2048];
        int n = snprintf(line, sizeof line,
                         "{\"step\": %lld, \"loss\": %.9g, \"loss_smoothed\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g, "
                         "\"std_data\": %.9g, \"time\": %.3f, \"it_per_s\": %.4f",
                         (long long)p.step, s->loss, r->st.loss_smoothed, s->lr, s->grad_norm, s->std_data, t,
                         r->st.it_per_s);
        if (demo_s > 0) /* training waited this long */
            n += snprintf(line + n, sizeof line - (size_t)n, ", \"demo_seconds\": %.3f", demo_s);
        if (r->m->cfg.training.log_loss_info) {
            n += snprintf(line + n, sizeof line - (size_t)n, ", \"loss_buckets\": {");
            bool first = true;
            for (int k = 0; k < DS_LOSS_BUCKETS_MAX; k++)
                if (s->bucket_count[k]) {
                    n += snprintf(line + n, sizeof line - (size_t)n, "%s\"%.1f\": %.9g", first ? "" : ", ", k / 10.0,
                                  s->bucket_loss[k]);
                    first = false;
                }
            n += snprintf(line + n, sizeof line - (size_t)n, "}");
        }
        n += snprintf(line + n, sizeof line - (size_t)n, "}\n");
        ds_err e = {0};
        output_status(r, r->metrics_path, &r->metrics_failing,
                      ds_append_all(r->metrics, r->metrics_path, line, (size_t)n, &e), &e);
    }
    if (r->tb.f) {
        double wall = (double)time(NULL);
        ds_tb_scalar(&r->tb, "train/loss", p.step, wall, (float)s->loss);
        ds_tb_scalar(&r->tb, "train/mse_loss", p.step, wall, (float)s->loss);
        ds_tb_scalar(&r->tb, "train/lr", p.step, wall, (float)s->lr);
        ds_tb_scalar(&r->tb, "train/std_data", p.step, wall, (float)s->std_data);
        ds_tb_scalar(&r->tb, "train/grad_norm", p.step, wall, (float)s->grad_norm);
        for (int k = 0; k < DS_LOSS_BUCKETS_MAX; k++)
            if (s->bucket_count[k]) {
                char tag[48];
                snprintf(tag, sizeof tag, "model/loss_all_%.1f", k / 10.0);
                ds_tb_scalar(&r->tb, tag, p.step, wall, (float)s->bucket_loss[k]);
            }
        ds_err e = {0};
        output_status(r, r->tb.path, &r->tb_failing, ds_tb_flush(&r->tb, &e), &e);
    }
}

/* The next micro-batches of a step from the source into r->batches (owned copies). */
static ds_status load_batches(run *r, ds_err *err) {
    ds_status s = DS_OK;
    for (int k = 0; k < r->n_batches && s == DS_OK; k++) {
        ds_batch b;
        memset(&b, 0, sizeof b);
        s = r->src.next(r->src.user, &b, err);
        if (s == DS_OK && copy_batch(&r->batches[k], &b) != DS_OK)
            s = ds_err_set(err, DS_ERR_NOMEM, "out of memory copying a batch");
    }
    return s;
}

static ds_status save_checkpoint(run *r, ds_err *err) {
    ds_phase prev = r->st.phase;
    r->st.phase = DS_PHASE_SAVING;
    publish(r);
    ds_ckpt_state cs;
    memset(&cs, 0, sizeof cs);
    cs.step = r->tr.global_step;
    cs.seed = r->spec->studio.seed;
    cs.data_position = r->prefetched ? r->pos_before_prefetch : r->src.position ? r->src.position(r->src.user) : 0;
    snprintf(cs.config_hash, sizeof cs.config_hash, "%s", r->config_hash);
    cs.elapsed_s = r->elapsed_base + (now_s() - r->t_start);
    cs.loss_smoothed = r->st.loss_smoothed;
    char saved[DS_PATH_LEN + 64];
    int keep = r->spec->studio.keep_checkpoints > 0 ? r->spec->studio.keep_checkpoints : 3;
    ds_status s = ds_trainer_sync_host(&r->tr, err); /* a device's tables to the host copies */
    if (s == DS_OK) s = ds_ckpt_save(r->ckpt_dir, &r->tr, &cs, keep, saved, sizeof saved, err);
    if (s == DS_OK) {
        r->st.last_checkpoint_step = cs.step;
        rlog(r, DS_LOG_INFO, "checkpoint saved: %s", saved);
    } else {
        rlog(r, DS_LOG_ERROR, "%s", err->msg);
    }
    r->st.phase = prev;
    publish(r);
    return s;
}

static ds_status setup(run *r, ds_err *err) {
    const ds_run_spec *sp = r->spec;
    const ds_studio_config *sc = &sp->studio;
    DS_TRY(setup_dir(r, err));
    rlog(r, DS_LOG_INFO, "run directory %s", r->dir);
    ds_set_threads(sc->threads);
    snprintf(r->st.device, sizeof r->st.device, "cpu (%d threads)", ds_pool_threads());
    ds_precision prec = DS_PREC_32;
    if (sc->precision[0]) DS_TRY(ds_precision_parse(sc->precision, &prec, err));
    if (sc->device[0] && strcmp(sc->device, "cpu") != 0) {
        /* fails with the reason (no GPU, no driver, built without nvcc) before anything else;
         * the messages name the device */
        DS_TRY(ds_device_open(sc->device, prec, &r->dev, err));
        snprintf(r->st.device, sizeof r->st.device, "%.70s, %s", r->dev->name, ds_precision_name(prec));
        rlog(r, DS_LOG_INFO, "device %s, precision %s", r->dev->name, ds_precision_name(prec));
    } else if (prec != DS_PREC_32) {
        rlog(r, DS_LOG_INFO, "precision %s applies to CUDA: the CPU trains in float32", ds_precision_name(prec));
    }
    config_hash(&sp->model, r->config_hash);
    DS_TRY(ds_model_create(&sp->model, &r->m, err));
    if (sp->init_weights[0]) {
        DS_TRY(ds_model_load(r->m, sp->init_weights, false, err));
        rlog(r, DS_LOG_INFO, "initial weights from %s", sp->init_weights);
    } else {
        ds_model_init_random(r->m, sc->seed);
        if (sc->pretrained_ckpt_path[0]) {
            int loaded, skipped;
            DS_TRY(ds_model_load_matching(r->m, sc->pretrained_ckpt_path, &loaded, &skipped, err));
            rlog(r, DS_LOG_INFO, "pretrained weights from %s: %d tensors loaded, %d kept as initialised (name or shape differs)",
                 sc->pretrained_ckpt_path, loaded, skipped);
        }
    }
    if (sc->pretransform_ckpt_path[0])
        rlog(r, DS_LOG_WARN, "pretransform_ckpt_path is ignored: this model has no pretransform diffstudio can run");
    DS_TRY(ds_trainer_init(&r->tr, r->m, sc->seed, err));
    r->tr_ok = true;
    r->tr.accum = sc->accum_batches > 0 ? sc->accum_batches : 1;
    r->tr.clip = sc->gradient_clip_val;
    int64_t data_pos = 0;
    if (sp->resume) {
        /* The newest checkpoint that loads. One that cannot be read (a damaged file, a disk
         * that lost it) is reported and the one before it taken, so a bad save never strands a
         * run; a changed model config is refused outright. */
        ds_err le = {0};
        char path[DS_PATH_LEN + 64], newest[sizeof path] = "", why[sizeof le.msg] = "";
        int64_t step, before = INT64_MAX;
        ds_ckpt_state cs;
        for (;;) {
            ds_status ls = ds_ckpt_latest_before(r->ckpt_dir, before, path, sizeof path, &step, err);
            if (ls != DS_OK) {
                if (!newest[0]) return ls;
                return ds_err_set(err, DS_ERR_IO, "%s: no checkpoint of this run could be loaded (the newest, %s: %s)",
                                  r->ckpt_dir, newest, why);
            }
            ds_status cs_ok = ds_ckpt_read_state(path, &cs, &le);
            if (cs_ok == DS_OK && strcmp(cs.config_hash, r->config_hash) != 0) {
                char was[DS_PATH_LEN + 16], diff[1024] = "";
                snprintf(was, sizeof was, "%s/config.json", r->dir);
                int nd = sp->model_json_path[0] ? ds_config_diff_files(was, sp->model_json_path, 6, diff, sizeof diff) : -1;
                return ds_err_set(err, DS_ERR_INVALID,
                                  "%s: the model config differs from the one this run was trained with (%s)%s%s; resume "
                                  "refused (start a new run, or resume with the run's own config.json)",
                                  path, was, nd > 0 ? ": " : "", nd > 0 ? diff : "");
            }
            if (cs_ok == DS_OK) cs_ok = ds_ckpt_load(path, &r->tr, &cs, &le);
            if (cs_ok == DS_OK) break;
            if (!newest[0]) {
                snprintf(newest, sizeof newest, "%s", path);
                snprintf(why, sizeof why, "%s", le.msg);
            }
            rlog(r, DS_LOG_WARN, "cannot resume from %s: %s; trying the checkpoint before it", path, le.msg);
            before = step;
        }
        if (cs.seed != sc->seed)
            rlog(r, DS_LOG_WARN, "resuming with seed %llu (the run was started with %llu): keeping the run's seed",
                 (unsigned long long)sc->seed, (unsigned long long)cs.seed);
        data_pos = cs.data_position;
        r->elapsed_base = cs.elapsed_s;
        r->st.loss_smoothed = cs.loss_smoothed;
        r->st.last_checkpoint_step = step;
        rlog(r, DS_LOG_INFO, "resumed from %s (step %lld)", path, (long long)step);
    }
    /* Onto the device after a resume has loaded the host copies. */
    if (r->dev) DS_TRY(ds_trainer_use_device(&r->tr, r->dev, err));
    r->st.step = r->tr.global_step;
    int64_t n = ds_params_trainable(&r->m->params);
    rlog(r, DS_LOG_INFO, "model: %s, %.2f M parameters", r->m->cfg.backbone_name[0] ? r->m->cfg.backbone_name : "?",
         (double)n / 1e6);

    r->st.phase = DS_PHASE_LOADING_DATA;
    publish(r);
    int channels = r->m->cfg.audio_channels == 1 ? 1 : 2;
    int B = sc->batch_size > 0 ? sc->batch_size : 4;
    DS_TRY(sp->io.open_data(sp->io.user, sp->dataset, r->m->cfg.sample_rate, channels, r->m->cfg.sample_size, B,
                            sc->seed, &r->src, err));
    r->src_ok = true;
    if (data_pos && r->src.seek) DS_TRY(r->src.seek(r->src.user, data_pos, err));
    r->n_batches = r->tr.accum;
    r->batches = calloc((size_t)r->n_batches, sizeof *r->batches);
    if (!r->batches) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    return DS_OK;
}

static void teardown(run *r) {
    if (r->src_ok && r->spec->io.close_data) r->spec->io.close_data(r->spec->io.user, &r->src);
    for (int i = 0; i < r->n_batches; i++) {
        free(r->batches[i].audio);
        free(r->batches[i].padding_mask);
        free(r->batches[i].meta);
    }
    free(r->batches);
    if (r->tr_ok) ds_trainer_free(&r->tr);
    ds_model_free(r->m); /* before the device closes: its tables may live there */
    ds_device_close(r->dev);
    r->dev = NULL;
    ds_ctx_free(&r->demo_ctx);
    ds_tb_close(&r->tb);
    if (r->metrics) fclose(r->metrics);
    if (r->log) fclose(r->log);
}

static bool demo_due(const run *r) {
    int every = r->m->cfg.training.demo.demo_every;
    /* SAT renders when (global_step - 1) % demo_every == 0: steps 1, every+1, … */
    return every > 0 && r->tr.global_step >= 1 && (r->tr.global_step - 1) % every == 0;
}

static void do_demos(run *r) {
    ds_phase prev = r->st.phase;
    r->st.phase = DS_PHASE_RENDERING_DEMOS;
    publish(r);
    double t0 = now_s();
    ds_err err;
    memset(&err, 0, sizeof err);
    ds_demo_ctx dc = {r->m, &r->tr, &r->spec->io, r->demo_dir, r->w, ds_worker_cancel_flag(r->w), &r->demo_ctx};
    ds_status s = ds_demo_render(&dc, r->tr.global_step, &err);
    if (s == DS_ERR_CANCELLED)
        rlog(r, DS_LOG_INFO, "demo at step %lld cancelled", (long long)r->tr.global_step);
    else if (s != DS_OK)
        rlog(r, DS_LOG_WARN, "demo at step %lld failed (training goes on): %s", (long long)r->tr.global_step, err.msg);
    r->st.last_demo_step = r->tr.global_step;
    r->st.last_demo_seconds = now_s() - t0;
    r->st.phase = prev;
    publish(r);
}

void ds_run_main(ds_worker *w, const ds_run_spec *spec) {
    run *r = calloc(1, sizeof *r);
    if (!r) {
        ds_worker_status st = {0};
        st.state = DS_STATE_FAILED;
        snprintf(st.message, sizeof st.message, "out of memory");
        ds_worker_publish(w, &st);
        return;
    }
    r->w = w;
    r->spec = spec;
    ds_ctx_init(&r->demo_ctx);
    r->t_start = now_s();
    r->st.state = DS_STATE_STARTING;
    r->st.max_steps = spec->max_steps;
    r->st.eta_s = -1;
    publish(r);
    ds_err err;
    memset(&err, 0, sizeof err);
    if (setup(r, &err) != DS_OK) {
        fail(r, &err);
        teardown(r);
        free(r);
        return;
    }
    r->st.state = DS_STATE_RUNNING;
    r->st.phase = DS_PHASE_TRAINING;
    publish(r);
    const ds_studio_config *sc = &spec->studio;
    int nan_max = sc->nan_max_skips > 0 ? sc->nan_max_skips : 5;
    double last_t = now_s();
    bool stopped = false, aborted = false;
    int64_t steps_at_start = r->tr.global_step;
    for (;;) {
        ds_worker_cmds cmd = ds_worker_take_cmds(w, &r->st);
        if (cmd.abort_) {
            aborted = true;
            break;
        }
        if (cmd.save) save_checkpoint(r, &err);
        if (cmd.demo) do_demos(r);
        if (cmd.stop) {
            stopped = true;
            break;
        }
        if (spec->max_steps > 0 && r->tr.global_step >= spec->max_steps) break;
        ds_status s = r->prefetched ? DS_OK : load_batches(r, &err);
        r->prefetched = false;
        if (s == DS_OK && !r->tr.planned) {
            r->st.phase = DS_PHASE_PLANNING;
            publish(r);
            s = ds_trainer_plan(&r->tr, &r->batches[0], &err);
            if (s == DS_OK)
                rlog(r, DS_LOG_INFO, "activation arena %.1f MiB (planned before the first step)",
                     (double)r->tr.arena_bytes / (1 << 20));
            r->st.phase = DS_PHASE_TRAINING;
        }
        ds_step_stats ss;
        ds_status pref = DS_OK;
        ds_err perr = {0};
        if (s == DS_OK) s = ds_trainer_submit(&r->tr, r->batches, NULL, &err);
        if (s == DS_OK && r->dev && !(spec->max_steps > 0 && r->tr.global_step + 1 >= spec->max_steps)) {
            /* Overlap: the device runs the step (its inputs are in staging already) while
             * the host loads the next batches into r->batches. */
            r->pos_before_prefetch = r->src.position ? r->src.position(r->src.user) : 0;
            pref = load_batches(r, &perr);
            r->prefetched = pref == DS_OK;
        }
        if (s == DS_OK) s = ds_trainer_collect(&r->tr, &ss, &err);
        if (s == DS_OK && pref != DS_OK) { /* the next step's data failed: report it as that step's error */
            s = pref;
            err = perr;
        }
        if (s != DS_OK) {
            if (r->tr.global_step > steps_at_start) save_checkpoint(r, &(ds_err){0});
            fail(r, &err);
            teardown(r);
            free(r);
            return;
        }
        double t = now_s();
        if (ss.scaler_skip) { /* 16-mixed: an overflow at this loss scale; GradScaler halves it */
            rlog(r, DS_LOG_INFO, "step %lld: gradient overflow at loss scale %g: step skipped, scale halved",
                 (long long)r->tr.global_step + 1, ss.loss_scale);
            publish(r);
            continue;
        }
        if (ss.skipped) {
            r->st.nan_skips_in_row++;
            r->st.nan_skips_total++;
            rlog(r, DS_LOG_WARN, "step %lld: non-finite %s (loss %g, grad norm %g): step skipped (%d in a row)",
                 (long long)r->tr.global_step + 1, isfinite(ss.loss) ? "gradient" : "loss", ss.loss, ss.grad_norm,
                 r->st.nan_skips_in_row);
            if (r->st.nan_skips_in_row >= nan_max) {
                ds_err_set(&err, DS_ERR_NUMERIC,
                           "stopped after %d non-finite steps in a row at step %lld (nan_max_skips); the last good "
                           "checkpoint is kept",
                           r->st.nan_skips_in_row, (long long)r->tr.global_step);
                fail(r, &err);
                teardown(r);
                free(r);
                return;
            }
            publish(r);
            continue;
        }
        r->st.nan_skips_in_row = 0;
        r->st.samples_seen += (int64_t)r->batches[0].B * r->n_batches;
        /* TensorBoard's smoothing: debiased EMA, weight 0.98 */
        r->loss_ema = 0.98 * r->loss_ema + 0.02 * ss.loss;
        r->loss_ema_w = 0.98 * r->loss_ema_w + 0.02;
        r->st.loss = ss.loss;
        r->st.loss_smoothed = r->loss_ema / r->loss_ema_w;
        r->st.lr = ss.lr;
        r->st.grad_norm = ss.grad_norm;
        r->st.step = r->tr.global_step;
        double dt = t - last_t;
        last_t = t;
        double rate = dt > 0 ? 1.0 / dt : 0;
        r->rate_ema = r->rate_ema == 0 ? rate : 0.9 * r->rate_ema + 0.1 * rate;
        r->st.it_per_s = r->rate_ema;
        r->st.eta_s = spec->max_steps > 0 && r->rate_ema > 0 ? (double)(spec->max_steps - r->tr.global_step) / r->rate_ema
                                                             : -1;
        publish(r);
        double demo_s = 0;
        if (demo_due(r)) {
            do_demos(r);
            demo_s = r->st.last_demo_seconds;
        }
        write_metrics(r, &ss, r->elapsed_base + (t - r->t_start), demo_s);
        if (sc->checkpoint_every > 0 && r->tr.global_step % sc->checkpoint_every == 0) save_checkpoint(r, &err);
        if (ds_worker_should_abort(w)) {
            aborted = true;
            break;
        }
    }
    if (!aborted) {
        r->st.state = DS_STATE_STOPPING;
        publish(r);
        if (r->st.last_checkpoint_step != r->tr.global_step) save_checkpoint(r, &err);
    }
    r->st.state = DS_STATE_FINISHED;
    r->st.phase = DS_PHASE_NONE;
    snprintf(r->st.message, sizeof r->st.message, "%s at step %lld",
             aborted ? "aborted" : (stopped ? "stopped" : "finished"), (long long)r->tr.global_step);
    rlog(r, DS_LOG_INFO, "%s", r->st.message);
    publish(r);
    teardown(r);
    free(r);
}
