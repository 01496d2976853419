/* numpy.ndarray's own __sizeof__ (array_sizeof): basicsize, the dimensions
 * and strides (two npy_intp per dimension), and the data buffer when the
 * array owns it (NPY_ARRAY_OWNDATA).  numpy is not CPython: its offsets come
 * from numpy's headers, per major version, chosen by the target's own
 * numpy.__version__; an unknown numpy leaves ndarray sizes estimated. */
#include "heap/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct numpy_layout {
    int major;
    int32_t nd, dimensions, descr, flags; /* PyArrayObject_fields */
    int32_t elsize, elsize_bytes;         /* PyArray_Descr.elsize: int (1.x), npy_intp (2.x) */
} numpy_layout;

/* PyArrayObject_fields.data, and PyArray_Descr.type_num (int), the same in
 * 1.x and 2.x; NPY_OBJECT, the type number of dtype=object */
#define NPY_DATA 16
#define NPY_DESCR_TYPE_NUM 28
#define NPY_OBJECT 17
/* PyArrayObject_fields' object pointers, the same in 1.x and 2.x: base,
 * descr, and (1.22+) mem_handler, a capsule; weakreflist (72) is weak */
#define NPY_BASE 48
#define NPY_MEM_HANDLER 88

/* numpy/core/include/numpy/ndarraytypes.h (1.x: 1.20-1.26) and
 * numpy/_core/include/numpy/ndarraytypes.h (2.x) */
static const numpy_layout numpy_layouts[] = {
    {1, 24, 32, 56, 64, 32, 4},
    {2, 24, 32, 56, 64, 40, 8},
};

#define NPY_ARRAY_OWNDATA 0x0004

/* sys.modules[module].__dict__[name] of the main interpreter (str keys); 0 if absent. */
static uint64_t module_attr(ph_heap *h, const char *module, const char *name)
{
    uint64_t modules = 0, dict = 0;
    if (!h->interp_addr ||
        !ph_read_u64(h->r, h->interp_addr + (uint64_t)h->L->interp_modules, &modules) || !modules)
        return 0;
    uint64_t mod = ph_dict_get_str(h, modules, module);
    if (!mod || ph_object_check(h, mod) == UINT32_MAX ||
        !ph_read_u64(h->r, mod + (uint64_t)h->L->module_md_dict, &dict) || !dict)
        return 0;
    return ph_dict_get_str(h, dict, name);
}

void ph_numpy_detect(ph_heap *h)
{
    if (h->numpy_checked)
        return;
    h->numpy_checked = true;
    char text[32];
    uint64_t v = module_attr(h, "numpy", "__version__");
    if (!v || !ph_str_read(h, v, text, sizeof(text)))
        return; /* no numpy in this process */
    for (size_t i = 0; i < sizeof(numpy_layouts) / sizeof(numpy_layouts[0]); i++)
        if (atoi(text) == numpy_layouts[i].major)
            h->numpy = &numpy_layouts[i];
}

bool ph_ndarray_sizeof(ph_heap *h, uint64_t addr, const ph_type *t, uint64_t *size)
{
    const numpy_layout *np = h->numpy; /* ph_numpy_detect ran before the walk */
    if (!np)
        return false;
    int32_t nd = 0, flags = 0;
    uint64_t dims = 0, descr = 0;
    if (!ph_read(h->r, addr + (uint64_t)np->nd, &nd, 4) || nd < 0 || nd > 64 ||
        !ph_read(h->r, addr + (uint64_t)np->flags, &flags, 4))
        return false;
    uint64_t res = (uint64_t)t->basicsize + (uint64_t)nd * 16;
    if (flags & NPY_ARRAY_OWNDATA) {
        int64_t elsize = 0, d[64];
        if (!ph_read_u64(h->r, addr + (uint64_t)np->dimensions, &dims) ||
            !ph_read_u64(h->r, addr + (uint64_t)np->descr, &descr) ||
            (nd && !ph_read(h->r, dims, d, (size_t)nd * 8)) ||
            !ph_read(h->r, descr + (uint64_t)np->elsize, &elsize, (size_t)np->elsize_bytes))
            return false;
        uint64_t nbytes = (uint64_t)elsize;
        for (int32_t i = 0; i < nd; i++) {
            if (d[i] < 0 || (d[i] && nbytes > (UINT64_C(1) << 48) / (uint64_t)d[i]))
                return false;
            nbytes *= (uint64_t)d[i];
        }
        res += nbytes;
    }
    *size = res;
    return true;
}

/* The elements of an object array (dtype=object) that owns its data: its
 * buffer holds a strong reference to each (a view's elements are its
 * base's), prod(dimensions) pointers whatever the strides, labelled [i] in
 * the buffer's order.  numpy's arrays have no tp_traverse: a conservative
 * scan of the struct would see none of them. */
void ph_ndarray_referents(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload)
{
    const numpy_layout *np = h->numpy;
    if (!np)
        return; /* an unknown numpy: the struct is scanned conservatively */
    /* Its object fields, as array_traverse knows them (no conservative scan:
     * data, dimensions and strides point into buffers, not at objects). */
    static const struct {
        int32_t off;
        const char *name;
    } fields[] = {{NPY_BASE, ".base"}, {-1, ".dtype"}, {NPY_MEM_HANDLER, "<mem_handler>"}};
    uint32_t ti = ph_object_check(h, addr);
    int64_t basicsize = ti == UINT32_MAX ? 0 : h->types[ti].basicsize;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        uint64_t p = 0;
        int32_t off = fields[f].off < 0 ? np->descr : fields[f].off;
        if (off + 8 > basicsize) /* mem_handler: numpy 1.22 and later */
            continue;
        if (ph_read_u64(h->r, addr + (uint64_t)off, &p) && p) {
            PH_LABEL(h, EDGE_FIELD, fields[f].name, 0, 0);
            visit(h, p, payload);
        }
    }
    int32_t nd = 0, flags = 0, type_num = 0;
    uint64_t dims = 0, descr = 0, data = 0;
    int64_t d[64];
    if (!ph_read(h->r, addr + (uint64_t)np->nd, &nd, 4) || nd < 0 || nd > 64 ||
        !ph_read(h->r, addr + (uint64_t)np->flags, &flags, 4) || !(flags & NPY_ARRAY_OWNDATA) ||
        !ph_read_u64(h->r, addr + (uint64_t)np->descr, &descr) || !ph_ptr_ok(descr) ||
        !ph_read(h->r, descr + NPY_DESCR_TYPE_NUM, &type_num, 4) || type_num != NPY_OBJECT ||
        !ph_read_u64(h->r, addr + NPY_DATA, &data) || !ph_ptr_ok(data) ||
        !ph_read_u64(h->r, addr + (uint64_t)np->dimensions, &dims) ||
        (nd && !ph_read(h->r, dims, d, (size_t)nd * 8)))
        return;
    uint64_t n = 1;
    for (int32_t i = 0; i < nd; i++) {
        if (d[i] < 0 || (d[i] && n > MAX_ITEMS / (uint64_t)d[i])) {
            ph_skip(h, addr, "an object array whose dimensions are impossible");
            return;
        }
        n *= (uint64_t)d[i];
    }
    uint64_t buf[512];
    for (uint64_t i = 0; i < n; i += 512) {
        if (i && i % (512 * 64) == 0 && ph_poll(h))
            return;
        uint64_t k = n - i < 512 ? n - i : 512;
        if (!ph_read(h->r, data + 8 * i, buf, (size_t)k * 8)) {
            ph_skip(h, data, "an object array whose data cannot be read");
            return;
        }
        for (uint64_t j = 0; j < k; j++) {
            if (!buf[j])
                continue;
            PH_LABEL(h, EDGE_INDEX, NULL, i + j, 0);
            visit(h, buf[j], payload);
        }
    }
}
