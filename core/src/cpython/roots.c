/* The interpreter's roots and its GC lists: every interpreter's modules,
 * sys and builtins, its threads' states and frames, the static types'
 * dicts, then the objects the collector tracks.  Everything here follows
 * pointers out of _PyRuntime, bounded. */
#include "base/error.h"
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/mimalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 1000000
#define MAX_EXC_CHAIN 10000

/* ---- interpreters and threads -------------------------------------------- */

static uint64_t first_interp(ph_heap *h)
{
    uint64_t interp = 0;
    ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)h->L->runtime_interpreters_head, &interp);
    return interp;
}

static void visit_field(ph_heap *h, uint64_t base, int32_t off, ph_visit_fn *visit, void *payload)
{
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, base + (uint64_t)(int64_t)off, &p) && p)
        visit(h, p, payload);
}

/* A root field, labelled with what it is. */
static void root_field(ph_heap *h, uint64_t base, int32_t off, ph_root_kind kind, const char *name,
                       ph_visit_fn *visit, void *payload)
{
    PH_LABEL_ROOT(h, kind, name, 0, 0, h->root_tstate);
    visit_field(h, base, off, visit, payload);
}

static void thread_roots(ph_heap *h, uint64_t ts, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    h->root_tstate = ts;
    root_field(h, ts, L->tstate_dict, ROOT_THREAD, "thread state dict", visit, payload);
    root_field(h, ts, L->tstate_async_exc, ROOT_THREAD, "pending async exception", visit, payload);
    root_field(h, ts, L->tstate_context, ROOT_THREAD, "contextvars context", visit, payload);
    root_field(h, ts, L->tstate_async_gen_firstiter, ROOT_THREAD, "async generator firstiter hook",
               visit, payload);
    root_field(h, ts, L->tstate_async_gen_finalizer, ROOT_THREAD, "async generator finalizer hook",
               visit, payload);
    root_field(h, ts, L->tstate_curexc_type, ROOT_THREAD, "exception being raised", visit, payload);
    root_field(h, ts, L->tstate_curexc_value, ROOT_THREAD, "exception being raised", visit, payload);
    root_field(h, ts, L->tstate_curexc_traceback, ROOT_THREAD, "exception being raised", visit,
               payload);
    root_field(h, ts, L->tstate_current_exception, ROOT_THREAD, "exception being raised", visit,
               payload);
    /* The handled-exception stack, from the top (a running generator's
     * state) down to the thread's own exc_state. */
    uint64_t item = 0;
    if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_exc_info, &item) || !ph_ptr_ok(item))
        item = ts + (uint64_t)L->tstate_exc_state;
    ph_cycle cyc = {0};
    for (int i = 0; i < MAX_EXC_CHAIN && ph_ptr_ok(item) && !ph_cycle_seen(&cyc, item); i++) {
        root_field(h, item, L->err_exc_type, ROOT_THREAD, "exception being handled", visit, payload);
        root_field(h, item, L->err_exc_value, ROOT_THREAD, "exception being handled", visit, payload);
        root_field(h, item, L->err_exc_traceback, ROOT_THREAD, "exception being handled", visit,
                   payload);
        if (!ph_read_u64(h->r, item + (uint64_t)L->err_previous_item, &item))
            break;
    }
    if (L->tstate_frame != PH_NONE) {
        /* 3.8-3.10: every frame of the thread is a root of its own, so that
         * a chain starts at the frame whose local holds the object. */
        uint64_t f = 0;
        ph_read_u64(h->r, ts + (uint64_t)L->tstate_frame, &f);
        ph_cycle fcyc = {0};
        for (int i = 0; i < MAX_FRAMES && ph_ptr_ok(f) && !ph_cycle_seen(&fcyc, f); i++) {
            PH_LABEL_ROOT(h, ROOT_FRAME, NULL, 0, 0, ts);
            visit(h, f, payload);
            if (!ph_read_u64(h->r, f + (uint64_t)L->frame_back, &f))
                break;
        }
        h->root_tstate = 0;
        return;
    }
    uint64_t f = 0;
    if (L->tstate_cframe != PH_NONE) {
        uint64_t cf;
        if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_cframe, &cf) || !ph_ptr_ok(cf) ||
            !ph_read_u64(h->r, cf + (uint64_t)L->cframe_current_frame, &f)) {
            h->root_tstate = 0;
            return;
        }
    } else if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_current_frame, &f)) {
        h->root_tstate = 0;
        return;
    }
    ph_cycle fcyc = {0};
    for (int i = 0; i < MAX_FRAMES && ph_ptr_ok(f) && !ph_poll(h); i++) {
        if (ph_cycle_seen(&fcyc, f)) {
            ph_skip(h, f, "a frame chain that loops");
            break;
        }
        ph_iframe_referents(h, f, visit, payload);
        if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_previous, &f))
            break;
    }
    h->root_tstate = 0;
}

/* Is d the interned-strings dict: a big dict whose first entries map a
 * str to itself? */
static bool looks_interned(ph_heap *h, uint64_t d, uint64_t dict_type)
{
    uint64_t t;
    ph_dict_iter it;
    if (!ph_ptr_ok(d) || !ph_reader_covers(h->r, d) || !ph_ob_type(h, d, &t) ||
        t != dict_type ||
        !ph_dict_iter_init(h, d, &it) || it.n < 256)
        return false;
    uint64_t k, v, str_type = 0;
    for (int i = 0; i < 16; i++) {
        if (!ph_dict_iter_next(h, &it, &k, &v) || k != v || !ph_ob_type(h, k, &t))
            return false;
        if (!str_type)
            str_type = t;
        if (t != str_type)
            return false;
    }
    uint32_t ti = ph_type_get(h, str_type);
    return ti != UINT32_MAX && h->types[ti].shape == SHAPE_STR;
}

/* 3.8-3.11 keep the interned dict in a file static of unicodeobject.c, which
 * only .symtab names.  Without it, search the data near _PyRuntime (same
 * binary, same data segments) for a pointer to a dict that looks like it. */
static uint64_t find_interned(ph_heap *h, uint64_t sysdict)
{
    uint64_t d = 0, dict_type = 0;
    if (h->syms.interned) {
        ph_read_u64(h->r, h->syms.interned, &d);
        return d;
    }
    if (!ph_ob_type(h, sysdict, &dict_type))
        return 0;
    const uint64_t span = 4u << 20, chunk = 4096;
    uint64_t lo = h->syms.py_runtime > span ? h->syms.py_runtime - span : 0;
    uint64_t words[4096 / 8];
    for (uint64_t a = lo & ~(chunk - 1); a < h->syms.py_runtime + span; a += chunk) {
        /* Only memory the core or process holds: the executable's read-only
         * parts come from gdb, slowly, and cannot hold the pointer anyway. */
        if (!ph_reader_covers(h->r, a) || !ph_read(h->r, a, words, chunk))
            continue;
        for (size_t i = 0; i < chunk / 8; i++)
            if (ph_ptr_ok(words[i]) && looks_interned(h, words[i], dict_type))
                return words[i];
    }
    return 0;
}

static ph_error *walk_roots(ph_heap *h, ph_visit_fn *visit, void *payload);

/* The dicts of static types (3.12+), kept in the interpreter's array of n
 * static_builtin_states at off: roots. */
static void type_dicts(ph_heap *h, uint64_t interp, int32_t off, int32_t n, ph_visit_fn *visit,
                       void *payload)
{
    const ph_layout *L = h->L;
    for (int32_t i = 0; i < n; i++)
        root_field(h, interp + (uint64_t)off + (uint64_t)i * (uint64_t)L->static_builtin_state_size,
                   L->static_builtin_state_tp_dict, ROOT_TYPE_DICT, NULL, visit, payload);
}

ph_error *ph_runtime_walk_roots(ph_heap *h, ph_ref_fn *fn, void *payload)
{
    ph_ref_sink sink = {fn, payload};
    h->conservative = h->in_permanent = false;
    h->root_tstate = 0;
    ph_error *err = walk_roots(h, ph_ref_emit, &sink);
    h->conservative = false;
    h->root_tstate = 0;
    return err;
}

typedef struct roots_walk {
    ph_visit_fn *visit;
    void *payload;
} roots_walk;

/* One interpreter's roots, then each of its threads'. */
static bool state_roots(ph_heap *h, ph_state_kind kind, uint64_t addr, uint64_t interp,
                        void *payload)
{
    const roots_walk *rw = payload;
    ph_visit_fn *visit = rw->visit;
    const ph_layout *L = h->L;
    if (kind == PH_STATE_THREAD) {
        h->threads++;
        thread_roots(h, addr, visit, rw->payload);
        return true;
    }
    if (kind != PH_STATE_INTERP)
        return true;
    h->interpreters++;
    root_field(h, interp, L->interp_modules, ROOT_MODULES, NULL, visit, rw->payload);
    root_field(h, interp, L->interp_sysdict, ROOT_SYS, NULL, visit, rw->payload);
    root_field(h, interp, L->interp_builtins, ROOT_BUILTINS, NULL, visit, rw->payload);
    root_field(h, interp, L->interp_dict, ROOT_INTERP, NULL, visit, rw->payload);
    if (L->interp_interned != PH_NONE) {
        root_field(h, interp, L->interp_interned, ROOT_INTERNED, NULL, visit, rw->payload);
    } else if (interp == h->interp_addr) { /* 3.8-3.11: one table, found from the main sys */
        uint64_t sysdict = 0, d;
        ph_read_u64(h->r, interp + (uint64_t)L->interp_sysdict, &sysdict);
        if (ph_ptr_ok(sysdict) && (d = find_interned(h, sysdict))) {
            PH_LABEL_ROOT(h, ROOT_INTERNED, NULL, 0, 0, 0);
            visit(h, d, rw->payload);
        }
    }
    if (L->interp_types_builtins != PH_NONE) {
        type_dicts(h, interp, L->interp_types_builtins, L->static_builtin_max, visit, rw->payload);
        if (L->interp_types_for_extensions != PH_NONE)
            type_dicts(h, interp, L->interp_types_for_extensions, L->static_extension_max, visit,
                       rw->payload);
    }
    return true;
}

static ph_error *walk_roots(ph_heap *h, ph_visit_fn *visit, void *payload)
{
    uint64_t interp = first_interp(h);
    if (!ph_ptr_ok(interp))
        return ph_error_new(PH_ERR_CORRUPT, h->syms.py_runtime,
                            "the interpreter list in _PyRuntime is unreadable: the process "
                            "has no live interpreter (finalized, or not started)");
    h->interp_addr = interp;
    h->interpreters = h->threads = 0;
    roots_walk rw = {visit, payload};
    ph_runtime_states(h, PH_STATES_WATCH, state_roots, &rw);
    return NULL;
}

/* Walks one GC list from its head, checking each link back. */
static void walk_gc_list(ph_heap *h, uint64_t head, ph_visit_fn *visit, void *payload)
{
    const uint64_t mask = ~(uint64_t)3;
    uint64_t prev = head, p;
    if (!ph_read_u64(h->r, head, &p))
        return;
    p &= mask;
    for (uint64_t n = 0; n < MAX_LIST_HOPS && p != head; n++) {
        uint64_t gc[2];
        if (!ph_ptr_ok(p) || !ph_read(h->r, p, gc, sizeof(gc)) || (gc[1] & mask) != prev) {
            ph_skip(h, p, "a GC list link that does not point back"); /* a broken link: the rest of this list is lost */
            return;
        }
        visit(h, p + (uint64_t)h->L->gc_head_size, payload);
        prev = p;
        p = gc[0] & mask;
        if (ph_poll(h))
            return;
    }
}

/* A GC list head that links into a circular doubly linked list: its
 * neighbours point back at it (or it is alone). */
bool ph_gc_head_links(ph_heap *h, uint64_t head)
{
    const uint64_t mask = ~(uint64_t)3;
    uint64_t hd[2], w;
    if (!ph_read(h->r, head, hd, sizeof(hd)))
        return false;
    uint64_t next = hd[0] & mask, prev = hd[1] & mask;
    /* the neighbours are objects' GC headers (8-aligned); the head itself need not be */
    if (next != head && (!ph_ptr_ok(next) || !ph_read_u64(h->r, next + 8, &w) || (w & mask) != head))
        return false;
    if (prev != head && (!ph_ptr_ok(prev) || !ph_read_u64(h->r, prev, &w) || (w & mask) != head))
        return false;
    return true;
}

static bool gc_generations_ok(ph_heap *h, uint64_t gens)
{
    const ph_layout *L = h->L;
    for (int32_t g = 0; g < L->gc_num_generations; g++)
        if (!ph_gc_head_links(h, gens + (uint64_t)g * (uint64_t)L->gc_generation_size))
            return false;
    return true;
}

/* Where the generations start in this build's GC state.  The field before
 * them ends 4 bytes short of an 8-byte boundary ({PyObject *; int; int; int}
 * on 3.9-3.13), and a build whose PyGC_Head is only 4-aligned (Debian
 * trixie's 3.13.5: Py_ALIGNED(1 << _PyObject_ALIGNMENT_SHIFT) on the typedef)
 * puts them 4 bytes earlier than the table's build did.  The offset whose
 * heads all link up is taken; when neither does (a damaged heap), the
 * table's. */
static uint64_t gc_generations_at(ph_heap *h, uint64_t gc)
{
    const ph_layout *L = h->L;
    uint64_t table = gc + (uint64_t)L->gc_generations;
    if (gc_generations_ok(h, table))
        return table;
    if (L->gc_generations >= 4 && gc_generations_ok(h, table - 4)) {
        h->gc_generations_shift = -4;
        return table - 4;
    }
    return table;
}

bool ph_runtime_gc_generations(ph_heap *h, uint64_t gc, uint64_t *gens)
{
    *gens = gc_generations_at(h, gc);
    return gc_generations_ok(h, *gens);
}

static void walk_gc_state(ph_heap *h, uint64_t gc, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    int32_t collecting = 0;
    if (ph_read(h->r, gc + (uint64_t)L->gc_collecting, &collecting, 4) && collecting)
        h->gc_collecting = true;
    uint64_t gens = gc_generations_at(h, gc);
    for (int32_t g = 0; g < L->gc_num_generations; g++)
        walk_gc_list(h, gens + (uint64_t)g * (uint64_t)L->gc_generation_size, visit, payload);
    h->in_permanent = true;
    walk_gc_list(h, gc + (uint64_t)L->gc_permanent_generation, visit, payload);
    h->in_permanent = false;
}

/* 3.12+: each interpreter's GC lists. */
static bool interp_gc_state(ph_heap *h, ph_state_kind kind, uint64_t addr, uint64_t interp,
                            void *payload)
{
    const roots_walk *rw = payload;
    if (kind == PH_STATE_INTERP)
        walk_gc_state(h, interp + (uint64_t)h->L->interp_gc, rw->visit, rw->payload);
    return true;
}

ph_error *ph_runtime_walk_gc(ph_heap *h, ph_ref_fn *fn, void *payload)
{
    const ph_layout *L = h->L;
    ph_ref_sink sink = {fn, payload};
    ph_visit_fn *visit = ph_ref_emit;
    payload = &sink;
    h->conservative = h->in_permanent = false;
    h->root_tstate = 0;
    if (L->free_threaded == 1) /* no GC lists: the GC heaps of mimalloc (mimalloc.c) */
        return ph_mi_walk_gc(h, visit, payload);
    if (L->runtime_gc != PH_NONE) {
        walk_gc_state(h, h->syms.py_runtime + (uint64_t)L->runtime_gc, visit, payload);
        return NULL;
    }
    roots_walk rw = {visit, payload};
    ph_runtime_states(h, 0, interp_gc_state, &rw);
    return NULL;
}

