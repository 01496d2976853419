/* Leak suspects (suspects.c) and retainer paths (owners.c): what they share. */
#ifndef PH_SUSPECTS_H
#define PH_SUSPECTS_H

#include "analyses/graph.h"

/* A kind as a dense index: an object's type, or for an exact dict
 * ntypes + its owner's type index + 1 (ntypes: no owner). */
uint32_t ph_kind_index(const ph_heap *h, uint32_t id);
size_t ph_kind_count(const ph_heap *h);
void ph_kind_name(const ph_heap *h, uint32_t k, char *buf, size_t cap);

/* Tallies by kind index, reset cheaply between uses. */
typedef struct ph_tally {
    uint64_t *count, *size;
    uint32_t *touched, *stack;
    size_t ntouched;
} ph_tally;
ph_error *ph_tally_init(const ph_heap *h, ph_tally *t);
void ph_tally_deinit(ph_tally *t);
/* Adds v's dominator subtree to the tallies. */
void ph_tally_add(const ph_heap *h, const ph_graph *g, uint32_t v, ph_tally *t);
/* The largest max kinds tallied into held (largest first); resets the tallies. */
size_t ph_tally_top(const ph_heap *h, ph_tally *t, ph_held *held, size_t max);
/* What v's dominator subtree holds by kind: the largest max into held. */
size_t ph_tally_subtree(const ph_heap *h, const ph_graph *g, uint32_t v, ph_tally *t, ph_held *held,
                        size_t max);

/* The breadth-first tree from the roots for names (malloc'd parents):
 * frames and objects held from C are roots of last resort. */
ph_error *ph_name_tree(ph_heap *h, ph_graph *g, uint32_t **parent);

/* What suspects and owners start from: the dominator tree with the roots'
 * labels (ph_chains_prepare) and the tree names come from (ph_name_tree). */
ph_error *ph_name_graph(ph_heap *h, ph_graph **g, uint32_t **parent);

/* The path of v from a root by that tree, as text, e.g.
 * "app.cache:_store" (a module's attribute, as OBJ is written),
 * "sys.modules['x']", "<thread 0x7f..: main (app.py:12), local 'x'>[3]".  With fold,
 * a member of a list, tuple or set of more than 8, or of a dict (not an
 * object's __dict__) of more than 8 items, is "[*]". */
void ph_path_text(ph_heap *h, ph_graph *g, const uint32_t *parent, uint32_t v, bool fold, char *buf,
                  size_t cap);

#endif
