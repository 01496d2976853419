/* The registry of C types known exactly: each ctypes_*.c file's table,
 * and the search by name (ctypes_registry.c).  Above the files it lists,
 * which know only ctypes.h. */
#ifndef PH_CTYPES_REGISTRY_H
#define PH_CTYPES_REGISTRY_H

#include "cpython/ctypes.h"

/* The description of the type named name (basicsize its tp_basicsize), or NULL. */
const ph_ctype *ph_ctype_find(const ph_heap *h, const char *name, int64_t basicsize);

/* Each file's descriptions, ended by a NULL name. */
extern const ph_ctype ph_ctypes_collections[];
extern const ph_ctype ph_ctypes_array[];
extern const ph_ctype ph_ctypes_io[];
extern const ph_ctype ph_ctypes_functools[];
extern const ph_ctype ph_ctypes_315[];
extern const ph_ctype ph_ctypes_queue[];
extern const ph_ctype ph_ctypes_pickle[];
extern const ph_ctype ph_ctypes_itertools[];
extern const ph_ctype ph_ctypes_struct[];
extern const ph_ctype ph_ctypes_datetime[];
extern const ph_ctype ph_ctypes_sqlite[];
extern const ph_ctype ph_ctypes_capsule[];
extern const ph_ctype ph_ctypes_ctypes[]; /* 3.8 to 3.12 only */
extern const ph_ctype ph_ctypes_re[];
extern const ph_ctype ph_ctypes_thread[];
extern const ph_ctype ph_ctypes_context[];
extern const ph_ctype ph_ctypes_context_39[]; /* 3.8 and 3.9 only */
extern const ph_ctype ph_ctypes_memoryview[];
extern const ph_ctype ph_ctypes_iterators[];
extern const ph_ctype ph_ctypes_operator[];
extern const ph_ctype ph_ctypes_descr[];
extern const ph_ctype ph_ctypes_asyncio[];

#endif
