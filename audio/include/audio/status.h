/* audio/: status codes, caller-owned error messages, and the log callback.
 *
 * Every audio_ function that can fail for a reason outside the programmer's control
 * returns an audio_status (0 ok, negative error) and, when the caller passes one, fills an
 * audio_err with a message that names the file or device and the reason. There is no
 * global last-error and nothing below main() calls exit(). Any thread may use these.
 *
 * Logging: the library reports things that are not errors of the current call (a file
 * skipped while opening a dataset, a file that vanished mid-run, PortAudio/ALSA chatter
 * captured during device set-up) through one process-wide callback. The default writes
 * "audio: <level>: <msg>" to stderr. The callback may be called from any audio thread
 * (never from the PortAudio callback), concurrently, so it must be thread-safe. */
#ifndef AUDIO_STATUS_H
#define AUDIO_STATUS_H

typedef enum audio_status {
    AUDIO_OK = 0,
    AUDIO_ERR_INVALID = -1,     /* bad argument or config value */
    AUDIO_ERR_IO = -2,          /* missing, unreadable, unwritable file; disk full */
    AUDIO_ERR_FORMAT = -3,      /* not audio, truncated, zero frames, malformed sidecar */
    AUDIO_ERR_NOMEM = -4,
    AUDIO_ERR_UNSUPPORTED = -5, /* format or option this build cannot handle */
    AUDIO_ERR_DEVICE = -6,      /* no audio device, PortAudio failure */
    AUDIO_ERR_EMPTY = -7,       /* a dataset with no usable audio; every item silent */
    AUDIO_ERR_CANCELLED = -8,   /* the object is shutting down */
    AUDIO_ERR_INTERNAL = -9,
} audio_status;

typedef struct audio_err {
    int code;       /* an audio_status */
    char msg[512];  /* NUL-terminated, "" when code == AUDIO_OK */
} audio_err;

/* "ok", "invalid argument", "I/O error", … Static strings. */
const char *audio_status_str(int status);
void audio_err_clear(audio_err *err);

typedef enum audio_log_level {
    AUDIO_LOG_DEBUG = 0,
    AUDIO_LOG_INFO = 1,
    AUDIO_LOG_WARN = 2,
    AUDIO_LOG_ERROR = 3,
} audio_log_level;

/* msg is a single line without trailing newline, valid only during the call. */
typedef void (*audio_log_fn)(audio_log_level level, const char *msg, void *user);

/* Installs fn (NULL restores the stderr default). Thread-safe; takes effect for messages
 * logged after it returns. Messages below min_level are dropped before formatting
 * (default AUDIO_LOG_INFO). */
void audio_log_set(audio_log_fn fn, void *user);
void audio_log_set_level(audio_log_level min_level);

#endif
