/* queue.SimpleQueue (Modules/_queuemodule.c), named _queue.SimpleQueue.
 *
 * 3.8-3.12: simplequeueobject {HEAD; lock 16; locked 24; lst 32 (a list,
 * the items); lst_pos 40; weakreflist 48}, basicsize 56: the items are the
 * list's, from lst_pos on.
 * 3.13+: {HEAD; has_threads_waiting 16; RingBuf buf 24 {put_idx 24,
 * get_idx 32, items 40 (a PyMem array of items_cap object pointers),
 * items_cap 48, num_items 56}; weakreflist 64}, basicsize 72: the items are
 * items[(get_idx + i) % items_cap] for i < num_items, outside the object.
 * (DWARF of each build.)  No __sizeof__: basicsize. */
#include "cpython/ctypes.h"

#define SQ_LIST 32
#define SQ_RING 24

static void simplequeue_referents(ph_heap *h, uint64_t addr, const ph_type *t,
                                  ph_visit_fn *visit, void *payload)
{
    (void)t;
    uint64_t w[5];
    if (h->L->minor < 13) {
        if (ph_read_u64(h->r, addr + SQ_LIST, &w[0]))
            ph_ctype_field(h, w[0], "<list>", visit, payload);
        return;
    }
    if (!ph_read(h->r, addr + SQ_RING, w, sizeof(w)))
        return;
    int64_t get = (int64_t)w[1], cap = (int64_t)w[3], n = (int64_t)w[4];
    uint64_t items = w[2];
    if (n == 0)
        return;
    if (cap <= 0 || (uint64_t)cap > MAX_ITEMS || n < 0 || n > cap || get < 0 || get >= cap ||
        !ph_ptr_ok(items)) {
        ph_skip(h, addr, "a SimpleQueue whose ring buffer is inconsistent");
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t p;
        if (i && i % 4096 == 0 && ph_poll(h))
            return;
        if (!ph_read_u64(h->r, items + 8 * (uint64_t)((get + i) % cap), &p)) {
            ph_skip(h, addr, "a SimpleQueue whose ring buffer cannot be read");
            return;
        }
        PH_LABEL(h, EDGE_INDEX, NULL, (uint64_t)i, 0);
        if (p)
            visit(h, p, payload);
    }
}

const ph_ctype ph_ctypes_queue[] = {
    {"_queue.SimpleQueue", 56, simplequeue_referents, NULL},
    {NULL, 0, NULL, NULL},
};
