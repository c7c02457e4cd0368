/* JSON paths: "a.b[3].c", patterns "a.b[].c" / "a.*", quoted keys ["x.y"]. Pure string
 * functions; every output is cut to its buffer and always NUL-terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

seg_kind path_next(const char **pp, char *key, size_t keycap, int *index) {
    const char *p = *pp;
    if (keycap) key[0] = 0;
    if (*p == '.') p++;
    if (*p == 0) {
        *pp = p;
        return SEG_END;
    }
    if (*p == '[') {
        p++;
        if (*p == ']') {
            *pp = p + 1;
            return SEG_ANY_INDEX;
        }
        if (*p == '"') { /* ["quoted key"] */
            size_t k = 0;
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                if (k + 1 < keycap) key[k++] = *p;
                p++;
            }
            if (keycap) key[k < keycap ? k : keycap - 1] = 0;
            if (p[0] != '"' || p[1] != ']') return SEG_BAD;
            *pp = p + 2;
            return SEG_KEY;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || *end != ']' || v < 0 || v > 1000000000L) return SEG_BAD;
        *index = (int)v;
        *pp = end + 1;
        return SEG_INDEX;
    }
    size_t k = 0;
    while (*p && *p != '.' && *p != '[') {
        if (k + 1 < keycap) key[k++] = *p;
        p++;
    }
    if (keycap) key[k] = 0;
    *pp = p;
    return SEG_KEY;
}

static bool needs_quotes(const char *key) {
    if (!*key) return true;
    for (const char *s = key; *s; s++)
        if (*s == '.' || *s == '[' || *s == ']' || *s == '"') return true;
    return false;
}

void path_join_key(char *out, size_t n, const char *parent, const char *key) {
    char tmp[JPATH_MAX];
    size_t k = 0;
    if (needs_quotes(key)) {
        k = (size_t)snprintf(tmp, sizeof tmp, "%s[\"", parent);
        for (const char *s = key; *s && k + 4 < sizeof tmp; s++) {
            if (*s == '"' || *s == '\\') tmp[k++] = '\\';
            tmp[k++] = *s;
        }
        if (k + 3 < sizeof tmp) {
            tmp[k++] = '"';
            tmp[k++] = ']';
        }
        tmp[k < sizeof tmp ? k : sizeof tmp - 1] = 0;
    } else {
        CUT_PRINTF(tmp, sizeof tmp, "%s%s%s", parent, *parent ? "." : "", key);
    }
    CUT_PRINTF(out, n, "%s", tmp);
}

void path_join_index(char *out, size_t n, const char *parent, int index) {
    char tmp[JPATH_MAX];
    CUT_PRINTF(tmp, sizeof tmp, "%s[%d]", parent, index);
    CUT_PRINTF(out, n, "%s", tmp);
}

bool path_split(const char *path, char *parent, size_t n, char *last, size_t lastn) {
    const char *p = path, *seg_start = NULL;
    char key[JPATH_MAX], lastkey[JPATH_MAX] = "";
    int idx = 0, lastidx = 0;
    seg_kind lastk = SEG_END;
    for (;;) {
        const char *before = p;
        seg_kind k = path_next(&p, key, sizeof key, &idx);
        if (k == SEG_END) break;
        if (k == SEG_BAD) return false;
        seg_start = before;
        lastk = k;
        lastidx = idx;
        CUT_PRINTF(lastkey, sizeof lastkey, "%s", key);
    }
    if (!seg_start) return false;
    CUT_PRINTF(parent, n, "%.*s", (int)(seg_start - path), path);
    if (lastk == SEG_KEY)
        CUT_PRINTF(last, lastn, "%s", lastkey);
    else if (lastk == SEG_INDEX)
        CUT_PRINTF(last, lastn, "[%d]", lastidx);
    else
        CUT_PRINTF(last, lastn, "[]");
    return true;
}

void ds_schema_pattern(const char *path, char *out, size_t n) {
    size_t k = 0;
    for (const char *s = path; *s && k + 1 < n; s++) {
        if (*s == '[' && s[1] >= '0' && s[1] <= '9') {
            const char *e = s + 1;
            while (*e >= '0' && *e <= '9') e++;
            if (*e == ']') {
                if (k + 3 > n) break;
                out[k++] = '[';
                out[k++] = ']';
                s = e;
                continue;
            }
        }
        if (*s == '[' && s[1] == '"') { /* copy a quoted key verbatim */
            const char *e = s + 2;
            while (*e && *e != '"') e += (*e == '\\' && e[1]) ? 2 : 1;
            if (*e == '"' && e[1] == ']') e++;
            for (; s <= e && *s && k + 1 < n; s++) out[k++] = *s;
            s--;
            continue;
        }
        out[k++] = *s;
    }
    if (n) out[k < n ? k : n - 1] = 0;
}

void path_subst(const char *pattern, const char *concrete, char *out, size_t n) {
    size_t k = 0;
    const char *c = concrete;
    for (const char *s = pattern; *s && k + 1 < n; s++) {
        if (s[0] == '[' && s[1] == ']') {
            while (*c && !(c[0] == '[' && c[1] >= '0' && c[1] <= '9')) c++;
            if (*c) {
                c++;
                out[k++] = '[';
                while (*c >= '0' && *c <= '9' && k + 2 < n) out[k++] = *c++;
                out[k++] = ']';
                s++;
                continue;
            }
        }
        out[k++] = *s;
    }
    if (n) out[k < n ? k : n - 1] = 0;
}

int path_first_index(const char *path) {
    for (const char *s = path; *s; s++)
        if (s[0] == '[' && s[1] >= '0' && s[1] <= '9') return atoi(s + 1);
    return -1;
}

void path_dir(const char *file, char *out, size_t n) {
    const char *slash = strrchr(file, '/');
    if (!slash)
        CUT_PRINTF(out, n, ".");
    else if (slash == file)
        CUT_PRINTF(out, n, "/");
    else
        CUT_PRINTF(out, n, "%.*s", (int)(slash - file), file);
}

void path_resolve(const char *dir, const char *p, char *out, size_t n) {
    if (!*p || p[0] == '/' || !strcmp(dir, ".") || !*dir)
        CUT_PRINTF(out, n, "%s", p);
    else if (!strcmp(dir, "/"))
        CUT_PRINTF(out, n, "/%s", p);
    else
        CUT_PRINTF(out, n, "%s/%s", dir, p);
}
