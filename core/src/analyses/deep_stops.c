/* Where deep size stops besides the shared machinery graph.c's
 * not_entered() names: asizeof does not follow a function's __globals__
 * and __builtins__, nor a frame's or a generator's globals and builtins
 * (the module's namespace is not the function's: without this, `sizeof`
 * of a function or a generator reports the whole module). */
#include "analyses/graph.h"

static unsigned add(ph_heap *h, uint64_t base, int32_t off, uint64_t *out, unsigned n)
{
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, base + (uint64_t)(int64_t)off, &p) && ph_ptr_ok(p))
        out[n++] = p;
    return n;
}

static unsigned iframe_stops(ph_heap *h, uint64_t f, uint64_t *out)
{
    const ph_layout *L = h->L;
    if (!ph_ptr_ok(f))
        return 0;
    unsigned n = add(h, f, L->iframe_globals, out, 0);
    return add(h, f, L->iframe_builtins, out, n);
}

unsigned ph_deep_stops(ph_heap *h, uint32_t v, uint64_t out[2])
{
    const ph_layout *L = h->L;
    const ph_type *t = &h->types[h->idx.type[v]];
    uint64_t addr = h->idx.addr[v];
    switch (t->shape) {
    case SHAPE_FUNCTION:
        return add(h, addr, L->func_builtins, out, add(h, addr, L->func_globals, out, 0));
    case SHAPE_FRAME:
        if (L->frame_frame == PH_NONE) /* 3.8-3.10 */
            return add(h, addr, L->frame_builtins, out, add(h, addr, L->frame_globals, out, 0));
        else {
            uint64_t f = 0;
            ph_read_u64(h->r, addr + (uint64_t)L->frame_frame, &f);
            return iframe_stops(h, f, out);
        }
    case SHAPE_GEN: /* 3.11+: its embedded frame (3.8-3.10: a frame object, not entered) */
        return iframe_stops(h, ph_gen_iframe(L, addr, t), out);
    default:
        return 0;
    }
}
