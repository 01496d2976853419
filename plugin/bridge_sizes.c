/* Heap.sizes and Heap.dominators: an object's flat, deep and retained sizes,
 * and the dominator tree. */
#include "bridge.h"

static PyObject *kind_rows(const ph_kind_total *k, size_t n)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *t = Py_BuildValue("{s:N,s:K,s:K}", "kind", target_text(k[i].kind), "count",
                                    (unsigned long long)k[i].count, "size",
                                    (unsigned long long)k[i].size);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyObject *Heap_sizes(HeapObject *self, PyObject *args)
{
    unsigned long long addr;
    if (!PyArg_ParseTuple(args, "K", &addr))
        return NULL;
    ph_sizes *s;
    ph_error *err = INTERRUPTIBLE(self, ph_sizes_get(self->h, addr, &s));
    if (err)
        return raise_error(err);
    PyObject *d = Py_BuildValue(
        "{s:K,s:N,s:N,s:N,s:K,s:K,s:K,s:K,s:K,s:O,s:O,s:N}", "address",
        (unsigned long long)s->address, "type", target_text(s->type), "kind", target_text(s->kind),
        "preview", target_text(s->preview), "flat", (unsigned long long)s->flat, "deep",
        (unsigned long long)s->deep, "deep_count", (unsigned long long)s->deep_count, "retained",
        (unsigned long long)s->retained, "retained_count", (unsigned long long)s->retained_count,
        "reachable", s->reachable ? Py_True : Py_False, "estimate",
        s->estimate ? Py_True : Py_False, "kinds", kind_rows(s->kinds, s->nkinds));
    ph_sizes_free(s);
    return d;
}

static PyObject *Heap_dominators(HeapObject *self, PyObject *args)
{
    unsigned long long addr;
    unsigned depth;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "KIn", &addr, &depth, &limit))
        return NULL;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "limit must be at least 1");
        return NULL;
    }
    ph_dominated_list *l;
    ph_error *err = INTERRUPTIBLE(self, ph_dominators(self->h, addr, depth, (size_t)limit, &l));
    if (err)
        return raise_error(err);
    PyObject *items = PyList_New((Py_ssize_t)l->n);
    for (size_t i = 0; items && i < l->n; i++) {
        const ph_dominated *it = &l->items[i];
        PyObject *t = Py_BuildValue(
            "{s:K,s:N,s:N,s:N,s:K,s:K,s:K,s:I,s:K}", "address", (unsigned long long)it->address,
            "type", target_text(it->type), "kind", target_text(it->kind), "preview",
            target_text(it->preview), "flat", (unsigned long long)it->flat, "retained",
            (unsigned long long)it->retained, "retained_count",
            (unsigned long long)it->retained_count, "depth", it->depth, "child_count",
            (unsigned long long)it->child_count);
        if (!t) {
            Py_CLEAR(items);
            break;
        }
        PyList_SET_ITEM(items, (Py_ssize_t)i, t);
    }
    PyObject *d = items ? Py_BuildValue("{s:K,s:K,s:K,s:N}", "retained", (unsigned long long)l->retained,
                                        "retained_count", (unsigned long long)l->retained_count,
                                        "child_count", (unsigned long long)l->child_count,
                                        "children", items)
                        : NULL;
    ph_dominated_list_free(l);
    return d;
}

static PyMethodDef methods[] = {
    {"sizes", (PyCFunction)Heap_sizes, METH_VARARGS,
     "sizes(address) -> dict: flat, deep, retained and the deep set by kind"},
    {"dominators", (PyCFunction)Heap_dominators, METH_VARARGS,
     "dominators(address or 0, depth, limit) -> dict: the dominator tree below it"},
    {NULL},
};

int bridge_sizes(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
