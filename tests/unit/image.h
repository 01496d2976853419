/* A builder of synthetic CPython memory images for the unit tests.
 *
 * An image is one arena of zeroed memory that the tests pretend lives at
 * IMG_BASE in a target process.  Objects are laid out at the offsets that
 * ph_layout_get(3, minor) gives, so every test that uses it is driven by the
 * same per-version layout table the walker uses; what the tests add is the
 * CPython semantics (what a compact str, a split dict, a set's small table
 * look like), which are written down here once, with their sources.
 *
 * The arena is exposed to the real reader as one ph_reader_add_buffer
 * segment; a ph_heap is then set up by hand (no _PyRuntime needed) so that
 * the decoding functions of core/src can be called directly.
 *
 * Everything is static inline so that a test file may use any subset. */
#ifndef PH_TEST_IMAGE_H
#define PH_TEST_IMAGE_H

#include "heap/heap.h"
#include "analyses/classify.h"
#include "cpython/layout.h"
#include "cpython/versions.h"
#include "cpython/debug_offsets.h"
#include "probeheap.h"
#include "memory/reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMG_BASE UINT64_C(0x100000000)

/* Type flags (Include/object.h), the ones heap.h does not define. */
#define IMG_TPFLAGS_BASETYPE (UINT64_C(1) << 10)

/* PyUnicode state bits (Include/cpython/unicodeobject.h): interned 0-1,
 * kind 2-4, compact 5, ascii 6; on a free-threaded build interned is a
 * byte and the rest 6 bits higher (layout str_kind_shift 8, not 2). */
#define IMG_STR_KIND(k) ((uint32_t)(k) << 2)
#define IMG_STR_COMPACT (UINT32_C(1) << 5)
#define IMG_STR_ASCII (UINT32_C(1) << 6)

/* dk_kind (3.11+, Objects/dictobject.c): DICT_KEYS_GENERAL 0, UNICODE 1, SPLIT 2. */
#define IMG_DK_GENERAL 0
#define IMG_DK_UNICODE 1
#define IMG_DK_SPLIT 2

typedef struct img {
    int minor;
    const ph_layout *L;
    uint64_t base;
    size_t cap, used;
    unsigned char *mem;
    ph_reader *r;
    /* Static types, as the interpreter's PyXxx_Type objects. */
    uint64_t type_type, object_type, str_type, int_type, tuple_type, list_type, dict_type,
        set_type, frozenset_type;
    uint64_t empty_keys; /* Py_EMPTY_KEYS: the keys of every empty dict */
} img;

static inline void img_die(const char *what, uint64_t addr)
{
    fprintf(stderr, "image.h: %s at 0x%llx\n", what, (unsigned long long)addr);
    abort();
}

static inline unsigned char *img_at(img *im, uint64_t addr, size_t len)
{
    if (addr < im->base || addr - im->base > im->cap || im->cap - (addr - im->base) < len)
        img_die("write outside the arena", addr);
    return im->mem + (addr - im->base);
}

static inline void img_w64(img *im, uint64_t addr, uint64_t v) { memcpy(img_at(im, addr, 8), &v, 8); }
static inline void img_w32(img *im, uint64_t addr, uint32_t v) { memcpy(img_at(im, addr, 4), &v, 4); }
static inline void img_w8(img *im, uint64_t addr, uint8_t v) { *img_at(im, addr, 1) = v; }
static inline uint64_t img_r64(img *im, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, img_at(im, addr, 8), 8);
    return v;
}

/* Writes 8 bytes at base + off, where off is a layout field (PH_NONE is a test bug). */
static inline void img_field(img *im, uint64_t base, int32_t off, uint64_t v)
{
    if (off == PH_NONE)
        img_die("write to a field this version does not have, object", base);
    img_w64(im, base + (uint64_t)(int64_t)off, v);
}

/* Zeroed memory, 16-aligned (pymalloc's alignment). */
static inline uint64_t img_alloc(img *im, size_t size)
{
    size_t at = (im->used + 15) & ~(size_t)15;
    if (at + size > im->cap || at + size < at)
        img_die("arena full", im->base + at);
    im->used = at + size;
    return im->base + at;
}

static inline uint64_t img_cstr(img *im, const char *s)
{
    size_t n = strlen(s) + 1;
    uint64_t a = img_alloc(im, n);
    memcpy(img_at(im, a, n), s, n);
    return a;
}

/* Refcount of objects the tests build: 1; of static objects: immortal on
 * 3.12+ (_Py_IMMORTAL_REFCNT is UINT_MAX on 64-bit builds, Include/object.h). */
static inline uint64_t img_static_refcnt(const img *im)
{
    return im->minor >= 12 ? UINT64_C(0xFFFFFFFF) : 1000;
}

/* The object header of the image's build: ob_refcnt and ob_type, or on a
 * free-threaded build (Include/object.h, Py_GIL_DISABLED) ob_ref_local
 * (UINT32_MAX: immortal) and ob_type at 24, ob_tid and ob_ref_shared 0. */
static inline void img_header(img *im, uint64_t a, uint64_t refcnt, uint64_t type)
{
    const ph_layout *L = im->L;
    if (L->free_threaded == 1) {
        img_w32(im, a + (uint64_t)L->ob_ref_local, refcnt >= UINT32_MAX ? UINT32_MAX : (uint32_t)refcnt);
        img_w64(im, a + ph_off_ob_type(L), type);
        return;
    }
    img_w64(im, a, refcnt);
    img_w64(im, a + 8, type);
}

/* An object of size bytes with ob_refcnt 1 and ob_type, preceded by a
 * PyGC_Head when gc, and by the 3.11+ pre-header (managed dict/values or
 * weakref slots) when pre.  Returns the object's address. */
static inline uint64_t img_object(img *im, uint64_t type, size_t size, bool gc, bool pre)
{
    size_t before = (gc ? (size_t)im->L->gc_head_size : 0) + (pre ? (size_t)im->L->preheader_size : 0);
    uint64_t a = img_alloc(im, before + size) + before;
    img_header(im, a, 1, type);
    return a;
}

/* A static type object (not GC-allocated, like PyLong_Type), immortal on 3.12+. */
static inline uint64_t img_static_type(img *im, const char *name, int64_t basicsize,
                                       int64_t itemsize, uint64_t flags)
{
    const ph_layout *L = im->L;
    uint64_t t = img_alloc(im, (size_t)L->type_sizeof);
    img_header(im, t, img_static_refcnt(im),
               im->type_type ? im->type_type : t); /* PyType_Type is its own type */
    img_field(im, t, L->tp_name, img_cstr(im, name));
    img_field(im, t, L->tp_basicsize, (uint64_t)basicsize);
    img_field(im, t, L->tp_itemsize, (uint64_t)itemsize);
    img_field(im, t, L->tp_flags, flags | TPFLAGS_READY);
    return t;
}

/* ---- str -------------------------------------------------------------------- */

/* A compact ASCII str (PyASCIIObject, data right after it), as
 * PyUnicode_New makes it when maxchar < 128. */
static inline uint64_t img_str(img *im, const char *s)
{
    const ph_layout *L = im->L;
    size_t n = strlen(s);
    uint64_t a = img_object(im, im->str_type, (size_t)L->str_ascii_sizeof + n + 1, false, false);
    img_field(im, a, L->str_length, n);
    img_field(im, a, L->str_hash, UINT64_MAX); /* -1: not computed */
    img_w32(im, a + (uint64_t)L->str_state,
            (IMG_STR_ASCII | IMG_STR_COMPACT | IMG_STR_KIND(1)) >> 2 << L->str_kind_shift);
    memcpy(img_at(im, a + (uint64_t)L->str_ascii_sizeof, n), s, n);
    return a;
}

/* A compact non-ASCII str of kind 1, 2 or 4 (PyCompactUnicodeObject, data
 * after it), from code points. */
static inline uint64_t img_str_kind(img *im, unsigned kind, const uint32_t *cp, size_t n)
{
    const ph_layout *L = im->L;
    uint64_t a = img_object(im, im->str_type, (size_t)L->str_compact_sizeof + (n + 1) * kind,
                            false, false);
    img_field(im, a, L->str_length, n);
    img_field(im, a, L->str_hash, UINT64_MAX);
    img_w32(im, a + (uint64_t)L->str_state,
            (IMG_STR_COMPACT | IMG_STR_KIND(kind)) >> 2 << L->str_kind_shift);
    uint64_t data = a + (uint64_t)L->str_compact_sizeof;
    for (size_t i = 0; i < n; i++) {
        if (kind == 1)
            img_w8(im, data + i, (uint8_t)cp[i]);
        else if (kind == 2)
            memcpy(img_at(im, data + 2 * i, 2), &(uint16_t){(uint16_t)cp[i]}, 2);
        else
            img_w32(im, data + 4 * i, cp[i]);
    }
    return a;
}

/* ---- int -------------------------------------------------------------------- */

/* An int, with 30-bit digits (the default PYLONG_BITS_IN_DIGIT on 64-bit).
 * 3.8-3.11: ob_size holds sign * ndigits; 3.12+: lv_tag = ndigits << 3 |
 * sign (0 positive, 1 zero, 2 negative) (Include/cpython/longintrepr.h).
 * Space for at least one digit is always allocated, as _PyLong_New does. */
static inline uint64_t img_int(img *im, int64_t v)
{
    const ph_layout *L = im->L;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint32_t digits[3];
    size_t nd = 0;
    for (uint64_t m = mag; m; m >>= 30)
        digits[nd++] = (uint32_t)(m & 0x3FFFFFFF);
    uint64_t a = img_object(im, im->int_type, (size_t)L->long_digits + 4 * (nd ? nd : 1), false, false);
    if (L->long_lv_tag != PH_NONE)
        img_field(im, a, L->long_lv_tag, (uint64_t)nd << 3 | (v == 0 ? 1u : v < 0 ? 2u : 0u));
    else
        img_w64(im, a + 16, v < 0 ? 0 - (uint64_t)nd : (uint64_t)nd);
    for (size_t i = 0; i < nd; i++)
        img_w32(im, a + (uint64_t)L->long_digits + 4 * i, digits[i]);
    return a;
}

/* ---- tuple, list ---------------------------------------------------------------- */

static inline uint64_t img_tuple(img *im, size_t n, const uint64_t *items)
{
    const ph_layout *L = im->L;
    uint64_t a = img_object(im, im->tuple_type, (size_t)L->tuple_ob_item + 8 * n, true, false);
    img_w64(im, a + ph_off_ob_size(L), n); /* ob_size */
    for (size_t i = 0; i < n; i++)
        img_w64(im, a + (uint64_t)L->tuple_ob_item + 8 * i, items[i]);
    return a;
}

/* A list of n items in an ob_item array of allocated slots (NULL when 0). */
static inline uint64_t img_list(img *im, size_t n, size_t allocated, const uint64_t *items)
{
    const ph_layout *L = im->L;
    uint64_t a = img_object(im, im->list_type, (size_t)L->list_sizeof, true, false);
    uint64_t arr = allocated ? img_alloc(im, 8 * allocated) : 0;
    img_w64(im, a + ph_off_ob_size(L), n);
    img_field(im, a, L->list_ob_item, arr);
    img_field(im, a, L->list_allocated, allocated);
    for (size_t i = 0; i < n && i < allocated; i++)
        img_w64(im, arr + 8 * i, items[i]);
    return a;
}

/* ---- dict ------------------------------------------------------------------------- */

/* USABLE_FRACTION(n) of Objects/dictobject.c */
static inline uint64_t img_usable(uint64_t n)
{
    return (n << 1) / 3;
}

/* A PyDictKeysObject of 1 << log2_size slots holding n entries.
 *   3.8-3.10: {dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, indices},
 *             entries {hash, key, value}; kind is ignored.
 *   3.11+:    {dk_refcnt, u8 dk_log2_size, u8 dk_log2_index_bytes, u8 dk_kind,
 *             u32 dk_version, dk_usable, dk_nentries, indices}, entries
 *             {hash, key, value} (general) or {key, value} (unicode, split).
 * Indices are 1, 2, 4 or 8 bytes by size (DK_IXSIZE); the entry array has
 * USABLE_FRACTION(size) entries, as new_keys_object allocates.  usable is
 * dk_usable; vals may be NULL (split keys keep no values). */
static inline uint64_t img_keys(img *im, unsigned log2_size, int kind, int64_t refcnt,
                                int64_t usable, size_t n, const uint64_t *keys,
                                const uint64_t *vals)
{
    const ph_layout *L = im->L;
    uint64_t size = UINT64_C(1) << log2_size;
    unsigned ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
    bool old = L->dk_size != PH_NONE;
    unsigned es = old || kind == IMG_DK_GENERAL ? 24 : 16;
    uint64_t nent = img_usable(size);
    uint64_t k = img_alloc(im, (size_t)L->dk_indices + ix * size + es * nent);
    img_field(im, k, L->dk_refcnt, (uint64_t)refcnt);
    if (old) {
        img_field(im, k, L->dk_size, size);
    } else {
        unsigned l2ix = ix == 1 ? 0 : ix == 2 ? 1 : ix == 4 ? 2 : 3;
        img_w8(im, k + (uint64_t)L->dk_log2_size, (uint8_t)log2_size);
        img_w8(im, k + (uint64_t)L->dk_log2_index_bytes, (uint8_t)(log2_size + l2ix));
        img_w8(im, k + (uint64_t)L->dk_kind, (uint8_t)kind);
    }
    img_field(im, k, L->dk_usable, (uint64_t)usable);
    img_field(im, k, L->dk_nentries, n);
    /* indices: slot i -> entry i for the first n slots, DKIX_EMPTY (-1) elsewhere */
    uint64_t idx = k + (uint64_t)L->dk_indices;
    memset(img_at(im, idx, ix * size), 0xff, ix * size);
    for (size_t i = 0; i < n; i++)
        memcpy(img_at(im, idx + ix * i, ix), &(uint64_t){i}, ix);
    uint64_t ent = idx + ix * size;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = ent + es * i;
        if (es == 24) {
            img_w64(im, e, 0x1234567 + i); /* me_hash: any value */
            img_w64(im, e + 8, keys[i]);
            img_w64(im, e + 16, vals ? vals[i] : 0);
        } else {
            img_w64(im, e, keys[i]);
            img_w64(im, e + 8, vals ? vals[i] : 0);
        }
    }
    return k;
}

/* A PyDictObject over keys (and split values, or 0), ma_used entries. */
static inline uint64_t img_dict_obj(img *im, uint64_t keys, uint64_t values, size_t used)
{
    const ph_layout *L = im->L;
    uint64_t d = img_object(im, im->dict_type, (size_t)L->dict_sizeof, true, false);
    img_field(im, d, L->dict_ma_used, used);
    img_field(im, d, L->dict_ma_keys, keys);
    img_field(im, d, L->dict_ma_values, values);
    return d;
}

/* A combined dict of n items in 1 << log2_size slots that owns its keys
 * (dk_refcnt 1); unicode selects unicode entries on 3.11+ (what CPython
 * uses when every key is an exact str). */
static inline uint64_t img_dict(img *im, unsigned log2_size, bool unicode, size_t n,
                                const uint64_t *keys, const uint64_t *vals)
{
    uint64_t k = img_keys(im, log2_size, unicode ? IMG_DK_UNICODE : IMG_DK_GENERAL, 1,
                          (int64_t)(img_usable(UINT64_C(1) << log2_size) - n), n, keys, vals);
    return img_dict_obj(im, k, 0, n);
}

/* The values of a split dict: 3.8-3.10 a bare PyObject *[cap]; 3.11/3.12
 * PyDictValues {values[]} preceded by its insertion-order prefix (the
 * pointer points at values[0]); 3.13 {u8 capacity, size, embedded, valid,
 * values[] at dictvalues_values}.  Returns what ma_values holds. */
static inline uint64_t img_split_values(img *im, size_t cap, size_t n, const uint64_t *vals,
                                        bool embedded)
{
    const ph_layout *L = im->L;
    size_t prefix = im->minor == 11 || im->minor == 12 ? ((cap + 2 + 7) & ~(size_t)7) : 0;
    uint64_t p = img_alloc(im, prefix + (size_t)L->dictvalues_values + 8 * cap) + prefix;
    if (prefix)
        img_w8(im, p - 1, (uint8_t)prefix); /* new_values: the prefix ends with its size */
    if (L->dictvalues_values > 0) {
        img_w8(im, p, (uint8_t)cap);
        img_w8(im, p + 1, (uint8_t)n);
        img_w8(im, p + 2, embedded);
        img_w8(im, p + 3, 1); /* valid */
    }
    for (size_t i = 0; i < n; i++)
        img_w64(im, p + (uint64_t)L->dictvalues_values + 8 * i, vals[i]);
    return p;
}

/* ---- set -------------------------------------------------------------------------- */

/* A set (or frozenset) with keys[i] in table slot slots[i] (slot i when
 * slots is NULL).  mask 7 uses the object's smalltable (PySet_MINSIZE 8);
 * any larger mask gets a table of its own, as set_table_resize does. */
static inline uint64_t img_set_of(img *im, uint64_t type, int64_t mask, size_t n,
                                  const uint64_t *keys, const size_t *slots)
{
    const ph_layout *L = im->L;
    uint64_t s = img_object(im, type, (size_t)L->set_sizeof, true, false);
    uint64_t table = mask == 7 ? s + (uint64_t)L->set_smalltable
                               : img_alloc(im, (size_t)(mask + 1) * (size_t)L->setentry_sizeof);
    img_field(im, s, L->set_fill, n);
    img_field(im, s, L->set_used, n);
    img_field(im, s, L->set_mask, (uint64_t)mask);
    img_field(im, s, L->set_table, table);
    for (size_t i = 0; i < n; i++) {
        uint64_t e = table + (slots ? slots[i] : i) * (uint64_t)L->setentry_sizeof;
        img_w64(im, e, keys[i]);
        img_w64(im, e + 8, 0x5151 + i); /* hash: any value */
    }
    return s;
}

static inline uint64_t img_set(img *im, int64_t mask, size_t n, const uint64_t *keys)
{
    return img_set_of(im, im->set_type, mask, n, keys, NULL);
}

/* ---- heap types --------------------------------------------------------------------- */

/* A heap type (class statement) named module.qualname with base `base`:
 * a GC-allocated PyHeapTypeObject, ht_name and ht_qualname the same str,
 * tp_dict {'__module__': module}, tp_bases (base,), tp_mro (self, base)
 * (base must be `object` for that MRO to be right).  ht_cached_keys is
 * given (0 for none). */
static inline uint64_t img_heap_type(img *im, const char *module, const char *qualname,
                                     uint64_t base, int64_t basicsize, int64_t dictoffset,
                                     int64_t weaklistoffset, uint64_t flags, uint64_t cached_keys)
{
    const ph_layout *L = im->L;
    uint64_t t = img_object(im, im->type_type, (size_t)L->heaptype_sizeof, true, false);
    uint64_t name = img_str(im, qualname);
    img_field(im, t, L->tp_name, img_cstr(im, qualname));
    img_field(im, t, L->tp_basicsize, (uint64_t)basicsize);
    img_field(im, t, L->tp_flags, flags | TPFLAGS_HEAPTYPE | TPFLAGS_READY);
    img_field(im, t, L->tp_dictoffset, (uint64_t)dictoffset);
    img_field(im, t, L->tp_weaklistoffset, (uint64_t)weaklistoffset);
    img_field(im, t, L->tp_base, base);
    uint64_t k = img_str(im, "__module__"), v = img_str(im, module);
    img_field(im, t, L->tp_dict, img_dict(im, 3, true, 1, &k, &v));
    img_field(im, t, L->tp_bases, img_tuple(im, 1, &base));
    img_field(im, t, L->tp_mro, img_tuple(im, 2, (uint64_t[]){t, base}));
    img_field(im, t, L->ht_name, name);
    img_field(im, t, L->ht_qualname, name);
    img_field(im, t, L->ht_cached_keys, cached_keys);
    return t;
}

/* ---- the image ------------------------------------------------------------------------ */

/* Images and heaps still alive, so that a test that fails half-way (cmocka
 * longjmps out of it) does not leak them: img_cleanup, run as a teardown,
 * frees what is left.  An image is remembered by what it owns (its arena and
 * reader), since the img itself usually lives in the dead test's frame. */
#define IMG_MAX_LIVE 16
static struct {
    unsigned char *mem;
    ph_reader *r;
} img_live[IMG_MAX_LIVE];
static ph_heap *img_live_heaps[IMG_MAX_LIVE];

static inline void img_forget(unsigned char *mem)
{
    for (int i = 0; i < IMG_MAX_LIVE; i++)
        if (img_live[i].mem == mem)
            img_live[i].mem = NULL, img_live[i].r = NULL;
}

static inline void img_heap_forget(ph_heap *h)
{
    for (int i = 0; i < IMG_MAX_LIVE; i++)
        if (img_live_heaps[i] == h)
            img_live_heaps[i] = NULL;
}

/* ph_heap_free, forgetting the heap (for heaps from img_heap or ph_heap_build). */
static inline void img_heap_free(ph_heap *h)
{
    if (h)
        img_heap_forget(h);
    ph_heap_free(h);
}

static inline void img_heap_track(ph_heap *h)
{
    for (int i = 0; i < IMG_MAX_LIVE; i++)
        if (!img_live_heaps[i]) {
            img_live_heaps[i] = h;
            return;
        }
    img_die("too many live heaps", 0);
}

/* A cmocka teardown: frees the heaps, then the images, a test left behind. */
static inline int img_cleanup(void **state)
{
    for (int i = 0; i < IMG_MAX_LIVE; i++)
        if (img_live_heaps[i])
            img_heap_free(img_live_heaps[i]);
    for (int i = 0; i < IMG_MAX_LIVE; i++)
        if (img_live[i].mem) {
            ph_reader_free(img_live[i].r);
            free(img_live[i].mem);
            img_live[i].mem = NULL;
            img_live[i].r = NULL;
        }
    return 0;
}

/* A new image for CPython 3.minor of cap bytes, with the builtin types and
 * the shared empty dict keys, exposed through a new reader (im->r). */
static inline void img_init_full(img *im, int minor, const ph_layout *layout, size_t cap, size_t skip);

static inline void img_init(img *im, int minor, size_t cap)
{
    img_init_full(im, minor, ph_layout_table(minor), cap, 0);
}

/* An image laid out by L (which must outlive it): a release whose layout
 * differs from its minor's table (3.14.0-3.14.6, a "3.16"). */
static inline void img_init_layout(img *im, int minor, const ph_layout *layout, size_t cap)
{
    img_init_full(im, minor, layout, cap, 0);
}

/* An image of a free-threaded build (its own table) or not; skip: bytes
 * kept free at the start (ft_world.h lays mimalloc's segment there). */
static inline void img_init_build(img *im, int minor, size_t cap, bool free_threaded, size_t skip)
{
    img_init_full(im, minor, ph_layout_get_build(3, minor, free_threaded), cap, skip);
}

static inline void img_init_full(img *im, int minor, const ph_layout *layout, size_t cap, size_t skip)
{
    memset(im, 0, sizeof(*im));
    im->minor = minor;
    im->L = layout;
    if (!im->L)
        img_die("no layout for this version", (uint64_t)minor);
    im->base = IMG_BASE;
    im->cap = cap;
    im->mem = calloc(1, cap);
    if (!im->mem)
        img_die("out of memory", 0);
    im->used = skip > 64 ? skip : 64; /* keep IMG_BASE itself unused */
    const ph_layout *L = im->L;
    /* tp_basicsize/tp_itemsize/tp_flags of the builtin types, as type.__basicsize__,
     * __itemsize__, __flags__ show them (checked on 3.8.18 ... 3.13.0):
     *   type:  sizeof(PyHeapTypeObject), sizeof(PyMemberDef); tp_dictoffset =
     *          offsetof(PyTypeObject, tp_dict); GC, TYPE_SUBCLASS
     *   object 16; str sizeof(PyUnicodeObject); int offsetof(PyLongObject, ob_digit), 4;
     *   tuple sizeof(PyTupleObject) - 8, 8 (GC); list sizeof(PyListObject) (GC);
     *   dict sizeof(PyDictObject) (GC); set, frozenset sizeof(PySetObject) (GC). */
    im->type_type = img_static_type(im, "type", L->heaptype_sizeof, L->memberdef_sizeof,
                                    TPFLAGS_HAVE_GC | TPFLAGS_TYPE_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    img_field(im, im->type_type, L->tp_dictoffset, (uint64_t)L->tp_dict);
    im->object_type = img_static_type(im, "object", 16, 0, IMG_TPFLAGS_BASETYPE);
    im->str_type = img_static_type(im, "str", L->str_unicode_sizeof, 0,
                                   TPFLAGS_UNICODE_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    im->int_type = img_static_type(im, "int", L->long_digits, 4,
                                   TPFLAGS_LONG_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    im->tuple_type = img_static_type(im, "tuple", L->tuple_ob_item, 8,
                                     TPFLAGS_HAVE_GC | TPFLAGS_TUPLE_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    im->list_type = img_static_type(im, "list", L->list_sizeof, 0,
                                    TPFLAGS_HAVE_GC | TPFLAGS_LIST_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    im->dict_type = img_static_type(im, "dict", L->dict_sizeof, 0,
                                    TPFLAGS_HAVE_GC | TPFLAGS_DICT_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    im->set_type = img_static_type(im, "set", L->set_sizeof, 0, TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    im->frozenset_type = img_static_type(im, "frozenset", L->set_sizeof, 0,
                                         TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    /* Py_EMPTY_KEYS: 3.8-3.10 dk_size 1, 3.11+ log2_size 0, DICT_KEYS_UNICODE;
     * dk_usable 0, dk_nentries 0; shared by every empty dict, so its refcount
     * is never 1 (28 on a fresh 3.8.18, immortal on 3.12+). */
    im->empty_keys = img_keys(im, 0, IMG_DK_UNICODE, (int64_t)img_static_refcnt(im), 0, 0, NULL, NULL);
    if (ph_reader_new(&im->r) || ph_reader_add_buffer(im->r, im->base, im->cap, im->mem))
        img_die("cannot make the reader", im->base);
    for (int i = 0;; i++) {
        if (i == IMG_MAX_LIVE)
            img_die("too many live images", 0);
        if (!img_live[i].mem) {
            img_live[i].mem = im->mem;
            img_live[i].r = im->r;
            break;
        }
    }
}

static inline void img_free(img *im)
{
    img_forget(im->mem);
    ph_reader_free(im->r);
    free(im->mem);
    memset(im, 0, sizeof(*im));
}

/* A ph_heap set up by hand over the image, as ph_heap_build would before
 * walking: reader, layout, PyType_Type's address, an empty index. */
static inline ph_heap *img_heap(img *im)
{
    ph_heap *h = calloc(1, sizeof(*h));
    if (!h)
        img_die("out of memory", 0);
    h->r = im->r;
    h->L = im->L;
    h->syms.type_type = im->type_type;
    h->layout_source = "table";
    if (ph_index_init(&h->idx, h->r, h->L))
        img_die("ph_index_init failed", 0);
    img_heap_track(h);
    return h;
}

/* Adds the object at addr to the heap's index (after ph_object_check, as
 * the walker does); PH_NO_OBJ when the check rejects it. */
static inline uint32_t img_index(ph_heap *h, uint64_t addr)
{
    uint32_t id = ph_index_find(&h->idx, addr);
    if (id != PH_NO_OBJ)
        return id;
    uint32_t type = ph_object_check(h, addr);
    if (type == UINT32_MAX)
        return PH_NO_OBJ;
    bool added;
    if (ph_index_add(&h->idx, addr, type, &id, &added))
        img_die("ph_index_add failed", addr);
    return id;
}

/* The flat size the walker would record for the object at addr. */
static inline uint64_t img_flat_size(ph_heap *h, uint64_t addr)
{
    uint32_t t = ph_object_check(h, addr);
    if (t == UINT32_MAX)
        img_die("not an object", addr);
    return ph_flat_size(h, addr, &h->types[t]);
}

/* ---- visitors ---------------------------------------------------------------------------- */

/* Records every reference visited, in order. */
typedef struct img_refs {
    size_t n;
    uint64_t ref[256];
} img_refs;

static inline uint32_t img_record(ph_heap *h, const ph_ref *ref, void *payload)
{
    img_refs *rs = payload;
    if (rs->n < sizeof(rs->ref) / sizeof(rs->ref[0]))
        rs->ref[rs->n] = ref->addr;
    rs->n++;
    return PH_NO_OBJ;
}

/* Records, and adds each valid referent to the index as the walker's
 * add_object does (returning its id, so that owners get set). */
static inline uint32_t img_record_add(ph_heap *h, const ph_ref *ref, void *payload)
{
    img_record(h, ref, payload);
    return img_index(h, ref->addr);
}



/* A _PyRuntime and one interpreter, as big as the layout says they are, the
 * runtime pointing at the interpreter, and the GC lists (every generation
 * and the permanent one) empty.  *gc is the struct _gc_runtime_state: in the
 * runtime on 3.8, in the interpreter after. */
static inline void img_runtime(img *im, uint64_t *runtime, uint64_t *interp, uint64_t *gc)
{
    const ph_layout *L = im->L;
#define IMG_MAX(a, b) ((uint64_t)(a) > (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))
    uint64_t gc_span = IMG_MAX(IMG_MAX(L->gc_generations + L->gc_num_generations * L->gc_generation_size,
                                       L->gc_permanent_generation + L->gc_generation_size),
                               L->gc_collecting + 8);
    uint64_t rt_size = IMG_MAX(64, L->runtime_interpreters_head + 8);
    if (L->runtime_gc != PH_NONE)
        rt_size = IMG_MAX(rt_size, L->runtime_gc + (int64_t)gc_span);
    uint64_t in_size = 64;
    const int32_t fields[] = {L->interp_next, L->interp_threads_head, L->interp_modules,
                              L->interp_sysdict, L->interp_builtins, L->interp_dict};
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        in_size = IMG_MAX(in_size, fields[k] + 8);
    if (L->interp_gc != PH_NONE)
        in_size = IMG_MAX(in_size, L->interp_gc + (int64_t)gc_span);
    if (L->interp_types_builtins != PH_NONE)
        in_size = IMG_MAX(in_size, L->interp_types_builtins + L->static_builtin_max * L->static_builtin_state_size);
    if (L->interp_types_for_extensions != PH_NONE)
        in_size = IMG_MAX(in_size, L->interp_types_for_extensions +
                                       L->static_extension_max * L->static_builtin_state_size);
    if (L->interp_interned != PH_NONE)
        in_size = IMG_MAX(in_size, L->interp_interned + 8);
#undef IMG_MAX
    *runtime = img_alloc(im, (size_t)rt_size);
    *interp = img_alloc(im, (size_t)in_size);
    img_field(im, *runtime, L->runtime_interpreters_head, *interp);
    *gc = L->runtime_gc != PH_NONE ? *runtime + (uint64_t)L->runtime_gc
                                   : *interp + (uint64_t)L->interp_gc;
    for (int g = 0; g < L->gc_num_generations; g++) {
        uint64_t head = *gc + (uint64_t)L->gc_generations + (uint64_t)(g * L->gc_generation_size);
        img_w64(im, head, head);
        img_w64(im, head + 8, head);
    }
    uint64_t perm = *gc + (uint64_t)L->gc_permanent_generation;
    img_w64(im, perm, perm);
    img_w64(im, perm + 8, perm);
}

/* _Py_DebugOffsets at the start of the runtime, as release `hex` writes them with
 * the layout of 3.do_minor's struct: cookie, version, free_threaded 0, every field
 * probe-heap takes from them with im->L's value, each section's size as
 * large as its fields need, and the interpreter's and GC state's sizes given. */
static inline void img_debug_offsets(img *im, uint64_t runtime, int do_minor, uint64_t hex,
                                     uint64_t interp_size, uint64_t gc_size)
{
    memcpy(img_at(im, runtime, 8), "xdebugpy", 8);
    img_w64(im, runtime + 8, hex);
    img_w64(im, runtime + 16, 0);
    uint32_t at, sect;
    size_t field;
    for (size_t i = 0; ph_debug_offsets_field_at(do_minor, i, &at, &sect, &field); i++) {
        int32_t v;
        memcpy(&v, (const char *)im->L + field, 4);
        img_w64(im, runtime + at, (uint64_t)(int64_t)v);
    }
    for (size_t i = 0; ph_debug_offsets_field_at(do_minor, i, &at, &sect, &field); i++) {
        int32_t v;
        memcpy(&v, (const char *)im->L + field, 4);
        if (sect && sect != at && img_r64(im, runtime + sect) < (uint64_t)(int64_t)v + 8)
            img_w64(im, runtime + sect, (uint64_t)(int64_t)v + 8);
    }
    img_w64(im, runtime + ph_debug_offsets_section_at(do_minor, "interp"), interp_size);
    img_w64(im, runtime + ph_debug_offsets_section_at(do_minor, "gc"), gc_size);
}

#endif
