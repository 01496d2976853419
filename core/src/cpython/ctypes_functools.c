/* functools.partial (Modules/_functoolsmodule.c): a static type in 3.8 to
 * 3.11, a heap type from 3.12, named functools.partial either way.
 *
 *     partialobject: fn 16, args 24 (a tuple), kw 32 (a dict), dict 40
 *     (tp_dictoffset), weakreflist 48, then use_fastcall (3.8, 3.9) or
 *     vectorcall (3.10+), a C function pointer; basicsize 64.
 *
 * The same offsets in 3.8 to 3.13 (DWARF of each build); 3.14 adds
 * placeholder 56 (an object) and phcount 64 before vectorcall 72
 * (basicsize 80, Python-3.14.7's Modules/_functoolsmodule.c).  No __sizeof__ of
 * its own: basicsize.  The vectorcall pointer, which a conservative scan
 * would read, is no object.
 *
 * functools._lru_cache_wrapper (lru_cache_object, the same offsets 3.8 to
 * 3.14 in the DWARF of each build): its first 56 bytes are an
 * lru_list_elem, the root of a circular doubly linked list of the bounded
 * cache's entries (root.prev 16, root.next 24; each _lru_list_elem: prev
 * 16, next 24, hash 32, key 40, result 48), then wrapper 56, typed 64,
 * cache 72 (a dict of key -> elem), hits 80, func 88, maxsize 96, misses
 * 104; 3.8-3.9: cache_info_type 112, dict 120 (tp_dictoffset); 3.10+:
 * kwd_mark 112, lru_list_elem_type 120, cache_info_type 128, dict 136.
 * Its tp_traverse visits every entry's key and result (the elems are not
 * GC objects), which are referents here too.  No __sizeof__: basicsize.
 * An unbounded cache (maxsize None) keeps no list: root links to itself.
 * The links are objects' real addresses (a free-threaded build's header is
 * 16 bytes longer: the offsets above are from the default header's view). */
#include "cpython/ctypes.h"

static void partial_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    uint64_t w[3];
    if (!ph_read(h->r, addr + 16, w, sizeof(w)))
        return;
    ph_ctype_field(h, w[0], ".func", visit, payload);
    ph_ctype_field(h, w[1], ".args", visit, payload);
    ph_ctype_field(h, w[2], ".keywords", visit, payload);
    uint64_t placeholder; /* 3.14: the Placeholder singleton, or NULL */
    if (h->L->minor >= 14 && ph_read_u64(h->r, addr + 56, &placeholder))
        ph_ctype_field(h, placeholder, "<placeholder>", visit, payload);
}

#define LRU_NEXT 24
#define LRU_KEY 40
#define LRU_CACHE 72
#define LRU_FUNC 88

static void lru_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                          void *payload)
{
    (void)t;
    uint64_t w[3];
    if (ph_read_u64(h->r, addr + LRU_FUNC, &w[0]))
        ph_ctype_field(h, w[0], ".__wrapped__", visit, payload);
    if (ph_read_u64(h->r, addr + LRU_CACHE, &w[0]))
        ph_ctype_field(h, w[0], "<cache>", visit, payload);
    bool new = h->L->minor >= 10;
    if (new && ph_read(h->r, addr + 112, w, 24)) {
        ph_ctype_field(h, w[0], "<kwd_mark>", visit, payload);
        ph_ctype_field(h, w[1], "<lru_list_elem_type>", visit, payload);
        ph_ctype_field(h, w[2], "<cache_info_type>", visit, payload);
    } else if (!new && ph_read_u64(h->r, addr + 112, &w[0])) {
        ph_ctype_field(h, w[0], "<cache_info_type>", visit, payload);
    }
    /* the bounded cache's list, with a cycle check and at most the cache's
     * size (the dict's ma_used bounds it; MAX_ITEMS as a backstop) */
    uint64_t e, shift = (uint64_t)ph_off_ob_size(h->L) - 16; /* the links are real addresses */
    ph_cycle cycle = {0, 0, 0};
    if (!ph_read_u64(h->r, addr + LRU_NEXT, &e))
        return;
    for (uint64_t n = 0; e != addr - shift; n++) {
        if (!ph_ptr_ok(e) || n > MAX_ITEMS || ph_cycle_seen(&cycle, e)) {
            ph_skip(h, addr, "an lru_cache whose list is broken or loops");
            return;
        }
        if (!ph_read(h->r, e + shift + LRU_KEY, w, 16) ||
            !ph_read_u64(h->r, e + shift + LRU_NEXT, &e)) {
            ph_skip(h, addr, "an lru_cache entry that cannot be read");
            return;
        }
        PH_LABEL(h, EDGE_INDEX, NULL, n, 0);
        if (w[0])
            visit(h, w[0], payload);
        ph_ctype_field(h, w[1], "<result>", visit, payload);
    }
}

const ph_ctype ph_ctypes_functools[] = {
    {"functools.partial", 64, partial_referents, NULL},
    {"functools._lru_cache_wrapper", 128, lru_referents, NULL},
    {NULL, 0, NULL, NULL},
};
