/* What a reference is, and an object's references (referents.c, a 3.11+
 * interpreter frame's included). */
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
    ROOT_STATIC,     /* held by a C global: num the static word's address */
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

/* A reference, as the code that visits references is told it. */
typedef struct ph_ref {
    uint64_t addr;      /* what it points to (not yet checked to be an object) */
    ph_label label;     /* what it is, when the heap is labelling (else kind EDGE_NONE) */
    bool guessed;       /* found by a conservative scan of a C object's words, or a
                           frame's value stack: a guess, checked like any pointer */
    bool permanent;     /* met on the permanent generation's list (gc.freeze) */
    uint64_t tstate;    /* a thread's roots: its thread state; else 0 */
} ph_ref;

/* Visiting references: returns the referent's object id, or PH_NO_OBJ when
 * it is not (or not yet) a valid object.  The visitor may itself visit
 * other objects' references (a preview, a label): the reference it was
 * given stays as it was. */
typedef uint32_t ph_ref_fn(ph_heap *h, const ph_ref *ref, void *payload);

/* An object's references (referents.c): each one described to fn. */
void ph_referents(ph_heap *h, uint32_t id, ph_ref_fn *fn, void *payload);
/* The same for an object that need not be in the index: at addr, of type ti. */
void ph_referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_ref_fn *fn, void *payload);

/* Inside cpython/: the code that reads references hands each one's address
 * to a ph_visit_fn, with what it is pending in the heap (PH_LABEL,
 * h->conservative, h->root_tstate, h->in_permanent); ph_ref_emit turns
 * that into the ph_ref the caller's ph_ref_fn is given. */
typedef uint32_t ph_visit_fn(ph_heap *h, uint64_t addr, void *payload);
typedef struct ph_ref_sink {
    ph_ref_fn *fn;
    void *payload;
} ph_ref_sink;
/* A ph_visit_fn whose payload is a ph_ref_sink. */
uint32_t ph_ref_emit(ph_heap *h, uint64_t addr, void *sink);
void ph_iframe_referents(ph_heap *h, uint64_t frame, ph_visit_fn *visit, void *payload);
/* The references of a 3.11+ _PyInterpreterFrame (its locals labelled as the
 * frame's, not as a thread's roots), each described to fn. */
void ph_frame_referents(ph_heap *h, uint64_t frame, ph_ref_fn *fn, void *payload);

#endif
