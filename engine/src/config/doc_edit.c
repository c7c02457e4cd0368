/* Editing documents in memory: set / delete / add-default at a JSON path, checked against
 * the schema row that applies there. Edited nodes and their ancestors are marked dirty so
 * the writer re-formats them; new numbers keep the text they were given ("1e-4"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* The schema row for path in this document, or (through an ancestor that is ANY or MAP)
 * a reason why any value is fine there: *free_form. NULL + !free_form: unknown key. */
static const ds_schema_key *row_for(const ds_config_doc *doc, const char *path, bool *free_form) {
    *free_form = false;
    const ds_schema_key *k = ds_schema_for_doc(doc, path);
    if (k) return k;
    char cur[JPATH_MAX], parent[JPATH_MAX], last[JPATH_MAX];
    CUT_PRINTF(cur, sizeof cur, "%s", path);
    while (path_split(cur, parent, sizeof parent, last, sizeof last) && parent[0]) {
        const ds_schema_key *a = ds_schema_for_doc(doc, parent);
        if (a) {
            *free_form = a->type == DS_ST_ANY;
            return NULL;
        }
        CUT_PRINTF(cur, sizeof cur, "%s", parent);
    }
    return NULL;
}

static ds_status unknown_key(const ds_config_doc *doc, const char *path, ds_err *err) {
    char parent[JPATH_MAX], last[JPATH_MAX];
    if (!path_split(path, parent, sizeof parent, last, sizeof last))
        return ds_err_set(err, DS_ERR_INVALID, "%s: \"%s\" is not a valid path", doc->path, path);
    const char *names[128];
    char pp[JPATH_MAX], kpath[JPATH_MAX], klast[JPATH_MAX], kpar[JPATH_MAX];
    ds_schema_pattern(parent, pp, sizeof pp);
    int m = 0;
    unsigned bit = doc_apply_bit(doc);
    for (int i = 0; i < ds_schema_count && m < 128; i++) { /* every variant: near misses among keys that apply */
        const ds_schema_key *k = &ds_schema[i];
        if (!path_split(k->path, kpar, sizeof kpar, klast, sizeof klast) || strcmp(kpar, pp)) continue;
        path_join_key(kpath, sizeof kpath, parent, klast);
        if (schema_applies(doc, bit, k, kpath) == APPLY_NO) continue;
        names[m++] = strrchr(k->path, '.') ? strrchr(k->path, '.') + 1 : k->path;
    }
    const char *near = m ? near_miss(last, names, m) : NULL;
    if (near)
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: not a key diffstudio knows here (did you mean \"%s\"?)",
                          doc->path, path, near);
    return ds_err_set(err, DS_ERR_INVALID, "%s: %s: not a key diffstudio knows here", doc->path, path);
}

static void mark_dirty_path(ds_config_doc *doc, const char *path) {
    cJSON *n = doc->root;
    const char *p = path;
    char key[JPATH_MAX];
    int idx;
    for (;;) {
        node_info *e = doc_info_add(doc, n);
        if (e) e->dirty = true;
        seg_kind k = path_next(&p, key, sizeof key, &idx);
        if (k == SEG_END) return;
        n = k == SEG_KEY ? obj_get(n, key) : k == SEG_INDEX ? cJSON_GetArrayItem(n, idx) : NULL;
        if (!n) return;
    }
}

/* Takes over a value parsed in `from`: its numbers' text and its containers' one-line style. */
static void adopt(ds_config_doc *doc, const ds_config_doc *from, const cJSON *n) {
    node_info *src = doc_info(from, n), *dst = doc_info_add(doc, n);
    if (!dst) return;
    dst->dirty = true;
    dst->is_inline = src ? src->is_inline : false;
    if (cJSON_IsNumber(n) && src && from->src && src->val_len)
        dst->own = strndup(from->src + src->val_off, src->val_len);
    for (const cJSON *c = n->child; c; c = c->next) adopt(doc, from, c);
}

/* Walks to the parent of path, creating missing objects. *last_key / *last_index name the
 * final segment (index -1 for a key). */
static cJSON *ensure_parent(ds_config_doc *doc, const char *path, char *last_key, size_t kn,
                            int *last_index, ds_err *err) {
    cJSON *n = doc->root;
    const char *p = path;
    char key[JPATH_MAX];
    int idx = 0;
    seg_kind k = path_next(&p, key, sizeof key, &idx);
    if (k != SEG_KEY && k != SEG_INDEX) {
        ds_err_set(err, DS_ERR_INVALID, "%s: \"%s\" is not a valid path", doc->path, path);
        return NULL;
    }
    for (;;) {
        char nkey[JPATH_MAX];
        int nidx = 0;
        const char *save = p;
        seg_kind nk = path_next(&p, nkey, sizeof nkey, &nidx);
        if (nk == SEG_END) {
            CUT_PRINTF(last_key, kn, "%s", k == SEG_KEY ? key : "");
            *last_index = k == SEG_INDEX ? idx : -1;
            return n;
        }
        if (nk == SEG_BAD || nk == SEG_ANY_INDEX) break;
        cJSON *child = k == SEG_KEY ? obj_get(n, key) : cJSON_IsArray(n) ? cJSON_GetArrayItem(n, idx) : NULL;
        if (!child) {
            if (k != SEG_KEY || nk != SEG_KEY || !cJSON_IsObject(n)) {
                char where[JPATH_MAX];
                CUT_PRINTF(where, sizeof where, "%.*s", (int)(save - path), path);
                ds_err_set(err, DS_ERR_INVALID, "%s: %s: does not exist (lists are not created implicitly)",
                           doc->path, where);
                return NULL;
            }
            child = cJSON_CreateObject();
            if (!child || !cJSON_AddItemToObject(n, key, child)) {
                cJSON_Delete(child);
                ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", doc->path);
                return NULL;
            }
            node_info *e = doc_info_add(doc, child);
            if (e) e->dirty = true;
        }
        n = child;
        k = nk;
        idx = nidx;
        CUT_PRINTF(key, sizeof key, "%s", nkey);
    }
    ds_err_set(err, DS_ERR_INVALID, "%s: \"%s\" is not a valid path", doc->path, path);
    return NULL;
}

/* The list row when path is an element of a list ("...demo_cfg_scales[2]"). */
static const ds_schema_key *list_row(const ds_config_doc *doc, const char *path) {
    char parent[JPATH_MAX], last[JPATH_MAX];
    if (!path_split(path, parent, sizeof parent, last, sizeof last) || last[0] != '[') return NULL;
    const ds_schema_key *k = ds_schema_for_doc(doc, parent);
    return k && (k->type == DS_ST_INT_LIST || k->type == DS_ST_NUMBER_LIST || k->type == DS_ST_STRING_LIST ||
                 k->type == DS_ST_ID_LIST)
               ? k
               : NULL;
}

ds_status ds_config_doc_set_json(ds_config_doc *doc, const char *path, const char *json, ds_err *err) {
    if (!path || !*path) return ds_err_set(err, DS_ERR_INVALID, "%s: empty path", doc->path);
    bool free_form, element = false;
    const ds_schema_key *k = row_for(doc, path, &free_form);
    if (!k && !free_form && (k = list_row(doc, path)) != NULL) element = true;
    if (!k && !free_form) return unknown_key(doc, path, err);
    ds_config_doc *val = NULL;
    ds_err perr;
    if (doc_parse_text(json, strlen(json), path, false, &val, NULL, &perr) != DS_OK) {
        const char *m = strstr(perr.msg, ": ") ? strstr(perr.msg, ": ") + 2 : perr.msg;
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: not a JSON value: %s", doc->path, path, m);
    }
    char msg[512];
    if (k && !(element ? schema_check_element(val, k, val->root, msg, sizeof msg)
                       : schema_check_value(val, k, val->root, msg, sizeof msg))) {
        ds_config_doc_free(val);
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: %s", doc->path, path, msg);
    }
    char last[JPATH_MAX];
    int index;
    cJSON *parent = ensure_parent(doc, path, last, sizeof last, &index, err);
    if (!parent) {
        ds_config_doc_free(val);
        return err ? err->code : DS_ERR_INVALID;
    }
    cJSON *nv = val->root;
    val->root = NULL; /* the value's tree moves to doc; its info is adopted below */
    cJSON *old = index >= 0 ? (cJSON_IsArray(parent) ? cJSON_GetArrayItem(parent, index) : NULL)
                            : obj_get(parent, last);
    bool old_inline = false;
    if (old) {
        node_info *oe = doc_info(doc, old);
        old_inline = oe && oe->is_inline && (cJSON_IsArray(old) || cJSON_IsObject(old));
    }
    adopt(doc, val, nv);
    ds_config_doc_free(val);
    if (old_inline && (cJSON_IsArray(nv) || cJSON_IsObject(nv))) doc_info_add(doc, nv)->is_inline = true;
    bool ok;
    if (old) {
        /* ReplaceItemViaPointer does not carry the member's key over (cJSON frees it with
         * its default hooks, malloc/free) */
        ok = !old->string || (nv->string = strdup(old->string)) != NULL;
        if (ok) {
            doc_info_forget(doc, old);
            ok = cJSON_ReplaceItemViaPointer(parent, old, nv);
        }
    } else if (index >= 0) {
        int size = cJSON_IsArray(parent) ? cJSON_GetArraySize(parent) : -1;
        if (index != size) {
            doc_info_forget(doc, nv);
            cJSON_Delete(nv);
            return ds_err_set(err, DS_ERR_INVALID, "%s: %s: index out of range (the list has %d elements)",
                              doc->path, path, size < 0 ? 0 : size);
        }
        ok = cJSON_AddItemToArray(parent, nv);
    } else if (!cJSON_IsObject(parent)) {
        doc_info_forget(doc, nv);
        cJSON_Delete(nv);
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: the parent is not an object", doc->path, path);
    } else {
        ok = cJSON_AddItemToObject(parent, last, nv);
    }
    if (!ok) {
        doc_info_forget(doc, nv);
        cJSON_Delete(nv);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", doc->path);
    }
    mark_dirty_path(doc, path);
    doc->modified = true;
    doc->apply_bit = doc_compute_bit(doc);
    return DS_OK;
}

ds_status ds_config_doc_set_int(ds_config_doc *doc, const char *path, int64_t v, ds_err *err) {
    char t[32];
    CUT_PRINTF(t, sizeof t, "%lld", (long long)v);
    return ds_config_doc_set_json(doc, path, t, err);
}

ds_status ds_config_doc_set_number(ds_config_doc *doc, const char *path, double v, ds_err *err) {
    if (!isfinite(v))
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: NaN and infinity cannot be written to JSON",
                          doc->path, path);
    char t[64];
    fmt_py_float(v, t, sizeof t);
    return ds_config_doc_set_json(doc, path, t, err);
}

ds_status ds_config_doc_set_bool(ds_config_doc *doc, const char *path, bool v, ds_err *err) {
    return ds_config_doc_set_json(doc, path, v ? "true" : "false", err);
}

ds_status ds_config_doc_set_string(ds_config_doc *doc, const char *path, const char *v, ds_err *err) {
    cJSON *s = cJSON_CreateString(v);
    char *t = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!t) return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", doc->path);
    ds_status st = ds_config_doc_set_json(doc, path, t, err);
    free(t);
    return st;
}

ds_status ds_config_doc_delete(ds_config_doc *doc, const char *path, ds_err *err) {
    cJSON *node = doc_resolve(doc, path);
    if (!node || node == doc->root)
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: not in the file", doc->path, path);
    const ds_schema_key *k = ds_schema_for_doc(doc, path);
    if (k && (k->flags & DS_SF_REQUIRED))
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: is required and cannot be removed", doc->path, path);
    char parent[JPATH_MAX], last[JPATH_MAX];
    if (!path_split(path, parent, sizeof parent, last, sizeof last))
        return ds_err_set(err, DS_ERR_INVALID, "%s: \"%s\" is not a valid path", doc->path, path);
    cJSON *pn = doc_resolve(doc, parent);
    if (!pn) return ds_err_set(err, DS_ERR_INTERNAL, "%s: %s: parent not found", doc->path, path);
    doc_info_forget(doc, node);
    cJSON_Delete(cJSON_DetachItemViaPointer(pn, node));
    mark_dirty_path(doc, parent);
    doc->modified = true;
    doc->apply_bit = doc_compute_bit(doc);
    return DS_OK;
}

ds_status ds_config_doc_add_default(ds_config_doc *doc, const char *path, ds_err *err) {
    if (doc_resolve(doc, path))
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: already present", doc->path, path);
    bool free_form;
    const ds_schema_key *k = row_for(doc, path, &free_form);
    if (!k) return unknown_key(doc, path, err);
    if (!k->def)
        return ds_err_set(err, DS_ERR_INVALID, "%s: %s: has no default (SAT requires a value)", doc->path,
                          path);
    return ds_config_doc_set_json(doc, path, k->def, err);
}
