/* Demos screen: the gallery of renders (from the worker's hand-overs and demos/index.jsonl),
 * newest first, each with its conditioning; the selected render's waveform (min/max per dot
 * column) and spectrogram (colour half blocks) with the play cursor; playback through the
 * audio player (PortAudio) with A/B switching at the same position. Playback goes on while
 * training runs; no audio device is a message, everything else works. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audio/analysis.h"
#include "spectro.h"
#include "ustr.h"
#include "widgets.h"

void view_demos_init(app *a) {
    a->vd.playing_slot = -1;
    a->vd.show_whole = false;
}

static void clear_analysis(view_demos *v) {
    free(v->mono);
    free(v->spec);
    v->mono = v->spec = NULL;
    v->frames = 0;
    v->spec_frames = v->spec_bins = 0;
    v->shown_path[0] = 0;
    v->err[0] = 0;
}

void view_demos_free(app *a) {
    view_demos *v = &a->vd;
    clear_analysis(v);
    for (int i = 0; i < UI_CLIP_CACHE; i++) audio_clip_free(&v->cache[i].clip);
    free(v->vis);
    v->vis = NULL;
}

void view_demos_reset(app *a) {
    view_demos *v = &a->vd;
    v->sel_path[0] = 0;
    v->sel = v->top = 0;
    v->vis_version = (uint64_t)-1;
    clear_analysis(v);
}

bool view_demos_playing(const app *a) {
    return a->player && audio_player_get_state(a->player) == AUDIO_PLAYER_PLAYING;
}

/* ---- clips ---------------------------------------------------------------------------------- */

static ui_clip_entry *cache_slot(view_demos *v, const char *path) {
    int oldest = 0;
    for (int i = 0; i < UI_CLIP_CACHE; i++) {
        if (v->cache[i].path[0] && !strcmp(v->cache[i].path, path)) {
            v->cache[i].used = ++v->cache_tick;
            return &v->cache[i];
        }
        if (v->cache[i].used < v->cache[oldest].used) oldest = i;
    }
    ui_clip_entry *e = &v->cache[oldest];
    audio_clip_free(&e->clip);
    e->path[0] = 0;
    e->used = ++v->cache_tick;
    return e;
}

/* The clip of a render, from the cache or the file; NULL with v->err set. */
static const audio_clip *clip_for(app *a, const char *path) {
    view_demos *v = &a->vd;
    ui_clip_entry *e = cache_slot(v, path);
    if (e->path[0]) return &e->clip;
    audio_err err = {0};
    if (audio_file_read(path, &e->clip, &err) != AUDIO_OK) {
        ui_strlcpy(v->err, err.msg, sizeof v->err);
        return NULL;
    }
    snprintf(e->path, sizeof e->path, "%s", path);
    return &e->clip;
}

void view_demos_take(app *a, ds_demo *d) {
    view_demos *v = &a->vd;
    ui_demo_entry e;
    memset(&e, 0, sizeof e);
    e.step = d->step;
    e.cfg_scale = d->cfg_scale;
    e.index = d->index;
    e.seconds = d->seconds;
    ui_strlcpy(e.cond, d->cond, sizeof e.cond);
    snprintf(e.path, sizeof e.path, "%s", d->path);
    if (ui_demos_add(&a->demos, &e) >= 0 && d->data) { /* keep the samples: no need to read the file back */
        ui_clip_entry *c = cache_slot(v, e.path);
        audio_clip_free(&c->clip);
        if (audio_clip_alloc(&c->clip, d->channels, d->frames, d->sample_rate, NULL) == AUDIO_OK) {
            memcpy(c->clip.data, d->data, (size_t)d->channels * (size_t)d->frames * sizeof(float));
            snprintf(c->path, sizeof c->path, "%s", e.path);
        }
    }
    ds_demo_free(d);
}

static void analyse(app *a, const char *path) {
    view_demos *v = &a->vd;
    clear_analysis(v);
    snprintf(v->shown_path, sizeof v->shown_path, "%s", path);
    const audio_clip *c = clip_for(a, path);
    if (!c || c->frames <= 0) return;
    v->frames = c->frames;
    v->rate = c->rate;
    v->mono = malloc((size_t)c->frames * sizeof(float));
    if (!v->mono) return;
    for (int64_t i = 0; i < c->frames; i++) {
        float s = 0;
        for (int ch = 0; ch < c->channels; ch++) s += c->data[(int64_t)ch * c->frames + i];
        v->mono[i] = s / (float)c->channels;
    }
    int fft = c->rate > 32000 ? 1024 : c->rate > 16000 ? 512 : 256;
    int hop = fft / 4;
    if (c->frames / hop > 4000) hop = (int)(c->frames / 4000);
    int64_t frames = audio_frames(c->frames, fft, hop);
    int bins = fft / 2 + 1;
    v->spec = malloc((size_t)frames * (size_t)bins * sizeof(float));
    if (!v->spec) return;
    audio_err err = {0};
    if (audio_spectrogram(v->mono, c->frames, fft, hop, v->spec, &err) != AUDIO_OK) {
        ui_strlcpy(v->err, err.msg, sizeof v->err);
        free(v->spec);
        v->spec = NULL;
        return;
    }
    v->spec_frames = (int)frames;
    v->spec_bins = bins;
}

/* ---- the list ------------------------------------------------------------------------------- */

static void refresh_vis(app *a) {
    view_demos *v = &a->vd;
    const ui_demo_list *l = &a->demos;
    if (v->vis_version == l->version && v->cap_vis >= l->n) goto find;
    if (v->cap_vis < l->n) {
        int *n = realloc(v->vis, (size_t)l->n * sizeof *n);
        if (!n) return;
        v->vis = n;
        v->cap_vis = l->n;
    }
    bool follow = v->sel == 0 && !view_demos_playing(a); /* at the newest: stay there as renders arrive */
    v->n_vis = 0;
    for (int i = 0; i < l->n; i++)
        if (v->show_whole || l->v[i].index >= 0) v->vis[v->n_vis++] = i;
    v->vis_version = l->version;
    if (follow && v->n_vis) ui_strlcpy(v->sel_path, l->v[v->vis[0]].path, sizeof v->sel_path);
find:
    if (!v->sel_path[0] && v->n_vis) snprintf(v->sel_path, sizeof v->sel_path, "%s", l->v[v->vis[0]].path);
    v->sel = 0;
    for (int i = 0; i < v->n_vis; i++)
        if (!strcmp(l->v[v->vis[i]].path, v->sel_path)) {
            v->sel = i;
            break;
        }
}

static const ui_demo_entry *sel_entry(app *a) {
    refresh_vis(a);
    view_demos *v = &a->vd;
    return v->n_vis ? &a->demos.v[v->vis[v->sel]] : NULL;
}

void view_demos_update(app *a) {
    static int64_t last_pos = -1;
    static int last_state = -1;
    if (!a->player) return;
    int64_t pos = audio_player_position(a->player);
    int st = audio_player_get_state(a->player);
    if (pos != last_pos || st != last_state) {
        last_pos = pos;
        last_state = st;
        if (a->screen == UI_SCREEN_DEMOS) a->dirty = true;
    }
}

/* ---- drawing -------------------------------------------------------------------------------- */

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void cond_text(const char *json, char *out, size_t n) {
    /* {"prompt":"kick","seconds_total":1} → prompt: kick  seconds_total: 1 */
    size_t o = 0;
    bool in_str = false;
    for (const char *p = json; *p && o + 3 < n; p++) {
        char c = *p;
        if (c == '"') {
            in_str = !in_str;
            continue;
        }
        if (!in_str && (c == '{' || c == '}')) continue;
        if (!in_str && c == ':') {
            out[o++] = ':';
            out[o++] = ' ';
            continue;
        }
        if (!in_str && c == ',') {
            out[o++] = ' ';
            out[o++] = ' ';
            continue;
        }
        if (!in_str && c == ' ') continue;
        out[o++] = c;
    }
    out[o] = 0;
}

static void draw_list(app *a, ui_rect r) {
    view_demos *v = &a->vd;
    refresh_vis(a);
    char title[128];
    snprintf(title, sizeof title, "renders: %d%s", v->n_vis, v->show_whole ? "" : " (c: also the concatenated files)");
    ui_rect in = ui_pane(r, title, a->run_dir[0] ? base(a->run_dir) : NULL, true);
    if (ui_rect_empty(in)) return;
    if (!v->n_vis) {
        ui_wrap(in.y + 1, in.x + 1, in.w - 2, in.h - 1, ui_attr(UI_R_DIM),
                "No demos yet. They are rendered every training.demo.demo_every steps (and at step 1); g on the "
                "Train screen renders them now.");
        return;
    }
    v->top = ui_list_top(v->top, v->sel, v->n_vis, in.h);
    int cur_slot = a->player ? audio_player_slot(a->player) : -1;
    for (int i = 0; i < in.h && v->top + i < v->n_vis; i++) {
        int k = v->top + i;
        const ui_demo_entry *e = &a->demos.v[v->vis[k]];
        bool sel = k == v->sel;
        int attr = ui_attr(sel ? UI_R_SELECT : UI_R_NORMAL);
        if (sel) ui_fill((ui_rect){in.x, in.y + i, in.w, 1}, attr);
        char flag[8] = "  ";
        if (!strcmp(e->path, v->slot_path[0])) flag[0] = 'A';
        if (!strcmp(e->path, v->slot_path[1])) flag[1] = 'B';
        int fattr = sel ? attr : (int)((unsigned)ui_attr(UI_R_MARK) | A_BOLD);
        if (cur_slot >= 0 && cur_slot < 2 && !strcmp(e->path, v->slot_path[cur_slot]) && view_demos_playing(a))
            fattr = (int)((unsigned)(sel ? attr : ui_attr(UI_R_OK)) | A_BOLD);
        ui_put(in.y + i, in.x + 1, 2, fattr, flag);
        char cond[300], line[512];
        cond_text(e->cond, cond, sizeof cond);
        if (e->index < 0)
            snprintf(line, sizeof line, "%7lld  cfg %-4g  all  every demo, one after another", (long long)e->step,
                     e->cfg_scale);
        else
            snprintf(line, sizeof line, "%7lld  cfg %-4g  #%-2d  %s", (long long)e->step, e->cfg_scale, e->index, cond);
        ui_put_cut(in.y + i, in.x + 4, in.w - 5, attr, line);
    }
}

static double clip_seconds(const app *a, int slot) {
    if (!a->player) return 0;
    int rate = audio_player_rate(a->player);
    return rate > 0 ? (double)audio_player_slot_frames(a->player, slot) / rate : 0;
}

/* Where the play cursor is in the shown render: a fraction in [0, 1], or -1 when the
 * shown render is not the one playing. */
static double cursor_fraction(const app *a) {
    const view_demos *v = &a->vd;
    if (!a->player || !v->shown_path[0]) return -1;
    int slot = audio_player_slot(a->player);
    if (slot < 0 || slot > 1 || strcmp(v->slot_path[slot], v->shown_path)) return -1;
    audio_player_state st = audio_player_get_state(a->player);
    if (st == AUDIO_PLAYER_STOPPED) return -1;
    double len = clip_seconds(a, slot);
    if (len <= 0) return -1;
    double f = audio_player_position_seconds(a->player) / len;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

static void draw_info(app *a, ui_rect r, const ui_demo_entry *e) {
    view_demos *v = &a->vd;
    ui_rect in = ui_pane(r, e ? base(e->path) : "render", NULL, false);
    if (ui_rect_empty(in) || !e) return;
    char cond[300];
    cond_text(e->cond, cond, sizeof cond);
    ui_putf(in.y, in.x + 1, in.w - 2, ui_attr(UI_R_NORMAL), "step %lld · cfg %g · %s%s · rendered in %.2f s",
            (long long)e->step, e->cfg_scale, e->index < 0 ? "all demos" : "demo ", e->index < 0 ? "" : cond,
            e->seconds);
    if (in.h < 2) return;
    char line[512], pos[32], len[32];
    if (!a->player) {
        snprintf(line, sizeof line, "%s", a->player_err[0] ? a->player_err : "Enter plays (the audio device opens then)");
        ui_put_cut(in.y + 1, in.x + 1, in.w - 2, ui_attr(a->player_err[0] ? UI_R_WARN : UI_R_DIM), line);
    } else {
        audio_player_state st = audio_player_get_state(a->player);
        int slot = audio_player_slot(a->player);
        ui_fmt_time(audio_player_position_seconds(a->player), pos, sizeof pos);
        ui_fmt_time(clip_seconds(a, slot < 0 ? 0 : slot), len, sizeof len);
        bool u = a->caps.utf8;
        const char *icon = st == AUDIO_PLAYER_PLAYING ? (u ? "▶ playing" : "> playing")
                           : st == AUDIO_PLAYER_PAUSED ? (u ? "⏸ paused" : "|| paused")
                           : st == AUDIO_PLAYER_ENDED  ? (u ? "■ ended" : "# ended")
                                                       : (u ? "■ stopped" : "# stopped");
        snprintf(line, sizeof line, "%s %s  %s / %s", icon, slot == 1 ? "B" : "A", pos, len);
        ui_put_cut(in.y + 1, in.x + 1, in.w - 2, ui_attr(st == AUDIO_PLAYER_PLAYING ? UI_R_OK : UI_R_NORMAL) | A_BOLD, line);
    }
    if (in.h < 3) return;
    snprintf(line, sizeof line, "A: %.200s   B: %.200s", v->slot_path[0][0] ? base(v->slot_path[0]) : "-",
             v->slot_path[1][0] ? base(v->slot_path[1]) : "- (b sets it; x switches)");
    ui_put_cut(in.y + 2, in.x + 1, in.w - 2, ui_attr(UI_R_DIM), line);
}

static void draw_wave(app *a, ui_rect r) {
    view_demos *v = &a->vd;
    char right[64] = "";
    if (v->frames && v->rate) snprintf(right, sizeof right, "%.2f s at %d Hz", (double)v->frames / v->rate, v->rate);
    ui_rect in = ui_pane(r, "waveform", right, false);
    if (ui_rect_empty(in)) return;
    if (!v->mono || !v->frames) {
        if (v->err[0]) ui_wrap(in.y, in.x + 1, in.w - 2, in.h, ui_attr(UI_R_ERROR), v->err);
        return;
    }
    int w = in.w - 1, h = in.h;
    int dw = 2 * w, dh = 4 * h;
    float *mins = malloc((size_t)dw * 2 * sizeof(float));
    if (!mins) return;
    float *maxs = mins + dw;
    audio_envelope_minmax(v->mono, v->frames, dw, mins, maxs);
    ui_canvas *c = &a->vt.canvas; /* scratch: the Train screen is not drawn in the same frame */
    if (ui_canvas_reset(c, w, h) == 0) {
        for (int x = 0; x < dw; x++) {
            int y0 = (int)lrintf((1 - maxs[x]) * 0.5f * (float)(dh - 1));
            int y1 = (int)lrintf((1 - mins[x]) * 0.5f * (float)(dh - 1));
            ui_canvas_vline(c, x, y0, y1, 1);
        }
        double f = cursor_fraction(a);
        int cx = f >= 0 ? (int)(f * (w - 1) + 0.5) : -1;
        ui_glyphs g = a->caps.utf8 ? UI_GLYPH_BRAILLE : UI_GLYPH_ASCII;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint8_t m = c->mask[y * w + x];
                if (x == cx)
                    ui_putwc(in.y + y, in.x + 1 + x, m ? ui_glyph(m, g) : (a->caps.utf8 ? 0x2502 : '|'), ui_attr(UI_R_CURSOR));
                else if (m)
                    ui_putwc(in.y + y, in.x + 1 + x, ui_glyph(m, g), ui_attr(UI_R_SERIES2));
            }
    }
    free(mins);
}

static void draw_spec(app *a, ui_rect r) {
    view_demos *v = &a->vd;
    char right[64] = "";
    if (v->rate) snprintf(right, sizeof right, "0 - %d Hz", v->rate / 2);
    ui_rect in = ui_pane(r, "spectrogram", right, false);
    if (ui_rect_empty(in) || !v->spec) return;
    int w = in.w - 1, h = in.h, rows = 2 * h;
    float *grid = malloc((size_t)w * (size_t)rows * sizeof(float));
    if (!grid) return;
    ui_spectro_grid(v->spec, v->spec_frames, v->spec_bins, w, rows, false, grid);
    float top = -200;
    for (int i = 0; i < v->spec_frames * v->spec_bins; i++)
        if (v->spec[i] > top) top = v->spec[i];
    float floor_db = top - 80;
    short pal[UI_SPECTRO_MAX_LEVELS];
    int levels = ui_spectro_palette(a->caps.colors, pal, UI_SPECTRO_MAX_LEVELS);
    double f = cursor_fraction(a);
    int cx = f >= 0 ? (int)(f * (w - 1) + 0.5) : -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float t = grid[(2 * y) * w + x], b = grid[(2 * y + 1) * w + x];
            int sx = in.x + 1 + x, sy = in.y + y;
            if (x == cx) {
                ui_putwc(sy, sx, a->caps.utf8 ? 0x2502 : '|', ui_attr(UI_R_CURSOR));
                continue;
            }
            if (levels > 0) {
                int lt = ui_spectro_level(t, floor_db, top, levels), lb = ui_spectro_level(b, floor_db, top, levels);
                ui_halfcell hc = ui_spectro_cell(lt, lb);
                int pair = ui_term_pair(pal[hc.fg], pal[hc.bg]);
                if (!a->caps.utf8) {
                    pair = ui_term_pair(pal[lt > lb ? lt : lb], pal[lt > lb ? lt : lb]);
                    hc.ch = ' ';
                }
                ui_putwc(sy, sx, hc.ch, (int)COLOR_PAIR(pair));
            } else {
                int l = ui_spectro_level(t > b ? t : b, floor_db, top, 16);
                uint32_t ch = ui_spectro_shade(l, 16, a->caps.utf8);
                if (ch != ' ') ui_putwc(sy, sx, ch, ui_attr(UI_R_NORMAL));
            }
        }
    free(grid);
}

void view_demos_draw(app *a, const ui_layout *l) {
    view_demos *v = &a->vd;
    draw_list(a, l->pane[UI_P_DM_LIST]);
    const ui_demo_entry *e = sel_entry(a);
    if (e && strcmp(e->path, v->shown_path)) analyse(a, e->path);
    if (!e && v->shown_path[0]) clear_analysis(v);
    draw_info(a, l->pane[UI_P_DM_INFO], e);
    draw_wave(a, l->pane[UI_P_DM_WAVE]);
    draw_spec(a, l->pane[UI_P_DM_SPEC]);
}

/* ---- playback ------------------------------------------------------------------------------- */

static bool ensure_player(app *a) {
    if (a->player) return true;
    if (a->player_tried) {
        app_message(a, UI_R_WARN, "%s", a->player_err);
        return false;
    }
    a->player_tried = true;
    audio_player_config cfg = audio_player_config_default();
    audio_err err = {0};
    if (audio_player_open(&cfg, &a->player, &err) != AUDIO_OK) {
        a->player = NULL;
        snprintf(a->player_err, sizeof a->player_err, "no sound: %.200s (everything else works)", err.msg);
        app_message(a, UI_R_WARN, "%s", a->player_err);
        return false;
    }
    return true;
}

static bool load_slot(app *a, int slot, const char *path) {
    view_demos *v = &a->vd;
    if (!ensure_player(a)) return false;
    if (!strcmp(v->slot_path[slot], path) && audio_player_slot_frames(a->player, slot) > 0) return true;
    const audio_clip *c = clip_for(a, path);
    if (!c) {
        app_message(a, UI_R_ERROR, "%s", v->err);
        return false;
    }
    audio_err err = {0};
    if (audio_player_load(a->player, slot, c, &err) != AUDIO_OK) {
        app_message(a, UI_R_ERROR, "%s", err.msg);
        return false;
    }
    snprintf(v->slot_path[slot], sizeof v->slot_path[slot], "%s", path);
    return true;
}

static void seek_by(app *a, double dir) {
    if (!a->player) return;
    int slot = audio_player_slot(a->player);
    double len = clip_seconds(a, slot < 0 ? 0 : slot);
    double step = len < 10 ? len / 10 : 1;
    if (step <= 0) step = 1;
    double to = audio_player_position_seconds(a->player) + dir * step;
    audio_err err = {0};
    if (audio_player_seek(a->player, to < 0 ? 0 : to, &err) != AUDIO_OK) app_message(a, UI_R_ERROR, "%s", err.msg);
}

void view_demos_action(app *a, ui_action act) {
    view_demos *v = &a->vd;
    refresh_vis(a);
    const ui_demo_entry *e = sel_entry(a);
    audio_err err = {0};
    switch (act) {
    case UA_UP:
    case UA_DOWN:
    case UA_PGUP:
    case UA_PGDN:
    case UA_TOP:
    case UA_BOTTOM:
        if (v->n_vis) {
            v->sel = ui_list_move(v->sel, v->n_vis, act, 10);
            snprintf(v->sel_path, sizeof v->sel_path, "%s", a->demos.v[v->vis[v->sel]].path);
        }
        break;
    case UA_DEMO_PLAY:
        if (!e) {
            app_message(a, UI_R_WARN, "no render selected");
        } else if (load_slot(a, 0, e->path)) {
            if (audio_player_play(a->player, 0, &err) != AUDIO_OK) app_message(a, UI_R_ERROR, "%s", err.msg);
        }
        break;
    case UA_DEMO_PAUSE:
        if (!a->player) {
            view_demos_action(a, UA_DEMO_PLAY);
            break;
        }
        switch (audio_player_get_state(a->player)) {
        case AUDIO_PLAYER_PLAYING: audio_player_pause(a->player); break;
        case AUDIO_PLAYER_PAUSED:
        case AUDIO_PLAYER_ENDED: audio_player_resume(a->player); break;
        default: view_demos_action(a, UA_DEMO_PLAY); break;
        }
        break;
    case UA_DEMO_STOP:
        if (a->player) audio_player_stop(a->player);
        break;
    case UA_DEMO_SEEK_BACK: seek_by(a, -1); break;
    case UA_DEMO_SEEK_FWD: seek_by(a, 1); break;
    case UA_DEMO_SEEK_START:
        if (a->player) audio_player_seek(a->player, 0, &err);
        break;
    case UA_DEMO_MARK_B:
        if (e && load_slot(a, 1, e->path)) app_message(a, UI_R_OK, "B: %s (x switches A/B)", base(e->path));
        break;
    case UA_DEMO_AB: {
        if (!a->player || !v->slot_path[0][0] || !v->slot_path[1][0]) {
            app_message(a, UI_R_WARN, "A/B needs two renders: Enter plays one (A), b loads another (B)");
            break;
        }
        int to = audio_player_slot(a->player) == 1 ? 0 : 1;
        if (audio_player_switch(a->player, to, &err) != AUDIO_OK) {
            app_message(a, UI_R_ERROR, "%s", err.msg);
            break;
        }
        if (audio_player_get_state(a->player) == AUDIO_PLAYER_STOPPED) audio_player_play(a->player, to, &err);
        snprintf(v->sel_path, sizeof v->sel_path, "%s", v->slot_path[to]); /* the waveform follows */
        app_message(a, UI_R_OK, "now %s: %s", to ? "B" : "A", base(v->slot_path[to]));
        break;
    }
    case UA_DEMO_WHOLE:
        v->show_whole = !v->show_whole;
        v->vis_version = (uint64_t)-1;
        break;
    default: break;
    }
}
