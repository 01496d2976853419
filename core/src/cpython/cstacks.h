/* The threads' C stacks as the eval loop leaves them (cstacks.c): where a
 * running frame's value stack ends when the interpreter did not save it. */
#ifndef PH_CSTACKS_H
#define PH_CSTACKS_H

#include "probeheap.h"

#include <stdint.h>

/* The highest aligned word of the threads' C stacks (the regions of kind
 * PH_REGION_STACK) in [lo, hi], or 0 when none is.  The stacks' words are
 * read and sorted once per heap. */
uint64_t ph_cstack_highest_into(ph_heap *h, uint64_t lo, uint64_t hi);

#endif
