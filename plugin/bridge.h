/* What the bridge's files share.  The bridge has one file per concept, named
 * in BRIDGE_LIST; each defines bridge_NAME(set), which adds its Heap methods,
 * module functions, types and objects to the set that the module's init
 * (_probeheap.c, alone in its file) gathers.  A new concept is one new
 * bridge_NAME.c and its name in BRIDGE_LIST. */
#ifndef PH_BRIDGE_H
#define PH_BRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "probeheap.h"

#include <string.h>

#define BRIDGE_LIST(X)                                                                       \
    X(errors) X(reader) X(target) X(heap) X(partition) X(sizes) X(graph) X(threads)          \
    X(locals) X(alloc) X(leaks) X(addresses) X(suspects)

/* ---- registration ---------------------------------------------------------------- */

#define BRIDGE_MAX_HEAP_METHODS 48
#define BRIDGE_MAX_MODULE_METHODS 16
#define BRIDGE_MAX_TYPES 8
#define BRIDGE_MAX_OBJECTS 8

typedef struct bridge_set {
    PyMethodDef heap[BRIDGE_MAX_HEAP_METHODS + 1];     /* Heap's methods, NULL-terminated */
    size_t nheap;
    PyMethodDef module[BRIDGE_MAX_MODULE_METHODS + 1]; /* the module's functions */
    size_t nmodule;
    struct {
        const char *name;   /* NULL: made ready, not put in the module */
        PyTypeObject *type;
    } types[BRIDGE_MAX_TYPES];
    size_t ntypes;
    struct {
        const char *name;
        PyObject *object;
    } objects[BRIDGE_MAX_OBJECTS];
    size_t nobjects;
} bridge_set;

#define BRIDGE_DECLARE(name) int bridge_##name(bridge_set *set);
BRIDGE_LIST(BRIDGE_DECLARE)
#undef BRIDGE_DECLARE

static inline int bridge_add_methods(PyMethodDef *to, size_t *n, size_t max,
                                     const PyMethodDef *from)
{
    for (; from->ml_name; from++) {
        if (*n >= max) {
            PyErr_SetString(PyExc_RuntimeError, "_probeheap: too many methods for bridge.h's set");
            return -1;
        }
        to[(*n)++] = *from;
    }
    return 0;
}

/* The Heap methods of a NULL-terminated table. */
static inline int bridge_add_heap_methods(bridge_set *set, const PyMethodDef *methods)
{
    return bridge_add_methods(set->heap, &set->nheap, BRIDGE_MAX_HEAP_METHODS, methods);
}

/* Module functions of a NULL-terminated table. */
static inline int bridge_add_module_methods(bridge_set *set, const PyMethodDef *methods)
{
    return bridge_add_methods(set->module, &set->nmodule, BRIDGE_MAX_MODULE_METHODS, methods);
}

/* A type made ready at init; put in the module under name unless NULL. */
static inline int bridge_add_type(bridge_set *set, const char *name, PyTypeObject *type)
{
    if (set->ntypes >= BRIDGE_MAX_TYPES) {
        PyErr_SetString(PyExc_RuntimeError, "_probeheap: too many types for bridge.h's set");
        return -1;
    }
    set->types[set->ntypes].name = name;
    set->types[set->ntypes++].type = type;
    return 0;
}

/* An object put in the module under name (object NULL: its creation failed). */
static inline int bridge_add_object(bridge_set *set, const char *name, PyObject *object)
{
    if (!object)
        return -1;
    if (set->nobjects >= BRIDGE_MAX_OBJECTS) {
        PyErr_SetString(PyExc_RuntimeError, "_probeheap: too many objects for bridge.h's set");
        return -1;
    }
    set->objects[set->nobjects].name = name;
    set->objects[set->nobjects++].object = object;
    return 0;
}

/* ---- what the concepts share ---------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    ph_reader *r;
    PyObject *fallback; /* callable(addr, len) -> bytes or None */
} ReaderObject;

typedef struct {
    PyObject_HEAD
    ph_heap *h;
    PyObject *reader; /* the heap reads through it */
} HeapObject;

/* bridge_reader.c */
extern PyTypeObject bridge_ReaderType;
/* A Reader made by __new__ alone has no reader: refuse, never crash. */
int bridge_reader_ready(ReaderObject *self);

/* bridge_target.c */
int bridge_parse_symbols(PyObject *d, ph_symbols *s);
PyObject *bridge_version_dict(const ph_version *v);

/* bridge_heap.c: the Heap type (its methods: every concept's, gathered at init) */
extern PyTypeObject bridge_HeapType;

/* bridge_errors.c: the class probeheap.Error (created once). */
PyObject *bridge_error_type(void);

/* Converts a core error into probeheap.Error (or keeps the pending
 * KeyboardInterrupt of an interrupted walk), frees it, returns NULL. */
PyObject *raise_error(ph_error *err);

/* Text that came from the target, decoded leniently: a corrupt name must
 * not fail the command. */
PyObject *target_text(const char *s);

/* Asked during long work: stops it on Ctrl-C (a pending KeyboardInterrupt)
 * or when progress(objects, bytes_read) returns true. */
typedef struct {
    PyObject *progress; /* may be NULL */
} build_payload;
bool build_interrupt(uint64_t objects, uint64_t bytes_read, void *payload);

/* INTERRUPTIBLE(self, call): the core call `call` (a ph_error *), with Ctrl-C
 * able to stop it; the heap is interruptible for that call alone.  Every long
 * call of the bridge is written so, and nothing else sets the interruption
 * (but build, which also reports progress). */
void bridge_interrupt_begin(ph_heap *h);
ph_error *bridge_interrupt_end(ph_heap *h, ph_error *err);
#define INTERRUPTIBLE(self, call)                                                            \
    bridge_interrupt_end((self)->h, (bridge_interrupt_begin((self)->h), (call)))

#endif
