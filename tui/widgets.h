/* Small drawing helpers on stdscr shared by the views: clipped UTF-8 text, single wide
 * characters, pane frames (a title rule, a left border beside another pane), wrapped text and
 * list scrolling. Main thread only; ASCII stand-ins when the locale is not UTF-8. */
#ifndef UI_WIDGETS_H
#define UI_WIDGETS_H

#include <stdbool.h>
#include <stdint.h>

#include "keymap.h"
#include "layout.h"

void ui_widgets_init(bool utf8);
bool ui_utf8(void);

/* Display columns of UTF-8 text. */
int ui_text_cols(const char *s);
/* Draws s at (y, x), at most maxw columns (cut with … when longer and cut is true).
 * Returns the columns drawn. */
int ui_put(int y, int x, int maxw, int attr, const char *s);
int ui_put_cut(int y, int x, int maxw, int attr, const char *s);
int ui_putf(int y, int x, int maxw, int attr, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* One character (a code point; the caller picks an ASCII one when !ui_utf8()). */
void ui_putwc(int y, int x, uint32_t cp, int attr);
void ui_fill(ui_rect r, int attr);
void ui_hline(int y, int x, int w, int attr);
/* A pane: a title rule on the top row (title at the left, `right` at the right), and a
 * border on the left when the pane does not start at column 0. Returns the inner rect. */
ui_rect ui_pane(ui_rect r, const char *title, const char *right, bool focus);
/* Word-wrapped text in w columns from (y, x), at most maxh rows; returns the rows used. */
int ui_wrap(int y, int x, int w, int maxh, int attr, const char *text);

/* Lists: the selection after a movement action (n rows, a page of `page` rows), and the
 * first row to show so that sel is visible in h rows. */
int ui_list_move(int sel, int n, ui_action a, int page);
int ui_list_top(int top, int sel, int n, int h);

/* Seconds as "1:05.3" or "4.20 s" for short clips. */
void ui_fmt_time(double s, char *buf, int n);

#endif
