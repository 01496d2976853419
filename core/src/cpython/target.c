/* The target runtime: which CPython it is, and the layout it is read with
 * (the table, its _Py_DebugOffsets, then the structural probes).  Its roots
 * and GC lists are roots.c's. */
#include "base/error.h"
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/debug_offsets.h"
#include "cpython/versions.h"
#include "cpython/probes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
