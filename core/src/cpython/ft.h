/* What free-threaded builds (Py_GIL_DISABLED) keep apart from default ones,
 * outside mimalloc (mimalloc.h): per-thread bytecode (ft_code.c) and
 * per-thread reference counts (ft_refcounts.c). */
#ifndef PH_FT_H
#define PH_FT_H

#include "probeheap.h"

#include <stdbool.h>
#include <stdint.h>

struct ph_type;

/* The bytecode a _PyInterpreterFrame runs: on a free-threaded build each
 * thread may run its own specialised copy, co_tlbc->entries[tlbc_index]
 * (entries[0] is the code object's own co_code_adaptive); elsewhere, and
 * when the copy cannot be read, the code's co_code_adaptive. */
uint64_t ph_iframe_bytecode(ph_heap *h, uint64_t frame, uint64_t code);

/* The references to the object at addr (a code object or a heap type; 0
 * for any other) that live threads counted in their own arrays. */
int64_t ph_ft_thread_refs(ph_heap *h, uint64_t addr, const struct ph_type *t);

/* The object's reference count as the collector merges it: ph_refcnt_read,
 * plus on free-threaded builds the per-thread counts of a code object or a
 * heap type (ti: its type index, or UINT32_MAX: unknown). */
bool ph_object_refcnt(ph_heap *h, uint64_t addr, uint32_t ti, int64_t *rc, bool *immortal);

#endif
