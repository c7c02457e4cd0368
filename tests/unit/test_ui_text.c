/* Type-aware text fields (tui/textedit.c): numbers are checked as typed (refused characters,
 * partial values, ranges), lists of numbers, JSON out, values shown for editing. */
#include <string.h>

#include "keymap.h"
#include "testutil.h"
#include "textedit.h"

static void type(ui_textedit *e, const char *s) {
    for (; *s; s++) ui_textedit_key(e, (unsigned char)*s);
}

int main(void) {
    ui_textedit e;
    char out[256], msg[160];
    ui_textedit_init(&e, UI_EDIT_INT, "");
    CHECK(ui_textedit_key(&e, 'x') == UI_EDIT_REFUSED && e.len == 0); /* refused as typed */
    CHECK(ui_textedit_key(&e, '.') == UI_EDIT_REFUSED);
    CHECK(ui_textedit_check(&e, msg, sizeof msg) == UI_EDIT_PARTIAL);
    CHECK(ui_textedit_key(&e, UI_KEY_ENTER) == UI_EDIT_REFUSED);
    type(&e, "-");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_PARTIAL);
    type(&e, "25");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_OK);
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "-25"));
    ui_textedit_set_range(&e, 1, 100);
    CHECK(ui_textedit_check(&e, msg, sizeof msg) == UI_EDIT_BAD && strstr(msg, "outside"));
    CHECK(!ui_textedit_json(&e, out, sizeof out));
    CHECK(ui_textedit_key(&e, UI_KEY_HOME) == UI_EDIT_CONTINUE);
    CHECK(ui_textedit_key(&e, UI_KEY_DELETE) == UI_EDIT_CONTINUE);
    CHECK(!strcmp(e.buf, "25") && ui_textedit_key(&e, UI_KEY_ENTER) == UI_EDIT_DONE);
    CHECK(ui_textedit_key(&e, UI_KEY_ESC) == UI_EDIT_CANCEL);

    ui_textedit_init(&e, UI_EDIT_NUMBER, "1");
    type(&e, "e");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_PARTIAL);
    type(&e, "-4");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_OK);
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "1e-4")); /* the text is kept */
    ui_textedit_init(&e, UI_EDIT_NUMBER, "");
    type(&e, ".5");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "0.5")); /* made valid JSON */
    ui_textedit_init(&e, UI_EDIT_NUMBER, "1e-");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_PARTIAL);
    ui_textedit_init(&e, UI_EDIT_NUMBER, "1-2");
    CHECK(ui_textedit_check(&e, msg, sizeof msg) == UI_EDIT_BAD);

    /* lists */
    ui_textedit_init(&e, UI_EDIT_NUMBER_LIST, "");
    type(&e, "1, 3,");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_PARTIAL);
    type(&e, " 6.5");
    CHECK(ui_textedit_check(&e, msg, sizeof msg) == UI_EDIT_OK && strstr(msg, "3 values"));
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "[1, 3, 6.5]"));
    CHECK(ui_textedit_key(&e, 'a') == UI_EDIT_REFUSED);
    ui_textedit_init(&e, UI_EDIT_NUMBER_LIST, "1, -, 3");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_BAD);
    ui_textedit_init(&e, UI_EDIT_INT_LIST, "2 2 2");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "[2, 2, 2]"));
    ui_textedit_init(&e, UI_EDIT_NUMBER_LIST, "");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "[]"));
    ui_textedit_init(&e, UI_EDIT_STRING_LIST, "a, b c");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "[\"a\", \"b\", \"c\"]"));

    /* strings, scalars, raw JSON */
    ui_textedit_init(&e, UI_EDIT_TEXT, "say \"hi\"");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "\"say \\\"hi\\\"\""));
    ui_textedit_init(&e, UI_EDIT_SCALAR, "kick");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "\"kick\""));
    ui_textedit_init(&e, UI_EDIT_SCALAR, "3");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "3"));
    ui_textedit_init(&e, UI_EDIT_JSON, "{\"a\": ");
    CHECK(ui_textedit_check(&e, NULL, 0) == UI_EDIT_PARTIAL);
    type(&e, "1}");
    CHECK(ui_textedit_json(&e, out, sizeof out) && !strcmp(out, "{\"a\": 1}"));

    /* editing keys, UTF-8 */
    ui_textedit_init(&e, UI_EDIT_TEXT, "");
    ui_textedit_key(&e, 0xe9); /* é */
    type(&e, "t");
    CHECK(!strcmp(e.buf, "\xc3\xa9t") && ui_textedit_cursor_col(&e) == 2);
    ui_textedit_key(&e, UI_KEY_LEFT);
    ui_textedit_key(&e, UI_KEY_BACKSPACE);
    CHECK(!strcmp(e.buf, "t") && e.cur == 0);
    type(&e, "one two");
    ui_textedit_key(&e, UI_KEY_CTRL('w'));
    CHECK(!strcmp(e.buf, "one t"));
    ui_textedit_key(&e, UI_KEY_CTRL('u'));
    CHECK(!strcmp(e.buf, "t"));
    ui_textedit_key(&e, UI_KEY_CTRL('k'));
    CHECK(!strcmp(e.buf, ""));

    ui_textedit_from_json(UI_EDIT_TEXT, "\"kick\"", out, sizeof out);
    CHECK(!strcmp(out, "kick"));
    ui_textedit_from_json(UI_EDIT_NUMBER_LIST, "[1, 3]", out, sizeof out);
    CHECK(!strcmp(out, "1, 3"));
    ui_textedit_from_json(UI_EDIT_STRING_LIST, "[\"a\",\"b\"]", out, sizeof out);
    CHECK(!strcmp(out, "a, b"));
    ui_textedit_from_json(UI_EDIT_INT, "2000", out, sizeof out);
    CHECK(!strcmp(out, "2000"));
    ui_textedit_from_json(UI_EDIT_TEXT, "null", out, sizeof out);
    CHECK(!strcmp(out, ""));
    ui_textedit_from_json(UI_EDIT_JSON, "{\"x\": 1}", out, sizeof out);
    CHECK(!strcmp(out, "{\"x\": 1}"));
    return tu_finish("test_ui_text");
}
