/* Builtin types new in CPython 3.15, described like the C types of
 * ctypes.h (found by tp_name, checked against the struct's size).
 *
 * lazy_import (PEP 810; Include/internal/pycore_lazyimportobject.h): the
 * value a module's dict holds for a `lazy import` not yet resolved:
 *   {PyObject_HEAD; PyObject *lz_builtins (16); PyObject *lz_from (24);
 *    PyObject *lz_attr (32); PyCodeObject *lz_code (40); int lz_instr_offset
 *    (48)}, sizeof 56, GC; lazy_import_traverse visits the four pointers.
 *   No __sizeof__: basicsize.
 *
 * frozendict (PEP 814) is a dict underneath (PyDictObject, then its cached
 * hash): types.c gives it the dict's shape. */
#include "cpython/ctypes.h"

static void lazy_import_referents(ph_heap *h, uint64_t addr, const ph_type *t,
                                  ph_visit_fn *visit, void *payload)
{
    static const struct {
        uint32_t at;
        const char *name;
    } fields[] = {{16, "lz_builtins"}, {24, "lz_from"}, {32, "lz_attr"}, {40, "lz_code"}};
    uint64_t v[4];
    if (!ph_read(h->r, addr + 16, v, sizeof(v)))
        return;
    for (size_t i = 0; i < 4; i++)
        ph_ctype_field(h, v[i], fields[i].name, visit, payload);
    (void)t;
}

const ph_ctype ph_ctypes_315[] = {
    {"lazy_import", 52, lazy_import_referents, NULL},
    {NULL, 0, NULL, NULL},
};
