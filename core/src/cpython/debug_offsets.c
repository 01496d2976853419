/* CPython 3.13+ starts _PyRuntime with _Py_DebugOffsets: the offsets of its
 * own structures, for tools like this one.  Every field they describe is
 * taken from them (ph_debug_offsets_apply), so that a patch release that
 * moved one is read right; they do not cover everything the walk needs (no
 * GC list heads, dict keys, type slots...): the rest still comes from the
 * built-in tables.  ph_debug_offsets_check tells whether they agree with a
 * table (the tests). */
#include "cpython/debug_offsets.h"

#include "base/error.h"
#include "memory/reader.h"

#include <stddef.h>
#include <string.h>

/* ---- taking the layout from _Py_DebugOffsets ------------------------------
 *
 * Each field is read at its position in the release's _Py_DebugOffsets and
 * checked against the size its own section gives (every section starts with
 * the sizeof of the structure it describes), so that a hostile or damaged
 * core cannot hand the walk an offset outside the structure. */

typedef enum { K_WORD, K_SMALL, K_SIZE, K_SUBSIZE, K_FREE } field_kind;

typedef struct do_field {
    uint32_t at;           /* position of the uint64 in _Py_DebugOffsets */
    uint32_t sect;         /* position of its section's size field */
    size_t field;          /* offsetof(ph_layout, ...) */
    const char *name;
    field_kind kind;       /* K_WORD: an 8-aligned word inside the structure; K_SMALL: a
                              narrower member or an inline array's start; K_SIZE: the
                              section's sizeof; K_SUBSIZE: a size no larger than it;
                              K_FREE: a section without a size (bounded by 256) */
} do_field;

#define W(at, sect, f) {at, sect, offsetof(ph_layout, f), #f, K_WORD}
#define S(at, sect, f) {at, sect, offsetof(ph_layout, f), #f, K_SMALL}
#define Z(at, f) {at, at, offsetof(ph_layout, f), #f, K_SIZE}
#define U(at, sect, f) {at, sect, offsetof(ph_layout, f), #f, K_SUBSIZE}
#define F(at, f) {at, 0, offsetof(ph_layout, f), #f, K_FREE}

/* Positions and sections of 3.13 and 3.14 are checked against the DWARF of
 * 3.13.0 and 3.14.7 by tests/integration/test_debug_offsets.py.
 *
 * 3.13 (Include/internal/pycore_debug_offsets.h at v3.13.0; 584 bytes): sections
 * runtime 24, interpreter 48, thread 152, frame 224, code 272, object 352, type 368,
 * tuple 400, list 424, dict 448, float 472, long 488, bytes 512, unicode 536, gc 568. */
static const do_field fields_3_13[] = {
    W(40, 24, runtime_interpreters_head),
    W(56, 48, interp_id), W(64, 48, interp_next), W(72, 48, interp_threads_head),
    W(80, 48, interp_gc), W(88, 48, interp_modules), W(96, 48, interp_sysdict),
    W(104, 48, interp_builtins),
    W(168, 152, tstate_next), W(176, 152, tstate_interp), W(184, 152, tstate_current_frame),
    W(192, 152, tstate_thread_id), S(200, 152, tstate_native_thread_id),
    W(232, 224, iframe_previous), W(240, 224, iframe_code), W(248, 224, iframe_instr),
    S(256, 224, iframe_localsplus), S(264, 224, iframe_owner),
    W(280, 272, code_filename), W(288, 272, code_name), W(296, 272, code_qualname),
    W(304, 272, code_linetable), S(312, 272, code_firstlineno), S(320, 272, code_argcount),
    W(328, 272, code_localsplusnames), W(336, 272, code_localspluskinds),
    S(344, 272, code_code_adaptive),
    Z(368, type_sizeof), W(376, 368, tp_name), W(392, 368, tp_flags),
    S(408, 400, tuple_ob_item), Z(424, list_sizeof), W(432, 424, list_ob_item),
    Z(448, dict_sizeof), W(456, 448, dict_ma_keys), W(464, 448, dict_ma_values),
    W(496, 488, long_lv_tag), S(504, 488, long_digits), S(528, 512, bytes_sval),
    S(544, 536, str_state), W(552, 536, str_length), U(560, 536, str_ascii_sizeof),
    S(576, 568, gc_collecting),
};

/* 3.14 (760 bytes): sections runtime 24, interpreter 48, thread 176, frame 248, code
 * 312, object 400, type 416, tuple 448, list 472, set 496, dict 528, float 552, long
 * 568, bytes 592, unicode 616, gc 648, generator 664; then llist_node and
 * debugger_support. */
static const do_field fields_3_14[] = {
    W(40, 24, runtime_interpreters_head),
    W(56, 48, interp_id), W(64, 48, interp_next), W(72, 48, interp_threads_head),
    W(88, 48, interp_gc), W(96, 48, interp_modules), W(104, 48, interp_sysdict),
    W(112, 48, interp_builtins),
    W(192, 176, tstate_next), W(200, 176, tstate_interp), W(208, 176, tstate_current_frame),
    W(216, 176, tstate_thread_id), S(224, 176, tstate_native_thread_id),
    W(256, 248, iframe_previous), W(264, 248, iframe_code), W(272, 248, iframe_instr),
    S(280, 248, iframe_localsplus), S(288, 248, iframe_owner), W(296, 248, iframe_stackpointer),
    W(320, 312, code_filename), W(328, 312, code_name), W(336, 312, code_qualname),
    W(344, 312, code_linetable), S(352, 312, code_firstlineno), S(360, 312, code_argcount),
    W(368, 312, code_localsplusnames), W(376, 312, code_localspluskinds),
    S(384, 312, code_code_adaptive),
    Z(416, type_sizeof), W(424, 416, tp_name), W(440, 416, tp_flags),
    S(456, 448, tuple_ob_item), Z(472, list_sizeof), W(480, 472, list_ob_item),
    Z(496, set_sizeof), W(504, 496, set_used), W(512, 496, set_table), W(520, 496, set_mask),
    Z(528, dict_sizeof), W(536, 528, dict_ma_keys), W(544, 528, dict_ma_values),
    W(576, 568, long_lv_tag), S(584, 568, long_digits), S(608, 592, bytes_sval),
    S(624, 616, str_state), W(632, 616, str_length), U(640, 616, str_ascii_sizeof),
    S(656, 648, gc_collecting), S(688, 664, gen_frame_state),
};

/* 3.15 (888 bytes; Include/internal/pycore_debug_offsets.h of the 3.15 branch, as
 * pystack's Python3_15 struct and later 3.15.0rc3 readers list it: thread_state gained
 * base_frame, last_profiled_frame and last_profiled_frame_seq after current_frame, and
 * holds_gil, gil_requested, current_exception and exc_state at its end;
 * err_stackitem{exc_value} is new; type_object gained tp_basicsize and tp_dictoffset;
 * heap_type_object{size, ht_cached_keys} is new; unicode_object gained
 * compactunicodeobject_size; gc gained frame, generation_stats_size and
 * generation_stats).  Sections: runtime 24, interpreter 48, thread 176, err_stackitem
 * 304, frame 312, code 376, object 464, type 480, heap type 528, tuple 544, list 568,
 * set 592, dict 624, float 648, long 664, bytes 688, unicode 712, gc 752, generator
 * 792; then llist_node (824) and debugger_support (840-888). */
static const do_field fields_3_15[] = {
    W(40, 24, runtime_interpreters_head),
    W(56, 48, interp_id), W(64, 48, interp_next), W(72, 48, interp_threads_head),
    W(88, 48, interp_gc), W(96, 48, interp_modules), W(104, 48, interp_sysdict),
    W(112, 48, interp_builtins),
    W(192, 176, tstate_next), W(200, 176, tstate_interp), W(208, 176, tstate_current_frame),
    W(240, 176, tstate_thread_id), S(248, 176, tstate_native_thread_id),
    W(288, 176, tstate_current_exception), W(296, 176, tstate_exc_state),
    F(304, err_exc_value),
    W(320, 312, iframe_previous), W(328, 312, iframe_code), W(336, 312, iframe_instr),
    S(344, 312, iframe_localsplus), S(352, 312, iframe_owner), W(360, 312, iframe_stackpointer),
    W(384, 376, code_filename), W(392, 376, code_name), W(400, 376, code_qualname),
    W(408, 376, code_linetable), S(416, 376, code_firstlineno), S(424, 376, code_argcount),
    W(432, 376, code_localsplusnames), W(440, 376, code_localspluskinds),
    S(448, 376, code_code_adaptive),
    Z(480, type_sizeof), W(488, 480, tp_name), W(504, 480, tp_flags),
    W(512, 480, tp_basicsize), W(520, 480, tp_dictoffset),
    Z(528, heaptype_sizeof), W(536, 528, ht_cached_keys),
    S(552, 544, tuple_ob_item), Z(568, list_sizeof), W(576, 568, list_ob_item),
    Z(592, set_sizeof), W(600, 592, set_used), W(608, 592, set_table), W(616, 592, set_mask),
    Z(624, dict_sizeof), W(632, 624, dict_ma_keys), W(640, 624, dict_ma_values),
    W(672, 664, long_lv_tag), S(680, 664, long_digits), S(704, 688, bytes_sval),
    S(720, 712, str_state), W(728, 712, str_length), U(736, 712, str_ascii_sizeof),
    U(744, 712, str_compact_sizeof),
    S(760, 752, gc_collecting), S(816, 792, gen_frame_state),
};

#define DEBUG_OFFSETS_3_13_SIZE 584
#define DEBUG_OFFSETS_3_14_SIZE 760
#define DEBUG_OFFSETS_3_15_SIZE 888
#define DEBUG_OFFSETS_MAX 1024

typedef struct version_fields {
    int minor;
    size_t size;
    const do_field *fields;
    size_t n;
    uint32_t interp_size_at, gc_size_at;
} version_fields;

static const version_fields fields_by_version[] = {
    {13, DEBUG_OFFSETS_3_13_SIZE, fields_3_13, sizeof(fields_3_13) / sizeof(fields_3_13[0]), 48, 568},
    {14, DEBUG_OFFSETS_3_14_SIZE, fields_3_14, sizeof(fields_3_14) / sizeof(fields_3_14[0]), 48, 648},
    {15, DEBUG_OFFSETS_3_15_SIZE, fields_3_15, sizeof(fields_3_15) / sizeof(fields_3_15[0]), 48, 752},
};
#define NEWEST_DEBUG_OFFSETS 15

static const version_fields *fields_for(int minor)
{
    for (size_t i = 0; i < sizeof(fields_by_version) / sizeof(fields_by_version[0]); i++)
        if (fields_by_version[i].minor == minor)
            return &fields_by_version[i];
    return NULL;
}

static uint64_t u64_at(const unsigned char *buf, uint32_t at)
{
    uint64_t v;
    memcpy(&v, buf + at, 8);
    return v;
}

/* The bound on a section's sizeof: the interpreter and runtime states are big
 * (3.15's interpreter 226040 bytes, runtime 345248), the others small. */
static uint64_t section_max(uint32_t sect)
{
    return sect <= 48 ? (UINT64_C(1) << 22) : (UINT64_C(1) << 16);
}

ph_error *ph_debug_offsets_apply(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 ph_layout *L, ph_debug_offsets_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    if (v->minor < 13 || !runtime)
        return NULL;
    unsigned char head[24];
    if (!ph_read(r, runtime, head, sizeof(head)) || memcmp(head, "xdebugpy", 8) != 0)
        return NULL; /* no cookie: the table alone */
    uint64_t version = u64_at(head, 8);
    if (((version >> 24) & 0xff) != 3 || (int)((version >> 16) & 0xff) != v->minor)
        return ph_error_new(PH_ERR_VERSION, runtime + 8,
                            "this CPython %s has _Py_DebugOffsets of another version (0x%llx)",
                            v->text, (unsigned long long)version);
    int minor = v->minor > NEWEST_DEBUG_OFFSETS ? NEWEST_DEBUG_OFFSETS : v->minor;
    const version_fields *vf = fields_for(minor);
    if (!vf)
        return NULL;
    unsigned char buf[DEBUG_OFFSETS_MAX];
    if (vf->size > sizeof(buf) || !ph_read(r, runtime, buf, vf->size))
        return ph_error_new(PH_ERR_VERSION, runtime,
                            "this CPython %s's _Py_DebugOffsets are unreadable (%zu bytes at "
                            "_PyRuntime)",
                            v->text, vf->size);
    rep->present = true;
    rep->read_as = minor;
    rep->assumed = minor != v->minor;
    rep->size = vf->size;
    ph_layout out = *L;
    for (size_t i = 0; i < vf->n; i++) {
        const do_field *f = &vf->fields[i];
        uint64_t val = u64_at(buf, f->at);
        uint64_t sect = f->kind == K_FREE ? 256 : u64_at(buf, f->sect);
        bool ok;
        switch (f->kind) {
        case K_SIZE: ok = val >= 8 && val <= section_max(f->at); break;
        case K_SUBSIZE: ok = val >= 8 && val <= sect && sect <= section_max(f->sect); break;
        case K_WORD: ok = !(val & 7) && sect <= section_max(f->sect) && val < sect && sect - val >= 8; break;
        default: ok = sect <= section_max(f->sect) && val < sect; break;
        }
        if (!ok)
            return ph_error_new(PH_ERR_VERSION, runtime + f->at,
                                "this CPython %s's _Py_DebugOffsets are not sane: %s = %llu "
                                "(its structure is %llu bytes)%s",
                                v->text, f->name, (unsigned long long)val,
                                (unsigned long long)sect,
                                rep->assumed ? ", read as 3.15's struct" : "");
        int32_t ours, theirs = (int32_t)val;
        memcpy(&ours, (const char *)L + f->field, 4);
        memcpy((char *)&out + f->field, &theirs, 4);
        rep->fields++;
        if (ours != theirs) {
            if (rep->changed < 4) {
                size_t len = strlen(rep->changed_names);
                snprintf(rep->changed_names + len, sizeof(rep->changed_names) - len, "%s%s %d->%d",
                         len ? ", " : "", f->name, ours, theirs);
            }
            rep->changed++;
        }
    }
    /* The interpreter's fields the walk starts from are distinct words. */
    const int32_t in[] = {out.interp_next, out.interp_threads_head, out.interp_id,
                          out.interp_modules, out.interp_sysdict, out.interp_builtins};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        for (size_t j = i + 1; j < sizeof(in) / sizeof(in[0]); j++)
            if (in[i] == in[j])
                return ph_error_new(PH_ERR_VERSION, runtime + 48,
                                    "this CPython %s's _Py_DebugOffsets are not sane: two "
                                    "interpreter fields at offset %d",
                                    v->text, in[i]);
    rep->interp_size = u64_at(buf, vf->interp_size_at);
    rep->gc_size = u64_at(buf, vf->gc_size_at);
    if (out.interp_gc + (int64_t)rep->gc_size > (int64_t)rep->interp_size)
        return ph_error_new(PH_ERR_VERSION, runtime + vf->gc_size_at,
                            "this CPython %s's _Py_DebugOffsets are not sane: the GC state "
                            "(%llu bytes at %d) overruns the interpreter (%llu bytes)",
                            v->text, (unsigned long long)rep->gc_size, out.interp_gc,
                            (unsigned long long)rep->interp_size);
    *L = out;
    return NULL;
}

size_t ph_debug_offsets_size(int minor)
{
    const version_fields *vf = fields_for(minor);
    return vf ? vf->size : 0;
}

const char *ph_debug_offsets_field_at(int minor, size_t i, uint32_t *at, uint32_t *sect,
                                      size_t *field)
{
    const version_fields *vf = fields_for(minor);
    if (!vf || i >= vf->n)
        return NULL;
    *at = vf->fields[i].at;
    *sect = vf->fields[i].sect;
    *field = vf->fields[i].field;
    return vf->fields[i].name;
}

uint32_t ph_debug_offsets_section_at(int minor, const char *which)
{
    const version_fields *vf = fields_for(minor);
    if (!vf)
        return 0;
    return strcmp(which, "gc") == 0 ? vf->gc_size_at : vf->interp_size_at;
}

ph_error *ph_debug_offsets_check(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 const ph_layout *L, bool *checked)
{
    *checked = false;
    const version_fields *vf = fields_for(v->minor);
    if (!vf || !runtime)
        return NULL;
    unsigned char buf[DEBUG_OFFSETS_MAX];
    uint64_t version = 0;
    if (vf->size > sizeof(buf) || !ph_read(r, runtime, buf, vf->size) ||
        memcmp(buf, "xdebugpy", 8) != 0)
        return NULL; /* no cookie: nothing to check against */
    memcpy(&version, buf + 8, 8);
    if (((version >> 24) & 0xff) != 3 || (int)((version >> 16) & 0xff) != v->minor)
        return ph_error_new(PH_ERR_VERSION, runtime + 8,
                            "this CPython %s has _Py_DebugOffsets of another version (0x%llx)",
                            v->text, (unsigned long long)version);
    for (size_t i = 0; i < vf->n; i++) {
        const do_field *f = &vf->fields[i];
        uint64_t theirs = u64_at(buf, f->at);
        int32_t ours;
        memcpy(&ours, (const char *)L + f->field, 4);
        if (ours == PH_NONE || theirs != (uint64_t)ours)
            return ph_error_new(PH_ERR_VERSION, runtime + f->at,
                                "this CPython %s does not have the layout probe-heap knows for "
                                "%d.%d: its _Py_DebugOffsets give %s = %llu, the table %d",
                                v->text, v->major, v->minor, f->name, (unsigned long long)theirs,
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
    uint32_t sect;
    return ph_debug_offsets_field_at(minor, i, at, &sect, field);
}
