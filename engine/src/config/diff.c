/* Key-by-key comparison of two configs' effective values (for a refused resume: which keys
 * changed since the run started). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config_doc.h"

typedef struct kv {
    char *path, *value;
} kv;

typedef struct kvlist {
    kv *v;
    int n, cap;
} kvlist;

static void collect(const ds_effective_entry *e, void *user) {
    kvlist *l = user;
    if (e->is_derived) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        kv *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) return;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n].path = strdup(e->path);
    l->v[l->n].value = strdup(e->value ? e->value : "");
    l->n++;
}

static void free_list(kvlist *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].path), free(l->v[i].value);
    free(l->v);
}

static const char *find(const kvlist *l, const char *path) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].path, path)) return l->v[i].value;
    return NULL;
}

static bool load(const char *path, kvlist *l, char *out, size_t n) {
    ds_config_doc *doc = NULL;
    ds_err err = {0};
    if (ds_config_doc_load(path, &doc, NULL, &err) != DS_OK) {
        snprintf(out, n, "%s", err.msg);
        return false;
    }
    ds_config_doc_each_effective(doc, collect, l);
    ds_config_doc_free(doc);
    return true;
}

static void add(char *out, size_t n, size_t *off, const char *text) {
    if (*off >= n) return;
    int w = snprintf(out + *off, n - *off, "%s", text);
    *off += w > 0 ? (size_t)w : 0;
}

int ds_config_diff_files(const char *a, const char *b, int max, char *out, size_t n) {
    kvlist la = {0}, lb = {0};
    out[0] = 0;
    if (!load(a, &la, out, n) || !load(b, &lb, out, n)) {
        free_list(&la);
        free_list(&lb);
        return -1;
    }
    int diffs = 0;
    size_t off = 0;
    char item[768];
    for (int pass = 0; pass < 2; pass++) {
        const kvlist *x = pass ? &lb : &la, *y = pass ? &la : &lb;
        for (int i = 0; i < x->n; i++) {
            const char *other = find(y, x->v[i].path);
            if (pass && other) continue; /* present on both sides: compared in pass 0 */
            if (other && !strcmp(other, x->v[i].value)) continue;
            if (++diffs > max) continue;
            const char *old = pass ? "(absent)" : x->v[i].value, *new = pass ? x->v[i].value : (other ? other : "(absent)");
            snprintf(item, sizeof item, "%s%s: %.120s -> %.120s", diffs > 1 ? "; " : "", x->v[i].path, old, new);
            add(out, n, &off, item);
        }
    }
    if (diffs > max) add(out, n, &off, ", ...");
    free_list(&la);
    free_list(&lb);
    return diffs;
}
