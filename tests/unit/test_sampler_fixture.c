/* Runs the sampler fixtures (sampler_vddim, sampler_dpmpp2m, sampler_rf_euler) with a
 * config built in C (the config loader lands separately; check-fixture then runs the same
 * cases from config.json): v-DDIM, k-diffusion DPM++(2M) through the VDenoiser and RF Euler
 * on the logSNR grid, each with CFG 3 inside the DiT, compared tensor by tensor (out,
 * schedule.*, traj.*) at 1e-4 norm-relative. */
#include <stdio.h>
#include <string.h>

#include "core/pool.h"
#include "engine/fixture.h"
#include "ops/ops.h"
#include "testutil.h"

static void report(void *u, const char *line) {
    (void)u;
    fprintf(stderr, "%s\n", line);
}

static void dit_basic_config(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    c->model_type = DS_MODEL_DIFFUSION_COND;
    c->backbone = DS_BB_DIT;
    c->objective = DS_OBJ_V;
    c->io_channels = 4;
    c->conditioning.present = true;
    c->conditioning.cond_dim = 32;
    c->conditioning.n = 2;
    const char *ids[2] = {"seconds_start", "seconds_total"};
    for (int i = 0; i < 2; i++) {
        ds_conditioner_config *k = &c->conditioning.c[i];
        snprintf(k->id, sizeof k->id, "%s", ids[i]);
        k->type = DS_COND_NUMBER;
        snprintf(k->type_name, sizeof k->type_name, "number");
        k->output_dim = 32;
        k->min_val = 0;
        k->max_val = 512;
        snprintf(c->cross_attention_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
        snprintf(c->global_cond_ids.id[i], DS_ID_LEN, "%s", ids[i]);
    }
    c->cross_attention_cond_ids.n = c->global_cond_ids.n = 2;
    ds_dit_config *d = &c->dit;
    d->io_channels = 4;
    d->patch_size = 1;
    d->embed_dim = 64;
    d->depth = 2;
    d->num_heads = 2;
    d->cond_token_dim = 32;
    d->project_cond_tokens = true;
    d->global_cond_dim = 64;
    d->project_global_cond = true;
    snprintf(d->transformer_type, sizeof d->transformer_type, "continuous_transformer");
    d->rotary_pos_emb = true;
    d->zero_init_branch_outputs = true;
    d->final_cross_attn_ix = -1;
    d->ff_mult = 4;
    d->ff_glu = true;
    d->norm_eps = 1e-5;
}

int main(void) {
    ds_set_threads(2);
    static ds_model_config cfg;
    const struct {
        const char *name;
        ds_objective obj;
    } cases[] = {{"sampler_vddim", DS_OBJ_V}, {"sampler_dpmpp2m", DS_OBJ_V}, {"sampler_rf_euler", DS_OBJ_RECTIFIED_FLOW}};
    for (int i = 0; i < 3; i++) {
        dit_basic_config(&cfg);
        cfg.objective = cases[i].obj; /* config.json: model.diffusion.diffusion_objective */
        ds_fixture_opts o = {.verbose = true, .report = report};
        ds_fixture_result r;
        ds_err err = {0};
        ds_status s = ds_fixture_check_config(tu_fixture(cases[i].name), &cfg, &o, &r, &err);
        CHECKF(s == DS_OK, "%s: %s", cases[i].name, err.msg);
        CHECKF(r.failed == 0 && r.compared >= 6, "%s: %d of %d tensors failed (worst %s, %.2f x tol)", cases[i].name,
               r.failed, r.compared, r.worst, r.worst_ratio);
        fprintf(stderr, "%s: %d tensors, worst %s at %.3f x tolerance\n", cases[i].name, r.compared, r.worst,
                r.worst_ratio);
    }
    return tu_finish("test_sampler_fixture");
}
