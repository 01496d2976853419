/* Every object of the index, one by one: the object-for-object test
 * (tests/integration/test_exact.py) compares them with what the target's
 * interpreter reaches itself. */
#include "heap/heap.h"

size_t ph_heap_count(const ph_heap *h)
{
    return h->idx.n;
}

bool ph_heap_object_at(const ph_heap *h, size_t id, ph_indexed *out)
{
    if (id >= h->idx.n)
        return false;
    out->address = h->idx.addr[id];
    out->type = h->types[h->idx.type[id]].name;
    uint8_t f = h->idx.flags[id];
    out->from_roots = f & OBJ_FROM_ROOTS;
    out->gc_listed = f & OBJ_GC_LISTED;
    out->held = f & OBJ_ALIVE;
    out->conservative = f & OBJ_CONSERVATIVE;
    return true;
}
