/* The generic schema walk: every key of the file against the schema table. Reports wrong
 * types, out-of-range and disallowed values, keys the schema does not know (warning, with a
 * near miss), keys that do not apply to this model or variant (warning), keys SAT ignores
 * (warning), duplicate keys (warning), numbers and strings SAT's Python json would reject,
 * and missing required keys (error). Everything is reported; nothing stops the walk. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

static bool list_full(vctx *c, ds_diag_severity sev) {
    if (!c->diags || c->diags->n < DS_DIAG_MAX) return false;
    ds_diag_add(c->diags, sev, "", "", 0, 0, "%s", ""); /* only counted */
    return true;
}

void vdiag(vctx *c, ds_diag_severity sev, const char *path, bool at_key, const char *fmt, ...) {
    if (list_full(c, sev)) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 0, col = 0;
    if (c->doc) doc_pos_or_parent(c->doc, path, at_key, &line, &col);
    ds_diag_add(c->diags, sev, c->doc ? c->doc->path : "", path, line, col, "%s", msg);
}

/* A diagnostic at a node the walk holds: no path lookup (which would scan large objects
 * again, and cannot tell duplicate keys apart). */
static void vdiag_node(vctx *c, ds_diag_severity sev, const char *path, const cJSON *node, bool at_key,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void vdiag_node(vctx *c, ds_diag_severity sev, const char *path, const cJSON *node, bool at_key,
                       const char *fmt, ...) {
    if (list_full(c, sev)) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    node_info *e = doc_info(c->doc, node);
    int line = 0, col = 0;
    if (e && c->doc->src && !e->dirty)
        doc_linecol(c->doc, at_key && e->key_len ? e->key_off : e->val_off, &line, &col);
    else
        doc_pos_or_parent(c->doc, path, at_key, &line, &col);
    ds_diag_add(c->diags, sev, c->doc->path, path, line, col, "%s", msg);
}

/* Raw-text checks of a scalar: what cJSON accepts but Python's json (SAT) refuses. */
static void check_raw(vctx *c, const cJSON *n, const char *path) {
    const ds_config_doc *doc = c->doc;
    node_info *e = doc_info(doc, n);
    if (!e || !doc->src || e->dirty || !e->val_len) return;
    const char *s = doc->src + e->val_off;
    if (cJSON_IsNumber(n)) {
        char why[160];
        if (!json_number_ok(s, e->val_len, why, sizeof why))
            vdiag_node(c, DS_DIAG_ERROR, path, n, false, "invalid number %.*s: %s",
                       (int)(e->val_len < 40 ? e->val_len : 40), s, why);
    } else if (cJSON_IsString(n)) {
        for (uint32_t i = 0; i < e->val_len; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (ch < 0x20) {
                vdiag_node(c, DS_DIAG_ERROR, path, n, false,
                           "raw control character U+%04X inside a string (SAT's Python json rejects it; "
                           "write \\n, \\t or \\u00XX)", ch);
                return;
            }
            if (ch == '\\' && i + 5 < e->val_len && !memcmp(s + i, "\\u0000", 6)) {
                vdiag_node(c, DS_DIAG_ERROR, path, n, false, "\\u0000 inside a string is not supported");
                return;
            }
            if (ch == '\\') i++;
        }
    }
}

static void walk_object(vctx *c, const cJSON *obj, const char *path, int depth);

static const char *last_segment(const char *pattern) {
    const char *d = strrchr(pattern, '.');
    return d ? d + 1 : pattern;
}

/* Keys that apply under a parent, for near misses and required checks. */
static int applicable_children(vctx *c, const char *path, const ds_schema_key **out, int cap) {
    char pat[JPATH_MAX];
    ds_schema_pattern(path, pat, sizeof pat);
    const ds_schema_key *all[256];
    int n = 0, m = 0;
    char par[JPATH_MAX], last[JPATH_MAX], kp[JPATH_MAX];
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        if (!path_split(k->path, par, sizeof par, last, sizeof last) || strcmp(par, pat)) continue;
        if (!strcmp(last, "*") || !strcmp(last, "[]")) continue;
        path_join_key(kp, sizeof kp, path, last);
        if (schema_applies(c->doc, c->bit, k, kp) != APPLY_YES) continue;
        if (n < 256) all[n++] = k;
    }
    for (int i = 0; i < n && m < cap; i++) out[m++] = all[i];
    return m;
}

static void check_member(vctx *c, const cJSON *v, const char *key, const char *path, int depth) {
    char pat[JPATH_MAX];
    ds_schema_pattern(path, pat, sizeof pat);
    const ds_schema_key *rows[16];
    int n = ds_schema_find_all(pat, rows, 16);
    if (n == 0) { /* a map's free key? */
        char parent[JPATH_MAX], last[JPATH_MAX], star[JPATH_MAX];
        if (path_split(pat, parent, sizeof parent, last, sizeof last)) {
            CUT_PRINTF(star, sizeof star, "%s%s*", parent, parent[0] ? "." : "");
            n = ds_schema_find_all(star, rows, 16);
        }
    }
    if (n > 16) n = 16;
    const ds_schema_key *k = NULL, *not_applying = NULL;
    bool unknown = false;
    for (int i = 0; i < n && !k; i++) {
        apply_result r = schema_applies(c->doc, c->bit, rows[i], path);
        if (r == APPLY_YES) k = rows[i];
        else if (r == APPLY_UNKNOWN) unknown = true;
        else if (!not_applying) not_applying = rows[i];
    }
    if (!k) {
        if (unknown) return; /* the discriminator's own problem is reported */
        if (list_full(c, DS_DIAG_WARNING)) return; /* no lookups for uncounted lines */
        char parent[JPATH_MAX], last[JPATH_MAX];
        path_split(path, parent, sizeof parent, last, sizeof last);
        const ds_schema_key *pk = parent[0] ? ds_schema_for_doc(c->doc, parent) : NULL;
        char sat[300] = "SAT ignores it";
        if (pk && (pk->flags & DS_SF_KWARGS))
            CUT_PRINTF(sat, sizeof sat, "SAT passes %s as keyword arguments and would fail on it", parent);
        if (not_applying) {
            char why[300];
            schema_why_not(c->doc, c->bit, not_applying, path, why, sizeof why);
            vdiag_node(c, DS_DIAG_WARNING, path, v, true, "%s (%s)", why, sat);
            return;
        }
        const ds_schema_key *kids[128];
        const char *names[128];
        int m = applicable_children(c, parent, kids, 128);
        for (int i = 0; i < m; i++) names[i] = last_segment(kids[i]->path);
        const char *near = near_miss(key, names, m);
        const char *kw = pk && (pk->flags & DS_SF_KWARGS) ? sat : "";
        if (near)
            vdiag_node(c, DS_DIAG_WARNING, path, v, true, "unknown key \"%s\" (did you mean \"%s\"?); kept as is%s%s",
                       key, near, *kw ? "; " : "", kw);
        else
            vdiag_node(c, DS_DIAG_WARNING, path, v, true, "unknown key \"%s\"; kept as is%s%s", key, *kw ? "; " : "",
                       kw);
        return;
    }
    if (k->flags & DS_SF_IGNORED) vdiag_node(c, DS_DIAG_WARNING, path, v, true, "ignored by SAT: %s", k->help);
    char msg[512];
    if (cJSON_IsNumber(v) || cJSON_IsString(v)) check_raw(c, v, path);
    if (!schema_check_value(c->doc, k, v, msg, sizeof msg)) {
        vdiag_node(c, DS_DIAG_ERROR, path, v, false, "%s", msg);
        return;
    }
    if (k->type == DS_ST_INT_LIST || k->type == DS_ST_NUMBER_LIST || k->type == DS_ST_STRING_LIST ||
        k->type == DS_ST_ID_LIST) {
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char ep[JPATH_MAX];
            path_join_index(ep, sizeof ep, path, i);
            check_raw(c, e, ep);
        }
    }
    if (k->type == DS_ST_OBJECT || k->type == DS_ST_MAP) {
        if (cJSON_IsObject(v)) walk_object(c, v, path, depth + 1);
    } else if (k->type == DS_ST_OBJECT_ARRAY && cJSON_IsArray(v)) {
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char ep[JPATH_MAX];
            path_join_index(ep, sizeof ep, path, i);
            if (!cJSON_IsObject(e)) {
                char got[120];
                describe_value(c->doc, e, got, sizeof got);
                vdiag_node(c, DS_DIAG_ERROR, ep, e, false, "expected an object, got %s", got);
                continue;
            }
            walk_object(c, e, ep, depth + 1);
        }
    }
}

static void walk_object(vctx *c, const cJSON *obj, const char *path, int depth) {
    if (depth > DS_CONFIG_MAX_DEPTH) return;
    int count = 0;
    for (const cJSON *m = obj->child; m; m = m->next) count++;
    for (const cJSON *m = obj->child; m; m = m->next) {
        char mp[JPATH_MAX];
        path_join_key(mp, sizeof mp, path, m->string ? m->string : "");
        if (count <= 2000) /* duplicates: Python's json (SAT) keeps the last one */
            for (const cJSON *o = m->next; o; o = o->next)
                if (o->string && m->string && !strcmp(o->string, m->string)) {
                    vdiag_node(c, DS_DIAG_WARNING, mp, m, true,
                               "duplicate key \"%s\": SAT uses the later value, this one is ignored", m->string);
                    break;
                }
        bool later_dup = false;
        for (const cJSON *o = m->next; o && count <= 2000; o = o->next)
            later_dup |= o->string && m->string && !strcmp(o->string, m->string);
        if (!later_dup) check_member(c, m, m->string ? m->string : "", mp, depth);
    }
    /* missing required / recommended keys */
    char pat[JPATH_MAX];
    ds_schema_pattern(path, pat, sizeof pat);
    const ds_schema_key *kids[256];
    int n = applicable_children(c, path, kids, 256);
    for (int i = 0; i < n; i++) {
        const ds_schema_key *k = kids[i];
        if (!(k->flags & (DS_SF_REQUIRED | DS_SF_RECOMMENDED))) continue;
        const char *name = last_segment(k->path);
        if (obj_get(obj, name)) continue;
        bool dup = false; /* variants of one key: report once */
        for (int j = 0; j < i; j++) dup |= !strcmp(kids[j]->path, k->path);
        if (dup) continue;
        char kp[JPATH_MAX];
        path_join_key(kp, sizeof kp, path, name);
        char exp[300];
        ds_schema_describe(k, exp, sizeof exp);
        if (k->flags & DS_SF_REQUIRED)
            vdiag_node(c, DS_DIAG_ERROR, kp, obj, false, "missing required key \"%s\" (%s)", name, exp);
        else
            vdiag_node(c, DS_DIAG_WARNING, kp, obj, false, "missing key \"%s\": %s", name, k->help);
    }
}

void validate_walk(vctx *c) {
    if (!c->doc || !cJSON_IsObject(c->doc->root)) return;
    walk_object(c, c->doc->root, "", 0);
}
