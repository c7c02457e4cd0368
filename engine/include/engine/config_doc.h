/* Config documents: the three JSON files of a run (SAT model config, SAT dataset config,
 * studio file) as parsed trees that remember where every key and value sits in the source,
 * the schema table that describes every key, diagnostics, loading into the typed structs of
 * engine/config.h, in-memory editing, and saving back with the original formatting.
 *
 * The schema table (ds_schema[]) is the single description of every key: the loader's
 * defaults, the validator, `diffstudio config show/schema`, the TUI's config editor and the
 * docs all read it. Paths are dot-separated keys with [N] for array elements
 * ("training.demo.demo_cond[2].prompt"); keys containing '.', '[', ']' or '"' are written
 * ["..."]. Schema patterns use [] for "any element" and .* for "any key of a map".
 *
 * Thread safety: the schema is const and may be read from any thread. A ds_config_doc and a
 * ds_diag_list belong to one thread at a time. Nothing here prints; problems are returned as
 * diagnostics (ds_diag_list) and/or a ds_err. */
#ifndef DS_CONFIG_DOC_H
#define DS_CONFIG_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/status.h"

/* ------------------------------------------------------------------------------------------
 * Diagnostics: every problem found in a file, not just the first. */

typedef enum ds_diag_severity { DS_DIAG_ERROR, DS_DIAG_WARNING } ds_diag_severity;

typedef struct ds_diag {
    ds_diag_severity severity;
    int line, column;       /* 1-based; 0 when the problem has no place in the file */
    char file[DS_PATH_LEN]; /* the file it is about (a studio file's check reports its
                               model and dataset configs under their own names) */
    char path[256];         /* JSON path, "" for the file as a whole */
    char message[512];      /* what was found and what was expected */
} ds_diag;

#define DS_DIAG_MAX 1000 /* further diagnostics are only counted (n_dropped) */

typedef struct ds_diag_list {
    ds_diag *items;
    int n, cap;
    int n_errors, n_warnings; /* including dropped ones */
    int n_dropped;
} ds_diag_list;

void ds_diag_list_init(ds_diag_list *l);
void ds_diag_list_free(ds_diag_list *l);
/* Adds one diagnostic. Never fails: past DS_DIAG_MAX entries, or out of memory, it counts. */
void ds_diag_add(ds_diag_list *l, ds_diag_severity sev, const char *file, const char *path,
                 int line, int column, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* "file:line:col: error: path: message" (":line:col" and "path: " left out when unknown).
 * Returns the length snprintf would have written. */
int ds_diag_format(const ds_diag *d, char *buf, size_t n);
/* Sets err to the first error of l as formatted above, plus "(and N more problems)". */
ds_status ds_diag_to_err(const ds_diag_list *l, ds_status code, ds_err *err);

/* ------------------------------------------------------------------------------------------
 * Documents. */

typedef struct ds_config_doc ds_config_doc;

typedef enum ds_config_kind {
    DS_KIND_UNKNOWN,
    DS_KIND_MODEL,   /* has "model_type" (or "model") */
    DS_KIND_DATASET, /* has "dataset_type" or "datasets" */
    DS_KIND_STUDIO,  /* has studio keys ("model_config", "run_dir", ...) */
} ds_config_kind;

#define DS_CONFIG_MAX_BYTES (16u << 20) /* larger files are refused */
#define DS_CONFIG_MAX_DEPTH 64          /* deeper nesting is refused (no stack exhaustion) */

/* Reads and parses a file. On a JSON syntax error (or an unreadable, empty, binary or too
 * deeply nested file) returns DS_ERR_FORMAT/DS_ERR_IO with one diagnostic naming line:column,
 * and *out = NULL. Otherwise *out is a document the caller frees with ds_config_doc_free;
 * problems the parse noticed (duplicate keys, numbers Python's json rejects) are added to
 * diags (may be NULL). err (may be NULL) gets the first problem. */
ds_status ds_config_doc_load(const char *path, ds_config_doc **out, ds_diag_list *diags, ds_err *err);
/* The same from memory; name is used in diagnostics and as the default save path. */
ds_status ds_config_doc_parse(const char *text, size_t len, const char *name, ds_config_doc **out,
                              ds_diag_list *diags, ds_err *err);
void ds_config_doc_free(ds_config_doc *doc);

const char *ds_config_doc_path(const ds_config_doc *doc);
ds_config_kind ds_config_doc_kind(const ds_config_doc *doc);
const char *ds_config_kind_name(ds_config_kind k); /* "model config", ... */

/* Source position of the value at path (and of its key, when it is an object member).
 * Returns false if the path is not in the document, or its value was edited since the
 * document was read or saved (it has no place in the file yet). */
typedef struct ds_src_pos {
    int line, column;         /* of the value's first character; 1-based */
    int key_line, key_column; /* of the key's opening quote; 0 for array elements, the root */
} ds_src_pos;
bool ds_config_doc_locate(const ds_config_doc *doc, const char *path, ds_src_pos *pos);

/* Reading values: the value at path as compact JSON text (numbers keep their original text).
 * Returns false (and writes "") when absent. */
bool ds_config_doc_get_json(const ds_config_doc *doc, const char *path, char *buf, size_t n);
bool ds_config_doc_has(const ds_config_doc *doc, const char *path);
int ds_config_doc_array_len(const ds_config_doc *doc, const char *path); /* -1: not an array */

/* Checks a document against the schema and SAT's cross-field rules, by kind: loads it into
 * the typed struct and discards it. A studio file's model and dataset configs are loaded and
 * checked too. Model configs also get a warning for each part diffstudio cannot run yet.
 * Returns DS_OK if no errors were found, DS_ERR_INVALID otherwise. */
ds_status ds_config_doc_validate(const ds_config_doc *doc, ds_diag_list *diags);
/* Loads and validates any of the three kinds of file (what `diffstudio config check` does). */
ds_status ds_config_check_file(const char *path, ds_diag_list *diags);

/* ------------------------------------------------------------------------------------------
 * Loading into the typed structs of engine/config.h. Each fills *out with SAT's defaults and
 * the file's values, adds every problem to diags (may be NULL), and returns DS_OK, or
 * DS_ERR_INVALID if any error was found (*out is then filled as far as possible), or the
 * parse's status. err (may be NULL) gets the first error. */
ds_status ds_model_config_from_doc(const ds_config_doc *doc, ds_model_config *out, ds_diag_list *diags);
ds_status ds_dataset_config_from_doc(const ds_config_doc *doc, ds_dataset_config *out, ds_diag_list *diags);
ds_status ds_studio_config_from_doc(const ds_config_doc *doc, ds_studio_config *out, ds_diag_list *diags);

ds_status ds_model_config_load(const char *path, ds_model_config *out, ds_diag_list *diags, ds_err *err);
/* path may also be a folder of audio files: dataset_type "audio_dir" with one dataset. */
ds_status ds_dataset_config_load(const char *path, ds_dataset_config *out, ds_diag_list *diags, ds_err *err);
ds_status ds_studio_config_load(const char *path, ds_studio_config *out, ds_diag_list *diags, ds_err *err);
/* A studio config for a bare model config (what `diffstudio studio MODEL.json` uses):
 * defaults, model_config = path, name = its base name. */
void ds_studio_config_for_model(const char *model_path, ds_studio_config *out);

/* What diffstudio can run today. A config may be valid SAT and still name a conditioner,
 * pretransform, optimizer... that the engine does not implement; this names exactly what is
 * missing, e.g. `model.conditioning.configs[0] (id "prompt"): conditioner type "clap_text"
 * needs the CLAP model, which diffstudio cannot run yet`. Returns DS_OK or
 * DS_ERR_UNSUPPORTED; every missing part goes to diags (errors; may be NULL), the first to err. */
ds_status ds_model_config_check_runnable(const ds_model_config *cfg, ds_diag_list *diags, ds_err *err);
ds_status ds_dataset_config_check_runnable(const ds_dataset_config *cfg, ds_diag_list *diags, ds_err *err);

/* Spellings shared by the config, the CLI and the TUI ("diffusion_cond", "clap_text", ...). */
const char *ds_model_type_name(ds_model_type t);
const char *ds_cond_type_name(ds_cond_type t);
const char *ds_pretransform_type_name(ds_pretransform_type t);

/* ------------------------------------------------------------------------------------------
 * Editing. Every setter checks the value against the schema row that applies at that path in
 * this document (type, range, allowed values) and refuses keys the schema does not know
 * (DS_ERR_INVALID with a message naming the path, what was expected and what was given).
 * Missing parent objects are created; [N] with N == length appends. Nothing is written to
 * disk until ds_config_doc_save. */
ds_status ds_config_doc_set_json(ds_config_doc *doc, const char *path, const char *json, ds_err *err);
ds_status ds_config_doc_set_int(ds_config_doc *doc, const char *path, int64_t v, ds_err *err);
ds_status ds_config_doc_set_number(ds_config_doc *doc, const char *path, double v, ds_err *err);
ds_status ds_config_doc_set_bool(ds_config_doc *doc, const char *path, bool v, ds_err *err);
ds_status ds_config_doc_set_string(ds_config_doc *doc, const char *path, const char *v, ds_err *err);
/* Removes a key or array element; refuses required keys. */
ds_status ds_config_doc_delete(ds_config_doc *doc, const char *path, ds_err *err);
/* Adds an optional key that the schema knows, with its default value. */
ds_status ds_config_doc_add_default(ds_config_doc *doc, const char *path, ds_err *err);
bool ds_config_doc_modified(const ds_config_doc *doc);

/* ------------------------------------------------------------------------------------------
 * Writing. Key order, unknown keys, the indent width (and tabs), line endings, the original
 * text of unchanged numbers and strings, and containers written on one line are preserved;
 * everything else is written as Python's json.dump(indent=N) writes it ("key": value, one
 * element per line, [] and {} when empty). A file already in that form comes back byte for
 * byte. ds_config_doc_format returns a malloc'd NUL-terminated buffer the caller frees. */
ds_status ds_config_doc_format(const ds_config_doc *doc, char **out, size_t *len, ds_err *err);
/* Atomic: temporary file, fsync, rename; on failure the previous file is untouched.
 * path NULL saves to the document's own path. */
ds_status ds_config_doc_save(ds_config_doc *doc, const char *path, ds_err *err);

/* ------------------------------------------------------------------------------------------
 * The schema table. */

typedef enum ds_schema_type {
    DS_ST_INT,
    DS_ST_NUMBER,
    DS_ST_BOOL,
    DS_ST_STRING,
    DS_ST_ENUM,         /* a string out of `choices` */
    DS_ST_INT_LIST,
    DS_ST_NUMBER_LIST,
    DS_ST_STRING_LIST,
    DS_ST_ID_LIST,      /* strings naming conditioner ids */
    DS_ST_OBJECT,       /* keys described by rows PATH.key */
    DS_ST_OBJECT_ARRAY, /* list of objects; element keys are rows PATH[].key */
    DS_ST_MAP,          /* object with free keys; values described by the row PATH.* */
    DS_ST_SCALAR,       /* a string, number or boolean */
    DS_ST_ANY,          /* any JSON, kept as is and not checked (e.g. autoencoder internals) */
} ds_schema_type;

/* Which files / model types a row applies to (bit set). */
enum {
    DS_APPLY_COND = 1 << 0,    /* model_type diffusion_cond */
    DS_APPLY_INPAINT = 1 << 1, /* model_type diffusion_cond_inpaint */
    DS_APPLY_UNCOND = 1 << 2,  /* model_type diffusion_uncond */
    DS_APPLY_AE = 1 << 3,      /* model_type autoencoder (read as a pretransform definition) */
    DS_APPLY_OTHER = 1 << 4,   /* model_type diffusion_autoencoder, lm: read, not checked */
    DS_APPLY_DATASET = 1 << 5, /* dataset config */
    DS_APPLY_STUDIO = 1 << 6,  /* studio file */
};
#define DS_APPLY_DIFF_COND (DS_APPLY_COND | DS_APPLY_INPAINT)
#define DS_APPLY_DIFFUSION (DS_APPLY_DIFF_COND | DS_APPLY_UNCOND)
#define DS_APPLY_MODEL (DS_APPLY_DIFFUSION | DS_APPLY_AE | DS_APPLY_OTHER)

enum {
    DS_SF_REQUIRED = 1 << 0,    /* error when absent (where the row applies) */
    DS_SF_RECOMMENDED = 1 << 1, /* warning when absent */
    DS_SF_NULLABLE = 1 << 2,    /* null is allowed (SAT's None) */
    DS_SF_IGNORED = 1 << 3,     /* SAT reads it but it has no effect: warning when present */
    DS_SF_OPEN_ENUM = 1 << 4,   /* `choices` are the known values; others are valid SAT */
    DS_SF_WHEN_NOT = 1 << 5,    /* applies when the discriminator is NOT one of when_in */
    DS_SF_MIN_EXCL = 1 << 6,    /* range: value > min (not >=) */
    DS_SF_MAX_EXCL = 1 << 7,    /* range: value < max (not <=) */
    DS_SF_DERIVED = 1 << 8,     /* absent: computed from other keys (see help) */
    DS_SF_PATH = 1 << 9,        /* a file or folder, relative to the file's folder */
    DS_SF_KWARGS = 1 << 10,     /* object SAT passes as Python keyword arguments: a key the
                                   callee does not take makes SAT fail (TypeError) */
};

/* Where the loader stores a value (internal to the loader; other readers may ignore it). */
typedef enum ds_bind_target {
    DS_BT_NONE,
    DS_BT_MODEL,         /* ds_model_config */
    DS_BT_CONDITIONER,   /* ds_conditioner_config of the element */
    DS_BT_DATASET,       /* ds_dataset_config */
    DS_BT_DATASET_ENTRY, /* ds_dataset_entry of the element */
    DS_BT_STUDIO,        /* ds_studio_config */
} ds_bind_target;

typedef enum ds_bind_ctype {
    DS_BC_NONE,
    DS_BC_INT,       /* int */
    DS_BC_INT64,     /* int64_t */
    DS_BC_U64,       /* uint64_t */
    DS_BC_DOUBLE,    /* double */
    DS_BC_BOOL,      /* bool */
    DS_BC_STR,       /* char[size] */
    DS_BC_ENUM,      /* int-sized enum: index of the value in `choices` */
    DS_BC_INT_LIST,  /* int[cap] at off, int count at count_off */
    DS_BC_DOUBLE_LIST, /* double[cap] at off, int count at count_off */
    DS_BC_ID_LIST,   /* ds_id_list */
    DS_BC_STR_LIST,  /* char[cap][size] at off, int count at count_off */
} ds_bind_ctype;

typedef struct ds_schema_bind {
    uint8_t target; /* ds_bind_target */
    uint8_t ctype;  /* ds_bind_ctype */
    uint16_t cap;   /* list capacity */
    uint32_t off, count_off, size;
} ds_schema_bind;

typedef struct ds_schema_key {
    const char *path;   /* pattern, e.g. "model.diffusion.config.embed_dim",
                           "model.conditioning.configs[].config.min_val" */
    ds_schema_type type;
    const char *def;    /* SAT's default as JSON text; NULL: none (required, or absent) */
    bool has_range;     /* min/max apply: to numbers, list elements, string lengths */
    double min, max;
    const char *choices; /* ENUM: allowed values, '|'-separated */
    unsigned applies;    /* DS_APPLY_* */
    unsigned flags;      /* DS_SF_* */
    const char *when_key; /* discriminator pattern (e.g. "model.diffusion.type"); NULL: always */
    const char *when_in;  /* '|'-separated discriminator values the row is for */
    const char *help;     /* the seed document's wording where it covers the key */
    ds_schema_bind bind;
} ds_schema_key;

extern const ds_schema_key ds_schema[];
extern const int ds_schema_count;

/* Concrete path → pattern ("a.b[3].c" → "a.b[].c"). */
void ds_schema_pattern(const char *path, char *out, size_t n);
/* The first row for a path (concrete or pattern) that applies to any of `applies`
 * (DS_APPLY_* bits; ~0u for any), ignoring discriminators. NULL if none. */
const ds_schema_key *ds_schema_find(const char *path, unsigned applies);
/* All rows with that exact pattern (variants for different types), up to cap; returns the
 * count (may exceed cap). */
int ds_schema_find_all(const char *path, const ds_schema_key **out, int cap);
/* The row that applies at a concrete path of this document (discriminators resolved). */
const ds_schema_key *ds_schema_for_doc(const ds_config_doc *doc, const char *path);
/* Rows directly under a parent pattern ("" for the top level; "model.conditioning.configs[]"
 * for the elements of an array of objects), in table order; returns the count. */
int ds_schema_children(const char *parent, const ds_schema_key **out, int cap);
/* The element rows of an array of objects (pattern or concrete path of the array). */
int ds_schema_element_keys(const char *array_path, const ds_schema_key **out, int cap);
const char *ds_schema_type_name(ds_schema_type t);
/* "an integer from 1 to 65536", "true or false", "one of \"v\", \"rectified_flow\"" ... */
void ds_schema_describe(const ds_schema_key *k, char *buf, size_t n);
/* "diffusion_cond, diffusion_cond_inpaint; when model.diffusion.type is dit" */
void ds_schema_describe_applies(const ds_schema_key *k, char *buf, size_t n);

/* ------------------------------------------------------------------------------------------
 * The effective config: every key that applies to this document, in schema order, with its
 * value or SAT's default, then keys the schema does not know (kept from the file). Arrays of
 * objects are expanded per element; lists and opaque objects are one entry (compact JSON). */
typedef struct ds_effective_entry {
    const char *path;            /* concrete path */
    const char *value;           /* compact JSON text */
    bool is_default;             /* absent from the file: value is the default */
    bool is_derived;             /* absent and computed from other keys (see key->help) */
    const ds_schema_key *key;    /* NULL for keys the schema does not know */
} ds_effective_entry;
typedef void (*ds_effective_fn)(const ds_effective_entry *e, void *user);
void ds_config_doc_each_effective(const ds_config_doc *doc, ds_effective_fn fn, void *user);

/* The keys whose effective values differ between two config files (defaults applied on both
 * sides), as "path: old -> new" joined by "; " into out, at most `max` of them (then ", …").
 * Returns how many differ, or -1 if a file cannot be read (out then holds the reason). */
int ds_config_diff_files(const char *a, const char *b, int max, char *out, size_t n);

#endif
