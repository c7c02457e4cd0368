/* Internals of the config layer (engine/src/config/): the document structure, JSON path
 * helpers, schema evaluation and the validation context. The only engine code besides the
 * writers that sees cJSON. */
#ifndef DS_CONFIG_INTERNAL_H
#define DS_CONFIG_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config_doc.h"

#define JPATH_MAX 512 /* longest JSON path handled; longer ones are cut (and never match) */

/* snprintf where cutting is intended (paths and messages are bounded); using the result
 * keeps -Wformat-truncation quiet without hiding other format checks. */
#define CUT_PRINTF(buf, n, ...)                                                              \
    do {                                                                                     \
        if (snprintf((buf), (n), __VA_ARGS__) < 0) (buf)[0] = 0;                             \
    } while (0)

/* ---- JSON paths (path.c) ---------------------------------------------------------------- */

typedef enum { SEG_END, SEG_KEY, SEG_INDEX, SEG_ANY_INDEX, SEG_BAD } seg_kind;

/* Reads one segment of a path at *p (a key, [N], [] or ["quoted key"]) and advances *p.
 * key gets the key (cut to keycap), index the element index. */
seg_kind path_next(const char **p, char *key, size_t keycap, int *index);
void path_join_key(char *out, size_t n, const char *parent, const char *key);
void path_join_index(char *out, size_t n, const char *parent, int index);
/* Parent path ("" for a top-level key) and last key; false for "". */
bool path_split(const char *path, char *parent, size_t n, char *last, size_t lastn);
/* Fills the [] of pattern with the indices of concrete, in order. */
void path_subst(const char *pattern, const char *concrete, char *out, size_t n);
/* Index of the first [N] in a concrete path, -1 if none. */
int path_first_index(const char *path);

/* ---- Documents (doc.c) ------------------------------------------------------------------ */

typedef struct node_info {
    const cJSON *node;         /* NULL: empty slot; NODE_TOMB: deleted */
    uint32_t key_off, key_len; /* raw key text with quotes; key_len 0: not an object member */
    uint32_t val_off, val_len; /* raw value text */
    bool is_inline;            /* container written on one line in the source */
    bool dirty;                /* the value or something inside it was edited */
    char *own;                 /* raw text given through the editing API (numbers) */
} node_info;

typedef struct node_map {
    node_info *slots;
    size_t cap, used; /* used counts live entries and tombstones */
} node_map;

struct ds_config_doc {
    char path[DS_PATH_LEN];
    char *src; /* source text, NUL-terminated; NULL for documents built in memory */
    size_t len;
    cJSON *root;
    node_map map;
    uint32_t *line_off; /* byte offset of each line's start */
    int n_lines;
    char indent[17];  /* one indent level as found in the source ("    " by default) */
    char newline[3];  /* "\n" or "\r\n" */
    char *trailing;   /* whitespace after the root value, kept on save */
    bool modified;
    unsigned apply_bit; /* DS_APPLY_* of the document: set on parse and after every edit */
};

#define NODE_TOMB ((const cJSON *)(uintptr_t)1)

ds_status doc_parse_text(const char *text, size_t len, const char *name, bool need_object,
                         ds_config_doc **out, ds_diag_list *diags, ds_err *err);
node_info *doc_info(const ds_config_doc *doc, const cJSON *node);
node_info *doc_info_add(ds_config_doc *doc, const cJSON *node);
/* Forgets the nodes of a subtree (before cJSON frees it). */
void doc_info_forget(ds_config_doc *doc, const cJSON *node);
/* Byte offset → 1-based line and column (columns count UTF-8 characters). */
void doc_linecol(const ds_config_doc *doc, size_t off, int *line, int *col);

/* Object member by exact key; with duplicates the LAST one, as Python's json keeps. */
cJSON *obj_get(const cJSON *obj, const char *key);
/* Node at a concrete path, NULL if absent. */
cJSON *doc_resolve(const ds_config_doc *doc, const char *path);
/* Position of path, or of its nearest ancestor in the file. */
void doc_pos_or_parent(const ds_config_doc *doc, const char *path, bool want_key, int *line, int *col);
/* The string at path, or NULL if absent / not a string. */
const char *doc_str(const ds_config_doc *doc, const char *path);

/* ---- Writing (doc_write.c) -------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;
void sb_add(sbuf *b, const char *s, size_t n);
void sb_str(sbuf *b, const char *s);
void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Compact JSON of a node ("[1, 2]", "{\"a\": 1}"), original number/string text kept. */
void doc_compact(const ds_config_doc *doc, const cJSON *node, sbuf *b);
/* Python repr of a float: shortest round-trip digits, "1e-05", "0.0001", "3.0". */
void fmt_py_float(double v, char *buf, size_t n);
/* Short description of a value for messages: "\"big\"", "1e999", "a list", "an object". */
void describe_value(const ds_config_doc *doc, const cJSON *node, char *buf, size_t n);

/* ---- Schema evaluation (schema.c) ------------------------------------------------------- */

typedef enum { APPLY_NO, APPLY_YES, APPLY_UNKNOWN } apply_result;

/* The DS_APPLY_* bit of a document (by kind and model_type); 0 if unknown. doc_apply_bit
 * returns the value cached in the document; doc_compute_bit derives it (on parse and after
 * each edit: the kind and model_type may change). */
unsigned doc_apply_bit(const ds_config_doc *doc);
unsigned doc_compute_bit(const ds_config_doc *doc);
/* Does row k apply at concrete path `path` of doc? UNKNOWN when its discriminator is absent
 * or not a known value (its subtree is then not checked: the discriminator's own error is
 * enough). */
apply_result schema_applies(const ds_config_doc *doc, unsigned apply_bit, const ds_schema_key *k,
                            const char *path);
/* Why a row does not apply, for "not used ..." warnings. */
void schema_why_not(const ds_config_doc *doc, unsigned apply_bit, const ds_schema_key *k,
                    const char *path, char *buf, size_t n);
/* Checks a value against a row; returns false and writes the message if it does not fit. */
bool schema_check_value(const ds_config_doc *doc, const ds_schema_key *k, const cJSON *v,
                        char *msg, size_t n);
/* JSON syntax (syntax.c): the first mistake of text cJSON refused, its offset and wording
 * (cj_at, cJSON's error position, is the fallback); and the grammar of one number as
 * Python's json reads it. */
void describe_syntax_error(const char *s, size_t len, size_t cj_at, size_t *at, char *msg, size_t n);
bool json_number_ok(const char *s, size_t len, char *why, size_t n);
/* Checks one element of a list row (or the value itself for other rows). */
bool schema_check_element(const ds_config_doc *doc, const ds_schema_key *k, const cJSON *v, char *msg, size_t n);
/* Is `value` one of the '|'-separated `list`? */
bool list_has(const char *list, const char *value);
/* Index of value in the '|'-separated list, -1 if absent. */
int list_index(const char *list, const char *value);
/* Damerau-Levenshtein distance (capped); for "did you mean". */
int edit_distance(const char *a, const char *b);
/* Best near miss of word among '|'-separated candidates, or NULL. */
const char *near_miss(const char *word, const char *const *cands, int n);
const char *apply_bit_name(unsigned bit);

/* ---- Validation and loading ------------------------------------------------------------- */

typedef struct vctx {
    const ds_config_doc *doc;
    ds_diag_list *diags;
    unsigned bit; /* DS_APPLY_* of the document */
} vctx;

/* Adds a diagnostic located at path (or its nearest ancestor in the file). at_key: point at
 * the key rather than the value. */
void vdiag(vctx *c, ds_diag_severity sev, const char *path, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The generic schema walk: types, ranges, allowed values, unknown keys (with a near miss),
 * keys that do not apply, missing required keys. */
void validate_walk(vctx *c);
/* Applies the bound rows of `target` to base (rows applying to this document; element rows
 * with index `elem`): the file's value where valid, else the row's default. */
void bind_apply(vctx *c, ds_bind_target target, void *base, int elem);
/* Writes a JSON value into a bound field (false if it does not fit the binding). */
bool bind_store(const ds_schema_key *k, void *base, const cJSON *v);
void model_checks(vctx *c, const ds_model_config *m);
void runnable_model(const ds_model_config *m, const ds_config_doc *doc, ds_diag_list *diags,
                    ds_diag_severity sev);
void runnable_dataset(const ds_dataset_config *d, const ds_config_doc *doc, ds_diag_list *diags,
                      ds_diag_severity sev);
/* Folder of a file path ("." if none), and path joined to it unless absolute. */
void path_dir(const char *file, char *out, size_t n);
void path_resolve(const char *dir, const char *p, char *out, size_t n);

#endif
