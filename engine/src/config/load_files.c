/* Dataset configs, studio files, and checking any of the three kinds of file.
 *
 * Paths: a studio file's paths are relative to the studio file's folder; a dataset
 * config's dataset paths are relative to the dataset config's folder (SAT resolves them
 * against the working directory, which a studio cannot rely on). Resolved paths are stored
 * in the structs; the documents keep the text as written. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_internal.h"

static bool is_dir(const char *p) {
    struct stat st;
    return p[0] && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p) {
    struct stat st;
    return p[0] && stat(p, &st) == 0;
}

static void base_name(const char *path, char *out, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    CUT_PRINTF(out, n, "%s", b);
    size_t l = strlen(out);
    if (l > 5 && !strcmp(out + l - 5, ".json")) out[l - 5] = 0;
}

static ds_status finish(ds_diag_list *dl, int before, ds_diag_list *local) {
    ds_status s = dl->n_errors > before ? DS_ERR_INVALID : DS_OK;
    ds_diag_list_free(local);
    return s;
}

static bool kind_ok(vctx *c, ds_config_kind want) {
    ds_config_kind k = ds_config_doc_kind(c->doc);
    if (k == want) return true;
    vdiag(c, DS_DIAG_ERROR, "", false, "expected a %s, this is a %s", ds_config_kind_name(want),
          ds_config_kind_name(k));
    return false;
}

/* ---- dataset configs ---------------------------------------------------------------------- */

ds_status ds_dataset_config_from_doc(const ds_config_doc *doc, ds_dataset_config *out, ds_diag_list *diags) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    int before = dl->n_errors;
    ds_dataset_config_defaults(out);
    CUT_PRINTF(out->path, sizeof out->path, "%s", doc->path);
    vctx c = {.doc = doc, .diags = dl, .bit = DS_APPLY_DATASET};
    if (!kind_ok(&c, DS_KIND_DATASET)) return finish(dl, before, &local);
    validate_walk(&c);
    bind_apply(&c, DS_BT_DATASET, out, -1);
    char dir[DS_PATH_LEN], p[JPATH_MAX];
    path_dir(doc->path, dir, sizeof dir);
    int n = ds_config_doc_array_len(doc, "datasets");
    if (n > DS_MAX_DATASETS)
        vdiag(&c, DS_DIAG_ERROR, "datasets", false, "%d datasets, more than the %d diffstudio supports", n,
              DS_MAX_DATASETS);
    if (n == 0) vdiag(&c, DS_DIAG_ERROR, "datasets", false, "is empty: name at least one dataset");
    out->n = 0;
    for (int i = 0; i < n && i < DS_MAX_DATASETS; i++) {
        CUT_PRINTF(p, sizeof p, "datasets[%d]", i);
        if (!cJSON_IsObject(doc_resolve(doc, p))) continue;
        ds_dataset_entry *e = &out->d[out->n++];
        memset(e, 0, sizeof *e);
        bind_apply(&c, DS_BT_DATASET_ENTRY, e, i);
        char raw[DS_PATH_LEN];
        CUT_PRINTF(raw, sizeof raw, "%s", e->path);
        path_resolve(dir, raw, e->path, sizeof e->path);
        for (int j = 0; j < out->n - 1; j++)
            if (e->id[0] && !strcmp(out->d[j].id, e->id)) {
                CUT_PRINTF(p, sizeof p, "datasets[%d].id", i);
                vdiag(&c, DS_DIAG_WARNING, p, false, "dataset id \"%s\" is used twice", e->id);
            }
        if (e->custom_metadata_module[0]) {
            CUT_PRINTF(p, sizeof p, "datasets[%d].custom_metadata_module", i);
            vdiag(&c, DS_DIAG_WARNING, p, true,
                  "diffstudio cannot run Python metadata modules: it reads sidecar metadata instead (FILE.json "
                  "next to each audio file, or a manifest in the dataset folder)");
        }
        if (!strcmp(out->dataset_type, "audio_dir") && e->path[0] && !is_dir(e->path)) {
            CUT_PRINTF(p, sizeof p, "datasets[%d].path", i);
            vdiag(&c, DS_DIAG_WARNING, p, false, "folder %s does not exist", e->path);
        }
    }
    return finish(dl, before, &local);
}

ds_status ds_dataset_config_load(const char *path, ds_dataset_config *out, ds_diag_list *diags, ds_err *err) {
    ds_dataset_config_defaults(out);
    if (is_dir(path)) { /* a folder of audio stands for a one-dataset audio_dir config */
        CUT_PRINTF(out->path, sizeof out->path, "%s", path);
        out->n = 1;
        base_name(path, out->d[0].id, sizeof out->d[0].id);
        if (!out->d[0].id[0]) CUT_PRINTF(out->d[0].id, sizeof out->d[0].id, "audio");
        CUT_PRINTF(out->d[0].path, sizeof out->d[0].path, "%s", path);
        return DS_OK;
    }
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    ds_config_doc *doc = NULL;
    ds_status s = ds_config_doc_load(path, &doc, dl, err);
    if (s == DS_OK) {
        s = ds_dataset_config_from_doc(doc, out, dl);
        if (s != DS_OK) ds_diag_to_err(dl, s, err);
    }
    ds_config_doc_free(doc);
    ds_diag_list_free(&local);
    return s;
}

/* ---- studio files ------------------------------------------------------------------------- */

void ds_studio_config_for_model(const char *model_path, ds_studio_config *out) {
    ds_studio_config_defaults(out);
    CUT_PRINTF(out->model_config, sizeof out->model_config, "%s", model_path);
    base_name(model_path, out->name, sizeof out->name);
    CUT_PRINTF(out->run_dir, sizeof out->run_dir, "runs/%.1000s", out->name);
}

ds_status ds_studio_config_from_doc(const ds_config_doc *doc, ds_studio_config *out, ds_diag_list *diags) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    int before = dl->n_errors;
    ds_studio_config_defaults(out);
    CUT_PRINTF(out->path, sizeof out->path, "%s", doc->path);
    vctx c = {.doc = doc, .diags = dl, .bit = DS_APPLY_STUDIO};
    if (!kind_ok(&c, DS_KIND_STUDIO)) return finish(dl, before, &local);
    validate_walk(&c);
    bind_apply(&c, DS_BT_STUDIO, out, -1);
    const cJSON *mb = doc_resolve(doc, "cache_mb");
    if (cJSON_IsNumber(mb) && mb->valuedouble >= 0 && mb->valuedouble <= (1 << 24))
        out->cache_bytes = (int64_t)mb->valuedouble << 20;
    char dir[DS_PATH_LEN], tmp[DS_PATH_LEN];
    path_dir(doc->path, dir, sizeof dir);
    if (!out->name[0]) base_name(out->model_config, out->name, sizeof out->name);
    if (!out->run_dir[0]) CUT_PRINTF(out->run_dir, sizeof out->run_dir, "runs/%.1000s", out->name);
    char *paths[] = {out->model_config, out->dataset_config, out->run_dir, out->pretrained_ckpt_path,
                     out->pretransform_ckpt_path};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        CUT_PRINTF(tmp, sizeof tmp, "%s", paths[i]);
        path_resolve(dir, tmp, paths[i], DS_PATH_LEN);
    }
    out->dataset_is_folder = is_dir(out->dataset_config);
    static const struct { const char *key; size_t off; } files[] = {
        {"model_config", offsetof(ds_studio_config, model_config)},
        {"dataset_config", offsetof(ds_studio_config, dataset_config)},
        {"pretrained_ckpt_path", offsetof(ds_studio_config, pretrained_ckpt_path)},
        {"pretransform_ckpt_path", offsetof(ds_studio_config, pretransform_ckpt_path)},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        const char *p = (const char *)out + files[i].off;
        if (p[0] && !exists(p))
            vdiag(&c, DS_DIAG_ERROR, files[i].key, false, "%s does not exist (paths are relative to the studio "
                                                          "file's folder)", p);
    }
    if (!strcmp(out->device, "cpu") && strcmp(out->precision, "32"))
        vdiag(&c, DS_DIAG_WARNING, "precision", false,
              "the CPU backend trains in float32: precision \"%s\" applies to device \"cuda\" only", out->precision);
    return finish(dl, before, &local);
}

ds_status ds_studio_config_load(const char *path, ds_studio_config *out, ds_diag_list *diags, ds_err *err) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    ds_config_doc *doc = NULL;
    ds_studio_config_defaults(out);
    ds_status s = ds_config_doc_load(path, &doc, dl, err);
    if (s == DS_OK) {
        s = ds_studio_config_from_doc(doc, out, dl);
        if (s != DS_OK) ds_diag_to_err(dl, s, err);
    }
    ds_config_doc_free(doc);
    ds_diag_list_free(&local);
    return s;
}

/* ---- checking any file ---------------------------------------------------------------------- */

static void check_model(const ds_config_doc *doc, ds_diag_list *diags) {
    ds_model_config *m = malloc(sizeof *m);
    if (!m) {
        ds_diag_add(diags, DS_DIAG_ERROR, doc->path, "", 0, 0, "out of memory");
        return;
    }
    int before = diags->n_errors;
    ds_model_config_from_doc(doc, m, diags);
    if (diags->n_errors == before && m->model_type <= DS_MODEL_AUTOENCODER)
        runnable_model(m, doc, diags, DS_DIAG_WARNING);
    free(m);
}

ds_status ds_config_doc_validate(const ds_config_doc *doc, ds_diag_list *diags) {
    ds_diag_list local;
    ds_diag_list_init(&local);
    ds_diag_list *dl = diags ? diags : &local;
    int before = dl->n_errors;
    switch (ds_config_doc_kind(doc)) {
    case DS_KIND_MODEL: check_model(doc, dl); break;
    case DS_KIND_DATASET: {
        ds_dataset_config *d = malloc(sizeof *d);
        if (d && ds_dataset_config_from_doc(doc, d, dl) == DS_OK) runnable_dataset(d, doc, dl, DS_DIAG_WARNING);
        free(d);
        break;
    }
    case DS_KIND_STUDIO: {
        ds_studio_config *s = malloc(sizeof *s);
        if (!s) break;
        ds_studio_config_from_doc(doc, s, dl);
        ds_config_doc *m = NULL;
        if (s->model_config[0] && exists(s->model_config) &&
            ds_config_doc_load(s->model_config, &m, dl, NULL) == DS_OK)
            check_model(m, dl);
        ds_config_doc_free(m);
        ds_config_doc *d = NULL;
        if (s->dataset_config[0] && exists(s->dataset_config) && !s->dataset_is_folder &&
            ds_config_doc_load(s->dataset_config, &d, dl, NULL) == DS_OK) {
            ds_dataset_config *dc = malloc(sizeof *dc);
            if (dc && ds_dataset_config_from_doc(d, dc, dl) == DS_OK) runnable_dataset(dc, d, dl, DS_DIAG_WARNING);
            free(dc);
        }
        ds_config_doc_free(d);
        free(s);
        break;
    }
    case DS_KIND_UNKNOWN:
        ds_diag_add(dl, DS_DIAG_ERROR, doc->path, "", 1, 1,
                    "cannot tell what kind of file this is: expected a model config (with \"model_type\"), a "
                    "dataset config (\"dataset_type\", \"datasets\") or a studio file (\"model_config\", ...)");
        break;
    }
    ds_status s = dl->n_errors > before ? DS_ERR_INVALID : DS_OK;
    ds_diag_list_free(&local);
    return s;
}

ds_status ds_config_check_file(const char *path, ds_diag_list *diags) {
    ds_config_doc *doc = NULL;
    ds_status s = ds_config_doc_load(path, &doc, diags, NULL);
    if (s != DS_OK) return s;
    s = ds_config_doc_validate(doc, diags);
    ds_config_doc_free(doc);
    return s;
}
