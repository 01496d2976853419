/* _probeheap: the thin bridge between libprobeheap and gdb's Python.
 *
 * This file is the module's init alone.  The bridge has one file per concept
 * (BRIDGE_LIST in bridge.h): bridge_reader.c (Reader), bridge_target.c
 * (symbols, version), bridge_heap.c (Heap: build, info, object, resolve),
 * bridge_partition.c, bridge_sizes.c, bridge_graph.c, bridge_threads.c,
 * bridge_locals.c, bridge_alloc.c, bridge_leaks.c, bridge_addresses.c,
 * bridge_suspects.c, bridge_errors.c (probeheap.Error, the one converter of a
 * ph_error).  Each registers its Heap methods, module functions and types in
 * the set gathered here.  Nothing in the bridge knows about gdb: the Python
 * package supplies gdb's memory reads and symbols. */
#include "bridge.h"

static bridge_set set;

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_probeheap", "libprobeheap bridge", -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__probeheap(void)
{
    memset(&set, 0, sizeof set);
#define BRIDGE_REGISTER(name)                                                                \
    if (bridge_##name(&set) != 0)                                                            \
        return NULL;
    BRIDGE_LIST(BRIDGE_REGISTER)
#undef BRIDGE_REGISTER
    bridge_HeapType.tp_methods = set.heap;
    for (size_t i = 0; i < set.ntypes; i++)
        if (PyType_Ready(set.types[i].type) < 0)
            return NULL;
    moduledef.m_methods = set.module;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m)
        return NULL;
    for (size_t i = 0; i < set.ntypes; i++) {
        if (!set.types[i].name)
            continue;
        Py_INCREF(set.types[i].type);
        PyModule_AddObject(m, set.types[i].name, (PyObject *)set.types[i].type);
    }
    for (size_t i = 0; i < set.nobjects; i++) {
        Py_INCREF(set.objects[i].object);
        PyModule_AddObject(m, set.objects[i].name, set.objects[i].object);
    }
    return m;
}
