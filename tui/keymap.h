/* The studio's keys: key codes independent of curses (tui/term.c translates what ncurses
 * reads into these), the actions they stand for, and one table per screen that drives both
 * the dispatch and the help (`?`) and hint lines. Pure: no curses, no state; any thread. */
#ifndef UI_KEYMAP_H
#define UI_KEYMAP_H

#include <stddef.h>

/* Key codes: printable characters are their Unicode code point; control keys are 1..31
 * (UI_KEY_CTRL('c') == 3); special keys live above the Unicode range. */
#define UI_KEY_CTRL(c) ((c) & 0x1f)
enum {
    UI_KEY_NONE = -1,
    UI_KEY_TAB = 9,
    UI_KEY_ENTER = 10,
    UI_KEY_ESC = 27,
    UI_KEY_SPECIAL = 0x110000,
    UI_KEY_UP,
    UI_KEY_DOWN,
    UI_KEY_LEFT,
    UI_KEY_RIGHT,
    UI_KEY_HOME,
    UI_KEY_END,
    UI_KEY_PGUP,
    UI_KEY_PGDN,
    UI_KEY_BACKSPACE,
    UI_KEY_DELETE,
    UI_KEY_INSERT,
    UI_KEY_BTAB, /* shift-Tab */
    UI_KEY_RESIZE,
    UI_KEY_F1,
    UI_KEY_F12 = UI_KEY_F1 + 11,
};

enum {
    UI_SCREEN_CONFIG,
    UI_SCREEN_TRAIN,
    UI_SCREEN_DEMOS,
    UI_SCREEN_RUNS,
    UI_SCREEN_COUNT,
    UI_SCREEN_GLOBAL = UI_SCREEN_COUNT, /* the table that applies on every screen */
};

typedef enum ui_action {
    UA_NONE,
    /* global */
    UA_QUIT,
    UA_HELP,
    UA_SCREEN_CONFIG,
    UA_SCREEN_TRAIN,
    UA_SCREEN_DEMOS,
    UA_SCREEN_RUNS,
    UA_SCREEN_NEXT,
    UA_SCREEN_PREV,
    UA_REDRAW,
    UA_FRAME_STATS, /* hidden: show frame times in the status line */
    /* movement, shared by lists */
    UA_UP,
    UA_DOWN,
    UA_PGUP,
    UA_PGDN,
    UA_TOP,
    UA_BOTTOM,
    UA_LEFT,
    UA_RIGHT,
    UA_ENTER,
    /* config */
    UA_CFG_EDIT,
    UA_CFG_TOGGLE,
    UA_CFG_RAW,
    UA_CFG_ADD,
    UA_CFG_DELETE,
    UA_CFG_UNDO,
    UA_CFG_REDO,
    UA_CFG_SAVE,
    UA_CFG_SAVE_AS,
    UA_CFG_REVERT,
    UA_CFG_FILE,
    UA_CFG_PROBLEMS,
    UA_CFG_SEARCH,
    UA_CFG_SEARCH_NEXT,
    UA_CFG_DEFAULTS,
    UA_CFG_FOLD,
    /* train */
    UA_TRAIN_START,
    UA_TRAIN_PAUSE,
    UA_TRAIN_STOP,
    UA_TRAIN_SAVE,
    UA_TRAIN_DEMO,
    UA_PLOT_LOG,
    UA_PLOT_ZOOM_IN,
    UA_PLOT_ZOOM_OUT,
    UA_PLOT_RESET,
    UA_PLOT_SMOOTH_MORE,
    UA_PLOT_SMOOTH_LESS,
    UA_PLOT_SERIES,
    UA_PLOT_RAW,
    UA_PLOT_OUTLIERS,
    UA_PLOT_GLYPHS,
    UA_LOG_SCROLL_UP,
    UA_LOG_SCROLL_DOWN,
    /* demos */
    UA_DEMO_PLAY,
    UA_DEMO_PAUSE,
    UA_DEMO_STOP,
    UA_DEMO_SEEK_BACK,
    UA_DEMO_SEEK_FWD,
    UA_DEMO_SEEK_START,
    UA_DEMO_MARK_B,
    UA_DEMO_AB,
    UA_DEMO_WHOLE,
    /* runs */
    UA_RUN_OPEN,
    UA_RUN_RESUME,
    UA_RUN_REFRESH,
    UA_COUNT
} ui_action;

typedef struct ui_binding {
    int key;
    ui_action action;
    const char *hint; /* short word for the hint line; NULL: help only */
    const char *help; /* one line for the `?` screen */
} ui_binding;

/* The bindings of a screen (UI_SCREEN_GLOBAL for the global table). */
const ui_binding *ui_keymap_table(int screen, int *n);
/* The action of key on a screen: the screen's table first, then the global one. */
ui_action ui_key_action(int screen, int key);
/* "q", "Tab", "^R", "Enter", "←", "F1"…; utf8 false: ASCII names ("Left"). */
void ui_key_name(int key, int utf8, char *buf, size_t n);
/* The hint line of a screen: "key hint" pairs that fit in width
 * columns (each pair whole or not at all). Returns the columns used. */
int ui_keymap_hints(int screen, int width, int utf8, char *buf, size_t n);

#endif
