/* ctypes' metatypes before 3.13 (Modules/_ctypes/_ctypes.c): the types
 * ctypes makes (c_int, POINTER(c_int), c_int * 5, a Structure, a
 * CFUNCTYPE) keep what describes them in their tp_dict, a StgDict: a
 * static dict subclass {PyDictObject dict 0; ...; proto 96; ...; argtypes
 * 128; converters 136; restype 144; checker 152}, basicsize 192 (the same
 * 3.8 to 3.12, DWARF).  The metatype's tp_traverse (CDataType_traverse)
 * visits those five from the type itself, so they are the type's
 * referents here, besides what every type holds (referents.c).  The
 * metatypes' instances are types with no C fields of their own before
 * 3.13, so nothing else is lost; from 3.13 the StgInfo lives after the heap
 * type's struct and is scanned as the metatype's C fields (types.c): these
 * descriptions stop at 3.12. */
#include "cpython/ctypes.h"

#include <string.h>

static void stgdict_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    static const struct {
        uint32_t off;
        const char *name;
    } f[] = {{96, "<proto>"},
             {128, "<argtypes>"},
             {136, "<converters>"},
             {144, "<restype>"},
             {152, "<checker>"}};
    uint64_t d, dt, p;
    uint32_t ti;
    /* the dict's type as the walk knows it (looked up, not added: the
     * caller holds a pointer into h->types) */
    if (!ph_read_u64(h->r, addr + (uint64_t)h->L->tp_dict, &d) || !ph_ptr_ok(d) ||
        !ph_ob_type(h, d, &dt) || !ph_map64_get(&h->type_map, dt, &ti) || ti == UINT32_MAX ||
        strcmp(h->types[ti].name, "StgDict") != 0 ||
        h->types[ti].basicsize < 160)
        return;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (ph_read_u64(h->r, d + f[i].off, &p))
            ph_ctype_field(h, p, f[i].name, visit, payload);
}

const ph_ctype ph_ctypes_ctypes[] = {
    {"_ctypes.PyCSimpleType", 0, stgdict_referents, NULL},
    {"_ctypes.PyCPointerType", 0, stgdict_referents, NULL},
    {"_ctypes.PyCArrayType", 0, stgdict_referents, NULL},
    {"_ctypes.PyCFuncPtrType", 0, stgdict_referents, NULL},
    {"_ctypes.PyCStructType", 0, stgdict_referents, NULL},
    {"_ctypes.UnionType", 0, stgdict_referents, NULL},
    {NULL, 0, NULL, NULL},
};
