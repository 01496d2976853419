/* A tiny synthetic CPython runtime, per version: what tests/unit/test_walk.c
 * builds the whole heap from and tests/fuzz/fuzz_walk.c corrupts. */
#ifndef PH_TEST_WORLD_H
#define PH_TEST_WORLD_H

#include "versions.h"

typedef struct world {
    img im;
    ph_symbols syms;
    uint64_t runtime, interp, gc;
    uint64_t modules, sysdict;
    uint64_t node, inst, instdict, int5, A, B, C;
    const char *strs[32]; /* every str of the world, for their sizes */
    int nstrs;
} world;

static inline uint64_t wstr(world *w, const char *s)
{
    w->strs[w->nstrs++] = s;
    return img_str(&w->im, s);
}


/* The runtime of a process that ran
 *     import sys; class Node: pass   (in module "mod")
 *     main = Node(); main.a = 7; x = 5
 *     A = [None]; B = [A]; A[0] = B; del A, B   (cyclic garbage)
 *     C = []  (held from C code only)
 * reduced to: one interpreter whose modules {'main': main}, sysdict
 * {'version': sys.version} and builtins {'x': 5} are the roots, no threads;
 * GC generation 0 holds A, B, C, generation 2 main's __dict__.  3.12+ also
 * keep object's type dict in interp->types.builtins[0]. */
static inline void make_world_as(world *w, int i, int minor, const ph_layout *layout,
                                 uint64_t hex, const char *sys_version);

static inline void make_world(world *w, int i)
{
    make_world_as(w, i, MINORS[i], ph_layout_table(MINORS[i]), VERSION_HEX[i], SYS_VERSION[i]);
}

/* The same world for another release of the same shape as MINORS[i]'s (a
 * 3.14.x, 3.15, a "3.16"), laid out by layout (which must outlive it), with
 * Py_Version hex and that sys.version. */
static inline void make_world_as(world *w, int i, int minor, const ph_layout *layout,
                                 uint64_t hex, const char *sys_version)
{
    memset(w, 0, sizeof(*w));
    img *im = &w->im;
    img_init_layout(im, minor, layout, 1u << 21);
    const ph_layout *L = im->L;

    img_runtime(im, &w->runtime, &w->interp, &w->gc);

    /* the roots */
    uint64_t k, v;
    k = wstr(w, "version");
    v = wstr(w, sys_version);
    w->sysdict = img_dict(im, 3, true, 1, &k, &v);
    img_field(im, w->interp, L->interp_sysdict, w->sysdict);
    k = wstr(w, "x");
    w->int5 = img_int(im, 5);
    img_field(im, w->interp, L->interp_builtins, img_dict(im, 3, true, 1, &k, &w->int5));
    uint64_t ka = wstr(w, "a"), seven = img_int(im, 7);
    w->strs[w->nstrs++] = "Node";       /* made by img_heap_type: ht_name == ht_qualname */
    w->strs[w->nstrs++] = "__module__"; /* and its tp_dict {'__module__': 'mod'} */
    w->strs[w->nstrs++] = "mod";
    w->node = make_node(im, i, 1, &ka);
    w->instdict = img_dict(im, 3, true, 1, &ka, &seven);
    w->inst = make_instance(im, i, w->node, w->instdict);
    k = wstr(w, "main");
    w->modules = img_dict(im, 3, true, 1, &k, &w->inst);
    img_field(im, w->interp, L->interp_modules, w->modules);

    /* 3.12+: object's dict lives in the interpreter, its index + 1 in tp_subclasses */
    if (L->interp_types_builtins != PH_NONE) {
        k = wstr(w, "__doc__");
        v = wstr(w, "The base class of the class hierarchy.");
        img_field(im, im->object_type, L->tp_subclasses, 1);
        img_field(im, w->interp + (uint64_t)L->interp_types_builtins, L->static_builtin_state_tp_dict,
                  img_dict(im, 3, true, 1, &k, &v));
    }

    /* the GC lists: a cycle A <-> B of refcount 1 each, and C */
    w->A = img_list(im, 1, 1, (uint64_t[]){0});
    w->B = img_list(im, 1, 1, &w->A);
    img_w64(im, img_r64(im, w->A + (uint64_t)L->list_ob_item), w->B);
    w->C = img_list(im, 0, 0, NULL);
    gc_list(im, w->gc + (uint64_t)L->gc_generations, 3, (uint64_t[]){w->A, w->B, w->C});
    gc_list(im, w->gc + (uint64_t)L->gc_generations + 2 * (uint64_t)L->gc_generation_size, 1,
            &w->instdict);

    w->syms.py_runtime = w->runtime;
    w->syms.type_type = im->type_type;
    w->syms.py_version = hex ? u64_at(im, hex) : 0;
}

#endif
