/* Hash tables (table.h): the map of 64-bit keys. */
#include "base/table.h"

void ph_map64_free(ph_map64 *m)
{
    free(m->keys);
    free(m->vals);
    *m = (ph_map64){0};
}

size_t ph_map64_bytes(const ph_map64 *m)
{
    return m->cap * (sizeof(uint64_t) + sizeof(uint32_t));
}

static void place(uint64_t *keys, uint32_t *vals, unsigned bits, uint64_t key, uint32_t val)
{
    size_t mask = ((size_t)1 << bits) - 1;
    size_t i = ph_table_home(key, bits);
    while (keys[i] && keys[i] != key)
        i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = val;
}

bool ph_map64_put(ph_map64 *m, uint64_t key, uint32_t val)
{
    if (!key)
        return false;
    if ((m->n + 1) * 2 > m->cap) {
        unsigned bits = m->bits ? m->bits + 1 : 8;
        size_t cap = (size_t)1 << bits;
        uint64_t *keys = calloc(cap, sizeof(uint64_t));
        uint32_t *vals = calloc(cap, sizeof(uint32_t));
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t j = 0; j < m->cap; j++)
            if (m->keys[j])
                place(keys, vals, bits, m->keys[j], m->vals[j]);
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
        m->bits = bits;
    }
    uint32_t old;
    if (!ph_map64_get(m, key, &old))
        m->n++;
    place(m->keys, m->vals, m->bits, key, val);
    return true;
}
