/* functools.partial (Modules/_functoolsmodule.c): a static type in 3.8 to
 * 3.11, a heap type from 3.12, named functools.partial either way.
 *
 *     partialobject: fn 16, args 24 (a tuple), kw 32 (a dict), dict 40
 *     (tp_dictoffset), weakreflist 48, then use_fastcall (3.8, 3.9) or
 *     vectorcall (3.10+), a C function pointer; basicsize 64.
 *
 * The same offsets in 3.8 to 3.13 (DWARF of each build); 3.14 adds
 * placeholder 56 (an object) and phcount 64 before vectorcall 72
 * (basicsize 80, Python-3.14.7's Modules/_functoolsmodule.c).  No __sizeof__ of
 * its own: basicsize.  The vectorcall pointer, which a conservative scan
 * would read, is no object. */
#include "cpython/ctypes.h"

static void partial_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    uint64_t w[3];
    if (!ph_read(h->r, addr + 16, w, sizeof(w)))
        return;
    ph_ctype_field(h, w[0], ".func", visit, payload);
    ph_ctype_field(h, w[1], ".args", visit, payload);
    ph_ctype_field(h, w[2], ".keywords", visit, payload);
    uint64_t placeholder; /* 3.14: the Placeholder singleton, or NULL */
    if (h->L->minor >= 14 && ph_read_u64(h->r, addr + 56, &placeholder))
        ph_ctype_field(h, placeholder, "<placeholder>", visit, payload);
}

const ph_ctype ph_ctypes_functools[] = {
    {"functools.partial", 64, partial_referents, NULL},
    {NULL, 0, NULL, NULL},
};
