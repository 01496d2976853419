/* Heap.leaks(): what is allocated but unreachable. */
#include "bridge.h"

/* Adds "addresses" to each row of the group dict: every object's address. */
static int add_addresses(PyObject *gd, const ph_leaks *l, uint8_t group)
{
    PyObject *rows = PyDict_GetItemString(gd, "rows"); /* borrowed */
    if (!rows)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(rows);
    for (Py_ssize_t r = 0; r < n; r++) {
        PyObject *lst = PyList_New(0);
        if (!lst || PyDict_SetItemString(PyList_GET_ITEM(rows, r), "addresses", lst) < 0) {
            Py_XDECREF(lst);
            return -1;
        }
        Py_DECREF(lst);
    }
    for (size_t i = 0; i < l->nobjects; i++) {
        const ph_leak_object *o = &l->objects[i];
        if (o->group != group || (Py_ssize_t)o->row >= n)
            continue;
        PyObject *lst = PyDict_GetItemString(PyList_GET_ITEM(rows, o->row), "addresses");
        PyObject *a = PyLong_FromUnsignedLongLong(o->address);
        if (!a || PyList_Append(lst, a) < 0) {
            Py_XDECREF(a);
            return -1;
        }
        Py_DECREF(a);
    }
    return 0;
}

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

/* [{"address", "size", "type", "global", "where"}]: the objects C globals hold. */
static PyObject *held_list(const ph_leaks *l)
{
    PyObject *lst = PyList_New((Py_ssize_t)l->nheld_c);
    for (size_t i = 0; lst && i < l->nheld_c; i++) {
        const ph_leak_held *o = &l->held_c[i];
        PyObject *d = Py_BuildValue("{s:K,s:K,s:N,s:K,s:s}", "address", (unsigned long long)o->address,
                                    "size", (unsigned long long)o->size, "type",
                                    target_text(o->type), "global", (unsigned long long)o->word,
                                    "where", o->where);
        if (!d)
            Py_CLEAR(lst);
        else
            PyList_SET_ITEM(lst, (Py_ssize_t)i, d);
    }
    return lst;
}

static PyObject *Heap_leaks(HeapObject *self, PyObject *args)
{
    int addresses = 0;
    if (!PyArg_ParseTuple(args, "|p", &addresses))
        return NULL;
    ph_leaks *l;
    ph_error *err = INTERRUPTIBLE(self, ph_leaks_get(self->h, &l));
    if (err)
        return raise_error(err);
    PyObject *d = Py_BuildValue("{s:N,s:N,s:N,s:O,s:s,s:K,s:K,s:K,s:K}", "leaked", group_dict(&l->leaked),
                                "kept", group_dict(&l->kept), "garbage", group_dict(&l->garbage),
                                "allocator", l->allocator ? Py_True : Py_False, "allocator_note",
                                l->allocator_note, "blocks", (unsigned long long)l->blocks,
                                "found_outside", (unsigned long long)l->found_outside,
                                "leaked_outside", (unsigned long long)l->outside,
                                "static_objects", (unsigned long long)l->static_objects);
    PyObject *held = d ? held_list(l) : NULL;
    if (d && (!held || PyDict_SetItemString(d, "held_by_c", held) < 0))
        Py_CLEAR(d);
    Py_XDECREF(held);
    static const char *const names[] = {"garbage", "leaked", "kept"};
    for (uint8_t g = 0; d && addresses && g < 3; g++)
        if (add_addresses(PyDict_GetItemString(d, names[g]), l, g) < 0)
            Py_CLEAR(d);
    ph_leaks_free(l);
    return d;
}

static PyMethodDef methods[] = {
    {"leaks", (PyCFunction)Heap_leaks, METH_VARARGS,
     "leaks(addresses=False) -> dict: unreachable objects: leaked, kept by leaked ones, cyclic "
     "garbage; with addresses, every object's address in its row"},
    {NULL},
};

int bridge_leaks(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
