/* Leak suspects and retainer paths over world.h's tiny runtime, with one
 * more builtin, big: a list of 40 str of 2000 characters each, which
 * dominate the heap.  On every version's layout; under ASan with make unit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "world.h"

#define NSTR 40

typedef struct big_world {
    world w;
    uint64_t big, strs[NSTR];
} big_world;

static ph_heap *build(big_world *b, int i)
{
    make_world(&b->w, i);
    img *im = &b->w.im;
    const ph_layout *L = im->L;
    static char text[2001];
    for (int k = 0; k < NSTR; k++) {
        memset(text, 'a' + k % 26, 2000);
        text[0] = (char)('A' + k % 26);
        text[1] = (char)('A' + k / 26);
        b->strs[k] = img_str(im, text);
    }
    b->big = img_list(im, NSTR, NSTR, b->strs);
    /* builtins {'x': 5, 'big': [...]} in place of world.h's {'x': 5} */
    uint64_t k[2] = {img_str(im, "x"), img_str(im, "big")}, v[2] = {b->w.int5, b->big};
    img_field(im, b->w.interp, L->interp_builtins, img_dict(im, 3, true, 2, k, v));
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(im->r, &b->w.syms, NULL, &h);
    if (err)
        fail_msg("3.%d: ph_heap_build: %s", MINORS[i], err->message);
    img_heap_track(h);
    return h;
}

static void test_object_suspect(void **state)
{
    FOR_EACH_VERSION(i) {
        big_world b;
        ph_heap *h = build(&b, i);
        uint64_t strs = 0;
        for (int k = 0; k < NSTR; k++)
            strs += img_flat_size(h, b.strs[k]);
        uint64_t retained = strs + img_flat_size(h, b.big);
        ph_heap_info info;
        ph_heap_info_get(h, &info);

        ph_suspects *s = NULL;
        assert_null(ph_suspects_get(h, 0.10, 0, &s));
        assert_int_equal(s->total, info.bytes);
        assert_int_equal(s->threshold, (uint64_t)(0.10 * (double)info.bytes + 0.5));
        assert_int_equal(s->n, 1);
        const ph_suspect *x = &s->items[0];
        assert_false(x->group);
        assert_int_equal(x->address, b.big);
        assert_string_equal(x->kind, "list");
        assert_string_equal(x->path, "builtins.big");
        assert_int_equal(x->retained, retained);
        assert_int_equal(x->retained_count, NSTR + 1);
        /* the accumulation point: the list, one child per str */
        assert_int_equal(x->point.address, b.big);
        assert_int_equal(x->point.children, NSTR);
        assert_string_equal(x->point.path, "builtins.big");
        assert_int_equal(x->nheld, 2);
        assert_string_equal(x->held[0].kind, "str");
        assert_int_equal(x->held[0].count, NSTR);
        assert_int_equal(x->held[0].size, strs);
        assert_string_equal(x->held[1].kind, "list");
        ph_suspects_free(s);

        /* above what anything holds: none; a limit */
        assert_null(ph_suspects_get(h, 1.0, 0, &s));
        assert_int_equal(s->n, 0);
        ph_suspects_free(s);
        assert_null(ph_suspects_get(h, 0.001, 1, &s));
        assert_true(s->n <= 1);
        ph_suspects_free(s);

        ph_error *err = ph_suspects_get(h, 0, 0, &s);
        assert_non_null(err);
        assert_int_equal(err->code, PH_ERR_ARGUMENT);
        ph_error_free(err);
    }
}

static void test_owner_paths(void **state)
{
    FOR_EACH_VERSION(i) {
        big_world b;
        ph_heap *h = build(&b, i);
        uint64_t strs = 0;
        for (int k = 0; k < NSTR; k++)
            strs += img_flat_size(h, b.strs[k]);
        ph_owners *o = NULL;
        assert_null(ph_owners_get(h, 1000, 100, &o));
        assert_int_equal(o->min_retained, 1000);
        /* the list, and its strs folded into one path (more than 8 members) */
        const ph_owner_path *list = NULL, *members = NULL;
        for (size_t k = 0; k < o->n; k++) {
            if (strcmp(o->items[k].path, "builtins.big") == 0)
                list = &o->items[k];
            if (strcmp(o->items[k].path, "builtins.big[*]") == 0)
                members = &o->items[k];
            if (k)
                assert_true(o->items[k - 1].retained >= o->items[k].retained);
        }
        assert_non_null(list);
        assert_non_null(members);
        assert_int_equal(list->address, b.big);
        assert_int_equal(list->retained, strs + img_flat_size(h, b.big));
        assert_int_equal(list->nodes, 1);
        assert_int_equal(members->nodes, NSTR);
        assert_int_equal(members->retained, strs);
        assert_int_equal(members->retained_count, NSTR);
        assert_int_equal(members->nheld, 1);
        assert_string_equal(members->held[0].kind, "str");
        ph_owners_free(o);

        /* at most max_nodes named: the largest */
        assert_null(ph_owners_get(h, 1000, 1, &o));
        assert_int_equal(o->n, 1);
        assert_true(o->candidates >= NSTR + 1);
        ph_owners_free(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_object_suspect, img_cleanup),
        cmocka_unit_test_teardown(test_owner_paths, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
