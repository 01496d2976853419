/* Structural probes of the target, run on every build before the walk
 * (probes.c). */
#ifndef PH_PROBES_H
#define PH_PROBES_H

#include "cpython/object.h"

/* Where the layout facts the probes rest on came from. */
typedef struct probe_sources {
    const char *fields; /* interpreter, thread, type offsets: "the target's _Py_DebugOffsets" or a table */
    const char *table;  /* sizes and everything else: the table's name */
} probe_sources;

/* Runs every probe in order, recording each that passes in h->probes;
 * NULL when all pass, else why the first failed (a sentence fragment). */
const char *ph_probes_run(ph_heap *h, const probe_sources *src);

#endif
