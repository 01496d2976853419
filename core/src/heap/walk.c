/* Building the heap index: roots first, then the GC lists, each followed to
 * closure through ph_referents.  Objects reached only from GC-listed
 * objects that the roots do not reach are sorted out like the collector
 * does it: an object whose refcount exceeds the references from that set is
 * held from outside (C code, a C global) and is alive; what is left is
 * cyclic garbage awaiting collection. */
#include "cpython/debug_offsets.h"
#include "base/vec.h"
#include "base/error.h"
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/ft.h"
#include "cpython/conservative.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static bool push(ph_heap *h, uint32_t id)
{
    if (h->qtail == h->qcap) {
        /* compact or grow */
        if (h->qhead > h->qcap / 2) {
            memmove(h->queue, h->queue + h->qhead, (h->qtail - h->qhead) * sizeof(uint32_t));
            h->qtail -= h->qhead;
            h->qhead = 0;
        } else {
            if (!PH_VEC_RESERVE(h->queue, h->qcap, h->qcap + 1, 1u << 16))
                return false;
        }
    }
    h->queue[h->qtail++] = id;
    return true;
}

typedef struct walk_state {
    uint8_t flag;     /* set on every object reached in this phase */
    ph_error *err;
} walk_state;

/* Visitor: validate, add, queue.  Returns the object id. */
static uint32_t add_object(ph_heap *h, const ph_ref *ref, void *payload)
{
    walk_state *ws = payload;
    const uint64_t addr = ref->addr;
    if (ws->err || h->interrupted)
        return PH_NO_OBJ;
    struct ph_block *place;
    uint32_t id = ph_index_find_place(&h->idx, addr, &place);
    if (id != PH_NO_OBJ) {
        if (!ref->guessed)
            h->idx.flags[id] &= (uint8_t)~OBJ_CONSERVATIVE; /* a precise reference too */
        /* Already expanded in this phase, or in the roots phase (whose closure is complete). */
        if (!(h->idx.flags[id] & (ws->flag | OBJ_FROM_ROOTS))) {
            h->idx.flags[id] |= ws->flag;
            if (!push(h, id))
                ws->err = PH_NOMEM;
        }
        return id;
    }
    uint32_t type = ph_object_check(h, addr);
    if (type == UINT32_MAX) {
        if (!ref->guessed)
            ph_skip(h, addr, "a reference to something that is not a valid object");
        return PH_NO_OBJ;
    }
    if (ref->guessed && !ph_conservative_ok(h, addr, type))
        return PH_NO_OBJ; /* a guess that fails the full check */
    bool added;
    ph_error *err = place ? ph_index_add_placed(&h->idx, addr, type, place, &id)
                          : ph_index_add(&h->idx, addr, type, &id, &added);
    if (err) {
        ws->err = err;
        return PH_NO_OBJ;
    }
    h->idx.flags[id] = (uint8_t)(ws->flag | (ref->guessed ? OBJ_CONSERVATIVE : 0));
    if (!push(h, id))
        ws->err = PH_NOMEM;
    return id;
}

static void note_root(ph_heap *h, uint32_t id, walk_state *ws)
{
    if (id == PH_NO_OBJ || (h->idx.flags[id] & OBJ_ROOT))
        return;
    if (!PH_VEC_RESERVE(h->roots, h->caproots, h->nroots + 1, 1024)) {
        ws->err = PH_NOMEM;
        return;
    }
    h->roots[h->nroots++] = id;
    h->idx.flags[id] |= OBJ_ROOT;
}

/* Visitor for the roots themselves: add, and remember as a root. */
static uint32_t add_root(ph_heap *h, const ph_ref *ref, void *payload)
{
    uint32_t id = add_object(h, ref, payload);
    note_root(h, id, payload);
    return id;
}

static uint32_t add_gc_listed(ph_heap *h, const ph_ref *ref, void *payload)
{
    uint32_t id = add_object(h, ref, payload);
    if (id != PH_NO_OBJ)
        h->idx.flags[id] |= OBJ_GC_LISTED | (ref->permanent ? OBJ_PERMANENT : 0);
    return id;
}

static ph_error *drain(ph_heap *h, walk_state *ws, bool sizes)
{
    while (h->qhead < h->qtail && !ws->err && !ph_poll(h)) {
        uint32_t id = h->queue[h->qhead++];
        if (sizes) {
            const ph_type *t = &h->types[h->idx.type[id]];
            if ((ws->err = ph_index_set_size(&h->idx, id, ph_flat_size(h, h->idx.addr[id], t))))
                break;
        }
        /* An object with corrupt references counts once, however many it has. */
        uint64_t before = h->skipped;
        h->visiting = h->idx.addr[id];
        ph_referents(h, id, add_object, ws);
        h->visiting = 0;
        if (h->skipped > before + 1)
            h->skipped = before + 1;
    }
    return ws->err;
}

/* A closure drained again over objects the GC lists' phase sized: only an
 * object added since `from` lacks its flat size (none can be new there,
 * every reference having been followed, but be sure). */
static ph_error *size_new(ph_heap *h, size_t from)
{
    ph_error *err = NULL;
    for (size_t i = from; i < h->idx.n && !err; i++)
        err = ph_index_set_size(&h->idx, (uint32_t)i,
                                ph_flat_size(h, h->idx.addr[i], &h->types[h->idx.type[i]]));
    return err;
}

/* Counts, for each object of the unreached set, the references to it from
 * within the set (the collector's subtract_refs). */
typedef struct subtract_state {
    int64_t *refs;
} subtract_state;

static uint32_t subtract_ref(ph_heap *h, const ph_ref *ref, void *payload)
{
    subtract_state *ss = payload;
    uint32_t id = ph_index_find(&h->idx, ref->addr);
    /* Guessed references count too: a C object's field that the scan
     * found (an itemgetter's item, a Struct's format) holds what it points
     * to, which is then reached from that object, not held from outside on
     * its own.  (The leak report counts the same way.) */
    if (id != PH_NO_OBJ && !(h->idx.flags[id] & OBJ_FROM_ROOTS))
        ss->refs[id]--;
    return id;
}


static ph_error *sort_out_unreached(ph_heap *h)
{
    size_t n = h->idx.n;
    int64_t *refs = calloc(n ? n : 1, sizeof(int64_t));
    if (!refs)
        return PH_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (h->idx.flags[i] & OBJ_FROM_ROOTS)
            continue;
        int64_t rc = 0;
        bool immortal = false;
        if (!ph_object_refcnt(h, h->idx.addr[i], h->idx.type[i], &rc, &immortal))
            rc = 0;
        if (immortal)
            rc = INT64_MAX / 2;
        refs[i] = rc;
    }
    subtract_state ss = {refs};
    uint64_t skipped = h->skipped; /* counted once, in the walk */
    for (size_t i = 0; i < n; i++)
        if (!(h->idx.flags[i] & OBJ_FROM_ROOTS))
            ph_referents(h, (uint32_t)i, subtract_ref, &ss);
    h->skipped = skipped;
    /* Alive: positive external count (or frozen by gc.freeze: never
     * collected), and everything those reach. */
    walk_state ws = {.flag = OBJ_ALIVE};
    h->qhead = h->qtail = 0;
    for (size_t i = 0; i < n && !ws.err; i++)
        if (!(h->idx.flags[i] & OBJ_FROM_ROOTS) &&
            (refs[i] > 0 || (h->idx.flags[i] & OBJ_PERMANENT))) {
            h->idx.flags[i] |= OBJ_ALIVE;
            note_root(h, (uint32_t)i, &ws);
            if (!push(h, (uint32_t)i))
                ws.err = PH_NOMEM;
        }
    free(refs);
    size_t before = h->idx.n;
    ph_error *err = ws.err ? ws.err : drain(h, &ws, false);
    if (err)
        return err;
    if ((err = size_new(h, before)))
        return err;
    h->garbage_objects = h->garbage_bytes = 0;
    for (size_t i = 0; i < h->idx.n; i++)
        if (!(h->idx.flags[i] & (OBJ_FROM_ROOTS | OBJ_ALIVE))) {
            h->garbage_objects++;
            h->garbage_bytes += ph_index_size(&h->idx, i);
        }
    return NULL;
}

ph_error *ph_heap_build(ph_reader *r, const ph_symbols *syms, const ph_build_options *opts,
                        ph_heap **out)
{
    double t0 = now(), cpu0 = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    ph_heap *h = calloc(1, sizeof(*h));
    if (!h)
        return PH_NOMEM;
    h->r = r;
    h->syms = *syms;
    if (opts)
        ph_heap_set_interrupt(h, opts->interrupt, opts->payload);
    h->layout_source = "table";
    ph_error *err = ph_detect_version(r, syms, &h->version);
    if (!err)
        err = ph_runtime_layout(h);
    if (!err)
        err = ph_index_init(&h->idx, h->r, h->L);
    walk_state ws = {.flag = OBJ_FROM_ROOTS};
    h->recording_skips = true;
    /* The C memory read for what C holds (static data, thread stacks):
     * copied first, since a running frame's stack depth is read there. */
    if (!err && opts)
        err = ph_statics_copy(h, opts->statics, opts->nstatics);
    if (!err)
        err = ph_runtime_walk_roots(h, add_root, &ws);
    if (!err) {
        ph_numpy_detect(h); /* before any size: it may look types up */
        err = ws.err ? ws.err : drain(h, &ws, true);
    }
    walk_state ws2 = {.flag = OBJ_SEEN2};
    if (!err)
        err = ph_runtime_walk_gc(h, add_gc_listed, &ws2);
    if (!err)
        err = ws2.err ? ws2.err : drain(h, &ws2, true);
    /* Then what C globals hold and the roots do not reach: roots too, of
     * what the GC lists led to (the objects outside the index that they
     * hold are only noted: the walk, like the census, does not take them). */
    if (!err) {
        double ts = now();
        size_t before = h->idx.n;
        err = ph_statics_scan(h, add_root, &ws);
        h->static_seconds = now() - ts; /* the reading alone, not the closure */
        if (!err)
            err = ws.err ? ws.err : drain(h, &ws, false);
        if (!err)
            err = size_new(h, before);
    }
    h->recording_skips = false;
    if (!err)
        err = sort_out_unreached(h);
    if (!err && h->interrupted)
        err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
    for (size_t i = 0; !err && i < h->ntypes; i++)
        if (h->types[i].ndarray)
            h->types[i].estimate = h->numpy == NULL;
    if (!err && h->idx.n == 0)
        err = ph_error_new(PH_ERR_CORRUPT, 0, "no objects found: the interpreter state is unreadable");
    if (err) {
        ph_heap_release(h);
        return err;
    }
    free(h->queue);
    h->queue = NULL;
    h->qcap = h->qhead = h->qtail = 0;
    ph_index_trim(&h->idx);
    ph_heap_set_interrupt(h, NULL, NULL); /* the caller's payload need not outlive the build */
    h->walk_seconds = now() - t0;
    h->walk_cpu_seconds = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    *out = h;
    return NULL;
}

void ph_heap_set_interrupt(ph_heap *h, ph_interrupt_fn *fn, void *payload)
{
    h->interrupt = fn;
    h->interrupt_payload = payload;
    h->interrupted = false;
}

void ph_heap_release(ph_heap *h)
{
    if (!h)
        return;
    ph_index_deinit(&h->idx);
    ph_types_free(h);
    ph_statics_free(h);
    free(h->roots);
    free(h->queue);
    free(h);
}
