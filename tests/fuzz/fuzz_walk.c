/* libFuzzer harness: the whole pipeline over a corrupted synthetic CPython.
 *
 * Input: byte 0 picks the version (3.8 + byte % 6); the rest is a sequence
 * of 12-byte mutations {u32 where, u64 value} (little-endian) applied to a
 * copy of a well-formed synthetic runtime (the world of tests/unit/
 * test_walk.c's make_world, built with tests/unit/image.h):
 *   offset = (where & 0x7fffffff) % (used - 7)  -- anywhere in the arena,
 *                                                  aligned or not
 *   where & 0x80000000: value is a pointer into the arena,
 *                       IMG_BASE + value % used  -- so that the fuzzer
 *                       easily makes pointers that lead somewhere
 *   otherwise the raw value is written.
 * A trailing partial record is ignored.  Then: ph_heap_build, and when it
 * succeeds ph_heap_info_get, ph_partition_new (both kinds) with
 * ph_format_partition, ph_sizes_get / ph_preview on a few objects,
 * ph_dominators(h, 0, 3, 5), ph_resolve_path on a few paths; everything is
 * freed.  Returned errors are fine; crashes, sanitizer reports, leaks and
 * slowness are bugs. */
#include "image.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NV 6
static const int MINORS[NV] = {8, 9, 10, 11, 12, 13};

/* ---- the world (a copy of test_walk.c's make_world) -------------------------------- */

static const uint64_t NODE_FLAGS[NV] = {0x5600, 0x5600, 0x5600, 0x5610, 0x5618, 0x561c};
static const int64_t NODE_BASICSIZE[NV] = {32, 32, 32, 24, 16, 16};
static const int64_t NODE_DICTOFFSET[NV] = {16, 16, 16, -48, -1, -1};
static const int64_t NODE_WEAKLISTOFFSET[NV] = {24, 24, 24, 16, -32, -32};
static const char *const SYS_VERSION[NV] = {
    "3.8.18 (default, Jan  1 2024, 00:00:00) \n[GCC 12.2.0]",
    "3.9.18 (main, Jan  1 2024, 00:00:00) \n[GCC 12.2.0]",
    "3.10.13 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.11.7 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.12.1 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
    "3.13.0 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]",
};
static const uint64_t VERSION_HEX[NV] = {0, 0, 0, 0x030B07F0, 0x030C01F0, 0x030D00F0};

static uint64_t node_cached_keys(img *im, size_t n, const uint64_t *keys)
{
    if (im->L->dk_size != PH_NONE)
        return img_keys(im, 3, IMG_DK_SPLIT, 1, (int64_t)(5 - n), n, keys, NULL);
    return img_keys(im, 6, IMG_DK_SPLIT, 1, (int64_t)(30 - n), n, keys, NULL);
}

static uint64_t make_node(img *im, int i, size_t nkeys, const uint64_t *keys)
{
    return img_heap_type(im, "mod", "Node", im->object_type, NODE_BASICSIZE[i],
                         NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i], NODE_FLAGS[i],
                         node_cached_keys(im, nkeys, keys));
}

static uint64_t make_instance(img *im, int i, uint64_t node, uint64_t dict)
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

static void gc_list(img *im, uint64_t head, size_t n, const uint64_t *objs)
{
    const uint64_t gh = (uint64_t)im->L->gc_head_size;
    uint64_t prev = img_r64(im, head + 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t g = objs[i] - gh;
        img_w64(im, prev, g);
        img_w64(im, g + 8, prev);
        prev = g;
    }
    img_w64(im, prev, head);
    img_w64(im, head + 8, prev);
}

/* A built world, kept as a template: its arena's used bytes and addresses. */
typedef struct world {
    unsigned char *mem;  /* the template */
    size_t used;
    unsigned char *work; /* the copy each input corrupts, exactly used bytes */
    ph_reader *r;        /* over work, made once: a reader owns a 64 MiB page
                          * cache (for file segments only), too slow to make
                          * and free for every input */
    ph_symbols syms;
    uint64_t inst, instdict, modules, sysdict, node, A;
} world;

static world worlds[NV];

#define WORLD_CAP (1u << 21) /* only the used part is copied per input */

static void make_world(world *w, int i)
{
    img imv, *im = &imv;
    img_init(im, MINORS[i], WORLD_CAP);
    const ph_layout *L = im->L;
    uint64_t runtime, interp, gc;
    img_runtime(im, &runtime, &interp, &gc);

    uint64_t k, v;
    k = img_str(im, "version");
    v = img_str(im, SYS_VERSION[i]);
    w->sysdict = img_dict(im, 3, true, 1, &k, &v);
    img_field(im, interp, L->interp_sysdict, w->sysdict);
    k = img_str(im, "x");
    uint64_t int5 = img_int(im, 5);
    img_field(im, interp, L->interp_builtins, img_dict(im, 3, true, 1, &k, &int5));
    uint64_t ka = img_str(im, "a"), seven = img_int(im, 7);
    w->node = make_node(im, i, 1, &ka);
    w->instdict = img_dict(im, 3, true, 1, &ka, &seven);
    w->inst = make_instance(im, i, w->node, w->instdict);
    k = img_str(im, "main");
    w->modules = img_dict(im, 3, true, 1, &k, &w->inst);
    img_field(im, interp, L->interp_modules, w->modules);

    if (L->interp_types_builtins != PH_NONE) {
        k = img_str(im, "__doc__");
        v = img_str(im, "The base class of the class hierarchy.");
        img_field(im, im->object_type, L->tp_subclasses, 1);
        img_field(im, interp + (uint64_t)L->interp_types_builtins, L->static_builtin_state_tp_dict,
                  img_dict(im, 3, true, 1, &k, &v));
    }

    uint64_t A = img_list(im, 1, 1, (uint64_t[]){0});
    uint64_t B = img_list(im, 1, 1, &A);
    img_w64(im, img_r64(im, A + (uint64_t)L->list_ob_item), B);
    uint64_t C = img_list(im, 0, 0, NULL);
    w->A = A;
    gc_list(im, gc + (uint64_t)L->gc_generations, 3, (uint64_t[]){A, B, C});
    gc_list(im, gc + (uint64_t)L->gc_generations + 2 * (uint64_t)L->gc_generation_size, 1,
            &w->instdict);

    memset(&w->syms, 0, sizeof(w->syms));
    w->syms.py_runtime = runtime;
    w->syms.type_type = im->type_type;
    if (VERSION_HEX[i]) {
        uint64_t a = img_alloc(im, 8);
        img_w64(im, a, VERSION_HEX[i]);
        w->syms.py_version = a;
    }
    w->used = (im->used + 15) & ~(size_t)15;
    w->mem = malloc(w->used);
    if (!w->mem)
        abort();
    memcpy(w->mem, im->mem, w->used);
    img_free(im);
    w->work = malloc(w->used);
    if (!w->work || ph_reader_new(&w->r) || ph_reader_add_buffer(w->r, IMG_BASE, w->used, w->work))
        abort();
}

/* The template of version index i, built on first use. */
static const world *get_world(int i)
{
    if (!worlds[i].mem)
        make_world(&worlds[i], i);
    return &worlds[i];
}

/* ---- the pipeline ------------------------------------------------------------------ */

static void drop(ph_error *err)
{
    if (err)
        ph_error_free(err);
}

static void sizes_of(ph_heap *h, uint64_t addr)
{
    ph_sizes *s = NULL;
    ph_error *err = ph_sizes_get(h, addr, &s);
    if (!err)
        ph_sizes_free(s);
    drop(err);
    char buf[128];
    ph_preview(h, addr, buf, sizeof(buf));
    ph_object o;
    (void)ph_heap_object(h, addr, &o);
}

/* FUZZ_WALK_VERBOSE=1: say what each input built (for the regression driver). */
static bool verbose;

static void run(const world *w, const uint8_t *data, size_t size)
{
    unsigned char *mem = w->work;
    memcpy(mem, w->mem, w->used);
    const size_t span = w->used - 7;
    for (; size >= 12; data += 12, size -= 12) {
        uint32_t where;
        uint64_t value;
        memcpy(&where, data, 4);
        memcpy(&value, data + 4, 8);
        size_t off = (where & 0x7fffffffu) % span;
        if (where & 0x80000000u)
            value = IMG_BASE + value % w->used;
        memcpy(mem + off, &value, 8);
    }

    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->r, &w->syms, NULL, &h);
    if (!err) {
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        if (verbose)
            fprintf(stderr, "fuzz_walk: %s: %llu objects, %llu bytes, %llu skipped\n",
                    info.version.text, (unsigned long long)info.objects,
                    (unsigned long long)info.bytes, (unsigned long long)info.skipped);
        static const ph_partition_by bys[2] = {PH_BY_KIND, PH_BY_TYPE};
        for (int b = 0; b < 2; b++) {
            ph_partition *p = NULL;
            ph_error *e = ph_partition_new(h, bys[b], &p);
            if (!e) {
                free(ph_format_partition(p, "Kind (class / dict of class)", 0, p->nrows));
                free(ph_format_partition(p, "Kind", 1, 2));
                ph_partition_free(p);
            }
            drop(e);
        }
        sizes_of(h, w->inst);
        sizes_of(h, w->instdict);
        sizes_of(h, w->modules);
        sizes_of(h, w->A);
        ph_dominated_list *dl = NULL;
        ph_error *e = ph_dominators(h, 0, 3, 5, &dl);
        if (!e)
            ph_dominated_list_free(dl);
        drop(e);
        dl = NULL;
        e = ph_dominators(h, w->inst, 2, 3, &dl);
        if (!e)
            ph_dominated_list_free(dl);
        drop(e);
        static const char *const paths[] = {
            "mod:main.a", "sys:modules['main']", "sys:modules['main'].a",
            "sys:version", "sys:modules['main'].__class__",
        };
        for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
            uint64_t addr = 0;
            drop(ph_resolve_path(h, paths[k], &addr));
        }
        ph_heap_free(h);
    }
    if (err && verbose)
        fprintf(stderr, "fuzz_walk: error: %s\n", err->message);
    drop(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        init = true;
        const char *v = getenv("FUZZ_WALK_VERBOSE");
        verbose = v && *v && *v != '0';
    }
    if (size < 1)
        return 0;
    run(get_world(data[0] % NV), data + 1, size - 1);
    return 0;
}
