/* The target's _Py_DebugOffsets (3.13+): the layout it describes, read by its
 * own version, and checked against the built-in tables. */
#ifndef PH_DEBUG_OFFSETS_H
#define PH_DEBUG_OFFSETS_H

#include "cpython/layout.h"
#include "probeheap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An error when the target's debug offsets disagree with L; *checked tells
 * whether there was anything to check. */
ph_error *ph_debug_offsets_check(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 const ph_layout *L, bool *checked);

/* The i-th checked field: its name, its position in _Py_DebugOffsets and
 * its offset in ph_layout (for the tests); NULL past the end. */
const char *ph_debug_offsets_check_at(size_t i, uint32_t *at, size_t *field);

/* The same for the checks of CPython 3.minor (13, 14). */
const char *ph_debug_offsets_check_at_version(int minor, size_t i, uint32_t *at, size_t *field);

/* What ph_debug_offsets_apply took from the target. */
typedef struct ph_debug_offsets_report {
    bool present;             /* the cookie was there and the struct was read */
    int read_as;              /* read with the layout of 3.read_as's _Py_DebugOffsets */
    bool assumed;             /* a newer CPython: read as the newest known layout */
    size_t size;              /* bytes read */
    unsigned fields, changed; /* fields taken; how many differ from the table */
    char changed_names[200];  /* the first few of those, "name table->target" */
    uint64_t interp_size, gc_size; /* sizeof(PyInterpreterState), of its GC state */
} ph_debug_offsets_report;

/* Overwrites every field of L that the target's _Py_DebugOffsets describe
 * with the target's value, after checking each against the size of the
 * structure its section gives.  Nothing changes (and rep->present is
 * false) without the cookie; an error when its version field names another
 * release or a value is out of bounds (L is then untouched). */
ph_error *ph_debug_offsets_apply(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 ph_layout *L, ph_debug_offsets_report *rep);

/* sizeof(_Py_DebugOffsets) of 3.minor (0: unknown). */
size_t ph_debug_offsets_size(int minor);

/* The i-th field taken from 3.minor's _Py_DebugOffsets: its name, its position,
 * its section's size position, its offset in ph_layout; NULL past the end. */
const char *ph_debug_offsets_field_at(int minor, size_t i, uint32_t *at, uint32_t *sect,
                                      size_t *field);

/* Where 3.minor's _Py_DebugOffsets keeps the size of the "interp" or "gc" state. */
uint32_t ph_debug_offsets_section_at(int minor, const char *which);

#endif
