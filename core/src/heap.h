/* The heap index: every object found, with its type, flat size and owner.
 *
 * Objects live in parallel arrays indexed by a dense object id; an
 * open-addressing table maps an address to its id.  Types are resolved once
 * and kept in a table of their own.  No allocation per object. */
#ifndef PH_HEAP_H
#define PH_HEAP_H

#include "layout.h"
#include "probeheap.h"
#include "reader.h"

#include <stdbool.h>
#include <stdint.h>

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

/* What a reference is, told while h->labelling (for backrefs, referrers,
 * referents and --by via; the walk itself never pays for names).  Labels
 * keep target addresses, turned into text only when shown (labels.c). */
typedef enum ph_edge_kind {
    EDGE_NONE = 0,
    EDGE_FIELD,      /* name: a C field shown as an attribute (".__mro__") */
    EDGE_CLASS,      /* ob_type of an instance of a heap type */
    EDGE_INDEX,      /* num: a tuple or list index */
    EDGE_KEY,        /* obj: the key of the dict value referred to */
    EDGE_DICT_KEY,   /* a dict key itself */
    EDGE_MEMBER,     /* a set or frozenset element */
    EDGE_VALUES,     /* 3.11+ inline or managed values: num the index in obj's (a type) cached keys */
    EDGE_SLOT,       /* obj: the C string naming a __slots__ member */
    EDGE_LOCAL,      /* obj: the code, num: the fast-local slot */
    EDGE_STACK,      /* num: the value-stack slot of a frame */
    EDGE_OFFSET,     /* num: where a conservative scan found the pointer */
    EDGE_WEAK,       /* a weak reference's referent: not a strong reference */
    EDGE_ROOT,       /* root: what kind; aux the thread state for thread roots */
} ph_edge_kind;

typedef enum ph_root_kind {
    ROOT_NONE = 0,
    ROOT_MODULES,    /* sys.modules */
    ROOT_SYS,        /* sys.__dict__ */
    ROOT_BUILTINS,   /* builtins.__dict__ */
    ROOT_INTERP,     /* the interpreter's own dict */
    ROOT_INTERNED,   /* the interned strings */
    ROOT_TYPE_DICT,  /* a static builtin type's dict (3.12+: kept in the interpreter) */
    ROOT_THREAD,     /* name: a thread state field (its dict, context, exceptions) */
    ROOT_FRAME,      /* 3.8-3.10: a thread's frame object */
    ROOT_LOCAL,      /* 3.11+: obj the frame, num the local's slot */
    ROOT_FRAME_FIELD,/* 3.11+: obj the frame, name the field (".f_globals") */
    ROOT_STACK,      /* 3.11+: obj the frame, num a value-stack slot */
    ROOT_HELD,       /* held from outside Python: a refcount the heap does not explain */
    ROOT_PERMANENT,  /* in the permanent generation (gc.freeze) */
} ph_root_kind;

typedef struct ph_label {
    uint8_t kind;        /* ph_edge_kind */
    uint8_t root;        /* ph_root_kind */
    const char *name;
    uint64_t num, obj, aux;
} ph_label;

/* Labels the next reference visited (kind, a name, a number, an address). */
#define PH_LABEL(h, k, nm, n, o)                                                            \
    do {                                                                                    \
        if ((h)->labelling)                                                                 \
            (h)->lab = (ph_label){.kind = (k), .name = (nm), .num = (n), .obj = (o)};       \
    } while (0)
/* Labels the next reference visited as a root. */
#define PH_LABEL_ROOT(h, rk, nm, n, o, ts)                                                  \
    do {                                                                                    \
        if ((h)->labelling)                                                                 \
            (h)->lab = (ph_label){.kind = EDGE_ROOT, .root = (rk), .name = (nm), .num = (n), \
                                  .obj = (o), .aux = (ts)};                                 \
    } while (0)

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
    bool odict;             /* collections.OrderedDict or a subclass: odict_sizeof */
    bool plain_generator;   /* 3.11+ "generator": its gi_origin_or_finalizer is never set */
    bool ndarray;           /* numpy.ndarray or a subclass: numpy.c */
    const struct ph_ctype *ctype; /* a C type known exactly, or a subclass of one: ctypes.h */
    uint32_t nslots;        /* object-typed __slots__ member offsets, whole MRO */
    uint32_t *slots;
    uint64_t *slot_names;   /* the members' names: C strings in the target */
    uint32_t cfields_from, cfields_to; /* a C heap type's own fields: scanned (0, 0: none) */
    uint32_t base_idx;      /* nearest builtin base's type index, or self */
} ph_type;

#define PH_NO_OBJ UINT32_MAX

typedef struct ph_index {
    size_t n, cap;          /* objects */
    uint64_t *addr;
    uint64_t *size;
    uint32_t *type;         /* index into heap->types */
    uint32_t *owner;        /* dicts: owner's type index + 1 (0: none) */
    uint8_t *flags;
    /* Where an address is: objects in a pymalloc pool by their block's
     * number in the pool (one probe in a small table of pools, then a dense
     * array: neighbours in memory are neighbours here); the rest (malloc'd,
     * static, off the blocks' grid) in an open-addressing hash table. */
    struct ph_pool_rec *pools;  /* by pool address, open addressing; base 0 = empty */
    size_t pcap, npools;        /* power of two */
    struct ph_block {           /* each pool's blocks, in order, in chunks */
        uint32_t id;            /* the object's id + 1; 0: none */
        uint32_t lo;            /* the low half of its address (after a GC header, say) */
    } **chunks;
    size_t nchunks, chunk_used; /* blocks used in the last chunk */
    size_t nblocks;             /* in all pools */
    uint64_t pool_mask;         /* ~(POOL_SIZE - 1); 0: no pools (hash table only) */
    uint32_t pool_shift, pool_overhead, pool_nclasses;
    int32_t off_szidx, off_maxnext, hdr_size;
    struct ph_pool_class {
        uint32_t size, nblocks; /* block size, blocks per pool */
        uint64_t mul;           /* ceil(2^40 / size): a block's number by multiplying */
    } pool_classes[64];
    ph_reader *r;
    size_t hcap, hn;        /* power of two; entries */
    uint32_t *slots;        /* object id + 1, 0 = empty */
} ph_index;

#define OBJ_FROM_ROOTS 1    /* reachable from the interpreter's roots */
#define OBJ_GC_LISTED 2     /* found on a GC list */
#define OBJ_ALIVE 4         /* not reached from the roots, but held from outside (C) */
#define OBJ_SEEN2 8         /* reached in the GC-list phase */
#define OBJ_ROOT 16         /* a root itself: in ph_heap.roots */
#define OBJ_PERMANENT 32    /* on the permanent generation's list (gc.freeze) */

struct ph_heap {
    ph_reader *r;
    const ph_layout *L;
    ph_symbols syms;
    ph_version version;
    const char *layout_source;
    ph_index idx;
    ph_type *types;
    size_t ntypes, captypes;
    size_t thcap, thused;   /* type hash: type address -> type index + 1 (0 empty) */
    uint64_t *thkeys;
    uint32_t *thvals;       /* UINT32_MAX: known not to be a type */
    char *strpool;          /* names, appended */
    size_t strpool_len, strpool_cap;
    char **strblocks;
    size_t nstrblocks;
    uint64_t interpreters, threads, skipped;
    uint64_t garbage_objects, garbage_bytes;
    bool gc_collecting;
    double walk_seconds;
    /* work queue of object ids to expand */
    uint32_t *queue;
    size_t qhead, qtail, qcap;
    uint64_t interp_addr;   /* the main interpreter */
    uint32_t *roots;        /* the roots' ids and the objects held from outside */
    size_t nroots, caproots;
    struct ph_graph *graph; /* edges and dominators, built on first use (graph.c) */
    uint32_t type_type_idx; /* index of PyType_Type */
    ph_interrupt_fn *interrupt;  /* asked now and then during long work; may be NULL */
    void *interrupt_payload;
    bool interrupted;
    uint64_t polls;
    bool conservative;      /* the references being visited are guesses */
    bool labelling;         /* fill in lab before each reference visited */
    ph_label lab;           /* what the reference being visited is */
    uint64_t root_tstate;   /* walking a thread's roots: its thread state */
    bool in_permanent;      /* walking the permanent generation's list */
    bool debug_offsets_checked; /* the table agreed with the target's _Py_DebugOffsets */
    bool numpy_checked;     /* numpy.c: looked for numpy's version */
    const struct numpy_layout *numpy;
};

/* pymalloc's geometry for a version (alloc.c): false when the layout lacks it. */
typedef struct ph_pool_geometry {
    uint64_t arena_size, pool_size, overhead, align, nclasses, pools_per_arena;
} ph_pool_geometry;
bool ph_pool_geometry_get(const ph_layout *L, ph_pool_geometry *g);

/* index.c.  With a layout (and its reader), objects in pymalloc pools are
 * found through their pool; with NULL, through the hash table alone. */
ph_error *ph_index_init(ph_index *ix, ph_reader *r, const ph_layout *L);
/* Gives back the arrays' room beyond the objects (after a walk: doubling
 * leaves up to half of it unused). */
void ph_index_trim(ph_index *ix);
/* The index's own memory in bytes. */
size_t ph_index_bytes(const ph_index *ix);
void ph_index_deinit(ph_index *ix);
uint32_t ph_index_find(const ph_index *ix, uint64_t addr);
/* Adds addr; *id is its id; returns true if it is new. */
ph_error *ph_index_add(ph_index *ix, uint64_t addr, uint32_t type, uint32_t *id, bool *added);

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

/* Visiting the references of an object: returns the referent's object id,
 * or PH_NO_OBJ when it is not (or not yet) a valid object. */
typedef uint32_t ph_visit_fn(ph_heap *h, uint64_t ref, void *payload);
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

/* referents.c */
void ph_referents(ph_heap *h, uint32_t id, ph_visit_fn *visit, void *payload);
/* The same for an object that need not be in the index: at addr, of type ti. */
void ph_referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_visit_fn *visit, void *payload);

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

/* preview.c: a dict key as Python shows it (str, int, bytes, float, None,
 * True, False), cut; other objects as <type at 0x...>. */
void ph_repr_short(ph_heap *h, uint64_t addr, char *buf, size_t cap);

/* numpy.c: numpy.ndarray's __sizeof__; false when numpy's layout is unknown */
bool ph_ndarray_sizeof(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size);
/* numpy.c: the elements of an object array that owns its data */
void ph_ndarray_referents(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload);
/* Looks for numpy and its version in the target, once (after the roots are known). */
void ph_numpy_detect(ph_heap *h);

/* size.c */
uint64_t ph_flat_size(ph_heap *h, uint64_t addr, const ph_type *t);
/* block_size.c: the bytes the object occupies from addr in its own block */
uint64_t ph_block_size(ph_heap *h, uint64_t addr, const ph_type *t);

/* target.c */
void ph_iframe_referents(ph_heap *h, uint64_t frame, ph_visit_fn *visit, void *payload);
ph_error *ph_runtime_walk_roots(ph_heap *h, ph_visit_fn *visit, void *payload);
ph_error *ph_runtime_walk_gc(ph_heap *h, ph_visit_fn *visit, void *payload);
uint64_t ph_static_builtin_dict(ph_heap *h, uint64_t type_addr);

/* graph.c */
void ph_graph_free(struct ph_graph *g);  /* see graph.h */

/* partition_by.c: the partitions by size, module, rcs and via */
ph_error *ph_partition_by_text(ph_heap *h, ph_partition_by by, ph_partition **out);

/* classify.c */
/* The kind of object id (heapy's class / dict of class) into buf. */
const char *ph_kind_of(const ph_heap *h, uint32_t id, char *buf, size_t cap);

#define TPFLAGS_MANAGED_WEAKREF (1UL << 3)
#define TPFLAGS_MANAGED_DICT (1UL << 4)
#define TPFLAGS_INLINE_VALUES (1UL << 2)
#define TPFLAGS_HEAPTYPE (1UL << 9)
#define TPFLAGS_READY (1UL << 12)
#define TPFLAGS_HAVE_GC (1UL << 14)
#define TPFLAGS_LONG_SUBCLASS (1UL << 24)
#define TPFLAGS_LIST_SUBCLASS (1UL << 25)
#define TPFLAGS_TUPLE_SUBCLASS (1UL << 26)
#define TPFLAGS_BYTES_SUBCLASS (1UL << 27)
#define TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define TPFLAGS_DICT_SUBCLASS (1UL << 29)
#define TPFLAGS_TYPE_SUBCLASS (1UL << 31)

/* walk.c: counts a step of work and, every so often, asks the caller
 * whether to stop (Ctrl-C).  True once the walk must stop. */
bool ph_poll(ph_heap *h);

/* Brent's cycle check for a linked list read from the target: call with
 * each node's address; true once an address comes round again. */
typedef struct ph_cycle {
    uint64_t mark, power, steps;
} ph_cycle;

static inline bool ph_cycle_seen(ph_cycle *c, uint64_t addr)
{
    if (c->power && addr == c->mark)
        return true;
    if (++c->steps >= c->power) {
        c->mark = addr;
        c->power = c->power ? c->power * 2 : 1;
        c->steps = 0;
    }
    return false;
}

/* Bounds on target data: nothing from the target is trusted beyond these. */
#define MAX_CONTAINER_LEN (UINT64_C(1) << 32)
#define MAX_ITEMS (UINT64_C(1) << 28)  /* items of one tuple or list walked at most */
#define MAX_STR_LEN (UINT64_C(1) << 40)
#define MAX_LIST_HOPS 100000000  /* GC list length, frames, threads... */

/* |n| of a target integer, without overflow on INT64_MIN. */
static inline uint64_t ph_abs64(int64_t n)
{
    return n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
}

static inline bool ph_ptr_ok(uint64_t p)
{
    return p >= 0x1000 && p < (UINT64_C(1) << 47) && (p & 7) == 0;
}

#endif
