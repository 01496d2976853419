/* Chains from the roots for other analyses (backrefs.c): the graph ready
 * for chains, what a root is, and the label of one reference. */
#ifndef PH_CHAINS_H
#define PH_CHAINS_H

#include "analyses/graph.h"

/* The graph's edges, the roots' labels and the breadth-first tree (g->parent). */
ph_error *ph_chains_prepare(ph_heap *h, ph_graph **g);
/* What root id is (the first label it was found with). */
ph_label ph_chains_root_label(const ph_heap *h, const ph_graph *g, uint32_t id);
/* The label of a reference from -> to, a precise one before a guess; false: none found. */
bool ph_chains_edge_label(ph_heap *h, uint32_t from, uint32_t to, ph_label *out);

#endif
