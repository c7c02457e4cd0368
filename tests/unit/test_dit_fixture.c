/* Interim: runs the DiT fixtures with a config built in C (the config loader lands
 * separately; check-fixture then runs the same cases from config.json). */
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
    ds_training_config *t = &c->training;
    t->present = true;
    t->use_ema = true;
    t->cfg_dropout_prob = 0.0;
    t->has_optimizer_configs = true;
    t->optimizer = DS_OPT_ADAMW;
    t->lr = 5e-5;
    t->beta1 = 0.9;
    t->beta2 = 0.999;
    t->eps = 1e-8;
    t->weight_decay = 1e-3;
    t->scheduler = DS_SCHED_INVERSE_LR;
    t->inv_gamma = 1e6;
    t->power = 0.5;
    t->warmup = 0.99;
}

int main(void) {
    ds_set_threads(2);
    static ds_model_config cfg;
    dit_basic_config(&cfg);
    const char *cases[] = {"dit_basic", "dit_cfg", "number_conditioner", "v_objective_step", "rf_objective_step"};
    for (int i = 0; i < 5; i++) {
        cfg.objective = i == 4 ? DS_OBJ_RECTIFIED_FLOW : DS_OBJ_V;
        ds_fixture_opts o = {.verbose = true, .report = report};
        ds_fixture_result r;
        ds_err err = {0};
        ds_status s = ds_fixture_check_config(tu_fixture(cases[i]), &cfg, &o, &r, &err);
        CHECKF(s == DS_OK, "%s: %s", cases[i], err.msg);
        CHECKF(r.failed == 0 && r.compared > 0, "%s: %d of %d tensors failed (worst %s, %.2f x tol)", cases[i], r.failed,
               r.compared, r.worst, r.worst_ratio);
        fprintf(stderr, "%s: %d tensors, worst %s at %.3f x tolerance\n", cases[i], r.compared, r.worst, r.worst_ratio);
    }
    return tu_finish("test_dit_fixture");
}
