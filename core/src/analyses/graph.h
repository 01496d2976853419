/* The heap graph and its dominator tree (graph.c). */
#ifndef PH_GRAPH_H
#define PH_GRAPH_H

#include "heap/heap.h"

typedef struct ph_graph {
    uint32_t n;                 /* objects; node n is the virtual root */
    uint64_t nedges;
    uint32_t *fwd_off, *fwd;    /* references: fwd[fwd_off[v] .. fwd_off[v+1]) */
    uint32_t *rev_off, *rev;    /* referrers, the same way (NULL: not built; ph_graph_edges) */
    uint32_t rev_scans;         /* one object's referrers found without them (see below) */
    uint32_t *po;               /* postorder number, while the tree is built */
    uint32_t *idom;             /* immediate dominator; UINT32_MAX: not reachable */
    uint64_t *retained;         /* bytes of the objects each one dominates, itself included */
    uint32_t *retained_count;
    uint32_t *child_off, *child; /* the dominator tree's children */
    uint32_t reachable;         /* objects reachable from the roots */
    uint32_t *mark, stamp;      /* visited marks for deep-size walks (on first use) */
    uint32_t *parent;           /* breadth-first tree from the roots; UINT32_MAX: not reachable */
    struct ph_root_label *root_labels; /* what each root is, by object id (backrefs.c) */
    size_t nroot_labels;
    struct ph_weakref {
        uint32_t id;            /* a weak reference */
        uint64_t referent;      /* what it points to */
    } *weakrefs;                /* every weak reference in the heap (backrefs.c) */
    size_t nweakrefs;
    double seconds;             /* time to build it */
} ph_graph;

/* The graph of h with its dominator tree, built on first use. */
ph_error *ph_graph_get(ph_heap *h, ph_graph **out);

/* The graph's edges only (forward and reverse), built on first use.  The
 * dominator tree (ph_graph_get) builds the referrers for itself and drops
 * them after; this builds them again when they are not there. */
ph_error *ph_graph_edges(ph_heap *h, ph_graph **out);

/* The references alone (no referrers unless built before), built on first use. */
ph_error *ph_graph_forward(ph_heap *h, ph_graph **out);

/* The referrers of v (*n of them, *list), in increasing id with the virtual
 * root last, one per reference: a slice of the referrers' lists when they are
 * built; else, for the first PH_REFERRER_SCANS queries, one pass over the
 * references into *buf, which the caller frees (a few queries, such as
 * dominators' edge labels, do not bring back the lists' memory); after
 * those, the lists are built again (each pass costs a fifth to a tenth of
 * building them). */
#define PH_REFERRER_SCANS 16
ph_error *ph_graph_referrers_of(ph_graph *g, uint32_t v, const uint32_t **list, size_t *n,
                                uint32_t **buf);

/* The graph's memory in bytes, of what is built now. */
void ph_graph_free(ph_graph *g);
size_t ph_graph_bytes(const ph_graph *g);

/* The breadth-first tree from the roots (g->parent), built on first use:
 * following parents from an object gives a shortest chain from a root.
 * Roots for which late(root's id) is true are entered only after everything
 * the others reach: a chain starts at them only when no other root leads
 * to the object. */
ph_error *ph_graph_bfs(ph_heap *h, ph_graph *g, bool (*late)(const ph_heap *, const ph_graph *, uint32_t));

typedef void ph_visit_id_fn(ph_heap *h, uint32_t id, void *payload);

/* deep_stops.c: the referents of v that deep size does not follow (a
 * function's, frame's or generator's globals and builtins); their count. */
unsigned ph_deep_stops(ph_heap *h, uint32_t v, uint64_t out[2]);
/* The deep set of start (asizeof's rules), calling fn for each object in it. */
ph_error *ph_graph_deep(ph_heap *h, ph_graph *g, uint32_t start, ph_visit_id_fn *fn, void *payload,
                        uint64_t *size, uint64_t *count);

#endif
