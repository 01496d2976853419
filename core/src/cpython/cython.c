/* Cython's function objects (cython_function_or_method, fused_cython_function):
 * the default values of their arguments live in a block of their own,
 * `void *defaults`, which __Pyx_CyFunction_traverse visits
 * (defaults_pyobjects PyObject pointers at its start).  A scan of the
 * function object sees only the pointer to that block, which is not an
 * object; so the block is found in the struct by its shape,
 *     void *defaults; int defaults_pyobjects; size_t defaults_size;
 * (Cython 0.29 and 3.x alike), and its objects are visited, labelled
 * "<cyfunction defaults>+0xN": as a scan's guesses (the shape is a guess),
 * each passing the full check. */
#include "heap/heap.h"
#include "cpython/module_state.h"

#include <string.h>

#define CY_MAX_DEFAULTS 256

static bool is_cyfunction(const ph_type *t)
{
    const char *n = t->name;
    size_t len = strlen(n);
    static const char *const tails[] = {"cython_function_or_method", "fused_cython_function"};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(tails[i]);
        if (len >= k && strcmp(n + len - k, tails[i]) == 0)
            return true;
    }
    return false;
}

void ph_cython_refs(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit, void *payload)
{
    if (!is_cyfunction(t) || t->basicsize < 96 || t->basicsize > 1024)
        return;
    uint64_t w[128];
    size_t n = (size_t)t->basicsize / 8;
    if (!ph_read(h->r, addr, w, n * 8))
        return;
    /* after the PyCFunctionObject part (7 words at least) */
    for (size_t i = 7; i + 2 < n; i++) {
        uint64_t block = w[i], count = w[i + 1] & 0xffffffffu, size = w[i + 2];
        if (!ph_ptr_ok(block) || count == 0 || count > CY_MAX_DEFAULTS || size < 8 * count ||
            size > 8 * CY_MAX_DEFAULTS * 4)
            continue;
        uint64_t objs[CY_MAX_DEFAULTS];
        if (!ph_read(h->r, block, objs, (size_t)count * 8))
            return;
        bool was = h->conservative;
        h->conservative = true;
        for (uint64_t k = 0; k < count; k++)
            if (ph_ptr_ok(objs[k])) {
                PH_LABEL(h, EDGE_OFFSET, "<cyfunction defaults>", 8 * k, 0);
                visit(h, objs[k], payload);
            }
        h->conservative = was;
        return;
    }
}
