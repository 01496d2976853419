/* heapy's "class / dict of class": an exact dict that is some object's
 * __dict__ is "dict of <owner's kind>"; any other exact dict is
 * "dict (no owner)"; everything else is its type. */
#include "heap.h"

#include <stdio.h>

const char *ph_kind_of(const ph_heap *h, uint32_t id, char *buf, size_t cap)
{
    const ph_type *t = &h->types[h->idx.type[id]];
    if (t->shape != SHAPE_DICT || t->heap)
        return t->name;
    uint32_t owner = h->idx.owner[id];
    if (!owner)
        return "dict (no owner)";
    snprintf(buf, cap, "dict of %s", h->types[owner - 1].name);
    return buf;
}
