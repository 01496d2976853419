"""The one place that says where each field of `struct ph_layout` comes from.

For every field of core/src/cpython/layout.h (in struct order) and every supported
CPython version, FIELDS names either a C-like expression evaluated against the
DWARF of that CPython build, or a constant that DWARF cannot show (with the
reason).  Used by:

  * tests/tools/gen_layout.py             writes core/src/cpython/layout_tables.c
  * tests/integration/test_layout_dwarf.py compares the built tables with DWARF

Expression forms (TYPE is a typedef or "struct tag"; PATH is a member path
such as "imports.modules" or "generations[0]"):

  offsetof(TYPE, PATH)   byte offset of PATH in TYPE
  sizeof(TYPE)           byte size of TYPE
  lengthof(TYPE, PATH)   element count of the array member PATH
  NONE                   the field does not exist in that version: PH_NONE
  Const(value, why)      not a DWARF fact; `why` cites the CPython source

Version keys: "3.8", "3.8-3.10", "3.11+", "*".  For each (field, version)
exactly one key must match.

Run as a gdb script (gdb -batch -nx BINARY -x layout_fields.py) with
PH_LAYOUT_VERSION=3.X in the environment, it evaluates every DWARF field for
that version against the loaded file and prints one line
"PH_LAYOUT_JSON {...}" ({"field": value or {"error": text}}).
"""

import json
import os
import re

VERSIONS = [(3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)]

# The CPython builds the tables were taken from.
PYENV_BUILDS = {
    (3, 8): "3.8.18",
    (3, 9): "3.9.18",
    (3, 10): "3.10.13",
    (3, 11): "3.11.7",
    (3, 12): "3.12.1",
    (3, 13): "3.13.0",
    (3, 14): "3.14.7",
}

# Of those, the builds that no pyenv provides: tools/build-pythons builds them
# into $PROBE_HEAP_CACHE (default /var/cache/probe-heap)/python-VERSION, with
# libpython linked statically into bin/python3.X.
CACHE_BUILDS = {
    (3, 14): "3.14.7",
    (3, 14, "t"): "3.14.7t",
}

# Free-threaded builds (Py_GIL_DISABLED, `--disable-gil`): a version key
# (3, 14, "t"), with its own table (layout_3_14t).  A field's spec may carry
# an "ft" key, which applies to every free-threaded build and to no default
# one (FT_OVERRIDES gives it for fields defined before); other keys match the
# version without its "t".
FT_VERSIONS = [(3, 14, "t")]

PH_NONE = -1


class Const:
    """A value that is not a DWARF offset/size, with its justification."""

    def __init__(self, value, why):
        self.value = value
        self.why = why

    def __repr__(self):
        return "Const(%d)" % self.value


NONE = "NONE"


# Pre-header justifications (CPython source of each version; the same text is
# in the installed headers /root/.pyenv/versions/3.X.Y/include/python3.X/).
_WHY_PRE_NONE = ("before 3.11 the only thing in front of an object is the GC "
                 "header (PyGC_Head): no managed dict/values/weakref slots")
_WHY_PRE_311 = ("3.11 Include/internal/pycore_object.h: _PyType_PreHeaderSize = "
                "IS_GC*sizeof(PyGC_Head) + HasFeature(Py_TPFLAGS_MANAGED_DICT)"
                "*2*sizeof(PyObject*)")
_WHY_PRE_312 = ("3.12/3.13 Include/internal/pycore_object.h: _PyType_PreHeaderSize = "
                "IS_GC*sizeof(PyGC_Head) + HasFeature(Py_TPFLAGS_PREHEADER)"
                "*2*sizeof(PyObject*)")
_WHY_DICT_311 = ("3.11 pycore_object.h: _PyObject_ManagedDictPointer(obj) = "
                 "((PyObject **)obj)-3; MANAGED_DICT_OFFSET = sizeof(PyObject*)*-3")
_WHY_DICT_312 = ("3.12 pycore_object.h: _PyObject_DictOrValuesPointer(obj) = "
                 "((PyDictOrValues *)obj)-3 (tagged: low bit 1 = values pointer - 1)")
_WHY_DICT_313 = ("3.13 pycore_object.h: MANAGED_DICT_OFFSET = sizeof(PyObject*)*-3 "
                 "(default build); _PyObject_ManagedDictPointer = obj + MANAGED_DICT_OFFSET")
_WHY_VALUES_311 = ("3.11 pycore_object.h: _PyObject_ValuesPointer(obj) = "
                   "((PyDictValues **)obj)-4")
_WHY_WEAKREF_312 = ("3.12/3.13 pycore_object.h: MANAGED_WEAKREF_OFFSET = "
                    "sizeof(PyObject*)*-4 (default build)")
_WHY_GC_HEAD_FT = ("free-threaded builds (Py_GIL_DISABLED) put no PyGC_Head before an object: "
                   "3.14 Include/internal/pycore_object.h _PyType_PreHeaderSize counts "
                   "sizeof(PyGC_Head) only #ifndef Py_GIL_DISABLED; the GC finds objects in "
                   "mimalloc's heaps (Python/gc_free_threading.c gc_visit_heaps)")
_WHY_DICT_FT = ("3.14 pycore_object.h #ifdef Py_GIL_DISABLED: MANAGED_DICT_OFFSET = "
                "sizeof(PyObject*)*-1")
_WHY_WEAKREF_FT = ("3.14 pycore_object.h #ifdef Py_GIL_DISABLED: MANAGED_WEAKREF_OFFSET = "
                   "sizeof(PyObject*)*-2")
_WHY_FT_NO = "a default (GIL) build"
_WHY_FT_YES = "a free-threaded build: _Py_DebugOffsets.free_threaded is 1 (Py_GIL_DISABLED)"
_WHY_KIND_SHIFT = ("PyASCIIObject.state: interned:2 then kind:3 (default builds, 3.8+): kind "
                   "at bit 2")
_WHY_KIND_SHIFT_FT = ("3.14 Include/cpython/unicodeobject.h #ifdef Py_GIL_DISABLED: `unsigned "
                      "char interned` (a full byte, read atomically), then kind:3: kind at bit 8, "
                      "compact 11, ascii 12")
_WHY_MI_TAG = ("3.14 Include/internal/mimalloc/mimalloc/types.h mi_page_t: uint32 slice_count, "
               "uint32 slice_offset, then the bit-fields is_committed:1 is_zero_init:1 "
               "use_qsbr:1 tag:4 in the byte at 8 (tag = (byte >> 3) & 15; DWARF cannot "
               "give the offset of a bit-field)")
_WHY_MI_SEGMENT = ("mimalloc/types.h (64-bit): MI_SEGMENT_SLICE_SHIFT 13+3 (64 KiB slices), "
                   "MI_SEGMENT_SHIFT 9+16 (32 MiB segments, aligned to their size: "
                   "_mi_ptr_segment(p) = p & ~MI_SEGMENT_MASK)")

_WHY_VALUES_OLD = ("3.8-3.10: PyDictObject.ma_values is PyObject ** pointing at "
                   "the values array itself (no struct _dictvalues)")

# pymalloc's geometry: macros, not in DWARF.  The integration test
# tests/integration/test_alloc.py checks them against the target's own
# sys._debugmallocstats() ("N arenas * ARENA_SIZE bytes/arena", "N unused
# pools * POOL_SIZE bytes", the size classes) on every version.
_WHY_ARENA_OLD = ("3.8/3.9 Objects/obmalloc.c: #define ARENA_SIZE (256 << 10), 256 KiB")
_WHY_ARENA_NEW = ("3.10/3.11 Objects/obmalloc.c, 3.12+ Include/internal/pycore_obmalloc.h: "
                  "USE_LARGE_ARENAS on 64-bit: ARENA_BITS 20, ARENA_SIZE (1 << ARENA_BITS), 1 MiB")
_WHY_POOL_OLD = ("3.8/3.9 Objects/obmalloc.c: #define POOL_SIZE SYSTEM_PAGE_SIZE "
                 "(1 << SYSTEM_PAGE_SIZE_BITS, 12), 4 KiB")
_WHY_POOL_NEW = ("3.10/3.11 Objects/obmalloc.c, 3.12+ Include/internal/pycore_obmalloc.h: "
                 "USE_LARGE_POOLS with WITH_PYMALLOC_RADIX_TREE on 64-bit: POOL_BITS 14, 16 KiB")
_WHY_ALIGNMENT = ("obmalloc: #define ALIGNMENT 16 when SIZEOF_VOID_P > 4 (3.8+): size "
                  "classes are 16 bytes apart")
_WHY_THRESHOLD = ("obmalloc: #define SMALL_REQUEST_THRESHOLD 512; larger requests go to "
                  "PyMem_RawMalloc")

_WHY_CSTACK_312 = ("3.12 Include/internal/pycore_frame.h, 3.13 pycore_frame.h: enum _frameowner: "
                   "FRAME_OWNED_BY_CSTACK = 3, the entry frame of _PyEval_EvalFrameDefault")
_WHY_CSTACK_314 = ("3.14 Include/internal/pycore_interpframe_structs.h: enum _frameowner: "
                   "FRAME_OWNED_BY_INTERPRETER = 3, FRAME_OWNED_BY_CSTACK = 4; Python/ceval.c: "
                   "the entry frame is FRAME_OWNED_BY_INTERPRETER, and frame->owner >= "
                   "FRAME_OWNED_BY_INTERPRETER means an incomplete frame")
_WHY_STACKREF_OLD = ("before 3.14 the frame's slots, f_executable and f_funcobj are plain "
                     "PyObject pointers")
_WHY_STACKREF_314 = ("3.14 Include/internal/pycore_stackref.h (default build): Py_TAG_BITS 3, "
                     "Py_TAG_REFCNT 1, PyStackRef_NULL_BITS Py_TAG_REFCNT, Py_INT_TAG 3 "
                     "(tagged ints), BITS_TO_PTR_MASKED = bits & ~Py_TAG_REFCNT")
_WHY_REFCNT_OLD = ("before 3.14 ob_refcnt is a Py_ssize_t (3.12/3.13: immortal when its low "
                   "32 bits are negative)")
_WHY_REFCNT_314 = ("3.14 Include/object.h (64-bit, little endian): uint32_t ob_refcnt; "
                   "uint16_t ob_overflow; uint16_t ob_flags; refcount.h: Py_REFCNT is "
                   "ob_refcnt, _Py_IsImmortal is (int32_t)ob_refcnt < 0")

_WHY_VISIT_313 = ("3.13.0 Objects/dictobject.c PyObject_VisitManagedDict: the inline values "
                  "while valid, and the dict (_PyObject_VisitInstanceAttributes)")
_WHY_VISIT_314 = ("3.14 Objects/dictobject.c PyObject_VisitManagedDict (GH-130327): with a "
                  "managed dict only the dict; the dict traverses the values it points to")

# Snippets that must appear in the installed headers of each version for the
# constants above (checked by the test when the headers are present).
_OBMALLOC_EVIDENCE = [
    ("internal/pycore_obmalloc.h", "#define ARENA_BITS              20                    /* 1 MiB */"),
    ("internal/pycore_obmalloc.h", "#define POOL_BITS               14                  /* 16 KiB */"),
    ("internal/pycore_obmalloc.h", "#define ALIGNMENT              16               /* must be 2^N */"),
    ("internal/pycore_obmalloc.h", "#define SMALL_REQUEST_THRESHOLD 512"),
]

HEADER_EVIDENCE = {
    (3, 11): [
        ("internal/pycore_object.h", "return ((PyDictValues **)obj)-4;"),
        ("internal/pycore_object.h", "return ((PyObject **)obj)-3;"),
        ("internal/pycore_object.h",
         "_PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT) * 2 * sizeof(PyObject *)"),
    ],
    (3, 12): [
        ("internal/pycore_object.h", "return ((PyDictOrValues *)obj)-3;"),
        ("internal/pycore_object.h",
         "#define MANAGED_WEAKREF_OFFSET (((Py_ssize_t)sizeof(PyObject *))*-4)"),
        ("internal/pycore_object.h",
         "_PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER) * 2 * sizeof(PyObject *)"),
    ] + _OBMALLOC_EVIDENCE,
    (3, 13): [
        ("internal/pycore_object.h",
         "#  define MANAGED_DICT_OFFSET    (((Py_ssize_t)sizeof(PyObject *))*-3)"),
        ("internal/pycore_object.h",
         "#  define MANAGED_WEAKREF_OFFSET (((Py_ssize_t)sizeof(PyObject *))*-4)"),
        ("internal/pycore_object.h",
         "_PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER) * 2 * sizeof(PyObject *)"),
    ] + _OBMALLOC_EVIDENCE,
    (3, 14): [
        ("internal/pycore_object.h",
         "#  define MANAGED_DICT_OFFSET    (((Py_ssize_t)sizeof(PyObject *))*-3)"),
        ("internal/pycore_object.h",
         "#  define MANAGED_WEAKREF_OFFSET (((Py_ssize_t)sizeof(PyObject *))*-4)"),
        ("internal/pycore_object.h",
         "_PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER) * 2 * sizeof(PyObject *)"),
        # the 3.14 constants appended to the layout
    ("internal/pycore_interpframe_structs.h", "    FRAME_OWNED_BY_INTERPRETER = 3,"),
    ("internal/pycore_interpframe_structs.h", "    FRAME_OWNED_BY_CSTACK = 4,"),
    ("internal/pycore_stackref.h", "#define PyStackRef_NULL_BITS Py_TAG_REFCNT"),
    ("internal/pycore_stackref.h", "#define Py_INT_TAG 3"),
    ("internal/pycore_stackref.h", "#define Py_TAG_BITS 3"),
    ("object.h", "            uint32_t ob_refcnt;"),
    ("refcount.h", "return _Py_CAST(PY_INT32_T, op->ob_refcnt) < 0;"),
] + _OBMALLOC_EVIDENCE,
}


HEADER_EVIDENCE[(3, 14, "t")] = [
    ("internal/pycore_object.h",
     "#  define MANAGED_DICT_OFFSET    (((Py_ssize_t)sizeof(PyObject *))*-1)"),
    ("internal/pycore_object.h",
     "#  define MANAGED_WEAKREF_OFFSET (((Py_ssize_t)sizeof(PyObject *))*-2)"),
    ("internal/pycore_object.h", "#define _Py_REF_DEFERRED (PY_SSIZE_T_MAX / 8)"),
    ("internal/pycore_gc.h", "#  define _PyGC_BITS_DEFERRED       (1<<6)"),
    ("cpython/unicodeobject.h", "        unsigned char interned;"),
    ("internal/mimalloc/mimalloc/types.h",
     "#define MI_SEGMENT_SLICE_SHIFT            (13 + MI_INTPTR_SHIFT)"),
    ("internal/mimalloc/mimalloc/types.h",
     "#define MI_SEGMENT_SHIFT                  ( 9 + MI_SEGMENT_SLICE_SHIFT)  // 32MiB"),
    ("internal/mimalloc/mimalloc/types.h", "  uint8_t               tag : 4;"),
    ("internal/pycore_stackref.h", "#define Py_INT_TAG 3"),
    ("object.h", "    uint32_t ob_ref_local;"),
]


def vtext(version):
    """"3.14", or "3.14t" for a free-threaded build."""
    return "%d.%d" % version[:2] + ("t" if len(version) > 2 else "")


def _off(t, p):
    return "offsetof(%s, %s)" % (t, p)


IS = "PyInterpreterState"
TS = "PyThreadState"
GC = "struct _gc_runtime_state"
FR = "PyFrameObject"
IF = "_PyInterpreterFrame"
CO = "PyCodeObject"
TP = "PyTypeObject"
HT = "PyHeapTypeObject"
OM = "struct _obmalloc_state"


def _all(t, p):
    return {"*": _off(t, p)}


def _only(keys, t, p):
    """offsetof in the versions `keys` (one key), NONE elsewhere."""
    return {keys: _off(t, p), "else": NONE}


# (field name, {version key: expression}); "else" matches versions no other
# key matches.  Order = struct ph_layout order (after major, minor).
FIELDS = [
    # _PyRuntimeState
    ("runtime_interpreters_head", _all("_PyRuntimeState", "interpreters.head")),
    ("runtime_gc", _only("3.8", "_PyRuntimeState", "gc")),

    # PyInterpreterState
    ("interp_next", _all(IS, "next")),
    ("interp_threads_head", {"3.8-3.10": _off(IS, "tstate_head"),
                             "3.11+": _off(IS, "threads.head")}),
    ("interp_id", _all(IS, "id")),
    ("interp_gc", _only("3.9+", IS, "gc")),
    ("interp_modules", {"3.8-3.11": _off(IS, "modules"),
                        "3.12+": _off(IS, "imports.modules")}),
    ("interp_sysdict", _all(IS, "sysdict")),
    ("interp_builtins", _all(IS, "builtins")),
    ("interp_dict", _all(IS, "dict")),
    ("interp_types_builtins", {"3.8-3.11": NONE,
                               "3.12": _off(IS, "types.builtins"),
                               "3.13+": _off(IS, "types.builtins.initialized")}),
    ("static_builtin_state_size", {"3.8-3.11": NONE,
                                   "3.12": "sizeof(static_builtin_state)",
                                   "3.13+": "sizeof(managed_static_type_state)"}),
    ("static_builtin_state_tp_dict", {"3.8-3.11": NONE,
                                      "3.12": _off("static_builtin_state", "tp_dict"),
                                      "3.13+": _off("managed_static_type_state", "tp_dict")}),
    ("static_builtin_max", {"3.8-3.11": NONE,
                            "3.12": "lengthof(%s, types.builtins)" % IS,
                            "3.13+": "lengthof(%s, types.builtins.initialized)" % IS}),

    # struct _gc_runtime_state
    ("gc_generations", _all(GC, "generations")),
    ("gc_generation_size", {"*": "sizeof(struct gc_generation)"}),
    ("gc_num_generations", {"*": "lengthof(%s, generations)" % GC}),
    ("gc_permanent_generation", _all(GC, "permanent_generation")),
    ("gc_collecting", _all(GC, "collecting")),

    # PyThreadState
    ("tstate_next", _all(TS, "next")),
    ("tstate_interp", _all(TS, "interp")),
    ("tstate_frame", _only("3.8-3.10", TS, "frame")),
    ("tstate_cframe", _only("3.11-3.12", TS, "cframe")),
    ("cframe_current_frame", _only("3.11-3.12", "_PyCFrame", "current_frame")),
    ("tstate_current_frame", _only("3.13+", TS, "current_frame")),
    ("tstate_curexc_type", _only("3.8-3.11", TS, "curexc_type")),
    ("tstate_curexc_value", _only("3.8-3.11", TS, "curexc_value")),
    ("tstate_curexc_traceback", _only("3.8-3.11", TS, "curexc_traceback")),
    ("tstate_current_exception", _only("3.12+", TS, "current_exception")),
    ("tstate_exc_state", _all(TS, "exc_state")),
    ("tstate_exc_info", _all(TS, "exc_info")),
    ("tstate_dict", _all(TS, "dict")),
    ("tstate_async_exc", _all(TS, "async_exc")),
    ("tstate_thread_id", _all(TS, "thread_id")),
    ("tstate_native_thread_id", _only("3.11+", TS, "native_thread_id")),
    ("tstate_context", _all(TS, "context")),
    ("tstate_async_gen_firstiter", _all(TS, "async_gen_firstiter")),
    ("tstate_async_gen_finalizer", _all(TS, "async_gen_finalizer")),

    # _PyErr_StackItem
    ("err_exc_type", _only("3.8-3.10", "_PyErr_StackItem", "exc_type")),
    ("err_exc_value", _all("_PyErr_StackItem", "exc_value")),
    ("err_exc_traceback", _only("3.8-3.10", "_PyErr_StackItem", "exc_traceback")),
    ("err_previous_item", _all("_PyErr_StackItem", "previous_item")),

    # PyFrameObject
    ("frame_back", _all(FR, "f_back")),
    ("frame_code", _only("3.8-3.10", FR, "f_code")),
    ("frame_builtins", _only("3.8-3.10", FR, "f_builtins")),
    ("frame_globals", _only("3.8-3.10", FR, "f_globals")),
    ("frame_locals", _only("3.8-3.10", FR, "f_locals")),
    ("frame_valuestack", _only("3.8-3.10", FR, "f_valuestack")),
    ("frame_stacktop", _only("3.8-3.9", FR, "f_stacktop")),
    ("frame_stackdepth", _only("3.10", FR, "f_stackdepth")),
    ("frame_trace", _all(FR, "f_trace")),
    ("frame_gen", _only("3.8-3.10", FR, "f_gen")),
    ("frame_lineno", _all(FR, "f_lineno")),
    ("frame_lasti", _only("3.8-3.10", FR, "f_lasti")),
    ("frame_localsplus", _only("3.8-3.10", FR, "f_localsplus")),
    ("frame_frame", _only("3.11+", FR, "f_frame")),
    ("frame_sizeof", {"*": "sizeof(%s)" % FR}),

    # _PyInterpreterFrame
    ("iframe_code", {"3.8-3.10": NONE, "3.11-3.12": _off(IF, "f_code"),
                     "3.13+": _off(IF, "f_executable")}),
    ("iframe_previous", _only("3.11+", IF, "previous")),
    ("iframe_funcobj", {"3.8-3.10": NONE, "3.11": _off(IF, "f_func"),
                        "3.12+": _off(IF, "f_funcobj")}),
    ("iframe_globals", _only("3.11+", IF, "f_globals")),
    ("iframe_builtins", _only("3.11+", IF, "f_builtins")),
    ("iframe_locals", _only("3.11+", IF, "f_locals")),
    ("iframe_frame_obj", _only("3.11+", IF, "frame_obj")),
    ("iframe_instr", {"3.8-3.10": NONE, "3.11-3.12": _off(IF, "prev_instr"),
                      "3.13+": _off(IF, "instr_ptr")}),
    ("iframe_stacktop", _only("3.11-3.13", IF, "stacktop")),
    ("iframe_owner", _only("3.11+", IF, "owner")),
    ("iframe_localsplus", _only("3.11+", IF, "localsplus")),

    # PyCodeObject
    ("code_argcount", _all(CO, "co_argcount")),
    ("code_nlocals", _all(CO, "co_nlocals")),
    ("code_nlocalsplus", _only("3.11+", CO, "co_nlocalsplus")),
    ("code_ncellvars", _only("3.11+", CO, "co_ncellvars")),
    ("code_nfreevars", _only("3.11+", CO, "co_nfreevars")),
    ("code_framesize", _only("3.12+", CO, "co_framesize")),
    ("code_stacksize", _all(CO, "co_stacksize")),
    ("code_flags", _all(CO, "co_flags")),
    ("code_firstlineno", _all(CO, "co_firstlineno")),
    ("code_code", _only("3.8-3.10", CO, "co_code")),
    ("code_code_adaptive", _only("3.11+", CO, "co_code_adaptive")),
    ("code_consts", _all(CO, "co_consts")),
    ("code_names", _all(CO, "co_names")),
    ("code_varnames", _only("3.8-3.10", CO, "co_varnames")),
    ("code_freevars", _only("3.8-3.10", CO, "co_freevars")),
    ("code_cellvars", _only("3.8-3.10", CO, "co_cellvars")),
    ("code_localsplusnames", _only("3.11+", CO, "co_localsplusnames")),
    ("code_localspluskinds", _only("3.11+", CO, "co_localspluskinds")),
    ("code_filename", _all(CO, "co_filename")),
    ("code_name", _all(CO, "co_name")),
    ("code_qualname", _only("3.11+", CO, "co_qualname")),
    ("code_lnotab", _only("3.8-3.9", CO, "co_lnotab")),
    ("code_linetable", _only("3.10+", CO, "co_linetable")),
    ("code_exceptiontable", _only("3.11+", CO, "co_exceptiontable")),
    ("code_weakreflist", _all(CO, "co_weakreflist")),
    ("code_extra", _all(CO, "co_extra")),
    ("code_cell2arg", _only("3.8-3.10", CO, "co_cell2arg")),
    ("code_zombieframe", _only("3.8-3.10", CO, "co_zombieframe")),
    # 3.11: PyObject *_co_code (cached co_code bytes, or NULL);
    # 3.12+: _PyCoCached *_co_cached (struct of _co_code, _co_varnames, ...).
    ("code_cached", {"3.8-3.10": NONE, "3.11": _off(CO, "_co_code"),
                     "3.12+": _off(CO, "_co_cached")}),
    ("code_sizeof", {"*": "sizeof(%s)" % CO}),

    # PyTypeObject / PyHeapTypeObject
    ("tp_name", _all(TP, "tp_name")),
    ("tp_basicsize", _all(TP, "tp_basicsize")),
    ("tp_itemsize", _all(TP, "tp_itemsize")),
    ("tp_flags", _all(TP, "tp_flags")),
    ("tp_weaklistoffset", _all(TP, "tp_weaklistoffset")),
    ("tp_base", _all(TP, "tp_base")),
    ("tp_dict", _all(TP, "tp_dict")),
    ("tp_dictoffset", _all(TP, "tp_dictoffset")),
    ("tp_bases", _all(TP, "tp_bases")),
    ("tp_mro", _all(TP, "tp_mro")),
    ("tp_subclasses", _all(TP, "tp_subclasses")),
    ("tp_free", _all(TP, "tp_free")),
    ("type_sizeof", {"*": "sizeof(%s)" % TP}),
    ("heaptype_sizeof", {"*": "sizeof(%s)" % HT}),
    ("ht_name", _all(HT, "ht_name")),
    ("ht_slots", _all(HT, "ht_slots")),
    ("ht_qualname", _all(HT, "ht_qualname")),
    ("ht_cached_keys", _all(HT, "ht_cached_keys")),
    ("ht_module", _only("3.9+", HT, "ht_module")),

    # PyDictObject, PyDictKeysObject, PyDictValues
    ("dict_ma_used", _all("PyDictObject", "ma_used")),
    ("dict_ma_keys", _all("PyDictObject", "ma_keys")),
    ("dict_ma_values", _all("PyDictObject", "ma_values")),
    ("dict_sizeof", {"*": "sizeof(PyDictObject)"}),
    ("dk_refcnt", _all("PyDictKeysObject", "dk_refcnt")),
    ("dk_size", _only("3.8-3.10", "PyDictKeysObject", "dk_size")),
    ("dk_log2_size", _only("3.11+", "PyDictKeysObject", "dk_log2_size")),
    ("dk_log2_index_bytes", _only("3.11+", "PyDictKeysObject", "dk_log2_index_bytes")),
    ("dk_kind", _only("3.11+", "PyDictKeysObject", "dk_kind")),
    ("dk_usable", _all("PyDictKeysObject", "dk_usable")),
    ("dk_nentries", _all("PyDictKeysObject", "dk_nentries")),
    ("dk_indices", _all("PyDictKeysObject", "dk_indices")),
    ("dictvalues_values", {"3.8-3.10": Const(0, _WHY_VALUES_OLD),
                           "3.11+": _off("PyDictValues", "values")}),

    # PyUnicodeObject
    ("str_length", _all("PyASCIIObject", "length")),
    ("str_hash", _all("PyASCIIObject", "hash")),
    ("str_state", _all("PyASCIIObject", "state")),
    ("str_wstr", _only("3.8-3.11", "PyASCIIObject", "wstr")),
    ("str_utf8_length", _all("PyCompactUnicodeObject", "utf8_length")),
    ("str_utf8", _all("PyCompactUnicodeObject", "utf8")),
    ("str_wstr_length", _only("3.8-3.11", "PyCompactUnicodeObject", "wstr_length")),
    ("str_data", _all("PyUnicodeObject", "data")),
    ("str_ascii_sizeof", {"*": "sizeof(PyASCIIObject)"}),
    ("str_compact_sizeof", {"*": "sizeof(PyCompactUnicodeObject)"}),
    ("str_unicode_sizeof", {"*": "sizeof(PyUnicodeObject)"}),

    # PyLongObject
    ("long_lv_tag", _only("3.12+", "PyLongObject", "long_value.lv_tag")),
    ("long_digits", {"3.8-3.11": _off("PyLongObject", "ob_digit"),
                     "3.12+": _off("PyLongObject", "long_value.ob_digit")}),

    # PyListObject, PyTupleObject
    ("list_ob_item", _all("PyListObject", "ob_item")),
    ("list_allocated", _all("PyListObject", "allocated")),
    ("list_sizeof", {"*": "sizeof(PyListObject)"}),
    ("tuple_ob_item", _all("PyTupleObject", "ob_item")),

    # PySetObject
    ("set_fill", _all("PySetObject", "fill")),
    ("set_used", _all("PySetObject", "used")),
    ("set_mask", _all("PySetObject", "mask")),
    ("set_table", _all("PySetObject", "table")),
    ("set_smalltable", _all("PySetObject", "smalltable")),
    ("set_sizeof", {"*": "sizeof(PySetObject)"}),
    ("setentry_sizeof", {"*": "sizeof(setentry)"}),

    # PyBytesObject, PyByteArrayObject
    ("bytes_sval", _all("PyBytesObject", "ob_sval")),
    ("bytearray_alloc", _all("PyByteArrayObject", "ob_alloc")),

    # PyModuleObject, PyCellObject, PyMethodObject
    ("module_md_dict", _all("PyModuleObject", "md_dict")),
    ("cell_ob_ref", _all("PyCellObject", "ob_ref")),
    ("method_im_func", _all("PyMethodObject", "im_func")),
    ("method_im_self", _all("PyMethodObject", "im_self")),

    # PyFunctionObject
    ("func_code", _all("PyFunctionObject", "func_code")),
    ("func_globals", _all("PyFunctionObject", "func_globals")),
    ("func_builtins", _only("3.10+", "PyFunctionObject", "func_builtins")),
    ("func_name", _all("PyFunctionObject", "func_name")),
    ("func_qualname", _all("PyFunctionObject", "func_qualname")),
    ("func_defaults", _all("PyFunctionObject", "func_defaults")),
    ("func_kwdefaults", _all("PyFunctionObject", "func_kwdefaults")),
    ("func_closure", _all("PyFunctionObject", "func_closure")),
    ("func_doc", _all("PyFunctionObject", "func_doc")),
    ("func_dict", _all("PyFunctionObject", "func_dict")),
    ("func_module", _all("PyFunctionObject", "func_module")),
    ("func_annotations", _all("PyFunctionObject", "func_annotations")),
    ("func_typeparams", _only("3.12+", "PyFunctionObject", "func_typeparams")),
    ("func_annotate", _only("3.14+", "PyFunctionObject", "func_annotate")),
    ("func_sizeof", {"*": "sizeof(PyFunctionObject)"}),

    # PyMemberDef, PyMemberDescrObject
    ("memberdef_type", _all("PyMemberDef", "type")),
    ("memberdef_offset", _all("PyMemberDef", "offset")),
    ("memberdescr_d_member", _all("PyMemberDescrObject", "d_member")),

    # GC head and pre-header
    ("gc_head_size", {"*": "sizeof(PyGC_Head)"}),
    ("preheader_size", {"3.8-3.10": Const(0, _WHY_PRE_NONE),
                        "3.11": Const(16, _WHY_PRE_311),
                        "3.12+": Const(16, _WHY_PRE_312)}),
    ("managed_dict", {"3.8-3.10": NONE,
                      "3.11": Const(-24, _WHY_DICT_311),
                      "3.12": Const(-24, _WHY_DICT_312),
                      "3.13+": Const(-24, _WHY_DICT_313)}),
    ("managed_values", {"3.11": Const(-32, _WHY_VALUES_311), "else": NONE}),
    ("managed_weakref", {"3.12+": Const(-32, _WHY_WEAKREF_312), "else": NONE}),

    # Appended after the pre-header fields.
    ("memberdef_sizeof", {"*": "sizeof(PyMemberDef)"}),
    ("interp_interned", {"3.8-3.11": NONE,
                         "3.12+": "offsetof(PyInterpreterState, cached_objects.interned_strings)"}),
    ("gen_frame_state", {"3.8-3.10": NONE, "3.11+": "offsetof(PyGenObject, gi_frame_state)"}),
    ("interp_types_for_extensions", {"3.8-3.12": NONE,
                                     "3.13+": "offsetof(PyInterpreterState, types.for_extensions.initialized)"}),
    ("static_extension_max", {"3.8-3.12": NONE,
                              "3.13+": "lengthof(PyInterpreterState, types.for_extensions.initialized)"}),
    ("odict_first", {"*": "offsetof(PyODictObject, od_first)"}),
    ("odict_fast_nodes_size", {"*": "offsetof(PyODictObject, od_fast_nodes_size)"}),
    ("odictnode_sizeof", {"*": "sizeof(_ODictNode)"}),
    ("code_co_extra_ce_size", {"*": "offsetof(_PyCodeObjectExtra, ce_size)"}),
    ("code_co_extra_ce_extras", {"*": "offsetof(_PyCodeObjectExtra, ce_extras)"}),
    ("weakref_object", _all("PyWeakReference", "wr_object")),
    ("weakref_callback", _all("PyWeakReference", "wr_callback")),
    ("weakref_next", _all("PyWeakReference", "wr_next")),
    ("memberdef_name", _all("PyMemberDef", "name")),

    # pymalloc: pool headers, arena objects, the allocator's state.
    ("pool_ref_count", _all("struct pool_header", "ref.count")),
    ("pool_freeblock", _all("struct pool_header", "freeblock")),
    ("pool_arenaindex", _all("struct pool_header", "arenaindex")),
    ("pool_szidx", _all("struct pool_header", "szidx")),
    ("pool_nextoffset", _all("struct pool_header", "nextoffset")),
    ("pool_maxnextoffset", _all("struct pool_header", "maxnextoffset")),
    ("pool_header_sizeof", {"*": "sizeof(struct pool_header)"}),
    ("arena_address", _all("struct arena_object", "address")),
    ("arena_pool_address", _all("struct arena_object", "pool_address")),
    ("arena_nfreepools", _all("struct arena_object", "nfreepools")),
    ("arena_ntotalpools", _all("struct arena_object", "ntotalpools")),
    ("arena_nextarena", _all("struct arena_object", "nextarena")),
    ("arena_object_sizeof", {"*": "sizeof(struct arena_object)"}),
    ("interp_obmalloc", _only("3.12", IS, "obmalloc")),
    ("interp_obmalloc_ptr", _only("3.13+", IS, "obmalloc")),
    ("obmalloc_arenas", _only("3.12+", OM, "mgmt.arenas")),
    ("obmalloc_maxarenas", _only("3.12+", OM, "mgmt.maxarenas")),
    ("obmalloc_narenas", _only("3.12+", OM, "mgmt.narenas_currently_allocated")),
    ("obmalloc_raw_allocated_blocks", _only("3.12+", OM, "mgmt.raw_allocated_blocks")),
    ("obmalloc_map_mid_count", _only("3.12+", OM, "usage.arena_map_mid_count")),
    ("obmalloc_map_bot_count", _only("3.12+", OM, "usage.arena_map_bot_count")),
    ("arena_map_mid_sizeof", {"3.8-3.9": NONE, "3.10+": "sizeof(arena_map_mid_t)"}),
    ("arena_map_bot_sizeof", {"3.8-3.9": NONE, "3.10+": "sizeof(arena_map_bot_t)"}),
    ("arena_size", {"3.8-3.9": Const(256 << 10, _WHY_ARENA_OLD),
                    "3.10+": Const(1 << 20, _WHY_ARENA_NEW)}),
    ("pool_size", {"3.8-3.9": Const(4 << 10, _WHY_POOL_OLD),
                   "3.10+": Const(16 << 10, _WHY_POOL_NEW)}),
    ("pymalloc_alignment", {"*": Const(16, _WHY_ALIGNMENT)}),
    ("small_request_threshold", {"*": Const(512, _WHY_THRESHOLD)}),

    # Appended: a generator's origin (coroutines) or finalizer (async
    # generators); a plain generator never sets it (make_gen leaves it as
    # the allocator gave it), so it is no reference there.
    ("gen_origin_or_finalizer", {"3.8-3.10": NONE,
                                 "3.11+": "offsetof(PyGenObject, gi_origin_or_finalizer)"}),

    # Appended for 3.14: the frame's stack pointer, the owner values that
    # mark entry frames (no Python code), tagged stack references, and the 32-bit
    # reference count.
    ("iframe_stackpointer", {"3.8-3.13": NONE,
                             "3.14+": "offsetof(_PyInterpreterFrame, stackpointer)"}),
    ("frame_owner_entry", {"3.8-3.11": NONE,
                               "3.12-3.13": Const(3, _WHY_CSTACK_312),
                               "3.14+": Const(3, _WHY_CSTACK_314)}),
    ("stackref_tagged", {"3.8-3.13": Const(0, _WHY_STACKREF_OLD),
                         "3.14+": Const(1, _WHY_STACKREF_314)}),
    ("ob_refcnt_size", {"3.8-3.13": Const(8, _WHY_REFCNT_OLD),
                        "3.14+": Const(4, _WHY_REFCNT_314)}),
    ("values_visited_with_dict", {"3.8-3.12": NONE,
                                  "3.13": Const(1, _WHY_VISIT_313),
                                  "3.14+": Const(0, _WHY_VISIT_314)}),
    # Appended for free-threaded builds (Py_GIL_DISABLED): the header, str's
    # state, per-thread bytecode, and mimalloc (Include/internal/mimalloc/).
    ("free_threaded", {"ft": Const(1, _WHY_FT_YES), "*": Const(0, _WHY_FT_NO)}),
    ("ob_ref_local", {"ft": "offsetof(PyObject, ob_ref_local)", "else": NONE}),
    ("ob_ref_shared", {"ft": "offsetof(PyObject, ob_ref_shared)", "else": NONE}),
    ("ob_gc_bits", {"ft": "offsetof(PyObject, ob_gc_bits)", "else": NONE}),
    ("str_kind_shift", {"ft": Const(8, _WHY_KIND_SHIFT_FT), "*": Const(2, _WHY_KIND_SHIFT)}),
    ("code_tlbc", {"ft": "offsetof(PyCodeObject, co_tlbc)", "else": NONE}),
    ("iframe_tlbc_index", {"ft": "offsetof(_PyInterpreterFrame, tlbc_index)", "else": NONE}),
    ("tstate_mimalloc_heaps", {"ft": "offsetof(_PyThreadStateImpl, mimalloc.heaps)", "else": NONE}),
    ("tstate_mimalloc_initialized", {"ft": "offsetof(_PyThreadStateImpl, mimalloc.initialized)", "else": NONE}),
    ("mi_heap_sizeof", {"ft": "sizeof(mi_heap_t)", "else": NONE}),
    ("mi_heap_pages", {"ft": "offsetof(mi_heap_t, pages)", "else": NONE}),
    ("mi_heap_npages", {"ft": "lengthof(mi_heap_t, pages)", "else": NONE}),
    ("mi_page_queue_sizeof", {"ft": "sizeof(mi_page_queue_t)", "else": NONE}),
    ("mi_heap_thread_delayed_free", {"ft": "offsetof(mi_heap_t, thread_delayed_free)", "else": NONE}),
    ("mi_page_slice_count", {"ft": "offsetof(mi_page_t, slice_count)", "else": NONE}),
    ("mi_page_slice_offset", {"ft": "offsetof(mi_page_t, slice_offset)", "else": NONE}),
    ("mi_page_tag_byte", {"ft": Const(8, _WHY_MI_TAG), "else": NONE}),
    ("mi_page_capacity", {"ft": "offsetof(mi_page_t, capacity)", "else": NONE}),
    ("mi_page_reserved", {"ft": "offsetof(mi_page_t, reserved)", "else": NONE}),
    ("mi_page_free", {"ft": "offsetof(mi_page_t, free)", "else": NONE}),
    ("mi_page_used", {"ft": "offsetof(mi_page_t, used)", "else": NONE}),
    ("mi_page_xblock_size", {"ft": "offsetof(mi_page_t, xblock_size)", "else": NONE}),
    ("mi_page_local_free", {"ft": "offsetof(mi_page_t, local_free)", "else": NONE}),
    ("mi_page_xthread_free", {"ft": "offsetof(mi_page_t, xthread_free)", "else": NONE}),
    ("mi_page_xheap", {"ft": "offsetof(mi_page_t, xheap)", "else": NONE}),
    ("mi_page_next", {"ft": "offsetof(mi_page_t, next)", "else": NONE}),
    ("mi_page_sizeof", {"ft": "sizeof(mi_page_t)", "else": NONE}),
    ("mi_segment_slices", {"ft": "offsetof(mi_segment_t, slices)", "else": NONE}),
    ("mi_segment_slice_entries", {"ft": "offsetof(mi_segment_t, slice_entries)", "else": NONE}),
    ("mi_segment_abandoned_next", {"ft": "offsetof(mi_segment_t, abandoned_next)", "else": NONE}),
    ("mi_segment_thread_id", {"ft": "offsetof(mi_segment_t, thread_id)", "else": NONE}),
    ("interp_mimalloc_abandoned", {"ft": "offsetof(PyInterpreterState, mimalloc.abandoned_pool)", "else": NONE}),
    ("mi_pool_abandoned", {"ft": "offsetof(mi_abandoned_pool_t, abandoned)", "else": NONE}),
    ("mi_pool_abandoned_visited", {"ft": "offsetof(mi_abandoned_pool_t, abandoned_visited)", "else": NONE}),
    ("mi_segment_shift", {"ft": Const(25, _WHY_MI_SEGMENT), "else": NONE}),
    ("mi_slice_shift", {"ft": Const(16, _WHY_MI_SEGMENT), "else": NONE}),
]

# What free-threaded builds change in fields defined above.
FT_OVERRIDES = {
    "gc_head_size": Const(0, _WHY_GC_HEAD_FT),
    "managed_dict": Const(-8, _WHY_DICT_FT),
    "managed_weakref": Const(-16, _WHY_WEAKREF_FT),
    "gc_generations": NONE,         # no generations: #ifndef Py_GIL_DISABLED in _gc_runtime_state
    "gc_generation_size": NONE,
    "gc_num_generations": NONE,
}

FIELD_NAMES = [name for name, _ in FIELDS]


def _parse_version(s):
    """"3.14" -> (3, 14); "3.14t" (a free-threaded build) -> (3, 14, "t")."""
    ft = s.endswith("t")
    major, minor = s.rstrip("t").split(".")
    return (int(major), int(minor)) + (("t",) if ft else ())


def _key_matches(key, version):
    if key == "*":
        return True
    if key.endswith("+"):
        return version >= _parse_version(key[:-1])
    if "-" in key:
        lo, hi = key.split("-")
        return _parse_version(lo) <= version <= _parse_version(hi)
    return version == _parse_version(key)


def spec_for(name, version):
    """The expression (str) or Const for field `name` in `version`
    ((major, minor), or (major, minor, "t") for a free-threaded build)."""
    specs = dict(FIELDS)[name]
    if len(version) > 2:
        if name in FT_OVERRIDES:
            return FT_OVERRIDES[name]
        if "ft" in specs:
            return specs["ft"]
        version = tuple(version[:2])
    specs = {k: v for k, v in specs.items() if k != "ft"}
    hits = [k for k in specs if k != "else" and _key_matches(k, version)]
    if len(hits) > 1:
        raise ValueError("%s: several keys match %d.%d: %s" % (name, version[0], version[1], hits))
    if hits:
        return specs[hits[0]]
    if "else" in specs:
        return specs["else"]
    raise ValueError("%s: no key matches %d.%d" % (name, version[0], version[1]))


def is_dwarf(spec):
    """True when the value comes from DWARF (so the test can check it)."""
    return isinstance(spec, str) and spec != NONE


_EXPR = re.compile(r"^(offsetof|sizeof|lengthof)\((.*)\)$")


def parse_expr(expr):
    """-> (op, type name, member path or None)."""
    m = _EXPR.match(expr)
    if not m:
        raise ValueError("bad expression: %r" % expr)
    op, args = m.group(1), m.group(2)
    if op == "sizeof":
        return op, args.strip(), None
    tname, path = args.split(",", 1)
    return op, tname.strip(), path.strip()


def layout_h_fields(path):
    """Field names of struct ph_layout in core/src/cpython/layout.h, in order, without
    major/minor."""
    text = open(path).read()
    body = text[text.index("typedef struct ph_layout {"):]
    body = body[:body.index("} ph_layout;")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = re.findall(r"\bint32_t\s+(\w+)\s*;", body)
    return names


# ---------------------------------------------------------------- gdb side

def _member(gdb, t, name):
    """(offset in bytes, gdb.Type) of member `name` in struct/union type t,
    looking through anonymous struct/union members."""
    for f in t.fields():
        if f.name == name:
            if f.bitpos % 8:
                raise ValueError("%s is a bit-field" % name)
            return f.bitpos // 8, f.type
    for f in t.fields():
        if f.name is None or f.name == "":
            ft = f.type.strip_typedefs()
            if ft.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
                try:
                    off, mt = _member(gdb, ft, name)
                    return f.bitpos // 8 + off, mt
                except KeyError:
                    pass
    raise KeyError(name)


def _lookup(gdb, tname):
    t = gdb.lookup_type(tname)
    return t.strip_typedefs()


def _walk(gdb, tname, path):
    t = _lookup(gdb, tname)
    off = 0
    for part in path.split("."):
        m = re.match(r"^(\w+)((?:\[\d+\])*)$", part)
        if not m:
            raise ValueError("bad member path %r" % path)
        st = t.strip_typedefs()
        if st.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            raise ValueError("%s: %s is not a struct" % (path, st))
        if not st.fields():
            raise ValueError("%s: %s has no fields (incomplete type?)" % (path, st))
        try:
            moff, t = _member(gdb, st, m.group(1))
        except KeyError:
            raise ValueError("no member %r in %s" % (m.group(1), st))
        off += moff
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            at = t.strip_typedefs()
            if at.code != gdb.TYPE_CODE_ARRAY:
                raise ValueError("%s is not an array" % part)
            t = at.target()
            off += int(idx) * t.sizeof
    return off, t


def evaluate(gdb, expr):
    """Evaluate one DWARF expression against the loaded objfile."""
    op, tname, path = parse_expr(expr)
    if op == "sizeof":
        return int(_lookup(gdb, tname).sizeof)
    off, t = _walk(gdb, tname, path)
    if op == "offsetof":
        return int(off)
    at = t.strip_typedefs()
    if at.code != gdb.TYPE_CODE_ARRAY:
        raise ValueError("%s is not an array" % path)
    lo, hi = at.range()
    return int(hi - lo + 1)


def evaluate_version(gdb, version):
    """{field: int} for every DWARF field; {field: {"error": msg}} on failure."""
    out = {}
    for name in FIELD_NAMES:
        spec = spec_for(name, version)
        if not is_dwarf(spec):
            continue
        try:
            out[name] = evaluate(gdb, spec)
        except Exception as e:  # report, do not stop: the test names the field
            out[name] = {"error": "%s: %s" % (spec, e)}
    return out


def has_debug_info(gdb):
    try:
        return _lookup(gdb, "PyInterpreterState").sizeof > 0 and \
            bool(_lookup(gdb, "PyInterpreterState").fields())
    except Exception:
        return False


def _gdb_main():
    import gdb
    gdb.execute("set max-value-size unlimited")
    version = _parse_version(os.environ["PH_LAYOUT_VERSION"])
    if not has_debug_info(gdb):
        result = {"_no_debug_info": True}
    else:
        result = evaluate_version(gdb, version)
    print("PH_LAYOUT_JSON " + json.dumps(result, sort_keys=True))


if __name__ == "__main__" and os.environ.get("PH_LAYOUT_VERSION"):
    _gdb_main()
