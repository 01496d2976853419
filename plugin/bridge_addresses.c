/* Heap.addresses(): every indexed object as (address, type, flags). */
#include "bridge.h"

static PyObject *Heap_addresses(HeapObject *self, PyObject *unused)
{
    (void)unused;
    size_t n = ph_heap_count(self->h);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        ph_indexed o;
        if (!ph_heap_object_at(self->h, i, &o)) {
            Py_CLEAR(list);
            PyErr_SetString(PyExc_RuntimeError, "index changed while listed");
            break;
        }
        int flags = (o.from_roots ? 1 : 0) | (o.gc_listed ? 2 : 0) | (o.held ? 4 : 0) |
                    (o.conservative ? 8 : 0);
        PyObject *t = Py_BuildValue("(KNi)", (unsigned long long)o.address, target_text(o.type), flags);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyMethodDef methods[] = {
    {"addresses", (PyCFunction)Heap_addresses, METH_NOARGS,
     "addresses() -> [(address, type, flags)]: every indexed object; flags: 1 from the roots, "
     "2 on a GC list, 4 held from outside, 8 found only by a conservative scan"},
    {NULL},
};

int bridge_addresses(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
