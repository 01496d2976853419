/* The conservative scan of words, and the full check of an object it
 * guesses at.
 *
 * A word of a C object (or of a module's state) that points to something
 * shaped like an object is taken for a reference only if, beyond the checks
 * every object goes through (ph_object_check: readable, a type whose
 * metatype chain ends at type, a refcount between 1 and 2^40):
 *
 *  - its refcount is below 2^32 (or it is immortal): a C struct read as an
 *    object has a pointer there, as the C-API structs behind the _datetime
 *    and _socket capsules and module states do (their first words are type
 *    pointers, below 2^32 in a non-PIE executable such as Debian's);
 *  - in a pymalloc pool (a page whose header says so), it sits where its
 *    type puts an object in a block (its GC header and 3.11+ pre-header in
 *    front, the block on the pool's grid) and its basic size (a compact
 *    str's header) fits the block:
 *    a module state or a C struct at the start of a block, read as a GC
 *    object, is not on the grid.
 *
 *  - on a free-threaded build, in mimalloc's heaps (ph_mi_block_of), it
 *    starts a block (after the managed dict/weakref pre-header when its
 *    type has one) of the heap its type allocates from
 *    (_PyObject_GetAllocationHeap: GC_PRE with a pre-header, else GC for a
 *    GC type, else OBJECT): a module state or a C struct is a block of the
 *    MEM heap (PyMem_Malloc), as _decimal's state is, whose fourth word is
 *    the Decimal type and which reads as a Decimal.
 *
 * Capsules are never scanned (types.c: they hold no references): their
 * pointer is a C struct, never an object. */
#include "heap/heap.h"
#include "cpython/conservative.h"
#include "cpython/mimalloc.h"
#include "cpython/pymalloc.h"
#include "cpython/stackref.h"

#include <string.h>

static uint64_t front_of(ph_heap *h, const ph_type *t, uint64_t addr)
{
    const ph_layout *L = h->L;
    bool gc = t->gc;
    if (gc && t->is_type_type) { /* type_is_gc: heap types only */
        uint64_t flags = 0;
        ph_read_u64(h->r, addr + (uint64_t)L->tp_flags, &flags);
        gc = flags & TPFLAGS_HEAPTYPE;
    }
    uint64_t pre = gc && L->gc_head_size > 0 ? (uint64_t)L->gc_head_size : 0;
    if (L->preheader_size > 0) {
        uint64_t managed = TPFLAGS_MANAGED_DICT |
                           (L->managed_weakref != PH_NONE ? TPFLAGS_MANAGED_WEAKREF : 0);
        if (t->flags & managed)
            pre += (uint64_t)L->preheader_size;
    }
    return pre;
}

bool ph_conservative_ok(ph_heap *h, uint64_t addr, uint32_t ti)
{
    const ph_layout *L = h->L;
    if (ti >= h->ntypes)
        return false;
    int64_t rc = 0;
    bool immortal = false, deferred_zero = false;
    if (!ph_refcnt_read_ex(h->r, L, addr, &rc, &immortal, &deferred_zero))
        return false;
    if (!immortal && !deferred_zero && (rc <= 0 || (uint64_t)rc >= (UINT64_C(1) << 32)))
        return false;
    if (L->free_threaded == 1) {
        const ph_type *t = &h->types[ti];
        uint64_t block = 0, size = 0;
        int tag = -1;
        if (!ph_mi_block_of(h, addr, &block, &size, &tag))
            return true; /* not in mimalloc's heaps: a static object */
        bool pre = t->flags & (TPFLAGS_MANAGED_DICT | TPFLAGS_MANAGED_WEAKREF);
        int want = pre ? PH_MI_GC_PRE : t->gc ? PH_MI_GC : PH_MI_OBJECT;
        uint64_t front = pre ? (uint64_t)L->preheader_size : 0;
        uint64_t least = t->shape == SHAPE_STR ? 40 : (uint64_t)(t->basicsize > 0 ? t->basicsize : 0);
        return tag == want && addr == block + front && front + least <= size;
    }
    ph_pool_geometry g;
    if (!ph_pool_geometry_get(L, &g) || L->pool_szidx < 0 || L->pool_maxnextoffset < 0 ||
        L->pool_header_sizeof > 256)
        return true;
    const ph_type *t = &h->types[ti];
    uint64_t front = front_of(h, t, addr);
    uint64_t pool = (addr - front) & ~(g.pool_size - 1);
    unsigned char hdr[256];
    if (!ph_read(h->r, pool, hdr, (size_t)L->pool_header_sizeof))
        return true;
    uint32_t count, szidx, maxnext;
    memcpy(&count, hdr, 4);
    memcpy(&szidx, hdr + L->pool_szidx, 4);
    memcpy(&maxnext, hdr + L->pool_maxnextoffset, 4);
    if (szidx >= g.nclasses || count == 0)
        return true; /* not a pool in use: malloc'd or static */
    uint64_t size = (szidx + 1) * g.align;
    if (maxnext != g.pool_size - size)
        return true;
    uint64_t block = addr - front;
    if (block < pool + g.overhead || (block - pool - g.overhead) % size)
        return false;
    /* a compact str is smaller than str's tp_basicsize (PyUnicodeObject) */
    uint64_t least = t->shape == SHAPE_STR ? 40 : (uint64_t)(t->basicsize > 0 ? t->basicsize : 0);
    return front + least <= size;
}

void ph_scan_words(ph_heap *h, uint64_t base, uint64_t from, uint64_t to, const char *name,
                   ph_visit_fn *visit, void *payload)
{
    if (to <= from)
        return;
    if (to - from > PH_SCAN_MAX)
        to = from + PH_SCAN_MAX;
    bool was = h->conservative;
    h->conservative = true;
    uint64_t buf[512];
    for (uint64_t a = from; a + 8 <= to; a += sizeof(buf)) {
        uint64_t k = (to - a) / 8 < 512 ? (to - a) / 8 : 512;
        if (!ph_read(h->r, a, buf, (size_t)k * 8))
            break;
        for (uint64_t j = 0; j < k; j++)
            if (ph_ptr_ok(buf[j])) { /* never 0 */
                PH_LABEL(h, EDGE_OFFSET, name, a + 8 * j - base, 0);
                visit(h, buf[j], payload);
            }
    }
    h->conservative = was;
}
