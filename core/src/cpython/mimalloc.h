/* mimalloc read from outside (mimalloc.c): the allocator of free-threaded
 * CPython builds (3.13t+), which keeps every object in per-thread heaps
 * instead of pymalloc's arenas and GC lists. */
#ifndef PH_MIMALLOC_H
#define PH_MIMALLOC_H

#include "cpython/layout.h"
#include "cpython/reference.h"
#include "probeheap.h"

#include <stdbool.h>
#include <stdint.h>

/* CPython's heap tags (Include/internal/pycore_mimalloc.h _Py_mimalloc_heap_id):
 * PyMem_Malloc and friends; non-GC objects; GC objects without and with the
 * managed dict/weakref pre-header. */
enum { PH_MI_MEM = 0, PH_MI_OBJECT = 1, PH_MI_GC = 2, PH_MI_GC_PRE = 3, PH_MI_NTAGS = 4 };

/* What a walk of mimalloc found (every page it visited, of the tags asked). */
typedef struct ph_mi_stats {
    uint64_t threads;            /* thread states whose heaps were walked */
    uint64_t pages;              /* pages with at least one allocated block */
    uint64_t abandoned_segments; /* segments of exited threads, in the interpreter's pool */
    uint64_t abandoned_pages;
    uint64_t blocks[PH_MI_NTAGS];  /* allocated blocks, by heap tag */
    uint64_t bytes[PH_MI_NTAGS];   /* their block sizes */
    uint64_t bad_pages;          /* pages skipped as damaged */
} ph_mi_stats;

/* One allocated block: its address, block size and heap tag.  Return false to stop. */
typedef bool ph_mi_block_fn(ph_heap *h, uint64_t block, uint64_t size, int tag, void *payload);

/* Calls fn for every allocated block, in pages whose tag is in tag_mask
 * (1 << PH_MI_GC | ...), of every thread's heaps in every interpreter and of
 * each interpreter's abandoned segments, as gc_visit_heaps does
 * (Python/gc_free_threading.c).  A block is allocated when it is on none of
 * its page's free lists (free, local_free, thread free) nor on its heap's
 * delayed-free list.  stats may be NULL. */
ph_error *ph_mi_walk_blocks(ph_heap *h, unsigned tag_mask, ph_mi_block_fn *fn, void *payload,
                            ph_mi_stats *stats);

/* The mimalloc block addr falls in, found from the address alone as
 * mimalloc's own _mi_ptr_page does (its segment by alignment, the slice it
 * lies in, back to its page by slice_offset): its start, its size and its
 * page's heap tag (PH_MI_*).  False when addr lies in no used page of a
 * segment that checks out (a static object, a malloc'd block, a free
 * region), or between a page's blocks. */
bool ph_mi_block_of(ph_heap *h, uint64_t addr, uint64_t *block, uint64_t *size, int *tag);

/* The GC enumeration of a free-threaded build: every object tracked by the
 * GC in the GC heaps (GC and GC_PRE), as gc.get_objects() sees them; frozen
 * ones (gc.freeze()) with h->in_permanent set.  Counts in h->mi what the GC
 * heaps hold, in h->mi_all what every heap holds. */
ph_error *ph_mi_walk_gc(ph_heap *h, ph_visit_fn *visit, void *payload);

#endif
