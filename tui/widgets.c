/* Drawing helpers (see widgets.h). */
#include "widgets.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "term.h"

static bool g_utf8;

void ui_widgets_init(bool utf8) { g_utf8 = utf8; }
bool ui_utf8(void) { return g_utf8; }

/* Decodes one UTF-8 character; returns its length (1 for a stray byte). */
static int utf8_next(const char *s, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    int len = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 1;
    if (len == 1) {
        *cp = '?';
        return 1;
    }
    uint32_t c = u[0] & (0x3F >> (len - 1));
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = '?';
            return i;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* Stand-ins for the few non-ASCII characters the studio's own text uses. */
static int ascii_for(uint32_t cp) {
    switch (cp) {
    case 0x00B7: return '-'; /* · */
    case 0x2026: return '.'; /* … */
    case 0x2190: case 0x25C0: return '<';
    case 0x2192: case 0x25B6: return '>';
    case 0x2191: return '^';
    case 0x2193: return 'v';
    case 0x25A0: return '#';
    case 0x23F8: return '|';
    case 0x2500: return '-';
    case 0x2502: return '|';
    default: return '?';
    }
}

static int cp_cols(uint32_t cp) {
    if (cp < 0x80) return cp >= 32 ? 1 : 0;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

int ui_text_cols(const char *s) {
    int cols = 0;
    while (*s) {
        uint32_t cp;
        s += utf8_next(s, &cp);
        cols += cp_cols(cp);
    }
    return cols;
}

void ui_putwc(int y, int x, uint32_t cp, int attr) {
    if (cp < 0x80 || !g_utf8) {
        mvaddch(y, x, (chtype)(cp < 0x80 && cp >= 32 ? cp : '?') | (chtype)attr);
        return;
    }
    wchar_t w[2] = {(wchar_t)cp, 0};
    cchar_t cc;
    setcchar(&cc, w, (attr_t)attr & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL);
    mvadd_wch(y, x, &cc);
}

static int put(int y, int x, int maxw, int attr, const char *s, bool cut) {
    if (maxw <= 0) return 0;
    int cols = 0;
    const char *p = s;
    int total = cut ? ui_text_cols(s) : 0;
    bool ellipsis = cut && total > maxw;
    int limit = ellipsis ? maxw - 1 : maxw;
    move(y, x);
    attron(attr);
    while (*p) {
        uint32_t cp;
        int len = utf8_next(p, &cp);
        int w = cp_cols(cp);
        if (cols + w > limit) break;
        if (cp < 32) cp = ' ', w = 1;
        if (cp < 0x80) {
            addch((chtype)cp);
        } else if (g_utf8) {
            addnstr(p, len);
        } else {
            addch((chtype)ascii_for(cp));
            w = 1;
        }
        cols += w;
        p += len;
    }
    if (ellipsis) {
        if (g_utf8)
            addstr("…");
        else
            addch('~');
        cols++;
    }
    attroff(attr);
    return cols;
}

int ui_put(int y, int x, int maxw, int attr, const char *s) { return put(y, x, maxw, attr, s, false); }
int ui_put_cut(int y, int x, int maxw, int attr, const char *s) { return put(y, x, maxw, attr, s, true); }

int ui_putf(int y, int x, int maxw, int attr, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put(y, x, maxw, attr, buf, true);
}

void ui_fill(ui_rect r, int attr) {
    attron(attr);
    for (int y = r.y; y < r.y + r.h; y++) mvhline(y, r.x, ' ', r.w);
    attroff(attr);
}

void ui_hline(int y, int x, int w, int attr) {
    for (int i = 0; i < w; i++) ui_putwc(y, x + i, g_utf8 ? 0x2500 : '-', attr);
}

ui_rect ui_pane(ui_rect r, const char *title, const char *right, bool focus) {
    if (ui_rect_empty(r)) return r;
    int border = r.x > 0 ? 1 : 0;
    int rule = ui_attr(focus ? UI_R_TITLE : UI_R_AXIS);
    ui_hline(r.y, r.x, r.w, rule);
    if (border) {
        ui_putwc(r.y, r.x, g_utf8 ? 0x252C : '+', rule);
        for (int y = r.y + 1; y < r.y + r.h; y++) ui_putwc(y, r.x, g_utf8 ? 0x2502 : '|', ui_attr(UI_R_AXIS));
    }
    int x = r.x + border + 1;
    if (title && title[0]) {
        char t[256];
        snprintf(t, sizeof t, " %s ", title);
        x += ui_put_cut(r.y, x, r.w - border - 2, ui_attr(focus ? UI_R_TITLE : UI_R_NORMAL) | (focus ? A_BOLD : 0), t);
    }
    if (right && right[0]) {
        char t[256];
        snprintf(t, sizeof t, " %s ", right);
        int w = ui_text_cols(t);
        if (r.x + r.w - 1 - w > x) ui_put(r.y, r.x + r.w - 1 - w, w, ui_attr(UI_R_DIM), t);
    }
    ui_rect in = {r.x + border, r.y + 1, r.w - border, r.h - 1};
    if (in.w <= 0 || in.h <= 0) in.w = in.h = 0;
    return in;
}

static int cols_between(const char *a, const char *b) {
    char buf[1024];
    size_t n = (size_t)(b - a) < sizeof buf - 1 ? (size_t)(b - a) : sizeof buf - 1;
    memcpy(buf, a, n);
    buf[n] = 0;
    return ui_text_cols(buf);
}

int ui_wrap(int y, int x, int w, int maxh, int attr, const char *text) {
    if (w <= 0 || maxh <= 0) return 0;
    int rows = 0;
    const char *p = text;
    while (*p && rows < maxh) {
        /* the longest run of whole words (spaces kept as written) that fits in w columns */
        const char *best = NULL, *q = p;
        while (*q && *q != '\n') {
            const char *s = q;
            while (*s == ' ') s++;
            while (*s && *s != ' ' && *s != '\n') s++;
            if (cols_between(p, s) > w) break;
            best = q = s;
        }
        if (!best) { /* one word longer than the line: cut it */
            best = p;
            while (*best && *best != '\n' && cols_between(p, best + 1) <= w) best++;
            if (best == p) best = p + 1;
        }
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(best - p), p);
        ui_put(y + rows, x, w, attr, buf);
        rows++;
        p = best;
        while (*p == ' ') p++;
        if (*p == '\n') p++;
    }
    return rows;
}

int ui_list_move(int sel, int n, ui_action a, int page) {
    if (n <= 0) return 0;
    if (page < 1) page = 1;
    switch (a) {
    case UA_UP: sel--; break;
    case UA_DOWN: sel++; break;
    case UA_PGUP: sel -= page; break;
    case UA_PGDN: sel += page; break;
    case UA_TOP: sel = 0; break;
    case UA_BOTTOM: sel = n - 1; break;
    default: break;
    }
    return sel < 0 ? 0 : sel >= n ? n - 1 : sel;
}

int ui_list_top(int top, int sel, int n, int h) {
    if (h <= 0) return 0;
    if (sel < top) top = sel;
    if (sel >= top + h) top = sel - h + 1;
    if (top > n - h) top = n - h;
    return top < 0 ? 0 : top;
}

void ui_fmt_time(double s, char *buf, int n) {
    if (s < 0) s = 0;
    if (s < 60)
        snprintf(buf, (size_t)n, "%.2f s", s);
    else
        snprintf(buf, (size_t)n, "%d:%04.1f", (int)(s / 60), s - 60 * (int)(s / 60));
}
