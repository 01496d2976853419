/* heapy's kinds (classify.c) and the partitions by computed text (partition_by.c). */
#ifndef PH_CLASSIFY_H
#define PH_CLASSIFY_H

#include "heap/heap.h"

/* classify.c */
/* The kind of object id (heapy's class / dict of class) into buf. */
const char *ph_kind_of(const ph_heap *h, uint32_t id, char *buf, size_t cap);

/* partition_by.c: the partitions by size, module, rcs and via */
ph_error *ph_partition_by_text(ph_heap *h, ph_partition_by by, ph_partition **out);

#endif
