/* A dot canvas for terminal charts. Each cell holds 2x4 dots (Unicode Braille patterns,
 * U+2800 + mask); the same canvas can be shown with half blocks (1x2 per cell) or ASCII
 * when the terminal or font cannot show Braille. Dot bits, by (column, row) in the cell:
 *     (0,0) 0x01  (1,0) 0x08
 *     (0,1) 0x02  (1,1) 0x10
 *     (0,2) 0x04  (1,2) 0x20
 *     (0,3) 0x40  (1,3) 0x80
 * Each cell also keeps the colour (a small caller-defined index) of the last series drawn
 * into it with a higher priority. Pure; the caller owns the storage. */
#ifndef UI_BRAILLE_H
#define UI_BRAILLE_H

#include <stdint.h>

typedef enum ui_glyphs { UI_GLYPH_BRAILLE, UI_GLYPH_BLOCK, UI_GLYPH_ASCII, UI_GLYPH_COUNT } ui_glyphs;

typedef struct ui_canvas {
    int w, h;        /* cells */
    uint8_t *mask;   /* [h][w] dot bits */
    uint8_t *color;  /* [h][w] colour index (0: none) */
    int cap;         /* cells allocated */
} ui_canvas;

/* (Re)sizes and clears; returns 0, or -1 when out of memory. */
int ui_canvas_reset(ui_canvas *c, int w, int h);
void ui_canvas_free(ui_canvas *c);

/* Dot coordinates: x in [0, 2w), y in [0, 4h), y = 0 at the top. Out-of-range dots are
 * ignored. A dot's cell takes `color` when color >= the cell's current colour. */
void ui_canvas_dot(ui_canvas *c, int x, int y, uint8_t color);
void ui_canvas_vline(ui_canvas *c, int x, int y0, int y1, uint8_t color);
void ui_canvas_line(ui_canvas *c, int x0, int y0, int x1, int y1, uint8_t color);

uint8_t ui_braille_bit(int dx, int dy);
/* The character for a cell's mask in a glyph mode (0x20 for an empty cell). */
uint32_t ui_glyph(uint8_t mask, ui_glyphs mode);

#endif
