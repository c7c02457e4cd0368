/* Reading run directories (see runfiles.h). */
#include "runfiles.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static double num(const cJSON *o, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

bool ui_metric_parse(const char *line, ui_metric *m) {
    cJSON *j = cJSON_Parse(line);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return false;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(j, "loss");
    if (!cJSON_IsNumber(st) || !cJSON_IsNumber(lo)) {
        cJSON_Delete(j);
        return false;
    }
    memset(m, 0, sizeof *m);
    m->step = (int64_t)st->valuedouble;
    m->loss = (float)lo->valuedouble;
    m->lr = (float)num(j, "lr", NAN);
    m->grad_norm = (float)num(j, "grad_norm", NAN);
    m->time_s = num(j, "time", NAN);
    for (int k = 0; k < UI_BUCKETS; k++) m->bucket[k] = NAN;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "loss_buckets");
    if (cJSON_IsObject(b))
        for (const cJSON *c = b->child; c; c = c->next) {
            if (!c->string || !cJSON_IsNumber(c)) continue;
            int k = (int)lround(atof(c->string) * 10);
            if (k >= 0 && k < UI_BUCKETS) m->bucket[k] = (float)c->valuedouble;
        }
    cJSON_Delete(j);
    return true;
}

int64_t ui_metrics_load(const char *run_dir, ui_series *s, int *bad) {
    if (bad) *bad = 0;
    char path[UI_PATH + 32];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int64_t n = 0;
    while (getline(&line, &cap, f) > 0) {
        ui_metric m;
        if (ui_metric_parse(line, &m)) {
            if (!ui_series_push(s, &m)) break;
            n++;
        } else if (bad) {
            (*bad)++;
        }
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- demos ---------------------------------------------------------------------------------- */

void ui_demos_free(ui_demo_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

void ui_demos_clear(ui_demo_list *l) {
    l->n = 0;
    l->version++;
}

int ui_demos_find(const ui_demo_list *l, const char *path) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].path, path)) return i;
    return -1;
}

/* Gallery order: a before b? */
static bool before(const ui_demo_entry *a, const ui_demo_entry *b) {
    if (a->step != b->step) return a->step > b->step;
    if (a->cfg_scale != b->cfg_scale) return a->cfg_scale < b->cfg_scale;
    return a->index < b->index;
}

int ui_demos_add(ui_demo_list *l, const ui_demo_entry *e) {
    if (ui_demos_find(l, e->path) >= 0) return -1;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ui_demo_entry *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    int i = l->n; /* renders mostly arrive in order: search from the end */
    while (i > 0 && before(e, &l->v[i - 1])) i--;
    memmove(&l->v[i + 1], &l->v[i], (size_t)(l->n - i) * sizeof *l->v);
    l->v[i] = *e;
    l->n++;
    l->version++;
    return i;
}

bool ui_demo_parse(const char *line, const char *demos_dir, ui_demo_entry *e) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
    if (!cJSON_IsObject(j) || !cJSON_IsString(path) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "step"))) {
        cJSON_Delete(j);
        return false;
    }
    memset(e, 0, sizeof *e);
    e->step = (int64_t)num(j, "step", 0);
    e->cfg_scale = num(j, "cfg_scale", 1);
    e->index = (int)num(j, "demo", -1);
    e->seconds = num(j, "seconds", 0);
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(j, "cond");
    if (cJSON_IsObject(cond) && cond->child) {
        char *t = cJSON_PrintUnformatted(cond);
        if (t) snprintf(e->cond, sizeof e->cond, "%s", t);
        cJSON_free(t);
    }
    if (path->valuestring[0] == '/')
        snprintf(e->path, sizeof e->path, "%s", path->valuestring);
    else
        snprintf(e->path, sizeof e->path, "%.900s/%.120s", demos_dir, path->valuestring);
    cJSON_Delete(j);
    return true;
}

int ui_demos_load(const char *run_dir, ui_demo_list *l) {
    char dir[UI_PATH + 16], path[UI_PATH + 32];
    snprintf(dir, sizeof dir, "%s/demos", run_dir);
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        ui_demo_entry e;
        if (ui_demo_parse(line, dir, &e) && ui_demos_add(l, &e) >= 0) n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- runs ----------------------------------------------------------------------------------- */

void ui_path_parent(const char *path, char *out, size_t n) {
    char tmp[UI_PATH];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/') tmp[--len] = 0;
    char *slash = strrchr(tmp, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == tmp)
        snprintf(out, n, "/");
    else {
        *slash = 0;
        snprintf(out, n, "%s", tmp);
    }
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static time_t mtime_of(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? st.st_mtime : 0;
}

/* The last complete line of a file (at most n−1 bytes of it). */
static bool last_line(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char buf[8192];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r')) buf[--got] = 0;
    if (!got) return false;
    const char *nl = strrchr(buf, '\n'), *src = nl ? nl + 1 : buf;
    size_t len = strlen(src);
    if (len >= n) len = n - 1; /* a line longer than out is cut (and will not parse) */
    memcpy(out, src, len);
    out[len] = 0;
    return true;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int n = 0, c;
    while ((c = getc(f)) != EOF)
        if (c == '\n') n++;
    fclose(f);
    return n;
}

static void model_summary(const char *config, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(config, "rb");
    if (!f) return;
    char buf[65536];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *diff = cJSON_GetObjectItemCaseSensitive(model, "diffusion");
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(diff, "type");
    double rate = num(j, "sample_rate", 0);
    snprintf(out, n, "%s%s%s, %.0f Hz", cJSON_IsString(mt) ? mt->valuestring : "?", cJSON_IsString(bb) ? " " : "",
             cJSON_IsString(bb) ? bb->valuestring : "", rate);
    cJSON_Delete(j);
}

bool ui_run_read(const char *dir, ui_run_info *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    const char *base = strrchr(dir, '/');
    snprintf(r->name, sizeof r->name, "%s", base ? base + 1 : dir);
    r->last_step = r->ckpt_step = -1;
    r->last_loss = r->last_smoothed = NAN;
    char p[UI_PATH + 64];
    bool any = false;
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (mtime_of(p)) {
        any = true;
        model_summary(p, r->model, sizeof r->model);
    }
    r->mtime = mtime_of(dir);
    snprintf(p, sizeof p, "%s/metrics.jsonl", dir);
    char line[4096];
    if (mtime_of(p)) {
        any = true;
        time_t t = mtime_of(p);
        if (t > r->mtime) r->mtime = t;
        ui_metric m;
        if (last_line(p, line, sizeof line) && ui_metric_parse(line, &m)) {
            r->last_step = m.step;
            r->last_loss = m.loss;
            cJSON *j = cJSON_Parse(line);
            r->last_smoothed = num(j, "loss_smoothed", NAN);
            cJSON_Delete(j);
        }
    }
    snprintf(p, sizeof p, "%s/log.txt", dir);
    if (mtime_of(p) > r->mtime) r->mtime = mtime_of(p);
    snprintf(p, sizeof p, "%s/checkpoints", dir);
    DIR *d = opendir(p);
    if (d) {
        any = true;
        struct dirent *e;
        while ((e = readdir(d))) {
            long long step;
            char tail;
            if (sscanf(e->d_name, "step-%lld%c", &step, &tail) == 1) {
                r->n_ckpt++;
                if (step > r->ckpt_step) r->ckpt_step = step;
            }
        }
        closedir(d);
    }
    snprintf(p, sizeof p, "%s/demos/index.jsonl", dir);
    r->n_demos = count_lines(p);
    return any;
}

static int newest_first(const void *a, const void *b) {
    const ui_run_info *x = a, *y = b;
    if (x->mtime != y->mtime) return x->mtime < y->mtime ? 1 : -1;
    return strcmp(x->name, y->name);
}

int ui_runs_scan(const char *root, ui_run_info **out) {
    *out = NULL;
    DIR *d = opendir(root);
    if (!d) return 0;
    int n = 0, cap = 0;
    ui_run_info *v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[UI_PATH];
        snprintf(p, sizeof p, "%.700s/%.250s", root, e->d_name);
        if (!is_dir(p)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            ui_run_info *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) break;
            v = nv;
        }
        if (ui_run_read(p, &v[n])) n++;
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, newest_first);
    *out = v;
    return n;
}
