/* Schema lookups and evaluation: which row applies where, value checks against a row, and
 * the wording of "expected ..." and "did you mean ...". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

/* ---- '|'-separated lists ------------------------------------------------------------------ */

int list_index(const char *list, const char *value) {
    if (!list || !value) return -1;
    size_t vl = strlen(value);
    int i = 0;
    for (const char *p = list;; i++) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == vl && !memcmp(p, value, vl)) return i;
        if (!e) return -1;
        p = e + 1;
    }
}

bool list_has(const char *list, const char *value) { return list_index(list, value) >= 0; }

/* ---- near misses -------------------------------------------------------------------------- */

int edit_distance(const char *a, const char *b) {
    enum { M = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= M || lb >= M) return la == lb && !strcmp(a, b) ? 0 : 99;
    int d[M + 1][M + 1];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1; /* transposition */
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *near_miss(const char *word, const char *const *cands, int n) {
    const char *best = NULL;
    int bestd = 99;
    size_t wl = strlen(word);
    int limit = wl <= 4 ? 1 : wl <= 8 ? 2 : 3;
    for (int i = 0; i < n; i++) {
        if (!cands[i] || !strcmp(cands[i], word)) continue;
        int d = edit_distance(word, cands[i]);
        /* a prefix/suffix of a long name also counts ("heads" for "num_heads") */
        size_t cl = strlen(cands[i]);
        if (d > limit && wl >= 4 && cl > wl &&
            (!strncmp(cands[i], word, wl) || !strcmp(cands[i] + cl - wl, word)))
            d = limit;
        if (d <= limit && d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

/* ---- lookups ------------------------------------------------------------------------------ */

static void to_pattern(const char *path, char *out, size_t n) { ds_schema_pattern(path, out, n); }

const ds_schema_key *ds_schema_find(const char *path, unsigned applies) {
    char pat[JPATH_MAX];
    to_pattern(path, pat, sizeof pat);
    for (int i = 0; i < ds_schema_count; i++)
        if ((ds_schema[i].applies & applies) && !strcmp(ds_schema[i].path, pat)) return &ds_schema[i];
    return NULL;
}

int ds_schema_find_all(const char *path, const ds_schema_key **out, int cap) {
    char pat[JPATH_MAX];
    to_pattern(path, pat, sizeof pat);
    int n = 0;
    for (int i = 0; i < ds_schema_count; i++)
        if (!strcmp(ds_schema[i].path, pat)) {
            if (n < cap) out[n] = &ds_schema[i];
            n++;
        }
    return n;
}

int ds_schema_children(const char *parent, const ds_schema_key **out, int cap) {
    char pat[JPATH_MAX], par[JPATH_MAX], last[JPATH_MAX];
    to_pattern(parent, pat, sizeof pat);
    int n = 0;
    for (int i = 0; i < ds_schema_count; i++) {
        if (!path_split(ds_schema[i].path, par, sizeof par, last, sizeof last)) continue;
        if (strcmp(par, pat)) continue;
        bool dup = false; /* one entry per key name (variants share a name) */
        for (int j = 0; j < n && j < cap; j++) dup |= !strcmp(out[j]->path, ds_schema[i].path);
        if (dup) continue;
        if (n < cap) out[n] = &ds_schema[i];
        n++;
    }
    return n;
}

int ds_schema_element_keys(const char *array_path, const ds_schema_key **out, int cap) {
    char pat[JPATH_MAX], el[JPATH_MAX];
    to_pattern(array_path, pat, sizeof pat);
    CUT_PRINTF(el, sizeof el, "%s[]", pat);
    return ds_schema_children(el, out, cap);
}

/* ---- applicability ------------------------------------------------------------------------ */

unsigned doc_apply_bit(const ds_config_doc *doc) { return doc->apply_bit; }

unsigned doc_compute_bit(const ds_config_doc *doc) {
    switch (ds_config_doc_kind(doc)) {
    case DS_KIND_DATASET: return DS_APPLY_DATASET;
    case DS_KIND_STUDIO: return DS_APPLY_STUDIO;
    case DS_KIND_MODEL: {
        const char *t = doc_str(doc, "model_type");
        if (!t) return 0;
        static const struct { const char *name; unsigned bit; } map[] = {
            {"diffusion_cond", DS_APPLY_COND},     {"diffusion_cond_inpaint", DS_APPLY_INPAINT},
            {"diffusion_uncond", DS_APPLY_UNCOND}, {"autoencoder", DS_APPLY_AE},
            {"diffusion_autoencoder", DS_APPLY_OTHER}, {"lm", DS_APPLY_OTHER},
        };
        for (size_t i = 0; i < sizeof map / sizeof *map; i++)
            if (!strcmp(t, map[i].name)) return map[i].bit;
        return 0;
    }
    case DS_KIND_UNKNOWN: break;
    }
    return 0;
}

const char *apply_bit_name(unsigned bit) {
    switch (bit) {
    case DS_APPLY_COND: return "model_type diffusion_cond";
    case DS_APPLY_INPAINT: return "model_type diffusion_cond_inpaint";
    case DS_APPLY_UNCOND: return "model_type diffusion_uncond";
    case DS_APPLY_AE: return "model_type autoencoder";
    case DS_APPLY_OTHER: return "this model_type";
    case DS_APPLY_DATASET: return "dataset configs";
    case DS_APPLY_STUDIO: return "studio files";
    }
    return "this file";
}

/* The discriminator row of a row (to know the discriminator's valid values). */
static const ds_schema_key *disc_row(const ds_schema_key *k, unsigned bit) {
    return ds_schema_find(k->when_key, bit ? bit : ~0u);
}

apply_result schema_applies(const ds_config_doc *doc, unsigned bit, const ds_schema_key *k,
                            const char *path) {
    if (!(k->applies & bit)) return APPLY_NO;
    if (!k->when_key) return APPLY_YES;
    char dpath[JPATH_MAX];
    path_subst(k->when_key, path, dpath, sizeof dpath);
    const char *v = doc ? doc_str(doc, dpath) : NULL;
    if (!v) return APPLY_UNKNOWN;
    bool in = list_has(k->when_in, v);
    if (k->flags & DS_SF_WHEN_NOT) return in ? APPLY_NO : APPLY_YES;
    if (in) return APPLY_YES;
    const ds_schema_key *d = disc_row(k, bit);
    if (d && d->type == DS_ST_ENUM && !(d->flags & DS_SF_OPEN_ENUM) && !list_has(d->choices, v))
        return APPLY_UNKNOWN; /* invalid discriminator: reported on its own */
    return APPLY_NO;
}

void schema_why_not(const ds_config_doc *doc, unsigned bit, const ds_schema_key *k, const char *path,
                    char *buf, size_t n) {
    if (!(k->applies & bit)) {
        CUT_PRINTF(buf, n, "not used by %s", apply_bit_name(bit));
        return;
    }
    char dpath[JPATH_MAX];
    path_subst(k->when_key ? k->when_key : "", path, dpath, sizeof dpath);
    const char *v = doc_str(doc, dpath);
    CUT_PRINTF(buf, n, "not used when %s is \"%s\"", dpath, v ? v : "?");
}

/* ---- describing expectations and values ----------------------------------------------------- */

static void fmt_num(double v, char *buf, size_t n) {
    if (v == floor(v) && fabs(v) < 1e15)
        CUT_PRINTF(buf, n, "%.0f", v);
    else
        CUT_PRINTF(buf, n, "%g", v);
}

static void describe_range(const ds_schema_key *k, const char *what, char *buf, size_t n) {
    char lo[32], hi[32];
    fmt_num(k->min, lo, sizeof lo);
    fmt_num(k->max, hi, sizeof hi);
    bool inf_hi = k->max >= 2147483647.0 || k->max >= 1e29;
    bool minx = k->flags & DS_SF_MIN_EXCL, maxx = k->flags & DS_SF_MAX_EXCL;
    if (!k->has_range)
        CUT_PRINTF(buf, n, "%s", what);
    else if (inf_hi && k->min == 0 && minx)
        CUT_PRINTF(buf, n, "%s > 0", what);
    else if (inf_hi && k->min == 1 && k->type != DS_ST_NUMBER && !minx)
        CUT_PRINTF(buf, n, "%s > 0", what);
    else if (inf_hi)
        CUT_PRINTF(buf, n, "%s %s %s", what, minx ? ">" : ">=", lo);
    else if (k->type == DS_ST_INT || k->type == DS_ST_INT_LIST)
        CUT_PRINTF(buf, n, "%s from %s to %s", what, lo, hi);
    else
        CUT_PRINTF(buf, n, "%s in %s%s, %s%s", what, minx ? "(" : "[", lo, hi, maxx ? ")" : "]");
}

void ds_schema_describe(const ds_schema_key *k, char *buf, size_t n) {
    char tmp[256];
    switch (k->type) {
    case DS_ST_INT: describe_range(k, "an integer", buf, n); break;
    case DS_ST_NUMBER: describe_range(k, "a number", buf, n); break;
    case DS_ST_BOOL: snprintf(buf, n, "true or false"); break;
    case DS_ST_STRING:
        if (k->has_range && k->max < 1e6)
            CUT_PRINTF(buf, n, "a string of %.0f to %.0f bytes", k->min, k->max);
        else if (k->has_range && k->min >= 1)
            CUT_PRINTF(buf, n, "a non-empty string");
        else
            CUT_PRINTF(buf, n, "a string");
        break;
    case DS_ST_ENUM: {
        size_t o = (size_t)snprintf(buf, n, "one of ");
        int i = 0;
        for (const char *p = k->choices; p && *p && o < n; i++) {
            const char *e = strchr(p, '|');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            o += (size_t)snprintf(buf + o, n - o, "%s\"%.*s\"", i ? ", " : "", (int)l, p);
            if (!e) break;
            p = e + 1;
        }
        break;
    }
    case DS_ST_INT_LIST:
        describe_range(k, "integers", tmp, sizeof tmp);
        CUT_PRINTF(buf, n, "a list of %s", tmp);
        break;
    case DS_ST_NUMBER_LIST:
        describe_range(k, "numbers", tmp, sizeof tmp);
        CUT_PRINTF(buf, n, "a list of %s", tmp);
        break;
    case DS_ST_STRING_LIST: snprintf(buf, n, "a list of strings"); break;
    case DS_ST_ID_LIST: snprintf(buf, n, "a list of conditioner ids"); break;
    case DS_ST_OBJECT:
    case DS_ST_MAP: snprintf(buf, n, "an object"); break;
    case DS_ST_OBJECT_ARRAY: snprintf(buf, n, "a list of objects"); break;
    case DS_ST_SCALAR: snprintf(buf, n, "a string, number or boolean"); break;
    case DS_ST_ANY: snprintf(buf, n, "any JSON value"); break;
    }
    if ((k->flags & DS_SF_NULLABLE) && k->type != DS_ST_ANY) {
        size_t l = strlen(buf);
        if (l + 9 < n) CUT_PRINTF(buf + l, n - l, " or null");
    }
}

const char *ds_schema_type_name(ds_schema_type t) {
    static const char *const names[] = {"int", "number", "bool", "string", "enum", "int list",
                                        "number list", "string list", "id list", "object",
                                        "object list", "map", "scalar", "any"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

void ds_schema_describe_applies(const ds_schema_key *k, char *buf, size_t n) {
    static const struct { unsigned bit; const char *name; } names[] = {
        {DS_APPLY_COND, "diffusion_cond"},       {DS_APPLY_INPAINT, "diffusion_cond_inpaint"},
        {DS_APPLY_UNCOND, "diffusion_uncond"},   {DS_APPLY_AE, "autoencoder"},
        {DS_APPLY_OTHER, "other model types"},   {DS_APPLY_DATASET, "dataset config"},
        {DS_APPLY_STUDIO, "studio file"},
    };
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names && o < n; i++)
        if (k->applies & names[i].bit)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", names[i].name);
    if (k->when_key && o < n)
        CUT_PRINTF(buf + o, n - o, "; when %s is %s%s", k->when_key,
                 k->flags & DS_SF_WHEN_NOT ? "not " : "", k->when_in);
}

/* ---- value checks -------------------------------------------------------------------------- */

static bool in_range(const ds_schema_key *k, double v) {
    if (!isfinite(v)) return false;
    if (!k->has_range) return true;
    if (k->flags & DS_SF_MIN_EXCL ? v <= k->min : v < k->min) return false;
    if (k->flags & DS_SF_MAX_EXCL ? v >= k->max : v > k->max) return false;
    return true;
}

/* Number text as written (for "got 1e999"); integers written with '.', 'e' are not ints. */
static bool is_int_text(const ds_config_doc *doc, const cJSON *v) {
    node_info *e = doc ? doc_info(doc, v) : NULL;
    if (e && e->own) return !strpbrk(e->own, ".eE");
    if (e && doc->src && e->val_len) {
        for (uint32_t i = 0; i < e->val_len; i++)
            if (strchr(".eE", doc->src[e->val_off + i])) return false;
        return true;
    }
    return v->valuedouble == floor(v->valuedouble);
}

static bool check_scalar(const ds_config_doc *doc, const ds_schema_key *k, ds_schema_type t,
                         const cJSON *v, char *msg, size_t n, const char *what) {
    char exp[400], got[120];
    ds_schema_key tmp = *k;
    tmp.type = t == DS_ST_INT_LIST ? DS_ST_INT : t == DS_ST_NUMBER_LIST ? DS_ST_NUMBER
                                   : t == DS_ST_STRING_LIST || t == DS_ST_ID_LIST ? DS_ST_STRING : t;
    if (what) tmp.flags &= ~(unsigned)DS_SF_NULLABLE;
    bool ok = true;
    switch (tmp.type) {
    case DS_ST_INT:
        ok = cJSON_IsNumber(v) && is_int_text(doc, v) && isfinite(v->valuedouble) &&
             fabs(v->valuedouble) <= 9007199254740992.0 && in_range(&tmp, v->valuedouble);
        break;
    case DS_ST_NUMBER: ok = cJSON_IsNumber(v) && in_range(&tmp, v->valuedouble); break;
    case DS_ST_BOOL: ok = cJSON_IsBool(v); break;
    case DS_ST_STRING:
        ok = cJSON_IsString(v);
        if (ok && tmp.has_range) {
            double l = (double)strlen(v->valuestring);
            ok = l >= tmp.min && l <= tmp.max;
        }
        break;
    case DS_ST_ENUM:
        ok = cJSON_IsString(v) && ((tmp.flags & DS_SF_OPEN_ENUM) || list_has(tmp.choices, v->valuestring));
        break;
    case DS_ST_SCALAR: ok = cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v); break;
    default: break;
    }
    if (ok && cJSON_IsNumber(v) && !isfinite(v->valuedouble)) ok = false;
    if (ok) return true;
    ds_schema_describe(&tmp, exp, sizeof exp);
    describe_value(doc, v, got, sizeof got);
    char extra[160] = "";
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
        CUT_PRINTF(extra, sizeof extra, " (too large to represent)");
    else if (tmp.type == DS_ST_STRING && cJSON_IsString(v) && tmp.has_range)
        CUT_PRINTF(extra, sizeof extra, " (%zu bytes)", strlen(v->valuestring));
    else if (tmp.type == DS_ST_ENUM && cJSON_IsString(v)) {
        const char *c[64];
        int nc = 0;
        char words[64][64];
        for (const char *p = tmp.choices; p && *p && nc < 64;) {
            const char *e = strchr(p, '|');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            CUT_PRINTF(words[nc], sizeof words[nc], "%.*s", (int)l, p);
            c[nc] = words[nc];
            nc++;
            if (!e) break;
            p = e + 1;
        }
        const char *m = near_miss(v->valuestring, c, nc);
        if (m) CUT_PRINTF(extra, sizeof extra, " (did you mean \"%s\"?)", m);
    }
    if (what)
        CUT_PRINTF(msg, n, "%s: expected %s, got %s%s", what, exp, got, extra);
    else
        CUT_PRINTF(msg, n, "expected %s, got %s%s", exp, got, extra);
    return false;
}

bool schema_check_element(const ds_config_doc *doc, const ds_schema_key *k, const cJSON *v, char *msg, size_t n) {
    if (k->type != DS_ST_INT_LIST && k->type != DS_ST_NUMBER_LIST && k->type != DS_ST_STRING_LIST &&
        k->type != DS_ST_ID_LIST)
        return schema_check_value(doc, k, v, msg, n);
    return check_scalar(doc, k, k->type, v, msg, n, "element");
}

bool schema_check_value(const ds_config_doc *doc, const ds_schema_key *k, const cJSON *v, char *msg,
                        size_t n) {
    char exp[400], got[120];
    if (cJSON_IsNull(v) && (k->flags & DS_SF_NULLABLE)) return true;
    switch (k->type) {
    case DS_ST_INT:
    case DS_ST_NUMBER:
    case DS_ST_BOOL:
    case DS_ST_STRING:
    case DS_ST_ENUM:
    case DS_ST_SCALAR:
        if (!check_scalar(doc, k, k->type, v, msg, n, NULL)) return false;
        if (k->bind.ctype == DS_BC_STR && cJSON_IsString(v) && strlen(v->valuestring) >= k->bind.size) {
            CUT_PRINTF(msg, n, "longer than the %u bytes diffstudio keeps (%zu bytes)", k->bind.size - 1,
                     strlen(v->valuestring));
            return false;
        }
        if (k->bind.ctype == DS_BC_INT && cJSON_IsNumber(v) && fabs(v->valuedouble) > 2147483647.0) {
            describe_value(doc, v, got, sizeof got);
            CUT_PRINTF(msg, n, "expected a 32-bit integer, got %s", got);
            return false;
        }
        return true;
    case DS_ST_INT_LIST:
    case DS_ST_NUMBER_LIST:
    case DS_ST_STRING_LIST:
    case DS_ST_ID_LIST: {
        if (!cJSON_IsArray(v)) break;
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char what[32];
            CUT_PRINTF(what, sizeof what, "element [%d]", i);
            if (!check_scalar(doc, k, k->type, e, msg, n, what)) return false;
            if ((k->bind.ctype == DS_BC_ID_LIST || k->bind.ctype == DS_BC_STR_LIST) && cJSON_IsString(e) &&
                strlen(e->valuestring) >= k->bind.size) {
                CUT_PRINTF(msg, n, "element [%d] is longer than the %u bytes diffstudio keeps", i,
                         k->bind.size - 1);
                return false;
            }
        }
        if (k->bind.cap && i > k->bind.cap) {
            CUT_PRINTF(msg, n, "%d entries, more than the %u diffstudio supports", i, k->bind.cap);
            return false;
        }
        return true;
    }
    case DS_ST_OBJECT:
    case DS_ST_MAP:
        if (cJSON_IsObject(v)) return true;
        break;
    case DS_ST_OBJECT_ARRAY:
        if (cJSON_IsArray(v)) return true;
        break;
    case DS_ST_ANY: return true;
    }
    ds_schema_describe(k, exp, sizeof exp);
    describe_value(doc, v, got, sizeof got);
    CUT_PRINTF(msg, n, "expected %s, got %s", exp, got);
    return false;
}

const ds_schema_key *ds_schema_for_doc(const ds_config_doc *doc, const char *path) {
    const ds_schema_key *rows[16];
    unsigned bit = doc_apply_bit(doc);
    int n = ds_schema_find_all(path, rows, 16);
    if (n > 16) n = 16;
    for (int i = 0; i < n; i++)
        if (schema_applies(doc, bit, rows[i], path) == APPLY_YES) return rows[i];
    char parent[JPATH_MAX], last[JPATH_MAX], star[JPATH_MAX];
    if (path_split(path, parent, sizeof parent, last, sizeof last) && last[0] != '[') {
        CUT_PRINTF(star, sizeof star, "%s.*", parent);
        char pat[JPATH_MAX];
        ds_schema_pattern(star, pat, sizeof pat);
        n = ds_schema_find_all(pat, rows, 16);
        if (n > 16) n = 16;
        for (int i = 0; i < n; i++)
            if (schema_applies(doc, bit, rows[i], path) == APPLY_YES) return rows[i];
    }
    return NULL;
}
