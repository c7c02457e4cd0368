/* Always-on assertions for programmer errors (broken invariants, impossible shapes).
 * Runtime failures (bad files, NaN, OOM at start-up) are ds_status returns instead.
 * Before abort() the registered hook runs, so the studio can restore the terminal. */
#ifndef DS_ASSERT_H
#define DS_ASSERT_H

void ds_set_abort_hook(void (*hook)(void));
_Noreturn void ds_abort(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define DS_ASSERT(cond)                                                                      \
    do {                                                                                     \
        if (!(cond)) ds_abort(__FILE__, __LINE__, "assertion failed: %s", #cond);            \
    } while (0)
#define DS_ASSERTF(cond, ...)                                                                \
    do {                                                                                     \
        if (!(cond)) ds_abort(__FILE__, __LINE__, __VA_ARGS__);                              \
    } while (0)

#endif
