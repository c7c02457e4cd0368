/* Type-aware one-line editing (see textedit.h). */
#include "textedit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"

void ui_textedit_init(ui_textedit *e, ui_edit_kind kind, const char *initial) {
    memset(e, 0, sizeof *e);
    e->kind = kind;
    snprintf(e->buf, sizeof e->buf, "%s", initial ? initial : "");
    e->len = e->cur = (int)strlen(e->buf);
}

void ui_textedit_set_range(ui_textedit *e, double min, double max) {
    e->has_range = true;
    e->min = min;
    e->max = max;
}

static bool allowed(ui_edit_kind k, int ch) {
    switch (k) {
    case UI_EDIT_INT: return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+';
    case UI_EDIT_NUMBER: return (ch >= '0' && ch <= '9') || strchr("-+.eE", ch);
    case UI_EDIT_INT_LIST: return (ch >= '0' && ch <= '9') || strchr("-+, ", ch);
    case UI_EDIT_NUMBER_LIST: return (ch >= '0' && ch <= '9') || strchr("-+.eE, ", ch);
    default: return ch >= 32;
    }
}

static int utf8_encode(int cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }
static int prev_char(const ui_textedit *e, int i) {
    if (i <= 0) return 0;
    i--;
    while (i > 0 && cont(e->buf[i])) i--;
    return i;
}
static int next_char(const ui_textedit *e, int i) {
    if (i >= e->len) return e->len;
    i++;
    while (i < e->len && cont(e->buf[i])) i++;
    return i;
}

static void erase(ui_textedit *e, int from, int to) {
    if (to <= from) return;
    memmove(e->buf + from, e->buf + to, (size_t)(e->len - to + 1));
    e->len -= to - from;
    if (e->cur > to)
        e->cur -= to - from;
    else if (e->cur > from)
        e->cur = from;
}

ui_edit_result ui_textedit_key(ui_textedit *e, int key) {
    switch (key) {
    case UI_KEY_ENTER:
    case '\r': return ui_textedit_check(e, NULL, 0) == UI_EDIT_OK ? UI_EDIT_DONE : UI_EDIT_REFUSED;
    case UI_KEY_ESC: return UI_EDIT_CANCEL;
    case UI_KEY_LEFT: e->cur = prev_char(e, e->cur); return UI_EDIT_CONTINUE;
    case UI_KEY_RIGHT: e->cur = next_char(e, e->cur); return UI_EDIT_CONTINUE;
    case UI_KEY_HOME:
    case UI_KEY_CTRL('a'): e->cur = 0; return UI_EDIT_CONTINUE;
    case UI_KEY_END:
    case UI_KEY_CTRL('e'): e->cur = e->len; return UI_EDIT_CONTINUE;
    case UI_KEY_BACKSPACE:
    case 127:
    case UI_KEY_CTRL('h'): erase(e, prev_char(e, e->cur), e->cur); return UI_EDIT_CONTINUE;
    case UI_KEY_DELETE:
    case UI_KEY_CTRL('d'): erase(e, e->cur, next_char(e, e->cur)); return UI_EDIT_CONTINUE;
    case UI_KEY_CTRL('u'): erase(e, 0, e->cur); return UI_EDIT_CONTINUE;
    case UI_KEY_CTRL('k'): erase(e, e->cur, e->len); return UI_EDIT_CONTINUE;
    case UI_KEY_CTRL('w'): {
        int i = e->cur;
        while (i > 0 && e->buf[i - 1] == ' ') i--;
        while (i > 0 && e->buf[i - 1] != ' ' && e->buf[i - 1] != ',') i--;
        erase(e, i, e->cur);
        return UI_EDIT_CONTINUE;
    }
    default: break;
    }
    if (key < 32 || key >= UI_KEY_SPECIAL || !allowed(e->kind, key)) return UI_EDIT_REFUSED;
    char enc[4];
    int n = utf8_encode(key, enc);
    if (e->len + n >= (int)sizeof e->buf) return UI_EDIT_REFUSED;
    memmove(e->buf + e->cur + n, e->buf + e->cur, (size_t)(e->len - e->cur + 1));
    memcpy(e->buf + e->cur, enc, (size_t)n);
    e->len += n;
    e->cur += n;
    return UI_EDIT_CONTINUE;
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s) {
    if (*s == '-') s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9') s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == 0;
}

/* Could more typing make s a number? ("", "-", "1e", "1.", "1e-") */
static bool number_prefix(const char *s, bool integer) {
    size_t n = strlen(s);
    if (n == 0) return true;
    char last = s[n - 1];
    if (integer) return n == 1 && (last == '-' || last == '+');
    return last == '-' || last == '+' || last == 'e' || last == 'E' || last == '.';
}

static ui_edit_state check_number(const char *s, bool integer, const ui_textedit *e, char *msg, size_t n) {
    if (number_prefix(s, integer) && !(s[0] && json_number(s))) {
        if (msg) snprintf(msg, n, "%s", integer ? "type an integer" : "type a number");
        return UI_EDIT_PARTIAL;
    }
    char *end;
    errno = 0;
    double v;
    if (integer) {
        long long i = strtoll(s, &end, 10);
        v = (double)i;
    } else {
        v = strtod(s, &end);
    }
    if (end == s || *end || errno || !isfinite(v)) {
        if (msg) snprintf(msg, n, "\"%s\" is not %s", s, integer ? "an integer" : "a number");
        return UI_EDIT_BAD;
    }
    if (e->has_range && (v < e->min || v > e->max)) {
        if (msg) snprintf(msg, n, "%s is outside %g .. %g", s, e->min, e->max);
        return UI_EDIT_BAD;
    }
    if (msg) snprintf(msg, n, "ok");
    return UI_EDIT_OK;
}

/* Splits a list on commas and spaces into items of at most 63 bytes; returns the count or
 * -1 when there are too many. *trailing: the text ends in a separator after an item. */
static int split_list(const char *s, char items[][64], int cap, bool *trailing) {
    int n = 0;
    *trailing = false;
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        if (*p == ',') {
            *trailing = true;
            p++;
            continue;
        }
        const char *q = p;
        while (*q && *q != ',' && *q != ' ') q++;
        if (n >= cap) return -1;
        snprintf(items[n], 64, "%.*s", (int)(q - p), p);
        n++;
        *trailing = false;
        p = q;
        const char *r = p;
        while (*r == ' ') r++;
        if (*r == ',') *trailing = true;
    }
    return n;
}

ui_edit_state ui_textedit_check(const ui_textedit *e, char *msg, size_t n) {
    switch (e->kind) {
    case UI_EDIT_INT:
    case UI_EDIT_NUMBER: return check_number(e->buf, e->kind == UI_EDIT_INT, e, msg, n);
    case UI_EDIT_INT_LIST:
    case UI_EDIT_NUMBER_LIST: {
        char items[64][64];
        bool trailing;
        int k = split_list(e->buf, items, 64, &trailing);
        if (k < 0) {
            if (msg) snprintf(msg, n, "at most 64 values");
            return UI_EDIT_BAD;
        }
        ui_edit_state worst = UI_EDIT_OK;
        for (int i = 0; i < k; i++) {
            char m[160];
            ui_edit_state s = check_number(items[i], e->kind == UI_EDIT_INT_LIST, e, m, sizeof m);
            if (s == UI_EDIT_PARTIAL && i < k - 1) s = UI_EDIT_BAD;
            if (s > worst) {
                worst = s;
                if (msg) snprintf(msg, n, "value %d: %s", i + 1, m);
            }
        }
        if (worst == UI_EDIT_OK && trailing) {
            if (msg) snprintf(msg, n, "type the next value");
            return UI_EDIT_PARTIAL;
        }
        if (worst == UI_EDIT_OK && msg) snprintf(msg, n, "%d value%s, comma-separated", k, k == 1 ? "" : "s");
        return worst;
    }
    case UI_EDIT_JSON: {
        cJSON *j = cJSON_ParseWithOpts(e->buf, NULL, true);
        bool ok = j != NULL;
        cJSON_Delete(j);
        if (msg) snprintf(msg, n, "%s", ok ? "valid JSON" : "not valid JSON yet");
        return ok ? UI_EDIT_OK : UI_EDIT_PARTIAL;
    }
    default:
        if (msg) snprintf(msg, n, "text");
        return UI_EDIT_OK;
    }
}

static bool json_string(const char *s, char *out, size_t n) {
    cJSON *j = cJSON_CreateString(s);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!t) return false;
    bool ok = strlen(t) < n;
    if (ok) memcpy(out, t, strlen(t) + 1);
    cJSON_free(t);
    return ok;
}

/* A number as JSON: the text when it already is JSON (keeps "1e-4"), else reformatted. */
static void number_json(const char *s, bool integer, char *out, size_t n) {
    if (json_number(s)) {
        snprintf(out, n, "%s", s);
    } else if (integer) {
        snprintf(out, n, "%lld", strtoll(s, NULL, 10));
    } else {
        double v = strtod(s, NULL);
        for (int p = 1; p <= 17; p++) {
            snprintf(out, n, "%.*g", p, v);
            if (strtod(out, NULL) == v) break;
        }
    }
}

bool ui_textedit_json(const ui_textedit *e, char *out, size_t n) {
    if (ui_textedit_check(e, NULL, 0) != UI_EDIT_OK) return false;
    switch (e->kind) {
    case UI_EDIT_INT:
    case UI_EDIT_NUMBER: number_json(e->buf, e->kind == UI_EDIT_INT, out, n); return true;
    case UI_EDIT_INT_LIST:
    case UI_EDIT_NUMBER_LIST:
    case UI_EDIT_STRING_LIST: {
        char items[64][64];
        bool trailing;
        int k = split_list(e->buf, items, 64, &trailing);
        if (k < 0) return false;
        size_t off = (size_t)snprintf(out, n, "[");
        for (int i = 0; i < k && off < n; i++) {
            char v[160];
            if (e->kind == UI_EDIT_STRING_LIST) {
                if (!json_string(items[i], v, sizeof v)) return false;
            } else {
                number_json(items[i], e->kind == UI_EDIT_INT_LIST, v, sizeof v);
            }
            off += (size_t)snprintf(out + off, n - off, "%s%s", i ? ", " : "", v);
        }
        if (off < n) off += (size_t)snprintf(out + off, n - off, "]");
        return off < n;
    }
    case UI_EDIT_SCALAR: {
        const char *s = e->buf;
        if (json_number(s) || !strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null")) {
            snprintf(out, n, "%s", s);
            return true;
        }
        return json_string(s, out, n);
    }
    case UI_EDIT_JSON: snprintf(out, n, "%s", e->buf); return strlen(e->buf) < n;
    default: return json_string(e->buf, out, n);
    }
}

void ui_textedit_from_json(ui_edit_kind kind, const char *json, char *out, size_t n) {
    if (n) out[0] = 0;
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    if (!j || kind == UI_EDIT_JSON) {
        snprintf(out, n, "%s", json ? json : "");
        cJSON_Delete(j);
        return;
    }
    if (cJSON_IsString(j)) {
        snprintf(out, n, "%s", j->valuestring);
    } else if (cJSON_IsArray(j) &&
               (kind == UI_EDIT_INT_LIST || kind == UI_EDIT_NUMBER_LIST || kind == UI_EDIT_STRING_LIST)) {
        size_t off = 0;
        for (const cJSON *c = j->child; c && off < n; c = c->next) {
            char *t = cJSON_IsString(c) ? NULL : cJSON_PrintUnformatted(c);
            off += (size_t)snprintf(out + off, n - off, "%s%s", off ? ", " : "", t ? t : c->valuestring ? c->valuestring : "");
            cJSON_free(t);
        }
    } else if (cJSON_IsNull(j) && kind != UI_EDIT_SCALAR) {
        out[0] = 0;
    } else {
        snprintf(out, n, "%s", json);
    }
    cJSON_Delete(j);
}

int ui_textedit_cursor_col(const ui_textedit *e) {
    int col = 0;
    for (int i = 0; i < e->cur; i++)
        if (!cont(e->buf[i])) col++;
    return col;
}
