/* Config screen, editing: type-aware editors for the selected row (text prompts checked as
 * typed, toggles, choices, conditioner-id checklists, demo_cond rows as forms), adding and
 * deleting keys and rows, saving, and the answers of those modals. Split from view_config.c
 * (drawing and navigation); the helpers both share are in view_config.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ustr.h"
#include "view_config.h"
#include "widgets.h"

void cfgv_after_edit(app *a, ds_status s, const ds_err *err, const char *what) {
    if (s != DS_OK) {
        app_message(a, UI_R_ERROR, "%s", err->msg);
        return;
    }
    cfg_doc *d = cfgv_doc(a);
    if (d && d->diags.n_errors)
        app_message(a, UI_R_WARN, "%s; %d problem%s to fix (!)", what, d->diags.n_errors, d->diags.n_errors == 1 ? "" : "s");
    else
        app_message(a, UI_R_OK, "%s", what);
}

static void set_value(app *a, const char *path, const char *json) {
    cfg_doc *d = cfgv_doc(a);
    if (!d) return;
    ds_err err = {0};
    ds_status s = cfg_doc_set(d, path, json, &err);
    char what[700];
    snprintf(what, sizeof what, "%s = %s", path, json);
    cfgv_after_edit(a, s, &err, what);
}

static const cfg_doc *model_doc(app *a) { return a->have_doc[UI_DOC_MODEL] ? &a->docs[UI_DOC_MODEL] : NULL; }

/* demo_cond: rewrite the whole list (elements cannot be appended one by one), keeping
 * num_demos equal to its length when it was. */
static void table_rows_edit(app *a, const char *array_path, int remove_index, bool add) {
    cfg_doc *d = cfgv_doc(a);
    const cfg_doc *m = model_doc(a);
    if (!d || !m) return;
    char json[16384], out[20000], newrow[1024];
    if (!ds_config_doc_get_json(d->doc, array_path, json, sizeof json)) snprintf(json, sizeof json, "[]");
    /* split the top-level elements of the compact array */
    size_t off = (size_t)snprintf(out, sizeof out, "[");
    int depth = 0, idx = 0, kept = 0;
    bool in_str = false;
    const char *start = json + 1;
    for (const char *p = json + 1; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = false;
            continue;
        }
        if (*p == '"') in_str = true;
        else if (*p == '{' || *p == '[') depth++;
        else if ((*p == '}' || *p == ']') && depth > 0) depth--;
        else if ((*p == ',' || *p == ']') && depth == 0) {
            int len = (int)(p - start);
            while (len > 0 && (*start == ' ')) start++, len--;
            if (len > 0 && idx != remove_index)
                off += (size_t)snprintf(out + off, sizeof out - off, "%s%.*s", kept++ ? ", " : "", len, start);
            if (len > 0) idx++;
            start = p + 1;
            if (*p == ']') break;
        }
    }
    if (add) {
        cfg_doc_new_table_row(m, newrow, sizeof newrow);
        off += (size_t)snprintf(out + off, sizeof out - off, "%s%s", kept++ ? ", " : "", newrow);
    }
    if (off + 2 >= sizeof out) {
        app_message(a, UI_R_ERROR, "%s: too long to edit here", array_path);
        return;
    }
    snprintf(out + off, sizeof out - off, "]");
    char num_path[CFG_PATH], parent[CFG_PATH], nd[32];
    cfg_path_parent(array_path, parent, sizeof parent);
    snprintf(num_path, sizeof num_path, "%.200s.num_demos", parent);
    cfg_op ops[2] = {{CFG_OP_SET, array_path, out}, {CFG_OP_SET, num_path, nd}};
    int n_ops = 1;
    char cur[32];
    if (ds_config_doc_get_json(d->doc, num_path, cur, sizeof cur) && atoi(cur) == idx && kept > 0) {
        snprintf(nd, sizeof nd, "%d", kept);
        n_ops = 2;
    }
    ds_err err = {0};
    ds_status s = cfg_doc_apply(d, ops, n_ops, &err);
    char what[400];
    snprintf(what, sizeof what, "%s: %s (%d row%s%s)", array_path, add ? "row added" : "row deleted", kept,
             kept == 1 ? "" : "s", n_ops == 2 ? ", num_demos follows" : "");
    cfgv_after_edit(a, s, &err, what);
    if (s == DS_OK && add) {
        char p[CFG_PATH];
        snprintf(p, sizeof p, "%s[%d]", array_path, kept - 1);
        view_config_jump(a, a->vc.file, p);
    }
}

static void open_text_editor(app *a, const cfg_row *row, ui_edit_kind kind, int purpose, const char *path) {
    char init[UI_EDIT_MAX];
    ui_textedit_from_json(kind, row && row->value[0] && strcmp(row->value, "(not set)") ? row->value : "", init,
                          sizeof init);
    const ds_schema_key *k = row ? row->key : NULL;
    char hint[512] = "";
    if (k) ds_schema_describe(k, hint, sizeof hint);
    if (kind == UI_EDIT_NUMBER_LIST || kind == UI_EDIT_INT_LIST || kind == UI_EDIT_STRING_LIST) {
        size_t n = strlen(hint);
        snprintf(hint + n, sizeof hint - n, "%scomma-separated", n ? "; " : "");
    }
    char title[300];
    snprintf(title, sizeof title, "%s", path);
    ui_modal_prompt(&a->modal, purpose, title, kind, init, hint);
    if (k && k->has_range && (kind == UI_EDIT_INT || kind == UI_EDIT_NUMBER || kind == UI_EDIT_INT_LIST ||
                              kind == UI_EDIT_NUMBER_LIST))
        ui_textedit_set_range(&a->modal.edit, k->min, k->max);
    snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", path);
}

static void open_row_form(app *a, const cfg_row *row) {
    cfg_doc *d = cfgv_doc(a);
    const cfg_doc *m = model_doc(a);
    if (!d || !m) return;
    char ids[DS_MAX_CONDITIONERS][64], types[DS_MAX_CONDITIONERS][32];
    int n = cfg_doc_conditioners(m, ids, types, DS_MAX_CONDITIONERS);
    char title[300];
    snprintf(title, sizeof title, "%s", row->path);
    ui_modal_form(&a->modal, MP_CFG_ROW, title);
    snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", row->path);
    for (int i = 0; i < n; i++) {
        ui_form_field *f = ui_modal_add_field(&a->modal, ids[i]);
        if (!f) break;
        char p[CFG_PATH + 80], json[512] = "", val[512] = "";
        snprintf(p, sizeof p, "%.255s.%.63s", row->path, ids[i]);
        bool has = ds_config_doc_get_json(d->doc, p, json, sizeof json);
        if (!strcmp(types[i], "list")) {
            f->n_options = cfg_doc_cond_options(m, ids[i], f->options, UI_MODAL_OPTIONS);
            ui_textedit_from_json(UI_EDIT_TEXT, json, val, sizeof val);
            for (int o = 0; o < f->n_options; o++)
                if (!strcmp(f->options[o], val)) f->opt = o;
        }
        if (!f->n_options) {
            ui_edit_kind k = !strcmp(types[i], "int") ? UI_EDIT_INT : !strcmp(types[i], "number") ? UI_EDIT_NUMBER : UI_EDIT_TEXT;
            ui_textedit_from_json(k, has ? json : "", val, sizeof val);
            ui_textedit_init(&f->edit, k, val);
        }
    }
    if (!n) {
        ui_modal_close(&a->modal);
        app_message(a, UI_R_WARN, "no conditioners in the model config: e edits the row as JSON");
    }
}

void cfgv_edit_row(app *a, const cfg_row *row, bool raw) {
    cfg_doc *d = cfgv_doc(a);
    if (!d || !row) return;
    ui_edit_kind kind;
    cfg_editor ed = raw ? CFG_ED_TEXT : cfg_editor_for(row, &kind);
    if (raw) kind = UI_EDIT_JSON;
    switch (ed) {
    case CFG_ED_NONE: cfgv_set_fold(a, row->path, cfgv_folded(&a->vc, row->path) < 0); break;
    case CFG_ED_BOOL: set_value(a, row->path, !strcmp(row->value, "true") ? "false" : "true"); break;
    case CFG_ED_TEXT: {
        if (raw && row->kind != CFG_ROW_LEAF) {
            char json[4096];
            if (!ds_config_doc_get_json(d->doc, row->path, json, sizeof json)) json[0] = 0;
            ui_modal_prompt(&a->modal, MP_CFG_TEXT, row->path, UI_EDIT_JSON, json, "raw JSON");
            snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", row->path);
        } else {
            open_text_editor(a, row, kind, MP_CFG_TEXT, row->path);
        }
        break;
    }
    case CFG_ED_CHOICE: {
        ui_modal_menu(&a->modal, MP_CFG_CHOICE, row->path);
        snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", row->path);
        const char *c = row->key->choices ? row->key->choices : "";
        char cur[128];
        ui_textedit_from_json(UI_EDIT_TEXT, row->value, cur, sizeof cur);
        while (*c) {
            const char *e = strchr(c, '|');
            int len = e ? (int)(e - c) : (int)strlen(c);
            char item[96];
            snprintf(item, sizeof item, "%.*s", len, c);
            int i = ui_modal_add_item(&a->modal, item, NULL, false);
            if (i >= 0 && !strcmp(item, cur)) a->modal.sel = i;
            c += len + (e ? 1 : 0);
        }
        if (row->key->flags & DS_SF_OPEN_ENUM) ui_modal_add_item(&a->modal, "other…", "type a value SAT accepts", false);
        break;
    }
    case CFG_ED_IDS: {
        const cfg_doc *m = model_doc(a);
        char ids[DS_MAX_CONDITIONERS][64];
        int n = m ? cfg_doc_conditioners(m, ids, NULL, DS_MAX_CONDITIONERS) : 0;
        ui_modal_checklist(&a->modal, MP_CFG_IDS, row->path);
        snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", row->path);
        /* the current ids first, in their order, then the other conditioners */
        char cur[1024];
        ui_textedit_from_json(UI_EDIT_STRING_LIST, row->value, cur, sizeof cur);
        char *save = NULL;
        for (char *t = strtok_r(cur, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            bool known = false;
            for (int i = 0; i < n; i++) known |= !strcmp(ids[i], t);
            ui_modal_add_item(&a->modal, t, known ? "" : "not a conditioner id of this model", true);
        }
        for (int i = 0; i < n; i++) {
            bool there = false;
            for (int k = 0; k < a->modal.n_items; k++) there |= !strcmp(a->modal.items[k], ids[i]);
            if (!there) ui_modal_add_item(&a->modal, ids[i], "", false);
        }
        if (!a->modal.n_items) {
            ui_modal_close(&a->modal);
            app_message(a, UI_R_WARN, "no conditioners are defined (model.conditioning.configs)");
        }
        break;
    }
    case CFG_ED_ROW: open_row_form(a, row); break;
    case CFG_ED_ROWS: table_rows_edit(a, row->path, -1, true); break;
    }
}

void cfgv_add_key(app *a, const cfg_row *row) {
    cfg_doc *d = cfgv_doc(a);
    if (!d) return;
    if (row) {
        ui_edit_kind k;
        cfg_editor ed = cfg_editor_for(row, &k);
        if (ed == CFG_ED_ROWS || ed == CFG_ED_ROW) {
            char arr[CFG_PATH];
            if (ed == CFG_ED_ROW)
                cfg_path_parent(row->path, arr, sizeof arr);
            else
                snprintf(arr, sizeof arr, "%s", row->path);
            table_rows_edit(a, arr, -1, true);
            return;
        }
    }
    char obj[CFG_PATH] = "";
    if (row) cfg_row_object(row, obj, sizeof obj);
    const ds_schema_key *keys[128];
    char paths[128][CFG_PATH];
    int n = cfg_doc_addable(d, obj, keys, paths, 128);
    if (!n && obj[0]) { /* nothing left here: offer the parent object's keys */
        char parent[CFG_PATH];
        cfg_path_parent(obj, parent, sizeof parent);
        snprintf(obj, sizeof obj, "%s", parent);
        n = cfg_doc_addable(d, obj, keys, paths, 128);
    }
    if (!n) {
        app_message(a, UI_R_WARN, "every key the schema allows under %s is already in the file", obj[0] ? obj : "the top level");
        return;
    }
    char title[300];
    snprintf(title, sizeof title, "add a key under %s", obj[0] ? obj : "the top level");
    ui_modal_menu(&a->modal, MP_CFG_ADD, title);
    for (int i = 0; i < n; i++) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s%s%s", ds_schema_type_name(keys[i]->type), keys[i]->def ? ", default " : "",
                 keys[i]->def ? keys[i]->def : "");
        ui_modal_add_item(&a->modal, paths[i] + (obj[0] ? strlen(obj) + 1 : 0), detail, false);
    }
    snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", obj);
}

void cfgv_delete_row(app *a, const cfg_row *row) {
    cfg_doc *d = cfgv_doc(a);
    if (!d || !row) return;
    if (row->kind == CFG_ROW_TABLE) {
        char arr[CFG_PATH];
        cfg_path_parent(row->path, arr, sizeof arr);
        const char *br = strrchr(row->path, '[');
        table_rows_edit(a, arr, br ? atoi(br + 1) : -1, false);
        return;
    }
    if (!row->in_file) {
        app_message(a, UI_R_WARN, "%s is not in the file: it shows SAT's default", row->path);
        return;
    }
    ds_err err = {0};
    ds_status s = cfg_doc_delete(d, row->path, &err);
    char what[400];
    snprintf(what, sizeof what, "deleted %s", row->path);
    cfgv_after_edit(a, s, &err, what);
}

void cfgv_save(app *a, const char *path) {
    cfg_doc *d = cfgv_doc(a);
    if (!d) return;
    ds_err err = {0};
    if (cfg_doc_save(d, path, &err) != DS_OK) {
        app_message(a, UI_R_ERROR, "not saved: %s", err.msg);
        return;
    }
    app_message(a, UI_R_OK, "saved %s", d->path);
    if (a->vc.file == UI_DOC_STUDIO && !path) app_reload_studio(a);
}

void view_config_modal(app *a, const ui_modal *m) {
    view_config *v = &a->vc;
    cfg_doc *d = cfgv_doc(a);
    if (!d) return;
    char json[UI_EDIT_MAX + 64];
    switch (m->purpose) {
    case MP_CFG_TEXT:
    case MP_CFG_ADD_VALUE:
        if (ui_textedit_json(&m->edit, json, sizeof json)) set_value(a, m->ctx, json);
        break;
    case MP_CFG_CHOICE:
        if (!strcmp(m->items[m->sel], "other…")) {
            ui_modal_prompt(&a->modal, MP_CFG_TEXT, m->ctx, UI_EDIT_TEXT, "", "a value SAT accepts here");
            snprintf(a->modal.ctx, sizeof a->modal.ctx, "%s", m->ctx);
        } else {
            ui_textedit e;
            ui_textedit_init(&e, UI_EDIT_TEXT, m->items[m->sel]);
            if (ui_textedit_json(&e, json, sizeof json)) set_value(a, m->ctx, json);
        }
        break;
    case MP_CFG_IDS: {
        size_t off = (size_t)snprintf(json, sizeof json, "[");
        for (int i = 0; i < m->n_order; i++) {
            ui_textedit e;
            char s[200];
            ui_textedit_init(&e, UI_EDIT_TEXT, m->items[m->order[i]]);
            if (ui_textedit_json(&e, s, sizeof s)) off += (size_t)snprintf(json + off, sizeof json - off, "%s%s", i ? ", " : "", s);
        }
        snprintf(json + off, sizeof json - off, "]");
        set_value(a, m->ctx, json);
        break;
    }
    case MP_CFG_ROW: {
        cfg_op ops[UI_MODAL_FIELDS];
        char paths[UI_MODAL_FIELDS][CFG_PATH + 80], vals[UI_MODAL_FIELDS][600];
        int n = 0;
        for (int i = 0; i < m->n_fields; i++) {
            const ui_form_field *f = &m->fields[i];
            snprintf(paths[n], sizeof paths[n], "%.255s.%.63s", m->ctx, f->name);
            ui_textedit e;
            if (f->n_options)
                ui_textedit_init(&e, UI_EDIT_TEXT, f->options[f->opt]);
            else
                e = f->edit;
            if (!ui_textedit_json(&e, vals[n], sizeof vals[n])) continue;
            ops[n] = (cfg_op){CFG_OP_SET, paths[n], vals[n]};
            n++;
        }
        ds_err err = {0};
        ds_status s = cfg_doc_apply(d, ops, n, &err);
        char what[400];
        snprintf(what, sizeof what, "%.300s updated", m->ctx);
        cfgv_after_edit(a, s, &err, what);
        break;
    }
    case MP_CFG_ADD: {
        char path[CFG_PATH * 2];
        snprintf(path, sizeof path, "%.300s%s%.90s", m->ctx, m->ctx[0] ? "." : "", m->items[m->sel]);
        const ds_schema_key *k = ds_schema_for_doc(d->doc, path);
        if (k && k->def) {
            cfg_op op = {CFG_OP_ADD_DEFAULT, path, NULL};
            ds_err err = {0};
            ds_status s = cfg_doc_apply(d, &op, 1, &err);
            char what[600];
            snprintf(what, sizeof what, "added %s = %s (its default; Enter edits it)", path, k->def);
            cfgv_after_edit(a, s, &err, what);
            if (s == DS_OK) view_config_jump(a, v->file, path);
        } else {
            cfg_row tmp;
            memset(&tmp, 0, sizeof tmp);
            ui_strlcpy(tmp.path, path, sizeof tmp.path);
            tmp.key = k;
            tmp.kind = CFG_ROW_LEAF;
            ui_edit_kind kind;
            cfg_editor ed = cfg_editor_for(&tmp, &kind);
            open_text_editor(a, &tmp, ed == CFG_ED_TEXT ? kind : UI_EDIT_JSON, MP_CFG_ADD_VALUE, path);
        }
        break;
    }
    case MP_CFG_SAVE_AS: {
        char path[UI_EDIT_MAX];
        snprintf(path, sizeof path, "%s", m->edit.buf);
        if (path[0]) cfgv_save(a, path);
        break;
    }
    case MP_CFG_REVERT:
        if (m->answer == 'y') {
            ds_err err = {0};
            cfgv_after_edit(a, cfg_doc_revert(d, &err), &err, "reverted to the file on disk (u undoes)");
        }
        break;
    case MP_CFG_SEARCH:
        ui_strlcpy(v->search, m->edit.buf, sizeof v->search);
        view_config_action(a, UA_CFG_SEARCH_NEXT, 0);
        break;
    default: break;
    }
}
