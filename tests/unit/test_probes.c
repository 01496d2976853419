/* The structural probes (core/src/cpython/probes.c) on the synthetic world
 * of every version 3.8-3.14 (world.h) and the free-threaded one
 * (ft_world.h): a healthy image passes each probe, and info keeps what each
 * checked and where its layout facts came from; an image broken in one
 * place (the type of `type`, the sys dict, sys.version, a thread state, a
 * GC list head, an object on a GC list) is refused in one sentence
 * (PH_ERR_VERSION) naming what failed, before anything is walked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "world.h"
#include "ft_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PROBES[] = {"type", "interpreter", "builtin types", "sys.version",
                                     "threads", "GC"};
#define NPROBES (sizeof(PROBES) / sizeof(PROBES[0]))

static const ph_probe_record *find(const ph_heap_info *info, const char *name)
{
    for (uint32_t k = 0; k < info->nprobes; k++)
        if (strcmp(info->probes[k].name, name) == 0)
            return &info->probes[k];
    return NULL;
}

static void test_healthy_images_pass(void **state)
{
    FOR_EACH_VERSION(i)
    {
        world w;
        make_world(&w, i);
        ph_heap *h = NULL;
        ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
        if (err)
            fail_msg("3.%d: ph_heap_build: %s", MINORS[i], err->message);
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        assert_int_equal(info.nprobes, NPROBES);
        for (size_t k = 0; k < NPROBES; k++) {
            const ph_probe_record *p = find(&info, PROBES[k]);
            if (!p)
                fail_msg("3.%d: no \"%s\" probe", MINORS[i], PROBES[k]);
            assert_true(p->checked[0] && p->source[0]);
        }
        /* what was found is said: the world has no thread, three generations */
        assert_non_null(strstr(find(&info, "threads")->checked, "0 thread states point"));
        assert_non_null(strstr(find(&info, "GC")->checked, "their first 4 objects"));
        char names[32];
        snprintf(names, sizeof(names), "names 3.%d", MINORS[i]);
        assert_non_null(strstr(find(&info, "sys.version")->checked, names));
        /* 3.8-3.12 have no _Py_DebugOffsets: the table (the images of 3.13+ have none either) */
        const char *fields = find(&info, "type")->source;
        if (MINORS[i] < 13 && !strstr(fields, "the table of CPython 3."))
            fail_msg("3.%d: the type probe's source is \"%s\"", MINORS[i], fields);
        ph_heap_free(h);
        img_free(&w.im);
    }
}

static void expect_refusal(world *w, int i, const char *phrase)
{
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->im.r, &w->syms, NULL, &h);
    assert_null(h);
    if (!err)
        fail_msg("3.%d: accepted; want a refusal saying \"%s\"", MINORS[i], phrase);
    if (getenv("PH_TEST_VERBOSE"))
        fprintf(stderr, "3.%d: %s\n", MINORS[i], err->message);
    /* the type of `type` is checked first when the runtime is found */
    assert_true(err->code == PH_ERR_VERSION || err->code == PH_ERR_NOT_PYTHON);
    if (!strstr(err->message, phrase) || strchr(err->message, '\n'))
        fail_msg("3.%d: \"%s\" does not say \"%s\" in one line", MINORS[i], err->message, phrase);
    ph_error_free(err);
    img_free(&w->im);
}

static void test_broken_images_refused(void **state)
{
    FOR_EACH_VERSION(i)
    {
        world w;
        const ph_layout *L;
        /* the type of `type` is not `type` */
        make_world(&w, i);
        img_w64(&w.im, w.im.type_type + ph_off_ob_type(w.im.L), w.im.list_type);
        expect_refusal(&w, i, "the type of `type`");
        /* type's basic size is not PyHeapTypeObject's */
        make_world(&w, i);
        L = w.im.L;
        img_w64(&w.im, w.im.type_type + (uint64_t)L->tp_basicsize, (uint64_t)L->heaptype_sizeof + 8);
        expect_refusal(&w, i, "`type` does not have the name and size");
        /* the sys dict is a list */
        make_world(&w, i);
        img_w64(&w.im, w.sysdict + ph_off_ob_type(w.im.L), w.im.list_type);
        expect_refusal(&w, i, "sys dict, builtins or sys.modules");
        /* sys.modules is not the sys dict's type */
        make_world(&w, i);
        img_w64(&w.im, w.modules + ph_off_ob_type(w.im.L), w.im.list_type);
        expect_refusal(&w, i, "sys dict, builtins or sys.modules");
        /* sys.version is an int */
        make_world(&w, i);
        L = w.im.L;
        {
            uint64_t k = img_str(&w.im, "version"), v = img_int(&w.im, 3);
            img_field(&w.im, w.interp, L->interp_sysdict, img_dict(&w.im, 3, true, 1, &k, &v));
        }
        /* 3.8-3.10 have no Py_Version: their version is read from sys.version */
        expect_refusal(&w, i, MINORS[i] >= 11 ? "sys.version" : "cannot tell which CPython version");
        /* a thread state that belongs to another interpreter */
        make_world(&w, i);
        L = w.im.L;
        {
            uint64_t ts = img_alloc(&w.im, (size_t)L->tstate_interp + 64);
            img_field(&w.im, ts, L->tstate_interp, w.interp + 64);
            img_field(&w.im, w.interp, L->interp_threads_head, ts);
        }
        expect_refusal(&w, i, "thread state");
        /* no generation's head links up (each next points past the head) */
        make_world(&w, i);
        L = w.im.L;
        for (int32_t g = 0; g < L->gc_num_generations; g++) {
            uint64_t head = w.gc + (uint64_t)L->gc_generations + (uint64_t)g * (uint64_t)L->gc_generation_size;
            img_w64(&w.im, head, head + 64);
            img_w64(&w.im, head + 8, head + 64);
        }
        expect_refusal(&w, i, "GC lists do not link up");
        /* no object on the GC lists has a type whose type is a type (ints) */
        make_world(&w, i);
        L = w.im.L;
        img_w64(&w.im, w.A + ph_off_ob_type(L), w.int5);
        img_w64(&w.im, w.B + ph_off_ob_type(L), w.int5);
        img_w64(&w.im, w.C + ph_off_ob_type(L), w.int5);
        img_w64(&w.im, w.instdict + ph_off_ob_type(L), w.int5);
        expect_refusal(&w, i, "no type whose type is a type");
    }
}

/* The free-threaded world: no GC lists, the GC probe says so; a thread
 * state pointing elsewhere is refused as on every build. */
static void test_free_threaded(void **state)
{
    ft_world w;
    make_ft_world(&w, false);
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    if (err)
        fail_msg("ph_heap_build: %s", err->message);
    ph_heap_info info;
    ph_heap_info_get(h, &info);
    const ph_probe_record *gc = find(&info, "GC");
    assert_non_null(gc);
    assert_non_null(strstr(gc->checked, "mimalloc"));
    assert_non_null(strstr(find(&info, "threads")->checked, "1 thread state points"));
    ph_heap_free(h);
    img_free(&w.im);

    make_ft_world(&w, false);
    img_field(&w.im, w.ts, w.im.L->tstate_interp, w.interp + 8);
    err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_VERSION);
    assert_non_null(strstr(err->message, "thread state"));
    ph_error_free(err);
    img_free(&w.im);
}

/* Damage in one place among others that pass (a crashed process): said in
 * the probe's line, left to the walk, not refused. */
static void test_damage_is_not_refused(void **state)
{
    FOR_EACH_VERSION(i)
    {
        world w;
        make_world(&w, i);
        const ph_layout *L = w.im.L;
        img_w64(&w.im, w.gc + (uint64_t)L->gc_generations, w.A + 64); /* generation 0's head */
        ph_heap *h = NULL;
        ph_error *err = ph_heap_build(w.im.r, &w.syms, NULL, &h);
        if (err)
            fail_msg("3.%d: a damaged GC head refused: %s", MINORS[i], err->message);
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        assert_non_null(strstr(find(&info, "GC")->checked, "2 of 3 generations link up"));
        ph_heap_free(h);
        img_free(&w.im);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_images_pass),
        cmocka_unit_test(test_broken_images_refused),
        cmocka_unit_test(test_free_threaded),
        cmocka_unit_test(test_damage_is_not_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
