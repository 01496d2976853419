/* contextvars (Python/context.c) and the HAMT that holds a Context's
 * variables (Python/hamt.c); offsets from the DWARF of each build, the
 * same 3.8 to 3.14 (after a default build's header):
 *
 *     Context (PyContext): ctx_prev 16, ctx_vars 24 (a hamt),
 *       ctx_weakreflist 32, ctx_entered 40; basicsize 48
 *     ContextVar (PyContextVar): var_name 16, var_default 24, var_cached 32
 *       (a borrowed pointer to the value last read: its tp_traverse does
 *       not visit it, and it may point to a freed object, so it is no
 *       referent), var_cached_tsid, var_cached_tsver, var_hash; basicsize
 *       64 (3.14t: var_hash 32, basicsize 56 with its 32-byte header)
 *     Token (PyContextToken): tok_ctx 16, tok_var 24, tok_oldval 32,
 *       tok_used 40; basicsize 48
 *     hamt (PyHamtObject): h_root 16, h_weakreflist 24, h_count 32;
 *       basicsize 40
 *     hamt_bitmap_node (a PyVarObject): b_bitmap 24, b_array 32: ob_size
 *       keys and values inline (a key is NULL where the value is a node);
 *       struct size 40, tp_basicsize 32 (less its one-item array),
 *       itemsize 8
 *     hamt_array_node: a_array 16, 32 nodes (NULL where empty), a_count
 *       272; basicsize 280
 *     hamt_collision_node (a PyVarObject): c_hash 24, c_array 32: ob_size
 *       keys and values inline; tp_basicsize 32, itemsize 8
 *     items, keys, values (PyHamtIterator): hi_obj 16 (the hamt), then the
 *       iteration state (C pointers to nodes the hamt holds); basicsize 168
 *
 * The types are named Context, ContextVar and Token in 3.8 and 3.9,
 * _contextvars.Context etc. from 3.10.  No __sizeof__: basicsize plus the
 * items. */
#include "cpython/ctypes.h"

static const ph_cfield context_fields[] = {{16, "<prev>"}, {24, "<vars>"}, {0, NULL}};
static const ph_cfield var_fields[] = {{16, ".name"}, {24, "<default>"}, {0, NULL}};
static const ph_cfield token_fields[] = {
    {16, "<context>"}, {24, ".var"}, {32, ".old_value"}, {0, NULL}};
static const ph_cfield hamt_fields[] = {{16, "<root>"}, {0, NULL}};
static const ph_cfield iter_fields[] = {{16, "<hamt>"}, {0, NULL}};

PH_CTYPE_FIELDS(context_referents, context_fields)
PH_CTYPE_FIELDS(var_referents, var_fields)
PH_CTYPE_FIELDS(token_referents, token_fields)
PH_CTYPE_FIELDS(hamt_referents, hamt_fields)
PH_CTYPE_FIELDS(iter_referents, iter_fields)

#define HAMT_ARRAY 32

/* The n pointers at items (NULL ones skipped), labelled [0] to [n-1]; a
 * bitmap node holds at most 32 pairs, a collision node as many as collide. */
static void items(ph_heap *h, uint64_t owner, uint64_t items, int64_t n, int64_t max,
                  ph_visit_fn *visit, void *payload)
{
    uint64_t w[HAMT_ARRAY];
    if (n < 0 || n > max) {
        ph_skip(h, owner, "a HAMT node whose size is impossible");
        return;
    }
    for (int64_t i = 0; i < n; i += HAMT_ARRAY) {
        int64_t k = n - i < HAMT_ARRAY ? n - i : HAMT_ARRAY;
        if (!ph_read(h->r, items + 8 * (uint64_t)i, w, 8 * (size_t)k)) {
            ph_skip(h, owner, "a HAMT node that cannot be read");
            return;
        }
        for (int64_t j = 0; j < k; j++) {
            if (i && j == 0 && ph_poll(h))
                return;
            PH_LABEL(h, EDGE_INDEX, NULL, (uint64_t)(i + j), 0);
            if (w[j])
                visit(h, w[j], payload);
        }
    }
}

/* A bitmap or collision node: ob_size keys and values from 32. */
static void bitmap_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                             void *payload)
{
    (void)t;
    int64_t n;
    if (ph_read_i64(h->r, addr + 16, &n))
        items(h, addr, addr + 32, n, 2 * HAMT_ARRAY, visit, payload);
}

static void collision_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                                void *payload)
{
    (void)t;
    int64_t n;
    if (ph_read_i64(h->r, addr + 16, &n))
        items(h, addr, addr + 32, n, (int64_t)MAX_ITEMS, visit, payload);
}

static void array_node_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                                 void *payload)
{
    (void)t;
    items(h, addr, addr + 16, HAMT_ARRAY, HAMT_ARRAY, visit, payload);
}

const ph_ctype ph_ctypes_context[] = {
    {"_contextvars.Context", 48, context_referents, NULL},
    {"_contextvars.ContextVar", 48, var_referents, NULL},
    {"_contextvars.Token", 48, token_referents, NULL},
    {"hamt", 40, hamt_referents, NULL},
    {"hamt_bitmap_node", 32, bitmap_referents, NULL},
    {"hamt_array_node", 280, array_node_referents, NULL},
    {"hamt_collision_node", 32, collision_referents, NULL},
    {"items", 168, iter_referents, NULL},
    {"keys", 168, iter_referents, NULL},
    {"values", 168, iter_referents, NULL},
    {NULL, 0, NULL, NULL},
};

/* 3.8 and 3.9's names (ctypes.c: last_minor 9) */
const ph_ctype ph_ctypes_context_39[] = {
    {"Context", 48, context_referents, NULL},
    {"ContextVar", 48, var_referents, NULL},
    {"Token", 48, token_referents, NULL},
    {NULL, 0, NULL, NULL},
};
