/* Logging. The engine never prints: it hands each line to a callback. The default
 * callback writes to stderr; the studio installs one that queues lines for its log pane.
 * The callback may be called from any engine thread; it must be thread-safe. */
#ifndef DS_LOG_H
#define DS_LOG_H

typedef enum ds_log_level { DS_LOG_DEBUG, DS_LOG_INFO, DS_LOG_WARN, DS_LOG_ERROR } ds_log_level;

typedef void (*ds_log_fn)(ds_log_level level, const char *line, void *user);

/* Installs cb (NULL restores the stderr default). Not thread-safe against concurrent logging:
 * call it before starting workers. */
void ds_log_set(ds_log_fn cb, void *user);
void ds_log_set_level(ds_log_level min_level);
void ds_log(ds_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs hook before the engine aborts on a broken invariant (DS_ASSERT), from the thread
 * that failed: the studio restores the terminal there so the message that follows is
 * readable. The hook must be async-signal-safe in spirit (no locks, no allocation). NULL
 * removes it. (Also declared in engine/src/core/assert.h, where ds_abort calls it.) */
void ds_set_abort_hook(void (*hook)(void));

#define DS_DEBUG(...) ds_log(DS_LOG_DEBUG, __VA_ARGS__)
#define DS_INFO(...) ds_log(DS_LOG_INFO, __VA_ARGS__)
#define DS_WARN(...) ds_log(DS_LOG_WARN, __VA_ARGS__)
#define DS_ERROR(...) ds_log(DS_LOG_ERROR, __VA_ARGS__)

#endif
