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
 * The other iterators hold no memory outside the object (no __sizeof__:
 * basicsize) and their references at the same offsets 3.8 to 3.14 (DWARF
 * of each build; a struct's later C fields, such as 3.12+'s module state
 * pointer, are no objects):
 *
 *     chain: source 16, active 24
 *     count: cnt 16 (a number), long_cnt 24, long_step 32
 *     cycle: it 16, saved 24 (a list)
 *     islice: it 16, then numbers
 *     groupby: it 16, keyfunc 24, tgtkey 32, currkey 40, currvalue 48;
 *       currgrouper 56 is borrowed (no referent)
 *     _grouper: parent 16, tgtkey 24
 *     _tee: dataobj 16 (a _tee_dataobject), index 24
 *     _tee_dataobject: it 16, numread 24 (an int), running 28, nextlink 32,
 *       values 40 (57 slots, the first numread of them set); basicsize 496
 *     accumulate: total 16, it 24, binop 32, initial 40
 *     zip_longest: tuplesize 16, numactive 24, ittuple 32, result 40,
 *       fillvalue 48
 *     starmap, takewhile, dropwhile, filterfalse: func 16, it 24
 *     compress: data 16, selectors 24
 *     repeat: element 16, cnt 24
 *     pairwise (3.10+): it 16, old 24 (3.13+: result 32, NULL before)
 *     batched (3.12+): it 16, batch_size 24
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

static const ph_cfield chain_fields[] = {{16, "<source>"}, {24, "<active>"}, {0, NULL}};
static const ph_cfield count_fields[] = {{24, "<count>"}, {32, "<step>"}, {0, NULL}};
static const ph_cfield cycle_fields[] = {{16, "<it>"}, {24, "<saved>"}, {0, NULL}};
static const ph_cfield it_fields[] = {{16, "<it>"}, {0, NULL}};
static const ph_cfield groupby_fields[] = {{16, "<it>"},      {24, "<keyfunc>"},
                                           {32, "<tgtkey>"},  {40, "<currkey>"},
                                           {48, "<currvalue>"}, {0, NULL}};
static const ph_cfield grouper_fields[] = {{16, "<parent>"}, {24, "<tgtkey>"}, {0, NULL}};
static const ph_cfield tee_fields[] = {{16, "<dataobj>"}, {0, NULL}};
static const ph_cfield accumulate_fields[] = {
    {16, "<total>"}, {24, "<it>"}, {32, "<func>"}, {40, "<initial>"}, {0, NULL}};
static const ph_cfield ziplongest_fields[] = {
    {32, "<iterators>"}, {40, "<result>"}, {48, "<fillvalue>"}, {0, NULL}};
static const ph_cfield func_it_fields[] = {{16, "<func>"}, {24, "<it>"}, {0, NULL}};
static const ph_cfield compress_fields[] = {{16, "<data>"}, {24, "<selectors>"}, {0, NULL}};
static const ph_cfield repeat_fields[] = {{16, "<element>"}, {0, NULL}};
static const ph_cfield pairwise_fields[] = {{16, "<it>"}, {24, "<old>"}, {0, NULL}};
static const ph_cfield pairwise_fields_313[] = {
    {16, "<it>"}, {24, "<old>"}, {32, "<result>"}, {0, NULL}};

PH_CTYPE_FIELDS(chain_referents, chain_fields)
PH_CTYPE_FIELDS(count_referents, count_fields)
PH_CTYPE_FIELDS(cycle_referents, cycle_fields)
PH_CTYPE_FIELDS(it_referents, it_fields)
PH_CTYPE_FIELDS(groupby_referents, groupby_fields)
PH_CTYPE_FIELDS(grouper_referents, grouper_fields)
PH_CTYPE_FIELDS(tee_referents, tee_fields)
PH_CTYPE_FIELDS(accumulate_referents, accumulate_fields)
PH_CTYPE_FIELDS(ziplongest_referents, ziplongest_fields)
PH_CTYPE_FIELDS(func_it_referents, func_it_fields)
PH_CTYPE_FIELDS(compress_referents, compress_fields)
PH_CTYPE_FIELDS(repeat_referents, repeat_fields)

PH_CTYPE_FIELDS_SINCE(pairwise_referents, 13, pairwise_fields_313, pairwise_fields)

#define TEE_LINKCELLS 57

static void teedata_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    uint64_t w[3 + TEE_LINKCELLS]; /* it 16, numread 24, nextlink 32, values 40 */
    if (!ph_read(h->r, addr + 16, w, sizeof(w)))
        return;
    ph_ctype_field(h, w[0], "<it>", visit, payload);
    ph_ctype_field(h, w[2], "<nextlink>", visit, payload);
    int32_t numread = (int32_t)(uint32_t)w[1];
    if (numread < 0 || numread > TEE_LINKCELLS) {
        ph_skip(h, addr, "a _tee_dataobject whose count is impossible");
        return;
    }
    for (int32_t i = 0; i < numread; i++) {
        PH_LABEL(h, EDGE_INDEX, NULL, (uint64_t)i, 0);
        if (w[3 + i])
            visit(h, w[3 + i], payload);
    }
}

const ph_ctype ph_ctypes_itertools[] = {
    {"itertools.chain", 32, chain_referents, NULL},
    {"itertools.count", 40, count_referents, NULL},
    {"itertools.cycle", 40, cycle_referents, NULL},
    {"itertools.islice", 56, it_referents, NULL},
    {"itertools.groupby", 64, groupby_referents, NULL},
    {"itertools._grouper", 32, grouper_referents, NULL},
    {"itertools._tee", 40, tee_referents, NULL},
    {"itertools._tee_dataobject", 496, teedata_referents, NULL},
    {"itertools.accumulate", 48, accumulate_referents, NULL},
    {"itertools.zip_longest", 56, ziplongest_referents, NULL},
    {"itertools.starmap", 32, func_it_referents, NULL},
    {"itertools.takewhile", 40, func_it_referents, NULL},
    {"itertools.dropwhile", 40, func_it_referents, NULL},
    {"itertools.filterfalse", 32, func_it_referents, NULL},
    {"itertools.compress", 32, compress_referents, NULL},
    {"itertools.repeat", 32, repeat_referents, NULL},
    {"itertools.pairwise", 32, pairwise_referents, NULL},
    {"itertools.batched", 32, it_referents, NULL},
    {"itertools.product", 48, product_referents, product_size},
    {"itertools.permutations", 56, permutations_referents, permutations_size},
    {"itertools.combinations", 48, product_referents, combinations_size},
    {"itertools.combinations_with_replacement", 48, product_referents, combinations_size},
    {NULL, 0, NULL, NULL},
};
