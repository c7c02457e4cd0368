/* `diffstudio export`: an unwrapped model with SAT's key names (unwrap_model.py). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/generate.h"

int cmd_export(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio export RUN_DIR|CHECKPOINT_DIR --out FILE.safetensors [--online] [--config MODEL.json]\n"
               "\n"
               "Writes the model as SAT's unwrap_model.py does: the EMA backbone (model.model.*) with the\n"
               "online conditioners (conditioner.conditioners.*), as one safetensors file that SAT's\n"
               "get_pretrained_model and `diffstudio train --init` load.\n"
               "  --online        export the online backbone instead of the EMA\n"
               "  --config FILE   the model config (default: the run's config.json)\n");
        return 0;
    }
    const char *src = NULL, *out = NULL, *config = NULL;
    bool online = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_opt(argc, argv, &i, "--out", &out, &bad) || cli_opt(argc, argv, &i, "--config", &config, &bad)) continue;
        if (!strcmp(argv[i], "--online"))
            online = true;
        else if (argv[i][0] == '-' || src) {
            fprintf(stderr, "diffstudio export: unexpected argument %s (see --help)\n", argv[i]);
            bad = true;
        } else
            src = argv[i];
    }
    if (bad || !src || !out) {
        if (!bad) fprintf(stderr, "diffstudio export: give a run or checkpoint and --out FILE\n");
        return 2;
    }
    char cfg_path[1100];
    if (!cli_run_config("export", src, config, cfg_path, sizeof cfg_path)) return 2;
    static ds_model_config cfg;
    if (!cli_load_model("export", cfg_path, &cfg)) return 1;
    ds_err err = {0};
    if (ds_export(src, &cfg, out, !online, &err) != DS_OK) {
        fprintf(stderr, "diffstudio export: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s (%s backbone)\n", out, online ? "online" : "EMA");
    return 0;
}
