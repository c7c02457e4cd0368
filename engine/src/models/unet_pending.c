/* temporary */
#include "models/model.h"

ds_status ds_adp_create(ds_model *m, ds_err *err) {
    (void)m;
    return ds_err_set(err, DS_ERR_UNSUPPORTED, "model.diffusion.type: the ADP U-Nets cannot run in this build yet");
}
