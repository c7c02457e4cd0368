/* Modal dialogs over any screen: a question with a few answer keys, a text prompt (type-aware,
 * textedit.h), a menu, a checklist, a form (one field per conditioner id for a demo_cond
 * row: choices or text), and a scrolling text (the `?` help). The opener sets `purpose` and
 * context; when ui_modal_key returns UI_MODAL_DONE the opener reads the answer. Keys are
 * handled without curses; drawing is on stdscr. Main thread only. */
#ifndef UI_MODAL_H
#define UI_MODAL_H

#include <stdbool.h>

#include "textedit.h"

typedef enum ui_modal_kind {
    UI_MODAL_NONE,
    UI_MODAL_CONFIRM,
    UI_MODAL_PROMPT,
    UI_MODAL_MENU,
    UI_MODAL_CHECKLIST,
    UI_MODAL_FORM,
    UI_MODAL_TEXT,
} ui_modal_kind;

typedef enum ui_modal_result { UI_MODAL_OPEN, UI_MODAL_DONE, UI_MODAL_CANCEL } ui_modal_result;

#define UI_MODAL_ITEMS 256
#define UI_MODAL_FIELDS 16
#define UI_MODAL_OPTIONS 64

typedef struct ui_form_field {
    char name[64];
    int n_options; /* > 0: a choice among options */
    char options[UI_MODAL_OPTIONS][64];
    int opt;
    ui_textedit edit; /* otherwise: text of edit.kind */
} ui_form_field;

typedef struct ui_modal {
    ui_modal_kind kind;
    int purpose; /* the opener's tag */
    char title[128];
    char text[2048]; /* the question / the help text (lines separated by \n) */
    /* confirm: answer keys, the first is the default for Enter */
    char keys[8];
    int n_keys;
    int answer;
    /* prompt */
    ui_textedit edit;
    char hint[256];
    /* menu / checklist */
    char items[UI_MODAL_ITEMS][96];
    char details[UI_MODAL_ITEMS][160];
    bool checked[UI_MODAL_ITEMS];
    int order[UI_MODAL_ITEMS]; /* checklist: items in the order they were checked */
    int n_order;
    int n_items, sel, top;
    /* form */
    ui_form_field fields[UI_MODAL_FIELDS];
    int n_fields, field;
    /* text */
    int scroll;
    /* the opener's context */
    char ctx[1024];
    int ctx_index;
} ui_modal;

void ui_modal_close(ui_modal *m);
void ui_modal_confirm(ui_modal *m, int purpose, const char *title, const char *text, const char *keys);
void ui_modal_prompt(ui_modal *m, int purpose, const char *title, ui_edit_kind kind, const char *initial,
                     const char *hint);
void ui_modal_menu(ui_modal *m, int purpose, const char *title);
int ui_modal_add_item(ui_modal *m, const char *item, const char *detail, bool checked);
void ui_modal_checklist(ui_modal *m, int purpose, const char *title);
void ui_modal_form(ui_modal *m, int purpose, const char *title);
ui_form_field *ui_modal_add_field(ui_modal *m, const char *name);
void ui_modal_text(ui_modal *m, int purpose, const char *title, const char *text);

ui_modal_result ui_modal_key(ui_modal *m, int key);
void ui_modal_draw(const ui_modal *m, int w, int h);

#endif
