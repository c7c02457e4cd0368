/* Small helpers shared by the subcommands: option parsing with clear errors, loading the
 * configs a command needs, printing diagnostics. */
#ifndef UI_CLI_H
#define UI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

/* Option matching: returns true and sets *val for "--name VALUE" or "--name=VALUE"
 * (advancing *i). On a missing value prints an error and sets *bad. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val, bool *bad);
bool cli_flag(const char *arg, const char *name);
/* Parse numbers; print "diffstudio CMD: --opt: expected …, got …" and return false on error. */
bool cli_int(const char *cmd, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
bool cli_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);

/* Loads a model config, printing every diagnostic; false on errors. */
bool cli_load_model(const char *cmd, const char *path, ds_model_config *cfg);
/* Loads a studio file (or a bare model config: studio defaults around it). */
bool cli_load_studio(const char *cmd, const char *path, ds_studio_config *sc, bool *is_model);
/* Prints the runnable-check problems of a model config; false if it cannot run. */
bool cli_check_runnable(const char *cmd, const ds_model_config *cfg);

bool cli_isatty_out(void);
/* The model config of a run/checkpoint source: `config` if given, else the run's config.json.
 * Prints what to do when there is none; false then. */
bool cli_run_config(const char *cmd, const char *source, const char *config, char *path, size_t n);

#endif
