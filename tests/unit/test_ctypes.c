/* C types known exactly (core/src/ctypes_*.c) on synthetic images: a
 * collections.deque's block chain walked item by item, its flat size, and
 * corrupt chains (a cycle, a broken link, a chain ending elsewhere, bad
 * indices, an absurd count) stopped within bounds and counted as skipped.
 *
 * The deque is laid out as Modules/_collectionsmodule.c does in 3.8-3.13
 * (same offsets in every version, from the DWARF of each pyenv build):
 * ob_size 16, leftblock 24, rightblock 32, leftindex 40, rightindex 48;
 * blocks {leftlink 0, data[64] 8, rightlink 520}, 528 bytes.  Expected
 * sizes are sys.getsizeof in /root/.pyenv/versions/3.{8.18,...,13.0}. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "versions.h"

/* collections.deque.__basicsize__ (3.14: struct dequeobject as 3.13's, in
 * Python-3.14.7's Modules/_collectionsmodule.c) */
static const int64_t DEQUE_BASICSIZE[] = {80, 80, 80, 216, 216, 216, 216};
/* sys.getsizeof(collections.deque(range(150))): 3 blocks (leftindex 32);
 * 3.14: deque___sizeof___impl as before, plus the GC header */
static const uint64_t SZ_DEQUE_150[] = {1680, 1680, 1680, 1816, 1816, 1816, 1816};
_Static_assert(sizeof(DEQUE_BASICSIZE) / sizeof(DEQUE_BASICSIZE[0]) == NV, "a size per version");
_Static_assert(sizeof(SZ_DEQUE_150) / sizeof(SZ_DEQUE_150[0]) == NV, "a size per version");

typedef struct deque_img {
    uint64_t deque, blocks[8], items[300];
    size_t nblocks, n;
} deque_img;

/* A deque of n ints (n <= 300), as deque(range(n)) lays them out: the
 * first item at leftblock->data[32] (CENTER + 1). */
static void make_deque(img *im, int i, size_t n, deque_img *d)
{
    uint64_t type = img_static_type(im, "collections.deque", DEQUE_BASICSIZE[i], 0,
                                    TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    d->n = n;
    d->deque = img_object(im, type, (size_t)DEQUE_BASICSIZE[i], true, false);
    int64_t left = 32;
    d->nblocks = ((size_t)left + n + 63) / 64;
    if (d->nblocks == 0)
        d->nblocks = 1;
    for (size_t b = 0; b < d->nblocks; b++) {
        d->blocks[b] = img_alloc(im, 528);
        if (b) {
            img_w64(im, d->blocks[b], d->blocks[b - 1]);
            img_w64(im, d->blocks[b - 1] + 520, d->blocks[b]);
        }
    }
    for (size_t k = 0; k < n; k++) {
        d->items[k] = img_int(im, 1000 + (int64_t)k);
        size_t at = (size_t)left + k;
        img_w64(im, d->blocks[at / 64] + 8 + 8 * (at % 64), d->items[k]);
    }
    img_w64(im, d->deque + 16, n);
    img_w64(im, d->deque + 24, d->blocks[0]);
    img_w64(im, d->deque + 32, d->blocks[d->nblocks - 1]);
    img_w64(im, d->deque + 40, (uint64_t)left);
    img_w64(im, d->deque + 48, (uint64_t)(left + (int64_t)n - 1 - 64 * (int64_t)(d->nblocks - 1)));
}

static void test_deque_items_and_size(void **state)
{
    FOR_EACH_VERSION(i) {
        img im;
        img_init(&im, MINORS[i], 1u << 20);
        ph_heap *h = img_heap(&im);
        deque_img d;
        make_deque(&im, i, 150, &d);
        uint32_t id = img_index(h, d.deque);
        assert_int_not_equal(id, PH_NO_OBJ);
        const ph_type *t = &h->types[h->idx.type[id]];
        assert_non_null(t->ctype);
        assert_false(t->estimate);
        assert_int_equal(img_flat_size(h, d.deque), SZ_DEQUE_150[i]);
        img_refs rs = {0};
        ph_referents(h, id, img_record, &rs);
        assert_int_equal(rs.n, 150);
        for (size_t k = 0; k < 150; k++)
            assert_int_equal(rs.ref[k], d.items[k]);
        assert_int_equal(h->skipped, 0);
        img_heap_free(h);
        img_free(&im);
    }
}

/* Each corruption: what is visited stays within the count, and the deque
 * counts once as skipped. */
static void check_corrupt(int i, void (*corrupt)(img *, deque_img *), size_t most)
{
    img im;
    img_init(&im, MINORS[i], 1u << 20);
    ph_heap *h = img_heap(&im);
    deque_img d;
    make_deque(&im, i, 150, &d);
    corrupt(&im, &d);
    uint32_t id = img_index(h, d.deque);
    assert_int_not_equal(id, PH_NO_OBJ);
    img_refs rs = {0};
    ph_referents(h, id, img_record, &rs);
    assert_true(rs.n <= most);
    assert_int_equal(h->skipped, 1);
    (void)img_flat_size(h, d.deque); /* bounded, whatever it says */
    img_heap_free(h);
    img_free(&im);
}

static void cycle(img *im, deque_img *d) { img_w64(im, d->blocks[1] + 520, d->blocks[0]); }
static void broken(img *im, deque_img *d) { img_w64(im, d->blocks[0] + 520, 0); }
static void unaligned(img *im, deque_img *d) { img_w64(im, d->blocks[1] + 520, d->blocks[2] + 3); }
static void elsewhere(img *im, deque_img *d) { img_w64(im, d->deque + 32, d->blocks[0]); }
static void bad_left(img *im, deque_img *d) { img_w64(im, d->deque + 40, 64); }
static void bad_right(img *im, deque_img *d) { img_w64(im, d->deque + 48, 10); }
static void huge(img *im, deque_img *d) { img_w64(im, d->deque + 16, UINT64_C(1) << 40); }
static void negative(img *im, deque_img *d) { img_w64(im, d->deque + 16, (uint64_t)-5); }

static void test_deque_corrupt_chains(void **state)
{
    FOR_EACH_VERSION(i) {
        check_corrupt(i, cycle, 150);     /* the third block is never reached */
        check_corrupt(i, broken, 32);     /* the first block's 32 items, then NULL */
        check_corrupt(i, unaligned, 128); /* two blocks, then a pointer that is none */
        check_corrupt(i, elsewhere, 150); /* all items, then the end is not rightblock */
        check_corrupt(i, bad_left, 0);
        check_corrupt(i, bad_right, 0);
        check_corrupt(i, huge, 0);
        check_corrupt(i, negative, 0);
    }
}

/* A chain that loops through a block the count would need more of: the
 * walk stops at the cycle, never past the count. */
static void test_deque_long_count_on_a_cycle(void **state)
{
    img im;
    img_init(&im, 12, 1u << 20);
    ph_heap *h = img_heap(&im);
    deque_img d;
    make_deque(&im, 4, 150, &d);
    img_w64(&im, d.blocks[2] + 520, d.blocks[1]);  /* 2 -> 1 -> 2 ... */
    img_w64(&im, d.deque + 16, 32 + 64 * 200);     /* a count that needs 201 blocks */
    img_w64(&im, d.deque + 48, 31);                 /* consistent with it */
    uint32_t id = img_index(h, d.deque);
    img_refs rs = {0};
    ph_referents(h, id, img_record, &rs);
    assert_true(rs.n <= 32 + 64 * 4);
    assert_int_equal(h->skipped, 1);
    img_heap_free(h);
    img_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_deque_items_and_size, img_cleanup),
        cmocka_unit_test_teardown(test_deque_corrupt_chains, img_cleanup),
        cmocka_unit_test_teardown(test_deque_long_count_on_a_cycle, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
