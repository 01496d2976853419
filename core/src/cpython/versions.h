/* Which layout a CPython release has (versions.c). */
#ifndef PH_VERSIONS_H
#define PH_VERSIONS_H

#include "cpython/layout.h"
#include "base/error.h"
#include "probeheap.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ph_layout_choice {
    int table_minor;        /* the table used: 3.table_minor */
    int table_micro;        /* the release it was made from (0: not from a build) */
    bool assumed;           /* the target is newer than every table */
    bool derived;           /* the table is derived from another's (3.15), not from DWARF */
    bool free_threaded;     /* a free-threaded build's table */
    const char *gc;         /* the collector's lists, in words */
    bool gc_incremental;    /* 3.14.0-3.14.4: young and two old spaces */
    uint32_t gc_state_size; /* sizeof(struct _gc_runtime_state) of this release (0: unknown) */
    unsigned placed;        /* interpreter fields moved with their neighbours */
} ph_layout_choice;

/* The built-in table of 3.minor (8 to 15), or NULL. */
const ph_layout *ph_layout_table(int minor);

/* The layout of release v before _Py_DebugOffsets are applied: the table of
 * its minor (the newest for a newer release), adjusted for its micro. */
ph_error *ph_layout_select(const ph_version *v, ph_layout *L, ph_layout_choice *c);

/* After _Py_DebugOffsets moved the interpreter's fields it describes: moves
 * the ones it does not describe with them (interp_size: the target's
 * sizeof(PyInterpreterState)). */
void ph_layout_place_interp(const ph_version *v, ph_layout *L, const ph_layout *table,
                            uint64_t interp_size, ph_layout_choice *c);

#endif
