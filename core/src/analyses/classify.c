/* heapy's "class / dict of class": an exact dict that is some object's
 * __dict__ is "dict of <owner's kind>"; any other exact dict is
 * "dict (no owner)"; everything else is its type. */
#include "heap/heap.h"
#include "analyses/classify.h"

#include <stdio.h>

bool ph_heap_object(const ph_heap *h, uint64_t address, ph_object *out)
{
    uint32_t id = ph_index_find(&h->idx, address);
    if (id == PH_NO_OBJ)
        return false;
    const ph_type *t = &h->types[h->idx.type[id]];
    out->address = address;
    out->type = t->name;
    const char *kind = ph_kind_of(h, id, out->kind, sizeof(out->kind));
    if (kind != out->kind)
        snprintf(out->kind, sizeof(out->kind), "%s", kind);
    out->size = ph_index_size(&h->idx, id);
    out->estimate = t->estimate;
    out->reachable = h->idx.flags[id] & OBJ_FROM_ROOTS;
    out->conservative = h->idx.flags[id] & OBJ_CONSERVATIVE;
    return true;
}

const char *ph_kind_of(const ph_heap *h, uint32_t id, char *buf, size_t cap)
{
    const ph_type *t = &h->types[h->idx.type[id]];
    if (!ph_type_is_exact_dict(t))
        return t->name;
    uint32_t owner = h->idx.owner[id];
    if (!owner)
        return "dict (no owner)";
    snprintf(buf, cap, "dict of %s", h->types[owner - 1].name);
    return buf;
}
