/* Roots held from C: the static data of the executable and of every loaded
 * library and extension module (each file's writable sections, found by the
 * caller) read word by word.  A word that points to a valid object of the
 * heap (the full check of a conservative guess: type, refcount, block)
 * which the interpreter's roots do not reach makes that object a root,
 * named by the file and the symbol the word is in, or the file and its
 * offset.  Objects that live in static data themselves (deep-frozen code,
 * static tuples, static types) are not of the heap: not taken. */
#include "base/error.h"
#include "base/vec.h"
#include "heap/heap.h"
#include "memory/reader.h"
#include "memory/malloc_chunk.h"
#include "cpython/arena.h"
#include "cpython/pymalloc.h"
#include "cpython/runtime.h"
#include "cpython/object.h"
#include "cpython/conservative.h"

#include <stdlib.h>
#include <string.h>

/* A region larger than this is not static data as a C global keeps it (a
 * big static array, a mis-sized section): not read. */
#define PH_STATIC_REGION_MAX (64ull << 20)
#define CHUNK 65536

static char *dup(const char *s)
{
    s = s ? s : "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void ph_statics_free(ph_heap *h)
{
    for (size_t i = 0; i < h->nstatics; i++) {
        ph_static_region *r = &h->statics[i];
        for (size_t j = 0; j < r->nsyms; j++)
            free((char *)r->syms[j].name);
        free((ph_static_symbol *)r->syms);
        free((char *)r->file);
    }
    free(h->statics);
    h->capstatics = 0;
    free(h->cstack_words);
    h->cstack_words = NULL;
    h->ncstack_words = 0;
    h->cstack_words_built = false;
    free(h->c_roots);
    free(h->c_held);
    h->statics = NULL;
    h->c_roots = NULL;
    h->c_held = NULL;
    h->nstatics = h->nc_roots = h->capc_roots = h->nc_held = h->capc_held = 0;
}

static int by_symbol_addr(const void *a, const void *b)
{
    const ph_static_symbol *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const ph_static_region *region_of(const ph_heap *h, uint64_t addr)
{
    for (size_t i = 0; i < h->nstatics; i++)
        if (addr >= h->statics[i].start && addr < h->statics[i].end)
            return &h->statics[i];
    return NULL;
}

/* A thread's stack is read from its stack pointer up to the end of its
 * mapping, at most this much (a stack deeper than this is not one C keeps
 * its callers' objects in, but a runaway recursion's). */
#define PH_STACK_MAX (16ull << 20)

/* A C struct a thread's stack points to is read when it is at most this
 * big (pymalloc's largest block). */
#define PH_STRUCT_MAX 512

static ph_error *add_region(ph_heap *h, const ph_static_region *src)
{
    if (!PH_VEC_RESERVE(h->statics, h->capstatics, h->nstatics + 1, 16))
        return PH_NOMEM;
    ph_static_region *d = &h->statics[h->nstatics];
    *d = *src;
    d->syms = NULL;
    d->nsyms = 0;
    if (!(d->file = dup(src->file)))
        return PH_NOMEM;
    h->nstatics++;
    if (!src->nsyms)
        return NULL;
    ph_static_symbol *syms = calloc(src->nsyms, sizeof(*syms));
    if (!syms)
        return PH_NOMEM;
    d->syms = syms;
    for (size_t j = 0; j < src->nsyms; j++) {
        syms[j] = src->syms[j];
        if (!(syms[j].name = dup(src->syms[j].name)))
            return PH_NOMEM;
        d->nsyms++;
    }
    qsort(syms, d->nsyms, sizeof(*syms), by_symbol_addr);
    return NULL;
}

ph_error *ph_statics_copy(ph_heap *h, const ph_static_region *r, size_t n)
{
    ph_error *err = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        ph_static_region c = r[i];
        c.kind = PH_REGION_STATIC;
        if (!c.end) { /* a thread's stack: up to the end of its mapping */
            c.kind = PH_REGION_STACK;
            c.end = ph_reader_segment_end(h->r, c.start);
            if (c.end <= c.start)
                continue; /* its stack pointer is in no segment: a core without it */
            if (c.end - c.start > PH_STACK_MAX)
                c.end = c.start + PH_STACK_MAX;
        }
        err = add_region(h, &c);
    }
    return err;
}

/* The C structs of the runtime that malloc gave (an interpreter's state, a
 * thread's): read whole, as far as malloc's chunk says, unless static data
 * already covers them (3.11+'s first interpreter and thread, in _PyRuntime). */
static bool add_state(ph_heap *h, ph_state_kind kind, uint64_t addr, uint64_t interp,
                      void *payload)
{
    ph_error **err = payload;
    if (kind == PH_STATE_INTERP_DONE || region_of(h, addr))
        return true;
    uint64_t len = ph_malloc_chunk_usable(h->r, addr);
    if (!len)
        return true;
    char name[96];
    snprintf(name, sizeof(name), "%s state at 0x%llx",
             kind == PH_STATE_INTERP ? "interpreter" : "thread", (unsigned long long)addr);
    ph_static_region c = {.start = addr, .end = addr + len, .base = addr, .file = name,
                          .kind = PH_REGION_STATE};
    return !(*err = add_region(h, &c));
}

static bool record(ph_heap *h, uint32_t id, uint64_t word)
{
    if (!PH_VEC_RESERVE(h->c_roots, h->capc_roots, h->nc_roots + 1, 64))
        return false;
    h->c_roots[h->nc_roots++] = (ph_c_root){id, word};
    return true;
}

/* The last symbol of r at or below addr, or NULL. */
static const ph_static_symbol *symbol_below(const ph_static_region *r, uint64_t addr)
{
    size_t lo = 0, hi = r->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &r->syms[lo - 1] : NULL;
}

static bool record_held(ph_heap *h, uint64_t addr, uint64_t word)
{
    if (!PH_VEC_RESERVE(h->c_held, h->capc_held, h->nc_held + 1, 64))
        return false;
    h->c_held[h->nc_held++] = (ph_c_held){addr, word};
    return true;
}

/* One word of static data at `at`, holding v: does it point to an object
 * the roots do not reach? */
static bool visit_word(ph_heap *h, const ph_static_region *r, uint64_t at, uint64_t v,
                       ph_ref_fn *fn, void *payload)
{
    if (v < 4096 || (v & 7))
        return true;
    uint32_t id = ph_index_find(&h->idx, v);
    if (id != PH_NO_OBJ) {
        if (h->idx.flags[id] & OBJ_FROM_ROOTS)
            return true; /* the roots reach it (or an earlier word took it) */
        ph_ref ref = {.addr = v};
        if (fn(h, &ref, payload) == PH_NO_OBJ)
            return true;
        return record(h, id, at);
    }
    if (!ph_reader_covers(h->r, v))
        return true; /* code, read-only data (a core leaves them out): no object */
    if (region_of(h, v))
        return true; /* an object in static data itself (a deep-frozen code object,
                      * a static tuple): not of the heap, never freed */
    uint32_t type = ph_object_check(h, v);
    if (type == UINT32_MAX || !ph_conservative_ok(h, v, type)) {
        /* A thread's stack may hold the parser's arena while the code it
         * compiled runs (the __main__ module's): its list of objects. */
        uint64_t list;
        static const ph_static_region once = {.kind = PH_REGION_STATIC}; /* no arena in it */
        if (r->kind != PH_REGION_STACK)
            return true;
        if ((list = ph_parser_arena_objects(h->r, v)) != 0)
            return visit_word(h, &once, at, list, fn, payload);
        /* Or a small C struct it allocated and holds while it runs (the
         * bootstate of a thread: its callable): the objects its words point
         * to, one level down. */
        uint64_t len = ph_pymalloc_block_at(h, v);
        if (!len && (len = ph_malloc_chunk_usable(h->r, v)) > PH_STRUCT_MAX)
            len = 0;
        uint64_t words[PH_STRUCT_MAX / 8];
        if (!len || len > PH_STRUCT_MAX || !ph_read(h->r, v, words, len))
            return true;
        for (uint64_t k = 0; k < len / 8; k++)
            if (!visit_word(h, &once, at, words[k], fn, payload))
                return false;
        return true;
    }
    return record_held(h, v, at);
}

static int by_held_addr(const void *a, const void *b)
{
    const ph_c_held *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr ? 1 : (x->word > y->word) - (x->word < y->word);
}

uint64_t ph_statics_held(const ph_heap *h, uint64_t addr)
{
    size_t lo = 0, hi = h->nc_held;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->c_held[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nc_held && h->c_held[lo].addr == addr ? h->c_held[lo].word : 0;
}

ph_error *ph_statics_scan(ph_heap *h, ph_ref_fn *fn, void *payload)
{
    ph_error *err = NULL;
    ph_runtime_states(h, 0, add_state, &err);
    if (err)
        return err;
    uint64_t *buf = malloc(CHUNK);
    if (!buf)
        return PH_NOMEM;
    for (size_t i = 0; i < h->nstatics && !h->interrupted; i++) {
        const ph_static_region *r = &h->statics[i];
        uint64_t start = (r->start + 7) & ~7ull, end = r->end & ~7ull;
        if (end <= start || end - start > PH_STATIC_REGION_MAX)
            continue;
        for (uint64_t at = start; at < end && !h->interrupted; at += CHUNK) {
            uint64_t len = end - at < CHUNK ? end - at : CHUNK;
            if (!ph_read(h->r, at, buf, len)) {
                /* page by page: a core may lack some of them */
                for (uint64_t p = 0; p < len; p += 4096) {
                    uint64_t l = len - p < 4096 ? len - p : 4096;
                    if (!ph_read(h->r, at + p, (char *)buf + p, l))
                        memset((char *)buf + p, 0, l);
                }
            }
            size_t n = len / 8;
            h->static_words += n;
            for (size_t k = 0; k < n; k++)
                if (!visit_word(h, r, at + 8 * k, buf[k], fn, payload)) {
                    free(buf);
                    return PH_NOMEM;
                }
            ph_poll(h);
        }
    }
    free(buf);
    if (h->nc_held)
        qsort(h->c_held, h->nc_held, sizeof(*h->c_held), by_held_addr);
    return NULL;
}

int ph_statics_kind(const ph_heap *h, uint64_t word)
{
    const ph_static_region *r = region_of(h, word);
    return r ? (int)r->kind : PH_REGION_STATIC;
}

void ph_statics_name(const ph_heap *h, uint64_t word, char *buf, size_t cap)
{
    for (size_t i = 0; i < h->nstatics; i++) {
        const ph_static_region *r = &h->statics[i];
        if (word < r->start || word >= r->end)
            continue;
        const ph_static_symbol *s = symbol_below(r, word);
        if (s && word < s->addr + (s->size ? s->size : 8)) {
            if (word == s->addr)
                snprintf(buf, cap, "%s: %s", r->file, s->name);
            else
                snprintf(buf, cap, "%s: %s+0x%llx", r->file, s->name,
                         (unsigned long long)(word - s->addr));
            return;
        }
        snprintf(buf, cap, "%s+0x%llx", r->file, (unsigned long long)(word - r->base));
        return;
    }
    snprintf(buf, cap, "a C global at 0x%llx", (unsigned long long)word);
}
