/* collections.deque and its iterators (Modules/_collectionsmodule.c).
 *
 * A deque keeps its items in a doubly linked list of blocks of 64 slots,
 * malloc'd outside the object:
 *
 *     typedef struct BLOCK { struct BLOCK *leftlink;        0
 *                            PyObject *data[BLOCKLEN];      8   (BLOCKLEN 64)
 *                            struct BLOCK *rightlink; } block;  520, sizeof 528
 *
 *     dequeobject: PyVarObject (ob_size 16: the item count), leftblock 24,
 *     rightblock 32, leftindex 40, rightindex 48, state 56, maxlen 64, then
 *     weakreflist (3.8-3.10, basicsize 80) or numfreeblocks and a cache of
 *     16 free blocks, then weakreflist (3.11-3.13, basicsize 216).
 *
 * The same offsets in 3.8 to 3.13 (checked against the DWARF of each build);
 * a heap type from 3.12 (named collections.deque either way).  The items
 * run from leftblock->data[leftindex] to rightblock->data[rightindex].
 *
 * deque_sizeof: basicsize + blocks * sizeof(block), with
 * blocks = (leftindex + len + BLOCKLEN - 1) / BLOCKLEN.
 *
 * dequeiterobject (both directions): b 16, index 24, deque 32, state 40,
 * counter 48; basicsize 56; no __sizeof__ of its own.
 *
 * collections.defaultdict (a static subclass of dict in every version):
 * defdictobject {PyDictObject dict; PyObject *default_factory;}, the
 * factory right after the dict's struct; its size is dict's __sizeof__
 * (size.c).  Its keys and values: dict_refs (referents.c). */
#include "cpython/ctypes.h"

#define BLOCKLEN 64
#define BLOCK_SIZE 528
#define BLOCK_DATA 8
#define BLOCK_RIGHTLINK 520
#define DEQUE_SIZE 16   /* ob_size, then leftblock, rightblock, leftindex, rightindex */
#define DEQUE_ITER_DEQUE 32

typedef struct deque_hdr {
    int64_t len;
    uint64_t left, right;
    int64_t leftindex, rightindex;
    uint64_t blocks; /* as deque_sizeof counts them */
} deque_hdr;

/* The deque's header, checked: false when it cannot be a deque's. */
static bool deque_read(ph_heap *h, uint64_t addr, deque_hdr *d)
{
    uint64_t w[5];
    if (!ph_read(h->r, addr + DEQUE_SIZE, w, sizeof(w)))
        return false;
    d->len = (int64_t)w[0];
    d->left = w[1];
    d->right = w[2];
    d->leftindex = (int64_t)w[3];
    d->rightindex = (int64_t)w[4];
    if (d->len < 0 || (uint64_t)d->len > MAX_ITEMS || d->leftindex < 0 ||
        d->leftindex >= BLOCKLEN || d->rightindex < -1 || d->rightindex >= BLOCKLEN)
        return false;
    d->blocks = ((uint64_t)d->leftindex + (uint64_t)d->len + BLOCKLEN - 1) / BLOCKLEN;
    /* deque_sizeof's own assertion: the right end is where the count says */
    if (d->len && d->leftindex + d->len - 1 != (int64_t)(d->blocks - 1) * BLOCKLEN + d->rightindex)
        return false;
    return true;
}

static bool deque_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    deque_hdr d;
    if (!deque_read(h, addr, &d))
        return false;
    *size = (uint64_t)t->basicsize + d.blocks * BLOCK_SIZE;
    return true;
}

/* The items, left to right, labelled [i]: the block chain is followed
 * from leftblock through the rightlinks, at most as many blocks as the
 * count needs, with a cycle check; it must end at rightblock.  A chain
 * that does not is counted once as skipped (corrupt). */
static void deque_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                            void *payload)
{
    (void)t;
    deque_hdr d;
    if (!deque_read(h, addr, &d)) {
        ph_skip(h, addr, "a deque whose header cannot be read");
        return;
    }
    uint64_t b = d.left, data[BLOCKLEN];
    int64_t i = d.leftindex, done = 0, last = -1;
    ph_cycle cycle = {0, 0, 0};
    for (uint64_t nb = 0; done < d.len; nb++) {
        if (nb >= d.blocks || !ph_ptr_ok(b) || ph_cycle_seen(&cycle, b)) {
            ph_skip(h, b, "a deque block chain that is broken or loops");
            return;
        }
        if (nb && nb % 512 == 0 && ph_poll(h))
            return;
        int64_t m = BLOCKLEN - i < d.len - done ? BLOCKLEN - i : d.len - done;
        if (!ph_read(h->r, b + BLOCK_DATA + 8 * (uint64_t)i, data, (size_t)m * 8)) {
            ph_skip(h, b, "a deque block that cannot be read");
            return;
        }
        for (int64_t j = 0; j < m; j++) {
            PH_LABEL(h, EDGE_INDEX, NULL, (uint64_t)(done + j), 0);
            if (data[j])
                visit(h, data[j], payload);
        }
        done += m;
        last = i + m - 1;
        if (done < d.len) {
            if (!ph_read_u64(h->r, b + BLOCK_RIGHTLINK, &b)) {
                ph_skip(h, b, "a deque block's link that cannot be read");
                return;
            }
            i = 0;
        }
    }
    if (d.len && (b != d.right || last != d.rightindex))
        ph_skip(h, addr, "a deque whose blocks do not end where it says");
}

static void deque_iter_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                                 void *payload)
{
    (void)t;
    uint64_t dq;
    if (ph_read_u64(h->r, addr + DEQUE_ITER_DEQUE, &dq))
        ph_ctype_field(h, dq, "<deque>", visit, payload);
}

static void defaultdict_referents(ph_heap *h, uint64_t addr, const ph_type *t,
                                  ph_visit_fn *visit, void *payload)
{
    (void)t;
    uint64_t f;
    /* addr is the default header's view (ph_default_header_view): the
     * dict's struct as a default build has it, then the factory */
    uint64_t dict_size = (uint64_t)h->L->dict_sizeof - (ph_off_ob_size(h->L) - 16);
    if (ph_read_u64(h->r, addr + dict_size, &f))
        ph_ctype_field(h, f, ".default_factory", visit, payload);
}

const ph_ctype ph_ctypes_collections[] = {
    {"collections.defaultdict", 56, defaultdict_referents, NULL},
    {"collections.deque", 80, deque_referents, deque_size},
    /* the iterators: _collections' static types, then collections' heap types (3.12+) */
    {"_collections._deque_iterator", 56, deque_iter_referents, NULL},
    {"_collections._deque_reverse_iterator", 56, deque_iter_referents, NULL},
    {"collections._deque_iterator", 56, deque_iter_referents, NULL},
    {"collections._deque_reverse_iterator", 56, deque_iter_referents, NULL},
    {NULL, 0, NULL, NULL},
};
