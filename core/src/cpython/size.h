/* Flat sizes: exactly sys.getsizeof of the target's version (size.c, numpy.c). */
#ifndef PH_SIZE_H
#define PH_SIZE_H

#include "cpython/object.h"

/* size.c */
uint64_t ph_flat_size(ph_heap *h, uint64_t addr, const ph_type *t);
/* block_size.c: the bytes the object occupies from addr in its own block */
uint64_t ph_block_size(ph_heap *h, uint64_t addr, const ph_type *t);

/* numpy.c: numpy.ndarray's __sizeof__; false when numpy's layout is unknown */
bool ph_ndarray_sizeof(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size);
/* numpy.c: the elements of an object array that owns its data (referents.c) */
void ph_ndarray_referents(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload);

#endif
