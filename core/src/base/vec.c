/* Growing arrays (vec.h). */
#include "base/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool ph_vec_reserve(void *items_ptr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > SIZE_MAX / elem)
        return false;
    void *items;
    memcpy(&items, items_ptr, sizeof(items));
    void *grown = realloc(items, c * elem);
    if (!grown)
        return false;
    memcpy(items_ptr, &grown, sizeof(grown));
    *cap = c;
    return true;
}

void ph_vec_trim(void *items_ptr, size_t *cap, size_t n, size_t elem)
{
    void *items;
    memcpy(&items, items_ptr, sizeof(items));
    if (!items || n >= *cap || !n)
        return;
    void *shrunk = realloc(items, n * elem);
    if (!shrunk)
        return;
    memcpy(items_ptr, &shrunk, sizeof(shrunk));
    *cap = n;
}
