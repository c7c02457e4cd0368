/* Building a training run (engine/worker.h ds_run_spec) from a studio file or a bare model
 * config: shared by headless `diffstudio train` and the studio, so both start the same run
 * from the same files. Nothing here prints: problems go to a diagnostics list and an error. */
#ifndef UI_RUN_SPEC_H
#define UI_RUN_SPEC_H

#include <stdbool.h>

#include "engine/config_doc.h"
#include "engine/worker.h"

/* Loads a studio file, or a model config with studio defaults around it (*is_model).
 * Diagnostics go to diags (may be NULL); returns DS_OK or the first problem in err. */
ds_status ui_studio_load(const char *path, ds_studio_config *sc, bool *is_model, ds_diag_list *diags, ds_err *err);

/* Fills spec for sc: loads sc->model_config (or model_path when not NULL: resuming a run
 * from its config.json snapshot), checks it can run here, and wires the dataset and the
 * run I/O. resume/max_steps/init_weights are left for the caller (max_steps defaults to
 * sc->max_steps). */
ds_status ui_run_spec_build(const ds_studio_config *sc, const char *model_path, ds_run_spec *spec,
                            ds_diag_list *diags, ds_err *err);

#endif
