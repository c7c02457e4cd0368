/* The studio's layout (tui/layout.c) and key maps (tui/keymap.c): panes inside the body and
 * never overlapping at every size from the minimum to a large terminal; every pane a screen
 * needs is there at 80x24; the side charts appear on a large terminal; the key tables are
 * consistent and the hint line always offers quit and help. */
#include <string.h>

#include "keymap.h"
#include "layout.h"
#include "testutil.h"

static void test_layout(void) {
    int bad_overlap = 0, bad_inside = 0, bad_frame = 0;
    for (int s = 0; s < UI_SCREEN_COUNT; s++)
        for (int w = UI_MIN_W; w <= 300; w += 7)
            for (int h = UI_MIN_H; h <= 100; h += 3) {
                ui_layout l;
                ui_layout_compute(s, w, h, &l);
                if (l.too_small || ui_rect_empty(l.body) || l.status.y != h - 1 || l.hints.y != h - 2 || l.tabs.y != 0)
                    bad_frame++;
                for (int i = 0; i < l.n_panes; i++) {
                    if (!ui_rect_inside(l.pane[i], l.body)) {
                        if (!bad_inside)
                            fprintf(stderr, "screen %d %dx%d pane %d (%d,%d %dx%d) outside\n", s, w, h, i, l.pane[i].x,
                                    l.pane[i].y, l.pane[i].w, l.pane[i].h);
                        bad_inside++;
                    }
                    for (int j = i + 1; j < l.n_panes; j++)
                        if (ui_rect_overlap(l.pane[i], l.pane[j])) {
                            if (!bad_overlap) fprintf(stderr, "screen %d %dx%d panes %d/%d overlap\n", s, w, h, i, j);
                            bad_overlap++;
                        }
                }
            }
    CHECK(bad_frame == 0);
    CHECK(bad_inside == 0);
    CHECK(bad_overlap == 0);

    ui_layout l;
    ui_layout_compute(UI_SCREEN_TRAIN, UI_MIN_W - 1, 24, &l);
    CHECK(l.too_small);
    ui_layout_compute(UI_SCREEN_TRAIN, 80, UI_MIN_H - 1, &l);
    CHECK(l.too_small);

    /* 80x24: every pane of every screen, with room for its content */
    static const int needed[UI_SCREEN_COUNT][UI_PANES_MAX] = {
        {UI_P_CFG_FILES, UI_P_CFG_TREE, UI_P_CFG_HELP, UI_P_CFG_PROBLEMS, -1},
        {UI_P_TR_STATUS, UI_P_TR_CHART, UI_P_TR_LOG, -1},
        {UI_P_DM_LIST, UI_P_DM_INFO, UI_P_DM_WAVE, UI_P_DM_SPEC, -1},
        {UI_P_RN_LIST, UI_P_RN_DETAIL, -1},
    };
    for (int s = 0; s < UI_SCREEN_COUNT; s++) {
        ui_layout_compute(s, 80, 24, &l);
        CHECK(!l.too_small);
        for (int k = 0; k < UI_PANES_MAX && needed[s][k] >= 0; k++) CHECKF(!ui_rect_empty(l.pane[needed[s][k]]), "screen %d pane %d", s, needed[s][k]);
    }
    ui_layout_compute(UI_SCREEN_TRAIN, 80, 24, &l);
    CHECK(l.pane[UI_P_TR_CHART].w >= 50 && l.pane[UI_P_TR_CHART].h >= 12);
    CHECK(l.pane[UI_P_TR_STATUS].h >= 15); /* every status field on its own row */
    CHECK(ui_rect_empty(l.pane[UI_P_TR_CHART2]));
    ui_layout_compute(UI_SCREEN_CONFIG, 80, 24, &l);
    CHECK(l.pane[UI_P_CFG_TREE].h >= 8);
    /* a large terminal: side charts, a bigger main chart */
    ui_layout_compute(UI_SCREEN_TRAIN, 200, 60, &l);
    CHECK(!ui_rect_empty(l.pane[UI_P_TR_CHART2]) && !ui_rect_empty(l.pane[UI_P_TR_CHART3]));
    CHECK(l.pane[UI_P_TR_CHART].w >= 150 && l.pane[UI_P_TR_CHART].h >= 25);
    ui_layout_compute(UI_SCREEN_CONFIG, 200, 60, &l);
    CHECK(l.pane[UI_P_CFG_HELP].x > 0 && l.pane[UI_P_CFG_HELP].h > 20); /* help beside the tree */
    ui_layout_compute(UI_SCREEN_DEMOS, 200, 60, &l);
    CHECK(l.pane[UI_P_DM_SPEC].h >= 25);

    ui_rect a = {0, 0, 10, 10}, b = {10, 0, 5, 5}, c = {9, 9, 2, 2}, e = {0, 0, 0, 0};
    CHECK(!ui_rect_overlap(a, b) && ui_rect_overlap(a, c) && !ui_rect_overlap(a, e));
    CHECK(ui_rect_inside(c, (ui_rect){0, 0, 11, 11}) && !ui_rect_inside(c, a));
}

static void test_keys(void) {
    /* no key means two things on one screen */
    for (int s = 0; s <= UI_SCREEN_GLOBAL; s++) {
        int n;
        const ui_binding *t = ui_keymap_table(s, &n);
        CHECK(n > 0);
        for (int i = 0; i < n; i++) {
            CHECK(t[i].help && t[i].help[0]);
            for (int j = i + 1; j < n; j++)
                CHECKF(t[i].key != t[j].key || t[i].action == t[j].action, "screen %d key %d", s, t[i].key);
        }
    }
    CHECK(ui_key_action(UI_SCREEN_CONFIG, UI_KEY_ENTER) == UA_CFG_EDIT);
    CHECK(ui_key_action(UI_SCREEN_TRAIN, 't') == UA_TRAIN_START);
    CHECK(ui_key_action(UI_SCREEN_TRAIN, ' ') == UA_TRAIN_PAUSE);
    CHECK(ui_key_action(UI_SCREEN_DEMOS, ' ') == UA_DEMO_PAUSE);
    CHECK(ui_key_action(UI_SCREEN_DEMOS, 'x') == UA_DEMO_AB);
    CHECK(ui_key_action(UI_SCREEN_RUNS, UI_KEY_ENTER) == UA_RUN_OPEN);
    /* global keys work everywhere; a screen key shadows nothing global that matters */
    for (int s = 0; s < UI_SCREEN_COUNT; s++) {
        CHECK(ui_key_action(s, 'q') == UA_QUIT);
        CHECK(ui_key_action(s, UI_KEY_CTRL('c')) == UA_QUIT);
        CHECK(ui_key_action(s, '?') == UA_HELP);
        CHECK(ui_key_action(s, '1') == UA_SCREEN_CONFIG && ui_key_action(s, '4') == UA_SCREEN_RUNS);
        CHECK(ui_key_action(s, UI_KEY_TAB) == UA_SCREEN_NEXT);
    }
    CHECK(ui_key_action(UI_SCREEN_CONFIG, 'Z') == UA_NONE);

    char name[16];
    ui_key_name(UI_KEY_CTRL('r'), 1, name, sizeof name);
    CHECK(!strcmp(name, "^R"));
    ui_key_name(UI_KEY_LEFT, 1, name, sizeof name);
    CHECK(!strcmp(name, "←"));
    ui_key_name(UI_KEY_LEFT, 0, name, sizeof name);
    CHECK(!strcmp(name, "Left"));
    ui_key_name(UI_KEY_F1 + 4, 0, name, sizeof name);
    CHECK(!strcmp(name, "F5"));
    ui_key_name('s', 0, name, sizeof name);
    CHECK(!strcmp(name, "s"));

    for (int s = 0; s < UI_SCREEN_COUNT; s++)
        for (int w = UI_MIN_W; w <= 200; w += 20) {
            char buf[512];
            int cols = ui_keymap_hints(s, w, 1, buf, sizeof buf);
            CHECK(cols <= w);
            CHECK(strstr(buf, "q quit") == buf && strstr(buf, "? help"));
        }
    char buf[512];
    ui_keymap_hints(UI_SCREEN_TRAIN, 200, 0, buf, sizeof buf);
    CHECK(strstr(buf, "t start") && strstr(buf, "x stop"));
}

int main(void) {
    test_layout();
    test_keys();
    return tu_finish("test_ui_layout");
}
