/* pymalloc read from outside: every arena, pool and block, and where each
 * object of the index lives.
 *
 * Where the allocator keeps its state:
 *   3.8-3.11  file statics of Objects/obmalloc.c (`arenas`, `maxarenas`),
 *             named by .symtab only, so they are searched for: a few objects
 *             of the index give pools, each pool header its arenaindex, and
 *             the pointer near _PyRuntime whose arena_object array holds
 *             those pools at those indices is `arenas` (find_static_state);
 *   3.12      a struct _obmalloc_state embedded in every interpreter (those
 *             that share the main interpreter's leave theirs empty);
 *   3.13      a pointer to one from every interpreter.
 *
 * An arena is ARENA_SIZE bytes at arena_object.address; its pools start at
 * the address rounded up to POOL_SIZE and are carved in order up to
 * pool_address.  A pool in use has ref.count > 0; its blocks below
 * nextoffset are allocated unless on its freeblock list.  Every number read
 * is checked against the others (count = carved - free, the free list inside
 * the carved blocks and without a loop, arenaindex pointing back): a pool
 * that does not add up is counted as corrupt and left out. */
#include "base/error.h"
#include "heap/heap.h"
#include "cpython/mimalloc.h"
#include "cpython/stackref.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ARENAS (UINT64_C(1) << 20)   /* 1 TiB of 1 MiB arenas */
#define MAX_STATES 1024                  /* interpreters with their own allocator */
#define MAX_POOL_SIZE (64 * 1024)
#define MAX_CLASSES 64
#define ARENA_CHUNK 128                  /* arena_objects read at once */
#define SEARCH_SPAN (UINT64_C(4) << 20)  /* around _PyRuntime, for `arenas` */
#define SEARCH_CHUNK 4096
#define MAX_SAMPLES 16
#define SAMPLE_OBJECTS 200000            /* objects looked at for sample pools */
/* 3.11's deep-frozen objects start at this refcount (_PyObject_IMMORTAL_INIT,
 * Include/internal/pycore_object.h) and drift with ordinary increfs. */
#define DEEPFROZEN_311 UINT64_C(999999999)
#define DEEPFROZEN_DRIFT UINT64_C(100000000)

enum { POOL_USED, POOL_EMPTY, POOL_CORRUPT };
#define CLASS_NONE 0xFF      /* in pool_class: an empty or never-carved pool */
#define CLASS_CORRUPT 0xFE

typedef struct arena_rec {
    uint64_t address;        /* arena_object.address */
    uint64_t base;           /* the first pool: address rounded up to POOL_SIZE */
    uint32_t ncarved;        /* pools carved: (pool_address - base) / POOL_SIZE */
    uint32_t index;          /* in its arena_object array */
    size_t first_pool;       /* its first pool in pool_class */
} arena_rec;

struct ph_alloc_private {
    arena_rec *arenas;       /* by address */
    size_t n, cap;
    uint8_t *pool_class;     /* per carved pool: its size class, CLASS_NONE or CLASS_CORRUPT */
    size_t npools, cappools;
};

typedef ph_pool_geometry geometry;

typedef struct pool_info {
    uint32_t count, szidx, size, nextoffset, arenaindex;
    uint64_t freeblock;
    uint32_t carved, nfree;
} pool_info;

static inline uint32_t get_u32(const unsigned char *buf, int32_t off)
{
    uint32_t v;
    memcpy(&v, buf + off, 4);
    return v;
}

static inline uint64_t get_u64(const unsigned char *buf, int32_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, 8);
    return v;
}

bool ph_pool_geometry_get(const ph_layout *L, ph_pool_geometry *g)
{
    if (L->arena_size <= 0 || L->pool_size <= 0 || L->pymalloc_alignment <= 0 ||
        L->pool_size > MAX_POOL_SIZE || L->arena_size % L->pool_size ||
        L->pool_header_sizeof <= 0 || L->small_request_threshold <= 0)
        return false;
    g->arena_size = (uint64_t)L->arena_size;
    g->pool_size = (uint64_t)L->pool_size;
    g->align = (uint64_t)L->pymalloc_alignment;
    g->overhead = ((uint64_t)L->pool_header_sizeof + g->align - 1) / g->align * g->align;
    g->nclasses = (uint64_t)L->small_request_threshold / g->align;
    g->pools_per_arena = g->arena_size / g->pool_size;
    return g->nclasses > 0 && g->nclasses <= MAX_CLASSES;
}

static inline uint64_t capacity(const geometry *g, uint64_t size)
{
    return (g->pool_size - g->overhead) / size;
}

/* The header fields of a pool, checked against each other (not the free list). */
static int pool_header(const ph_layout *L, const geometry *g, const unsigned char *hdr,
                       pool_info *pi)
{
    pi->count = get_u32(hdr, L->pool_ref_count);
    if (pi->count == 0)
        return POOL_EMPTY; /* on its arena's freepools list; the rest is stale */
    pi->szidx = get_u32(hdr, L->pool_szidx);
    pi->nextoffset = get_u32(hdr, L->pool_nextoffset);
    pi->arenaindex = get_u32(hdr, L->pool_arenaindex);
    pi->freeblock = get_u64(hdr, L->pool_freeblock);
    if (pi->szidx >= g->nclasses)
        return POOL_CORRUPT;
    pi->size = (pi->szidx + 1) * (uint32_t)g->align;
    if (get_u32(hdr, L->pool_maxnextoffset) != g->pool_size - pi->size)
        return POOL_CORRUPT;
    if (pi->nextoffset < g->overhead + pi->size || pi->nextoffset > g->pool_size ||
        (pi->nextoffset - g->overhead) % pi->size)
        return POOL_CORRUPT;
    pi->carved = (uint32_t)((pi->nextoffset - g->overhead) / pi->size);
    if (pi->count > pi->carved)
        return POOL_CORRUPT;
    return POOL_USED;
}

uint32_t ph_pymalloc_block_at(ph_heap *h, uint64_t p)
{
    geometry g;
    unsigned char hdr[256];
    const ph_layout *L = h->L;
    if (!ph_pool_geometry_get(L, &g) || (uint64_t)L->pool_header_sizeof > sizeof(hdr))
        return 0;
    uint64_t pool = p & ~(g.pool_size - 1);
    pool_info pi;
    if (p < pool + g.overhead || !ph_read(h->r, pool, hdr, (size_t)L->pool_header_sizeof) ||
        pool_header(L, &g, hdr, &pi) != POOL_USED)
        return 0;
    uint64_t off = p - pool - g.overhead;
    return off % pi.size == 0 && off / pi.size < pi.carved ? pi.size : 0;
}

/* A whole pool (buf holds its pool_size bytes): the header, then the free
 * list, which must stay within the carved blocks, not loop, and leave
 * exactly ref.count blocks allocated.  free_map, when given, gets a bit per
 * free block. */
static int pool_parse(const ph_layout *L, const geometry *g, uint64_t pool,
                      const unsigned char *buf, pool_info *pi, uint64_t *free_map)
{
    int st = pool_header(L, g, buf, pi);
    if (st != POOL_USED)
        return st;
    uint64_t words = (pi->carved + 63) / 64;
    uint64_t local[MAX_POOL_SIZE / 16 / 64 + 1];
    uint64_t *map = free_map ? free_map : local;
    memset(map, 0, words * 8);
    uint64_t first = pool + g->overhead;
    uint64_t end = first + (uint64_t)pi->carved * pi->size;
    uint64_t p = pi->freeblock;
    pi->nfree = 0;
    while (p) {
        if (p < first || p >= end || (p - first) % pi->size)
            return POOL_CORRUPT; /* outside the pool's carved blocks */
        uint64_t k = (p - first) / pi->size;
        if (map[k / 64] & (UINT64_C(1) << (k % 64)))
            return POOL_CORRUPT; /* a loop */
        map[k / 64] |= UINT64_C(1) << (k % 64);
        pi->nfree++;
        p = get_u64(buf, (int32_t)(p - pool));
    }
    if (pi->carved - pi->nfree != pi->count)
        return POOL_CORRUPT;
    return POOL_USED;
}

/* An arena_object that is in use (address != 0) and makes sense. */
static bool arena_plausible(const ph_layout *L, const geometry *g, const unsigned char *ao)
{
    uint64_t a = get_u64(ao, L->arena_address);
    uint64_t pa = get_u64(ao, L->arena_pool_address);
    uint32_t nfree = get_u32(ao, L->arena_nfreepools);
    uint32_t ntotal = get_u32(ao, L->arena_ntotalpools);
    if (a < 0x1000 || a >= (UINT64_C(1) << 47) || a % 8)
        return false;
    uint64_t base = (a + g->pool_size - 1) & ~(g->pool_size - 1);
    return pa >= base && pa <= a + g->arena_size && (pa - base) % g->pool_size == 0 &&
           ntotal <= g->pools_per_arena && nfree <= ntotal;
}

static bool arena_contains(const ph_layout *L, const geometry *g, const unsigned char *ao,
                           uint64_t pool)
{
    uint64_t a = get_u64(ao, L->arena_address);
    uint64_t pa = get_u64(ao, L->arena_pool_address);
    return arena_plausible(L, g, ao) && pool >= a && pool < pa;
}

/* The array [arenas, arenas + n) holds unused slots and plausible arenas,
 * but for a few damaged entries (at most one in eight of the arenas): past
 * its real end, memory that is not zero is mostly not arena objects. */
static bool array_plausible(ph_heap *h, const geometry *g, uint64_t arenas, uint64_t n)
{
    const ph_layout *L = h->L;
    const uint64_t esz = (uint64_t)L->arena_object_sizeof;
    unsigned char buf[ARENA_CHUNK * 64];
    uint64_t good = 0, bad = 0;
    if (esz > 64)
        return false;
    for (uint64_t i = 0; i < n; i += ARENA_CHUNK) {
        uint64_t k = n - i < ARENA_CHUNK ? n - i : ARENA_CHUNK;
        if (!ph_read(h->r, arenas + i * esz, buf, k * esz))
            return false;
        for (uint64_t j = 0; j < k; j++) {
            const unsigned char *ao = buf + j * esz;
            if (!get_u64(ao, L->arena_address))
                continue;
            if (arena_plausible(L, g, ao))
                good++;
            else
                bad++;
        }
        if (bad > 8 && bad * 8 > good)
            return false;
    }
    return bad * 8 <= good + 8;
}

/* ---- finding the state ---------------------------------------------------------- */

typedef struct state_ref {
    uint64_t var;            /* where the array pointer is stored */
    uint64_t arenas;         /* the arena_object array */
    uint64_t maxarenas;
    int64_t raw_blocks;      /* -1: unknown */
    uint64_t map_bytes;
} state_ref;

typedef struct sample {
    uint64_t pool;
    uint32_t arenaindex;
} sample;

/* Pools of a few objects of the index whose headers make sense, with as
 * many different arenas as there are among them. */
static size_t sample_pools(ph_heap *h, const geometry *g, sample *out, size_t cap)
{
    const ph_layout *L = h->L;
    size_t n = 0;
    for (size_t i = 0; i < h->idx.n && i < SAMPLE_OBJECTS && n < cap; i++) {
        uint64_t addr = h->idx.addr[i];
        if (ph_index_size(&h->idx, i) > (uint64_t)L->small_request_threshold)
            continue;
        uint64_t pool = addr & ~(g->pool_size - 1);
        unsigned char hdr[64];
        pool_info pi;
        if ((uint64_t)L->pool_header_sizeof > sizeof(hdr) ||
            !ph_read(h->r, pool, hdr, (size_t)L->pool_header_sizeof) ||
            pool_header(L, g, hdr, &pi) != POOL_USED || addr - pool < g->overhead ||
            addr - pool >= pi.nextoffset || pi.arenaindex >= MAX_ARENAS)
            continue;
        bool seen_pool = false, seen_arena = false;
        for (size_t j = 0; j < n; j++) {
            seen_pool |= out[j].pool == pool;
            seen_arena |= out[j].arenaindex == pi.arenaindex;
        }
        if (seen_pool || (seen_arena && n >= 4))
            continue;
        out[n++] = (sample){pool, pi.arenaindex};
    }
    return n;
}

/* The array at `arenas` holds most of the sample pools at their indices (a
 * damaged pool header must not hide the state). */
static bool holds_samples(ph_heap *h, const geometry *g, uint64_t arenas, const sample *s,
                          size_t ns)
{
    const ph_layout *L = h->L;
    const uint64_t esz = (uint64_t)L->arena_object_sizeof;
    const size_t need = (ns + 1) / 2;
    size_t held = 0, missed = 0;
    unsigned char ao[64];
    for (size_t i = 0; i < ns && held < need && missed <= ns - need; i++) {
        if (ph_read(h->r, arenas + s[i].arenaindex * esz, ao, esz) &&
            arena_contains(L, g, ao, s[i].pool))
            held++;
        else
            missed++;
    }
    return held >= need;
}

/* maxarenas: a 32-bit word near `arenas` that is INITIAL_ARENA_OBJECTS (16)
 * times a power of two, above every sample's index, and over which the array
 * makes sense; the nearest such word.  0 when there is none. */
static uint64_t find_maxarenas(ph_heap *h, const geometry *g, uint64_t var, uint64_t arenas,
                               uint32_t min)
{
    uint32_t words[32 + 2 + 32];
    uint64_t lo = var - 128;
    if (!ph_read(h->r, lo, words, sizeof(words)))
        return 0;
    uint64_t best = 0, best_dist = UINT64_MAX;
    for (size_t i = 0; i < sizeof(words) / 4; i++) {
        uint64_t at = lo + 4 * i, m = words[i];
        if (at >= var && at < var + 8)
            continue;
        if (m < 16 || m > MAX_ARENAS || m <= min || (m & (m - 1)))
            continue;
        uint64_t dist = at < var ? var - at : at - var;
        if (dist < best_dist && array_plausible(h, g, arenas, m)) {
            best = m;
            best_dist = dist;
        }
    }
    return best;
}

/* 3.8-3.11: `arenas` and `maxarenas` are file statics near _PyRuntime. */
static bool find_static_state(ph_heap *h, const geometry *g, state_ref *st)
{
    sample s[MAX_SAMPLES];
    size_t ns = sample_pools(h, g, s, MAX_SAMPLES);
    uint64_t rt = h->syms.py_runtime;
    if (!ns || !rt)
        return false;
    uint32_t maxidx = 0;
    for (size_t i = 0; i < ns; i++)
        maxidx = s[i].arenaindex > maxidx ? s[i].arenaindex : maxidx;
    uint64_t lo = rt > SEARCH_SPAN ? rt - SEARCH_SPAN : 0;
    uint64_t words[SEARCH_CHUNK / 8];
    uint64_t rejected[64] = {0}; /* recent values that failed: a pointer repeats */
    for (uint64_t a = lo & ~(uint64_t)(SEARCH_CHUNK - 1); a < rt + SEARCH_SPAN; a += SEARCH_CHUNK) {
        /* Only what the core or process holds: the executable's read-only
         * parts come from gdb, slowly, and cannot hold the pointer. */
        if (!ph_reader_covers(h->r, a) || !ph_read(h->r, a, words, SEARCH_CHUNK))
            continue;
        if (ph_poll(h))
            return false;
        for (size_t i = 0; i < SEARCH_CHUNK / 8; i++) {
            uint64_t w = words[i];
            if (!ph_ptr_ok(w) || w % 16)
                continue;
            uint64_t slot = (w >> 4) % 64;
            if (rejected[slot] == w)
                continue;
            if (!holds_samples(h, g, w, s, ns)) {
                rejected[slot] = w;
                continue;
            }
            uint64_t var = a + 8 * i;
            uint64_t m = find_maxarenas(h, g, var, w, maxidx);
            if (!m) {
                rejected[slot] = w;
                continue;
            }
            *st = (state_ref){.var = var, .arenas = w, .maxarenas = m, .raw_blocks = -1};
            return true;
        }
    }
    return false;
}

/* 3.12+: the struct _obmalloc_state of each interpreter that has its own. */
static size_t find_interp_states(ph_heap *h, state_ref *out, size_t cap)
{
    const ph_layout *L = h->L;
    uint64_t interp = 0;
    size_t n = 0;
    if (!ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)L->runtime_interpreters_head, &interp))
        return 0;
    ph_cycle cyc = {0};
    for (int k = 0; k < MAX_STATES && ph_ptr_ok(interp) && n < cap; k++) {
        if (ph_cycle_seen(&cyc, interp))
            break;
        uint64_t state = 0;
        if (L->interp_obmalloc != PH_NONE)
            state = interp + (uint64_t)L->interp_obmalloc;
        else if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_obmalloc_ptr, &state))
            state = 0;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup |= out[j].var == state + (uint64_t)L->obmalloc_arenas;
        uint64_t arenas = 0;
        uint32_t max = 0;
        int64_t raw = -1;
        int32_t mid = 0, bot = 0;
        if (ph_ptr_ok(state) && !dup &&
            ph_read_u64(h->r, state + (uint64_t)L->obmalloc_arenas, &arenas) && arenas &&
            ph_read_u32(h->r, state + (uint64_t)L->obmalloc_maxarenas, &max)) {
            ph_read_i64(h->r, state + (uint64_t)L->obmalloc_raw_allocated_blocks, &raw);
            ph_read(h->r, state + (uint64_t)L->obmalloc_map_mid_count, &mid, 4);
            ph_read(h->r, state + (uint64_t)L->obmalloc_map_bot_count, &bot, 4);
            state_ref *s = &out[n];
            *s = (state_ref){.var = state + (uint64_t)L->obmalloc_arenas, .arenas = arenas,
                             .maxarenas = max < MAX_ARENAS ? max : MAX_ARENAS,
                             .raw_blocks = raw >= 0 ? raw : -1};
            if (mid >= 0 && bot >= 0 && mid < (1 << 20) && bot < (1 << 20))
                s->map_bytes = (uint64_t)mid * (uint64_t)L->arena_map_mid_sizeof +
                               (uint64_t)bot * (uint64_t)L->arena_map_bot_sizeof;
            if (ph_ptr_ok(arenas))
                n++; /* a maxarenas too big is cut to MAX_ARENAS by the walk */
        }
        if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_next, &interp))
            break;
    }
    return n;
}

/* ---- the walk ------------------------------------------------------------------- */

static ph_error *push_arena(struct ph_alloc_private *p, const arena_rec *a, uint64_t npools)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        arena_rec *na = realloc(p->arenas, cap * sizeof(*na));
        if (!na)
            return PH_NOMEM;
        p->arenas = na;
        p->cap = cap;
    }
    if (p->npools + npools > p->cappools) {
        size_t cap = p->cappools ? p->cappools : 1024;
        while (cap < p->npools + npools)
            cap *= 2;
        uint8_t *nc = realloc(p->pool_class, cap);
        if (!nc)
            return PH_NOMEM;
        p->pool_class = nc;
        p->cappools = cap;
    }
    p->arenas[p->n] = *a;
    p->arenas[p->n].first_pool = p->npools;
    memset(p->pool_class + p->npools, CLASS_NONE, npools);
    p->n++;
    p->npools += npools;
    return NULL;
}

/* The pools of one arena: their classes into pool_class, their numbers into a. */
static void walk_arena(ph_heap *h, const geometry *g, ph_alloc *a, arena_rec *ar,
                       unsigned char *buf)
{
    const ph_layout *L = h->L;
    uint8_t *cls = a->priv->pool_class + ar->first_pool;
    for (uint32_t i = 0; i < ar->ncarved; i++) {
        uint64_t pool = ar->base + i * g->pool_size;
        pool_info pi;
        int st = ph_read(h->r, pool, buf, g->pool_size) ? pool_parse(L, g, pool, buf, &pi, NULL)
                                                          : POOL_CORRUPT;
        if (st == POOL_USED && pi.arenaindex != ar->index)
            st = POOL_CORRUPT; /* the pool does not belong to this arena */
        if (st == POOL_EMPTY)
            continue;
        if (st == POOL_CORRUPT) {
            a->corrupt_pools++;
            cls[i] = CLASS_CORRUPT;
            continue;
        }
        cls[i] = (uint8_t)pi.szidx;
        ph_size_class *c = &a->classes[pi.szidx];
        uint64_t cap = capacity(g, pi.size);
        c->pools++;
        c->blocks_used += pi.count;
        c->blocks_free += cap - pi.count;
        a->pools_used++;
        a->quantization_bytes += (g->pool_size - g->overhead) % pi.size;
    }
}

static ph_error *walk_state(ph_heap *h, const geometry *g, ph_alloc *a, const state_ref *st)
{
    const ph_layout *L = h->L;
    const uint64_t esz = (uint64_t)L->arena_object_sizeof;
    unsigned char chunk[ARENA_CHUNK * 64];
    unsigned char *buf = malloc(g->pool_size);
    if (!buf)
        return PH_NOMEM;
    ph_error *err = NULL;
    uint64_t max = st->maxarenas < MAX_ARENAS ? st->maxarenas : MAX_ARENAS;
    for (uint64_t i = 0; i < max && !err; i += ARENA_CHUNK) {
        uint64_t k = max - i < ARENA_CHUNK ? max - i : ARENA_CHUNK;
        if (esz > 64 || !ph_read(h->r, st->arenas + i * esz, chunk, k * esz)) {
            a->corrupt_arenas++; /* the rest of the array is unreadable */
            break;
        }
        for (uint64_t j = 0; j < k && !err; j++) {
            const unsigned char *ao = chunk + j * esz;
            uint64_t addr = get_u64(ao, L->arena_address);
            if (!addr)
                continue;
            if (!arena_plausible(L, g, ao)) {
                a->corrupt_arenas++;
                continue;
            }
            if (ph_poll(h)) {
                err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
                break;
            }
            arena_rec ar = {.address = addr, .index = (uint32_t)(i + j)};
            ar.base = (addr + g->pool_size - 1) & ~(g->pool_size - 1);
            ar.ncarved = (uint32_t)((get_u64(ao, L->arena_pool_address) - ar.base) / g->pool_size);
            a->arenas++;
            a->pools_unused += get_u32(ao, L->arena_nfreepools);
            if (ar.base != addr)
                a->alignment_bytes += g->pool_size;
            err = push_arena(a->priv, &ar, ar.ncarved);
            if (!err)
                walk_arena(h, g, a, &a->priv->arenas[a->priv->n - 1], buf);
        }
    }
    free(buf);
    return err;
}

static int cmp_arena(const void *x, const void *y)
{
    const arena_rec *a = x, *b = y;
    return a->address < b->address ? -1 : a->address > b->address;
}

/* The arena holding addr, or NULL. */
static const arena_rec *arena_of(const struct ph_alloc_private *p, const geometry *g,
                                 uint64_t addr)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->arenas[mid].address <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const arena_rec *ar = &p->arenas[lo - 1];
    return addr < ar->address + g->arena_size ? ar : NULL;
}

/* Bytes in front of an object of type t: its GC header and 3.11+ pre-header
 * (the same rule as sys.getsizeof's, size.c). */
static uint64_t front_bytes(ph_heap *h, const ph_type *t, uint64_t addr)
{
    const ph_layout *L = h->L;
    bool gc = t->gc;
    if (gc && t->is_type_type) { /* type_is_gc: heap types only */
        uint64_t flags = 0;
        ph_read_u64(h->r, addr + (uint64_t)L->tp_flags, &flags);
        gc = flags & TPFLAGS_HEAPTYPE;
    }
    uint64_t pre = gc ? (uint64_t)L->gc_head_size : 0;
    if (L->preheader_size > 0) {
        uint64_t managed = TPFLAGS_MANAGED_DICT |
                           (L->managed_weakref != PH_NONE ? TPFLAGS_MANAGED_WEAKREF : 0);
        if (t->flags & managed)
            pre += (uint64_t)L->preheader_size;
    }
    return pre;
}

/* Statically allocated, by what the object itself says: 3.11's deep-frozen
 * refcount, 3.12+'s immortality. */
static bool static_marker(ph_heap *h, uint64_t addr)
{
    uint64_t rc = 0;
    if (ph_has_immortal_objects(h->L)) { /* in the header of the build (free-threaded too) */
        int64_t count;
        bool immortal;
        return ph_refcnt_read(h->r, h->L, addr, &count, &immortal) && immortal;
    }
    if (!ph_read_u64(h->r, addr, &rc))
        return false;
    if (h->L->minor == 11)
        return rc + DEEPFROZEN_DRIFT >= DEEPFROZEN_311 && rc <= DEEPFROZEN_311 + DEEPFROZEN_DRIFT;
    return false;
}

/* A builtin (static) type object: never allocated. */
static bool static_type(ph_heap *h, const ph_type *t, uint64_t addr)
{
    uint64_t flags = 0;
    return t->is_type_type && ph_read_u64(h->r, addr + (uint64_t)h->L->tp_flags, &flags) &&
           !(flags & TPFLAGS_HEAPTYPE);
}

bool ph_alloc_static(ph_heap *h, const ph_alloc *a, uint64_t addr, uint32_t ti, uint64_t size)
{
    const ph_type *t = ti < h->ntypes ? &h->types[ti] : NULL;
    if (static_marker(h, addr) || (t && static_type(h, t, addr)))
        return true;
    geometry g;
    if (!a || !a->priv || !a->priv->n || !ph_pool_geometry_get(h->L, &g))
        return false; /* no arenas: nothing tells a small static object from malloc's */
    return !arena_of(a->priv, &g, addr) && size <= (uint64_t)h->L->small_request_threshold;
}

typedef struct type_total {
    uint64_t count, size;
} type_total;

static int cmp_kind_total(const void *x, const void *y)
{
    const ph_kind_total *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

/* Places every object of the index: in a block of a pool in use, outside the
 * arenas (malloc or static), or stray. */
static ph_error *place_objects(ph_heap *h, const geometry *g, ph_alloc *a)
{
    const ph_layout *L = h->L;
    struct ph_alloc_private *p = a->priv;
    type_total *tt = calloc(h->ntypes ? h->ntypes : 1, sizeof(*tt));
    if (!tt)
        return PH_NOMEM;
    const uint64_t threshold = (uint64_t)L->small_request_threshold;
    for (size_t i = 0; i < h->idx.n; i++) {
        if (i % 4096 == 0 && ph_poll(h)) {
            free(tt);
            return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
        }
        uint64_t addr = h->idx.addr[i], size = ph_index_size(&h->idx, i);
        uint32_t ti = h->idx.type[i];
        const ph_type *t = ti < h->ntypes ? &h->types[ti] : NULL;
        const arena_rec *ar = arena_of(p, g, addr);
        if (!ar) {
            /* Without pymalloc (PYTHONMALLOC=malloc) every object but the
             * static ones comes from malloc, whatever its size. */
            bool fixed = static_marker(h, addr) || (t && static_type(h, t, addr));
            if (t && !fixed && (size > threshold || !p->n)) {
                a->objects_malloc++;
                a->bytes_malloc += size;
                tt[ti].count++;
                tt[ti].size += size;
            } else {
                a->objects_static++;
                a->bytes_static += size;
            }
            continue;
        }
        uint64_t front = t ? front_bytes(h, t, addr) : 0;
        uint64_t block = addr - front;
        uint8_t cls = CLASS_NONE;
        if (block >= ar->base && (block - ar->base) / g->pool_size < ar->ncarved)
            cls = p->pool_class[ar->first_pool + (block - ar->base) / g->pool_size];
        uint64_t off = (block - ar->base) % g->pool_size;
        uint64_t bsize = (uint64_t)(cls + 1) * g->align;
        if (cls >= g->nclasses || off < g->overhead || (off - g->overhead) % bsize ||
            (addr & ~(g->pool_size - 1)) != (block & ~(g->pool_size - 1))) {
            a->objects_stray++;
            a->bytes_stray += size;
            continue;
        }
        a->objects_in_arenas++;
        a->bytes_in_arenas += size;
        a->classes[cls].objects++;
        a->classes[cls].object_bytes += size;
        if (size > bsize && size - bsize > threshold)
            a->buffer_bytes += size - bsize;
    }
    size_t n = 0;
    for (size_t i = 0; i < h->ntypes; i++)
        n += tt[i].count > 0;
    a->malloc_types = calloc(n ? n : 1, sizeof(ph_kind_total));
    if (!a->malloc_types) {
        free(tt);
        return PH_NOMEM;
    }
    for (size_t i = 0; i < h->ntypes; i++)
        if (tt[i].count)
            a->malloc_types[a->nmalloc_types++] =
                (ph_kind_total){.kind = h->types[i].name ? h->types[i].name : "?",
                                .count = tt[i].count, .size = tt[i].size};
    qsort(a->malloc_types, a->nmalloc_types, sizeof(ph_kind_total), cmp_kind_total);
    free(tt);
    return NULL;
}

ph_error *ph_pymalloc_alloc_get(ph_heap *h, ph_alloc **out)
{
    const ph_layout *L = h->L;
    geometry g;
    *out = NULL;
    if (!L || !ph_pool_geometry_get(L, &g))
        return ph_error_new(PH_ERR_VERSION, 0, "pymalloc's layout is not known for this version");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ph_alloc *a = calloc(1, sizeof(*a));
    if (!a)
        return PH_NOMEM;
    a->priv = calloc(1, sizeof(*a->priv));
    a->classes = calloc(g.nclasses, sizeof(ph_size_class));
    if (!a->priv || !a->classes) {
        ph_alloc_free(a);
        return PH_NOMEM;
    }
    a->arena_size = (uint32_t)g.arena_size;
    a->pool_size = (uint32_t)g.pool_size;
    a->pool_overhead = (uint32_t)g.overhead;
    a->small_request_threshold = (uint32_t)L->small_request_threshold;
    a->nclasses = g.nclasses;
    for (size_t i = 0; i < g.nclasses; i++)
        a->classes[i].size = (uint32_t)((i + 1) * g.align);
    a->allocator = "pymalloc";
    a->found_by = "none";
    a->raw_allocated_blocks = -1;

    state_ref states[MAX_STATES];
    size_t nstates = 0;
    if (L->interp_obmalloc != PH_NONE || L->interp_obmalloc_ptr != PH_NONE) {
        nstates = find_interp_states(h, states, MAX_STATES);
        if (nstates)
            a->found_by = "interpreter state";
    } else if (find_static_state(h, &g, &states[0])) {
        nstates = 1;
        a->found_by = "search";
    }
    ph_error *err = NULL;
    if (h->interrupted)
        err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
    for (size_t i = 0; i < nstates && !err; i++) {
        if (i == 0) {
            a->arenas_var = states[0].var;
            a->arenas_at = states[0].arenas;
        }
        a->maxarenas += states[i].maxarenas;
        a->arena_objects_bytes += states[i].maxarenas * (uint64_t)L->arena_object_sizeof;
        a->map_bytes += states[i].map_bytes;
        if (states[i].raw_blocks >= 0)
            a->raw_allocated_blocks =
                (a->raw_allocated_blocks < 0 ? 0 : a->raw_allocated_blocks) + states[i].raw_blocks;
        err = walk_state(h, &g, a, &states[i]);
    }
    a->states = nstates;
    if (!err) {
        struct ph_alloc_private *p = a->priv;
        if (p->n)
            qsort(p->arenas, p->n, sizeof(arena_rec), cmp_arena);
        /* Overlapping arenas cannot both be right: keep the first. */
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (k && p->arenas[i].address < p->arenas[k - 1].address + g.arena_size)
                a->corrupt_arenas++;
            else
                p->arenas[k++] = p->arenas[i];
        }
        p->n = k;
        for (size_t i = 0; i < g.nclasses; i++) {
            ph_size_class *c = &a->classes[i];
            a->blocks_used += c->blocks_used;
            a->blocks_free += c->blocks_free;
            a->bytes_used += c->blocks_used * c->size;
            a->bytes_free += c->blocks_free * c->size;
        }
        a->arena_bytes = a->arenas * g.arena_size;
        a->unused_pool_bytes = a->pools_unused * g.pool_size;
        a->pool_header_bytes = a->pools_used * g.overhead;
        err = place_objects(h, &g, a);
    }
    if (err) {
        ph_alloc_free(a);
        return err;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    *out = a;
    return NULL;
}

void ph_alloc_free(ph_alloc *a)
{
    if (!a)
        return;
    if (a->priv) {
        free(a->priv->arenas);
        free(a->priv->pool_class);
        free(a->priv);
    }
    free(a->classes);
    free(a->malloc_types);
    free(a);
}

ph_error *ph_alloc_blocks(ph_heap *h, const ph_alloc *a, ph_block_fn *fn, void *payload)
{
    const ph_layout *L = h->L;
    geometry g;
    if (!ph_pool_geometry_get(L, &g) || !a || !a->priv)
        return ph_error_new(PH_ERR_ARGUMENT, 0, "no allocator walk to take the blocks from");
    const struct ph_alloc_private *p = a->priv;
    unsigned char *buf = malloc(g.pool_size);
    if (!buf)
        return PH_NOMEM;
    uint64_t map[MAX_POOL_SIZE / 16 / 64 + 1];
    for (size_t i = 0; i < p->n; i++) {
        const arena_rec *ar = &p->arenas[i];
        for (uint32_t j = 0; j < ar->ncarved; j++) {
            if (p->pool_class[ar->first_pool + j] >= g.nclasses)
                continue; /* empty, or found corrupt by the walk */
            if (ph_poll(h)) {
                free(buf);
                return ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            }
            uint64_t pool = ar->base + j * g.pool_size;
            pool_info pi;
            if (!ph_read(h->r, pool, buf, g.pool_size) ||
                pool_parse(L, &g, pool, buf, &pi, map) != POOL_USED)
                continue;
            for (uint32_t k = 0; k < pi.carved; k++) {
                if (map[k / 64] & (UINT64_C(1) << (k % 64)))
                    continue;
                if (fn(pool + g.overhead + (uint64_t)k * pi.size, pi.size, payload)) {
                    free(buf);
                    return NULL;
                }
            }
        }
    }
    free(buf);
    return NULL;
}

uint64_t ph_alloc_block_object(ph_heap *h, uint64_t block, uint32_t size)
{
    const ph_layout *L = h->L;
    uint64_t step = (uint64_t)L->gc_head_size;
    uint64_t most = step + (uint64_t)(L->preheader_size > 0 ? L->preheader_size : 0);
    /* free-threaded: no GC head (step 0), the pre-header alone */
    uint64_t inc = step ? step : L->preheader_size > 0 ? (uint64_t)L->preheader_size : most + 1;
    for (uint64_t off = 0; off <= most && off + 16 <= size; off += inc) {
        uint64_t addr = block + off;
        uint32_t ti = ph_object_check(h, addr);
        if (ti == UINT32_MAX || ti >= h->ntypes)
            continue;
        const ph_type *t = &h->types[ti];
        /* Its type must put it exactly there, and what it keeps in its block must fit. */
        if (front_bytes(h, t, addr) == off && t->basicsize > 0 &&
            ph_block_size(h, addr, t) <= size - off)
            return addr;
    }
    return 0;
}
