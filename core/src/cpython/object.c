/* Reading target objects: their header, str text, and dict iteration for
 * each version's dict layout (the check every object pointer goes through,
 * which ends at its type, is types.c's). */
#include "heap/heap.h"
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Appends the UTF-8 form of code point c to buf[*n], within cap-1 bytes. */
static void put_utf8(char *buf, size_t cap, size_t *n, uint32_t c)
{
    char tmp[4];
    if ((c >= 0xD800 && c < 0xE000) || c > 0x10FFFF)
        c = 0xFFFD; /* lone surrogates and beyond Unicode: not UTF-8 */
    size_t k = ph_utf8_encode(c, tmp);
    if (*n + k < cap) {
        memcpy(buf + *n, tmp, k);
        *n += k;
    }
}

bool ph_str_iter_init(ph_heap *h, uint64_t addr, ph_str_iter *it)
{
    const ph_layout *L = h->L;
    int64_t length;
    uint32_t state;
    uint64_t type, flags;
    /* Only a str: its type has the unicode fast-subclass bit. */
    if (!ph_ob_type(h, addr, &type) || !ph_ptr_ok(type) ||
        !ph_read_u64(h->r, type + (uint64_t)L->tp_flags, &flags) ||
        !(flags & TPFLAGS_UNICODE_SUBCLASS) ||
        !ph_read(h->r, addr + (uint64_t)L->str_length, &length, 8) ||
        !ph_read(h->r, addr + (uint64_t)L->str_state, &state, 4) || length < 0 ||
        (uint64_t)length > MAX_STR_LEN)
        return false;
    it->kind = (state >> L->str_kind_shift) & 7;
    bool compact = state & (1u << (L->str_kind_shift + 3)),
         ascii = state & (1u << (L->str_kind_shift + 4));
    if (it->kind != 1 && it->kind != 2 && it->kind != 4)
        return false;
    if (compact)
        it->data = addr + (uint64_t)(ascii ? L->str_ascii_sizeof : L->str_compact_sizeof);
    else if (!ph_read_u64(h->r, addr + (uint64_t)L->str_data, &it->data) || !it->data)
        return false;
    it->length = (uint64_t)length;
    it->i = 0;
    it->have = it->at = 0;
    return true;
}

bool ph_str_iter_next(ph_heap *h, ph_str_iter *it, uint32_t *cp)
{
    if (it->i >= it->length)
        return false;
    if (it->at == it->have) {
        uint64_t left = it->length - it->i;
        size_t chunk = left * it->kind > sizeof(it->raw) ? sizeof(it->raw) / it->kind : (size_t)left;
        if (!ph_read(h->r, it->data + it->i * it->kind, it->raw, chunk * it->kind))
            return false;
        it->have = chunk;
        it->at = 0;
    }
    const unsigned char *r = it->raw + it->at * it->kind;
    *cp = it->kind == 1   ? r[0]
          : it->kind == 2 ? (uint32_t)(r[0] | r[1] << 8)
                          : (uint32_t)(r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24);
    it->at++;
    it->i++;
    return true;
}

bool ph_str_read(ph_heap *h, uint64_t addr, char *buf, size_t cap)
{
    ph_str_iter it;
    if (cap == 0 || !ph_str_iter_init(h, addr, &it))
        return false;
    size_t n = 0;
    uint32_t c;
    for (uint64_t k = 0; k + 1 < cap && ph_str_iter_next(h, &it, &c); k++)
        put_utf8(buf, cap, &n, c);
    buf[n] = 0;
    return it.i == it.length || n + 1 >= cap;
}

bool ph_dict_iter_init(ph_heap *h, uint64_t dict, ph_dict_iter *it)
{
    const ph_layout *L = h->L;
    uint64_t keys, values;
    if (!ph_read_u64(h->r, dict + (uint64_t)L->dict_ma_keys, &keys) ||
        !ph_read_u64(h->r, dict + (uint64_t)L->dict_ma_values, &values))
        return false;
    return ph_dict_keys_iter_init(h, keys, values, it);
}

bool ph_dict_keys_iter_init(ph_heap *h, uint64_t keys, uint64_t values, ph_dict_iter *it)
{
    const ph_layout *L = h->L;
    memset(it, 0, sizeof(*it));
    it->keys = keys;
    it->values = values;
    if (!ph_ptr_ok(it->keys))
        return false;
    int64_t nentries;
    if (!ph_read_i64(h->r, it->keys + (uint64_t)L->dk_nentries, &nentries))
        return false;
    uint64_t size, index_bytes;
    if (L->dk_size != PH_NONE) {
        int64_t sz;
        if (!ph_read_i64(h->r, it->keys + (uint64_t)L->dk_size, &sz) || sz < 1 ||
            (uint64_t)sz > MAX_CONTAINER_LEN || (sz & (sz - 1)))
            return false;
        size = (uint64_t)sz;
        unsigned ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
        index_bytes = size * ix;
        it->entry_size = 24;
        it->value_at = 16;
    } else {
        uint8_t b[3];
        if (!ph_read(h->r, it->keys + (uint64_t)L->dk_log2_size, &b[0], 1) ||
            !ph_read(h->r, it->keys + (uint64_t)L->dk_log2_index_bytes, &b[1], 1) ||
            !ph_read(h->r, it->keys + (uint64_t)L->dk_kind, &b[2], 1) || b[0] > 32 ||
            b[1] > 35 || b[2] > 2)
            return false;
        size = UINT64_C(1) << b[0];
        index_bytes = UINT64_C(1) << b[1];
        it->entry_size = b[2] == 0 ? 24 : 16;
        it->value_at = it->entry_size - 8;
    }
    if (nentries < 0 || (uint64_t)nentries > size)
        return false;
    it->n = nentries;
    it->entries = it->keys + (uint64_t)L->dk_indices + index_bytes;
    it->split = it->values != 0;
    if (it->split && !ph_ptr_ok(it->values))
        return false;
    return true;
}

bool ph_dict_iter_next(ph_heap *h, ph_dict_iter *it, uint64_t *key, uint64_t *value)
{
    while (it->i < it->n) {
        int64_t i = it->i++;
        uint64_t e[3];
        if (!ph_read(h->r, it->entries + (uint64_t)i * (uint64_t)it->entry_size, e,
                     (size_t)it->entry_size))
            return false;
        uint64_t k = it->entry_size == 24 ? e[1] : e[0];
        uint64_t v = it->entry_size == 24 ? e[2] : e[1];
        if (it->split &&
            !ph_read_u64(h->r, it->values + (uint64_t)h->L->dictvalues_values + (uint64_t)i * 8, &v))
            return false;
        if (!k || !v)
            continue;
        *key = k;
        *value = v;
        return true;
    }
    return false;
}

uint64_t ph_dict_get_str(ph_heap *h, uint64_t dict, const char *want)
{
    ph_dict_iter it;
    if (!ph_dict_iter_init(h, dict, &it))
        return 0;
    size_t wlen = strlen(want);
    uint64_t k, v;
    /* type and sys dicts are small; never scan a huge one (empty slots count too) */
    while (it.i < (1 << 16) && ph_dict_iter_next(h, &it, &k, &v)) {
        int64_t len;
        /* A key has at most as many code points as its UTF-8 bytes. */
        if (!ph_read_i64(h->r, k + (uint64_t)h->L->str_length, &len) || len < 0 ||
            len > (int64_t)wlen)
            continue;
        char buf[1024]; /* names (attributes, __module__) are short; longer never match */
        if (wlen < sizeof(buf) && ph_str_read(h, k, buf, sizeof(buf)) && strcmp(buf, want) == 0)
            return v;
    }
    return 0;
}

bool ph_ob_type(ph_heap *h, uint64_t addr, uint64_t *type)
{
    return ph_read_u64(h->r, addr + ph_off_ob_type(h->L), type);
}

bool ph_ob_size(ph_heap *h, uint64_t addr, int64_t *n)
{
    return ph_read_i64(h->r, addr + ph_off_ob_size(h->L), n);
}

bool ph_float_value(ph_heap *h, uint64_t addr, double *x)
{
    return ph_read(h->r, addr + ph_off_ob_size(h->L), x, sizeof(*x));
}

bool ph_int_digits(ph_heap *h, uint64_t addr, uint64_t *ndigits, bool *negative)
{
    const ph_layout *L = h->L;
    if (L->long_lv_tag != PH_NONE) {
        uint64_t tag;
        if (!ph_read_u64(h->r, addr + (uint64_t)L->long_lv_tag, &tag))
            return false;
        *ndigits = (tag & 3) == 1 ? 0 : tag >> 3; /* sign bits: 0 positive, 1 zero, 2 negative */
        *negative = (tag & 3) == 2;
        return true;
    }
    int64_t n;
    if (!ph_ob_size(h, addr, &n))
        return false;
    *ndigits = ph_abs64(n);
    *negative = n < 0;
    return true;
}

bool ph_int_value(ph_heap *h, uint64_t addr, int64_t *out)
{
    uint64_t ndigits;
    bool neg;
    if (!ph_int_digits(h, addr, &ndigits, &neg) || ndigits > 2)
        return false;
    uint32_t d[2] = {0, 0};
    if (ndigits && !ph_read(h->r, addr + (uint64_t)h->L->long_digits, d, 4 * ndigits))
        return false;
    int64_t v = (int64_t)((uint64_t)(d[0] & 0x3fffffff) | (uint64_t)(d[1] & 0x3fffffff) << 30);
    *out = neg ? -v : v;
    return true;
}

void ph_instance_storage(ph_heap *h, uint64_t obj, const ph_type *t, uint64_t *dict,
                         uint64_t *values)
{
    const ph_layout *L = h->L;
    *dict = *values = 0;
    if (t->shape == SHAPE_MODULE) {
        ph_read_u64(h->r, obj + (uint64_t)L->module_md_dict, dict);
    } else if (L->managed_dict != PH_NONE && (t->flags & TPFLAGS_MANAGED_DICT)) {
        uint64_t slot = 0;
        ph_read_u64(h->r, obj + (uint64_t)(int64_t)L->managed_dict, &slot);
        if (L->managed_values != PH_NONE) { /* 3.11 */
            *dict = slot;
            if (!slot)
                ph_read_u64(h->r, obj + (uint64_t)(int64_t)L->managed_values, values);
        } else if (ph_managed_dict_or_values(L)) { /* 3.12 */
            if (slot & 1)
                *values = slot + 1;
            else
                *dict = slot;
        } else { /* 3.13 */
            *dict = slot;
            if (!slot && (t->flags & TPFLAGS_INLINE_VALUES))
                *values = obj + (uint64_t)t->basicsize;
        }
    } else if (t->dictoffset > 0) {
        ph_read_u64(h->r, obj + (uint64_t)t->dictoffset, dict);
    } else if (t->dictoffset < 0) {
        int64_t n = 0;
        ph_ob_size(h, obj, &n);
        uint64_t size = (uint64_t)t->basicsize + ph_abs64(n) * (uint64_t)t->itemsize;
        size = (size + 7) & ~(uint64_t)7;
        ph_read_u64(h->r, obj + size + (uint64_t)t->dictoffset, dict);
    }
    if (*values && !ph_ptr_ok(*values))
        *values = 0;
}

bool ph_values_iter_init(ph_heap *h, uint64_t type_addr, uint64_t values, ph_dict_iter *it)
{
    const ph_layout *L = h->L;
    memset(it, 0, sizeof(*it));
    uint64_t keys;
    int64_t nentries;
    uint8_t b[3];
    if (L->dk_log2_size == PH_NONE ||
        !ph_read_u64(h->r, type_addr + (uint64_t)L->ht_cached_keys, &keys) || !ph_ptr_ok(keys) ||
        !ph_read_i64(h->r, keys + (uint64_t)L->dk_nentries, &nentries) ||
        !ph_read(h->r, keys + (uint64_t)L->dk_log2_size, &b[0], 1) ||
        !ph_read(h->r, keys + (uint64_t)L->dk_log2_index_bytes, &b[1], 1) ||
        !ph_read(h->r, keys + (uint64_t)L->dk_kind, &b[2], 1) || b[0] > 32 || b[1] > 35 ||
        b[2] > 2 || nentries < 0 || (uint64_t)nentries > UINT64_C(1) << b[0])
        return false;
    if (L->dictvalues_values > 0) {
        /* 3.13: {u8 capacity, size, embedded, valid} before the values */
        uint8_t hdr[4];
        if (!ph_read(h->r, values, hdr, 4))
            return false;
        if (!hdr[3])
            nentries = 0; /* no longer valid: the attributes moved to a dict */
        if (nentries > hdr[0])
            nentries = hdr[0];
    }
    it->keys = keys;
    it->values = values;
    it->split = true;
    it->n = nentries;
    it->entry_size = b[2] == 0 ? 24 : 16;
    it->value_at = it->entry_size - 8;
    it->entries = keys + (uint64_t)L->dk_indices + (UINT64_C(1) << b[1]);
    return true;
}
