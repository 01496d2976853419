/* The object index against a model (a plain list of addresses), over memory
 * laid out like pymalloc's for every version: pools of several size classes,
 * objects at their block's start and after a header (GC, managed dict), two
 * objects in one block, addresses in a pool's header, pages that only look
 * like pools, pages that are not pools, unreadable pages.  Each address must
 * keep one id, found again; and objects on a pool's grid must be found
 * through the pool, not the hash table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "heap/heap.h"

#include <stdlib.h>
#include <string.h>

#define NPAGES 1500   /* past the first growth of the pool table */
#define NADDS 60000   /* past the first growth of the hash table */
#define BASE UINT64_C(0x7f1230000000)

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

enum page_kind { PAGE_POOL, PAGE_ZERO, PAGE_BAD_MAXNEXT, PAGE_BAD_SZIDX, PAGE_UNREADABLE };

#define MODEL_CAP (1u << 18)

typedef struct model {
    uint64_t *addr; /* by id */
    size_t n;
    size_t in_hash; /* what the index's hash table should hold */
    /* per page, per block: the address that took the block (0: none) */
    uint64_t **owner;
    uint32_t *map;  /* address -> id + 1, a table of its own (another hash) */
} model;

static size_t model_slot(uint64_t a)
{
    return (size_t)((a ^ (a >> 29)) * UINT64_C(0xff51afd7ed558ccd) >> 40) & (MODEL_CAP - 1);
}

static uint32_t model_find(const model *m, uint64_t a)
{
    for (size_t i = model_slot(a); m->map[i]; i = (i + 1) & (MODEL_CAP - 1))
        if (m->addr[m->map[i] - 1] == a)
            return m->map[i] - 1;
    return PH_NO_OBJ;
}

static void model_add(model *m, uint64_t a)
{
    size_t i = model_slot(a);
    while (m->map[i])
        i = (i + 1) & (MODEL_CAP - 1);
    m->addr[m->n++] = a;
    m->map[i] = (uint32_t)m->n;
}

static void run_version(int minor)
{
    const ph_layout *L = ph_layout_get(3, minor);
    assert_non_null(L);
    ph_pool_geometry g;
    assert_true(ph_pool_geometry_get(L, &g));
    size_t psize = (size_t)g.pool_size;
    unsigned char *mem = calloc(NPAGES, psize);
    assert_non_null(mem);
    enum page_kind kind[NPAGES];
    uint32_t szidx[NPAGES];
    for (size_t p = 0; p < NPAGES; p++) {
        uint64_t r = rnd() % 16;
        kind[p] = r < 11 ? PAGE_POOL : r < 13 ? PAGE_ZERO : r < 14 ? PAGE_BAD_MAXNEXT
                  : r < 15 ? PAGE_BAD_SZIDX : PAGE_UNREADABLE;
        szidx[p] = (uint32_t)(rnd() % g.nclasses);
        if (p % 7 == 0)
            szidx[p] = 0; /* plenty of 16-byte blocks: objects with a header straddle blocks */
        unsigned char *hdr = mem + p * psize;
        uint32_t size = (szidx[p] + 1) * (uint32_t)g.align;
        uint32_t maxnext = (uint32_t)psize - size, s = szidx[p];
        if (kind[p] == PAGE_BAD_MAXNEXT)
            maxnext += (uint32_t)g.align;
        if (kind[p] == PAGE_BAD_SZIDX)
            s = (uint32_t)g.nclasses + (uint32_t)(rnd() % 5);
        if (kind[p] != PAGE_ZERO) {
            memcpy(hdr + L->pool_szidx, &s, 4);
            memcpy(hdr + L->pool_maxnextoffset, &maxnext, 4);
        }
    }
    ph_reader *r;
    assert_null(ph_reader_new(&r));
    /* unreadable pages: no segment over them */
    for (size_t p = 0; p < NPAGES;) {
        size_t q = p;
        while (q < NPAGES && kind[q] != PAGE_UNREADABLE)
            q++;
        if (q > p)
            assert_null(ph_reader_add_buffer(r, BASE + p * psize, (q - p) * psize, mem + p * psize));
        p = q + 1;
    }
    ph_index ix;
    assert_null(ph_index_init(&ix, r, L));
    assert_int_not_equal(ix.pool_mask, 0);

    model m = {calloc(NADDS, sizeof(uint64_t)), 0, 0, calloc(NPAGES, sizeof(uint64_t *)),
               calloc(MODEL_CAP, sizeof(uint32_t))};
    assert_non_null(m.addr);
    assert_non_null(m.map);
    for (size_t i = 0; i < NADDS; i++) {
        size_t p = (size_t)(rnd() % NPAGES);
        uint64_t page = BASE + p * psize;
        uint32_t size = (szidx[p] + 1) * (uint32_t)g.align;
        uint32_t nblocks = (uint32_t)((psize - g.overhead) / size);
        uint64_t a, pick = rnd() % 10;
        uint32_t block = (uint32_t)(rnd() % nblocks);
        if (pick < 6)
            a = page + g.overhead + (uint64_t)block * size; /* at a block's start */
        else if (pick < 8)
            a = page + g.overhead + (uint64_t)block * size + 16 * (1 + rnd() % 2); /* after a header */
        else if (pick < 9)
            a = page + 8 * (rnd() % (g.overhead / 8)); /* in the pool's header */
        else
            a = page + 8 * (rnd() % (psize / 8)); /* anywhere, 8-aligned */
        uint32_t want = model_find(&m, a);
        uint32_t id;
        bool added;
        assert_null(ph_index_add(&ix, a, 7, &id, &added));
        if (want != PH_NO_OBJ) {
            assert_false(added);
            assert_int_equal(id, want);
            continue;
        }
        assert_true(added);
        assert_int_equal(id, m.n);
        model_add(&m, a);
        assert_int_equal(ix.addr[id], a);
        assert_int_equal(ix.type[id], 7);
        /* Where it should be: in its pool's block when that block is free
         * and the address is in a block of a page that is a pool. */
        bool pooled = false;
        if (kind[p] == PAGE_POOL && a >= page + g.overhead &&
            a < page + g.overhead + (uint64_t)nblocks * size) {
            if (!m.owner[p])
                m.owner[p] = calloc(nblocks, sizeof(uint64_t));
            uint64_t *own = &m.owner[p][(a - page - g.overhead) / size];
            if (!*own) {
                *own = a;
                pooled = true;
            }
        }
        if (!pooled)
            m.in_hash++;
        assert_int_equal(ix.by_addr.n, m.in_hash);
    }
    /* every address finds its id; others find nothing */
    for (size_t i = 0; i < m.n; i++)
        assert_int_equal(ph_index_find(&ix, m.addr[i]), i);
    for (size_t i = 0; i < 20000; i++) {
        uint64_t a = BASE + 8 * (rnd() % (NPAGES * psize / 8));
        assert_int_equal(ph_index_find(&ix, a), model_find(&m, a));
    }
    assert_int_equal(ph_index_find(&ix, 0), PH_NO_OBJ);
    assert_int_equal(ph_index_find(&ix, BASE - 8), PH_NO_OBJ);
    assert_int_equal(ph_index_find(&ix, UINT64_MAX - 7), PH_NO_OBJ);
    /* many objects went to pools (the test exercises them), the hash table
     * holds the rest */
    assert_true(m.n - m.in_hash > m.n / 3);
    assert_true(ix.npools > 1024);
    assert_true(ph_index_bytes(&ix) > 0);
    ph_index_deinit(&ix);
    ph_reader_free(r);
    for (size_t p = 0; p < NPAGES; p++)
        free(m.owner[p]);
    free(m.owner);
    free(m.map);
    free(m.addr);
    free(mem);
}

static void test_versions(void **state)
{
    (void)state;
    for (int minor = 8; minor <= 13; minor++)
        run_version(minor);
}

/* Without a layout (or without pools in it), the hash table alone. */
static void test_hash_only(void **state)
{
    (void)state;
    ph_index ix;
    assert_null(ph_index_init(&ix, NULL, NULL));
    assert_int_equal(ix.pool_mask, 0);
    for (uint64_t i = 1; i <= 50000; i++) {
        uint32_t id;
        bool added;
        assert_null(ph_index_add(&ix, i * 48, 1, &id, &added));
        assert_true(added);
        assert_int_equal(id, i - 1);
    }
    for (uint64_t i = 1; i <= 50000; i++)
        assert_int_equal(ph_index_find(&ix, i * 48), i - 1);
    assert_int_equal(ph_index_find(&ix, 8), PH_NO_OBJ);
    assert_int_equal(ix.by_addr.n, 50000);
    /* trimmed to its objects, it grows again as before */
    ph_index_trim(&ix);
    assert_int_equal(ix.cap, 50000);
    for (uint64_t i = 50001; i <= 50100; i++) {
        uint32_t id;
        bool added;
        assert_null(ph_index_add(&ix, i * 48, 2, &id, &added));
        assert_true(added);
        assert_int_equal(ix.type[id], 2);
    }
    for (uint64_t i = 1; i <= 50100; i++)
        assert_int_equal(ph_index_find(&ix, i * 48), i - 1);
    ph_index_deinit(&ix);
}

/* Sizes take 4 bytes; 4 GiB and more go to the side table, kept in id order,
 * and leave it when they shrink again.  Every size reads back as set. */
static void test_sizes(void **state)
{
    (void)state;
    ph_index ix;
    assert_null(ph_index_init(&ix, NULL, NULL));
    enum { N = 5000 };
    uint64_t want[N];
    for (uint32_t i = 0; i < N; i++) {
        uint32_t id;
        bool added;
        assert_null(ph_index_add(&ix, (uint64_t)(i + 1) * 64, 1, &id, &added));
        assert_int_equal(ph_index_size(&ix, id), 0);
    }
    /* big ones set out of order, small ones between them */
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = (k * 761u) % N; /* a permutation: 761 is prime to N */
        want[i] = i % 7 == 0 ? (UINT64_C(1) << 32) + i * UINT64_C(4096)
                  : i % 11 == 0 ? UINT32_MAX - 1 : (uint64_t)i * 16;
        if (i == 13)
            want[i] = UINT32_MAX; /* the marker's own value is a big size */
        assert_null(ph_index_set_size(&ix, i, want[i]));
    }
    for (uint32_t i = 0; i < N; i++)
        assert_true(ph_index_size(&ix, i) == want[i]);
    size_t nbig = ix.nbig;
    assert_int_equal(nbig, N / 7 + 1 + 1);
    for (size_t j = 1; j < ix.nbig; j++)
        assert_true(ix.big[j - 1].id < ix.big[j].id);
    /* a big one changes, then shrinks: out of the side table */
    assert_null(ph_index_set_size(&ix, 7, UINT64_C(1) << 40));
    assert_true(ph_index_size(&ix, 7) == UINT64_C(1) << 40);
    assert_null(ph_index_set_size(&ix, 7, 24));
    assert_true(ph_index_size(&ix, 7) == 24);
    assert_int_equal(ix.nbig, nbig - 1);
    want[7] = 24;
    for (uint32_t i = 0; i < N; i++)
        assert_true(ph_index_size(&ix, i) == want[i]);
    ph_index_deinit(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_hash_only),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
