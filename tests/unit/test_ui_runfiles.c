/* The studio's metric history and run files (tui/series.c, tui/runfiles.c): smoothing kept
 * up to date, a resumed run as one continuous curve, metrics.jsonl and demos/index.jsonl as
 * the run writer writes them, the gallery's order, the runs folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runfiles.h"
#include "series.h"
#include "testutil.h"

static ui_metric pt(int64_t step, float loss) {
    ui_metric m = {.step = step, .loss = loss, .lr = 1e-3f, .grad_norm = 0.5f, .time_s = (double)step};
    for (int k = 0; k < UI_BUCKETS; k++) m.bucket[k] = NAN;
    return m;
}

static void test_series(void) {
    ui_series s;
    ui_series_init(&s, 0.6);
    for (int i = 1; i <= 10; i++) {
        ui_metric m = pt(i, (float)i);
        CHECK(ui_series_push(&s, &m));
    }
    CHECK(s.n == 10 && s.step[9] == 10 && !s.has_buckets);
    float ref[10], y[10];
    for (int i = 0; i < 10; i++) y[i] = (float)(i + 1);
    ui_smooth(y, 10, 0.6, ref);
    int eq = 1;
    for (int i = 0; i < 10; i++) eq &= s.smooth[i] == ref[i];
    CHECK(eq);
    /* a resume from a checkpoint at step 6 replays 7..: the curve continues from step 6 */
    ui_metric r = pt(7, 70);
    CHECK(ui_series_push(&s, &r));
    CHECK(s.n == 7 && s.step[5] == 6 && s.step[6] == 7 && s.loss[6] == 70);
    CHECK(s.n_marks == 1 && s.marks[0] == 7);
    float y2[7] = {1, 2, 3, 4, 5, 6, 70}, ref2[7];
    ui_smooth(y2, 7, 0.6, ref2);
    CHECK(s.smooth[6] == ref2[6]);
    /* steps stay ascending */
    int asc = 1;
    for (int64_t i = 1; i < s.n; i++) asc &= s.step[i] > s.step[i - 1];
    CHECK(asc);
    /* weight change resmooths */
    ui_series_set_weight(&s, 0);
    CHECK(s.smooth[6] == 70 && s.smooth[0] == 1);
    /* buckets appear when the first value arrives; earlier points read NaN */
    ui_metric b = pt(8, 1);
    b.bucket[3] = 0.25f;
    CHECK(ui_series_push(&s, &b));
    CHECK(s.has_buckets && isnan(ui_series_get(&s, "bucket3")[0]) && ui_series_get(&s, "bucket3")[7] == 0.25f);
    CHECK(ui_series_get(&s, "lr") == s.lr && ui_series_get(&s, "nope") == NULL);
    /* many points */
    ui_series_clear(&s);
    for (int i = 0; i < 100000; i++) {
        ui_metric m = pt(i + 1, 1.0f / (i + 1));
        if (!ui_series_push(&s, &m)) break;
    }
    CHECK(s.n == 100000);
    ui_series_free(&s);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_files(void) {
    char root[] = "/tmp/ds_ui_runs_XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char run[512], p[700];
    snprintf(run, sizeof run, "%s/first", root);
    mkdir(run, 0755);
    snprintf(p, sizeof p, "%s/metrics.jsonl", run);
    write_file(p, "{\"step\": 1, \"loss\": 0.5, \"loss_smoothed\": 0.5, \"lr\": 0.001, \"grad_norm\": 0.4, \"std_data\": 0.2, "
                  "\"time\": 0.05, \"it_per_s\": 20}\n"
                  "not json\n"
                  "{\"step\": 2, \"loss\": 0.25, \"loss_smoothed\": 0.4, \"lr\": 0.001, \"grad_norm\": 0.3, \"std_data\": 0.2, "
                  "\"time\": 0.1, \"it_per_s\": 20, \"loss_buckets\": {\"0.0\": 0.1, \"0.9\": 0.7}}\n");
    ui_series s;
    ui_series_init(&s, 0.6);
    int bad;
    CHECK(ui_metrics_load(run, &s, &bad) == 2 && bad == 1);
    CHECK(s.n == 2 && s.loss[1] == 0.25f && fabsf(s.lr[0] - 0.001f) < 1e-9f && s.time[1] == 0.1);
    CHECK(s.has_buckets && ui_series_get(&s, "bucket0")[1] == 0.1f && ui_series_get(&s, "bucket9")[1] == 0.7f);
    CHECK(ui_metrics_load("/nonexistent", &s, &bad) == 0);
    ui_series_free(&s);

    snprintf(p, sizeof p, "%s/demos", run);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/demos/index.jsonl", run);
    write_file(p, "{\"step\": 1, \"cfg_scale\": 1, \"demo\": -1, \"cond\": {}, \"path\": \"demo_cfg_1_00000001.wav\", \"seconds\": 0.015}\n"
                  "{\"step\": 1, \"cfg_scale\": 1, \"demo\": 0, \"cond\": {\"prompt\": \"kick\", \"seconds_total\": 1}, "
                  "\"path\": \"demo_cfg_1_00000001_00.wav\", \"seconds\": 0.015}\n"
                  "{\"step\": 51, \"cfg_scale\": 3, \"demo\": 1, \"cond\": {\"prompt\": \"snare\"}, \"path\": "
                  "\"demo_cfg_3_00000051_01.wav\", \"seconds\": 0.02}\n"
                  "{\"step\": 51, \"cfg_scale\": 1, \"demo\": 1, \"cond\": {\"prompt\": \"snare\"}, \"path\": "
                  "\"demo_cfg_1_00000051_01.wav\", \"seconds\": 0.02}\n"
                  "{\"broken\n");
    ui_demo_list l = {0};
    CHECK(ui_demos_load(run, &l) == 4);
    /* newest step first, then cfg scale, then demo index (-1 first) */
    CHECK(l.v[0].step == 51 && l.v[0].cfg_scale == 1 && l.v[1].cfg_scale == 3);
    CHECK(l.v[2].step == 1 && l.v[2].index == -1 && l.v[3].index == 0);
    CHECK(strstr(l.v[3].cond, "\"prompt\":\"kick\"") != NULL && l.v[2].cond[0] == 0);
    char want[800];
    snprintf(want, sizeof want, "%s/demos/demo_cfg_1_00000001_00.wav", run);
    CHECK(!strcmp(l.v[3].path, want));
    /* the worker's hand-over of a render already on disk is not listed twice */
    ui_demo_entry dup = l.v[1];
    CHECK(ui_demos_add(&l, &dup) == -1 && l.n == 4);
    ui_demo_entry newer = dup;
    newer.step = 101;
    snprintf(newer.path, sizeof newer.path, "%s/demos/x.wav", run);
    CHECK(ui_demos_add(&l, &newer) == 0 && ui_demos_find(&l, newer.path) == 0);
    ui_demos_free(&l);

    snprintf(p, sizeof p, "%s/config.json", run);
    write_file(p, "{\"model_type\": \"diffusion_cond\", \"sample_rate\": 8000, \"model\": {\"diffusion\": {\"type\": \"dit\"}}}");
    snprintf(p, sizeof p, "%s/checkpoints", run);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/checkpoints/step-000000100", run);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/checkpoints/step-000000200", run);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/checkpoints/.step-000000300.partial", run);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/not-a-run", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/loose-file", root);
    write_file(p, "x");
    ui_run_info *runs;
    int n = ui_runs_scan(root, &runs);
    CHECK(n == 1);
    if (n == 1) {
        CHECK(!strcmp(runs[0].name, "first"));
        CHECK(!strcmp(runs[0].model, "diffusion_cond dit, 8000 Hz"));
        CHECK(runs[0].last_step == 2 && runs[0].last_loss == 0.25 && runs[0].last_smoothed == 0.4);
        CHECK(runs[0].n_ckpt == 2 && runs[0].ckpt_step == 200 && runs[0].n_demos == 5);
    }
    free(runs);
    CHECK(ui_runs_scan("/nonexistent/runs", &runs) == 0);

    char par[256];
    ui_path_parent("runs/example", par, sizeof par);
    CHECK(!strcmp(par, "runs"));
    ui_path_parent("configs/../runs/example/", par, sizeof par);
    CHECK(!strcmp(par, "configs/../runs"));
    ui_path_parent("example", par, sizeof par);
    CHECK(!strcmp(par, "."));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK(system(cmd) == 0);
}

int main(void) {
    test_series();
    test_files();
    return tu_finish("test_ui_runfiles");
}
