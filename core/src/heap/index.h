/* The object index: every object found, with its type, flat size and owner.
 *
 * Objects live in parallel arrays indexed by a dense object id; an
 * open-addressing table maps an address to its id.  No allocation per object. */
#ifndef PH_INDEX_H
#define PH_INDEX_H

#include "base/table.h"
#include "cpython/layout.h"
#include "memory/reader.h"
#include "probeheap.h"

#define PH_NO_OBJ UINT32_MAX

typedef struct ph_index {
    size_t n, cap;          /* objects */
    uint64_t *addr;
    uint32_t *size32;       /* flat size: read and set through ph_index_size and
                             * ph_index_set_size (PH_SIZE_BIG: in big[]) */
    struct ph_big_size {    /* the rare sizes of 4 GiB and more, by id (sorted) */
        uint32_t id;
        uint64_t size;
    } *big;
    size_t nbig, bigcap;
    uint32_t *type;         /* index into heap->types */
    uint32_t *owner;        /* dicts: owner's type index + 1 (0: none) */
    uint8_t *flags;
    /* Where an address is: objects in a pymalloc pool (or a mimalloc small
     * page) by their block's
     * number in the pool (one probe in a small table of pools, then a dense
     * array: neighbours in memory are neighbours here); the rest (malloc'd,
     * static, off the blocks' grid) in an open-addressing hash table. */
    struct ph_pool_rec *pools;  /* by pool address, open addressing; base 0 = empty */
    size_t pcap, npools;        /* power of two */
    struct ph_block {           /* each pool's blocks, in order, in chunks */
        uint32_t id;            /* the object's id + 1; 0: none (its address, which can
                                 * be after a GC header, say: addr[id]) */
    } **chunks;
    size_t nchunks, chunk_used; /* blocks used in the last chunk */
    size_t nblocks;             /* in all pools */
    uint64_t pool_mask;         /* ~(POOL_SIZE - 1); 0: no pools (hash table only) */
    uint32_t pool_shift, pool_nclasses;
    int32_t off_szidx, off_maxnext, hdr_size;
    struct ph_pool_class {
        uint32_t size, nblocks; /* block size, blocks per pool */
        uint32_t offset;        /* the first block's, from the pool's address */
        uint64_t mul;           /* ceil(2^40 / size): a block's number by multiplying */
    } pool_classes[128];        /* pymalloc: by size class; mimalloc: as pages are met */
    ph_reader *r;
    const ph_layout *L;         /* mimalloc's pools (a free-threaded build), else NULL */
    ph_idtable by_addr;     /* the objects not found through a pool, by address */
    /* The last objects found in by_addr, direct-mapped by address: the
     * few that every object points to (its heap type, None, a module's
     * dict) are found here without a probe. Found, so never stale. */
    struct ph_hot { uint64_t addr; uint32_t id; } *hot; /* id + 1; 0: empty */
} ph_index;

#define PH_INDEX_HOT 256
#define PH_SIZE_BIG UINT32_MAX

#define OBJ_FROM_ROOTS 1    /* reachable from the interpreter's roots */
#define OBJ_GC_LISTED 2     /* found on a GC list */
#define OBJ_ALIVE 4         /* not reached from the roots, but held from outside (C) */
#define OBJ_SEEN2 8         /* reached in the GC-list phase */
#define OBJ_ROOT 16         /* a root itself: in ph_heap.roots */
#define OBJ_PERMANENT 32    /* on the permanent generation's list (gc.freeze) */
#define OBJ_CONSERVATIVE 64 /* found only by a conservative scan's guess */

/* index.c.  With a layout (and its reader), objects in pymalloc pools are
 * found through their pool; with NULL, through the hash table alone. */
ph_error *ph_index_init(ph_index *ix, ph_reader *r, const ph_layout *L);
/* Gives back the arrays' room beyond the objects (after a walk: doubling
 * leaves up to half of it unused). */
void ph_index_trim(ph_index *ix);
/* The index's own memory in bytes. */
size_t ph_index_bytes(const ph_index *ix);
void ph_index_deinit(ph_index *ix);
/* An object's flat size: 4 bytes each in the index, the sizes of 4 GiB and
 * more (a huge bytes or array) in a sorted side table. */
/* Where id is, or would go, in the sorted side table of big sizes.  Inline,
 * with the lookup: cpython/'s allocator walks read sizes without calling up. */
static inline size_t ph_index_big_pos(const ph_index *ix, uint32_t id)
{
    size_t lo = 0, hi = ix->nbig;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->big[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static inline uint64_t ph_index_big_size(const ph_index *ix, uint32_t id)
{
    size_t i = ph_index_big_pos(ix, id);
    return i < ix->nbig && ix->big[i].id == id ? ix->big[i].size : 0;
}
static inline uint64_t ph_index_size(const ph_index *ix, uint32_t id)
{
    uint32_t s = ix->size32[id];
    return s != PH_SIZE_BIG ? s : ph_index_big_size(ix, id);
}
ph_error *ph_index_set_size_slow(ph_index *ix, uint32_t id, uint64_t size);
static inline ph_error *ph_index_set_size(ph_index *ix, uint32_t id, uint64_t size)
{
    if (size < PH_SIZE_BIG && ix->size32[id] != PH_SIZE_BIG) {
        ix->size32[id] = (uint32_t)size;
        return NULL;
    }
    return ph_index_set_size_slow(ix, id, size);
}
uint32_t ph_index_find(const ph_index *ix, uint64_t addr);
/* Adds addr; *id is its id; returns true if it is new. */
ph_error *ph_index_add(ph_index *ix, uint64_t addr, uint32_t type, uint32_t *id, bool *added);
/* For the walk, which adds what it does not find, without looking twice:
 * ph_index_find, and when addr is absent, *place is the empty block of a
 * known pool it would take (NULL: ph_index_add finds out); then, with
 * nothing added in between, ph_index_add_placed adds it there. */
uint32_t ph_index_find_place(const ph_index *ix, uint64_t addr, struct ph_block **place);
ph_error *ph_index_add_placed(ph_index *ix, uint64_t addr, uint32_t type, struct ph_block *place,
                              uint32_t *id);

#endif
