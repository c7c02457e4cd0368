/* Schedules against sat-spec Appendix B and §5, the VDenoiser mapping, and sampler names. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diffusion/denoiser.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"
#include "testutil.h"

static int close_rel(double a, double b, double rel) { return fabs(a - b) <= rel * fmax(fabs(b), 1e-300); }

static void test_polyexponential(void) {
    /* Appendix B: get_sigmas_polyexponential(5, 0.03, 500, 1) */
    const double want[6] = {500.0, 44.0056, 3.87298, 0.340866, 0.03, 0};
    double s[6];
    ds_sched_polyexponential(5, 0.03, 500, 1, s);
    for (int i = 0; i < 5; i++) CHECKF(close_rel(s[i], want[i], 2e-6), "sigma[%d] = %.7g, want %.7g", i, s[i], want[i]);
    CHECK(s[5] == 0.0);
    /* sample_k defaults (0.01, 100, rho 1), 8 steps: log-uniform; the fixture's sigmas. */
    double k[9];
    ds_sched_polyexponential(8, 0.01, 100, 1, k);
    CHECK(close_rel(k[0], 100, 1e-12) && close_rel(k[7], 0.01, 1e-12) && k[8] == 0);
    CHECK(close_rel(k[1], 26.826957952797244, 1e-9) && close_rel(k[4], 0.5179474679231212, 1e-9));
    /* rho 2 bends the ramp towards sigma_min: ramp_i = ((n-1-i)/(n-1))^2 */
    double r[5];
    ds_sched_polyexponential(4, 0.01, 100, 2, r);
    double ramp = (2.0 / 3.0) * (2.0 / 3.0);
    CHECK(close_rel(r[1], exp(ramp * (log(100) - log(0.01)) + log(0.01)), 1e-12));
    /* steps 1: [sigma_max, 0] */
    double one[2];
    ds_sched_polyexponential(1, 0.01, 100, 1, one);
    CHECK(close_rel(one[0], 100, 1e-12) && one[1] == 0);
}

static void test_rf_grids(void) {
    /* Appendix B: RF logSNR grid, steps 8 */
    const double want[9] = {1, 0.993307, 0.982014, 0.952574, 0.880797, 0.731059, 0.5, 0.268941, 0};
    double t[9];
    ds_sched_rf_logsnr(8, 1.0, t);
    for (int i = 0; i < 9; i++) CHECKF(fabs(t[i] - want[i]) < 1e-6, "t[%d] = %.7g, want %.7g", i, t[i], want[i]);
    /* sigma_max < 1 (variations): lambda_max = ln((1 − s)/s + 1e-6), t[0] = s */
    double v[5];
    ds_sched_rf_logsnr(4, 0.5, v);
    double lmax = log(1.0 + 1e-6);
    CHECK(v[0] == 0.5 && v[4] == 0.0);
    CHECK(close_rel(v[1], 1.0 / (1.0 + exp(lmax + (2.0 - lmax) / 4.0)), 1e-12));
    /* linear grid (demo Euler, rk4), no shift */
    double l[5];
    ds_sched_linear(4, 1.0, NULL, 64, l);
    CHECK(l[0] == 1.0 && l[1] == 0.75 && l[2] == 0.5 && l[3] == 0.25 && l[4] == 0.0);
}

static void test_vddim_grid(void) {
    double t[8];
    ds_sched_vddim(8, 1.0, NULL, 16, t);
    for (int i = 0; i < 8; i++) CHECKF(t[i] == 1.0 - i / 8.0, "t[%d] = %g", i, t[i]);
    ds_sched_vddim(4, 0.5, NULL, 16, t); /* sigma_max clamps to a t: linspace(0.5, 0, 5)[:-1] */
    CHECK(t[0] == 0.5 && t[1] == 0.375 && t[3] == 0.125);
}

static void test_dist_shift(void) {
    ds_dist_shift_config d = {true, 0.5, 1.15, 4096, 256, false};
    /* Appendix B: t = 0.5 at L = 256 / 1024 / >= 4096 */
    CHECK(fabs(ds_dist_shift_time(&d, 0.5, 256) - 0.622459) < 1e-6);
    CHECK(fabs(ds_dist_shift_time(&d, 0.5, 1024) - 0.652489) < 1e-6);
    CHECK(fabs(ds_dist_shift_time(&d, 0.5, 4096) - 0.759511) < 1e-6);
    CHECK(fabs(ds_dist_shift_time(&d, 0.5, 100000) - 0.759511) < 1e-6); /* L clamped */
    CHECK(fabs(ds_dist_shift_time(&d, 0.5, 16) - 0.622459) < 1e-6);
    CHECK(ds_dist_shift_time(&d, 1.0, 1024) == 1.0 && ds_dist_shift_time(&d, 0.0, 1024) == 0.0);
    /* = s·t/(1 + (s − 1)·t), s = e^−mu */
    double s = exp(0.63), t = 0.3;
    CHECK(close_rel(ds_dist_shift_time(&d, t, 1024), s * t / (1 + (s - 1) * t), 1e-12));
    d.use_sine = true;
    CHECK(close_rel(ds_dist_shift_time(&d, 0.5, 256), sin(0.622459 * M_PI / 2), 1e-6));
    CHECK(ds_dist_shift_time(NULL, 0.3, 4096) == 0.3);
    d.present = false;
    CHECK(ds_dist_shift_time(&d, 0.3, 4096) == 0.3);
    /* the shifted v-DDIM and linear RF grids */
    d.present = true, d.use_sine = false;
    double g[5], l[5];
    ds_sched_vddim(4, 1.0, &d, 1024, g);
    ds_sched_linear(4, 1.0, &d, 1024, l);
    CHECK(g[0] == 1.0 && close_rel(g[2], 0.652489, 1e-6) && l[4] == 0.0 && close_rel(l[2], 0.652489, 1e-6));
}

static void test_vdenoiser_mapping(void) {
    /* sat-spec §5.2: sigma 0.03 -> 0.0191, 1 -> 0.5, 100 -> 0.99363, 500 -> 0.99873 */
    CHECK(fabs(ds_sigma_to_vt(0.03) - 0.0191) < 5e-5);
    CHECK(fabs(ds_sigma_to_vt(1.0) - 0.5) < 1e-15);
    CHECK(fabs(ds_sigma_to_vt(100) - 0.99363) < 5e-6);
    CHECK(fabs(ds_sigma_to_vt(500) - 0.99873) < 5e-6);
    double cs, co, ci;
    ds_vdenoiser_scalings(2.0, &cs, &co, &ci);
    CHECK(close_rel(cs, 0.2, 1e-15) && close_rel(co, -2 / sqrt(5), 1e-15) && close_rel(ci, 1 / sqrt(5), 1e-15));
    /* D = alpha·x_vp − s·v with alpha = cos(t·pi/2), s = sin(t·pi/2), x_vp = c_in·x */
    double t = ds_sigma_to_vt(2.0);
    CHECK(close_rel(cos(t * M_PI / 2), ci, 1e-12) && close_rel(sin(t * M_PI / 2), -co, 1e-12));
}

static void test_names(void) {
    const char *sat[] = {"v-ddim",      "v-ddim-cfgpp", "dpmpp-3m-sde",         "dpmpp-2m-sde", "dpmpp-2m",
                         "k-heun",      "k-lms",        "k-dpmpp-2s-ancestral", "k-dpm-2",      "k-dpm-fast",
                         "k-dpm-adaptive", "euler",     "rk4",                  "dpmpp",        "pingpong"};
    int n = (int)(sizeof sat / sizeof *sat);
    CHECK(n == DS_SAMPLER_COUNT);
    for (int i = 0; i < n; i++) {
        ds_sampler_kind k = DS_SAMPLER_COUNT;
        ds_err err = {0};
        CHECKF(ds_sampler_parse(sat[i], NULL, &k, &err) == DS_OK, "%s: %s", sat[i], err.msg);
        CHECKF(!strcmp(ds_sampler_name(k), sat[i]), "%s round-trips as %s", sat[i], ds_sampler_name(k));
    }
    ds_sampler_kind k;
    ds_err err = {0};
    CHECK(ds_sampler_parse("rf-euler", NULL, &k, &err) == DS_OK && k == DS_SAMPLER_RF_EULER);
    CHECK(ds_sampler_parse("rf-pingpong", NULL, &k, &err) == DS_OK && k == DS_SAMPLER_RF_PINGPONG);
    CHECK(ds_sampler_parse("rf-dpmpp-2m", NULL, &k, &err) == DS_ERR_INVALID); /* rf- only for RF names */
    /* unknown: the message names every valid sampler */
    CHECK(ds_sampler_parse("dpmpp-4m", NULL, &k, &err) == DS_ERR_INVALID);
    CHECK(strstr(err.msg, "\"dpmpp-4m\"") != NULL);
    for (int i = 0; i < n; i++) CHECKF(strstr(err.msg, sat[i]) != NULL, "\"%s\" missing from: %s", sat[i], err.msg);
    /* objective filter: RF names are refused for a v model, with the v list */
    ds_objective v = DS_OBJ_V, rf = DS_OBJ_RECTIFIED_FLOW, rfd = DS_OBJ_RF_DENOISER;
    CHECK(ds_sampler_parse("euler", &v, &k, &err) == DS_ERR_INVALID);
    CHECK(strstr(err.msg, "dpmpp-3m-sde") && strstr(err.msg, "v-ddim") && !strstr(err.msg, "pingpong"));
    CHECK(ds_sampler_parse("dpmpp-3m-sde", &rf, &k, &err) == DS_ERR_INVALID);
    CHECK(strstr(err.msg, "pingpong") && strstr(err.msg, "rk4") && !strstr(err.msg, "k-heun"));
    CHECK(ds_sampler_parse("pingpong", &rfd, &k, &err) == DS_OK && k == DS_SAMPLER_RF_PINGPONG);
    CHECK(ds_sampler_parse("k-dpm-fast", &v, &k, &err) == DS_OK && k == DS_SAMPLER_K_DPM_FAST);
    char buf[512];
    ds_sampler_names(&rf, buf, sizeof buf);
    CHECKF(!strcmp(buf, "euler, rk4, dpmpp, pingpong"), "%s", buf);
    char tiny[8]; /* truncation stays terminated */
    ds_sampler_names(NULL, tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny);
}

static void test_defaults(void) {
    ds_sampler_params p = ds_sampler_defaults(DS_SAMPLER_DPMPP_3M_SDE);
    CHECK(p.steps == 100 && p.sigma_min == 0.01 && p.sigma_max == 100 && p.rho == 1 && p.eta == 1 && p.s_noise == 1);
    CHECK(ds_sampler_is_stochastic(&p));
    p = ds_sampler_defaults(DS_SAMPLER_V_DDIM);
    CHECK(p.eta == 0 && p.sigma_max == 1 && !ds_sampler_is_stochastic(&p));
    p = ds_sampler_defaults(DS_SAMPLER_K_DPM_ADAPTIVE);
    CHECK(p.rtol == 0.01 && p.atol == 0.01 && !ds_sampler_is_stochastic(&p));
    p = ds_sampler_defaults(DS_SAMPLER_RF_PINGPONG);
    CHECK(p.sigma_max == 1 && ds_sampler_is_stochastic(&p));
    /* schedule(): RF rk4 walks the linear grid even in AUTO; euler the logSNR one */
    double t[9];
    p = ds_sampler_defaults(DS_SAMPLER_RF_RK4);
    p.steps = 8;
    CHECK(ds_sampler_schedule(&p, 16, t) == 9 && t[1] == 0.875);
    p.kind = DS_SAMPLER_RF_EULER;
    CHECK(ds_sampler_schedule(&p, 16, t) == 9 && fabs(t[1] - 0.993307) < 1e-6);
    p.rf_grid = DS_RF_GRID_LINEAR;
    CHECK(ds_sampler_schedule(&p, 16, t) == 9 && t[1] == 0.875);
    p = ds_sampler_defaults(DS_SAMPLER_K_DPM_FAST);
    CHECK(ds_sampler_schedule(&p, 16, t) == 0);
    /* the training demo's choices (sat-spec §6) */
    ds_dist_shift_config d = {true, 0.5, 1.15, 4096, 256, false};
    p = ds_sampler_demo(DS_OBJ_V, 8, &d);
    CHECK(p.kind == DS_SAMPLER_V_DDIM && p.eta == 0 && p.steps == 8 && p.dist_shift == &d);
    CHECK(ds_sampler_schedule(&p, 1024, t) == 8 && t[0] == 1 && fabs(t[4] - 0.652489) < 1e-6);
    p = ds_sampler_demo(DS_OBJ_RECTIFIED_FLOW, 8, &d);
    CHECK(p.kind == DS_SAMPLER_RF_EULER && p.rf_grid == DS_RF_GRID_LINEAR);
    CHECK(ds_sampler_schedule(&p, 1024, t) == 9 && fabs(t[4] - 0.652489) < 1e-6 && t[8] == 0);
    p = ds_sampler_demo(DS_OBJ_RF_DENOISER, 8, &d);
    CHECK(p.kind == DS_SAMPLER_RF_PINGPONG && p.dist_shift == NULL);
    CHECK(ds_sampler_schedule(&p, 1024, t) == 9 && fabs(t[1] - 0.993307) < 1e-6);
}

int main(void) {
    test_polyexponential();
    test_rf_grids();
    test_vddim_grid();
    test_dist_shift();
    test_vdenoiser_mapping();
    test_names();
    test_defaults();
    return tu_finish("test_sampler_schedule");
}
