/* The op profiler (device/prof.h) and `bench --profile`: intervals are charged to the mark
 * that ends them, by name and direction; a profiled training step names every op of the
 * tape forward and backward the same number of times; the rows account for the whole step.
 * Counts and sums only: no assertion depends on how long anything took. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/prof.h"
#include "engine/bench.h"
#include "engine/config_doc.h"
#include "testutil.h"

static const ds_prof_row *row(const ds_prof_row *rows, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name)) return &rows[i];
    return NULL;
}

static void test_marks(void) {
    ds_err err = {0};
    CHECK(!ds_prof_active());
    ds_prof_mark("ignored", false); /* no profile: nothing happens */
    CHECK(ds_prof_begin(NULL, &err) == DS_OK && ds_prof_active());
    ds_prof_mark("a", false);
    ds_prof_mark("b", false);
    ds_prof_mark("b", true);
    ds_prof_mark("b", false);
    CHECK(ds_prof_end(&err) == DS_OK && !ds_prof_active());
    ds_prof_mark("after the end", false);
    ds_prof_row rows[8];
    int n = ds_prof_rows(rows, 8);
    CHECKF(n == 2, "%d rows", n);
    const ds_prof_row *a = row(rows, n, "a"), *b = row(rows, n, "b");
    CHECK(a && a->fwd_calls == 1 && a->bwd_calls == 0);
    CHECK(b && b->fwd_calls == 2 && b->bwd_calls == 1);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        CHECK(rows[i].fwd_ms >= 0 && rows[i].bwd_ms >= 0);
        sum += rows[i].fwd_ms + rows[i].bwd_ms;
        if (i) CHECK(rows[i - 1].fwd_ms + rows[i - 1].bwd_ms >= rows[i].fwd_ms + rows[i].bwd_ms);
    }
    CHECK(fabs(sum - ds_prof_total_ms()) <= 1e-9 * (1 + sum));
    CHECK(ds_prof_dropped() == 0);
    CHECK(ds_prof_rows(rows, 1) == 1); /* capped at max */
}

static void test_bench_step(const char *device) {
    char path[1024];
    const char *tests = getenv("DS_TESTS");
    snprintf(path, sizeof path, "%s/cli/tiny.json", tests ? tests : "tests");
    static ds_model_config cfg;
    ds_diag_list diags;
    ds_diag_list_init(&diags);
    ds_err err = {0};
    ds_status s = ds_model_config_load(path, &cfg, &diags, &err);
    ds_diag_list_free(&diags);
    CHECKF(s == DS_OK, "%s: %s", path, err.msg);
    if (s != DS_OK) return;
    ds_bench_opts o = {0};
    o.batch = 2, o.warmup = 1, o.iters = 1, o.skip_sample = true, o.profile = true, o.device = device;
    o.precision = "32";
    static ds_bench_result r;
    memset(&r, 0, sizeof r);
    s = ds_bench_run(&cfg, &o, &r, &err);
    CHECKF(s == DS_OK, "bench on %s: %s", device ? device : "cpu", err.msg);
    if (s != DS_OK) return;
    CHECKF(r.n_profile > 3 && r.n_profile == r.n_profile_names, "%d of %d names", r.n_profile, r.n_profile_names);
    double sum = 0;
    const ds_bench_op_time *lin = NULL, *opt = NULL, *attn = NULL;
    for (int i = 0; i < r.n_profile; i++) {
        const ds_bench_op_time *t = &r.profile[i];
        sum += t->fwd_ms + t->bwd_ms;
        if (!strcmp(t->name, "linear")) lin = t;
        if (!strcmp(t->name, "attention")) attn = t;
        if (strstr(t->name, "AdamW")) opt = t;
    }
    /* every linear and attention of the tape: one forward mark and one backward mark each */
    CHECKF(lin && lin->fwd_calls > 0 && lin->fwd_calls == lin->bwd_calls, "linear %d/%d", lin ? lin->fwd_calls : -1,
           lin ? lin->bwd_calls : -1);
    CHECK(attn && attn->fwd_calls > 0 && attn->fwd_calls == attn->bwd_calls);
    CHECK(opt && opt->fwd_calls == 1);
    CHECKF(r.profile_ms > 0 && fabs(sum - r.profile_ms) <= 1e-6 * r.profile_ms, "rows %.6f ms, step %.6f ms", sum,
           r.profile_ms);
    fprintf(stderr, "  %s: profiled step %.2f ms, %d op names\n", device ? device : "cpu", r.profile_ms, r.n_profile);
}

int main(void) {
    test_marks();
    test_bench_step(NULL);
    test_bench_step("sim"); /* the device trainer's step (eager while profiled) on the CPU stand-in */
    return tu_finish("test_prof");
}
