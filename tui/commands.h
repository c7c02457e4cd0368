/* Subcommands of the diffstudio executable. Each takes (argc, argv) with argv[0] the
 * command name and returns the process exit code. */
#ifndef UI_COMMANDS_H
#define UI_COMMANDS_H

typedef struct ds_command {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv);
} ds_command;

int cmd_studio(int argc, char **argv);

/* True if argv has -h or --help. */
int ui_wants_help(int argc, char **argv);

#endif
