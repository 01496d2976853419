/* What a reference is, and an object's references (referents.c; a frame's
 * in target.c). */
#ifndef PH_REFERENCE_H
#define PH_REFERENCE_H

#include "cpython/object.h"

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

/* Visiting the references of an object: returns the referent's object id,
 * or PH_NO_OBJ when it is not (or not yet) a valid object. */
typedef uint32_t ph_visit_fn(ph_heap *h, uint64_t ref, void *payload);

/* referents.c */
void ph_referents(ph_heap *h, uint32_t id, ph_visit_fn *visit, void *payload);
/* The same for an object that need not be in the index: at addr, of type ti. */
void ph_referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_visit_fn *visit, void *payload);
void ph_iframe_referents(ph_heap *h, uint64_t frame, ph_visit_fn *visit, void *payload);

#endif
