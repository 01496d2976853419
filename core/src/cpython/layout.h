/* Per-version layouts of CPython's structures (x86-64, default builds).
 *
 * Every field is a byte offset (or a size) taken from the DWARF of the
 * CPython build named in layout_tables.c; PH_NONE marks a field that does not
 * exist in that version.  Walking code never hard-codes an offset: it asks
 * here.  tests/integration/test_layout_dwarf.py compares every number with the
 * DWARF of each CPython it finds, through gdb's type API. */
#ifndef PH_LAYOUT_H
#define PH_LAYOUT_H

#include <stdint.h>

#define PH_NONE (-1)

typedef struct ph_layout {
    int major, minor;

    /* _PyRuntimeState */
    int32_t runtime_interpreters_head;  /* _PyRuntime.interpreters.head */
    int32_t runtime_gc;                 /* 3.8: _PyRuntime.gc (struct _gc_runtime_state); else PH_NONE */

    /* PyInterpreterState (struct _is) */
    int32_t interp_next;
    int32_t interp_threads_head;        /* tstate_head (3.8-3.10), threads.head (3.11+) */
    int32_t interp_id;
    int32_t interp_gc;                  /* 3.9+: interp->gc; PH_NONE on 3.8 */
    int32_t interp_modules;             /* modules (3.8-3.11), imports.modules (3.12+) */
    int32_t interp_sysdict;
    int32_t interp_builtins;
    int32_t interp_dict;                /* interp->dict */
    int32_t interp_types_builtins;      /* 3.12: interp->types.builtins[] (static_builtin_state);
                                           3.13: interp->types.builtins.initialized[]
                                           (managed_static_type_state); else PH_NONE */
    int32_t static_builtin_state_size;  /* 3.12: sizeof(static_builtin_state); 3.13: sizeof(managed_static_type_state) */
    int32_t static_builtin_state_tp_dict; /* 3.12: offsetof(static_builtin_state, tp_dict); 3.13: of managed_static_type_state */
    int32_t static_builtin_max;         /* 3.12+: length of the array above (_Py_MAX_STATIC_BUILTIN_TYPES;
                                           3.13: _Py_MAX_MANAGED_STATIC_BUILTIN_TYPES) */

    /* struct _gc_runtime_state */
    int32_t gc_generations;             /* generations[0] */
    int32_t gc_generation_size;         /* sizeof(struct gc_generation) */
    int32_t gc_num_generations;         /* NUM_GENERATIONS */
    int32_t gc_permanent_generation;
    int32_t gc_collecting;              /* int collecting */

    /* PyThreadState (struct _ts) */
    int32_t tstate_next;
    int32_t tstate_interp;
    int32_t tstate_frame;               /* 3.8-3.10: PyFrameObject *frame; else PH_NONE */
    int32_t tstate_cframe;              /* 3.11/3.12: _PyCFrame *cframe; else PH_NONE (3.10's CFrame *cframe
                                           has no current_frame, so PH_NONE there) */
    int32_t cframe_current_frame;       /* 3.11/3.12: offsetof(_PyCFrame, current_frame) */
    int32_t tstate_current_frame;       /* 3.13: _PyInterpreterFrame *current_frame; else PH_NONE */
    int32_t tstate_curexc_type;         /* 3.8-3.11; PH_NONE after */
    int32_t tstate_curexc_value;        /* 3.8-3.11 */
    int32_t tstate_curexc_traceback;    /* 3.8-3.11 */
    int32_t tstate_current_exception;   /* 3.12+ */
    int32_t tstate_exc_state;           /* embedded _PyErr_StackItem exc_state */
    int32_t tstate_exc_info;            /* _PyErr_StackItem *exc_info */
    int32_t tstate_dict;
    int32_t tstate_async_exc;
    int32_t tstate_thread_id;
    int32_t tstate_native_thread_id;    /* 3.11+; PH_NONE on 3.8-3.10 (no such member) */
    int32_t tstate_context;
    int32_t tstate_async_gen_firstiter;
    int32_t tstate_async_gen_finalizer;

    /* _PyErr_StackItem */
    int32_t err_exc_type;               /* 3.8-3.10; PH_NONE after */
    int32_t err_exc_value;
    int32_t err_exc_traceback;          /* 3.8-3.10 */
    int32_t err_previous_item;

    /* PyFrameObject (struct _frame) */
    int32_t frame_back;                 /* 3.8-3.10: f_back; 3.11+: f_back (PyFrameObject *) */
    int32_t frame_code;                 /* 3.8-3.10: f_code; else PH_NONE */
    int32_t frame_builtins;             /* 3.8-3.10 */
    int32_t frame_globals;              /* 3.8-3.10 */
    int32_t frame_locals;               /* 3.8-3.10 */
    int32_t frame_valuestack;           /* 3.8-3.10 */
    int32_t frame_stacktop;             /* 3.8/3.9: PyObject **f_stacktop; else PH_NONE */
    int32_t frame_stackdepth;           /* 3.10: int f_stackdepth; else PH_NONE */
    int32_t frame_trace;                /* f_trace, all versions */
    int32_t frame_gen;                  /* 3.8-3.10: f_gen */
    int32_t frame_lineno;               /* f_lineno, all versions */
    int32_t frame_lasti;                /* 3.8-3.10: f_lasti */
    int32_t frame_localsplus;           /* 3.8-3.10: f_localsplus */
    int32_t frame_frame;                /* 3.11+: _PyInterpreterFrame *f_frame; else PH_NONE */
    int32_t frame_sizeof;               /* sizeof(PyFrameObject) */

    /* _PyInterpreterFrame (3.11+; all PH_NONE before) */
    int32_t iframe_code;                /* f_code (3.11/3.12), f_executable (3.13) */
    int32_t iframe_previous;
    int32_t iframe_funcobj;             /* f_func (3.11), f_funcobj (3.12+) */
    int32_t iframe_globals;
    int32_t iframe_builtins;
    int32_t iframe_locals;
    int32_t iframe_frame_obj;
    int32_t iframe_instr;               /* prev_instr (3.11/3.12), instr_ptr (3.13) */
    int32_t iframe_stacktop;            /* int stacktop */
    int32_t iframe_owner;               /* char owner */
    int32_t iframe_localsplus;

    /* PyCodeObject */
    int32_t code_argcount;
    int32_t code_nlocals;               /* co_nlocals */
    int32_t code_nlocalsplus;           /* 3.11+: co_nlocalsplus */
    int32_t code_ncellvars;             /* 3.11+ */
    int32_t code_nfreevars;             /* 3.11+ */
    int32_t code_framesize;             /* 3.12+: co_framesize; PH_NONE on 3.11 (no such member there:
                                           3.11 computes co_nlocalsplus + co_stacksize + FRAME_SPECIALS_SIZE) */
    int32_t code_stacksize;
    int32_t code_flags;
    int32_t code_firstlineno;
    int32_t code_code;                  /* 3.8-3.10: PyObject *co_code; else PH_NONE */
    int32_t code_code_adaptive;         /* 3.11+: co_code_adaptive (inline array) */
    int32_t code_consts;
    int32_t code_names;
    int32_t code_varnames;              /* 3.8-3.10 */
    int32_t code_freevars;              /* 3.8-3.10 */
    int32_t code_cellvars;              /* 3.8-3.10 */
    int32_t code_localsplusnames;       /* 3.11+ */
    int32_t code_localspluskinds;       /* 3.11+ */
    int32_t code_filename;
    int32_t code_name;
    int32_t code_qualname;              /* 3.11+ */
    int32_t code_lnotab;                /* 3.8/3.9: co_lnotab */
    int32_t code_linetable;             /* 3.10+: co_linetable */
    int32_t code_exceptiontable;        /* 3.11+ */
    int32_t code_weakreflist;
    int32_t code_extra;                 /* co_extra (void *) */
    int32_t code_cell2arg;              /* 3.8-3.10: Py_ssize_t *co_cell2arg */
    int32_t code_zombieframe;           /* 3.8-3.10: void *co_zombieframe */
    int32_t code_cached;                /* 3.12+: _PyCoCached *_co_cached; 3.11: PyObject *_co_code (cached
                                           co_code bytes or NULL); PH_NONE before */
    int32_t code_sizeof;                /* sizeof(PyCodeObject) (3.11+: offset of co_code_adaptive's end is not this) */

    /* PyTypeObject / PyHeapTypeObject */
    int32_t tp_name;
    int32_t tp_basicsize;
    int32_t tp_itemsize;
    int32_t tp_flags;
    int32_t tp_weaklistoffset;
    int32_t tp_base;
    int32_t tp_dict;
    int32_t tp_dictoffset;
    int32_t tp_bases;
    int32_t tp_mro;
    int32_t tp_subclasses;
    int32_t tp_free;                    /* used to recognise GC vs non-GC allocation is not needed; kept for DWARF check */
    int32_t type_sizeof;                /* sizeof(PyTypeObject) */
    int32_t heaptype_sizeof;            /* sizeof(PyHeapTypeObject) */
    int32_t ht_name;
    int32_t ht_slots;
    int32_t ht_qualname;
    int32_t ht_cached_keys;
    int32_t ht_module;                  /* 3.9+ */

    /* PyDictObject, PyDictKeysObject, PyDictValues */
    int32_t dict_ma_used;
    int32_t dict_ma_keys;
    int32_t dict_ma_values;
    int32_t dict_sizeof;                /* sizeof(PyDictObject) */
    int32_t dk_refcnt;
    int32_t dk_size;                    /* 3.8-3.10: Py_ssize_t dk_size; else PH_NONE */
    int32_t dk_log2_size;               /* 3.11+: uint8_t */
    int32_t dk_log2_index_bytes;        /* 3.11+: uint8_t */
    int32_t dk_kind;                    /* 3.11+: uint8_t */
    int32_t dk_usable;
    int32_t dk_nentries;
    int32_t dk_indices;                 /* offset of dk_indices (header size) */
    int32_t dictvalues_values;          /* offset of values[] in what ma_values points to: 0 on 3.8-3.10
                                           (ma_values is PyObject ** to the array itself), 0 in
                                           PyDictValues on 3.11/3.12, 8 on 3.13 */

    /* PyUnicodeObject */
    int32_t str_length;
    int32_t str_hash;
    int32_t str_state;
    int32_t str_wstr;                   /* 3.8-3.11: wchar_t *wstr; else PH_NONE */
    int32_t str_utf8_length;            /* PyCompactUnicodeObject.utf8_length */
    int32_t str_utf8;                   /* PyCompactUnicodeObject.utf8 */
    int32_t str_wstr_length;            /* 3.8-3.11: PyCompactUnicodeObject.wstr_length */
    int32_t str_data;                   /* PyUnicodeObject.data (legacy strings) */
    int32_t str_ascii_sizeof;           /* sizeof(PyASCIIObject) */
    int32_t str_compact_sizeof;         /* sizeof(PyCompactUnicodeObject) */
    int32_t str_unicode_sizeof;         /* sizeof(PyUnicodeObject) */

    /* PyLongObject */
    int32_t long_lv_tag;                /* 3.12+: long_value.lv_tag; else PH_NONE (ob_size carries sign and size) */
    int32_t long_digits;                /* ob_digit (3.8-3.11), long_value.ob_digit (3.12+) */

    /* PyListObject, PyTupleObject */
    int32_t list_ob_item;
    int32_t list_allocated;
    int32_t list_sizeof;
    int32_t tuple_ob_item;

    /* PySetObject */
    int32_t set_fill;
    int32_t set_used;
    int32_t set_mask;
    int32_t set_table;
    int32_t set_smalltable;
    int32_t set_sizeof;
    int32_t setentry_sizeof;

    /* PyBytesObject, PyByteArrayObject */
    int32_t bytes_sval;
    int32_t bytearray_alloc;

    /* PyModuleObject, PyCellObject, PyMethodObject */
    int32_t module_md_dict;
    int32_t cell_ob_ref;
    int32_t method_im_func;
    int32_t method_im_self;

    /* PyFunctionObject */
    int32_t func_code;
    int32_t func_globals;
    int32_t func_builtins;              /* 3.10+ */
    int32_t func_name;
    int32_t func_qualname;
    int32_t func_defaults;
    int32_t func_kwdefaults;
    int32_t func_closure;
    int32_t func_doc;
    int32_t func_dict;
    int32_t func_module;
    int32_t func_annotations;
    int32_t func_typeparams;            /* 3.12+ */
    int32_t func_annotate;              /* 3.14+ */
    int32_t func_sizeof;

    /* PyMemberDef (for __slots__): offset of 'offset' and 'type' (its size: memberdef_sizeof, at the end) */
    int32_t memberdef_type;
    int32_t memberdef_offset;
    int32_t memberdescr_d_member;       /* PyMemberDescrObject.d_member */

    /* GC and pre-header */
    int32_t gc_head_size;               /* sizeof(PyGC_Head) */
    int32_t preheader_size;             /* bytes before the GC head for managed dict/weakref: 16 on 3.11+, 0 before */
    int32_t managed_dict;               /* offset from the object of the managed dict slot (3.11: -24; 3.12: -24 tagged; 3.13: -24) */
    int32_t managed_values;             /* 3.11: -32 values pointer; else PH_NONE */
    int32_t managed_weakref;            /* 3.12+: -32; else PH_NONE */

    /* Appended (keep the order above: other code relies on it) */
    int32_t memberdef_sizeof;           /* sizeof(PyMemberDef): stride of a type's tp_members[] */
    int32_t interp_interned;            /* 3.12+: interp->cached_objects.interned_strings; 3.8-3.11: a file static */
    int32_t gen_frame_state;            /* 3.11+: PyGenObject.gi_frame_state (int8; >= 1: completed or cleared) */
    int32_t interp_types_for_extensions; /* 3.13: interp->types.for_extensions.initialized[] */
    int32_t static_extension_max;       /* 3.13: its length; indexes above static_builtin_max */
    int32_t odict_first;                /* PyODictObject.od_first (NULL when empty) */
    int32_t odict_fast_nodes_size;      /* PyODictObject.od_fast_nodes_size */
    int32_t odictnode_sizeof;           /* sizeof(_ODictNode) */
    int32_t code_co_extra_ce_size;      /* _PyCodeObjectExtra.ce_size */
    int32_t code_co_extra_ce_extras;    /* _PyCodeObjectExtra.ce_extras */
    int32_t weakref_object;             /* PyWeakReference.wr_object (borrowed: not a strong reference) */
    int32_t weakref_callback;           /* PyWeakReference.wr_callback */
    int32_t weakref_next;               /* PyWeakReference.wr_next: the referent's list of weak references */
    int32_t memberdef_name;             /* PyMemberDef.name (a C string) */

    /* pymalloc (Objects/obmalloc.c; 3.12+ Include/internal/pycore_obmalloc.h) */
    int32_t pool_ref_count;             /* struct pool_header: ref.count (uint): blocks allocated */
    int32_t pool_freeblock;             /* block *freeblock: the pool's free list */
    int32_t pool_arenaindex;            /* uint arenaindex: index in the arena_object array */
    int32_t pool_szidx;                 /* uint szidx: size class */
    int32_t pool_nextoffset;            /* uint nextoffset: bytes to the first virgin block */
    int32_t pool_maxnextoffset;         /* uint maxnextoffset: POOL_SIZE - block size */
    int32_t pool_header_sizeof;         /* sizeof(struct pool_header) */
    int32_t arena_address;              /* struct arena_object: uintptr_t address (0: unused slot) */
    int32_t arena_pool_address;         /* block *pool_address: the next pool never carved */
    int32_t arena_nfreepools;           /* uint nfreepools: empty and never-carved pools */
    int32_t arena_ntotalpools;          /* uint ntotalpools */
    int32_t arena_nextarena;            /* struct arena_object *nextarena */
    int32_t arena_object_sizeof;        /* sizeof(struct arena_object) */
    int32_t interp_obmalloc;            /* 3.12: the embedded struct _obmalloc_state; else PH_NONE */
    int32_t interp_obmalloc_ptr;        /* 3.13: struct _obmalloc_state *obmalloc; else PH_NONE */
    int32_t obmalloc_arenas;            /* 3.12+: struct _obmalloc_state: mgmt.arenas (3.8-3.11: a file static) */
    int32_t obmalloc_maxarenas;         /* 3.12+: mgmt.maxarenas (uint) */
    int32_t obmalloc_narenas;           /* 3.12+: mgmt.narenas_currently_allocated */
    int32_t obmalloc_raw_allocated_blocks; /* 3.12+: mgmt.raw_allocated_blocks: object-domain blocks from malloc */
    int32_t obmalloc_map_mid_count;     /* 3.12+: usage.arena_map_mid_count (int) */
    int32_t obmalloc_map_bot_count;     /* 3.12+: usage.arena_map_bot_count (int) */
    int32_t arena_map_mid_sizeof;       /* 3.10+: sizeof(arena_map_mid_t), a radix-tree node */
    int32_t arena_map_bot_sizeof;       /* 3.10+: sizeof(arena_map_bot_t) */
    int32_t arena_size;                 /* ARENA_SIZE (not DWARF: a macro) */
    int32_t pool_size;                  /* POOL_SIZE (a macro) */
    int32_t pymalloc_alignment;         /* ALIGNMENT: the size-class step (a macro) */
    int32_t small_request_threshold;    /* SMALL_REQUEST_THRESHOLD: larger requests go to malloc */

    /* Appended */
    int32_t gen_origin_or_finalizer;    /* 3.11+: PyGenObject.gi_origin_or_finalizer (unset in a plain generator) */

    /* Appended for 3.14 */
    int32_t iframe_stackpointer;        /* 3.14+: _PyStackRef *stackpointer (replaces int stacktop) */
    int32_t frame_owner_entry;          /* 3.12+: frames whose owner is >= this are entry frames that run
                                           no Python code: 3 (3.12/3.13 FRAME_OWNED_BY_CSTACK; 3.14
                                           FRAME_OWNED_BY_INTERPRETER, and FRAME_OWNED_BY_CSTACK is 4) */
    int32_t stackref_tagged;            /* 3.14+: 1 when frame slots, f_executable and f_funcobj are
                                           _PyStackRef (low bits tags; 1 NULL; low bits 3 a tagged int) */
    int32_t ob_refcnt_size;             /* bytes of the reference count at offset 0: 8, 4 on 3.14+ (u32
                                           ob_refcnt, then u16 ob_overflow and u16 ob_flags) */
    int32_t values_visited_with_dict;   /* 3.13+: 1 when an instance with a __dict__ still refers to the
                                           inline values that dict shares (3.13.0), 0 when only the dict
                                           does (3.14: PyObject_VisitManagedDict, GH-130327) */

    /* Appended for free-threaded builds (Py_GIL_DISABLED); PH_NONE in default
     * builds.  mimalloc: Include/internal/mimalloc/mimalloc/types.h. */
    int32_t free_threaded;              /* 1 on a free-threaded build (Py_GIL_DISABLED), else 0 */
    int32_t ob_ref_local;               /* free-threaded: uint32 ob_ref_local (UINT32_MAX: immortal); else PH_NONE */
    int32_t ob_ref_shared;              /* free-threaded: Py_ssize_t ob_ref_shared (count << 2 | flags) */
    int32_t ob_gc_bits;                 /* free-threaded: uint8 ob_gc_bits (bit 0 _PyGC_BITS_TRACKED) */
    int32_t str_kind_shift;             /* PyASCIIObject.state: bit of kind (2; 8 when interned is a byte); compact +3, ascii +4 */
    int32_t code_tlbc;                  /* free-threaded: PyCodeObject.co_tlbc (per-thread bytecode copies) */
    int32_t iframe_tlbc_index;          /* free-threaded: _PyInterpreterFrame.tlbc_index */
    int32_t tstate_mimalloc_heaps;      /* free-threaded: _PyThreadStateImpl.mimalloc.heaps[] (MEM, OBJECT, GC, GC_PRE) */
    int32_t tstate_mimalloc_initialized;/* _PyThreadStateImpl.mimalloc.initialized (int) */
    int32_t mi_heap_sizeof;
    int32_t mi_heap_pages;
    int32_t mi_heap_npages;
    int32_t mi_page_queue_sizeof;
    int32_t mi_heap_thread_delayed_free;
    int32_t mi_page_slice_count;
    int32_t mi_page_slice_offset;
    int32_t mi_page_tag_byte;
    int32_t mi_page_capacity;
    int32_t mi_page_reserved;
    int32_t mi_page_free;
    int32_t mi_page_used;
    int32_t mi_page_xblock_size;
    int32_t mi_page_local_free;
    int32_t mi_page_xthread_free;
    int32_t mi_page_xheap;
    int32_t mi_page_next;
    int32_t mi_page_sizeof;
    int32_t mi_segment_slices;
    int32_t mi_segment_slice_entries;
    int32_t mi_segment_abandoned_next;
    int32_t mi_segment_thread_id;
    int32_t interp_mimalloc_abandoned;
    int32_t mi_pool_abandoned;
    int32_t mi_pool_abandoned_visited;
    int32_t mi_segment_shift;
    int32_t mi_slice_shift;
} ph_layout;

/* The table for (major, minor), or NULL when that version is unsupported. */
const ph_layout *ph_layout_get(int major, int minor);
/* The same for a free-threaded build (NULL when no table describes it). */
const ph_layout *ph_layout_get_ft(int major, int minor);
/* Either, as _Py_DebugOffsets.free_threaded says. */
static inline const ph_layout *ph_layout_get_build(int major, int minor, int free_threaded)
{
    return free_threaded ? ph_layout_get_ft(major, minor) : ph_layout_get(major, minor);
}

#endif
