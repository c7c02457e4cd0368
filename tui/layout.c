/* Pane rectangles per screen (see layout.h). Sizes are chosen so that 80x24 shows every
 * pane the issue asks for, and a large terminal gets a bigger chart, the side charts and a
 * wider help panel instead of stretched lists. */
#include "layout.h"

#include "keymap.h"

static ui_rect R(int x, int y, int w, int h) {
    ui_rect r = {x, y, w < 0 ? 0 : w, h < 0 ? 0 : h};
    if (r.w == 0 || r.h == 0) r.w = r.h = 0;
    return r;
}

bool ui_rect_overlap(ui_rect a, ui_rect b) {
    if (ui_rect_empty(a) || ui_rect_empty(b)) return false;
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

bool ui_rect_inside(ui_rect in, ui_rect out) {
    if (ui_rect_empty(in)) return true;
    return in.x >= out.x && in.y >= out.y && in.x + in.w <= out.x + out.w && in.y + in.h <= out.y + out.h;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static void config(ui_layout *l) {
    ui_rect b = l->body;
    l->n_panes = 4;
    l->pane[UI_P_CFG_FILES] = R(b.x, b.y, b.w, 1);
    int y = b.y + 1, h = b.h - 1;
    int prob = clampi(h / 5, 3, 10);
    if (b.w >= 110) {
        int tw = b.w * 3 / 5;
        l->pane[UI_P_CFG_TREE] = R(b.x, y, tw, h - prob);
        l->pane[UI_P_CFG_HELP] = R(b.x + tw, y, b.w - tw, h - prob);
    } else {
        int help = clampi(h / 4, 3, 8);
        l->pane[UI_P_CFG_TREE] = R(b.x, y, b.w, h - prob - help);
        l->pane[UI_P_CFG_HELP] = R(b.x, y + h - prob - help, b.w, help);
    }
    l->pane[UI_P_CFG_PROBLEMS] = R(b.x, y + h - prob, b.w, prob);
}

static void train(ui_layout *l) {
    ui_rect b = l->body;
    l->n_panes = 5;
    int log = clampi(b.h / 4, 3, 12);
    int top = b.h - log;
    int sw = clampi(b.w * 3 / 10, 26, 36);
    if (b.w < 60) sw = b.w; /* very narrow: status above the chart */
    if (sw == b.w) {
        int sh = clampi(top / 3, 4, 8);
        l->pane[UI_P_TR_STATUS] = R(b.x, b.y, b.w, sh);
        l->pane[UI_P_TR_CHART] = R(b.x, b.y + sh, b.w, top - sh);
    } else {
        l->pane[UI_P_TR_STATUS] = R(b.x, b.y, sw, top);
        int cx = b.x + sw, cw = b.w - sw;
        /* side charts (lr, grad norm) below the main one when there is room for three */
        if (top >= 30 && cw >= 60) {
            int small = top / 3;
            l->pane[UI_P_TR_CHART] = R(cx, b.y, cw, top - small);
            l->pane[UI_P_TR_CHART2] = R(cx, b.y + top - small, cw / 2, small);
            l->pane[UI_P_TR_CHART3] = R(cx + cw / 2, b.y + top - small, cw - cw / 2, small);
        } else {
            l->pane[UI_P_TR_CHART] = R(cx, b.y, cw, top);
        }
    }
    l->pane[UI_P_TR_LOG] = R(b.x, b.y + top, b.w, log);
}

static void demos(ui_layout *l) {
    ui_rect b = l->body;
    l->n_panes = 4;
    int info = 4;
    if (b.w >= 100) {
        int lw = clampi(b.w * 2 / 5, 40, 70);
        int rx = b.x + lw, rw = b.w - lw, rh = b.h - info;
        l->pane[UI_P_DM_LIST] = R(b.x, b.y, lw, b.h);
        l->pane[UI_P_DM_INFO] = R(rx, b.y, rw, info);
        l->pane[UI_P_DM_WAVE] = R(rx, b.y + info, rw, rh / 3);
        l->pane[UI_P_DM_SPEC] = R(rx, b.y + info + rh / 3, rw, rh - rh / 3);
    } else {
        int lh = clampi(b.h / 3, 3, 10);
        int rest = b.h - lh - info;
        int wave = clampi(rest / 3, 2, 8);
        l->pane[UI_P_DM_LIST] = R(b.x, b.y, b.w, lh);
        l->pane[UI_P_DM_INFO] = R(b.x, b.y + lh, b.w, info);
        l->pane[UI_P_DM_WAVE] = R(b.x, b.y + lh + info, b.w, wave);
        l->pane[UI_P_DM_SPEC] = R(b.x, b.y + lh + info + wave, b.w, rest - wave);
    }
}

static void runs(ui_layout *l) {
    ui_rect b = l->body;
    l->n_panes = 2;
    if (b.w >= 110) {
        int lw = b.w * 3 / 5;
        l->pane[UI_P_RN_LIST] = R(b.x, b.y, lw, b.h);
        l->pane[UI_P_RN_DETAIL] = R(b.x + lw, b.y, b.w - lw, b.h);
    } else {
        int dh = clampi(b.h * 2 / 5, 4, 12);
        l->pane[UI_P_RN_LIST] = R(b.x, b.y, b.w, b.h - dh);
        l->pane[UI_P_RN_DETAIL] = R(b.x, b.y + b.h - dh, b.w, dh);
    }
}

void ui_layout_compute(int screen, int w, int h, ui_layout *l) {
    *l = (ui_layout){0};
    l->w = w;
    l->h = h;
    if (w < UI_MIN_W || h < UI_MIN_H) {
        l->too_small = true;
        return;
    }
    l->tabs = R(0, 0, w, 1);
    l->body = R(0, 1, w, h - 3);
    l->hints = R(0, h - 2, w, 1);
    l->status = R(0, h - 1, w, 1);
    switch (screen) {
    case UI_SCREEN_CONFIG: config(l); break;
    case UI_SCREEN_TRAIN: train(l); break;
    case UI_SCREEN_DEMOS: demos(l); break;
    case UI_SCREEN_RUNS: runs(l); break;
    default: break;
    }
}
