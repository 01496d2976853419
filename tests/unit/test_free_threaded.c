/* Free-threaded CPython 3.14 (Py_GIL_DISABLED) on synthetic images
 * (ft_world.h): the layout chosen by version and build, the 32-byte header
 * and its reference counts (Include/object.h, refcount.h: ob_ref_local,
 * ob_ref_shared >> 2, _Py_REF_DEFERRED, immortal local), and the walk of
 * mimalloc's heaps (cpython/mimalloc.c): a block is allocated when it is on
 * none of the free lists, the GC enumeration keeps tracked objects only,
 * abandoned segments are walked, and damaged pages are skipped, bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ft_world.h"
#include "cpython/stackref.h"

static void test_layout_by_build(void **state)
{
    const ph_layout *ft = ph_layout_get_build(3, 14, 1), *def = ph_layout_get_build(3, 14, 0);
    assert_non_null(ft);
    assert_non_null(def);
    assert_int_equal(ft->free_threaded, 1);
    assert_int_equal(def->free_threaded, 0);
    /* Include/object.h (Py_GIL_DISABLED): ob_tid 0, ob_flags 8, ob_mutex 10,
     * ob_gc_bits 11, ob_ref_local 12, ob_ref_shared 16, ob_type 24, ob_size 32 */
    assert_int_equal(ph_off_ob_type(ft), 24);
    assert_int_equal(ph_off_ob_size(ft), 32);
    assert_int_equal(ft->ob_gc_bits, 11);
    assert_int_equal(ft->ob_ref_local, 12);
    assert_int_equal(ft->ob_ref_shared, 16);
    assert_int_equal(ft->gc_head_size, 0);
    assert_int_equal(ft->managed_dict, -8);
    assert_int_equal(ft->str_kind_shift, 8);
    assert_int_equal(ph_off_ob_type(def), 8);
    assert_int_equal(def->str_kind_shift, 2);
    /* every field after the header moves by 16 */
    assert_int_equal(ft->tuple_ob_item, def->tuple_ob_item + 16);
    assert_int_equal(ft->tp_name, def->tp_name + 16);
    assert_null(ph_layout_get_build(3, 13, 1));
}

/* ob_ref_local, ob_ref_shared, ob_gc_bits of one object, and what ph_refcnt_read says. */
static void counts(img *im, uint64_t a, uint32_t local, int64_t shared, uint8_t bits,
                   int64_t want_rc, bool want_immortal, bool want_deferred_zero)
{
    const ph_layout *L = im->L;
    img_w32(im, a + (uint64_t)L->ob_ref_local, local);
    img_w64(im, a + (uint64_t)L->ob_ref_shared, (uint64_t)shared);
    img_w8(im, a + (uint64_t)L->ob_gc_bits, bits);
    int64_t rc;
    bool immortal, dz;
    assert_true(ph_refcnt_read_ex(im->r, L, a, &rc, &immortal, &dz));
    assert_int_equal(rc, want_rc);
    assert_int_equal(immortal, want_immortal);
    assert_int_equal(dz, want_deferred_zero);
}

static void test_refcounts(void **state)
{
    ft_world w;
    make_ft_world(&w, false);
    img *im = &w.im;
    uint64_t a = img_alloc(im, 64);
    const int64_t deferred = INT64_MAX / 8; /* pycore_object.h _Py_REF_DEFERRED */
    counts(im, a, 3, 0, 0, 3, false, false);
    counts(im, a, 1, 5 << 2, 0, 6, false, false);          /* shared 5 */
    counts(im, a, 0, (2 << 2) | 3, 0, 2, false, false);    /* merged (flags 3) */
    counts(im, a, UINT32_MAX, 0, 0, UINT32_MAX, true, false);
    counts(im, a, 1, deferred << 2, 1 << 6, 1, false, false);
    /* deferred, with per-thread counts elsewhere: no count left, still alive */
    counts(im, a, 0, (deferred << 2) | 3, 1 << 6, 0, false, true);
    counts(im, a, 0, (deferred - 30) << 2, 1 << 6, 0, false, true);
    /* the same words without the deferred bit: a huge count, no object */
    counts(im, a, 0, deferred << 2, 0, deferred, false, false);

    ph_heap *h = img_heap(im);
    uint64_t s = img_str(im, "hello");
    uint32_t ti = ph_object_check(h, s);
    assert_int_not_equal(ti, UINT32_MAX);
    assert_int_equal(h->types[ti].shape, SHAPE_STR);
    char buf[16];
    assert_true(ph_str_read(h, s, buf, sizeof(buf))); /* kind after the interned byte */
    assert_string_equal(buf, "hello");
    counts(im, s, 0, 0, 0, 0, false, false); /* freed: no count */
    assert_int_equal(ph_object_check(h, s), UINT32_MAX);
    counts(im, s, 0, (deferred << 2) | 3, 1 << 6, 0, false, true);
    assert_int_not_equal(ph_object_check(h, s), UINT32_MAX);
    img_heap_free(h);
    img_free(im);
}

typedef struct seen {
    size_t n;
    uint64_t addr[32];
    int tag[32];
} seen;

static bool on_block(ph_heap *h, uint64_t block, uint64_t size, int tag, void *payload)
{
    seen *s = payload;
    assert_int_equal(size, FT_BSIZE);
    if (s->n < 32) {
        s->addr[s->n] = block;
        s->tag[s->n] = tag;
    }
    s->n++;
    return true;
}

static uint32_t on_obj(ph_heap *h, const ph_ref *ref, void *payload)
{
    seen *s = payload;
    if (s->n < 32)
        s->addr[s->n] = ref->addr;
    s->n++;
    return PH_NO_OBJ;
}

static bool has(const seen *s, uint64_t a)
{
    for (size_t i = 0; i < s->n && i < 32; i++)
        if (s->addr[i] == a)
            return true;
    return false;
}

static void test_blocks_and_gc_walk(void **state)
{
    ft_world w;
    make_ft_world(&w, true);
    ph_heap *h = img_heap(&w.im);
    h->syms = w.syms;
    seen s = {0};
    ph_mi_stats st;
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC | 1u << PH_MI_GC_PRE, on_block, &s, &st));
    /* GC page: blocks 0, 2, 4 (1, 7 free; 3 local_free; 5 thread free; 6 delayed);
     * GC_PRE page: its block; the abandoned page: 2 blocks */
    assert_int_equal(s.n, 6);
    assert_true(has(&s, w.block[0]) && has(&s, w.block[2]) && has(&s, w.block[4]));
    assert_true(has(&s, w.P - (uint64_t)w.im.L->preheader_size));
    assert_true(has(&s, w.X) && has(&s, w.Y));
    assert_int_equal(st.threads, 1);
    assert_int_equal(st.pages, 3);
    assert_int_equal(st.abandoned_segments, 1);
    assert_int_equal(st.abandoned_pages, 1);
    assert_int_equal(st.blocks[PH_MI_GC], 5);
    assert_int_equal(st.blocks[PH_MI_GC_PRE], 1);
    assert_int_equal(st.bad_pages, 0);
    /* only the OBJECT heap: nothing there */
    seen o = {0};
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_OBJECT, on_block, &o, NULL));
    assert_int_equal(o.n, 0);

    /* the GC enumeration: tracked objects, the pre-header skipped */
    seen g = {0};
    assert_null(ph_runtime_walk_gc(h, on_obj, &g));
    assert_int_equal(g.n, 5);
    assert_true(has(&g, w.A) && has(&g, w.B) && has(&g, w.P) && has(&g, w.X) && has(&g, w.Y));
    assert_false(has(&g, w.T)); /* untracked */
    img_heap_free(h);
    img_free(&w.im);
}

static void test_damaged_pages(void **state)
{
    ft_world w;
    make_ft_world(&w, false);
    img *im = &w.im;
    const ph_layout *L = im->L;
    ph_heap *h = img_heap(im);
    h->syms = w.syms;
    /* a free list that leaves its page: the page is skipped, counted */
    img_w64(im, w.block[7], IMG_BASE + 64);
    seen s = {0};
    ph_mi_stats st;
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC | 1u << PH_MI_GC_PRE, on_block, &s, &st));
    assert_int_equal(st.bad_pages, 1);
    assert_int_equal(s.n, 1); /* the GC_PRE page's block */
    /* a free list that loops */
    img_w64(im, w.block[7], w.block[1]);
    s.n = 0;
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC, on_block, &s, &st));
    assert_int_equal(st.bad_pages, 1);
    assert_int_equal(s.n, 0);
    img_w64(im, w.block[7], 0);
    /* a page queue that loops: each page once */
    img_field(im, w.gc_page, L->mi_page_next, w.gc_page);
    s.n = 0;
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC, on_block, &s, &st));
    assert_int_equal(s.n, 3);
    img_field(im, w.gc_page, L->mi_page_next, 0);
    /* capacity beyond reserved, blocks beyond the page */
    memcpy(img_at(im, w.gc_page + (uint64_t)L->mi_page_capacity, 2), &(uint16_t){9}, 2);
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC, on_block, &s, &st));
    assert_int_equal(st.bad_pages, 1);
    memcpy(img_at(im, w.gc_page + (uint64_t)L->mi_page_reserved, 2), &(uint16_t){60000}, 2);
    memcpy(img_at(im, w.gc_page + (uint64_t)L->mi_page_capacity, 2), &(uint16_t){60000}, 2);
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC, on_block, &s, &st));
    assert_int_equal(st.bad_pages, 1);
    /* a page pointer into nowhere, and one that is no slice of its segment */
    img_w64(im, w.ts + (uint64_t)L->tstate_mimalloc_heaps + PH_MI_GC * (uint64_t)L->mi_heap_sizeof +
                    (uint64_t)L->mi_heap_pages + 8 * (uint64_t)L->mi_page_queue_sizeof,
            w.gc_page + 8);
    assert_null(ph_mi_walk_blocks(h, 1u << PH_MI_GC, on_block, &s, &st));
    assert_int_equal(st.bad_pages, 1);
    img_heap_free(h);
    img_free(im);
}

/* The whole build over the world: the version and build from
 * _Py_DebugOffsets, the table checked against it, the GC objects from the
 * heaps (the abandoned segment's too), the untracked unreachable tuple not. */
static void test_heap_build(void **state)
{
    ft_world w;
    make_ft_world(&w, true);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    if (err)
        fail_msg("ph_heap_build: %s", err->message);
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    assert_true(info.version.free_threaded);
    assert_string_equal(info.version.text, "3.14.7");
    assert_true(info.layout_checked);
    assert_int_equal(info.mi_threads, 1);
    assert_int_equal(info.mi_abandoned_segments, 1);
    assert_int_equal(info.mi_gc_blocks, 6);
    assert_int_equal(info.skipped, 0);
    const uint64_t lists[] = {w.A, w.B, w.P, w.X, w.Y};
    for (size_t i = 0; i < 5; i++) {
        ph_object o;
        assert_true(ph_heap_object(h, lists[i], &o));
        assert_string_equal(o.type, "list");
        assert_int_equal(o.size, (uint64_t)w.im.L->list_sizeof);
    }
    ph_object o;
    assert_false(ph_heap_object(h, w.T, &o));
    ph_heap_free(h);
    img_free(&w.im);
}

/* alloc over the world: mimalloc's pages by block size (pages, blocks
 * allocated and free, as the world's comment lays them out), segments,
 * blocks by heap, and the lists in the pages' blocks. */
static void test_alloc(void **state)
{
    ft_world w;
    make_ft_world(&w, true);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    if (err)
        fail_msg("ph_heap_build: %s", err->message);
    ph_alloc *a = NULL;
    err = ph_alloc_get(h, &a);
    if (err)
        fail_msg("ph_alloc_get: %s", err->message);
    assert_string_equal(a->allocator, "mimalloc");
    assert_int_equal(a->mi_threads, 1);
    assert_int_equal(a->mi_segments, 2);
    assert_int_equal(a->mi_abandoned_segments, 1);
    assert_int_equal(a->mi_pages, 3); /* GC, GC_PRE, the abandoned GC page */
    assert_int_equal(a->mi_abandoned_pages, 1);
    assert_int_equal(a->mi_page_bytes, 3 * FT_SLICE);
    /* page->used: 5 + 1 + 2; found allocated: 3 (blocks 5 and 6 are
     * freed by other threads, not yet collected) + 1 + 2 */
    assert_int_equal(a->mi_used_blocks, 8);
    assert_int_equal(a->mi_blocks[PH_MI_GC], 5);
    assert_int_equal(a->mi_blocks[PH_MI_GC_PRE], 1);
    assert_int_equal(a->mi_blocks[PH_MI_MEM] + a->mi_blocks[PH_MI_OBJECT], 0);
    assert_int_equal(a->blocks_used, 6);
    assert_int_equal(a->nclasses, 1);
    assert_int_equal(a->classes[0].size, FT_BSIZE);
    assert_int_equal(a->classes[0].pools, 3);
    assert_int_equal(a->classes[0].blocks_used, 6);
    assert_int_equal(a->classes[0].blocks_free, 5);
    assert_int_equal(a->classes[0].objects, 5); /* A, B, P, X, Y */
    assert_int_equal(a->objects_in_arenas, 5);
    assert_int_equal(a->mi_bad_pages, 0);
    ph_alloc_free(a);
    /* a damaged page is skipped and counted, not shown */
    img_w64(&w.im, w.block[7], IMG_BASE + 64);
    assert_null(ph_alloc_get(h, &a));
    assert_int_equal(a->mi_bad_pages, 1);
    assert_int_equal(a->mi_pages, 2);
    ph_alloc_free(a);
    ph_heap_free(h);
    img_free(&w.im);
}

/* ph_mi_block_of: the block an address falls in, from the address alone
 * (segment by alignment, slice, page), as the conservative check asks it. */
static void test_block_of(void **state)
{
    ft_world w;
    make_ft_world(&w, true);
    ph_heap *h = img_heap(&w.im);
    h->syms = w.syms;
    const ph_layout *L = h->L;
    uint64_t block = 0, size = 0;
    int tag = -1;
    /* list B, and a word inside it: block 2 of the GC page */
    assert_true(ph_mi_block_of(h, w.B, &block, &size, &tag));
    assert_int_equal(block, w.block[2]);
    assert_int_equal(size, FT_BSIZE);
    assert_int_equal(tag, PH_MI_GC);
    assert_true(ph_mi_block_of(h, w.B + 24, &block, &size, &tag));
    assert_int_equal(block, w.block[2]);
    /* the GC_PRE page's object: its block starts at the pre-header */
    assert_true(ph_mi_block_of(h, w.P, &block, &size, &tag));
    assert_int_equal(block, w.P - (uint64_t)L->preheader_size);
    assert_int_equal(tag, PH_MI_GC_PRE);
    /* the abandoned segment's page */
    assert_true(ph_mi_block_of(h, w.Y, &block, &size, &tag));
    assert_int_equal(block, w.Y);
    /* in front of the GC page's first block (segment.c's 3 * bsize), in a
     * slice that is no page (the image's own allocations: the thread
     * state), in the abandoned segment's free span, outside any segment */
    assert_false(ph_mi_block_of(h, w.block[0] - 8, &block, &size, &tag));
    assert_false(ph_mi_block_of(h, w.ts, &block, &size, &tag));
    assert_false(ph_mi_block_of(h, w.seg1 + 3 * FT_SLICE, &block, &size, &tag));
    assert_false(ph_mi_block_of(h, w.seg1 + 2 * FT_SEG, &block, &size, &tag));
    img_heap_free(h);
    img_free(&w.im);
}

/* The object index finds objects in a small page by their block, as it does
 * in pymalloc's pools, and the rest by the hash table of addresses: every
 * address keeps its id, whichever way it went. */
static void test_index_by_page(void **state)
{
    ft_world w;
    make_ft_world(&w, true);
    ph_heap *h = img_heap(&w.im);
    const ph_layout *L = h->L;
    uint64_t start = 0, bsize = 0, n = 0;
    /* a one-slice page, from its slice; a free span, a slice that is no page */
    assert_true(ph_mi_slice_grid(h->r, L, w.seg1 + FT_SLICE, &start, &bsize, &n));
    assert_int_equal(start, w.seg1 + FT_SLICE + 3 * FT_BSIZE);
    assert_int_equal(bsize, FT_BSIZE);
    assert_int_equal(n, 2);
    assert_false(ph_mi_slice_grid(h->r, L, w.seg1 + 3 * FT_SLICE, &start, &bsize, &n));
    assert_false(ph_mi_slice_grid(h->r, L, w.ts & ~(FT_SLICE - 1), &start, &bsize, &n));

    ph_index ix;
    assert_null(ph_index_init(&ix, h->r, L));
    assert_true(ix.pool_mask == ~(FT_SLICE - 1));
    /* on pages' grids: A, B, T, P (after its pre-header), X, Y; off them: the
     * thread state and the runtime (the image's own slices), a word in front
     * of the GC page's first block, a second object in B's block */
    const uint64_t on_grid[] = {w.A, w.B, w.T, w.P, w.X, w.Y};
    const uint64_t off_grid[] = {w.ts, w.runtime, w.block[0] - 8, w.B + 8};
    uint64_t all[10];
    size_t na = 0;
    for (size_t i = 0; i < 6; i++)
        all[na++] = on_grid[i];
    for (size_t i = 0; i < 4; i++)
        all[na++] = off_grid[i];
    for (size_t i = 0; i < na; i++) {
        uint32_t id;
        bool added;
        assert_int_equal(ph_index_find(&ix, all[i]), PH_NO_OBJ);
        assert_null(ph_index_add(&ix, all[i], 1, &id, &added));
        assert_true(added);
        assert_int_equal(id, i);
        assert_null(ph_index_add(&ix, all[i], 1, &id, &added)); /* found, not added again */
        assert_false(added);
        assert_int_equal(id, i);
    }
    assert_int_equal(ix.by_addr.n, 4); /* the off-grid ones alone */
    for (size_t i = 0; i < na; i++)
        assert_int_equal(ph_index_find(&ix, all[i]), i);
    /* free blocks of a known page, and the word after A: no object */
    assert_int_equal(ph_index_find(&ix, w.block[1]), PH_NO_OBJ);
    assert_int_equal(ph_index_find(&ix, w.A + 8), PH_NO_OBJ);
    assert_int_equal(ph_index_find(&ix, w.seg1 + 3 * FT_SLICE), PH_NO_OBJ);
    ph_index_deinit(&ix);
    img_heap_free(h);
    img_free(&w.im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_by_build),
        cmocka_unit_test(test_refcounts),
        cmocka_unit_test(test_blocks_and_gc_walk),
        cmocka_unit_test(test_damaged_pages),
        cmocka_unit_test(test_heap_build),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_block_of),
        cmocka_unit_test(test_index_by_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
