/* Config screen: the model config, the dataset config and the studio file as trees generated
 * from the schema (cfgtree.h), edited in place with type-aware input; the selected key's help,
 * type, default and allowed values; the problems list (validation on every change), with
 * Enter jumping to the key. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "view_config.h"
#include "ustr.h"
#include "widgets.h"

static const char *DOC_NAMES[UI_DOC_COUNT] = {"model", "dataset", "studio"};

cfg_doc *cfgv_doc(app *a) { return a->have_doc[a->vc.file] ? &a->docs[a->vc.file] : NULL; }

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void view_config_init(app *a) {
    view_config *v = &a->vc;
    v->file = UI_DOC_MODEL;
    v->vis_stale = true;
    /* the big, rarely edited sections start folded */
    snprintf(v->folded[UI_DOC_MODEL][0], CFG_PATH, "model.diffusion.config");
    snprintf(v->folded[UI_DOC_MODEL][1], CFG_PATH, "model.conditioning");
    v->n_folded[UI_DOC_MODEL] = 2;
    snprintf(v->sel_path[UI_DOC_MODEL], CFG_PATH, "model_type");
}

void view_config_free(app *a) {
    free(a->vc.vis);
    a->vc.vis = NULL;
}

/* Recomputes the visible rows when the document or the folding changed, and finds the
 * selected path among them (or the nearest visible row before it). */
static void refresh_vis(app *a) {
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    if (!d) {
        v->n_vis = 0;
        return;
    }
    if (v->vis_stale || v->vis_version != d->version || v->vis_file != v->file) {
        if (v->cap_vis < d->n_rows) {
            int *n = realloc(v->vis, (size_t)d->n_rows * sizeof *n);
            if (!n) return;
            v->vis = n;
            v->cap_vis = d->n_rows;
        }
        v->n_vis = cfg_doc_visible(d, v->folded[v->file], v->n_folded[v->file], v->hide_defaults, v->vis);
        v->vis_version = d->version;
        v->vis_file = v->file;
        v->vis_stale = false;
    }
    int r = cfg_doc_find_row(d, v->sel_path[v->file]);
    v->sel = 0;
    for (int i = 0; i < v->n_vis; i++)
        if (v->vis[i] <= r) v->sel = i;
}

const cfg_row *cfgv_selected(app *a) {
    refresh_vis(a);
    cfg_doc *d = cfgv_doc(a);
    if (!d || !a->vc.n_vis) return NULL;
    return &d->rows[a->vc.vis[a->vc.sel]];
}

static void select_vis(app *a, int i) {
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    if (!d || !v->n_vis) return;
    if (i < 0) i = 0;
    if (i >= v->n_vis) i = v->n_vis - 1;
    v->sel = i;
    snprintf(v->sel_path[v->file], CFG_PATH, "%s", d->rows[v->vis[i]].path);
}

int cfgv_folded(view_config *v, const char *path) {
    for (int i = 0; i < v->n_folded[v->file]; i++)
        if (!strcmp(v->folded[v->file][i], path)) return i;
    return -1;
}

void cfgv_set_fold(app *a, const char *path, bool fold) {
    view_config *v = &a->vc;
    int i = cfgv_folded(v, path);
    if (fold && i < 0 && v->n_folded[v->file] < UI_FOLDED_MAX)
        snprintf(v->folded[v->file][v->n_folded[v->file]++], CFG_PATH, "%s", path);
    if (!fold && i >= 0) {
        int n = --v->n_folded[v->file];
        memmove(v->folded[v->file][i], v->folded[v->file][n], CFG_PATH);
    }
    v->vis_stale = true;
}

/* Unfolds every folded ancestor of path in document doc. */
static void reveal(app *a, int doc, const char *path) {
    view_config *v = &a->vc;
    for (int i = 0; i < v->n_folded[doc];) {
        const char *f = v->folded[doc][i];
        size_t n = strlen(f);
        if (!strncmp(path, f, n) && (path[n] == '.' || path[n] == '[')) {
            memmove(v->folded[doc][i], v->folded[doc][--v->n_folded[doc]], CFG_PATH);
        } else {
            i++;
        }
    }
    v->vis_stale = true;
}

void view_config_jump(app *a, int doc, const char *path) {
    if (doc < 0 || doc >= UI_DOC_COUNT || !a->have_doc[doc]) return;
    a->vc.file = doc;
    reveal(a, doc, path);
    int r = cfg_doc_find_row(&a->docs[doc], path);
    snprintf(a->vc.sel_path[doc], CFG_PATH, "%s", r >= 0 ? a->docs[doc].rows[r].path : path);
    a->vc.problems_focus = false;
    a->vc.vis_stale = true;
}

static int doc_of_file(app *a, const char *file) {
    if (!file[0]) return a->vc.file;
    char want[PATH_MAX], have[PATH_MAX];
    const char *w = realpath(file, want) ? want : file;
    for (int i = 0; i < UI_DOC_COUNT; i++) {
        if (!a->have_doc[i]) continue;
        const char *h = realpath(a->docs[i].path, have) ? have : a->docs[i].path;
        if (!strcmp(w, h)) return i;
    }
    return -1;
}

/* ---- drawing -------------------------------------------------------------------------------- */

static void draw_files(app *a, ui_rect r) {
    int x = r.x + 1;
    for (int i = 0; i < UI_DOC_COUNT && x < r.x + r.w; i++) {
        char t[300];
        if (a->have_doc[i]) {
            const cfg_doc *d = &a->docs[i];
            snprintf(t, sizeof t, " %s: %s%s ", DOC_NAMES[i], base(d->path), d->modified ? " [+]" : "");
        } else {
            snprintf(t, sizeof t, " %s: - ", DOC_NAMES[i]);
        }
        int role = i == a->vc.file ? UI_R_TAB_ACTIVE : a->have_doc[i] ? UI_R_TAB : UI_R_DIM;
        x += ui_put_cut(r.y, x, r.x + r.w - x, ui_attr(role), t);
        if (a->have_doc[i] && (a->docs[i].diags.n_errors || a->docs[i].diags.n_warnings)) {
            char c[48];
            snprintf(c, sizeof c, "%d!", a->docs[i].diags.n_errors + a->docs[i].diags.n_warnings);
            x += ui_put(r.y, x, r.x + r.w - x, ui_attr(a->docs[i].diags.n_errors ? UI_R_ERROR : UI_R_WARN), c);
        }
        x += 1;
    }
}

static void draw_tree(app *a, ui_rect r) {
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    char title[400], right[96];
    if (!d) {
        ui_rect in = ui_pane(r, DOC_NAMES[v->file], NULL, !v->problems_focus);
        ui_wrap(in.y + 1, in.x + 1, in.w - 2, in.h - 1, ui_attr(UI_R_DIM), a->doc_note[v->file]);
        return;
    }
    snprintf(title, sizeof title, "%s%s", d->path, d->modified ? " [modified]" : "");
    snprintf(right, sizeof right, "%s%s", v->hide_defaults ? "defaults hidden" : "defaults dim",
             d->n_undo ? ", u undoes" : "");
    ui_rect in = ui_pane(r, title, right, !v->problems_focus);
    refresh_vis(a);
    v->top = ui_list_top(v->top, v->sel, v->n_vis, in.h);
    bool u = ui_utf8();
    int label_w = in.w * 2 / 5;
    if (label_w > 44) label_w = 44;
    for (int i = 0; i < in.h && v->top + i < v->n_vis; i++) {
        int k = v->top + i;
        const cfg_row *row = &d->rows[v->vis[k]];
        bool sel = k == v->sel && !v->problems_focus;
        bool selu = k == v->sel;
        int y = in.y + i;
        if (selu) ui_fill((ui_rect){in.x, y, in.w, 1}, ui_attr(sel ? UI_R_SELECT : UI_R_DIM) | (sel ? 0 : A_REVERSE));
        int base_attr = selu ? ui_attr(sel ? UI_R_SELECT : UI_R_DIM) | (sel ? 0 : A_REVERSE) : 0;
        /* problem marker */
        if (row->problem >= 0)
            ui_putwc(y, in.x, row->problem == DS_DIAG_ERROR ? (u ? 0x2716 : 'E') : (u ? 0x25B2 : 'W'),
                     selu ? base_attr : ui_attr(row->problem == DS_DIAG_ERROR ? UI_R_ERROR : UI_R_WARN));
        int x = in.x + 1 + 2 * row->depth;
        if (row->kind == CFG_ROW_SECTION || row->kind == CFG_ROW_ELEMENT) {
            bool folded = cfgv_folded(v, row->path) >= 0;
            ui_putwc(y, x, folded ? (u ? 0x25B8 : '+') : (u ? 0x25BE : '-'), selu ? base_attr : ui_attr(UI_R_DIM));
            x += 2;
        }
        int lw = in.x + 1 + label_w - x;
        if (lw < 6) lw = 6;
        int la = selu ? base_attr : row->kind == CFG_ROW_LEAF ? ui_attr(UI_R_NORMAL) : ui_attr(UI_R_TITLE);
        ui_put_cut(y, x, lw, la | (row->in_file && row->kind == CFG_ROW_LEAF ? A_BOLD : 0), row->label);
        int vx = in.x + 2 + label_w;
        if (vx < x + ui_text_cols(row->label) + 1) vx = x + ui_text_cols(row->label) + 1;
        int vw = in.x + in.w - vx;
        if (vw <= 0) continue;
        char val[300];
        if (row->kind == CFG_ROW_SECTION)
            snprintf(val, sizeof val, "%s", row->in_file ? "" : "(defaults)");
        else if (row->is_derived)
            snprintf(val, sizeof val, "%s (derived)", row->value);
        else if (row->is_default)
            snprintf(val, sizeof val, "%s (default)", row->value);
        else
            snprintf(val, sizeof val, "%s", row->value);
        int va = selu ? base_attr : row->is_default ? ui_attr(UI_R_DEFAULT_VALUE) : ui_attr(UI_R_NORMAL);
        ui_put_cut(y, vx, vw, va, val);
    }
    if (!v->n_vis) ui_put(in.y, in.x + 1, in.w - 1, ui_attr(UI_R_DIM), "(nothing to show: D shows the defaults)");
}

static void draw_help(app *a, ui_rect r) {
    const cfg_row *row = cfgv_selected(a);
    ui_rect in = ui_pane(r, row ? row->path : "help", NULL, false);
    if (!row || ui_rect_empty(in)) return;
    int y = in.y, x = in.x + 1, w = in.w - 2, bottom = in.y + in.h;
    const ds_schema_key *k = row->key;
    char line[1200];
    if (k) {
        char desc[512];
        ds_schema_describe(k, desc, sizeof desc);
        snprintf(line, sizeof line, "%s%s%s  ·  %s", ds_schema_type_name(k->type),
                 k->flags & DS_SF_REQUIRED ? ", required" : "", k->flags & DS_SF_IGNORED ? ", ignored by SAT" : "", desc);
        y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_KEY), line);
        if (y < bottom) {
            char app_s[400];
            ds_schema_describe_applies(k, app_s, sizeof app_s);
            snprintf(line, sizeof line, "default %s  ·  %s", k->def ? k->def : "(none)", row->is_default ? "not in the file" : "set in the file");
            y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_DIM), line);
        }
        if (y < bottom && k->help) y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_NORMAL), k->help);
    } else if (row->kind == CFG_ROW_TABLE) {
        y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_NORMAL),
                     "One demo: its conditioning, one value per conditioner id. Enter edits the row, d deletes it, "
                     "a adds one.");
    } else if (row->kind == CFG_ROW_ELEMENT) {
        y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_NORMAL), "An element of the list. Space folds it.");
    } else {
        y += ui_wrap(y, x, w, bottom - y, ui_attr(UI_R_WARN), "Not a key diffstudio knows here: kept in the file as it is.");
    }
    cfg_doc *d = cfgv_doc(a);
    for (int i = 0; d && i < d->diags.n && y < bottom; i++) {
        const ds_diag *g = &d->diags.items[i];
        size_t n = strlen(row->path);
        if (strcmp(g->path, row->path) && !(strncmp(g->path, row->path, n) == 0 && (g->path[n] == '.' || g->path[n] == '[')))
            continue;
        snprintf(line, sizeof line, "%s: %s", g->severity == DS_DIAG_ERROR ? "error" : "warning", g->message);
        y += ui_wrap(y, x, w, bottom - y, ui_attr(g->severity == DS_DIAG_ERROR ? UI_R_ERROR : UI_R_WARN), line);
    }
}

static void draw_problems(app *a, ui_rect r) {
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    char title[128];
    snprintf(title, sizeof title, "problems: %d error%s, %d warning%s", d ? d->diags.n_errors : 0,
             d && d->diags.n_errors == 1 ? "" : "s", d ? d->diags.n_warnings : 0, d && d->diags.n_warnings == 1 ? "" : "s");
    ui_rect in = ui_pane(r, title, v->problems_focus ? "Enter: go to the key, Esc: back" : "! to go there", v->problems_focus);
    if (!d || ui_rect_empty(in)) return;
    if (!d->diags.n) {
        ui_put(in.y, in.x + 1, in.w - 1, ui_attr(UI_R_OK), "none: this file is valid");
        return;
    }
    int n = d->diags.n;
    if (v->prob_sel >= n) v->prob_sel = n - 1;
    v->prob_top = ui_list_top(v->prob_top, v->prob_sel, n, in.h);
    for (int i = 0; i < in.h && v->prob_top + i < n; i++) {
        int k = v->prob_top + i;
        const ds_diag *g = &d->diags.items[k];
        bool sel = v->problems_focus && k == v->prob_sel;
        int attr = sel ? ui_attr(UI_R_SELECT) : ui_attr(g->severity == DS_DIAG_ERROR ? UI_R_ERROR : UI_R_WARN);
        if (sel) ui_fill((ui_rect){in.x, in.y + i, in.w, 1}, attr);
        char line[1400];
        bool other = g->file[0] && doc_of_file(a, g->file) != v->file;
        snprintf(line, sizeof line, "%-7s %s%s%s%s", g->severity == DS_DIAG_ERROR ? "error" : "warning",
                 other ? base(g->file) : "", other ? ": " : "", g->path[0] ? g->path : "(file)", "");
        int used = ui_put_cut(in.y + i, in.x + 1, in.w / 2, attr | A_BOLD, line);
        ui_put_cut(in.y + i, in.x + 2 + used, in.w - used - 3, sel ? attr : ui_attr(UI_R_NORMAL), g->message);
    }
}

void view_config_draw(app *a, const ui_layout *l) {
    draw_files(a, l->pane[UI_P_CFG_FILES]);
    draw_tree(a, l->pane[UI_P_CFG_TREE]);
    draw_help(a, l->pane[UI_P_CFG_HELP]);
    draw_problems(a, l->pane[UI_P_CFG_PROBLEMS]);
}

/* ---- editing -------------------------------------------------------------------------------- */

void view_config_action(app *a, ui_action act, int key) {
    (void)key;
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    refresh_vis(a);
    const cfg_row *row = cfgv_selected(a);
    if (v->problems_focus) {
        int n = d ? d->diags.n : 0;
        switch (act) {
        case UA_UP:
        case UA_DOWN:
        case UA_PGUP:
        case UA_PGDN:
        case UA_TOP:
        case UA_BOTTOM: v->prob_sel = ui_list_move(v->prob_sel, n, act, 5); return;
        case UA_CFG_EDIT:
        case UA_ENTER:
            if (d && v->prob_sel < n) {
                const ds_diag *g = &d->diags.items[v->prob_sel];
                int doc = doc_of_file(a, g->file);
                if (doc < 0)
                    app_message(a, UI_R_WARN, "%s is not open here", g->file);
                else
                    view_config_jump(a, doc, g->path);
            }
            return;
        case UA_CFG_PROBLEMS: v->problems_focus = false; return;
        default: break;
        }
        if (key == UI_KEY_ESC) {
            v->problems_focus = false;
            return;
        }
    }
    switch (act) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_TOP:
    case UA_BOTTOM: select_vis(a, ui_list_move(v->sel, v->n_vis, act, a->h / 2)); break;
    case UA_LEFT:
        if (row && (row->kind == CFG_ROW_SECTION || row->kind == CFG_ROW_ELEMENT) && cfgv_folded(v, row->path) < 0) {
            cfgv_set_fold(a, row->path, true);
        } else if (row) { /* to the parent section */
            char parent[CFG_PATH];
            cfg_path_parent(row->path, parent, sizeof parent);
            if (parent[0]) snprintf(v->sel_path[v->file], CFG_PATH, "%s", parent);
        }
        break;
    case UA_RIGHT:
        if (row && (row->kind == CFG_ROW_SECTION || row->kind == CFG_ROW_ELEMENT)) cfgv_set_fold(a, row->path, false);
        break;
    case UA_CFG_EDIT: cfgv_edit_row(a, row, false); break;
    case UA_CFG_TOGGLE: {
        ui_edit_kind k;
        if (row && (cfg_editor_for(row, &k) == CFG_ED_BOOL || cfg_editor_for(row, &k) == CFG_ED_NONE))
            cfgv_edit_row(a, row, false);
        break;
    }
    case UA_CFG_RAW: cfgv_edit_row(a, row, true); break;
    case UA_CFG_ADD: cfgv_add_key(a, row); break;
    case UA_CFG_DELETE: cfgv_delete_row(a, row); break;
    case UA_CFG_UNDO:
        if (d) app_message(a, UI_R_NORMAL, cfg_doc_undo(d) ? "undone" : "nothing to undo");
        break;
    case UA_CFG_REDO:
        if (d) app_message(a, UI_R_NORMAL, cfg_doc_redo(d) ? "redone" : "nothing to redo");
        break;
    case UA_CFG_SAVE:
        if (d) cfgv_save(a, NULL);
        break;
    case UA_CFG_SAVE_AS:
        if (d) {
            ui_modal_prompt(&a->modal, MP_CFG_SAVE_AS, "save as", UI_EDIT_TEXT, d->path,
                            "a path; the file is written atomically");
        }
        break;
    case UA_CFG_REVERT:
        if (d && d->modified)
            ui_modal_confirm(&a->modal, MP_CFG_REVERT, "Revert",
                             "Throw away the changes to this file and read it again from disk?\n"
                             "(u undoes the revert)\n\n  y  revert\n  n  keep the changes",
                             "ny");
        else if (d) {
            ds_err err = {0};
            cfgv_after_edit(a, cfg_doc_revert(d, &err), &err, "read again from disk");
        }
        break;
    case UA_CFG_FILE:
        v->file = (v->file + 1) % UI_DOC_COUNT;
        v->vis_stale = true;
        break;
    case UA_CFG_PROBLEMS:
        if (d && d->diags.n) v->problems_focus = !v->problems_focus;
        else app_message(a, UI_R_OK, "no problems in this file");
        break;
    case UA_CFG_SEARCH:
        ui_modal_prompt(&a->modal, MP_CFG_SEARCH, "find a key", UI_EDIT_TEXT, "", "part of a key or path (n: the next match)");
        break;
    case UA_CFG_SEARCH_NEXT:
        if (d && v->search[0]) {
            int i = cfg_doc_search(d, v->search, v->n_vis ? v->vis[v->sel] : -1);
            if (i < 0)
                app_message(a, UI_R_WARN, "no key matches \"%s\"", v->search);
            else
                view_config_jump(a, v->file, d->rows[i].path);
        }
        break;
    case UA_CFG_DEFAULTS:
        v->hide_defaults = !v->hide_defaults;
        v->vis_stale = true;
        break;
    default: break;
    }
}
