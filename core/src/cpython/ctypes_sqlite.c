/* sqlite3's statement cache before 3.11 (Modules/_sqlite/cache.c), named
 * sqlite3.Cache: pysqlite_Cache {HEAD; size 16 (an int); mapping 24 (a
 * dict of SQL -> Node); factory 32; first 40, last 48 (the Nodes, most
 * used first, linked through next); decref_factory 56}, basicsize 64;
 * pysqlite_Node {HEAD; key 16; data 24; count 32; prev 40; next 48}.  The
 * same offsets 3.8 to 3.10 (DWARF).  Its tp_traverse (3.10) visits the
 * mapping, the factory and every Node of the list, which are its
 * referents here.  3.11 replaced it with functools.lru_cache.  No
 * __sizeof__: basicsize. */
#include "cpython/ctypes.h"

#define NODES_MAX (1u << 20)

static void cache_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                            void *payload)
{
    (void)t;
    uint64_t w[3];
    if (!ph_read(h->r, addr + 24, w, sizeof(w)))
        return;
    ph_ctype_field(h, w[0], "<mapping>", visit, payload);
    ph_ctype_field(h, w[1], "<factory>", visit, payload);
    ph_cycle cycle = {0, 0, 0};
    for (uint64_t n = 0, node = w[2]; node; n++) {
        if (!ph_ptr_ok(node) || n > NODES_MAX || ph_cycle_seen(&cycle, node)) {
            ph_skip(h, addr, "a sqlite3 statement cache whose list is broken or loops");
            return;
        }
        PH_LABEL(h, EDGE_INDEX, NULL, n, 0);
        visit(h, node, payload);
        if (!ph_read_u64(h->r, node + 48, &node))
            return;
    }
}

const ph_ctype ph_ctypes_sqlite[] = {
    {"sqlite3.Cache", 64, cache_referents, NULL},
    {NULL, 0, NULL, NULL},
};
