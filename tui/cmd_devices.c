/* `diffstudio devices`: which compute devices this build and machine can use. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/device.h"

int cmd_devices(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio devices [--require cuda]\n"
               "\n"
               "Lists the devices --device and the studio file's \"device\" can name: cpu (always) and cuda\n"
               "(needs a build with nvcc, the NVIDIA driver and a GPU of compute capability 8.0 or newer).\n"
               "  --require D   exit 77 (\"skipped\", as ctest reads it) when device D is not usable here\n");
        return 0;
    }
    const char *require = NULL;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_opt(argc, argv, &i, "--require", &require, &bad)) continue;
        fprintf(stderr, "diffstudio devices: unknown argument %s\n", argv[i]);
        bad = true;
    }
    if (bad) return 2;
    ds_device_info info;
    if (require) {
        ds_device_query(require, &info);
        if (!info.available) {
            printf("%s: not usable: %s\n", require, info.why);
            return 77;
        }
        printf("%s: %s\n", require, info.name);
        return 0;
    }
    printf("cpu: available\n");
    ds_device_query("cuda", &info);
    if (info.available)
        printf("cuda: %s; convolutions %s; attention by cuBLASLt GEMMs and a softmax kernel (cuDNN's fused "
               "SDPA is not wired in); dense bf16 peak %s%.0f TFLOP/s\n",
               info.name, info.cudnn ? "through cuDNN" : "by plain kernels", info.peak_bf16_tflops > 0 ? "" : "unknown ",
               info.peak_bf16_tflops);
    else
        printf("cuda: not usable: %s\n", info.why);
    return 0;
}
