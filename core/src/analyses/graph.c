/* The heap as a graph: every object's references as compact arrays (CSR),
 * forward and reverse, and the dominator tree of the graph from the roots,
 * built once per heap on first use.
 *
 * Node n (one past the last object) is a virtual root whose successors are
 * the roots and the objects held from outside (ph_heap.roots).  Dominators
 * by Cooper, Harvey and Kennedy's iterative algorithm over reverse
 * postorder; the depth-first search is iterative too, so no recursion is
 * driven by the target's data. */
#include "analyses/graph.h"
#include "base/vec.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNDEF UINT32_MAX

void ph_graph_free(ph_graph *g)
{
    if (!g)
        return;
    free(g->fwd_off);
    free(g->fwd);
    free(g->rev_off);
    free(g->rev);
    free(g->idom);
    free(g->po);
    free(g->retained);
    free(g->retained_count);
    free(g->child_off);
    free(g->child);
    free(g->mark);
    free(g->parent);
    free(g->root_labels);
    free(g->weakrefs);
    free(g);
}

/* ---- edges ---------------------------------------------------------------- */

typedef struct edge_sink {
    ph_graph *g;
    uint32_t src;
    size_t n, cap;
    ph_error *err;
} edge_sink;

static uint32_t collect_edge(ph_heap *h, const ph_ref *ref, void *payload)
{
    edge_sink *s = payload;
    uint32_t id = ph_index_find(&h->idx, ref->addr);
    if (id == PH_NO_OBJ || id == s->src || s->err)
        return id;
    if (s->n == s->cap) {
        if (s->n >= UINT32_MAX) {
            s->err = ph_error_new(PH_ERR_NOMEM, 0, "more than 4 billion references");
            return id;
        }
        if (!PH_VEC_RESERVE(s->g->fwd, s->cap, s->n + 1, (size_t)1 << 16)) {
            s->err = PH_NOMEM;
            return id;
        }
    }
    s->g->fwd[s->n++] = id;
    return id;
}

static ph_error *build_edges(ph_heap *h, ph_graph *g)
{
    uint32_t n = g->n;
    g->fwd_off = malloc(((size_t)n + 2) * sizeof(uint32_t));
    if (!g->fwd_off)
        return PH_NOMEM;
    edge_sink s = {.g = g};
    uint64_t skipped = h->skipped; /* corrupt objects were counted by the walk */
    for (uint32_t v = 0; v < n && !s.err; v++) {
        if (ph_poll(h))
            return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
        g->fwd_off[v] = (uint32_t)s.n;
        s.src = v;
        ph_referents(h, v, collect_edge, &s);
    }
    h->skipped = skipped;
    if (s.err)
        return s.err;
    g->fwd_off[n] = (uint32_t)s.n;
    /* the virtual root's successors: the roots */
    for (size_t i = 0; i < h->nroots && !s.err; i++) {
        s.src = UNDEF;
        const ph_ref root = {.addr = h->idx.addr[h->roots[i]]};
        collect_edge(h, &root, &s);
    }
    if (s.err)
        return s.err;
    g->fwd_off[n + 1] = (uint32_t)s.n;
    g->nedges = s.n;
    return NULL;
}

/* The referrers (reverse edges), by counting sort into place: each target's
 * count, summed up to its list's end, then the sources from the last edge
 * to the first, each list filling from its end, so that every list comes
 * out in increasing order of source without a second array of cursors. */
static ph_error *build_referrers(ph_graph *g)
{
    uint32_t n = g->n;
    g->rev_off = calloc((size_t)n + 2, sizeof(uint32_t));
    g->rev = malloc((g->nedges ? g->nedges : 1) * sizeof(uint32_t));
    if (!g->rev_off || !g->rev) {
        free(g->rev_off), free(g->rev);
        g->rev_off = g->rev = NULL;
        return PH_NOMEM;
    }
    for (uint64_t e = 0; e < g->nedges; e++)
        g->rev_off[g->fwd[e]]++;
    for (uint32_t v = 1; v <= n + 1; v++)
        g->rev_off[v] += g->rev_off[v - 1];
    for (uint32_t v = n + 1; v-- > 0;)
        for (uint32_t e = g->fwd_off[v + 1]; e-- > g->fwd_off[v];)
            g->rev[--g->rev_off[g->fwd[e]]] = v;
    return NULL;
}

static void drop_referrers(ph_graph *g)
{
    free(g->rev_off), free(g->rev);
    g->rev_off = g->rev = NULL;
}

/* ---- dominators ------------------------------------------------------------- */

static uint32_t intersect(const ph_graph *g, uint32_t a, uint32_t b)
{
    while (a != b) {
        while (g->po[a] < g->po[b])
            a = g->idom[a];
        while (g->po[b] < g->po[a])
            b = g->idom[b];
    }
    return a;
}

/* The tree's memory is kept to what it answers with (idom, retained sizes,
 * children): what only builds it (postorder numbers, the referrers when no
 * one had asked for them) is given back before the next part is allocated,
 * so that the peak is one part's, not their sum. */
static ph_error *build_dominators(ph_heap *h, ph_graph *g)
{
    uint32_t n = g->n, root = n, N = n + 1;
    ph_error *err = NULL;
    g->po = malloc((size_t)N * sizeof(uint32_t));
    uint32_t *order = malloc((size_t)N * sizeof(uint32_t));   /* postorder */
    uint32_t *stack = malloc((size_t)N * sizeof(uint32_t));
    uint32_t *next = malloc((size_t)N * sizeof(uint32_t));    /* next edge to try */
    uint8_t *seen = calloc(N, 1);
    if (!g->po || !order || !stack || !next || !seen) {
        free(order), free(stack), free(next), free(seen);
        return PH_NOMEM;
    }
    for (uint32_t v = 0; v < N; v++)
        g->po[v] = UNDEF;
    /* iterative depth-first search from the root: postorder numbers */
    uint32_t sp = 0, count = 0;
    stack[sp++] = root;
    seen[root] = 1;
    next[root] = g->fwd_off[root];
    while (sp) {
        uint32_t v = stack[sp - 1];
        if (next[v] < g->fwd_off[v + 1]) {
            uint32_t w = g->fwd[next[v]++];
            if (!seen[w]) {
                seen[w] = 1;
                next[w] = g->fwd_off[w];
                stack[sp++] = w;
            }
        } else {
            sp--;
            g->po[v] = count;
            order[count++] = v;
        }
    }
    free(seen);
    free(stack);
    free(next);
    g->reachable = count - 1;
    /* the referrers: kept if someone had them built, else dropped after */
    bool own_rev = !g->rev;
    g->idom = malloc((size_t)N * sizeof(uint32_t));
    if (!g->idom || (own_rev && (err = build_referrers(g)))) {
        free(order);
        return err ? err : PH_NOMEM;
    }
    for (uint32_t v = 0; v < N; v++)
        g->idom[v] = UNDEF;
    /* iterate over reverse postorder until nothing changes */
    g->idom[root] = root;
    bool changed = true;
    for (int pass = 0; changed && pass < 1000; pass++) {
        changed = false;
        for (uint32_t i = count - 1; i-- > 0;) {
            uint32_t v = order[i], nd = UNDEF;
            for (uint32_t e = g->rev_off[v]; e < g->rev_off[v + 1]; e++) {
                uint32_t p = g->rev[e];
                if (g->idom[p] == UNDEF)
                    continue;
                nd = nd == UNDEF ? p : intersect(g, p, nd);
            }
            if (nd != g->idom[v]) {
                g->idom[v] = nd;
                changed = true;
            }
        }
        if (ph_poll(h)) {
            err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            break;
        }
    }
    if (own_rev)
        drop_referrers(g);
    free(g->po); /* intersect's alone */
    g->po = NULL;
    if (err) {
        free(order);
        return err;
    }
    /* retained sizes: children before parents, i.e. in postorder */
    g->retained = calloc(N, sizeof(uint64_t));
    g->retained_count = calloc(N, sizeof(uint32_t));
    if (!g->retained || !g->retained_count) {
        free(order);
        return PH_NOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t v = order[i];
        g->retained[v] += v == root ? 0 : ph_index_size(&h->idx, v);
        g->retained_count[v] += v == root ? 0 : 1;
        if (v != root) {
            g->retained[g->idom[v]] += g->retained[v];
            g->retained_count[g->idom[v]] += g->retained_count[v];
        }
    }
    /* the dominator tree's children, in postorder within each parent: a
     * counting sort into place (as build_referrers), from the last to the first */
    g->child_off = calloc((size_t)N + 1, sizeof(uint32_t));
    g->child = malloc((size_t)(count ? count : 1) * sizeof(uint32_t));
    if (!g->child_off || !g->child) {
        free(order);
        return PH_NOMEM;
    }
    for (uint32_t i = 0; i < count; i++)
        if (order[i] != root)
            g->child_off[g->idom[order[i]]]++;
    for (uint32_t v = 1; v <= N; v++)
        g->child_off[v] += g->child_off[v - 1];
    for (uint32_t i = count; i-- > 0;)
        if (order[i] != root)
            g->child[--g->child_off[g->idom[order[i]]]] = order[i];
    free(order);
    return NULL;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

size_t ph_graph_bytes(const ph_graph *g)
{
    size_t N = (size_t)g->n + 1, e = g->nedges;
    return (N + 1) * 4 + e * 4 +                                      /* references */
           (g->rev ? (N + 1) * 4 + e * 4 : 0) +                       /* referrers */
           (g->idom ? N * 4 : 0) + (g->po ? N * 4 : 0) +
           (g->retained ? N * 8 : 0) + (g->retained_count ? N * 4 : 0) +
           (g->child_off ? (N + 1) * 4 + (size_t)g->reachable * 4 : 0) +
           (g->mark ? N * 4 : 0) + (g->parent ? N * 4 : 0);
}

ph_error *ph_graph_forward(ph_heap *h, ph_graph **out)
{
    if (h->graph) {
        *out = h->graph;
        return NULL;
    }
    if (h->idx.n >= UNDEF - 1)
        return ph_error_new(PH_ERR_NOMEM, 0, "too many objects for the graph");
    ph_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return PH_NOMEM;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g->n = (uint32_t)h->idx.n;
    ph_error *err = build_edges(h, g);
    if (err) {
        ph_graph_free(g);
        return err;
    }
    g->seconds = seconds_since(&t0);
    h->graph = g;
    *out = g;
    return NULL;
}

ph_error *ph_graph_referrers_of(ph_graph *g, uint32_t v, const uint32_t **list, size_t *n,
                                uint32_t **buf)
{
    *buf = NULL;
    if (!g->rev && ++g->rev_scans > PH_REFERRER_SCANS) {
        ph_error *err = build_referrers(g);
        if (err)
            return err;
    }
    if (g->rev) {
        *list = g->rev + g->rev_off[v];
        *n = g->rev_off[v + 1] - g->rev_off[v];
        return NULL;
    }
    size_t cap = 0;
    *n = 0;
    for (uint32_t u = 0; u <= g->n; u++)
        for (uint32_t e = g->fwd_off[u]; e < g->fwd_off[u + 1]; e++)
            if (g->fwd[e] == v) {
                if (!PH_VEC_RESERVE(*buf, cap, *n + 1, 16)) {
                    free(*buf);
                    *buf = NULL;
                    return PH_NOMEM;
                }
                (*buf)[(*n)++] = u;
            }
    *list = *buf;
    return NULL;
}

ph_error *ph_graph_edges(ph_heap *h, ph_graph **out)
{
    ph_error *err = ph_graph_forward(h, out);
    if (!err && !(*out)->rev)
        err = build_referrers(*out);
    return err;
}

ph_error *ph_graph_get(ph_heap *h, ph_graph **out)
{
    ph_graph *g;
    ph_error *err = ph_graph_forward(h, &g);
    if (err)
        return err;
    if (!g->idom) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        err = build_dominators(h, g);
        if (err) {
            /* keep the edges; drop the half-built tree */
            free(g->po), free(g->idom), free(g->retained), free(g->retained_count);
            free(g->child_off), free(g->child);
            g->po = g->idom = g->child_off = g->child = g->retained_count = NULL;
            g->retained = NULL;
            return err;
        }
        g->seconds += seconds_since(&t0);
    }
    *out = g;
    return NULL;
}

ph_error *ph_graph_bfs(ph_heap *h, ph_graph *g, bool (*late)(const ph_heap *, const ph_graph *, uint32_t))
{
    if (g->parent)
        return NULL;
    uint32_t N = g->n + 1, root = g->n;
    uint32_t *parent = malloc((size_t)N * sizeof(uint32_t));
    uint32_t *queue = malloc((size_t)N * sizeof(uint32_t));
    if (!parent || !queue) {
        free(parent);
        free(queue);
        return PH_NOMEM;
    }
    for (uint32_t v = 0; v < N; v++)
        parent[v] = UNDEF;
    size_t qh = 0, qt = 0;
    parent[root] = root;
    for (int phase = 0; phase < 2; phase++) {
        /* the roots of this phase */
        for (uint32_t e = g->fwd_off[root]; e < g->fwd_off[root + 1]; e++) {
            uint32_t w = g->fwd[e];
            if (parent[w] == UNDEF && (late && late(h, g, w)) == (phase == 1)) {
                parent[w] = root;
                queue[qt++] = w;
            }
        }
        while (qh < qt) {
            uint32_t v = queue[qh++];
            for (uint32_t e = g->fwd_off[v]; e < g->fwd_off[v + 1]; e++) {
                uint32_t w = g->fwd[e];
                if (parent[w] == UNDEF) {
                    parent[w] = v;
                    queue[qt++] = w;
                }
            }
            if ((qh & 0xffff) == 0 && ph_poll(h)) {
                free(parent);
                free(queue);
                return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            }
        }
    }
    free(queue);
    g->parent = parent;
    return NULL;
}

/* ---- deep size -------------------------------------------------------------- */

/* asizeof's rule: types, modules, functions, code, frames and methods are
 * shared machinery: not counted and not entered (except the object asked about). */
static bool not_entered(const ph_heap *h, uint32_t v)
{
    const ph_type *t = &h->types[h->idx.type[v]];
    switch (t->shape) {
    case SHAPE_TYPE:
    case SHAPE_MODULE:
    case SHAPE_FUNCTION:
    case SHAPE_CODE:
    case SHAPE_FRAME:
    case SHAPE_METHOD:
        return true;
    default:
        return t->is_type_type || strcmp(t->name, "builtin_function_or_method") == 0 ||
               strcmp(t->name, "method-wrapper") == 0;
    }
}

ph_error *ph_graph_deep(ph_heap *h, ph_graph *g, uint32_t start, ph_visit_id_fn *fn, void *payload,
                        uint64_t *size, uint64_t *count)
{
    if (!g->mark && !(g->mark = calloc((size_t)g->n + 1, sizeof(uint32_t))))
        return PH_NOMEM;
    if (++g->stamp == 0) { /* wrapped: clear the marks */
        memset(g->mark, 0, ((size_t)g->n + 1) * sizeof(uint32_t));
        g->stamp = 1;
    }
    uint32_t *queue = malloc(((size_t)g->n + 1) * sizeof(uint32_t));
    if (!queue)
        return PH_NOMEM;
    size_t qh = 0, qt = 0;
    queue[qt++] = start;
    g->mark[start] = g->stamp;
    *size = *count = 0;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        *size += ph_index_size(&h->idx, v);
        (*count)++;
        if (fn)
            fn(h, v, payload);
        uint64_t stops[2];
        unsigned nstops = ph_deep_stops(h, v, stops);
        for (uint32_t e = g->fwd_off[v]; e < g->fwd_off[v + 1]; e++) {
            uint32_t w = g->fwd[e];
            if (g->mark[w] == g->stamp || not_entered(h, w))
                continue;
            if (nstops && (h->idx.addr[w] == stops[0] || (nstops > 1 && h->idx.addr[w] == stops[1])))
                continue; /* a function's, frame's or generator's globals, builtins */
            g->mark[w] = g->stamp;
            queue[qt++] = w;
        }
    }
    free(queue);
    return NULL;
}
