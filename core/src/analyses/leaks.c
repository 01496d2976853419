/* Leaks: objects that are allocated but unreachable from every root.
 *
 * The candidates are the index's objects that the roots do not reach (found
 * on the GC lists) and the objects in pymalloc's allocated blocks that the
 * walk did not find at all (non-GC objects: bytes, str, int, untracked
 * tuples and dicts).  Counting the references among the candidates, like the
 * collector's subtract_refs, sorts them: an object whose refcount is higher
 * than the references the heap explains is leaked (a refcount bug, or a C
 * global or extension state holding it); what only leaked objects hold is
 * kept by them; the rest is cyclic garbage awaiting collection. */
#include "base/error.h"
#include "analyses/classify.h"
#include "heap/heap.h"
#include "analyses/rows.h"
#include "cpython/stackref.h"
#include "cpython/ft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFCOUNT (UINT64_C(1) << 40)  /* above: not a refcount, not an object */

enum { C_GARBAGE = 0, C_LEAKED, C_KEPT, C_STATIC, C_HELD };  /* C_HELD: by a C global */

typedef struct cand {
    uint64_t addr, size;
    int64_t refcnt, known;
    uint32_t ti, id;           /* id: in the index, else PH_NO_OBJ */
    uint8_t class;
} cand;

typedef struct leak_state {
    cand *c;
    size_t n, cap;
    uint32_t *slot;            /* address -> candidate + 1 */
    size_t hcap;
    ph_error *err;
    /* the closure from the leaked ones */
    uint32_t *queue;
    size_t qt;
    uint64_t blocks;
} leak_state;

static size_t slot_of(const leak_state *st, uint64_t addr)
{
    return (size_t)((addr >> 4) * 0x9E3779B97F4A7C15ULL >> 20) & (st->hcap - 1);
}

static uint32_t find(const leak_state *st, uint64_t addr)
{
    if (!st->hcap)
        return UINT32_MAX;
    for (size_t s = slot_of(st, addr);; s = (s + 1) & (st->hcap - 1)) {
        if (!st->slot[s])
            return UINT32_MAX;
        if (st->c[st->slot[s] - 1].addr == addr)
            return st->slot[s] - 1;
    }
}

static bool rehash(leak_state *st, size_t hcap)
{
    uint32_t *slot = calloc(hcap, sizeof(uint32_t));
    if (!slot)
        return false;
    free(st->slot);
    st->slot = slot;
    st->hcap = hcap;
    for (size_t i = 0; i < st->n; i++) {
        size_t s = slot_of(st, st->c[i].addr);
        while (st->slot[s])
            s = (s + 1) & (hcap - 1);
        st->slot[s] = (uint32_t)i + 1;
    }
    return true;
}

static void add(leak_state *st, ph_heap *h, uint64_t addr, uint32_t ti, uint32_t id)
{
    if (st->err || find(st, addr) != UINT32_MAX)
        return;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 1024;
        cand *c = realloc(st->c, cap * sizeof(cand));
        if (!c) {
            st->err = PH_NOMEM;
            return;
        }
        st->c = c;
        st->cap = cap;
        if (!rehash(st, cap * 2)) { /* half full at most */
            st->err = PH_NOMEM;
            return;
        }
    }
    int64_t rc = 0;
    bool immortal;
    if (!ph_object_refcnt(h, addr, ti, &rc, &immortal))
        rc = 0;
    cand *k = &st->c[st->n];
    *k = (cand){.addr = addr, .ti = ti, .id = id, .refcnt = rc};
    k->size = id != PH_NO_OBJ ? ph_index_size(&h->idx, id) : ph_flat_size(h, addr, &h->types[ti]);
    size_t s = slot_of(st, addr);
    while (st->slot[s])
        s = (s + 1) & (st->hcap - 1);
    st->slot[s] = (uint32_t)++st->n;
}

typedef struct block_state {
    leak_state *st;
    ph_heap *h;
} block_state;

/* A "refcount" that is an aligned address the target maps is a pointer
 * (what a block that is no object keeps there; a non-PIE executable's data
 * is at small addresses, 0x400000 up, below MAX_REFCOUNT): no object has
 * millions of references and is unreachable. */
static bool refcnt_is_address(ph_heap *h, int64_t rc, bool immortal)
{
    return !immortal && rc >= 65536 && !(rc & 7) && ph_reader_covers(h->r, (uint64_t)rc);
}

/* An allocated block that may hold an object at obj (0: none) nobody found. */
static bool on_object_block(block_state *bs, uint64_t block, uint64_t size, uint64_t obj)
{
    ph_heap *h = bs->h;
    bs->st->blocks++;
    if (!obj || ph_index_find(&h->idx, obj) != PH_NO_OBJ)
        return bs->st->err != NULL;
    int64_t rc;
    bool immortal;
    uint32_t ti = ph_object_check(h, obj);
    if (ti == UINT32_MAX || !ph_refcnt_read(h->r, h->L, obj, &rc, &immortal) ||
        rc < 1 || (uint64_t)rc > MAX_REFCOUNT || refcnt_is_address(h, rc, immortal) ||
        ph_alloc_static(h, NULL, obj, ti, 0))
        return bs->st->err != NULL;
    /* What the object keeps in its block (header, items, a str's text)
     * must fit in it: stale or foreign data that only looks like an object
     * does not. */
    const ph_type *t = &h->types[ti];
    uint64_t inline_size = ph_block_size(h, obj, t), end = block + size;
    if (inline_size > end - obj || ph_flat_size(h, obj, t) > (UINT64_C(1) << 32))
        return bs->st->err != NULL;
    add(bs->st, h, obj, ti, PH_NO_OBJ);
    return bs->st->err != NULL || ph_poll(h);
}

static bool on_block(uint64_t block, uint32_t size, void *payload)
{
    block_state *bs = payload;
    return on_object_block(bs, block, size, ph_alloc_block_object(bs->h, block, size));
}

/* Free-threaded builds: a block of the OBJECT heap (non-GC objects) or of
 * the GC heap holds its object at its start, one of the GC heap with the
 * pre-header after it (pycore_mimalloc.h); the GC objects not tracked (an
 * untracked tuple) are found here, the tracked ones are in the index. */
static bool on_mi_block(ph_heap *h, uint64_t block, uint64_t size, int tag, void *payload)
{
    uint64_t pre = tag == PH_MI_GC_PRE ? (uint64_t)h->L->preheader_size : 0;
    return !on_object_block(payload, block, size, size > pre ? block + pre : 0);
}

typedef struct visit_state {
    leak_state *st;
    bool closure;              /* marking what the leaked (or static) ones keep, not counting */
    uint8_t mark;              /* the class given to what they keep */
} visit_state;

static uint32_t count_ref(ph_heap *h, const ph_ref *ref, void *payload)
{
    const uint64_t addr = ref->addr;
    visit_state *vs = payload;
    leak_state *st = vs->st;
    uint32_t k = find(st, addr);
    if (k == UINT32_MAX)
        return PH_NO_OBJ; /* nothing is written to the index from here */
    if (!vs->closure) {
        st->c[k].known++;
    } else if (st->c[k].class == C_GARBAGE &&
               !((vs->mark == C_STATIC || vs->mark == C_HELD) && st->c[k].refcnt > st->c[k].known)) {
        /* (what a static object points to but that has references nobody
         * explains stays a leak candidate) */
        st->c[k].class = vs->mark;
        st->queue[st->qt++] = k;
    }
    return PH_NO_OBJ;
}

static void visit_cand(ph_heap *h, leak_state *st, uint32_t k, visit_state *vs)
{
    const cand *c = &st->c[k];
    if (c->id != PH_NO_OBJ)
        ph_referents(h, c->id, count_ref, vs);
    else
        ph_referents_at(h, c->addr, c->ti, count_ref, vs);
}

/* Marks, with vs's class, what candidate k keeps (every candidate it
 * reaches through candidates still unclassed). */
static void mark_closure(ph_heap *h, leak_state *st, uint32_t k, visit_state *vs)
{
    st->qt = 0;
    visit_cand(h, st, k, vs);
    for (size_t q = 0; q < st->qt; q++)
        visit_cand(h, st, st->queue[q], vs);
}

static const char *cand_kind(const ph_heap *h, const cand *c, char *buf, size_t cap)
{
    if (c->id != PH_NO_OBJ)
        return ph_kind_of(h, c->id, buf, cap);
    return ph_type_is_exact_dict(&h->types[c->ti]) ? "dict (no owner)" : h->types[c->ti].name;
}

typedef struct rank_ctx {
    const ph_rows *rows;
} rank_ctx;

static int by_row_size(const void *x, const void *y, void *payload)
{
    const ph_rows *rows = ((const rank_ctx *)payload)->rows;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    if (rows->size[a] != rows->size[b])
        return rows->size[a] > rows->size[b] ? -1 : 1;
    return strcmp(rows->buf + rows->off[a], rows->buf + rows->off[b]);
}

/* The rows of one class of candidates (by falling size, then kind), their
 * first objects by address as samples, and each candidate's row in
 * objects[] (the candidates are in address order). */
static ph_error *group(ph_heap *h, const leak_state *st, uint8_t class, ph_leak_group *g,
                       ph_leak_object *objects)
{
    ph_rows rows = {0};
    char buf[600];
    ph_error *err = NULL;
    size_t *row_of = malloc((st->n ? st->n : 1) * sizeof(size_t));
    if (!row_of)
        return PH_NOMEM;
    for (size_t i = 0; i < st->n && !err; i++) {
        const cand *c = &st->c[i];
        if (c->class == class)
            err = ph_rows_add(&rows, cand_kind(h, c, buf, sizeof(buf)), c->size, c->addr, &row_of[i]);
    }
    size_t *order = err ? NULL : malloc((rows.n ? rows.n : 1) * sizeof(size_t));
    size_t *rank = order ? malloc((rows.n ? rows.n : 1) * sizeof(size_t)) : NULL;
    g->rows = rank ? calloc(rows.n ? rows.n : 1, sizeof(ph_leak_row)) : NULL;
    if (!err && !g->rows)
        err = PH_NOMEM;
    if (!err) {
        for (size_t r = 0; r < rows.n; r++)
            order[r] = r;
        rank_ctx rc = {&rows};
        qsort_r(order, rows.n, sizeof(size_t), by_row_size, &rc);
        g->nrows = rows.n;
        for (size_t k = 0; k < rows.n && !err; k++) {
            size_t r = order[k];
            rank[r] = k;
            ph_leak_row *lr = &g->rows[k];
            lr->count = rows.count[r];
            lr->size = rows.size[r];
            /* the samples rows.c kept are the first added: in address order */
            for (int s = 0; s < PH_LEAK_SAMPLES && s < PH_ROW_SAMPLES; s++)
                lr->samples[s] = rows.samples[r * PH_ROW_SAMPLES + (size_t)s];
            if (!(lr->kind = strdup(rows.buf + rows.off[r])))
                err = PH_NOMEM;
            g->count += lr->count;
            g->size += lr->size;
        }
        for (size_t i = 0; !err && i < st->n; i++)
            if (st->c[i].class == class)
                objects[i] = (ph_leak_object){st->c[i].addr, class, (uint32_t)rank[row_of[i]]};
    }
    free(order);
    free(rank);
    free(row_of);
    ph_rows_free(&rows);
    return err;
}

static int by_addr(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void free_group(ph_leak_group *g)
{
    for (size_t r = 0; r < g->nrows; r++)
        free((char *)g->rows[r].kind);
    free(g->rows);
}

void ph_leaks_free(ph_leaks *l)
{
    if (!l)
        return;
    free_group(&l->leaked);
    free_group(&l->kept);
    free_group(&l->garbage);
    free(l->objects);
    free(l->held_c);
    free(l);
}

static int by_global(const void *a, const void *b)
{
    const ph_leak_held *x = a, *y = b;
    return x->word < y->word ? -1 : x->word > y->word;
}

/* The objects C globals hold that no other root reaches: of the index
 * (roots of the walk), and outside it (a str or bytes no GC list leads to). */
static ph_error *held_by_c(ph_heap *h, ph_leaks *l)
{
    if (!h->nc_roots && !h->nc_held)
        return NULL;
    if (!(l->held_c = calloc(h->nc_roots + h->nc_held, sizeof(*l->held_c))))
        return PH_NOMEM;
    for (size_t i = 0; i < h->nc_roots; i++) {
        const ph_c_root *c = &h->c_roots[i];
        ph_leak_held *o = &l->held_c[l->nheld_c++];
        o->address = h->idx.addr[c->id];
        o->size = ph_index_size(&h->idx, c->id);
        o->type = h->types[h->idx.type[c->id]].name;
        o->word = c->word;
        ph_statics_name(h, c->word, o->where, sizeof(o->where));
    }
    for (size_t i = 0; i < h->nc_held; i++) {
        const ph_c_held *c = &h->c_held[i];
        uint32_t ti = ph_object_check(h, c->addr);
        if (ti == UINT32_MAX)
            continue;
        ph_leak_held *o = &l->held_c[l->nheld_c++];
        o->address = c->addr;
        o->size = ph_flat_size(h, c->addr, &h->types[ti]);
        o->type = h->types[ti].name;
        o->word = c->word;
        ph_statics_name(h, c->word, o->where, sizeof(o->where));
    }
    qsort(l->held_c, l->nheld_c, sizeof(*l->held_c), by_global);
    return NULL;
}

ph_error *ph_leaks_get(ph_heap *h, ph_leaks **out)
{
    *out = NULL;
    ph_leaks *l = calloc(1, sizeof(*l));
    if (!l)
        return PH_NOMEM;
    leak_state st = {0};
    ph_alloc *a = NULL;
    bool ft = h->L->free_threaded == 1; /* mimalloc's heaps, not pymalloc's arenas */
    ph_error *err = NULL, *ae = ft ? NULL : ph_alloc_get(h, &a);
    if (ae && ae->code == PH_ERR_INTERRUPTED) {
        ph_leaks_free(l);
        return ae;
    }
    bool arenas = !ae && a && a->arenas;
    if (!arenas && !ft)
        snprintf(l->allocator_note, sizeof(l->allocator_note), "%s",
                 ae ? ae->message : "pymalloc's arenas were not found (PYTHONMALLOC=malloc?)");
    if (ae)
        ph_error_free(ae);
    /* Static objects (small ints, builtin types, immortal ones) are never
     * freed: not leaks, whatever their refcount. */
    for (size_t i = 0; i < h->idx.n && !st.err; i++) {
        if (h->idx.flags[i] & OBJ_FROM_ROOTS)
            continue;
        size_t before = st.n;
        add(&st, h, h->idx.addr[i], h->idx.type[i], (uint32_t)i);
        if (st.n > before &&
            ph_alloc_static(h, a, h->idx.addr[i], h->idx.type[i], ph_index_size(&h->idx, i)))
            st.c[before].class = C_STATIC;
    }
    err = st.err;
    /* non-GC objects nobody found: in pymalloc's allocated blocks */
    if (!err) {
        if (ft) {
            block_state bs = {&st, h};
            err = ph_mi_walk_blocks(h, 1u << PH_MI_OBJECT | 1u << PH_MI_GC | 1u << PH_MI_GC_PRE,
                                    on_mi_block, &bs, NULL);
            if (!err)
                err = st.err;
            l->allocator = !err;
            l->blocks = st.blocks;
        } else if (arenas) {
            block_state bs = {&st, h};
            err = ph_alloc_blocks(h, a, on_block, &bs);
            if (!err)
                err = st.err;
            if (!err && h->interrupted)
                err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            l->allocator = !err;
            l->blocks = st.blocks;
        }
    }
    ph_alloc_free(a);
    /* references among the candidates, guessed ones too: a field of a C
     * object that the scan found (an itemgetter's item, a Struct's format)
     * keeps what it points to, which is then kept, not leaked.  (A stale
     * pointer in a C object could hide a leak that way: the price of not
     * calling every C-held object leaked.) */
    uint64_t skipped = h->skipped;
    visit_state count = {&st, false, 0};
    for (size_t k = 0; !err && k < st.n; k++)
        visit_cand(h, &st, (uint32_t)k, &count);
    if (!err && st.n)
        st.queue = malloc(st.n * sizeof(uint32_t));
    if (!err && st.n && !st.queue)
        err = PH_NOMEM;
    /* what static objects hold is theirs: left out too */
    visit_state by_static = {&st, true, C_STATIC};
    for (size_t k = 0; !err && k < st.n; k++)
        if (st.c[k].class == C_STATIC)
            mark_closure(h, &st, (uint32_t)k, &by_static);
    /* what C globals hold outside the index (heap/statics.c), and what that keeps */
    visit_state by_c = {&st, true, C_HELD};
    for (size_t k = 0; !err && k < st.n; k++)
        if (st.c[k].id == PH_NO_OBJ && st.c[k].class == C_GARBAGE && ph_statics_held(h, st.c[k].addr)) {
            st.c[k].class = C_HELD;
            mark_closure(h, &st, (uint32_t)k, &by_c);
        }
    for (size_t k = 0; !err && k < st.n; k++) {
        cand *c = &st.c[k];
        if (c->class == C_GARBAGE && !ph_refcnt_immortal(h->L, c->refcnt) && c->refcnt > c->known) {
            c->class = C_LEAKED;
            l->outside += c->id == PH_NO_OBJ;
        }
    }
    /* what the leaked ones keep alive */
    visit_state closure = {&st, true, C_KEPT};
    for (size_t k = 0; !err && k < st.n; k++)
        if (st.c[k].class == C_LEAKED)
            mark_closure(h, &st, (uint32_t)k, &closure);
    h->skipped = skipped;
    for (size_t k = 0; k < st.n; k++) {
        l->found_outside += st.c[k].id == PH_NO_OBJ;
        l->static_objects += st.c[k].class == C_STATIC;
    }
    if (!err && st.n)
        qsort(st.c, st.n, sizeof(cand), by_addr); /* samples in address order */
    if (!err && !(l->objects = calloc(st.n ? st.n : 1, sizeof(ph_leak_object))))
        err = PH_NOMEM;
    l->nobjects = st.n;
    for (size_t k = 0; !err && k < st.n; k++)
        if (st.c[k].class == C_STATIC || st.c[k].class == C_HELD)
            l->objects[k] = (ph_leak_object){st.c[k].addr, 255, 0};
    if (!err)
        err = group(h, &st, C_LEAKED, &l->leaked, l->objects);
    if (!err)
        err = group(h, &st, C_KEPT, &l->kept, l->objects);
    if (!err)
        err = group(h, &st, C_GARBAGE, &l->garbage, l->objects);
    if (!err)
        err = held_by_c(h, l);
    free(st.c);
    free(st.slot);
    free(st.queue);
    if (err) {
        ph_leaks_free(l);
        return err;
    }
    *out = l;
    return NULL;
}
