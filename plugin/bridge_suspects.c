/* Heap.suspects and Heap.owners: leak suspects and retainer paths. */
#include "bridge.h"

static PyObject *held_list(const ph_held *held, size_t n)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *d = Py_BuildValue("{s:N,s:K,s:K}", "kind", target_text(held[i].kind), "count",
                                    (unsigned long long)held[i].count, "size",
                                    (unsigned long long)held[i].size);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

static PyObject *owner_list(const ph_suspect *s)
{
    PyObject *list = PyList_New((Py_ssize_t)s->nowners);
    for (size_t i = 0; list && i < s->nowners; i++) {
        const ph_suspect_owner *o = &s->owners[i];
        PyObject *d = Py_BuildValue("{s:N,s:N,s:K,s:K,s:K,s:K}", "path", target_text(o->path), "kind",
                                    target_text(o->kind), "address", (unsigned long long)o->address,
                                    "owners", (unsigned long long)o->owners, "count",
                                    (unsigned long long)o->count, "size", (unsigned long long)o->size);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

static PyObject *suspect_dict(const ph_suspect *s)
{
    PyObject *held = held_list(s->held, s->nheld);
    if (!held)
        return NULL;
    if (s->group) {
        PyObject *owners = owner_list(s);
        if (!owners) {
            Py_DECREF(held);
            return NULL;
        }
        return Py_BuildValue("{s:s,s:N,s:K,s:K,s:K,s:N,s:K,s:N}", "what", "kind", "kind",
                             target_text(s->kind), "retained", (unsigned long long)s->retained,
                             "retained_count", (unsigned long long)s->retained_count, "objects",
                             (unsigned long long)s->objects, "held", held, "all_owners",
                             (unsigned long long)s->all_owners, "owners", owners);
    }
    const ph_suspect_point *p = &s->point;
    PyObject *point = Py_BuildValue("{s:K,s:N,s:N,s:K,s:K,s:K,s:N}", "address",
                                    (unsigned long long)p->address, "kind", target_text(p->kind),
                                    "preview", target_text(p->preview), "retained",
                                    (unsigned long long)p->retained, "retained_count",
                                    (unsigned long long)p->retained_count, "children",
                                    (unsigned long long)p->children, "path", target_text(p->path));
    if (!point) {
        Py_DECREF(held);
        return NULL;
    }
    return Py_BuildValue("{s:s,s:K,s:N,s:N,s:K,s:K,s:N,s:N,s:N}", "what", "object", "address",
                         (unsigned long long)s->address, "kind", target_text(s->kind), "preview",
                         target_text(s->preview), "retained", (unsigned long long)s->retained,
                         "retained_count", (unsigned long long)s->retained_count, "path",
                         target_text(s->path), "point", point, "held", held);
}

static PyObject *Heap_suspects(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"min", "limit", NULL};
    double min = 10.0;
    Py_ssize_t limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|dn", names, &min, &limit))
        return NULL;
    if (!(min > 0 && min <= 100) || limit < 0) {
        PyErr_SetString(PyExc_ValueError, "min must be a percentage above 0 and at most 100, "
                                          "limit not negative");
        return NULL;
    }
    ph_suspects *s;
    ph_error *err = INTERRUPTIBLE(self, ph_suspects_get(self->h, min / 100.0, (size_t)limit, &s));
    if (err)
        return raise_error(err);
    PyObject *list = PyList_New((Py_ssize_t)s->n);
    for (size_t i = 0; list && i < s->n; i++) {
        PyObject *d = suspect_dict(&s->items[i]);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    PyObject *d = list ? Py_BuildValue("{s:K,s:K,s:d,s:N}", "total", (unsigned long long)s->total,
                                       "threshold", (unsigned long long)s->threshold, "min", min,
                                       "suspects", list)
                       : NULL;
    ph_suspects_free(s);
    return d;
}

static PyObject *Heap_owners(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"min_retained", "max_nodes", NULL};
    unsigned long long min_retained = 65536;
    Py_ssize_t max_nodes = 10000;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Kn", names, &min_retained, &max_nodes))
        return NULL;
    if (max_nodes < 1) {
        PyErr_SetString(PyExc_ValueError, "max_nodes must be at least 1");
        return NULL;
    }
    ph_owners *o;
    ph_error *err = INTERRUPTIBLE(self, ph_owners_get(self->h, min_retained, (size_t)max_nodes, &o));
    if (err)
        return raise_error(err);
    PyObject *list = PyList_New((Py_ssize_t)o->n);
    for (size_t i = 0; list && i < o->n; i++) {
        const ph_owner_path *p = &o->items[i];
        PyObject *held = held_list(p->held, p->nheld);
        PyObject *d = held ? Py_BuildValue("{s:N,s:K,s:K,s:K,s:K,s:N}", "path", target_text(p->path),
                                           "address", (unsigned long long)p->address, "retained",
                                           (unsigned long long)p->retained, "retained_count",
                                           (unsigned long long)p->retained_count, "nodes",
                                           (unsigned long long)p->nodes, "held", held)
                           : NULL;
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    PyObject *d = list ? Py_BuildValue("{s:K,s:K,s:K,s:N}", "total", (unsigned long long)o->total,
                                       "min_retained", (unsigned long long)o->min_retained,
                                       "candidates", (unsigned long long)o->candidates, "paths", list)
                       : NULL;
    ph_owners_free(o);
    return d;
}

static PyMethodDef methods[] = {
    {"suspects", (PyCFunction)(void (*)(void))Heap_suspects, METH_VARARGS | METH_KEYWORDS,
     "suspects(min=10.0, limit=0) -> dict: MAT's leak suspects from the dominator tree"},
    {"owners", (PyCFunction)(void (*)(void))Heap_owners, METH_VARARGS | METH_KEYWORDS,
     "owners(min_retained=65536, max_nodes=10000) -> dict: retainer paths of big dominators"},
    {NULL},
};

int bridge_suspects(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
