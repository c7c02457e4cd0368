/* Datasets: SAT's PadCrop_Normalized_T numbers on short/long/resampled files, silence
 * replacement, phase-flip statistics, channel forcing and clamping, a folder of broken
 * files (each reported once), empty folders, sidecar metadata and __reject__, and SAT's
 * dataset JSON. Batches are read synchronously here; the loader has its own test. */
#include "atest.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SR = 8000 };

static audio_dataset *open_one(const char *dir, int64_t n, int channels, bool random_crop, audio_err *e) {
    audio_dataset_root root = {"t", dir};
    audio_dataset_config cfg = audio_dataset_config_default();
    cfg.roots = &root;
    cfg.n_roots = 1;
    cfg.sample_rate = SR;
    cfg.sample_size = n;
    cfg.channels = channels;
    cfg.random_crop = random_crop;
    audio_dataset *ds = NULL;
    audio_err local;
    if (audio_dataset_open(&cfg, &ds, e ? e : &local) != AUDIO_OK) return NULL;
    return ds;
}

static audio_batch *read_at(audio_dataset *ds, uint64_t epoch, uint64_t cursor, int B) {
    audio_batching b = audio_batching_default();
    b.batch_size = B;
    audio_batch *out = NULL;
    audio_err e;
    if (audio_dataset_read_batch(ds, &b, (audio_position){epoch, cursor}, &out, &e) != AUDIO_OK)
        fprintf(stderr, "read_batch: %s\n", e.msg);
    return out;
}

/* A ramp-like signal whose every sample is distinct, so a crop's offset can be checked. */
static void write_ramp(const char *path, int channels, int64_t frames, int rate) {
    audio_clip c;
    audio_clip_alloc(&c, channels, frames, rate, NULL);
    for (int ch = 0; ch < channels; ch++)
        for (int64_t i = 0; i < frames; i++)
            audio_clip_channel(&c, ch)[i] = 0.1f + 0.8f * (float)((i * 7 + ch * 3) % 100003) / 100003.0f;
    audio_file_write(path, &c, AUDIO_FILE_WAV_FLOAT, NULL);
    audio_clip_free(&c);
}

static float ramp(int ch, int64_t i) { return 0.1f + 0.8f * (float)((i * 7 + ch * 3) % 100003) / 100003.0f; }

static void test_padcrop(void) {
    char d[600], p[700];
    /* short file: L = 3000 < n = 8000 */
    at_path(d, sizeof d, "short");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/a.wav", d);
    write_ramp(p, 1, 3000, SR);
    audio_dataset *ds = open_one(d, 8000, 1, true, NULL);
    CHECK(ds && audio_dataset_size(ds) == 1);
    audio_batch *b = ds ? read_at(ds, 0, 0, 1) : NULL;
    if (b) {
        audio_item *it = &b->items[0];
        CHECK(it->offset == 0 && it->length == 3000);
        CHECK(it->t_start == 0.0 && it->t_end == 1.0);
        CHECK(it->seconds_start == 0 && it->seconds_total == 1);
        float s = it->flipped ? -1.0f : 1.0f;
        CHECK(b->audio[0] == s * ramp(0, 0) && b->audio[2999] == s * ramp(0, 2999) && b->audio[3000] == 0.0f &&
              b->audio[7999] == 0.0f);
        CHECK(b->padding_mask[2999] == 1.0f && b->padding_mask[3000] == 0.0f && b->padding_mask[0] == 1.0f);
        double v;
        CHECK(audio_item_num(it, "seconds_total", &v) && v == 1.0);
        CHECK(audio_item_num(it, "sample_rate", &v) && v == SR);
        CHECK(strcmp(audio_item_str(it, "relpath"), "a.wav") == 0 && strcmp(audio_item_str(it, "id"), "t") == 0);
        CHECK(strcmp(audio_item_str(it, "seconds_start"), "0") == 0);
    }
    audio_batch_free(b);
    audio_dataset_close(ds);

    /* long file: L = 40123, n = 8000, upper = 32123 */
    at_path(d, sizeof d, "long");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/b.wav", d);
    write_ramp(p, 2, 40123, SR);
    ds = open_one(d, 8000, 2, false, NULL);
    b = ds ? read_at(ds, 0, 0, 1) : NULL;
    if (b) {
        audio_item *it = &b->items[0];
        CHECK(it->offset == 0 && it->seconds_start == 0 && it->seconds_total == 6);
        CHECK(it->t_start == 0.0 && it->t_end == 8000.0 / 40123.0);
        CHECK(b->padding_mask[7999] == 1.0f);
    }
    audio_batch_free(b);
    audio_dataset_close(ds);

    ds = open_one(d, 8000, 2, true, NULL);
    double sum = 0;
    int64_t lo = 1 << 30, hi = -1;
    int bad = 0, n = 600;
    for (int e = 0; ds && e < n; e++) {
        b = read_at(ds, (uint64_t)e, 0, 1);
        if (!b) break;
        audio_item *it = &b->items[0];
        int64_t o = it->offset;
        sum += (double)o;
        lo = o < lo ? o : lo;
        hi = o > hi ? o : hi;
        float s = it->flipped ? -1.0f : 1.0f;
        bad += o < 0 || o > 32123 || it->seconds_start != (int)(o / SR) || it->seconds_total != 6 ||
               it->t_start != (double)o / 40123.0 || it->t_end != (double)(o + 8000) / 40123.0 ||
               b->audio[0] != s * ramp(0, o) || b->audio[7999] != s * ramp(0, o + 7999) ||
               b->audio[8000 + 5] != s * ramp(1, o + 5) || b->padding_mask[7999] != 1.0f;
        audio_batch_free(b);
    }
    CHECKF(bad == 0, "%d random crops disagree with PadCrop_Normalized_T", bad);
    CHECKF(fabs(sum / n - 32123 / 2.0) < 32123 * 0.05, "mean offset %g", sum / n);
    CHECKF(lo < 1000 && hi > 31000, "offsets span [%lld, %lld]", (long long)lo, (long long)hi);
    audio_dataset_close(ds);

    /* L == n exactly, and a 16 kHz file resampled to 8 kHz: L = ceil(32001/2) = 16001 */
    at_path(d, sizeof d, "resampled");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/c.wav", d);
    at_write_sine(p, 1, 32001, 16000, 300, 0.5f, AUDIO_FILE_WAV16);
    ds = open_one(d, 16001, 1, true, NULL);
    b = ds ? read_at(ds, 0, 0, 1) : NULL;
    if (b) {
        audio_item *it = &b->items[0];
        CHECK(it->length == 16001 && it->offset == 0 && it->seconds_total == 3 && it->t_end == 1.0);
        CHECK(b->padding_mask[16000] == 1.0f);
        double hz = at_zero_cross_hz(b->audio, 16001, SR);
        CHECKF(fabs(hz - 300) < 1, "resampled sine at %g Hz", hz);
    }
    audio_batch_free(b);
    audio_dataset_close(ds);
}

static void test_silence_flip_channels(void) {
    char d[600], p[700];
    at_path(d, sizeof d, "quiet");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/silent.wav", d);
    at_write_sine(p, 1, 4000, SR, 100, 0.0f, AUDIO_FILE_WAV16);
    snprintf(p, sizeof p, "%s/minus70.wav", d); /* peak 10^(-70/20) ≈ 3.2e-4 < 1e-3: silent */
    at_write_sine(p, 1, 4000, SR, 100, 3.2e-4f, AUDIO_FILE_WAV_FLOAT);
    snprintf(p, sizeof p, "%s/minus50.wav", d); /* 3.2e-3: not silent */
    at_write_sine(p, 1, 4000, SR, 100, 3.2e-3f, AUDIO_FILE_WAV_FLOAT);
    audio_dataset *ds = open_one(d, 2000, 1, true, NULL);
    CHECK(ds && audio_dataset_size(ds) == 3);
    int wrong = 0, replaced = 0;
    for (int e = 0; ds && e < 40; e++)
        for (int c = 0; c < 3; c++) {
            audio_batch *b = read_at(ds, (uint64_t)e, (uint64_t)c, 1);
            if (!b) {
                wrong++;
                continue;
            }
            wrong += strcmp(b->items[0].relpath, "minus50.wav") != 0;
            replaced += b->items[0].replaced > 0;
            audio_batch_free(b);
        }
    CHECKF(wrong == 0 && replaced >= 40, "%d wrong, %d replaced", wrong, replaced);
    audio_dataset_close(ds);

    /* all silent: a clear error, not an endless loop */
    snprintf(p, sizeof p, "%s/minus50.wav", d);
    unlink(p);
    ds = open_one(d, 2000, 1, true, NULL);
    audio_batching bt = audio_batching_default();
    bt.batch_size = 1;
    audio_batch *b = NULL;
    audio_err e;
    audio_status st = ds ? audio_dataset_read_batch(ds, &bt, (audio_position){0, 0}, &b, &e) : AUDIO_OK;
    CHECKF(st == AUDIO_ERR_EMPTY && strstr(e.msg, "silent"), "%d %s", st, e.msg);
    audio_dataset_close(ds);

    /* phase flip: p = 0.5, and a flipped item is the exact negation; channel forcing */
    at_path(d, sizeof d, "flip");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/stereo.wav", d);
    write_ramp(p, 2, 1000, SR);
    ds = open_one(d, 1000, 1, false, NULL);
    int flips = 0, n = 2000, bad = 0;
    for (int k = 0; ds && k < n; k++) {
        b = read_at(ds, (uint64_t)k, 0, 1);
        if (!b) break;
        float s = b->items[0].flipped ? -1.0f : 1.0f;
        flips += b->items[0].flipped;
        for (int i = 0; i < 1000; i += 37) bad += b->audio[i] != s * ((ramp(0, i) + ramp(1, i)) / 2.0f);
        audio_batch_free(b);
    }
    CHECKF(bad == 0, "%d mono-mean mismatches", bad);
    CHECKF(abs(flips - n / 2) < n / 20, "%d flips of %d", flips, n); /* 4.5 sigma */
    audio_dataset_close(ds);
    ds = open_one(d, 1000, 2, false, NULL);
    if (ds) {
        audio_dataset_config cfg; /* phase_flip off via a fresh open */
        (void)cfg;
    }
    audio_dataset_close(ds);
    {
        audio_dataset_root root = {"t", d};
        audio_dataset_config cfg = audio_dataset_config_default();
        cfg.roots = &root;
        cfg.n_roots = 1;
        cfg.sample_rate = SR;
        cfg.sample_size = 1000;
        cfg.phase_flip = false;
        CHECK(audio_dataset_open(&cfg, &ds, &e) == AUDIO_OK);
        int any = 0;
        for (int k = 0; k < 50; k++) {
            b = read_at(ds, (uint64_t)k, 0, 1);
            any += b && b->items[0].flipped;
            if (b) CHECK(b->audio[0] == ramp(0, 0) && b->audio[1000] == ramp(1, 0)); /* stereo kept */
            audio_batch_free(b);
        }
        CHECK(any == 0);
        audio_dataset_close(ds);
    }

    /* mono file forced to stereo is duplicated; out-of-range float samples are clamped */
    at_path(d, sizeof d, "loud");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/m.wav", d);
    at_write_sine(p, 1, 1000, SR, 200, 1.5f, AUDIO_FILE_WAV_FLOAT);
    ds = open_one(d, 1000, 2, false, NULL);
    b = ds ? read_at(ds, 0, 0, 1) : NULL;
    if (b) {
        float mx = 0;
        for (int i = 0; i < 2000; i++) mx = fabsf(b->audio[i]) > mx ? fabsf(b->audio[i]) : mx;
        CHECK(mx == 1.0f);
        CHECK(memcmp(b->audio, b->audio + 1000, 1000 * sizeof(float)) == 0);
    }
    audio_batch_free(b);
    audio_dataset_close(ds);
}

static void test_broken_folder(void) {
    char d[600], p[700], good[700];
    at_path(d, sizeof d, "broken");
    at_mkdir(d);
    snprintf(good, sizeof good, "%s/good1.wav", d);
    at_write_sine(good, 2, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);
    snprintf(p, sizeof p, "%s/good2.flac", d);
    at_write_sine(p, 1, 4000, 16000, 100, 0.5f, AUDIO_FILE_FLAC);
    snprintf(p, sizeof p, "%s/sub", d);
    at_mkdir(p);
    snprintf(p, sizeof p, "%s/sub/good3.ogg", d);
    at_write_sine(p, 2, 8000, 8000, 100, 0.5f, AUDIO_FILE_OGG_VORBIS);
    snprintf(p, sizeof p, "%s/UPPER.WAV", d);
    at_write_sine(p, 1, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);
    snprintf(p, sizeof p, "%s/.hidden.wav", d);
    at_write_sine(p, 1, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);
    snprintf(p, sizeof p, "%s/.hiddendir", d);
    at_mkdir(p);
    snprintf(p, sizeof p, "%s/.hiddendir/in_hidden.wav", d);
    at_write_sine(p, 1, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);
    snprintf(p, sizeof p, "%s/notes.txt", d);
    at_write_bytes(p, "not audio", 9);
    /* the broken ones */
    const char *bad[] = {"empty.wav", "trunc.wav", "text.wav", "zero.wav", "noperm.wav"};
    int n_bad = geteuid() != 0 ? 5 : 4; /* root reads anything: skip the permission case */
    snprintf(p, sizeof p, "%s/empty.wav", d);
    at_write_bytes(p, "", 0);
    snprintf(p, sizeof p, "%s/trunc.wav", d);
    at_truncate_copy(good, p, 30);
    snprintf(p, sizeof p, "%s/text.wav", d);
    at_write_bytes(p, "RIFF? no, just text\n", 20);
    snprintf(p, sizeof p, "%s/zero.wav", d);
    audio_clip z;
    audio_clip_alloc(&z, 1, 0, SR, NULL);
    audio_file_write(p, &z, AUDIO_FILE_WAV16, NULL);
    if (n_bad == 5) {
        snprintf(p, sizeof p, "%s/noperm.wav", d);
        at_write_sine(p, 1, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);
        chmod(p, 0);
    }
    /* a folder named like audio is a folder (SAT scans it too): its content counts */
    snprintf(p, sizeof p, "%s/dir.wav", d);
    at_mkdir(p);
    snprintf(p, sizeof p, "%s/dir.wav/inside.wav", d);
    at_write_sine(p, 1, 4000, SR, 100, 0.5f, AUDIO_FILE_WAV16);

    at_log_start();
    audio_err e;
    audio_dataset *ds = open_one(d, 2000, 2, true, &e);
    at_log_stop();
    CHECKF(ds != NULL, "%s", e.msg);
    if (!ds) return;
    CHECKF(audio_dataset_size(ds) == 5, "%lld usable", (long long)audio_dataset_size(ds));
    CHECK(audio_dataset_skipped(ds) == n_bad);
    for (int i = 0; i < n_bad; i++) {
        snprintf(p, sizeof p, "%s/%s", d, bad[i]);
        CHECKF(at_log_count(p) == 1, "%s reported %d times", bad[i], at_log_count(p));
    }
    CHECK(at_log_count("good") == 0 && at_log_count("hidden") == 0 && at_log_count("UPPER") == 0);
    CHECK(at_log_count("dir.wav") == 0);
    const char *want[] = {"UPPER.WAV", "dir.wav/inside.wav", "good1.wav", "good2.flac", "sub/good3.ogg"};
    for (int i = 0; i < 5; i++) {
        audio_dataset_file f;
        CHECK(audio_dataset_file_info(ds, i, &f) == AUDIO_OK && strcmp(f.relpath, want[i]) == 0);
        if (i == 3) CHECK(f.rate == 16000 && f.length == 2000 && f.channels == 1);
    }
    /* every usable file decodes */
    audio_batch *b = read_at(ds, 0, 0, 5);
    CHECK(b && b->batch_size == 5);
    audio_batch_free(b);
    audio_dataset_close(ds);

    /* nothing usable → a clear error naming the folder */
    at_path(d, sizeof d, "nothing");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/x.wav", d);
    at_write_bytes(p, "", 0);
    snprintf(p, sizeof p, "%s/y.txt", d);
    at_write_bytes(p, "y", 1);
    at_log_start();
    ds = open_one(d, 100, 2, true, &e);
    at_log_stop();
    CHECKF(!ds && e.code == AUDIO_ERR_EMPTY && strstr(e.msg, d) && strstr(e.msg, "1 audio-named"), "%s", e.msg);
    /* missing folder */
    at_path(d, sizeof d, "no_such_folder");
    ds = open_one(d, 100, 2, true, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_IO && strstr(e.msg, d), "%s", e.msg);
}

static void write_text(const char *path, const char *text) { at_write_bytes(path, text, strlen(text)); }

static void test_sidecars(void) {
    char d[600], p[700];
    at_path(d, sizeof d, "meta");
    at_mkdir(d);
    const char *names[] = {"a.wav", "b.wav", "c.wav", "d.wav", "sub/e.wav", "f.wav", "g.wav", "h.wav", "i.wav"};
    snprintf(p, sizeof p, "%s/sub", d);
    at_mkdir(p);
    for (int i = 0; i < 9; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        at_write_sine(p, 1, 2000, SR, 100 + 10 * i, 0.5f, AUDIO_FILE_WAV16);
    }
    snprintf(p, sizeof p, "%s/a.wav.json", d);
    write_text(p, "{\"prompt\": \"kick\", \"bpm\": 120, \"loop\": true, \"tags\": [\"a\", \"b\"], \"n\": null}");
    snprintf(p, sizeof p, "%s/b.json", d);
    write_text(p, "{\"prompt\": \"snare\"}");
    snprintf(p, sizeof p, "%s/c.json", d);
    write_text(p, "{\"prompt\": \"from stem\", \"extra\": 1}");
    snprintf(p, sizeof p, "%s/c.wav.json", d);
    write_text(p, "{\"prompt\": \"from file\"}");
    snprintf(p, sizeof p, "%s/metadata.jsonl", d);
    write_text(p, "{\"path\": \"d.wav\", \"prompt\": \"hat\", \"seconds_total\": 99}\n\n"
                  "{\"file\": \"./sub/e.wav\", \"prompt\": \"tom\"}\n"
                  "{\"path\": \"f.wav\", \"mood\": \"dark\"}\n"
                  "{\"path\": \"nope.wav\", \"prompt\": \"ghost\"}\n");
    snprintf(p, sizeof p, "%s/metadata.csv", d);
    write_text(p, "\xEF\xBB\xBFpath,prompt,bpm,__reject__\r\n"
                  "f.wav,\"clap, wide \"\"x\"\"\",128,\r\n"
                  "g.wav,reject me,,true\r\n"
                  "i.wav,808,90.5,no\r\n");
    snprintf(p, sizeof p, "%s/f.wav.json", d);
    write_text(p, "{\"bpm\": 130}");
    snprintf(p, sizeof p, "%s/h.wav.json", d);
    write_text(p, "{\"__reject__\": true, \"prompt\": \"never\"}");

    at_log_start();
    audio_err e;
    audio_dataset *ds = open_one(d, 1000, 1, false, &e);
    at_log_stop();
    CHECKF(ds, "%s", e.msg);
    if (!ds) return;
    CHECK(audio_dataset_size(ds) == 7 && audio_dataset_rejected(ds) == 2);
    CHECK(at_log_count("nope.wav") == 1); /* unmatched manifest row: warned once */
    /* read every file once (one epoch, batch of 7) and look items up by relpath */
    audio_batch *b = read_at(ds, 0, 0, 7);
    CHECK(b != NULL);
    for (int i = 0; b && i < b->batch_size; i++) {
        const audio_item *it = &b->items[i];
        const char *r = it->relpath;
        const char *prompt = audio_item_str(it, "prompt");
        double v;
        if (!strcmp(r, "a.wav")) {
            CHECK(prompt && !strcmp(prompt, "kick"));
            CHECK(audio_item_num(it, "bpm", &v) && v == 120 && !strcmp(audio_item_str(it, "bpm"), "120"));
            CHECK(audio_item_num(it, "loop", &v) && v == 1);
            CHECK(!strcmp(audio_item_str(it, "tags"), "[\"a\",\"b\"]"));
            CHECK(audio_item_meta(it, "n") == NULL);
        } else if (!strcmp(r, "b.wav")) {
            CHECK(prompt && !strcmp(prompt, "snare"));
        } else if (!strcmp(r, "c.wav")) {
            CHECK(prompt && !strcmp(prompt, "from file")); /* FILE.ext.json beats FILE.json */
            CHECK(audio_item_num(it, "extra", &v) && v == 1); /* keys merge */
        } else if (!strcmp(r, "d.wav")) {
            CHECK(prompt && !strcmp(prompt, "hat"));
            CHECK(audio_item_num(it, "seconds_total", &v) && v == 99); /* SAT's info.update */
            CHECK(it->seconds_total == 1); /* the typed field keeps the computed value */
        } else if (!strcmp(r, "sub/e.wav")) {
            CHECK(prompt && !strcmp(prompt, "tom"));
        } else if (!strcmp(r, "f.wav")) {
            CHECKF(prompt && !strcmp(prompt, "clap, wide \"x\""), "%s", prompt ? prompt : "(null)");
            CHECK(audio_item_num(it, "bpm", &v) && v == 130); /* sidecar beats manifest */
            CHECK(!strcmp(audio_item_str(it, "mood"), "dark"));
        } else if (!strcmp(r, "i.wav")) {
            CHECK(prompt && !strcmp(prompt, "808") && audio_item_num(it, "prompt", &v) && v == 808);
            CHECK(audio_item_num(it, "bpm", &v) && v == 90.5);
            CHECK(audio_item_meta(it, "__reject__") == NULL);
        } else {
            CHECKF(0, "unexpected item %s", r);
        }
        CHECK(audio_item_str(it, "path") && strstr(audio_item_str(it, "path"), r));
    }
    audio_batch_free(b);
    audio_dataset_close(ds);

    /* malformed sidecars are open errors naming the file and line */
    snprintf(p, sizeof p, "%s/b.json", d);
    write_text(p, "{\"prompt\": \"snare\",\n \"bpm\": }");
    ds = open_one(d, 1000, 1, false, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_FORMAT && strstr(e.msg, "b.json:2:"), "%s", e.msg);
    write_text(p, "[1, 2]");
    ds = open_one(d, 1000, 1, false, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_FORMAT && strstr(e.msg, "b.json") && strstr(e.msg, "object"), "%s", e.msg);
    unlink(p);
    snprintf(p, sizeof p, "%s/metadata.csv", d);
    write_text(p, "name,prompt\nf.wav,x\n");
    ds = open_one(d, 1000, 1, false, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_FORMAT && strstr(e.msg, "metadata.csv:1") && strstr(e.msg, "path"), "%s",
           e.msg);
    write_text(p, "path,prompt\nf.wav,\"open\n");
    ds = open_one(d, 1000, 1, false, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_FORMAT && strstr(e.msg, "metadata.csv:2: unterminated"), "%s", e.msg);
    unlink(p);
    snprintf(p, sizeof p, "%s/metadata.jsonl", d);
    write_text(p, "{\"path\": \"a.wav\"}\n{\"prompt\": \"no path\"}\n");
    ds = open_one(d, 1000, 1, false, &e);
    CHECKF(!ds && e.code == AUDIO_ERR_FORMAT && strstr(e.msg, "metadata.jsonl:2"), "%s", e.msg);
    unlink(p);
}

static void test_sat_json(void) {
    char d[600], p[700], cfgp[700];
    at_path(d, sizeof d, "satcfg");
    at_mkdir(d);
    snprintf(p, sizeof p, "%s/data", d);
    at_mkdir(p);
    snprintf(cfgp, sizeof cfgp, "%s/dataset.json", d);
    write_text(cfgp, "{\"dataset_type\": \"audio_dir\", \"datasets\": [{\"id\": \"drums\", \"path\": \"data/\", "
                     "\"custom_metadata_module\": \"md.py\"}], \"random_crop\": false}");
    audio_sat_dataset sd;
    audio_err e;
    at_log_start();
    CHECKF(audio_sat_dataset_load(cfgp, &sd, &e) == AUDIO_OK, "%s", e.msg);
    at_log_stop();
    CHECK(at_log_count("custom_metadata_module") == 1);
    CHECK(sd.n_roots == 1 && !strcmp(sd.roots[0].id, "drums") && !sd.random_crop && sd.drop_last);
    snprintf(p, sizeof p, "%s/data/", d);
    CHECKF(!strcmp(sd.roots[0].path, p), "%s", sd.roots[0].path);
    audio_sat_dataset_free(&sd);
    write_text(cfgp, "{\"dataset_type\": \"s3\", \"datasets\": [{\"id\": \"x\", \"s3_path\": \"s3://b/\"}]}");
    CHECK(audio_sat_dataset_load(cfgp, &sd, &e) == AUDIO_ERR_UNSUPPORTED && strstr(e.msg, "s3"));
    write_text(cfgp, "{\"dataset_type\": \"audio_dir\", \"datasets\": [{\"id\": \"x\"}]}");
    CHECK(audio_sat_dataset_load(cfgp, &sd, &e) == AUDIO_ERR_FORMAT && strstr(e.msg, "datasets[0].path"));
    write_text(cfgp, "{\"dataset_type\": ");
    CHECK(audio_sat_dataset_load(cfgp, &sd, &e) == AUDIO_ERR_FORMAT && strstr(e.msg, "invalid JSON"));
}

int main(void) {
    test_padcrop();
    test_silence_flip_channels();
    test_broken_folder();
    test_sidecars();
    test_sat_json();
    at_cleanup();
    return tu_finish("test_audio_dataset");
}
