/* SAT dataset config JSON (sat-spec §1.8) → roots and flags for audio_dataset_open.
 * Only "audio_dir" is supported: pre_encoded, s3 and wds need pieces this project does not
 * have (latents on disk, network shards). */
#include "dataset_internal.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void audio_sat_dataset_free(audio_sat_dataset *d) {
    if (!d) return;
    for (int i = 0; i < d->n_roots; i++) {
        free((char *)d->roots[i].id);
        free((char *)d->roots[i].path);
    }
    free(d->roots);
    memset(d, 0, sizeof *d);
}

/* Relative paths are resolved against the config file's folder, so a config and its data
 * can move together; SAT resolves against the working directory. */
static char *resolve(const char *json_path, const char *p) {
    if (p[0] == '/') return audio_strdup(p);
    const char *slash = strrchr(json_path, '/');
    if (!slash) return audio_strdup(p);
    size_t dl = (size_t)(slash - json_path) + 1, pl = strlen(p);
    char *s = malloc(dl + pl + 1);
    if (!s) return NULL;
    memcpy(s, json_path, dl);
    memcpy(s + dl, p, pl + 1);
    return s;
}

static bool get_bool(const cJSON *root, const char *key, bool dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

audio_status audio_sat_dataset_load(const char *json_path, audio_sat_dataset *out, audio_err *err) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    audio_status st = ds_slurp(json_path, &text, &len, err);
    if (st != AUDIO_OK) return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        long off = end ? (long)(end - text) : 0;
        free(text);
        return audio_err_set(err, AUDIO_ERR_FORMAT, "%s: invalid JSON near byte %ld", json_path, off);
    }
    free(text);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "dataset_type");
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(root, "datasets");
    if (!cJSON_IsString(type)) {
        st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: dataset_type: missing (SAT requires it)", json_path);
    } else if (strcmp(type->valuestring, "audio_dir") != 0) {
        st = audio_err_set(err, AUDIO_ERR_UNSUPPORTED,
                           "%s: dataset_type \"%s\" is not supported; diffstudio reads \"audio_dir\"", json_path,
                           type->valuestring);
    } else if (!cJSON_IsArray(sets) || cJSON_GetArraySize(sets) == 0) {
        st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: datasets: expected a non-empty array", json_path);
    }
    int n = st == AUDIO_OK ? cJSON_GetArraySize(sets) : 0;
    if (st == AUDIO_OK && !(out->roots = calloc((size_t)n, sizeof *out->roots)))
        st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", json_path);
    for (int i = 0; i < n && st == AUDIO_OK; i++) {
        const cJSON *e = cJSON_GetArrayItem(sets, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
        if (!cJSON_IsString(path)) {
            st = audio_err_set(err, AUDIO_ERR_FORMAT, "%s: datasets[%d].path: expected a string", json_path, i);
            break;
        }
        out->roots[i].id = audio_strdup(cJSON_IsString(id) ? id->valuestring : "");
        out->roots[i].path = resolve(json_path, path->valuestring);
        out->n_roots = i + 1;
        if (!out->roots[i].id || !out->roots[i].path)
            st = audio_err_set(err, AUDIO_ERR_NOMEM, "%s: out of memory", json_path);
        const cJSON *mod = cJSON_GetObjectItemCaseSensitive(e, "custom_metadata_module");
        if (cJSON_IsString(mod))
            audio_log(AUDIO_LOG_WARN,
                      "%s: datasets[%d].custom_metadata_module (%s) is Python and is not run; put the "
                      "metadata in sidecar files instead (audio/README.md)",
                      json_path, i, mod->valuestring);
    }
    out->random_crop = get_bool(root, "random_crop", true);
    out->drop_last = get_bool(root, "drop_last", true);
    cJSON_Delete(root);
    if (st != AUDIO_OK) audio_sat_dataset_free(out);
    return st;
}
