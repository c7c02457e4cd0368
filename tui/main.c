/* diffstudio: the command-line entry point. Dispatches subcommands; the studio (ncurses)
 * is one of them. Everything that can fail reports a message naming the file and what
 * was expected, and returns a non-zero exit code; only main() exits. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "synth.h"

static const ds_command COMMANDS[] = {
    {"studio", "open the studio on a model config or studio file", cmd_studio},
    {"train", "train headless from a studio file or a model config and a dataset", cmd_train},
    {"sample", "generate audio from a run, a checkpoint or exported weights", cmd_sample},
    {"export", "write an unwrapped model with SAT's key names (EMA by default)", cmd_export},
    {"config", "check, show and describe configs (check | show | schema)", cmd_config},
    {"check-fixture", "run a SAT golden fixture case and compare every tensor", cmd_check_fixture},
    {"bench", "time the training step and sampling against the PyTorch reference", cmd_bench},
    {"example-data", "write the bundled example dataset (synthesised drums and plucks)", cmd_example_data},
    {"devices", "list the compute devices this build can use (cpu, cuda)", cmd_devices},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: diffstudio [COMMAND] [ARGS...]\n"
            "\n"
            "Train audio diffusion models of the stable-audio-tools family.\n"
            "Without a command, opens the studio on the bundled example (configs/example.studio.json).\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        fprintf(f, "  %-14s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\nRun 'diffstudio COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("diffstudio 0.1.0\n");
        return 0;
    }
    if (argc < 2) {
        /* The bundled example: its data is synthesised on first use. */
        if (ui_example_data(EX_DEFAULT_DIR, EX_DEFAULT_PER_CLASS, EX_DEFAULT_SEED, EX_DEFAULT_RATE, EX_DEFAULT_SECONDS, true) != 0)
            return 1;
        char *def[] = {argv[0], NULL};
        return cmd_studio(1, def);
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "diffstudio: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
