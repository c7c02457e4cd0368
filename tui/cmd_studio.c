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
        printf("usage: diffstudio studio [MODEL_CONFIG | STUDIO_FILE]\n");
        return 0;
    }
    const char *path = argc > 1 ? argv[1] : "configs/example.json";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "diffstudio: %s: cannot open\n", path);
        return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}
