/* Table-driven loading: the schema rows' bind fields say where each value goes. The same
 * code fills the *_defaults() structs (rows' defaults only) and loads documents (the file's
 * value where it is valid, else the row's default). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

static void store_str(char *dst, size_t size, const char *s) {
    if (size) CUT_PRINTF(dst, size, "%s", s ? s : "");
}

static int to_int(double v) {
    if (!isfinite(v)) return 0;
    if (v > 2147483647.0) return 2147483647;
    if (v < -2147483648.0) return (int)-2147483647 - 1;
    return (int)v;
}

bool bind_store(const ds_schema_key *k, void *base, const cJSON *v) {
    const ds_schema_bind *b = &k->bind;
    char *f = (char *)base + b->off;
    bool null = cJSON_IsNull(v);
    switch ((ds_bind_ctype)b->ctype) {
    case DS_BC_NONE: return false;
    case DS_BC_INT:
        if (!null && !cJSON_IsNumber(v)) return false;
        *(int *)f = null ? 0 : to_int(v->valuedouble);
        return true;
    case DS_BC_INT64:
        if (!null && !cJSON_IsNumber(v)) return false;
        *(int64_t *)f = null || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 9.2e18 ? 0
                                                                                          : (int64_t)v->valuedouble;
        return true;
    case DS_BC_U64:
        if (!null && !cJSON_IsNumber(v)) return false;
        *(uint64_t *)f = null || !(v->valuedouble >= 0) || v->valuedouble > 1.8e19 ? 0
                                                                                  : (uint64_t)v->valuedouble;
        return true;
    case DS_BC_DOUBLE:
        if (!null && !cJSON_IsNumber(v)) return false;
        *(double *)f = null ? 0.0 : v->valuedouble;
        return true;
    case DS_BC_BOOL:
        if (!cJSON_IsBool(v)) return false;
        *(bool *)f = cJSON_IsTrue(v);
        return true;
    case DS_BC_STR:
        if (!null && !cJSON_IsString(v)) return false;
        store_str(f, b->size, null ? "" : v->valuestring);
        return true;
    case DS_BC_ENUM: {
        if (!cJSON_IsString(v)) return false;
        int i = list_index(k->choices, v->valuestring);
        if (i < 0) return false;
        *(int *)f = i;
        return true;
    }
    case DS_BC_INT_LIST:
    case DS_BC_DOUBLE_LIST:
    case DS_BC_STR_LIST: {
        int *count = (int *)((char *)base + b->count_off);
        if (null) {
            *count = 0;
            return true;
        }
        if (!cJSON_IsArray(v)) return false;
        int n = 0;
        for (const cJSON *e = v->child; e && n < b->cap; e = e->next, n++) {
            if (b->ctype == DS_BC_INT_LIST)
                ((int *)f)[n] = cJSON_IsNumber(e) ? to_int(e->valuedouble) : 0;
            else if (b->ctype == DS_BC_DOUBLE_LIST)
                ((double *)f)[n] = cJSON_IsNumber(e) ? e->valuedouble : 0.0;
            else
                store_str(f + (size_t)n * b->size, b->size, cJSON_IsString(e) ? e->valuestring : "");
        }
        *count = n;
        return true;
    }
    case DS_BC_ID_LIST: {
        ds_id_list *l = (ds_id_list *)f;
        if (null) {
            l->n = 0;
            return true;
        }
        if (!cJSON_IsArray(v)) return false;
        l->n = 0;
        for (const cJSON *e = v->child; e && l->n < DS_MAX_IDS; e = e->next)
            store_str(l->id[l->n++], DS_ID_LEN, cJSON_IsString(e) ? e->valuestring : "");
        return true;
    }
    }
    return false;
}

static bool store_default(const ds_schema_key *k, void *base) {
    if (!k->def || !k->bind.ctype) return false;
    cJSON *d = cJSON_Parse(k->def);
    bool ok = d && bind_store(k, base, d);
    cJSON_Delete(d);
    return ok;
}

/* Fills the first [] of pattern with elem. */
static void elem_path(const char *pattern, int elem, char *out, size_t n) {
    const char *br = strstr(pattern, "[]");
    if (!br || elem < 0)
        CUT_PRINTF(out, n, "%s", pattern);
    else
        CUT_PRINTF(out, n, "%.*s[%d]%s", (int)(br - pattern), pattern, elem, br + 2);
}

void bind_apply(vctx *c, ds_bind_target target, void *base, int elem) {
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        if (k->bind.target != target || !k->bind.ctype) continue;
        if ((strstr(k->path, "[]") != NULL) != (elem >= 0)) continue;
        char path[JPATH_MAX];
        elem_path(k->path, elem, path, sizeof path);
        if (schema_applies(c->doc, c->bit, k, path) != APPLY_YES) continue;
        const cJSON *v = doc_resolve(c->doc, path);
        char msg[8];
        if (v && schema_check_value(c->doc, k, v, msg, sizeof msg) && bind_store(k, base, v)) continue;
        store_default(k, base);
    }
}

/* ---- defaults -------------------------------------------------------------------------------- */

/* The variant each defaults() struct describes: NULL = every variant (their fields do not
 * overlap: dit / dau1d / adp, pretransform kinds), otherwise the named one. Without
 * optimizer_configs SAT trains with Adam; InverseLR's defaults fill the schedule fields. */
static const struct {
    const char *key, *value;
} DEFAULT_WHEN[] = {
    {"model.diffusion.type", NULL},
    {"model.type", NULL},
    {"model.pretransform.type", NULL},
    {"training.optimizer_configs.diffusion.optimizer.type", "Adam"},
    {"training.optimizer_configs.diffusion.scheduler.type", "InverseLR"},
    {"dataset_type", "audio_dir"},
};

static bool default_applies(const ds_schema_key *k, unsigned bit) {
    if (!(k->applies & bit)) return false;
    if (!k->when_key) return true;
    for (size_t i = 0; i < sizeof DEFAULT_WHEN / sizeof *DEFAULT_WHEN; i++)
        if (!strcmp(k->when_key, DEFAULT_WHEN[i].key))
            return !DEFAULT_WHEN[i].value || list_has(k->when_in, DEFAULT_WHEN[i].value);
    return false;
}

static void apply_defaults(ds_bind_target target, unsigned bit, void *base) {
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        if (k->bind.target == target && default_applies(k, bit)) store_default(k, base);
    }
}

void ds_model_config_defaults(ds_model_config *c) {
    memset(c, 0, sizeof *c);
    apply_defaults(DS_BT_MODEL, DS_APPLY_COND | DS_APPLY_UNCOND, c);
    c->model_type = DS_MODEL_DIFFUSION_COND;
    CUT_PRINTF(c->model_type_name, sizeof c->model_type_name, "diffusion_cond");
    c->backbone = DS_BB_DIT;
    CUT_PRINTF(c->backbone_name, sizeof c->backbone_name, "dit");
    c->pretransform.type = DS_PT_NONE;
    CUT_PRINTF(c->pretransform.type_name, sizeof c->pretransform.type_name, "none");
    c->pretransform.scale = 1.0;
    c->pretransform.ratio = 1;
    c->training.optimizer = DS_OPT_ADAM;
    CUT_PRINTF(c->training.optimizer_name, sizeof c->training.optimizer_name, "Adam");
    c->training.beta1 = 0.9;
    c->training.beta2 = 0.999;
    c->training.weight_decay = 0.0;
    c->training.scheduler = DS_SCHED_NONE;
    CUT_PRINTF(c->training.scheduler_name, sizeof c->training.scheduler_name, "none");
    c->min_input_length = 1;
}

void ds_dit_config_defaults(ds_dit_config *c) {
    ds_model_config *m = malloc(sizeof *m);
    if (!m) {
        memset(c, 0, sizeof *c);
        return;
    }
    ds_model_config_defaults(m);
    *c = m->dit;
    free(m);
}

void ds_dau1d_config_defaults(ds_dau1d_config *c) {
    ds_model_config *m = malloc(sizeof *m);
    if (!m) {
        memset(c, 0, sizeof *c);
        return;
    }
    ds_model_config_defaults(m);
    *c = m->dau1d;
    free(m);
}

void ds_adp_config_defaults(ds_adp_config *c) {
    ds_model_config *m = malloc(sizeof *m);
    if (!m) {
        memset(c, 0, sizeof *c);
        return;
    }
    ds_model_config_defaults(m);
    *c = m->adp;
    free(m);
}

void ds_dataset_config_defaults(ds_dataset_config *c) {
    memset(c, 0, sizeof *c);
    apply_defaults(DS_BT_DATASET, DS_APPLY_DATASET, c);
    CUT_PRINTF(c->dataset_type, sizeof c->dataset_type, "audio_dir");
}

void ds_studio_config_defaults(ds_studio_config *c) {
    memset(c, 0, sizeof *c);
    apply_defaults(DS_BT_STUDIO, DS_APPLY_STUDIO, c);
    const ds_schema_key *k = ds_schema_find("cache_mb", DS_APPLY_STUDIO);
    c->cache_bytes = (int64_t)(k && k->def ? atoll(k->def) : 1024) << 20;
}
