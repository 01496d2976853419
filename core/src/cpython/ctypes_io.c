/* io.BytesIO and io.StringIO (Modules/_io/bytesio.c, stringio.c): static
 * types in 3.8 to 3.11, heap types from 3.12, named _io.BytesIO and
 * _io.StringIO either way.  Offsets from the DWARF of each build.
 *
 * bytesio: buf 16 (a bytes object, the contents; shared with the bytes
 * getvalue() returned while nobody writes), pos 24, string_size 32, dict
 * 40 (tp_dictoffset), weakreflist 48, exports 56; basicsize 64, 3.8-3.13.
 * bytesio_sizeof: basicsize, plus sys.getsizeof(buf) when buf is not
 * shared (its refcount is 1).
 *
 * stringio: buf 16 (a Py_UCS4 array, not an object), pos, string_size,
 * buf_size, state; then 3.8-3.11: _PyAccu accu {large 56, small 64} (lists
 * of str), decoder 80, readnl 88, writenl 96, dict 104, weakreflist 112
 * (basicsize 120); 3.12-3.13: _PyUnicodeWriter writer {buffer 56 (a str)},
 * decoder 120, readnl 128, writenl 136, dict 144, weakreflist 152,
 * module_state 160 (basicsize 168); 3.14: PyUnicodeWriter *writer 56 (a
 * _PyUnicodeWriter of its own, PyMem_Malloc'd: its buffer, a str, first),
 * decoder 72, readnl 80, writenl 88, dict 96, weakreflist 104,
 * module_state 112 (basicsize 120).  No __sizeof__: basicsize.
 *
 * _io.BufferedReader, BufferedWriter, BufferedRandom (Modules/_io/
 * bufferedio.c): buffered {HEAD; raw 16; ...; buffer 56 (a PyMem block of
 * buffer_size bytes); ...; buffer_size 120; ...; dict 136 (tp_dictoffset);
 * weakreflist 144}, basicsize 152 (3.8 to 3.14, DWARF).  raw is its only
 * object field besides the dict.  buffered_sizeof: basicsize, plus
 * buffer_size when the buffer is allocated.
 *
 * _io.TextIOWrapper (Modules/_io/textio.c, textio): ok 16, detached 20,
 * chunk_size 24, buffer 32, encoding 40, encoder 48, decoder 56, readnl
 * 64, errors 72, writenl 80 (a C string), flags, encodefunc 104 (a C
 * function), encoding_start_of_stream 112, decoded_chars 120,
 * decoded_chars_used 128, pending_bytes 136, pending_bytes_count 144,
 * snapshot 152, b2cratio 160 (a double), raw 168, weakreflist 176, dict
 * 184 (tp_dictoffset); 3.12+: state 192 (the module state, C); basicsize
 * 192, 200 (DWARF, 3.8 to 3.14).  No __sizeof__: basicsize.
 *
 * _io.FileIO (Modules/_io/fileio.c): fd 16 and flags, blksize 24 (3.14:
 * stat_atopen, a PyMem block), weakreflist 32, dict 40 (tp_dictoffset);
 * basicsize 48: no object field besides its dict. */
#include "cpython/ctypes.h"
#include "cpython/stackref.h"

#define BYTESIO_BUF 16

/* sys.getsizeof of a bytes object: tp_basicsize + ob_size * tp_itemsize,
 * read from its type object (bytes is not GC: no header). */
bool ph_ctype_bytes_size(ph_heap *h, uint64_t b, uint64_t *size)
{
    const ph_layout *L = h->L;
    uint64_t type, flags;
    int64_t n, basic, item;
    if (!ph_ptr_ok(b) || !ph_ob_type(h, b, &type) || !ph_ptr_ok(type) ||
        !ph_read_u64(h->r, type + (uint64_t)L->tp_flags, &flags) ||
        !(flags & TPFLAGS_BYTES_SUBCLASS) || !ph_ob_size(h, b, &n) ||
        !ph_read_i64(h->r, type + (uint64_t)L->tp_basicsize, &basic) ||
        !ph_read_i64(h->r, type + (uint64_t)L->tp_itemsize, &item) || n < 0 ||
        (uint64_t)n >= MAX_CONTAINER_LEN || basic < 16 || basic > 4096 || item != 1)
        return false;
    *size = (uint64_t)basic + (uint64_t)n;
    return true;
}

static bool bytesio_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    uint64_t buf, bsize;
    int64_t refcnt;
    *size = (uint64_t)t->basicsize;
    if (!ph_read_u64(h->r, addr + BYTESIO_BUF, &buf))
        return false;
    /* SHARED_BUF: Py_REFCNT(buf) > 1 (the empty bytes is immortal, or shared) */
    bool immortal;
    if (buf && ph_refcnt_read(h->r, h->L, buf, &refcnt, &immortal) && refcnt == 1 &&
        ph_ctype_bytes_size(h, buf, &bsize))
        *size += bsize;
    return true;
}

static void bytesio_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    uint64_t buf;
    if (ph_read_u64(h->r, addr + BYTESIO_BUF, &buf))
        ph_ctype_field(h, buf, "<buffer>", visit, payload);
}

typedef struct io_field {
    uint32_t off;
    const char *name;
} io_field;

/* The object fields of a stringio besides its dict (found by tp_dictoffset). */
static void stringio_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                               void *payload)
{
    (void)t;
    static const io_field old[] = {{56, "<accu.large>"}, {64, "<accu.small>"}, {80, "<decoder>"},
               {88, "<readnl>"},     {96, "<writenl>"},    {0, NULL}},
                          new[] = {{56, "<writer.buffer>"}, {120, "<decoder>"}, {128, "<readnl>"},
               {136, "<writenl>"},      {0, NULL}};
    static const io_field v314[] = {{72, "<decoder>"}, {80, "<readnl>"}, {88, "<writenl>"},
                                    {0, NULL}};
    const io_field *f = h->L->minor >= 14 ? v314 : h->L->minor >= 12 ? new : old;
    uint64_t p;
    if (h->L->minor >= 14 && ph_read_u64(h->r, addr + 56, &p) && p &&
        ph_read_u64(h->r, p, &p)) /* the writer, then its buffer */
        ph_ctype_field(h, p, "<writer.buffer>", visit, payload);
    for (; f->name; f++)
        if (ph_read_u64(h->r, addr + f->off, &p))
            ph_ctype_field(h, p, f->name, visit, payload);
}

static void buffered_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                               void *payload)
{
    (void)t;
    uint64_t raw;
    if (ph_read_u64(h->r, addr + 16, &raw))
        ph_ctype_field(h, raw, ".raw", visit, payload);
}

static bool buffered_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    uint64_t buf;
    int64_t n;
    if (!ph_read_u64(h->r, addr + 56, &buf) || !ph_read_i64(h->r, addr + 120, &n) || n < 0 ||
        (uint64_t)n >= MAX_CONTAINER_LEN)
        return false;
    *size = (uint64_t)t->basicsize + (buf ? (uint64_t)n : 0);
    return true;
}

static const ph_cfield textio_fields[] = {
    {32, ".buffer"},      {40, ".encoding"},    {48, "<encoder>"},  {56, "<decoder>"},
    {64, "<readnl>"},     {72, ".errors"},      {120, "<decoded_chars>"},
    {136, "<pending_bytes>"}, {152, "<snapshot>"}, {168, "<raw>"}, {0, NULL}};

PH_CTYPE_FIELDS(textio_referents, textio_fields)

const ph_ctype ph_ctypes_io[] = {
    {"_io.TextIOWrapper", 192, textio_referents, NULL},
    {"_io.FileIO", 48, NULL, NULL},
    {"_io.BufferedReader", 152, buffered_referents, buffered_size},
    {"_io.BufferedWriter", 152, buffered_referents, buffered_size},
    {"_io.BufferedRandom", 152, buffered_referents, buffered_size},
    {"_io.BytesIO", 64, bytesio_referents, bytesio_size},
    {"_io.StringIO", 120, stringio_referents, NULL},
    {NULL, 0, NULL, NULL},
};
