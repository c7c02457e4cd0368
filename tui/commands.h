/* Subcommands of the diffstudio executable. Each takes (argc, argv) with argv[0] the
 * command name and returns the process exit code. */
#ifndef UI_COMMANDS_H
#define UI_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ds_command {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv);
} ds_command;

int cmd_studio(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_check_fixture(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_example_data(int argc, char **argv);
int cmd_devices(int argc, char **argv);

/* Writes the example dataset into dir unless a complete copy with these settings is there. */
int ui_example_data(const char *dir, int per_class, uint64_t seed, int rate, double seconds, bool quiet);

/* Prints the effective config of a model config, dataset config or studio file (what
 * `diffstudio config show` prints); returns the exit code. */
int ui_config_show(const char *path, FILE *out);

/* True if argv has -h or --help. */
int ui_wants_help(int argc, char **argv);

#endif
