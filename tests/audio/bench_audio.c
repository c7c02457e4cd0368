/* Throughput numbers quoted in audio/README.md (a program, not a test: timings are not
 * pass/fail material). Generates its own files in a temporary folder; synthetic tones, so
 * codec timings are indicative only.
 *   decode: audio_file_read per format (30 s stereo 44.1 kHz)
 *   resample: 44.1 → 48 kHz per libsamplerate quality
 *   dataset: items/s cold (decode + resample) and warm (cache hit), per-batch cost of the
 *            loader's hand-over when batches are ready */
#include "atest.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void bench_decode(void) {
    struct { audio_file_format f; const char *ext; } fmts[] = {
        {AUDIO_FILE_WAV16, "wav"}, {AUDIO_FILE_FLAC, "flac"}, {AUDIO_FILE_OGG_VORBIS, "ogg"}, {AUDIO_FILE_MP3, "mp3"},
    };
    /* two tones, one high: codecs have real work to do (a lone sine is nearly free) */
    audio_clip c, hi;
    at_sine(&c, 2, 44100 * 30, 44100, 440, 0.4f);
    at_sine(&hi, 2, 44100 * 30, 44100, 7919, 0.2f);
    for (int64_t i = 0; i < 2 * c.frames; i++) c.data[i] += hi.data[i];
    audio_clip_free(&hi);
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        char p[600];
        at_path(p, sizeof p, "dec.%s", fmts[k].ext);
        if (audio_file_write(p, &c, fmts[k].f, NULL) != AUDIO_OK) continue;
        audio_clip d;
        double t0 = at_now();
        int reps = 3;
        for (int r = 0; r < reps; r++) {
            audio_file_read(p, &d, NULL);
            audio_clip_free(&d);
        }
        double t = (at_now() - t0) / reps;
        printf("decode %-5s 30 s stereo 44.1 kHz: %7.1f ms  (%5.0fx real time)\n", fmts[k].ext, t * 1e3, 30 / t);
    }
    const char *qn[] = {"best", "medium", "fast"};
    for (int q = 0; q < 3; q++) {
        audio_clip r;
        double t0 = at_now();
        audio_resample(&c, 48000, (audio_resample_quality)q, &r, NULL);
        double t = at_now() - t0;
        audio_clip_free(&r);
        printf("resample 44.1->48 kHz %-6s 30 s stereo: %7.1f ms  (%5.0fx real time)\n", qn[q], t * 1e3, 30 / t);
    }
    audio_clip_free(&c);
}

static void bench_dataset(void) {
    char d[600], p[700];
    at_path(d, sizeof d, "set");
    at_mkdir(d);
    enum { FILES = 16 };
    for (int i = 0; i < FILES; i++) {
        snprintf(p, sizeof p, "%s/f%02d.wav", d, i);
        at_write_sine(p, 2, 44100 * 20, 44100, 100 + 30 * i, 0.5f, AUDIO_FILE_WAV16);
    }
    audio_dataset_root root = {"bench", d};
    audio_dataset_config cfg = audio_dataset_config_default();
    cfg.roots = &root;
    cfg.n_roots = 1;
    cfg.sample_rate = 48000;
    cfg.sample_size = 65536;
    cfg.channels = 2;
    audio_dataset *ds;
    audio_err e;
    if (audio_dataset_open(&cfg, &ds, &e) != AUDIO_OK) {
        printf("open: %s\n", e.msg);
        return;
    }
    audio_batching bt = audio_batching_default();
    bt.batch_size = 8;
    audio_position pos = {0, 0};
    double t0 = at_now();
    for (int k = 0; k < FILES / 8; k++) { /* one epoch: every file decoded + resampled once */
        audio_batch *b;
        audio_dataset_read_batch(ds, &bt, pos, &b, &e);
        pos = b->next;
        audio_batch_free(b);
    }
    double cold = (at_now() - t0) / FILES;
    t0 = at_now();
    int warm_items = 0;
    for (int k = 0; k < 40; k++, warm_items += 8) {
        audio_batch *b;
        audio_dataset_read_batch(ds, &bt, pos, &b, &e);
        pos = b->next;
        audio_batch_free(b);
    }
    double warm = (at_now() - t0) / warm_items;
    printf("dataset item (20 s 44.1 kHz WAV -> 48 kHz, 65536 x 2): cold %.1f ms (decode+resample), warm %.3f ms\n",
           cold * 1e3, warm * 1e3);

    /* loader hand-over: workers have filled the queue; time next() + free per batch */
    audio_loader_config lc = audio_loader_config_default();
    lc.batching = bt;
    lc.workers = 2;
    lc.prefetch = 4;
    lc.start = pos;
    audio_loader *l;
    audio_loader_create(ds, &lc, &l, &e);
    double handover = 0, waited = 0;
    int n = 40, ready = 0;
    for (int k = 0; k < n; k++) {
        usleep(20000); /* a 20 ms "training step": enough for 2 workers to stay ahead */
        audio_batch *b;
        double t1 = at_now();
        audio_loader_next(l, &b, &e);
        double dt = at_now() - t1;
        if (dt < 1e-3) handover += dt, ready++;
        else waited += dt;
        audio_batch_free(b);
    }
    audio_loader_destroy(l);
    printf("loader (2 workers, B=8, warm cache): next() %.1f us per ready batch (%d/%d ready), %.1f ms waited in "
           "total\n", ready ? handover / ready * 1e6 : 0.0, ready, n, waited * 1e3);
    audio_dataset_close(ds);
}

int main(void) {
    bench_decode();
    bench_dataset();
    at_cleanup();
    return 0;
}
