/* Extension module state: what a module's m_traverse visits.
 *
 * A module made from a PyModuleDef with m_size > 0 (PEP 3121, multi-phase
 * init) keeps its objects in md_state, a block of m_size bytes: its heap
 * types, cached objects (posix's int, _ssl's error-code dicts, _asyncio's
 * free list...).  Their layout is the module's own, so the words of the
 * block are scanned like an unknown C object's, within m_size only, and
 * labelled "<module state>+0xN".  The module's def is an object too
 * (PyModuleDef_Init gives it the type moduledef): it holds m_copy, the copy
 * of a single-phase module's dict that re-imports start from.
 *
 * Two modules keep objects in C arrays the state points to, outside
 * m_size (DWARF of each build):
 *   atexit, 3.8-3.9: atexitmodule_state {atexit_callbacks 0 (a PyMem array
 *     of ncallbacks pointers to atexit_callback {func 0, args 8, kwargs
 *     16}), ncallbacks 8 (an int)}; 3.10+ keeps them in the interpreter;
 *   _decimal (its def named "decimal"), 3.13+: decimal_state's signal_map 176 and cond_map 184, each
 *     a PyMem array of DecCondMap {name 0 (a C string; NULL ends the
 *     array), fqname 8, flag 16, ex 24 (the exception type)}, 32 bytes. */
#include "heap/heap.h"
#include "cpython/module_state.h"
#include "cpython/conservative.h"

#include <string.h>

#define MODULE_STATE_MAX (1u << 20)
#define CALLBACKS_MAX (1u << 20)
#define DEC_MAP_MAX 64

static void atexit_refs(ph_heap *h, uint64_t state, ph_visit_fn *visit, void *payload)
{
    uint64_t arr, cb, f[3];
    int32_t n;
    if (!ph_read_u64(h->r, state, &arr) || !ph_read(h->r, state + 8, &n, 4) || n <= 0 ||
        (uint32_t)n > CALLBACKS_MAX || !ph_ptr_ok(arr))
        return;
    static const char *const names[3] = {"<atexit func>", "<atexit args>", "<atexit kwargs>"};
    for (int32_t i = 0; i < n; i++)
        if (ph_read_u64(h->r, arr + 8 * (uint64_t)i, &cb) && ph_ptr_ok(cb) &&
            ph_read(h->r, cb, f, sizeof(f)))
            for (int k = 0; k < 3; k++)
                if (f[k]) {
                    PH_LABEL(h, EDGE_FIELD, names[k], 0, 0);
                    visit(h, f[k], payload);
                }
}

static void decimal_map_refs(ph_heap *h, uint64_t slot, ph_visit_fn *visit, void *payload)
{
    uint64_t map, e[4];
    if (!ph_read_u64(h->r, slot, &map) || !ph_ptr_ok(map))
        return;
    for (uint32_t i = 0; i < DEC_MAP_MAX && ph_read(h->r, map + 32 * (uint64_t)i, e, 32) && e[0];
         i++)
        if (e[3]) {
            PH_LABEL(h, EDGE_FIELD, "<decimal signal>", 0, 0);
            visit(h, e[3], payload);
        }
}

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
    uint64_t name_at;
    char name[16];
    if (!ph_read_u64(h->r, def + head + 24, &name_at) ||
        !ph_read_cstr(h->r, name_at, name, sizeof(name)))
        return;
    if (L->minor <= 9 && strcmp(name, "atexit") == 0)
        atexit_refs(h, state, visit, payload);
    else if (L->minor >= 13 && size >= 192 &&
             (strcmp(name, "decimal") == 0 || strcmp(name, "_decimal") == 0))
        for (uint32_t off = 176; off <= 184; off += 8)
            decimal_map_refs(h, state + off, visit, payload);
}
