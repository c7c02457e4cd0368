/* TensorBoard event files (what SAT's loggers show in a browser): TFRecord framing of
 * protobuf `Event` messages with scalar summaries. Written by hand because it is 100
 * lines: records are [u64 len][u32 masked_crc32c(len)][data][u32 masked_crc32c(data)];
 * Event{1: wall_time double, 2: step int64, 3: file_version string, 5: summary}, Summary
 * {1: repeated Value{1: tag string, 2: simple_value float}}. */
#ifndef DS_TBEVENTS_H
#define DS_TBEVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "engine/status.h"

typedef struct ds_tb {
    FILE *f;
    char path[4096];
    unsigned char *pend; /* records of the current step, written by ds_tb_flush */
    size_t npend, cap;
} ds_tb;

/* Creates dir/events.out.tfevents.<time>.diffstudio and writes the version record. */
ds_status ds_tb_open(ds_tb *tb, const char *dir, ds_err *err);
/* Queues a scalar; ds_tb_flush appends the queued records whole or not at all (a full disk
 * drops them and leaves the file readable). */
ds_status ds_tb_scalar(ds_tb *tb, const char *tag, int64_t step, double wall_time, float value);
ds_status ds_tb_flush(ds_tb *tb, ds_err *err);
void ds_tb_close(ds_tb *tb);

uint32_t ds_crc32c(const void *data, size_t n);
uint32_t ds_tb_masked_crc(const void *data, size_t n);

#endif
