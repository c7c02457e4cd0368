/* The effective config: every key that applies to a document, with the file's value or
 * SAT's default, in schema order; then the keys the schema does not know. What
 * `diffstudio config show` prints and what the TUI's editor lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

typedef struct ectx {
    const ds_config_doc *doc;
    unsigned bit;
    ds_effective_fn fn;
    void *user;
} ectx;

static void leaf(ectx *e, const char *path, const cJSON *v, const ds_schema_key *k) {
    sbuf b = {0};
    ds_effective_entry ent = {.path = path, .key = k};
    if (v) {
        doc_compact(e->doc, v, &b);
        ent.value = b.p ? b.p : "";
    } else {
        ent.is_default = true;
        ent.is_derived = k && (k->flags & DS_SF_DERIVED);
        ent.value = k && k->def ? k->def : "";
    }
    e->fn(&ent, e->user);
    free(b.p);
}

static void object(ectx *e, const cJSON *obj, const char *path, int depth);

static void member(ectx *e, const ds_schema_key *k, const cJSON *v, const char *path, int depth) {
    bool def_obj = k->def && k->def[0] == '{';
    switch (k->type) {
    case DS_ST_OBJECT:
        if (cJSON_IsObject(v) || (!v && def_obj)) {
            object(e, v, path, depth + 1);
            return;
        }
        break;
    case DS_ST_OBJECT_ARRAY:
        if (cJSON_IsArray(v) && v->child) {
            int i = 0;
            for (const cJSON *c = v->child; c; c = c->next, i++) {
                char ep[JPATH_MAX];
                path_join_index(ep, sizeof ep, path, i);
                if (cJSON_IsObject(c))
                    object(e, c, ep, depth + 1);
                else
                    leaf(e, ep, c, NULL);
            }
            return;
        }
        break;
    default: break;
    }
    if (!v && !k->def && !(k->flags & DS_SF_REQUIRED)) return; /* optional, absent, no default */
    if (!v && (k->flags & DS_SF_IGNORED)) return;                 /* SAT ignores it anyway */
    leaf(e, path, v, k);
}

static void object(ectx *e, const cJSON *obj, const char *path, int depth) {
    if (depth > DS_CONFIG_MAX_DEPTH) return;
    char pat[JPATH_MAX], par[JPATH_MAX], last[JPATH_MAX], kp[JPATH_MAX];
    ds_schema_pattern(path, pat, sizeof pat);
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        if (!path_split(k->path, par, sizeof par, last, sizeof last) || strcmp(par, pat)) continue;
        if (!strcmp(last, "*") || !strcmp(last, "[]")) continue;
        path_join_key(kp, sizeof kp, path, last);
        if (schema_applies(e->doc, e->bit, k, kp) != APPLY_YES) continue;
        bool seen = false; /* an earlier variant with the same path applied already */
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(ds_schema[j].path, k->path) && schema_applies(e->doc, e->bit, &ds_schema[j], kp) == APPLY_YES;
        if (seen) continue;
        member(e, k, obj ? obj_get(obj, last) : NULL, kp, depth);
    }
    int count = 0;
    for (const cJSON *m = obj ? obj->child : NULL; m && count <= 2000; m = m->next) count++;
    for (const cJSON *m = obj ? obj->child : NULL; m; m = m->next) {
        if (!m->string) continue;
        if (count <= 2000 && obj_get(obj, m->string) != m) continue; /* duplicates: the last one counts */
        path_join_key(kp, sizeof kp, path, m->string);
        const ds_schema_key *k = ds_schema_for_doc(e->doc, kp);
        if (k && strcmp(k->path + strlen(k->path) - 1, "*")) continue; /* handled above */
        if (k && k->type == DS_ST_OBJECT)
            object(e, m, kp, depth + 1);
        else
            leaf(e, kp, m, k);
    }
}

void ds_config_doc_each_effective(const ds_config_doc *doc, ds_effective_fn fn, void *user) {
    ectx e = {.doc = doc, .bit = doc_apply_bit(doc), .fn = fn, .user = user};
    if (!cJSON_IsObject(doc->root)) return;
    object(&e, doc->root, "", 0);
}
