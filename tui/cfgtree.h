/* The config editor's model, without curses: one open config document (engine/config_doc.h)
 * with its rows as a tree generated from the schema (the effective config: every key that
 * applies, with the file's value or SAT's default), its diagnostics, and edits with undo and
 * redo. Every edit goes through the document's schema-checked setters; a refused edit leaves
 * the document as it was. Undo keeps the document's text before each edit (re-parsed on
 * undo, as saving does), so formatting survives any undo/redo sequence.
 *
 * Rows: sections (objects), elements of arrays of objects (conditioners), table rows
 * (elements whose keys are free, e.g. training.demo.demo_cond: one row per demo, its keys
 * the conditioner ids) and leaves. Owned by the UI thread; unit-tested in
 * tests/unit/test_ui_cfgtree.c. */
#ifndef UI_CFGTREE_H
#define UI_CFGTREE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/config_doc.h"
#include "textedit.h"

#define CFG_PATH 256
#define CFG_UNDO_MAX 64

typedef enum cfg_row_kind {
    CFG_ROW_SECTION, /* an object (or an array of objects) with rows below it */
    CFG_ROW_ELEMENT, /* an element of an array of objects, rows below it */
    CFG_ROW_TABLE,   /* an element with free keys, shown and edited as one row */
    CFG_ROW_LEAF,
} cfg_row_kind;

typedef struct cfg_row {
    char path[CFG_PATH];
    char label[96];
    char value[256]; /* compact JSON; a summary for elements and table rows */
    int depth;
    cfg_row_kind kind;
    bool is_default; /* absent from the file: the value is SAT's default */
    bool is_derived; /* absent and computed from other keys */
    bool in_file;
    const ds_schema_key *key; /* NULL where the schema has no row (unknown keys, elements) */
    int problem; /* -1: none; DS_DIAG_ERROR / DS_DIAG_WARNING: the worst at or below this row */
} cfg_row;

typedef struct cfg_doc {
    ds_config_doc *doc;
    char path[DS_PATH_LEN];
    char *saved; /* the text as it is on disk */
    char *undo[CFG_UNDO_MAX];
    int n_undo;
    char *redo[CFG_UNDO_MAX];
    int n_redo;
    ds_diag_list diags;
    cfg_row *rows;
    int n_rows, cap_rows;
    bool modified;
    uint64_t version; /* changes with every edit, undo, save or revert */
} cfg_doc;

ds_status cfg_doc_open(cfg_doc *d, const char *path, ds_err *err);
/* From text in memory (tests); path is where it would be saved. */
ds_status cfg_doc_open_text(cfg_doc *d, const char *text, const char *path, ds_err *err);
void cfg_doc_close(cfg_doc *d);
ds_config_kind cfg_doc_kind(const cfg_doc *d);

/* One edit of a group applied as one undo step. */
typedef enum cfg_op_kind { CFG_OP_SET, CFG_OP_DELETE, CFG_OP_ADD_DEFAULT } cfg_op_kind;
typedef struct cfg_op {
    cfg_op_kind kind;
    const char *path;
    const char *json; /* CFG_OP_SET */
} cfg_op;

/* Applies ops in order; on the first refusal restores the document and returns its error. */
ds_status cfg_doc_apply(cfg_doc *d, const cfg_op *ops, int n, ds_err *err);
ds_status cfg_doc_set(cfg_doc *d, const char *path, const char *json, ds_err *err);
ds_status cfg_doc_delete(cfg_doc *d, const char *path, ds_err *err);
bool cfg_doc_undo(cfg_doc *d);
bool cfg_doc_redo(cfg_doc *d);
/* Atomic save (path NULL: the document's own path; otherwise "save as"). */
ds_status cfg_doc_save(cfg_doc *d, const char *path, ds_err *err);
/* Reloads the file from disk (undoable). */
ds_status cfg_doc_revert(cfg_doc *d, ds_err *err);

/* Index of the row for path, or of its nearest ancestor that has a row; -1 if none. */
int cfg_doc_find_row(const cfg_doc *d, const char *path);
/* The next row after `from` (wrapping) whose path contains text (case-insensitive); -1. */
int cfg_doc_search(const cfg_doc *d, const char *text, int from);
/* Rows to show: sections in `folded` hide their rows; hide_defaults hides leaves at their
 * default. Writes row indices to out (cap d->n_rows) and returns the count. */
int cfg_doc_visible(const cfg_doc *d, char (*folded)[CFG_PATH], int n_folded, bool hide_defaults, int *out);

/* Conditioners defined in a model config (model.conditioning.configs[]): ids and types. */
int cfg_doc_conditioners(const cfg_doc *d, char (*ids)[64], char (*types)[32], int cap);
/* The options of a list conditioner (config.options), or 0. */
int cfg_doc_cond_options(const cfg_doc *d, const char *id, char (*opts)[64], int cap);
/* Optional keys the schema allows directly under the object at obj_path ("" for the top)
 * that the file does not have: their rows and concrete paths. */
int cfg_doc_addable(const cfg_doc *d, const char *obj_path, const ds_schema_key **keys, char (*paths)[CFG_PATH],
                    int cap);
/* The object a new key for row r would go under: r itself for sections and elements, its
 * parent otherwise. */
void cfg_row_object(const cfg_row *r, char *out, size_t n);
/* Parent path ("a.b[2].c" → "a.b[2]"; "a" → ""). */
void cfg_path_parent(const char *path, char *out, size_t n);

/* How a row is edited. */
typedef enum cfg_editor {
    CFG_ED_NONE,   /* sections: fold/unfold */
    CFG_ED_TEXT,   /* a text prompt of *kind */
    CFG_ED_BOOL,   /* toggled */
    CFG_ED_CHOICE, /* picked from the schema's choices */
    CFG_ED_IDS,    /* conditioner ids picked from the defined conditioners */
    CFG_ED_ROW,    /* a table row: one field per conditioner id */
    CFG_ED_ROWS,   /* an array of table rows: Enter adds one */
} cfg_editor;
cfg_editor cfg_editor_for(const cfg_row *r, ui_edit_kind *kind);
/* The JSON of a new table row for a model config's conditioners (first option for lists, a number in
 * range for numbers, "" for text): {"prompt": "kick", "seconds_total": 1}. */
void cfg_doc_new_table_row(const cfg_doc *model, char *out, size_t n);

#endif
