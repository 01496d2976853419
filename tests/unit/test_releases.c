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

#include "releases.h"

#include <string.h>


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

/* What h found beyond what ref found, kind by kind: count more objects of
 * `kind` (new kinds too), of size more bytes (UINT64_MAX: not checked). */
typedef struct extra {
    const char *kind;
    uint64_t count, size;
} extra;

/* h found what ref found, kind by kind, plus the extras; the sizes of the
 * "type" row only when type_sizes (3.15's type objects are 8 bytes larger);
 * and skipped nothing. */
static void assert_heap_rows(ph_heap *ref, ph_heap *h, const extra *ex, size_t nex,
                             bool type_sizes, const char *what)
{
    ph_heap_info a, b;
    ph_heap_info_get(ref, &a);
    ph_heap_info_get(h, &b);
    uint64_t more = 0;
    for (size_t e = 0; e < nex; e++)
        more += ex[e].count;
    if (b.objects != a.objects + more || b.skipped != 0 || b.garbage_objects != a.garbage_objects)
        fail_msg("%s: %llu objects (%llu skipped, %llu garbage); want %llu (0, %llu)", what,
                 (unsigned long long)b.objects, (unsigned long long)b.skipped,
                 (unsigned long long)b.garbage_objects, (unsigned long long)(a.objects + more),
                 (unsigned long long)a.garbage_objects);
    krow ra[32], rb[32];
    size_t na = kinds(ref, ra, 32), nb = kinds(h, rb, 32);
    size_t seen = 0;
    for (size_t r = 0; r < nb; r++) {
        const krow *x = &rb[r];
        const krow *y = find_kind(ra, na, x->kind);
        uint64_t count = y ? y->count : 0, size = y ? y->size : 0;
        bool check_size = type_sizes || strcmp(x->kind, "type") != 0;
        for (size_t e = 0; e < nex; e++)
            if (strcmp(ex[e].kind, x->kind) == 0) {
                count += ex[e].count;
                if (ex[e].size == UINT64_MAX)
                    check_size = false;
                else
                    size += ex[e].size;
            }
        if (!y && count == 0)
            fail_msg("%s: an unexpected row \"%s\"", what, x->kind);
        if (y)
            seen++;
        if (x->count != count || (check_size && x->size != size))
            fail_msg("%s: row \"%s\": %llu objects, %llu bytes; want %llu, %llu", what, x->kind,
                     (unsigned long long)x->count, (unsigned long long)x->size,
                     (unsigned long long)count, (unsigned long long)size);
    }
    if (seen != na)
        fail_msg("%s: %zu of the reference's %zu rows", what, seen, na);
}

static void assert_same_heap(ph_heap *ref, ph_heap *h, bool same_sizes, uint64_t extra_lists,
                             const char *what)
{
    extra ex[] = {{"list", extra_lists, extra_lists * 56}};
    assert_heap_rows(ref, h, ex, 1, same_sizes, what);
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

static void test_3_14_3_incremental_gc(void **state)
{
    world ref, w;
    uint64_t D, E;
    make_world(&ref, I314);
    ph_heap *hr = build(&ref, "3.14.7");
    world_3_14_3(&w, &D, &E, 240);
    ph_heap *h = build(&w, "3.14.3");
    assert_same_heap(hr, h, true, 2, "3.14.3");
    assert_int_not_equal(ph_index_find(&h->idx, D), PH_NO_OBJ);
    assert_int_not_equal(ph_index_find(&h->idx, E), PH_NO_OBJ);
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
    uint64_t D, E;
    world_3_14_3(&w, &D, &E, 264);
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
 * its structure (past it, misaligned, or huge) is refused, never walked; in
 * 3.14's struct and in 3.15's. */
static void hostile_world(world *w, int minor)
{
    world315 x;
    if (minor == 14)
        world_3_14_5(w);
    else
        world_3_15(w, &x);
}

static void test_hostile_debug_offsets_refused(void **state)
{
    const uint64_t bad[] = {UINT64_C(1) << 40, UINT64_C(0xFFFFFFFFFFFFFFF8), 4000003};
    for (int minor = 14; minor <= 15; minor++) {
        uint32_t at, sect;
        size_t field;
        size_t n = 0;
        for (size_t i = 0; ph_debug_offsets_field_at(minor, i, &at, &sect, &field); i++) {
            for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                world w;
                hostile_world(&w, minor);
                img_w64(&w.im, w.runtime + at, bad[b]);
                ph_heap *h = NULL;
                ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
                if (!err)
                    fail_msg("3.%d: field at %u = %llu was accepted", minor, at,
                             (unsigned long long)bad[b]);
                assert_null(h);
                if (err->code != PH_ERR_VERSION)
                    fail_msg("3.%d: field at %u = %llu: %s", minor, at,
                             (unsigned long long)bad[b], err->message);
                ph_error_free(err);
                img_free(&w.im);
                n++;
            }
        }
        assert_true(n >= 3 * 49);
        /* the interpreter's size too small for its GC state */
        world w;
        hostile_world(&w, minor);
        img_w64(&w.im, w.runtime + ph_debug_offsets_section_at(minor, "interp"), 7000);
        ph_heap *h = NULL;
        ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
        assert_non_null(err);
        assert_null(h);
        ph_error_free(err);
        img_free(&w.im);
    }
}

/* ---- 3.15 -------------------------------------------------------------------------------- */

/* 3.15.0: laid out by the 3.15 table (its GC state, thread state and type
 * objects), read through its 888-byte _Py_DebugOffsets; its new builtins are
 * classified by their own names and followed: the lazy import's names, the
 * frozendict's items (not its hash), the sentinel's fields by a scan. */
static void test_3_15(void **state)
{
    world ref, w;
    world315 x;
    make_world(&ref, I314);
    ph_heap *hr = build(&ref, "3.14.7");
    world_3_15(&w, &x);
    ph_heap *h = build(&w, "3.15.0");
    /* interp->dict: one dict (no owner) of 3 str keys; 'json' 'dumps' of the lazy
     * import; 'k' and 9 of the frozendict; the sentinel's name */
    const ph_layout *L = w.im.L;
    uint64_t strs = 0;
    const char *names[] = {"json", "FD", "MISSING", "json", "dumps", "k", "MISSING"};
    for (size_t i = 0; i < 7; i++)
        strs += (uint64_t)L->str_ascii_sizeof + strlen(names[i]) + 1;
    extra ex[] = {
        {"dict (no owner)", 1, UINT64_MAX}, {"str", 7, strs},     {"int", 1, 28},
        {"lazy_import", 1, 56 + 16},        {"frozendict", 1, UINT64_MAX},
        {"sentinel", 1, 32},
    };
    assert_heap_rows(hr, h, ex, sizeof(ex) / sizeof(ex[0]), false, "3.15.0");
    /* sys.getsizeof(frozendict({'k': 9})): dict's __sizeof__ with frozendict's
     * basicsize (one more word: ma_hash) and the GC header */
    ph_object fo, go;
    assert_true(ph_heap_object(h, x.fd, &fo));
    assert_true(ph_heap_object(h, x.globals, &go));
    assert_string_equal(fo.type, "frozendict");
    assert_string_equal(fo.kind, "frozendict");
    uint64_t keys_size = img_flat_size(h, x.fd) - (uint64_t)L->dict_sizeof - 8 - 16;
    assert_true(keys_size > 0);
    ph_links *l = NULL;
    assert_null(ph_referents_get(h, x.lazy, &l));
    assert_int_equal(l->n, 3); /* lz_builtins, lz_from, lz_attr (lz_code NULL) */
    ph_links_free(l);
    l = NULL;
    assert_null(ph_referents_get(h, x.fd, &l));
    assert_int_equal(l->n, 2); /* 'k' and 9: not the hash */
    ph_links_free(l);
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    assert_null(info.warning);
    assert_non_null(strstr(info.layout_origin, "read as 3.15's 888 bytes"));
    assert_non_null(strstr(info.layout_origin, "the table of CPython 3.15"));
    assert_int_equal(h->L->gc_collecting, 112);
    assert_int_equal(h->L->tstate_current_exception, 136);
    img_heap_free(h);
    img_heap_free(hr);
    img_free(&w.im);
    img_free(&ref.im);
}

/* ---- newer than every table ----------------------------------------------------------- */

/* A "3.16" whose interpreter moved fields its _Py_DebugOffsets describe:
 * analysed from them and 3.15's table, with one warning line naming what
 * was assumed; it finds what 3.15 finds. */
static void test_3_16_from_debug_offsets(void **state)
{
    world ref, w;
    world315 x, y;
    world_3_15(&ref, &y);
    ph_heap *hr = build(&ref, "3.15.0");
    world_3_16(&w, &x, NULL);
    ph_heap *h = build(&w, "3.16.0");
    assert_heap_rows(hr, h, NULL, 0, true, "3.16.0");
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    assert_string_equal(info.version.text, "3.16.0");
    assert_non_null(info.warning);
    assert_null(strchr(info.warning, '\n'));
    assert_non_null(strstr(info.warning, "3.16.0"));
    assert_non_null(strstr(info.warning, "assumed"));
    assert_non_null(strstr(info.warning, "3.15"));
    assert_non_null(strstr(info.layout_origin, "interp_modules 7584->7632"));
    assert_int_equal(h->L->interp_dict, ph_layout_table(15)->interp_dict + 48);
    img_heap_free(h);
    img_heap_free(hr);
    img_free(&w.im);
    img_free(&ref.im);
}

/* What the checks catch: a "3.16" whose GC state starts its lists 8 bytes
 * later than 3.15's (a field the _Py_DebugOffsets do not describe), or whose
 * str objects grew, or that carries no _Py_DebugOffsets: refused, one sentence. */
static void gc_lists_moved(ph_layout *L)
{
    L->gc_generations += 8;
    L->gc_permanent_generation += 8;
}

static void str_grew(ph_layout *L)
{
    L->str_unicode_sizeof += 8;
}

static void expect_refusal(world *w, const char *phrase)
{
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->im.r, &w->syms, NULL, &h);
    assert_null(h);
    if (!err)
        fail_msg("accepted; want a refusal saying \"%s\"", phrase);
    assert_int_equal(err->code, PH_ERR_VERSION);
    if (!strstr(err->message, phrase) || strchr(err->message, '\n'))
        fail_msg("\"%s\" does not say \"%s\" in one line", err->message, phrase);
    ph_error_free(err);
    img_free(&w->im);
}

static void test_3_16_wrong_assumption_refused(void **state)
{
    world w;
    world315 x;
    world_3_16(&w, &x, gc_lists_moved);
    expect_refusal(&w, "GC lists do not link up");
    world_3_16(&w, &x, str_grew);
    expect_refusal(&w, "`str`");
    world_3_16(&w, &x, NULL);
    memcpy(img_at(&w.im, w.runtime, 8), "notdebug", 8);
    expect_refusal(&w, "no _Py_DebugOffsets");
    /* a sys.version naming another release than Py_Version */
    world_3_16(&w, &x, NULL);
    img_w64(&w.im, w.syms.py_version, UINT64_C(0x031100F0)); /* 3.17.0 */
    img_w64(&w.im, w.runtime + 8, UINT64_C(0x031100F0));
    expect_refusal(&w, "sys.version");
}

/* The _Py_DebugOffsets structs as each release lays them out: 584, 760 and
 * 888 bytes; every field read lies inside, at a distinct 8-aligned position
 * after the 24-byte header, and past its section's size field. */
static void test_debug_offsets_structs(void **state)
{
    assert_int_equal(ph_debug_offsets_size(13), 584);
    assert_int_equal(ph_debug_offsets_size(14), 760);
    assert_int_equal(ph_debug_offsets_size(15), 888);
    assert_int_equal(ph_debug_offsets_size(16), 0);
    for (int minor = 13; minor <= 15; minor++) {
        uint32_t at, sect, prev = 0;
        size_t field;
        size_t n = 0;
        for (size_t i = 0; ph_debug_offsets_field_at(minor, i, &at, &sect, &field); i++, n++) {
            assert_true(at >= 24 && at + 8 <= ph_debug_offsets_size(minor));
            assert_int_equal(at % 8, 0);
            assert_true(at > prev);
            assert_true(sect == 0 || sect <= at);
            prev = at;
        }
        assert_true(n >= 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_3_14_5_from_debug_offsets, img_cleanup),
        cmocka_unit_test_teardown(test_3_14_5_without_debug_offsets_misses, img_cleanup),
        cmocka_unit_test_teardown(test_3_14_3_incremental_gc, img_cleanup),
        cmocka_unit_test_teardown(test_gc_state_size_disagreement_refused, img_cleanup),
        cmocka_unit_test_teardown(test_hostile_debug_offsets_refused, img_cleanup),
        cmocka_unit_test(test_debug_offsets_structs),
        cmocka_unit_test_teardown(test_3_15, img_cleanup),
        cmocka_unit_test_teardown(test_3_16_from_debug_offsets, img_cleanup),
        cmocka_unit_test_teardown(test_3_16_wrong_assumption_refused, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
