/* Spectrogram display (tui/spectro.c): colour ramps per terminal, dB to levels, resampling to
 * terminal pixels with max pooling (a short click stays visible), half-block cells. */
#include <math.h>
#include <stdlib.h>

#include "spectro.h"
#include "testutil.h"

int main(void) {
    short pal[UI_SPECTRO_MAX_LEVELS];
    CHECK(ui_spectro_palette(256, pal, UI_SPECTRO_MAX_LEVELS) == 16);
    CHECK(pal[0] == 16 && pal[15] == 229); /* black to pale yellow */
    int distinct = 1;
    for (int i = 1; i < 16; i++) distinct &= pal[i] != pal[i - 1];
    CHECK(distinct);
    CHECK(ui_spectro_palette(8, pal, UI_SPECTRO_MAX_LEVELS) == 6);
    CHECK(pal[0] == 0 && pal[5] == 7);
    CHECK(ui_spectro_palette(16, pal, 3) == 3);
    CHECK(ui_spectro_palette(2, pal, UI_SPECTRO_MAX_LEVELS) == 0); /* monochrome: shades */

    CHECK(ui_spectro_level(-120, -80, 0, 16) == 0);
    CHECK(ui_spectro_level(-80, -80, 0, 16) == 0);
    CHECK(ui_spectro_level(0, -80, 0, 16) == 15);
    CHECK(ui_spectro_level(10, -80, 0, 16) == 15);
    CHECK(ui_spectro_level(-40, -80, 0, 16) == 8);
    CHECK(ui_spectro_level(NAN, -80, 0, 16) == 0);
    int mono = 1;
    for (float db = -100; db < 5; db += 1) {
        static int prev = 0;
        int l = ui_spectro_level(db, -80, 0, 6);
        mono &= l >= prev;
        prev = l;
    }
    CHECK(mono);

    /* spec[frames=8][bins=4]: silence except one loud frame in the top bin */
    float spec[8 * 4];
    for (int i = 0; i < 32; i++) spec[i] = -100;
    spec[5 * 4 + 3] = -3;
    float grid[2 * 2];
    ui_spectro_grid(spec, 8, 4, 2, 2, false, grid);
    /* row 0 is the top (high) half, column 1 the second half of the frames */
    CHECK(grid[0 * 2 + 1] == -3);
    CHECK(grid[0 * 2 + 0] == -100 && grid[1 * 2 + 0] == -100 && grid[1 * 2 + 1] == -100);
    /* more pixels than frames/bins: every pixel maps to some data */
    float big[10 * 20];
    ui_spectro_grid(spec, 8, 4, 20, 10, false, big);
    int finite = 1;
    for (int i = 0; i < 200; i++) finite &= isfinite(big[i]);
    CHECK(finite);
    ui_spectro_grid(spec, 8, 4, 20, 10, true, big);
    finite = 1;
    for (int i = 0; i < 200; i++) finite &= isfinite(big[i]);
    CHECK(finite);
    CHECK(big[0 * 20 + 13] == -3); /* top row, frame 5 of 8 at column 12-14 */

    ui_halfcell h = ui_spectro_cell(3, 3);
    CHECK(h.ch == ' ' && h.bg == 3);
    h = ui_spectro_cell(5, 1);
    CHECK(h.ch == 0x2580 && h.fg == 5 && h.bg == 1);
    CHECK(ui_spectro_shade(0, 16, true) == ' ' && ui_spectro_shade(15, 16, true) == 0x2588);
    CHECK(ui_spectro_shade(15, 16, false) == '#' && ui_spectro_shade(8, 16, false) == ':');
    return tu_finish("test_ui_spectro");
}
