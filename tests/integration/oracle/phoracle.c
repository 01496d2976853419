/* phoracle: the object-for-object oracle of tests/integration/test_exact.py.
 *
 * Built at test time against the target interpreter's own headers, imported
 * by workloads/exact.py, and called once at the stop:
 *
 *     phoracle.run(path, extra_roots)
 *
 * It records the address of every object the interpreter itself can reach:
 * from the GC lists (gc.get_objects(), every generation), sys.modules, the
 * interpreter dict, every thread's state and frames, and extra_roots (the
 * interned strings' dict, the static builtin types, found by census.py),
 * through each object's tp_traverse PLUS the struct fields tp_traverse
 * leaves out because they cannot form cycles (CPYTHON-FACTS.md, "A trap for
 * in-process oracles"): ob_type, the keys of dicts, code objects' fields and
 * caches, types' dicts, bases, mro and names, descriptors' names, modules'
 * names, datetime's tzinfo, range's fields, numpy arrays' base and dtype,
 * the locals of running 3.11+ frames, ...
 *
 * Nothing here runs Python code during the walk and nothing allocates a
 * Python object except the two lists it asks for (gc.get_objects() and
 * sys._current_frames()), which are left out of the set and freed.  The
 * process then stops itself (SIGSTOP) inside this call, so the heap probe-heap
 * reads is exactly the heap walked here.
 *
 * The file has one line per object, in breadth-first order:
 *     ADDRESS PARENT REFCNT HOW|TYPE
 * (hex addresses, PARENT 0 for a root, HOW how the parent reaches it).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <datetime.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V(maj, min) (PY_VERSION_HEX >= (((maj) << 24) | ((min) << 16)))

/* The object header: 16 bytes on the default build, 32 on a free-threaded
 * one (ob_tid, ob_flags, ob_mutex, ob_gc_bits, ob_ref_local, ob_ref_shared,
 * ob_type).  Every fixed offset below is written from the end of the header;
 * the free-threaded build has no PyGC_Head, keeps a managed dict one word
 * before the object (the default build three), and puts tlbc_index before
 * an interpreter frame's owner. */
#define HDR ((Py_ssize_t)sizeof(PyObject))
#ifdef Py_GIL_DISABLED
#define FT 1
#define MANAGED_DICT (-8)
#else
#define FT 0
#define MANAGED_DICT (-24)
#endif

typedef struct {
    uintptr_t addr;
    uint32_t parent;    /* entry index + 1; 0: root */
    const char *how;
} entry;

static entry *ents;
static size_t nents, cap;
static uintptr_t *slots;  /* open addressing: address; entry index in idx */
static uint32_t *idx;
static size_t nslots;
static uint32_t cur;      /* entry being expanded + 1 */
static const char *how;
static int oom;

static size_t hashp(uintptr_t a) { return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull); }

static int grow(void)
{
    size_t n = nslots ? nslots * 2 : (1u << 20);
    uintptr_t *s = calloc(n, sizeof(*s));
    uint32_t *x = calloc(n, sizeof(*x));
    if (!s || !x) { free(s); free(x); return -1; }
    for (size_t i = 0; i < nslots; i++) {
        if (!slots[i]) continue;
        size_t j = hashp(slots[i]) & (n - 1);
        while (s[j]) j = (j + 1) & (n - 1);
        s[j] = slots[i];
        x[j] = idx[i];
    }
    free(slots); free(idx);
    slots = s; idx = x; nslots = n;
    return 0;
}

/* Adds an address; returns 1 if new. */
static int add(uintptr_t a)
{
    if (!a || oom) return 0;
    if ((nents + 1) * 2 > nslots && grow() < 0) { oom = 1; return 0; }
    size_t j = hashp(a) & (nslots - 1);
    while (slots[j]) {
        if (slots[j] == a) return 0;
        j = (j + 1) & (nslots - 1);
    }
    if (nents == cap) {
        size_t c = cap ? cap * 2 : (1u << 18);
        entry *e = realloc(ents, c * sizeof(*e));
        if (!e) { oom = 1; return 0; }
        ents = e; cap = c;
    }
    slots[j] = a;
    idx[j] = (uint32_t)nents;
    ents[nents++] = (entry){a, cur, how};
    return 1;
}

static int visit(PyObject *o, void *arg)
{
    (void)arg;
    add((uintptr_t)o);
    return 0;
}

static void see(PyObject *o, const char *h)
{
    const char *save = how;
    how = h;
    add((uintptr_t)o);
    how = save;
}

static PyObject *slot(const void *base, Py_ssize_t off) { return *(PyObject **)((char *)base + off); }

static int has_base_named(PyTypeObject *t, const char *name)
{
    for (int i = 0; t && i < 64; i++, t = t->tp_base)
        if (t->tp_name && strcmp(t->tp_name, name) == 0)
            return 1;
    return 0;
}

#if V(3, 14)
static void see_stackref(uintptr_t bits, const char *h)
{
    if ((bits & 3) == 3 || bits <= 1) return;   /* tagged int, NULL */
    see((PyObject *)(bits & ~(uintptr_t)3), h);
}
#endif

/* 3.11+: the locals and value stack of a frame a thread is running (frame
 * objects traverse them only once the frame object owns the frame). */
static void running_frame(PyObject *f)
{
#if V(3, 11)
    char *iframe = *(char **)((char *)f + HDR + 8);   /* f_frame */
    if (!iframe) return;
    if (*(PyObject **)(iframe + 48 - (V(3, 12) ? 0 : 8)) != f) return;  /* frame_obj */
#if V(3, 14)
    if (*(unsigned char *)(iframe + (FT ? 78 : 74)) != 0) return;   /* FRAME_OWNED_BY_THREAD */
    PyCodeObject *co = (PyCodeObject *)(*(uintptr_t *)iframe & ~(uintptr_t)3);
    see((PyObject *)co, "frame.f_executable");
    see_stackref(*(uintptr_t *)(iframe + 16), "frame.f_funcobj");
    for (int off = 24; off <= 40; off += 8) see(slot(iframe, off), "frame.globals/builtins/locals");
    uintptr_t sp = *(uintptr_t *)(iframe + 64);
    Py_ssize_t n = co->co_nlocalsplus;
    Py_ssize_t top = sp ? (Py_ssize_t)((sp - (uintptr_t)(iframe + 80)) / 8) : -1;
    if (top >= n && top <= n + co->co_stacksize) n = top;
    for (Py_ssize_t i = 0; i < n; i++) see_stackref(*(uintptr_t *)(iframe + 80 + 8 * i), "frame.localsplus");
#else
    int owner_off = V(3, 13) ? 74 : V(3, 12) ? 70 : 69;
    if (*(unsigned char *)(iframe + owner_off) != 0) return;
    PyCodeObject *co = (PyCodeObject *)slot(iframe, V(3, 12) ? 0 : 32);
    see((PyObject *)co, "frame.f_code");
    for (int off = V(3, 12) ? 16 : 0; off <= (V(3, 12) ? 40 : 24); off += 8)
        see(slot(iframe, off), "frame.func/globals/builtins/locals");
    int top = *(int *)(iframe + 64);
    Py_ssize_t n = co->co_nlocalsplus;
    if (top >= n && top <= n + co->co_stacksize) n = top;
    for (Py_ssize_t i = 0; i < n; i++) see(slot(iframe, 72 + 8 * i), "frame.localsplus");
#endif
#else
    (void)f;
#endif
}

static void code_fields(PyCodeObject *co)
{
    see(co->co_consts, "code.co_consts");
    see(co->co_names, "code.co_names");
    see(co->co_filename, "code.co_filename");
    see(co->co_name, "code.co_name");
#if V(3, 11)
    see(co->co_qualname, "code.co_qualname");
    see(co->co_linetable, "code.co_linetable");
    see(co->co_exceptiontable, "code.co_exceptiontable");
    see(co->co_localsplusnames, "code.co_localsplusnames");
    see(co->co_localspluskinds, "code.co_localspluskinds");
#if V(3, 12)
    if (co->_co_cached) {
        see(co->_co_cached->_co_code, "code._co_cached._co_code");
        see(co->_co_cached->_co_varnames, "code._co_cached._co_varnames");
        see(co->_co_cached->_co_cellvars, "code._co_cached._co_cellvars");
        see(co->_co_cached->_co_freevars, "code._co_cached._co_freevars");
    }
#else
    see(co->_co_code, "code._co_code");
#endif
#else
    see(co->co_code, "code.co_code");
    see(co->co_varnames, "code.co_varnames");
    see(co->co_freevars, "code.co_freevars");
    see(co->co_cellvars, "code.co_cellvars");
#if V(3, 10)
    see(co->co_linetable, "code.co_linetable");
#else
    see(co->co_lnotab, "code.co_lnotab");
#endif
#endif
}

static PyObject *subclasses_of;   /* type.__subclasses__ (a method descriptor) */

/* The subclasses the interpreter lists in type.__subclasses__(): a static
 * type that nothing else refers to (an extension module's, say) is reached
 * only there, through a weak reference. */
static void subclasses(PyTypeObject *t)
{
    PyObject *d = t->tp_subclasses;
#if V(3, 12)
    if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE) && (t->tp_flags & (1UL << 1))) {
        /* _Py_TPFLAGS_STATIC_BUILTIN: the dict lives in the interpreter;
         * ask it (C code only, a new list, freed) */
        PyObject *l = subclasses_of ? PyObject_CallFunctionObjArgs(subclasses_of, (PyObject *)t, NULL) : NULL;
        if (!l) { PyErr_Clear(); return; }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++)
            see(PyList_GET_ITEM(l, i), "type.__subclasses__()");
        Py_DECREF(l);
        return;
    }
#endif
    if (!d || !PyDict_Check(d)) return;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v))
        if (PyWeakref_CheckRef(v)) {
            PyObject *o = ((PyWeakReference *)v)->wr_object;
            if (o && o != Py_None && PyType_Check(o))
                see(o, "type.tp_subclasses weakref");
        }
}

static void type_fields(PyTypeObject *t)
{
    subclasses(t);
#if V(3, 12)
    if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        PyObject *d = PyType_GetDict(t);  /* interp->types.builtins[i].tp_dict */
        see(d, "type.tp_dict");
        Py_XDECREF(d);
    } else
#endif
        see(t->tp_dict, "type.tp_dict");
    see(t->tp_bases, "type.tp_bases");
    see(t->tp_mro, "type.tp_mro");
    see((PyObject *)t->tp_base, "type.tp_base");
    see(t->tp_cache, "type.tp_cache");
#if V(3, 12)
    if (t->tp_flags & Py_TPFLAGS_HEAPTYPE)
#endif
        see(t->tp_subclasses, "type.tp_subclasses");
    if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
        see(ht->ht_name, "type.ht_name");
        see(ht->ht_qualname, "type.ht_qualname");
        see(ht->ht_slots, "type.ht_slots");
#if V(3, 9)
        see(ht->ht_module, "type.ht_module");
#endif
    }
}

static int is_descr(PyTypeObject *t)
{
    return t == &PyMethodDescr_Type || t == &PyClassMethodDescr_Type ||
           t == &PyMemberDescr_Type || t == &PyGetSetDescr_Type || t == &PyWrapperDescr_Type;
}

static void expand(PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    see((PyObject *)t, "ob_type");
    if (PyObject_IS_GC(o) && t->tp_traverse) {
        how = "tp_traverse";
        t->tp_traverse(o, visit, NULL);
    }
    if (PyDict_Check(o)) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v)) {
            see(k, "dict key");
            see(v, "dict value");
        }
    }
    if (PyType_Check(o))
        type_fields((PyTypeObject *)o);
    if (PyCode_Check(o))
        code_fields((PyCodeObject *)o);
    if (is_descr(t)) {
        see(((PyDescrObject *)o)->d_name, "descr.d_name");
        see(((PyDescrObject *)o)->d_qualname, "descr.d_qualname");
        see((PyObject *)((PyDescrObject *)o)->d_type, "descr.d_type");
    }
    if (PyModule_Check(o)) {
        see(slot(o, HDR + 32), "module.md_name");
        PyModuleDef *def = PyModule_GetDef(o);   /* a PyObject (moduledef) */
        if (def) {
            see((PyObject *)def, "module.md_def");
            see(def->m_base.m_copy, "moduledef.m_copy");
        }
    }
    if (Py_TYPE(o) == &PyModuleDef_Type)
        see(((PyModuleDef *)o)->m_base.m_copy, "moduledef.m_copy");
    if (t == &PyRange_Type)
        for (int off = 0; off <= 24; off += 8) see(slot(o, HDR + off), "range.start/stop/step/length");
    if (PyFrame_Check(o))
        running_frame(o);
#if V(3, 11)
    if (t->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        uintptr_t d = *(uintptr_t *)((char *)o + MANAGED_DICT);
        if (!(V(3, 12) && !V(3, 13) && (d & 1)))
            see((PyObject *)d, "managed dict");
    }
#endif
    if (has_base_named(t, "datetime.datetime") || has_base_named(t, "datetime.time")) {
        int dt = has_base_named(t, "datetime.datetime");
        if (dt ? ((PyDateTime_DateTime *)o)->hastzinfo : ((PyDateTime_Time *)o)->hastzinfo)
            see(dt ? ((PyDateTime_DateTime *)o)->tzinfo : ((PyDateTime_Time *)o)->tzinfo,
                "datetime.tzinfo");
    }
    if (has_base_named(t, "datetime.timezone")) {
        see(slot(o, HDR), "timezone.offset");
        see(slot(o, HDR + 8), "timezone.name");
    }
    if (has_base_named(t, "_io.BytesIO"))
        see(slot(o, HDR), "BytesIO.buf");
    if (has_base_named(t, "_io.StringIO")) {
        see(slot(o, HDR + 40), "StringIO.pending");
        if (!V(3, 12)) see(slot(o, HDR + 48), "StringIO.pending");
    }
    if (!V(3, 10) && !PyObject_IS_GC(o) && has_base_named(t, "re.Pattern"))
        for (int off = 16; off <= 32; off += 8) see(slot(o, HDR + off), "Pattern.groupindex/indexgroup/pattern");
    if (has_base_named(t, "numpy._DTypeMeta")) {
        /* numpy's DType classes: {PyHeapTypeObject; PyArray_Descr *singleton;
         * int type_num; PyTypeObject *scalar_type; ...}, what
         * dtypemeta_traverse visits; the legacy ones are not heap types, so
         * not GC objects, and their traverse never runs */
        see(slot(o, sizeof(PyHeapTypeObject)), "DTypeMeta.singleton");
        see(slot(o, sizeof(PyHeapTypeObject) + 16), "DTypeMeta.scalar_type");
    }
    if (has_base_named(t, "numpy.ndarray")) {
        see(slot(o, HDR + 32), "ndarray.base");
        see(slot(o, HDR + 40), "ndarray.descr");
        PyObject *mh = slot(o, HDR + 72);   /* numpy >= 1.22: mem_handler, a capsule */
        if (mh && PyCapsule_CheckExact(mh))
            see(mh, "ndarray.mem_handler");
        /* An array of dtype=object holds its elements in its data buffer,
         * which ndarray's tp_traverse does not visit: its descr's kind
         * (PyArray_Descr: {PyObject_HEAD; typeobj; char kind; ...}) is 'O'.
         * Iterating .flat gives the stored objects themselves. */
        PyObject *descr = slot(o, HDR + 40);
        if (descr && *((const char *)descr + HDR + 8) == 'O') {
            PyObject *flat = PyObject_GetAttrString(o, "flat");
            PyObject *it = flat ? PyObject_GetIter(flat) : NULL;
            PyObject *x;
            while (it && (x = PyIter_Next(it)) != NULL) {
                see(x, "ndarray object element");
                Py_DECREF(x);
            }
            Py_XDECREF(it);
            Py_XDECREF(flat);
            PyErr_Clear();
        }
    }
}

static void add_frames(PyObject *frames)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(frames, &pos, &k, &v)) {
        PyFrameObject *f = (PyFrameObject *)v;
        for (int i = 0; f && i < 100000; i++) {
            see((PyObject *)f, "thread frame");
#if V(3, 9)
            PyFrameObject *b = PyFrame_GetBack(f);  /* new reference (materialised on 3.11+) */
            Py_XDECREF(b);
            f = b;
#else
            f = f->f_back;
#endif
        }
    }
}

static void thread_roots(void)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        see(ts->dict, "thread dict");
        see(ts->async_exc, "thread async_exc");
        see(ts->context, "thread context");
#if V(3, 12)
        see(ts->current_exception, "thread current_exception");
#else
        see(ts->curexc_value, "thread curexc_value");
        see(ts->curexc_type, "thread curexc_type");
        see(ts->curexc_traceback, "thread curexc_traceback");
#endif
        for (_PyErr_StackItem *e = ts->exc_info; e; e = e->previous_item) {
            see(e->exc_value, "thread exc_info");
#if !V(3, 11)
            see(e->exc_type, "thread exc_info");
            see(e->exc_traceback, "thread exc_info");
#endif
        }
    }
}

static PyObject *run(PyObject *self, PyObject *args)
{
    const char *path;
    PyObject *extra;
    int stop = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "sO|p", &path, &extra, &stop))
        return NULL;
    PyObject *frames = _PyThread_CurrentFrames();
    if (!frames) return NULL;
    PyObject *gc = PyImport_ImportModule("gc");
    if (!gc) { Py_DECREF(frames); return NULL; }
    PyObject *all = PyObject_CallMethod(gc, "get_objects", NULL);
    Py_DECREF(gc);
    if (!all) { Py_DECREF(frames); return NULL; }

    if (!subclasses_of) {
        subclasses_of = PyObject_GetAttrString((PyObject *)&PyType_Type, "__subclasses__");
        if (!subclasses_of) PyErr_Clear();
    }
    nents = 0; cur = 0; oom = 0;
    if (nslots) { memset(slots, 0, nslots * sizeof(*slots)); }
    /* the oracle's own lists: in the set so that nothing records them, and
     * dropped from the file */
    how = "oracle";
    add((uintptr_t)all);
    add((uintptr_t)frames);
    size_t own = nents;

    see(PyImport_GetModuleDict(), "sys.modules");
    see(PyInterpreterState_GetDict(PyThreadState_Get()->interp), "interpreter dict");
    see(PyEval_GetBuiltins(), "builtins");
    see(extra, "extra roots");
    thread_roots();
    add_frames(frames);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(all); i++)
        see(PyList_GET_ITEM(all, i), "gc.get_objects()");

    for (size_t i = own; i < nents && !oom; i++) {
        cur = (uint32_t)(i + 1);
        expand((PyObject *)ents[i].addr);
    }
    cur = 0;

    FILE *f = fopen(path, "w");
    if (!f) { Py_DECREF(all); Py_DECREF(frames); return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path); }
    for (size_t i = own; i < nents; i++) {
        entry *e = &ents[i];
        fprintf(f, "%lx %lx %zd %s|%s\n", (unsigned long)e->addr,
                e->parent ? (unsigned long)ents[e->parent - 1].addr : 0UL,
                (Py_ssize_t)Py_REFCNT((PyObject *)e->addr), e->how,
                Py_TYPE((PyObject *)e->addr)->tp_name);
    }
    fprintf(f, "# end %zu%s\n", nents - own, oom ? " OOM" : "");
    fclose(f);
    Py_DECREF(all);
    Py_DECREF(frames);
    if (stop)
        kill(getpid(), SIGSTOP);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS, "run(path, extra_roots, stop=True)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "phoracle", NULL, -1, methods};

PyMODINIT_FUNC PyInit_phoracle(void)
{
    (void)PyDateTimeAPI;  /* datetime.h's, unused: the structs are enough */
    return PyModule_Create(&module);
}
