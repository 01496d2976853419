/* Heap: one walk of a target, built once (build); what it says of itself
 * (info, object, resolve); the interruption of the long calls; text that
 * came from the target. */
#include "bridge.h"

#include <string.h>

/* Text that came from the target: a corrupt name must not fail the command. */
PyObject *target_text(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

bool build_interrupt(uint64_t objects, uint64_t bytes_read, void *payload)
{
    build_payload *bp = payload;
    if (PyErr_CheckSignals() < 0)
        return true;
    if (bp->progress) {
        PyObject *res = PyObject_CallFunction(bp->progress, "KK", (unsigned long long)objects,
                                              (unsigned long long)bytes_read);
        if (!res)
            return true;
        bool stop = PyObject_IsTrue(res) == 1;
        Py_DECREF(res);
        return stop;
    }
    return false;
}

static build_payload no_progress = {NULL};

void bridge_interrupt_begin(ph_heap *h)
{
    ph_heap_set_interrupt(h, build_interrupt, &no_progress);
}

ph_error *bridge_interrupt_end(ph_heap *h, ph_error *err)
{
    ph_heap_set_interrupt(h, NULL, NULL);
    return err;
}

static void Heap_dealloc(HeapObject *self)
{
    ph_heap_free(self->h);
    Py_XDECREF(self->reader);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Heap_info(HeapObject *self, PyObject *unused)
{
    ph_heap_info i;
    ph_heap_info_get(self->h, &i);
    PyObject *v = bridge_version_dict(&i.version);
    if (!v)
        return NULL;
    PyObject *d = Py_BuildValue(
        "{s:N,s:s,s:O,s:i,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:O,s:d,s:d,s:K,s:K,s:K,s:d,s:K}", "python", v,
        "layout", i.layout,
        "layout_checked", i.layout_checked ? Py_True : Py_False,
        "gc_generations_shift", i.gc_generations_shift,
        "interpreters", (unsigned long long)i.interpreters, "threads",
        (unsigned long long)i.threads, "objects", (unsigned long long)i.objects, "bytes",
        (unsigned long long)i.bytes, "skipped", (unsigned long long)i.skipped, "garbage_objects",
        (unsigned long long)i.garbage_objects, "garbage_bytes", (unsigned long long)i.garbage_bytes,
        "estimated_objects", (unsigned long long)i.estimated_objects, "gc_collecting",
        i.gc_collecting ? Py_True : Py_False, "walk_seconds", i.walk_seconds,
        "walk_cpu_seconds", i.walk_cpu_seconds, "bytes_read",
        (unsigned long long)i.bytes_read, "index_bytes", (unsigned long long)i.index_bytes,
        "index_hashed", (unsigned long long)i.index_hashed,
        "graph_seconds", i.graph_seconds, "graph_bytes", (unsigned long long)i.graph_bytes);
    if (!d)
        return NULL;
    /* the static data searched for objects held by C globals (heap/statics.c) */
    const char *sk[] = {"static_regions", "static_words", "static_roots"};
    uint64_t sv[] = {i.static_regions, i.static_words, i.static_roots};
    for (int k = 0; k < 3; k++) {
        PyObject *num = PyLong_FromUnsignedLongLong(sv[k]);
        if (!num || PyDict_SetItemString(d, sk[k], num) < 0) {
            Py_XDECREF(num);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(num);
    }
    PyObject *secs = PyFloat_FromDouble(i.static_seconds);
    if (!secs || PyDict_SetItemString(d, "static_seconds", secs) < 0) {
        Py_XDECREF(secs);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(secs);
    if (i.version.free_threaded) {
        /* the GC enumeration of a free-threaded build: mimalloc's GC heaps */
        PyObject *mi = Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "threads",
                                     (unsigned long long)i.mi_threads, "pages",
                                     (unsigned long long)i.mi_pages, "abandoned_segments",
                                     (unsigned long long)i.mi_abandoned_segments, "gc_blocks",
                                     (unsigned long long)i.mi_gc_blocks, "bad_pages",
                                     (unsigned long long)i.mi_bad_pages, "blocks",
                                     (unsigned long long)i.mi_all_blocks, "bytes",
                                     (unsigned long long)i.mi_all_bytes);
        if (!mi || PyDict_SetItemString(d, "mimalloc", mi) < 0) {
            Py_XDECREF(mi);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(mi);
    }
    /* what the walk skipped as damaged: the first ones, with where and why */
    PyObject *skips = PyList_New(0);
    for (uint32_t k = 0; skips && k < i.nskips; k++) {
        PyObject *rec = Py_BuildValue("{s:K,s:K,s:s}", "address", (unsigned long long)i.skips[k].addr,
                                      "from", (unsigned long long)i.skips[k].from, "why",
                                      i.skips[k].why);
        if (!rec || PyList_Append(skips, rec) < 0) {
            Py_XDECREF(rec);
            Py_CLEAR(skips);
            break;
        }
        Py_DECREF(rec);
    }
    /* the structural probes that passed: what each checked, where its facts came from */
    PyObject *probes = PyList_New(0);
    for (uint32_t k = 0; probes && k < i.nprobes; k++) {
        PyObject *rec = Py_BuildValue("{s:s,s:s,s:s}", "name", i.probes[k].name, "checked",
                                      i.probes[k].checked, "source", i.probes[k].source);
        if (!rec || PyList_Append(probes, rec) < 0) {
            Py_XDECREF(rec);
            Py_CLEAR(probes);
            break;
        }
        Py_DECREF(rec);
    }
    if (!probes || PyDict_SetItemString(d, "probes", probes) < 0) {
        Py_XDECREF(probes);
        Py_XDECREF(skips);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(probes);
    /* where each part of the layout came from; what was assumed of a newer CPython */
    PyObject *origin = PyUnicode_FromString(i.layout_origin ? i.layout_origin : "");
    PyObject *warning = i.warning ? PyUnicode_FromString(i.warning) : (Py_INCREF(Py_None), Py_None);
    if (!origin || !warning || PyDict_SetItemString(d, "layout_origin", origin) < 0 ||
        PyDict_SetItemString(d, "warning", warning) < 0) {
        Py_XDECREF(origin);
        Py_XDECREF(warning);
        Py_XDECREF(skips);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(origin);
    Py_DECREF(warning);
    if (!skips || PyDict_SetItemString(d, "skipped_refs", skips) < 0) {
        Py_XDECREF(skips);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(skips);
    return d;
}

static PyObject *Heap_object(HeapObject *self, PyObject *args)
{
    unsigned long long addr;
    if (!PyArg_ParseTuple(args, "K", &addr))
        return NULL;
    ph_object o;
    if (!ph_heap_object(self->h, addr, &o))
        Py_RETURN_NONE;
    char preview[128];
    ph_preview(self->h, addr, preview, sizeof(preview));
    return Py_BuildValue("{s:K,s:N,s:N,s:K,s:O,s:O,s:O,s:N}", "address", (unsigned long long)o.address,
                         "type", target_text(o.type), "kind", target_text(o.kind), "flat",
                         (unsigned long long)o.size,
                         "estimate", o.estimate ? Py_True : Py_False, "reachable",
                         o.reachable ? Py_True : Py_False, "conservative",
                         o.conservative ? Py_True : Py_False, "preview", target_text(preview));
}

static PyObject *Heap_resolve(HeapObject *self, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    uint64_t addr;
    ph_error *err = ph_resolve_path(self->h, path, &addr);
    if (err)
        return raise_error(err);
    return PyLong_FromUnsignedLongLong(addr);
}

static PyMethodDef methods[] = {
    {"resolve", (PyCFunction)Heap_resolve, METH_VARARGS,
     "resolve('module:attr[key]...') -> address of the object the path names"},
    {"object", (PyCFunction)Heap_object, METH_VARARGS,
     "object(address) -> dict (address, type, kind, flat, estimate, reachable, conservative, preview) or None"},
    {"info", (PyCFunction)Heap_info, METH_NOARGS, "What the walk found, as a dict."},
    {NULL},
};

PyTypeObject bridge_HeapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Heap",
    .tp_basicsize = sizeof(HeapObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Heap_dealloc,
};

/* The static data to search, from Python: a sequence of (start, end, base,
 * file, ((addr, size, name), ...)); the strings are the objects' own (the
 * build copies what it keeps). */
typedef struct statics_arg {
    ph_static_region *regions;
    ph_static_symbol *syms;
    size_t n;
} statics_arg;

static void statics_arg_free(statics_arg *a)
{
    free(a->regions);
    free(a->syms);
}

static int parse_statics(PyObject *seq, statics_arg *out)
{
    memset(out, 0, sizeof(*out));
    if (seq == Py_None)
        return 0;
    PyObject *fast = PySequence_Fast(seq, "statics must be a sequence");
    if (!fast)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast), nsyms = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(fast, i), *syms;
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 5 ||
            !PySequence_Check(syms = PyTuple_GET_ITEM(t, 4))) {
            PyErr_SetString(PyExc_TypeError, "a static region is (start, end, base, file, symbols)");
            Py_DECREF(fast);
            return -1;
        }
        Py_ssize_t m = PySequence_Size(syms);
        if (m < 0) {
            Py_DECREF(fast);
            return -1;
        }
        nsyms += m;
    }
    if (n < 0 || nsyms < 0) {
        Py_DECREF(fast);
        return -1;
    }
    out->regions = calloc(n ? (size_t)n : 1, sizeof(*out->regions));
    out->syms = calloc(nsyms ? (size_t)nsyms : 1, sizeof(*out->syms));
    if (!out->regions || !out->syms) {
        Py_DECREF(fast);
        statics_arg_free(out);
        PyErr_NoMemory();
        return -1;
    }
    size_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(fast, i);
        ph_static_region *r = &out->regions[i];
        r->start = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 0));
        r->end = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 1));
        r->base = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 2));
        r->file = PyUnicode_AsUTF8(PyTuple_GET_ITEM(t, 3));
        PyObject *syms = PySequence_Fast(PyTuple_GET_ITEM(t, 4), "symbols must be a sequence");
        if (PyErr_Occurred() || !r->file || !syms) {
            Py_XDECREF(syms);
            break;
        }
        r->syms = &out->syms[k];
        for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(syms) && k < (size_t)nsyms; j++) {
            PyObject *sym = PySequence_Fast_GET_ITEM(syms, j);
            unsigned long long addr, size;
            const char *name;
            if (!PyArg_ParseTuple(sym, "KKs", &addr, &size, &name))
                break;
            out->syms[k++] = (ph_static_symbol){addr, size, name};
            r->nsyms++;
        }
        Py_DECREF(syms);
        if (PyErr_Occurred())
            break;
        out->n++;
    }
    Py_DECREF(fast);
    if (PyErr_Occurred()) {
        statics_arg_free(out);
        return -1;
    }
    return 0;
}

static PyObject *mod_build(PyObject *mod, PyObject *args)
{
    ReaderObject *reader;
    PyObject *syms, *progress = Py_None, *statics = Py_None;
    if (!PyArg_ParseTuple(args, "O!O|OO", &bridge_ReaderType, &reader, &syms, &progress, &statics) ||
        !bridge_reader_ready(reader))
        return NULL;
    ph_symbols s;
    if (bridge_parse_symbols(syms, &s))
        return NULL;
    statics_arg sa;
    if (parse_statics(statics, &sa))
        return NULL;
    build_payload bp = {progress == Py_None ? NULL : progress};
    ph_build_options opts = {build_interrupt, &bp, sa.regions, sa.n};
    ph_heap *h;
    ph_error *err = ph_heap_build(reader->r, &s, &opts, &h);
    statics_arg_free(&sa);
    if (err) {
        if (err->code != PH_ERR_INTERRUPTED)
            PyErr_Clear(); /* a stray error from a fallback read is not the story */
        return raise_error(err);
    }
    HeapObject *obj = PyObject_New(HeapObject, &bridge_HeapType);
    if (!obj) {
        ph_heap_free(h);
        return NULL;
    }
    obj->h = h;
    Py_INCREF(reader);
    obj->reader = (PyObject *)reader;
    return (PyObject *)obj;
}

static PyMethodDef module_methods[] = {
    {"build", mod_build, METH_VARARGS, "build(reader, symbols, progress=None, statics=None) -> Heap"},
    {NULL},
};

int bridge_heap(bridge_set *set)
{
    return bridge_add_type(set, NULL, &bridge_HeapType) || bridge_add_heap_methods(set, methods) ||
           bridge_add_module_methods(set, module_methods);
}
