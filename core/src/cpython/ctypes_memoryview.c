/* memoryview and its managed buffer (Objects/memoryobject.c; offsets from
 * the DWARF of each build, the same 3.8 to 3.14):
 *
 *     memoryview (PyMemoryViewObject, a PyVarObject): mbuf 24 (a
 *       managedbuffer), hash 32, flags 40, exports 48, view 56 (a
 *       Py_buffer: buf 56, obj 64, ...), weakreflist 136, ob_array 144
 *       (3 * ndim Py_ssize_t: shape, strides, suboffsets; itemsize 8);
 *       struct size 152, tp_basicsize 144 (offsetof ob_array)
 *     managedbuffer (_PyManagedBufferObject): flags 16, exports 24, master
 *       32 (a Py_buffer: master.obj 40, the exporter); basicsize 112
 *
 * A memoryview's view.obj is a borrowed copy of its managed buffer's
 * master.obj (init_shared_values): the only strong reference is mbuf,
 * which alone its tp_traverse visits; the exporter is the managed
 * buffer's referent.  No __sizeof__: basicsize plus the items. */
#include "cpython/ctypes.h"

static void memoryview_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                                 void *payload)
{
    (void)t;
    uint64_t p;
    if (ph_read_u64(h->r, addr + 24, &p))
        ph_ctype_field(h, p, "<mbuf>", visit, payload);
}

static void mbuf_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                           void *payload)
{
    (void)t;
    uint64_t p;
    if (ph_read_u64(h->r, addr + 40, &p))
        ph_ctype_field(h, p, ".obj", visit, payload);
}

const ph_ctype ph_ctypes_memoryview[] = {
    {"memoryview", 144, memoryview_referents, NULL},
    {"managedbuffer", 112, mbuf_referents, NULL},
    {NULL, 0, NULL, NULL},
};
