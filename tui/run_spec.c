/* Run specs from studio files (see run_spec.h). */
#include "run_spec.h"

#include <stdio.h>
#include <string.h>

#include "run_io.h"

ds_status ui_studio_load(const char *path, ds_studio_config *sc, bool *is_model, ds_diag_list *diags, ds_err *err) {
    ds_config_doc *doc = NULL;
    *is_model = false;
    ds_studio_config_defaults(sc);
    DS_TRY(ds_config_doc_load(path, &doc, diags, err));
    ds_status s = DS_OK;
    switch (ds_config_doc_kind(doc)) {
    case DS_KIND_STUDIO:
        s = ds_studio_config_from_doc(doc, sc, diags);
        if (s != DS_OK) {
            if (diags)
                ds_diag_to_err(diags, s, err);
            else
                ds_err_set(err, s, "%s: not a valid studio file", path);
        }
        break;
    case DS_KIND_MODEL:
        ds_studio_config_for_model(path, sc);
        *is_model = true;
        break;
    default:
        s = ds_err_set(err, DS_ERR_INVALID, "%s: expected a studio file or a model config, found a %s", path,
                       ds_config_kind_name(ds_config_doc_kind(doc)));
    }
    ds_config_doc_free(doc);
    return s;
}

ds_status ui_run_spec_build(const ds_studio_config *sc, const char *model_path, ds_run_spec *spec,
                            ds_diag_list *diags, ds_err *err) {
    memset(spec, 0, sizeof *spec);
    spec->studio = *sc;
    const char *mp = model_path ? model_path : sc->model_config;
    if (!mp[0])
        return ds_err_set(err, DS_ERR_INVALID, "no model config (give a studio file, a model config or --config)");
    if (!sc->dataset_config[0])
        return ds_err_set(err, DS_ERR_INVALID,
                          "no data (set dataset_config in the studio file, or --dataset FOLDER)");
    DS_TRY(ds_model_config_load(mp, &spec->model, diags, err));
    ds_status s = ds_model_config_check_runnable(&spec->model, diags, err);
    if (s != DS_OK) return s;
    snprintf(spec->model_json_path, sizeof spec->model_json_path, "%s", mp);
    snprintf(spec->dataset, sizeof spec->dataset, "%s", sc->dataset_config);
    spec->max_steps = sc->max_steps;
    ui_run_io_opts io = {sc->num_workers, sc->cache_bytes};
    spec->io = ui_run_io(&io);
    return DS_OK;
}
