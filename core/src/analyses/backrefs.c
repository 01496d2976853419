/* Why is it alive: shortest chains from the roots (backrefs), the labelled
 * references to and from one object (referrers, referents), and the
 * objects of one kind (objects).
 *
 * The graph's reverse edges and its breadth-first tree from the roots are
 * built once per heap (graph.c); a chain is then the tree's parents.
 * Labels are found only for the references shown, by visiting the
 * referrer's references again with labelling on. */
#include "base/error.h"
#include "base/vec.h"
#include "analyses/classify.h"
#include "analyses/graph.h"
#include "heap/heap.h"
#include "analyses/chains.h"
#include "analyses/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 8        /* references from one object to another, reported at most */

struct ph_root_label {
    uint32_t id, seq;        /* seq: the order the roots were visited in */
    ph_label label;
};

/* By id, then in visiting order: a root met twice keeps its first label. */
static int by_id(const void *x, const void *y)
{
    const struct ph_root_label *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- growable link lists -------------------------------------------------- */

typedef struct link_list {
    ph_links l;
    size_t cap;
} link_list;

static ph_link *links_push(link_list *ll)
{
    if (!PH_VEC_RESERVE(ll->l.items, ll->cap, ll->l.n + 1, 16))
        return NULL;
    ph_link *k = &ll->l.items[ll->l.n++];
    memset(k, 0, sizeof(*k));
    return k;
}

void ph_links_free(ph_links *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}

/* ---- what each root is ---------------------------------------------------- */

typedef struct roots_state {
    struct ph_root_label *items;
    size_t n, cap;
    bool nomem;
} roots_state;

static uint32_t note_root_label(ph_heap *h, const ph_ref *ref, void *payload)
{
    roots_state *st = payload;
    uint32_t id = ph_index_find(&h->idx, ref->addr);
    if (id == PH_NO_OBJ || st->nomem)
        return id;
    if (!PH_VEC_RESERVE(st->items, st->cap, st->n + 1, 256)) {
        st->nomem = true;
        return id;
    }
    st->items[st->n] = (struct ph_root_label){id, (uint32_t)st->n, ref->label};
    st->n++;
    return id;
}

/* Visits the roots again, labelling each (thread, frame, local...). */
static ph_error *root_labels(ph_heap *h, ph_graph *g)
{
    if (g->root_labels)
        return NULL;
    roots_state st = {0};
    uint64_t skipped = h->skipped, interps = h->interpreters, threads = h->threads;
    h->labelling = true;
    ph_error *err = ph_runtime_walk_roots(h, note_root_label, &st);
    h->labelling = false;
    h->skipped = skipped, h->interpreters = interps, h->threads = threads;
    /* then the objects C globals hold (heap/statics.c), after every other root */
    for (size_t i = 0; !err && i < h->nc_roots && !st.nomem; i++) {
        if (!PH_VEC_RESERVE(st.items, st.cap, st.n + 1, 256)) {
            st.nomem = true;
            break;
        }
        ph_label l = {.kind = EDGE_ROOT, .root = ROOT_STATIC, .num = h->c_roots[i].word};
        st.items[st.n] = (struct ph_root_label){h->c_roots[i].id, (uint32_t)st.n, l};
        st.n++;
    }
    if (!err && st.nomem)
        err = PH_NOMEM;
    if (!err && !st.items && !(st.items = malloc(sizeof(*st.items))))
        err = PH_NOMEM;
    if (err) {
        free(st.items);
        return err;
    }
    qsort(st.items, st.n, sizeof(*st.items), by_id);
    g->root_labels = st.items;
    g->nroot_labels = st.n;
    return NULL;
}

static ph_label root_label_of(const ph_heap *h, const ph_graph *g, uint32_t id)
{
    /* the first label of id: a lower bound in the sorted labels */
    size_t lo = 0, hi = g->nroot_labels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->root_labels[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->nroot_labels && g->root_labels[lo].id == id)
        return g->root_labels[lo].label;
    ph_label l = {.kind = EDGE_ROOT, .root = ROOT_HELD};
    if (h->idx.flags[id] & OBJ_PERMANENT)
        l.root = ROOT_PERMANENT;
    return l;
}

/* A thread's frames are roots of last resort: a chain starts there only when
 * nothing global (modules, sys, builtins, ...) leads to the object, since
 * every running function's frame reaches its module's globals directly.
 * So are C globals: a signal handler or an atexit function a C global
 * holds reaches its module's globals too. */
static bool frame_root(const ph_heap *h, const ph_graph *g, uint32_t id)
{
    ph_label l = root_label_of(h, g, id);
    return l.root == ROOT_FRAME || l.root == ROOT_FRAME_FIELD || l.root == ROOT_LOCAL ||
           l.root == ROOT_STACK || l.root == ROOT_STATIC;
}

/* ---- the labels of the references from one object to another ------------ */

typedef struct find_state {
    uint32_t want;           /* PH_NO_OBJ: every referent */
    uint32_t self;           /* the object visited */
    ph_label labels[MAX_LABELS];
    bool conservative[MAX_LABELS];
    size_t n;
    link_list *all;          /* every referent, when want is PH_NO_OBJ */
    bool nomem;
} find_state;

static void fill_link(ph_heap *h, uint32_t id, ph_link *k);
static void fill_link_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_link *k);
static void set_edge(ph_heap *h, ph_link *k, const ph_label *l, bool conservative);

static uint32_t find_edge(ph_heap *h, const ph_ref *ref, void *payload)
{
    find_state *st = payload;
    const uint64_t addr = ref->addr;
    uint32_t id = ph_index_find(&h->idx, addr);
    uint32_t ti;
    if (id == PH_NO_OBJ && st->want == PH_NO_OBJ && !ref->guessed &&
        (ti = ph_object_check(h, addr)) != UINT32_MAX) {
        /* a referent the walk did not find (the object listed is one too) */
        ph_label l = ref->label;
        ph_link *k = links_push(st->all);
        if (!k) {
            st->nomem = true;
            return id;
        }
        fill_link_at(h, addr, ti, k);
        set_edge(h, k, &l, false);
        return id;
    }
    if (id == PH_NO_OBJ)
        return id;
    if (st->want == PH_NO_OBJ) {
        if (id == st->self && ref->guessed)
            return id; /* a guessed pointer to itself: a C object's own links, not a reference */
        ph_label l = ref->label;
        bool cons = ref->guessed;
        ph_link *k = links_push(st->all);
        if (!k) {
            st->nomem = true;
            return id;
        }
        fill_link(h, id, k);
        set_edge(h, k, &l, cons);
    } else if (id == st->want && st->n < MAX_LABELS) {
        st->labels[st->n] = ref->label;
        st->conservative[st->n++] = ref->guessed;
    }
    return id;
}

/* Visits the references of from with labelling on. */
static void visit_labelled(ph_heap *h, uint32_t from, find_state *st)
{
    uint64_t skipped = h->skipped;
    h->labelling = true;
    ph_referents(h, from, find_edge, st);
    h->labelling = false;
    h->skipped = skipped;
}

/* The best label of a reference from -> to: a precise one before a guess. */
static bool edge_label(ph_heap *h, uint32_t from, uint32_t to, ph_label *out, bool *conservative)
{
    find_state st = {.want = to};
    visit_labelled(h, from, &st);
    for (size_t i = 0; i < st.n; i++)
        if (!st.conservative[i]) {
            *out = st.labels[i];
            *conservative = false;
            return true;
        }
    if (st.n) {
        *out = st.labels[0];
        *conservative = true;
        return true;
    }
    return false;
}

/* ---- links ------------------------------------------------------------------ */

static void fill_link(ph_heap *h, uint32_t id, ph_link *k)
{
    const ph_type *t = &h->types[h->idx.type[id]];
    k->address = h->idx.addr[id];
    k->type = t->name;
    const char *kind = ph_kind_of(h, id, k->kind, sizeof(k->kind));
    if (kind != k->kind)
        snprintf(k->kind, sizeof(k->kind), "%s", kind);
    ph_preview(h, k->address, k->preview, sizeof(k->preview));
    k->size = ph_index_size(&h->idx, id);
}

/* An object the walk did not find (a leak found in pymalloc's blocks). */
static void fill_link_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_link *k)
{
    const ph_type *t = &h->types[ti];
    k->address = addr;
    k->type = t->name;
    snprintf(k->kind, sizeof(k->kind), "%s", ph_type_is_exact_dict(t) ? "dict (no owner)" : t->name);
    ph_preview(h, addr, k->preview, sizeof(k->preview));
    k->size = ph_flat_size(h, addr, t);
}

static void set_edge(ph_heap *h, ph_link *k, const ph_label *l, bool conservative)
{
    ph_label_text(h, l, k->address, k->edge, sizeof(k->edge));
    k->edge_kind = ph_edge_kind_name(l);
    k->root = l->kind == EDGE_ROOT ? ph_root_kind_name(l) : NULL;
    k->conservative = conservative;
    k->weak = l->kind == EDGE_WEAK;
}

/* The heap's weak references and their referents, found once per graph:
 * a weakref's referent is not one of its edges, and scanning the whole
 * index on every query would cost more than the query. */
static ph_error *weakrefs_of(ph_heap *h, ph_graph *g)
{
    if (g->weakrefs)
        return NULL;
    size_t n = 0, cap = 0;
    struct ph_weakref *w = NULL;
    if (!PH_VEC_RESERVE(w, cap, 1, 16))
        return PH_NOMEM;
    for (size_t i = 0; i < h->idx.n; i++) {
        uint64_t referent;
        if (h->types[h->idx.type[i]].shape != SHAPE_WEAKREF ||
            !ph_read_u64(h->r, h->idx.addr[i] + (uint64_t)h->L->weakref_object, &referent))
            continue;
        if (!PH_VEC_RESERVE(w, cap, n + 1, 16)) {
            free(w);
            return PH_NOMEM;
        }
        w[n++] = (struct ph_weakref){(uint32_t)i, referent};
    }
    g->weakrefs = w;
    g->nweakrefs = n;
    return NULL;
}

/* The weak references to the object at addr. */
static ph_error *weak_referrers(ph_heap *h, ph_graph *g, uint64_t addr, link_list *out)
{
    ph_error *err = weakrefs_of(h, g);
    for (size_t i = 0; !err && i < g->nweakrefs; i++) {
        if (g->weakrefs[i].referent != addr)
            continue;
        ph_link *k = links_push(out);
        if (!k)
            return PH_NOMEM;
        fill_link(h, g->weakrefs[i].id, k);
        ph_label l = {.kind = EDGE_WEAK, .name = "()"};
        set_edge(h, k, &l, false);
    }
    return err;
}

/* Every reference to id: the roots it is, then the objects referring to it,
 * each reference labelled. */
static ph_error *referrers_of(ph_heap *h, ph_graph *g, uint32_t id, link_list *out)
{
    const uint32_t *rev;
    size_t nrev;
    uint32_t *buf;
    ph_error *err = ph_graph_referrers_of(g, id, &rev, &nrev, &buf);
    for (size_t e = 0; !err && e < nrev; e++) {
        uint32_t p = rev[e];
        if (p == g->n) {
            ph_link *k = links_push(out);
            if (!k) {
                err = PH_NOMEM;
                break;
            }
            fill_link(h, id, k);
            ph_label l = root_label_of(h, g, id);
            set_edge(h, k, &l, false);
            continue;
        }
        if (e > 0 && rev[e - 1] == p)
            continue; /* the same referrer again: all its references were listed */
        find_state st = {.want = id};
        visit_labelled(h, p, &st);
        for (size_t i = 0; i < st.n; i++) {
            if (st.labels[i].kind == EDGE_WEAK)
                continue; /* listed with the weak references below */
            ph_link *k = links_push(out);
            if (!k) {
                err = PH_NOMEM;
                break;
            }
            fill_link(h, p, k);
            set_edge(h, k, &st.labels[i], st.conservative[i]);
        }
    }
    free(buf);
    if (err)
        return err;
    /* itself (w.me = w): the graph has no edge from an object to itself */
    find_state self = {.want = id};
    visit_labelled(h, id, &self);
    for (size_t i = 0; i < self.n; i++) {
        if (self.conservative[i] || self.labels[i].kind == EDGE_WEAK)
            continue;
        ph_link *k = links_push(out);
        if (!k)
            return PH_NOMEM;
        fill_link(h, id, k);
        set_edge(h, k, &self.labels[i], false);
    }
    return weak_referrers(h, g, h->idx.addr[id], out);
}

/* The object's id; PH_NO_OBJ with *outside its type index when a valid
 * object the walk did not find is there (no root or GC list leads to it). */
static ph_error *find_object(ph_heap *h, uint64_t address, uint32_t *id, uint32_t *outside)
{
    *id = ph_index_find(&h->idx, address);
    *outside = UINT32_MAX;
    if (*id == PH_NO_OBJ && outside && (*outside = ph_object_check(h, address)) != UINT32_MAX)
        return NULL;
    if (*id == PH_NO_OBJ)
        return ph_error_new(PH_ERR_ARGUMENT, address,
                            "there is no object at 0x%llx in the heap probe-heap walked "
                            "(not an object's start, freed, or not reachable by the walk)",
                            (unsigned long long)address);
    return NULL;
}

/* The object at address (see find_object), the graph's edges and the roots'
 * labels; with bfs, the breadth-first tree too.  Without it, the referrers
 * are not built for one object's (ph_graph_referrers_of): the dominator
 * tree gives them back, and one object's referrers are one pass over the
 * references without them. */
static ph_error *prepare(ph_heap *h, uint64_t address, bool bfs, uint32_t *id, uint32_t *outside,
                         ph_graph **g)
{
    ph_error *err = find_object(h, address, id, outside);
    if (!err)
        err = bfs ? ph_graph_edges(h, g) : ph_graph_forward(h, g);
    if (!err)
        err = root_labels(h, *g);
    if (!err && bfs)
        err = ph_graph_bfs(h, *g, frame_root);
    return err;
}

/* ---- chains ----------------------------------------------------------------- */

static uint32_t depth_of(const ph_graph *g, uint32_t v)
{
    uint32_t d = 0;
    while (v != g->n && g->parent[v] != UINT32_MAX && d <= g->n) {
        v = g->parent[v];
        d++;
    }
    return v == g->n ? d : UINT32_MAX;
}

/* The chain root .. last (by the BFS tree), then target when it is not
 * last; fails (returns false) when target is on the way. */
static ph_error *make_chain(ph_heap *h, ph_graph *g, uint32_t last, uint32_t target, ph_links *out,
                            bool *ok)
{
    *ok = false;
    uint32_t d = depth_of(g, last);
    if (d == UINT32_MAX)
        return NULL;
    size_t n = (size_t)d + (last != target ? 1 : 0);
    uint32_t *ids = malloc(n * sizeof(uint32_t));
    if (!ids)
        return PH_NOMEM;
    uint32_t v = last;
    for (size_t i = d; i-- > 0;) {
        ids[i] = v;
        if (v == target && last != target) {
            free(ids);
            return NULL;
        }
        v = g->parent[v];
    }
    if (last != target)
        ids[n - 1] = target;
    out->items = calloc(n, sizeof(ph_link));
    if (!out->items) {
        free(ids);
        return PH_NOMEM;
    }
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        ph_link *k = &out->items[i];
        fill_link(h, ids[i], k);
        ph_label l;
        bool cons = false;
        if (i == 0)
            l = root_label_of(h, g, ids[0]);
        else if (!edge_label(h, ids[i - 1], ids[i], &l, &cons))
            l = (ph_label){.kind = EDGE_FIELD, .name = "<reference>"};
        set_edge(h, k, &l, cons);
    }
    free(ids);
    *ok = true;
    return NULL;
}

void ph_backrefs_free(ph_backrefs *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nchains; i++)
        free(b->chains[i].items);
    free(b->chains);
    free(b->referrers.items);
    free(b);
}

typedef struct candidate {
    uint32_t referrer, depth;
} candidate;

static int by_depth(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->referrer < y->referrer ? -1 : x->referrer > y->referrer;
}

ph_error *ph_backrefs_get(ph_heap *h, uint64_t address, size_t max_chains, ph_backrefs **out)
{
    *out = NULL;
    uint32_t id, outside;
    ph_graph *g;
    ph_error *err = prepare(h, address, true, &id, &outside, &g);
    if (err)
        return err;
    ph_backrefs *b = calloc(1, sizeof(*b));
    if (!b)
        return PH_NOMEM;
    if (id == PH_NO_OBJ) {
        /* Nothing the walk found refers to it: only other such objects (see
         * leaks) or C code can.  Weak references are still found. */
        fill_link_at(h, address, outside, &b->target);
        uint64_t word = ph_statics_held(h, address);
        if (word) {
            /* held by a C global alone (heap/statics.c): that is its chain */
            b->reachable = true;
            b->chains = calloc(1, sizeof(ph_links));
            ph_link *k = b->chains ? calloc(1, sizeof(ph_link)) : NULL;
            if (!k) {
                ph_backrefs_free(b);
                return PH_NOMEM;
            }
            *k = b->target;
            ph_label l = {.kind = EDGE_ROOT, .root = ROOT_STATIC, .num = word};
            set_edge(h, k, &l, false);
            b->chains[0] = (ph_links){1, k};
            b->nchains = 1;
            *out = b;
            return NULL;
        }
        b->unwalked = true;
        link_list weak = {0};
        err = weak_referrers(h, g, address, &weak);
        b->referrers = weak.l;
        b->held_weakly = weak.l.n > 0;
        if (err)
            ph_backrefs_free(b);
        else
            *out = b;
        return err;
    }
    fill_link(h, id, &b->target);
    b->reachable = g->parent[id] != UINT32_MAX;
    b->garbage = !(h->idx.flags[id] & (OBJ_FROM_ROOTS | OBJ_ALIVE));
    link_list weak = {0};
    if ((err = weak_referrers(h, g, address, &weak))) {
        ph_backrefs_free(b);
        return err;
    }
    b->held_weakly = weak.l.n > 0;
    free(weak.l.items);
    if (!b->reachable) {
        link_list refs = {0};
        err = referrers_of(h, g, id, &refs);
        b->referrers = refs.l;
        if (err)
            ph_backrefs_free(b);
        else
            *out = b;
        return err;
    }
    if (max_chains < 1)
        max_chains = 1;
    b->chains = calloc(max_chains, sizeof(ph_links));
    if (!b->chains) {
        ph_backrefs_free(b);
        return PH_NOMEM;
    }
    /* the shortest chain, then one through each other referrer, shortest first */
    bool ok;
    err = make_chain(h, g, id, id, &b->chains[0], &ok);
    b->nchains = ok ? 1 : 0;
    size_t nrev = g->rev_off[id + 1] - g->rev_off[id];
    if (!err && max_chains > 1 && nrev > 0) {
        candidate *c = malloc(nrev * sizeof(candidate));
        size_t nc = 0;
        if (!c)
            err = PH_NOMEM;
        for (uint32_t e = g->rev_off[id]; c && e < g->rev_off[id + 1]; e++) {
            uint32_t p = g->rev[e];
            if (p == g->n || p == g->parent[id] || (e > g->rev_off[id] && g->rev[e - 1] == p))
                continue;
            uint32_t d = depth_of(g, p);
            if (d != UINT32_MAX)
                c[nc++] = (candidate){p, d};
        }
        if (c)
            qsort(c, nc, sizeof(candidate), by_depth);
        for (size_t i = 0; !err && i < nc && b->nchains < max_chains; i++) {
            err = make_chain(h, g, c[i].referrer, id, &b->chains[b->nchains], &ok);
            if (ok)
                b->nchains++;
        }
        free(c);
    }
    if (err) {
        ph_backrefs_free(b);
        return err;
    }
    *out = b;
    return NULL;
}

/* ---- referrers, referents --------------------------------------------------- */

ph_error *ph_referrers_get(ph_heap *h, uint64_t address, ph_links **out)
{
    *out = NULL;
    uint32_t id, outside;
    ph_graph *g;
    ph_error *err = prepare(h, address, false, &id, &outside, &g);
    if (err)
        return err;
    link_list ll = {0};
    err = id == PH_NO_OBJ ? weak_referrers(h, g, address, &ll) : referrers_of(h, g, id, &ll);
    ph_links *l = err ? NULL : malloc(sizeof(*l));
    if (!l) {
        free(ll.l.items);
        return err ? err : PH_NOMEM;
    }
    *l = ll.l;
    *out = l;
    return NULL;
}

ph_error *ph_referents_get(ph_heap *h, uint64_t address, ph_links **out)
{
    *out = NULL;
    uint32_t id, outside;
    ph_error *err = find_object(h, address, &id, &outside);
    if (err)
        return err;
    link_list ll = {0};
    find_state st = {.want = PH_NO_OBJ, .self = id, .all = &ll};
    if (id == PH_NO_OBJ) {
        uint64_t skipped = h->skipped;
        h->labelling = true;
        ph_referents_at(h, address, outside, find_edge, &st);
        h->labelling = false;
        h->skipped = skipped;
    } else {
        visit_labelled(h, id, &st);
    }
    ph_links *l = st.nomem ? NULL : malloc(sizeof(*l));
    if (!l) {
        free(ll.l.items);
        return PH_NOMEM;
    }
    *l = ll.l;
    *out = l;
    return NULL;
}

typedef struct plain_state {
    uint32_t self;
    ph_referent *items;
    size_t n, cap;
    bool nomem;
} plain_state;

/* find_edge's choice of referents, without the links' text. */
static uint32_t plain_edge(ph_heap *h, const ph_ref *ref, void *payload)
{
    plain_state *st = payload;
    uint32_t id = ph_index_find(&h->idx, ref->addr);
    if (id == PH_NO_OBJ ? ref->guessed || ph_object_check(h, ref->addr) == UINT32_MAX
                        : id == st->self && ref->guessed)
        return id;
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        ph_referent *m = realloc(st->items, cap * sizeof(*m));
        if (!m) {
            st->nomem = true;
            return id;
        }
        st->items = m;
        st->cap = cap;
    }
    st->items[st->n++] = (ph_referent){ref->addr, ref->guessed};
    return id;
}

ph_error *ph_referents_plain(ph_heap *h, uint64_t address, ph_referent **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint32_t id, outside;
    ph_error *err = find_object(h, address, &id, &outside);
    if (err)
        return err;
    plain_state st = {.self = id};
    uint64_t skipped = h->skipped;
    if (id == PH_NO_OBJ)
        ph_referents_at(h, address, outside, plain_edge, &st);
    else
        ph_referents(h, id, plain_edge, &st);
    h->skipped = skipped;
    if (st.nomem) {
        free(st.items);
        return PH_NOMEM;
    }
    *out = st.items;
    *n = st.n;
    return NULL;
}

/* ---- objects of a kind ------------------------------------------------------ */

static int by_size(const void *a, const void *b, void *payload)
{
    const ph_heap *sort_heap = payload;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t sx = ph_index_size(&sort_heap->idx, x), sy = ph_index_size(&sort_heap->idx, y);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    uint64_t ax = sort_heap->idx.addr[x], ay = sort_heap->idx.addr[y];
    return ax < ay ? -1 : ax > ay;
}

void ph_objects_free(ph_objects *o)
{
    if (!o)
        return;
    free(o->list.items);
    free(o);
}

ph_error *ph_objects_get(ph_heap *h, const char *kind, uint64_t min_size, size_t limit,
                         ph_objects **out)
{
    *out = NULL;
    uint32_t *ids = malloc((h->idx.n ? h->idx.n : 1) * sizeof(uint32_t));
    ph_objects *o = calloc(1, sizeof(*o));
    if (!ids || !o) {
        free(ids);
        free(o);
        return PH_NOMEM;
    }
    size_t n = 0;
    char buf[600];
    for (size_t i = 0; i < h->idx.n; i++) {
        const ph_type *t = &h->types[h->idx.type[i]];
        if (strcmp(t->name, kind) != 0 && strcmp(ph_kind_of(h, (uint32_t)i, buf, sizeof(buf)), kind) != 0)
            continue;
        if (ph_index_size(&h->idx, i) < min_size)
            continue;
        o->count++;
        o->size += ph_index_size(&h->idx, i);
        ids[n++] = (uint32_t)i;
    }
    qsort_r(ids, n, sizeof(uint32_t), by_size, h);
    size_t show = limit && limit < n ? limit : n;
    o->list.items = calloc(show ? show : 1, sizeof(ph_link));
    if (!o->list.items) {
        free(ids);
        free(o);
        return PH_NOMEM;
    }
    o->list.n = show;
    for (size_t i = 0; i < show; i++) {
        fill_link(h, ids[i], &o->list.items[i]);
        o->list.items[i].edge_kind = "";
    }
    free(ids);
    *out = o;
    return NULL;
}

/* ---- for other analyses (chains.h) ------------------------------------------ */

ph_error *ph_chains_prepare(ph_heap *h, ph_graph **g)
{
    ph_error *err = ph_graph_edges(h, g);
    if (!err)
        err = root_labels(h, *g);
    if (!err)
        err = ph_graph_bfs(h, *g, frame_root);
    return err;
}

ph_label ph_chains_root_label(const ph_heap *h, const ph_graph *g, uint32_t id)
{
    return root_label_of(h, g, id);
}

bool ph_chains_edge_label(ph_heap *h, uint32_t from, uint32_t to, ph_label *out)
{
    bool conservative;
    return edge_label(h, from, to, out, &conservative);
}
