/* Structural probes: what the layout says of the target, checked on the
 * target itself before anything is walked, on every build.
 *
 * A layout is its release's table with the fields the target's
 * _Py_DebugOffsets describe taken from them; facts neither covers can still
 * differ between builds of one version (alignment, padding, configure
 * options: Debian trixie's 3.13.5 aligns PyGC_Head to 4 bytes).  Each probe
 * follows pointers the layout places and checks what it finds has the
 * shape it must:
 *
 *  - type: the type of `type` is `type`, named "type", of the basic size
 *    the layout gives PyHeapTypeObject;
 *  - interpreter: the main interpreter's sys dict, builtins and sys.modules
 *    are objects of one type, named "dict", of the layout's dict size;
 *  - builtin types: sys.version is a `str` of the layout's size (and, when
 *    `type` has its MRO, that is a `tuple` whose basic size is where the
 *    layout puts a tuple's items);
 *  - sys.version: its text names the release Py_Version (or the probe of the
 *    version) does;
 *  - threads: the thread states of the main interpreter point back at it;
 *  - GC: the generations' list heads link into circular doubly linked lists
 *    (at the table's offset, or where the probe found them), and the first
 *    objects of each have a type whose metatype chain ends at `type`; on a
 *    free-threaded build, which has no GC lists, the main thread's mimalloc
 *    heaps are bound.
 *
 * A wrong layout fails a probe everywhere it looks; a crashed process's heap
 * can be damaged here and there: a later thread state, one GC list head or
 * some of the objects sampled failing among others that pass is said in the
 * probe's line and left to the walk, which skips and counts it.
 *
 * Each passed probe leaves a record (h->probes: what was checked, where the
 * layout facts came from) that `info` prints; the first failure refuses the
 * target in one sentence (PH_ERR_VERSION): never a silent partial walk. */
#include "cpython/probes.h"

#include "base/error.h"
#include "cpython/runtime.h"
#include "heap/heap.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_THREADS 100000
#define GC_SAMPLE 16 /* objects of each GC list whose types are checked */

static ph_probe_record *record(ph_heap *h, const char *name, const char *source,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static ph_probe_record *record(ph_heap *h, const char *name, const char *source,
                               const char *fmt, ...)
{
    if (h->nprobes >= PH_PROBES_MAX)
        return NULL;
    ph_probe_record *p = &h->probes[h->nprobes++];
    memset(p, 0, sizeof(*p));
    p->name = name;
    snprintf(p->source, sizeof(p->source), "%s", source);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->checked, sizeof(p->checked), fmt, ap);
    va_end(ap);
    return p;
}

static bool name_is(ph_heap *h, uint64_t t, const char *want)
{
    uint64_t p;
    char buf[32];
    /* a C string: any alignment */
    if (!ph_read_u64(h->r, t + (uint64_t)h->L->tp_name, &p) || p < 0x1000 ||
        p >= (UINT64_C(1) << 47) || !ph_read_cstr(h->r, p, buf, sizeof(buf)))
        return false;
    return strcmp(buf, want) == 0;
}

static bool basicsize_is(ph_heap *h, uint64_t t, int64_t want)
{
    int64_t v = 0;
    return ph_read(h->r, t + (uint64_t)h->L->tp_basicsize, &v, 8) && v == want;
}

/* The type of obj, when obj is readable and its type's type is `type`. */
static uint64_t type_of(ph_heap *h, uint64_t obj)
{
    uint64_t t = 0, tt = 0;
    if (!ph_ptr_ok(obj) || !ph_ob_type(h, obj, &t) || !ph_ptr_ok(t) || !ph_ob_type(h, t, &tt) ||
        tt != h->syms.type_type)
        return 0;
    return t;
}

static const char *probe_type(ph_heap *h, const probe_sources *src)
{
    const ph_layout *L = h->L;
    uint64_t tt = h->syms.type_type, t = 0;
    if (!tt || !ph_ob_type(h, tt, &t) || t != tt)
        return "the type of `type` is not `type`";
    if (!name_is(h, tt, "type") || !basicsize_is(h, tt, L->heaptype_sizeof))
        return "`type` does not have the name and size the layout gives it";
    record(h, "type", src->fields,
           "the type of `type` (0x%llx) is `type`, named so, basic size %d",
           (unsigned long long)tt, L->heaptype_sizeof);
    return NULL;
}

static const char *probe_interpreter(ph_heap *h, const probe_sources *src, uint64_t interp,
                                     uint64_t *sysdict)
{
    const ph_layout *L = h->L;
    uint64_t d[3] = {0, 0, 0}, dt = 0;
    const int32_t offs[3] = {L->interp_sysdict, L->interp_builtins, L->interp_modules};
    int set = 0;
    for (int i = 0; i < 3; i++) {
        if (offs[i] == PH_NONE || !ph_read_u64(h->r, interp + (uint64_t)offs[i], &d[i]))
            return "the interpreter's sys dict, builtins and sys.modules cannot be read";
        if (!d[i])
            continue; /* not made yet (a process stopped early in its start) */
        set++;
        uint64_t t = type_of(h, d[i]);
        if (!t || (dt && t != dt))
            return "the interpreter's sys dict, builtins or sys.modules is not a `dict` of the size the layout gives it";
        dt = t;
    }
    if (set && (!name_is(h, dt, "dict") || !basicsize_is(h, dt, L->dict_sizeof)))
        return "the interpreter's sys dict, builtins or sys.modules is not a `dict` of the size the layout gives it";
    *sysdict = d[0];
    record(h, "interpreter", src->fields,
           "0x%llx: %s `dict`s of basic size %d", (unsigned long long)interp,
           set == 3 ? "sys dict, builtins, sys.modules are"
                    : "those of sys dict, builtins, sys.modules made yet are",
           L->dict_sizeof);
    return NULL;
}

static const char *probe_version(ph_heap *h, const probe_sources *src, uint64_t sysdict)
{
    const ph_layout *L = h->L;
    if (!sysdict)
        return NULL; /* no sys dict yet: nothing to read sys.version from */
    uint64_t s = ph_dict_get_str(h, sysdict, "version"), st = type_of(h, s);
    if (!st || !name_is(h, st, "str") || !basicsize_is(h, st, L->str_unicode_sizeof))
        return "sys.version is not a `str` of the layout's size";
    char text[64] = "";
    int major = 0, minor = 0;
    if (!ph_str_read(h, s, text, sizeof(text)) || sscanf(text, "%d.%d", &major, &minor) != 2 ||
        major != h->version.major || minor != h->version.minor)
        return "sys.version does not name the release Py_Version does";
    char *sp = strchr(text, ' ');
    if (sp)
        *sp = 0;
    uint64_t mro = 0, tup = 0;
    bool tuple = false;
    if (ph_read_u64(h->r, h->syms.type_type + (uint64_t)L->tp_mro, &mro) && mro) {
        tup = type_of(h, mro);
        if (!tup || !name_is(h, tup, "tuple") || !basicsize_is(h, tup, L->tuple_ob_item))
            return "type.__mro__ is not a `tuple` whose items are where the layout puts them";
        tuple = true;
    }
    if (tuple)
        record(h, "builtin types", src->table,
               "sys.version a `str` of basic size %d, type.__mro__ a `tuple` of basic size %d",
               L->str_unicode_sizeof, L->tuple_ob_item);
    else
        record(h, "builtin types", src->table, "sys.version a `str` of basic size %d",
               L->str_unicode_sizeof);
    record(h, "sys.version", h->version.found_by ? h->version.found_by : "the version probe",
           "\"%s\" names %d.%d", text, major, minor);
    return NULL;
}

/* The first thread state must point back at the interpreter (a layout that
 * misplaces either field fails there); a later one that does not is damage
 * the walk skips (a crashed process's heap), counted here. */
static const char *probe_threads(ph_heap *h, const probe_sources *src, uint64_t interp)
{
    const ph_layout *L = h->L;
    uint64_t ts = 0, n = 0, bad = 0;
    if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_threads_head, &ts))
        return "the interpreter's thread list cannot be read";
    ph_cycle cyc = {0};
    for (; ts && n < MAX_THREADS; n++) {
        uint64_t back = 0;
        if (!ph_ptr_ok(ts) || ph_cycle_seen(&cyc, ts) ||
            !ph_read_u64(h->r, ts + (uint64_t)L->tstate_interp, &back) || back != interp) {
            if (n == 0)
                return "a thread state of the interpreter does not point back at it";
            bad++;
            break; /* the rest of the list is not to be trusted */
        }
        if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_next, &ts))
            break;
    }
    if (bad)
        record(h, "threads", src->fields,
               "the first %llu thread state%s point%s back at interpreter 0x%llx, then one does "
               "not (damage: the walk skips it)",
               (unsigned long long)n, n == 1 ? "" : "s", n == 1 ? "s" : "",
               (unsigned long long)interp);
    else
        record(h, "threads", src->fields, "%llu thread state%s point%s back at interpreter 0x%llx",
               (unsigned long long)n, n == 1 ? "" : "s", n == 1 ? "s" : "",
               (unsigned long long)interp);
    return NULL;
}

/* A wrong layout fails everywhere: no list head links up, or none of the
 * objects sampled has a type.  A head or an object that fails among others
 * that pass is damage (a process that crashed, say inside a collection),
 * which the walk skips and counts: said here, not refused.  A process
 * stopped inside a collection (its `collecting` flag set) may have its
 * lists' back links in use for reference counts: not checked then. */
static const char *probe_gc(ph_heap *h, const probe_sources *src, uint64_t interp)
{
    const ph_layout *L = h->L;
    if (L->free_threaded == 1) {
        uint64_t ts = 0;
        int32_t bound = 0;
        if (L->tstate_mimalloc_initialized == PH_NONE ||
            !ph_read_u64(h->r, interp + (uint64_t)L->interp_threads_head, &ts))
            return "its mimalloc heaps cannot be found";
        if (ts && (!ph_read(h->r, ts + (uint64_t)L->tstate_mimalloc_initialized, &bound, 4) ||
                   (bound != 0 && bound != 1)))
            return "its thread state's mimalloc heaps are not where the layout puts them";
        record(h, "GC", "the table of the free-threaded build",
               "no GC lists (free-threaded): mimalloc's heaps, %s",
               ts ? (bound ? "the first thread's bound" : "the first thread's not bound yet")
                  : "no thread");
        return NULL;
    }
    uint64_t state = L->runtime_gc != PH_NONE ? h->syms.py_runtime + (uint64_t)L->runtime_gc
                                              : interp + (uint64_t)L->interp_gc;
    int32_t collecting = 0;
    if (L->gc_collecting != PH_NONE &&
        ph_read(h->r, state + (uint64_t)L->gc_collecting, &collecting, 4) && collecting == 1) {
        record(h, "GC", src->table,
               "stopped inside a collection: the lists' links may hold reference counts, not "
               "checked");
        return NULL;
    }
    uint64_t gens = 0;
    ph_runtime_gc_generations(h, state, &gens);
    const uint64_t mask = ~(uint64_t)3;
    uint64_t checked = 0, typed = 0;
    int32_t linked = 0;
    for (int32_t g = 0; g < L->gc_num_generations; g++) {
        uint64_t head = gens + (uint64_t)g * (uint64_t)L->gc_generation_size;
        if (!ph_gc_head_links(h, head))
            continue;
        linked++;
        uint64_t p = 0;
        if (!ph_read_u64(h->r, head, &p))
            continue;
        p &= mask;
        for (int k = 0; k < GC_SAMPLE && p != head && ph_ptr_ok(p); k++) {
            uint64_t t = 0;
            checked++;
            if (ph_ob_type(h, p + (uint64_t)L->gc_head_size, &t) && ph_type_get(h, t) != UINT32_MAX)
                typed++;
            if (!ph_read_u64(h->r, p, &p))
                break;
            p &= mask;
        }
    }
    if (linked == 0)
        return "its GC lists do not link up where the layout puts them";
    if (checked && typed == 0)
        return "an object on its GC lists has no type whose type is a type";
    char where[96];
    if (h->gc_generations_shift)
        snprintf(where, sizeof(where), "probed: %+d bytes from the table's offset",
                 h->gc_generations_shift);
    else
        snprintf(where, sizeof(where), "%s", src->table);
    if (linked == L->gc_num_generations && typed == checked)
        record(h, "GC", where,
               "%d generations link up; their first %llu objects' types are types",
               L->gc_num_generations, (unsigned long long)checked);
    else
        record(h, "GC", where,
               "%d of %d generations link up; %llu of their first %llu objects' types are types "
               "(the rest damage, which the walk skips)",
               linked, L->gc_num_generations, (unsigned long long)typed,
               (unsigned long long)checked);
    return NULL;
}

const char *ph_probes_run(ph_heap *h, const probe_sources *src)
{
    const ph_layout *L = h->L;
    h->nprobes = 0;
    uint64_t interp = 0, sysdict = 0;
    const char *why = probe_type(h, src);
    if (why)
        return why;
    /* no interpreter: the walk says so (PH_ERR_NO_INTERPRETER) */
    if (!ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)L->runtime_interpreters_head, &interp) ||
        !ph_ptr_ok(interp))
        return NULL;
    if (!why)
        why = probe_interpreter(h, src, interp, &sysdict);
    if (!why)
        why = probe_version(h, src, sysdict);
    if (!why)
        why = probe_threads(h, src, interp);
    if (!why)
        why = probe_gc(h, src, interp);
    return why;
}
