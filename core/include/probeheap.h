/* libprobeheap: walk the heap of a CPython process from outside.
 *
 * The one public header of the core.  The core reads target memory only
 * through a ph_reader, knows nothing of gdb or of the Python it is linked
 * into, and returns errors as values: a NULL ph_error * means success.
 *
 * Lifetimes are paired: ph_reader_new/ph_reader_free, ph_heap_build/
 * ph_heap_free, ph_partition_new/ph_partition_free.  Strings handed out by a
 * heap or a partition live as long as it does. */
#ifndef PROBEHEAP_H
#define PROBEHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum ph_error_code {
    PH_ERR_NOMEM = 1,
    PH_ERR_IO,          /* a file could not be opened or read */
    PH_ERR_FORMAT,      /* a file is not what it should be (not a core, truncated) */
    PH_ERR_FAULT,       /* target memory could not be read */
    PH_ERR_NOT_PYTHON,  /* no CPython runtime in the target */
    PH_ERR_VERSION,     /* a CPython version probe-heap does not support */
    PH_ERR_CORRUPT,     /* target data makes no sense */
    PH_ERR_INTERRUPTED, /* the interrupt callback asked to stop */
    PH_ERR_ARGUMENT,    /* a bad argument from the caller */
} ph_error_code;

typedef struct ph_error {
    ph_error_code code;
    uint64_t address;   /* the faulting target address, when there is one */
    char message[256];  /* one sentence, no trailing newline */
} ph_error;

/* Frees an error (the static out-of-memory error is never freed). */
void ph_error_free(ph_error *err);

/* ---- memory reader ----------------------------------------------------- */

typedef struct ph_reader ph_reader;

/* Reads len bytes at addr into buf; returns false when any byte is unreadable. */
typedef bool ph_read_fn(uint64_t addr, void *buf, size_t len, void *payload);

ph_error *ph_reader_new(ph_reader **out);
void ph_reader_free(ph_reader *r);

/* Segments: [addr, addr+size) of target memory, backed by a file range,
 * a buffer (not copied; it must outlive the reader) or a callback. */
ph_error *ph_reader_add_file(ph_reader *r, uint64_t addr, uint64_t size,
                             int fd, uint64_t offset);
ph_error *ph_reader_add_buffer(ph_reader *r, uint64_t addr, uint64_t size,
                               const void *buf);
ph_error *ph_reader_add_callback(ph_reader *r, uint64_t addr, uint64_t size,
                                 ph_read_fn *fn, void *payload);
/* Where no segment covers an address, ask this (gdb's memory, say). */
void ph_reader_set_fallback(ph_reader *r, ph_read_fn *fn, void *payload);

/* Adds a segment for every PT_LOAD of an ELF core file (the file stays open,
 * and mapped read-only where it can be, until ph_reader_free). */
ph_error *ph_reader_open_core(ph_reader *r, const char *path);
/* Adds one segment over /proc/PID/mem (the caller must have ptrace rights). */
ph_error *ph_reader_open_pid(ph_reader *r, int pid);

bool ph_read(ph_reader *r, uint64_t addr, void *buf, size_t len);
/* Does a segment (not the fallback) cover addr? */
bool ph_reader_covers(ph_reader *r, uint64_t addr);

/* The files mapped into the process of a core (its NT_FILE note): fn is
 * called for each mapping; is_exe marks the executable's (it holds AT_ENTRY). */
typedef ph_error *ph_mapped_file_fn(uint64_t start, uint64_t end, uint64_t file_offset,
                                    const char *path, bool is_exe, void *payload);
ph_error *ph_core_mapped_files(const char *core_path, ph_mapped_file_fn *fn, void *payload);

typedef struct ph_reader_stats {
    uint64_t bytes_read;  /* bytes brought in from the backing store (a mapped core:
                           * bytes read out of the mapping) */
    uint64_t page_hits, page_misses;
} ph_reader_stats;
void ph_reader_stats_get(const ph_reader *r, ph_reader_stats *out);

/* ---- the target ---------------------------------------------------------- */

/* Addresses of symbols, found by the caller (gdb's minimal symbols do it;
 * .dynsym is enough).  0 means unknown. */
typedef struct ph_symbols {
    uint64_t py_runtime;      /* _PyRuntime */
    uint64_t py_version;      /* Py_Version (3.11+) */
    uint64_t type_type;       /* PyType_Type */
    uint64_t set_dummy;       /* _PySet_Dummy */
    uint64_t interned;        /* &interned, the 3.8-3.11 file static (.symtab only); 0: search */
    int hint_major, hint_minor; /* from file names such as libpython3.9.so; 0 if none */
} ph_symbols;

typedef struct ph_version {
    int major, minor, micro;
    char text[64];          /* "3.11.2" */
    const char *found_by;   /* "Py_Version", "_Py_DebugOffsets", "sys.version" */
    bool debug_build, free_threaded;
} ph_version;

/* Finds the target's CPython version without debug info. */
ph_error *ph_detect_version(ph_reader *r, const ph_symbols *syms, ph_version *out);

/* ---- the heap index ------------------------------------------------------ */

typedef struct ph_heap ph_heap;

/* Called now and then during a long walk; return true to stop it. */
typedef bool ph_interrupt_fn(uint64_t objects, uint64_t bytes_read, void *payload);

/* The target's static data (a file's .data and .bss), searched for words
 * that point to objects: the objects C globals hold (heap/statics.c). */
typedef struct ph_static_symbol {
    uint64_t addr, size;    /* where the symbol is in the target; size 0: unknown */
    const char *name;
} ph_static_symbol;

/* Where C keeps words that may hold objects: a file's static data; a
 * thread's C stack (end 0 when given: from the stack pointer, start, to the
 * end of its mapping); a C struct of the runtime that malloc gave (each
 * interpreter's and thread's state: the build finds these itself). */
enum ph_region_kind { PH_REGION_STATIC, PH_REGION_STACK, PH_REGION_STATE };

typedef struct ph_static_region {
    uint64_t start, end;    /* [start, end) in the target; end 0: a thread's stack */
    uint64_t base;          /* the file's load bias: names say offsets from it */
    const char *file;       /* the file's name as shown ("_ctypes.cpython-311-x86_64-linux-gnu.so") */
    const ph_static_symbol *syms; /* its data symbols, by address (may be none) */
    size_t nsyms;
    enum ph_region_kind kind; /* set by the build */
} ph_static_region;

typedef struct ph_build_options {
    ph_interrupt_fn *interrupt;
    void *payload;
    const ph_static_region *statics; /* copied by the build; may be none */
    size_t nstatics;
} ph_build_options;

ph_error *ph_heap_build(ph_reader *r, const ph_symbols *syms,
                        const ph_build_options *opts, ph_heap **out);
/* The interrupt callback for the next long operation on h (the graph, the
 * dominator tree); NULL for none.  The build clears it when it returns. */
void ph_heap_set_interrupt(ph_heap *h, ph_interrupt_fn *fn, void *payload);
void ph_heap_free(ph_heap *h);

/* Something the walk skipped as damaged: what, where it was met, why. */
typedef struct ph_skip_record {
    uint64_t addr;          /* what could not be read as what it should be */
    uint64_t from;          /* the object whose references were being visited; 0: a root or a list */
    const char *why;        /* a static sentence fragment */
} ph_skip_record;

/* A structural probe of the target that passed (cpython/probes.c): run on
 * every build before the walk; a failed one refuses the target. */
#define PH_PROBES_MAX 8
typedef struct ph_probe_record {
    const char *name;       /* "type", "interpreter", "builtin types", "sys.version", "threads", "GC" */
    char checked[200];      /* what was checked, and what was found */
    char source[112];       /* where the layout facts it rests on came from */
} ph_probe_record;

typedef struct ph_heap_info {
    ph_version version;
    const char *layout;          /* "table", "dwarf" or "debug_offsets" */
    bool layout_checked;         /* 3.13+: the table agreed with the target's _Py_DebugOffsets */
    const char *layout_origin;   /* where each part of the layout came from, a line each */
    const char *warning;         /* what was assumed of a CPython newer than every table, or NULL */
    const ph_probe_record *probes; /* the structural probes, each passed */
    uint32_t nprobes;
    int gc_generations_shift;    /* the GC lists were found this many bytes from the
                                    table's offset by probing the target (0: where it says) */
    uint64_t interpreters, threads;
    uint64_t objects, bytes;
    uint64_t static_regions, static_words; /* static data searched: regions, words read */
    uint64_t static_roots;       /* objects held by C globals and reached no other way */
    double static_seconds;       /* reading the static data (not the closure of what it holds) */
    uint64_t skipped;            /* objects skipped as corrupt */
    const ph_skip_record *skips; /* the first of them (at most 64), met during the walk */
    uint32_t nskips;
    uint64_t garbage_objects, garbage_bytes; /* cyclic garbage awaiting collection */
    uint64_t estimated_objects;  /* objects whose flat size is an estimate */
    bool gc_collecting;          /* stopped inside a collection: the walk may be partial */
    double walk_seconds;
    double walk_cpu_seconds;     /* the walking thread's CPU time in it */
    uint64_t bytes_read;
    uint64_t index_bytes;        /* the object index's own memory */
    uint64_t index_hashed;       /* objects found by a hash of their address, not by their
                                    pool or page (malloc'd, static, off the grid) */
    double graph_seconds;        /* edges and dominator tree, once built (else 0) */
    uint64_t graph_bytes;
    /* Free-threaded builds: what the walk of mimalloc's GC heaps found (0 elsewhere). */
    uint64_t mi_threads;         /* thread states whose heaps were walked */
    uint64_t mi_pages;           /* GC pages with allocated blocks */
    uint64_t mi_abandoned_segments; /* segments of exited threads, in the interpreters' pools */
    uint64_t mi_gc_blocks;       /* allocated blocks in the GC heaps */
    uint64_t mi_bad_pages;       /* pages skipped as damaged */
    uint64_t mi_all_blocks;      /* allocated blocks in every heap (MEM, OBJECT, GC, GC_PRE):
                                    what sys.getallocatedblocks() counts */
    uint64_t mi_all_bytes;       /* their block sizes */
} ph_heap_info;
void ph_heap_info_get(const ph_heap *h, ph_heap_info *out);

/* One object of the index. */
typedef struct ph_object {
    uint64_t address;
    const char *type;    /* the type's name */
    char kind[600];      /* heapy's kind */
    uint64_t size;       /* flat size: sys.getsizeof */
    bool estimate;       /* the size is an estimate */
    bool reachable;      /* from the roots (else cyclic garbage, or held from C) */
    bool conservative;   /* found only by a conservative scan's guess at a C field */
} ph_object;

/* Looks an address up in the index; false when the walk did not find an
 * object there. */
bool ph_heap_object(const ph_heap *h, uint64_t address, ph_object *out);

/* The index one object at a time (ids 0 .. ph_heap_count - 1), for the
 * object-for-object test and scripts. */
typedef struct ph_indexed {
    uint64_t address;
    const char *type;
    bool from_roots;     /* reachable from the roots */
    bool gc_listed;      /* found on a GC list */
    bool held;           /* not from the roots, held from outside (C) */
    bool conservative;   /* found only by a conservative scan's guess */
} ph_indexed;
size_t ph_heap_count(const ph_heap *h);
bool ph_heap_object_at(const ph_heap *h, size_t id, ph_indexed *out);

/* ---- sizes: flat, deep, retained; the dominator tree ---- */

typedef struct ph_kind_total {
    const char *kind;
    uint64_t count, size;
} ph_kind_total;

typedef struct ph_sizes {
    uint64_t address;
    const char *type;
    char kind[600];
    char preview[128];
    uint64_t flat;               /* sys.getsizeof */
    uint64_t deep, deep_count;   /* asizeof's deep size */
    uint64_t retained, retained_count; /* what would be freed with it (dominator tree) */
    bool reachable;              /* from the roots; else retained is 0 */
    bool estimate;               /* some size in the deep set is an estimate */
    size_t nkinds;
    ph_kind_total *kinds;        /* the deep set by kind, largest first */
    char *strings;               /* private */
} ph_sizes;

/* Sizes of the object at address (the first call builds the graph and the
 * dominator tree of the heap). */
ph_error *ph_sizes_get(ph_heap *h, uint64_t address, ph_sizes **out);
void ph_sizes_free(ph_sizes *s);

typedef struct ph_dominated {
    uint64_t address;
    const char *type;
    char kind[600];
    char preview[128];
    uint64_t flat, retained, retained_count;
    unsigned depth;              /* 1: immediately dominated by the object asked about */
    uint64_t child_count;        /* the objects it immediately dominates (shown or not) */
} ph_dominated;

typedef struct ph_dominated_list {
    uint64_t retained, retained_count; /* of the object asked about (all reachable: the roots) */
    uint64_t child_count;        /* the objects it immediately dominates (shown or not) */
    size_t n;
    ph_dominated *items;         /* depth-first, each level by falling retained size */
} ph_dominated_list;

/* The dominator tree under the object at address (0: under the roots),
 * depth levels deep, at most limit children per object. */
ph_error *ph_dominators(ph_heap *h, uint64_t address, unsigned depth, size_t limit,
                        ph_dominated_list **out);
void ph_dominated_list_free(ph_dominated_list *l);

/* A short preview of an object: str text, int and float values, bytes prefix,
 * container lengths, names of types, functions and modules. */
void ph_preview(ph_heap *h, uint64_t address, char *buf, size_t cap);

/* ---- object paths ---------------------------------------------------------- */

/* Resolves OBJ written as a Python path from a module, e.g.
 *   __main__:cache._store['key'][3].body      sys:modules['os']
 * Grammar: MODULE ':' NAME ( '.' NAME | '[' KEY ']' )*, where MODULE is a
 * dotted module name looked up in sys.modules (the interpreter's modules
 * dict) and KEY is an int (decimal, may be negative), a str ('..' or "..",
 * with \\ \' \" \n \t \r \0 \xHH \uHHHH \UHHHHHHHH escapes), bytes (b'..',
 * the same escapes but \u, \U), a float, True, False or None.
 * .NAME reads an attribute: of a module from its __dict__; of a type from
 * its dict and then its MRO's; of an instance from its __dict__ / managed
 * or inline values / __slots__, then from its type's MRO dicts (class
 * attributes).  [i] indexes a list or tuple (negative from the end), [key]
 * looks a key up in a dict (or dict subclass), comparing keys by type and
 * value, never by hash (1, 1.0 and True are one key, as in Python).
 * Properties and getset descriptors are refused: probe-heap cannot run
 * code.  On success *address is the object's address.  On failure the
 * error (PH_ERR_ARGUMENT; PH_ERR_CORRUPT when target memory makes no sense)
 * says which step failed and why, in one sentence, e.g.
 *   "__main__:cache.x: step 2, .x: a __main__.Cache object has no attribute 'x'"
 *   "nosuch:x: there is no module 'nosuch' in sys.modules"
 *   "__main__:x[: a syntax error at character 11: '[' is never closed" */
ph_error *ph_resolve_path(ph_heap *h, const char *path, uint64_t *address);

/* ---- partitions ----------------------------------------------------------- */

typedef enum ph_partition_by {
    PH_BY_KIND,   /* heapy's byclodo: class / dict of class */
    PH_BY_TYPE,
    PH_BY_SIZE,   /* heapy's bysize: the flat size */
    PH_BY_MODULE, /* the module that defines the object's type */
    PH_BY_RCS,    /* heapy's byrcs: the kinds of the objects referring to it ("<root>": a root) */
    PH_BY_VIA,    /* heapy's byvia: the names of the references to it */
} ph_partition_by;

typedef struct ph_row {
    const char *kind;    /* text of the table's last column */
    const char *type;    /* the type's name (same as kind for --by type) */
    uint64_t count;
    uint64_t size;
    bool estimate;       /* some sizes in the row are estimates */
} ph_row;

typedef struct ph_partition {
    ph_partition_by by;
    uint64_t count, size;     /* totals */
    size_t nrows;
    ph_row *rows;             /* by falling size, then kind */
    char *strings;            /* private: the "dict of ..." kinds the rows point into */
} ph_partition;

/* The first rcs partition builds the graph's reverse edges; via visits
 * every object's references again, naming each. */
ph_error *ph_partition_new(ph_heap *h, ph_partition_by by, ph_partition **out);
void ph_partition_free(ph_partition *p);

/* heapy's drill-down (h[0].byrcs): a partition of the objects of one kind
 * (a row's text of the partition by kind, e.g. "dict of __main__.Node") or,
 * when no object has that kind, of one type name.  An empty partition when
 * none matches. */
ph_error *ph_partition_of_kind(ph_heap *h, ph_partition_by by, const char *kind,
                               ph_partition **out);

/* ---- threads and their Python frames (frames.c) ------------------------------ */

typedef struct ph_frame_info {
    uint64_t address;            /* the frame object (3.8-3.10) or _PyInterpreterFrame (3.11+) */
    uint64_t code;               /* its code object */
    const char *function;        /* co_qualname (3.11+) or co_name */
    const char *file;            /* co_filename */
    int line;                    /* the line it is executing; -1 when unknown */
    int first_line;              /* co_firstlineno */
} ph_frame_info;

typedef struct ph_thread_info {
    uint64_t tstate;             /* its PyThreadState */
    uint64_t thread_id;          /* threading.get_ident() */
    uint64_t native_id;          /* threading.get_native_id() (the LWP); 0 on 3.8-3.10, whose
                                    PyThreadState does not keep it */
    uint64_t interp;             /* its interpreter */
    size_t nframes;
    ph_frame_info *frames;       /* innermost first */
    bool truncated;              /* the stack was cut short: a bad link, a loop, or the bounds */
} ph_thread_info;

typedef struct ph_threads {
    size_t n;
    ph_thread_info *items;       /* in the interpreters' thread-list order */
    char *strings;               /* private */
} ph_threads;

/* The threads of every interpreter and their Python stacks (3.12+ entry frames
 * owned by the C stack left out).  A frame's function and file are "?" and its
 * line -1 when they cannot be read. */
ph_error *ph_threads_get(ph_heap *h, ph_threads **out);
void ph_threads_free(ph_threads *t);

/* A frame's local variables that hold an object (cells and free variables
 * included), in slot order: frame is a ph_frame_info's address. */
typedef struct ph_frame_local {
    const char *name;
    uint64_t address;
} ph_frame_local;

typedef struct ph_frame_locals_list {
    ph_frame_local *items;
    size_t n;
} ph_frame_locals_list;

ph_error *ph_frame_locals(ph_heap *h, uint64_t frame, ph_frame_locals_list **out);
void ph_frame_locals_free(ph_frame_locals_list *l);

/* ---- pymalloc: arenas, pools, blocks (alloc.c) ------------------------------ */

/* One size class of pymalloc, over its pools in use (those with at least one
 * block allocated): the numbers of sys._debugmallocstats(). */
typedef struct ph_size_class {
    uint32_t size;               /* block size: 16, 32, ... 512 */
    uint64_t pools;              /* pools in use */
    uint64_t blocks_used;        /* allocated blocks (the pools' ref.count) */
    uint64_t blocks_free;        /* the other blocks of those pools, carved or not */
    uint64_t objects;            /* objects of the heap index in these blocks */
    uint64_t object_bytes;       /* their flat sizes (sys.getsizeof) */
} ph_size_class;

struct ph_alloc_private;

typedef struct ph_alloc {
    const char *allocator;       /* "pymalloc", or "mimalloc" on free-threaded builds: then
                                    arenas are segments, pools are pages (the mi_ fields) */
    /* The allocator's geometry, and where its state was found. */
    uint32_t arena_size, pool_size;  /* ARENA_SIZE, POOL_SIZE */
    uint32_t pool_overhead;          /* the pool header, rounded up to the alignment */
    uint32_t small_request_threshold; /* larger requests go to malloc (512) */
    const char *found_by;        /* "interpreter state" (3.12+), "search" (3.8-3.11: file statics),
                                    "none" (no pymalloc: PYTHONMALLOC=malloc, or not found) */
    uint64_t arenas_var;         /* where the pointer to the arena_object array is stored
                                    (&arenas on 3.8-3.11); of the first state on 3.12+ */
    uint64_t arenas_at;          /* the arena_object array */
    uint64_t maxarenas;          /* its length (summed over states) */
    uint64_t states;             /* allocator states: 1, or one per interpreter with its own (3.12+) */

    /* Arenas, pools and blocks, as sys._debugmallocstats() counts them; the
     * bytes add up to arena_bytes. */
    uint64_t arenas;             /* allocated arenas */
    uint64_t arena_bytes;        /* arenas * arena_size */
    uint64_t pools_used;         /* pools with allocated blocks */
    uint64_t pools_unused;       /* empty and never-carved pools (the arenas' nfreepools) */
    uint64_t blocks_used, blocks_free;   /* in the pools in use */
    uint64_t bytes_used, bytes_free;
    uint64_t unused_pool_bytes;  /* pools_unused * pool_size */
    uint64_t pool_header_bytes;  /* pools_used * pool_overhead */
    uint64_t quantization_bytes; /* the tail of each pool in use too small for a block */
    uint64_t alignment_bytes;    /* a pool lost by each arena not aligned on a pool */
    int64_t raw_allocated_blocks; /* live PyObject_Malloc blocks that came from malloc (over
                                    512 bytes); -1 when unknown (a file static on 3.8-3.11) */
    uint64_t map_bytes;          /* 3.12+: nodes of the radix tree over the arenas (0 before) */
    uint64_t arena_objects_bytes; /* the arena_object arrays: maxarenas * sizeof(struct arena_object) */
    uint64_t corrupt_arenas, corrupt_pools; /* skipped; not in the numbers above */

    size_t nclasses;
    ph_size_class *classes;      /* every size class, by size */

    /* The heap index's objects by where they live; bytes are flat sizes. */
    uint64_t objects_in_arenas, bytes_in_arenas;  /* in allocated blocks */
    uint64_t objects_malloc, bytes_malloc;        /* outside the arenas, over the threshold,
                                                     not static: from malloc */
    uint64_t objects_static, bytes_static;        /* outside the arenas: static data (builtin
                                                     types, 3.11/3.12 deep-frozen and immortal
                                                     objects) or small ones from another allocator */
    uint64_t objects_stray, bytes_stray;          /* in an arena but not in a block known to be
                                                     allocated (free memory, or a corrupt pool) */
    uint64_t buffer_bytes;       /* estimate: storage of objects in blocks that is not in their
                                    block and too big for pymalloc (list items, dict tables...) */
    size_t nmalloc_types;
    ph_kind_total *malloc_types; /* the objects from malloc by type (kind = type name), by size */

    /* mimalloc (free-threaded builds, mimalloc_alloc.c): every thread's heaps and the
     * abandoned pool, walked page by page; classes are block sizes, their pools pages. */
    uint32_t mi_segment_size, mi_slice_size;
    uint64_t mi_threads;         /* thread states whose heaps were walked */
    uint64_t mi_segments;        /* segments holding pages with allocated blocks */
    uint64_t mi_abandoned_segments; /* of exited threads, in the interpreters' pools */
    uint64_t mi_pages, mi_abandoned_pages; /* pages with allocated blocks */
    uint64_t mi_page_bytes;      /* those pages' slices */
    uint64_t mi_used_blocks;     /* the pages' own count (page->used): with blocks freed by
                                    other threads not yet collected */
    uint64_t mi_bad_pages;       /* skipped as damaged; not in the numbers above */
    uint64_t mi_blocks[4], mi_bytes[4]; /* allocated, by heap: mem, object, gc, gc_pre */

    double seconds;              /* the walk's time */
    struct ph_alloc_private *priv;
} ph_alloc;

/* Walks pymalloc: every arena, pool and block of every allocator state, and
 * places each object of the index.  A pool whose header, free list or count
 * does not add up is skipped and counted; the answer is then partial. */
ph_error *ph_alloc_get(ph_heap *h, ph_alloc **out);
void ph_alloc_free(ph_alloc *a);

/* Statically allocated, never freed: a builtin type, an immortal (3.12+) or
 * deep-frozen (3.11) object, or a small object outside the arenas (small
 * ints, one-character bytes and strs in the executable's data). */
bool ph_alloc_static(ph_heap *h, const ph_alloc *a, uint64_t addr, uint32_t ti, uint64_t size);

/* Calls fn for every allocated block of every pool in use (a pool that no
 * longer adds up is skipped), by address; fn returns true to stop. */
typedef bool ph_block_fn(uint64_t block, uint32_t size, void *payload);
ph_error *ph_alloc_blocks(ph_heap *h, const ph_alloc *a, ph_block_fn *fn, void *payload);

/* The object in an allocated block of `size` bytes: at the block, after a GC
 * header (block+16), or after the GC header and the 3.11+ pre-header
 * (block+32), as its type says; 0 when no valid object starts there. */
uint64_t ph_alloc_block_object(ph_heap *h, uint64_t block, uint32_t size);

/* ---- leaks: allocated but unreachable (leaks.c) ------------------------------ */

#define PH_LEAK_SAMPLES 3

typedef struct ph_leak_row {
    const char *kind;
    uint64_t count, size;
    uint64_t samples[PH_LEAK_SAMPLES]; /* the first objects, by address (0: none) */
} ph_leak_row;

typedef struct ph_leak_group {
    uint64_t count, size;
    size_t nrows;
    ph_leak_row *rows;           /* by falling size, then kind */
} ph_leak_group;

typedef struct ph_leak_object {
    uint64_t address;
    uint8_t group;               /* 1: leaked, 2: kept, 0: garbage, 255: static (left out) */
    uint32_t row;                /* its row in that group */
} ph_leak_object;

/* An object a C global holds and no other root reaches (heap/statics.c):
 * alive, not leaked. */
typedef struct ph_leak_held {
    uint64_t address, size;
    const char *type;            /* its type's name */
    uint64_t word;               /* the address of the global */
    char where[200];             /* "FILE: SYMBOL+0xN", or "FILE+0xN" where no symbol covers it */
} ph_leak_held;

typedef struct ph_leaks {
    ph_leak_group leaked;        /* refcount above the references the heap explains: a refcount
                                    bug, or a C global or extension state holding it */
    ph_leak_group kept;          /* unreachable, held only by leaked objects */
    ph_leak_group garbage;       /* cyclic garbage: every reference explained, none from a root */
    bool allocator;              /* pymalloc's allocated blocks were searched for objects the
                                    walk did not find (non-GC ones: bytes, str, int...) */
    char allocator_note[300];    /* why they were not, when not */
    uint64_t blocks;             /* allocated blocks looked at */
    uint64_t found_outside;      /* objects found in blocks and not by the walk */
    uint64_t outside;            /* of those, leaked */
    uint64_t static_objects;     /* unreachable but static (never freed), or held by static
                                    ones: left out */
    size_t nobjects;
    ph_leak_object *objects;     /* every object of the three groups, by address */
    size_t nheld_c;
    ph_leak_held *held_c;        /* held by C globals: roots, so none of the groups above; by
                                    file, then the global's address */
} ph_leaks;

/* The objects that no root reaches, sorted into leaked, kept by leaked
 * ones, and cyclic garbage.  Objects over 512 bytes that are not GC-tracked
 * come from malloc and are not searched. */
ph_error *ph_leaks_get(ph_heap *h, ph_leaks **out);
void ph_leaks_free(ph_leaks *l);

/* ---- why is it alive: edges, chains, listings (backrefs.c) -------------------- */

/* One object in a chain or listing, with the reference that leads to it. */
typedef struct ph_link {
    uint64_t address;            /* 0 only for a root that is not an object */
    const char *type;
    char kind[256];
    char preview[128];
    uint64_t size;               /* flat size */
    char edge[320];              /* the reference from the previous object (".x", "['k']", "[3]",
                                    "->+0x38", ...), or what the root is for a chain's first link */
    const char *edge_kind;       /* "root", "attribute", "key", "dict_key", "index", "member",
                                    "field", "class", "local", "stack", "offset", "weak" */
    const char *root;            /* for a root: "sys.modules", "sys", "builtins", "interpreter",
                                    "interned", "type_dict", "thread", "frame", "local", "held",
                                    "permanent"; else NULL */
    bool conservative;           /* found by the conservative scan of an unknown C type */
    bool weak;                   /* a weak reference: does not keep the object alive */
} ph_link;

typedef struct ph_links {
    size_t n;
    ph_link *items;
} ph_links;

typedef struct ph_backrefs {
    ph_link target;
    bool reachable;              /* from a root through strong references */
    bool garbage;                /* unreachable cyclic garbage, awaiting collection */
    bool held_weakly;            /* some weak reference points at it */
    bool unwalked;               /* a valid object that no root or GC list leads to: only objects
                                    the walk did not find either (see leaks) or C code hold it */
    size_t nchains;
    ph_links *chains;            /* each from a root (first link) to the target (last) */
    ph_links referrers;          /* when unreachable: what refers to it, weak references too */
} ph_backrefs;

/* Shortest chains from a root to the object at address: the first is a
 * shortest one; with max_chains > 1, more through distinct referrers of
 * the object, shortest first.  The first call builds the reverse edges and
 * the breadth-first tree from the roots; later calls take milliseconds. */
ph_error *ph_backrefs_get(ph_heap *h, uint64_t address, size_t max_chains, ph_backrefs **out);
void ph_backrefs_free(ph_backrefs *b);

/* The objects (and roots) referring to the object, or the objects it
 * refers to, each with the label of the reference. */
ph_error *ph_referrers_get(ph_heap *h, uint64_t address, ph_links **out);
ph_error *ph_referents_get(ph_heap *h, uint64_t address, ph_links **out);
/* The addresses ph_referents_get lists for the object (without labels,
 * kinds or previews: for comparing whole heaps), each with whether only a
 * conservative scan found it; *out malloc'd (free it), *n its length. */
typedef struct ph_referent {
    uint64_t address;
    bool conservative;
} ph_referent;
ph_error *ph_referents_plain(ph_heap *h, uint64_t address, ph_referent **out, size_t *n);
void ph_links_free(ph_links *l);

typedef struct ph_objects {
    uint64_t count, size;        /* all the matching objects */
    ph_links list;               /* the largest first (then by address), at most limit */
} ph_objects;

/* The objects whose kind (heapy's class / dict of class) or type name is
 * kind, of at least min_size bytes; limit 0: all. */
ph_error *ph_objects_get(ph_heap *h, const char *kind, uint64_t min_size, size_t limit,
                         ph_objects **out);
void ph_objects_free(ph_objects *o);

/* ---- leak suspects and retainer paths (suspects.c, owners.c) ---------------- */

#define PH_HELD_MAX 8
#define PH_PATH_MAX 1024

typedef struct ph_held {
    char kind[200];
    uint64_t count, size;
} ph_held;

/* A retainer path: the labels from a root to a node of the dominator tree,
 * the members of big lists, tuples, sets and dicts folded into [*]; the
 * nodes with one path are added up. */
typedef struct ph_owner_path {
    char *path;
    uint64_t address;            /* its largest node */
    uint64_t retained, retained_count, nodes;
    size_t nheld;
    ph_held held[PH_HELD_MAX];   /* what it retains by kind, largest first */
} ph_owner_path;

typedef struct ph_owners {
    uint64_t total, min_retained; /* the heap's bytes; the threshold used */
    uint64_t candidates;          /* nodes over the threshold (at most max_nodes were named) */
    size_t n;
    ph_owner_path *items;         /* by falling retained size */
    char *strings;                /* private */
} ph_owners;

/* The retainer paths of the dominator tree's nodes retaining at least
 * min_retained bytes, at most max_nodes of them (the largest). */
ph_error *ph_owners_get(ph_heap *h, uint64_t min_retained, size_t max_nodes, ph_owners **out);
void ph_owners_free(ph_owners *o);

typedef struct ph_suspect_owner {
    char path[PH_PATH_MAX];      /* the owners' retainer path */
    char kind[200];              /* the largest owner's kind */
    uint64_t address;            /* the largest owner */
    uint64_t owners, count, size; /* owners on the path; the group's objects they hold, bytes */
} ph_suspect_owner;

typedef struct ph_suspect_point {
    uint64_t address;
    char kind[200];
    char preview[128];
    uint64_t retained, retained_count, children; /* children in the dominator tree */
    char path[PH_PATH_MAX];
} ph_suspect_point;

typedef struct ph_suspect {
    bool group;                  /* false: one object; true: a kind of many small objects */
    char kind[200];              /* the object's kind, or the group's */
    uint64_t address;            /* the object (0 for a group) */
    char preview[128];
    uint64_t retained, retained_count;
    uint64_t objects;            /* a group's objects (none inside another of its kind) */
    char path[PH_PATH_MAX];      /* an object's shortest path from a root */
    ph_suspect_point point;      /* an object's accumulation point */
    size_t nheld;
    ph_held held[5];             /* what it retains by kind, largest first */
    uint64_t all_owners;         /* a group's owners (immediate dominators) */
    size_t nowners;
    ph_suspect_owner owners[8];  /* the owners holding most of the group, by path */
} ph_suspect;

typedef struct ph_suspects {
    uint64_t total, threshold;   /* the heap's bytes; min_fraction of it */
    size_t n;
    ph_suspect *items;           /* by falling retained size */
} ph_suspects;

/* Eclipse MAT's leak suspects from the dominator tree: objects retaining at
 * least min_fraction of the heap, and kinds of small objects that together
 * do; at most limit (0: all). */
ph_error *ph_suspects_get(ph_heap *h, double min_fraction, size_t limit, ph_suspects **out);
void ph_suspects_free(ph_suspects *s);

#ifdef __cplusplus
}
#endif
#endif
