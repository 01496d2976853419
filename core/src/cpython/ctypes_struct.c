/* struct.Struct and decimal.Decimal: their __sizeof__ counts memory they
 * keep outside the object.  Offsets from the DWARF of each build (the same
 * 3.8 to 3.14).
 *
 * _struct.Struct (Modules/_struct.c; tp_name "Struct" in 3.8, a heap type
 * _struct.Struct from 3.9): PyStructObject {HEAD; s_size 16; s_len 24
 * (the count of format codes); s_codes 32 (a PyMem array of s_len + 1
 * formatcode, 32 bytes each); s_format 40 (a str); weakreflist 48}.
 * s_sizeof: basicsize + (s_len + 1) * sizeof(formatcode).
 *
 * decimal.Decimal (Modules/_decimal/_decimal.c): PyDecObject {HEAD; hash
 * 16; mpd_t dec 24 {flags 24 (uint8), exp 32, digits 40, len 48, alloc
 * 56, data 64}; mpd_uint_t data[4] 72}.  dec_sizeof: basicsize, plus
 * alloc * 8 when the coefficient is dynamic (none of mpdecimal's
 * MPD_STATIC_DATA 32, MPD_SHARED_DATA 64, MPD_CONST_DATA 128 set).  It
 * holds no object. */
#include "cpython/ctypes.h"

#define FORMATCODE_SIZE 32
#define MPD_DATAFLAGS (32 | 64 | 128)

static void struct_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                             void *payload)
{
    (void)t;
    uint64_t p;
    if (ph_read_u64(h->r, addr + 40, &p))
        ph_ctype_field(h, p, ".format", visit, payload);
}

static bool struct_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int64_t n;
    if (!ph_read_i64(h->r, addr + 24, &n) || n < 0 || (uint64_t)n >= MAX_CONTAINER_LEN)
        return false;
    *size = (uint64_t)t->basicsize + (uint64_t)(n + 1) * FORMATCODE_SIZE;
    return true;
}

static bool decimal_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    uint8_t flags;
    int64_t alloc;
    if (!ph_read(h->r, addr + 24, &flags, 1) || !ph_read_i64(h->r, addr + 56, &alloc) ||
        alloc < 0 || (uint64_t)alloc >= MAX_CONTAINER_LEN)
        return false;
    *size = (uint64_t)t->basicsize + (flags & MPD_DATAFLAGS ? 0 : 8 * (uint64_t)alloc);
    return true;
}

const ph_ctype ph_ctypes_struct[] = {
    {"Struct", 56, struct_referents, struct_size},
    {"_struct.Struct", 56, struct_referents, struct_size},
    {"decimal.Decimal", 104, NULL, decimal_size},
    {NULL, 0, NULL, NULL},
};
