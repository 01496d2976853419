/* Values as Python shows them, short and bounded (repr.c). */
#ifndef PH_REPR_H
#define PH_REPR_H

#include "heap/heap.h"

/* The str at the pointer field off of addr (a function's __qualname__, a code's filename). */
void ph_name_field(ph_heap *h, uint64_t addr, int32_t off, char *buf, size_t cap);
/* A str's repr, cut to limit characters. */
void ph_str_repr(ph_heap *h, uint64_t addr, char *buf, size_t cap, size_t limit);
/* An int, a bool, a float or bytes as a preview shows it; "" for another
 * leaf.  t is addr's type, checked. */
void ph_scalar_repr(ph_heap *h, uint64_t addr, const ph_type *t, char *buf, size_t cap);
/* A dict key as Python shows it (str, int, bytes, float, None, True, False),
 * cut; other objects as <type at 0x...>. */
void ph_repr_short(ph_heap *h, uint64_t addr, char *buf, size_t cap);

#endif
