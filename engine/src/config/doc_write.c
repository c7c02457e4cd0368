/* Writing documents back: Python json.dump(indent=N) style, keeping what the source had.
 *
 * Kept from the source: key order (cJSON's), unknown keys, the indent unit, the newline
 * style, the trailing whitespace, the raw text of unchanged numbers and strings ("1e-4"
 * stays "1e-4"), and containers written on one line (emitted verbatim while unchanged, as
 * "[a, b]" / {"k": v} once edited). Everything else: "key": value, one element per line,
 * [] and {} when empty. So a file in canonical form round-trips byte for byte, and so do
 * SAT's hand-formatted files as long as their multi-line parts are canonical. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/fileio.h"

/* ---- growable string ---------------------------------------------------------------------- */

void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

void sb_fmt(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

/* ---- numbers and strings -------------------------------------------------------------------- */

void fmt_py_float(double v, char *buf, size_t n) {
    if (!isfinite(v)) {
        CUT_PRINTF(buf, n, "null");
        return;
    }
    if (v == 0) {
        CUT_PRINTF(buf, n, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) { /* shortest digits that read back as v */
        CUT_PRINTF(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e = "[-]d.ddde[+-]XX": split into sign, digits, exponent */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 23) digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    int exp10 = atoi(p + 1), decpt = exp10 + 1;
    char out[64];
    size_t o = 0;
    if (neg) out[o++] = '-';
    if (decpt <= -4 || decpt > 16) { /* Python's repr switches to exponent notation here */
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -decpt; i++) out[o++] = '0';
        for (int i = 0; i < nd; i++) out[o++] = digits[i];
    } else {
        for (int i = 0; i < decpt; i++) out[o++] = i < nd ? digits[i] : '0';
        out[o++] = '.';
        if (nd > decpt)
            for (int i = decpt; i < nd; i++) out[o++] = digits[i];
        else
            out[o++] = '0';
    }
    out[o] = 0;
    CUT_PRINTF(buf, n, "%s", out);
}

static void emit_string(sbuf *b, const char *s) {
    sb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_add(b, "\\\"", 2); break;
        case '\\': sb_add(b, "\\\\", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\r': sb_add(b, "\\r", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        case '\b': sb_add(b, "\\b", 2); break;
        case '\f': sb_add(b, "\\f", 2); break;
        default:
            if (*p < 0x20)
                sb_fmt(b, "\\u%04x", *p);
            else
                sb_add(b, (const char *)p, 1);
        }
    }
    sb_add(b, "\"", 1);
}

static void emit_number(const ds_config_doc *doc, const cJSON *n, sbuf *b) {
    node_info *e = doc_info(doc, n);
    if (e && e->own) {
        sb_str(b, e->own);
        return;
    }
    double v = n->valuedouble;
    char tmp[64];
    if (v == floor(v) && fabs(v) < 1e16)
        CUT_PRINTF(tmp, sizeof tmp, "%.0f", v);
    else
        fmt_py_float(v, tmp, sizeof tmp);
    sb_str(b, tmp);
}

void describe_value(const ds_config_doc *doc, const cJSON *v, char *buf, size_t n) {
    if (!v) {
        CUT_PRINTF(buf, n, "nothing");
    } else if (cJSON_IsString(v)) {
        sbuf b = {0};
        char cut[48];
        CUT_PRINTF(cut, sizeof cut, "%s", v->valuestring);
        emit_string(&b, cut);
        CUT_PRINTF(buf, n, "%s%s", b.p ? b.p : "\"\"", strlen(v->valuestring) >= sizeof cut - 1 ? "..." : "");
        free(b.p);
    } else if (cJSON_IsNumber(v)) {
        node_info *e = doc ? doc_info(doc, v) : NULL;
        if (e && !e->own && doc->src && e->val_len && !e->dirty)
            CUT_PRINTF(buf, n, "%.*s", (int)(e->val_len < 40 ? e->val_len : 40), doc->src + e->val_off);
        else {
            sbuf b = {0};
            emit_number(doc, v, &b);
            CUT_PRINTF(buf, n, "%s", b.p ? b.p : "?");
            free(b.p);
        }
    } else if (cJSON_IsBool(v)) {
        CUT_PRINTF(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        CUT_PRINTF(buf, n, "null");
    } else if (cJSON_IsArray(v)) {
        CUT_PRINTF(buf, n, "a list");
    } else {
        CUT_PRINTF(buf, n, "an object");
    }
}

/* ---- the writer ----------------------------------------------------------------------------- */

typedef struct wctx {
    const ds_config_doc *doc;
    sbuf *b;
    bool compact; /* everything on one line */
} wctx;

static void newline_indent(wctx *w, int level) {
    sb_str(w->b, w->doc->newline[0] ? w->doc->newline : "\n");
    for (int i = 0; i < level; i++) sb_str(w->b, w->doc->indent);
}

static void emit(wctx *w, const cJSON *n, int level) {
    const ds_config_doc *doc = w->doc;
    node_info *e = doc_info(doc, n);
    bool container = cJSON_IsArray(n) || cJSON_IsObject(n);
    if (e && !e->dirty && !e->own && doc->src && e->val_len && (!container || e->is_inline)) {
        sb_add(w->b, doc->src + e->val_off, e->val_len);
        return;
    }
    if (cJSON_IsString(n)) {
        emit_string(w->b, n->valuestring);
        return;
    }
    if (cJSON_IsNumber(n)) {
        emit_number(doc, n, w->b);
        return;
    }
    if (cJSON_IsBool(n)) {
        sb_str(w->b, cJSON_IsTrue(n) ? "true" : "false");
        return;
    }
    if (!container) {
        sb_str(w->b, "null");
        return;
    }
    bool obj = cJSON_IsObject(n);
    sb_str(w->b, obj ? "{" : "[");
    if (!n->child) {
        sb_str(w->b, obj ? "}" : "]");
        return;
    }
    bool one_line = w->compact || (e && e->is_inline);
    for (const cJSON *c = n->child; c; c = c->next) {
        if (one_line) {
            if (c != n->child) sb_str(w->b, ", ");
        } else {
            if (c != n->child) sb_str(w->b, ",");
            newline_indent(w, level + 1);
        }
        if (obj) {
            node_info *ce = doc_info(doc, c);
            if (ce && ce->key_len && doc->src)
                sb_add(w->b, doc->src + ce->key_off, ce->key_len);
            else
                emit_string(w->b, c->string ? c->string : "");
            sb_str(w->b, ": ");
        }
        emit(w, c, level + 1);
    }
    if (!one_line) newline_indent(w, level);
    sb_str(w->b, obj ? "}" : "]");
}

void doc_compact(const ds_config_doc *doc, const cJSON *node, sbuf *b) {
    wctx w = {.doc = doc, .b = b, .compact = true};
    emit(&w, node, 0);
}

ds_status ds_config_doc_format(const ds_config_doc *doc, char **out, size_t *len, ds_err *err) {
    *out = NULL;
    if (len) *len = 0;
    sbuf b = {0};
    wctx w = {.doc = doc, .b = &b};
    emit(&w, doc->root, 0);
    sb_str(&b, doc->trailing ? doc->trailing : "\n");
    if (b.oom || !b.p) {
        free(b.p);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory while formatting", doc->path);
    }
    *out = b.p;
    if (len) *len = b.n;
    return DS_OK;
}

ds_status ds_config_doc_save(ds_config_doc *doc, const char *path, ds_err *err) {
    const char *target = path ? path : doc->path;
    char *text;
    size_t len;
    DS_TRY(ds_config_doc_format(doc, &text, &len, err));
    ds_status s = ds_write_file_atomic(target, text, len, err);
    if (s == DS_OK) {
        /* Re-read what was written, so positions and raw texts describe the file again. */
        ds_config_doc *fresh = NULL;
        if (ds_config_doc_parse(text, len, target, &fresh, NULL, NULL) == DS_OK) {
            ds_config_doc tmp = *doc;
            *doc = *fresh;
            *fresh = tmp;
            ds_config_doc_free(fresh);
        } else {
            CUT_PRINTF(doc->path, sizeof doc->path, "%s", target);
        }
    }
    free(text);
    return s;
}
