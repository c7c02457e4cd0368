#include <stdio.h>
#include <string.h>

#include "engine/batch.h"

const ds_meta_kv *ds_meta_get(const ds_meta *m, const char *key) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->kv[i].key, key) == 0) return &m->kv[i];
    return NULL;
}

static ds_meta_kv *slot(ds_meta *m, const char *key) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->kv[i].key, key) == 0) return &m->kv[i];
    if (m->n >= DS_META_MAX) return NULL;
    ds_meta_kv *kv = &m->kv[m->n++];
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    return kv;
}

void ds_meta_set_number(ds_meta *m, const char *key, double v) {
    ds_meta_kv *kv = slot(m, key);
    if (!kv) return;
    kv->is_string = false;
    kv->number = v;
    kv->string[0] = 0;
}

void ds_meta_set_string(ds_meta *m, const char *key, const char *s) {
    ds_meta_kv *kv = slot(m, key);
    if (!kv) return;
    kv->is_string = true;
    kv->number = 0;
    snprintf(kv->string, sizeof kv->string, "%s", s);
}
