/* Which layout a CPython release has: the built-in table of its minor
 * version, what its micro version changed (3.14.0-3.14.4's incremental
 * collector), the table 3.15 is derived from, and for a release newer than
 * any table, the newest one (an assumption the caller must check). */
#include "cpython/versions.h"

#include <stdio.h>
#include <string.h>

#define NEWEST_TABLE 15

/* CPython 3.15 (default build), derived from 3.14.7's table: no 3.15 build
 * is at hand for tools/gen_layout.py.  Every field its _Py_DebugOffsets describes
 * is overwritten from the target anyway; the values below are those of
 * 3.15.0rc1's own _Py_DebugOffsets and of the 3.15 headers
 * (Include/internal/pycore_interp_structs.h, pycore_tstate.h, cpython/object.h):
 *   _gc_runtime_state lost trash_delete_later and gained a pointer to its
 *     statistics: {int enabled; int debug; struct gc_generation generations[3] (8);
 *     permanent_generation (80); struct gc_stats *generation_stats (104);
 *     int collecting (112); _PyInterpreterFrame *frame (120); ...} 176 bytes;
 *   PyThreadState gained base_frame, last_profiled_frame and
 *     last_profiled_frame_seq after current_frame (72): every later field +24
 *     (current_exception 136, exc_state 280 as its _Py_DebugOffsets say);
 *   PyTypeObject grew by 8 bytes at its end (sizeof 424; PyHeapTypeObject
 *     944, ht_cached_keys 888): the ht_* fields +8;
 *   the interpreter's fields its _Py_DebugOffsets do not describe (dict,
 *     obmalloc, types, cached objects) are not known: they are placed by
 *     ph_layout_select relative to the fields it does describe. */
static void derive_3_15(ph_layout *L)
{
    *L = *ph_layout_get(3, 14);
    L->minor = 15;
    L->runtime_interpreters_head = 936;
    L->interp_next = 7264;
    L->interp_id = 7272;
    L->interp_threads_head = 7328;
    L->interp_gc = 7392;
    L->interp_sysdict = 7568;
    L->interp_builtins = 7576;
    L->interp_modules = 7584;
    L->gc_generations = 8;
    L->gc_generation_size = 24;
    L->gc_num_generations = 3;
    L->gc_permanent_generation = 80;
    L->gc_collecting = 112;
    const int32_t d = 24; /* base_frame, last_profiled_frame, last_profiled_frame_seq */
    L->tstate_current_exception += d;
    L->tstate_exc_info += d;
    L->tstate_dict += d;
    L->tstate_async_exc += d;
    L->tstate_thread_id += d;
    L->tstate_native_thread_id += d;
    L->tstate_context += d;
    L->tstate_async_gen_firstiter += d;
    L->tstate_async_gen_finalizer += d;
    L->tstate_exc_state += d;
    L->type_sizeof = 424;
    L->heaptype_sizeof = 944;
    L->ht_name += 8;
    L->ht_slots += 8;
    L->ht_qualname += 8;
    L->ht_cached_keys += 8;
    L->ht_module += 8;
    /* placed as ph_layout_place_interp would from 3.14.7: imports.modules moved
     * by -104, sizeof(PyInterpreterState) grew by 176 */
    L->interp_dict -= 104;
    L->interp_obmalloc_ptr += 176;
    L->interp_types_builtins += 176;
    L->interp_types_for_extensions += 176;
    L->interp_interned += 176;
}

const ph_layout *ph_layout_table(int minor)
{
    static ph_layout l315;
    static bool ready;
    if (minor == 15) {
        if (!ready) {
            derive_3_15(&l315);
            ready = true;
        }
        return &l315;
    }
    return ph_layout_get(3, minor);
}

/* Interpreter fields outside _Py_DebugOffsets, placed by the table of
 * 3.minor.ref_micro: those after the GC state up to the qsbr state move with
 * the fields that follow the GC state (imports.modules); those after qsbr
 * move with the end of the interpreter. */
typedef struct interp_anchor {
    int minor;
    int ref_micro;            /* the release the table was made from */
    int32_t interp_sizeof;    /* its sizeof(PyInterpreterState) */
    int32_t qsbr;             /* its offsetof(PyInterpreterState, qsbr) */
} interp_anchor;

/* 3.14.7: gdb on /var/cache/probe-heap/python-3.14.7/bin/python3.14
 * (sizeof(PyInterpreterState) 225864, qsbr 10824); 3.15.0rc1: its
 * _Py_DebugOffsets give interpreter_state.size 226040, and the 3.14 order of
 * fields is kept (qsbr after the GC state and imports). */
static const interp_anchor anchors[] = {
    {14, 7, 225864, 10824},
    {15, 0, 226040, 10824 - 104},
};

static const interp_anchor *anchor_for(int minor)
{
    for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++)
        if (anchors[i].minor == minor)
            return &anchors[i];
    return NULL;
}

ph_error *ph_layout_select(const ph_version *v, ph_layout *L, ph_layout_choice *c)
{
    memset(c, 0, sizeof(*c));
    if (v->free_threaded) {
        /* A free-threaded build has its own table (its DWARF: a 32-byte
         * header, no PyGC_Head); its objects are in mimalloc's heaps. */
        const ph_layout *ft = v->major == 3 ? ph_layout_get_build(3, v->minor, 1) : NULL;
        if (!ft)
            return ph_error_new(PH_ERR_VERSION, 0,
                                "free-threaded CPython %s is not supported: probe-heap reads "
                                "free-threaded builds of CPython 3.14",
                                v->text);
        *L = *ft;
        c->table_minor = v->minor;
        c->table_micro = 7;
        c->free_threaded = true;
        c->gc = "free-threaded: no GC lists, the GC heaps of mimalloc";
        return NULL;
    }
    int minor = v->minor > NEWEST_TABLE ? NEWEST_TABLE : v->minor;
    const ph_layout *t = v->major == 3 ? ph_layout_table(minor) : NULL;
    if (!t)
        return ph_error_new(PH_ERR_VERSION, 0, "no layout for CPython %s", v->text);
    *L = *t;
    c->table_minor = minor;
    c->assumed = minor != v->minor;
    c->derived = minor == 15;
    c->gc = "generational: three generations and the permanent one";
    if (v->minor == 14) {
        c->table_micro = 7;
        if (v->micro <= 4) {
            /* 3.14.0-3.14.4 (Include/internal/pycore_interp_structs.h):
             * {PyObject *trash_delete_later; int trash_delete_nesting; int enabled;
             *  int debug; struct gc_generation young (24); old[2] (48, 72);
             *  permanent_generation (96); generation_stats[3] (120); int collecting
             *  (192); garbage; callbacks; heap_size; work_to_do; int visited_space;
             *  int phase} (240 bytes): young and both old spaces sit where 3.14.5's
             * generations do, and bit 0 of _gc_next names an object's old space. */
            c->gc = "incremental (3.14.0-3.14.4): young, old[0], old[1] and the permanent one";
            c->gc_incremental = true;
            c->gc_state_size = 240;
        } else {
            /* 3.14.5+: generations[3] in young's place, dummies for work_to_do,
             * visited_space and phase, then long_lived_total, long_lived_pending
             * and generation0 appended (264 bytes). */
            c->gc = "generational (3.14.5+): three generations and the permanent one";
            c->gc_state_size = 264;
        }
    } else if (v->minor == 15) {
        c->gc_state_size = 176;
    }
    return NULL;
}

void ph_layout_place_interp(const ph_version *v, ph_layout *L, const ph_layout *table,
                            uint64_t interp_size, ph_layout_choice *c)
{
    const interp_anchor *a = anchor_for(c->table_minor);
    if (!a || interp_size == 0 || interp_size > (UINT64_C(1) << 22))
        return;
    int64_t near = (int64_t)L->interp_modules - table->interp_modules;
    int64_t end = (int64_t)interp_size - a->interp_sizeof;
    int32_t *fields[] = {&L->interp_dict, &L->interp_obmalloc_ptr, &L->interp_obmalloc,
                         &L->interp_types_builtins, &L->interp_types_for_extensions,
                         &L->interp_interned};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int32_t *f = fields[i];
        if (*f == PH_NONE)
            continue;
        int64_t shift = *f < a->qsbr ? near : end;
        int64_t moved = (int64_t)*f + shift;
        if (moved < 0 || moved + 8 > (int64_t)interp_size) {
            *f = PH_NONE;
            continue;
        }
        if (shift)
            c->placed++;
        *f = (int32_t)moved;
    }
    (void)v;
}
