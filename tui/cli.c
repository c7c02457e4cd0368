#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config_doc.h"
#include "engine/generate.h"

bool cli_flag(const char *arg, const char *name) { return strcmp(arg, name) == 0; }

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val, bool *bad) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return false;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != 0) return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "diffstudio: %s needs a value\n", name);
        *bad = true;
        return true;
    }
    *val = argv[++*i];
    return true;
}

bool cli_int(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "diffstudio %s: %s: expected an integer in [%lld, %lld], got \"%s\"\n", cmd, opt, (long long)lo,
                (long long)hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "diffstudio %s: %s: expected a number in [%g, %g], got \"%s\"\n", cmd, opt, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

static void print_diags(const ds_diag_list *d) {
    char line[2048];
    for (int i = 0; i < d->n; i++) {
        ds_diag_format(&d->items[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (d->n_dropped) fprintf(stderr, "(%d more problems not shown)\n", d->n_dropped);
}

bool cli_load_model(const char *cmd, const char *path, ds_model_config *cfg) {
    ds_diag_list d;
    ds_diag_list_init(&d);
    ds_err err = {0};
    ds_status s = ds_model_config_load(path, cfg, &d, &err);
    print_diags(&d);
    if (s != DS_OK && d.n_errors == 0) fprintf(stderr, "diffstudio %s: %s\n", cmd, err.msg);
    ds_diag_list_free(&d);
    return s == DS_OK;
}

bool cli_load_studio(const char *cmd, const char *path, ds_studio_config *sc, bool *is_model) {
    ds_config_doc *doc = NULL;
    ds_diag_list d;
    ds_diag_list_init(&d);
    ds_err err = {0};
    *is_model = false;
    if (ds_config_doc_load(path, &doc, &d, &err) != DS_OK) {
        print_diags(&d);
        if (d.n_errors == 0) fprintf(stderr, "diffstudio %s: %s\n", cmd, err.msg);
        ds_diag_list_free(&d);
        return false;
    }
    bool ok = true;
    switch (ds_config_doc_kind(doc)) {
    case DS_KIND_STUDIO: ok = ds_studio_config_from_doc(doc, sc, &d) == DS_OK; break;
    case DS_KIND_MODEL:
        ds_studio_config_for_model(path, sc);
        *is_model = true;
        break;
    default:
        fprintf(stderr, "diffstudio %s: %s: expected a studio file or a model config, found a %s\n", cmd, path,
                ds_config_kind_name(ds_config_doc_kind(doc)));
        ok = false;
    }
    print_diags(&d);
    ds_diag_list_free(&d);
    ds_config_doc_free(doc);
    return ok;
}

bool cli_check_runnable(const char *cmd, const ds_model_config *cfg) {
    ds_diag_list d;
    ds_diag_list_init(&d);
    ds_err err = {0};
    ds_status s = ds_model_config_check_runnable(cfg, &d, &err);
    print_diags(&d);
    ds_diag_list_free(&d);
    if (s != DS_OK) fprintf(stderr, "diffstudio %s: this model cannot run here (see above)\n", cmd);
    return s == DS_OK;
}

bool cli_isatty_out(void) { return isatty(STDERR_FILENO) != 0; }

bool cli_run_config(const char *cmd, const char *source, const char *config, char *path, size_t n) {
    if (config) {
        snprintf(path, n, "%s", config);
        return true;
    }
    if (ds_run_config_path(source, path, n)) return true;
    fprintf(stderr, "diffstudio %s: %s has no config.json next to it; give --config MODEL.json\n", cmd, source);
    return false;
}
