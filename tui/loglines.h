/* The studio's log pane contents: a bounded ring of lines with a sequence number. Lines come
 * from the worker (copied in by the UI thread) and from audio/'s log callback, which may run
 * on any audio thread: pushing is thread-safe (one mutex, never held while calling out).
 * The UI thread copies lines out by sequence number. */
#ifndef UI_LOGLINES_H
#define UI_LOGLINES_H

#include <stdint.h>

#define UI_LOG_LINES 1024
#define UI_LOG_TEXT 256

typedef enum ui_log_level { UI_LOG_DEBUG, UI_LOG_INFO, UI_LOG_WARN, UI_LOG_ERROR } ui_log_level;

typedef struct ui_log_line {
    uint64_t seq;
    int level; /* ui_log_level */
    char text[UI_LOG_TEXT];
} ui_log_line;

void ui_log_push(int level, const char *text);
/* The newest sequence number (0: nothing logged yet). */
uint64_t ui_log_last(void);
/* Copies the line with this sequence number; 0 if it has left the ring. */
int ui_log_get(uint64_t seq, ui_log_line *out);
void ui_log_reset(void);

#endif
