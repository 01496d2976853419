/* Releases whose layout is not their minor version's table: 3.14.0-3.14.6
 * (interpreter fields moved by patch releases; 3.14.0-3.14.4's incremental
 * collector), read from the target's _Py_DebugOffsets.  Each synthetic image is
 * the world of world.h laid out as that release lays it out (the struct
 * definitions in core/src/cpython/versions.c), with the _Py_DebugOffsets that
 * release writes; the walk must find exactly what it finds in the 3.14.7 world. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "world.h"

#include <string.h>

#define I314 6 /* index of 3.14 in versions.h */

static ph_heap *build(world *w, const char *what)
{
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->im.r, &w->syms, NULL, &h);
    if (err)
        fail_msg("%s: ph_heap_build: %s", what, err->message);
    img_heap_track(h);
    return h;
}

typedef struct krow {
    char kind[96];
    uint64_t count, size;
} krow;

static size_t kinds(ph_heap *h, krow *out, size_t cap)
{
    ph_partition *p = NULL;
    assert_null(ph_partition_new(h, PH_BY_KIND, &p));
    size_t n = p->nrows < cap ? p->nrows : cap;
    for (size_t r = 0; r < n; r++) {
        snprintf(out[r].kind, sizeof(out[r].kind), "%s", p->rows[r].kind);
        out[r].count = p->rows[r].count;
        out[r].size = p->rows[r].size;
    }
    ph_partition_free(p);
    return n;
}

static const krow *find_kind(const krow *rows, size_t n, const char *kind)
{
    for (size_t r = 0; r < n; r++)
        if (strcmp(rows[r].kind, kind) == 0)
            return &rows[r];
    return NULL;
}

/* h found what ref found, kind by kind (sizes too when same_sizes), plus
 * extra_lists more lists of 56 bytes, and skipped nothing. */
static void assert_same_heap(ph_heap *ref, ph_heap *h, bool same_sizes, uint64_t extra_lists,
                             const char *what)
{
    ph_heap_info a, b;
    ph_heap_info_get(ref, &a);
    ph_heap_info_get(h, &b);
    if (b.objects != a.objects + extra_lists || b.skipped != 0 ||
        b.garbage_objects != a.garbage_objects)
        fail_msg("%s: %llu objects (%llu skipped, %llu garbage); want %llu (0, %llu)", what,
                 (unsigned long long)b.objects, (unsigned long long)b.skipped,
                 (unsigned long long)b.garbage_objects,
                 (unsigned long long)(a.objects + extra_lists),
                 (unsigned long long)a.garbage_objects);
    krow ra[32], rb[32];
    size_t na = kinds(ref, ra, 32), nb = kinds(h, rb, 32);
    assert_int_equal(na, nb);
    for (size_t r = 0; r < na; r++) {
        const krow *x = find_kind(rb, nb, ra[r].kind);
        if (!x)
            fail_msg("%s: no row \"%s\"", what, ra[r].kind);
        uint64_t more = strcmp(ra[r].kind, "list") == 0 ? extra_lists : 0;
        if (x->count != ra[r].count + more ||
            (same_sizes && x->size != ra[r].size + more * 56))
            fail_msg("%s: row \"%s\": %llu objects, %llu bytes; want %llu, %llu", what,
                     ra[r].kind, (unsigned long long)x->count, (unsigned long long)x->size,
                     (unsigned long long)(ra[r].count + more),
                     (unsigned long long)(ra[r].size + more * 56));
    }
}

/* ---- 3.14.x as laid out by that release ------------------------------------------------- */

/* The 3.14.7 table with the interpreter's fields moved: the GC state by
 * gc, the fields after it up to qsbr (sys dict, builtins, imports.modules,
 * interp->dict) by after_gc, those after qsbr (obmalloc, types, cached
 * objects) by after_qsbr. */
static void layout_3_14(ph_layout *L, int32_t gc, int32_t after_gc, int32_t after_qsbr)
{
    *L = *ph_layout_table(14);
    L->interp_gc += gc;
    L->interp_sysdict += after_gc;
    L->interp_builtins += after_gc;
    L->interp_modules += after_gc;
    L->interp_dict += after_gc;
    L->interp_obmalloc_ptr += after_qsbr;
    L->interp_types_builtins += after_qsbr;
    L->interp_types_for_extensions += after_qsbr;
    L->interp_interned += after_qsbr;
}

/* 3.14.5: the generational collector's 264-byte state at 7384, imports.modules
 * at 7664 (py-spy: moved to 7688 in 3.14.6), sizeof(PyInterpreterState) 24
 * bytes short of 3.14.7's 225864. */
static ph_layout L_3_14_5;
#define HEX_3_14_5 UINT64_C(0x030E05F0)
/* 3.14.3: the incremental collector's 240-byte state (24 bytes less), and
 * qsbr's state 8 bytes smaller than from 3.14.4 on. */
static ph_layout L_3_14_3;
#define HEX_3_14_3 UINT64_C(0x030E03F0)

static void world_3_14_5(world *w)
{
    layout_3_14(&L_3_14_5, -24, -24, -24);
    make_world_as(w, I314, 14, &L_3_14_5, HEX_3_14_5,
                  "3.14.5 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]");
    img_debug_offsets(&w->im, w->runtime, 14, HEX_3_14_5, 225864 - 24, 264);
}

static void test_3_14_5_from_debug_offsets(void **state)
{
    world ref, w;
    make_world(&ref, I314);
    ph_heap *hr = build(&ref, "3.14.7");
    world_3_14_5(&w);
    ph_heap *h = build(&w, "3.14.5");
    assert_same_heap(hr, h, true, 0, "3.14.5");
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    assert_string_equal(info.version.text, "3.14.5");
    assert_string_equal(info.layout, "debug_offsets");
    assert_false(info.layout_checked); /* it differs from the 3.14.7 table */
    assert_null(info.warning);
    assert_non_null(strstr(info.layout_origin, "_Py_DebugOffsets"));
    assert_non_null(strstr(info.layout_origin, "interp_modules 7688->7664"));
    assert_non_null(strstr(info.layout_origin, "moved with their neighbours"));
    assert_non_null(strstr(info.layout_origin, "generational (3.14.5+)"));
    assert_non_null(strstr(info.layout_origin, "the table of CPython 3.14.7"));
    /* the walk really reads the interpreter through the moved offsets */
    assert_int_equal(h->L->interp_modules, 7664);
    assert_int_equal(h->L->interp_gc, 7408 - 24);
    assert_int_equal(h->L->interp_interned, ph_layout_table(14)->interp_interned - 24);
    img_heap_free(h);
    img_heap_free(hr);
    img_free(&w.im);
    img_free(&ref.im);
}

/* The same image without its _Py_DebugOffsets is walked with 3.14.7's
 * offsets, and misses the heap: what they are for. */
static void test_3_14_5_without_debug_offsets_misses(void **state)
{
    world ref, w;
    make_world(&ref, I314);
    ph_heap *hr = build(&ref, "3.14.7");
    world_3_14_5(&w);
    memcpy(img_at(&w.im, w.runtime, 8), "notdebug", 8);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    if (!err) {
        img_heap_track(h);
        ph_heap_info a, b;
        ph_heap_info_get(hr, &a);
        ph_heap_info_get(h, &b);
        assert_true(b.objects < a.objects);
        assert_string_equal(b.layout, "table");
        img_heap_free(h);
    }
    ph_error_free(err);
    img_heap_free(hr);
    img_free(&w.im);
    img_free(&ref.im);
}

/* 3.14.3: young, old[0] and old[1] where 3.14.5's generations are; a list D
 * held from C only sits in old[1] after main's __dict__, and every _gc_next
 * of that space carries bit 0 (_PyGC_NEXT_MASK_OLD_SPACE_1), which the walk
 * masks. */
static void world_3_14_3(world *w, uint64_t *D, uint64_t gc_size)
{
    layout_3_14(&L_3_14_3, -24, -48, -56);
    make_world_as(w, I314, 14, &L_3_14_3, HEX_3_14_3,
                  "3.14.3 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]");
    img_debug_offsets(&w->im, w->runtime, 14, HEX_3_14_3, 225864 - 56, gc_size);
    img *im = &w->im;
    const ph_layout *L = im->L;
    *D = img_list(im, 0, 0, NULL);
    uint64_t old1 = w->gc + (uint64_t)L->gc_generations + 2 * (uint64_t)L->gc_generation_size;
    gc_list(im, old1, 1, D);
    /* old[1]: head -> instdict -> D -> head; bit 0 on each object's _gc_next */
    uint64_t gi = w->instdict - 16, gd = *D - 16;
    img_w64(im, gi, img_r64(im, gi) | 1);
    img_w64(im, gd, img_r64(im, gd) | 1);
}

static void test_3_14_3_incremental_gc(void **state)
{
    world ref, w;
    uint64_t D;
    make_world(&ref, I314);
    ph_heap *hr = build(&ref, "3.14.7");
    world_3_14_3(&w, &D, 240);
    ph_heap *h = build(&w, "3.14.3");
    assert_same_heap(hr, h, true, 1, "3.14.3");
    assert_int_not_equal(ph_index_find(&h->idx, D), PH_NO_OBJ);
    assert_true(h->gc_incremental);
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    assert_non_null(strstr(info.layout_origin, "incremental (3.14.0-3.14.4)"));
    assert_int_equal(h->L->interp_dict, ph_layout_table(14)->interp_dict - 48);
    assert_int_equal(h->L->interp_obmalloc_ptr, ph_layout_table(14)->interp_obmalloc_ptr - 56);
    img_heap_free(h);
    img_heap_free(hr);
    img_free(&w.im);
    img_free(&ref.im);
}

/* A 3.14.3 whose _Py_DebugOffsets give the generational collector's 264-byte
 * state: the micro version and the target disagree, refused in one sentence. */
static void test_gc_state_size_disagreement_refused(void **state)
{
    world w;
    uint64_t D;
    world_3_14_3(&w, &D, 264);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    assert_non_null(err);
    assert_null(h);
    assert_int_equal(err->code, PH_ERR_VERSION);
    assert_non_null(strstr(err->message, "GC state of 264 bytes"));
    assert_null(strchr(err->message, '\n'));
    ph_error_free(err);
    img_free(&w.im);
}

/* _Py_DebugOffsets of a hostile core are data: each field in turn set out of
 * its structure (past it, misaligned, or huge) is refused, never walked. */
static void test_hostile_debug_offsets_refused(void **state)
{
    const uint64_t bad[] = {UINT64_C(1) << 40, UINT64_C(0xFFFFFFFFFFFFFFF8), 4000003};
    uint32_t at, sect;
    size_t field;
    size_t n = 0;
    for (size_t i = 0; ph_debug_offsets_field_at(14, i, &at, &sect, &field); i++) {
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            world w;
            world_3_14_5(&w);
            img_w64(&w.im, w.runtime + at, bad[b]);
            ph_heap *h = NULL;
            ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
            if (!err)
                fail_msg("field at %u = %llu was accepted", at, (unsigned long long)bad[b]);
            assert_null(h);
            if (err->code != PH_ERR_VERSION)
                fail_msg("field at %u = %llu: %s", at, (unsigned long long)bad[b], err->message);
            ph_error_free(err);
            img_free(&w.im);
            n++;
        }
    }
    assert_true(n >= 3 * 40);
    /* the interpreter's size too small for its GC state */
    world w;
    world_3_14_5(&w);
    img_w64(&w.im, w.runtime + 48, 7000);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    assert_non_null(err);
    ph_error_free(err);
    img_free(&w.im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_3_14_5_from_debug_offsets, img_cleanup),
        cmocka_unit_test_teardown(test_3_14_5_without_debug_offsets_misses, img_cleanup),
        cmocka_unit_test_teardown(test_3_14_3_incremental_gc, img_cleanup),
        cmocka_unit_test_teardown(test_gc_state_size_disagreement_refused, img_cleanup),
        cmocka_unit_test_teardown(test_hostile_debug_offsets_refused, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
