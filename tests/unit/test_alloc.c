/* The allocator walk (core/src/alloc.c) over a synthetic pymalloc, for every
 * version: one arena, not aligned on a pool, of which four pools are carved:
 *   pool 0  32-byte blocks: ints in blocks 0, 2 and 3; 1 and 4 on the free list
 *   pool 1  empty (ref.count 0)
 *   pool 2  64-byte blocks: a list (a GC object) in block 0
 *   pool 3  64-byte blocks whose free list loops: corrupt
 * It is slot 2 of a 16-entry arena_object array; the array is found through
 * a file static `arenas` (with `maxarenas` before it) near _PyRuntime on
 * 3.8-3.11, and through the interpreter's struct _obmalloc_state on 3.12+.
 * Outside the arena: a tuple of 100 items (840 bytes: from malloc) and a
 * static type.  Numbers expected here follow from that construction and
 * from obmalloc's rules (capacity = (POOL_SIZE - POOL_OVERHEAD) / size;
 * an arena not aligned on a pool loses one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "versions.h"

typedef struct pm {
    img im;
    ph_heap *h;
    uint64_t runtime, state, var, arenas, arena, base;
    uint64_t pools[4];
    uint64_t ints[3], list, tuple;
} pm;

static uint64_t geo(const ph_layout *L, int what)
{
    return (uint64_t)(what == 0 ? L->arena_size : what == 1 ? L->pool_size : 48);
}

static void pool_header(pm *p, int k, uint32_t count, uint32_t szidx, uint32_t carved,
                        uint64_t freeblock)
{
    const ph_layout *L = p->im.L;
    uint64_t pool = p->pools[k], size = 16 * (szidx + 1);
    img_w32(&p->im, pool + (uint64_t)L->pool_ref_count, count);
    img_w64(&p->im, pool + (uint64_t)L->pool_freeblock, freeblock);
    img_w32(&p->im, pool + (uint64_t)L->pool_arenaindex, 2);
    img_w32(&p->im, pool + (uint64_t)L->pool_szidx, szidx);
    img_w32(&p->im, pool + (uint64_t)L->pool_nextoffset, (uint32_t)(48 + carved * size));
    img_w32(&p->im, pool + (uint64_t)L->pool_maxnextoffset, (uint32_t)(geo(L, 1) - size));
}

static uint64_t block(pm *p, int k, uint64_t size, int n)
{
    return p->pools[k] + 48 + size * (uint64_t)n;
}

/* An int (non-GC) written into a block. */
static uint64_t int_at(pm *p, uint64_t at, uint32_t v)
{
    const ph_layout *L = p->im.L;
    img_w64(&p->im, at, 1);
    img_w64(&p->im, at + 8, p->im.int_type);
    if (L->long_lv_tag != PH_NONE)
        img_field(&p->im, at, L->long_lv_tag, UINT64_C(1) << 3);
    else
        img_w64(&p->im, at + 16, 1);
    img_w32(&p->im, at + (uint64_t)L->long_digits, v);
    return at;
}

static uint32_t add(pm *p, uint64_t addr)
{
    uint32_t id = img_index(p->h, addr);
    if (id == PH_NO_OBJ)
        img_die("not an object", addr);
    if (ph_index_set_size(&p->h->idx, id, img_flat_size(p->h, addr)))
        img_die("no memory for a size", addr);
    return id;
}

static void build(pm *p, int minor)
{
    memset(p, 0, sizeof(*p));
    img *im = &p->im;
    img_init(im, minor, 8u << 20);
    const ph_layout *L = im->L;
    uint64_t asz = geo(L, 0), psz = geo(L, 1);

    /* _PyRuntime and one interpreter */
    p->runtime = img_alloc(im, (size_t)L->runtime_interpreters_head + 8);
    uint64_t interp_size = (uint64_t)L->interp_next + 8;
    if (L->interp_obmalloc != PH_NONE)
        interp_size = (uint64_t)L->interp_obmalloc + (uint64_t)L->obmalloc_map_bot_count + 8;
    if (L->interp_obmalloc_ptr != PH_NONE)
        interp_size = (uint64_t)L->interp_obmalloc_ptr + 8;
    uint64_t interp = img_alloc(im, (size_t)interp_size);
    img_field(im, p->runtime, L->runtime_interpreters_head, interp);

    /* the arena_object array: 16 slots, the arena in slot 2 */
    p->arenas = img_alloc(im, 16 * (size_t)L->arena_object_sizeof);

    /* where the array is found */
    if (L->interp_obmalloc != PH_NONE || L->interp_obmalloc_ptr != PH_NONE) {
        if (L->interp_obmalloc != PH_NONE) {
            p->state = interp + (uint64_t)L->interp_obmalloc;
        } else {
            p->state = img_alloc(im, (size_t)L->obmalloc_map_bot_count + 8);
            img_field(im, interp, L->interp_obmalloc_ptr, p->state);
        }
        img_field(im, p->state, L->obmalloc_arenas, p->arenas);
        img_w32(im, p->state + (uint64_t)L->obmalloc_maxarenas, 16);
        img_field(im, p->state, L->obmalloc_raw_allocated_blocks, 7);
        img_w32(im, p->state + (uint64_t)L->obmalloc_map_mid_count, 1);
        img_w32(im, p->state + (uint64_t)L->obmalloc_map_bot_count, 1);
        p->var = p->state + (uint64_t)L->obmalloc_arenas;
    } else {
        uint64_t statics = img_alloc(im, 32); /* maxarenas, then arenas */
        img_w32(im, statics, 16);
        p->var = statics + 8;
        img_w64(im, p->var, p->arenas);
    }

    /* the arena: one pool past an aligned address, plus 16 bytes */
    uint64_t region = img_alloc(im, (size_t)(asz + psz));
    p->arena = ((region + psz - 1) & ~(psz - 1)) + 16;
    p->base = (p->arena + psz - 1) & ~(psz - 1);
    for (int k = 0; k < 4; k++)
        p->pools[k] = p->base + (uint64_t)k * psz;
    uint64_t ao = p->arenas + 2 * (uint64_t)L->arena_object_sizeof;
    uint32_t ntotal = (uint32_t)(asz / psz - 1);
    img_w64(im, ao + (uint64_t)L->arena_address, p->arena);
    img_w64(im, ao + (uint64_t)L->arena_pool_address, p->base + 4 * psz);
    img_w32(im, ao + (uint64_t)L->arena_ntotalpools, ntotal);
    img_w32(im, ao + (uint64_t)L->arena_nfreepools, ntotal - 4 + 1);

    /* pool 0: ints in 0, 2, 3; free list 1 -> 4 */
    for (int n = 0, v = 0; n < 4; n++)
        if (n != 1)
            p->ints[v] = int_at(p, block(p, 0, 32, n), (uint32_t)(100 + v)), v++;
    img_w64(im, block(p, 0, 32, 1), block(p, 0, 32, 4));
    img_w64(im, block(p, 0, 32, 4), 0);
    pool_header(p, 0, 3, 1, 5, block(p, 0, 32, 1));
    /* pool 1: empty */
    pool_header(p, 1, 0, 1, 1, 0);
    /* pool 2: a list after its GC header in block 0 */
    p->list = block(p, 2, 64, 0) + (uint64_t)L->gc_head_size;
    img_w64(im, p->list, 1);
    img_w64(im, p->list + 8, im->list_type);
    pool_header(p, 2, 1, 3, 1, 0);
    /* pool 3: block 1 is free and points to itself */
    img_w64(im, block(p, 3, 64, 1), block(p, 3, 64, 1));
    pool_header(p, 3, 1, 3, 2, block(p, 3, 64, 1));

    /* outside the arena */
    uint64_t items[100];
    for (int k = 0; k < 100; k++)
        items[k] = p->ints[k % 3];
    p->tuple = img_tuple(im, 100, items);

    p->h = img_heap(im);
    p->h->syms.py_runtime = p->runtime;
    for (int k = 0; k < 3; k++)
        add(p, p->ints[k]);
    add(p, p->list);
    add(p, p->tuple);
    add(p, im->int_type);
}

static void release(pm *p)
{
    img_heap_free(p->h);
    img_free(&p->im);
}

typedef struct seen_blocks {
    size_t n;
    uint64_t block[16];
    uint32_t size[16];
} seen_blocks;

static bool collect(uint64_t b, uint32_t size, void *payload)
{
    seen_blocks *s = payload;
    if (s->n < 16) {
        s->block[s->n] = b;
        s->size[s->n] = size;
    }
    s->n++;
    return false;
}

static void test_walk(void **state)
{
    FOR_EACH_VERSION(i)
    {
        pm p;
        build(&p, MINORS[i]);
        const ph_layout *L = p.im.L;
        uint64_t psz = geo(L, 1);
        ph_alloc *a;
        ph_error *err = ph_alloc_get(p.h, &a);
        if (err)
            fail_msg("3.%d: ph_alloc_get: %s", MINORS[i], err->message);
        bool interp_state = MINORS[i] >= 12;
        assert_string_equal(a->found_by, interp_state ? "interpreter state" : "search");
        assert_int_equal(a->arenas_var, p.var);
        assert_int_equal(a->arenas_at, p.arenas);
        assert_int_equal(a->maxarenas, 16);
        assert_int_equal(a->arena_objects_bytes, 16 * (uint64_t)L->arena_object_sizeof);
        assert_int_equal(a->arena_size, (uint64_t)L->arena_size);
        assert_int_equal(a->pool_size, psz);
        assert_int_equal(a->arenas, 1);
        assert_int_equal(a->arena_bytes, (uint64_t)L->arena_size);
        assert_int_equal(a->pools_used, 2);
        assert_int_equal(a->pools_unused, (uint64_t)L->arena_size / psz - 1 - 4 + 1);
        assert_int_equal(a->corrupt_pools, 1);
        assert_int_equal(a->corrupt_arenas, 0);
        assert_int_equal(a->alignment_bytes, psz);
        uint64_t cap32 = (psz - 48) / 32, cap64 = (psz - 48) / 64;
        assert_int_equal(a->classes[1].pools, 1);
        assert_int_equal(a->classes[1].blocks_used, 3);
        assert_int_equal(a->classes[1].blocks_free, cap32 - 3);
        assert_int_equal(a->classes[1].objects, 3);
        assert_int_equal(a->classes[3].pools, 1);
        assert_int_equal(a->classes[3].blocks_used, 1);
        assert_int_equal(a->classes[3].blocks_free, cap64 - 1);
        assert_int_equal(a->classes[3].objects, 1);
        assert_int_equal(a->blocks_used, 4);
        assert_int_equal(a->bytes_used, 3 * 32 + 64);
        assert_int_equal(a->pool_header_bytes, 2 * 48);
        assert_int_equal(a->quantization_bytes, (psz - 48) % 32 + (psz - 48) % 64);
        assert_int_equal(a->raw_allocated_blocks, interp_state ? 7 : -1);
        assert_int_equal(a->map_bytes, interp_state ? (uint64_t)L->arena_map_mid_sizeof +
                                                          (uint64_t)L->arena_map_bot_sizeof
                                                    : 0);
        assert_int_equal(a->objects_in_arenas, 4);
        assert_int_equal(a->objects_malloc, 1);
        assert_int_equal(a->bytes_malloc, img_flat_size(p.h, p.tuple));
        assert_int_equal(a->objects_static, 1);
        assert_int_equal(a->objects_stray, 0);
        assert_int_equal(a->nmalloc_types, 1);
        assert_string_equal(a->malloc_types[0].kind, "tuple");

        seen_blocks s = {0};
        err = ph_alloc_blocks(p.h, a, collect, &s);
        assert_null(err);
        assert_int_equal(s.n, 4); /* pool 3 is left out */
        uint64_t want[4] = {block(&p, 0, 32, 0), block(&p, 0, 32, 2), block(&p, 0, 32, 3),
                            block(&p, 2, 64, 0)};
        uint64_t objs[4] = {p.ints[0], p.ints[1], p.ints[2], p.list};
        for (int k = 0; k < 4; k++) {
            assert_int_equal(s.block[k], want[k]);
            assert_int_equal(s.size[k], k < 3 ? 32 : 64);
            assert_int_equal(ph_alloc_block_object(p.h, s.block[k], s.size[k]), objs[k]);
        }
        /* a free block holds a free-list pointer, not an object */
        assert_int_equal(ph_alloc_block_object(p.h, block(&p, 0, 32, 1), 32), 0);
        ph_alloc_free(a);
        release(&p);
    }
}

/* Damage, one kind at a time: each is counted, none is followed. */
static void test_damaged(void **state)
{
    FOR_EACH_VERSION(i)
    {
        for (int damage = 0; damage < 6; damage++) {
            pm p;
            build(&p, MINORS[i]);
            const ph_layout *L = p.im.L;
            uint64_t ao = p.arenas + 2 * (uint64_t)L->arena_object_sizeof;
            uint64_t want_corrupt_pools = 1, want_arenas = 1;
            switch (damage) {
            case 0: /* ref.count disagrees with the free list */
                img_w32(&p.im, p.pools[0] + (uint64_t)L->pool_ref_count, 2);
                want_corrupt_pools = 2;
                break;
            case 1: /* a free block outside the pool */
                img_w64(&p.im, block(&p, 0, 32, 4), p.tuple);
                want_corrupt_pools = 2;
                break;
            case 2: /* a pool that names another arena */
                img_w32(&p.im, p.pools[2] + (uint64_t)L->pool_arenaindex, 3);
                want_corrupt_pools = 2;
                break;
            case 3: /* a size class that does not exist */
                img_w32(&p.im, p.pools[2] + (uint64_t)L->pool_szidx, 200);
                want_corrupt_pools = 2;
                break;
            case 4: /* an arena whose pools end past it */
                img_w64(&p.im, ao + (uint64_t)L->arena_pool_address,
                        p.arena + 2 * (uint64_t)L->arena_size);
                want_corrupt_pools = 0;
                want_arenas = 0;
                break;
            case 5: /* a huge maxarenas, or a pointer to nowhere */
                if (p.state)
                    img_w32(&p.im, p.state + (uint64_t)L->obmalloc_maxarenas, 0xFFFFFFFF);
                else
                    img_w64(&p.im, p.var, 0x7f0000000000);
                break;
            }
            ph_alloc *a;
            ph_error *err = ph_alloc_get(p.h, &a);
            if (err)
                fail_msg("3.%d damage %d: ph_alloc_get: %s", MINORS[i], damage, err->message);
            if ((damage == 4 || damage == 5) && !p.state) {
                /* 3.8-3.11: the pointer is gone, or its only arena makes no
                 * sense: the search finds no state */
                assert_string_equal(a->found_by, "none");
                assert_int_equal(a->arenas, 0);
                assert_int_equal(a->objects_in_arenas, 0);
            } else {
                assert_int_equal(a->arenas, want_arenas);
                assert_int_equal(a->corrupt_pools, want_corrupt_pools);
                if (damage == 4)
                    assert_int_equal(a->corrupt_arenas, 1);
                if (damage == 5) /* the array's end is past the image */
                    assert_true(a->corrupt_arenas >= 1);
            }
            /* the objects are all placed somewhere */
            assert_int_equal(a->objects_in_arenas + a->objects_malloc + a->objects_static +
                                 a->objects_stray,
                             p.h->idx.n);
            seen_blocks s = {0};
            assert_null(ph_alloc_blocks(p.h, a, collect, &s));
            assert_int_equal(s.n, a->blocks_used);
            ph_alloc_free(a);
            release(&p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_walk, img_cleanup),
        cmocka_unit_test_teardown(test_damaged, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
