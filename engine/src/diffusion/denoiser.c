/* VDenoiser (k_diffusion.external.VDenoiser, k-diffusion 0.1.1; sat-spec §5.2). */
#include "diffusion/denoiser.h"

#include <math.h>
#include <stdlib.h>

#include "diffusion/schedule.h"

void ds_vdenoiser_scalings(double sigma, double *c_skip, double *c_out, double *c_in) {
    double s2 = sigma * sigma + 1.0;
    *c_skip = 1.0 / s2;
    *c_out = -sigma / sqrt(s2);
    *c_in = 1.0 / sqrt(s2);
}

ds_status ds_vdenoiser_init(ds_vdenoiser *v, const ds_model_fn *f, int64_t B, int64_t n, ds_err *err) {
    v->f = *f;
    v->B = B;
    v->n = n;
    v->xin = malloc((size_t)n * sizeof(float));
    v->vout = malloc((size_t)n * sizeof(float));
    v->t = malloc((size_t)B * sizeof(float));
    if (!v->xin || !v->vout || !v->t) {
        ds_vdenoiser_free(v);
        return ds_err_set(err, DS_ERR_NOMEM, "out of memory for the sampler's denoiser buffers");
    }
    return DS_OK;
}

void ds_vdenoiser_free(ds_vdenoiser *v) {
    free(v->xin);
    free(v->vout);
    free(v->t);
    v->xin = v->vout = v->t = NULL;
}

/* D(x, sigma) = F(x·c_in, atan(sigma)·2/pi)·c_out + x·c_skip, in torch's float32 order:
 * the model input is the float product x·c_in; the combination is rounded once. */
static ds_status vden_call(void *user, const float *x, double sigma, float *out, ds_err *err) {
    ds_vdenoiser *v = user;
    double c_skip, c_out, c_in;
    ds_vdenoiser_scalings(sigma, &c_skip, &c_out, &c_in);
    float cin = (float)c_in, tt = (float)ds_sigma_to_vt(sigma);
    for (int64_t i = 0; i < v->n; i++) v->xin[i] = x[i] * cin;
    for (int64_t b = 0; b < v->B; b++) v->t[b] = tt;
    DS_TRY(v->f.call(v->f.user, v->xin, v->t, v->vout, NULL, err));
    for (int64_t i = 0; i < v->n; i++) out[i] = (float)((double)v->vout[i] * c_out + (double)x[i] * c_skip);
    return DS_OK;
}

ds_denoiser ds_vdenoiser_denoiser(ds_vdenoiser *v) {
    ds_denoiser d = {vden_call, v};
    return d;
}
