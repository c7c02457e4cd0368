/* Internals shared by train/trainer.c (the CPU step) and train/trainer_dev.c (the device
 * step). Not part of the trainer's API. */
#ifndef DS_TRAINER_IMPL_H
#define DS_TRAINER_IMPL_H

#include "train/trainer.h"

/* One micro-batch: inputs, forward on the tape, loss, backward. The loss value goes to
 * *loss_out on the CPU; its tensor to *loss_t (may be NULL) everywhere. With ctx.replay set
 * it only computes the host values into staging (a captured graph does the rest). */
ds_status ds_trainer_micro_step(ds_trainer *tr, const ds_batch *b, int micro, const ds_step_override *ov,
                                ds_step_stats *st, double *loss_out, ds_tensor **loss_t, ds_err *err);
ds_status ds_trainer_step_dev(ds_trainer *tr, const ds_batch *batches, const ds_step_override *ov, ds_step_stats *st,
                              ds_err *err);
void ds_trainer_dev_free(ds_trainer *tr);

#endif
