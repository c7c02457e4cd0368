/* Dataset file discovery: recursive scan of the roots (SAT's fast_scandir rules, plus a
 * sort for determinism and symlink-loop protection), then a parallel header probe of every
 * candidate. Unusable files are logged once each, in path order, and dropped. */
#include "dataset_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
    ds_file *v;
    int64_t n, cap;
} file_vec;

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    dir_id *v;
    int n, cap;
} dir_set;

enum { MAX_DEPTH = 64 };

static bool has_audio_ext(const char *name) {
    static const char *const exts[] = {".wav", ".mp3", ".flac", ".ogg", ".aif", ".aiff", ".opus"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return true;
    return false;
}

static audio_status push_file(file_vec *fv, const char *path, size_t root_len, int root, audio_err *err) {
    if (fv->n == fv->cap) {
        int64_t ncap = fv->cap ? fv->cap * 2 : 256;
        ds_file *nv = realloc(fv->v, (size_t)ncap * sizeof *nv);
        if (!nv) return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset scan: out of memory");
        fv->v = nv;
        fv->cap = ncap;
    }
    ds_file *f = &fv->v[fv->n];
    memset(f, 0, sizeof *f);
    f->path = audio_strdup(path);
    if (!f->path) return audio_err_set(err, AUDIO_ERR_NOMEM, "dataset scan: out of memory");
    f->relpath = f->path + root_len + (path[root_len] == '/' ? 1 : 0);
    f->root = root;
    fv->n++;
    return AUDIO_OK;
}

/* True if (dev, ino) was already visited (a symlink loop or a folder reached twice). */
static bool dir_seen(dir_set *s, const struct stat *st) {
    for (int i = 0; i < s->n; i++)
        if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) return true;
    if (s->n == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 64;
        dir_id *nv = realloc(s->v, (size_t)ncap * sizeof *nv);
        if (!nv) return true; /* out of memory: stop descending rather than loop */
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = (dir_id){st->st_dev, st->st_ino};
    return false;
}

static audio_status scan_dir(const char *dir, size_t root_len, int root, int depth, dir_set *seen,
                             file_vec *out, audio_err *err) {
    DIR *d = opendir(dir);
    if (!d) {
        /* SAT ignores unreadable sub-folders; say so once instead of silently. */
        audio_log(AUDIO_LOG_WARN, "dataset: skipping folder %s: %s", dir, strerror(errno));
        return AUDIO_OK;
    }
    audio_status st = AUDIO_OK;
    size_t dlen = strlen(dir);
    struct dirent *e;
    while (st == AUDIO_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ".", "..", hidden files and folders */
        size_t nlen = strlen(e->d_name);
        char *full = malloc(dlen + nlen + 2);
        if (!full) {
            st = audio_err_set(err, AUDIO_ERR_NOMEM, "dataset scan: out of memory");
            break;
        }
        memcpy(full, dir, dlen);
        full[dlen] = '/';
        memcpy(full + dlen + 1, e->d_name, nlen + 1);
        struct stat sb;
        if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            /* A folder is a folder whatever its name ("x.wav/" is scanned, as SAT does). */
            if (depth >= MAX_DEPTH)
                audio_log(AUDIO_LOG_WARN, "dataset: not descending into %s: deeper than %d levels", full,
                          MAX_DEPTH);
            else if (!dir_seen(seen, &sb))
                st = scan_dir(full, root_len, root, depth + 1, seen, out, err);
        } else if (has_audio_ext(e->d_name)) {
            /* Anything else with an audio extension (regular file, broken link, FIFO) is a
             * candidate: the probe decides and reports. */
            st = push_file(out, full, root_len, root, err);
        }
        free(full);
    }
    closedir(d);
    return st;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(((const ds_file *)a)->path, ((const ds_file *)b)->path);
}

/* ---- parallel probe ------------------------------------------------------------------------ */

typedef struct {
    ds_file *files;
    int64_t n;
    int rate;
    char **errors;      /* [n]: message of a failed probe (heap) or NULL */
    atomic_llong next;  /* next file index to claim */
} probe_job;

static void *probe_worker(void *arg) {
    probe_job *j = arg;
    for (;;) {
        int64_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n) break;
        ds_file *f = &j->files[i];
        audio_info info;
        audio_err e;
        if (audio_file_probe(f->path, &info, &e) != AUDIO_OK) {
            j->errors[i] = audio_strdup(e.msg);
            continue;
        }
        f->channels = info.channels;
        f->rate = info.rate;
        f->frames = info.frames;
        f->sf_format = info.sf_format;
        memcpy(f->format, info.format_name, sizeof f->format);
        f->length = info.rate == j->rate ? info.frames : audio_resampled_length(info.frames, info.rate, j->rate);
        f->usable = true;
    }
    return NULL;
}

static void probe_all(probe_job *j, int threads) {
    enum { MAX_THREADS = 32 };
    pthread_t tid[MAX_THREADS];
    int started = 0;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > j->n) threads = (int)j->n;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, probe_worker, j) != 0) break;
        started++;
    }
    probe_worker(j); /* the calling thread works too; also the fallback if no thread started */
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
}

void ds_file_free(ds_file *f) {
    free(f->path);
    meta_list_free(&f->meta);
    f->path = NULL;
}

audio_status ds_scan_and_probe(audio_dataset *ds, audio_err *err) {
    file_vec fv = {0};
    audio_status st = AUDIO_OK;
    for (int r = 0; r < ds->cfg.n_roots && st == AUDIO_OK; r++) {
        const char *root = ds->roots[r].path;
        struct stat sb;
        if (stat(root, &sb) != 0) {
            st = audio_err_set(err, AUDIO_ERR_IO, "dataset '%s': folder %s: %s", ds->roots[r].id, root,
                               strerror(errno));
            break;
        }
        if (!S_ISDIR(sb.st_mode)) {
            st = audio_err_set(err, AUDIO_ERR_IO, "dataset '%s': %s is not a folder", ds->roots[r].id, root);
            break;
        }
        dir_set seen = {0};
        dir_seen(&seen, &sb);
        int64_t first = fv.n;
        st = scan_dir(root, strlen(root), r, 0, &seen, &fv, err);
        free(seen.v);
        if (st == AUDIO_OK) qsort(fv.v + first, (size_t)(fv.n - first), sizeof *fv.v, cmp_path);
    }
    char **errors = NULL;
    if (st == AUDIO_OK && fv.n > 0) {
        errors = calloc((size_t)fv.n, sizeof *errors);
        if (!errors) st = audio_err_set(err, AUDIO_ERR_NOMEM, "dataset: out of memory");
    }
    if (st == AUDIO_OK && fv.n > 0) {
        probe_job job = {.files = fv.v, .n = fv.n, .rate = ds->cfg.sample_rate, .errors = errors};
        atomic_init(&job.next, 0);
        probe_all(&job, ds->cfg.probe_threads > 0 ? ds->cfg.probe_threads : 1);
        /* Report in path order, once per file, then keep only the usable ones. */
        int64_t k = 0;
        for (int64_t i = 0; i < fv.n; i++) {
            if (fv.v[i].usable) {
                fv.v[k++] = fv.v[i];
                continue;
            }
            audio_log(AUDIO_LOG_WARN, "dataset: skipping %s", errors[i] ? errors[i] : fv.v[i].path);
            free(errors[i]);
            ds->n_skipped++;
            ds_file_free(&fv.v[i]);
        }
        fv.n = k;
    }
    free(errors);
    if (st != AUDIO_OK) {
        for (int64_t i = 0; i < fv.n; i++) ds_file_free(&fv.v[i]);
        free(fv.v);
        return st;
    }
    ds->files = fv.v;
    ds->n_files = fv.n;
    return AUDIO_OK;
}
