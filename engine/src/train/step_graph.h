/* When a device trainer replays, captures or runs a step eagerly (CUDA graphs).
 *
 * Every step first runs its host pass without issuing work (ctx.replay), which fills the
 * staging half with the step's inputs and yields a signature of the step: the tape's ops and
 * shapes, the arena and staging sizes. A graph is captured per staging half once the same
 * signature has run eagerly (workspaces sized, cuBLASLt plans cached), replayed while the
 * signature holds, and dropped (both halves) when it changes; graphs then come back after
 * another eager step. A capture that fails turns graphs off for the trainer's life, with
 * the reason kept. Pure bookkeeping: unit-tested on the CPU. */
#ifndef DS_STEP_GRAPH_H
#define DS_STEP_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ds_graph_action { DS_GRAPH_EAGER, DS_GRAPH_CAPTURE, DS_GRAPH_REPLAY } ds_graph_action;

typedef struct ds_step_graphs {
    bool enabled;      /* the backend can capture and nothing rules graphs out */
    char why_off[160]; /* why not, when !enabled */
    bool have[2];      /* a graph per staging half */
    uint64_t sig[2];
    uint64_t last_sig; /* of the last eager step */
    int warm;          /* eager steps in a row with last_sig */
    int64_t captures, replays, eager, drops;
} ds_step_graphs;

void ds_graphs_init(ds_step_graphs *g, bool enabled, const char *why_off);
/* What to do for a step on staging half `half` whose host pass gave `sig`. Dropping both
 * graphs on a signature change is reported through *drop (the caller frees them). */
ds_graph_action ds_graphs_decide(ds_step_graphs *g, int half, uint64_t sig, bool *drop);
/* After a capture attempt of half `half`: ok keeps the graph, otherwise graphs go off. */
void ds_graphs_captured(ds_step_graphs *g, int half, uint64_t sig, bool ok, const char *why);

/* FNV-1a style mixing for signatures. */
static inline uint64_t ds_sig_mix(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
