/* Where a step's time goes, op by op (`diffstudio bench --profile`).
 *
 * Marks split the work into intervals, and each interval is charged to the mark that ends
 * it: the tape marks every op after its forward is issued (ds_record) and after its backward
 * (ds_backward), callers mark their own phases ("inputs", "optimizer"). An op's time thus
 * includes whatever was issued since the previous mark (helpers that record nothing). On the
 * CPU the clock is read at each mark (ops are synchronous); on a device with timing events
 * the marks are events on its stream, resolved at ds_prof_end. A device step profiled this
 * way runs eagerly (no CUDA graph). Off unless begun: a mark is then one branch. One profile
 * at a time, marked from the thread that issues the ops. */
#ifndef DS_PROF_H
#define DS_PROF_H

#include <stdbool.h>

#include "engine/status.h"

struct ds_device;

typedef struct ds_prof_row {
    const char *name;
    double fwd_ms, bwd_ms;
    int fwd_calls, bwd_calls;
} ds_prof_row;

/* Starts a profile (dev NULL: the CPU). */
ds_status ds_prof_begin(struct ds_device *dev, ds_err *err);
bool ds_prof_active(void);
/* Ends the interval since the previous mark, charging it to `name` (a string that outlives
 * the profile: a literal), forward or backward. */
void ds_prof_mark(const char *name, bool backward);
/* Stops marking and resolves the times (waits for the device). */
ds_status ds_prof_end(ds_err *err);
/* The profile by name, largest total first; returns the number of rows (at most max). */
int ds_prof_rows(ds_prof_row *rows, int max);
/* Milliseconds from ds_prof_begin to the last mark, and the number of marks dropped when
 * the profile was full. */
double ds_prof_total_ms(void);
int ds_prof_dropped(void);

#endif
