/* Per-thread reference counts of free-threaded builds (3.14t,
 * Include/internal/pycore_object.h _Py_THREAD_INCREF_OBJECT): code objects
 * and heap types are given a unique id, and a thread that takes or drops a
 * reference to one counts it in its own array,
 * _PyThreadStateImpl.refcounts.values[unique_id - 1], not in the object.
 * Their true count is the object's own plus every live thread's entry (an
 * entry can be negative: a thread that dropped a reference another took);
 * an exiting thread merges its array into the objects. */
#include "cpython/ft.h"

#include "cpython/runtime.h"
#include "cpython/stackref.h"
#include "heap/heap.h"

#define MAX_UNIQUE_ID (INT64_C(1) << 32)

typedef struct sum_state {
    int64_t idx;  /* unique_id - 1 */
    int64_t sum;
} sum_state;

static bool add_thread(ph_heap *h, ph_state_kind kind, uint64_t ts, uint64_t interp,
                       void *payload)
{
    sum_state *s = payload;
    const ph_layout *L = h->L;
    uint64_t values = 0;
    int64_t size = 0, v = 0;
    if (kind == PH_STATE_THREAD &&
        ph_read_u64(h->r, ts + (uint64_t)L->tstate_refcounts_values, &values) &&
        ph_read_i64(h->r, ts + (uint64_t)L->tstate_refcounts_size, &size) && s->idx < size &&
        ph_ptr_ok(values) && ph_read_i64(h->r, values + 8 * (uint64_t)s->idx, &v))
        s->sum += v;
    return true;
}

int64_t ph_ft_thread_refs(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    if (L->tstate_refcounts_values == PH_NONE || !t)
        return 0;
    int32_t off = PH_NONE;
    if (t->shape == SHAPE_CODE)
        off = L->code_unique_id;
    else if (t->is_type_type) {
        uint64_t flags = 0;
        if (ph_read_u64(h->r, addr + (uint64_t)L->tp_flags, &flags) && (flags & TPFLAGS_HEAPTYPE))
            off = L->heaptype_unique_id;
    }
    int64_t id = 0;
    if (off == PH_NONE || !ph_read_i64(h->r, addr + (uint64_t)off, &id) || id <= 0 ||
        id > MAX_UNIQUE_ID)
        return 0;
    sum_state s = {.idx = id - 1};
    ph_runtime_states(h, 0, add_thread, &s);
    return s.sum;
}

bool ph_object_refcnt(ph_heap *h, uint64_t addr, uint32_t ti, int64_t *rc, bool *immortal)
{
    if (!ph_refcnt_read(h->r, h->L, addr, rc, immortal))
        return false;
    if (!*immortal && ti < h->ntypes && h->L->tstate_refcounts_values != PH_NONE) {
        int64_t n = *rc + ph_ft_thread_refs(h, addr, &h->types[ti]);
        *rc = n < 0 ? 0 : n;
    }
    return true;
}
