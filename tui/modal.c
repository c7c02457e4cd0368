/* Modal dialogs (see modal.h). */
#include "modal.h"

#include <stdio.h>
#include <string.h>

#include "keymap.h"
#include "term.h"
#include "widgets.h"

static void start(ui_modal *m, ui_modal_kind kind, int purpose, const char *title) {
    m->kind = kind;
    m->purpose = purpose;
    snprintf(m->title, sizeof m->title, "%s", title ? title : "");
    m->text[0] = m->hint[0] = 0;
    m->n_keys = m->answer = 0;
    m->n_items = m->sel = m->top = m->n_order = 0;
    m->n_fields = m->field = 0;
    m->scroll = 0;
}

void ui_modal_close(ui_modal *m) { m->kind = UI_MODAL_NONE; }

void ui_modal_confirm(ui_modal *m, int purpose, const char *title, const char *text, const char *keys) {
    start(m, UI_MODAL_CONFIRM, purpose, title);
    snprintf(m->text, sizeof m->text, "%s", text);
    snprintf(m->keys, sizeof m->keys, "%s", keys);
    m->n_keys = (int)strlen(m->keys);
}

void ui_modal_prompt(ui_modal *m, int purpose, const char *title, ui_edit_kind kind, const char *initial,
                     const char *hint) {
    start(m, UI_MODAL_PROMPT, purpose, title);
    ui_textedit_init(&m->edit, kind, initial);
    snprintf(m->hint, sizeof m->hint, "%s", hint ? hint : "");
}

void ui_modal_menu(ui_modal *m, int purpose, const char *title) { start(m, UI_MODAL_MENU, purpose, title); }
void ui_modal_checklist(ui_modal *m, int purpose, const char *title) {
    start(m, UI_MODAL_CHECKLIST, purpose, title);
}
void ui_modal_form(ui_modal *m, int purpose, const char *title) { start(m, UI_MODAL_FORM, purpose, title); }

int ui_modal_add_item(ui_modal *m, const char *item, const char *detail, bool checked) {
    if (m->n_items >= UI_MODAL_ITEMS) return -1;
    int i = m->n_items++;
    snprintf(m->items[i], sizeof m->items[i], "%s", item);
    snprintf(m->details[i], sizeof m->details[i], "%s", detail ? detail : "");
    m->checked[i] = checked;
    if (checked) m->order[m->n_order++] = i;
    return i;
}

ui_form_field *ui_modal_add_field(ui_modal *m, const char *name) {
    if (m->n_fields >= UI_MODAL_FIELDS) return NULL;
    ui_form_field *f = &m->fields[m->n_fields++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    ui_textedit_init(&f->edit, UI_EDIT_TEXT, "");
    return f;
}

void ui_modal_text(ui_modal *m, int purpose, const char *title, const char *text) {
    start(m, UI_MODAL_TEXT, purpose, title);
    snprintf(m->text, sizeof m->text, "%s", text);
}

static bool form_valid(const ui_modal *m) {
    for (int i = 0; i < m->n_fields; i++)
        if (!m->fields[i].n_options && ui_textedit_check(&m->fields[i].edit, NULL, 0) != UI_EDIT_OK) return false;
    return true;
}

static void toggle(ui_modal *m, int i) {
    m->checked[i] = !m->checked[i];
    if (m->checked[i]) {
        m->order[m->n_order++] = i;
    } else {
        int k = 0;
        for (int j = 0; j < m->n_order; j++)
            if (m->order[j] != i) m->order[k++] = m->order[j];
        m->n_order = k;
    }
}

ui_modal_result ui_modal_key(ui_modal *m, int key) {
    switch (m->kind) {
    case UI_MODAL_CONFIRM:
        if (key == UI_KEY_ESC) return UI_MODAL_CANCEL;
        if (key == UI_KEY_ENTER && m->n_keys) {
            m->answer = m->keys[0];
            return UI_MODAL_DONE;
        }
        if (key > 0 && key < 128 && strchr(m->keys, key)) {
            m->answer = key;
            return UI_MODAL_DONE;
        }
        if (key == UI_KEY_CTRL('c') && strchr(m->keys, 'y')) { /* Ctrl-C again: yes */
            m->answer = 'y';
            return UI_MODAL_DONE;
        }
        return UI_MODAL_OPEN;
    case UI_MODAL_PROMPT: {
        ui_edit_result r = ui_textedit_key(&m->edit, key);
        return r == UI_EDIT_DONE ? UI_MODAL_DONE : r == UI_EDIT_CANCEL ? UI_MODAL_CANCEL : UI_MODAL_OPEN;
    }
    case UI_MODAL_MENU:
    case UI_MODAL_CHECKLIST: {
        if (key == UI_KEY_ESC || key == 'q') return UI_MODAL_CANCEL;
        if (key == UI_KEY_ENTER) return m->n_items ? UI_MODAL_DONE : UI_MODAL_CANCEL;
        if (m->kind == UI_MODAL_CHECKLIST && key == ' ' && m->n_items) {
            toggle(m, m->sel);
            return UI_MODAL_OPEN;
        }
        ui_action a = key == UI_KEY_UP || key == 'k' ? UA_UP
                      : key == UI_KEY_DOWN || key == 'j' ? UA_DOWN
                      : key == UI_KEY_PGUP ? UA_PGUP
                      : key == UI_KEY_PGDN ? UA_PGDN
                      : key == UI_KEY_HOME ? UA_TOP
                      : key == UI_KEY_END ? UA_BOTTOM
                                          : UA_NONE;
        if (a != UA_NONE) m->sel = ui_list_move(m->sel, m->n_items, a, 10);
        return UI_MODAL_OPEN;
    }
    case UI_MODAL_FORM: {
        if (key == UI_KEY_ESC) return UI_MODAL_CANCEL;
        if (!m->n_fields) return UI_MODAL_CANCEL;
        ui_form_field *f = &m->fields[m->field];
        if (key == UI_KEY_UP || key == UI_KEY_BTAB) {
            m->field = (m->field + m->n_fields - 1) % m->n_fields;
            return UI_MODAL_OPEN;
        }
        if (key == UI_KEY_DOWN || key == UI_KEY_TAB) {
            m->field = (m->field + 1) % m->n_fields;
            return UI_MODAL_OPEN;
        }
        if (key == UI_KEY_ENTER) return form_valid(m) ? UI_MODAL_DONE : UI_MODAL_OPEN;
        if (f->n_options) {
            if (key == UI_KEY_LEFT) f->opt = (f->opt + f->n_options - 1) % f->n_options;
            if (key == UI_KEY_RIGHT || key == ' ') f->opt = (f->opt + 1) % f->n_options;
            return UI_MODAL_OPEN;
        }
        ui_textedit_key(&f->edit, key);
        return UI_MODAL_OPEN;
    }
    case UI_MODAL_TEXT:
        if (key == UI_KEY_UP || key == 'k') {
            if (m->scroll > 0) m->scroll--;
            return UI_MODAL_OPEN;
        }
        if (key == UI_KEY_DOWN || key == 'j') {
            m->scroll++;
            return UI_MODAL_OPEN;
        }
        if (key == UI_KEY_PGDN || key == ' ') {
            m->scroll += 10;
            return UI_MODAL_OPEN;
        }
        if (key == UI_KEY_PGUP) {
            m->scroll = m->scroll > 10 ? m->scroll - 10 : 0;
            return UI_MODAL_OPEN;
        }
        return UI_MODAL_DONE;
    default: return UI_MODAL_CANCEL;
    }
}

/* ---- drawing -------------------------------------------------------------------------------- */

static int count_lines(const char *t) {
    int n = 1;
    for (; *t; t++) n += *t == '\n';
    return n;
}

static ui_rect modal_box(int w, int h, int bw, int bh, const char *title) {
    if (bw > w - 2) bw = w - 2;
    if (bh > h - 2) bh = h - 2;
    ui_rect r = {(w - bw) / 2, (h - bh) / 2, bw, bh};
    ui_fill(r, ui_attr(UI_R_NORMAL));
    bool u = ui_utf8();
    int a = ui_attr(UI_R_TITLE);
    for (int x = r.x; x < r.x + r.w; x++) {
        ui_putwc(r.y, x, u ? 0x2500 : '-', a);
        ui_putwc(r.y + r.h - 1, x, u ? 0x2500 : '-', a);
    }
    for (int y = r.y; y < r.y + r.h; y++) {
        ui_putwc(y, r.x, u ? 0x2502 : '|', a);
        ui_putwc(y, r.x + r.w - 1, u ? 0x2502 : '|', a);
    }
    ui_putwc(r.y, r.x, u ? 0x250C : '+', a);
    ui_putwc(r.y, r.x + r.w - 1, u ? 0x2510 : '+', a);
    ui_putwc(r.y + r.h - 1, r.x, u ? 0x2514 : '+', a);
    ui_putwc(r.y + r.h - 1, r.x + r.w - 1, u ? 0x2518 : '+', a);
    char t[160];
    snprintf(t, sizeof t, " %s ", title);
    ui_put_cut(r.y, r.x + 2, r.w - 4, a | A_BOLD, t);
    ui_rect in = {r.x + 2, r.y + 1, r.w - 4, r.h - 2};
    return in;
}

static void draw_lines(ui_rect in, const char *text, int skip, int attr) {
    int y = in.y, line = 0;
    const char *p = text;
    while (*p && y < in.y + in.h) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (line >= skip) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s", len, p);
            y += ui_wrap(y, in.x, in.w, in.y + in.h - y, attr, buf[0] ? buf : " ");
        }
        line++;
        p += len + (nl ? 1 : 0);
        if (!nl) break;
    }
}

void ui_modal_draw(const ui_modal *m, int w, int h) {
    switch (m->kind) {
    case UI_MODAL_CONFIRM: {
        int bw = w > 74 ? 70 : w - 4;
        int lines = 0;
        for (const char *p = m->text; *p;) { /* wrapped rows, roughly */
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            lines += 1 + len / (bw - 6 > 10 ? bw - 6 : 10);
            p += len + (nl ? 1 : 0);
            if (!nl) break;
        }
        ui_rect in = modal_box(w, h, bw, lines + 4, m->title);
        draw_lines(in, m->text, 0, ui_attr(UI_R_NORMAL));
        ui_put_cut(in.y + in.h - 1, in.x, in.w, ui_attr(UI_R_DIM), "Esc: cancel");
        break;
    }
    case UI_MODAL_PROMPT: {
        int bw = w > 84 ? 80 : w - 4;
        ui_rect in = modal_box(w, h, bw, 7, m->title);
        if (m->hint[0]) ui_put_cut(in.y, in.x, in.w, ui_attr(UI_R_DIM), m->hint);
        ui_rect field = {in.x, in.y + 2, in.w, 1};
        ui_fill(field, ui_attr(UI_R_INPUT));
        int col = ui_textedit_cursor_col(&m->edit);
        int off = col >= in.w - 1 ? col - in.w + 2 : 0; /* scroll long text */
        const char *s = m->edit.buf;
        for (int k = 0; k < off && *s; k++) { /* skip `off` characters */
            s++;
            while ((*s & 0xC0) == 0x80) s++;
        }
        ui_put(in.y + 2, in.x, in.w, ui_attr(UI_R_INPUT), s);
        ui_putwc(in.y + 2, in.x + col - off, ' ', ui_attr(UI_R_CURSOR));
        if (m->edit.cur < m->edit.len) {
            char c[8] = {0};
            int n = 1;
            while (m->edit.cur + n < m->edit.len && (m->edit.buf[m->edit.cur + n] & 0xC0) == 0x80) n++;
            memcpy(c, m->edit.buf + m->edit.cur, (size_t)n);
            ui_put(in.y + 2, in.x + col - off, 1, ui_attr(UI_R_CURSOR), c);
        }
        char msg[256];
        ui_edit_state st = ui_textedit_check(&m->edit, msg, sizeof msg);
        int a = st == UI_EDIT_OK ? UI_R_OK : st == UI_EDIT_PARTIAL ? UI_R_WARN : UI_R_ERROR;
        ui_put_cut(in.y + 4, in.x, in.w, ui_attr(a), msg);
        break;
    }
    case UI_MODAL_MENU:
    case UI_MODAL_CHECKLIST: {
        int bw = w > 96 ? 92 : w - 4;
        int bh = m->n_items + 5 < h - 4 ? m->n_items + 5 : h - 4;
        ui_rect in = modal_box(w, h, bw, bh, m->title);
        int rows = in.h - 2;
        int top = ui_list_top(m->top, m->sel, m->n_items, rows);
        for (int i = 0; i < rows && top + i < m->n_items; i++) {
            int k = top + i;
            int attr = ui_attr(k == m->sel ? UI_R_SELECT : UI_R_NORMAL);
            ui_rect line = {in.x, in.y + i, in.w, 1};
            if (k == m->sel) ui_fill(line, attr);
            char item[160];
            if (m->kind == UI_MODAL_CHECKLIST) {
                int pos = 0;
                for (int j = 0; j < m->n_order; j++)
                    if (m->order[j] == k) pos = j + 1;
                snprintf(item, sizeof item, "[%c] %s", m->checked[k] ? (pos < 10 ? '0' + pos : '*') : ' ', m->items[k]);
            } else {
                snprintf(item, sizeof item, "%s", m->items[k]);
            }
            int used = ui_put_cut(in.y + i, in.x, in.w / 2 > 20 ? in.w / 2 : in.w, attr | A_BOLD, item);
            if (m->details[k][0] && in.w - used - 2 > 8)
                ui_put_cut(in.y + i, in.x + used + 2, in.w - used - 2, attr, m->details[k]);
        }
        ui_put_cut(in.y + in.h - 1, in.x, in.w, ui_attr(UI_R_DIM),
                   m->kind == UI_MODAL_CHECKLIST ? "Space: check (in order)  Enter: done  Esc: cancel"
                                                 : "Enter: choose  Esc: cancel");
        break;
    }
    case UI_MODAL_FORM: {
        int bw = w > 84 ? 80 : w - 4;
        ui_rect in = modal_box(w, h, bw, m->n_fields + 5, m->title);
        for (int i = 0; i < m->n_fields && i < in.h - 2; i++) {
            const ui_form_field *f = &m->fields[i];
            bool cur = i == m->field;
            ui_putf(in.y + i, in.x, 24, ui_attr(cur ? UI_R_TITLE : UI_R_NORMAL) | (cur ? A_BOLD : 0), "%s%s",
                    cur ? "> " : "  ", f->name);
            char val[300];
            if (f->n_options)
                snprintf(val, sizeof val, "%s %s %s", ui_utf8() ? "◀" : "<", f->options[f->opt], ui_utf8() ? "▶" : ">");
            else
                snprintf(val, sizeof val, "%s%s", f->edit.buf, cur ? "_" : "");
            int a = f->n_options ? UI_R_NORMAL
                    : ui_textedit_check(&f->edit, NULL, 0) == UI_EDIT_OK ? UI_R_INPUT
                                                                         : UI_R_ERROR;
            ui_put_cut(in.y + i, in.x + 24, in.w - 24, ui_attr(a), val);
        }
        ui_put_cut(in.y + in.h - 1, in.x, in.w, ui_attr(UI_R_DIM), "↑↓ field  ←→ choice  Enter: done  Esc: cancel");
        break;
    }
    case UI_MODAL_TEXT: {
        int lines = count_lines(m->text);
        ui_rect in = modal_box(w, h, w > 96 ? 92 : w - 4, lines + 4 < h - 2 ? lines + 4 : h - 2, m->title);
        ui_rect body = {in.x, in.y, in.w, in.h - 1};
        int skip = m->scroll > lines - body.h ? (lines - body.h > 0 ? lines - body.h : 0) : m->scroll;
        draw_lines(body, m->text, skip, ui_attr(UI_R_NORMAL));
        ui_put_cut(in.y + in.h - 1, in.x, in.w, ui_attr(UI_R_DIM), "↑↓ PgUp PgDn: scroll  any other key: close");
        break;
    }
    default: break;
    }
}
