#include "tensor/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"

#define MAX_HEADER (100u << 20) /* 100 MiB of JSON is already absurd */

static const struct {
    const char *name;
    ds_dtype t;
    size_t size;
} DTYPES[] = {
    {"F32", DS_F32, 4}, {"F64", DS_F64, 8}, {"F16", DS_F16, 2}, {"BF16", DS_BF16, 2},
    {"I64", DS_I64, 8}, {"I32", DS_I32, 4}, {"I16", DS_I16, 2}, {"I8", DS_I8, 1},
    {"U8", DS_U8, 1},   {"BOOL", DS_BOOL, 1},
};

const char *ds_dtype_name(ds_dtype t) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof *DTYPES; i++)
        if (DTYPES[i].t == t) return DTYPES[i].name;
    return "?";
}

size_t ds_dtype_size(ds_dtype t) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof *DTYPES; i++)
        if (DTYPES[i].t == t) return DTYPES[i].size;
    return 0;
}

static int dtype_parse(const char *s, ds_dtype *t) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof *DTYPES; i++)
        if (strcmp(DTYPES[i].name, s) == 0) {
            *t = DTYPES[i].t;
            return 0;
        }
    return -1;
}

void ds_st_close(ds_safetensors *f) {
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    if (f->map && f->map != MAP_FAILED) munmap(f->map, f->map_size);
    memset(f, 0, sizeof *f);
}

static int cmp_by_offset(const void *a, const void *b) {
    const ds_st_tensor *x = a, *y = b;
    return x->data < y->data ? -1 : x->data > y->data;
}

ds_status ds_st_open(ds_safetensors *f, const char *path, ds_err *err) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ds_err_set(err, DS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ds_err_set(err, DS_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < 8) {
        close(fd);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: not a safetensors file (%zu bytes, need at least 8)", path, size);
    }
    f->map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return ds_err_set(err, DS_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    }
    f->map_size = size;
    const unsigned char *b = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | b[i];
    if (hlen == 0 || hlen > MAX_HEADER || hlen > size - 8) {
        ds_st_close(f);
        return ds_err_set(err, DS_ERR_FORMAT,
                          "%s: header length %llu is not sane (file is %zu bytes): not a safetensors file",
                          path, (unsigned long long)hlen, size);
    }
    const unsigned char *data = b + 8 + hlen;
    size_t data_len = size - 8 - hlen;
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, hlen);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        ds_st_close(f);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: header is not a JSON object", path);
    }
    int n = cJSON_GetArraySize(root);
    f->t = calloc((size_t)(n ? n : 1), sizeof *f->t);
    ds_status s = DS_OK;
    for (cJSON *it = root->child; it && s == DS_OK; it = it->next) {
        const char *name = it->string ? it->string : "";
        if (strcmp(name, "__metadata__") == 0) {
            if (!cJSON_IsObject(it)) {
                s = ds_err_set(err, DS_ERR_FORMAT, "%s: __metadata__ is not an object", path);
                break;
            }
            int m = cJSON_GetArraySize(it);
            f->meta_keys = calloc((size_t)(m ? m : 1), sizeof(char *));
            f->meta_vals = calloc((size_t)(m ? m : 1), sizeof(char *));
            for (cJSON *kv = it->child; kv; kv = kv->next) {
                if (!cJSON_IsString(kv)) continue;
                f->meta_keys[f->n_meta] = strdup(kv->string);
                f->meta_vals[f->n_meta] = strdup(kv->valuestring);
                f->n_meta++;
            }
            continue;
        }
        ds_st_tensor *t = &f->t[f->n];
        cJSON *jd = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        cJSON *js = cJSON_GetObjectItemCaseSensitive(it, "shape");
        cJSON *jo = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsObject(it) || !cJSON_IsString(jd) || !cJSON_IsArray(js) || !cJSON_IsArray(jo) ||
            cJSON_GetArraySize(jo) != 2) {
            s = ds_err_set(err, DS_ERR_FORMAT,
                           "%s: tensor \"%s\": expected {\"dtype\": str, \"shape\": [ints], \"data_offsets\": [begin, end]}",
                           path, name);
            break;
        }
        if (dtype_parse(jd->valuestring, &t->dtype) != 0) {
            s = ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\": unknown dtype \"%s\"", path, name, jd->valuestring);
            break;
        }
        t->ndim = cJSON_GetArraySize(js);
        if (t->ndim > DS_ST_MAX_DIMS) {
            s = ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\": %d dimensions, at most %d supported",
                           path, name, t->ndim, DS_ST_MAX_DIMS);
            break;
        }
        t->numel = 1;
        int k = 0;
        for (cJSON *d = js->child; d; d = d->next, k++) {
            double v = cJSON_IsNumber(d) ? d->valuedouble : -1;
            if (v < 0 || v != floor(v) || v > 9.0e15) {
                s = ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\": shape entry %d is not a non-negative integer", path, name, k);
                break;
            }
            t->shape[k] = (int64_t)v;
            if (t->shape[k] && t->numel > INT64_MAX / 16 / t->shape[k]) {
                s = ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\": shape is absurdly large", path, name);
                break;
            }
            t->numel *= t->shape[k];
        }
        if (s != DS_OK) break;
        double ob = cJSON_GetArrayItem(jo, 0)->valuedouble, oe = cJSON_GetArrayItem(jo, 1)->valuedouble;
        if (!cJSON_IsNumber(cJSON_GetArrayItem(jo, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(jo, 1)) || ob < 0 ||
            oe < ob || oe > (double)data_len || ob != floor(ob) || oe != floor(oe)) {
            s = ds_err_set(err, DS_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets [%.0f, %.0f] outside the %zu data bytes", path, name, ob,
                           oe, data_len);
            break;
        }
        t->nbytes = (size_t)(oe - ob);
        if ((uint64_t)t->numel * ds_dtype_size(t->dtype) != t->nbytes) {
            s = ds_err_set(err, DS_ERR_FORMAT,
                           "%s: tensor \"%s\": %zu bytes for %lld elements of %s (expected %llu)", path, name,
                           t->nbytes, (long long)t->numel, jd->valuestring,
                           (unsigned long long)t->numel * ds_dtype_size(t->dtype));
            break;
        }
        t->data = data + (size_t)ob;
        t->name = strdup(name);
        f->n++;
    }
    cJSON_Delete(root);
    if (s != DS_OK) {
        ds_st_close(f);
        return s;
    }
    /* Overlap check on a copy sorted by offset. */
    if (f->n > 1) {
        ds_st_tensor *sorted = malloc((size_t)f->n * sizeof *sorted);
        memcpy(sorted, f->t, (size_t)f->n * sizeof *sorted);
        qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_by_offset);
        for (int i = 1; i < f->n; i++) {
            if (sorted[i - 1].nbytes && sorted[i].nbytes && sorted[i - 1].data + sorted[i - 1].nbytes > sorted[i].data) {
                s = ds_err_set(err, DS_ERR_FORMAT, "%s: tensors \"%s\" and \"%s\" overlap", path, sorted[i - 1].name,
                               sorted[i].name);
                break;
            }
        }
        free(sorted);
        if (s != DS_OK) {
            ds_st_close(f);
            return s;
        }
    }
    return DS_OK;
}

const ds_st_tensor *ds_st_find(const ds_safetensors *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *ds_st_meta(const ds_safetensors *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

static float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0)
            bits = sign;
        else { /* subnormal */
            float v = ldexpf((float)man, -24);
            return sign ? -v : v;
        }
    } else if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void ds_st_to_f32(const ds_st_tensor *t, float *dst) {
    const unsigned char *p = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        switch (t->dtype) {
        case DS_F32: memcpy(&dst[i], p + 4 * i, 4); break;
        case DS_F64: { double d; memcpy(&d, p + 8 * i, 8); dst[i] = (float)d; } break;
        case DS_F16: { uint16_t h; memcpy(&h, p + 2 * i, 2); dst[i] = half_to_f32(h); } break;
        case DS_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); uint32_t b = (uint32_t)h << 16; memcpy(&dst[i], &b, 4); } break;
        case DS_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); dst[i] = (float)v; } break;
        case DS_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = (float)v; } break;
        case DS_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = (float)v; } break;
        case DS_I8: dst[i] = (float)(int8_t)p[i]; break;
        case DS_U8: case DS_BOOL: dst[i] = (float)p[i]; break;
        }
    }
}

ds_status ds_st_load_f32(const ds_safetensors *f, const char *name, int ndim, const int64_t *shape, float *dst,
                         ds_err *err) {
    const ds_st_tensor *t = ds_st_find(f, name);
    if (!t) return ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\" is missing", f->path, name);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char want[128] = "[", got[128] = "[";
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), i ? ", %lld" : "%lld", (long long)shape[i]);
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), i ? ", %lld" : "%lld", (long long)t->shape[i]);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: tensor \"%s\": shape %s], expected %s]", f->path, name, got, want);
    }
    ds_st_to_f32(t, dst);
    return DS_OK;
}

static int cmp_entry(const void *a, const void *b) {
    const ds_st_entry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

ds_status ds_st_write(const char *path, const ds_st_entry *e, int n, const char *const *meta_keys,
                      const char *const *meta_vals, int n_meta, ds_err *err) {
    const ds_st_entry **order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++) order[i] = &e[i];
    qsort(order, (size_t)n, sizeof *order, cmp_entry);
    cJSON *root = cJSON_CreateObject();
    if (n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; i < n_meta; i++) cJSON_AddStringToObject(m, meta_keys[i], meta_vals[i]);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        const ds_st_entry *x = order[i];
        int64_t numel = 1;
        for (int d = 0; d < x->ndim; d++) numel *= x->shape[d];
        uint64_t nb = (uint64_t)numel * ds_dtype_size(x->dtype);
        cJSON *o = cJSON_AddObjectToObject(root, x->name);
        cJSON_AddStringToObject(o, "dtype", ds_dtype_name(x->dtype));
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < x->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)x->shape[d]));
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + nb)));
        off += nb;
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) {
        free(order);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t jl = strlen(json), padded = (jl + 7) & ~(size_t)7;
    unsigned char hdr[8];
    for (int i = 0; i < 8; i++) hdr[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    ds_atomic_file af;
    ds_status s = ds_atomic_open(&af, path, err);
    if (s == DS_OK) {
        ds_atomic_write(&af, hdr, 8);
        ds_atomic_write(&af, json, jl);
        static const char spaces[8] = "        ";
        ds_atomic_write(&af, spaces, padded - jl);
        for (int i = 0; i < n; i++) {
            const ds_st_entry *x = order[i];
            int64_t numel = 1;
            for (int d = 0; d < x->ndim; d++) numel *= x->shape[d];
            ds_atomic_write(&af, x->data, (size_t)numel * ds_dtype_size(x->dtype));
        }
        s = ds_atomic_commit(&af, err);
    }
    free(json);
    free(order);
    return s;
}
