/* Flat sizes: exactly what sys.getsizeof returns in the target's version,
 * i.e. the type's __sizeof__ plus the GC header and pre-header. */
#include "cpython/module_state.h"
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/ctypes.h"

static int64_t read_i64(ph_heap *h, uint64_t addr)
{
    int64_t v = 0;
    ph_read_i64(h->r, addr, &v);
    return v;
}

static uint64_t read_u64(ph_heap *h, uint64_t addr)
{
    uint64_t v = 0;
    ph_read_u64(h->r, addr, &v);
    return v;
}

static uint64_t usable_fraction(uint64_t n)
{
    return (n << 1) / 3;
}

/* _PyDict_KeysSize */
static uint64_t keys_size(ph_heap *h, uint64_t keys)
{
    const ph_layout *L = h->L;
    if (L->dk_size != PH_NONE) {
        uint64_t size = read_u64(h, keys + (uint64_t)L->dk_size);
        if (size > MAX_CONTAINER_LEN)
            return 0;
        unsigned ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
        return (uint64_t)L->dk_indices + ix * size + usable_fraction(size) * 24;
    }
    uint8_t b[3] = {0, 0, 0};
    ph_read(h->r, keys + (uint64_t)L->dk_log2_size, &b[0], 1);
    ph_read(h->r, keys + (uint64_t)L->dk_log2_index_bytes, &b[1], 1);
    ph_read(h->r, keys + (uint64_t)L->dk_kind, &b[2], 1);
    if (b[0] > 32 || b[1] > 35)
        return 0;
    return (uint64_t)L->dk_indices + (UINT64_C(1) << b[1]) +
           usable_fraction(UINT64_C(1) << b[0]) * (b[2] == 0 ? 24 : 16);
}

static uint64_t dict_sizeof(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t res = (uint64_t)t->basicsize;
    uint64_t keys = read_u64(h, addr + (uint64_t)L->dict_ma_keys);
    uint64_t values = read_u64(h, addr + (uint64_t)L->dict_ma_values);
    if (!ph_ptr_ok(keys))
        return res;
    if (values) {
        if (L->dk_size != PH_NONE) {
            uint64_t size = read_u64(h, keys + (uint64_t)L->dk_size);
            if (size < MAX_CONTAINER_LEN)
                res += usable_fraction(size) * 8;
        } else {
            /* shared_keys_usable_size; on 3.13 also for values embedded in
             * the object, which the object's own size leaves out.  Each is
             * checked before they are added (they come from the target). */
            int64_t ne = read_i64(h, keys + (uint64_t)L->dk_nentries);
            int64_t us = read_i64(h, keys + (uint64_t)L->dk_usable);
            if (ne >= 0 && us >= 0 && (uint64_t)ne < MAX_CONTAINER_LEN &&
                (uint64_t)us < MAX_CONTAINER_LEN)
                res += ((uint64_t)ne + (uint64_t)us) * 8;
        }
    }
    int64_t refcnt = read_i64(h, keys + (uint64_t)L->dk_refcnt);
    if (refcnt == 1)
        res += keys_size(h, keys);
    return res;
}

static uint64_t str_sizeof(ph_heap *h, uint64_t addr)
{
    const ph_layout *L = h->L;
    int64_t length = read_i64(h, addr + (uint64_t)L->str_length);
    uint32_t state = 0;
    ph_read_u32(h->r, addr + (uint64_t)L->str_state, &state);
    if (length < 0 || (uint64_t)length > MAX_STR_LEN)
        return (uint64_t)L->str_ascii_sizeof;
    uint64_t kind = (state >> L->str_kind_shift) & 7, len = (uint64_t)length;
    bool compact = state & (1u << (L->str_kind_shift + 3)),
         ascii = state & (1u << (L->str_kind_shift + 4));
    uint64_t size, data;
    if (compact && ascii) {
        size = (uint64_t)L->str_ascii_sizeof + len + 1;
        data = addr + (uint64_t)L->str_ascii_sizeof;
    } else if (compact) {
        size = (uint64_t)L->str_compact_sizeof + (len + 1) * kind;
        data = addr + (uint64_t)L->str_compact_sizeof;
    } else {
        size = (uint64_t)L->str_unicode_sizeof;
        data = read_u64(h, addr + (uint64_t)L->str_data);
        if (data)
            size += (len + 1) * kind;
    }
    if (L->str_wstr != PH_NONE) {
        uint64_t wstr = read_u64(h, addr + (uint64_t)L->str_wstr);
        if (wstr && wstr != data) {
            uint64_t wlen = compact && ascii ? len : read_u64(h, addr + (uint64_t)L->str_wstr_length);
            if (wlen < MAX_STR_LEN)
                size += (wlen + 1) * 4;
        }
    }
    if (!(compact && ascii)) {
        uint64_t utf8 = read_u64(h, addr + (uint64_t)L->str_utf8);
        if (utf8 && utf8 != data) {
            uint64_t ulen = read_u64(h, addr + (uint64_t)L->str_utf8_length);
            if (ulen < MAX_STR_LEN)
                size += ulen + 1;
        }
    }
    return size;
}

static uint64_t int_sizeof(ph_heap *h, uint64_t addr)
{
    const ph_layout *L = h->L;
    uint64_t ndigits;
    if (L->long_lv_tag != PH_NONE) {
        ndigits = read_u64(h, addr + (uint64_t)L->long_lv_tag) >> 3;
    } else {
        ndigits = ph_abs64(read_i64(h, addr + ph_off_ob_size(h->L)));
    }
    if (ndigits > MAX_CONTAINER_LEN)
        ndigits = 0;
    if (L->minor >= 11 && ndigits == 0)
        ndigits = 1;
    return (uint64_t)L->long_digits + 4 * ndigits;
}

static uint64_t code_extra(ph_heap *h, uint64_t addr)
{
    const ph_layout *L = h->L;
    uint64_t extra = read_u64(h, addr + (uint64_t)L->code_extra);
    if (!ph_ptr_ok(extra))
        return 0;
    int64_t n = read_i64(h, extra + (uint64_t)L->code_co_extra_ce_size);
    if (n < 1 || n > 4096)
        return 0;
    return (uint64_t)L->code_co_extra_ce_extras + 8 * (uint64_t)n;
}

static uint64_t code_sizeof(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t res;
    if (L->code_code_adaptive != PH_NONE) {
        int64_t n = read_i64(h, addr + ph_off_ob_size(h->L));
        if (n < 0 || n > (1 << 26))
            n = 0;
        res = ((uint64_t)t->basicsize + (uint64_t)n * (uint64_t)t->itemsize + 7) & ~(uint64_t)7;
    } else {
        res = (uint64_t)t->basicsize;
        uint64_t cell2arg = read_u64(h, addr + (uint64_t)L->code_cell2arg);
        uint64_t cellvars = read_u64(h, addr + (uint64_t)L->code_cellvars);
        if (cell2arg && ph_ptr_ok(cellvars)) {
            int64_t n = read_i64(h, cellvars + ph_off_ob_size(h->L));
            if (n > 0 && n < (1 << 20))
                res += (uint64_t)n * 8;
        }
        res += ph_code_opcache_bytes(h, addr); /* 3.8-3.10, once a function ran often */
    }
    return res + code_extra(h, addr);
}

/* 3.11+: the bytes of a _PyInterpreterFrame's slots, nlocalsplus + stacksize
 * of its code, as frame_sizeof and gen_sizeof count them. */
static uint64_t iframe_slots_size(ph_heap *h, uint64_t f)
{
    const ph_layout *L = h->L;
    uint64_t code = ph_stackref_obj(L, read_u64(h, f + (uint64_t)L->iframe_code));
    int32_t nlocalsplus = 0, stacksize = 0;
    if (!ph_ptr_ok(code) || !ph_read(h->r, code + (uint64_t)L->code_nlocalsplus, &nlocalsplus, 4) ||
        !ph_read(h->r, code + (uint64_t)L->code_stacksize, &stacksize, 4))
        return 0;
    int64_t slots = (int64_t)nlocalsplus + stacksize;
    return slots > 0 && slots < (1 << 24) ? (uint64_t)slots * 8 : 0;
}

static uint64_t sizeof_of(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    switch (t->shape) {
    case SHAPE_STR:
        return str_sizeof(h, addr);
    case SHAPE_INT:
        return int_sizeof(h, addr);
    case SHAPE_BYTEARRAY: {
        uint64_t alloc = read_u64(h, addr + (uint64_t)L->bytearray_alloc);
        return (uint64_t)t->basicsize + (alloc < MAX_CONTAINER_LEN ? alloc : 0);
    }
    case SHAPE_LIST: {
        int64_t alloc = read_i64(h, addr + (uint64_t)L->list_allocated);
        return (uint64_t)t->basicsize + (alloc > 0 && (uint64_t)alloc < MAX_CONTAINER_LEN ? (uint64_t)alloc * 8 : 0);
    }
    case SHAPE_SET: {
        uint64_t table = read_u64(h, addr + (uint64_t)L->set_table);
        int64_t mask = read_i64(h, addr + (uint64_t)L->set_mask);
        uint64_t res = (uint64_t)t->basicsize;
        if (table != addr + (uint64_t)L->set_smalltable && mask >= 0 && (uint64_t)mask < MAX_CONTAINER_LEN)
            res += ((uint64_t)mask + 1) * (uint64_t)L->setentry_sizeof;
        return res;
    }
    case SHAPE_DICT: {
        uint64_t res = dict_sizeof(h, addr, t);
        if (t->odict) {
            /* odict_sizeof: the fast-nodes table, and a node per key */
            int64_t fast = read_i64(h, addr + (uint64_t)L->odict_fast_nodes_size);
            int64_t used = read_i64(h, addr + (uint64_t)L->dict_ma_used);
            if (fast > 0 && (uint64_t)fast < MAX_CONTAINER_LEN)
                res += (uint64_t)fast * 8;
            if (read_u64(h, addr + (uint64_t)L->odict_first) && used > 0 &&
                (uint64_t)used < MAX_CONTAINER_LEN)
                res += (uint64_t)used * (uint64_t)L->odictnode_sizeof;
        }
        return res;
    }
    case SHAPE_TYPE: {
        uint64_t flags = read_u64(h, addr + (uint64_t)L->tp_flags);
        if (!(flags & TPFLAGS_HEAPTYPE))
            return (uint64_t)L->type_sizeof;
        uint64_t res = (uint64_t)L->heaptype_sizeof;
        uint64_t keys = read_u64(h, addr + (uint64_t)L->ht_cached_keys);
        if (ph_ptr_ok(keys))
            res += keys_size(h, keys);
        return res;
    }
    case SHAPE_CODE:
        return code_sizeof(h, addr, t);
    case SHAPE_GEN: {
        /* gen_sizeof: the header and the embedded frame's slots */
        return (uint64_t)t->basicsize + iframe_slots_size(h, ph_gen_iframe(L, addr, t));
    }
    case SHAPE_FRAME:
        if (L->frame_frame == PH_NONE) {
            /* frame_sizeof: sizeof(PyFrameObject) + (extras - 1) pointers, extras
             * from the code object (a frame from the free list may be bigger). */
            uint64_t code = read_u64(h, addr + (uint64_t)L->frame_code);
            if (!ph_ptr_ok(code))
                return (uint64_t)t->basicsize;
            int32_t stacksize = 0, nlocals = 0;
            ph_read(h->r, code + (uint64_t)L->code_stacksize, &stacksize, 4);
            ph_read(h->r, code + (uint64_t)L->code_nlocals, &nlocals, 4);
            int64_t extras = (int64_t)stacksize + nlocals +
                             read_i64(h, read_u64(h, code + (uint64_t)L->code_cellvars) + ph_off_ob_size(L)) +
                             read_i64(h, read_u64(h, code + (uint64_t)L->code_freevars) + ph_off_ob_size(L));
            if (extras < 0 || extras >= (1 << 24))
                return (uint64_t)t->basicsize;
            return (uint64_t)((int64_t)t->basicsize + (extras - 1) * 8);
        } else {
            /* 3.11+ frame_sizeof: the header and the frame data's slots */
            uint64_t f = read_u64(h, addr + (uint64_t)L->frame_frame);
            return (uint64_t)t->basicsize + (ph_ptr_ok(f) ? iframe_slots_size(h, f) : 0);
        }
    default: {
        uint64_t res = (uint64_t)t->basicsize;
        if (t->ctype && t->ctype->size && t->ctype->size(h, ph_default_header_view(h->L, addr), t, &res))
            return res; /* a C type known exactly (ctypes.h) */
        res = (uint64_t)t->basicsize;
        if (t->itemsize) {
            uint64_t n = ph_abs64(read_i64(h, addr + ph_off_ob_size(h->L)));
            if (n < MAX_CONTAINER_LEN)
                res += n * (uint64_t)t->itemsize;
        }
        return res;
    }
    }
}

uint64_t ph_flat_size(ph_heap *h, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t size;
    if (!t->ndarray || !ph_ndarray_sizeof(h, addr, t, &size))
        size = sizeof_of(h, addr, t);
    if (L->preheader_size == 0) {
        /* 3.8-3.10: a GC header when _PyObject_IS_GC: static types are not. */
        bool gc = t->gc;
        if (gc && t->is_type_type) /* type_is_gc: only heap types */
            gc = read_u64(h, addr + (uint64_t)L->tp_flags) & TPFLAGS_HEAPTYPE;
        return size + (gc ? (uint64_t)L->gc_head_size : 0);
    }
    /* 3.11+: _PyType_PreHeaderSize(Py_TYPE(o)); 3.13 exempts static type objects. */
    if (L->minor >= 13 && t->addr == h->syms.type_type &&
        !(read_u64(h, addr + (uint64_t)L->tp_flags) & TPFLAGS_HEAPTYPE))
        return size; /* 3.13: Py_IS_TYPE(o, &PyType_Type) and static: no pre-header */
    uint64_t pre = t->gc ? (uint64_t)L->gc_head_size : 0;
    uint64_t managed = TPFLAGS_MANAGED_DICT | (L->managed_weakref != PH_NONE ? TPFLAGS_MANAGED_WEAKREF : 0);
    if (t->flags & managed)
        pre += (uint64_t)L->preheader_size;
    return size + pre;
}
