/* The heap: what one walk of a target found, and what is built on it.
 *
 * A heap holds the target's reader and layout, the type table, the object
 * index, the walk's queue and roots, and the graph built on first use.  Its
 * lifecycle is ph_heap_build (walk.c) and ph_heap_free (api/heap_handle.c); long work polls it for
 * an interruption. */
#ifndef PH_HEAP_H
#define PH_HEAP_H

#include "base/check.h"
#include "base/table.h"
#include "cpython/layout.h"
#include "cpython/mimalloc.h"
#include "cpython/object.h"
#include "cpython/pymalloc.h"
#include "cpython/reference.h"
#include "cpython/runtime.h"
#include "cpython/size.h"
#include "heap/index.h"
#include "memory/reader.h"
#include "probeheap.h"

#include <stdbool.h>
#include <stdint.h>

/* What the walk skipped as damaged, the first PH_SKIP_RECORDS of it (info --skipped). */
#define PH_SKIP_RECORDS 64

struct ph_heap {
    ph_reader *r;
    const ph_layout *L;     /* &layout once built (tests may point it at a table) */
    ph_layout layout;       /* the table, the target's _Py_DebugOffsets applied */
    char layout_origin[768]; /* where each part of the layout came from, a line each */
    char warning[400];      /* what was assumed of a CPython newer than every table */
    int layout_choice_minor; /* the table's minor version */
    ph_probe_record probes[PH_PROBES_MAX]; /* the structural probes passed (probes.c) */
    uint32_t nprobes;
    bool gc_incremental;    /* 3.14.0-3.14.4: young and two old spaces (bit 0 of _gc_next) */
    ph_symbols syms;
    ph_version version;
    const char *layout_source;
    ph_index idx;
    ph_type *types;
    size_t ntypes, captypes;
    ph_map64 type_map;      /* type address -> type index; UINT32_MAX: known not to be a type */
    char *strpool;          /* names, appended */
    size_t strpool_len, strpool_cap;
    char **strblocks;
    size_t nstrblocks, capstrblocks;
    uint64_t interpreters, threads, skipped;
    ph_skip_record skips[PH_SKIP_RECORDS];
    uint32_t nskips;
    bool recording_skips;   /* during the walk: later passes over the same objects do not record */
    uint64_t visiting;      /* the object whose references are being visited (the walk) */
    uint64_t garbage_objects, garbage_bytes;
    bool gc_collecting;
    int32_t gc_generations_shift; /* the GC lists found this far from the table's offset (probed) */
    double walk_seconds;
    double walk_cpu_seconds; /* the walking thread's CPU time (page faults' waits not in it) */
    /* work queue of object ids to expand */
    uint32_t *queue;
    size_t qhead, qtail, qcap;
    uint64_t interp_addr;   /* the main interpreter */
    uint32_t *roots;        /* the roots' ids and the objects held from outside */
    size_t nroots, caproots;
    ph_static_region *statics; /* the static data searched (copied: heap/statics.c) */
    size_t nstatics, capstatics;
    uint64_t *cstack_words;    /* the threads' C stacks' aligned words, sorted: built on
                                * first use (cpython/cstacks.c) */
    size_t ncstack_words;
    bool cstack_words_built;
    struct ph_c_root *c_roots; /* objects held by C globals, and the word that holds each */
    size_t nc_roots, capc_roots;
    struct ph_c_held *c_held;  /* objects C globals hold that neither the roots nor the GC
                                  lists lead to (a cached str, a bytes): not indexed */
    size_t nc_held, capc_held;
    uint64_t static_words;  /* words of static data read */
    double static_seconds;  /* reading them (not the closure of what they hold) */
    struct ph_graph *graph; /* edges and dominators, built on first use (graph.c) */
    uint32_t type_type_idx; /* index of PyType_Type */
    ph_interrupt_fn *interrupt;  /* asked now and then during long work; may be NULL */
    void *interrupt_payload;
    bool interrupted;
    uint64_t polls;
    bool conservative;      /* the references being visited are guesses */
    bool labelling;         /* fill in lab before each reference visited */
    ph_label lab;           /* what the reference being visited is */
    uint64_t root_tstate;   /* walking a thread's roots: its thread state */
    bool in_permanent;      /* walking the permanent generation's list */
    bool debug_offsets_checked; /* the table agreed with the target's _Py_DebugOffsets */
    bool numpy_checked;     /* numpy.c: looked for numpy's version */
    const struct numpy_layout *numpy;
    ph_mi_stats mi;         /* free-threaded: the walk of mimalloc's GC heaps (mimalloc.c) */
    ph_mi_stats mi_all;     /* free-threaded: every heap's blocks (sys.getallocatedblocks()) */
};

/* Counts a step of work and, every so often, asks the caller
 * whether to stop (Ctrl-C).  True once the walk must stop.  Here, with the
 * heap's state, so that cpython/ and analyses/ poll without calling up. */
#define PH_INTERRUPT_EVERY 65536
static inline bool ph_poll(ph_heap *h)
{
    if (h->interrupted)
        return true;
    if (++h->polls % PH_INTERRUPT_EVERY || !h->interrupt)
        return false;
    ph_reader_stats st;
    ph_reader_stats_get(h->r, &st);
    if (h->interrupt(h->idx.n, st.bytes_read, h->interrupt_payload))
        h->interrupted = true;
    return h->interrupted;
}

/* Counts a reference or structure skipped as damaged, and keeps the first
 * ones seen during the walk, with where they were met and why. */
static inline void ph_skip(ph_heap *h, uint64_t addr, const char *why)
{
    h->skipped++;
    if (h->recording_skips && h->nskips < PH_SKIP_RECORDS)
        h->skips[h->nskips++] = (ph_skip_record){addr, h->visiting, why};
}

/* An object held by a C global that no other root reaches: a root. */
typedef struct ph_c_root {
    uint32_t id;
    uint64_t word;          /* the address of the static word that points to it */
} ph_c_root;

/* A valid object outside the index that a C global points to (the walk
 * does not take it: the in-process census does not see it either; leaks
 * and backrefs do). */
typedef struct ph_c_held {
    uint64_t addr;
    uint64_t word;
} ph_c_held;
/* The word of static data that holds addr, outside the index; 0 if none. */
uint64_t ph_statics_held(const ph_heap *h, uint64_t addr);

/* heap/statics.c: copies the regions of the options into the heap. */
ph_error *ph_statics_copy(ph_heap *h, const ph_static_region *r, size_t n);
void ph_statics_free(ph_heap *h);
/* Reads every word of the static data, after the walk of the roots and of
 * the GC lists: each that points to an object of the index that the roots
 * do not reach is given to fn as a root and recorded in h->c_roots; each
 * that points to a valid object outside the index (fully checked, as a
 * conservative guess) is recorded in h->c_held, not indexed. */
ph_error *ph_statics_scan(ph_heap *h, ph_ref_fn *fn, void *payload);
/* "_ctypes.so: _ctypes_ptrtype_cache+0x8", or "_ctypes.so+0x4a10" where no
 * symbol covers the word. */
void ph_statics_name(const ph_heap *h, uint64_t word, char *buf, size_t cap);
/* The kind of region (enum ph_region_kind) the word at `word` is in. */
int ph_statics_kind(const ph_heap *h, uint64_t word);

/* walk.c: gives back what ph_heap_build made, the heap included (not the
 * graph: api/heap_handle.c's ph_heap_free frees it, then calls this). */
void ph_heap_release(ph_heap *h);

#endif
