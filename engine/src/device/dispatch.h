/* Op dispatch: the one branch each op wrapper (ops/) takes between its CPU kernel and the
 * device's op table (device/backend.h). NULL means: run the CPU kernel (no device, or the
 * CPU stand-in, whose memory the CPU kernels can address). */
#ifndef DS_DISPATCH_H
#define DS_DISPATCH_H

#include "device/device.h"
#include "tensor/tensor.h"

static inline const ds_dev_ops *ds_ops_of(const ds_ctx *c) { return c->dev ? c->dev->ops : NULL; }
static inline const ds_dev_ops *ds_ops_rec(const ds_rec *r) { return r->dev ? r->dev->ops : NULL; }
/* The gradient buffer of an input that wants one, else NULL. */
static inline float *ds_grad_or_null(const ds_tensor *t) { return t && t->requires_grad ? t->grad : NULL; }

#endif
