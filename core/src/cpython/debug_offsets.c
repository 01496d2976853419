/* CPython 3.13+ starts _PyRuntime with _Py_DebugOffsets: the offsets of its
 * own structures, for tools like this one.  They do not cover everything
 * the walk needs (no GC list heads, basicsize, dict keys...), so the layout
 * still comes from the built-in tables; but every field they do cover must
 * agree with the table, or this build's layout is not the one we know. */
#include "cpython/debug_offsets.h"

#include "base/error.h"
#include "memory/reader.h"

#include <stddef.h>
#include <string.h>

typedef struct check {
    uint32_t at;           /* position of the uint64 in _Py_DebugOffsets */
    size_t field;          /* offsetof(ph_layout, ...) */
    const char *name;
} check;

#define C(at, f) {at, offsetof(ph_layout, f), #f}

/* Positions from the DWARF of /root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0
 * (struct _Py_DebugOffsets; tests/integration/test_debug_offsets.py checks them). */
static const check checks_3_13[] = {
    C(40, runtime_interpreters_head),
    C(56, interp_id),           C(64, interp_next),        C(72, interp_threads_head),
    C(80, interp_gc),           C(88, interp_modules),     C(96, interp_sysdict),
    C(104, interp_builtins),
    C(168, tstate_next),        C(176, tstate_interp),     C(184, tstate_current_frame),
    C(192, tstate_thread_id),   C(200, tstate_native_thread_id),
    C(232, iframe_previous),    C(240, iframe_code),       C(248, iframe_instr),
    C(256, iframe_localsplus),  C(264, iframe_owner),
    C(280, code_filename),      C(288, code_name),         C(296, code_qualname),
    C(304, code_linetable),     C(312, code_firstlineno),  C(320, code_argcount),
    C(328, code_localsplusnames), C(336, code_localspluskinds), C(344, code_code_adaptive),
    C(368, type_sizeof),        C(376, tp_name),           C(392, tp_flags),
    C(408, tuple_ob_item),      C(424, list_sizeof),       C(432, list_ob_item),
    C(448, dict_sizeof),        C(456, dict_ma_keys),      C(464, dict_ma_values),
    C(496, long_lv_tag),        C(504, long_digits),       C(528, bytes_sval),
    C(544, str_state),          C(552, str_length),        C(560, str_ascii_sizeof),
    C(576, gc_collecting),
};

#define DEBUG_OFFSETS_3_13_SIZE 584

ph_error *ph_debug_offsets_check(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 const ph_layout *L, bool *checked)
{
    *checked = false;
    if (v->minor != 13 || !runtime)
        return NULL;
    unsigned char buf[DEBUG_OFFSETS_3_13_SIZE];
    if (!ph_read(r, runtime, buf, sizeof(buf)) || memcmp(buf, "xdebugpy", 8) != 0)
        return NULL; /* no cookie: nothing to check against */
    for (size_t i = 0; i < sizeof(checks_3_13) / sizeof(checks_3_13[0]); i++) {
        const check *c = &checks_3_13[i];
        uint64_t theirs;
        int32_t ours;
        memcpy(&theirs, buf + c->at, 8);
        memcpy(&ours, (const char *)L + c->field, 4);
        if (ours == PH_NONE || theirs != (uint64_t)ours)
            return ph_error_new(PH_ERR_VERSION, runtime + c->at,
                                "this CPython %s does not have the layout probe-heap knows for "
                                "3.13: its _Py_DebugOffsets give %s = %llu, the table %d",
                                v->text, c->name, (unsigned long long)theirs, ours);
    }
    *checked = true;
    return NULL;
}

const char *ph_debug_offsets_check_at(size_t i, uint32_t *at, size_t *field)
{
    if (i >= sizeof(checks_3_13) / sizeof(checks_3_13[0]))
        return NULL;
    *at = checks_3_13[i].at;
    *field = checks_3_13[i].field;
    return checks_3_13[i].name;
}
