/* EMA of the backbone weights, exactly as ema-pytorch 0.2.3 as SAT configures it
 * (beta 0.9999, power 3/4, inv_gamma 1, update_after_step 1, update_every 1):
 *   k = step before the call; step = k + 1
 *   k <= 1: copy;  else decay = clamp(1 − (1 + (k − 1))^−power, 0, beta); ema = lerp(ema, w, 1 − decay)
 * torch.lerp rounding: w < 0.5 ? ema + w·(x − ema) : x − (x − ema)·(1 − w). */
#ifndef DS_EMA_H
#define DS_EMA_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ds_ema {
    float *w;
    int64_t n;
    int64_t step;
    bool initted;
    double beta, power, inv_gamma;
    int update_after_step;
} ds_ema;

int ds_ema_init(ds_ema *e, int64_t n); /* 0 on success */
void ds_ema_free(ds_ema *e);
/* Decay the next update will use (0 for a copy). */
double ds_ema_next_decay(const ds_ema *e);
/* One update toward online[n]; returns the decay used (0 when it copied). */
double ds_ema_update(ds_ema *e, const float *online);
/* The same update split for a device, which runs the lerp itself: *weight is the lerp weight
 * of the next update (1: a copy, which torch.lerp with weight 1 reproduces exactly); returns
 * the decay ds_ema_update would return. ds_ema_advance then moves the counters as it would. */
double ds_ema_prepare(const ds_ema *e, float *weight);
void ds_ema_advance(ds_ema *e);

#endif
