/* Screen layout: a pure function from the terminal size and the screen to rectangles.
 * Every screen has a tab bar (top row), a body, a key-hint line and a status line (the two
 * bottom rows); the body is split into panes per screen. Panes never overlap and stay
 * inside the body; optional panes are empty (w = h = 0) when the terminal is too small for
 * them. Below UI_MIN_W x UI_MIN_H only `too_small` is set. */
#ifndef UI_LAYOUT_H
#define UI_LAYOUT_H

#include <stdbool.h>

#define UI_MIN_W 40
#define UI_MIN_H 12

typedef struct ui_rect {
    int x, y, w, h;
} ui_rect;

/* Panes per screen (indices into ui_layout.pane). */
enum {
    UI_P_CFG_FILES = 0, /* file tabs: model | dataset | studio (1 row) */
    UI_P_CFG_TREE,
    UI_P_CFG_HELP,
    UI_P_CFG_PROBLEMS,
};
enum {
    UI_P_TR_STATUS = 0,
    UI_P_TR_CHART, /* the main chart */
    UI_P_TR_CHART2, /* optional: learning rate */
    UI_P_TR_CHART3, /* optional: grad norm */
    UI_P_TR_LOG,
};
enum {
    UI_P_DM_LIST = 0,
    UI_P_DM_INFO, /* the selected render: conditioning, transport, A/B */
    UI_P_DM_WAVE,
    UI_P_DM_SPEC,
};
enum {
    UI_P_RN_LIST = 0,
    UI_P_RN_DETAIL,
};
#define UI_PANES_MAX 6

typedef struct ui_layout {
    int w, h;
    bool too_small;
    ui_rect tabs, body, hints, status;
    int n_panes;
    ui_rect pane[UI_PANES_MAX];
} ui_layout;

void ui_layout_compute(int screen, int w, int h, ui_layout *out);

static inline bool ui_rect_empty(ui_rect r) { return r.w <= 0 || r.h <= 0; }
bool ui_rect_overlap(ui_rect a, ui_rect b);
bool ui_rect_inside(ui_rect inner, ui_rect outer);

#endif
