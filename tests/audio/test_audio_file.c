/* File IO, resampling and channel forcing: round trips through every format libsndfile
 * writes here, SAT's 16-bit demo conversion, atomic-write failures, readable errors for
 * broken inputs, torchaudio-length resampling that keeps a sine's frequency. */
#include "atest.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

static float max_diff(const audio_clip *a, const audio_clip *b, int64_t n) {
    float m = 0;
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = 0; i < n; i++) {
            float d = fabsf(audio_clip_channel(a, c)[i] - audio_clip_channel(b, c)[i]);
            if (d > m) m = d;
        }
    return m;
}

/* RMS of a−b over the middle half (lossy codecs smear the edges). */
static double mid_rms_err(const audio_clip *a, const audio_clip *b) {
    int64_t n = a->frames < b->frames ? a->frames : b->frames;
    double s = 0;
    int64_t k = 0;
    for (int c = 0; c < a->channels; c++)
        for (int64_t i = n / 4; i < 3 * n / 4; i++, k++) {
            double d = audio_clip_channel(a, c)[i] - audio_clip_channel(b, c)[i];
            s += d * d;
        }
    return sqrt(s / (double)(k ? k : 1));
}

static int count_tmp_leftovers(const char *dirpath) {
    DIR *d = opendir(dirpath);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void test_round_trips(void) {
    struct {
        audio_file_format fmt;
        const char *ext;
        int rate;
        float tol;      /* max |diff| for lossless formats */
        double rms_tol; /* RMS error for lossy ones (0: lossless) */
    } cases[] = {
        {AUDIO_FILE_WAV16, "wav", 44100, 1.0f / 16384, 0},
        {AUDIO_FILE_WAV24, "wav", 44100, 1.0f / 4194304, 0},
        {AUDIO_FILE_WAV_FLOAT, "wav", 44100, 0.0f, 0},
        {AUDIO_FILE_FLAC, "flac", 44100, 1.0f / 16384, 0},
        {AUDIO_FILE_AIFF16, "aiff", 44100, 1.0f / 16384, 0},
        {AUDIO_FILE_OGG_VORBIS, "ogg", 44100, 0, 0.05},
        {AUDIO_FILE_OPUS, "opus", 48000, 0, 0.1},
        {AUDIO_FILE_MP3, "mp3", 44100, 0, 0.1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rate = cases[k].rate;
        if (!audio_file_format_available(cases[k].fmt, rate, 2)) {
            fprintf(stderr, "  (this libsndfile cannot write %s: skipped)\n", audio_file_format_str(cases[k].fmt));
            continue;
        }
        char p[600];
        at_path(p, sizeof p, "rt_%zu.%s", k, cases[k].ext);
        audio_clip src, back;
        at_sine(&src, 2, rate, rate, 441.0, 0.5f);
        audio_err e;
        CHECKF(audio_file_write(p, &src, cases[k].fmt, &e) == AUDIO_OK, "%s", e.msg);
        audio_info info;
        CHECKF(audio_file_probe(p, &info, &e) == AUDIO_OK, "%s", e.msg);
        CHECK(info.channels == 2 && info.rate == rate);
        CHECK(audio_file_read(p, &back, &e) == AUDIO_OK);
        CHECK(back.channels == 2 && back.rate == rate);
        const char *name = audio_file_format_str(cases[k].fmt);
        if (cases[k].rms_tol == 0) {
            CHECKF(info.frames == src.frames && back.frames == src.frames, "%s: %lld frames", name,
                   (long long)back.frames);
            float d = max_diff(&src, &back, src.frames);
            CHECKF(d <= cases[k].tol, "%s: max diff %g > %g", name, d, cases[k].tol);
        } else {
            /* Lossy: length within a codec frame, the signal close in the middle, the
             * frequency kept. MP3 adds encoder padding unless the decoder trims it. */
            CHECKF(llabs((long long)(back.frames - src.frames)) <= 2048, "%s: %lld frames for %lld", name,
                   (long long)back.frames, (long long)src.frames);
            double r = mid_rms_err(&src, &back);
            double hz = at_zero_cross_hz(back.data + back.frames / 4, back.frames / 2, rate);
            CHECKF(fabs(hz - 441.0) < 2.0, "%s: %g Hz", name, hz);
            if (cases[k].fmt != AUDIO_FILE_MP3) /* MP3's delay shifts the signal: level only */
                CHECKF(r < cases[k].rms_tol, "%s: RMS error %g", name, r);
            float peak = audio_clip_peak(&back);
            CHECKF(peak > 0.4f && peak < 0.6f, "%s: peak %g", name, peak);
        }
        /* ranged reads agree with whole reads where seeking is exact */
        audio_clip part;
        audio_status rs = audio_file_read_range(p, 1000, 500, &part, &e);
        if (cases[k].rms_tol == 0) {
            CHECKF(rs == AUDIO_OK && part.frames == 500, "%s: range %d %s", name, rs, e.msg);
            if (rs == AUDIO_OK)
                for (int c = 0; c < 2; c++)
                    CHECK(memcmp(audio_clip_channel(&part, c), audio_clip_channel(&back, c) + 1000,
                                 500 * sizeof(float)) == 0);
        } else {
            CHECK(rs == AUDIO_ERR_UNSUPPORTED);
        }
        audio_clip_free(&part);
        audio_clip_free(&src);
        audio_clip_free(&back);
    }
}

static void test_demo_and_clipping(void) {
    char p[600];
    audio_err e;
    audio_clip c, back;
    audio_clip_alloc(&c, 2, 6, 44100, NULL);
    float v[12] = {0.3f, -0.3f, 0.5f, -0.5f, 0.0f, 0.1f, 0.25f, -0.25f, 0.49999f, 0.2f, -0.1f, 0.0f};
    memcpy(c.data, v, sizeof v);
    at_path(p, sizeof p, "demo.wav");
    CHECKF(audio_file_write_demo(p, &c, &e) == AUDIO_OK, "%s", e.msg);
    CHECK(audio_file_read(p, &back, &e) == AUDIO_OK);
    audio_info info;
    CHECK(audio_file_probe(p, &info, &e) == AUDIO_OK && strstr(info.format_name, "16 bit"));
    for (int i = 0; i < 12; i++) {
        /* SAT: int16(x / peak * 32767), truncated toward zero; peak = 0.5 */
        short want = (short)((v[i] / 0.5f) * 32767.0f);
        float got = back.data[i] * 32768.0f;
        CHECKF(got == (float)want, "demo sample %d: %g vs %d", i, got, want);
    }
    CHECK(back.data[0] * 32768.0f == 19660.0f && back.data[1] * 32768.0f == -19660.0f); /* not -19661 */
    audio_clip_free(&back);
    /* all-zero clips are written as zeros, not NaN garbage */
    memset(c.data, 0, 12 * sizeof(float));
    CHECK(audio_file_write_demo(p, &c, &e) == AUDIO_OK);
    CHECK(audio_file_read(p, &back, &e) == AUDIO_OK && audio_clip_peak(&back) == 0.0f);
    audio_clip_free(&back);
    /* plain 16-bit writing saturates out-of-range samples instead of wrapping around */
    c.data[0] = 1.5f;
    c.data[1] = -3.0f;
    at_path(p, sizeof p, "clip16.wav");
    CHECK(audio_file_write(p, &c, AUDIO_FILE_WAV16, &e) == AUDIO_OK);
    CHECK(audio_file_read(p, &back, &e) == AUDIO_OK);
    CHECKF(back.data[0] > 0.999f && back.data[1] <= -0.999f, "%g %g", back.data[0], back.data[1]);
    audio_clip_free(&back);
    audio_clip_free(&c);
}

static void test_atomic_write(void) {
    char p[600], d[600];
    audio_err e;
    audio_clip small, big, back;
    at_sine(&small, 1, 100, 8000, 100, 0.5f);
    at_sine(&big, 2, 8000 * 60, 8000, 100, 0.5f); /* 3.8 MB as float WAV */
    at_path(d, sizeof d, "atomic");
    at_mkdir(d);
    at_path(p, sizeof p, "atomic/old.wav");
    CHECK(audio_file_write(p, &small, AUDIO_FILE_WAV_FLOAT, &e) == AUDIO_OK);

    /* 1. the disk "fills up" mid-write: RLIMIT_FSIZE makes write(2) fail with EFBIG even
     *    for root; SIGXFSZ would kill us, so ignore it for the duration. */
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 64 * 1024;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    audio_status st = audio_file_write(p, &big, AUDIO_FILE_WAV_FLOAT, &e);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    CHECKF(st == AUDIO_ERR_IO && strstr(e.msg, p), "status %d: %s", st, e.msg);
    fprintf(stderr, "  (disk-full write: %s)\n", e.msg);
    CHECK(audio_file_read(p, &back, &e) == AUDIO_OK && back.frames == 100 && max_diff(&small, &back, 100) == 0);
    audio_clip_free(&back);
    CHECK(count_tmp_leftovers(d) == 0);

    /* 2. the rename fails (target is a folder): no change, no leftovers */
    at_path(p, sizeof p, "atomic/adir.wav");
    at_mkdir(p);
    st = audio_file_write(p, &small, AUDIO_FILE_WAV16, &e);
    CHECKF(st == AUDIO_ERR_IO && strstr(e.msg, "adir.wav"), "%d %s", st, e.msg);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(count_tmp_leftovers(d) == 0);

    /* 3. the folder does not exist */
    at_path(p, sizeof p, "nowhere/x.wav");
    st = audio_file_write(p, &small, AUDIO_FILE_WAV16, &e);
    CHECKF(st == AUDIO_ERR_IO && strstr(e.msg, "nowhere") && strstr(e.msg, "No such file"), "%s", e.msg);

    /* 4. a successful overwrite replaces the content and keeps no temporary file */
    at_path(p, sizeof p, "atomic/old.wav");
    CHECK(audio_file_write(p, &big, AUDIO_FILE_WAV16, &e) == AUDIO_OK);
    CHECK(audio_file_probe(p, &(audio_info){0}, &e) == AUDIO_OK);
    audio_info info;
    CHECK(audio_file_probe(p, &info, &e) == AUDIO_OK && info.frames == big.frames);
    CHECK(count_tmp_leftovers(d) == 0);

    /* 5. a read-only folder (only meaningful without root's override) */
    if (geteuid() != 0) {
        at_path(d, sizeof d, "ro");
        at_mkdir(d);
        at_path(p, sizeof p, "ro/x.wav");
        CHECK(audio_file_write(p, &small, AUDIO_FILE_WAV16, &e) == AUDIO_OK);
        chmod(d, 0555);
        CHECK(audio_file_write(p, &big, AUDIO_FILE_WAV16, &e) == AUDIO_ERR_IO);
        chmod(d, 0755);
        CHECK(audio_file_probe(p, &info, &e) == AUDIO_OK && info.frames == 100);
    }
    audio_clip_free(&small);
    audio_clip_free(&big);
}

static void expect_fail(const char *path, audio_status code, const char *reason) {
    audio_err e;
    audio_info info;
    audio_clip c;
    audio_status st = audio_file_probe(path, &info, &e);
    CHECKF(st == code && strstr(e.msg, path) && (!reason || strstr(e.msg, reason)), "probe %s: %d %s", path, st,
           e.msg);
    st = audio_file_read(path, &c, &e);
    CHECKF(st == code && strstr(e.msg, path), "read %s: %d %s", path, st, e.msg);
    fprintf(stderr, "  (%s)\n", e.msg);
}

static void test_errors(void) {
    char p[600], good[600];
    at_path(good, sizeof good, "good.wav");
    at_write_sine(good, 2, 4000, 8000, 100, 0.5f, AUDIO_FILE_WAV16);
    expect_fail(at_path(p, sizeof p, "missing.wav"), AUDIO_ERR_IO, "No such file");
    at_write_bytes(at_path(p, sizeof p, "empty.wav"), "", 0);
    expect_fail(p, AUDIO_ERR_FORMAT, "empty");
    at_write_bytes(at_path(p, sizeof p, "text.wav"), "hello, I am not audio\n", 22);
    expect_fail(p, AUDIO_ERR_FORMAT, NULL);
    at_truncate_copy(good, at_path(p, sizeof p, "trunc.wav"), 30);
    expect_fail(p, AUDIO_ERR_FORMAT, NULL);
    audio_clip z;
    audio_clip_alloc(&z, 2, 0, 8000, NULL);
    CHECK(audio_file_write(at_path(p, sizeof p, "zero.wav"), &z, AUDIO_FILE_WAV16, NULL) == AUDIO_OK);
    expect_fail(p, AUDIO_ERR_FORMAT, "no audio");
    at_path(p, sizeof p, "folder.wav");
    at_mkdir(p);
    expect_fail(p, AUDIO_ERR_IO, "directory");
    if (geteuid() != 0) {
        at_write_sine(at_path(p, sizeof p, "noperm.wav"), 1, 100, 8000, 100, 0.5f, AUDIO_FILE_WAV16);
        chmod(p, 0);
        expect_fail(p, AUDIO_ERR_IO, "Permission denied");
    }
    /* a float file holding NaN or Inf is broken audio: it probes (the header is fine) but
     * reading refuses it, naming the sample */
    audio_clip nf, got;
    audio_err ne;
    audio_clip_alloc(&nf, 2, 1000, 8000, NULL);
    nf.data[1000 + 700] = NAN;
    CHECK(audio_file_write(at_path(p, sizeof p, "nan.wav"), &nf, AUDIO_FILE_WAV_FLOAT, NULL) == AUDIO_OK);
    CHECKF(audio_file_read(p, &got, &ne) == AUDIO_ERR_FORMAT && strstr(ne.msg, p) &&
               strstr(ne.msg, "sample 700 of channel 1 is NaN"), "read %s: %s", p, ne.msg);
    nf.data[1000 + 700] = 0.0f;
    nf.data[3] = -INFINITY;
    CHECK(audio_file_write(at_path(p, sizeof p, "inf.wav"), &nf, AUDIO_FILE_WAV_FLOAT, NULL) == AUDIO_OK);
    CHECKF(audio_file_read(p, &got, &ne) == AUDIO_ERR_FORMAT && strstr(ne.msg, "sample 3 of channel 0 is infinite"),
           "read %s: %s", p, ne.msg);
    audio_clip_free(&nf);
    /* the library's own messages are per call: a failure does not leak into a later success */
    audio_err e = {0};
    audio_info info;
    CHECK(audio_file_probe(good, &info, &e) == AUDIO_OK && info.frames == 4000);
}

/* Threads probing broken files while another opens and checks its own descriptors: each
 * failure message must be that file's (libsndfile keeps open errors in a global), and no
 * probe may close a descriptor it does not own (a failed sf_open_fd already closed its fd;
 * closing it again once hit whatever the other thread had just opened). */
typedef struct {
    const char *path, *reason;
    int bad;
} prober;

static atomic_int probing;

static void *probe_loop(void *arg) {
    prober *pr = arg;
    for (int i = 0; i < 3000; i++) {
        audio_err e;
        audio_info info;
        if (audio_file_probe(pr->path, &info, &e) == AUDIO_OK || !strstr(e.msg, pr->reason) || !strstr(e.msg, pr->path))
            pr->bad++;
    }
    atomic_fetch_sub(&probing, 1);
    return NULL;
}

static void test_concurrent_failures(void) {
    char text[600], trunc[600], good[600];
    at_path(text, sizeof text, "conc_text.wav");
    at_write_bytes(text, "definitely not audio at all", 27);
    at_path(good, sizeof good, "conc_good.wav");
    at_write_sine(good, 1, 1000, 8000, 100, 0.5f, AUDIO_FILE_WAV16);
    at_path(trunc, sizeof trunc, "conc_trunc.wav");
    at_truncate_copy(good, trunc, 30);
    prober a = {text, "not recognised", 0}, b = {trunc, "data", 0};
    atomic_store(&probing, 2);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, probe_loop, &a);
    pthread_create(&tb, NULL, probe_loop, &b);
    int stolen = 0;
    while (atomic_load(&probing) > 0) {
        int fd = open("/dev/null", O_RDONLY);
        for (int k = 0; k < 20; k++) stolen += fcntl(fd, F_GETFD) < 0;
        close(fd);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECKF(a.bad == 0 && b.bad == 0, "%d + %d failures with someone else's message", a.bad, b.bad);
    CHECKF(stolen == 0, "%d checks found our descriptor closed by a probe", stolen);
}

static void test_resample(void) {
    int rates[][2] = {{48000, 44100}, {44100, 48000}, {48000, 16000}, {22050, 44100}};
    for (int q = 0; q < 2; q++)
        for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
            int from = rates[k][0], to = rates[k][1];
            audio_clip in, out;
            int64_t n = from + 7; /* odd length: exercises the ceil */
            at_sine(&in, 2, n, from, 1000.0, 0.5f);
            audio_err e;
            CHECK(audio_resample(&in, to, (audio_resample_quality)q, &out, &e) == AUDIO_OK);
            int64_t want = (n * to + from - 1) / from;
            CHECKF(out.frames == want && out.rate == to && out.channels == 2, "%d->%d: %lld frames, want %lld",
                   from, to, (long long)out.frames, (long long)want);
            /* the same sine sampled at the new rate: frequency and timing preserved (away
             * from the edges, where the filter sees zeros beyond the signal) */
            double worst = 0;
            for (int c = 0; c < 2; c++)
                for (int64_t i = out.frames / 10; i < out.frames * 9 / 10; i++) {
                    double ref = 0.5 * sin(2 * M_PI * 1000.0 * (double)i / to + c * 0.5);
                    double d = fabs(audio_clip_channel(&out, c)[i] - ref);
                    if (d > worst) worst = d;
                }
            CHECKF(worst < 2e-3, "%d->%d q%d: max error vs ideal sine %g", from, to, q, worst);
            double hz = at_zero_cross_hz(out.data, out.frames, to);
            CHECKF(fabs(hz - 1000.0) < 0.5, "%d->%d: %g Hz", from, to, hz);
            audio_clip_free(&in);
            audio_clip_free(&out);
        }
    CHECK(audio_resampled_length(32001, 16000, 8000) == 16001);
    CHECK(audio_resample_quality_parse("medium") == AUDIO_RESAMPLE_MEDIUM && audio_resample_quality_parse("x") == -1);
    CHECK(!strcmp(audio_resample_quality_str(AUDIO_RESAMPLE_BEST), "best"));
    CHECK(audio_resampled_length(44100, 44100, 48000) == 48000);
    audio_clip in, out;
    at_sine(&in, 1, 100, 8000, 100, 0.5f);
    CHECK(audio_resample(&in, 8000, AUDIO_RESAMPLE_BEST, &out, NULL) == AUDIO_OK && out.frames == 100 &&
          memcmp(in.data, out.data, 400) == 0);
    audio_clip_free(&out);
    audio_err e;
    CHECK(audio_resample(&in, 8000 * 300, AUDIO_RESAMPLE_BEST, &out, &e) == AUDIO_ERR_INVALID);
    audio_clip_free(&in);
}

static void test_channels(void) {
    float st3[3 * 4] = {1, 2, 3, 4, /**/ 10, 20, 30, 40, /**/ 100, 200, 300, 400};
    float out[2 * 4];
    audio_err e;
    CHECK(audio_channels_force(st3, 2, out, 1, 4, &e) == AUDIO_OK);
    CHECK(out[0] == 5.5f && out[3] == 22.0f); /* mean of two */
    CHECK(audio_channels_force(st3, 3, out, 1, 4, &e) == AUDIO_OK);
    CHECK(out[0] == 37.0f && out[1] == 74.0f); /* mean of three */
    CHECK(audio_channels_force(st3, 1, out, 2, 4, &e) == AUDIO_OK);
    CHECK(out[0] == 1 && out[4] == 1 && out[7] == 4); /* mono duplicated */
    CHECK(audio_channels_force(st3, 3, out, 2, 4, &e) == AUDIO_OK);
    CHECK(out[0] == 1 && out[4] == 10 && out[7] == 40); /* first two of three */
    CHECK(audio_channels_force(st3, 2, out, 2, 4, &e) == AUDIO_OK);
    CHECK(out[3] == 4 && out[4] == 10);
    CHECK(audio_channels_force(st3, 1, out, 1, 4, &e) == AUDIO_OK && out[2] == 3);
    CHECK(audio_channels_force(st3, 2, out, 3, 4, &e) == AUDIO_ERR_INVALID && strstr(e.msg, "3"));
    audio_clip m, s;
    at_sine(&m, 1, 10, 8000, 100, 0.5f);
    CHECK(audio_clip_force_channels(&m, 2, &s, &e) == AUDIO_OK && s.channels == 2 &&
          memcmp(s.data, s.data + 10, 40) == 0);
    audio_clip_free(&m);
    audio_clip_free(&s);
}

int main(void) {
    test_round_trips();
    test_demo_and_clipping();
    test_atomic_write();
    test_errors();
    test_concurrent_failures();
    test_resample();
    test_channels();
    at_cleanup();
    return tu_finish("test_audio_file");
}
