/* libFuzzer target for the config layer: any bytes through parsing, the position index,
 * validation and loading of all three kinds of file, the runnable check, the effective
 * config, editing, and the writer. Properties checked beyond "no crash, no sanitizer
 * report": the written text parses to the same tree, and writing is idempotent. Built with
 * clang by run_fuzz.sh (the project itself builds with gcc). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "engine/log.h"

static void quiet(ds_log_level level, const char *line, void *user) {
    (void)level;
    (void)line;
    (void)user;
}

/* Same tree: same types, keys, values and order (duplicates included). */
static bool same(const cJSON *a, const cJSON *b) {
    if ((a->type & 0xFF) != (b->type & 0xFF)) return false;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string))) return false;
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring)) return false;
    if (cJSON_IsNumber(a) && !(a->valuedouble == b->valuedouble || (isnan(a->valuedouble) && isnan(b->valuedouble))))
        return false;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same(x, y)) return false;
    return !x && !y;
}

typedef struct { ds_config_doc *doc; int n; char first[512]; } eff;

static void visit(const ds_effective_entry *e, void *user) {
    eff *f = user;
    ds_src_pos pos;
    ds_config_doc_locate(f->doc, e->path, &pos);
    if (!f->n++) snprintf(f->first, sizeof f->first, "%s", e->path);
}

static void check_write(ds_config_doc *doc) {
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    if (ds_config_doc_format(doc, &a, &al, NULL) != DS_OK) return;
    ds_config_doc *again = NULL;
    if (ds_config_doc_parse(a, al, "again.json", &again, NULL, NULL) != DS_OK) abort(); /* output must parse */
    if (!same(doc->root, again->root)) abort();                                     /* ... to the same tree */
    if (ds_config_doc_format(again, &b, &bl, NULL) != DS_OK || bl != al || memcmp(a, b, al)) abort(); /* idempotent */
    free(a);
    free(b);
    ds_config_doc_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        ds_log_set(quiet, NULL);
        init = true;
    }
    if (size > (1u << 20)) return 0;
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_config_doc *doc = NULL;
    if (ds_config_doc_parse((const char *)data, size, "fuzz.json", &doc, &l, NULL) == DS_OK) {
        switch (ds_config_doc_kind(doc)) {
        case DS_KIND_MODEL: {
            ds_model_config *m = malloc(sizeof *m);
            if (m && ds_model_config_from_doc(doc, m, &l) == DS_OK) ds_model_config_check_runnable(m, &l, NULL);
            free(m);
            break;
        }
        case DS_KIND_DATASET: {
            ds_dataset_config *d = malloc(sizeof *d);
            if (d) ds_dataset_config_from_doc(doc, d, &l);
            free(d);
            break;
        }
        case DS_KIND_STUDIO: {
            ds_studio_config *s = malloc(sizeof *s);
            if (s) ds_studio_config_from_doc(doc, s, &l);
            free(s);
            break;
        }
        case DS_KIND_UNKNOWN: break;
        }
        char line[2048];
        for (int i = 0; i < l.n; i++) ds_diag_format(&l.items[i], line, sizeof line);
        eff f = {.doc = doc};
        ds_config_doc_each_effective(doc, visit, &f);
        check_write(doc);
        /* edits driven by the input: set the first effective key, add a default, delete */
        if (f.n) {
            char v[16];
            snprintf(v, sizeof v, "%u", size ? data[0] : 0u);
            ds_config_doc_set_json(doc, f.first, v, NULL);
            ds_config_doc_set_json(doc, f.first, "[1, 2.5e-3, \"x\"]", NULL);
            ds_config_doc_delete(doc, f.first, NULL);
            ds_config_doc_add_default(doc, f.first, NULL);
        }
        ds_config_doc_set_number(doc, "model.diffusion.config.embed_dim", 64, NULL);
        ds_config_doc_set_string(doc, "model.diffusion.distribution_shift_options.base_shift", "x", NULL);
        ds_config_doc_add_default(doc, "training.demo.demo_every", NULL);
        check_write(doc);
    }
    ds_config_doc_free(doc);
    ds_diag_list_free(&l);
    return 0;
}
