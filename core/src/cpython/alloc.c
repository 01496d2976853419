/* The allocator of the target's build, chosen once: ph_alloc_get hands a
 * free-threaded build to mimalloc (mimalloc_alloc.c), the others to
 * pymalloc (pymalloc.c).  A new allocator is one file beside them and its
 * line here. */
#include "heap/heap.h"
#include "cpython/mimalloc.h"
#include "cpython/pymalloc.h"

ph_error *ph_alloc_get(ph_heap *h, ph_alloc **out)
{
    *out = NULL;
    if (h->L && h->L->free_threaded == 1)
        return ph_mi_alloc_get(h, out); /* mimalloc, not pymalloc */
    return ph_pymalloc_alloc_get(h, out);
}
