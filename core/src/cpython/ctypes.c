/* What every description of a C type uses: its object fields visited,
 * labelled (see ctypes.h; the registry is ctypes_registry.c). */
#include "cpython/ctypes.h"

uint32_t ph_ctype_field(ph_heap *h, uint64_t p, const char *name, ph_visit_fn *visit,
                        void *payload)
{
    if (!p)
        return PH_NO_OBJ;
    PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    return visit(h, p, payload);
}

void ph_ctype_fields(ph_heap *h, uint64_t addr, const ph_cfield *fields, ph_visit_fn *visit,
                     void *payload)
{
    for (const ph_cfield *f = fields; f->name; f++) {
        uint64_t p;
        if (ph_read_u64(h->r, addr + f->off, &p))
            ph_ctype_field(h, p, f->name, visit, payload);
    }
}

const ph_cfield ph_cfields_none[] = {{0, NULL}};
