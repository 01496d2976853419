/* Heap.leaks(): what is allocated but unreachable. */
#include "bridge.h"

static PyObject *group_dict(const ph_leak_group *g)
{
    PyObject *rows = PyList_New((Py_ssize_t)g->nrows);
    for (size_t i = 0; rows && i < g->nrows; i++) {
        const ph_leak_row *r = &g->rows[i];
        PyObject *samples = PyList_New(0);
        for (int s = 0; samples && s < PH_LEAK_SAMPLES && r->samples[s]; s++) {
            PyObject *a = PyLong_FromUnsignedLongLong(r->samples[s]);
            if (!a || PyList_Append(samples, a) < 0)
                Py_CLEAR(samples);
            Py_XDECREF(a);
        }
        PyObject *d = samples ? Py_BuildValue("{s:N,s:K,s:K,s:N}", "kind", target_text(r->kind),
                                              "count", (unsigned long long)r->count, "size",
                                              (unsigned long long)r->size, "samples", samples)
                              : NULL;
        if (!d) {
            Py_CLEAR(rows);
            break;
        }
        PyList_SET_ITEM(rows, (Py_ssize_t)i, d);
    }
    return rows ? Py_BuildValue("{s:K,s:K,s:N}", "count", (unsigned long long)g->count, "size",
                                (unsigned long long)g->size, "rows", rows)
                : NULL;
}

PyObject *Heap_leaks(HeapObject *self, PyObject *unused)
{
    ph_leaks *l;
    build_payload bp = {NULL};
    ph_heap_set_interrupt(self->h, build_interrupt, &bp);
    ph_error *err = ph_leaks_get(self->h, &l);
    ph_heap_set_interrupt(self->h, NULL, NULL);
    if (err)
        return raise_error(err);
    PyObject *d = Py_BuildValue("{s:N,s:N,s:N,s:O,s:s,s:K,s:K,s:K}", "leaked", group_dict(&l->leaked),
                                "kept", group_dict(&l->kept), "garbage", group_dict(&l->garbage),
                                "allocator", l->allocator ? Py_True : Py_False, "allocator_note",
                                l->allocator_note, "blocks", (unsigned long long)l->blocks,
                                "found_outside", (unsigned long long)l->found_outside,
                                "leaked_outside", (unsigned long long)l->outside);
    ph_leaks_free(l);
    return d;
}
