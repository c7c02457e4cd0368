/* Until the config layer lands: the one lookup the models need. */
#include <string.h>

#include "engine/config.h"

int ds_conditioning_find(const ds_conditioning_config *c, const char *id) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->c[i].id, id) == 0) return i;
    return -1;
}
