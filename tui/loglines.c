/* The log pane's ring (see loglines.h). */
#include "loglines.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static ui_log_line g_ring[UI_LOG_LINES];
static uint64_t g_seq;

void ui_log_push(int level, const char *text) {
    pthread_mutex_lock(&g_mu);
    ui_log_line *l = &g_ring[g_seq % UI_LOG_LINES];
    l->seq = ++g_seq;
    l->level = level;
    snprintf(l->text, sizeof l->text, "%s", text);
    /* one line each: control characters would move the cursor */
    for (char *p = l->text; *p; p++)
        if ((unsigned char)*p < 32) *p = ' ';
    pthread_mutex_unlock(&g_mu);
}

uint64_t ui_log_last(void) {
    pthread_mutex_lock(&g_mu);
    uint64_t s = g_seq;
    pthread_mutex_unlock(&g_mu);
    return s;
}

int ui_log_get(uint64_t seq, ui_log_line *out) {
    pthread_mutex_lock(&g_mu);
    int ok = seq >= 1 && seq <= g_seq && seq + UI_LOG_LINES > g_seq;
    if (ok) *out = g_ring[(seq - 1) % UI_LOG_LINES];
    pthread_mutex_unlock(&g_mu);
    return ok;
}

void ui_log_reset(void) {
    pthread_mutex_lock(&g_mu);
    g_seq = 0;
    pthread_mutex_unlock(&g_mu);
}
