/* The bytes an object occupies from its own address in the allocator's
 * block, by kind: what must fit in a pymalloc block for the block to hold
 * that object (the block search of leaks and alloc.c).  Not its flat size:
 * a list's items, a dict's keys, a legacy str's text live elsewhere, and
 * the GC header and pre-header sit before the address.
 *
 * - str: compact ASCII: sizeof(PyASCIIObject) + len + 1; compact:
 *   sizeof(PyCompactUnicodeObject) + (len + 1) * kind; legacy (subclasses):
 *   the type's basicsize.  str's tp_basicsize is the legacy struct, larger
 *   than a short string's block.
 * - int: the type's basicsize + 4 per digit, the digit count from lv_tag
 *   >> 3 on 3.12+ (ob_size's place holds lv_tag there), |ob_size| before.
 * - other variable-size objects: basicsize + |ob_size| * itemsize; fixed
 *   ones: basicsize. */
#include "heap/heap.h"

uint64_t ph_block_size(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t base = (uint64_t)t->basicsize;
    if (t->shape == SHAPE_STR && !t->heap && !t->static_subclass) {
        int64_t length = 0;
        uint32_t state = 0;
        if (!ph_read_i64(h->r, addr + (uint64_t)L->str_length, &length) ||
            !ph_read_u32(h->r, addr + (uint64_t)L->str_state, &state) || length < 0 ||
            (uint64_t)length > MAX_STR_LEN)
            return base;
        uint64_t len = (uint64_t)length, kind = (state >> L->str_kind_shift) & 7;
        if (!(state & (1u << (L->str_kind_shift + 3))))
            return (uint64_t)L->str_unicode_sizeof; /* legacy: the text is elsewhere */
        if (state & (1u << (L->str_kind_shift + 4)))
            return (uint64_t)L->str_ascii_sizeof + len + 1;
        return (uint64_t)L->str_compact_sizeof + (len + 1) * kind;
    }
    if (!t->itemsize)
        return base;
    uint64_t n;
    if (t->shape == SHAPE_INT && L->long_lv_tag != PH_NONE) {
        uint64_t tag = 0;
        ph_read_u64(h->r, addr + (uint64_t)L->long_lv_tag, &tag);
        n = tag >> 3;
    } else {
        int64_t size = 0;
        ph_ob_size(h, addr, &size);
        n = ph_abs64(size);
    }
    if (n >= MAX_CONTAINER_LEN)
        return UINT64_MAX; /* fits nowhere */
    return base + n * (uint64_t)t->itemsize;
}
