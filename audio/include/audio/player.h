/* audio/: clip playback through PortAudio, with A/B switching.
 *
 * A player owns an output stream at one rate and channel count, a few clip slots (loaded
 * clips are copied, resampled to the player's rate and mapped to its channels), and a
 * feeder thread that streams the current slot into a lock-free ring. The PortAudio
 * callback only reads that ring and atomics: no malloc, no locks, no I/O.
 *
 * Threads: open/close/load/unload/play/pause/resume/stop/seek/switch from one controlling
 * thread (the UI). position, state and the getters may be read from any thread. No
 * device, or any PortAudio failure, is an AUDIO_ERR_DEVICE with a readable message: the UI
 * shows it and carries on without sound.
 *
 * ALSA and JACK print diagnostics on stderr while PortAudio probes devices. With
 * cfg.quiet (the default) fd 2 is redirected to a temporary file around
 * Pa_Initialize/Pa_OpenStream/Pa_StartStream/Pa_CloseStream/Pa_Terminate and the captured
 * lines are sent to the log callback at AUDIO_LOG_DEBUG, so a curses screen is never
 * smeared. The redirection is process-wide for those few milliseconds: another thread's
 * stderr output in that window lands in the log too. */
#ifndef AUDIO_PLAYER_H
#define AUDIO_PLAYER_H

#include "audio/file.h"
#include "audio/status.h"

#include <stdbool.h>
#include <stdint.h>

enum { AUDIO_PLAYER_SLOTS = 8 };

typedef struct audio_player audio_player;

typedef enum audio_player_state {
    AUDIO_PLAYER_STOPPED = 0,
    AUDIO_PLAYER_PLAYING = 1,
    AUDIO_PLAYER_PAUSED = 2,
    AUDIO_PLAYER_ENDED = 3, /* played to the end of the clip; play/seek+resume restart */
} audio_player_state;

const char *audio_player_state_str(audio_player_state s);

typedef struct audio_player_config {
    int sample_rate; /* stream rate; 0: the device's default rate */
    int channels;    /* 1 or 2; 0: 2 when the device has two outputs, else 1 */
    int device;      /* PortAudio device index; -1: the default output */
    double latency;  /* seconds; 0: the device's default high latency (robust) */
    bool quiet;      /* capture ALSA/JACK stderr chatter into the log; default true */
} audio_player_config;

audio_player_config audio_player_config_default(void);

audio_status audio_player_open(const audio_player_config *cfg, audio_player **out, audio_err *err);
/* Stops the stream, joins the feeder, frees every slot. NULL is fine. */
void audio_player_close(audio_player *p);

/* Copies clip into slot (0 ≤ slot < AUDIO_PLAYER_SLOTS), replacing what was there.
 * Loading the slot that is playing continues at the same position in the new clip. */
audio_status audio_player_load(audio_player *p, int slot, const audio_clip *clip, audio_err *err);
void audio_player_unload(audio_player *p, int slot);

/* Plays slot from its start. */
audio_status audio_player_play(audio_player *p, int slot, audio_err *err);
void audio_player_pause(audio_player *p);  /* PLAYING → PAUSED */
void audio_player_resume(audio_player *p); /* PAUSED → PLAYING; ENDED → PLAYING from the start */
void audio_player_stop(audio_player *p);   /* → STOPPED, position 0 */
/* Moves the play position (clamped to the clip); keeps PLAYING/PAUSED, turns ENDED into PAUSED. */
audio_status audio_player_seek(audio_player *p, double seconds, audio_err *err);
/* A/B: continues from the current position in another loaded slot (clamped to its length). */
audio_status audio_player_switch(audio_player *p, int slot, audio_err *err);

/* Frames of the current clip played so far, at the player's rate (any thread). After a
 * seek/stop/switch it reads the new position at once. */
int64_t audio_player_position(const audio_player *p);
double audio_player_position_seconds(const audio_player *p);
audio_player_state audio_player_get_state(const audio_player *p);
int audio_player_slot(const audio_player *p);                   /* slot of the current clip */
int64_t audio_player_slot_frames(const audio_player *p, int slot); /* 0 when empty */
int audio_player_rate(const audio_player *p);
int audio_player_channels(const audio_player *p);
/* Callbacks that found the ring short of data while playing (should stay 0). */
int64_t audio_player_underruns(const audio_player *p);
/* "ALSA: default" etc. */
const char *audio_player_device_name(const audio_player *p);

#endif
