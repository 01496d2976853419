/* Facts about CPython 3.8-3.14 that the synthetic images of several tests
 * share: the versions, sys.version and PY_VERSION_HEX, and the class
 *     class Node: pass   (in module "mod")
 * as each version lays it out, with builders for it and for GC lists.
 * Tables are indexed by minor - 8. */
#ifndef PH_TEST_VERSIONS_H
#define PH_TEST_VERSIONS_H

#include "image.h"

#define NV 7
static const int MINORS[NV] = {8, 9, 10, 11, 12, 13, 14};
#define FOR_EACH_VERSION(i) for (int i = 0; i < NV; i++)

/* ---- class Node: pass, in module "mod" ------------------------------------------------ */

/* Node.__flags__ without the version-tag bits 18/19: HEAPTYPE | BASETYPE |
 * READY | HAVE_GC (0x5600), plus MANAGED_DICT (3.11), + MANAGED_WEAKREF
 * (3.12), + INLINE_VALUES (3.13, 3.14: Node.__flags__ in 3.14.7 too). */
static const uint64_t NODE_FLAGS[NV] = {0x5600, 0x5600, 0x5600, 0x5610, 0x5618, 0x561c, 0x561c};
/* Node.__basicsize__, __dictoffset__, __weakrefoffset__ */
static const int64_t NODE_BASICSIZE[NV] = {32, 32, 32, 24, 16, 16, 16};
static const int64_t NODE_DICTOFFSET[NV] = {16, 16, 16, -48, -1, -1, -1};
static const int64_t NODE_WEAKLISTOFFSET[NV] = {24, 24, 24, 16, -32, -32, -32};
/* Node's ht_cached_keys: what CPython made for it (see SZ_NODE_CLS). */
static inline uint64_t node_cached_keys(img *im, size_t n, const uint64_t *keys)
{
    if (im->L->dk_size != PH_NONE)
        return img_keys(im, 3, IMG_DK_SPLIT, 1, (int64_t)(5 - n), n, keys, NULL);
    return img_keys(im, 6, IMG_DK_SPLIT, 1, (int64_t)(30 - n), n, keys, NULL);
}

static inline uint64_t make_node(img *im, int i, size_t nkeys, const uint64_t *keys)
{
    return img_heap_type(im, "mod", "Node", im->object_type, NODE_BASICSIZE[i],
                         NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i], NODE_FLAGS[i],
                         node_cached_keys(im, nkeys, keys));
}

/* An instance of Node whose __dict__ is dict (0: none yet), put where each
 * version keeps it: at tp_dictoffset (3.8-3.10), in the pre-header's dict
 * slot (3.11+, MANAGED_DICT; on 3.12 a dict pointer is stored untagged). */
static inline uint64_t make_instance(img *im, int i, uint64_t node, uint64_t dict)
{
    const ph_layout *L = im->L;
    bool managed = MINORS[i] >= 11;
    uint64_t o = img_object(im, node, (size_t)NODE_BASICSIZE[i] + (MINORS[i] >= 13 ? 8 + 8 * 4 : 0),
                            true, managed);
    if (managed)
        img_w64(im, o + (uint64_t)(int64_t)L->managed_dict, dict);
    else
        img_w64(im, o + (uint64_t)NODE_DICTOFFSET[i], dict);
    return o;
}

static const char *const SYS_VERSION[NV] = {
    "3.8.18 (default, Jan  1 2024, 00:00:00) \n[GCC 12.2.0]",
    "3.9.18 (main, Jan  1 2024, 00:00:00) \n[GCC 12.2.0]",
    "3.10.13 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.11.7 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.12.1 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.13.0 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.14.7 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
};
static const char *const VERSION_TEXT[NV] = {"3.8.18", "3.9.18", "3.10.13",
                                             "3.11.7", "3.12.1", "3.13.0", "3.14.7"};
static const uint64_t VERSION_HEX[NV] = {0, 0, 0, 0x030B07F0, 0x030C01F0, 0x030D00F0, 0x030E07F0};

static inline uint64_t u64_at(img *im, uint64_t v)
{
    uint64_t a = img_alloc(im, 8);
    img_w64(im, a, v);
    return a;
}

/* Links objs (GC objects) into the GC list at head, after what is there. */
static inline void gc_list(img *im, uint64_t head, size_t n, const uint64_t *objs)
{
    const uint64_t gh = (uint64_t)im->L->gc_head_size;
    uint64_t prev = img_r64(im, head + 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t g = objs[i] - gh;
        img_w64(im, prev, g);     /* prev->_gc_next */
        img_w64(im, g + 8, prev); /* g->_gc_prev */
        prev = g;
    }
    img_w64(im, prev, head);
    img_w64(im, head + 8, prev);
}

#endif
