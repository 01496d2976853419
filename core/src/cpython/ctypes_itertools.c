/* itertools' combinatoric iterators, whose __sizeof__ counts the index
 * arrays they keep outside the object (Modules/itertoolsmodule.c; offsets
 * from the DWARF of each build, the same 3.8 to 3.14):
 *
 *     productobject: pools 16 (a tuple of tuples), indices 24 (a PyMem
 *       array), result 32; product_sizeof: basicsize + len(pools) * 8
 *     permutationsobject: pool 16 (a tuple), indices 24, cycles 32, result
 *       40, r 48; permutations_sizeof: basicsize + len(pool) * 8 + r * 8
 *     combinationsobject, cwrobject: pool 16, indices 24, result 32, r 40;
 *       their __sizeof__: basicsize + r * 8
 *
 * itertools.X, static types in 3.8 to 3.11, heap types from 3.12. */
#include "cpython/ctypes.h"

static void pool_result(ph_heap *h, uint64_t addr, uint32_t result, ph_visit_fn *visit,
                        void *payload)
{
    uint64_t p;
    if (ph_read_u64(h->r, addr + 16, &p))
        ph_ctype_field(h, p, "<pool>", visit, payload);
    if (ph_read_u64(h->r, addr + result, &p))
        ph_ctype_field(h, p, "<result>", visit, payload);
}

static void product_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    pool_result(h, addr, 32, visit, payload);
}

static void permutations_referents(ph_heap *h, uint64_t addr, const ph_type *t,
                                   ph_visit_fn *visit, void *payload)
{
    (void)t;
    pool_result(h, addr, 40, visit, payload);
}

/* The length of the tuple at addr + off. */
static bool tuple_len(ph_heap *h, uint64_t addr, uint32_t off, int64_t *n)
{
    uint64_t tup;
    return ph_read_u64(h->r, addr + off, &tup) && ph_ptr_ok(tup) && ph_ob_size(h, tup, n) &&
           *n >= 0 && (uint64_t)*n < MAX_CONTAINER_LEN;
}

static bool product_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int64_t n;
    if (!tuple_len(h, addr, 16, &n))
        return false;
    *size = (uint64_t)t->basicsize + 8 * (uint64_t)n;
    return true;
}

static bool permutations_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int64_t n, r;
    if (!tuple_len(h, addr, 16, &n) || !ph_read_i64(h->r, addr + 48, &r) || r < 0 || r > n)
        return false;
    *size = (uint64_t)t->basicsize + 8 * (uint64_t)n + 8 * (uint64_t)r;
    return true;
}

static bool combinations_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int64_t r;
    if (!ph_read_i64(h->r, addr + 40, &r) || r < 0 || (uint64_t)r >= MAX_CONTAINER_LEN)
        return false;
    *size = (uint64_t)t->basicsize + 8 * (uint64_t)r;
    return true;
}

const ph_ctype ph_ctypes_itertools[] = {
    {"itertools.product", 48, product_referents, product_size},
    {"itertools.permutations", 56, permutations_referents, permutations_size},
    {"itertools.combinations", 48, product_referents, combinations_size},
    {"itertools.combinations_with_replacement", 48, product_referents, combinations_size},
    {NULL, 0, NULL, NULL},
};
