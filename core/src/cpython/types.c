/* Type objects: validated once, described once (name, shape, slots, whether
 * their flat size is exact), then found by address in a map (base/table.h). */
#include "base/error.h"
#include "base/table.h"
#include "base/vec.h"
#include "heap/heap.h"
#include "cpython/ctypes_registry.h"
#include "cpython/stackref.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TYPES (1u << 22)
#define MAX_MRO 64

const char *ph_heap_strdup(ph_heap *h, const char *s)
{
    size_t n = strlen(s) + 1;
    if (h->strpool_len + n > h->strpool_cap) {
        size_t cap = n > 65536 ? n : 65536;
        if (!PH_VEC_RESERVE(h->strblocks, h->capstrblocks, h->nstrblocks + 1, 16))
            return "?";
        char *block = malloc(cap);
        if (!block)
            return "?";
        h->strblocks[h->nstrblocks++] = block;
        h->strpool = block;
        h->strpool_len = 0;
        h->strpool_cap = cap;
    }
    char *p = h->strpool + h->strpool_len;
    memcpy(p, s, n);
    h->strpool_len += n;
    return p;
}

void ph_types_free(ph_heap *h)
{
    for (size_t i = 0; i < h->ntypes; i++) {
        free(h->types[i].slots);
        free(h->types[i].slot_names);
    }
    free(h->types);
    ph_map64_free(&h->type_map);
    for (size_t i = 0; i < h->nstrblocks; i++)
        free(h->strblocks[i]);
    free(h->strblocks);
}

static const struct {
    const char *name;
    ph_shape shape;
} builtin_shapes[] = {
    {"object", SHAPE_OBJECT},  {"str", SHAPE_STR},        {"int", SHAPE_INT},
    {"bool", SHAPE_INT},       {"bytes", SHAPE_BYTES},    {"bytearray", SHAPE_BYTEARRAY},
    {"tuple", SHAPE_TUPLE},    {"list", SHAPE_LIST},      {"dict", SHAPE_DICT},
    {"frozendict", SHAPE_DICT},
    {"set", SHAPE_SET},        {"frozenset", SHAPE_SET},  {"type", SHAPE_TYPE},
    {"module", SHAPE_MODULE},  {"code", SHAPE_CODE},      {"frame", SHAPE_FRAME},
    {"cell", SHAPE_CELL},      {"method", SHAPE_METHOD},  {"function", SHAPE_FUNCTION},
    {"float", SHAPE_LEAF},     {"complex", SHAPE_LEAF},   {"NoneType", SHAPE_LEAF},
    {"ellipsis", SHAPE_LEAF},  {"NotImplementedType", SHAPE_LEAF},
    {"weakref", SHAPE_WEAKREF},           {"weakref.ReferenceType", SHAPE_WEAKREF},
    {"weakproxy", SHAPE_WEAKREF},         {"weakref.ProxyType", SHAPE_WEAKREF},
    {"weakcallableproxy", SHAPE_WEAKREF}, {"weakref.CallableProxyType", SHAPE_WEAKREF},
};

/* C types whose instances hold no strong reference, whose words a
 * conservative scan would read anyway: a lock's struct ends in a char
 * (`locked`) whose padding keeps whatever the allocator's block held, now
 * and then a stale pointer to an object (which would then seem referred to
 * by the lock: partition --by rcs, backrefs).  They are everywhere (every
 * Thread, Event, Condition has some). */
static bool holds_no_references(const char *name)
{
    /* PyCapsule: its pointer is a C struct (the _datetime and _socket C
     * APIs), never an object; decimal.Decimal: its inline digits are
     * numbers. */
    return strcmp(name, "_thread.lock") == 0 || strcmp(name, "_thread.RLock") == 0 ||
           strcmp(name, "PyCapsule") == 0 || strcmp(name, "decimal.Decimal") == 0;
}

static ph_shape shape_of_static(const ph_heap *h, const char *name)
{
    if (holds_no_references(name))
        return SHAPE_LEAF;
    for (size_t i = 0; i < sizeof(builtin_shapes) / sizeof(builtin_shapes[0]); i++)
        if (strcmp(builtin_shapes[i].name, name) == 0)
            return builtin_shapes[i].shape;
    /* 3.11+ generators embed their frame; before, they point to a frame object. */
    if (h->L->iframe_code != PH_NONE &&
        (strcmp(name, "generator") == 0 || strcmp(name, "coroutine") == 0 ||
         strcmp(name, "async_generator") == 0))
        return SHAPE_GEN;
    return SHAPE_OTHER;
}

/* The raw fields of a type object we need, read in one go. */
typedef struct raw_type {
    uint64_t ob_type, tp_name, flags, base, dict, mro;
    int64_t basicsize, itemsize, dictoffset, weaklistoffset;
} raw_type;

static bool read_raw_type(ph_heap *h, uint64_t addr, raw_type *t)
{
    const ph_layout *L = h->L;
    unsigned char buf[1024];
    size_t n = (size_t)L->type_sizeof;
    if (n > sizeof(buf) || !ph_read(h->r, addr, buf, n))
        return false;
#define F(off, dst) memcpy(&(dst), buf + (off), 8)
    F((size_t)ph_off_ob_type(L), t->ob_type);
    F(L->tp_name, t->tp_name);
    F(L->tp_flags, t->flags);
    F(L->tp_base, t->base);
    F(L->tp_dict, t->dict);
    F(L->tp_mro, t->mro);
    F(L->tp_basicsize, t->basicsize);
    F(L->tp_itemsize, t->itemsize);
    F(L->tp_dictoffset, t->dictoffset);
    F(L->tp_weaklistoffset, t->weaklistoffset);
#undef F
    return true;
}

static bool plausible(const raw_type *t)
{
    return (t->flags & TPFLAGS_READY) && t->basicsize >= 16 && t->basicsize < (1 << 24) &&
           t->itemsize >= 0 && t->itemsize < (1 << 16) && ph_ptr_ok(t->ob_type) &&
           t->tp_name >= 0x1000 && t->tp_name < (UINT64_C(1) << 47);
}

/* A static type that was never made ready (3.8's functools._lru_list_elem,
 * whose instances live in lru_cache's dict): no READY flag, no dict, no mro,
 * but its type is PyType_Type itself and its flags are C's initializer,
 * Py_TPFLAGS_DEFAULT (HAVE_VERSION_TAG) and no heap type. */
static bool unreadied_static(ph_heap *h, const raw_type *t)
{
    raw_type r = *t;
    r.flags |= TPFLAGS_READY;
    return !(t->flags & (TPFLAGS_READY | TPFLAGS_HEAPTYPE)) && (t->flags & TPFLAGS_VERSION_TAG) &&
           !t->dict && !t->mro && h->syms.type_type && t->ob_type == h->syms.type_type &&
           plausible(&r);
}

/* Is addr a type object: its metatype chain ends at PyType_Type. */
static bool is_type(ph_heap *h, uint64_t addr, raw_type *t)
{
    if (!ph_ptr_ok(addr) || !read_raw_type(h, addr, t))
        return false;
    if (!plausible(t))
        return unreadied_static(h, t);
    uint64_t m = t->ob_type;
    for (int depth = 0; depth < 8; depth++) {
        if (h->syms.type_type ? m == h->syms.type_type : false)
            return true;
        raw_type mt;
        if (!ph_ptr_ok(m) || !read_raw_type(h, m, &mt) || !plausible(&mt) ||
            !(mt.flags & TPFLAGS_TYPE_SUBCLASS))
            return false;
        if (!h->syms.type_type && mt.ob_type == m)
            return true; /* PyType_Type is its own type */
        m = mt.ob_type;
    }
    return false;
}

/* The dict holding a type's attributes (3.12+ static builtins keep it in the interpreter). */
static uint64_t type_dict(ph_heap *h, uint64_t addr, const raw_type *t)
{
    if (t->dict)
        return t->dict;
    if (!(t->flags & TPFLAGS_HEAPTYPE))
        return ph_static_builtin_dict(h, addr);
    return 0;
}

static void heap_type_name(ph_heap *h, uint64_t addr, const raw_type *t, char *out, size_t cap)
{
    char qual[256] = "?", mod[256] = "";
    uint64_t q;
    if (!ph_read_u64(h->r, addr + (uint64_t)h->L->ht_qualname, &q) || !ph_ptr_ok(q) ||
        !ph_str_read(h, q, qual, sizeof(qual)))
        ph_read_cstr(h->r, t->tp_name, qual, sizeof(qual));
    uint64_t d = type_dict(h, addr, t), m;
    if (d && (m = ph_dict_get_str(h, d, "__module__")) && ph_str_read(h, m, mod, sizeof(mod)) &&
        strcmp(mod, "builtins") != 0)
        snprintf(out, cap, "%s.%s", mod, qual);
    else
        snprintf(out, cap, "%s", qual);
}

/* Adds the object-typed __slots__ members that the heap types of t's MRO define. */
static void collect_slots(ph_heap *h, ph_type *pt, const raw_type *t)
{
    uint64_t mro = t->mro;
    int64_t n;
    if (!ph_ptr_ok(mro) || !ph_ob_size(h, mro, &n) || n < 0 || n > MAX_MRO)
        return;
    for (int64_t i = 0; i < n; i++) {
        uint64_t base;
        raw_type bt;
        if (!ph_read_u64(h->r, mro + (uint64_t)h->L->tuple_ob_item + 8 * (uint64_t)i, &base) ||
            !read_raw_type(h, base, &bt) || !(bt.flags & TPFLAGS_HEAPTYPE) || !bt.dict)
            continue;
        ph_dict_iter it;
        uint64_t k, v;
        if (!ph_dict_iter_init(h, bt.dict, &it))
            continue;
        int budget = 4096;
        while (budget-- > 0 && ph_dict_iter_next(h, &it, &k, &v)) {
            uint64_t vt, tn, member;
            char name[32];
            if (!ph_ob_type(h, v, &vt) || !ph_read_u64(h->r, vt + (uint64_t)h->L->tp_name, &tn) ||
                !ph_read_cstr(h->r, tn, name, sizeof(name)) || strcmp(name, "member_descriptor") != 0 ||
                !ph_read_u64(h->r, v + (uint64_t)h->L->memberdescr_d_member, &member) || !member)
                continue;
            int32_t mtype;
            int64_t off;
            if (!ph_read(h->r, member + (uint64_t)h->L->memberdef_type, &mtype, 4) ||
                !ph_read_i64(h->r, member + (uint64_t)h->L->memberdef_offset, &off))
                continue;
            /* T_OBJECT 6, T_OBJECT_EX 16 */
            if ((mtype != 6 && mtype != 16) || off < 16 || off > t->basicsize - 8)
                continue;
            bool dup = false;
            for (uint32_t j = 0; j < pt->nslots; j++)
                dup |= pt->slots[j] == (uint32_t)off;
            if (dup)
                continue;
            uint32_t *s = realloc(pt->slots, (pt->nslots + 1) * sizeof(uint32_t));
            if (!s)
                return;
            pt->slots = s;
            uint64_t *names = realloc(pt->slot_names, (pt->nslots + 1) * sizeof(uint64_t));
            if (!names)
                return;
            pt->slot_names = names;
            pt->slot_names[pt->nslots] = 0;
            ph_read_u64(h->r, member + (uint64_t)h->L->memberdef_name, &pt->slot_names[pt->nslots]);
            pt->slots[pt->nslots++] = (uint32_t)off;
        }
    }
}

/* A heap type made by C (PyType_FromSpec: functools' lru_cache wrapper,
 * _io, _asyncio...) has fields after its static base's that no slot,
 * __dict__ or __weakref__ explains: mark those words for a conservative
 * scan.  A class statement's type has none.  One with an item size of its
 * own (3.10+ re.Pattern, SRE_Template) has its fields before the items;
 * pointer-sized items are scanned too. */
static void c_fields(ph_heap *h, ph_type *pt)
{
    const ph_type *base = &h->types[pt->base_idx];
    /* type's itemsize is its __slots__' member array, after the heap type's
     * struct: a metatype's own C fields (3.13+ ctypes' StgInfo) come before */
    if (pt->base_idx == UINT32_MAX || base == pt || (base->itemsize && base->shape != SHAPE_TYPE) ||
        pt->shape == SHAPE_OTHER || pt->static_subclass || pt->basicsize <= base->basicsize ||
        pt->basicsize > (1 << 20))
        return;
    int64_t from = (base->basicsize + 7) & ~7;
    for (int64_t off = from; off + 8 <= pt->basicsize; off += 8) {
        bool known = off == pt->dictoffset || off == pt->weaklistoffset;
        for (uint32_t i = 0; i < pt->nslots && !known; i++)
            known = pt->slots[i] == (uint32_t)off;
        if (known)
            continue;
        if (!pt->cfields_from)
            pt->cfields_from = (uint32_t)off;
        pt->cfields_to = (uint32_t)(off + 8);
    }
    if (pt->itemsize && pt->itemsize % 8 == 0 && pt->cfields_to && pt->shape != SHAPE_TYPE) {
        pt->citems = true;
        pt->cfields_to = (uint32_t)pt->basicsize;
    }
}

/* numpy's scalar types whose instances hold numbers and no reference: the
 * numeric ones (numpy.number: integers, floats, complexes, timedelta64),
 * numpy.bool (numpy 1: bool_), datetime64, and str_/bytes_ (numpy.character,
 * their text inline).  Their structs are static C types probe-heap does not
 * know: scanned conservatively, a longdouble's or a float64's bits were read
 * as a pointer (to a stale object).  By the names in t's MRO. */
static bool numpy_scalar(ph_heap *h, const raw_type *t)
{
    static const char *const leaves[] = {"numpy.number", "numpy.bool", "numpy.bool_",
                                         "numpy.datetime64", "numpy.character"};
    int64_t n;
    if (!ph_ptr_ok(t->mro) || !ph_ob_size(h, t->mro, &n) || n < 1 || n > MAX_MRO)
        return false;
    for (int64_t i = 0; i < n; i++) {
        uint64_t base;
        raw_type bt;
        char name[64] = "";
        if (!ph_read_u64(h->r, t->mro + (uint64_t)h->L->tuple_ob_item + 8 * (uint64_t)i, &base) ||
            !read_raw_type(h, base, &bt) || (bt.flags & TPFLAGS_HEAPTYPE))
            continue;
        ph_read_cstr(h->r, bt.tp_name, name, sizeof(name));
        for (size_t k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++)
            if (strcmp(name, leaves[k]) == 0)
                return true;
    }
    return false;
}

/* Does some type before `object` in t's MRO define __sizeof__ that we do not model? */
static bool sizeof_unknown(ph_heap *h, const raw_type *t, ph_shape shape, uint64_t known)
{
    uint64_t mro = t->mro;
    int64_t n;
    if (!ph_ptr_ok(mro) || !ph_ob_size(h, mro, &n) || n < 1 || n > MAX_MRO)
        return shape == SHAPE_OTHER;
    for (int64_t i = 0; i < n; i++) {
        uint64_t base;
        raw_type bt;
        if (!ph_read_u64(h->r, mro + (uint64_t)h->L->tuple_ob_item + 8 * (uint64_t)i, &base) ||
            !read_raw_type(h, base, &bt))
            return true;
        if (known && base == known)
            return false; /* a C type of ctypes.h, whose __sizeof__ size.c models */
        char name[64] = "";
        bool heap = bt.flags & TPFLAGS_HEAPTYPE;
        if (!heap)
            ph_read_cstr(h->r, bt.tp_name, name, sizeof(name));
        if (!heap && strcmp(name, "object") == 0)
            return false;
        uint64_t d = type_dict(h, base, &bt);
        if (d && ph_dict_get_str(h, d, "__sizeof__"))
            return heap || shape_of_static(h, name) == SHAPE_OTHER;
    }
    return true;
}

uint32_t ph_type_get(ph_heap *h, uint64_t addr)
{
    uint32_t v;
    if (ph_map64_get(&h->type_map, addr, &v))
        return v;
    /* Addresses known not to be types are kept too (UINT32_MAX). */
    if (!addr || h->type_map.n >= MAX_TYPES)
        return UINT32_MAX;
    raw_type t;
    if (!is_type(h, addr, &t)) {
        ph_map64_put(&h->type_map, addr, UINT32_MAX);
        return UINT32_MAX;
    }
    if (!PH_VEC_RESERVE(h->types, h->captypes, h->ntypes + 1, 256))
        return UINT32_MAX;
    /* Reserve the entry first: resolving the name may look up other types. */
    uint32_t id = (uint32_t)h->ntypes;
    if (!ph_map64_put(&h->type_map, addr, id))
        return UINT32_MAX;
    h->ntypes++;
    h->types[id] = (ph_type){.addr = addr, .name = "?", .base_idx = id};
    ph_type pt = {.addr = addr, .flags = t.flags, .basicsize = t.basicsize,
                  .itemsize = t.itemsize, .dictoffset = t.dictoffset,
                  .weaklistoffset = t.weaklistoffset, .base_idx = id};
    pt.heap = t.flags & TPFLAGS_HEAPTYPE;
    pt.unready = !(t.flags & TPFLAGS_READY);
    pt.gc = t.flags & TPFLAGS_HAVE_GC;
    pt.is_type_type = t.flags & TPFLAGS_TYPE_SUBCLASS;
    char name[512] = "?";
    if (pt.heap)
        heap_type_name(h, addr, &t, name, sizeof(name));
    else
        ph_read_cstr(h->r, t.tp_name, name, sizeof(name));
    pt.name = ph_heap_strdup(h, name);
    if (!pt.heap) {
        pt.shape = shape_of_static(h, name);
        if (strcmp(name, "frozendict") == 0) {
            /* 3.15 (PEP 814): {PyDictObject ob_base; Py_hash_t ma_hash}: a
             * dict underneath, of its own kind, with no other reference */
            pt.shape = SHAPE_DICT;
            pt.static_subclass = pt.frozendict = true;
        } else if (pt.shape == SHAPE_OTHER) {
            /* Static subclasses of builtins (collections.OrderedDict,
             * defaultdict, ctypes' metatypes) are the builtin underneath. */
            pt.shape = t.flags & TPFLAGS_DICT_SUBCLASS   ? SHAPE_DICT
                       : t.flags & TPFLAGS_LIST_SUBCLASS ? SHAPE_LIST
                       : t.flags & TPFLAGS_TYPE_SUBCLASS ? SHAPE_TYPE
                                                         : SHAPE_OTHER;
            pt.static_subclass = pt.shape != SHAPE_OTHER;
        }
        if (pt.shape == SHAPE_OTHER && strncmp(name, "numpy.", 6) == 0 && numpy_scalar(h, &t))
            pt.shape = SHAPE_LEAF;
    } else {
        /* The nearest static base decides the layout underneath. */
        uint64_t b = t.base;
        pt.shape = SHAPE_OTHER;
        for (int depth = 0; depth < MAX_MRO && ph_ptr_ok(b); depth++) {
            raw_type bt;
            if (!read_raw_type(h, b, &bt))
                break;
            if (!(bt.flags & TPFLAGS_HEAPTYPE)) {
                h->types[id] = pt; /* visible to the recursive lookup */
                uint32_t bi = ph_type_get(h, b);
                if (bi != UINT32_MAX) {
                    pt.base_idx = bi;
                    pt.shape = h->types[bi].shape;
                    pt.static_subclass = h->types[bi].static_subclass;
                    pt.frozendict = h->types[bi].frozendict;
                }
                break;
            }
            b = bt.base;
        }
        collect_slots(h, &pt, &t);
        if (!holds_no_references(name)) /* 3.12+: the _thread types are heap types */
            c_fields(h, &pt);
    }
    pt.odict = strcmp(name, "collections.OrderedDict") == 0 ||
               (pt.base_idx != id && h->types[pt.base_idx].odict);
    pt.plain_generator = pt.shape == SHAPE_GEN && !pt.heap && strcmp(name, "generator") == 0;
    pt.ndarray = strcmp(name, "numpy.ndarray") == 0 ||
                 (pt.base_idx != id && h->types[pt.base_idx].ndarray);
    pt.ctype = ph_ctype_find(h, name, t.basicsize);
    uint64_t known = pt.ctype ? addr : 0; /* the type whose __sizeof__ size.c models */
    bool base_estimate = false;
    if (!pt.ctype && pt.heap && ph_ptr_ok(t.base)) {
        /* a subclass of one (class Q(deque)) */
        h->types[id] = pt; /* visible to the recursive lookup */
        uint32_t bi = ph_type_get(h, t.base);
        if (bi != UINT32_MAX && h->types[bi].ctype) {
            pt.ctype = h->types[bi].ctype;
            known = t.base;
            base_estimate = h->types[bi].estimate;
        }
    }
    /* a C type of ctypes.h itself is exact; a subclass, unless it adds a __sizeof__ */
    pt.estimate = !pt.odict && known != addr &&
                  (base_estimate || sizeof_unknown(h, &t, pt.shape, known));
    h->types[id] = pt;
    return id;
}

/* The checks every object pointer goes through: a sane reference count,
 * and a type that is one (ph_type_get). */
uint32_t ph_object_check(ph_heap *h, uint64_t addr)
{
    if (!ph_ptr_ok(addr))
        return UINT32_MAX;
    int64_t rc;
    bool immortal, deferred_zero;
    uint64_t type;
    if (!ph_refcnt_read_ex(h->r, h->L, addr, &rc, &immortal, &deferred_zero) || rc < 0)
        return UINT32_MAX; /* 3.14: no reference count (a freelist link) */
    if (!immortal && ((rc == 0 && !deferred_zero) || (uint64_t)rc >= (UINT64_C(1) << 40)))
        return UINT32_MAX;
    if (!ph_ob_type(h, addr, &type))
        return UINT32_MAX;
    return ph_type_get(h, type);
}

/* 3.12+: the dict of a static builtin type, kept in the interpreter. */
uint64_t ph_static_builtin_dict(ph_heap *h, uint64_t type_addr)
{
    const ph_layout *L = h->L;
    if (L->interp_types_builtins == PH_NONE || !h->interp_addr)
        return 0;
    uint64_t index;
    if (!ph_read_u64(h->r, type_addr + (uint64_t)L->tp_subclasses, &index) || index == 0)
        return 0;
    uint64_t d = 0, base = h->interp_addr + (uint64_t)L->interp_types_builtins;
    index--;
    if (index >= (uint64_t)L->static_builtin_max) {
        /* 3.13: static types of extension modules, in an array of their own */
        if (L->interp_types_for_extensions == PH_NONE)
            return 0;
        index -= (uint64_t)L->static_builtin_max;
        if (index >= (uint64_t)L->static_extension_max)
            return 0;
        base = h->interp_addr + (uint64_t)L->interp_types_for_extensions;
    }
    ph_read_u64(h->r, base + index * (uint64_t)L->static_builtin_state_size +
                          (uint64_t)L->static_builtin_state_tp_dict, &d);
    return d;
}
