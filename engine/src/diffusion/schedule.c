/* Schedules (see schedule.h). */
#include "diffusion/schedule.h"

#include <math.h>

void ds_linspace(double a, double b, int n, double *out) {
    if (n <= 0) return;
    if (n == 1) {
        out[0] = a;
        return;
    }
    /* aten RangeFactoriesKernel: idx < n/2 counts from a, the rest back from b. */
    double step = (b - a) / (double)(n - 1);
    int half = n / 2;
    for (int i = 0; i < n; i++) out[i] = i < half ? a + step * i : b - step * (n - i - 1);
}

void ds_sched_polyexponential(int steps, double sigma_min, double sigma_max, double rho, double *out) {
    double lmin = log(sigma_min), lmax = log(sigma_max);
    ds_linspace(1.0, 0.0, steps, out);
    for (int i = 0; i < steps; i++) out[i] = exp(pow(out[i], rho) * (lmax - lmin) + lmin);
    out[steps] = 0.0;
}

double ds_dist_shift_time(const ds_dist_shift_config *s, double t, int64_t length) {
    if (!s || !s->present) return t;
    double L = (double)length;
    if (L < s->min_length) L = s->min_length;
    if (L > s->max_length) L = s->max_length;
    double span = (double)(s->max_length - s->min_length);
    double frac = span != 0 ? (L - s->min_length) / span : 0.0;
    double mu = -(s->base_shift + (s->max_shift - s->base_shift) * frac);
    double em = exp(mu), out;
    /* 1/(1 − t) − 1 is +inf at t = 1: the shifted time is exactly 1 there (torch gets the
     * same through IEEE infinities; spelled out here). */
    if (t >= 1.0)
        out = 1.0;
    else
        out = 1.0 - em / (em + (1.0 / (1.0 - t) - 1.0));
    if (s->use_sine) out = sin(out * M_PI / 2.0);
    return out;
}

void ds_sched_vddim(int steps, double t_max, const ds_dist_shift_config *shift, int64_t length, double *t) {
    /* linspace(t_max, 0, steps + 1)[:-1] without a temporary: the first steps values of it. */
    double step = (0.0 - t_max) / (double)steps;
    int n = steps + 1, half = n / 2;
    for (int i = 0; i < steps; i++) t[i] = i < half ? t_max + step * i : 0.0 - step * (n - i - 1);
    for (int i = 0; i < steps; i++) t[i] = ds_dist_shift_time(shift, t[i], length);
}

void ds_sched_rf_logsnr(int steps, double t_max, double *t) {
    double lmax = t_max < 1.0 ? log((1.0 - t_max) / t_max + 1e-6) : -6.0;
    ds_linspace(lmax, 2.0, steps + 1, t);
    for (int i = 0; i <= steps; i++) t[i] = 1.0 / (1.0 + exp(t[i])); /* sigmoid(−logsnr) */
    t[0] = t_max;
    t[steps] = 0.0;
}

void ds_sched_linear(int steps, double t_max, const ds_dist_shift_config *shift, int64_t length, double *t) {
    ds_linspace(t_max, 0.0, steps + 1, t);
    for (int i = 0; i <= steps; i++) t[i] = ds_dist_shift_time(shift, t[i], length);
}
