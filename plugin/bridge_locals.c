/* Heap.frame_locals: a frame's local variables (threads --locals). */
#include "bridge.h"

static PyObject *Heap_frame_locals(HeapObject *self, PyObject *args)
{
    unsigned long long frame;
    if (!PyArg_ParseTuple(args, "K", &frame))
        return NULL;
    ph_frame_locals_list *l;
    ph_error *err = ph_frame_locals(self->h, frame, &l);
    if (err)
        return raise_error(err);
    PyObject *list = PyList_New((Py_ssize_t)l->n);
    for (size_t i = 0; list && i < l->n; i++) {
        PyObject *t = Py_BuildValue("{s:N,s:K}", "name", target_text(l->items[i].name), "address",
                                    (unsigned long long)l->items[i].address);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    ph_frame_locals_free(l);
    return list;
}

static PyMethodDef methods[] = {
    {"frame_locals", (PyCFunction)Heap_frame_locals, METH_VARARGS,
     "frame_locals(frame address) -> [dict]: name and address of each local that holds an object"},
    {NULL},
};

int bridge_locals(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
