/* Code objects' caches, which tp_traverse never sees (code objects are not
 * GC objects): 3.11's _co_code (the bytes co_code returns, made on first
 * use and kept), 3.12+'s _co_cached (co_code, co_varnames, co_cellvars,
 * co_freevars, made on first use and kept); and 3.8-3.10's opcode cache,
 * which code.__sizeof__ counts. */
#include "heap/heap.h"
#include "cpython/module_state.h"

static void cached_field(ph_heap *h, uint64_t at, const char *name, ph_visit_fn *visit,
                         void *payload)
{
    uint64_t p;
    if (!ph_read_u64(h->r, at, &p) || !p)
        return;
    PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    visit(h, p, payload);
}

void ph_code_cache_refs(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    if (L->code_cached == PH_NONE || L->minor < 11)
        return;
    uint64_t at = addr + (uint64_t)L->code_cached;
    if (L->minor == 11) {
        cached_field(h, at, "<_co_code>", visit, payload);
        return;
    }
    uint64_t cached;
    if (!ph_read_u64(h->r, at, &cached) || !ph_ptr_ok(cached))
        return;
    static const char *const names[] = {"<_co_cached._co_code>", "<_co_cached._co_varnames>",
                                        "<_co_cached._co_cellvars>",
                                        "<_co_cached._co_freevars>"};
    for (int i = 0; i < 4; i++)
        cached_field(h, cached + 8 * (uint64_t)i, names[i], visit, payload);
}

/* 3.8-3.10 PyCodeObject ends with {unsigned char *co_opcache_map;
 * _PyOpcache *co_opcache; int co_opcache_flag; unsigned char
 * co_opcache_size;}; code_sizeof adds, once the cache exists, one byte per
 * code unit (the map) and sizeof(_PyOpcache) (32) per entry. */
uint64_t ph_code_opcache_bytes(ph_heap *h, uint64_t addr)
{
    const ph_layout *L = h->L;
    if (L->minor < 8 || L->minor > 10 || L->code_sizeof == PH_NONE || L->code_code == PH_NONE)
        return 0;
    uint64_t end = addr + (uint64_t)L->code_sizeof;
    uint64_t opcache = 0, code = 0;
    uint8_t n = 0;
    int64_t len = 0;
    if (!ph_read_u64(h->r, end - 16, &opcache) || !opcache ||
        !ph_read(h->r, end - 4, &n, 1) ||
        !ph_read_u64(h->r, addr + (uint64_t)L->code_code, &code) || !ph_ptr_ok(code) ||
        !ph_read_i64(h->r, code + ph_off_ob_size(L), &len) || len < 0 || len > (1 << 30))
        return 0;
    return (uint64_t)len / 2 + 32 * (uint64_t)n;
}
