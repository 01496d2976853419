/* The object index: dense arrays of objects, and where each address is.
 *
 * Most objects live in pymalloc pools: a pool is POOL_SIZE bytes at a
 * POOL_SIZE-aligned address, a header, then blocks of one size (its size
 * class).  On a free-threaded build, in mimalloc's small pages: a 64 KiB
 * slice of a segment, blocks of one size from a start offset, the geometry
 * in the segment's page record (cpython/mimalloc.c ph_mi_slice_grid); they
 * are this file's pools too.  Such an object is found by its pool (a small open-addressing
 * table of pools, which stays in the CPU's cache) and its block's number in
 * the pool (a dense array per pool): one memory access where a hash table
 * of addresses needs two (the slot, then the object's address to compare),
 * and objects next to each other in the target are next to each other here,
 * which is how a walk meets them.  What is not on a pool's grid of blocks
 * (malloc'd objects, statics, the debug allocator's offset blocks, a page
 * whose header is not a pool's) goes to a hash table of addresses (linear
 * probing, load at most 1/2).
 *
 * Each page gets its record once, the first time an object of it is added,
 * and keeps it: where an address goes is decided by that record alone, so a
 * header that only looks like a pool's (a corrupt heap, a malloc'd page)
 * costs memory, never a wrong answer. */
#include "base/error.h"
#include "base/table.h"
#include "cpython/mimalloc.h"
#include "heap/heap.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BLOCKS (1u << 16) /* blocks per chunk: a pool has at most 4096 */
#define MAX_CLASSES 128 /* ph_index.pool_classes */
#define MUL_SHIFT 40

struct ph_pool_rec {
    uint64_t base;           /* the pool's address; 0: an empty entry */
    struct ph_block *blocks; /* NULL: not a pool (its objects are in the hash table) */
    uint32_t szidx;
};

static inline size_t hash_slot(uint64_t key, size_t cap)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1);
}

/* Keyed by the index's own addresses: 4 bytes a slot. */
#define ADDR_HASH(addr) ((addr) >> 3)
#define ADDR_HASH_ID(ix, id) ADDR_HASH((ix)->addr[id])
#define ADDR_IS(ix, id, a_) ((ix)->addr[id] == (a_))
PH_DEFINE_ID_TABLE(addrs, const ph_index *, uint64_t, ADDR_HASH, ADDR_HASH_ID, ADDR_IS)

ph_error *ph_index_init(ph_index *ix, ph_reader *r, const ph_layout *L)
{
    memset(ix, 0, sizeof(*ix));
    ph_error *err = addrs_reserve(&ix->by_addr, ix, 1u << 15);
    if (err)
        return err;
    if (!(ix->hot = calloc(PH_INDEX_HOT, sizeof(*ix->hot))))
        return PH_NOMEM;
    if (r && L && L->free_threaded == 1 && L->mi_slice_shift > 0 && L->mi_slice_shift <= 16) {
        /* mimalloc's small pages: their classes (block size, start, blocks)
         * are made as pages are met */
        if (!(ix->pools = calloc(ix->pcap = 1u << 10, sizeof(*ix->pools))))
            return PH_NOMEM;
        ix->r = r;
        ix->L = L;
        ix->pool_shift = (uint32_t)L->mi_slice_shift;
        ix->pool_mask = ~((UINT64_C(1) << ix->pool_shift) - 1);
        return NULL;
    }
    ph_pool_geometry g;
    if (!r || !L || !ph_pool_geometry_get(L, &g) || g.nclasses > MAX_CLASSES ||
        (g.pool_size & (g.pool_size - 1)) || g.pool_size > (1u << 16) ||
        L->pool_header_sizeof > 256 || L->pool_szidx < 0 || L->pool_maxnextoffset < 0 ||
        L->pool_szidx + 4 > L->pool_header_sizeof ||
        L->pool_maxnextoffset + 4 > L->pool_header_sizeof)
        return NULL; /* the hash table alone */
    ix->pcap = 1u << 10;
    ix->pools = calloc(ix->pcap, sizeof(*ix->pools));
    if (!ix->pools)
        return PH_NOMEM;
    ix->r = r;
    ix->pool_mask = ~(g.pool_size - 1);
    for (ix->pool_shift = 0; (UINT64_C(1) << ix->pool_shift) < g.pool_size; ix->pool_shift++)
        ;
    ix->pool_nclasses = (uint32_t)g.nclasses;
    for (uint32_t k = 0; k < ix->pool_nclasses; k++) {
        struct ph_pool_class *c = &ix->pool_classes[k];
        c->size = (k + 1) * (uint32_t)g.align;
        c->offset = (uint32_t)g.overhead;
        c->nblocks = (uint32_t)((g.pool_size - g.overhead) / c->size);
        c->mul = ((UINT64_C(1) << MUL_SHIFT) + c->size - 1) / c->size;
    }
    ix->off_szidx = L->pool_szidx;
    ix->off_maxnext = L->pool_maxnextoffset;
    ix->hdr_size = L->pool_header_sizeof;
    return NULL;
}

void ph_index_deinit(ph_index *ix)
{
    free(ix->addr);
    free(ix->size32);
    free(ix->big);
    free(ix->type);
    free(ix->owner);
    free(ix->flags);
    ph_idtable_free(&ix->by_addr);
    free(ix->hot);
    free(ix->pools);
    for (size_t i = 0; i < ix->nchunks; i++)
        free(ix->chunks[i]);
    free(ix->chunks);
    memset(ix, 0, sizeof(*ix));
}

size_t ph_index_bytes(const ph_index *ix)
{
    return ix->cap * (sizeof(*ix->addr) + sizeof(*ix->size32) + sizeof(*ix->type) +
                      sizeof(*ix->owner) + sizeof(*ix->flags)) +
           ix->bigcap * sizeof(*ix->big) + ph_idtable_bytes(&ix->by_addr) +
           ix->pcap * sizeof(*ix->pools) +
           ix->nchunks * (CHUNK_BLOCKS * sizeof(struct ph_block) + sizeof(*ix->chunks));
}

/* ---- pools ---------------------------------------------------------------- */

static inline const struct ph_pool_rec *pool_find(const ph_index *ix, uint64_t base)
{
    size_t mask = ix->pcap - 1;
    for (size_t i = hash_slot(base >> ix->pool_shift, ix->pcap);; i = (i + 1) & mask) {
        const struct ph_pool_rec *p = &ix->pools[i];
        if (p->base == base)
            return p;
        if (!p->base)
            return NULL;
    }
}

/* The entry of the block that holds addr (an object starts at its block or
 * after a header: the GC's, 3.12's managed dict), or NULL when addr is not
 * in a block. */
static inline struct ph_block *block_of(const ph_index *ix, const struct ph_pool_rec *p,
                                        uint64_t addr)
{
    if (!p->blocks)
        return NULL;
    const struct ph_pool_class *c = &ix->pool_classes[p->szidx];
    uint64_t off = addr - p->base - c->offset; /* wraps (and fails) in the header */
    if (off >= (uint64_t)c->nblocks * c->size)
        return NULL;
    return &p->blocks[(off * c->mul) >> MUL_SHIFT];
}

#define NO_CLASS UINT32_MAX

/* The class of a mimalloc page's grid, added if it is new; NO_CLASS when
 * the table of classes is full. */
static uint32_t mi_class(ph_index *ix, uint64_t offset, uint64_t size, uint64_t nblocks)
{
    for (uint32_t k = 0; k < ix->pool_nclasses; k++) {
        const struct ph_pool_class *c = &ix->pool_classes[k];
        if (c->size == size && c->offset == offset && c->nblocks == nblocks)
            return k;
    }
    if (ix->pool_nclasses == MAX_CLASSES)
        return NO_CLASS;
    struct ph_pool_class *c = &ix->pool_classes[ix->pool_nclasses];
    c->size = (uint32_t)size;
    c->offset = (uint32_t)offset;
    c->nblocks = (uint32_t)nblocks;
    c->mul = ((UINT64_C(1) << MUL_SHIFT) + size - 1) / size;
    return ix->pool_nclasses++;
}

/* The class of the pool at base, from its header (pymalloc's pool_header,
 * mimalloc's page record), or NO_CLASS: not a pool, its objects go to the
 * hash table. */
static uint32_t pool_class(ph_index *ix, uint64_t base)
{
    const uint64_t pool_size = ~ix->pool_mask + 1;
    if (ix->L) {
        uint64_t start, size, nblocks;
        if (!ph_mi_slice_grid(ix->r, ix->L, base, &start, &size, &nblocks) || start < base ||
            size == 0 || nblocks > CHUNK_BLOCKS || start - base + size * nblocks > pool_size)
            return NO_CLASS;
        return mi_class(ix, start - base, size, nblocks);
    }
    unsigned char hdr[256];
    uint32_t szidx, maxnext;
    if (!ph_read(ix->r, base, hdr, (size_t)ix->hdr_size))
        return NO_CLASS;
    memcpy(&szidx, hdr + ix->off_szidx, 4);
    memcpy(&maxnext, hdr + ix->off_maxnext, 4);
    if (szidx >= ix->pool_nclasses || maxnext != pool_size - ix->pool_classes[szidx].size)
        return NO_CLASS;
    return szidx;
}

static ph_error *grow_pools(ph_index *ix)
{
    size_t cap = ix->pcap * 2;
    struct ph_pool_rec *pools = calloc(cap, sizeof(*pools));
    if (!pools)
        return PH_NOMEM;
    for (size_t j = 0; j < ix->pcap; j++) {
        const struct ph_pool_rec *p = &ix->pools[j];
        if (!p->base)
            continue;
        size_t i = hash_slot(p->base >> ix->pool_shift, cap);
        while (pools[i].base)
            i = (i + 1) & (cap - 1);
        pools[i] = *p;
    }
    free(ix->pools);
    ix->pools = pools;
    ix->pcap = cap;
    return NULL;
}

/* The record of the pool at base, made (from its header) if it is new. */
static ph_error *pool_get(ph_index *ix, uint64_t base, const struct ph_pool_rec **out)
{
    const struct ph_pool_rec *found = pool_find(ix, base);
    if (found) {
        *out = found;
        return NULL;
    }
    ph_error *err;
    if ((ix->npools + 1) * 2 > ix->pcap && (err = grow_pools(ix)))
        return err;
    struct ph_pool_rec rec = {.base = base};
    uint32_t szidx = pool_class(ix, base);
    if (szidx != NO_CLASS) {
        const struct ph_pool_class *c = &ix->pool_classes[szidx];
        if (!ix->nchunks || ix->chunk_used + c->nblocks > CHUNK_BLOCKS) {
            struct ph_block **chunks = realloc(ix->chunks, (ix->nchunks + 1) * sizeof(*chunks));
            if (!chunks)
                return PH_NOMEM;
            ix->chunks = chunks;
            if (!(chunks[ix->nchunks] = calloc(CHUNK_BLOCKS, sizeof(struct ph_block))))
                return PH_NOMEM;
            ix->nchunks++;
            ix->chunk_used = 0;
        }
        rec.blocks = ix->chunks[ix->nchunks - 1] + ix->chunk_used;
        rec.szidx = szidx;
        ix->chunk_used += c->nblocks;
        ix->nblocks += c->nblocks;
    }
    size_t i = hash_slot(base >> ix->pool_shift, ix->pcap);
    while (ix->pools[i].base)
        i = (i + 1) & (ix->pcap - 1);
    ix->pools[i] = rec;
    ix->npools++;
    *out = &ix->pools[i];
    return NULL;
}

/* ---- the hash table of addresses ---------------------------------------- */

/* ---- both ----------------------------------------------------------------- */

/* The id of the object at addr, or PH_NO_OBJ; then *place is the empty
 * block addr would take (in a pool already known), or NULL. */
static inline uint32_t find_place(const ph_index *ix, uint64_t addr, struct ph_block **place)
{
    *place = NULL;
    uint64_t base = addr & ix->pool_mask;
    if (base) {
        /* Every page an object was added from has its record. */
        const struct ph_pool_rec *p = pool_find(ix, base);
        if (!p)
            return PH_NO_OBJ;
        struct ph_block *b = block_of(ix, p, addr);
        if (b && !b->id) {
            *place = b;
            return PH_NO_OBJ;
        }
        if (b && ix->addr[b->id - 1] == addr)
            return b->id - 1;
    }
    struct ph_hot *e = ix->hot ? &ix->hot[(addr >> 4) % PH_INDEX_HOT] : NULL;
    if (e && e->id && e->addr == addr)
        return e->id - 1;
    uint32_t id = addrs_find(&ix->by_addr, ix, addr);
    if (id != PH_NO_OBJ && e) {
        e->addr = addr;
        e->id = id + 1;
    }
    return id;
}

uint32_t ph_index_find(const ph_index *ix, uint64_t addr)
{
    struct ph_block *place;
    return find_place(ix, addr, &place);
}

uint32_t ph_index_find_place(const ph_index *ix, uint64_t addr, struct ph_block **place)
{
    return find_place(ix, addr, place);
}

#define GROW(field, cap)                                                   \
    do {                                                                   \
        void *p_ = realloc(ix->field, (cap) * sizeof(*ix->field));         \
        if (!p_)                                                           \
            return PH_NOMEM;                                               \
        ix->field = p_;                                                    \
    } while (0)

static ph_error *grow_arrays(ph_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 1u << 15;
    if (cap >= UINT32_MAX)
        return ph_error_new(PH_ERR_CORRUPT, 0, "more than 4 billion objects");
    GROW(addr, cap);
    GROW(size32, cap);
    GROW(type, cap);
    GROW(owner, cap);
    GROW(flags, cap);
    ix->cap = cap;
    return NULL;
}

void ph_index_trim(ph_index *ix)
{
    if (!ix->n || ix->n == ix->cap)
        return;
    /* A failed shrink keeps the bigger array: every one stays at least n long. */
#define TRIM(field)                                                        \
    do {                                                                   \
        void *p_ = realloc(ix->field, ix->n * sizeof(*ix->field));         \
        if (p_)                                                            \
            ix->field = p_;                                                \
    } while (0)
    TRIM(addr);
    TRIM(size32);
    TRIM(type);
    TRIM(owner);
    TRIM(flags);
#undef TRIM
    ix->cap = ix->n;
}

/* ---- sizes ---------------------------------------------------------------- */

ph_error *ph_index_set_size_slow(ph_index *ix, uint32_t id, uint64_t size)
{
    size_t i = ix->size32[id] == PH_SIZE_BIG ? ph_index_big_pos(ix, id) : 0;
    if (size < PH_SIZE_BIG) {
        if (ix->size32[id] == PH_SIZE_BIG) { /* no longer big */
            memmove(ix->big + i, ix->big + i + 1, (ix->nbig - i - 1) * sizeof(*ix->big));
            ix->nbig--;
        }
        ix->size32[id] = (uint32_t)size;
        return NULL;
    }
    if (ix->size32[id] != PH_SIZE_BIG) {
        if (ix->nbig == ix->bigcap) {
            size_t cap = ix->bigcap ? ix->bigcap * 2 : 16;
            struct ph_big_size *big = realloc(ix->big, cap * sizeof(*big));
            if (!big)
                return PH_NOMEM;
            ix->big = big;
            ix->bigcap = cap;
        }
        i = ph_index_big_pos(ix, id);
        memmove(ix->big + i + 1, ix->big + i, (ix->nbig - i) * sizeof(*ix->big));
        ix->nbig++;
        ix->big[i].id = id;
        ix->size32[id] = PH_SIZE_BIG;
    }
    ix->big[i].size = size;
    return NULL;
}

/* A new entry in the arrays, for addr. */
static ph_error *new_entry(ph_index *ix, uint64_t addr, uint32_t type, uint32_t *id)
{
    ph_error *err;
    if (ix->n == ix->cap && (err = grow_arrays(ix)))
        return err;
    uint32_t new_id = (uint32_t)ix->n++;
    ix->addr[new_id] = addr;
    ix->size32[new_id] = 0;
    ix->type[new_id] = type;
    ix->owner[new_id] = 0;
    ix->flags[new_id] = 0;
    *id = new_id;
    return NULL;
}

ph_error *ph_index_add_placed(ph_index *ix, uint64_t addr, uint32_t type, struct ph_block *place,
                              uint32_t *id)
{
    ph_error *err = new_entry(ix, addr, type, id);
    if (err)
        return err;
    place->id = *id + 1;
    return NULL;
}

ph_error *ph_index_add(ph_index *ix, uint64_t addr, uint32_t type, uint32_t *id, bool *added)
{
    ph_error *err;
    uint64_t base = addr & ix->pool_mask;
    struct ph_block *block = NULL;
    size_t i = 0;
    if (base) {
        const struct ph_pool_rec *p;
        if ((err = pool_get(ix, base, &p)))
            return err;
        block = block_of(ix, p, addr);
        /* Two objects in one block (a corrupt heap): the second one in the table. */
        if (block && block->id && ix->addr[block->id - 1] != addr)
            block = NULL;
    }
    if (block) {
        if (block->id) {
            *id = block->id - 1;
            *added = false;
            return NULL;
        }
    } else {
        /* One probe finds the address or the slot it goes to. */
        i = addrs_probe(&ix->by_addr, ix, addr);
        if (ix->by_addr.slot[i]) {
            *id = ix->by_addr.slot[i] - 1;
            *added = false;
            return NULL;
        }
    }
    uint32_t new_id;
    if ((err = new_entry(ix, addr, type, &new_id)))
        return err;
    *id = new_id;
    *added = true;
    if (block) {
        block->id = new_id + 1;
        return NULL;
    }
    ix->by_addr.slot[i] = new_id + 1;
    return addrs_reserve(&ix->by_addr, ix, ++ix->by_addr.n);
}
