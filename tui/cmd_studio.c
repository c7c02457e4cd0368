/* `diffstudio studio [STUDIO_FILE | MODEL_CONFIG]` (and `diffstudio` alone): the ncurses
 * studio (app.c). It needs a terminal on stdin and stdout; elsewhere it says what to use
 * instead. Messages that must outlive the screen are printed after the terminal is back. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "commands.h"

int ui_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

#define DEFAULT_STUDIO "configs/example.studio.json"

int cmd_studio(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio studio [STUDIO_FILE | MODEL_CONFIG]\n"
               "\n"
               "Opens the studio (default " DEFAULT_STUDIO "): edit the configs, start training,\n"
               "watch the loss curves, listen to the demos, browse earlier runs.\n"
               "Screens: 1 Config, 2 Train, 3 Demos, 4 Runs (Tab cycles); ? lists the keys of each.\n"
               "\n"
               "It needs a terminal. Without one, `diffstudio config show FILE` prints the\n"
               "effective config and `diffstudio train FILE` trains headless.\n"
               "\n"
               "Environment: NO_COLOR (monochrome), DIFFSTUDIO_ASCII=1 (no Unicode glyphs),\n"
               "DIFFSTUDIO_FRAME_LOG=FILE (append the time of every frame drawn).\n");
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "usage: diffstudio studio [STUDIO_FILE | MODEL_CONFIG]\n");
        return 2;
    }
    const char *file = argc > 1 ? argv[1] : DEFAULT_STUDIO;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr,
                "diffstudio studio: needs a terminal (stdin and stdout must be a terminal).\n"
                "Run it in a terminal, or use `diffstudio config show %s` to print the effective config\n"
                "and `diffstudio train %s` to train without the studio.\n",
                file, file);
        return 2;
    }
    if (access(file, R_OK) != 0) {
        fprintf(stderr, "diffstudio studio: %s: cannot read it%s\n", file,
                argc > 1 ? "" : " (run `make run` from the source folder, or give a studio file or model config)");
        return 1;
    }
    char msg[4096] = "";
    int rc = ui_studio_run(file, msg, sizeof msg);
    if (msg[0]) fputs(msg, rc ? stderr : stdout);
    return rc;
}
