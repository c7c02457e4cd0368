/* `diffstudio check-fixture DIR`: runs a SAT golden case and compares every tensor. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/fixture.h"

static void report(void *user, const char *line) {
    (void)user;
    printf("%s\n", line);
}

int cmd_check_fixture(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio check-fixture DIR [--out FILE] [--device cpu|cuda|sim] [--precision P] [-v]\n"
               "\n"
               "Runs the golden case in DIR (config.json, weights.safetensors, io.safetensors, io.json, as\n"
               "made by running SAT's own modules) by its kind, and prints for each compared tensor its\n"
               "norm-relative error against the tolerance. Exits 1 if any tensor is over.\n"
               "  --out FILE   also write every computed tensor to FILE (safetensors, io.safetensors names)\n"
               "  --device D   cpu (default); cuda or cuda:N (the GPU); sim (the CPU stand-in of a device,\n"
               "               which checks the device path's host side on any machine)\n"
               "  --precision P  on a device: 32 (default, the README's tolerances), bf16-mixed or 16-mixed\n"
               "               (outputs at 2e-2 norm-relative, gradients and weights reported only)\n"
               "  -v           one line per tensor (default: failures and a summary)\n");
        return 0;
    }
    const char *dir = NULL, *out = NULL, *device = "cpu", *precision = "32";
    bool verbose = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_opt(argc, argv, &i, "--out", &out, &bad) || cli_opt(argc, argv, &i, "--device", &device, &bad) ||
            cli_opt(argc, argv, &i, "--precision", &precision, &bad))
            continue;
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "diffstudio check-fixture: unknown option %s\n", argv[i]);
            bad = true;
        } else if (!dir)
            dir = argv[i];
        else {
            fprintf(stderr, "diffstudio check-fixture: one case directory at a time\n");
            bad = true;
        }
    }
    if (bad || !dir) {
        if (!dir && !bad) fprintf(stderr, "diffstudio check-fixture: give a case directory (see --help)\n");
        return 2;
    }
    ds_fixture_opts o = {out, device, verbose, report, NULL, precision};
    ds_fixture_result r;
    ds_err err = {0};
    if (ds_fixture_check(dir, &o, &r, &err) != DS_OK) {
        fprintf(stderr, "diffstudio check-fixture: %s\n", err.msg);
        return 1;
    }
    printf("%s: %d tensors compared, %d over tolerance; worst %s at %.3g x tolerance; largest output error %.2e "
           "(norm-relative) on %s%s%s\n",
           dir, r.compared, r.failed, r.worst[0] ? r.worst : "-", r.worst_ratio, r.worst_out_rel, r.device,
           out ? "; computed tensors in " : "", out ? out : "");
    return r.failed || r.compared == 0 ? 1 : 0;
}
