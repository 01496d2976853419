/* The full check of an object found only by a conservative scan
 * (conservative.c). */
#ifndef PH_CONSERVATIVE_H
#define PH_CONSERVATIVE_H

#include "cpython/object.h"

/* addr, of type ti (ph_object_check's answer), may be taken for an object
 * a C word points to. */
bool ph_conservative_ok(ph_heap *h, uint64_t addr, uint32_t ti);

#endif
