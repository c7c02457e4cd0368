/* Sidecar metadata: the stand-in for SAT's Python custom_metadata_module.
 *
 * Sources, applied in this order (later ones override keys of earlier ones):
 *   1. <root>/metadata.csv    header row; a "path" (or "file") column relative to the root
 *   2. <root>/metadata.jsonl  one JSON object per line with "path" (or "file")
 *   3. <dir>/<stem>.json      e.g. kick_01.json for kick_01.wav
 *   4. <dir>/<file>.json      e.g. kick_01.wav.json
 * Values: JSON strings and numbers as such, booleans as 0/1, arrays/objects as their compact
 * JSON text; CSV cells are numbers when the whole cell parses as a finite number, strings
 * otherwise; empty cells and JSON nulls are absent. "__reject__" (true, non-zero, "true",
 * "yes") drops the file as SAT's hook can. Malformed sidecars are open errors that name the
 * file and line: silently losing prompts would be worse. cJSON's global error pointer is never
 * read; parse positions come from cJSON_ParseWithLengthOpts' end pointer. */
#include "dataset_internal.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void meta_list_free(meta_list *m) {
    for (int i = 0; i < m->n; i++) {
        free((char *)m->kv[i].key);
        free((char *)m->kv[i].str);
    }
    free(m->kv);
    memset(m, 0, sizeof *m);
}

/* Sets key (replacing an existing value). Copies key and str. */
static audio_status meta_set(meta_list *m, const char *key, audio_meta_type type, const char *str, double num) {
    char *s = audio_strdup(str);
    if (!s) return AUDIO_ERR_NOMEM;
    for (int i = 0; i < m->n; i++) {
        if (strcmp(m->kv[i].key, key) == 0) {
            free((char *)m->kv[i].str);
            m->kv[i].str = s;
            m->kv[i].type = type;
            m->kv[i].num = num;
            return AUDIO_OK;
        }
    }
    if (m->n == m->cap) {
        int ncap = m->cap ? m->cap * 2 : 8;
        audio_meta_kv *nv = realloc(m->kv, (size_t)ncap * sizeof *nv);
        if (!nv) {
            free(s);
            return AUDIO_ERR_NOMEM;
        }
        m->kv = nv;
        m->cap = ncap;
    }
    char *k = audio_strdup(key);
    if (!k) {
        free(s);
        return AUDIO_ERR_NOMEM;
    }
    m->kv[m->n++] = (audio_meta_kv){.key = k, .type = type, .str = s, .num = num};
    return AUDIO_OK;
}

static audio_status meta_merge(meta_list *dst, const meta_list *src) {
    for (int i = 0; i < src->n; i++) {
        const audio_meta_kv *kv = &src->kv[i];
        if (meta_set(dst, kv->key, kv->type, kv->str, kv->num) != AUDIO_OK) return AUDIO_ERR_NOMEM;
    }
    return AUDIO_OK;
}

static bool parse_number(const char *s, double *out) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || errno == ERANGE || !isfinite(v)) return false;
    /* strtod also reads "nan", "inf", hex: keep only plain decimal numbers */
    for (const char *c = s; c < end; c++)
        if (!strchr("0123456789+-.eE \t", *c)) return false;
    *out = v;
    return true;
}

static bool truthy_text(const char *s) {
    return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0;
}

/* Reads a whole (small) file. *buf is NUL-terminated; caller frees. */
audio_status ds_slurp(const char *path, char **buf, size_t *len, audio_err *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return audio_err_set(err, AUDIO_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n - 1, fp);
        if (n < cap - 1) break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (!b) return audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(b);
        return audio_err_set(err, AUDIO_ERR_IO, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return AUDIO_OK;
}

/* JSON object → list. `skip_path` drops the manifest's path/file keys. */
static audio_status json_to_meta(const cJSON *obj, bool skip_path, meta_list *m, bool *reject,
                                 const char *where, audio_err *err) {
    if (!cJSON_IsObject(obj)) return audio_err_set(err, AUDIO_ERR_FORMAT, "%s: expected a JSON object", where);
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *k = c->string;
        if (!k) continue;
        if (skip_path && (strcmp(k, "path") == 0 || strcmp(k, "file") == 0)) continue;
        if (strcmp(k, "__reject__") == 0) {
            *reject = cJSON_IsTrue(c) || (cJSON_IsNumber(c) && c->valuedouble != 0) ||
                      (cJSON_IsString(c) && truthy_text(c->valuestring));
            continue;
        }
        audio_status st = AUDIO_OK;
        char num[40];
        if (cJSON_IsString(c)) {
            st = meta_set(m, k, AUDIO_META_STRING, c->valuestring, 0);
        } else if (cJSON_IsNumber(c)) {
            audio_number_text(c->valuedouble, num, sizeof num);
            st = meta_set(m, k, AUDIO_META_NUMBER, num, c->valuedouble);
        } else if (cJSON_IsBool(c)) {
            st = meta_set(m, k, AUDIO_META_NUMBER, cJSON_IsTrue(c) ? "1" : "0", cJSON_IsTrue(c) ? 1 : 0);
        } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
            char *txt = cJSON_PrintUnformatted(c);
            st = txt ? meta_set(m, k, AUDIO_META_STRING, txt, 0) : AUDIO_ERR_NOMEM;
            cJSON_free(txt);
        } /* null: absent */
        if (st != AUDIO_OK) return audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", where);
    }
    return AUDIO_OK;
}

/* Parses text[0..len) as one JSON value; on failure names path:line:col. */
static cJSON *parse_json(const char *text, size_t len, const char *path, int line0, audio_err *err) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (j) return j;
    int line = line0, col = 1;
    for (const char *p = text; end && p < end && p < text + len; p++) {
        if (*p == '\n') line++, col = 1;
        else col++;
    }
    audio_err_set(err, AUDIO_ERR_FORMAT, "%s:%d:%d: invalid JSON", path, line, col);
    return NULL;
}

/* ---- manifests ----------------------------------------------------------------------------- */

typedef struct {
    char *rel;    /* path relative to the root, normalised */
    int source;   /* 0: metadata.csv, 1: metadata.jsonl (applied later) */
    int line;
    bool reject, matched;
    meta_list meta;
} row;

typedef struct {
    row *v;
    int n, cap;
} row_set;

static void rows_free(row_set *rs) {
    for (int i = 0; i < rs->n; i++) {
        free(rs->v[i].rel);
        meta_list_free(&rs->v[i].meta);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

static row *row_add(row_set *rs) {
    if (rs->n == rs->cap) {
        int ncap = rs->cap ? rs->cap * 2 : 64;
        row *nv = realloc(rs->v, (size_t)ncap * sizeof *nv);
        if (!nv) return NULL;
        rs->v = nv;
        rs->cap = ncap;
    }
    row *r = &rs->v[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* "./a/b.wav" → "a/b.wav"; "<root>/a.wav" → "a.wav". */
static char *normalise_rel(const char *p, const char *root) {
    size_t rl = strlen(root);
    if (p[0] == '/' && strncmp(p, root, rl) == 0 && p[rl] == '/') p += rl + 1;
    while (p[0] == '.' && p[1] == '/') p += 2;
    return audio_strdup(p);
}

static audio_status load_jsonl(const char *path, const char *root, row_set *rs, audio_err *err) {
    char *text;
    size_t len;
    audio_status st = ds_slurp(path, &text, &len, err);
    if (st != AUDIO_OK) return st;
    int line = 0;
    for (char *p = text; st == AUDIO_OK && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        line++;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) k++;
        if (k < n) {
            cJSON *j = parse_json(p, n, path, line, err);
            if (!j) {
                st = AUDIO_ERR_FORMAT;
                break;
            }
            const cJSON *pv = cJSON_GetObjectItemCaseSensitive(j, "path");
            if (!cJSON_IsString(pv)) pv = cJSON_GetObjectItemCaseSensitive(j, "file");
            char where[600];
            snprintf(where, sizeof where, "%s:%d", path, line);
            if (!cJSON_IsString(pv)) {
                st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: needs a \"path\" (or \"file\") string", where);
            } else {
                row *r = row_add(rs);
                if (!r || !(r->rel = normalise_rel(pv->valuestring, root)))
                    st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", where);
                else {
                    r->source = 1;
                    r->line = line;
                    st = json_to_meta(j, true, &r->meta, &r->reject, where, err);
                }
            }
            cJSON_Delete(j);
        }
        p += n + 1;
    }
    free(text);
    return st;
}

/* RFC 4180 fields: quoted cells may hold commas, newlines and "" for a quote. Returns the
 * number of fields of the record starting at *pp (advanced past it), -1 on an unterminated
 * quote. Cells are written into the record's own bytes (unquoting shrinks in place). */
static int csv_record(char **pp, char *end, char **cells, int max, int *line) {
    char *p = *pp;
    int n = 0;
    for (;;) {
        char *out = p, *cell = p;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p >= end) return -1;
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n') (*line)++;
                *out++ = *p++;
            }
            while (p < end && *p != ',' && *p != '\n') p++; /* junk after a closing quote */
        } else {
            while (p < end && *p != ',' && *p != '\n') *out++ = *p++;
            if (out > cell && out[-1] == '\r') out--;
        }
        char sep = p < end ? *p : '\n';
        *out = '\0';
        if (n < max) cells[n] = cell;
        n++;
        p = p < end ? p + 1 : end;
        if (sep == '\n') break;
    }
    (*line)++;
    *pp = p;
    return n;
}

static audio_status load_csv(const char *path, const char *root, row_set *rs, audio_err *err) {
    enum { MAX_COLS = 256 };
    char *text;
    size_t len;
    audio_status st = ds_slurp(path, &text, &len, err);
    if (st != AUDIO_OK) return st;
    char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 BOM from spreadsheets */
    char *head[MAX_COLS], *cells[MAX_COLS];
    int line = 1;
    int nh = csv_record(&p, end, head, MAX_COLS, &line);
    int pathcol = -1;
    if (nh > MAX_COLS) nh = MAX_COLS;
    for (int c = 0; c < nh; c++)
        if (pathcol < 0 && (strcmp(head[c], "path") == 0 || strcmp(head[c], "file") == 0)) pathcol = c;
    if (nh <= 0 || pathcol < 0) {
        free(text);
        return audio_err_set(err, AUDIO_ERR_FORMAT, "%s:1: header row needs a \"path\" (or \"file\") column", path);
    }
    while (st == AUDIO_OK && p < end) {
        int at = line;
        int n = csv_record(&p, end, cells, MAX_COLS, &line);
        if (n < 0) {
            st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s:%d: unterminated quoted field", path, at);
            break;
        }
        if (n == 1 && cells[0][0] == '\0') continue; /* blank line */
        if (n > nh) {
            st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s:%d: %d fields, header has %d", path, at, n, nh);
            break;
        }
        if (pathcol >= n || !cells[pathcol][0]) {
            st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s:%d: empty path", path, at);
            break;
        }
        row *r = row_add(rs);
        if (!r || !(r->rel = normalise_rel(cells[pathcol], root))) {
            st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        r->line = at;
        for (int c = 0; c < n && st == AUDIO_OK; c++) {
            if (c == pathcol || !cells[c][0] || !head[c][0]) continue;
            if (strcmp(head[c], "__reject__") == 0) {
                r->reject = truthy_text(cells[c]);
                continue;
            }
            double v;
            bool isnum = parse_number(cells[c], &v);
            if (meta_set(&r->meta, head[c], isnum ? AUDIO_META_NUMBER : AUDIO_META_STRING, cells[c],
                         isnum ? v : 0) != AUDIO_OK)
                st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    free(text);
    return st;
}

static int cmp_row_rel(const void *a, const void *b) {
    return strcmp(((const row *)a)->rel, ((const row *)b)->rel);
}

static int cmp_row(const void *a, const void *b) {
    const row *x = a, *y = b;
    int c = strcmp(x->rel, y->rel);
    if (c) return c;
    if (x->source != y->source) return x->source - y->source;
    return (x->line > y->line) - (x->line < y->line);
}

static bool exists_regular(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Loads a per-file sidecar if present and merges it into f. */
static audio_status apply_sidecar(ds_file *f, const char *json_path, audio_err *err) {
    if (!exists_regular(json_path)) return AUDIO_OK;
    char *text;
    size_t len;
    audio_status st = ds_slurp(json_path, &text, &len, err);
    if (st != AUDIO_OK) return st;
    cJSON *j = parse_json(text, len, json_path, 1, err);
    free(text);
    if (!j) return AUDIO_ERR_FORMAT;
    meta_list m = {0};
    bool reject = f->rejected;
    st = json_to_meta(j, false, &m, &reject, json_path, err);
    cJSON_Delete(j);
    if (st == AUDIO_OK && meta_merge(&f->meta, &m) != AUDIO_OK)
        st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", json_path);
    f->rejected = reject;
    meta_list_free(&m);
    return st;
}

/* Applies every manifest row for f (CSV rows, then JSONL rows, each in file order). */
static audio_status apply_rows(ds_file *f, row_set *rs, audio_err *err) {
    if (!rs->n) return AUDIO_OK;
    row key = {.rel = (char *)f->relpath};
    row *hit = bsearch(&key, rs->v, (size_t)rs->n, sizeof *rs->v, cmp_row_rel);
    if (!hit) return AUDIO_OK;
    while (hit > rs->v && strcmp(hit[-1].rel, f->relpath) == 0) hit--;
    for (; hit < rs->v + rs->n && strcmp(hit->rel, f->relpath) == 0; hit++) {
        hit->matched = true;
        if (meta_merge(&f->meta, &hit->meta) != AUDIO_OK)
            return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset metadata: out of memory");
        if (hit->reject) f->rejected = true;
    }
    return AUDIO_OK;
}

/* <dir>/<stem>.json then <path>.json. */
static audio_status apply_file_sidecars(ds_file *f, audio_err *err) {
    size_t n = strlen(f->path);
    char *sc = malloc(n + 8);
    if (!sc) return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset metadata: out of memory");
    const char *dot = strrchr(f->path, '.');
    const char *slash = strrchr(f->path, '/');
    audio_status st = AUDIO_OK;
    if (dot && (!slash || dot > slash + 1)) {
        memcpy(sc, f->path, (size_t)(dot - f->path));
        strcpy(sc + (dot - f->path), ".json");
        st = apply_sidecar(f, sc, err);
    }
    if (st == AUDIO_OK) {
        memcpy(sc, f->path, n);
        strcpy(sc + n, ".json");
        st = apply_sidecar(f, sc, err);
    }
    free(sc);
    return st;
}

audio_status ds_attach_metadata(audio_dataset *ds, ds_file *files, int64_t n, audio_err *err) {
    audio_status st = AUDIO_OK;
    for (int r = 0; r < ds->cfg.n_roots && st == AUDIO_OK; r++) {
        const char *root = ds->roots[r].path;
        row_set rs = {0};
        size_t rl = strlen(root);
        char *mp = malloc(rl + 32);
        if (!mp) return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
        snprintf(mp, rl + 32, "%s/metadata.csv", root);
        if (exists_regular(mp)) st = load_csv(mp, root, &rs, err);
        snprintf(mp, rl + 32, "%s/metadata.jsonl", root);
        if (st == AUDIO_OK && exists_regular(mp)) st = load_jsonl(mp, root, &rs, err);
        if (rs.n) qsort(rs.v, (size_t)rs.n, sizeof *rs.v, cmp_row);
        for (int64_t i = 0; i < n && st == AUDIO_OK; i++) {
            if (files[i].root != r) continue;
            st = apply_rows(&files[i], &rs, err);
            if (st == AUDIO_OK) st = apply_file_sidecars(&files[i], err);
        }
        if (st == AUDIO_OK) {
            int unmatched = 0;
            const row *first = NULL;
            for (int i = 0; i < rs.n; i++)
                if (!rs.v[i].matched && !unmatched++) first = &rs.v[i];
            if (unmatched)
                audio_log(AUDIO_LOG_WARN,
                          "dataset '%s': %d manifest row(s) under %s name no usable audio file (first: "
                          "%s, line %d of metadata.%s)",
                          ds->roots[r].id, unmatched, root, first->rel, first->line,
                          first->source ? "jsonl" : "csv");
        }
        free(mp);
        rows_free(&rs);
    }
    return st;
}
