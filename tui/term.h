/* The terminal: the only file that initialises and ends curses (htop's CRT.c). It sets up
 * the locale (UTF-8 or ASCII glyphs), raw mode, colours (256, 8/16 or none, NO_COLOR), reads
 * keys as keymap.h codes, and makes sure the terminal is always given back:
 *   - on quit (ui_term_end);
 *   - on SIGINT/SIGTERM/SIGHUP: a flag and a byte on a self-pipe the event loop polls (raw
 *     mode turns Ctrl-C into a key; SIGINT still comes from `kill`);
 *   - on a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT): an async-signal-safe reset
 *     (saved termios, the terminal's own exit sequences, stderr back), then the previous
 *     handler (a sanitizer's, or the default) runs;
 *   - on an engine assertion: the same reset through the engine's abort hook.
 * While curses is active, fd 2 points at a log file so ALSA/JACK chatter never smears the
 * screen; ui_term_end puts it back. Main thread only. */
#ifndef UI_TERM_H
#define UI_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include <curses.h>

typedef struct ui_term_caps {
    bool utf8;  /* the locale is UTF-8 (and DIFFSTUDIO_ASCII is not set) */
    int colors; /* 0 (monochrome), 8, 16, 256… */
} ui_term_caps;

/* Colour roles: ui_attr(role) gives the attribute to draw with (colours, or bold/reverse/
 * dim on a monochrome terminal). */
enum {
    UI_R_NORMAL,
    UI_R_DIM,
    UI_R_TITLE,
    UI_R_TAB,
    UI_R_TAB_ACTIVE,
    UI_R_SELECT,
    UI_R_KEY,
    UI_R_STATUS,
    UI_R_ERROR,
    UI_R_WARN,
    UI_R_OK,
    UI_R_DEFAULT_VALUE,
    UI_R_AXIS,
    UI_R_RAW,
    UI_R_SMOOTH,
    UI_R_SERIES2,
    UI_R_CURSOR,
    UI_R_MARK,
    UI_R_INPUT,
    UI_R_BUCKET0, /* UI_R_BUCKET0 + k, k < 10 */
    UI_R_COUNT = UI_R_BUCKET0 + 10,
};

/* Starts curses. stderr_log: where fd 2 goes meanwhile. Returns false with a message in err
 * when the terminal cannot be used. */
bool ui_term_start(const char *stderr_log, ui_term_caps *caps, char *err, size_t n);
/* Ends curses and restores the terminal, the signal handlers and stderr. Idempotent. */
void ui_term_end(void);
bool ui_term_active(void);

/* The next key (keymap.h code), or UI_KEY_NONE when none is waiting. */
int ui_term_key(void);
/* Readable when a termination signal arrived; ui_term_signal() returns and clears it. */
int ui_term_signal_fd(void);
int ui_term_signal(void);

int ui_attr(int role);
/* A colour pair for fg/bg terminal colours (cached; 0 when colours are off or pairs ran out). */
int ui_term_pair(int fg, int bg);

#endif
