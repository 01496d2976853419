/* Growing arrays: the one place that doubles a realloc'd array.
 *
 *     if (!PH_VEC_RESERVE(st->items, st->cap, st->n + 1, 64))
 *         return PH_NOMEM;
 *     st->items[st->n++] = item;
 *
 * items is any T *, cap a size_t counted in elements. */
#ifndef PH_VEC_H
#define PH_VEC_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *items_ptr (a T ** passed as void *) hold at least need elements of
 * elem bytes, doubling its capacity *cap from first.  False when out of
 * memory or when the size would overflow: the array and *cap are then
 * unchanged. */
bool ph_vec_reserve(void *items_ptr, size_t *cap, size_t need, size_t elem, size_t first);

/* Gives back the room beyond n elements (a failed shrink keeps the array). */
void ph_vec_trim(void *items_ptr, size_t *cap, size_t n, size_t elem);

#define PH_VEC_RESERVE(items, cap, need, first) \
    ph_vec_reserve(&(items), &(cap), (need), sizeof(*(items)), (first))
#define PH_VEC_TRIM(items, cap, n) ph_vec_trim(&(items), &(cap), (n), sizeof(*(items)))

#endif
