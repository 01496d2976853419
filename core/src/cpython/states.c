/* The interpreter and thread states of a process, in list order: the one
 * loop over them (runtime.h ph_runtime_states), for the roots' walk,
 * mimalloc's heaps, the thread listing, the C-held states and the
 * per-thread refcounts. */
#include "base/error.h"
#include "cpython/runtime.h"
#include "heap/heap.h"

#define MAX_INTERPRETERS 4096
#define MAX_THREADS 100000

void ph_runtime_states(ph_heap *h, unsigned flags, ph_state_fn *fn, void *payload)
{
    const ph_layout *L = h->L;
    const bool watch = (flags & PH_STATES_WATCH) != 0;
    uint64_t interp = 0;
    ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)L->runtime_interpreters_head, &interp);
    ph_cycle icyc = {0};
    for (int n = 0; n < MAX_INTERPRETERS && ph_ptr_ok(interp); n++) {
        if (watch && ph_poll(h))
            return;
        if (ph_cycle_seen(&icyc, interp)) {
            if (watch)
                ph_skip(h, interp, "an interpreter list that loops");
            return;
        }
        if (!fn(h, PH_STATE_INTERP, interp, interp, payload))
            return;
        uint64_t ts = 0;
        ph_read_u64(h->r, interp + (uint64_t)L->interp_threads_head, &ts);
        ph_cycle tcyc = {0};
        for (int t = 0; t < MAX_THREADS && ph_ptr_ok(ts); t++) {
            if (watch && ph_poll(h))
                return;
            if (ph_cycle_seen(&tcyc, ts)) {
                if (watch)
                    ph_skip(h, ts, "a thread list that loops");
                break;
            }
            if (!fn(h, PH_STATE_THREAD, ts, interp, payload))
                return;
            if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_next, &ts))
                break;
        }
        if (!fn(h, PH_STATE_INTERP_DONE, interp, interp, payload))
            return;
        if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_next, &interp))
            break;
    }
}
