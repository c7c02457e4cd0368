/* `diffstudio example-data DIR`: writes the bundled example dataset (assets/synth.c) — short
 * one-shots in six classes, each WAV with a sidecar FILE.wav.json holding its prompt. The same
 * seed makes the same files on every machine; an existing, complete folder is left alone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio.h"
#include "cli.h"
#include "commands.h"
#include "synth.h"

#define EX_VERSION 1

static int mkdir_p(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int ui_example_data(const char *dir, int per_class, uint64_t seed, int rate, double seconds, bool quiet) {
    char stamp[1100];
    snprintf(stamp, sizeof stamp, "%s/.complete", dir);
    char want[128];
    snprintf(want, sizeof want, "version %d, %d per class, seed %llu, %d Hz, %.3f s\n", EX_VERSION, per_class,
             (unsigned long long)seed, rate, seconds);
    FILE *f = fopen(stamp, "r");
    if (f) {
        char have[128] = "";
        size_t n = fread(have, 1, sizeof have - 1, f);
        have[n] = 0;
        fclose(f);
        if (!strcmp(have, want)) return 0; /* already there */
    }
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "diffstudio example-data: %s: cannot create: %s\n", dir, strerror(errno));
        return 1;
    }
    int64_t frames = (int64_t)(seconds * rate + 0.5);
    audio_clip c;
    audio_err e = {0};
    if (audio_clip_alloc(&c, 1, frames, rate, &e) != AUDIO_OK) {
        fprintf(stderr, "diffstudio example-data: %s\n", e.msg);
        return 1;
    }
    for (int k = 0; k < EX_N_CLASSES; k++)
        for (int i = 0; i < per_class; i++) {
            char path[1200], side[1300];
            snprintf(path, sizeof path, "%s/%s_%03d.wav", dir, EX_CLASSES[k].name, i);
            ex_render(k, i, seed, rate, c.data, frames);
            if (audio_file_write(path, &c, AUDIO_FILE_WAV16, &e) != AUDIO_OK) {
                fprintf(stderr, "diffstudio example-data: %s\n", e.msg);
                audio_clip_free(&c);
                return 1;
            }
            snprintf(side, sizeof side, "%s.json", path);
            FILE *s = fopen(side, "w");
            if (!s) {
                fprintf(stderr, "diffstudio example-data: %s: %s\n", side, strerror(errno));
                audio_clip_free(&c);
                return 1;
            }
            fprintf(s, "{\"prompt\": \"%s\"}\n", EX_CLASSES[k].name);
            fclose(s);
        }
    audio_clip_free(&c);
    f = fopen(stamp, "w");
    if (f) {
        fputs(want, f);
        fclose(f);
    }
    if (!quiet)
        fprintf(stderr, "example data: %d clips (%d classes x %d) of %.2f s at %d Hz in %s\n", EX_N_CLASSES * per_class,
                EX_N_CLASSES, per_class, seconds, rate, dir);
    return 0;
}

int cmd_example_data(int argc, char **argv) {
    if (ui_wants_help(argc, argv)) {
        printf("usage: diffstudio example-data [DIR] [--per-class N] [--seed N] [--rate HZ] [--seconds S]\n"
               "\n"
               "Synthesises the bundled example dataset into DIR (default " EX_DEFAULT_DIR "): kick, snare,\n"
               "hihat and plucked strings at three pitches, each clip with a FILE.wav.json sidecar holding\n"
               "its prompt. Deterministic; a complete folder with the same settings is left as it is.\n");
        return 0;
    }
    const char *dir = EX_DEFAULT_DIR, *v;
    int64_t per = EX_DEFAULT_PER_CLASS, seed = EX_DEFAULT_SEED, rate = EX_DEFAULT_RATE;
    double secs = EX_DEFAULT_SECONDS;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_opt(argc, argv, &i, "--per-class", &v, &bad))
            bad = bad || !cli_int("example-data", "--per-class", v, 1, 100000, &per);
        else if (cli_opt(argc, argv, &i, "--seed", &v, &bad))
            bad = bad || !cli_int("example-data", "--seed", v, 0, INT64_MAX, &seed);
        else if (cli_opt(argc, argv, &i, "--rate", &v, &bad))
            bad = bad || !cli_int("example-data", "--rate", v, 1000, 384000, &rate);
        else if (cli_opt(argc, argv, &i, "--seconds", &v, &bad))
            bad = bad || !cli_double("example-data", "--seconds", v, 0.01, 60, &secs);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "diffstudio example-data: unknown option %s\n", argv[i]);
            bad = true;
        } else
            dir = argv[i];
    }
    if (bad) return 2;
    return ui_example_data(dir, (int)per, (uint64_t)seed, (int)rate, secs, false);
}
