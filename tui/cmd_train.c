/* `diffstudio train`: headless training through the same worker the studio uses.
 * On a terminal one status line updates in place; otherwise plain lines. Ctrl-C stops after
 * the current step and saves a checkpoint; a second Ctrl-C exits at once. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine/config_doc.h"
#include "engine/worker.h"
#include "run_io.h"
#include "run_spec.h"

static volatile sig_atomic_t g_interrupts;

static void on_signal(int sig) {
    (void)sig;
    if (++g_interrupts >= 2) {
        static const char msg[] = "\ndiffstudio: interrupted twice, exiting now (the last saved checkpoint is kept)\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
}

static pthread_mutex_t g_out = PTHREAD_MUTEX_INITIALIZER;
static bool g_tty;
static bool g_line_shown; /* a progress line is on screen (tty) */

static void clear_line(void) {
    if (g_tty && g_line_shown) {
        fputs("\r\033[K", stderr);
        g_line_shown = false;
    }
}

/* Engine log lines (from the worker thread): printed above the progress line. */
static void log_cb(ds_log_level level, const char *line, void *user) {
    (void)user;
    static const char *tag[] = {"debug", "", "warning: ", "error: "};
    pthread_mutex_lock(&g_out);
    clear_line();
    fprintf(stderr, "%s%s\n", tag[level], line);
    pthread_mutex_unlock(&g_out);
}

static void print_diags(const ds_diag_list *d) {
    char line[2048];
    for (int i = 0; i < d->n; i++) {
        ds_diag_format(&d->items[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (d->n_dropped) fprintf(stderr, "(%d more problems not shown)\n", d->n_dropped);
}

static void fmt_eta(double s, char *buf, size_t n) {
    if (s < 0 || !isfinite(s)) {
        snprintf(buf, n, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

static void show(const ds_worker_status *st) {
    char eta[32], steps[48];
    fmt_eta(st->eta_s, eta, sizeof eta);
    if (st->max_steps > 0)
        snprintf(steps, sizeof steps, "%lld/%lld", (long long)st->step, (long long)st->max_steps);
    else
        snprintf(steps, sizeof steps, "%lld", (long long)st->step);
    pthread_mutex_lock(&g_out);
    clear_line();
    fprintf(stderr, "step %s  loss %.4f  smoothed %.4f  lr %.3g  %.2f it/s  eta %s%s%s", steps, st->loss,
            st->loss_smoothed, st->lr, st->it_per_s, eta, st->phase != DS_PHASE_TRAINING ? "  " : "",
            st->phase != DS_PHASE_TRAINING ? ds_phase_str(st->phase) : "");
    if (g_tty) {
        g_line_shown = true;
        fflush(stderr);
    } else {
        fputc('\n', stderr);
    }
    pthread_mutex_unlock(&g_out);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: diffstudio train [STUDIO_FILE | MODEL_CONFIG] [options]\n"
            "\n"
            "Trains headless: the same engine, files and checkpoints as the studio.\n"
            "\n"
            "  --config FILE         SAT model config (instead of, or overriding, the studio file's)\n"
            "  --dataset PATH        SAT dataset config, or simply a folder of audio\n"
            "  --run-dir DIR         where checkpoints, demos, metrics and logs go\n"
            "  --steps N             stop after N optimiser steps (default: run until Ctrl-C)\n"
            "  --batch-size N        items per batch (default 4)\n"
            "  --seed N              random seed (default 42)\n"
            "  --device cpu|cuda     (default cpu, or the studio file's \"device\")\n"
            "  --precision P         on cuda: 32, 16-mixed or bf16-mixed (default: the studio file's \"precision\")\n"
            "  --threads N           CPU threads (default: all cores)\n"
            "  --checkpoint-every N  steps between checkpoints (default 10000)\n"
            "  --accum N             micro-batches per optimiser step (gradient accumulation)\n"
            "  --resume              continue the newest checkpoint that loads (a damaged one is reported\n"
            "                        and the one before it taken)\n"
            "  --init FILE           start from exported weights (safetensors, SAT key names)\n"
            "  --every N             when not on a terminal: print a line every N steps (default 10)\n"
            "\n"
            "Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C exits at once.\n");
}

int cmd_train(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    static ds_run_spec spec;
    memset(&spec, 0, sizeof spec);
    ds_studio_config *sc = &spec.studio;
    ds_studio_config_defaults(sc);
    const char *file = NULL, *config = NULL, *dataset = NULL, *run_dir = NULL, *init = NULL, *device = NULL;
    const char *precision = NULL;
    const char *v;
    int64_t steps = -1, batch = -1, seed = -1, threads = -1, ckpt = -1, accum = -1, every = 10;
    bool resume = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        if (cli_opt(argc, argv, &i, "--config", &config, &bad) || cli_opt(argc, argv, &i, "--dataset", &dataset, &bad) ||
            cli_opt(argc, argv, &i, "--run-dir", &run_dir, &bad) || cli_opt(argc, argv, &i, "--init", &init, &bad) ||
            cli_opt(argc, argv, &i, "--device", &device, &bad) || cli_opt(argc, argv, &i, "--precision", &precision, &bad))
            continue;
        if (cli_opt(argc, argv, &i, "--steps", &v, &bad)) {
            bad = bad || !cli_int("train", "--steps", v, 1, INT64_MAX / 2, &steps);
        } else if (cli_opt(argc, argv, &i, "--batch-size", &v, &bad)) {
            bad = bad || !cli_int("train", "--batch-size", v, 1, 65536, &batch);
        } else if (cli_opt(argc, argv, &i, "--seed", &v, &bad)) {
            bad = bad || !cli_int("train", "--seed", v, 0, INT64_MAX, &seed);
        } else if (cli_opt(argc, argv, &i, "--threads", &v, &bad)) {
            bad = bad || !cli_int("train", "--threads", v, 0, 256, &threads);
        } else if (cli_opt(argc, argv, &i, "--checkpoint-every", &v, &bad)) {
            bad = bad || !cli_int("train", "--checkpoint-every", v, 1, INT64_MAX / 2, &ckpt);
        } else if (cli_opt(argc, argv, &i, "--accum", &v, &bad)) {
            bad = bad || !cli_int("train", "--accum", v, 1, 4096, &accum);
        } else if (cli_opt(argc, argv, &i, "--every", &v, &bad)) {
            bad = bad || !cli_int("train", "--every", v, 1, INT64_MAX / 2, &every);
        } else if (cli_flag(a, "--resume")) {
            resume = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "diffstudio train: unknown option %s (see --help)\n", a);
            bad = true;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "diffstudio train: one studio file or model config, got also \"%s\"\n", a);
            bad = true;
        }
    }
    if (bad) return 2;
    ds_diag_list diags;
    ds_diag_list_init(&diags);
    ds_err err = {0};
    if (file) {
        bool is_model;
        ds_status s = ui_studio_load(file, sc, &is_model, &diags, &err);
        print_diags(&diags);
        if (s != DS_OK) {
            if (diags.n_errors == 0) fprintf(stderr, "diffstudio train: %s\n", err.msg);
            ds_diag_list_free(&diags);
            return 1;
        }
        ds_diag_list_free(&diags);
        ds_diag_list_init(&diags);
    }
    if (config) snprintf(sc->model_config, sizeof sc->model_config, "%s", config);
    if (dataset) snprintf(sc->dataset_config, sizeof sc->dataset_config, "%s", dataset);
    if (run_dir) snprintf(sc->run_dir, sizeof sc->run_dir, "%s", run_dir);
    if (device) snprintf(sc->device, sizeof sc->device, "%s", device);
    if (precision) snprintf(sc->precision, sizeof sc->precision, "%s", precision);
    if (batch > 0) sc->batch_size = (int)batch;
    if (seed >= 0) sc->seed = (uint64_t)seed;
    if (threads >= 0) sc->threads = (int)threads;
    if (ckpt > 0) sc->checkpoint_every = (int)ckpt;
    if (accum > 0) sc->accum_batches = (int)accum;
    ds_studio_config studio = *sc;
    ds_status s = ui_run_spec_build(&studio, NULL, &spec, &diags, &err);
    print_diags(&diags);
    int n_errors = diags.n_errors;
    ds_diag_list_free(&diags);
    if (s != DS_OK) {
        bool usage_error = !strncmp(err.msg, "no ", 3); /* no model config, no data */
        if (s == DS_ERR_UNSUPPORTED)
            fprintf(stderr, "diffstudio train: this model cannot run here (see above)\n");
        else if (usage_error || n_errors == 0)
            fprintf(stderr, "diffstudio train: %s\n", err.msg);
        return usage_error ? 2 : 1;
    }
    if (init) snprintf(spec.init_weights, sizeof spec.init_weights, "%s", init);
    spec.resume = resume;
    if (steps > 0) spec.max_steps = steps;

    g_tty = cli_isatty_out();
    ds_log_set(log_cb, NULL);
    ui_route_audio_log();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ds_worker *w;
    if (ds_worker_create(&w, &err) != DS_OK || ds_worker_start(w, &spec, &err) != DS_OK) {
        fprintf(stderr, "diffstudio train: %s\n", err.msg);
        return 1;
    }
    bool stop_sent = false;
    int64_t last_printed = -1;
    double last_tty = 0;
    ds_worker_status st;
    for (;;) {
        struct pollfd p = {ds_worker_wake_fd(w), POLLIN, 0};
        int pr = poll(&p, 1, 250);
        if (pr < 0 && errno != EINTR) break;
        ds_worker_clear_wake(w);
        if (g_interrupts && !stop_sent) {
            stop_sent = true;
            pthread_mutex_lock(&g_out);
            clear_line();
            fprintf(stderr, "stopping after this step and saving a checkpoint (Ctrl-C again to exit now)\n");
            pthread_mutex_unlock(&g_out);
            ds_worker_stop(w);
        }
        ds_worker_snapshot(w, &st);
        if (st.state == DS_STATE_FINISHED || st.state == DS_STATE_FAILED) break;
        if (st.state != DS_STATE_RUNNING) continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
        if (g_tty) {
            if (st.step != last_printed && now - last_tty > 0.1) {
                show(&st);
                last_printed = st.step;
                last_tty = now;
            }
        } else if (st.step != last_printed && st.step > 0 && (st.step % every == 0 || st.step == 1)) {
            show(&st);
            last_printed = st.step;
        }
    }
    ds_worker_wait(w);
    ds_worker_snapshot(w, &st);
    pthread_mutex_lock(&g_out);
    clear_line();
    pthread_mutex_unlock(&g_out);
    int rc = 0;
    if (st.state == DS_STATE_FAILED) {
        fprintf(stderr, "diffstudio train: %s\n", st.message);
        rc = 1;
    } else {
        fprintf(stderr, "%s; run directory %s\n", st.message, st.run_dir);
    }
    ds_worker_destroy(w);
    ds_log_set(NULL, NULL);
    return rc;
}
