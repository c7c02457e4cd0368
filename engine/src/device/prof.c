#include "device/prof.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/device.h"

#define PROF_HOST_MAX 200000 /* marks on the CPU (a step of a large model issues ~10^4) */
#define PROF_DEV_MAX 32768   /* device events */

static struct {
    bool on, events;
    struct ds_device *dev;
    int n, cap, dropped;
    const char **name;
    bool *bwd;
    double *t;
} P;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void release(void) {
    if (P.events && P.dev && P.dev->mem->prof_free) P.dev->mem->prof_free(P.dev);
    free(P.name);
    free(P.bwd);
    free(P.t);
    P.name = NULL, P.bwd = NULL, P.t = NULL;
    P.events = false;
}

ds_status ds_prof_begin(struct ds_device *dev, ds_err *err) {
    release();
    memset(&P, 0, sizeof P);
    P.dev = dev;
    P.events = dev && dev->mem->prof_init;
    P.cap = P.events ? PROF_DEV_MAX : PROF_HOST_MAX;
    P.name = malloc((size_t)P.cap * sizeof *P.name);
    P.bwd = malloc((size_t)P.cap * sizeof *P.bwd);
    P.t = malloc((size_t)P.cap * sizeof *P.t);
    if (!P.name || !P.bwd || !P.t) {
        release();
        return ds_err_set(err, DS_ERR_NOMEM, "profile: out of memory for %d marks", P.cap);
    }
    if (P.events && !dev->mem->prof_init(dev, P.cap)) {
        P.events = false; /* nothing to free */
        release();
        return ds_device_check(dev, err);
    }
    P.on = true;
    ds_prof_mark("(start)", false);
    return DS_OK;
}

bool ds_prof_active(void) { return P.on; }

void ds_prof_mark(const char *name, bool backward) {
    if (!P.on) return;
    if (P.n == P.cap) {
        P.dropped++;
        return;
    }
    int i = P.n++;
    P.name[i] = name;
    P.bwd[i] = backward;
    if (P.events)
        P.dev->mem->prof_record(P.dev, i);
    else
        P.t[i] = now_ms();
}

ds_status ds_prof_end(ds_err *err) {
    if (!P.on) return DS_OK;
    P.on = false;
    if (!P.events) return DS_OK;
    P.dev->mem->sync(P.dev);
    for (int i = 0; i < P.n; i++) P.t[i] = P.dev->mem->prof_elapsed(P.dev, 0, i);
    P.dev->mem->prof_free(P.dev);
    P.events = false;
    return ds_device_check(P.dev, err);
}

static int by_total(const void *a, const void *b) {
    const ds_prof_row *x = a, *y = b;
    double tx = x->fwd_ms + x->bwd_ms, ty = y->fwd_ms + y->bwd_ms;
    return tx < ty ? 1 : tx > ty ? -1 : strcmp(x->name, y->name);
}

int ds_prof_rows(ds_prof_row *rows, int max) {
    int n = 0, cap = 256;
    ds_prof_row *all = calloc((size_t)cap, sizeof *all);
    if (!all) return 0;
    for (int i = 1; i < P.n; i++) {
        int k = 0;
        while (k < n && strcmp(all[k].name, P.name[i]) != 0) k++;
        if (k == n) {
            if (n == cap) {
                ds_prof_row *g = realloc(all, (size_t)cap * 2 * sizeof *all);
                if (!g) break;
                all = g;
                cap *= 2;
            }
            memset(&all[n], 0, sizeof all[n]);
            all[n++].name = P.name[i];
        }
        double dt = P.t[i] - P.t[i - 1];
        if (P.bwd[i]) {
            all[k].bwd_ms += dt;
            all[k].bwd_calls++;
        } else {
            all[k].fwd_ms += dt;
            all[k].fwd_calls++;
        }
    }
    qsort(all, (size_t)n, sizeof *all, by_total);
    int m = n < max ? n : max;
    memcpy(rows, all, (size_t)m * sizeof *rows);
    free(all);
    return m;
}

double ds_prof_total_ms(void) { return P.n > 1 ? P.t[P.n - 1] - P.t[0] : 0.0; }

int ds_prof_dropped(void) { return P.dropped; }
