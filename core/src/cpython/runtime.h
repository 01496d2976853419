/* The interpreter's roots and its GC lists (target.c); what the target
 * has loaded that changes how objects are read (numpy.c). */
#ifndef PH_RUNTIME_H
#define PH_RUNTIME_H

#include "cpython/reference.h"

/* target.c */
/* The roots of every interpreter, each described to fn (its label when labelling, its thread). */
ph_error *ph_runtime_walk_roots(ph_heap *h, ph_ref_fn *fn, void *payload);
/* The objects on the GC lists (the permanent generation's told as such). */
ph_error *ph_runtime_walk_gc(ph_heap *h, ph_ref_fn *fn, void *payload);
uint64_t ph_static_builtin_dict(ph_heap *h, uint64_t type_addr);

/* Looks for numpy and its version in the target, once (after the roots are known). */
void ph_numpy_detect(ph_heap *h);

#endif
