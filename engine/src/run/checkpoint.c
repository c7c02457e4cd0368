#include "run/checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "tensor/safetensors.h"

void ds_hash_hex(const void *data, size_t n, char out[17]) {
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Writes the tensors of params [begin, end) from `values` (laid out like p->data) under
 * prefix+name. Buffers are included when with_buffers. */
static ds_status save_table(const char *path, const ds_params *p, const float *values, int64_t base,
                            ds_param_group max_group, bool with_buffers, const char *prefix, ds_err *err) {
    ds_st_entry *e = calloc((size_t)p->n + 1, sizeof *e);
    char (*names)[192] = calloc((size_t)p->n + 1, sizeof *names);
    if (!e || !names) {
        free(e);
        free(names);
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    }
    int k = 0;
    for (int i = 0; i < p->n; i++) {
        const ds_param *q = p->items[i];
        bool take = q->group <= max_group || (with_buffers && q->group == DS_PG_BUFFER);
        if (!take) continue;
        snprintf(names[k], sizeof names[k], "%s%s", prefix, q->name);
        e[k].name = names[k];
        e[k].dtype = DS_F32;
        e[k].ndim = q->t.ndim;
        for (int d = 0; d < q->t.ndim; d++) e[k].shape[d] = q->t.shape[d];
        /* buffers always come from the model itself */
        e[k].data = q->group == DS_PG_BUFFER ? p->data + q->offset : values + (q->offset - base);
        k++;
    }
    const char *mk[] = {"format", "producer"}, *mv[] = {"pt", "diffstudio"};
    ds_status s = ds_st_write(path, e, k, mk, mv, 2, err);
    free(e);
    free(names);
    return s;
}

static int is_step_dir(const char *name, int64_t *step) {
    long long v;
    char tail;
    if (sscanf(name, "step-%lld%c", &v, &tail) != 1) return 0;
    *step = v;
    return 1;
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[4400];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Keeps the newest `keep` step directories; removes stale .partial directories. */
static void prune(const char *root, int keep) {
    DIR *d = opendir(root);
    if (!d) return;
    int64_t steps[4096];
    int n = 0;
    struct dirent *de;
    char path[4400];
    while ((de = readdir(d))) {
        int64_t s;
        if (de->d_name[0] == '.' && strstr(de->d_name, ".partial")) {
            snprintf(path, sizeof path, "%s/%s", root, de->d_name);
            remove_tree(path);
        } else if (is_step_dir(de->d_name, &s) && n < 4096) {
            steps[n++] = s;
        }
    }
    closedir(d);
    if (keep <= 0 || n <= keep) return;
    /* selection of the n - keep smallest */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (steps[j] < steps[i]) {
                int64_t t = steps[i];
                steps[i] = steps[j];
                steps[j] = t;
            }
    for (int i = 0; i < n - keep; i++) {
        snprintf(path, sizeof path, "%s/step-%09lld", root, (long long)steps[i]);
        remove_tree(path);
    }
}

static ds_status write_state(const char *path, const ds_trainer *tr, const ds_ckpt_state *st, ds_err *err) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", "diffstudio-checkpoint");
    cJSON_AddNumberToObject(j, "version", DS_CKPT_VERSION);
    cJSON_AddNumberToObject(j, "step", (double)st->step);
    cJSON_AddNumberToObject(j, "optimizer_step", (double)tr->opt.step);
    cJSON_AddNumberToObject(j, "ema_step", (double)tr->ema.step);
    cJSON_AddBoolToObject(j, "ema_initted", tr->ema.initted);
    cJSON_AddBoolToObject(j, "use_ema", tr->use_ema);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->seed);
    cJSON_AddStringToObject(j, "seed", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)tr->sobol.index);
    cJSON_AddStringToObject(j, "sobol_index", buf);
    cJSON_AddNumberToObject(j, "sobol_shift", (double)tr->sobol.shift);
    snprintf(buf, sizeof buf, "%lld", (long long)st->data_position);
    cJSON_AddStringToObject(j, "data_position", buf);
    cJSON_AddStringToObject(j, "config_hash", st->config_hash);
    cJSON_AddNumberToObject(j, "elapsed_s", st->elapsed_s);
    cJSON_AddNumberToObject(j, "loss_smoothed", st->loss_smoothed);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    ds_status s = ds_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return s;
}

ds_status ds_ckpt_save(const char *root, const ds_trainer *tr, const ds_ckpt_state *st, int keep, char *saved,
                       size_t saved_len, ds_err *err) {
    DS_TRY(ds_mkdirs(root, err));
    char tmp[4200], dir[4200], path[4400];
    snprintf(dir, sizeof dir, "%s/step-%09lld", root, (long long)st->step);
    snprintf(tmp, sizeof tmp, "%s/.step-%09lld.partial", root, (long long)st->step);
    remove_tree(tmp);
    if (mkdir(tmp, 0755) != 0)
        return ds_err_set(err, DS_ERR_IO, "%s: cannot create: %s (previous checkpoint kept)", tmp, strerror(errno));
    const ds_params *p = &tr->m->params;
    int64_t base = p->range_begin[DS_PG_BACKBONE];
    ds_status s;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    s = save_table(path, p, p->data, 0, DS_PG_COND, true, "", err);
    if (s == DS_OK && tr->use_ema && tr->ema.initted) {
        snprintf(path, sizeof path, "%s/ema.safetensors", tmp);
        s = save_table(path, p, tr->ema.w, base, DS_PG_BACKBONE, false, "", err);
    }
    if (s == DS_OK) {
        snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
        ds_st_entry *e = calloc(2 * (size_t)p->n + 1, sizeof *e);
        char (*names)[200] = calloc(2 * (size_t)p->n + 1, sizeof *names);
        int k = 0;
        for (int i = 0; e && names && i < p->n; i++) {
            const ds_param *q = p->items[i];
            if (q->group == DS_PG_BUFFER) continue;
            for (int mv = 0; mv < 2; mv++) {
                snprintf(names[k], sizeof names[k], "adam.%s.%s", mv ? "exp_avg_sq" : "exp_avg", q->name);
                e[k].name = names[k];
                e[k].dtype = DS_F32;
                e[k].ndim = q->t.ndim;
                for (int d = 0; d < q->t.ndim; d++) e[k].shape[d] = q->t.shape[d];
                e[k].data = (mv ? tr->opt.v : tr->opt.m) + (q->offset - base);
                k++;
            }
        }
        s = e && names ? ds_st_write(path, e, k, NULL, NULL, 0, err) : ds_err_set(err, DS_ERR_NOMEM, "out of memory");
        free(e);
        free(names);
    }
    if (s == DS_OK) {
        snprintf(path, sizeof path, "%s/state.json", tmp);
        s = write_state(path, tr, st, err);
    }
    if (s == DS_OK) {
        remove_tree(dir); /* a checkpoint of the same step (save-now twice) is replaced */
        if (rename(tmp, dir) != 0)
            s = ds_err_set(err, DS_ERR_IO, "%s: cannot move into place: %s", dir, strerror(errno));
        else
            fsync_dir(root);
    }
    if (s != DS_OK) {
        remove_tree(tmp);
        ds_err_prefix(err, "checkpoint at step %lld not saved; the previous one is intact", (long long)st->step);
        return s;
    }
    prune(root, keep);
    if (saved) snprintf(saved, saved_len, "%s", dir);
    return DS_OK;
}

ds_status ds_ckpt_latest(const char *root, char *path, size_t path_len, int64_t *step, ds_err *err) {
    return ds_ckpt_latest_before(root, INT64_MAX, path, path_len, step, err);
}

ds_status ds_ckpt_latest_before(const char *root, int64_t before, char *path, size_t path_len, int64_t *step,
                                ds_err *err) {
    DIR *d = opendir(root);
    if (!d) return ds_err_set(err, DS_ERR_IO, "%s: no checkpoints (%s)", root, strerror(errno));
    int64_t best = -1;
    struct dirent *de;
    char probe[4400];
    while ((de = readdir(d))) {
        int64_t s;
        if (!is_step_dir(de->d_name, &s)) continue;
        snprintf(probe, sizeof probe, "%s/%s/state.json", root, de->d_name);
        if (access(probe, R_OK) == 0 && s > best && s < before) best = s;
    }
    closedir(d);
    if (best < 0)
        return before == INT64_MAX ? ds_err_set(err, DS_ERR_IO, "%s: no complete checkpoint", root)
                                   : ds_err_set(err, DS_ERR_IO, "%s: no complete checkpoint before step %lld", root,
                                                (long long)before);
    snprintf(path, path_len, "%s/step-%09lld", root, (long long)best);
    if (step) *step = best;
    return DS_OK;
}

static ds_status load_into(const char *path, const ds_params *p, float *dst, int64_t base, ds_param_group max_group,
                           const char *prefix, ds_err *err) {
    ds_safetensors f;
    DS_TRY(ds_st_open(&f, path, err));
    ds_status s = DS_OK;
    for (int i = 0; i < p->n && s == DS_OK; i++) {
        const ds_param *q = p->items[i];
        if (q->group > max_group) continue;
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix, q->name);
        s = ds_st_load_f32(&f, name, q->t.ndim, q->t.shape, dst + (q->offset - base), err);
    }
    ds_st_close(&f);
    return s;
}

static uint64_t json_u64(cJSON *j, const char *k) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    if (cJSON_IsString(v)) return strtoull(v->valuestring, NULL, 10);
    if (cJSON_IsNumber(v)) return (uint64_t)v->valuedouble;
    return 0;
}

static ds_status read_state(const char *dir, ds_trainer *tr, ds_ckpt_state *st, ds_err *err) {
    char path[4400];
    char *text = NULL;
    snprintf(path, sizeof path, "%s/state.json", dir);
    DS_TRY(ds_read_file(path, &text, NULL, 1 << 20, err));
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (!j || !cJSON_IsNumber(ver)) {
        cJSON_Delete(j);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: not a diffstudio checkpoint state", path);
    }
    if ((int)ver->valuedouble != DS_CKPT_VERSION) {
        int v = (int)ver->valuedouble;
        cJSON_Delete(j);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: checkpoint version %d, this build reads %d", path, v, DS_CKPT_VERSION);
    }
    memset(st, 0, sizeof *st);
    st->step = (int64_t)json_u64(j, "step");
    st->seed = json_u64(j, "seed");
    st->data_position = (int64_t)json_u64(j, "data_position");
    cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "config_hash");
    if (cJSON_IsString(h)) snprintf(st->config_hash, sizeof st->config_hash, "%s", h->valuestring);
    cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s"), *ls = cJSON_GetObjectItemCaseSensitive(j, "loss_smoothed");
    st->elapsed_s = cJSON_IsNumber(el) ? el->valuedouble : 0;
    st->loss_smoothed = cJSON_IsNumber(ls) ? ls->valuedouble : 0;
    if (tr) {
        tr->opt.step = (int64_t)json_u64(j, "optimizer_step");
        tr->ema.step = (int64_t)json_u64(j, "ema_step");
        tr->ema.initted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ema_initted"));
        tr->sobol.index = json_u64(j, "sobol_index");
        tr->sobol.shift = (uint32_t)json_u64(j, "sobol_shift");
        tr->global_step = st->step;
    }
    cJSON_Delete(j);
    return DS_OK;
}

ds_status ds_ckpt_read_state(const char *dir, ds_ckpt_state *st, ds_err *err) { return read_state(dir, NULL, st, err); }

ds_status ds_ckpt_load(const char *dir, ds_trainer *tr, ds_ckpt_state *st, ds_err *err) {
    char path[4400];
    DS_TRY(read_state(dir, tr, st, err));

    const ds_params *p = &tr->m->params;
    int64_t base = p->range_begin[DS_PG_BACKBONE];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    DS_TRY(load_into(path, p, p->data, 0, DS_PG_BUFFER, "", err));
    if (tr->use_ema && tr->ema.initted) {
        snprintf(path, sizeof path, "%s/ema.safetensors", dir);
        DS_TRY(load_into(path, p, tr->ema.w, base, DS_PG_BACKBONE, "", err));
    }
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    DS_TRY(load_into(path, p, tr->opt.m, base, DS_PG_COND, "adam.exp_avg.", err));
    DS_TRY(load_into(path, p, tr->opt.v, base, DS_PG_COND, "adam.exp_avg_sq.", err));
    return DS_OK;
}

ds_status ds_ckpt_export(const char *ckpt_dir, const ds_model_config *cfg, const char *out_path, bool use_ema,
                         ds_err *err) {
    ds_model *m = NULL;
    DS_TRY(ds_model_create(cfg, &m, err));
    char path[4400];
    snprintf(path, sizeof path, "%s/model.safetensors", ckpt_dir);
    ds_status s = ds_model_load(m, path, true, err);
    const ds_params *p = &m->params;
    if (s == DS_OK && use_ema) {
        snprintf(path, sizeof path, "%s/ema.safetensors", ckpt_dir);
        if (access(path, R_OK) == 0)
            s = load_into(path, p, p->data, 0, DS_PG_BACKBONE, "", err);
    }
    if (s == DS_OK) s = save_table(out_path, p, p->data, 0, DS_PG_COND, true, "", err);
    ds_model_free(m);
    return s;
}
