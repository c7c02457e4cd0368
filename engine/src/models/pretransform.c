#include "models/pretransform.h"

#include <string.h>

void ds_pretransform_latent_shape(const ds_pretransform_config *pt, int64_t C, int64_t T, int64_t *Cl, int64_t *Tl) {
    if (pt->type == DS_PT_PATCHED && pt->patch_size > 1) {
        int64_t h = pt->patch_size;
        *Cl = C * h;
        *Tl = (T + h - 1) / h;
    } else {
        *Cl = C;
        *Tl = T;
    }
}

static ds_status refuse(const ds_pretransform_config *pt, ds_err *err) {
    return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.pretransform: type \"%s\" cannot run in diffstudio yet",
                      pt->type_name);
}

ds_status ds_pretransform_encode(const ds_pretransform_config *pt, const float *audio, int64_t B, int64_t C,
                                 int64_t T, float *lat, ds_err *err) {
    if (pt->type == DS_PT_NONE) {
        memcpy(lat, audio, (size_t)(B * C * T) * sizeof(float));
        return DS_OK;
    }
    if (pt->type != DS_PT_PATCHED) return refuse(pt, err);
    int64_t h = pt->patch_size > 0 ? pt->patch_size : 1, L = (T + h - 1) / h, Cl = C * h;
    memset(lat, 0, (size_t)(B * Cl * L) * sizeof(float));
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < T; s++) lat[(b * Cl + c * h + s % h) * L + s / h] = audio[(b * C + c) * T + s];
    return DS_OK;
}

ds_status ds_pretransform_decode(const ds_pretransform_config *pt, const float *lat, int64_t B, int64_t Cl, int64_t L,
                                 float *audio, ds_err *err) {
    if (pt->type == DS_PT_NONE) {
        memcpy(audio, lat, (size_t)(B * Cl * L) * sizeof(float));
        return DS_OK;
    }
    if (pt->type != DS_PT_PATCHED) return refuse(pt, err);
    int64_t h = pt->patch_size > 0 ? pt->patch_size : 1, C = Cl / h, T = L * h;
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < T; s++) audio[(b * C + c) * T + s] = lat[(b * Cl + c * h + s % h) * L + s / h];
    return DS_OK;
}
