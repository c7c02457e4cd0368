/* Checkpoints, export and TensorBoard files:
 *  - a save that fails half-way (injected "disk full") leaves the previous checkpoint intact
 *    and loadable, and no partial directory behind; keep-K pruning;
 *  - export writes exactly SAT's state_dict: the same names and shapes (buffers included)
 *    as SAT's own weights.safetensors of the fixture model;
 *  - TensorBoard event records read back with valid masked CRC32C and the scalars written. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "engine/config_doc.h"
#include "engine/generate.h"
#include "run/checkpoint.h"
#include "run/tbevents.h"
#include "tensor/safetensors.h"
#include "testutil.h"

static char g_root[256];

static int count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void test_atomic_save(ds_model *m) {
    ds_trainer tr;
    ds_err err = {0};
    CHECK(ds_trainer_init(&tr, m, 5, &err) == DS_OK);
    char root[400], path[600];
    snprintf(root, sizeof root, "%s/ckpt", g_root);
    ds_ckpt_state st = {.step = 1, .seed = 5};
    snprintf(st.config_hash, sizeof st.config_hash, "abc");
    tr.global_step = 1;
    CHECKF(ds_ckpt_save(root, &tr, &st, 2, path, sizeof path, &err) == DS_OK, "%s", err.msg);
    int64_t n = m->params.total;
    float *saved = malloc((size_t)n * sizeof(float));
    memcpy(saved, m->params.data, (size_t)n * sizeof(float));

    /* Change the weights, then fail the next save 20 kB in. */
    for (int64_t i = 0; i < n; i++) m->params.data[i] += 1.0f;
    st.step = tr.global_step = 2;
    ds_fileio_fail_after(20000);
    ds_status s = ds_ckpt_save(root, &tr, &st, 2, path, sizeof path, &err);
    ds_fileio_fail_after(-1);
    CHECK(s == DS_ERR_IO);
    CHECKF(strstr(err.msg, "previous one is intact") != NULL, "%s", err.msg);
    CHECK(count_entries(root, ".step") == 0); /* no partial directory left */
    int64_t latest = 0;
    CHECK(ds_ckpt_latest(root, path, sizeof path, &latest, &err) == DS_OK && latest == 1);
    ds_trainer tr2;
    CHECK(ds_trainer_init(&tr2, m, 5, &err) == DS_OK);
    ds_ckpt_state got;
    CHECKF(ds_ckpt_load(path, &tr2, &got, &err) == DS_OK, "%s", err.msg);
    CHECK(got.step == 1 && tr2.global_step == 1);
    CHECK(memcmp(saved, m->params.data, (size_t)n * sizeof(float)) == 0);

    /* keep 2: saving 2, 3, 4 leaves 3 and 4 */
    for (int k = 2; k <= 4; k++) {
        st.step = tr.global_step = k;
        CHECK(ds_ckpt_save(root, &tr, &st, 2, path, sizeof path, &err) == DS_OK);
    }
    CHECK(count_entries(root, "step-") == 2);
    CHECK(ds_ckpt_latest(root, path, sizeof path, &latest, &err) == DS_OK && latest == 4);
    free(saved);
    ds_trainer_free(&tr);
    ds_trainer_free(&tr2);
}

static void test_export_names(const ds_model_config *cfg) {
    char ckpt[600], out[400], ref[600];
    snprintf(ckpt, sizeof ckpt, "%s/ckpt/step-000000004", g_root);
    snprintf(out, sizeof out, "%s/export.safetensors", g_root);
    ds_err err = {0};
    CHECKF(ds_export(ckpt, cfg, out, true, &err) == DS_OK, "%s", err.msg);
    snprintf(ref, sizeof ref, "%s", tu_fixture("dit_basic/weights.safetensors"));
    ds_safetensors a, b;
    CHECK(ds_st_open(&a, out, &err) == DS_OK);
    CHECK(ds_st_open(&b, ref, &err) == DS_OK);
    CHECKF(a.n == b.n, "export has %d tensors, SAT's state_dict %d", a.n, b.n);
    for (int i = 0; i < b.n; i++) {
        const ds_st_tensor *x = ds_st_find(&a, b.t[i].name);
        CHECKF(x != NULL, "export lacks %s", b.t[i].name);
        if (!x) continue;
        bool same = x->ndim == b.t[i].ndim;
        for (int d = 0; same && d < x->ndim; d++) same = x->shape[d] == b.t[i].shape[d];
        CHECKF(same, "%s: shape differs from SAT's", b.t[i].name);
    }
    ds_st_close(&a);
    ds_st_close(&b);
}

static uint64_t get_varint(const unsigned char **p) {
    uint64_t v = 0;
    for (int s = 0;; s += 7) {
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return v;
    }
}

static void test_tb(void) {
    ds_tb tb;
    ds_err err = {0};
    CHECK(ds_tb_open(&tb, g_root, &err) == DS_OK);
    CHECK(ds_tb_scalar(&tb, "train/loss", 7, 1000.0, 0.25f) == DS_OK);
    CHECK(ds_tb_scalar(&tb, "train/lr", 8, 1001.0, 1e-4f) == DS_OK);
    CHECK(ds_tb_flush(&tb, &err) == DS_OK);
    /* a full disk in the middle of a step's records: they are lost whole, the file stays
     * readable, and the next step's records follow on a record boundary */
    CHECK(ds_tb_scalar(&tb, "train/dropped", 9, 1002.0, 5.0f) == DS_OK);
    ds_fileio_fail_after(10);
    CHECKF(ds_tb_flush(&tb, &err) == DS_ERR_IO && strstr(err.msg, "No space left"), "%s", err.msg);
    ds_fileio_fail_after(-1);
    CHECK(ds_tb_scalar(&tb, "train/grad_norm", 10, 1003.0, 2.0f) == DS_OK);
    CHECK(ds_tb_flush(&tb, &err) == DS_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s", tb.path);
    ds_tb_close(&tb);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t off = 0;
    int records = 0, scalars = 0;
    while (off + 12 <= n) {
        uint64_t len;
        uint32_t lc, dc;
        memcpy(&len, buf + off, 8);
        memcpy(&lc, buf + off + 8, 4);
        CHECK(lc == ds_tb_masked_crc(buf + off, 8));
        const unsigned char *d = buf + off + 12;
        memcpy(&dc, d + len, 4);
        CHECK(dc == ds_tb_masked_crc(d, (size_t)len));
        records++;
        /* Event: find field 5 (summary) -> Value{1: tag, 2: simple_value} */
        const unsigned char *p = d, *end = d + len;
        while (p < end) {
            uint64_t key = get_varint(&p);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            if (wire == 0) {
                uint64_t step = get_varint(&p);
                if (field == 2 && scalars == 0 && records == 2) CHECK(step == 7);
            } else if (wire == 1) {
                p += 8;
            } else if (wire == 2) {
                uint64_t l = get_varint(&p);
                if (field == 5) {
                    const unsigned char *q = p;
                    get_varint(&q);
                    get_varint(&q); /* Value length */
                    get_varint(&q);
                    uint64_t tl = get_varint(&q);
                    char tag[64] = "";
                    memcpy(tag, q, tl < 63 ? tl : 63);
                    q += tl;
                    get_varint(&q); /* key of simple_value */
                    float v;
                    memcpy(&v, q, 4);
                    if (scalars == 0) CHECKF(!strcmp(tag, "train/loss") && v == 0.25f, "%s %g", tag, v);
                    if (scalars == 1) CHECKF(!strcmp(tag, "train/lr") && v == 1e-4f, "%s %g", tag, v);
                    if (scalars == 2) CHECKF(!strcmp(tag, "train/grad_norm") && v == 2.0f, "%s %g", tag, v);
                    scalars++;
                }
                p += l;
            } else {
                p += 4;
            }
        }
        off += 12 + (size_t)len + 4;
    }
    CHECKF(records == 4 && scalars == 3 && off == n, "%d records, %d scalars, %zu of %zu bytes", records, scalars, off, n);
}

int main(void) {
    snprintf(g_root, sizeof g_root, "/tmp/ds_test_ckpt_%d", (int)getpid());
    mkdir(g_root, 0755);
    static ds_model_config cfg;
    ds_err err = {0};
    CHECKF(ds_model_config_load(tu_fixture("dit_basic/config.json"), &cfg, NULL, &err) == DS_OK, "%s", err.msg);
    ds_model *m = NULL;
    CHECKF(ds_model_create(&cfg, &m, &err) == DS_OK, "%s", err.msg);
    if (m) {
        ds_model_init_random(m, 3);
        test_atomic_save(m);
        test_export_names(&cfg);
        ds_model_free(m);
    }
    test_tb();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
    if (!tu_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_root);
    return tu_finish("test_checkpoint");
}
