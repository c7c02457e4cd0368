/* Playback through PortAudio against ALSA's null device: HOME points at a temporary folder
 * whose .asoundrc makes the default PCM `null`, so the test needs no sound card. Exits 77
 * (skipped) only when PortAudio finds no output device even so. */
#include "atest.h"
#include "audio/player.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CHECKs that cond becomes true within `secs` (polling every 2 ms). */
#define CHECK_SOON(cond, secs)                                                               \
    do {                                                                                     \
        double t0_ = at_now();                                                               \
        while (!(cond) && at_now() - t0_ < (secs)) usleep(2000);                             \
        CHECK(cond);                                                                         \
    } while (0)

static long file_size(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

int main(void) {
    char home[600], rc[700], errlog[700];
    at_path(home, sizeof home, "home");
    at_mkdir(home);
    snprintf(rc, sizeof rc, "%s/.asoundrc", home);
    const char *conf = "pcm.!default { type null }\nctl.!default { type hw card 0 }\n";
    at_write_bytes(rc, conf, strlen(conf));
    setenv("HOME", home, 1);
    unsetenv("ALSA_CONFIG_PATH");

    /* Whatever ALSA/JACK print while devices are probed must not reach stderr (a curses
     * screen would be smeared): catch fd 2 in a file and expect it empty. */
    snprintf(errlog, sizeof errlog, "%s/stderr.txt", home);
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = fopen(errlog, "w");
    dup2(fileno(cap), 2);
    at_log_start();
    audio_player_config cfg = audio_player_config_default();
    cfg.sample_rate = 48000;
    cfg.channels = 2;
    audio_player *p = NULL;
    audio_err e;
    audio_status st = audio_player_open(&cfg, &p, &e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(cap);
    at_log_stop();
    if (st != AUDIO_OK) {
        fprintf(stderr, "test_audio_player: %s\n", e.msg);
        at_log_dump();
        at_cleanup();
        if (st == AUDIO_ERR_DEVICE && strstr(e.msg, "no output device")) return 77;
        return 1;
    }
    CHECKF(file_size(errlog) == 0, "%ld bytes of device chatter reached stderr", file_size(errlog));
    fprintf(stderr, "  device: %s, %d Hz, %d ch; %d line(s) of PortAudio chatter routed to the log\n",
            audio_player_device_name(p), audio_player_rate(p), audio_player_channels(p), at_log_count("portaudio:"));

    /* ALSA's null PCM is not paced: it consumes as fast as the feeder fills (tens of times
     * real time), so every timing below is "eventually", and states that must hold still
     * (pause) use a long clip. */
    audio_clip a, b, l;
    at_sine(&a, 2, 24000, 48000, 440, 0.3f);   /* 0.5 s */
    at_sine(&b, 1, 6000, 24000, 220, 0.3f);    /* 0.25 s mono at 24 kHz: resampled and duplicated */
    at_sine(&l, 2, 48000 * 120, 48000, 330, 0.3f); /* 2 min */
    CHECK(audio_player_load(p, 0, &a, &e) == AUDIO_OK);
    CHECK(audio_player_load(p, 1, &b, &e) == AUDIO_OK);
    CHECK(audio_player_load(p, 2, &l, &e) == AUDIO_OK);
    CHECK(audio_player_slot_frames(p, 0) == 24000 && audio_player_slot_frames(p, 1) == 12000);
    CHECK(audio_player_get_state(p) == AUDIO_PLAYER_STOPPED && audio_player_position(p) == 0);

    /* play: the position advances and reaches the end */
    CHECK(audio_player_play(p, 0, &e) == AUDIO_OK);
    CHECK_SOON(audio_player_position(p) > 0, 3.0);
    CHECK_SOON(audio_player_get_state(p) == AUDIO_PLAYER_ENDED, 5.0);
    CHECKF(audio_player_position(p) == 24000, "ended at %lld", (long long)audio_player_position(p));

    /* pause holds the position */
    CHECK(audio_player_play(p, 2, &e) == AUDIO_OK);
    CHECK_SOON(audio_player_position(p) > 0, 3.0);
    audio_player_pause(p);
    CHECK(audio_player_get_state(p) == AUDIO_PLAYER_PAUSED);
    usleep(50000);
    int64_t p1 = audio_player_position(p);
    usleep(150000);
    CHECKF(audio_player_position(p) == p1, "paused position moved %lld -> %lld", (long long)p1,
           (long long)audio_player_position(p));

    /* seek (paused: reads back at once and stays), then A/B switch keeps the position */
    CHECK(audio_player_seek(p, 0.125, &e) == AUDIO_OK);
    CHECK(audio_player_position(p) == 6000);
    usleep(50000);
    CHECK(audio_player_position(p) == 6000 && audio_player_get_state(p) == AUDIO_PLAYER_PAUSED);
    CHECK(audio_player_switch(p, 1, &e) == AUDIO_OK);
    CHECK(audio_player_slot(p) == 1 && audio_player_position(p) == 6000);
    usleep(50000);
    CHECK(audio_player_position(p) == 6000);
    audio_player_resume(p);
    CHECK_SOON(audio_player_get_state(p) == AUDIO_PLAYER_ENDED, 5.0);
    CHECKF(audio_player_position(p) == 12000, "B ended at %lld", (long long)audio_player_position(p));

    /* switching to a shorter clip past its end clamps; stop rewinds */
    CHECK(audio_player_play(p, 2, &e) == AUDIO_OK);
    CHECK(audio_player_seek(p, 0.4, &e) == AUDIO_OK);
    CHECK(audio_player_switch(p, 1, &e) == AUDIO_OK && audio_player_position(p) == 12000);
    CHECK_SOON(audio_player_get_state(p) == AUDIO_PLAYER_ENDED, 5.0);
    CHECK(audio_player_play(p, 2, &e) == AUDIO_OK);
    CHECK_SOON(audio_player_position(p) > 0, 3.0);
    audio_player_stop(p);
    CHECK(audio_player_get_state(p) == AUDIO_PLAYER_STOPPED && audio_player_position(p) == 0);
    usleep(100000);
    CHECK(audio_player_position(p) == 0);

    /* misuse is an error status, not a crash */
    CHECK(audio_player_play(p, 5, &e) == AUDIO_ERR_INVALID && strstr(e.msg, "empty"));
    CHECK(audio_player_play(p, 99, &e) == AUDIO_ERR_INVALID);
    CHECK(audio_player_seek(p, -1, &e) == AUDIO_ERR_INVALID);
    audio_player_unload(p, 1);
    CHECK(audio_player_switch(p, 1, &e) == AUDIO_ERR_INVALID);
    fprintf(stderr, "  underruns: %lld\n", (long long)audio_player_underruns(p));

    audio_player_close(p);
    audio_clip_free(&a);
    audio_clip_free(&b);
    audio_clip_free(&l);
    at_cleanup();
    return tu_finish("test_audio_player");
}
