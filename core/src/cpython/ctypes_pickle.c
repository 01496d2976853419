/* _pickle.Pickler, _pickle.Unpickler and their stack, _pickle.Pdata
 * (Modules/_pickle.c; offsets from the DWARF of each build).
 *
 * PicklerObject: memo 16 (a PyMemoTable, PyMem_Malloc'd: {mt_mask 0,
 * mt_used 8, mt_allocated 16, mt_table 24}, mt_table an array of
 * mt_mask + 1 PyMemoEntry {me_key 0, me_value 8}: the keys are the objects
 * pickled so far), then the object fields:
 *   3.8-3.12: pers_func 24 (pers_func_self 32 is borrowed), dispatch_table
 *             40, reducer_override 48, write 56, output_buffer 64,
 *             fast_memo 136, buffer_callback 144; basicsize 152
 *   3.13:     persistent_id 24, dispatch_table 32, reducer_override 40,
 *             write 48, output_buffer 56, fast_memo 128, buffer_callback
 *             136; basicsize 144
 *   3.14:     persistent_id 24, persistent_id_attr 32, dispatch_table 40,
 *             reducer_override 48, write 56, output_buffer 64, fast_memo
 *             136, buffer_callback 144; basicsize 152
 * UnpicklerObject: stack 16 (a Pdata), memo 24 (a PyMem array of
 * memo_size object pointers, NULL where unused), memo_size 32, then
 *   3.8-3.12: pers_func 48 (pers_func_self 56 borrowed), read 184,
 *             readinto 192, readline 200, peek 208, buffers 216
 *   3.13:     persistent_load 48, read 176 ... buffers 208
 *   3.14:     persistent_load 48, persistent_load_attr 56, read 200 ...
 *             buffers 232
 * Pdata: PyVarObject (ob_size 16: the items), data 24 (a PyMem array).
 *
 * Pickler.__sizeof__: basicsize, plus sizeof(PyMemoTable) 32 and
 * mt_allocated * sizeof(PyMemoEntry) 16 when there is a memo, plus
 * sys.getsizeof(output_buffer) when there is one.
 * Unpickler.__sizeof__: basicsize + memo_size * 8 + marks_size * 8 (when
 * allocated), plus strlen + 1 of input_line, encoding and errors (C
 * strings) when set; their offsets (input_line, encoding, errors, marks,
 * marks_size): 3.8-3.12 152, 224, 232, 240, 256; 3.13 144, 216, 224, 232,
 * 248; 3.14 152, 240, 248, 256, 272. */
#include "cpython/ctypes.h"

#include <string.h>

#define MEMO_MAX (1u << 26)

typedef struct pk_layout {
    uint32_t fields[8]; /* 0 ends */
    const char *names[8];
} pk_layout;

static const pk_layout pickler_old = {{24, 40, 48, 56, 64, 136, 144, 0},
                                      {".persistent_id", ".dispatch_table",
                                       ".reducer_override", "<write>", "<output_buffer>",
                                       "<fast_memo>", "<buffer_callback>", NULL}},
                       pickler_313 = {{24, 32, 40, 48, 56, 128, 136, 0},
                                      {".persistent_id", ".dispatch_table",
                                       ".reducer_override", "<write>", "<output_buffer>",
                                       "<fast_memo>", "<buffer_callback>", NULL}},
                       pickler_314 = {{24, 32, 40, 48, 56, 64, 136, 144},
                                      {"<persistent_id>", "<persistent_id_attr>",
                                       ".dispatch_table", ".reducer_override", "<write>",
                                       "<output_buffer>", "<fast_memo>", "<buffer_callback>"}},
                       unpickler_old = {{16, 48, 184, 192, 200, 208, 216, 0},
                                        {"<stack>", ".persistent_load", "<read>", "<readinto>",
                                         "<readline>", "<peek>", "<buffers>", NULL}},
                       unpickler_313 = {{16, 48, 176, 184, 192, 200, 208, 0},
                                        {"<stack>", ".persistent_load", "<read>", "<readinto>",
                                         "<readline>", "<peek>", "<buffers>", NULL}},
                       unpickler_314 = {{16, 48, 56, 200, 208, 216, 224, 232},
                                        {"<stack>", "<persistent_load>",
                                         "<persistent_load_attr>", "<read>", "<readinto>",
                                         "<readline>", "<peek>", "<buffers>"}};

static void fields(ph_heap *h, uint64_t addr, const pk_layout *l, ph_visit_fn *visit,
                   void *payload)
{
    for (int i = 0; i < 8 && l->fields[i]; i++) {
        uint64_t p;
        if (ph_read_u64(h->r, addr + l->fields[i], &p))
            ph_ctype_field(h, p, l->names[i], visit, payload);
    }
}

/* n object pointers at arr (NULLs skipped), labelled <memo>[i] by index. */
static void pointers(ph_heap *h, uint64_t owner, uint64_t arr, uint64_t n, size_t stride,
                     ph_visit_fn *visit, void *payload)
{
    if (!n)
        return;
    if (!ph_ptr_ok(arr) || n > MEMO_MAX) {
        ph_skip(h, owner, "a pickle memo or stack that is inconsistent");
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p;
        if (i && i % 4096 == 0 && ph_poll(h))
            return;
        if (!ph_read_u64(h->r, arr + i * stride, &p)) {
            ph_skip(h, owner, "a pickle memo or stack that cannot be read");
            return;
        }
        PH_LABEL(h, EDGE_INDEX, NULL, i, 0);
        if (p)
            visit(h, p, payload);
    }
}

static void pickler_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                              void *payload)
{
    (void)t;
    int minor = h->L->minor;
    fields(h, addr, minor >= 14 ? &pickler_314 : minor == 13 ? &pickler_313 : &pickler_old, visit,
           payload);
    uint64_t memo, mt[4];
    if (ph_read_u64(h->r, addr + 16, &memo) && ph_ptr_ok(memo) && ph_read(h->r, memo, mt, 32))
        pointers(h, addr, mt[3], mt[0] + 1, 16, visit, payload);
}

static void unpickler_referents(ph_heap *h, uint64_t addr, const ph_type *t,
                                ph_visit_fn *visit, void *payload)
{
    (void)t;
    int minor = h->L->minor;
    fields(h, addr, minor >= 14 ? &unpickler_314 : minor == 13 ? &unpickler_313 : &unpickler_old,
           visit, payload);
    uint64_t w[2];
    if (ph_read(h->r, addr + 24, w, 16))
        pointers(h, addr, w[0], w[1], 8, visit, payload);
}

static void pdata_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                            void *payload)
{
    (void)t;
    uint64_t w[2];
    if (ph_read(h->r, addr + 16, w, 16))
        pointers(h, addr, w[1], w[0], 8, visit, payload);
}

static bool pickler_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    int minor = h->L->minor;
    uint64_t memo, mt[4], out, osize;
    uint32_t out_off = minor == 13 ? 56 : 64;
    *size = (uint64_t)t->basicsize;
    if (!ph_read_u64(h->r, addr + 16, &memo) || !ph_read_u64(h->r, addr + out_off, &out))
        return false;
    if (memo) {
        if (!ph_ptr_ok(memo) || !ph_read(h->r, memo, mt, 32) || mt[2] > MEMO_MAX)
            return false;
        *size += 32 + 16 * mt[2];
    }
    if (out) {
        if (!ph_ctype_bytes_size(h, out, &osize))
            return false;
        *size += osize;
    }
    return true;
}

/* strlen + 1 of the C string at the pointer at addr + off (at most 4 KiB:
 * false beyond); 0 when NULL. */
static bool cstr_size(ph_heap *h, uint64_t addr, uint32_t off, uint64_t *n)
{
    uint64_t p;
    char buf[4096];
    *n = 0;
    if (!ph_read_u64(h->r, addr + off, &p))
        return false;
    if (!p)
        return true;
    if (!ph_read_cstr(h->r, p, buf, sizeof(buf)))
        return false;
    *n = strlen(buf) + 1;
    return true;
}

static bool unpickler_size(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    static const uint32_t offs[3][5] = {{152, 224, 232, 240, 256},
                                        {144, 216, 224, 232, 248},
                                        {152, 240, 248, 256, 272}};
    int minor = h->L->minor;
    const uint32_t *o = offs[minor >= 14 ? 2 : minor == 13 ? 1 : 0];
    uint64_t memo[2], marks, nmarks, s1, s2, s3;
    if (!ph_read(h->r, addr + 24, memo, 16) || !ph_read_u64(h->r, addr + o[3], &marks) ||
        !ph_read_u64(h->r, addr + o[4], &nmarks) || memo[1] > MEMO_MAX || nmarks > MEMO_MAX ||
        !cstr_size(h, addr, o[0], &s1) || !cstr_size(h, addr, o[1], &s2) ||
        !cstr_size(h, addr, o[2], &s3))
        return false;
    *size = (uint64_t)t->basicsize + (memo[0] ? 8 * memo[1] : 0) + (marks ? 8 * nmarks : 0) +
            s1 + s2 + s3;
    return true;
}

const ph_ctype ph_ctypes_pickle[] = {
    {"_pickle.Pickler", 144, pickler_referents, pickler_size},
    {"_pickle.Unpickler", 264, unpickler_referents, unpickler_size},
    {"_pickle.Pdata", 56, pdata_referents, NULL},
    {NULL, 0, NULL, NULL},
};
