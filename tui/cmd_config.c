/* `diffstudio config check|show|schema`: the config layer from the command line.
 *   check FILE...   every problem as file:line:col: error|warning: path: message
 *                   (exit 1 if any error, 0 otherwise, 2 on usage errors)
 *   show FILE       the effective config: every key that applies, defaults marked
 *   schema [PATH]   the schema table as text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/config_doc.h"

static void print_diags(const ds_diag_list *l, FILE *out) {
    char line[2048];
    for (int i = 0; i < l->n; i++) {
        ds_diag_format(&l->items[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (l->n_dropped) fprintf(out, "(%d more problems not shown)\n", l->n_dropped);
}

/* ---- check ---------------------------------------------------------------------------------- */

static int config_check(int argc, char **argv) {
    if (argc < 2 || ui_wants_help(argc, argv)) {
        printf("usage: diffstudio config check FILE...\n"
               "\n"
               "Checks SAT model configs, SAT dataset configs and studio files (the kind is\n"
               "recognised from the keys) against the schema and SAT's rules, and prints every\n"
               "problem as FILE:LINE:COL: error|warning: JSON.PATH: message.\n"
               "A studio file's model and dataset configs are checked too. Parts of a valid\n"
               "config that diffstudio cannot run yet are reported as warnings.\n"
               "Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage.\n");
        return argc < 2 ? 2 : 0;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        ds_diag_list l;
        ds_diag_list_init(&l);
        ds_config_check_file(argv[i], &l);
        print_diags(&l, stdout);
        if (l.n_errors) rc = 1;
        if (!l.n_errors && !l.n_warnings)
            printf("%s: ok\n", argv[i]);
        else
            printf("%s: %d error%s, %d warning%s\n", argv[i], l.n_errors, l.n_errors == 1 ? "" : "s",
                   l.n_warnings, l.n_warnings == 1 ? "" : "s");
        ds_diag_list_free(&l);
    }
    return rc;
}

/* ---- show ----------------------------------------------------------------------------------- */

typedef struct show_rows {
    int n, cap, width;
    char **path, **value;
    char *note;
} show_rows;

static void collect(const ds_effective_entry *e, void *user) {
    show_rows *r = user;
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 128;
        char **p = realloc(r->path, (size_t)cap * sizeof *p), **v = p ? realloc(r->value, (size_t)cap * sizeof *v) : NULL;
        char *nt = v ? realloc(r->note, (size_t)cap) : NULL;
        if (p) r->path = p;
        if (v) r->value = v;
        if (nt) r->note = nt;
        if (!p || !v || !nt) return;
        r->cap = cap;
    }
    r->path[r->n] = strdup(e->path);
    r->value[r->n] = strdup(e->value[0] ? e->value : "(not set)");
    r->note[r->n] = !e->key ? 'u' : e->is_derived ? 'd' : e->is_default ? 'D' : ' ';
    int w = (int)strlen(e->path);
    if (w > r->width && w <= 64) r->width = w;
    r->n++;
}

static void print_effective(const ds_config_doc *doc, FILE *out) {
    show_rows r = {0};
    ds_config_doc_each_effective(doc, collect, &r);
    for (int i = 0; i < r.n; i++) {
        const char *note = r.note[i] == 'D' ? "  # default" : r.note[i] == 'd' ? "  # default (derived)"
                           : r.note[i] == 'u' ? "  # not in the schema (kept)" : "";
        fprintf(out, "%-*s = %s%s\n", r.width, r.path[i] ? r.path[i] : "?", r.value[i] ? r.value[i] : "?", note);
        free(r.path[i]);
        free(r.value[i]);
    }
    free(r.path);
    free(r.value);
    free(r.note);
}

static void print_model_summary(const char *path, FILE *out) {
    ds_model_config *m = malloc(sizeof *m);
    if (!m) return;
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_model_config_load(path, m, &l, NULL);
    if (m->model_type <= DS_MODEL_DIFFUSION_UNCOND) {
        fprintf(out, "# derived: io_channels %d, pretransform %s (ratio %d, %d channels), sample_size must be a "
                     "multiple of %lld",
                m->io_channels, m->pretransform.type_name, m->pretransform.ratio, m->pretransform.encoded_channels,
                (long long)m->min_input_length);
        if (m->sample_size > 0 && m->pretransform.ratio > 0)
            fprintf(out, ", latent length %lld", (long long)(m->sample_size / m->pretransform.ratio));
        fprintf(out, "\n");
        for (int i = 0; i < m->conditioning.n; i++)
            fprintf(out, "# derived: conditioner \"%s\" (%s) output_dim %d\n", m->conditioning.c[i].id,
                    m->conditioning.c[i].type_name, m->conditioning.c[i].output_dim);
    }
    if (l.n_errors)
        fprintf(out, "# %d error%s: run 'diffstudio config check %s'\n", l.n_errors, l.n_errors == 1 ? "" : "s", path);
    ds_diag_list r;
    ds_diag_list_init(&r);
    if (!l.n_errors && ds_model_config_check_runnable(m, &r, NULL) != DS_OK)
        for (int i = 0; i < r.n; i++)
            fprintf(out, "# cannot run yet: %s: %s\n", r.items[i].path, r.items[i].message);
    ds_diag_list_free(&r);
    ds_diag_list_free(&l);
    free(m);
}

static int show_file(const char *path, FILE *out, int depth) {
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_config_doc *doc = NULL;
    if (ds_config_doc_load(path, &doc, &l, NULL) != DS_OK) {
        print_diags(&l, stderr);
        ds_diag_list_free(&l);
        return 1;
    }
    ds_diag_list_free(&l);
    ds_config_kind kind = ds_config_doc_kind(doc);
    fprintf(out, "# %s: %s\n", path, ds_config_kind_name(kind));
    print_effective(doc, out);
    int rc = 0;
    if (kind == DS_KIND_MODEL) {
        print_model_summary(path, out);
    } else if (kind == DS_KIND_STUDIO && depth == 0) {
        ds_studio_config *s = malloc(sizeof *s);
        if (s) {
            ds_studio_config_load(path, s, NULL, NULL);
            fprintf(out, "# resolved: model_config %s, dataset_config %s%s, run_dir %s\n", s->model_config,
                    s->dataset_config[0] ? s->dataset_config : "(none)", s->dataset_is_folder ? " (a folder of audio)" : "",
                    s->run_dir);
            if (s->model_config[0]) {
                fprintf(out, "\n");
                rc |= show_file(s->model_config, out, depth + 1);
            }
            if (s->dataset_config[0] && !s->dataset_is_folder) {
                fprintf(out, "\n");
                rc |= show_file(s->dataset_config, out, depth + 1);
            }
            free(s);
        }
    } else if (kind == DS_KIND_UNKNOWN) {
        fprintf(stderr, "%s: cannot tell what kind of file this is (see 'diffstudio config check')\n", path);
        rc = 1;
    }
    ds_config_doc_free(doc);
    return rc;
}

int ui_config_show(const char *path, FILE *out) { return show_file(path, out, 0); }

static int config_show(int argc, char **argv) {
    if (argc != 2 || ui_wants_help(argc, argv)) {
        printf("usage: diffstudio config show FILE\n"
               "\n"
               "Prints the effective config of a model config, dataset config or studio file:\n"
               "every key that applies to it, with its value or SAT's default (marked\n"
               "'# default'), then the keys the schema does not know. A studio file's model\n"
               "and dataset configs follow it.\n");
        return argc != 2 && !ui_wants_help(argc, argv) ? 2 : 0;
    }
    return ui_config_show(argv[1], stdout);
}

/* ---- schema --------------------------------------------------------------------------------- */

static void print_wrapped(const char *text, const char *indent, int width, FILE *out) {
    int col = 0;
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (col == 0) {
            fputs(indent, out);
            col = (int)strlen(indent);
        } else if (col + 1 + wl > width) {
            fputc('\n', out);
            fputs(indent, out);
            col = (int)strlen(indent);
        } else {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, (size_t)wl, out);
        col += wl;
        p += wl;
        while (*p == ' ') p++;
    }
    if (col) fputc('\n', out);
}

static int config_schema(int argc, char **argv) {
    if (argc > 2 || ui_wants_help(argc, argv)) {
        printf("usage: diffstudio config schema [PATH]\n"
               "\n"
               "Prints the schema: every key diffstudio knows, its type, SAT's default, the\n"
               "allowed values, where it applies and its help text. PATH selects a key and\n"
               "everything under it (e.g. model.diffusion.config, or a concrete path such as\n"
               "model.conditioning.configs[0].config).\n");
        return argc > 2 ? 2 : 0;
    }
    char pat[512] = "";
    if (argc == 2) ds_schema_pattern(argv[1], pat, sizeof pat);
    size_t pl = strlen(pat);
    int shown = 0;
    for (int i = 0; i < ds_schema_count; i++) {
        const ds_schema_key *k = &ds_schema[i];
        if (pl && strcmp(k->path, pat) &&
            !(strncmp(k->path, pat, pl) == 0 && (k->path[pl] == '.' || k->path[pl] == '[')))
            continue;
        char exp[512], app[512];
        ds_schema_describe(k, exp, sizeof exp);
        ds_schema_describe_applies(k, app, sizeof app);
        printf("%s  (%s%s%s)\n", k->path, ds_schema_type_name(k->type),
               k->flags & DS_SF_REQUIRED ? ", required" : "", k->flags & DS_SF_IGNORED ? ", ignored by SAT" : "");
        printf("    value: %s\n", exp);
        if (k->def) printf("    default: %s\n", k->def);
        printf("    applies to: %s\n", app);
        if (k->help) print_wrapped(k->help, "    ", 100, stdout);
        printf("\n");
        shown++;
    }
    if (!shown) {
        fprintf(stderr, "diffstudio config schema: no key matches '%s'\n", argv[1]);
        return 1;
    }
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

int cmd_config(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "check")) return config_check(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "show")) return config_show(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "schema")) return config_schema(argc - 1, argv + 1);
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"));
    FILE *f = help ? stdout : stderr;
    if (argc >= 2 && !help) fprintf(stderr, "diffstudio config: unknown subcommand '%s'\n\n", argv[1]);
    fprintf(f, "usage: diffstudio config check FILE...   check configs, print every problem\n"
               "       diffstudio config show FILE       print the effective config (defaults marked)\n"
               "       diffstudio config schema [PATH]   print the schema of every key\n"
               "\n"
               "FILE is a SAT model config, a SAT dataset config or a studio file.\n"
               "Run 'diffstudio config SUBCOMMAND --help' for details.\n");
    return help ? 0 : 2;
}
