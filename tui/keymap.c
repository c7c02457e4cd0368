/* Key tables of the studio's screens (see keymap.h). One row per key; a key may appear on
 * several rows with the same action (j and ↓). */
#include "keymap.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const ui_binding GLOBAL[] = {
    {'q', UA_QUIT, "quit", "quit (asks first while training or with unsaved changes)"},
    {UI_KEY_CTRL('c'), UA_QUIT, NULL, "quit, as q"},
    {'?', UA_HELP, "help", "every key of this screen"},
    {UI_KEY_F1, UA_HELP, NULL, "help, as ?"},
    {'1', UA_SCREEN_CONFIG, NULL, "Config screen: edit the model, dataset and studio files"},
    {'2', UA_SCREEN_TRAIN, NULL, "Train screen: start/stop, status, loss curves, log"},
    {'3', UA_SCREEN_DEMOS, NULL, "Demos screen: renders, waveform, spectrogram, playback"},
    {'4', UA_SCREEN_RUNS, NULL, "Runs screen: earlier runs, open or resume one"},
    {UI_KEY_TAB, UA_SCREEN_NEXT, NULL, "next screen"},
    {UI_KEY_BTAB, UA_SCREEN_PREV, NULL, "previous screen"},
    {UI_KEY_CTRL('l'), UA_REDRAW, NULL, "redraw the screen"},
    {UI_KEY_F12, UA_FRAME_STATS, NULL, "show frame times in the status line"},
};

#define LIST_KEYS                                                                                                     \
    {UI_KEY_UP, UA_UP, NULL, "move up"}, {'k', UA_UP, NULL, "move up"}, {UI_KEY_DOWN, UA_DOWN, NULL, "move down"},    \
        {'j', UA_DOWN, NULL, "move down"}, {UI_KEY_PGUP, UA_PGUP, NULL, "page up"},                                  \
        {UI_KEY_PGDN, UA_PGDN, NULL, "page down"}, {UI_KEY_HOME, UA_TOP, NULL, "first row"},                         \
        {UI_KEY_END, UA_BOTTOM, NULL, "last row"}

static const ui_binding CONFIG[] = {
    {UI_KEY_ENTER, UA_CFG_EDIT, "edit", "edit the selected key (type-aware: numbers, lists, choices, rows)"},
    {' ', UA_CFG_TOGGLE, NULL, "toggle a boolean; fold or unfold a section"},
    {'e', UA_CFG_RAW, NULL, "edit the selected value as raw JSON"},
    {'a', UA_CFG_ADD, "add", "add an optional key from the schema (or a row to demo_cond)"},
    {'d', UA_CFG_DELETE, "del", "delete the selected key or row"},
    {UI_KEY_DELETE, UA_CFG_DELETE, NULL, "delete, as d"},
    {'u', UA_CFG_UNDO, "undo", "undo"},
    {UI_KEY_CTRL('r'), UA_CFG_REDO, NULL, "redo"},
    {'U', UA_CFG_REDO, NULL, "redo"},
    {'s', UA_CFG_SAVE, "save", "save this file (atomic: the old file stays until the new one is complete)"},
    {'S', UA_CFG_SAVE_AS, NULL, "save this file under another name"},
    {'R', UA_CFG_REVERT, NULL, "revert to the file on disk"},
    {'f', UA_CFG_FILE, "file", "next file: model config, dataset config, studio file"},
    {'!', UA_CFG_PROBLEMS, "problems", "go to the problems list (Enter jumps to the key)"},
    {'/', UA_CFG_SEARCH, "find", "find a key by name or path"},
    {'n', UA_CFG_SEARCH_NEXT, NULL, "next match"},
    {'D', UA_CFG_DEFAULTS, NULL, "show or hide keys at their default"},
    {UI_KEY_LEFT, UA_LEFT, NULL, "fold the section"},
    {UI_KEY_RIGHT, UA_RIGHT, NULL, "unfold the section"},
    LIST_KEYS,
};

static const ui_binding TRAIN[] = {
    {'t', UA_TRAIN_START, "start", "start training (or resume the run's newest checkpoint)"},
    {'p', UA_TRAIN_PAUSE, "pause", "pause or resume training"},
    {' ', UA_TRAIN_PAUSE, NULL, "pause or resume training"},
    {'x', UA_TRAIN_STOP, "stop", "stop after this step and save a checkpoint"},
    {'w', UA_TRAIN_SAVE, "ckpt", "save a checkpoint now"},
    {'g', UA_TRAIN_DEMO, "demo", "render demos now"},
    {'l', UA_PLOT_LOG, "log", "log scale on/off"},
    {'+', UA_PLOT_ZOOM_IN, "zoom", "zoom in on steps"},
    {'=', UA_PLOT_ZOOM_IN, NULL, "zoom in"},
    {'-', UA_PLOT_ZOOM_OUT, NULL, "zoom out"},
    {UI_KEY_LEFT, UA_LEFT, NULL, "pan towards earlier steps"},
    {UI_KEY_RIGHT, UA_RIGHT, NULL, "pan towards later steps"},
    {'0', UA_PLOT_RESET, NULL, "show every step and follow the newest"},
    {']', UA_PLOT_SMOOTH_MORE, "smooth", "more smoothing (TensorBoard's debiased EMA weight)"},
    {'[', UA_PLOT_SMOOTH_LESS, NULL, "less smoothing"},
    {'m', UA_PLOT_SERIES, "series", "main chart: loss, learning rate, grad norm, loss by noise level"},
    {'r', UA_PLOT_RAW, NULL, "raw loss on/off (min/max per column)"},
    {'o', UA_PLOT_OUTLIERS, NULL, "ignore outliers when scaling the y axis"},
    {'b', UA_PLOT_GLYPHS, NULL, "dots: Braille, blocks or ASCII"},
    {UI_KEY_PGUP, UA_LOG_SCROLL_UP, NULL, "scroll the log up"},
    {UI_KEY_PGDN, UA_LOG_SCROLL_DOWN, NULL, "scroll the log down"},
};

static const ui_binding DEMOS[] = {
    {UI_KEY_ENTER, UA_DEMO_PLAY, "play", "play the selected render (it becomes A)"},
    {' ', UA_DEMO_PAUSE, "pause", "pause or resume playback"},
    {'s', UA_DEMO_STOP, "stop", "stop playback"},
    {'b', UA_DEMO_MARK_B, "B", "load the selected render as B"},
    {'x', UA_DEMO_AB, "A/B", "switch between A and B at the same position"},
    {UI_KEY_LEFT, UA_DEMO_SEEK_BACK, "seek", "back 1 s (a tenth of the clip when shorter)"},
    {UI_KEY_RIGHT, UA_DEMO_SEEK_FWD, NULL, "forward 1 s"},
    {'0', UA_DEMO_SEEK_START, NULL, "back to the start"},
    {'c', UA_DEMO_WHOLE, NULL, "show or hide the concatenated renders (all demos in one file)"},
    LIST_KEYS,
};

static const ui_binding RUNS[] = {
    {UI_KEY_ENTER, UA_RUN_OPEN, "open", "open the run: its curves and demos"},
    {'r', UA_RUN_RESUME, "resume", "resume training from the run's newest checkpoint"},
    {'R', UA_RUN_REFRESH, "refresh", "read the runs folder again"},
    {UI_KEY_F1 + 4, UA_RUN_REFRESH, NULL, "refresh, as R"},
    LIST_KEYS,
};

const ui_binding *ui_keymap_table(int screen, int *n) {
#define T(x)                                                                                                          \
    do {                                                                                                             \
        *n = (int)(sizeof x / sizeof *x);                                                                            \
        return x;                                                                                                    \
    } while (0)
    switch (screen) {
    case UI_SCREEN_CONFIG: T(CONFIG);
    case UI_SCREEN_TRAIN: T(TRAIN);
    case UI_SCREEN_DEMOS: T(DEMOS);
    case UI_SCREEN_RUNS: T(RUNS);
    default: T(GLOBAL);
    }
#undef T
}

ui_action ui_key_action(int screen, int key) {
    int n;
    const ui_binding *t = ui_keymap_table(screen, &n);
    if (screen != UI_SCREEN_GLOBAL)
        for (int i = 0; i < n; i++)
            if (t[i].key == key) return t[i].action;
    t = ui_keymap_table(UI_SCREEN_GLOBAL, &n);
    for (int i = 0; i < n; i++)
        if (t[i].key == key) return t[i].action;
    return UA_NONE;
}

void ui_key_name(int key, int utf8, char *buf, size_t n) {
    static const struct {
        int key;
        const char *utf8, *ascii;
    } names[] = {
        {UI_KEY_UP, "↑", "Up"},         {UI_KEY_DOWN, "↓", "Down"},      {UI_KEY_LEFT, "←", "Left"},
        {UI_KEY_RIGHT, "→", "Right"},   {UI_KEY_HOME, "Home", "Home"},   {UI_KEY_END, "End", "End"},
        {UI_KEY_PGUP, "PgUp", "PgUp"},  {UI_KEY_PGDN, "PgDn", "PgDn"},   {UI_KEY_BACKSPACE, "BkSp", "BkSp"},
        {UI_KEY_DELETE, "Del", "Del"},  {UI_KEY_INSERT, "Ins", "Ins"},   {UI_KEY_BTAB, "S-Tab", "S-Tab"},
        {UI_KEY_TAB, "Tab", "Tab"},     {UI_KEY_ENTER, "Enter", "Enter"}, {UI_KEY_ESC, "Esc", "Esc"},
        {' ', "Space", "Space"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].key == key) {
            snprintf(buf, n, "%s", utf8 ? names[i].utf8 : names[i].ascii);
            return;
        }
    if (key >= UI_KEY_F1 && key <= UI_KEY_F12)
        snprintf(buf, n, "F%d", key - UI_KEY_F1 + 1);
    else if (key > 0 && key < 32)
        snprintf(buf, n, "^%c", key + '@');
    else if (key >= 32 && key < 127)
        snprintf(buf, n, "%c", key);
    else
        snprintf(buf, n, "?");
}

static void add_pairs(const ui_binding *t, int nt, int width, int utf8, char *buf, size_t n, size_t *off, int *cols,
                     ui_action *seen, int *n_seen) {
    for (int i = 0; i < nt; i++) {
        if (!t[i].hint) continue;
        bool dup = false;
        for (int k = 0; k < *n_seen && !dup; k++) dup = seen[k] == t[i].action;
        if (dup) continue;
        char name[16], pair[64];
        ui_key_name(t[i].key, utf8, name, sizeof name);
        int len = snprintf(pair, sizeof pair, "%s%s %s", *cols ? "  " : "", name, t[i].hint);
        /* display columns: the arrows are one column but three bytes */
        int w = len - (utf8 && (unsigned char)name[0] >= 0x80 ? 2 : 0);
        if (*cols + w > width) continue;
        if (*off + (size_t)len + 1 > n) return;
        memcpy(buf + *off, pair, (size_t)len + 1);
        *off += (size_t)len;
        *cols += w;
        if (*n_seen < 64) seen[(*n_seen)++] = t[i].action;
    }
}

int ui_keymap_hints(int screen, int width, int utf8, char *buf, size_t n) {
    size_t off = 0;
    int cols = 0;
    ui_action seen[64];
    int n_seen = 0;
    if (n) buf[0] = 0;
    int nt;
    /* quit and help first: they must fit on the narrowest screen */
    const ui_binding *t = ui_keymap_table(UI_SCREEN_GLOBAL, &nt);
    add_pairs(t, nt, width, utf8, buf, n, &off, &cols, seen, &n_seen);
    if (screen != UI_SCREEN_GLOBAL) {
        t = ui_keymap_table(screen, &nt);
        add_pairs(t, nt, width, utf8, buf, n, &off, &cols, seen, &n_seen);
    }
    return cols;
}
