/* pymalloc read from outside (pymalloc.c). */
#ifndef PH_PYMALLOC_H
#define PH_PYMALLOC_H

#include "cpython/layout.h"
#include "probeheap.h"
#include <stdbool.h>
#include <stdint.h>

/* pymalloc's geometry for a version (pymalloc.c): false when the layout lacks it. */
typedef struct ph_pool_geometry {
    uint64_t arena_size, pool_size, overhead, align, nclasses, pools_per_arena;
} ph_pool_geometry;
bool ph_pool_geometry_get(const ph_layout *L, ph_pool_geometry *g);

/* ph_alloc_get of a build that allocates with pymalloc (alloc.c chooses). */
ph_error *ph_pymalloc_alloc_get(ph_heap *h, ph_alloc **out);

/* When p is the start of a carved block of a pymalloc pool in use (its
 * header adds up; the free list is not read), the block's size; else 0.  For
 * a C struct the interpreter got from PyMem_Malloc, read without its type. */
uint32_t ph_pymalloc_block_at(ph_heap *h, uint64_t p);

#endif
