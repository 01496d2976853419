/* Synthetic worlds (world.h) of releases whose layout is not their minor
 * version's table, as test_releases.c and the fuzz harness use them: 3.14.5
 * and 3.14.3 (interpreter fields moved by patch releases, 3.14.3's
 * incremental collector), 3.15 (its own _Py_DebugOffsets and new builtins) and a
 * "3.16" newer than every table. */
#ifndef PH_TEST_RELEASES_H
#define PH_TEST_RELEASES_H

#include "world.h"

#define I314 6 /* index of 3.14 in versions.h: the shape of Node in 3.14 and later */

/* ---- 3.14.x as laid out by that release ------------------------------------------------- */

/* The 3.14.7 table with the interpreter's fields moved: the GC state by
 * gc, the fields after it up to qsbr (sys dict, builtins, imports.modules,
 * interp->dict) by after_gc, those after qsbr (obmalloc, types, cached
 * objects) by after_qsbr. */
static inline void layout_3_14(ph_layout *L, int32_t gc, int32_t after_gc, int32_t after_qsbr)
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

static inline void world_3_14_5(world *w)
{
    layout_3_14(&L_3_14_5, -24, -24, -24);
    make_world_as(w, I314, 14, &L_3_14_5, HEX_3_14_5,
                  "3.14.5 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]");
    img_debug_offsets(&w->im, w->runtime, 14, HEX_3_14_5, 225864 - 24, 264);
}

/* 3.14.3: young, old[0] and old[1] where 3.14.5's generations are.  Besides
 * world.h's objects (A, B, C young; main's __dict__ in old[1]), a list E held
 * from C only sits in old[0] and a list D in old[1] after main's __dict__;
 * every _gc_next in old[1] (its head's too) carries bit 0
 * (_PyGC_NEXT_MASK_OLD_SPACE_1: the object's space), which the walk masks. */
static inline void world_3_14_3(world *w, uint64_t *D, uint64_t *E, uint64_t gc_size)
{
    layout_3_14(&L_3_14_3, -24, -48, -56);
    make_world_as(w, I314, 14, &L_3_14_3, HEX_3_14_3,
                  "3.14.3 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]");
    img_debug_offsets(&w->im, w->runtime, 14, HEX_3_14_3, 225864 - 56, gc_size);
    img *im = &w->im;
    const ph_layout *L = im->L;
    uint64_t spaces = w->gc + (uint64_t)L->gc_generations;
    uint64_t old0 = spaces + (uint64_t)L->gc_generation_size;
    uint64_t old1 = spaces + 2 * (uint64_t)L->gc_generation_size;
    *E = img_list(im, 0, 0, NULL);
    gc_list(im, old0, 1, E);
    *D = img_list(im, 0, 0, NULL);
    gc_list(im, old1, 1, D);
    /* old[1]: head -> main's __dict__ -> D -> head, bit 0 on each _gc_next */
    const uint64_t links[] = {old1, w->instdict - 16, *D - 16};
    for (size_t i = 0; i < 3; i++)
        img_w64(im, links[i], img_r64(im, links[i]) | 1);
}

/* ---- 3.15 ------------------------------------------------------------------------------ */

#define HEX_3_15_0 UINT64_C(0x030F00F0)
#define SIZEOF_INTERP_3_15 226040 /* 3.15.0rc1's _Py_DebugOffsets: interpreter_state.size */
#define SIZEOF_GC_3_15 176        /* and gc.size */

/* What a 3.15 world holds besides world.h's: interp->dict {'json': a
 * lazy_import of json.dumps (PEP 810: what a module's dict holds for a `lazy
 * import` not yet resolved), 'FD': frozendict({'k': 9}) (PEP 814),
 * 'MISSING': a sentinel}.  The sentinel's struct is not known: its type is a
 * static one of basicsize 32 whose first field points at its name, which the
 * walk finds by scanning it. */
typedef struct world315 {
    uint64_t globals, lazy, lazy_from, lazy_attr, fd, fd_keys, nine, sentinel, sentinel_name;
    uint64_t lazy_type, frozendict_type, sentinel_type;
} world315;

/* The dict type's flags and basicsize for frozendict: a static type, not a dict
 * subclass (PEP 814), GC, {PyDictObject; Py_hash_t ma_hash}. */
static inline void world_3_15_objects(world *w, world315 *x)
{
    img *im = &w->im;
    const ph_layout *L = im->L;
    x->lazy_type = img_static_type(im, "lazy_import", 56, 0, TPFLAGS_HAVE_GC);
    x->frozendict_type = img_static_type(im, "frozendict", L->dict_sizeof + 8, 0,
                                         TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    x->sentinel_type = img_static_type(im, "sentinel", 32, 0, 0);
    /* lazy import json.dumps: lz_builtins the builtins dict, lz_from 'json',
     * lz_attr 'dumps', lz_code NULL */
    x->lazy = img_object(im, x->lazy_type, 56, true, false);
    x->lazy_from = wstr(w, "json");
    x->lazy_attr = wstr(w, "dumps");
    img_w64(im, x->lazy + 16, img_r64(im, w->interp + (uint64_t)L->interp_builtins));
    img_w64(im, x->lazy + 24, x->lazy_from);
    img_w64(im, x->lazy + 32, x->lazy_attr);
    /* frozendict({'k': 9}): a combined dict's fields, then ma_hash */
    uint64_t k = wstr(w, "k");
    x->nine = img_int(im, 9);
    x->fd_keys = img_keys(im, 3, IMG_DK_UNICODE, 1, (int64_t)(img_usable(8) - 1), 1, &k, &x->nine);
    x->fd = img_object(im, x->frozendict_type, (size_t)L->dict_sizeof + 8, true, false);
    img_field(im, x->fd, L->dict_ma_used, 1);
    img_field(im, x->fd, L->dict_ma_keys, x->fd_keys);
    img_w64(im, x->fd + (uint64_t)L->dict_sizeof, UINT64_C(0x1122334455667788)); /* ma_hash */
    x->sentinel = img_object(im, x->sentinel_type, 32, false, false);
    x->sentinel_name = wstr(w, "MISSING");
    img_w64(im, x->sentinel + 16, x->sentinel_name);
    uint64_t keys[3] = {wstr(w, "json"), wstr(w, "FD"), wstr(w, "MISSING")};
    uint64_t vals[3] = {x->lazy, x->fd, x->sentinel};
    x->globals = img_dict(im, 3, true, 3, keys, vals);
    img_field(im, w->interp, L->interp_dict, x->globals);
}

/* 3.15.0 laid out by the layout given (the 3.15 table, or a "3.16" one),
 * with the _Py_DebugOffsets of 3.15's struct, version hex. */
static inline void world_3_15_as(world *w, world315 *x, const ph_layout *L, int minor,
                                 uint64_t hex, const char *sys_version)
{
    make_world_as(w, I314, minor, L, hex, sys_version);
    img_debug_offsets(&w->im, w->runtime, 15, hex, SIZEOF_INTERP_3_15, SIZEOF_GC_3_15);
    world_3_15_objects(w, x);
}

static inline void world_3_15(world *w, world315 *x)
{
    world_3_15_as(w, x, ph_layout_table(15), 15, HEX_3_15_0,
                  "3.15.0 (main, Jan  1 2026, 00:00:00) [GCC 12.2.0]");
}

/* ---- a "3.16": newer than every table -------------------------------------------------- */

#define HEX_3_16_0 UINT64_C(0x031000F0)
/* 3.15's layout with the sys dict, builtins and imports.modules moved by
 * +48 (fields the _Py_DebugOffsets describe: they say so) and interp->dict
 * with them; what else changed is given by `change` (NULL: nothing). */
static ph_layout L_3_16;
static inline void world_3_16(world *w, world315 *x, void (*change)(ph_layout *L))
{
    L_3_16 = *ph_layout_table(15);
    L_3_16.minor = 16;
    L_3_16.interp_sysdict += 48; /* as if a field before them grew */
    L_3_16.interp_builtins += 48;
    L_3_16.interp_modules += 48;
    L_3_16.interp_dict += 48;
    if (change)
        change(&L_3_16);
    world_3_15_as(w, x, &L_3_16, 16, HEX_3_16_0,
                  "3.16.0 (main, Jan  1 2027, 00:00:00) [GCC 12.2.0]");
}

#endif
