/* C types known exactly: extension types that keep their references or
 * their memory outside their own struct (a deque's blocks, an array's
 * buffer, a BytesIO's bytes), described once each, per version, in
 * ctypes_*.c (one concept a file), and found by name in ctypes_registry.c.
 *
 * types.c gives a type its description (ph_type.ctype), inherited by
 * subclasses; referents.c asks it for the references instead of scanning
 * the struct conservatively; size.c asks it for __sizeof__. */
#ifndef PH_CTYPES_H
#define PH_CTYPES_H

#include "heap/heap.h"

typedef struct ph_ctype {
    const char *name;     /* tp_name of a static type, module.qualname of a heap type */
    int64_t min_basicsize; /* the struct's size: a type smaller than this is not it */
    /* The references of the object at addr (t: its type, or a subclass);
     * NULL: none (the struct holds no object pointers). */
    void (*referents)(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                      void *payload);
    /* Its __sizeof__ (without GC header and pre-header); NULL: basicsize,
     * the default.  False when the object is unreadable or inconsistent
     * (the caller then uses basicsize). */
    bool (*size)(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size);
} ph_ctype;

/* Visits p (when not NULL) labelled as the C field name. */
uint32_t ph_ctype_field(ph_heap *h, uint64_t p, const char *name, ph_visit_fn *visit,
                        void *payload);

/* An object field of a C struct: its offset (after a default build's
 * 16-byte header: see ph_default_header_view) and its label. */
typedef struct ph_cfield {
    uint32_t off;
    const char *name;
} ph_cfield;

/* Visits the fields of fields[] (ended by a NULL name) of the object at addr. */
void ph_ctype_fields(ph_heap *h, uint64_t addr, const ph_cfield *fields, ph_visit_fn *visit,
                     void *payload);

/* Defines fn, a ph_ctype referents function that visits table's fields. */
#define PH_CTYPE_FIELDS(fn, table)                                                               \
    static void fn(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,             \
                   void *payload)                                                                \
    {                                                                                            \
        (void)t;                                                                                 \
        ph_ctype_fields(h, addr, table, visit, payload);                                         \
    }

/* Defines fn, visiting since's fields from 3.from_minor on, before's on
 * earlier versions (a struct that changed in 3.from_minor). */
#define PH_CTYPE_FIELDS_SINCE(fn, from_minor, since, before)                                          \
    static void fn(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,             \
                   void *payload)                                                                \
    {                                                                                            \
        (void)t;                                                                                 \
        ph_ctype_fields(h, addr, h->L->minor >= (from_minor) ? (since) : (before), visit, payload);\
    }

/* The fields of a struct that holds no object. */
extern const ph_cfield ph_cfields_none[];

/* sys.getsizeof of the bytes object at b (ctypes_io.c); false when it is none. */
bool ph_ctype_bytes_size(ph_heap *h, uint64_t b, uint64_t *size);

#endif
