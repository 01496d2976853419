/* Heap.backrefs/referrers/referents/objects: why an object is alive. */
#include "bridge.h"

static PyObject *todo(void)
{
    PyErr_SetString(PyExc_NotImplementedError, "not written yet");
    return NULL;
}

PyObject *Heap_backrefs(HeapObject *self, PyObject *args, PyObject *kw) { return todo(); }
PyObject *Heap_referrers(HeapObject *self, PyObject *args) { return todo(); }
PyObject *Heap_referents(HeapObject *self, PyObject *args) { return todo(); }
PyObject *Heap_objects(HeapObject *self, PyObject *args, PyObject *kw) { return todo(); }
