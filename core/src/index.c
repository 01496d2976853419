/* The object index: dense arrays of objects and an open-addressing table
 * from address to object id (linear probing, load at most 1/2). */
#include "error.h"
#include "heap.h"

#include <stdlib.h>
#include <string.h>

static inline size_t slot_of(uint64_t addr, size_t hcap)
{
    return (size_t)(((addr >> 3) * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (hcap - 1);
}

ph_error *ph_index_init(ph_index *ix)
{
    memset(ix, 0, sizeof(*ix));
    ix->hcap = 1u << 16;
    ix->slots = calloc(ix->hcap, sizeof(uint32_t));
    return ix->slots ? NULL : PH_NOMEM;
}

void ph_index_deinit(ph_index *ix)
{
    free(ix->addr);
    free(ix->size);
    free(ix->type);
    free(ix->owner);
    free(ix->flags);
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}

uint32_t ph_index_find(const ph_index *ix, uint64_t addr)
{
    size_t mask = ix->hcap - 1;
    for (size_t i = slot_of(addr, ix->hcap);; i = (i + 1) & mask) {
        uint32_t v = ix->slots[i];
        if (!v)
            return PH_NO_OBJ;
        if (ix->addr[v - 1] == addr)
            return v - 1;
    }
}

static ph_error *grow_table(ph_index *ix)
{
    size_t hcap = ix->hcap * 2;
    uint32_t *slots = calloc(hcap, sizeof(uint32_t));
    if (!slots)
        return PH_NOMEM;
    for (size_t id = 0; id < ix->n; id++) {
        size_t i = slot_of(ix->addr[id], hcap);
        while (slots[i])
            i = (i + 1) & (hcap - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(ix->slots);
    ix->slots = slots;
    ix->hcap = hcap;
    return NULL;
}

#define GROW(field, cap)                                                   \
    do {                                                                   \
        void *p_ = realloc(ix->field, (cap) * sizeof(*ix->field));         \
        if (!p_)                                                           \
            return PH_NOMEM;                                               \
        ix->field = p_;                                                    \
    } while (0)

static ph_error *grow_arrays(ph_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 1u << 15;
    if (cap >= UINT32_MAX)
        return ph_error_new(PH_ERR_CORRUPT, 0, "more than 4 billion objects");
    GROW(addr, cap);
    GROW(size, cap);
    GROW(type, cap);
    GROW(owner, cap);
    GROW(flags, cap);
    ix->cap = cap;
    return NULL;
}

ph_error *ph_index_add(ph_index *ix, uint64_t addr, uint32_t type, uint32_t *id, bool *added)
{
    size_t mask = ix->hcap - 1;
    size_t i = slot_of(addr, ix->hcap);
    for (;; i = (i + 1) & mask) {
        uint32_t v = ix->slots[i];
        if (!v)
            break;
        if (ix->addr[v - 1] == addr) {
            *id = v - 1;
            *added = false;
            return NULL;
        }
    }
    ph_error *err;
    if (ix->n == ix->cap && (err = grow_arrays(ix)))
        return err;
    uint32_t new_id = (uint32_t)ix->n++;
    ix->addr[new_id] = addr;
    ix->size[new_id] = 0;
    ix->type[new_id] = type;
    ix->owner[new_id] = 0;
    ix->flags[new_id] = 0;
    ix->slots[i] = new_id + 1;
    *id = new_id;
    *added = true;
    if (ix->n * 2 > ix->hcap && (err = grow_table(ix)))
        return err;
    return NULL;
}
