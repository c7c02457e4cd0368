#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_llong g_fail_budget = -1;

void ds_fileio_fail_after(int64_t bytes) { atomic_store(&g_fail_budget, bytes); }

/* Writes all n bytes to fd, honouring the fault-injection budget. Returns 0, or the errno of
 * the failure (ENOSPC when injected); *done counts the bytes that went out. */
static int write_all(int fd, const void *buf, size_t n, size_t *done) {
    const char *p = buf;
    *done = 0;
    while (n > 0) {
        size_t chunk = n;
        long long budget = atomic_load(&g_fail_budget);
        int inject = 0;
        if (budget >= 0) {
            if ((long long)chunk > budget) {
                chunk = (size_t)budget;
                inject = 1;
            }
            atomic_fetch_sub(&g_fail_budget, (long long)chunk);
        }
        ssize_t w = chunk ? write(fd, p, chunk) : 0;
        if (w < 0 && errno == EINTR) continue;
        if (w > 0) *done += (size_t)w;
        if (w < 0 || (inject && (size_t)w == chunk)) return w < 0 ? errno : ENOSPC;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

ds_status ds_append_all(FILE *f, const char *path, const void *buf, size_t n, ds_err *err) {
    fflush(f); /* callers write only through here; nothing should be buffered */
    int fd = fileno(f);
    off_t start = lseek(fd, 0, SEEK_END);
    if (start < 0) return ds_err_set(err, DS_ERR_IO, "%s: %s", path, strerror(errno));
    size_t done;
    int e = write_all(fd, buf, n, &done);
    if (!e) return DS_OK;
    /* cut back what went out, so the next record starts on a record boundary */
    if (done > 0 && ftruncate(fd, start) != 0)
        return ds_err_set(err, DS_ERR_IO, "%s: write failed: %s (and the partial record could not be removed: %s)",
                          path, strerror(e), strerror(errno));
    return ds_err_set(err, DS_ERR_IO, "%s: write failed: %s", path, strerror(e));
}

static void dir_of(const char *path, char *dir, size_t n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(dir, n, "%s", dirname(tmp));
}

ds_status ds_atomic_open(ds_atomic_file *f, const char *path, ds_err *err) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (strlen(path) + 16 >= sizeof f->tmp)
        return ds_err_set(err, DS_ERR_INVALID, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp.XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0)
        return ds_err_set(err, DS_ERR_IO, "%s: cannot create temporary file: %s", path, strerror(errno));
    fchmod(f->fd, 0644);
    return DS_OK;
}

ds_status ds_atomic_write(ds_atomic_file *f, const void *buf, size_t n) {
    if (f->failed) return f->err.code;
    size_t done;
    int e = write_all(f->fd, buf, n, &done);
    if (!e) return DS_OK;
    f->failed = 1;
    return ds_err_set(&f->err, DS_ERR_IO, "%s: write failed: %s", f->path, strerror(e));
}

void ds_atomic_abort(ds_atomic_file *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp[0]) unlink(f->tmp);
    f->tmp[0] = 0;
}

ds_status ds_atomic_commit(ds_atomic_file *f, ds_err *err) {
    if (f->failed) {
        if (err) *err = f->err;
        ds_atomic_abort(f);
        return ds_err_prefix(err, "previous file kept");
    }
    if (fsync(f->fd) != 0) {
        int e = errno;
        ds_atomic_abort(f);
        return ds_err_set(err, DS_ERR_IO, "%s: fsync failed (previous file kept): %s", f->path, strerror(e));
    }
    if (close(f->fd) != 0) {
        int e = errno;
        f->fd = -1;
        ds_atomic_abort(f);
        return ds_err_set(err, DS_ERR_IO, "%s: close failed (previous file kept): %s", f->path, strerror(e));
    }
    f->fd = -1;
    if (rename(f->tmp, f->path) != 0) {
        int e = errno;
        ds_atomic_abort(f);
        return ds_err_set(err, DS_ERR_IO, "%s: rename failed (previous file kept): %s", f->path, strerror(e));
    }
    f->tmp[0] = 0;
    char dir[4096];
    dir_of(f->path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return DS_OK;
}

ds_status ds_read_file(const char *path, char **out, size_t *len, size_t max_bytes, ds_err *err) {
    *out = NULL;
    if (len) *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return ds_err_set(err, DS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return ds_err_set(err, DS_ERR_IO, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > max_bytes) {
        fclose(fp);
        return ds_err_set(err, DS_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed",
                          path, (long long)st.st_size, max_bytes);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(fp);
        return ds_err_set(err, DS_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return ds_err_set(err, DS_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return DS_OK;
}

ds_status ds_write_file_atomic(const char *path, const void *buf, size_t n, ds_err *err) {
    ds_atomic_file f;
    DS_TRY(ds_atomic_open(&f, path, err));
    ds_atomic_write(&f, buf, n);
    return ds_atomic_commit(&f, err);
}

ds_status ds_mkdirs(const char *path, ds_err *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return ds_err_set(err, DS_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return ds_err_set(err, DS_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
    return DS_OK;
}
