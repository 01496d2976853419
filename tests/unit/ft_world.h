/* A tiny free-threaded CPython 3.14 world (Py_GIL_DISABLED): the 32-byte
 * object header, and mimalloc's structures as the 3.14t layout table gives
 * them (Include/internal/mimalloc/mimalloc/types.h, pycore_mimalloc.h):
 *
 *   segment 0 at IMG_BASE (32 MiB-aligned), slice entries 64, the image's
 *   own allocations from its slice 2 on; one thread state with initialized
 *   mimalloc heaps whose GC heap has one page (slice 16, 8 blocks of 64
 *   bytes) in a page queue and whose GC_PRE heap has one (slice 17, 1 block
 *   with a 16-byte pre-header):
 *     GC page block 0  list A (tracked)        1  on page->free
 *                   2  list B (tracked)        3  on page->local_free
 *                   4  tuple (untracked)       5  on xthread_free (tagged 1)
 *                   6  on the heap's delayed-free list
 *                   7  on page->free (after block 1)
 *     GC_PRE page block 0: list P at +16 (tracked)
 *   and, with `abandoned`, segment 1 at IMG_BASE + 32 MiB in the
 *   interpreter's abandoned pool (tagged with low bits), slice 1 a GC page of
 *   2 blocks holding lists X, Y (tracked; nothing free), slices 2-7 a free span.
 *
 * Used by tests/unit/test_free_threaded.c and tests/fuzz/fuzz_walk.c. */
#ifndef PH_TEST_FT_WORLD_H
#define PH_TEST_FT_WORLD_H

#include "image.h"
#include "cpython/debug_offsets.h"
#include "cpython/mimalloc.h"

#define FT_SEG (UINT64_C(1) << 25)
#define FT_SLICE (UINT64_C(1) << 16)
#define FT_BSIZE 64
#define FT_TRACKED 1 /* _PyGC_BITS_TRACKED */

typedef struct ft_world {
    img im;
    ph_symbols syms;
    uint64_t runtime, interp, ts;
    uint64_t gc_page, pre_page, ab_page, seg1;
    uint64_t block[8];           /* the GC page's blocks */
    uint64_t A, B, T, P, X, Y;   /* the objects */
} ft_world;

static inline uint64_t ft_page_at(const ph_layout *L, uint64_t seg, unsigned slice)
{
    return seg + (uint64_t)L->mi_segment_slices + slice * (uint64_t)L->mi_page_sizeof;
}

/* A page struct: tag (PH_MI_*), capacity blocks of bsize, used of them in use. */
static inline void ft_page(img *im, uint64_t page, int tag, unsigned slices, unsigned cap,
                           unsigned used, unsigned bsize)
{
    const ph_layout *L = im->L;
    img_w32(im, page + (uint64_t)L->mi_page_slice_count, slices);
    img_w32(im, page + (uint64_t)L->mi_page_slice_offset, 0);
    img_w8(im, page + (uint64_t)L->mi_page_tag_byte, (uint8_t)(1u | (unsigned)tag << 3)); /* committed */
    memcpy(img_at(im, page + (uint64_t)L->mi_page_capacity, 2), &(uint16_t){(uint16_t)cap}, 2);
    memcpy(img_at(im, page + (uint64_t)L->mi_page_reserved, 2), &(uint16_t){(uint16_t)cap}, 2);
    img_w32(im, page + (uint64_t)L->mi_page_used, used);
    img_w32(im, page + (uint64_t)L->mi_page_xblock_size, bsize);
}

/* A list of no items at addr (a block), with GC bits. */
static inline uint64_t ft_list_at(img *im, uint64_t addr, uint8_t gc_bits)
{
    const ph_layout *L = im->L;
    img_header(im, addr, 1, im->list_type);
    img_w8(im, addr + (uint64_t)L->ob_gc_bits, gc_bits);
    img_w64(im, addr + ph_off_ob_size(L), 0);
    img_field(im, addr, L->list_ob_item, 0);
    img_field(im, addr, L->list_allocated, 0);
    return addr;
}

static inline void make_ft_world(ft_world *w, bool abandoned)
{
    memset(w, 0, sizeof(*w));
    img *im = &w->im;
    /* one segment, or two; the image's allocations start at slice 2 */
    img_init_build(im, 14, (size_t)(abandoned ? FT_SEG + 8 * FT_SLICE : 16 * FT_SLICE + 2 * FT_SLICE),
                   true, 2 * FT_SLICE);
    const ph_layout *L = im->L;
    const uint64_t seg = IMG_BASE;
    img_w64(im, seg + (uint64_t)L->mi_segment_slice_entries, 64);
    img_w32(im, ft_page_at(L, seg, 0) + (uint64_t)L->mi_page_slice_count, 2); /* the segment's info */

    /* _PyRuntime: _Py_DebugOffsets (cookie, PY_VERSION_HEX of 3.14.7,
     * free_threaded 1, and the offsets probe-heap checks, from the table),
     * then the interpreter list; an interpreter; one thread state */
    w->runtime = img_alloc(im, (size_t)L->runtime_interpreters_head + 64);
    const size_t interp_size = (size_t)L->interp_mimalloc_abandoned + 256;
    img_debug_offsets(im, w->runtime, 14, UINT64_C(0x030E07F0), interp_size,
                      (uint64_t)L->gc_collecting + 8);
    img_w64(im, w->runtime + 16, 1); /* free_threaded */
    w->interp = img_alloc(im, interp_size);
    w->ts = img_alloc(im, (size_t)L->tstate_mimalloc_initialized + 64);
    img_field(im, w->runtime, L->runtime_interpreters_head, w->interp);
    img_field(im, w->interp, L->interp_threads_head, w->ts);
    img_field(im, w->ts, L->tstate_interp, w->interp); /* as every thread state does (probes.c) */
    img_w32(im, w->ts + (uint64_t)L->tstate_mimalloc_initialized, 1);
    uint64_t heaps = w->ts + (uint64_t)L->tstate_mimalloc_heaps;
    uint64_t gc_heap = heaps + PH_MI_GC * (uint64_t)L->mi_heap_sizeof;
    uint64_t pre_heap = heaps + PH_MI_GC_PRE * (uint64_t)L->mi_heap_sizeof;

    /* the GC page, in the queue of its size class (bin 8 of 64-byte blocks) */
    w->gc_page = ft_page_at(L, seg, 16);
    ft_page(im, w->gc_page, PH_MI_GC, 1, 8, 5, FT_BSIZE);
    img_w64(im, gc_heap + (uint64_t)L->mi_heap_pages + 8 * (uint64_t)L->mi_page_queue_sizeof,
            w->gc_page);
    uint64_t start = seg + 16 * FT_SLICE + 3 * FT_BSIZE; /* segment.c: 3 * bsize in front */
    for (int i = 0; i < 8; i++)
        w->block[i] = start + (uint64_t)i * FT_BSIZE;
    w->A = ft_list_at(im, w->block[0], FT_TRACKED);
    w->B = ft_list_at(im, w->block[2], FT_TRACKED);
    w->T = w->block[4];
    img_header(im, w->T, 1, im->tuple_type); /* an empty tuple, untracked */
    img_field(im, w->gc_page, L->mi_page_free, w->block[1]);
    img_w64(im, w->block[1], w->block[7]);
    img_field(im, w->gc_page, L->mi_page_local_free, w->block[3]);
    img_field(im, w->gc_page, L->mi_page_xthread_free, w->block[5] | 1); /* MI_USE_DELAYED_FREE */
    img_field(im, gc_heap, L->mi_heap_thread_delayed_free, w->block[6]);

    /* the GC_PRE page: one block, the object after the two pre-header words */
    w->pre_page = ft_page_at(L, seg, 17);
    ft_page(im, w->pre_page, PH_MI_GC_PRE, 1, 1, 1, FT_BSIZE);
    img_w64(im, pre_heap + (uint64_t)L->mi_heap_pages + 8 * (uint64_t)L->mi_page_queue_sizeof,
            w->pre_page);
    w->P = ft_list_at(im, seg + 17 * FT_SLICE + 3 * FT_BSIZE + (uint64_t)L->preheader_size,
                      FT_TRACKED);

    if (abandoned) {
        w->seg1 = seg + FT_SEG;
        img_w64(im, w->seg1 + (uint64_t)L->mi_segment_slice_entries, 8);
        img_w32(im, ft_page_at(L, w->seg1, 0) + (uint64_t)L->mi_page_slice_count, 1);
        w->ab_page = ft_page_at(L, w->seg1, 1);
        ft_page(im, w->ab_page, PH_MI_GC, 1, 2, 2, FT_BSIZE);
        img_w32(im, ft_page_at(L, w->seg1, 2) + (uint64_t)L->mi_page_slice_count, 6); /* free */
        w->X = ft_list_at(im, w->seg1 + FT_SLICE + 3 * FT_BSIZE, FT_TRACKED);
        w->Y = ft_list_at(im, w->seg1 + FT_SLICE + 4 * FT_BSIZE, FT_TRACKED);
        uint64_t pool = w->interp + (uint64_t)L->interp_mimalloc_abandoned;
        img_w64(im, pool + (uint64_t)L->mi_pool_abandoned, w->seg1 | 5); /* an ABA tag */
    }
    w->syms.py_runtime = w->runtime;
    w->syms.type_type = im->type_type;
}

#endif
