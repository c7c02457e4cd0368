/* Config documents: reading, parsing (cJSON), the position index, path resolution and the
 * file kind.
 *
 * cJSON builds the tree but keeps no positions. After a successful parse, a scanner walks
 * the source text in lockstep with the tree (same grammar, same order, duplicates included)
 * and records for every node where its key and value text start and end; line and column
 * come from a table of line starts. The raw text also lets the writer keep numbers as they
 * were written. Before cJSON sees the text, a cheap pass refuses NUL bytes, invalid UTF-8
 * and nesting deeper than DS_CONFIG_MAX_DEPTH (cJSON would otherwise recurse 1000 deep). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "core/fileio.h"
#include "engine/log.h"

/* ---- node map: cJSON node → source info (open addressing, pointer keys) ---------------- */

static size_t hash_ptr(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static bool map_grow(node_map *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    node_info *s = calloc(cap, sizeof *s);
    if (!s) return false;
    node_map old = *m;
    m->slots = s;
    m->cap = cap;
    m->used = 0;
    for (size_t i = 0; i < old.cap; i++) {
        node_info *o = &old.slots[i];
        if (!o->node || o->node == NODE_TOMB) continue;
        size_t h = hash_ptr(o->node) & (cap - 1);
        while (s[h].node) h = (h + 1) & (cap - 1);
        s[h] = *o;
        m->used++;
    }
    free(old.slots);
    return true;
}

node_info *doc_info(const ds_config_doc *doc, const cJSON *node) {
    const node_map *m = &doc->map;
    if (!m->cap || !node) return NULL;
    size_t h = hash_ptr(node) & (m->cap - 1);
    for (size_t i = 0; i < m->cap; i++, h = (h + 1) & (m->cap - 1)) {
        if (!m->slots[h].node) return NULL;
        if (m->slots[h].node == node) return &m->slots[h];
    }
    return NULL;
}

node_info *doc_info_add(ds_config_doc *doc, const cJSON *node) {
    node_info *e = doc_info(doc, node);
    if (e) return e;
    node_map *m = &doc->map;
    if ((m->used + 1) * 2 > m->cap && !map_grow(m)) return NULL;
    size_t h = hash_ptr(node) & (m->cap - 1);
    while (m->slots[h].node && m->slots[h].node != NODE_TOMB) h = (h + 1) & (m->cap - 1);
    if (!m->slots[h].node) m->used++;
    memset(&m->slots[h], 0, sizeof m->slots[h]);
    m->slots[h].node = node;
    return &m->slots[h];
}

void doc_info_forget(ds_config_doc *doc, const cJSON *node) {
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next) doc_info_forget(doc, c);
    node_info *e = doc_info(doc, node);
    if (e) {
        free(e->own);
        memset(e, 0, sizeof *e);
        e->node = NODE_TOMB;
    }
}

/* ---- lines and columns ------------------------------------------------------------------ */

static bool build_lines(ds_config_doc *doc) {
    int n = 1;
    for (size_t i = 0; i < doc->len; i++) n += doc->src[i] == '\n';
    doc->line_off = malloc((size_t)n * sizeof *doc->line_off);
    if (!doc->line_off) return false;
    doc->n_lines = 0;
    doc->line_off[doc->n_lines++] = 0;
    for (size_t i = 0; i < doc->len; i++)
        if (doc->src[i] == '\n') doc->line_off[doc->n_lines++] = (uint32_t)(i + 1);
    return true;
}

void doc_linecol(const ds_config_doc *doc, size_t off, int *line, int *col) {
    *line = *col = 0;
    if (!doc->line_off || !doc->n_lines) return;
    if (off > doc->len) off = doc->len;
    int lo = 0, hi = doc->n_lines - 1;
    while (lo < hi) { /* last line start <= off */
        int mid = (lo + hi + 1) / 2;
        if (doc->line_off[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    int c = 1;
    for (size_t i = doc->line_off[lo]; i < off; i++)
        if (((unsigned char)doc->src[i] & 0xC0) != 0x80) c++;
    *line = lo + 1;
    *col = c;
}

/* ---- the pass before cJSON: NUL bytes, UTF-8, nesting depth ----------------------------- */

static int utf8_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
    else return 0;
    if ((size_t)n > avail) return 0;
    unsigned cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Returns false with the offset and message of the first problem. */
static bool prescan(const char *s, size_t len, size_t *at, char *msg, size_t msgn) {
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
        *at = 0;
        CUT_PRINTF(msg, msgn, "the file starts with a UTF-8 byte order mark, which JSON (and SAT's "
                            "Python json) does not accept: save it as UTF-8 without BOM");
        return false;
    }
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) {
            *at = i;
            CUT_PRINTF(msg, msgn, "NUL byte: this is binary data, not a JSON text file");
            return false;
        }
        if (c >= 0x80) {
            int n = utf8_len((const unsigned char *)s + i, len - i);
            if (!n) {
                *at = i;
                CUT_PRINTF(msg, msgn, "invalid UTF-8 (byte 0x%02X): this is not a JSON text file", c);
                return false;
            }
            i += (size_t)n;
            continue;
        }
        if (in_str) {
            if (c == '\\' && i + 1 < len) i++;
            else if (c == '"') in_str = false;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            /* cJSON would skip these as whitespace; JSON and Python's json do not */
            *at = i;
            CUT_PRINTF(msg, msgn, "control character U+%04X outside a string: not a JSON text file", c);
            return false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > DS_CONFIG_MAX_DEPTH) {
                *at = i;
                CUT_PRINTF(msg, msgn, "nesting deeper than %d levels: not a config file",
                         DS_CONFIG_MAX_DEPTH);
                return false;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
        i++;
    }
    return true;
}

/* ---- the lockstep scan: positions of every node ------------------------------------------ */

static size_t skip_ws(const char *s, size_t len, size_t p) {
    while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) p++;
    return p;
}

static size_t skip_string(const char *s, size_t len, size_t p) {
    p++; /* opening quote */
    while (p < len && s[p] != '"') p += (s[p] == '\\') ? 2 : 1;
    return p < len ? p + 1 : len;
}

static bool scan_value(ds_config_doc *doc, size_t *pp, const cJSON *node, size_t key_off,
                       size_t key_len, int depth) {
    const char *s = doc->src;
    size_t len = doc->len, p = skip_ws(s, len, *pp);
    if (p >= len || depth > DS_CONFIG_MAX_DEPTH + 1) return false;
    node_info *e = doc_info_add(doc, node);
    if (!e) return false;
    e->key_off = (uint32_t)key_off;
    e->key_len = (uint32_t)key_len;
    e->val_off = (uint32_t)p;
    if (s[p] == '{' || s[p] == '[') {
        bool obj = s[p] == '{';
        if (obj != cJSON_IsObject(node) || (!obj && !cJSON_IsArray(node))) return false;
        p++;
        for (const cJSON *c = node->child; c; c = c->next) {
            p = skip_ws(s, len, p);
            size_t ko = 0, kl = 0;
            if (obj) {
                if (p >= len || s[p] != '"') return false;
                ko = p;
                p = skip_string(s, len, p);
                kl = p - ko;
                p = skip_ws(s, len, p);
                if (p >= len || s[p] != ':') return false;
                p++;
            }
            if (!scan_value(doc, &p, c, ko, kl, depth + 1)) return false;
            p = skip_ws(s, len, p);
            if (p < len && s[p] == ',') p++;
        }
        p = skip_ws(s, len, p);
        if (p >= len || s[p] != (obj ? '}' : ']')) return false;
        p++;
        e = doc_info(doc, node); /* the map may have grown */
        e->val_len = (uint32_t)(p - e->val_off);
        e->is_inline = memchr(s + e->val_off, '\n', e->val_len) == NULL;
    } else {
        if (s[p] == '"')
            p = skip_string(s, len, p);
        else
            while (p < len && !strchr(" \t\r\n,]}:", s[p])) p++;
        e->val_len = (uint32_t)(p - e->val_off);
        e->is_inline = true;
    }
    *pp = p;
    return true;
}

/* Indent unit: the leading whitespace of the first member of the first multi-line
 * container; "    " (SAT's files) when there is none. */
static void detect_format(ds_config_doc *doc) {
    CUT_PRINTF(doc->indent, sizeof doc->indent, "    ");
    CUT_PRINTF(doc->newline, sizeof doc->newline, "%s", strstr(doc->src, "\r\n") ? "\r\n" : "\n");
    const cJSON *n = doc->root;
    while (n) {
        node_info *e = doc_info(doc, n);
        if (!e) return;
        if (!e->is_inline && n->child) {
            node_info *c = doc_info(doc, n->child);
            if (!c) return;
            size_t at = c->key_len ? c->key_off : c->val_off, ls = at;
            while (ls > 0 && doc->src[ls - 1] != '\n') ls--;
            size_t w = at - ls;
            bool ws = w > 0 && w < sizeof doc->indent;
            for (size_t i = ls; ws && i < at; i++) ws = doc->src[i] == ' ' || doc->src[i] == '\t';
            if (ws) CUT_PRINTF(doc->indent, sizeof doc->indent, "%.*s", (int)w, doc->src + ls);
            return;
        }
        n = n->child;
    }
}

/* ---- syntax errors ------------------------------------------------------------------------ */

static void excerpt(const char *s, size_t len, size_t at, char *out, size_t n) {
    size_t k = 0;
    for (size_t i = at; i < len && i < at + 24 && k + 5 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') break;
        if (c < 0x20 || c == 0x7F) k += (size_t)snprintf(out + k, n - k, "\\x%02X", c);
        else out[k++] = (char)c;
    }
    out[k] = 0;
}

/* ---- loading -------------------------------------------------------------------------------- */

static void fail_diag(ds_diag_list *diags, ds_err *err, ds_status code, const char *file,
                      const ds_config_doc *doc, size_t at, bool located, const char *msg) {
    int line = 0, col = 0;
    if (located && doc) doc_linecol(doc, at, &line, &col);
    ds_diag_add(diags, DS_DIAG_ERROR, file, "", line, col, "%s", msg);
    if (err) {
        if (line)
            ds_err_set(err, code, "%s:%d:%d: %s", file, line, col, msg);
        else
            ds_err_set(err, code, "%s: %s", file, msg);
    }
}

/* Parses text into a document; need_object: refuse anything but an object at the top (files)
 * rather than any JSON value (values given to the editing API). */
ds_status doc_parse_text(const char *text, size_t len, const char *name, bool need_object,
                         ds_config_doc **out, ds_diag_list *diags, ds_err *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    ds_config_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", name);
    CUT_PRINTF(doc->path, sizeof doc->path, "%s", name);
    doc->src = malloc(len + 1);
    if (!doc->src) {
        free(doc);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(doc->src, text, len);
    doc->src[len] = 0;
    doc->len = len;
    if (!build_lines(doc)) {
        ds_config_doc_free(doc);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", name);
    }
    char msg[400];
    size_t at = 0;
    if (skip_ws(doc->src, len, 0) == len) {
        fail_diag(diags, err, DS_ERR_FORMAT, name, doc, 0, false,
                  "the file is empty: expected a JSON object");
        ds_config_doc_free(doc);
        return DS_ERR_FORMAT;
    }
    if (!prescan(doc->src, len, &at, msg, sizeof msg)) {
        fail_diag(diags, err, DS_ERR_FORMAT, name, doc, at, true, msg);
        ds_config_doc_free(doc);
        return DS_ERR_FORMAT;
    }
    const char *end = NULL;
    doc->root = cJSON_ParseWithOpts(doc->src, &end, 1);
    if (!doc->root) {
        size_t cj_at = end && end >= doc->src && end <= doc->src + len ? (size_t)(end - doc->src) : len;
        char why[300], ex[128], full[400];
        describe_syntax_error(doc->src, len, cj_at, &at, why, sizeof why);
        excerpt(doc->src, len, at, ex, sizeof ex);
        if (ex[0])
            CUT_PRINTF(full, sizeof full, "invalid JSON: %s (at '%s')", why, ex);
        else
            CUT_PRINTF(full, sizeof full, "invalid JSON: %s", why);
        fail_diag(diags, err, DS_ERR_FORMAT, name, doc, at, true, full);
        ds_config_doc_free(doc);
        return DS_ERR_FORMAT;
    }
    size_t p = 0;
    if (!scan_value(doc, &p, doc->root, 0, 0, 0)) {
        /* Should not happen (the scanner follows the grammar cJSON accepted); positions are
         * then partial and diagnostics fall back to the nearest indexed ancestor. */
        DS_WARN("%s: position index incomplete", name);
    }
    size_t rend = doc_info(doc, doc->root) ? doc_info(doc, doc->root)->val_off +
                                                 doc_info(doc, doc->root)->val_len
                                           : len;
    doc->trailing = strdup(rend <= len ? doc->src + rend : "");
    detect_format(doc);
    doc->apply_bit = doc_compute_bit(doc);
    if (need_object && !cJSON_IsObject(doc->root)) {
        char got[64];
        describe_value(doc, doc->root, got, sizeof got);
        CUT_PRINTF(msg, sizeof msg, "expected a JSON object at the top level, got %s", got);
        fail_diag(diags, err, DS_ERR_FORMAT, name, doc, skip_ws(doc->src, len, 0), true, msg);
        ds_config_doc_free(doc);
        return DS_ERR_FORMAT;
    }
    *out = doc;
    return DS_OK;
}

ds_status ds_config_doc_parse(const char *text, size_t len, const char *name, ds_config_doc **out,
                              ds_diag_list *diags, ds_err *err) {
    return doc_parse_text(text, len, name, true, out, diags, err);
}

ds_status ds_config_doc_load(const char *path, ds_config_doc **out, ds_diag_list *diags, ds_err *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fail_diag(diags, err, DS_ERR_IO, path, NULL, 0, false,
                  "is a folder, expected a JSON config file");
        return DS_ERR_IO;
    }
    char *text = NULL;
    size_t len = 0;
    ds_err e;
    ds_status s = ds_read_file(path, &text, &len, DS_CONFIG_MAX_BYTES, &e);
    if (s != DS_OK) {
        const char *m = e.msg;
        size_t pl = strlen(path);
        if (!strncmp(m, path, pl) && !strncmp(m + pl, ": ", 2)) m += pl + 2;
        fail_diag(diags, err, s, path, NULL, 0, false, m);
        return s;
    }
    s = ds_config_doc_parse(text, len, path, out, diags, err);
    free(text);
    return s;
}

void ds_config_doc_free(ds_config_doc *doc) {
    if (!doc) return;
    for (size_t i = 0; i < doc->map.cap; i++)
        if (doc->map.slots[i].node && doc->map.slots[i].node != NODE_TOMB) free(doc->map.slots[i].own);
    free(doc->map.slots);
    cJSON_Delete(doc->root);
    free(doc->src);
    free(doc->line_off);
    free(doc->trailing);
    free(doc);
}

const char *ds_config_doc_path(const ds_config_doc *doc) { return doc->path; }
bool ds_config_doc_modified(const ds_config_doc *doc) { return doc->modified; }

/* ---- paths into the tree -------------------------------------------------------------------- */

cJSON *obj_get(const cJSON *obj, const char *key) {
    cJSON *found = NULL;
    if (!cJSON_IsObject(obj)) return NULL;
    for (cJSON *c = obj->child; c; c = c->next)
        if (c->string && !strcmp(c->string, key)) found = c;
    return found;
}

cJSON *doc_resolve(const ds_config_doc *doc, const char *path) {
    cJSON *n = doc->root;
    const char *p = path;
    char key[JPATH_MAX];
    int idx;
    for (;;) {
        seg_kind k = path_next(&p, key, sizeof key, &idx);
        if (k == SEG_END) return n;
        if (!n) return NULL;
        if (k == SEG_KEY)
            n = obj_get(n, key);
        else if (k == SEG_INDEX)
            n = cJSON_IsArray(n) ? cJSON_GetArrayItem(n, idx) : NULL;
        else
            return NULL;
    }
}

const char *doc_str(const ds_config_doc *doc, const char *path) {
    const cJSON *n = doc_resolve(doc, path);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

bool ds_config_doc_locate(const ds_config_doc *doc, const char *path, ds_src_pos *pos) {
    memset(pos, 0, sizeof *pos);
    const cJSON *n = doc_resolve(doc, path);
    node_info *e = n ? doc_info(doc, n) : NULL;
    if (!e || !doc->src || e->dirty) return false;
    doc_linecol(doc, e->val_off, &pos->line, &pos->column);
    if (e->key_len) doc_linecol(doc, e->key_off, &pos->key_line, &pos->key_column);
    return pos->line > 0;
}

void doc_pos_or_parent(const ds_config_doc *doc, const char *path, bool want_key, int *line, int *col) {
    char cur[JPATH_MAX], parent[JPATH_MAX], last[JPATH_MAX];
    CUT_PRINTF(cur, sizeof cur, "%s", path);
    *line = *col = 0;
    for (;;) {
        ds_src_pos pos;
        if (ds_config_doc_locate(doc, cur, &pos)) {
            bool key = want_key && pos.key_line && !strcmp(cur, path);
            *line = key ? pos.key_line : pos.line;
            *col = key ? pos.key_column : pos.column;
            return;
        }
        if (!cur[0] || !path_split(cur, parent, sizeof parent, last, sizeof last)) return;
        CUT_PRINTF(cur, sizeof cur, "%s", parent);
    }
}

bool ds_config_doc_has(const ds_config_doc *doc, const char *path) {
    return doc_resolve(doc, path) != NULL;
}

int ds_config_doc_array_len(const ds_config_doc *doc, const char *path) {
    const cJSON *n = doc_resolve(doc, path);
    return cJSON_IsArray(n) ? cJSON_GetArraySize(n) : -1;
}

bool ds_config_doc_get_json(const ds_config_doc *doc, const char *path, char *buf, size_t n) {
    if (n) buf[0] = 0;
    const cJSON *node = doc_resolve(doc, path);
    if (!node) return false;
    sbuf b = {0};
    doc_compact(doc, node, &b);
    if (n) CUT_PRINTF(buf, n, "%s", b.p ? b.p : "");
    free(b.p);
    return true;
}

/* ---- kinds -------------------------------------------------------------------------------- */

ds_config_kind ds_config_doc_kind(const ds_config_doc *doc) {
    const cJSON *r = doc->root;
    if (obj_get(r, "model_type")) return DS_KIND_MODEL;
    if (obj_get(r, "dataset_type") || obj_get(r, "datasets")) return DS_KIND_DATASET;
    for (const cJSON *c = r ? r->child : NULL; c; c = c->next) {
        const ds_schema_key *k = c->string ? ds_schema_find(c->string, DS_APPLY_STUDIO) : NULL;
        if (k) return DS_KIND_STUDIO;
    }
    if (obj_get(r, "model")) return DS_KIND_MODEL;
    return DS_KIND_UNKNOWN;
}

const char *ds_config_kind_name(ds_config_kind k) {
    switch (k) {
    case DS_KIND_MODEL: return "model config";
    case DS_KIND_DATASET: return "dataset config";
    case DS_KIND_STUDIO: return "studio file";
    case DS_KIND_UNKNOWN: break;
    }
    return "unknown kind of file";
}
