/* alloc on a free-threaded build: mimalloc's segments, pages and blocks.
 *
 * What pymalloc.c tells of arenas and pools, this tells of mimalloc, the
 * allocator of free-threaded CPython: every page with allocated blocks of
 * every thread's four heaps (MEM, OBJECT, GC, GC_PRE) and of the abandoned
 * segments of threads that exited (mimalloc.c walks them), grouped by block
 * size (mimalloc's size classes: a page holds blocks of one size), the
 * segments that hold those pages, and where each object of the index lives:
 * in a page's block, or outside every page (static objects: builtin types,
 * immortal objects in the executable's data).  The page's own count of used
 * blocks (page->used) is kept beside the blocks found on no free list: the
 * two differ by the blocks freed by other threads and not yet collected. */
#include "base/error.h"
#include "cpython/mimalloc.h"
#include "heap/heap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct page_rec {
    uint64_t start, end;         /* the page's blocks: [start, start + capacity * block_size) */
    uint64_t block_size;
    uint64_t segment;
    uint64_t allocated, nfree;   /* blocks allocated; the others of the page, carved or not */
    size_t cls;                  /* its class, once the classes are made */
} page_rec;

typedef struct pages {
    page_rec *v;
    size_t n, cap;
    ph_alloc *a;
    bool nomem;
} pages;

static bool on_page(ph_heap *h, const ph_mi_page *p, void *payload)
{
    pages *ps = payload;
    ph_alloc *a = ps->a;
    if (ps->n == ps->cap) {
        size_t nc = ps->cap ? ps->cap * 2 : 256;
        page_rec *v = realloc(ps->v, nc * sizeof(*v));
        if (!v) {
            ps->nomem = true;
            return false;
        }
        ps->v = v;
        ps->cap = nc;
    }
    ps->v[ps->n++] = (page_rec){.start = p->start, .end = p->start + p->capacity * p->block_size,
                                .block_size = p->block_size, .segment = p->segment,
                                .allocated = p->allocated,
                                .nfree = p->reserved > p->allocated ? p->reserved - p->allocated : 0};
    a->mi_pages++;
    a->mi_abandoned_pages += p->abandoned;
    a->mi_page_bytes += p->bytes;
    a->mi_used_blocks += p->used;
    return !h->interrupted;
}

static int cmp_size(const void *x, const void *y)
{
    const page_rec *a = x, *b = y;
    if (a->block_size != b->block_size)
        return a->block_size < b->block_size ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

static int cmp_start(const void *x, const void *y)
{
    const page_rec *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The classes, one per block size, from the pages (sorted by block size). */
static ph_error *make_classes(ph_alloc *a, pages *ps)
{
    size_t n = 0;
    for (size_t i = 0; i < ps->n; i++)
        n += i == 0 || ps->v[i].block_size != ps->v[i - 1].block_size;
    a->classes = calloc(n ? n : 1, sizeof(ph_size_class));
    if (!a->classes)
        return PH_NOMEM;
    for (size_t i = 0; i < ps->n; i++) {
        page_rec *p = &ps->v[i];
        if (i == 0 || p->block_size != ps->v[i - 1].block_size)
            a->classes[a->nclasses++].size =
                p->block_size > UINT32_MAX ? UINT32_MAX : (uint32_t)p->block_size;
        ph_size_class *c = &a->classes[a->nclasses - 1];
        c->pools++;
        c->blocks_used += p->allocated;
        c->blocks_free += p->nfree;
        p->cls = a->nclasses - 1;
    }
    return NULL;
}

/* The page whose blocks hold addr (pages sorted by start), or NULL. */
static const page_rec *page_of(const pages *ps, uint64_t addr)
{
    size_t lo = 0, hi = ps->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->v[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const page_rec *p = &ps->v[lo - 1];
    return addr < p->end ? p : NULL;
}

/* Every object of the index: in a page's block, or outside every page. */
static ph_error *place_objects(ph_heap *h, ph_alloc *a, const pages *ps)
{
    for (size_t i = 0; i < h->idx.n; i++) {
        if (i % 4096 == 0 && ph_poll(h))
            return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
        uint64_t addr = h->idx.addr[i], size = ph_index_size(&h->idx, i);
        const page_rec *p = page_of(ps, addr);
        if (p) {
            a->objects_in_arenas++;
            a->bytes_in_arenas += size;
            a->classes[p->cls].objects++;
            a->classes[p->cls].object_bytes += size;
        } else if (ph_alloc_static(h, NULL, addr, h->idx.type[i], size)) {
            a->objects_static++;
            a->bytes_static += size;
        } else {
            a->objects_stray++; /* outside mimalloc's pages, and not static */
            a->bytes_stray += size;
        }
    }
    a->malloc_types = calloc(1, sizeof(ph_kind_total));
    return a->malloc_types ? NULL : PH_NOMEM;
}

ph_error *ph_mi_alloc_get(ph_heap *h, ph_alloc **out)
{
    const ph_layout *L = h->L;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *out = NULL;
    ph_alloc *a = calloc(1, sizeof(*a));
    if (!a)
        return PH_NOMEM;
    a->allocator = "mimalloc";
    a->found_by = "thread states";
    a->raw_allocated_blocks = -1;
    a->mi_segment_size = (uint32_t)(UINT64_C(1) << L->mi_segment_shift);
    a->mi_slice_size = (uint32_t)(UINT64_C(1) << L->mi_slice_shift);
    pages ps = {.a = a};
    ph_mi_stats st;
    ph_error *err = ph_mi_walk_pages(h, (1u << PH_MI_NTAGS) - 1, on_page, &ps, &st);
    if (!err && ps.nomem)
        err = PH_NOMEM;
    if (!err && h->interrupted)
        err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
    if (!err) {
        a->mi_threads = st.threads;
        a->mi_abandoned_segments = st.abandoned_segments;
        a->mi_bad_pages = st.bad_pages;
        for (int t = 0; t < PH_MI_NTAGS; t++) {
            a->mi_blocks[t] = st.blocks[t];
            a->mi_bytes[t] = st.bytes[t];
            a->blocks_used += st.blocks[t];
            a->bytes_used += st.bytes[t];
        }
        /* the segments: distinct, of the pages found */
        uint64_t *segs = malloc((ps.n ? ps.n : 1) * sizeof(uint64_t));
        if (!segs)
            err = PH_NOMEM;
        for (size_t i = 0; segs && i < ps.n; i++)
            segs[i] = ps.v[i].segment;
        if (segs && ps.n)
            qsort(segs, ps.n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; segs && i < ps.n; i++)
            a->mi_segments += i == 0 || segs[i] != segs[i - 1];
        free(segs);
    }
    if (!err) {
        if (ps.n)
            qsort(ps.v, ps.n, sizeof(page_rec), cmp_size);
        err = make_classes(a, &ps);
    }
    if (!err) {
        for (size_t i = 0; i < a->nclasses; i++) {
            a->blocks_free += a->classes[i].blocks_free;
            a->bytes_free += a->classes[i].blocks_free * a->classes[i].size;
        }
        if (ps.n)
            qsort(ps.v, ps.n, sizeof(page_rec), cmp_start);
        err = place_objects(h, a, &ps);
    }
    free(ps.v);
    if (err) {
        ph_alloc_free(a);
        return err;
    }
    a->pools_used = a->mi_pages;
    a->arenas = a->mi_segments;
    a->arena_bytes = a->mi_page_bytes;
    a->states = a->mi_threads;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    *out = a;
    return NULL;
}
