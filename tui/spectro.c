/* Spectrogram display math (see spectro.h). */
#include "spectro.h"

#include <math.h>

int ui_spectro_palette(int ncolors, short *out, int cap) {
    /* an inferno-like ramp through the 6x6x6 cube: black, violet, magenta, red, orange, yellow */
    static const short ramp256[UI_SPECTRO_MAX_LEVELS] = {16,  17,  54,  55,  91,  127, 126, 161,
                                                         160, 196, 202, 208, 214, 220, 226, 229};
    static const short ramp8[] = {0 /* black */, 4 /* blue */, 5 /* magenta */, 1 /* red */, 3 /* yellow */,
                                  7 /* white */};
    const short *r;
    int n;
    if (ncolors >= 256) {
        r = ramp256;
        n = UI_SPECTRO_MAX_LEVELS;
    } else if (ncolors >= 8) {
        r = ramp8;
        n = (int)(sizeof ramp8 / sizeof *ramp8);
    } else {
        return 0;
    }
    if (n > cap) n = cap;
    for (int i = 0; i < n; i++) out[i] = r[i];
    return n;
}

int ui_spectro_level(float db, float floor_db, float top_db, int levels) {
    if (levels <= 1 || !(db > floor_db)) return 0; /* NaN → 0 */
    if (db >= top_db) return levels - 1;
    float t = (db - floor_db) / (top_db - floor_db);
    int l = (int)(t * (float)levels);
    return l < 0 ? 0 : l >= levels ? levels - 1 : l;
}

/* Bin range [*b0, *b1) of row r (0 = top). */
static void row_bins(int r, int rows, int bins, bool log_freq, int *b0, int *b1) {
    int k = rows - 1 - r; /* 0 = lowest frequency */
    if (log_freq && bins > 2) {
        double lo = 1, hi = bins;
        *b0 = (int)floor(lo * pow(hi / lo, (double)k / rows));
        *b1 = (int)floor(lo * pow(hi / lo, (double)(k + 1) / rows));
        if (k == 0) *b0 = 0;
    } else {
        *b0 = (int)((int64_t)k * bins / rows);
        *b1 = (int)((int64_t)(k + 1) * bins / rows);
    }
    if (*b1 <= *b0) *b1 = *b0 + 1;
    if (*b1 > bins) *b1 = bins;
    if (*b0 >= bins) *b0 = bins - 1;
}

void ui_spectro_grid(const float *spec, int frames, int bins, int cols, int rows, bool log_freq, float *out) {
    for (int r = 0; r < rows; r++) {
        int b0, b1;
        row_bins(r, rows, bins, log_freq, &b0, &b1);
        for (int c = 0; c < cols; c++) {
            float m = -INFINITY;
            if (frames > 0 && bins > 0) {
                int f0 = (int)((int64_t)c * frames / cols), f1 = (int)((int64_t)(c + 1) * frames / cols);
                if (f1 <= f0) f1 = f0 + 1;
                if (f1 > frames) f1 = frames;
                if (f0 >= frames) f0 = frames - 1;
                for (int f = f0; f < f1; f++)
                    for (int b = b0; b < b1; b++) {
                        float v = spec[(int64_t)f * bins + b];
                        if (v > m) m = v;
                    }
            }
            out[(int64_t)r * cols + c] = m;
        }
    }
}

uint32_t ui_spectro_shade(int level, int levels, bool utf8) {
    static const uint32_t u[] = {' ', 0x2591, 0x2592, 0x2593, 0x2588};
    static const uint32_t a[] = {' ', '.', ':', '*', '#'};
    if (levels <= 1) return ' ';
    int i = (int)((int64_t)level * 5 / levels);
    if (i < 0) i = 0;
    if (i > 4) i = 4;
    return utf8 ? u[i] : a[i];
}

ui_halfcell ui_spectro_cell(int top, int bottom) {
    ui_halfcell h;
    if (top == bottom) {
        h.ch = ' ';
        h.fg = top;
        h.bg = bottom;
    } else {
        h.ch = 0x2580; /* ▀ */
        h.fg = top;
        h.bg = bottom;
    }
    return h;
}
