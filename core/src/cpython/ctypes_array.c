/* array.array (Modules/arraymodule.c): its items are raw C numbers in a
 * buffer outside the object; it holds no object references.
 *
 *     arrayobject: PyVarObject (ob_size 16), ob_item 24 (the buffer),
 *     allocated 32, ob_descr 40 (a static struct arraydescr: typecode at
 *     0, int itemsize at 4), weakreflist 48, ob_exports 56; basicsize 64.
 *
 * The same offsets in 3.8 to 3.13 (DWARF of each build); a static type in
 * 3.8 and 3.9, a heap type from 3.10.  array_sizeof: basicsize +
 * allocated * ob_descr->itemsize. */
#include "cpython/ctypes.h"

#define ARRAY_ALLOCATED 32
#define ARRAY_DESCR 40
#define DESCR_ITEMSIZE 4

static bool array_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int64_t allocated;
    uint64_t descr;
    int32_t itemsize;
    if (!ph_read_i64(h->r, addr + ARRAY_ALLOCATED, &allocated) ||
        !ph_read_u64(h->r, addr + ARRAY_DESCR, &descr) || !ph_ptr_ok(descr) ||
        !ph_read(h->r, descr + DESCR_ITEMSIZE, &itemsize, 4) || allocated < 0 ||
        (uint64_t)allocated >= MAX_CONTAINER_LEN || itemsize < 1 || itemsize > 8)
        return false;
    *size = (uint64_t)t->basicsize + (uint64_t)allocated * (uint64_t)itemsize;
    return true;
}

const ph_ctype ph_ctypes_array[] = {
    {"array.array", 64, NULL, array_size},
    {NULL, 0, NULL, NULL},
};
