/* The pretransforms diffstudio can run (sat-spec §1.5, §7): none, and `patched`
 * (encode: zero-pad the end to a multiple of h, "b c (l h) -> b (c h) l"; decode: the
 * inverse). The autoencoder, PQMF, wavelet and pretrained ones are refused when a model
 * is built (ds_model_config_check_runnable). */
#ifndef DS_PRETRANSFORM_H
#define DS_PRETRANSFORM_H

#include <stdint.h>

#include "engine/config.h"
#include "engine/status.h"

/* Latent shape of audio [B, C, T]. */
void ds_pretransform_latent_shape(const ds_pretransform_config *pt, int64_t C, int64_t T, int64_t *Cl, int64_t *Tl);
/* audio [B, C, T] -> latents [B, Cl, Tl] (caller allocates with ds_pretransform_latent_shape). */
ds_status ds_pretransform_encode(const ds_pretransform_config *pt, const float *audio, int64_t B, int64_t C,
                                 int64_t T, float *latents, ds_err *err);
/* latents [B, Cl, Tl] -> audio [B, C, Tl·ratio] where C = Cl / ratio. */
ds_status ds_pretransform_decode(const ds_pretransform_config *pt, const float *latents, int64_t B, int64_t Cl,
                                 int64_t Tl, float *audio, ds_err *err);

#endif
