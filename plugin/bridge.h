/* What the bridge's files share: the Heap handle and the one error
 * converter.  Each bridge_*.c file adds the Heap methods of one concept;
 * _probeheap.c lists them in Heap's method table. */
#ifndef PH_BRIDGE_H
#define PH_BRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "probeheap.h"

typedef struct {
    PyObject_HEAD
    ph_heap *h;
    PyObject *reader; /* the heap reads through it */
} HeapObject;

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

/* bridge_threads.c */
PyObject *Heap_threads(HeapObject *self, PyObject *unused);

/* bridge_locals.c */
PyObject *Heap_frame_locals(HeapObject *self, PyObject *args);

/* bridge_alloc.c */
PyObject *Heap_alloc(HeapObject *self, PyObject *unused);

/* bridge_leaks.c */
PyObject *Heap_leaks(HeapObject *self, PyObject *args);

/* bridge_graph.c */
PyObject *Heap_backrefs(HeapObject *self, PyObject *args, PyObject *kw);
PyObject *Heap_referrers(HeapObject *self, PyObject *args);
PyObject *Heap_referents(HeapObject *self, PyObject *args);
PyObject *Heap_referents_plain(HeapObject *self, PyObject *addresses);
PyObject *Heap_objects(HeapObject *self, PyObject *args, PyObject *kw);
/* bridge_addresses.c */
PyObject *Heap_addresses(HeapObject *self, PyObject *unused);

/* bridge_suspects.c */
PyObject *Heap_suspects(HeapObject *self, PyObject *args, PyObject *kw);
PyObject *Heap_owners(HeapObject *self, PyObject *args, PyObject *kw);

#endif
