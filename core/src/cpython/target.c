/* The target runtime: which CPython it is, and where its roots and GC lists
 * are.  Everything here follows pointers out of _PyRuntime, bounded. */
#include "base/error.h"
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/debug_offsets.h"
#include "cpython/versions.h"
#include "cpython/mimalloc.h"
#include "cpython/probes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INTERPRETERS 4096
#define MAX_THREADS 100000
#define MAX_FRAMES 1000000
#define MAX_EXC_CHAIN 10000

/* ---- version ------------------------------------------------------------- */

static void version_from_hex(uint64_t hex, ph_version *v)
{
    v->major = (int)((hex >> 24) & 0xff);
    v->minor = (int)((hex >> 16) & 0xff);
    v->micro = (int)((hex >> 8) & 0xff);
    snprintf(v->text, sizeof(v->text), "%d.%d.%d", v->major, v->minor, v->micro);
}

/* 3.8-3.10 have no version symbol: read sys.version through the candidate
 * layout and accept the candidate if the text agrees with it. */
static bool probe_sys_version(ph_reader *r, const ph_symbols *syms, int minor, ph_version *v)
{
    const ph_layout *L = ph_layout_get(3, minor);
    if (!L || !syms->py_runtime)
        return false;
    ph_heap h;
    memset(&h, 0, sizeof(h));
    h.r = r;
    h.L = L;
    h.syms = *syms;
    uint64_t interp, sysdict, s;
    char text[128];
    bool ok = ph_read_u64(r, syms->py_runtime + (uint64_t)L->runtime_interpreters_head, &interp) &&
              ph_ptr_ok(interp) &&
              ph_read_u64(r, interp + (uint64_t)L->interp_sysdict, &sysdict) &&
              ph_ptr_ok(sysdict) && (s = ph_dict_get_str(&h, sysdict, "version")) &&
              ph_str_read(&h, s, text, sizeof(text));
    ph_types_free(&h);
    int major, vminor, micro;
    if (!ok || sscanf(text, "%d.%d.%d", &major, &vminor, &micro) != 3 || major != 3 ||
        vminor != minor)
        return false;
    v->major = major;
    v->minor = vminor;
    v->micro = micro;
    snprintf(v->text, sizeof(v->text), "%d.%d.%d", major, vminor, micro);
    return true;
}

static ph_error *unsupported(const ph_version *v)
{
    return ph_error_new(PH_ERR_VERSION, 0,
                        "CPython %d.%d is not supported: probe-heap supports CPython 3.8 to 3.14, "
                        "and 3.15 and later through their _Py_DebugOffsets",
                        v->major, v->minor);
}

ph_error *ph_detect_version(ph_reader *r, const ph_symbols *syms, ph_version *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t hex;
    char cookie[8] = {0};
    if (syms->py_version && ph_read_u64(r, syms->py_version, &hex) && (hex >> 24) == 3) {
        version_from_hex(hex, out);
        out->found_by = "Py_Version";
    } else if (syms->py_runtime && ph_read(r, syms->py_runtime, cookie, 8) &&
               memcmp(cookie, "xdebugpy", 8) == 0 && ph_read_u64(r, syms->py_runtime + 8, &hex)) {
        version_from_hex(hex, out);
        out->found_by = "_Py_DebugOffsets";
    } else {
        int order[4] = {syms->hint_major == 3 ? syms->hint_minor : 0, 8, 9, 10};
        for (int i = 0; i < 4 && !out->major; i++)
            if (order[i] >= 8 && order[i] <= 10 && probe_sys_version(r, syms, order[i], out))
                out->found_by = "sys.version";
    }
    if (!out->major) {
        if (syms->hint_major && (syms->hint_major != 3 || syms->hint_minor < 8)) {
            ph_version hv = {.major = syms->hint_major, .minor = syms->hint_minor};
            return unsupported(&hv);
        }
        if (!syms->py_runtime)
            return ph_error_new(PH_ERR_NOT_PYTHON, 0,
                                "this is not a CPython process: it has no _PyRuntime symbol");
        return ph_error_new(PH_ERR_NOT_PYTHON, 0,
                            "cannot tell which CPython version this is: memory at _PyRuntime "
                            "is unreadable or not CPython 3.8 or later");
    }
    if (out->major != 3 || out->minor < 8 || out->minor > 99)
        return unsupported(out);
    if (out->minor >= 13 && syms->py_runtime && ph_read(r, syms->py_runtime, cookie, 8) &&
        memcmp(cookie, "xdebugpy", 8) == 0) {
        uint64_t ft = 0;
        if (ph_read_u64(r, syms->py_runtime + 16, &ft) && ft)
            out->free_threaded = true;
    }
    return NULL;
}

/* ---- the layout ----------------------------------------------------------- */

static void origin_line(ph_heap *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void origin_line(ph_heap *h, const char *fmt, ...)
{
    size_t len = strlen(h->layout_origin);
    if (len >= sizeof(h->layout_origin) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->layout_origin + len, sizeof(h->layout_origin) - len, fmt, ap);
    va_end(ap);
    len = strlen(h->layout_origin);
    if (len < sizeof(h->layout_origin) - 1)
        strcat(h->layout_origin, "\n");
}

ph_error *ph_runtime_layout(ph_heap *h)
{
    ph_layout_choice c;
    h->layout_origin[0] = h->warning[0] = 0;
    ph_error *err = ph_layout_select(&h->version, &h->layout, &c);
    if (err)
        return err;
    h->L = &h->layout;
    h->gc_incremental = c.gc_incremental;
    h->layout_choice_minor = c.table_minor;
    const ph_layout *table = ph_layout_table(c.table_minor);
    ph_debug_offsets_report rep;
    err = ph_debug_offsets_apply(h->r, h->syms.py_runtime, &h->version, &h->layout, &rep);
    if (err)
        return err;
    if (c.assumed && !rep.present)
        return ph_error_new(PH_ERR_VERSION, 0,
                            "CPython %s is newer than probe-heap's tables and carries no "
                            "_Py_DebugOffsets to read its layout from",
                            h->version.text);
    if (rep.present && c.gc_state_size && !c.assumed && rep.gc_size != c.gc_state_size)
        return ph_error_new(PH_ERR_VERSION, h->syms.py_runtime,
                            "this CPython %s's _Py_DebugOffsets give a GC state of %llu bytes, "
                            "not the %u of its collector (%s)",
                            h->version.text, (unsigned long long)rep.gc_size, c.gc_state_size,
                            c.gc);
    if (rep.present && !c.free_threaded) /* the anchors are the default build's */
        ph_layout_place_interp(&h->version, &h->layout, table, rep.interp_size, &c);
    h->debug_offsets_checked = rep.present && rep.changed == 0;
    h->layout_source = rep.present ? "debug_offsets" : "table";
    char table_name[112];
    if (c.table_micro)
        snprintf(table_name, sizeof(table_name), "the table of CPython 3.%d.%d", c.table_minor,
                 c.table_micro);
    else
        snprintf(table_name, sizeof(table_name), "the table of CPython 3.%d%s", c.table_minor,
                 c.derived ? " (derived from 3.14.7's and 3.15's headers)" : "");
    if (rep.present) {
        origin_line(h,
                    "interpreter, thread, frame, code, type, object offsets: the target's "
                    "_Py_DebugOffsets (%u fields, read as 3.%d's %zu bytes%s; %u differ from "
                    "the table%s%s%s)",
                    rep.fields, rep.read_as, rep.size, rep.assumed ? ", assumed" : "",
                    rep.changed, rep.changed ? ": " : "", rep.changed_names,
                    rep.changed > 4 ? ", ..." : "");
        if (c.placed)
            origin_line(h,
                        "interpreter fields it does not describe: %u moved with their "
                        "neighbours (sizeof(PyInterpreterState) %llu)",
                        c.placed, (unsigned long long)rep.interp_size);
    }
    origin_line(h, "everything else (GC heads, dict keys, type slots, pymalloc): %s%s", table_name,
                c.assumed ? ", assumed" : "");
    if (c.free_threaded)
        origin_line(h, "GC lists: %s", c.gc);
    else if (c.gc_state_size && h->version.minor == 14)
        origin_line(h, "GC lists: %s, by the micro version (%d)", c.gc, h->version.micro);
    else
        origin_line(h, "GC lists: %s, from %s", c.gc, table_name);
    if (c.assumed)
        snprintf(h->warning, sizeof(h->warning),
                 "CPython %s is newer than probe-heap's tables: its layout is its "
                 "_Py_DebugOffsets read as 3.%d's, and 3.%d's table for the rest (GC heads, "
                 "dict keys, type slots, pymalloc), checked but assumed",
                 h->version.text, rep.read_as, c.table_minor);
    /* what the layout says, checked on the target itself (probes.c) */
    probe_sources src = {rep.present ? "the target's _Py_DebugOffsets" : table_name, table_name};
    const char *why = ph_probes_run(h, &src);
    if (why && c.assumed)
        return ph_error_new(PH_ERR_VERSION, 0,
                            "CPython %s is newer than probe-heap's tables and the layout assumed for "
                            "it from CPython 3.%d fails a check (%s): it cannot be analysed safely",
                            h->version.text, h->layout_choice_minor, why);
    if (why)
        return ph_error_new(PH_ERR_VERSION, 0,
                            "this CPython %s does not have the layout probe-heap reads it with (%s): "
                            "it cannot be analysed safely",
                            h->version.text, why);
    return NULL;
}

/* ---- interpreters and threads -------------------------------------------- */

static uint64_t first_interp(ph_heap *h)
{
    uint64_t interp = 0;
    ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)h->L->runtime_interpreters_head, &interp);
    return interp;
}

uint64_t ph_static_builtin_dict(ph_heap *h, uint64_t type_addr)
{
    const ph_layout *L = h->L;
    if (L->interp_types_builtins == PH_NONE || !h->interp_addr)
        return 0;
    uint64_t index;
    if (!ph_read_u64(h->r, type_addr + (uint64_t)L->tp_subclasses, &index) || index == 0)
        return 0;
    uint64_t d = 0, base = h->interp_addr + (uint64_t)L->interp_types_builtins;
    index--;
    if (index >= (uint64_t)L->static_builtin_max) {
        /* 3.13: static types of extension modules, in an array of their own */
        if (L->interp_types_for_extensions == PH_NONE)
            return 0;
        index -= (uint64_t)L->static_builtin_max;
        if (index >= (uint64_t)L->static_extension_max)
            return 0;
        base = h->interp_addr + (uint64_t)L->interp_types_for_extensions;
    }
    ph_read_u64(h->r, base + index * (uint64_t)L->static_builtin_state_size +
                          (uint64_t)L->static_builtin_state_tp_dict, &d);
    return d;
}

static void visit_field(ph_heap *h, uint64_t base, int32_t off, ph_visit_fn *visit, void *payload)
{
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, base + (uint64_t)(int64_t)off, &p) && p)
        visit(h, p, payload);
}

/* A root field, labelled with what it is. */
static void root_field(ph_heap *h, uint64_t base, int32_t off, ph_root_kind kind, const char *name,
                       ph_visit_fn *visit, void *payload)
{
    PH_LABEL_ROOT(h, kind, name, 0, 0, h->root_tstate);
    visit_field(h, base, off, visit, payload);
}

/* A field of a _PyInterpreterFrame: an edge of its generator or frame
 * object, or a root when it is one of a thread's frames. */
static void iframe_field(ph_heap *h, uint64_t f, int32_t off, const char *name,
                         ph_visit_fn *visit, void *payload)
{
    if (h->root_tstate)
        PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, name, 0, f, h->root_tstate);
    else
        PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    visit_field(h, f, off, visit, payload);
}

/* The references of one _PyInterpreterFrame (3.11+). */
void ph_iframe_referents(ph_heap *h, uint64_t f, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    int8_t owner = 0;
    int32_t stacktop = 0;
    if (!ph_read(h->r, f + (uint64_t)L->iframe_owner, &owner, 1))
        return;
    if (L->iframe_stacktop != PH_NONE) {
        if (!ph_read(h->r, f + (uint64_t)L->iframe_stacktop, &stacktop, 4))
            return;
    } else {
        /* 3.14: _PyStackRef *stackpointer; the slot count is its distance
         * from localsplus (NULL or out of the frame: unknown, as -1 was) */
        uint64_t sp = 0, base = f + (uint64_t)L->iframe_localsplus;
        if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_stackpointer, &sp))
            return;
        stacktop = sp >= base && sp - base < (UINT64_C(8) << 21) && !((sp - base) & 7)
                       ? (int32_t)((sp - base) / 8)
                       : -1;
    }
    /* 3.14: f_executable and f_funcobj are _PyStackRefs */
    uint64_t code = 0, func = 0;
    if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_code, &code))
        return;
    code = ph_stackref_obj(L, code);
    if (h->root_tstate)
        PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, ".f_code", 0, f, h->root_tstate);
    else
        PH_LABEL(h, EDGE_FIELD, ".f_code", 0, 0);
    if (code)
        visit(h, code, payload);
    /* An entry frame (3.12/3.13 FRAME_OWNED_BY_CSTACK, 3.14
     * FRAME_OWNED_BY_INTERPRETER or FRAME_OWNED_BY_CSTACK): only its code is
     * set, the other fields are whatever the stack held. */
    if (L->frame_owner_entry != PH_NONE && owner >= L->frame_owner_entry)
        return;
    if (ph_read_u64(h->r, f + (uint64_t)L->iframe_funcobj, &func) &&
        (func = ph_stackref_obj(L, func))) {
        if (h->root_tstate)
            PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, "<f_func>", 0, f, h->root_tstate);
        else
            PH_LABEL(h, EDGE_FIELD, "<f_func>", 0, 0);
        visit(h, func, payload);
    }
    iframe_field(h, f, L->iframe_globals, ".f_globals", visit, payload);
    iframe_field(h, f, L->iframe_builtins, ".f_builtins", visit, payload);
    iframe_field(h, f, L->iframe_locals, "<f_locals dict>", visit, payload);
    iframe_field(h, f, L->iframe_frame_obj, "<frame object>", visit, payload);
    int32_t nlocalsplus = 0, stacksize = 0;
    if (!ph_ptr_ok(code) ||
        !ph_read(h->r, code + (uint64_t)L->code_nlocalsplus, &nlocalsplus, 4) ||
        !ph_read(h->r, code + (uint64_t)L->code_stacksize, &stacksize, 4) || nlocalsplus < 0 ||
        nlocalsplus > (1 << 20) || stacksize < 0 || stacksize > (1 << 20))
        return;
    /* Locals, cells and free variables are always in place.  The value
     * stack above them is only as good as stacktop, which the eval loop
     * saves at some calls and not others (-1 while it runs the frame): its
     * words are guesses, checked like a conservative scan. */
    int32_t nlocals = stacktop >= 0 && stacktop < nlocalsplus ? stacktop : nlocalsplus;
    int32_t top = stacktop > nlocalsplus + stacksize ? nlocalsplus + stacksize : stacktop;
    uint64_t items[256];
    for (int32_t i = 0; i < top || i < nlocals; i += 256) {
        int32_t end = top > nlocals ? top : nlocals;
        int32_t n = end - i < 256 ? end - i : 256;
        if (!ph_read(h->r, f + (uint64_t)L->iframe_localsplus + 8 * (uint64_t)i, items,
                     (size_t)n * 8))
            return;
        for (int32_t j = 0; j < n; j++) {
            items[j] = ph_stackref_obj(L, items[j]); /* 3.14: NULL and ints are no references */
            if (!items[j])
                continue;
            bool was = h->conservative, local = i + j < nlocals;
            h->conservative = was || !local;
            if (h->root_tstate)
                PH_LABEL_ROOT(h, local ? ROOT_LOCAL : ROOT_STACK, NULL, (uint64_t)(i + j), f,
                              h->root_tstate);
            else
                PH_LABEL(h, local ? EDGE_LOCAL : EDGE_STACK, NULL, (uint64_t)(i + j), code);
            visit(h, items[j], payload);
            h->conservative = was;
        }
    }
}

static void thread_roots(ph_heap *h, uint64_t ts, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    h->root_tstate = ts;
    root_field(h, ts, L->tstate_dict, ROOT_THREAD, "thread state dict", visit, payload);
    root_field(h, ts, L->tstate_async_exc, ROOT_THREAD, "pending async exception", visit, payload);
    root_field(h, ts, L->tstate_context, ROOT_THREAD, "contextvars context", visit, payload);
    root_field(h, ts, L->tstate_async_gen_firstiter, ROOT_THREAD, "async generator firstiter hook",
               visit, payload);
    root_field(h, ts, L->tstate_async_gen_finalizer, ROOT_THREAD, "async generator finalizer hook",
               visit, payload);
    root_field(h, ts, L->tstate_curexc_type, ROOT_THREAD, "exception being raised", visit, payload);
    root_field(h, ts, L->tstate_curexc_value, ROOT_THREAD, "exception being raised", visit, payload);
    root_field(h, ts, L->tstate_curexc_traceback, ROOT_THREAD, "exception being raised", visit,
               payload);
    root_field(h, ts, L->tstate_current_exception, ROOT_THREAD, "exception being raised", visit,
               payload);
    /* The handled-exception stack, from the top (a running generator's
     * state) down to the thread's own exc_state. */
    uint64_t item = 0;
    if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_exc_info, &item) || !ph_ptr_ok(item))
        item = ts + (uint64_t)L->tstate_exc_state;
    ph_cycle cyc = {0};
    for (int i = 0; i < MAX_EXC_CHAIN && ph_ptr_ok(item) && !ph_cycle_seen(&cyc, item); i++) {
        root_field(h, item, L->err_exc_type, ROOT_THREAD, "exception being handled", visit, payload);
        root_field(h, item, L->err_exc_value, ROOT_THREAD, "exception being handled", visit, payload);
        root_field(h, item, L->err_exc_traceback, ROOT_THREAD, "exception being handled", visit,
                   payload);
        if (!ph_read_u64(h->r, item + (uint64_t)L->err_previous_item, &item))
            break;
    }
    if (L->tstate_frame != PH_NONE) {
        /* 3.8-3.10: every frame of the thread is a root of its own, so that
         * a chain starts at the frame whose local holds the object. */
        uint64_t f = 0;
        ph_read_u64(h->r, ts + (uint64_t)L->tstate_frame, &f);
        ph_cycle fcyc = {0};
        for (int i = 0; i < MAX_FRAMES && ph_ptr_ok(f) && !ph_cycle_seen(&fcyc, f); i++) {
            PH_LABEL_ROOT(h, ROOT_FRAME, NULL, 0, 0, ts);
            visit(h, f, payload);
            if (!ph_read_u64(h->r, f + (uint64_t)L->frame_back, &f))
                break;
        }
        h->root_tstate = 0;
        return;
    }
    uint64_t f = 0;
    if (L->tstate_cframe != PH_NONE) {
        uint64_t cf;
        if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_cframe, &cf) || !ph_ptr_ok(cf) ||
            !ph_read_u64(h->r, cf + (uint64_t)L->cframe_current_frame, &f)) {
            h->root_tstate = 0;
            return;
        }
    } else if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_current_frame, &f)) {
        h->root_tstate = 0;
        return;
    }
    ph_cycle fcyc = {0};
    for (int i = 0; i < MAX_FRAMES && ph_ptr_ok(f) && !ph_poll(h); i++) {
        if (ph_cycle_seen(&fcyc, f)) {
            ph_skip(h, f, "a frame chain that loops");
            break;
        }
        ph_iframe_referents(h, f, visit, payload);
        if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_previous, &f))
            break;
    }
    h->root_tstate = 0;
}

/* Is d the interned-strings dict: a big dict whose first entries map a
 * str to itself? */
static bool looks_interned(ph_heap *h, uint64_t d, uint64_t dict_type)
{
    uint64_t t;
    ph_dict_iter it;
    if (!ph_ptr_ok(d) || !ph_reader_covers(h->r, d) || !ph_ob_type(h, d, &t) ||
        t != dict_type ||
        !ph_dict_iter_init(h, d, &it) || it.n < 256)
        return false;
    uint64_t k, v, str_type = 0;
    for (int i = 0; i < 16; i++) {
        if (!ph_dict_iter_next(h, &it, &k, &v) || k != v || !ph_ob_type(h, k, &t))
            return false;
        if (!str_type)
            str_type = t;
        if (t != str_type)
            return false;
    }
    uint32_t ti = ph_type_get(h, str_type);
    return ti != UINT32_MAX && h->types[ti].shape == SHAPE_STR;
}

/* 3.8-3.11 keep the interned dict in a file static of unicodeobject.c, which
 * only .symtab names.  Without it, search the data near _PyRuntime (same
 * binary, same data segments) for a pointer to a dict that looks like it. */
static uint64_t find_interned(ph_heap *h, uint64_t sysdict)
{
    uint64_t d = 0, dict_type = 0;
    if (h->syms.interned) {
        ph_read_u64(h->r, h->syms.interned, &d);
        return d;
    }
    if (!ph_ob_type(h, sysdict, &dict_type))
        return 0;
    const uint64_t span = 4u << 20, chunk = 4096;
    uint64_t lo = h->syms.py_runtime > span ? h->syms.py_runtime - span : 0;
    uint64_t words[4096 / 8];
    for (uint64_t a = lo & ~(chunk - 1); a < h->syms.py_runtime + span; a += chunk) {
        /* Only memory the core or process holds: the executable's read-only
         * parts come from gdb, slowly, and cannot hold the pointer anyway. */
        if (!ph_reader_covers(h->r, a) || !ph_read(h->r, a, words, chunk))
            continue;
        for (size_t i = 0; i < chunk / 8; i++)
            if (ph_ptr_ok(words[i]) && looks_interned(h, words[i], dict_type))
                return words[i];
    }
    return 0;
}

static ph_error *walk_roots(ph_heap *h, ph_visit_fn *visit, void *payload);

ph_error *ph_runtime_walk_roots(ph_heap *h, ph_ref_fn *fn, void *payload)
{
    ph_ref_sink sink = {fn, payload};
    h->conservative = h->in_permanent = false;
    h->root_tstate = 0;
    ph_error *err = walk_roots(h, ph_ref_emit, &sink);
    h->conservative = false;
    h->root_tstate = 0;
    return err;
}

static ph_error *walk_roots(ph_heap *h, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    uint64_t interp = first_interp(h);
    if (!ph_ptr_ok(interp))
        return ph_error_new(PH_ERR_CORRUPT, h->syms.py_runtime,
                            "the interpreter list in _PyRuntime is unreadable: the process "
                            "has no live interpreter (finalized, or not started)");
    h->interp_addr = interp;
    h->interpreters = h->threads = 0;
    ph_cycle icyc = {0};
    for (int n = 0; n < MAX_INTERPRETERS && ph_ptr_ok(interp) && !ph_poll(h); n++) {
        if (ph_cycle_seen(&icyc, interp)) {
            ph_skip(h, interp, "an interpreter list that loops");
            break;
        }
        h->interpreters++;
        root_field(h, interp, L->interp_modules, ROOT_MODULES, NULL, visit, payload);
        root_field(h, interp, L->interp_sysdict, ROOT_SYS, NULL, visit, payload);
        root_field(h, interp, L->interp_builtins, ROOT_BUILTINS, NULL, visit, payload);
        root_field(h, interp, L->interp_dict, ROOT_INTERP, NULL, visit, payload);
        if (L->interp_interned != PH_NONE) {
            root_field(h, interp, L->interp_interned, ROOT_INTERNED, NULL, visit, payload);
        } else if (n == 0) {
            uint64_t sysdict = 0, d;
            ph_read_u64(h->r, interp + (uint64_t)L->interp_sysdict, &sysdict);
            if (ph_ptr_ok(sysdict) && (d = find_interned(h, sysdict))) {
                PH_LABEL_ROOT(h, ROOT_INTERNED, NULL, 0, 0, 0);
                visit(h, d, payload);
            }
        }
        if (L->interp_types_builtins != PH_NONE) {
            for (int32_t i = 0; i < L->static_builtin_max; i++) {
                uint64_t st = interp + (uint64_t)L->interp_types_builtins +
                              (uint64_t)i * (uint64_t)L->static_builtin_state_size;
                root_field(h, st, L->static_builtin_state_tp_dict, ROOT_TYPE_DICT, NULL, visit,
                           payload);
            }
            for (int32_t i = 0; L->interp_types_for_extensions != PH_NONE && i < L->static_extension_max; i++) {
                uint64_t st = interp + (uint64_t)L->interp_types_for_extensions +
                              (uint64_t)i * (uint64_t)L->static_builtin_state_size;
                root_field(h, st, L->static_builtin_state_tp_dict, ROOT_TYPE_DICT, NULL, visit,
                           payload);
            }
        }
        uint64_t ts = 0;
        ph_read_u64(h->r, interp + (uint64_t)L->interp_threads_head, &ts);
        ph_cycle tcyc = {0};
        for (int t = 0; t < MAX_THREADS && ph_ptr_ok(ts) && !ph_poll(h); t++) {
            if (ph_cycle_seen(&tcyc, ts)) {
                ph_skip(h, ts, "a thread list that loops");
                break;
            }
            h->threads++;
            thread_roots(h, ts, visit, payload);
            if (!ph_read_u64(h->r, ts + (uint64_t)L->tstate_next, &ts))
                break;
        }
        if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_next, &interp))
            break;
    }
    return NULL;
}

/* Walks one GC list from its head, checking each link back. */
static void walk_gc_list(ph_heap *h, uint64_t head, ph_visit_fn *visit, void *payload)
{
    const uint64_t mask = ~(uint64_t)3;
    uint64_t prev = head, p;
    if (!ph_read_u64(h->r, head, &p))
        return;
    p &= mask;
    for (uint64_t n = 0; n < MAX_LIST_HOPS && p != head; n++) {
        uint64_t gc[2];
        if (!ph_ptr_ok(p) || !ph_read(h->r, p, gc, sizeof(gc)) || (gc[1] & mask) != prev) {
            ph_skip(h, p, "a GC list link that does not point back"); /* a broken link: the rest of this list is lost */
            return;
        }
        visit(h, p + (uint64_t)h->L->gc_head_size, payload);
        prev = p;
        p = gc[0] & mask;
        if (ph_poll(h))
            return;
    }
}

/* A GC list head that links into a circular doubly linked list: its
 * neighbours point back at it (or it is alone). */
bool ph_gc_head_links(ph_heap *h, uint64_t head)
{
    const uint64_t mask = ~(uint64_t)3;
    uint64_t hd[2], w;
    if (!ph_read(h->r, head, hd, sizeof(hd)))
        return false;
    uint64_t next = hd[0] & mask, prev = hd[1] & mask;
    /* the neighbours are objects' GC headers (8-aligned); the head itself need not be */
    if (next != head && (!ph_ptr_ok(next) || !ph_read_u64(h->r, next + 8, &w) || (w & mask) != head))
        return false;
    if (prev != head && (!ph_ptr_ok(prev) || !ph_read_u64(h->r, prev, &w) || (w & mask) != head))
        return false;
    return true;
}

static bool gc_generations_ok(ph_heap *h, uint64_t gens)
{
    const ph_layout *L = h->L;
    for (int32_t g = 0; g < L->gc_num_generations; g++)
        if (!ph_gc_head_links(h, gens + (uint64_t)g * (uint64_t)L->gc_generation_size))
            return false;
    return true;
}

/* Where the generations start in this build's GC state.  The field before
 * them ends 4 bytes short of an 8-byte boundary ({PyObject *; int; int; int}
 * on 3.9-3.13), and a build whose PyGC_Head is only 4-aligned (Debian
 * trixie's 3.13.5: Py_ALIGNED(1 << _PyObject_ALIGNMENT_SHIFT) on the typedef)
 * puts them 4 bytes earlier than the table's build did.  The offset whose
 * heads all link up is taken; when neither does (a damaged heap), the
 * table's. */
static uint64_t gc_generations_at(ph_heap *h, uint64_t gc)
{
    const ph_layout *L = h->L;
    uint64_t table = gc + (uint64_t)L->gc_generations;
    if (gc_generations_ok(h, table))
        return table;
    if (L->gc_generations >= 4 && gc_generations_ok(h, table - 4)) {
        h->gc_generations_shift = -4;
        return table - 4;
    }
    return table;
}

bool ph_runtime_gc_generations(ph_heap *h, uint64_t gc, uint64_t *gens)
{
    *gens = gc_generations_at(h, gc);
    return gc_generations_ok(h, *gens);
}

static void walk_gc_state(ph_heap *h, uint64_t gc, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    int32_t collecting = 0;
    if (ph_read(h->r, gc + (uint64_t)L->gc_collecting, &collecting, 4) && collecting)
        h->gc_collecting = true;
    uint64_t gens = gc_generations_at(h, gc);
    for (int32_t g = 0; g < L->gc_num_generations; g++)
        walk_gc_list(h, gens + (uint64_t)g * (uint64_t)L->gc_generation_size, visit, payload);
    h->in_permanent = true;
    walk_gc_list(h, gc + (uint64_t)L->gc_permanent_generation, visit, payload);
    h->in_permanent = false;
}

ph_error *ph_runtime_walk_gc(ph_heap *h, ph_ref_fn *fn, void *payload)
{
    const ph_layout *L = h->L;
    ph_ref_sink sink = {fn, payload};
    ph_visit_fn *visit = ph_ref_emit;
    payload = &sink;
    h->conservative = h->in_permanent = false;
    h->root_tstate = 0;
    if (L->free_threaded == 1) /* no GC lists: the GC heaps of mimalloc (mimalloc.c) */
        return ph_mi_walk_gc(h, visit, payload);
    if (L->runtime_gc != PH_NONE) {
        walk_gc_state(h, h->syms.py_runtime + (uint64_t)L->runtime_gc, visit, payload);
        return NULL;
    }
    uint64_t interp = first_interp(h);
    ph_cycle cyc = {0};
    for (int n = 0; n < MAX_INTERPRETERS && ph_ptr_ok(interp) && !ph_cycle_seen(&cyc, interp); n++) {
        walk_gc_state(h, interp + (uint64_t)L->interp_gc, visit, payload);
        if (!ph_read_u64(h->r, interp + (uint64_t)L->interp_next, &interp))
            break;
    }
    return NULL;
}

