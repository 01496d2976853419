/* Labels of references as text (labels.c). */
#ifndef PH_LABELS_H
#define PH_LABELS_H

#include "heap/heap.h"

/* The label as shown: ".name", "['key']", "[3]", "->+0x38", or for a root
 * what it is.  addr is the object the reference leads to. */
void ph_label_text(ph_heap *h, const ph_label *l, uint64_t addr, char *buf, size_t cap);
/* The JSON names: edge_kind ("key", "attribute", ...) and, for roots, root. */
const char *ph_edge_kind_name(const ph_label *l);
const char *ph_root_kind_name(const ph_label *l);

#endif
