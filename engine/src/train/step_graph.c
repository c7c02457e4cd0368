#include "train/step_graph.h"

#include <stdio.h>
#include <string.h>

void ds_graphs_init(ds_step_graphs *g, bool enabled, const char *why_off) {
    memset(g, 0, sizeof *g);
    g->enabled = enabled;
    if (!enabled && why_off) snprintf(g->why_off, sizeof g->why_off, "%s", why_off);
}

ds_graph_action ds_graphs_decide(ds_step_graphs *g, int half, uint64_t sig, bool *drop) {
    *drop = false;
    if (!g->enabled) {
        g->eager++;
        return DS_GRAPH_EAGER;
    }
    if (g->have[half] && g->sig[half] == sig) {
        g->replays++;
        return DS_GRAPH_REPLAY;
    }
    if (g->have[0] || g->have[1]) {
        /* a graph exists for other shapes: drop both, warm up again */
        bool mismatch = (g->have[half] && g->sig[half] != sig) || (g->have[half ^ 1] && g->sig[half ^ 1] != sig);
        if (mismatch) {
            g->have[0] = g->have[1] = false;
            g->drops++;
            *drop = true;
            g->warm = 0;
        }
    }
    if (!g->have[half] && g->warm >= 1 && g->last_sig == sig) {
        g->captures++;
        return DS_GRAPH_CAPTURE;
    }
    g->warm = g->last_sig == sig ? g->warm + 1 : 1;
    g->last_sig = sig;
    g->eager++;
    return DS_GRAPH_EAGER;
}

void ds_graphs_captured(ds_step_graphs *g, int half, uint64_t sig, bool ok, const char *why) {
    if (ok) {
        g->have[half] = true;
        g->sig[half] = sig;
        return;
    }
    g->have[0] = g->have[1] = false;
    g->enabled = false;
    snprintf(g->why_off, sizeof g->why_off, "capture failed: %s", why ? why : "?");
}
