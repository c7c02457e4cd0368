/* The config editor's model (tui/cfgtree.c): rows generated from the schema (values and
 * defaults, sections, conditioner elements, demo_cond as table rows), type-aware editors,
 * schema-checked edits that leave the file alone when refused, undo/redo, diagnostics on the
 * rows, adding optional keys, folding, search, saving atomically and reverting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgtree.h"
#include "testutil.h"

static const char *MODEL =
    "{\n"
    "    \"model_type\": \"diffusion_cond\",\n"
    "    \"sample_size\": 512,\n"
    "    \"sample_rate\": 8000,\n"
    "    \"audio_channels\": 1,\n"
    "    \"model\": {\n"
    "        \"io_channels\": 1,\n"
    "        \"conditioning\": {\n"
    "            \"cond_dim\": 32,\n"
    "            \"configs\": [\n"
    "                {\"id\": \"prompt\", \"type\": \"list\", \"config\": {\"options\": [\"kick\", \"snare\"]}},\n"
    "                {\"id\": \"seconds_total\", \"type\": \"number\", \"config\": {\"min_val\": 0, \"max_val\": 4}}\n"
    "            ]\n"
    "        },\n"
    "        \"diffusion\": {\n"
    "            \"type\": \"dit\",\n"
    "            \"cross_attention_cond_ids\": [\"prompt\", \"seconds_total\"],\n"
    "            \"global_cond_ids\": [\"prompt\"],\n"
    "            \"config\": {\"io_channels\": 1, \"patch_size\": 8, \"embed_dim\": 64, \"depth\": 1, \"num_heads\": 2,\n"
    "                       \"cond_token_dim\": 32, \"global_cond_dim\": 32}\n"
    "        }\n"
    "    },\n"
    "    \"training\": {\n"
    "        \"learning_rate\": 1e-3,\n"
    "        \"demo\": {\n"
    "            \"demo_every\": 50,\n"
    "            \"num_demos\": 2,\n"
    "            \"demo_cond\": [\n"
    "                {\"prompt\": \"kick\", \"seconds_total\": 1},\n"
    "                {\"prompt\": \"snare\", \"seconds_total\": 1}\n"
    "            ],\n"
    "            \"demo_cfg_scales\": [1, 3]\n"
    "        }\n"
    "    }\n"
    "}\n";

static const cfg_row *row(const cfg_doc *d, const char *path) {
    int i = cfg_doc_find_row(d, path);
    return i >= 0 && !strcmp(d->rows[i].path, path) ? &d->rows[i] : NULL;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

int main(void) {
    char dir[] = "/tmp/ds_ui_cfg_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/model.json", dir);
    FILE *f = fopen(path, "w");
    fputs(MODEL, f);
    fclose(f);

    cfg_doc d;
    ds_err err = {0};
    CHECK(cfg_doc_open(&d, path, &err) == DS_OK);
    CHECK(cfg_doc_kind(&d) == DS_KIND_MODEL && !d.modified);
    CHECKF(d.diags.n_errors == 0, "%d errors", d.diags.n_errors);

    /* rows: values from the file, defaults from the schema */
    const cfg_row *r = row(&d, "training.demo.demo_every");
    CHECK(r && r->kind == CFG_ROW_LEAF && !strcmp(r->value, "50") && r->in_file && !r->is_default);
    CHECK(r && r->key && r->key->help && !strcmp(r->label, "demo_every") && r->depth == 2);
    r = row(&d, "training.demo.demo_steps");
    CHECK(r && r->is_default && !strcmp(r->value, "250"));
    r = row(&d, "training");
    CHECK(r && r->kind == CFG_ROW_SECTION && r->depth == 0);
    r = row(&d, "model.conditioning.configs[0]");
    CHECK(r && r->kind == CFG_ROW_ELEMENT && !strcmp(r->value, "prompt (list)"));
    /* demo_cond: one table row per demo, its keys in the summary, no rows below it */
    r = row(&d, "training.demo.demo_cond[1]");
    CHECK(r && r->kind == CFG_ROW_TABLE && strstr(r->value, "prompt: snare") && strstr(r->value, "seconds_total: 1"));
    CHECK(row(&d, "training.demo.demo_cond[1].prompt") == NULL);
    CHECK(row(&d, "training.demo.demo_cond") && row(&d, "training.demo.demo_cond")->kind == CFG_ROW_SECTION);

    /* editors by type */
    ui_edit_kind k;
    CHECK(cfg_editor_for(row(&d, "training.demo.demo_every"), &k) == CFG_ED_TEXT && k == UI_EDIT_INT);
    CHECK(cfg_editor_for(row(&d, "training.demo.demo_cfg_scales"), &k) == CFG_ED_TEXT && k == UI_EDIT_NUMBER_LIST);
    CHECK(cfg_editor_for(row(&d, "training.use_ema"), &k) == CFG_ED_BOOL);
    CHECK(cfg_editor_for(row(&d, "training.timestep_sampler"), &k) == CFG_ED_CHOICE);
    CHECK(cfg_editor_for(row(&d, "model.diffusion.global_cond_ids"), &k) == CFG_ED_IDS);
    CHECK(cfg_editor_for(row(&d, "training.demo.demo_cond[0]"), &k) == CFG_ED_ROW);
    CHECK(cfg_editor_for(row(&d, "training.demo.demo_cond"), &k) == CFG_ED_ROWS);
    CHECK(cfg_editor_for(row(&d, "model"), &k) == CFG_ED_NONE);

    /* conditioners, options, a new demo row */
    char ids[8][64], types[8][32], opts[8][64];
    CHECK(cfg_doc_conditioners(&d, ids, types, 8) == 2 && !strcmp(ids[1], "seconds_total") && !strcmp(types[0], "list"));
    CHECK(cfg_doc_cond_options(&d, "prompt", opts, 8) == 2 && !strcmp(opts[1], "snare"));
    CHECK(cfg_doc_cond_options(&d, "seconds_total", opts, 8) == 0);
    char newrow[256];
    cfg_doc_new_table_row(&d, newrow, sizeof newrow);
    CHECK(!strcmp(newrow, "{\"prompt\": \"kick\", \"seconds_total\": 1}"));

    /* an edit, then a refused one that changes nothing */
    int before_undo = d.n_undo;
    CHECK(cfg_doc_set(&d, "training.demo.demo_every", "25", &err) == DS_OK);
    CHECK(d.modified && d.n_undo == before_undo + 1 && !strcmp(row(&d, "training.demo.demo_every")->value, "25"));
    CHECK(cfg_doc_set(&d, "training.demo.demo_every", "\"often\"", &err) != DS_OK);
    CHECK(strstr(err.msg, "demo_every") != NULL);
    CHECK(!strcmp(row(&d, "training.demo.demo_every")->value, "25") && d.n_undo == before_undo + 1);
    CHECK(cfg_doc_set(&d, "training.demo.no_such_key", "1", &err) != DS_OK);
    /* several edits as one undo step: a third demo row */
    cfg_op ops[2] = {{CFG_OP_SET, "training.demo.demo_cond",
                      "[{\"prompt\": \"kick\", \"seconds_total\": 1}, {\"prompt\": \"snare\", \"seconds_total\": 1}, "
                      "{\"prompt\": \"snare\", \"seconds_total\": 2}]"},
                     {CFG_OP_SET, "training.demo.num_demos", "3"}};
    CHECK(cfg_doc_apply(&d, ops, 2, &err) == DS_OK);
    CHECK(row(&d, "training.demo.demo_cond[2]") && !strcmp(row(&d, "training.demo.num_demos")->value, "3"));
    CHECK(cfg_doc_undo(&d) && !row(&d, "training.demo.demo_cond[2]") && !strcmp(row(&d, "training.demo.num_demos")->value, "2"));
    CHECK(cfg_doc_redo(&d) && row(&d, "training.demo.demo_cond[2]"));
    CHECK(cfg_doc_undo(&d) && cfg_doc_undo(&d) && !d.modified); /* back to the file */
    CHECK(!cfg_doc_undo(&d) || d.n_undo >= 0);
    while (cfg_doc_redo(&d)) {
    }
    CHECK(row(&d, "training.demo.demo_cond[2]") != NULL);

    /* diagnostics land on their rows: demo_cond longer than num_demos is fine, a bad id is not */
    CHECK(cfg_doc_set(&d, "model.diffusion.global_cond_ids", "[\"nope\"]", &err) == DS_OK);
    CHECK(d.diags.n_errors > 0);
    r = row(&d, "model.diffusion.global_cond_ids");
    CHECK(r && r->problem == DS_DIAG_ERROR);
    CHECK(row(&d, "model")->problem == DS_DIAG_ERROR); /* and its sections */
    CHECK(cfg_doc_undo(&d) && d.diags.n_errors == 0);

    /* optional keys to add */
    const ds_schema_key *keys[64];
    char paths[64][CFG_PATH];
    int n = cfg_doc_addable(&d, "training.demo", keys, paths, 64);
    int has_steps = 0, has_every = 0;
    for (int i = 0; i < n; i++) {
        has_steps |= !strcmp(paths[i], "training.demo.demo_steps");
        has_every |= !strcmp(paths[i], "training.demo.demo_every");
    }
    CHECK(has_steps && !has_every);
    cfg_op add = {CFG_OP_ADD_DEFAULT, "training.demo.demo_steps", NULL};
    CHECK(cfg_doc_apply(&d, &add, 1, &err) == DS_OK && row(&d, "training.demo.demo_steps")->in_file);
    CHECK(cfg_doc_delete(&d, "training.demo.demo_steps", &err) == DS_OK && row(&d, "training.demo.demo_steps")->is_default);
    CHECK(cfg_doc_delete(&d, "model_type", &err) != DS_OK); /* required */
    char obj[CFG_PATH];
    cfg_row_object(row(&d, "training.demo.demo_every"), obj, sizeof obj);
    CHECK(!strcmp(obj, "training.demo"));
    cfg_row_object(row(&d, "training.demo"), obj, sizeof obj);
    CHECK(!strcmp(obj, "training.demo"));
    cfg_path_parent("a.b[2].c", obj, sizeof obj);
    CHECK(!strcmp(obj, "a.b[2]"));
    cfg_path_parent("a", obj, sizeof obj);
    CHECK(!strcmp(obj, ""));

    /* folding, hiding defaults, search */
    int *vis = malloc((size_t)d.n_rows * sizeof *vis);
    int all = cfg_doc_visible(&d, NULL, 0, false, vis);
    CHECK(all == d.n_rows);
    char folded[1][CFG_PATH] = {"model"};
    int some = cfg_doc_visible(&d, folded, 1, false, vis);
    CHECK(some < all);
    int saw_model = 0, saw_inside = 0;
    for (int i = 0; i < some; i++) {
        saw_model |= !strcmp(d.rows[vis[i]].path, "model");
        saw_inside |= !strncmp(d.rows[vis[i]].path, "model.", 6);
    }
    CHECK(saw_model && !saw_inside);
    int fewer = cfg_doc_visible(&d, NULL, 0, true, vis);
    CHECK(fewer < all);
    free(vis);
    int hit = cfg_doc_search(&d, "DEMO_EVERY", -1);
    CHECK(hit >= 0 && !strcmp(d.rows[hit].path, "training.demo.demo_every"));
    CHECK(cfg_doc_search(&d, "demo_every", hit) == hit); /* wraps around to itself */
    CHECK(cfg_doc_search(&d, "zzz", 0) == -1);

    /* save (atomic), reload, revert */
    CHECK(cfg_doc_set(&d, "training.demo.demo_every", "7", &err) == DS_OK && d.modified);
    CHECK(cfg_doc_save(&d, NULL, &err) == DS_OK && !d.modified);
    char *text = slurp(path);
    CHECK(text && strstr(text, "\"demo_every\": 7,"));
    CHECK(text && strstr(text, "\"sample_size\": 512,")); /* untouched lines keep their form */
    CHECK(cfg_doc_set(&d, "training.demo.demo_every", "8", &err) == DS_OK);
    CHECK(cfg_doc_revert(&d, &err) == DS_OK && !d.modified && !strcmp(row(&d, "training.demo.demo_every")->value, "7"));
    CHECK(cfg_doc_undo(&d) && !strcmp(row(&d, "training.demo.demo_every")->value, "8")); /* revert is undoable */
    char other[300];
    snprintf(other, sizeof other, "%s/copy.json", dir);
    CHECK(cfg_doc_save(&d, other, &err) == DS_OK && !strcmp(d.path, other));
    text = slurp(other);
    CHECK(text && strstr(text, "\"demo_every\": 8,"));
    cfg_doc_close(&d);

    CHECK(cfg_doc_open(&d, "/nonexistent.json", &err) != DS_OK);
    cfg_doc_close(&d);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return tu_finish("test_ui_cfgtree");
}
