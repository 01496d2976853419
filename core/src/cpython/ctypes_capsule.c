/* PyCapsule (Objects/capsule.c): {HEAD; pointer 16; name 24 (a C
 * string); context 32; destructor 40; 3.13+: traverse_func 48,
 * clear_func 56}, basicsize 48, 64 from 3.13 (DWARF).  Its pointer and
 * context are the extension's own and point to C data, not to objects:
 * they are not scanned (datetime's C API struct, read as an object, passes
 * the conservative check as a datetime.datetime).  From 3.13
 * a capsule may have a traverse_func, which the GC calls: of the stdlib's
 * capsules, _socket.CAPI has one, visiting the three objects of the C API
 * struct its pointer points to (PySocketModule_APIObject {Sock_Type 0,
 * error 8, timeout_error 16}); those are its referents here, by name.
 * No __sizeof__: basicsize. */
#include "cpython/ctypes.h"

#include <string.h>

static void capsule_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    uint64_t w[2], api[3];
    char name[16];
    if (h->L->minor < 13 || !ph_read(h->r, addr + 16, w, 16) || !ph_ptr_ok(w[0]) ||
        !ph_read_cstr(h->r, w[1], name, sizeof(name)) || strcmp(name, "_socket.CAPI") != 0 ||
        !ph_read(h->r, w[0], api, sizeof(api)))
        return;
    ph_ctype_field(h, api[0], "<Sock_Type>", visit, payload);
    ph_ctype_field(h, api[1], "<error>", visit, payload);
    ph_ctype_field(h, api[2], "<timeout_error>", visit, payload);
}

const ph_ctype ph_ctypes_capsule[] = {
    {"PyCapsule", 48, capsule_referents, NULL},
    {NULL, 0, NULL, NULL},
};
