/* Spectrogram display, pure: resampling a spectrogram (dB, from audio/analysis.h) to a grid
 * of terminal pixels, levels between a floor and a top in dB, colour ramps for 256 and 8/16
 * colour terminals, and the half-block cell (▀ with the upper pixel as foreground and the
 * lower one as background: two pixels per cell). Monochrome terminals get shade characters
 * instead. Unit-tested in tests/unit/test_ui_spectro.c. */
#ifndef UI_SPECTRO_H
#define UI_SPECTRO_H

#include <stdbool.h>
#include <stdint.h>

#define UI_SPECTRO_MAX_LEVELS 16

/* The colour ramp (terminal colour numbers, quiet to loud) for a terminal with ncolors
 * colours: 16 levels from the 256-colour cube, 6 from the 8 basic colours, 0 below 8
 * (use ui_spectro_shade). Returns the number of levels written (at most cap). */
int ui_spectro_palette(int ncolors, short *out, int cap);
/* The level of db in [0, levels): floor_db and below → 0, top_db and above → levels−1,
 * linear in dB between. */
int ui_spectro_level(float db, float floor_db, float top_db, int levels);
/* Resamples spec[frames][bins] (bin 0 = DC) to out[rows][cols], row 0 the highest
 * frequency, each pixel the maximum over the frames and bins it covers (so short events
 * stay visible). log_freq: rows spaced logarithmically from bin 1 up. */
void ui_spectro_grid(const float *spec, int frames, int bins, int cols, int rows, bool log_freq, float *out);
/* Monochrome: a shade for a level (utf8: space ░ ▒ ▓ █; else " .:*#"). */
uint32_t ui_spectro_shade(int level, int levels, bool utf8);

typedef struct ui_halfcell {
    uint32_t ch; /* ▀ or a space */
    int fg, bg;  /* levels: fg for the upper pixel, bg for the lower */
} ui_halfcell;
/* Two vertically stacked pixels as one cell: equal levels give a space on that background. */
ui_halfcell ui_spectro_cell(int top, int bottom);

#endif
