/* The config editor's model (see cfgtree.h). */
#include "cfgtree.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- paths ---------------------------------------------------------------------------------- */

/* End offsets of each segment of a path ("a.b[2].c" → ends of "a", "a.b", "a.b[2]",
 * "a.b[2].c"). Returns the count. */
static int segments(const char *p, int *ends, int cap) {
    int n = 0, i = 0, len = (int)strlen(p);
    while (i < len && n < cap) {
        if (p[i] == '.') i++;
        if (p[i] == '[') {
            if (p[i + 1] == '"') {
                i += 2;
                while (i < len && !(p[i] == '"' && p[i + 1] == ']')) i += p[i] == '\\' ? 2 : 1;
                i += 2;
            } else {
                while (i < len && p[i] != ']') i++;
                i++;
            }
        } else {
            while (i < len && p[i] != '.' && p[i] != '[') i++;
        }
        if (i > len) i = len;
        ends[n++] = i;
    }
    return n;
}

void cfg_path_parent(const char *path, char *out, size_t n) {
    int ends[64];
    int k = segments(path, ends, 64);
    snprintf(out, n, "%.*s", k >= 2 ? ends[k - 2] : 0, path);
}

/* The last segment as a label: key, ["quoted key"] unquoted, or [N]. */
static void seg_label(const char *p, int start, int end, char *out, size_t n) {
    if (p[start] == '.') start++;
    if (p[start] == '[' && p[start + 1] == '"')
        snprintf(out, n, "%.*s", end - start - 4, p + start + 2);
    else
        snprintf(out, n, "%.*s", end - start, p + start);
}

static bool is_index_seg(const char *p, int start) {
    if (p[start] == '.') start++;
    return p[start] == '[' && p[start + 1] != '"';
}

/* ---- rows ----------------------------------------------------------------------------------- */

static cfg_row *new_row(cfg_doc *d) {
    if (d->n_rows == d->cap_rows) {
        int cap = d->cap_rows ? 2 * d->cap_rows : 256;
        cfg_row *r = realloc(d->rows, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        d->rows = r;
        d->cap_rows = cap;
    }
    cfg_row *r = &d->rows[d->n_rows++];
    memset(r, 0, sizeof *r);
    r->problem = -1;
    return r;
}

/* Elements with free keys (a [].* row and nothing else): table rows. */
static bool table_element(const char *elem_path) {
    char pat[CFG_PATH + 8];
    ds_schema_pattern(elem_path, pat, sizeof pat - 3);
    strcat(pat, ".*");
    return ds_schema_find(pat, ~0u) != NULL;
}

static void summary_table(const cfg_doc *d, const char *path, char *out, size_t n) {
    char json[1024];
    out[0] = 0;
    if (!ds_config_doc_get_json(d->doc, path, json, sizeof json)) return;
    cJSON *j = cJSON_Parse(json);
    size_t off = 0;
    for (const cJSON *c = j ? j->child : NULL; c && off < n; c = c->next) {
        char *t = cJSON_IsString(c) ? NULL : cJSON_PrintUnformatted(c);
        off += (size_t)snprintf(out + off, n - off, "%s%s: %s", off ? "  " : "", c->string ? c->string : "?",
                                t ? t : c->valuestring ? c->valuestring : "");
        cJSON_free(t);
    }
    cJSON_Delete(j);
}

static void str_at(const cfg_doc *d, const char *path, char *out, size_t n) {
    char json[512];
    out[0] = 0;
    if (!ds_config_doc_get_json(d->doc, path, json, sizeof json)) return;
    cJSON *j = cJSON_Parse(json);
    if (cJSON_IsString(j)) snprintf(out, n, "%s", j->valuestring);
    cJSON_Delete(j);
}

static void summary_element(const cfg_doc *d, const char *path, char *out, size_t n) {
    char p[CFG_PATH + 16], id[128], type[64];
    snprintf(p, sizeof p, "%s.id", path);
    str_at(d, p, id, sizeof id);
    snprintf(p, sizeof p, "%s.type", path);
    str_at(d, p, type, sizeof type);
    if (id[0] && type[0])
        snprintf(out, n, "%s (%s)", id, type);
    else
        snprintf(out, n, "%s", id[0] ? id : type);
}

typedef struct build_ctx {
    cfg_doc *d;
    char open[32][CFG_PATH]; /* the sections currently open, by depth */
    int n_open;
    char skip[CFG_PATH]; /* rows under this table element are folded into it */
} build_ctx;

static void add_section(build_ctx *b, const char *path, int plen, int start, int depth) {
    cfg_doc *d = b->d;
    cfg_row *r = new_row(d);
    if (!r) return;
    snprintf(r->path, sizeof r->path, "%.*s", plen, path);
    seg_label(path, start, plen, r->label, sizeof r->label);
    r->depth = depth;
    r->in_file = ds_config_doc_has(d->doc, r->path);
    r->key = ds_schema_for_doc(d->doc, r->path);
    if (is_index_seg(path, start)) {
        if (table_element(r->path)) {
            r->kind = CFG_ROW_TABLE;
            summary_table(d, r->path, r->value, sizeof r->value);
            snprintf(b->skip, sizeof b->skip, "%s", r->path);
        } else {
            r->kind = CFG_ROW_ELEMENT;
            summary_element(d, r->path, r->value, sizeof r->value);
        }
    } else {
        r->kind = CFG_ROW_SECTION;
    }
}

static bool under(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    return n && !strncmp(path, prefix, n) && (path[n] == '.' || path[n] == '[');
}

static void each_entry(const ds_effective_entry *e, void *user) {
    build_ctx *b = user;
    if (b->skip[0] && under(e->path, b->skip)) return;
    b->skip[0] = 0;
    int ends[32];
    int k = segments(e->path, ends, 32);
    if (k == 0) return;
    for (int j = 0; j < k - 1; j++) {
        char prefix[CFG_PATH];
        snprintf(prefix, sizeof prefix, "%.*s", ends[j], e->path);
        if (j < b->n_open && !strcmp(b->open[j], prefix)) continue;
        b->n_open = j;
        snprintf(b->open[b->n_open++], CFG_PATH, "%s", prefix);
        add_section(b, e->path, ends[j], j ? ends[j - 1] : 0, j);
        if (b->skip[0]) return; /* a table row: its keys are in its summary */
    }
    b->n_open = k - 1;
    cfg_row *r = new_row(b->d);
    if (!r) return;
    snprintf(r->path, sizeof r->path, "%s", e->path);
    seg_label(e->path, k >= 2 ? ends[k - 2] : 0, ends[k - 1], r->label, sizeof r->label);
    snprintf(r->value, sizeof r->value, "%s", e->value && e->value[0] ? e->value : "(not set)");
    r->depth = k - 1;
    r->kind = CFG_ROW_LEAF;
    r->is_default = e->is_default;
    r->is_derived = e->is_derived;
    r->in_file = !e->is_default;
    r->key = e->key;
}

static bool diag_here(const cfg_doc *d, const ds_diag *g) {
    return !g->file[0] || !strcmp(g->file, d->path) || !strcmp(g->file, ds_config_doc_path(d->doc));
}

static void mark_problems(cfg_doc *d) {
    for (int i = 0; i < d->diags.n; i++) {
        const ds_diag *g = &d->diags.items[i];
        if (!diag_here(d, g)) continue;
        for (int r = 0; r < d->n_rows; r++) {
            cfg_row *row = &d->rows[r];
            bool hit = !strcmp(row->path, g->path) || under(g->path, row->path);
            if (!hit) continue;
            if (row->problem < 0 || (int)g->severity < row->problem) row->problem = (int)g->severity;
        }
    }
}

static char *format_doc(const ds_config_doc *doc) {
    char *t = NULL;
    size_t n;
    if (ds_config_doc_format(doc, &t, &n, NULL) != DS_OK) return NULL;
    return t;
}

static void refresh(cfg_doc *d) {
    d->n_rows = 0;
    build_ctx *b = calloc(1, sizeof *b);
    if (b) {
        b->d = d;
        ds_config_doc_each_effective(d->doc, each_entry, b);
        free(b);
    }
    ds_diag_list_free(&d->diags);
    ds_diag_list_init(&d->diags);
    ds_config_doc_validate(d->doc, &d->diags);
    mark_problems(d);
    char *now = format_doc(d->doc);
    d->modified = !now || !d->saved || strcmp(now, d->saved) != 0;
    free(now);
    d->version++;
}

/* ---- open / close --------------------------------------------------------------------------- */

static ds_status adopt(cfg_doc *d, ds_config_doc *doc) {
    ds_config_doc_free(d->doc);
    d->doc = doc;
    snprintf(d->path, sizeof d->path, "%s", ds_config_doc_path(doc));
    return DS_OK;
}

ds_status cfg_doc_open(cfg_doc *d, const char *path, ds_err *err) {
    memset(d, 0, sizeof *d);
    ds_diag_list_init(&d->diags);
    ds_config_doc *doc = NULL;
    DS_TRY(ds_config_doc_load(path, &doc, NULL, err));
    adopt(d, doc);
    d->saved = format_doc(doc);
    refresh(d);
    return DS_OK;
}

ds_status cfg_doc_open_text(cfg_doc *d, const char *text, const char *path, ds_err *err) {
    memset(d, 0, sizeof *d);
    ds_diag_list_init(&d->diags);
    ds_config_doc *doc = NULL;
    DS_TRY(ds_config_doc_parse(text, strlen(text), path, &doc, NULL, err));
    adopt(d, doc);
    d->saved = format_doc(doc);
    refresh(d);
    return DS_OK;
}

static void clear_stack(char **v, int *n) {
    for (int i = 0; i < *n; i++) free(v[i]);
    *n = 0;
}

void cfg_doc_close(cfg_doc *d) {
    ds_config_doc_free(d->doc);
    free(d->saved);
    clear_stack(d->undo, &d->n_undo);
    clear_stack(d->redo, &d->n_redo);
    ds_diag_list_free(&d->diags);
    free(d->rows);
    memset(d, 0, sizeof *d);
}

ds_config_kind cfg_doc_kind(const cfg_doc *d) { return d->doc ? ds_config_doc_kind(d->doc) : DS_KIND_UNKNOWN; }

/* ---- edits ---------------------------------------------------------------------------------- */

static void push(char **v, int *n, char *text) {
    if (*n == CFG_UNDO_MAX) {
        free(v[0]);
        memmove(v, v + 1, (size_t)(CFG_UNDO_MAX - 1) * sizeof *v);
        (*n)--;
    }
    v[(*n)++] = text;
}

/* Replaces the document by the parse of text (keeping its path). */
static bool restore(cfg_doc *d, const char *text) {
    ds_config_doc *doc = NULL;
    if (ds_config_doc_parse(text, strlen(text), d->path, &doc, NULL, NULL) != DS_OK) return false;
    adopt(d, doc);
    return true;
}

ds_status cfg_doc_apply(cfg_doc *d, const cfg_op *ops, int n, ds_err *err) {
    char *before = format_doc(d->doc);
    if (!before) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    ds_status s = DS_OK;
    for (int i = 0; i < n && s == DS_OK; i++) {
        switch (ops[i].kind) {
        case CFG_OP_SET: s = ds_config_doc_set_json(d->doc, ops[i].path, ops[i].json, err); break;
        case CFG_OP_DELETE: s = ds_config_doc_delete(d->doc, ops[i].path, err); break;
        case CFG_OP_ADD_DEFAULT: s = ds_config_doc_add_default(d->doc, ops[i].path, err); break;
        }
    }
    if (s != DS_OK) {
        restore(d, before);
        free(before);
        refresh(d);
        return s;
    }
    push(d->undo, &d->n_undo, before);
    clear_stack(d->redo, &d->n_redo);
    refresh(d);
    return DS_OK;
}

ds_status cfg_doc_set(cfg_doc *d, const char *path, const char *json, ds_err *err) {
    cfg_op op = {CFG_OP_SET, path, json};
    return cfg_doc_apply(d, &op, 1, err);
}

ds_status cfg_doc_delete(cfg_doc *d, const char *path, ds_err *err) {
    cfg_op op = {CFG_OP_DELETE, path, NULL};
    return cfg_doc_apply(d, &op, 1, err);
}

static bool step(cfg_doc *d, char **from, int *n_from, char **to, int *n_to) {
    if (*n_from == 0) return false;
    char *now = format_doc(d->doc);
    if (!now) return false;
    char *text = from[*n_from - 1];
    if (!restore(d, text)) {
        free(now);
        return false;
    }
    (*n_from)--;
    free(text);
    push(to, n_to, now);
    refresh(d);
    return true;
}

bool cfg_doc_undo(cfg_doc *d) { return step(d, d->undo, &d->n_undo, d->redo, &d->n_redo); }
bool cfg_doc_redo(cfg_doc *d) { return step(d, d->redo, &d->n_redo, d->undo, &d->n_undo); }

ds_status cfg_doc_save(cfg_doc *d, const char *path, ds_err *err) {
    DS_TRY(ds_config_doc_save(d->doc, path, err));
    snprintf(d->path, sizeof d->path, "%s", ds_config_doc_path(d->doc));
    free(d->saved);
    d->saved = format_doc(d->doc);
    refresh(d);
    return DS_OK;
}

ds_status cfg_doc_revert(cfg_doc *d, ds_err *err) {
    ds_config_doc *doc = NULL;
    DS_TRY(ds_config_doc_load(d->path, &doc, NULL, err));
    char *now = format_doc(d->doc);
    if (now) {
        push(d->undo, &d->n_undo, now);
        clear_stack(d->redo, &d->n_redo);
    }
    adopt(d, doc);
    free(d->saved);
    d->saved = format_doc(doc);
    refresh(d);
    return DS_OK;
}

/* ---- queries -------------------------------------------------------------------------------- */

int cfg_doc_find_row(const cfg_doc *d, const char *path) {
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < d->n_rows; i++) {
        const char *p = d->rows[i].path;
        if (!strcmp(p, path)) return i;
        size_t n = strlen(p);
        if (n > best_len && under(path, p)) {
            best = i;
            best_len = n;
        }
    }
    return best;
}

int cfg_doc_search(const cfg_doc *d, const char *text, int from) {
    if (!text[0] || d->n_rows == 0) return -1;
    for (int k = 1; k <= d->n_rows; k++) {
        int i = ((from < 0 ? -1 : from) + k) % d->n_rows;
        const char *p = d->rows[i].path;
        size_t tn = strlen(text);
        for (const char *s = p; *s; s++)
            if (!strncasecmp(s, text, tn)) return i;
    }
    return -1;
}

int cfg_doc_visible(const cfg_doc *d, char (*folded)[CFG_PATH], int n_folded, bool hide_defaults, int *out) {
    int n = 0, skip_depth = -1;
    for (int i = 0; i < d->n_rows; i++) {
        const cfg_row *r = &d->rows[i];
        if (skip_depth >= 0) {
            if (r->depth > skip_depth) continue;
            skip_depth = -1;
        }
        if (hide_defaults && r->kind == CFG_ROW_LEAF && r->is_default) continue;
        out[n++] = i;
        if (r->kind != CFG_ROW_LEAF && r->kind != CFG_ROW_TABLE)
            for (int f = 0; f < n_folded; f++)
                if (!strcmp(folded[f], r->path)) {
                    skip_depth = r->depth;
                    break;
                }
    }
    return n;
}

int cfg_doc_conditioners(const cfg_doc *d, char (*ids)[64], char (*types)[32], int cap) {
    int n = ds_config_doc_array_len(d->doc, "model.conditioning.configs"), m = 0;
    for (int i = 0; i < n && m < cap; i++) {
        char p[96];
        snprintf(p, sizeof p, "model.conditioning.configs[%d].id", i);
        str_at(d, p, ids[m], 64);
        snprintf(p, sizeof p, "model.conditioning.configs[%d].type", i);
        if (types) str_at(d, p, types[m], 32);
        if (ids[m][0]) m++;
    }
    return m;
}

int cfg_doc_cond_options(const cfg_doc *d, const char *id, char (*opts)[64], int cap) {
    char ids[32][64];
    int n = ds_config_doc_array_len(d->doc, "model.conditioning.configs");
    for (int i = 0; i < n && i < 32; i++) {
        char p[128], json[8192];
        snprintf(p, sizeof p, "model.conditioning.configs[%d].id", i);
        str_at(d, p, ids[i], 64);
        if (strcmp(ids[i], id)) continue;
        snprintf(p, sizeof p, "model.conditioning.configs[%d].config.options", i);
        if (!ds_config_doc_get_json(d->doc, p, json, sizeof json)) return 0;
        cJSON *j = cJSON_Parse(json);
        int m = 0;
        for (const cJSON *c = j ? j->child : NULL; c && m < cap; c = c->next)
            if (cJSON_IsString(c)) snprintf(opts[m++], 64, "%s", c->valuestring);
        cJSON_Delete(j);
        return m;
    }
    return 0;
}

int cfg_doc_addable(const cfg_doc *d, const char *obj_path, const ds_schema_key **keys, char (*paths)[CFG_PATH],
                    int cap) {
    char pat[CFG_PATH];
    ds_schema_pattern(obj_path, pat, sizeof pat);
    const ds_schema_key *rows[256];
    int n = ds_schema_children(pat, rows, 256), m = 0;
    if (n > 256) n = 256;
    for (int i = 0; i < n && m < cap; i++) {
        const char *last = strrchr(rows[i]->path, '.');
        last = last ? last + 1 : rows[i]->path;
        if (!strcmp(last, "*") || strchr(last, '[') || (rows[i]->flags & DS_SF_IGNORED)) continue;
        char p[CFG_PATH];
        snprintf(p, sizeof p, "%s%s%s", obj_path, obj_path[0] ? "." : "", last);
        const ds_schema_key *k = ds_schema_for_doc(d->doc, p);
        if (k != rows[i] || ds_config_doc_has(d->doc, p)) continue;
        bool dup = false;
        for (int j = 0; j < m && !dup; j++) dup = !strcmp(paths[j], p);
        if (dup) continue;
        keys[m] = k;
        snprintf(paths[m], CFG_PATH, "%s", p);
        m++;
    }
    return m;
}

void cfg_row_object(const cfg_row *r, char *out, size_t n) {
    if (r->kind == CFG_ROW_SECTION || r->kind == CFG_ROW_ELEMENT)
        snprintf(out, n, "%s", r->path);
    else
        cfg_path_parent(r->path, out, n);
}

cfg_editor cfg_editor_for(const cfg_row *r, ui_edit_kind *kind) {
    *kind = UI_EDIT_JSON;
    if (r->kind == CFG_ROW_TABLE) return CFG_ED_ROW;
    const ds_schema_key *k = r->key;
    char elem[CFG_PATH + 8];
    snprintf(elem, sizeof elem, "%s[0]", r->path);
    if (r->kind != CFG_ROW_LEAF)
        return k && k->type == DS_ST_OBJECT_ARRAY && table_element(elem) ? CFG_ED_ROWS : CFG_ED_NONE;
    if (!k) {
        *kind = UI_EDIT_JSON;
        return CFG_ED_TEXT;
    }
    switch (k->type) {
    case DS_ST_INT: *kind = UI_EDIT_INT; return CFG_ED_TEXT;
    case DS_ST_NUMBER: *kind = UI_EDIT_NUMBER; return CFG_ED_TEXT;
    case DS_ST_BOOL: return CFG_ED_BOOL;
    case DS_ST_STRING: *kind = UI_EDIT_TEXT; return CFG_ED_TEXT;
    case DS_ST_ENUM: return CFG_ED_CHOICE;
    case DS_ST_INT_LIST: *kind = UI_EDIT_INT_LIST; return CFG_ED_TEXT;
    case DS_ST_NUMBER_LIST: *kind = UI_EDIT_NUMBER_LIST; return CFG_ED_TEXT;
    case DS_ST_STRING_LIST: *kind = UI_EDIT_STRING_LIST; return CFG_ED_TEXT;
    case DS_ST_ID_LIST: return CFG_ED_IDS;
    case DS_ST_SCALAR: *kind = UI_EDIT_SCALAR; return CFG_ED_TEXT;
    case DS_ST_OBJECT_ARRAY: return table_element(elem) ? CFG_ED_ROWS : CFG_ED_TEXT;
    default: *kind = UI_EDIT_JSON; return CFG_ED_TEXT;
    }
}

void cfg_doc_new_table_row(const cfg_doc *model, char *out, size_t n) {
    char ids[DS_MAX_CONDITIONERS][64], types[DS_MAX_CONDITIONERS][32];
    int k = cfg_doc_conditioners(model, ids, types, DS_MAX_CONDITIONERS);
    size_t off = (size_t)snprintf(out, n, "{");
    for (int i = 0; i < k && off < n; i++) {
        char val[128] = "\"\"";
        if (!strcmp(types[i], "list")) {
            char opts[1][64];
            if (cfg_doc_cond_options(model, ids[i], opts, 1) == 1) {
                cJSON *s = cJSON_CreateString(opts[0]);
                char *t = s ? cJSON_PrintUnformatted(s) : NULL;
                if (t) snprintf(val, sizeof val, "%s", t);
                cJSON_free(t);
                cJSON_Delete(s);
            }
        } else if (!strcmp(types[i], "number") || !strcmp(types[i], "int")) {
            snprintf(val, sizeof val, "1");
        }
        cJSON *key = cJSON_CreateString(ids[i]);
        char *kt = key ? cJSON_PrintUnformatted(key) : NULL;
        off += (size_t)snprintf(out + off, n - off, "%s%s: %s", i ? ", " : "", kt ? kt : "\"?\"", val);
        cJSON_free(kt);
        cJSON_Delete(key);
    }
    if (off < n) snprintf(out + off, n - off, "}");
}
