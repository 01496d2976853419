/* The leak report over the tiny synthetic runtime of world.h: C, held from
 * outside Python, is leaked; the cycle A <-> B is cyclic garbage; nothing
 * reachable is reported; without pymalloc's state only GC objects are
 * searched, and the report says so. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "world.h"

static void test_leaks(void **state)
{
    FOR_EACH_VERSION(i) {
        world w;
        make_world(&w, i);
        ph_heap *h = NULL;
        ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
        if (err)
            fail_msg("3.%d: ph_heap_build: %s", MINORS[i], err->message);
        img_heap_track(h);
        ph_leaks *l = NULL;
        err = ph_leaks_get(h, &l);
        if (err)
            fail_msg("3.%d: ph_leaks_get: %s", MINORS[i], err->message);
        /* C: an empty list, sys.getsizeof([]) == 56 */
        assert_int_equal(l->leaked.count, 1);
        assert_int_equal(l->leaked.size, 56);
        assert_int_equal(l->leaked.nrows, 1);
        assert_string_equal(l->leaked.rows[0].kind, "list");
        assert_int_equal(l->leaked.rows[0].samples[0], w.C);
        assert_int_equal(l->leaked.rows[0].samples[1], 0);
        assert_int_equal(l->kept.count, 0);
        /* A and B, [B] and [A]: 64 bytes each, samples by address */
        assert_int_equal(l->garbage.count, 2);
        assert_int_equal(l->garbage.size, 128);
        uint64_t lo = w.A < w.B ? w.A : w.B, hi = w.A < w.B ? w.B : w.A;
        assert_int_equal(l->garbage.rows[0].samples[0], lo);
        assert_int_equal(l->garbage.rows[0].samples[1], hi);
        assert_false(l->allocator);
        assert_true(strlen(l->allocator_note) > 0);
        ph_leaks_free(l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_leaks, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
