/* Extension module state: what a module's m_traverse visits.
 *
 * A module made from a PyModuleDef with m_size > 0 (PEP 3121, multi-phase
 * init) keeps its objects in md_state, a block of m_size bytes: its heap
 * types, cached objects (posix's int, _ssl's error-code dicts, _asyncio's
 * free list...).  Their layout is the module's own, so the words of the
 * block are scanned like an unknown C object's, within m_size only, and
 * labelled "<module state>+0xN".  The module's def is an object too
 * (PyModuleDef_Init gives it the type moduledef): it holds m_copy, the copy
 * of a single-phase module's dict that re-imports start from. */
#include "heap/heap.h"
#include "cpython/module_state.h"

#define MODULE_STATE_MAX (1u << 20)

void ph_module_state_refs(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    if (L->module_md_dict == PH_NONE)
        return;
    /* PyModuleObject: {HEAD; md_dict; md_def; md_state; ...}; PyModuleDef:
     * {PyModuleDef_Base {HEAD; m_init; m_index; m_copy}; m_name; m_doc; m_size} */
    uint64_t head = (uint64_t)L->module_md_dict;
    uint64_t def = 0, state = 0;
    int64_t size = 0;
    if (!ph_read_u64(h->r, addr + head + 8, &def) || !ph_ptr_ok(def))
        return;
    PH_LABEL(h, EDGE_FIELD, "<md_def>", 0, 0);
    visit(h, def, payload);
    if (!ph_read_u64(h->r, addr + head + 16, &state) || !ph_ptr_ok(state) ||
        !ph_read_i64(h->r, def + head + 40, &size) || size < 8 || size > MODULE_STATE_MAX)
        return;
    ph_scan_words(h, state, state, state + (uint64_t)size, "<module state>", visit, payload);
}
