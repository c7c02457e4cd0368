/* Explaining JSON syntax errors. cJSON reports only where it gave up (its error pointer),
 * and often that is past the real mistake (a trailing comma is reported at the end of the
 * file). This strict recognizer re-reads the text with JSON's grammar, builds nothing, and
 * names the first mistake and its offset; cJSON's pointer is the fallback position. Called
 * only after cJSON failed, on text that passed the depth/NUL/UTF-8 pass (so recursion is
 * bounded by DS_CONFIG_MAX_DEPTH). Also checks numbers the way Python's json (SAT) does. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"


typedef struct rec {
    const char *s;
    size_t len, p;
    bool failed;
    size_t at;
    char msg[300];
} rec;

static bool fail(rec *r, size_t at, const char *fmt, const char *arg) {
    if (!r->failed) {
        r->failed = true;
        r->at = at;
        CUT_PRINTF(r->msg, sizeof r->msg, fmt, arg ? arg : "");
    }
    return false;
}

static void ws(rec *r) {
    while (r->p < r->len && strchr(" \t\r\n", r->s[r->p]) && r->s[r->p]) r->p++;
}

static bool at_word(rec *r, const char *w) {
    size_t k = strlen(w);
    return r->p + k <= r->len && !memcmp(r->s + r->p, w, k);
}

bool json_number_ok(const char *s, size_t len, char *why, size_t n) {
    size_t i = 0;
    if (i < len && s[i] == '-') i++;
    if (i >= len || !isdigit((unsigned char)s[i])) {
        CUT_PRINTF(why, n, "a number needs a digit here");
        return false;
    }
    if (s[i] == '0' && i + 1 < len && isdigit((unsigned char)s[i + 1])) {
        CUT_PRINTF(why, n, "JSON numbers have no leading zeros (SAT's Python json rejects them)");
        return false;
    }
    while (i < len && isdigit((unsigned char)s[i])) i++;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !isdigit((unsigned char)s[i])) {
            CUT_PRINTF(why, n, "a decimal point must be followed by digits (write 1.0, not 1.)");
            return false;
        }
        while (i < len && isdigit((unsigned char)s[i])) i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || !isdigit((unsigned char)s[i])) {
            CUT_PRINTF(why, n, "an exponent needs digits");
            return false;
        }
        while (i < len && isdigit((unsigned char)s[i])) i++;
    }
    if (i != len) {
        CUT_PRINTF(why, n, "not a valid JSON number");
        return false;
    }
    return true;
}

static bool value(rec *r, int depth);

static bool string(rec *r) {
    size_t start = r->p++;
    while (r->p < r->len) {
        unsigned char c = (unsigned char)r->s[r->p];
        if (c == '"') {
            r->p++;
            return true;
        }
        if (c < 0x20) {
            char ch[16];
            CUT_PRINTF(ch, sizeof ch, "U+%04X", c);
            return fail(r, r->p, "raw control character %s inside a string (write \\n, \\t, "
                                 "or \\u00XX)", ch);
        }
        if (c == '\\') {
            char e = r->p + 1 < r->len ? r->s[r->p + 1] : 0;
            if (e == 'u') {
                for (int i = 2; i < 6; i++)
                    if (r->p + (size_t)i >= r->len || !isxdigit((unsigned char)r->s[r->p + i]))
                        return fail(r, r->p, "\\u must be followed by 4 hex digits%s", NULL);
                r->p += 6;
                continue;
            }
            if (!e || !strchr("\"\\/bfnrt", e)) {
                char bad[4] = {'\\', e ? e : ' ', 0};
                return fail(r, r->p, "invalid escape '%s' in a string", bad);
            }
            r->p += 2;
            continue;
        }
        r->p++;
    }
    return fail(r, start, "unterminated string: the closing \" is missing%s", NULL);
}

static bool container(rec *r, int depth, bool obj) {
    size_t open = r->p++;
    char close = obj ? '}' : ']';
    ws(r);
    if (r->p < r->len && r->s[r->p] == close) {
        r->p++;
        return true;
    }
    for (;;) {
        ws(r);
        if (r->p >= r->len) {
            char where[32];
            (void)open;
            CUT_PRINTF(where, sizeof where, "%c", obj ? '{' : '[');
            return fail(r, r->len, "unexpected end of file: a '%s' is not closed", where);
        }
        if (obj) {
            char c = r->s[r->p];
            if (c == '\'') return fail(r, r->p, "keys need double quotes, not single quotes%s", NULL);
            if (c == '/') return fail(r, r->p, "comments are not allowed in JSON%s", NULL);
            if (isalpha((unsigned char)c) || c == '_')
                return fail(r, r->p, "object keys must be strings in double quotes%s", NULL);
            if (c != '"') return fail(r, r->p, "expected a key in double quotes%s", NULL);
            if (!string(r)) return false;
            ws(r);
            if (r->p >= r->len || r->s[r->p] != ':')
                return fail(r, r->p, "expected ':' after the key%s", NULL);
            r->p++;
        }
        if (!value(r, depth + 1)) return false;
        ws(r);
        if (r->p >= r->len) {
            char where[4] = {obj ? '{' : '[', 0};
            return fail(r, r->len, "unexpected end of file: a '%s' is not closed", where);
        }
        char c = r->s[r->p];
        if (c == close) {
            r->p++;
            return true;
        }
        if (c == ',') {
            size_t comma = r->p++;
            ws(r);
            if (r->p < r->len && (r->s[r->p] == '}' || r->s[r->p] == ']'))
                return fail(r, comma, "trailing comma: JSON allows no ',' before '%s'",
                            r->s[r->p] == '}' ? "}" : "]");
            continue;
        }
        if (c == '"' || c == '{' || c == '[' || isalnum((unsigned char)c) || c == '-')
            return fail(r, r->p, "missing ',' between %s", obj ? "members" : "elements");
        if (c == '/') return fail(r, r->p, "comments are not allowed in JSON%s", NULL);
        char exp[8] = {',', ' ', 'o', 'r', ' ', close, 0};
        return fail(r, r->p, "expected %s", exp);
    }
}

static bool value(rec *r, int depth) {
    ws(r);
    if (r->p >= r->len) return fail(r, r->len, "unexpected end of file: expected a value%s", NULL);
    if (depth > DS_CONFIG_MAX_DEPTH + 1) return fail(r, r->p, "nesting too deep%s", NULL);
    char c = r->s[r->p];
    if (c == '{' || c == '[') return container(r, depth, c == '{');
    if (c == '"') return string(r);
    if (c == '-' || isdigit((unsigned char)c)) {
        if (at_word(r, "-Infinity"))
            return fail(r, r->p, "-Infinity is not a JSON number%s", NULL);
        size_t st = r->p;
        while (r->p < r->len && strchr("+-0123456789.eE", r->s[r->p]) && r->s[r->p]) r->p++;
        char why[128];
        if (!json_number_ok(r->s + st, r->p - st, why, sizeof why)) return fail(r, st, "%s", why);
        return true;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++)
        if (at_word(r, words[i])) {
            r->p += strlen(words[i]);
            return true;
        }
    if (at_word(r, "NaN") || at_word(r, "Infinity") || at_word(r, "nan") || at_word(r, "inf"))
        return fail(r, r->p, "NaN and Infinity are not JSON numbers (SAT cannot use them either)%s",
                    NULL);
    if (c == '\'') return fail(r, r->p, "strings need double quotes, not single quotes%s", NULL);
    if (c == '/') return fail(r, r->p, "comments are not allowed in JSON%s", NULL);
    if (c == '+') return fail(r, r->p, "JSON numbers have no leading '+'%s", NULL);
    if (c == ',' || c == ']' || c == '}') {
        char ch[2] = {c, 0};
        return fail(r, r->p, "expected a value before '%s'", ch);
    }
    if (isalpha((unsigned char)c) || c == '_') {
        char word[32];
        size_t k = 0;
        for (size_t i = r->p; i < r->len && k + 1 < sizeof word &&
                              (isalnum((unsigned char)r->s[i]) || r->s[i] == '_');
             i++)
            word[k++] = r->s[i];
        word[k] = 0;
        return fail(r, r->p, "unexpected word '%s' (strings need double quotes; the literals "
                             "are true, false and null)", word);
    }
    char ch[8];
    CUT_PRINTF(ch, sizeof ch, (unsigned char)c < 0x20 || (unsigned char)c >= 0x7F ? "\\x%02X" : "%c",
             (unsigned char)c);
    return fail(r, r->p, "unexpected character '%s'", ch);
}

void describe_syntax_error(const char *s, size_t len, size_t cj_at, size_t *at, char *msg, size_t n) {
    rec r = {.s = s, .len = len};
    if (value(&r, 0)) {
        ws(&r);
        if (r.p < len) fail(&r, r.p, "unexpected text after the end of the JSON value%s", NULL);
    }
    if (r.failed) {
        *at = r.at;
        CUT_PRINTF(msg, n, "%s", r.msg);
    } else { /* the recognizer accepts what cJSON refused: report cJSON's position */
        *at = cj_at;
        CUT_PRINTF(msg, n, "cannot be parsed here");
    }
}
