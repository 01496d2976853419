/* mimalloc read from outside (mimalloc.c): the allocator of free-threaded
 * CPython builds (3.13t+), which keeps every object in per-thread heaps
 * instead of pymalloc's arenas and GC lists. */
#ifndef PH_MIMALLOC_H
#define PH_MIMALLOC_H

#include "cpython/layout.h"
#include "cpython/reference.h"
#include "memory/reader.h"
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

/* One page of a walk (ph_mi_walk_pages): where it is and what its blocks hold. */
typedef struct ph_mi_page {
    uint64_t page;               /* the mi_page_t, in its segment's slices[] */
    uint64_t segment;            /* the segment that holds it */
    uint64_t start;              /* its first block */
    uint64_t block_size;         /* its blocks' size (a huge page: the page's size) */
    uint64_t capacity;           /* blocks carved */
    uint64_t reserved;           /* blocks that fit the page */
    uint64_t used;               /* mimalloc's own count (page->used: blocks freed by other
                                    threads but not yet collected are still in it) */
    uint64_t allocated;          /* blocks on none of the free lists: what the walk found */
    uint64_t bytes;              /* the page's slices: slice_count * slice size */
    int tag;                     /* PH_MI_MEM ... PH_MI_GC_PRE */
    bool abandoned;              /* in a segment of the abandoned pool */
} ph_mi_page;

/* Return false to stop. */
typedef bool ph_mi_page_fn(ph_heap *h, const ph_mi_page *page, void *payload);

/* Calls fn for every page with allocated blocks, as ph_mi_walk_blocks
 * visits them, once its blocks are told allocated from free. */
ph_error *ph_mi_walk_pages(ph_heap *h, unsigned tag_mask, ph_mi_page_fn *fn, void *payload,
                           ph_mi_stats *stats);

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

/* For the object index (heap/index.c), which finds objects by their block
 * as it does in pymalloc's pools: when the slice at slice (a slice-aligned
 * address) is a whole page of blocks (a small page: blocks up to 8 KiB),
 * its first block, block size and how many blocks fit (mi_page_t.reserved).
 * False otherwise: a page of several slices, a free span, not a segment. */
bool ph_mi_slice_grid(ph_reader *r, const ph_layout *L, uint64_t slice, uint64_t *start,
                      uint64_t *bsize, uint64_t *nblocks);

/* The GC enumeration of a free-threaded build: every object tracked by the
 * GC in the GC heaps (GC and GC_PRE), as gc.get_objects() sees them; frozen
 * ones (gc.freeze()) with h->in_permanent set.  Counts in h->mi what the GC
 * heaps hold, in h->mi_all what every heap holds. */
ph_error *ph_mi_walk_gc(ph_heap *h, ph_visit_fn *visit, void *payload);

/* alloc on a free-threaded build (mimalloc_alloc.c): the pages and segments
 * of every heap, by block size, and where each object of the index lives;
 * ph_alloc_get calls it when the build is free-threaded. */
ph_error *ph_mi_alloc_get(ph_heap *h, ph_alloc **out);

#endif
