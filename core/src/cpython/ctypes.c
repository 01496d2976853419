/* The registry of C types known exactly (see ctypes.h). */
#include "cpython/ctypes.h"

#include <string.h>

static const ph_ctype *const tables[] = {ph_ctypes_collections, ph_ctypes_array, ph_ctypes_io,
                                         ph_ctypes_functools, ph_ctypes_315,
                                         ph_ctypes_queue, ph_ctypes_pickle,
                                         ph_ctypes_itertools, ph_ctypes_struct,
                                         ph_ctypes_datetime, ph_ctypes_sqlite,
                                         ph_ctypes_capsule};

const ph_ctype *ph_ctype_find(const ph_heap *h, const char *name, int64_t basicsize)
{
    (void)h; /* offsets are the default build's: see ph_default_header_view */
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        for (const ph_ctype *c = tables[i]; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return basicsize >= c->min_basicsize ? c : NULL;
    return NULL;
}

uint32_t ph_ctype_field(ph_heap *h, uint64_t p, const char *name, ph_visit_fn *visit,
                        void *payload)
{
    if (!p)
        return PH_NO_OBJ;
    PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    return visit(h, p, payload);
}
