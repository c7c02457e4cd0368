/* A one-line text field with type-aware input, for the config editor's prompts: integers,
 * numbers and lists of them are checked as they are typed (characters that cannot be part
 * of the value are refused; the state says whether the text is a valid value yet, could
 * become one, or cannot, and why), and the value comes out as JSON. Pure and unit-tested
 * (tests/unit/test_ui_text.c). Text is UTF-8; the cursor moves by characters. */
#ifndef UI_TEXTEDIT_H
#define UI_TEXTEDIT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ui_edit_kind {
    UI_EDIT_TEXT,        /* any string → a JSON string */
    UI_EDIT_INT,         /* → a JSON integer */
    UI_EDIT_NUMBER,      /* → a JSON number */
    UI_EDIT_INT_LIST,    /* "1, 2, 3" → [1, 2, 3] */
    UI_EDIT_NUMBER_LIST, /* "1, 3.5" → [1, 3.5] */
    UI_EDIT_STRING_LIST, /* "a, b" → ["a", "b"] */
    UI_EDIT_JSON,        /* raw JSON, passed through (the document checks it) */
    UI_EDIT_SCALAR,      /* a number, true/false/null as such, anything else as a string */
} ui_edit_kind;

typedef enum ui_edit_state { UI_EDIT_OK, UI_EDIT_PARTIAL, UI_EDIT_BAD } ui_edit_state;

typedef enum ui_edit_result {
    UI_EDIT_CONTINUE, /* keep editing */
    UI_EDIT_DONE,     /* Enter on a valid value */
    UI_EDIT_CANCEL,   /* Esc */
    UI_EDIT_REFUSED,  /* the key was refused (a character that cannot appear, Enter on a bad value) */
} ui_edit_result;

#define UI_EDIT_MAX 1024

typedef struct ui_textedit {
    ui_edit_kind kind;
    char buf[UI_EDIT_MAX];
    int len, cur; /* bytes */
    bool has_range;
    double min, max; /* for numbers and list elements */
} ui_textedit;

void ui_textedit_init(ui_textedit *e, ui_edit_kind kind, const char *initial);
void ui_textedit_set_range(ui_textedit *e, double min, double max);
/* Applies one key (keymap.h codes; printable keys are Unicode code points). */
ui_edit_result ui_textedit_key(ui_textedit *e, int key);
/* Whether the text is a value of its kind; msg (may be NULL) says what is wrong or missing. */
ui_edit_state ui_textedit_check(const ui_textedit *e, char *msg, size_t n);
/* The value as JSON text; false if the text is not a valid value. */
bool ui_textedit_json(const ui_textedit *e, char *out, size_t n);
/* A JSON value shown for editing: strings without quotes, lists as "1, 3" (for the kinds
 * above; JSON and others as is). */
void ui_textedit_from_json(ui_edit_kind kind, const char *json, char *out, size_t n);
/* Display column of the cursor (characters before it). */
int ui_textedit_cursor_col(const ui_textedit *e);

#endif
