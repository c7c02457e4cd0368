/* Runs the U-Net fixtures (dau1d_basic, adp_cfg_basic, adp_uncond_basic) with configs
 * built in C from the cases' config.json plus SAT's defaults (the config loader lands
 * separately; check-fixture then runs the same cases from config.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "engine/fixture.h"
#include "ops/ops.h"
#include "testutil.h"
#include "unet_configs.h"

static void report(void *u, const char *line) {
    (void)u;
    fprintf(stderr, "%s\n", line);
}

static void run_case(const char *name, const ds_model_config *cfg) {
    ds_fixture_opts o = {.verbose = getenv("DS_VERBOSE") != NULL, .report = report};
    ds_fixture_result r;
    ds_err err = {0};
    ds_status s = ds_fixture_check_config(tu_fixture(name), cfg, &o, &r, &err);
    CHECKF(s == DS_OK, "%s: %s", name, err.msg);
    if (s != DS_OK) return;
    CHECKF(r.failed == 0 && r.compared > 0, "%s: %d of %d tensors failed (worst %s, %.2f x tol)", name, r.failed,
           r.compared, r.worst, r.worst_ratio);
    fprintf(stderr, "%s: %d tensors, worst %s at %.3f x tolerance\n", name, r.compared, r.worst, r.worst_ratio);
}

int main(void) {
    ds_set_threads(2);
    static ds_model_config cfg;
    tu_dau1d_basic_config(&cfg);
    run_case("dau1d_basic", &cfg);
    tu_adp_cfg_basic_config(&cfg);
    run_case("adp_cfg_basic", &cfg);
    tu_adp_uncond_basic_config(&cfg);
    run_case("adp_uncond_basic", &cfg);
    return tu_finish("test_unet_fixture");
}
