/* Diagnostic lists: growable, capped at DS_DIAG_MAX entries; adding never fails. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

void ds_diag_list_init(ds_diag_list *l) { memset(l, 0, sizeof *l); }

void ds_diag_list_free(ds_diag_list *l) {
    free(l->items);
    memset(l, 0, sizeof *l);
}

void ds_diag_add(ds_diag_list *l, ds_diag_severity sev, const char *file, const char *path,
                 int line, int column, const char *fmt, ...) {
    if (!l) return;
    if (sev == DS_DIAG_ERROR)
        l->n_errors++;
    else
        l->n_warnings++;
    if (l->n >= DS_DIAG_MAX) {
        l->n_dropped++;
        return;
    }
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        if (cap > DS_DIAG_MAX) cap = DS_DIAG_MAX;
        ds_diag *p = realloc(l->items, (size_t)cap * sizeof *p);
        if (!p) {
            l->n_dropped++;
            return;
        }
        l->items = p;
        l->cap = cap;
    }
    ds_diag *d = &l->items[l->n++];
    d->severity = sev;
    d->line = line;
    d->column = column;
    CUT_PRINTF(d->file, sizeof d->file, "%s", file ? file : "");
    CUT_PRINTF(d->path, sizeof d->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
}

int ds_diag_format(const ds_diag *d, char *buf, size_t n) {
    char where[64] = "";
    if (d->line > 0) CUT_PRINTF(where, sizeof where, ":%d:%d", d->line, d->column > 0 ? d->column : 1);
    return snprintf(buf, n, "%s%s: %s: %s%s%s", d->file, where,
                    d->severity == DS_DIAG_ERROR ? "error" : "warning", d->path,
                    d->path[0] ? ": " : "", d->message);
}

ds_status ds_diag_to_err(const ds_diag_list *l, ds_status code, ds_err *err) {
    if (!err) return code;
    for (int i = 0; i < l->n; i++) {
        if (l->items[i].severity != DS_DIAG_ERROR) continue;
        char line[sizeof err->msg];
        ds_diag_format(&l->items[i], line, sizeof line);
        if (l->n_errors > 1)
            ds_err_set(err, code, "%.400s (and %d more error%s)", line, l->n_errors - 1,
                       l->n_errors > 2 ? "s" : "");
        else
            ds_err_set(err, code, "%s", line);
        return code;
    }
    return ds_err_set(err, code, "%d error%s", l->n_errors, l->n_errors == 1 ? "" : "s");
}
