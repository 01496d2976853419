/* Heap.alloc(): pymalloc's arenas, pools and blocks. */
#include "bridge.h"

PyObject *Heap_alloc(HeapObject *self, PyObject *unused)
{
    PyErr_SetString(PyExc_NotImplementedError, "the allocator walk is not written yet");
    return NULL;
}
