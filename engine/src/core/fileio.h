/* Atomic file replacement: write to a temporary file in the target's directory, fsync,
 * rename over the target, fsync the directory. A failure at any point (disk full, I/O
 * error) removes the temporary file and leaves the previous target untouched.
 *
 * Tests can make writes fail after a number of bytes (ds_fileio_fail_after) to prove
 * that a half-written checkpoint or config never replaces a good one. */
#ifndef DS_FILEIO_H
#define DS_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/status.h"

typedef struct ds_atomic_file {
    int fd;
    char path[4096];
    char tmp[4096];
    int failed;
    ds_err err;
} ds_atomic_file;

ds_status ds_atomic_open(ds_atomic_file *f, const char *path, ds_err *err);
/* Errors are sticky: after a failure further writes do nothing; commit reports it. */
ds_status ds_atomic_write(ds_atomic_file *f, const void *buf, size_t n);
ds_status ds_atomic_commit(ds_atomic_file *f, ds_err *err);
void ds_atomic_abort(ds_atomic_file *f);

/* Whole-file helpers. ds_read_file returns a malloc'd, NUL-terminated buffer. */
ds_status ds_read_file(const char *path, char **out, size_t *len, size_t max_bytes, ds_err *err);
ds_status ds_write_file_atomic(const char *path, const void *buf, size_t n, ds_err *err);

/* Fault injection for tests: the process-wide budget of bytes that may still be written
 * before writes fail with ENOSPC. Negative: no limit (the default). */
void ds_fileio_fail_after(int64_t bytes);

/* Appends buf to the stream f (opened for appending) whole or not at all: on a failed write
 * (disk full, I/O error) the file is cut back to its previous length, so a log of records
 * never holds half a record. DS_ERR_IO with the reason in err. */
ds_status ds_append_all(FILE *f, const char *path, const void *buf, size_t n, ds_err *err);

/* mkdir -p. */
ds_status ds_mkdirs(const char *path, ds_err *err);

#endif
