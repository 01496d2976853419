/* The conservative scan of words, and the full check of an object found
 * only by it (conservative.c). */
#ifndef PH_CONSERVATIVE_H
#define PH_CONSERVATIVE_H

#include "cpython/object.h"
#include "cpython/reference.h"

#define PH_SCAN_MAX (1u << 20)  /* bytes of an unknown object scanned at most */

/* addr, of type ti (ph_object_check's answer), may be taken for an object
 * a C word points to. */
bool ph_conservative_ok(ph_heap *h, uint64_t addr, uint32_t ti);

/* Every word of [from, to) that points to an object passing
 * the conservative check, labelled name+offset from base (name NULL:
 * "->+0xN"). */
void ph_scan_words(ph_heap *h, uint64_t base, uint64_t from, uint64_t to, const char *name,
                   ph_visit_fn *visit, void *payload);

#endif
