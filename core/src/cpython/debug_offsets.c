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

/* Positions from the DWARF of CPython 3.14.7 (Include/internal/pycore_debug_offsets.h:
 * 3.14 added interpreter_state.threads_main, the GIL's fields,
 * code_object_generation and tlbc_generation; thread_state.prev, datastack_chunk
 * and status; the frame's stackpointer and tlbc_index; code co_tlbc; set,
 * generator, llist_node and debugger_support sections: 760 bytes).  Its own
 * version field names the release; the struct is read by this size only
 * when that field says 3.14. */
static const check checks_3_14[] = {
    C(40, runtime_interpreters_head),
    C(56, interp_id),           C(64, interp_next),        C(72, interp_threads_head),
    C(88, interp_gc),           C(96, interp_modules),     C(104, interp_sysdict),
    C(112, interp_builtins),
    C(192, tstate_next),        C(200, tstate_interp),     C(208, tstate_current_frame),
    C(216, tstate_thread_id),   C(224, tstate_native_thread_id),
    C(256, iframe_previous),    C(264, iframe_code),       C(272, iframe_instr),
    C(280, iframe_localsplus),  C(288, iframe_owner),      C(296, iframe_stackpointer),
    C(320, code_filename),      C(328, code_name),         C(336, code_qualname),
    C(344, code_linetable),     C(352, code_firstlineno),  C(360, code_argcount),
    C(368, code_localsplusnames), C(376, code_localspluskinds), C(384, code_code_adaptive),
    C(416, type_sizeof),        C(424, tp_name),           C(440, tp_flags),
    C(456, tuple_ob_item),      C(472, list_sizeof),       C(480, list_ob_item),
    C(496, set_sizeof),         C(504, set_used),          C(512, set_table),
    C(520, set_mask),
    C(528, dict_sizeof),        C(536, dict_ma_keys),      C(544, dict_ma_values),
    C(576, long_lv_tag),        C(584, long_digits),       C(608, bytes_sval),
    C(624, str_state),          C(632, str_length),        C(640, str_ascii_sizeof),
    C(656, gc_collecting),      C(688, gen_frame_state),
};

#define DEBUG_OFFSETS_3_14_SIZE 760

typedef struct version_checks {
    int minor;
    size_t size;           /* sizeof(_Py_DebugOffsets) in that version */
    const check *checks;
    size_t n;
} version_checks;

static const version_checks by_version[] = {
    {13, DEBUG_OFFSETS_3_13_SIZE, checks_3_13, sizeof(checks_3_13) / sizeof(checks_3_13[0])},
    {14, DEBUG_OFFSETS_3_14_SIZE, checks_3_14, sizeof(checks_3_14) / sizeof(checks_3_14[0])},
};

static const version_checks *checks_for(int minor)
{
    for (size_t i = 0; i < sizeof(by_version) / sizeof(by_version[0]); i++)
        if (by_version[i].minor == minor)
            return &by_version[i];
    return NULL;
}

ph_error *ph_debug_offsets_check(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 const ph_layout *L, bool *checked)
{
    *checked = false;
    const version_checks *vc = checks_for(v->minor);
    if (!vc || !runtime)
        return NULL;
    unsigned char buf[DEBUG_OFFSETS_3_14_SIZE];
    uint64_t version = 0;
    if (vc->size > sizeof(buf) || !ph_read(r, runtime, buf, vc->size) ||
        memcmp(buf, "xdebugpy", 8) != 0)
        return NULL; /* no cookie: nothing to check against */
    memcpy(&version, buf + 8, 8);
    if (((version >> 24) & 0xff) != 3 || (int)((version >> 16) & 0xff) != v->minor)
        return ph_error_new(PH_ERR_VERSION, runtime + 8,
                            "this CPython %s has _Py_DebugOffsets of another version (0x%llx)",
                            v->text, (unsigned long long)version);
    for (size_t i = 0; i < vc->n; i++) {
        const check *c = &vc->checks[i];
        uint64_t theirs;
        int32_t ours;
        memcpy(&theirs, buf + c->at, 8);
        memcpy(&ours, (const char *)L + c->field, 4);
        if (ours == PH_NONE || theirs != (uint64_t)ours)
            return ph_error_new(PH_ERR_VERSION, runtime + c->at,
                                "this CPython %s does not have the layout probe-heap knows for "
                                "%d.%d: its _Py_DebugOffsets give %s = %llu, the table %d",
                                v->text, v->major, v->minor, c->name, (unsigned long long)theirs,
                                ours);
    }
    *checked = true;
    return NULL;
}

const char *ph_debug_offsets_check_at(size_t i, uint32_t *at, size_t *field)
{
    return ph_debug_offsets_check_at_version(13, i, at, field);
}

const char *ph_debug_offsets_check_at_version(int minor, size_t i, uint32_t *at, size_t *field)
{
    const version_checks *vc = checks_for(minor);
    if (!vc || i >= vc->n)
        return NULL;
    *at = vc->checks[i].at;
    *field = vc->checks[i].field;
    return vc->checks[i].name;
}
