/* safetensors reading (mmap'd) and writing (atomic).
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
 * then the raw little-endian C-order data, offsets relative to the end of the header.
 * Opening validates everything before any tensor is used: header size sane and inside
 * the file, JSON an object, dtypes known, shapes non-negative, offsets in range,
 * end - begin == numel * dtype size, no two tensors overlapping. Every error names the
 * file and the tensor. */
#ifndef DS_SAFETENSORS_H
#define DS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/status.h"

typedef enum ds_dtype { DS_F32, DS_F64, DS_F16, DS_BF16, DS_I64, DS_I32, DS_I16, DS_I8, DS_U8, DS_BOOL } ds_dtype;

const char *ds_dtype_name(ds_dtype t);
size_t ds_dtype_size(ds_dtype t);

#define DS_ST_MAX_DIMS 8

typedef struct ds_st_tensor {
    char *name;
    ds_dtype dtype;
    int ndim;
    int64_t shape[DS_ST_MAX_DIMS];
    int64_t numel;
    const unsigned char *data; /* into the mapping */
    size_t nbytes;
} ds_st_tensor;

typedef struct ds_safetensors {
    char path[4096];
    void *map;
    size_t map_size;
    ds_st_tensor *t;
    int n;
    char **meta_keys, **meta_vals;
    int n_meta;
} ds_safetensors;

ds_status ds_st_open(ds_safetensors *f, const char *path, ds_err *err);
void ds_st_close(ds_safetensors *f);
const ds_st_tensor *ds_st_find(const ds_safetensors *f, const char *name);
const char *ds_st_meta(const ds_safetensors *f, const char *key);
/* Converts any float dtype (and integers) to float32 into dst[numel]. */
void ds_st_to_f32(const ds_st_tensor *t, float *dst);
/* Loads tensor `name` into dst after checking the shape; errors name file and tensor. */
ds_status ds_st_load_f32(const ds_safetensors *f, const char *name, int ndim, const int64_t *shape,
                         float *dst, ds_err *err);

typedef struct ds_st_entry {
    const char *name;
    ds_dtype dtype;
    int ndim;
    int64_t shape[DS_ST_MAX_DIMS];
    const void *data;
} ds_st_entry;

/* Writes entries (sorted by name in the file, as torch does) atomically.
 * meta: n_meta key/value pairs (may be 0). */
ds_status ds_st_write(const char *path, const ds_st_entry *e, int n, const char *const *meta_keys,
                      const char *const *meta_vals, int n_meta, ds_err *err);

#endif
