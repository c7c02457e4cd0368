#include "run/tbevents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fileio.h"

uint32_t ds_crc32c(const void *data, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

uint32_t ds_tb_masked_crc(const void *data, size_t n) {
    uint32_t c = ds_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

/* ---- minimal protobuf encoding ---- */
typedef struct pb {
    unsigned char b[1024];
    size_t n;
} pb;

static void put_varint(pb *p, uint64_t v) {
    while (v >= 0x80 && p->n < sizeof p->b) {
        p->b[p->n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    if (p->n < sizeof p->b) p->b[p->n++] = (unsigned char)v;
}
static void put_key(pb *p, int field, int wire) { put_varint(p, (uint64_t)(field << 3 | wire)); }
static void put_bytes(pb *p, int field, const void *d, size_t n) {
    put_key(p, field, 2);
    put_varint(p, n);
    if (p->n + n <= sizeof p->b) {
        memcpy(p->b + p->n, d, n);
        p->n += n;
    }
}
static void put_fixed(pb *p, int field, int wire, const void *d, size_t n) {
    put_key(p, field, wire);
    if (p->n + n <= sizeof p->b) {
        memcpy(p->b + p->n, d, n); /* little-endian host */
        p->n += n;
    }
}

static ds_status queue(ds_tb *tb, const void *p, size_t n) {
    if (tb->npend + n > tb->cap) {
        size_t cap = tb->cap ? tb->cap * 2 : 4096;
        while (cap < tb->npend + n) cap *= 2;
        unsigned char *g = realloc(tb->pend, cap);
        if (!g) return DS_ERR_NOMEM;
        tb->pend = g;
        tb->cap = cap;
    }
    memcpy(tb->pend + tb->npend, p, n);
    tb->npend += n;
    return DS_OK;
}

static ds_status write_record(ds_tb *tb, const void *data, size_t n) {
    uint64_t len = n;
    uint32_t lc = ds_tb_masked_crc(&len, 8), dc = ds_tb_masked_crc(data, n);
    ds_status s = queue(tb, &len, 8);
    if (s == DS_OK) s = queue(tb, &lc, 4);
    if (s == DS_OK) s = queue(tb, data, n);
    if (s == DS_OK) s = queue(tb, &dc, 4);
    return s;
}

static void event_head(pb *e, double wall, int64_t step) {
    put_fixed(e, 1, 1, &wall, 8);
    put_key(e, 2, 0);
    put_varint(e, (uint64_t)step);
}

ds_status ds_tb_open(ds_tb *tb, const char *dir, ds_err *err) {
    memset(tb, 0, sizeof *tb);
    snprintf(tb->path, sizeof tb->path, "%s/events.out.tfevents.%lld.diffstudio", dir, (long long)time(NULL));
    tb->f = fopen(tb->path, "ab");
    if (!tb->f) return ds_err_set(err, DS_ERR_IO, "%s: cannot create: %s", tb->path, strerror(errno));
    pb e = {{0}, 0};
    event_head(&e, (double)time(NULL), 0);
    put_bytes(&e, 3, "brain.Event:2", 13);
    if (write_record(tb, e.b, e.n) != DS_OK) return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", tb->path);
    return ds_tb_flush(tb, err);
}

ds_status ds_tb_scalar(ds_tb *tb, const char *tag, int64_t step, double wall, float value) {
    if (!tb->f) return DS_ERR_IO;
    pb v = {{0}, 0}, s = {{0}, 0}, e = {{0}, 0};
    put_bytes(&v, 1, tag, strlen(tag));
    put_fixed(&v, 2, 5, &value, 4);
    put_bytes(&s, 1, v.b, v.n);
    event_head(&e, wall, step);
    put_bytes(&e, 5, s.b, s.n);
    return write_record(tb, e.b, e.n);
}

ds_status ds_tb_flush(ds_tb *tb, ds_err *err) {
    if (!tb->f || !tb->npend) return DS_OK;
    ds_status s = ds_append_all(tb->f, tb->path, tb->pend, tb->npend, err);
    tb->npend = 0;
    return s;
}

void ds_tb_close(ds_tb *tb) {
    if (tb->npend) ds_tb_flush(tb, NULL);
    if (tb->f) fclose(tb->f);
    tb->f = NULL;
    free(tb->pend);
    tb->pend = NULL;
    tb->npend = tb->cap = 0;
}
