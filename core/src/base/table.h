/* Hash tables: open addressing with linear probing over a power of two of
 * slots, kept at most half full, with a multiplicative (Fibonacci) hash.
 * Two shapes, each written once:
 *
 * - ph_idtable: slots hold ids (id + 1; 0 is empty) whose keys live in the
 *   caller's own arrays (the index's addresses, a partition's row names):
 *   4 bytes a slot.  PH_DEFINE_ID_TABLE makes the typed functions for one
 *   use, given how to hash a key, how to hash an id's key, and whether an id
 *   has a key:
 *
 *       PH_DEFINE_ID_TABLE(rows, const ph_rows *, const char *,
 *                          HASH_TEXT, HASH_ROW, ROW_IS)
 *       uint32_t id = rows_find(&t, a, "str");      -- UINT32_MAX: absent
 *       ph_error *err = rows_add(&t, a, "str", id); -- the key must be absent
 *
 * - ph_map64: 64-bit keys (never 0) to 32-bit values, keys kept in the table. */
#ifndef PH_TABLE_H
#define PH_TABLE_H

#include "base/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define PH_TABLE_ABSENT UINT32_MAX

/* The home slot of a hash in a table of 1 << bits slots. */
static inline size_t ph_table_home(uint64_t hash, unsigned bits)
{
    return bits ? (size_t)((hash * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits)) : 0;
}

/* A string's hash (FNV-1a). */
static inline uint64_t ph_hash_text(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

typedef struct ph_idtable {
    uint32_t *slot;   /* id + 1; 0: empty */
    size_t cap, n;    /* cap == 1 << bits, or 0 before the first add */
    unsigned bits;
} ph_idtable;

static inline void ph_idtable_free(ph_idtable *t)
{
    free(t->slot);
    *t = (ph_idtable){0};
}

static inline size_t ph_idtable_bytes(const ph_idtable *t)
{
    return t->cap * sizeof(uint32_t);
}

/* Room for n ids at most half full; HASH_ID(ctx, id) rehashes the ids in it. */
#define PH_DEFINE_ID_TABLE(prefix, ctx_t, key_t, HASH_KEY, HASH_ID, ID_IS)                 \
    static inline size_t prefix##_probe(const ph_idtable *t, ctx_t ctx, key_t key)         \
    {                                                                                      \
        size_t mask = t->cap - 1, i = ph_table_home(HASH_KEY(key), t->bits);               \
        while (t->slot[i] && !ID_IS(ctx, t->slot[i] - 1, key))                             \
            i = (i + 1) & mask;                                                            \
        return i;                                                                          \
    }                                                                                      \
    static inline uint32_t prefix##_find(const ph_idtable *t, ctx_t ctx, key_t key)        \
    {                                                                                      \
        if (!t->cap)                                                                       \
            return PH_TABLE_ABSENT;                                                        \
        uint32_t v = t->slot[prefix##_probe(t, ctx, key)];                                 \
        return v ? v - 1 : PH_TABLE_ABSENT;                                                \
    }                                                                                      \
    static ph_error *prefix##_reserve(ph_idtable *t, ctx_t ctx, size_t n)                  \
    {                                                                                      \
        if (n * 2 <= t->cap)                                                               \
            return NULL;                                                                   \
        unsigned bits = t->bits ? t->bits : 4;                                             \
        while (((size_t)1 << bits) < n * 2)                                                \
            bits++;                                                                        \
        size_t cap = (size_t)1 << bits;                                                    \
        uint32_t *slot = calloc(cap, sizeof(uint32_t));                                    \
        if (!slot)                                                                         \
            return PH_NOMEM;                                                               \
        for (size_t j = 0; j < t->cap; j++) {                                              \
            uint32_t v = t->slot[j];                                                       \
            if (!v)                                                                        \
                continue;                                                                  \
            size_t i = ph_table_home(HASH_ID(ctx, v - 1), bits);                           \
            while (slot[i])                                                                \
                i = (i + 1) & (cap - 1);                                                   \
            slot[i] = v;                                                                   \
        }                                                                                  \
        free(t->slot);                                                                     \
        t->slot = slot;                                                                    \
        t->cap = cap;                                                                      \
        t->bits = bits;                                                                    \
        return NULL;                                                                       \
    }                                                                                      \
    static inline ph_error *prefix##_add(ph_idtable *t, ctx_t ctx, key_t key, uint32_t id) \
    {                                                                                      \
        ph_error *err_ = prefix##_reserve(t, ctx, t->n + 1);                               \
        if (err_)                                                                          \
            return err_;                                                                   \
        t->slot[prefix##_probe(t, ctx, key)] = id + 1;                                     \
        t->n++;                                                                            \
        return NULL;                                                                       \
    }

typedef struct ph_map64 {
    uint64_t *keys;   /* 0: empty */
    uint32_t *vals;
    size_t cap, n;
    unsigned bits;
} ph_map64;

void ph_map64_free(ph_map64 *m);
size_t ph_map64_bytes(const ph_map64 *m);
/* Sets key (not 0) to val; false when out of memory. */
bool ph_map64_put(ph_map64 *m, uint64_t key, uint32_t val);

static inline bool ph_map64_get(const ph_map64 *m, uint64_t key, uint32_t *val)
{
    if (!m->cap || !key)
        return false;
    for (size_t i = ph_table_home(key, m->bits);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return true;
        }
        if (!m->keys[i])
            return false;
    }
}

#endif
