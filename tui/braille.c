/* Dot canvas and glyphs (see braille.h). */
#include "braille.h"

#include <stdlib.h>
#include <string.h>

int ui_canvas_reset(ui_canvas *c, int w, int h) {
    if (w < 0) w = 0;
    if (h < 0) h = 0;
    int n = w * h;
    if (n > c->cap) {
        uint8_t *m = realloc(c->mask, (size_t)n), *k = m ? realloc(c->color, (size_t)n) : NULL;
        if (m) c->mask = m;
        if (k) c->color = k;
        if (!m || !k) return -1;
        c->cap = n;
    }
    c->w = w;
    c->h = h;
    if (n) {
        memset(c->mask, 0, (size_t)n);
        memset(c->color, 0, (size_t)n);
    }
    return 0;
}

void ui_canvas_free(ui_canvas *c) {
    free(c->mask);
    free(c->color);
    memset(c, 0, sizeof *c);
}

uint8_t ui_braille_bit(int dx, int dy) {
    static const uint8_t bits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    return bits[dx & 1][dy & 3];
}

void ui_canvas_dot(ui_canvas *c, int x, int y, uint8_t color) {
    if (x < 0 || y < 0 || x >= 2 * c->w || y >= 4 * c->h) return;
    int i = (y >> 2) * c->w + (x >> 1);
    c->mask[i] |= ui_braille_bit(x & 1, y & 3);
    if (color >= c->color[i]) c->color[i] = color;
}

void ui_canvas_vline(ui_canvas *c, int x, int y0, int y1, uint8_t color) {
    if (y0 > y1) {
        int t = y0;
        y0 = y1;
        y1 = t;
    }
    if (y0 < 0) y0 = 0;
    if (y1 >= 4 * c->h) y1 = 4 * c->h - 1;
    for (int y = y0; y <= y1; y++) ui_canvas_dot(c, x, y, color);
}

void ui_canvas_line(ui_canvas *c, int x0, int y0, int x1, int y1, uint8_t color) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (int guard = 0; guard < 1 << 16; guard++) { /* Bresenham */
        ui_canvas_dot(c, x0, y0, color);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

uint32_t ui_glyph(uint8_t mask, ui_glyphs mode) {
    if (!mask) return ' ';
    int upper = (mask & 0x1b) != 0; /* rows 0-1: 0x01 0x02 0x08 0x10 */
    int lower = (mask & 0xe4) != 0; /* rows 2-3: 0x04 0x40 0x20 0x80 */
    switch (mode) {
    case UI_GLYPH_BRAILLE: return 0x2800u + mask;
    case UI_GLYPH_BLOCK: return upper && lower ? 0x2588u /* █ */ : upper ? 0x2580u /* ▀ */ : 0x2584u /* ▄ */;
    default: return upper && lower ? ':' : upper ? '\'' : '.';
    }
}
