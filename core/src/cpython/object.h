/* CPython objects read from outside: the shapes the walker takes apart,
 * type objects described once (types.c), and the checks, str and dict
 * reading every object pointer goes through (object.c). */
#ifndef PH_OBJECT_H
#define PH_OBJECT_H

#include "cpython/layout.h"
#include "memory/reader.h"
#include "probeheap.h"

/* What the walker knows how to take apart.  Heap subclasses get the kind of
 * their nearest builtin base (a dict subclass is still a dict underneath). */
typedef enum ph_shape {
    SHAPE_OTHER = 0, /* unknown layout: scanned conservatively */
    SHAPE_OBJECT,    /* object itself: no references of its own */
    SHAPE_LEAF,      /* no references: float, complex, range iterators... */
    SHAPE_STR,
    SHAPE_INT,       /* int and bool */
    SHAPE_BYTES,
    SHAPE_BYTEARRAY,
    SHAPE_TUPLE,
    SHAPE_LIST,
    SHAPE_DICT,
    SHAPE_SET,       /* set and frozenset */
    SHAPE_TYPE,
    SHAPE_MODULE,
    SHAPE_CODE,
    SHAPE_FRAME,
    SHAPE_CELL,
    SHAPE_METHOD,
    SHAPE_FUNCTION,
    SHAPE_GEN,       /* 3.11+ generator, coroutine, async generator: an embedded frame */
    SHAPE_WEAKREF,   /* weakref.ref and the proxies: the referent is not a strong reference */
} ph_shape;

typedef struct ph_type {
    uint64_t addr;
    const char *name;       /* tp_name for static types, module.qualname for heap types */
    uint64_t flags;         /* tp_flags */
    int64_t basicsize, itemsize, dictoffset, weaklistoffset;
    ph_shape shape;
    bool heap;              /* Py_TPFLAGS_HEAPTYPE */
    bool gc;                /* Py_TPFLAGS_HAVE_GC */
    bool estimate;          /* its own __sizeof__ is not known to us */
    bool is_type_type;      /* a metatype (type or a subclass of it) */
    bool static_subclass;   /* a static subclass of a builtin (OrderedDict): shape from tp_flags */
    bool frozendict;        /* 3.15's frozendict: a dict and its cached hash, nothing more */
    bool odict;             /* collections.OrderedDict or a subclass: odict_sizeof */
    bool plain_generator;   /* 3.11+ "generator": its gi_origin_or_finalizer is never set */
    bool ndarray;           /* numpy.ndarray or a subclass: numpy.c */
    const struct ph_ctype *ctype; /* a C type known exactly, or a subclass of one: ctypes.h */
    uint32_t nslots;        /* object-typed __slots__ member offsets, whole MRO */
    uint32_t *slots;
    uint64_t *slot_names;   /* the members' names: C strings in the target */
    uint32_t cfields_from, cfields_to; /* a C heap type's own fields: scanned (0, 0: none) */
    bool citems;
    bool unready;                      /* a static type never made ready: reached only through its instances */                       /* and its items (pointer-sized: ob_size of them after basicsize) */
    uint32_t base_idx;      /* nearest builtin base's type index, or self */
} ph_type;

#define TPFLAGS_MANAGED_WEAKREF (1UL << 3)
#define TPFLAGS_MANAGED_DICT (1UL << 4)
#define TPFLAGS_INLINE_VALUES (1UL << 2)
#define TPFLAGS_HEAPTYPE (1UL << 9)
#define TPFLAGS_READY (1UL << 12)
#define TPFLAGS_VERSION_TAG (1UL << 18) /* in Py_TPFLAGS_DEFAULT */
#define TPFLAGS_HAVE_GC (1UL << 14)
#define TPFLAGS_LONG_SUBCLASS (1UL << 24)
#define TPFLAGS_LIST_SUBCLASS (1UL << 25)
#define TPFLAGS_TUPLE_SUBCLASS (1UL << 26)
#define TPFLAGS_BYTES_SUBCLASS (1UL << 27)
#define TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define TPFLAGS_DICT_SUBCLASS (1UL << 29)
#define TPFLAGS_TYPE_SUBCLASS (1UL << 31)

/* types.c */
/* The type index of the object type at addr, validating it; UINT32_MAX if not a type. */
uint32_t ph_type_get(ph_heap *h, uint64_t addr);
const char *ph_heap_strdup(ph_heap *h, const char *s);
void ph_types_free(ph_heap *h);

/* object.c: reading and checking target objects */
/* Checks that addr looks like a live object; returns its type index or UINT32_MAX. */
uint32_t ph_object_check(ph_heap *h, uint64_t addr);
bool ph_str_read(ph_heap *h, uint64_t addr, char *buf, size_t cap);

/* The code points of a str, read in chunks from whichever form it has
 * (compact ASCII, compact, legacy). */
typedef struct ph_str_iter {
    uint64_t data, length, i;
    unsigned kind;               /* 1, 2 or 4 bytes a code point */
    size_t have, at;             /* code points buffered in raw, and the next one */
    unsigned char raw[512];
} ph_str_iter;
/* False when addr is not a readable str. */
bool ph_str_iter_init(ph_heap *h, uint64_t addr, ph_str_iter *it);
/* The next code point; false at the end or when the data is unreadable
 * (then it->i < it->length). */
bool ph_str_iter_next(ph_heap *h, ph_str_iter *it, uint32_t *cp);
/* Looks a str key up in a dict (exact comparison, no hashing). 0 if absent. */
uint64_t ph_dict_get_str(ph_heap *h, uint64_t dict, const char *key);

typedef struct ph_dict_iter {
    uint64_t keys, values, entries;
    int64_t n, i;
    int entry_size, value_at;
    bool split;
} ph_dict_iter;
bool ph_dict_iter_init(ph_heap *h, uint64_t dict, ph_dict_iter *it);
/* The same from a keys object (and a values array, or 0). */
bool ph_dict_keys_iter_init(ph_heap *h, uint64_t keys, uint64_t values, ph_dict_iter *it);
bool ph_dict_iter_next(ph_heap *h, ph_dict_iter *it, uint64_t *key, uint64_t *value);

/* The object header of the target's build.  ob_size is the last field of
 * PyObject_VAR_HEAD, right before a list's ob_item (PyListObject is
 * {PyObject_VAR_HEAD; ob_item; allocated} in every build), and ob_type the
 * last of PyObject, right before ob_size. */
static inline uint64_t ph_off_ob_size(const ph_layout *L)
{
    return (uint64_t)L->list_ob_item - 8;
}
static inline uint64_t ph_off_ob_type(const ph_layout *L)
{
    return (uint64_t)L->list_ob_item - 16;
}
/* The address at which the object at addr reads like a default build's:
 * a free-threaded build's 32-byte header is the default build's 16 bytes
 * (ob_refcnt, ob_type) with 16 more in front (ob_tid, ob_flags, ob_mutex,
 * ob_gc_bits, ob_ref_local) and every later field 16 bytes further, so the
 * C type descriptions of ctypes_*.c (offsets after a 16-byte header) read
 * a free-threaded object at addr + 16. */
static inline uint64_t ph_default_header_view(const ph_layout *L, uint64_t addr)
{
    return addr + ph_off_ob_size(L) - 16;
}
bool ph_ob_type(ph_heap *h, uint64_t addr, uint64_t *type);
bool ph_ob_size(ph_heap *h, uint64_t addr, int64_t *n);
/* A float's value (PyFloatObject: ob_fval right after the PyObject header). */
bool ph_float_value(ph_heap *h, uint64_t addr, double *x);
/* An int's sign and number of 30-bit digits (3.12+: from lv_tag). */
bool ph_int_digits(ph_heap *h, uint64_t addr, uint64_t *ndigits, bool *negative);
/* An int's value when it has at most two digits. */
bool ph_int_value(ph_heap *h, uint64_t addr, int64_t *out);

/* 3.12: the managed dict slot is a PyDictOrValues, a dict or (low bit set)
 * its values pointer - 1 (pycore_object.h _PyObject_DictOrValuesPointer);
 * the only release with managed dicts and no PyDictValues header
 * (dictvalues_values 0) and no separate values slot (managed_values). */
static inline bool ph_managed_dict_or_values(const ph_layout *L)
{
    return L->managed_dict != PH_NONE && L->managed_values == PH_NONE &&
           L->dictvalues_values == 0;
}

/* Where an instance keeps its attributes: a dict, or (3.11+) values whose
 * keys are its type's ht_cached_keys (0 for what it does not have). */
void ph_instance_storage(ph_heap *h, uint64_t obj, const ph_type *t, uint64_t *dict,
                         uint64_t *values);
/* Iterates the values an instance keeps without a dict (3.11+) with its
 * type's cached keys; false when they cannot be read.  On 3.13, values no
 * longer valid (moved to a dict) iterate as empty. */
bool ph_values_iter_init(ph_heap *h, uint64_t type_addr, uint64_t values, ph_dict_iter *it);

/* heapy's "dict of" applies to exact dicts only, not to subclasses. */
static inline bool ph_type_is_exact_dict(const ph_type *t)
{
    return t->shape == SHAPE_DICT && !t->heap && !t->static_subclass;
}

/* The _PyInterpreterFrame embedded at the end of a 3.11+ generator. */
static inline uint64_t ph_gen_iframe(const ph_layout *L, uint64_t gen, const ph_type *t)
{
    return gen + (uint64_t)t->basicsize - (uint64_t)L->iframe_localsplus;
}

#endif
