/* mimalloc, the allocator of free-threaded CPython, read from outside.
 *
 * A free-threaded build (Py_GIL_DISABLED) has no PyGC_Head and no GC lists:
 * the collector finds its objects by walking mimalloc's heaps
 * (Python/gc_free_threading.c gc_visit_heaps), and so does this file.  Every
 * thread state (_PyThreadStateImpl) embeds four heaps (pycore_mimalloc.h:
 * MEM, OBJECT, GC, GC_PRE); a heap keeps its pages in queues by size class
 * (mi_heap_t.pages[], the last one the full pages); a page is a run of
 * 64 KiB slices of a 32 MiB segment, cut into blocks of one size.  A thread
 * that exits abandons its segments to its interpreter's pool
 * (interp->mimalloc.abandoned_pool: two lists linked by abandoned_next),
 * whose used slices are pages of their own.
 *
 * A block is allocated when it is on none of its page's free lists: free
 * (malloc takes from it), local_free (freed by the owning thread),
 * xthread_free (freed by other threads; the low two bits are a state) and
 * its heap's thread_delayed_free list.  Release builds do not encode these
 * lists (MI_ENCODE_FREELIST needs MI_SECURE >= 3 or MI_DEBUG >= 1); a block's
 * first word is the next pointer.  Offsets come from the layout (DWARF of
 * the 3.14t build); every pointer is checked to lie in its page, every loop
 * bounded. */
#include "cpython/mimalloc.h"

#include "base/error.h"
#include "cpython/runtime.h"
#include "heap/heap.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PAGES_PER_QUEUE 1000000
#define MAX_SEGMENTS 1000000
#define MAX_DELAYED 1000000
#define MI_HUGE_BLOCK_SIZE (UINT64_C(2) << 30) /* types.h: 2 GiB; larger: the page's size */
#define MI_MAX_SLICES 513                     /* MI_SLICES_PER_SEGMENT + 1 (32 MiB / 64 KiB) */

typedef struct walk {
    ph_heap *h;
    unsigned tags;
    ph_mi_block_fn *fn;          /* every allocated block, or NULL */
    ph_mi_page_fn *page_fn;      /* every page with allocated blocks, or NULL */
    void *payload;
    bool abandoned;              /* walking the abandoned pool's segments */
    ph_mi_stats *st;
    uint8_t *freemap;            /* one bit a block of the page being walked */
    size_t freemap_bits;
    uint64_t *delayed;           /* the heap's delayed-free blocks, sorted */
    size_t ndelayed;
    bool stop;
} walk;

static uint64_t get(const unsigned char *buf, int32_t off, int size)
{
    uint64_t v = 0;
    memcpy(&v, buf + off, (size_t)size);
    return v;
}

/* Where a page's first block is, from the start of its first slice
 * (segment.c _mi_segment_page_start_from_slice: small blocks after a few
 * of their own size); a huge page's block size (2 GiB and more in
 * xblock_size) becomes the page's size. */
static uint64_t block_layout(uint64_t *bsize, uint64_t psize)
{
    if (*bsize >= MI_HUGE_BLOCK_SIZE) {
        *bsize = psize; /* one block, the page's size */
        return 0;
    }
    if (*bsize < 8)
        return 0;
    return *bsize <= 64 ? 3 * *bsize : *bsize <= 512 ? *bsize : 0;
}

/* Marks the blocks of one free list in the page's map; false when the list
 * leaves the page (damaged, or read mid-update). */
static bool mark_list(walk *w, uint64_t p, uint64_t start, uint64_t bsize, uint64_t cap)
{
    for (uint64_t n = 0; p && n <= cap; n++) {
        if (p < start || p >= start + cap * bsize || (p - start) % bsize)
            return false;
        uint64_t i = (p - start) / bsize;
        if (w->freemap[i / 8] & (1u << (i % 8)))
            return false; /* a loop */
        w->freemap[i / 8] |= (uint8_t)(1u << (i % 8));
        if (!ph_read_u64(w->h->r, p, &p))
            return false;
    }
    return p == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The allocated blocks of one page.  page is the mi_page_t (a slice of its
 * segment's slices[] array). */
static void walk_page(walk *w, uint64_t page)
{
    ph_heap *h = w->h;
    const ph_layout *L = h->L;
    unsigned char pg[256];
    if (L->mi_page_sizeof <= 0 || L->mi_page_sizeof > (int32_t)sizeof(pg) ||
        !ph_read(h->r, page, pg, (size_t)L->mi_page_sizeof)) {
        w->st->bad_pages++;
        ph_skip(h, page, "an unreadable mimalloc page");
        return;
    }
    int tag = (int)((get(pg, L->mi_page_tag_byte, 1) >> 3) & 15);
    uint64_t cap = get(pg, L->mi_page_capacity, 2), reserved = get(pg, L->mi_page_reserved, 2);
    uint64_t used = get(pg, L->mi_page_used, 4), bsize = get(pg, L->mi_page_xblock_size, 4);
    uint64_t slice_count = get(pg, L->mi_page_slice_count, 4);
    const uint64_t seg_size = UINT64_C(1) << L->mi_segment_shift;
    const uint64_t slice_size = UINT64_C(1) << L->mi_slice_shift;
    uint64_t segment = page & ~(seg_size - 1);
    uint64_t slices = segment + (uint64_t)L->mi_segment_slices;
    uint64_t entries = 0;
    ph_read_u64(h->r, segment + (uint64_t)L->mi_segment_slice_entries, &entries);
    if (page < slices || (page - slices) % (uint64_t)L->mi_page_sizeof || entries > MI_MAX_SLICES ||
        (page - slices) / (uint64_t)L->mi_page_sizeof >= entries || slice_count == 0 ||
        slice_count > MI_MAX_SLICES || cap > reserved || bsize == 0) {
        w->st->bad_pages++;
        ph_skip(h, page, "a mimalloc page that does not fit its segment");
        return;
    }
    if (tag >= PH_MI_NTAGS || !(w->tags & (1u << tag)))
        return;
    if (used == 0 || cap == 0)
        return;
    uint64_t idx = (page - slices) / (uint64_t)L->mi_page_sizeof;
    uint64_t psize = slice_count * slice_size;
    uint64_t start_offset = block_layout(&bsize, psize);
    uint64_t start = segment + idx * slice_size + start_offset;
    if (cap * bsize > psize - start_offset) {
        w->st->bad_pages++;
        ph_skip(h, page, "a mimalloc page whose blocks overflow it");
        return;
    }
    size_t bytes = (size_t)(cap + 7) / 8;
    if (cap > w->freemap_bits) {
        uint8_t *m = realloc(w->freemap, bytes);
        if (!m) {
            w->stop = true;
            return;
        }
        w->freemap = m;
        w->freemap_bits = bytes * 8;
    }
    memset(w->freemap, 0, bytes);
    bool ok = mark_list(w, get(pg, L->mi_page_free, 8), start, bsize, cap) &&
              mark_list(w, get(pg, L->mi_page_local_free, 8), start, bsize, cap) &&
              mark_list(w, get(pg, L->mi_page_xthread_free, 8) & ~(uint64_t)3, start, bsize, cap);
    if (!ok) {
        w->st->bad_pages++;
        ph_skip(h, page, "a mimalloc free list that leaves its page");
        return;
    }
    /* the heap's delayed frees that fall in this page */
    if (w->ndelayed) {
        size_t lo = 0, hi = w->ndelayed;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (w->delayed[mid] < start)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < w->ndelayed && w->delayed[k] < start + cap * bsize; k++)
            if ((w->delayed[k] - start) % bsize == 0) {
                uint64_t i = (w->delayed[k] - start) / bsize;
                w->freemap[i / 8] |= (uint8_t)(1u << (i % 8));
            }
    }
    w->st->pages++;
    uint64_t allocated = 0;
    for (uint64_t i = 0; i < cap && !w->stop; i++) {
        if (w->freemap[i / 8] & (1u << (i % 8)))
            continue;
        allocated++;
        w->st->blocks[tag]++;
        w->st->bytes[tag] += bsize;
        if (w->fn && !w->fn(h, start + i * bsize, bsize, tag, w->payload))
            w->stop = true;
    }
    if (w->page_fn && !w->stop) {
        ph_mi_page p = {.page = page, .segment = segment, .start = start, .block_size = bsize,
                        .capacity = cap, .reserved = reserved, .used = used,
                        .allocated = allocated, .bytes = psize, .tag = tag,
                        .abandoned = w->abandoned};
        if (!w->page_fn(h, &p, w->payload))
            w->stop = true;
    }
    if (ph_poll(h))
        w->stop = true;
}

/* The blocks on a heap's delayed-free list (freed by other threads into
 * full pages), sorted for walk_page. */
static void read_delayed(walk *w, uint64_t heap)
{
    ph_heap *h = w->h;
    w->ndelayed = 0;
    uint64_t p = 0;
    size_t cap = 0;
    ph_read_u64(h->r, heap + (uint64_t)h->L->mi_heap_thread_delayed_free, &p);
    ph_cycle cyc = {0};
    for (size_t n = 0; ph_ptr_ok(p) && n < MAX_DELAYED && !ph_cycle_seen(&cyc, p); n++) {
        if (w->ndelayed == cap) {
            size_t nc = cap ? cap * 2 : 64;
            uint64_t *d = realloc(w->delayed, nc * sizeof(*d));
            if (!d)
                break;
            w->delayed = d;
            cap = nc;
        }
        w->delayed[w->ndelayed++] = p;
        if (!ph_read_u64(h->r, p, &p))
            break;
    }
    if (w->ndelayed > 1)
        qsort(w->delayed, w->ndelayed, sizeof(uint64_t), cmp_u64);
}

static void walk_heap(walk *w, uint64_t heap)
{
    ph_heap *h = w->h;
    const ph_layout *L = h->L;
    read_delayed(w, heap);
    for (int32_t q = 0; q < L->mi_heap_npages && !w->stop; q++) {
        uint64_t page = 0;
        ph_read_u64(h->r, heap + (uint64_t)L->mi_heap_pages + (uint64_t)q * (uint64_t)L->mi_page_queue_sizeof,
                    &page);
        ph_cycle cyc = {0};
        for (int n = 0; n < MAX_PAGES_PER_QUEUE && ph_ptr_ok(page) && !w->stop; n++) {
            if (ph_cycle_seen(&cyc, page)) {
                ph_skip(h, page, "a mimalloc page queue that loops");
                break;
            }
            walk_page(w, page);
            if (!ph_read_u64(h->r, page + (uint64_t)L->mi_page_next, &page))
                break;
        }
    }
    w->ndelayed = 0;
}

/* The used pages of an abandoned segment (segment.c mi_segment_visit_pages). */
static void walk_segment(walk *w, uint64_t segment)
{
    ph_heap *h = w->h;
    const ph_layout *L = h->L;
    uint64_t entries = 0, slices = segment + (uint64_t)L->mi_segment_slices;
    if (!ph_read_u64(h->r, segment + (uint64_t)L->mi_segment_slice_entries, &entries) ||
        entries == 0 || entries > MI_MAX_SLICES) {
        ph_skip(h, segment, "an abandoned mimalloc segment with no sane slice count");
        return;
    }
    uint32_t first = 0;
    ph_read(h->r, slices + (uint64_t)L->mi_page_slice_count, &first, 4);
    for (uint64_t i = first ? first : 1; i < entries && !w->stop;) {
        uint64_t s = slices + i * (uint64_t)L->mi_page_sizeof;
        uint32_t count = 0, bsize = 0;
        if (!ph_read(h->r, s + (uint64_t)L->mi_page_slice_count, &count, 4) ||
            !ph_read(h->r, s + (uint64_t)L->mi_page_xblock_size, &bsize, 4) || count == 0)
            break;
        if (bsize > 0) { /* mi_slice_is_used */
            w->st->abandoned_pages++;
            walk_page(w, s);
        }
        i += count;
    }
}

static void walk_abandoned(walk *w, uint64_t interp)
{
    ph_heap *h = w->h;
    const ph_layout *L = h->L;
    uint64_t pool = interp + (uint64_t)L->interp_mimalloc_abandoned;
    const uint64_t mask = (UINT64_C(1) << L->mi_segment_shift) - 1;
    uint64_t heads[2] = {0, 0};
    ph_read_u64(h->r, pool + (uint64_t)L->mi_pool_abandoned, &heads[0]);
    heads[0] &= ~mask; /* mi_tagged_segment_t: the low bits are an ABA tag */
    ph_read_u64(h->r, pool + (uint64_t)L->mi_pool_abandoned_visited, &heads[1]);
    for (int k = 0; k < 2; k++) {
        uint64_t seg = heads[k];
        ph_cycle cyc = {0};
        for (int n = 0; n < MAX_SEGMENTS && ph_ptr_ok(seg) && !(seg & mask) && !w->stop; n++) {
            if (ph_cycle_seen(&cyc, seg)) {
                ph_skip(h, seg, "an abandoned segment list that loops");
                break;
            }
            w->st->abandoned_segments++;
            w->abandoned = true;
            walk_segment(w, seg);
            w->abandoned = false;
            if (!ph_read_u64(h->r, seg + (uint64_t)L->mi_segment_abandoned_next, &seg))
                break;
        }
    }
}

/* A thread's heaps, once mimalloc is bound to it; an interpreter's abandoned
 * segments after its threads. */
static bool walk_state(ph_heap *h, ph_state_kind kind, uint64_t addr, uint64_t interp,
                       void *payload)
{
    walk *w = payload;
    const ph_layout *L = h->L;
    if (kind == PH_STATE_THREAD) {
        int32_t initialized = 0;
        ph_read(h->r, addr + (uint64_t)L->tstate_mimalloc_initialized, &initialized, 4);
        if (initialized) { /* tstate_mimalloc_bind() has run */
            w->st->threads++;
            for (int tag = 0; tag < PH_MI_NTAGS && !w->stop; tag++)
                if (w->tags & (1u << tag))
                    walk_heap(w, addr + (uint64_t)L->tstate_mimalloc_heaps +
                                     (uint64_t)tag * (uint64_t)L->mi_heap_sizeof);
        }
    } else if (kind == PH_STATE_INTERP_DONE) {
        walk_abandoned(w, interp);
    }
    return !w->stop;
}

static ph_error *walk_all(ph_heap *h, unsigned tag_mask, ph_mi_block_fn *fn,
                          ph_mi_page_fn *page_fn, void *payload, ph_mi_stats *stats)
{
    const ph_layout *L = h->L;
    ph_mi_stats local;
    memset(&local, 0, sizeof(local));
    if (L->free_threaded != 1 || L->tstate_mimalloc_heaps == PH_NONE)
        return ph_error_new(PH_ERR_VERSION, 0, "this CPython does not allocate with mimalloc");
    walk w = {.h = h, .tags = tag_mask, .fn = fn, .page_fn = page_fn, .payload = payload,
              .st = stats ? stats : &local};
    memset(w.st, 0, sizeof(*w.st));
    ph_runtime_states(h, 0, walk_state, &w);
    free(w.freemap);
    free(w.delayed);
    if (h->interrupted)
        return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
    return NULL;
}

ph_error *ph_mi_walk_blocks(ph_heap *h, unsigned tag_mask, ph_mi_block_fn *fn, void *payload,
                            ph_mi_stats *stats)
{
    return walk_all(h, tag_mask, fn, NULL, payload, stats);
}

ph_error *ph_mi_walk_pages(ph_heap *h, unsigned tag_mask, ph_mi_page_fn *fn, void *payload,
                           ph_mi_stats *stats)
{
    return walk_all(h, tag_mask, NULL, fn, payload, stats);
}

/* The page the slice at addr belongs to, found from the address alone as
 * mimalloc's own _mi_ptr_page does: its segment by alignment, the slice it
 * lies in, back to its page by slice_offset.  False when the segment or the
 * page does not check out, or the page is a free span (no block size). */
typedef struct page_geom {
    uint64_t start;       /* the first block */
    uint64_t bsize;       /* block size (a huge page: the page's size) */
    uint64_t capacity, reserved, used;
    uint64_t slice_count; /* slices in the page */
    bool first;           /* addr's slice is the page's first */
    int tag;
} page_geom;

static bool page_at(ph_reader *r, const ph_layout *L, uint64_t addr, page_geom *g)
{
    unsigned char pg[256];
    if (L->free_threaded != 1 || L->mi_segment_shift <= 0 || L->mi_slice_shift <= 0 ||
        L->mi_segment_shift >= 63 || L->mi_slice_shift >= L->mi_segment_shift ||
        L->mi_page_sizeof <= 0 || L->mi_page_sizeof > (int32_t)sizeof(pg) ||
        L->mi_page_slice_offset == PH_NONE)
        return false;
    const uint64_t seg_size = UINT64_C(1) << L->mi_segment_shift;
    const uint64_t slice_size = UINT64_C(1) << L->mi_slice_shift;
    uint64_t segment = addr & ~(seg_size - 1), entries = 0;
    uint64_t slices = segment + (uint64_t)L->mi_segment_slices;
    if (!ph_read_u64(r, segment + (uint64_t)L->mi_segment_slice_entries, &entries) ||
        entries == 0 || entries > MI_MAX_SLICES)
        return false;
    uint64_t idx = (addr - segment) / slice_size;
    if (idx >= entries)
        return false;
    uint64_t slice = slices + idx * (uint64_t)L->mi_page_sizeof;
    uint32_t back = 0;
    if (!ph_read(r, slice + (uint64_t)L->mi_page_slice_offset, &back, 4) ||
        back > idx * (uint64_t)L->mi_page_sizeof || back % (uint32_t)L->mi_page_sizeof)
        return false;
    uint64_t page = slice - back; /* mi_slice_first */
    if (!ph_read(r, page, pg, (size_t)L->mi_page_sizeof))
        return false;
    uint64_t pidx = (page - slices) / (uint64_t)L->mi_page_sizeof;
    g->capacity = get(pg, L->mi_page_capacity, 2);
    g->reserved = get(pg, L->mi_page_reserved, 2);
    g->used = get(pg, L->mi_page_used, 4);
    g->bsize = get(pg, L->mi_page_xblock_size, 4);
    g->slice_count = get(pg, L->mi_page_slice_count, 4);
    if (g->slice_count == 0 || g->slice_count > MI_MAX_SLICES || pidx + g->slice_count > entries ||
        idx >= pidx + g->slice_count || g->capacity > g->reserved || g->bsize == 0)
        return false; /* a free span, or not a page */
    uint64_t psize = g->slice_count * slice_size;
    uint64_t start_offset = block_layout(&g->bsize, psize);
    g->start = segment + pidx * slice_size + start_offset;
    if (g->reserved * g->bsize > psize - start_offset)
        return false;
    g->first = pidx == idx;
    g->tag = (int)((get(pg, L->mi_page_tag_byte, 1) >> 3) & 15);
    return true;
}

bool ph_mi_block_of(ph_heap *h, uint64_t addr, uint64_t *block, uint64_t *size, int *tag)
{
    page_geom g;
    if (!page_at(h->r, h->L, addr, &g) || g.used == 0 || g.capacity == 0 ||
        addr < g.start || addr >= g.start + g.capacity * g.bsize)
        return false;
    *block = g.start + (addr - g.start) / g.bsize * g.bsize;
    *size = g.bsize;
    *tag = g.tag;
    return true;
}

bool ph_mi_slice_grid(ph_reader *r, const ph_layout *L, uint64_t slice, uint64_t *start,
                      uint64_t *bsize, uint64_t *nblocks)
{
    page_geom g;
    if (!L || !page_at(r, L, slice, &g) || g.slice_count != 1 || !g.first || g.reserved == 0)
        return false;
    *start = g.start;
    *bsize = g.bsize;
    *nblocks = g.reserved;
    return true;
}

/* ---- the GC walk of a free-threaded build ---------------------------------- */

#define GC_BITS_TRACKED 1     /* pycore_gc.h _PyGC_BITS_TRACKED */
#define GC_BITS_UNREACHABLE 4 /* _PyGC_BITS_UNREACHABLE: set during a collection */
#define GC_BITS_FROZEN 8      /* _PyGC_BITS_FROZEN: gc.freeze() */

typedef struct gc_walk {
    ph_visit_fn *visit;
    void *payload;
} gc_walk;

static bool on_gc_block(ph_heap *h, uint64_t block, uint64_t size, int tag, void *payload)
{
    gc_walk *g = payload;
    /* objects with Py_TPFLAGS_PREHEADER have the managed dict and weakref
     * pointers before them (gc_visit_heaps_lock_held: offset_pre) */
    uint64_t pre = tag == PH_MI_GC_PRE ? (uint64_t)h->L->preheader_size : 0;
    uint8_t bits = 0;
    if (size < pre + (uint64_t)ph_off_ob_size(h->L) ||
        !ph_read(h->r, block + pre + (uint64_t)h->L->ob_gc_bits, &bits, 1) ||
        !(bits & GC_BITS_TRACKED))
        return true; /* untracked (op_from_block): found from roots, if at all */
    if (bits & GC_BITS_UNREACHABLE)
        h->gc_collecting = true;
    h->in_permanent = (bits & GC_BITS_FROZEN) != 0;
    g->visit(h, block + pre, g->payload);
    h->in_permanent = false;
    return !h->interrupted;
}

static bool count_block(ph_heap *h, uint64_t block, uint64_t size, int tag, void *payload)
{
    return !h->interrupted;
}

ph_error *ph_mi_walk_gc(ph_heap *h, ph_visit_fn *visit, void *payload)
{
    gc_walk g = {visit, payload};
    ph_error *err = ph_mi_walk_blocks(h, 1u << PH_MI_GC | 1u << PH_MI_GC_PRE, on_gc_block, &g, &h->mi);
    if (err)
        return err;
    /* every heap's blocks, counted as sys.getallocatedblocks() counts them
     * (Objects/obmalloc.c get_mimalloc_allocated_blocks: each thread's four
     * heaps and the abandoned pool, every tag) */
    return ph_mi_walk_blocks(h, (1u << PH_MI_NTAGS) - 1, count_block, NULL, &h->mi_all);
}
