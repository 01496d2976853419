/* Checking the built-in layout against a 3.13+ target's _Py_DebugOffsets. */
#ifndef PH_DEBUG_OFFSETS_H
#define PH_DEBUG_OFFSETS_H

#include "cpython/layout.h"
#include "probeheap.h"

/* An error when the target's debug offsets disagree with L; *checked tells
 * whether there was anything to check. */
ph_error *ph_debug_offsets_check(ph_reader *r, uint64_t runtime, const ph_version *v,
                                 const ph_layout *L, bool *checked);

/* The i-th checked field: its name, its position in _Py_DebugOffsets and
 * its offset in ph_layout (for the tests); NULL past the end. */
const char *ph_debug_offsets_check_at(size_t i, uint32_t *at, size_t *field);

/* The same for the checks of CPython 3.minor (13, 14). */
const char *ph_debug_offsets_check_at_version(int minor, size_t i, uint32_t *at, size_t *field);

#endif
