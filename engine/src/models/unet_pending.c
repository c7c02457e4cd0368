/* The U-Net backbones (DAU1d, adp_*) are built in their own change; until then a config
 * that names them is reported as not runnable rather than failing to link. */
#include "models/model.h"

ds_status ds_dau1d_create(ds_model *m, ds_err *err) {
    (void)m;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.type: \"DAU1d\" cannot run in this build yet");
}

ds_status ds_adp_create(ds_model *m, ds_err *err) {
    (void)m;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.type: the ADP U-Nets cannot run in this build yet");
}
