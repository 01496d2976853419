/* libFuzzer harness: the whole pipeline over a corrupted synthetic CPython.
 *
 * Input: byte 0 picks the version (3.8 + byte % 6, as when the corpus and
 * the regressions were made), and every input runs again on the 3.14 world
 * (the last of versions.h: 32-bit refcounts, tagged stack references, tuples
 * with a cached hash), so that 3.14 gets all of them, and on one of the
 * releases read through their _Py_DebugOffsets (tests/unit/releases.h), picked
 * by (byte 0 / 6) % 4: 3.14.5 (interpreter fields moved), 3.14.3 (the
 * incremental collector, old-space bits), 3.15 (its 888-byte
 * _Py_DebugOffsets, lazy imports, frozendict, a sentinel), a "3.16" (newer
 * than every table: assumed and checked); the mutations reach their
 * _Py_DebugOffsets too (at the start of the runtime); and on the free-threaded
 * 3.14 world of tests/unit/ft_world.h (mimalloc's heaps); the rest is a sequence
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
 * succeeds ph_heap_info_get, ph_partition_new (every kind),
 * ph_sizes_get / ph_preview / ph_backrefs_get /
 * ph_referrers_get / ph_referents_get on a few objects, ph_objects_get, ph_alloc_get, ph_leaks_get,
 * ph_dominators(h, 0, 3, 5), ph_suspects_get, ph_owners_get, ph_resolve_path on a
 * few paths; everything is
 * freed.  Returned errors are fine; crashes, sanitizer reports, leaks and
 * slowness are bugs. */
#include "releases.h"
#include "ft_world.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A built world, kept as a template: its arena's used bytes and addresses. */
typedef struct template {
    unsigned char *mem;  /* the template */
    size_t used;
    unsigned char *work; /* the copy each input corrupts, exactly used bytes */
    ph_reader *r;        /* over work, made once: a reader owns a 64 MiB page
                          * cache (for file segments only), too slow to make
                          * and free for every input */
    ph_symbols syms;
    uint64_t inst, instdict, modules, sysdict, node, A;
} template;

static template templates[NV];

/* The versions byte 0 picks from: 3.8-3.13 (3.14, the last, runs every input). */
#define NV_PICKED 6
_Static_assert(NV == NV_PICKED + 1, "versions.h: 3.8-3.14, the last run on every input");

/* The releases of releases.h, run on every input besides. */
#define NEXTRA 4
static template extra_templates[NEXTRA];

static void template_from(template *t, world *w);

/* test_walk.c's world, copied out of its image as a template. */
static void make_template(template *t, int i)
{
    world w;
    make_world(&w, i);
    template_from(t, &w);
}

static void make_extra_template(template *t, int i)
{
    world w;
    world315 x;
    uint64_t D, E;
    switch (i) {
    case 0: world_3_14_5(&w); break;
    case 1: world_3_14_3(&w, &D, &E, 240); break;
    case 2: world_3_15(&w, &x); break;
    default: world_3_16(&w, &x, NULL); break;
    }
    template_from(t, &w);
}

static void template_from(template *t, world *wp)
{
    world w = *wp;
    t->inst = w.inst;
    t->instdict = w.instdict;
    t->modules = w.modules;
    t->sysdict = w.sysdict;
    t->node = w.node;
    t->A = w.A;
    t->syms = w.syms;
    t->used = (w.im.used + 15) & ~(size_t)15;
    t->mem = malloc(t->used);
    t->work = malloc(t->used);
    if (!t->mem || !t->work)
        abort();
    memcpy(t->mem, w.im.mem, t->used);
    img_free(&w.im);
    if (ph_reader_new(&t->r) || ph_reader_add_buffer(t->r, IMG_BASE, t->used, t->work))
        abort();
}

/* The template of version index i, built on first use. */
static const template *get_world(int i)
{
    if (!templates[i].mem)
        make_template(&templates[i], i);
    return &templates[i];
}

/* The template of release i of releases.h, built on first use. */
static const template *get_extra_world(int i)
{
    if (!extra_templates[i].mem)
        make_extra_template(&extra_templates[i], i);
    return &extra_templates[i];
}

/* The free-threaded 3.14 world of tests/unit/ft_world.h (mimalloc's pages
 * and free lists, the 32-byte header), whole: its pages lie beyond what
 * the image allocated. */
static template ft_template;

static const template *get_ft_world(void)
{
    template *t = &ft_template;
    if (t->mem)
        return t;
    ft_world w;
    make_ft_world(&w, false);
    t->inst = w.A;
    t->instdict = w.B;
    t->modules = w.P;
    t->sysdict = w.T;
    t->node = 0;
    t->A = w.A;
    t->syms = w.syms;
    t->used = w.im.cap;
    t->mem = malloc(t->used);
    t->work = malloc(t->used);
    if (!t->mem || !t->work)
        abort();
    memcpy(t->mem, w.im.mem, t->used);
    img_free(&w.im);
    if (ph_reader_new(&t->r) || ph_reader_add_buffer(t->r, IMG_BASE, t->used, t->work))
        abort();
    return t;
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
    ph_backrefs *b = NULL;
    err = ph_backrefs_get(h, addr, 3, &b);
    if (!err)
        ph_backrefs_free(b);
    drop(err);
    ph_links *l = NULL;
    err = ph_referrers_get(h, addr, &l);
    if (!err)
        ph_links_free(l);
    drop(err);
    l = NULL;
    err = ph_referents_get(h, addr, &l);
    if (!err)
        ph_links_free(l);
    drop(err);
}

/* FUZZ_WALK_VERBOSE=1: say what each input built (for the regression driver). */
static bool verbose;

static void run(const template *w, const uint8_t *data, size_t size)
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
        static const ph_partition_by bys[] = {PH_BY_KIND,   PH_BY_TYPE, PH_BY_SIZE,
                                              PH_BY_MODULE, PH_BY_RCS,  PH_BY_VIA};
        for (size_t b = 0; b < sizeof(bys) / sizeof(bys[0]); b++) {
            ph_partition *p = NULL;
            ph_error *e = ph_partition_new(h, bys[b], &p);
            if (!e) {
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
        ph_suspects *su = NULL;
        e = ph_suspects_get(h, 0.01, 0, &su);
        if (!e)
            ph_suspects_free(su);
        drop(e);
        ph_owners *ow = NULL;
        e = ph_owners_get(h, 1, 100, &ow);
        if (!e)
            ph_owners_free(ow);
        drop(e);
        static const char *const paths[] = {
            "mod:main.a", "sys:modules['main']", "sys:modules['main'].a",
            "sys:version", "sys:modules['main'].__class__",
        };
        for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
            uint64_t addr = 0;
            drop(ph_resolve_path(h, paths[k], &addr));
        }
        ph_alloc *al = NULL;
        ph_error *ae = ph_alloc_get(h, &al); /* pymalloc, or mimalloc's pages */
        if (!ae)
            ph_alloc_free(al);
        drop(ae);
        ph_leaks *lk = NULL;
        ph_error *le = ph_leaks_get(h, &lk);
        if (!le)
            ph_leaks_free(lk);
        drop(le);
        ph_objects *objs = NULL;
        ph_error *oe = ph_objects_get(h, "dict", 0, 3, &objs);
        if (!oe)
            ph_objects_free(objs);
        drop(oe);
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
    run(get_world(data[0] % NV_PICKED), data + 1, size - 1);
    run(get_world(NV - 1), data + 1, size - 1); /* 3.14 */
    run(get_extra_world((data[0] / NV_PICKED) % NEXTRA), data + 1, size - 1);
    run(get_ft_world(), data + 1, size - 1);    /* 3.14 free-threaded */
    return 0;
}
