/* _probeheap: the thin bridge between libprobeheap and gdb's Python.
 *
 * It mirrors the core's handles (Reader, Heap, Partition) and converts a
 * ph_error into probeheap.Error in exactly one function (bridge_errors.c).  Nothing here
 * knows about gdb: the Python package supplies gdb's memory reads and
 * symbols. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "bridge.h"

#include <stdlib.h>

/* Text that came from the target: a corrupt name must not fail the command. */
PyObject *target_text(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* ---- Reader ------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    ph_reader *r;
    PyObject *fallback; /* callable(addr, len) -> bytes or None */
} ReaderObject;

static bool fallback_read(uint64_t addr, void *buf, size_t len, void *payload)
{
    ReaderObject *self = payload;
    if (!self->fallback)
        return false;
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *res = PyObject_CallFunction(self->fallback, "Kn", (unsigned long long)addr,
                                          (Py_ssize_t)len);
    bool ok = false;
    if (res && PyBytes_Check(res) && (size_t)PyBytes_GET_SIZE(res) == len) {
        memcpy(buf, PyBytes_AS_STRING(res), len);
        ok = true;
    }
    Py_XDECREF(res);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return ok;
}

static int Reader_init(ReaderObject *self, PyObject *args, PyObject *kw)
{
    if (!PyArg_ParseTuple(args, ""))
        return -1;
    ph_reader_free(self->r);
    self->r = NULL;
    ph_error *err = ph_reader_new(&self->r);
    if (err) {
        raise_error(err);
        return -1;
    }
    return 0;
}

static void Reader_dealloc(ReaderObject *self)
{
    ph_reader_free(self->r);
    Py_XDECREF(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A Reader made by __new__ alone has no reader: refuse, never crash. */
static int reader_ready(ReaderObject *self)
{
    if (self->r)
        return 1;
    PyErr_SetString(PyExc_ValueError, "Reader is not initialised");
    return 0;
}

static PyObject *Reader_open_core(ReaderObject *self, PyObject *args)
{
    if (!reader_ready(self))
        return NULL;
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    ph_error *err = ph_reader_open_core(self->r, path);
    if (err)
        return raise_error(err);
    Py_RETURN_NONE;
}

static PyObject *Reader_open_pid(ReaderObject *self, PyObject *args)
{
    if (!reader_ready(self))
        return NULL;
    int pid;
    if (!PyArg_ParseTuple(args, "i", &pid))
        return NULL;
    ph_error *err = ph_reader_open_pid(self->r, pid);
    if (err)
        return raise_error(err);
    Py_RETURN_NONE;
}

static PyObject *Reader_set_fallback(ReaderObject *self, PyObject *args)
{
    if (!reader_ready(self))
        return NULL;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "O", &fn))
        return NULL;
    Py_XDECREF(self->fallback);
    self->fallback = fn == Py_None ? NULL : (Py_INCREF(fn), fn);
    ph_reader_set_fallback(self->r, fallback_read, self);
    Py_RETURN_NONE;
}

static PyObject *Reader_read(ReaderObject *self, PyObject *args)
{
    if (!reader_ready(self))
        return NULL;
    unsigned long long addr;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "Kn", &addr, &len))
        return NULL;
    if (len < 0 || len > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "length out of range");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, len);
    if (!b)
        return NULL;
    if (!ph_read(self->r, addr, PyBytes_AS_STRING(b), (size_t)len)) {
        Py_DECREF(b);
        Py_RETURN_NONE;
    }
    return b;
}

static PyMethodDef Reader_methods[] = {
    {"open_core", (PyCFunction)Reader_open_core, METH_VARARGS, "Add the PT_LOAD segments of a core file."},
    {"open_pid", (PyCFunction)Reader_open_pid, METH_VARARGS, "Add the mappings of a live process."},
    {"set_fallback", (PyCFunction)Reader_set_fallback, METH_VARARGS,
     "Callable(addr, len) -> bytes or None, for memory no segment covers."},
    {"read", (PyCFunction)Reader_read, METH_VARARGS, "Read bytes, or None when unreadable."},
    {NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
    .tp_doc = "Target memory: core file or live process segments, with a page cache.",
};

/* ---- symbols ------------------------------------------------------------------- */

static int get_u64(PyObject *d, const char *key, uint64_t *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None)
        return 0;
    unsigned long long x = PyLong_AsUnsignedLongLongMask(v);
    if (PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static int parse_symbols(PyObject *d, ph_symbols *s)
{
    memset(s, 0, sizeof(*s));
    uint64_t hm = 0, hn = 0;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "symbols must be a dict");
        return -1;
    }
    if (get_u64(d, "_PyRuntime", &s->py_runtime) || get_u64(d, "Py_Version", &s->py_version) ||
        get_u64(d, "PyType_Type", &s->type_type) || get_u64(d, "_PySet_Dummy", &s->set_dummy) || get_u64(d, "interned", &s->interned) ||
        get_u64(d, "hint_major", &hm) || get_u64(d, "hint_minor", &hn))
        return -1;
    s->hint_major = (int)hm;
    s->hint_minor = (int)hn;
    return 0;
}

static PyObject *version_dict(const ph_version *v)
{
    return Py_BuildValue("{s:s,s:i,s:i,s:i,s:s,s:O,s:O}", "version", v->text, "major", v->major,
                         "minor", v->minor, "micro", v->micro, "found_by",
                         v->found_by ? v->found_by : "", "debug",
                         v->debug_build ? Py_True : Py_False, "free_threaded",
                         v->free_threaded ? Py_True : Py_False);
}

static PyObject *mod_detect_version(PyObject *mod, PyObject *args)
{
    ReaderObject *reader;
    PyObject *syms;
    if (!PyArg_ParseTuple(args, "O!O", &ReaderType, &reader, &syms) || !reader_ready(reader))
        return NULL;
    ph_symbols s;
    if (parse_symbols(syms, &s))
        return NULL;
    ph_version v;
    ph_error *err = ph_detect_version(reader->r, &s, &v);
    if (err && v.free_threaded && v.major) {
        /* known, but not walkable: the version, and why nothing else works */
        PyObject *d = version_dict(&v);
        PyObject *why = d ? PyUnicode_FromString(err->message) : NULL;
        ph_error_free(err);
        if (!why || PyDict_SetItemString(d, "unsupported", why)) {
            Py_XDECREF(why);
            Py_XDECREF(d);
            return NULL;
        }
        Py_DECREF(why);
        return d;
    }
    if (err)
        return raise_error(err);
    return version_dict(&v);
}

/* ---- Partition ------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    ph_partition *p;
    PyObject *heap; /* keeps the strings alive */
} PartitionObject;

static void Partition_dealloc(PartitionObject *self)
{
    ph_partition_free(self->p);
    Py_XDECREF(self->heap);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Partition_rows(PartitionObject *self, PyObject *unused)
{
    PyObject *list = PyList_New((Py_ssize_t)self->p->nrows);
    if (!list)
        return NULL;
    for (size_t i = 0; i < self->p->nrows; i++) {
        const ph_row *r = &self->p->rows[i];
        PyObject *t = Py_BuildValue("(NNKKO)", target_text(r->kind), target_text(r->type),
                                    (unsigned long long)r->count, (unsigned long long)r->size,
                                    r->estimate ? Py_True : Py_False);
        if (!t) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyObject *Partition_get_count(PartitionObject *self, void *c)
{
    return PyLong_FromUnsignedLongLong(self->p->count);
}

static PyObject *Partition_get_size(PartitionObject *self, void *c)
{
    return PyLong_FromUnsignedLongLong(self->p->size);
}

static PyObject *Partition_get_nrows(PartitionObject *self, void *c)
{
    return PyLong_FromSize_t(self->p->nrows);
}

static PyGetSetDef Partition_getset[] = {
    {"count", (getter)Partition_get_count, NULL, "objects in all rows", NULL},
    {"size", (getter)Partition_get_size, NULL, "bytes in all rows", NULL},
    {"nrows", (getter)Partition_get_nrows, NULL, "number of rows", NULL},
    {NULL},
};

static PyMethodDef Partition_methods[] = {
    {"rows", (PyCFunction)Partition_rows, METH_NOARGS, "[(kind, type, count, size, estimate)]"},
    {NULL},
};

static PyTypeObject PartitionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Partition",
    .tp_basicsize = sizeof(PartitionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Partition_dealloc,
    .tp_methods = Partition_methods,
    .tp_getset = Partition_getset,
};

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

/* ---- Heap --------------------------------------------------------------------------- */

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
    PyObject *v = version_dict(&i.version);
    if (!v)
        return NULL;
    PyObject *d = Py_BuildValue(
        "{s:N,s:s,s:O,s:i,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:O,s:d,s:K,s:K,s:d,s:K}", "python", v,
        "layout", i.layout,
        "layout_checked", i.layout_checked ? Py_True : Py_False,
        "gc_generations_shift", i.gc_generations_shift,
        "interpreters", (unsigned long long)i.interpreters, "threads",
        (unsigned long long)i.threads, "objects", (unsigned long long)i.objects, "bytes",
        (unsigned long long)i.bytes, "skipped", (unsigned long long)i.skipped, "garbage_objects",
        (unsigned long long)i.garbage_objects, "garbage_bytes", (unsigned long long)i.garbage_bytes,
        "estimated_objects", (unsigned long long)i.estimated_objects, "gc_collecting",
        i.gc_collecting ? Py_True : Py_False, "walk_seconds", i.walk_seconds, "bytes_read",
        (unsigned long long)i.bytes_read, "index_bytes", (unsigned long long)i.index_bytes,
        "graph_seconds", i.graph_seconds, "graph_bytes", (unsigned long long)i.graph_bytes);
    if (!d)
        return NULL;
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

static PyObject *Heap_partition(HeapObject *self, PyObject *args)
{
    const char *by = "kind", *kind = NULL;
    if (!PyArg_ParseTuple(args, "|sz", &by, &kind))
        return NULL;
    static const struct {
        const char *name;
        ph_partition_by by;
    } bys[] = {{"kind", PH_BY_KIND}, {"type", PH_BY_TYPE}, {"size", PH_BY_SIZE},
               {"module", PH_BY_MODULE}, {"rcs", PH_BY_RCS}, {"via", PH_BY_VIA}};
    ph_partition_by b = PH_BY_KIND;
    size_t i;
    for (i = 0; i < sizeof(bys) / sizeof(bys[0]) && strcmp(by, bys[i].name) != 0; i++)
        ;
    if (i == sizeof(bys) / sizeof(bys[0])) {
        PyErr_Format(PyExc_ValueError, "cannot partition by %s", by);
        return NULL;
    }
    b = bys[i].by;
    PartitionObject *p = PyObject_New(PartitionObject, &PartitionType);
    if (!p)
        return NULL;
    p->p = NULL;
    p->heap = NULL;
    build_payload bp = {NULL};
    ph_heap_set_interrupt(self->h, build_interrupt, &bp);
    ph_error *err = kind ? ph_partition_of_kind(self->h, b, kind, &p->p)
                         : ph_partition_new(self->h, b, &p->p);
    ph_heap_set_interrupt(self->h, NULL, NULL);
    if (err) {
        Py_DECREF(p);
        return raise_error(err);
    }
    Py_INCREF(self);
    p->heap = (PyObject *)self;
    return (PyObject *)p;
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
    build_payload bp = {NULL};
    ph_heap_set_interrupt(self->h, build_interrupt, &bp);
    ph_error *err = ph_sizes_get(self->h, addr, &s);
    ph_heap_set_interrupt(self->h, NULL, NULL);
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
    build_payload bp = {NULL};
    ph_heap_set_interrupt(self->h, build_interrupt, &bp);
    ph_error *err = ph_dominators(self->h, addr, depth, (size_t)limit, &l);
    ph_heap_set_interrupt(self->h, NULL, NULL);
    if (err)
        return raise_error(err);
    PyObject *items = PyList_New((Py_ssize_t)l->n);
    for (size_t i = 0; items && i < l->n; i++) {
        const ph_dominated *it = &l->items[i];
        PyObject *t = Py_BuildValue(
            "{s:K,s:N,s:N,s:N,s:K,s:K,s:K,s:I}", "address", (unsigned long long)it->address,
            "type", target_text(it->type), "kind", target_text(it->kind), "preview",
            target_text(it->preview), "flat", (unsigned long long)it->flat, "retained",
            (unsigned long long)it->retained, "retained_count",
            (unsigned long long)it->retained_count, "depth", it->depth);
        if (!t) {
            Py_CLEAR(items);
            break;
        }
        PyList_SET_ITEM(items, (Py_ssize_t)i, t);
    }
    PyObject *d = items ? Py_BuildValue("{s:K,s:K,s:N}", "retained", (unsigned long long)l->retained,
                                        "retained_count", (unsigned long long)l->retained_count,
                                        "children", items)
                        : NULL;
    ph_dominated_list_free(l);
    return d;
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

static PyMethodDef Heap_methods[] = {
    {"resolve", (PyCFunction)Heap_resolve, METH_VARARGS,
     "resolve('module:attr[key]...') -> address of the object the path names"},
    {"sizes", (PyCFunction)Heap_sizes, METH_VARARGS,
     "sizes(address) -> dict: flat, deep, retained and the deep set by kind"},
    {"dominators", (PyCFunction)Heap_dominators, METH_VARARGS,
     "dominators(address or 0, depth, limit) -> dict: the dominator tree below it"},
    {"object", (PyCFunction)Heap_object, METH_VARARGS,
     "object(address) -> dict (address, type, kind, flat, estimate, reachable, conservative, preview) or None"},
    {"info", (PyCFunction)Heap_info, METH_NOARGS, "What the walk found, as a dict."},
    {"partition", (PyCFunction)Heap_partition, METH_VARARGS, "partition(by='kind'|'type'|'size'|'module'|'rcs'|'via', kind=None): of one kind's objects when kind is given"},
    {"threads", (PyCFunction)Heap_threads, METH_NOARGS,
     "threads() -> [dict]: each thread's id and its Python frames, innermost first"},
    {"frame_locals", (PyCFunction)Heap_frame_locals, METH_VARARGS,
     "frame_locals(frame address) -> [dict]: name and address of each local that holds an object"},
    {"alloc", (PyCFunction)Heap_alloc, METH_NOARGS,
     "alloc() -> dict: pymalloc's arenas, pools and blocks by size class"},
    {"leaks", (PyCFunction)Heap_leaks, METH_VARARGS,
     "leaks(addresses=False) -> dict: unreachable objects: leaked, kept by leaked ones, cyclic "
     "garbage; with addresses, every object's address in its row"},
    {"backrefs", (PyCFunction)(void (*)(void))Heap_backrefs, METH_VARARGS | METH_KEYWORDS,
     "backrefs(address, all=1) -> dict: shortest chains from a root to the object"},
    {"referrers", (PyCFunction)Heap_referrers, METH_VARARGS,
     "referrers(address) -> [dict]: the objects and roots that refer to it, with edge labels"},
    {"referents", (PyCFunction)Heap_referents, METH_VARARGS,
     "referents(address) -> [dict]: the objects it refers to, with edge labels"},
    {"objects", (PyCFunction)(void (*)(void))Heap_objects, METH_VARARGS | METH_KEYWORDS,
     "objects(kind, limit=None, min_size=0) -> dict: the objects of one kind or type"},
    {"suspects", (PyCFunction)(void (*)(void))Heap_suspects, METH_VARARGS | METH_KEYWORDS,
     "suspects(min=10.0, limit=0) -> dict: MAT's leak suspects from the dominator tree"},
    {"owners", (PyCFunction)(void (*)(void))Heap_owners, METH_VARARGS | METH_KEYWORDS,
     "owners(min_retained=65536, max_nodes=10000) -> dict: retainer paths of big dominators"},
    {"addresses", (PyCFunction)Heap_addresses, METH_NOARGS,
     "addresses() -> [(address, type, flags)]: every indexed object; flags: 1 from the roots, "
     "2 on a GC list, 4 held from outside, 8 found only by a conservative scan"},
    {NULL},
};

static PyTypeObject HeapType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Heap",
    .tp_basicsize = sizeof(HeapObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Heap_dealloc,
    .tp_methods = Heap_methods,
};

static PyObject *mod_build(PyObject *mod, PyObject *args)
{
    ReaderObject *reader;
    PyObject *syms, *progress = Py_None;
    if (!PyArg_ParseTuple(args, "O!O|O", &ReaderType, &reader, &syms, &progress) ||
        !reader_ready(reader))
        return NULL;
    ph_symbols s;
    if (parse_symbols(syms, &s))
        return NULL;
    build_payload bp = {progress == Py_None ? NULL : progress};
    ph_build_options opts = {build_interrupt, &bp};
    ph_heap *h;
    ph_error *err = ph_heap_build(reader->r, &s, &opts, &h);
    if (err) {
        if (err->code != PH_ERR_INTERRUPTED)
            PyErr_Clear(); /* a stray error from a fallback read is not the story */
        return raise_error(err);
    }
    HeapObject *obj = PyObject_New(HeapObject, &HeapType);
    if (!obj) {
        ph_heap_free(h);
        return NULL;
    }
    obj->h = h;
    Py_INCREF(reader);
    obj->reader = (PyObject *)reader;
    return (PyObject *)obj;
}

static ph_error *collect_file(uint64_t start, uint64_t end, uint64_t off, const char *path,
                              bool is_exe, void *payload)
{
    PyObject *t = Py_BuildValue("(KKKNO)", (unsigned long long)start, (unsigned long long)end,
                                (unsigned long long)off, PyUnicode_DecodeFSDefault(path),
                                is_exe ? Py_True : Py_False);
    if (!t || PyList_Append((PyObject *)payload, t) < 0) {
        Py_XDECREF(t);
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(t);
    return NULL;
}

static PyObject *mod_core_mapped_files(PyObject *mod, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    ph_error *err = ph_core_mapped_files(path, collect_file, list);
    if (err) {
        Py_DECREF(list);
        return raise_error(err);
    }
    return list;
}

static PyMethodDef module_methods[] = {
    {"build", mod_build, METH_VARARGS, "build(reader, symbols, progress=None) -> Heap"},
    {"detect_version", mod_detect_version, METH_VARARGS, "detect_version(reader, symbols) -> dict"},
    {"core_mapped_files", mod_core_mapped_files, METH_VARARGS,
     "core_mapped_files(path) -> [(start, end, offset, path, is_exe)]"},
    {NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_probeheap", "libprobeheap bridge", -1, module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__probeheap(void)
{
    if (PyType_Ready(&ReaderType) < 0 || PyType_Ready(&HeapType) < 0 ||
        PyType_Ready(&PartitionType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m)
        return NULL;
    PyObject *error = bridge_error_type();
    if (!error)
        return NULL;
    Py_INCREF(&ReaderType);
    PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType);
    Py_INCREF(error);
    PyModule_AddObject(m, "Error", error);
    return m;
}
