/* `diffstudio studio FILE`: the studio on a model config, dataset config or studio file.
 * Until the ncurses studio exists it prints the effective config, through the same code as
 * `diffstudio config show`. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int ui_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int cmd_studio(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio studio [MODEL_CONFIG | STUDIO_FILE]\n"
               "\n"
               "Opens the studio on a SAT model config or a studio file (default\n"
               "configs/example.json). For now it prints the effective config.\n");
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "usage: diffstudio studio [MODEL_CONFIG | STUDIO_FILE]\n");
        return 2;
    }
    return ui_config_show(argc > 1 ? argv[1] : "configs/example.json", stdout);
}
