/* Loading into the typed structs: every bundled config loads without errors, SAT's
 * defaults and derived fields are right, the runnable check names what is missing, and
 * dataset configs and studio files resolve their paths. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "core/fileio.h"
#include "testutil.h"

static const char *tests_dir(void) {
    const char *d = getenv("DS_TESTS");
    return d ? d : "tests";
}

static const char *tpath(const char *rel) {
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tests_dir(), rel);
    return buf[k];
}

static void dump(const ds_diag_list *l) {
    char b[2048];
    for (int i = 0; i < l->n; i++) {
        ds_diag_format(&l->items[i], b, sizeof b);
        fprintf(stderr, "  | %s\n", b);
    }
}

static ds_model_config *load_text(const char *text, ds_diag_list *l, ds_status *st) {
    ds_config_doc *d = NULL;
    ds_model_config *m = calloc(1, sizeof *m);
    *st = ds_config_doc_parse(text, strlen(text), "mem.json", &d, l, NULL);
    if (*st == DS_OK) *st = ds_model_config_from_doc(d, m, l);
    ds_config_doc_free(d);
    return m;
}

/* ---- every bundled config ---------------------------------------------------------------------- */

static int check_dir(const char *dir, const char *suffix, ds_config_kind want) {
    DIR *dd = opendir(dir);
    if (!dd) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dd))) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (l < sl || strcmp(e->d_name + l - sl, suffix)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ds_diag_list dl;
        ds_diag_list_init(&dl);
        ds_status s = ds_config_check_file(path, &dl);
        CHECKF(s == DS_OK && dl.n_errors == 0, "%s: %d errors", path, dl.n_errors);
        if (dl.n_errors) dump(&dl);
        ds_config_doc *doc = NULL;
        CHECK(ds_config_doc_load(path, &doc, NULL, NULL) == DS_OK);
        ds_config_kind k = doc ? ds_config_doc_kind(doc) : DS_KIND_UNKNOWN;
        if (want != DS_KIND_UNKNOWN) CHECKF(k == want, "%s: kind %d", path, k);
        if (k == DS_KIND_MODEL) {
            ds_model_config *m = malloc(sizeof *m);
            CHECK(ds_model_config_from_doc(doc, m, NULL) == DS_OK);
            if (m->model_type <= DS_MODEL_DIFFUSION_UNCOND) {
                CHECKF(m->io_channels > 0 && m->backbone != DS_BB_NONE, "%s", path);
                CHECKF(m->sample_size % m->min_input_length == 0, "%s", path);
            }
            free(m);
        }
        ds_config_doc_free(doc);
        ds_diag_list_free(&dl);
        n++;
    }
    closedir(dd);
    return n;
}

static void test_bundled(void) {
    int n = check_dir(tpath("sat-configs"), ".json", DS_KIND_UNKNOWN);
    n += check_dir(tpath("bench-configs"), ".json", DS_KIND_MODEL);
    DIR *fx = opendir(tpath("fixtures"));
    struct dirent *e;
    while (fx && (e = readdir(fx))) {
        if (e->d_name[0] == '.') continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", tpath("fixtures"), e->d_name);
        n += check_dir(dir, "config.json", DS_KIND_MODEL);
    }
    if (fx) closedir(fx);
    n += check_dir(tpath("../configs"), ".json", DS_KIND_UNKNOWN);
    CHECKF(n >= 12 + 4 + 11 + 1, "only %d configs", n);
}

/* ---- values of SAT's own configs --------------------------------------------------------------- */

static void test_sa2(void) {
    ds_model_config *m = malloc(sizeof *m);
    ds_err err;
    CHECK(ds_model_config_load(tpath("sat-configs/model_configs__txt2audio__stable_audio_2_0.json"), m, NULL, &err) ==
          DS_OK);
    CHECK(m->model_type == DS_MODEL_DIFFUSION_COND && m->backbone == DS_BB_DIT && !strcmp(m->backbone_name, "dit"));
    CHECK(m->sample_size == 12582912 && m->sample_rate == 44100 && m->audio_channels == 2 && m->io_channels == 64);
    const ds_dit_config *d = &m->dit;
    CHECK(d->io_channels == 64 && d->embed_dim == 1536 && d->depth == 24 && d->num_heads == 24);
    CHECK(d->cond_token_dim == 768 && !d->project_cond_tokens && d->global_cond_dim == 1536 && d->project_global_cond);
    CHECK(d->patch_size == 1 && !strcmp(d->transformer_type, "continuous_transformer"));
    CHECK(d->global_cond_type == DS_GLOBAL_COND_PREPEND && d->timestep_cond_type == DS_TIMESTEP_COND_GLOBAL);
    CHECK(d->rotary_pos_emb && d->ff_mult == 4 && d->ff_glu && d->norm_eps == 1e-5 && d->qk_norm == DS_QK_NORM_NONE);
    CHECK(m->objective == DS_OBJ_V);
    CHECK(m->cross_attention_cond_ids.n == 3 && !strcmp(m->cross_attention_cond_ids.id[0], "prompt"));
    CHECK(m->global_cond_ids.n == 2 && !strcmp(m->global_cond_ids.id[1], "seconds_total"));
    const ds_conditioning_config *c = &m->conditioning;
    CHECK(c->present && c->cond_dim == 768 && c->n == 3);
    CHECK(c->c[0].type == DS_COND_CLAP_TEXT && c->c[0].use_text_features && c->c[0].feature_layer_ix == -2);
    CHECK(!strcmp(c->c[0].clap_ckpt_path, "/path/to/clap.ckpt") && c->c[0].output_dim == 768);
    CHECK(c->c[1].type == DS_COND_NUMBER && c->c[1].min_val == 0 && c->c[1].max_val == 512 && c->c[1].output_dim == 768);
    CHECK(ds_conditioning_find(c, "seconds_total") == 2 && ds_conditioning_find(c, "nope") == -1);
    const ds_pretransform_config *p = &m->pretransform;
    CHECK(p->type == DS_PT_AUTOENCODER && p->latent_dim == 64 && p->downsampling_ratio == 2048 && p->ae_io_channels == 2);
    CHECK(p->iterate_batch && !p->model_half && p->scale == 1.0 && p->encoded_channels == 64 && p->ratio == 2048);
    CHECK(m->min_input_length == 2048);
    const ds_training_config *t = &m->training;
    CHECK(t->present && t->use_ema && !t->log_loss_info && t->cfg_dropout_prob == 0.1);
    CHECK(t->has_optimizer_configs && t->optimizer == DS_OPT_ADAMW && !strcmp(t->optimizer_name, "AdamW"));
    CHECK(t->lr == 5e-5 && t->beta1 == 0.9 && t->beta2 == 0.999 && t->weight_decay == 1e-3 && t->eps == 1e-8);
    CHECK(t->scheduler == DS_SCHED_INVERSE_LR && t->inv_gamma == 1e6 && t->power == 0.5 && t->warmup == 0.99 &&
          t->final_lr == 0);
    CHECK(!t->has_learning_rate && t->timestep_sampler == DS_TS_UNIFORM);
    CHECK(t->demo.demo_every == 2000 && t->demo.demo_steps == 250 && t->demo.num_demos == 4);
    CHECK(t->demo.n_cfg_scales == 3 && t->demo.cfg_scales[2] == 9);
    CHECK(t->demo.n_demo_cond == 4 && t->demo.demo_cond[0].n == 3);
    CHECK(!strcmp(t->demo.demo_cond[0].v[0].key, "prompt") && t->demo.demo_cond[0].v[0].is_string &&
          !strcmp(t->demo.demo_cond[0].v[0].string, "A beautiful piano arpeggio"));
    CHECK(!t->demo.demo_cond[3].v[2].is_string && t->demo.demo_cond[3].v[2].number == 190);
    /* not runnable: the message names exactly what is missing */
    ds_diag_list l;
    ds_diag_list_init(&l);
    CHECK(ds_model_config_check_runnable(m, &l, &err) == DS_ERR_UNSUPPORTED);
    CHECKF(strstr(err.msg, "model.conditioning.configs[0] (id \"prompt\"): conditioner type \"clap_text\" needs the "
                           "CLAP model, which diffstudio cannot run yet") != NULL, "%s", err.msg);
    CHECK(l.n == 2 && !strcmp(l.items[1].path, "model.pretransform.type") && strstr(l.items[1].message, "autoencoder"));
    ds_diag_list_free(&l);
    free(m);
}

static void test_sa1_and_dd(void) {
    ds_model_config *m = malloc(sizeof *m);
    CHECK(ds_model_config_load(tpath("sat-configs/model_configs__txt2audio__stable_audio_1_0.json"), m, NULL, NULL) ==
          DS_OK);
    CHECK(m->backbone == DS_BB_ADP_CFG_1D && m->adp.in_channels == 64 && m->adp.channels == 256);
    CHECK(m->adp.n_multipliers == 5 && m->adp.multipliers[4] == 5 && m->adp.n_factors == 4 && m->adp.factors[3] == 4);
    CHECK(m->adp.n_attentions == 5 && m->adp.attentions[0] == 1 && m->adp.attention_heads == 16);
    CHECK(m->adp.context_embedding_features == 768 && m->adp.context_embedding_max_length == 79);
    CHECK(m->adp.resnet_groups == 16 && m->adp.patch_size == 1 && m->adp.out_channels == 64 && m->adp.use_skip_scale);
    CHECK(m->conditioning.c[1].type == DS_COND_INT && m->conditioning.c[1].max_val == 512);
    CHECK(m->training.has_learning_rate && m->training.learning_rate == 4e-5);
    CHECK(m->training.optimizer == DS_OPT_ADAM && m->training.lr == 4e-5 && m->training.weight_decay == 0 &&
          m->training.scheduler == DS_SCHED_NONE);
    CHECK(m->pretransform.ratio == 1024 && m->min_input_length == 1024 * 16);

    CHECK(ds_model_config_load(tpath("sat-configs/model_configs__dance_diffusion__dance_diffusion_base.json"), m, NULL,
                               NULL) == DS_OK);
    CHECK(m->model_type == DS_MODEL_DIFFUSION_UNCOND && m->backbone == DS_BB_DAU1D && m->io_channels == 2);
    CHECK(m->dau1d.depth == 14 && m->dau1d.n_attn_layers == 5 && m->dau1d.n_channels == 14);
    CHECK(m->dau1d.channels[0] == 128 && m->dau1d.channels[3] == 256 && m->dau1d.channels[13] == 512);
    CHECK(m->dau1d.n_strides == 13 && m->dau1d.strides[12] == 2 && m->dau1d.kernel_size == 5 && m->dau1d.conv_bias);
    CHECK(m->training.demo.num_demos == 8 && m->training.use_ema && m->training.learning_rate == 1e-4);
    CHECK(m->training.optimizer == DS_OPT_ADAM && m->training.lr == 1e-4 && m->min_input_length == 8192);
    CHECK(m->pretransform.type == DS_PT_NONE && m->pretransform.ratio == 1 && m->audio_channels == 2);
    CHECK(ds_model_config_check_runnable(m, NULL, NULL) == DS_OK);

    /* an autoencoder config, read as a pretransform definition */
    CHECK(ds_model_config_load(tpath("sat-configs/model_configs__autoencoders__stable_audio_1_0_vae.json"), m, NULL,
                               NULL) == DS_OK);
    CHECK(m->model_type == DS_MODEL_AUTOENCODER && m->pretransform.type == DS_PT_AUTOENCODER);
    CHECK(m->pretransform.latent_dim == 64 && m->pretransform.ratio == 1024 && m->pretransform.encoded_channels == 64);
    free(m);
}

/* ---- defaults and derived fields --------------------------------------------------------------- */

static void test_defaults(void) {
    ds_model_config *m = malloc(sizeof *m);
    ds_model_config_defaults(m);
    CHECK(m->dit.io_channels == 32 && m->dit.embed_dim == 768 && m->dit.depth == 12 && m->dit.num_heads == 8);
    CHECK(m->dit.project_cond_tokens && m->dit.final_cross_attn_ix == -1 && m->dit.abs_pos_emb_max_length == 10000);
    CHECK(m->dit.ff_conv_kernel_size == 33 && m->dit.zero_init_branch_outputs);
    CHECK(m->dau1d.depth == 14 && m->dau1d.n_attn_layers == 6 && m->dau1d.n_strides == 13 && m->dau1d.io_channels == 2);
    CHECK(m->adp.resnet_groups == 8 && m->adp.patch_size == 1 && m->adp.kernel_multiplier_downsample == 2 &&
          m->adp.context_features_multiplier == 4 && m->adp.use_context_time);
    CHECK(m->training.use_ema && m->training.cfg_dropout_prob == 0.1 && m->training.demo.demo_every == 2000 &&
          m->training.demo.demo_steps == 250);
    CHECK(m->training.mean_logsnr == -1.2 && m->training.std_logsnr == 2.0);
    CHECK(m->training.optimizer == DS_OPT_ADAM && m->training.eps == 1e-8 && m->training.weight_decay == 0);
    CHECK(m->training.inv_gamma == 1 && m->training.power == 1 && m->training.warmup == 0 && m->training.final_lr == 0);
    CHECK(m->dist_shift.base_shift == 0.5 && m->dist_shift.max_shift == 1.15 && m->dist_shift.max_length == 4096 &&
          m->dist_shift.min_length == 256);
    CHECK(m->audio_channels == 2 && m->pretransform.ratio == 1 && m->pretransform.scale == 1.0);
    ds_dit_config dit;
    ds_dit_config_defaults(&dit);
    CHECK(dit.embed_dim == 768 && dit.patch_size == 1);
    ds_dau1d_config dau;
    ds_dau1d_config_defaults(&dau);
    CHECK(dau.channels[4] == 512 && dau.n_channels == 14);
    ds_adp_config adp;
    ds_adp_config_defaults(&adp);
    CHECK(adp.resnet_groups == 8);
    ds_studio_config s;
    ds_studio_config_defaults(&s);
    CHECK(s.batch_size == 4 && s.checkpoint_every == 10000 && s.seed == 42 && s.accum_batches == 1 && s.threads == 0);
    CHECK(!strcmp(s.device, "cpu") && !strcmp(s.precision, "32") && s.gradient_clip_val == 0 && s.keep_checkpoints == 3);
    CHECK(s.nan_max_skips == 5 && s.num_workers == 1 && s.cache_bytes == (int64_t)1024 << 20);
    ds_dataset_config dc;
    ds_dataset_config_defaults(&dc);
    CHECK(!strcmp(dc.dataset_type, "audio_dir") && dc.random_crop && dc.drop_last);

    /* conditioner and optimizer defaults depend on the type */
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_status st;
    free(m);
    m = load_text("{\"model_type\": \"diffusion_cond\", \"sample_size\": 64, \"sample_rate\": 8000,"
                  " \"model\": {\"io_channels\": 2, \"conditioning\": {\"cond_dim\": 32, \"configs\": ["
                  "  {\"id\": \"a\", \"type\": \"number\", \"config\": {}},"
                  "  {\"id\": \"b\", \"type\": \"int\", \"config\": {\"output_dim\": 16}},"
                  "  {\"id\": \"c\", \"type\": \"list\", \"config\": {\"options\": [\"x\", \"y\"]}},"
                  "  {\"id\": \"d\", \"type\": \"t5\", \"config\": {}}]},"
                  "  \"diffusion\": {\"type\": \"dit\", \"global_cond_ids\": [\"a\", \"b\"], \"cross_attention_cond_ids\": [\"d\"],"
                  "   \"config\": {\"io_channels\": 2, \"embed_dim\": 64, \"num_heads\": 2, \"global_cond_dim\": 48,"
                  "   \"cond_token_dim\": 32}}},"
                  " \"training\": {\"optimizer_configs\": {\"diffusion\": {\"optimizer\": {\"type\": \"AdamW\", \"config\": {}},"
                  "   \"scheduler\": {\"type\": \"InverseLR\", \"config\": {}}}},"
                  "  \"demo\": {\"num_demos\": 1, \"demo_cfg_scales\": [3],"
                  "   \"demo_cond\": [{\"a\": 0.5, \"b\": 3, \"c\": \"x\", \"d\": \"hello\"}]}}}",
                  &l, &st);
    if (st != DS_OK) dump(&l);
    CHECK(st == DS_OK);
    const ds_conditioning_config *c = &m->conditioning;
    CHECK(c->n == 4 && c->c[0].min_val == 0 && c->c[0].max_val == 1 && c->c[0].output_dim == 32);
    CHECK(c->c[1].min_val == 0 && c->c[1].max_val == 512 && c->c[1].output_dim == 16);
    CHECK(c->c[2].n_options == 2 && !strcmp(c->c[2].options[1], "y"));
    CHECK(c->c[3].type == DS_COND_T5 && !strcmp(c->c[3].model_name, "t5-base") && c->c[3].max_length == 128);
    CHECK(m->training.optimizer == DS_OPT_ADAMW && m->training.lr == 1e-3 && m->training.weight_decay == 0.01 &&
          m->training.beta1 == 0.9 && m->training.beta2 == 0.999 && m->training.eps == 1e-8);
    CHECK(m->training.scheduler == DS_SCHED_INVERSE_LR && m->training.inv_gamma == 1 && m->training.power == 1 &&
          m->training.warmup == 0 && m->training.final_lr == 0);
    ds_diag_list_free(&l);
    free(m);
}

static void test_derived(void) {
    static const struct { const char *pt; int enc, ratio; } cases[] = {
        {"{\"type\": \"patched\", \"config\": {\"channels\": 2, \"patch_size\": 4}}", 8, 4},
        {"{\"type\": \"pqmf\", \"config\": {}}", 16, 16},
        {"{\"type\": \"pqmf\", \"config\": {\"channels\": 2, \"num_bands\": 8}}", 16, 8},
        {"{\"type\": \"wavelet\", \"config\": {\"channels\": 2, \"levels\": 3, \"wavelet\": \"bior4.4\"}}", 16, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"model_type\": \"diffusion_uncond\", \"sample_size\": 4096, \"sample_rate\": 8000,"
                 " \"model\": {\"type\": \"adp_1d\", \"pretransform\": %s, \"config\": {\"in_channels\": %d,"
                 " \"channels\": 32, \"multipliers\": [1, 1], \"factors\": [2], \"num_blocks\": [1], \"attentions\": [0]}},"
                 " \"training\": {\"learning_rate\": 1e-4}}",
                 cases[i].pt, cases[i].enc);
        ds_diag_list l;
        ds_diag_list_init(&l);
        ds_status st;
        ds_model_config *m = load_text(text, &l, &st);
        if (st != DS_OK) dump(&l);
        CHECKF(st == DS_OK && m->pretransform.encoded_channels == cases[i].enc && m->pretransform.ratio == cases[i].ratio,
               "%s: %d/%d", cases[i].pt, m->pretransform.encoded_channels, m->pretransform.ratio);
        CHECK(m->backbone == DS_BB_ADP_1D && m->io_channels == cases[i].enc);
        CHECK(m->min_input_length == (int64_t)cases[i].ratio * 2);
        ds_diag_list_free(&l);
        free(m);
    }
}

/* ---- dataset configs and studio files ------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
    ds_err e;
    CHECK(ds_write_file_atomic(path, text, strlen(text), &e) == DS_OK);
}

static void test_dataset_and_studio(void) {
    ds_dataset_config *d = malloc(sizeof *d);
    ds_diag_list l;
    ds_diag_list_init(&l);
    CHECK(ds_dataset_config_load(tpath("sat-configs/dataset_configs__local_training_example.json"), d, &l, NULL) == DS_OK);
    CHECK(!strcmp(d->dataset_type, "audio_dir") && d->n == 1 && !strcmp(d->d[0].id, "my_audio"));
    CHECK(!strcmp(d->d[0].path, "/path/to/audio/dataset/") && d->random_crop && d->drop_last);
    CHECK(!strcmp(d->d[0].custom_metadata_module, "/path/to/custom_metadata/custom_md_example.py"));
    bool warned = false;
    for (int i = 0; i < l.n; i++) warned |= strstr(l.items[i].message, "sidecar metadata") != NULL;
    CHECK(warned);
    CHECK(ds_dataset_config_check_runnable(d, NULL, NULL) == DS_OK);
    ds_diag_list_free(&l);
    ds_err err;
    CHECK(ds_dataset_config_load(tpath("sat-configs/dataset_configs__s3_wds_example.json"), d, NULL, NULL) == DS_OK);
    CHECK(!strcmp(d->dataset_type, "s3") && ds_dataset_config_check_runnable(d, NULL, &err) == DS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "dataset_type \"s3\" needs") != NULL);

    char dir[] = "/tmp/ds_config_load_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[4096], audio[4096], studio[4096], model[4096], dsp[4096];
    snprintf(sub, sizeof sub, "%s/cfg", dir);
    snprintf(audio, sizeof audio, "%s/audio", dir);
    mkdir(sub, 0755);
    mkdir(audio, 0755);
    snprintf(model, sizeof model, "%s/cfg/model.json", dir);
    snprintf(dsp, sizeof dsp, "%s/cfg/data.json", dir);
    snprintf(studio, sizeof studio, "%s/studio.json", dir);
    char *dd = NULL;
    size_t len;
    CHECK(ds_read_file(tpath("bench-configs/dit.json"), &dd, &len, 1 << 20, &err) == DS_OK);
    write_file(model, dd ? dd : "{}");
    free(dd);
    write_file(dsp, "{\"dataset_type\": \"audio_dir\", \"datasets\": [{\"id\": \"a\", \"path\": \"../audio\"}]}");
    write_file(studio, "{\n    \"model_config\": \"cfg/model.json\",\n    \"dataset_config\": \"audio\",\n"
                       "    \"batch_size\": 8,\n    \"seed\": 7,\n    \"cache_mb\": 16,\n    \"precision\": \"bf16-mixed\"\n}\n");
    ds_studio_config *s = malloc(sizeof *s);
    ds_diag_list_init(&l);
    CHECK(ds_studio_config_load(studio, s, &l, &err) == DS_OK);
    CHECK(!strcmp(s->path, studio) && !strcmp(s->model_config, model) && !strcmp(s->dataset_config, audio));
    CHECK(s->dataset_is_folder && s->batch_size == 8 && s->seed == 7 && s->cache_bytes == (int64_t)16 << 20);
    CHECK(!strcmp(s->name, "model") && strstr(s->run_dir, "/runs/model") && s->run_dir[0] == '/');
    CHECK(s->checkpoint_every == 10000 && !strcmp(s->device, "cpu") && !strcmp(s->precision, "bf16-mixed"));
    CHECK(l.n_warnings == 1 && strstr(l.items[0].message, "float32"));
    ds_diag_list_free(&l);
    /* the whole studio file checks out, including its model config */
    ds_diag_list_init(&l);
    CHECK(ds_config_check_file(studio, &l) == DS_OK);
    ds_diag_list_free(&l);
    /* a dataset config's paths are relative to its folder; a folder stands for audio_dir */
    CHECK(ds_dataset_config_load(dsp, d, NULL, NULL) == DS_OK);
    snprintf(sub, sizeof sub, "%s/cfg/../audio", dir);
    CHECK(d->n == 1 && !strcmp(d->d[0].path, sub));
    CHECK(ds_dataset_config_load(audio, d, NULL, NULL) == DS_OK);
    CHECK(d->n == 1 && !strcmp(d->d[0].path, audio) && !strcmp(d->d[0].id, "audio") && !strcmp(d->dataset_type, "audio_dir"));
    /* a missing model config is an error naming the resolved path */
    write_file(studio, "{\"model_config\": \"nope.json\"}");
    ds_diag_list_init(&l);
    CHECK(ds_config_check_file(studio, &l) == DS_ERR_INVALID);
    CHECK(l.n_errors == 1 && l.n == 2 && strstr(l.items[1].message, "nope.json does not exist") &&
          !strcmp(l.items[1].path, "model_config"));
    ds_diag_list_free(&l);
    ds_studio_config_for_model("configs/example.json", s);
    CHECK(!strcmp(s->name, "example") && !strcmp(s->run_dir, "runs/example") && s->batch_size == 4);
    unlink(studio);
    unlink(model);
    unlink(dsp);
    rmdir(audio);
    snprintf(sub, sizeof sub, "%s/cfg", dir);
    rmdir(sub);
    rmdir(dir);
    free(s);
    free(d);
}

int main(void) {
    test_bundled();
    test_sa2();
    test_sa1_and_dd();
    test_defaults();
    test_derived();
    test_dataset_and_studio();
    return tu_finish("test_config_load");
}
