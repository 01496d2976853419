/* Heap.backrefs/referrers/referents/objects: why an object is alive. */
#include "bridge.h"

static PyObject *link_dict(const ph_link *k)
{
    PyObject *d = Py_BuildValue("{s:K,s:N,s:N,s:N,s:K,s:N,s:s,s:O,s:O}", "address",
                                (unsigned long long)k->address, "type", target_text(k->type),
                                "kind", target_text(k->kind), "preview", target_text(k->preview),
                                "size", (unsigned long long)k->size, "edge", target_text(k->edge),
                                "edge_kind", k->edge_kind ? k->edge_kind : "", "conservative",
                                k->conservative ? Py_True : Py_False, "weak",
                                k->weak ? Py_True : Py_False);
    if (d && k->root) {
        PyObject *r = PyUnicode_FromString(k->root);
        if (!r || PyDict_SetItemString(d, "root", r) < 0)
            Py_CLEAR(d);
        Py_XDECREF(r);
    }
    return d;
}

static PyObject *link_list(const ph_links *l)
{
    PyObject *list = PyList_New((Py_ssize_t)l->n);
    for (size_t i = 0; list && i < l->n; i++) {
        PyObject *d = link_dict(&l->items[i]);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

static PyObject *Heap_backrefs(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"address", "all", NULL};
    unsigned long long addr;
    Py_ssize_t all = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "K|n", names, &addr, &all))
        return NULL;
    if (all < 1) {
        PyErr_SetString(PyExc_ValueError, "all must be at least 1");
        return NULL;
    }
    ph_backrefs *b;
    ph_error *err = INTERRUPTIBLE(self, ph_backrefs_get(self->h, addr, (size_t)all, &b));
    if (err)
        return raise_error(err);
    PyObject *chains = PyList_New((Py_ssize_t)b->nchains);
    for (size_t i = 0; chains && i < b->nchains; i++) {
        PyObject *c = link_list(&b->chains[i]);
        if (!c) {
            Py_CLEAR(chains);
            break;
        }
        PyList_SET_ITEM(chains, (Py_ssize_t)i, c);
    }
    PyObject *target = chains ? link_dict(&b->target) : NULL;
    PyObject *refs = target ? link_list(&b->referrers) : NULL;
    PyObject *d = refs ? Py_BuildValue("{s:N,s:O,s:O,s:O,s:O,s:N,s:N}", "target", target,
                                       "reachable", b->reachable ? Py_True : Py_False, "garbage",
                                       b->garbage ? Py_True : Py_False, "held_weakly",
                                       b->held_weakly ? Py_True : Py_False, "unwalked",
                                       b->unwalked ? Py_True : Py_False, "chains", chains,
                                       "referrers", refs)
                       : NULL;
    if (!d) {
        Py_XDECREF(chains);
        Py_XDECREF(target);
        Py_XDECREF(refs);
    }
    ph_backrefs_free(b);
    return d;
}

static PyObject *edges(HeapObject *self, PyObject *args,
                       ph_error *(*get)(ph_heap *, uint64_t, ph_links **))
{
    unsigned long long addr;
    if (!PyArg_ParseTuple(args, "K", &addr))
        return NULL;
    ph_links *l;
    ph_error *err = INTERRUPTIBLE(self, get(self->h, addr, &l));
    if (err)
        return raise_error(err);
    PyObject *list = link_list(l);
    ph_links_free(l);
    return list;
}

static PyObject *Heap_referrers(HeapObject *self, PyObject *args)
{
    return edges(self, args, ph_referrers_get);
}

static PyObject *Heap_referents(HeapObject *self, PyObject *args)
{
    return edges(self, args, ph_referents_get);
}

static PyObject *Heap_referents_plain(HeapObject *self, PyObject *addresses)
{
    PyObject *seq = PySequence_Fast(addresses, "referents_plain takes a list of addresses");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = PyList_New(n);
    bridge_interrupt_begin(self->h);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        unsigned long long addr = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (PyErr_Occurred()) {
            Py_CLEAR(out);
            break;
        }
        ph_referent *r;
        size_t nr;
        ph_error *err = ph_referents_plain(self->h, addr, &r, &nr);
        PyObject *item;
        if (err && err->code == PH_ERR_ARGUMENT) {
            ph_error_free(err);
            item = Py_NewRef(Py_None);
        } else if (err) {
            Py_CLEAR(out);
            raise_error(err);
            break;
        } else {
            item = PyList_New((Py_ssize_t)nr);
            for (size_t j = 0; item && j < nr; j++) {
                PyObject *t = Py_BuildValue("(KO)", (unsigned long long)r[j].address,
                                            r[j].conservative ? Py_True : Py_False);
                if (!t)
                    Py_CLEAR(item);
                else
                    PyList_SET_ITEM(item, (Py_ssize_t)j, t);
            }
            free(r);
        }
        if (!item)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, item);
    }
    bridge_interrupt_end(self->h, NULL);
    Py_DECREF(seq);
    return out;
}

static PyObject *Heap_objects(HeapObject *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"kind", "limit", "min_size", NULL};
    const char *kind;
    Py_ssize_t limit = 0;
    unsigned long long min_size = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|nK", names, &kind, &limit, &min_size))
        return NULL;
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "limit must not be negative");
        return NULL;
    }
    ph_objects *o;
    ph_error *err = ph_objects_get(self->h, kind, min_size, (size_t)limit, &o);
    if (err)
        return raise_error(err);
    PyObject *list = link_list(&o->list);
    PyObject *d = list ? Py_BuildValue("{s:K,s:K,s:N}", "count", (unsigned long long)o->count,
                                       "size", (unsigned long long)o->size, "objects", list)
                       : NULL;
    ph_objects_free(o);
    return d;
}

static PyMethodDef methods[] = {
    {"backrefs", (PyCFunction)(void (*)(void))Heap_backrefs, METH_VARARGS | METH_KEYWORDS,
     "backrefs(address, all=1) -> dict: shortest chains from a root to the object"},
    {"referrers", (PyCFunction)Heap_referrers, METH_VARARGS,
     "referrers(address) -> [dict]: the objects and roots that refer to it, with edge labels"},
    {"referents", (PyCFunction)Heap_referents, METH_VARARGS,
     "referents(address) -> [dict]: the objects it refers to, with edge labels"},
    {"referents_plain", (PyCFunction)Heap_referents_plain, METH_O,
     "referents_plain([address]) -> [[(address, conservative)] or None]: each object's "
     "referents, unlabelled (None: no object there)"},
    {"objects", (PyCFunction)(void (*)(void))Heap_objects, METH_VARARGS | METH_KEYWORDS,
     "objects(kind, limit=None, min_size=0) -> dict: the objects of one kind or type"},
    {NULL},
};

int bridge_graph(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
