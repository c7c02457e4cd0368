/* The schema: one row per key of every file diffstudio reads (sat-spec §1, §2; the seed
 * document's keys and wording). Loader defaults, validation, `config show/schema`, the TUI
 * editor and the docs all read this table; a new key is one row here.
 *
 * The rows live in schema_rows_*.inc, grouped by file section, all inside the one array
 * below. Backbone rows are written once and included twice, for the conditioned layout
 * (model.diffusion.type/config) and the unconditioned one (model.type/config), with the
 * macros P (path prefix), A (applies) and W (discriminator) set before each include.
 *
 * Row conventions: `def` is SAT's default as JSON (NULL: no default); `has_range` bounds
 * numbers, list elements and string lengths; the bind macros say where the loader stores
 * the value. Sizes have generous upper bounds so absurd values are refused up front. */
#include <math.h>
#include <stddef.h>

#include "config/config_internal.h"

#define RANGE(lo, hi) .has_range = true, .min = (lo), .max = (hi)
#define POS(hi) RANGE(1, hi)
#define NONNEG(hi) RANGE(0, hi)
#define I32MAX 2147483647.0
#define BIG 1e300

#define A_C DS_APPLY_COND
#define A_DC DS_APPLY_DIFF_COND
#define A_U DS_APPLY_UNCOND
#define A_D DS_APPLY_DIFFUSION
#define A_AE DS_APPLY_AE
#define A_M DS_APPLY_MODEL
#define A_DS DS_APPLY_DATASET
#define A_ST DS_APPLY_STUDIO

#define REQ DS_SF_REQUIRED
#define NUL DS_SF_NULLABLE

/* Field of a struct, for sizeof without an object. */
#define FLD(T, f) (((T *)0)->f)
#define BIND_(tg, T, ct, f) \
    .bind = {tg, ct, 0, (uint32_t)offsetof(T, f), 0, (uint32_t)sizeof(FLD(T, f))}
#define BIND_LIST_(tg, T, ct, arr, cnt)                                                     \
    .bind = {tg, ct, (uint16_t)(sizeof(FLD(T, arr)) / sizeof(FLD(T, arr)[0])),              \
             (uint32_t)offsetof(T, arr), (uint32_t)offsetof(T, cnt),                       \
             (uint32_t)sizeof(FLD(T, arr)[0])}
#define BIND_IDS_(tg, T, f) \
    .bind = {tg, DS_BC_ID_LIST, DS_MAX_IDS, (uint32_t)offsetof(T, f), 0, DS_ID_LEN}

#define BM(ct, f) BIND_(DS_BT_MODEL, ds_model_config, ct, f)
#define BM_LIST(ct, arr, cnt) BIND_LIST_(DS_BT_MODEL, ds_model_config, ct, arr, cnt)
#define BM_IDS(f) BIND_IDS_(DS_BT_MODEL, ds_model_config, f)
#define BC(ct, f) BIND_(DS_BT_CONDITIONER, ds_conditioner_config, ct, f)
#define BC_LIST(ct, arr, cnt) BIND_LIST_(DS_BT_CONDITIONER, ds_conditioner_config, ct, arr, cnt)
#define BD(ct, f) BIND_(DS_BT_DATASET, ds_dataset_config, ct, f)
#define BE(ct, f) BIND_(DS_BT_DATASET_ENTRY, ds_dataset_entry, ct, f)
#define BS(ct, f) BIND_(DS_BT_STUDIO, ds_studio_config, ct, f)

#define I DS_BC_INT
#define I64 DS_BC_INT64
#define U64 DS_BC_U64
#define D DS_BC_DOUBLE
#define B DS_BC_BOOL
#define S DS_BC_STR
#define E DS_BC_ENUM

#define T_INT .type = DS_ST_INT
#define T_NUM .type = DS_ST_NUMBER
#define T_BOOL .type = DS_ST_BOOL
#define T_STR .type = DS_ST_STRING
#define T_ENUM .type = DS_ST_ENUM
#define T_INTS .type = DS_ST_INT_LIST
#define T_NUMS .type = DS_ST_NUMBER_LIST
#define T_STRS .type = DS_ST_STRING_LIST
#define T_IDS .type = DS_ST_ID_LIST
#define T_OBJ .type = DS_ST_OBJECT
#define T_ARR .type = DS_ST_OBJECT_ARRAY
#define T_MAP .type = DS_ST_MAP
#define T_SCALAR .type = DS_ST_SCALAR
#define T_ANY .type = DS_ST_ANY

#define CONDS_ALL "t5|clap_text|clap_audio|int|number|list|lut|phoneme|pretransform|source_mix"

const ds_schema_key ds_schema[] = {
#include "config/schema_rows_model.inc"

/* DiT, DAU1d and ADP backbones, conditioned layout */
#define P "model.diffusion.config."
#define A A_DC
#define W "model.diffusion.type"
#define WADP "adp_cfg_1d|adp_1d"
#define WADP1 "adp_1d"
#include "config/schema_rows_dit.inc"
#include "config/schema_rows_unets.inc"
#undef P
#undef A
#undef W
#undef WADP
#undef WADP1

/* the same backbones, unconditioned (flat) layout */
#define DS_UNCOND_LAYOUT
#define P "model.config."
#define A A_U
#define W "model.type"
#define WADP "adp_uncond_1d|adp_1d"
#define WADP1 WADP
#include "config/schema_rows_dit.inc"
#include "config/schema_rows_unets.inc"
#undef P
#undef A
#undef W
#undef WADP
#undef WADP1
#undef DS_UNCOND_LAYOUT

#include "config/schema_rows_cond.inc"
#include "config/schema_rows_train.inc"
#include "config/schema_rows_files.inc"
};

const int ds_schema_count = (int)(sizeof ds_schema / sizeof ds_schema[0]);
