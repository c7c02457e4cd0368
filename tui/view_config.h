/* Config screen internals shared by view_config.c (drawing, navigation) and
 * view_config_edit.c (editing). Main thread only. */
#ifndef UI_VIEW_CONFIG_H
#define UI_VIEW_CONFIG_H

#include <stdbool.h>

#include "app.h"

cfg_doc *cfgv_doc(app *a);                 /* the document shown, or NULL */
const cfg_row *cfgv_selected(app *a);      /* the selected row, or NULL */
int cfgv_folded(view_config *v, const char *path);
void cfgv_set_fold(app *a, const char *path, bool fold);

void cfgv_after_edit(app *a, ds_status s, const ds_err *err, const char *what);
void cfgv_edit_row(app *a, const cfg_row *row, bool raw);
void cfgv_add_key(app *a, const cfg_row *row);
void cfgv_delete_row(app *a, const cfg_row *row);
void cfgv_save(app *a, const char *path);

#endif
