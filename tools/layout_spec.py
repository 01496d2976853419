"""The one spec of struct ph_layout: every field, where its value comes from in
each CPython version, and what layout.h says of it.

For every field (in struct order) and every supported CPython version, FIELDS
names either a C-like expression evaluated against the DWARF of that CPython
build, or a constant that DWARF cannot show (with the reason).  Made from it
(`make layouts`, tools/gen_layout.py):

  core/src/cpython/layout.h         struct ph_layout, its groups and comments
  core/src/cpython/layout_fields.h  the X-macro list of the fields
  core/src/cpython/layout_tables.c  one table per version, from the DWARF of
                                    the builds named below (tools/layout_dwarf.py)

and tests/integration/test_layout_dwarf.py checks the tables against DWARF
again, and that the three files are what the spec makes.

Expression forms (TYPE is a typedef or "struct tag"; PATH is a member path
such as "imports.modules" or "generations[0]"):

  offsetof(TYPE, PATH)   byte offset of PATH in TYPE
  sizeof(TYPE)           byte size of TYPE
  lengthof(TYPE, PATH)   element count of the array member PATH
  NONE                   the field does not exist in that version: PH_NONE
  Const(value, why)      not a DWARF fact; `why` cites the CPython source

Version keys: "3.8", "3.8-3.10", "3.11+", "*".  For each (field, version)
exactly one key must match.
"""

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


class Field:
    """One int32_t field of struct ph_layout: its name, where its value comes
    from in each version ({version key: expression, Const or NONE}), and the
    comment layout.h prints beside it."""

    def __init__(self, name, specs, doc=""):
        self.name = name
        self.specs = specs
        self.doc = doc


class Group:
    """A heading in struct ph_layout (the CPython struct the fields below
    describe); only layout.h shows it."""

    def __init__(self, title):
        self.title = title


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


def _ft(expr):
    """expr in free-threaded builds, NONE in default ones."""
    return {"ft": expr, "else": NONE}


# The fields of struct ph_layout, in struct order (after major, minor), with
# the groups layout.h shows them in.  A version key is "3.8", "3.8-3.10",
# "3.11+", "*", "ft" (every free-threaded build, FT_OVERRIDES for fields defined
# before) or "else" (versions no other key matches).  The order here is the
# struct's; new fields go at the end of the list.
FIELDS = [

    Group("_PyRuntimeState"),
    Field("runtime_interpreters_head", _all("_PyRuntimeState", "interpreters.head"),
          "_PyRuntime.interpreters.head"),
    Field("runtime_gc", _only("3.8", "_PyRuntimeState", "gc"),
          "3.8: _PyRuntime.gc (struct _gc_runtime_state); else PH_NONE"),

    Group("PyInterpreterState (struct _is)"),
    Field("interp_next", _all(IS, "next")),
    Field("interp_threads_head",
          {"3.8-3.10": _off(IS, "tstate_head"),
           "3.11+": _off(IS, "threads.head")},
          "tstate_head (3.8-3.10), threads.head (3.11+)"),
    Field("interp_id", _all(IS, "id")),
    Field("interp_gc", _only("3.9+", IS, "gc"), "3.9+: interp->gc; PH_NONE on 3.8"),
    Field("interp_modules",
          {"3.8-3.11": _off(IS, "modules"),
           "3.12+": _off(IS, "imports.modules")},
          "modules (3.8-3.11), imports.modules (3.12+)"),
    Field("interp_sysdict", _all(IS, "sysdict")),
    Field("interp_builtins", _all(IS, "builtins")),
    Field("interp_dict", _all(IS, "dict"), "interp->dict"),
    Field("interp_types_builtins",
          {"3.8-3.11": NONE,
           "3.12": _off(IS, "types.builtins"),
           "3.13+": _off(IS, "types.builtins.initialized")},
          "3.12: interp->types.builtins[] (static_builtin_state); 3.13: "
          "interp->types.builtins.initialized[] (managed_static_type_state); else PH_NONE"),
    Field("static_builtin_state_size",
          {"3.8-3.11": NONE,
           "3.12": "sizeof(static_builtin_state)",
           "3.13+": "sizeof(managed_static_type_state)"},
          "3.12: sizeof(static_builtin_state); 3.13: sizeof(managed_static_type_state)"),
    Field("static_builtin_state_tp_dict",
          {"3.8-3.11": NONE,
           "3.12": _off("static_builtin_state", "tp_dict"),
           "3.13+": _off("managed_static_type_state", "tp_dict")},
          "3.12: offsetof(static_builtin_state, tp_dict); 3.13: of managed_static_type_state"),
    Field("static_builtin_max",
          {"3.8-3.11": NONE,
           "3.12": "lengthof(%s, types.builtins)" % IS,
           "3.13+": "lengthof(%s, types.builtins.initialized)" % IS},
          "3.12+: length of the array above (_Py_MAX_STATIC_BUILTIN_TYPES; 3.13: "
          "_Py_MAX_MANAGED_STATIC_BUILTIN_TYPES)"),

    Group("struct _gc_runtime_state"),
    Field("gc_generations", _all(GC, "generations"), "generations[0]"),
    Field("gc_generation_size", {"*": "sizeof(struct gc_generation)"},
          "sizeof(struct gc_generation)"),
    Field("gc_num_generations", {"*": "lengthof(%s, generations)" % GC}, "NUM_GENERATIONS"),
    Field("gc_permanent_generation", _all(GC, "permanent_generation")),
    Field("gc_collecting", _all(GC, "collecting"), "int collecting"),

    Group("PyThreadState (struct _ts)"),
    Field("tstate_next", _all(TS, "next")),
    Field("tstate_interp", _all(TS, "interp")),
    Field("tstate_frame", _only("3.8-3.10", TS, "frame"),
          "3.8-3.10: PyFrameObject *frame; else PH_NONE"),
    Field("tstate_cframe", _only("3.11-3.12", TS, "cframe"),
          "3.11/3.12: _PyCFrame *cframe; else PH_NONE (3.10's CFrame *cframe has no "
          "current_frame, so PH_NONE there)"),
    Field("cframe_current_frame", _only("3.11-3.12", "_PyCFrame", "current_frame"),
          "3.11/3.12: offsetof(_PyCFrame, current_frame)"),
    Field("tstate_current_frame", _only("3.13+", TS, "current_frame"),
          "3.13: _PyInterpreterFrame *current_frame; else PH_NONE"),
    Field("tstate_curexc_type", _only("3.8-3.11", TS, "curexc_type"), "3.8-3.11; PH_NONE after"),
    Field("tstate_curexc_value", _only("3.8-3.11", TS, "curexc_value"), "3.8-3.11"),
    Field("tstate_curexc_traceback", _only("3.8-3.11", TS, "curexc_traceback"), "3.8-3.11"),
    Field("tstate_current_exception", _only("3.12+", TS, "current_exception"), "3.12+"),
    Field("tstate_exc_state", _all(TS, "exc_state"), "embedded _PyErr_StackItem exc_state"),
    Field("tstate_exc_info", _all(TS, "exc_info"), "_PyErr_StackItem *exc_info"),
    Field("tstate_dict", _all(TS, "dict")),
    Field("tstate_async_exc", _all(TS, "async_exc")),
    Field("tstate_thread_id", _all(TS, "thread_id")),
    Field("tstate_native_thread_id", _only("3.11+", TS, "native_thread_id"),
          "3.11+; PH_NONE on 3.8-3.10 (no such member)"),
    Field("tstate_context", _all(TS, "context")),
    Field("tstate_async_gen_firstiter", _all(TS, "async_gen_firstiter")),
    Field("tstate_async_gen_finalizer", _all(TS, "async_gen_finalizer")),

    Group("_PyErr_StackItem"),
    Field("err_exc_type", _only("3.8-3.10", "_PyErr_StackItem", "exc_type"),
          "3.8-3.10; PH_NONE after"),
    Field("err_exc_value", _all("_PyErr_StackItem", "exc_value")),
    Field("err_exc_traceback", _only("3.8-3.10", "_PyErr_StackItem", "exc_traceback"), "3.8-3.10"),
    Field("err_previous_item", _all("_PyErr_StackItem", "previous_item")),

    Group("PyFrameObject (struct _frame)"),
    Field("frame_back", _all(FR, "f_back"), "3.8-3.10: f_back; 3.11+: f_back (PyFrameObject *)"),
    Field("frame_code", _only("3.8-3.10", FR, "f_code"), "3.8-3.10: f_code; else PH_NONE"),
    Field("frame_builtins", _only("3.8-3.10", FR, "f_builtins"), "3.8-3.10"),
    Field("frame_globals", _only("3.8-3.10", FR, "f_globals"), "3.8-3.10"),
    Field("frame_locals", _only("3.8-3.10", FR, "f_locals"), "3.8-3.10"),
    Field("frame_valuestack", _only("3.8-3.10", FR, "f_valuestack"), "3.8-3.10"),
    Field("frame_stacktop", _only("3.8-3.9", FR, "f_stacktop"),
          "3.8/3.9: PyObject **f_stacktop; else PH_NONE"),
    Field("frame_stackdepth", _only("3.10", FR, "f_stackdepth"),
          "3.10: int f_stackdepth; else PH_NONE"),
    Field("frame_trace", _all(FR, "f_trace"), "f_trace, all versions"),
    Field("frame_gen", _only("3.8-3.10", FR, "f_gen"), "3.8-3.10: f_gen"),
    Field("frame_lineno", _all(FR, "f_lineno"), "f_lineno, all versions"),
    Field("frame_lasti", _only("3.8-3.10", FR, "f_lasti"), "3.8-3.10: f_lasti"),
    Field("frame_localsplus", _only("3.8-3.10", FR, "f_localsplus"), "3.8-3.10: f_localsplus"),
    Field("frame_frame", _only("3.11+", FR, "f_frame"),
          "3.11+: _PyInterpreterFrame *f_frame; else PH_NONE"),
    Field("frame_sizeof", {"*": "sizeof(%s)" % FR}, "sizeof(PyFrameObject)"),

    Group("_PyInterpreterFrame (3.11+; all PH_NONE before)"),
    Field("iframe_code",
          {"3.8-3.10": NONE,
           "3.11-3.12": _off(IF, "f_code"),
           "3.13+": _off(IF, "f_executable")},
          "f_code (3.11/3.12), f_executable (3.13)"),
    Field("iframe_previous", _only("3.11+", IF, "previous")),
    Field("iframe_funcobj",
          {"3.8-3.10": NONE,
           "3.11": _off(IF, "f_func"),
           "3.12+": _off(IF, "f_funcobj")},
          "f_func (3.11), f_funcobj (3.12+)"),
    Field("iframe_globals", _only("3.11+", IF, "f_globals")),
    Field("iframe_builtins", _only("3.11+", IF, "f_builtins")),
    Field("iframe_locals", _only("3.11+", IF, "f_locals")),
    Field("iframe_frame_obj", _only("3.11+", IF, "frame_obj")),
    Field("iframe_instr",
          {"3.8-3.10": NONE,
           "3.11-3.12": _off(IF, "prev_instr"),
           "3.13+": _off(IF, "instr_ptr")},
          "prev_instr (3.11/3.12), instr_ptr (3.13)"),
    Field("iframe_stacktop", _only("3.11-3.13", IF, "stacktop"), "int stacktop"),
    Field("iframe_owner", _only("3.11+", IF, "owner"), "char owner"),
    Field("iframe_localsplus", _only("3.11+", IF, "localsplus")),

    Group("PyCodeObject"),
    Field("code_argcount", _all(CO, "co_argcount")),
    Field("code_nlocals", _all(CO, "co_nlocals"), "co_nlocals"),
    Field("code_nlocalsplus", _only("3.11+", CO, "co_nlocalsplus"), "3.11+: co_nlocalsplus"),
    Field("code_ncellvars", _only("3.11+", CO, "co_ncellvars"), "3.11+"),
    Field("code_nfreevars", _only("3.11+", CO, "co_nfreevars"), "3.11+"),
    Field("code_framesize", _only("3.12+", CO, "co_framesize"),
          "3.12+: co_framesize; PH_NONE on 3.11 (no such member there: 3.11 computes "
          "co_nlocalsplus + co_stacksize + FRAME_SPECIALS_SIZE)"),
    Field("code_stacksize", _all(CO, "co_stacksize")),
    Field("code_flags", _all(CO, "co_flags")),
    Field("code_firstlineno", _all(CO, "co_firstlineno")),
    Field("code_code", _only("3.8-3.10", CO, "co_code"),
          "3.8-3.10: PyObject *co_code; else PH_NONE"),
    Field("code_code_adaptive", _only("3.11+", CO, "co_code_adaptive"),
          "3.11+: co_code_adaptive (inline array)"),
    Field("code_consts", _all(CO, "co_consts")),
    Field("code_names", _all(CO, "co_names")),
    Field("code_varnames", _only("3.8-3.10", CO, "co_varnames"), "3.8-3.10"),
    Field("code_freevars", _only("3.8-3.10", CO, "co_freevars"), "3.8-3.10"),
    Field("code_cellvars", _only("3.8-3.10", CO, "co_cellvars"), "3.8-3.10"),
    Field("code_localsplusnames", _only("3.11+", CO, "co_localsplusnames"), "3.11+"),
    Field("code_localspluskinds", _only("3.11+", CO, "co_localspluskinds"), "3.11+"),
    Field("code_filename", _all(CO, "co_filename")),
    Field("code_name", _all(CO, "co_name")),
    Field("code_qualname", _only("3.11+", CO, "co_qualname"), "3.11+"),
    Field("code_lnotab", _only("3.8-3.9", CO, "co_lnotab"), "3.8/3.9: co_lnotab"),
    Field("code_linetable", _only("3.10+", CO, "co_linetable"), "3.10+: co_linetable"),
    Field("code_exceptiontable", _only("3.11+", CO, "co_exceptiontable"), "3.11+"),
    Field("code_weakreflist", _all(CO, "co_weakreflist")),
    Field("code_extra", _all(CO, "co_extra"), "co_extra (void *)"),
    Field("code_cell2arg", _only("3.8-3.10", CO, "co_cell2arg"),
          "3.8-3.10: Py_ssize_t *co_cell2arg"),
    Field("code_zombieframe", _only("3.8-3.10", CO, "co_zombieframe"),
          "3.8-3.10: void *co_zombieframe"),
    Field("code_cached",
          {"3.8-3.10": NONE,
           "3.11": _off(CO, "_co_code"),
           "3.12+": _off(CO, "_co_cached")},
          "3.12+: _PyCoCached *_co_cached; 3.11: PyObject *_co_code (cached co_code bytes or "
          "NULL); PH_NONE before"),
    Field("code_sizeof", {"*": "sizeof(%s)" % CO},
          "sizeof(PyCodeObject) (3.11+: offset of co_code_adaptive's end is not this)"),

    Group("PyTypeObject / PyHeapTypeObject"),
    Field("tp_name", _all(TP, "tp_name")),
    Field("tp_basicsize", _all(TP, "tp_basicsize")),
    Field("tp_itemsize", _all(TP, "tp_itemsize")),
    Field("tp_flags", _all(TP, "tp_flags")),
    Field("tp_weaklistoffset", _all(TP, "tp_weaklistoffset")),
    Field("tp_base", _all(TP, "tp_base")),
    Field("tp_dict", _all(TP, "tp_dict")),
    Field("tp_dictoffset", _all(TP, "tp_dictoffset")),
    Field("tp_bases", _all(TP, "tp_bases")),
    Field("tp_mro", _all(TP, "tp_mro")),
    Field("tp_subclasses", _all(TP, "tp_subclasses")),
    Field("tp_free", _all(TP, "tp_free"),
          "used to recognise GC vs non-GC allocation is not needed; kept for DWARF check"),
    Field("type_sizeof", {"*": "sizeof(%s)" % TP}, "sizeof(PyTypeObject)"),
    Field("heaptype_sizeof", {"*": "sizeof(%s)" % HT}, "sizeof(PyHeapTypeObject)"),
    Field("ht_name", _all(HT, "ht_name")),
    Field("ht_slots", _all(HT, "ht_slots")),
    Field("ht_qualname", _all(HT, "ht_qualname")),
    Field("ht_cached_keys", _all(HT, "ht_cached_keys")),
    Field("ht_module", _only("3.9+", HT, "ht_module"), "3.9+"),

    Group("PyDictObject, PyDictKeysObject, PyDictValues"),
    Field("dict_ma_used", _all("PyDictObject", "ma_used")),
    Field("dict_ma_keys", _all("PyDictObject", "ma_keys")),
    Field("dict_ma_values", _all("PyDictObject", "ma_values")),
    Field("dict_sizeof", {"*": "sizeof(PyDictObject)"}, "sizeof(PyDictObject)"),
    Field("dk_refcnt", _all("PyDictKeysObject", "dk_refcnt")),
    Field("dk_size", _only("3.8-3.10", "PyDictKeysObject", "dk_size"),
          "3.8-3.10: Py_ssize_t dk_size; else PH_NONE"),
    Field("dk_log2_size", _only("3.11+", "PyDictKeysObject", "dk_log2_size"), "3.11+: uint8_t"),
    Field("dk_log2_index_bytes", _only("3.11+", "PyDictKeysObject", "dk_log2_index_bytes"),
          "3.11+: uint8_t"),
    Field("dk_kind", _only("3.11+", "PyDictKeysObject", "dk_kind"), "3.11+: uint8_t"),
    Field("dk_usable", _all("PyDictKeysObject", "dk_usable")),
    Field("dk_nentries", _all("PyDictKeysObject", "dk_nentries")),
    Field("dk_indices", _all("PyDictKeysObject", "dk_indices"),
          "offset of dk_indices (header size)"),
    Field("dictvalues_values",
          {"3.8-3.10": Const(0, _WHY_VALUES_OLD),
           "3.11+": _off("PyDictValues", "values")},
          "offset of values[] in what ma_values points to: 0 on 3.8-3.10 (ma_values is PyObject "
          "** to the array itself), 0 in PyDictValues on 3.11/3.12, 8 on 3.13"),

    Group("PyUnicodeObject"),
    Field("str_length", _all("PyASCIIObject", "length")),
    Field("str_hash", _all("PyASCIIObject", "hash")),
    Field("str_state", _all("PyASCIIObject", "state")),
    Field("str_wstr", _only("3.8-3.11", "PyASCIIObject", "wstr"),
          "3.8-3.11: wchar_t *wstr; else PH_NONE"),
    Field("str_utf8_length", _all("PyCompactUnicodeObject", "utf8_length"),
          "PyCompactUnicodeObject.utf8_length"),
    Field("str_utf8", _all("PyCompactUnicodeObject", "utf8"), "PyCompactUnicodeObject.utf8"),
    Field("str_wstr_length", _only("3.8-3.11", "PyCompactUnicodeObject", "wstr_length"),
          "3.8-3.11: PyCompactUnicodeObject.wstr_length"),
    Field("str_data", _all("PyUnicodeObject", "data"), "PyUnicodeObject.data (legacy strings)"),
    Field("str_ascii_sizeof", {"*": "sizeof(PyASCIIObject)"}, "sizeof(PyASCIIObject)"),
    Field("str_compact_sizeof", {"*": "sizeof(PyCompactUnicodeObject)"},
          "sizeof(PyCompactUnicodeObject)"),
    Field("str_unicode_sizeof", {"*": "sizeof(PyUnicodeObject)"}, "sizeof(PyUnicodeObject)"),

    Group("PyLongObject"),
    Field("long_lv_tag", _only("3.12+", "PyLongObject", "long_value.lv_tag"),
          "3.12+: long_value.lv_tag; else PH_NONE (ob_size carries sign and size)"),
    Field("long_digits",
          {"3.8-3.11": _off("PyLongObject", "ob_digit"),
           "3.12+": _off("PyLongObject", "long_value.ob_digit")},
          "ob_digit (3.8-3.11), long_value.ob_digit (3.12+)"),

    Group("PyListObject, PyTupleObject"),
    Field("list_ob_item", _all("PyListObject", "ob_item")),
    Field("list_allocated", _all("PyListObject", "allocated")),
    Field("list_sizeof", {"*": "sizeof(PyListObject)"}),
    Field("tuple_ob_item", _all("PyTupleObject", "ob_item")),

    Group("PySetObject"),
    Field("set_fill", _all("PySetObject", "fill")),
    Field("set_used", _all("PySetObject", "used")),
    Field("set_mask", _all("PySetObject", "mask")),
    Field("set_table", _all("PySetObject", "table")),
    Field("set_smalltable", _all("PySetObject", "smalltable")),
    Field("set_sizeof", {"*": "sizeof(PySetObject)"}),
    Field("setentry_sizeof", {"*": "sizeof(setentry)"}),

    Group("PyBytesObject, PyByteArrayObject"),
    Field("bytes_sval", _all("PyBytesObject", "ob_sval")),
    Field("bytearray_alloc", _all("PyByteArrayObject", "ob_alloc")),

    Group("PyModuleObject, PyCellObject, PyMethodObject"),
    Field("module_md_dict", _all("PyModuleObject", "md_dict")),
    Field("cell_ob_ref", _all("PyCellObject", "ob_ref")),
    Field("method_im_func", _all("PyMethodObject", "im_func")),
    Field("method_im_self", _all("PyMethodObject", "im_self")),

    Group("PyFunctionObject"),
    Field("func_code", _all("PyFunctionObject", "func_code")),
    Field("func_globals", _all("PyFunctionObject", "func_globals")),
    Field("func_builtins", _only("3.10+", "PyFunctionObject", "func_builtins"), "3.10+"),
    Field("func_name", _all("PyFunctionObject", "func_name")),
    Field("func_qualname", _all("PyFunctionObject", "func_qualname")),
    Field("func_defaults", _all("PyFunctionObject", "func_defaults")),
    Field("func_kwdefaults", _all("PyFunctionObject", "func_kwdefaults")),
    Field("func_closure", _all("PyFunctionObject", "func_closure")),
    Field("func_doc", _all("PyFunctionObject", "func_doc")),
    Field("func_dict", _all("PyFunctionObject", "func_dict")),
    Field("func_module", _all("PyFunctionObject", "func_module")),
    Field("func_annotations", _all("PyFunctionObject", "func_annotations")),
    Field("func_typeparams", _only("3.12+", "PyFunctionObject", "func_typeparams"), "3.12+"),
    Field("func_annotate", _only("3.14+", "PyFunctionObject", "func_annotate"), "3.14+"),
    Field("func_sizeof", {"*": "sizeof(PyFunctionObject)"}),

    Group("PyMemberDef (for __slots__): offset of 'offset' and 'type' (its size: "
          "memberdef_sizeof, at the end)"),
    Field("memberdef_type", _all("PyMemberDef", "type")),
    Field("memberdef_offset", _all("PyMemberDef", "offset")),
    Field("memberdescr_d_member", _all("PyMemberDescrObject", "d_member"),
          "PyMemberDescrObject.d_member"),

    Group("GC and pre-header"),
    Field("gc_head_size", {"*": "sizeof(PyGC_Head)"}, "sizeof(PyGC_Head)"),
    Field("preheader_size",
          {"3.8-3.10": Const(0, _WHY_PRE_NONE),
           "3.11": Const(16, _WHY_PRE_311),
           "3.12+": Const(16, _WHY_PRE_312)},
          "bytes before the GC head for managed dict/weakref: 16 on 3.11+, 0 before"),
    Field("managed_dict",
          {"3.8-3.10": NONE,
           "3.11": Const(-24, _WHY_DICT_311),
           "3.12": Const(-24, _WHY_DICT_312),
           "3.13+": Const(-24, _WHY_DICT_313)},
          "offset from the object of the managed dict slot (3.11: -24; 3.12: -24 tagged; 3.13: "
          "-24)"),
    Field("managed_values", {"3.11": Const(-32, _WHY_VALUES_311), "else": NONE},
          "3.11: -32 values pointer; else PH_NONE"),
    Field("managed_weakref", {"3.12+": Const(-32, _WHY_WEAKREF_312), "else": NONE},
          "3.12+: -32; else PH_NONE"),

    Group("Appended (keep the order above: other code relies on it)"),
    Field("memberdef_sizeof", {"*": "sizeof(PyMemberDef)"},
          "sizeof(PyMemberDef): stride of a type's tp_members[]"),
    Field("interp_interned",
          {"3.8-3.11": NONE,
           "3.12+": "offsetof(PyInterpreterState, cached_objects.interned_strings)"},
          "3.12+: interp->cached_objects.interned_strings; 3.8-3.11: a file static"),
    Field("gen_frame_state", {"3.8-3.10": NONE, "3.11+": "offsetof(PyGenObject, gi_frame_state)"},
          "3.11+: PyGenObject.gi_frame_state (int8; >= 1: completed or cleared)"),
    Field("interp_types_for_extensions",
          {"3.8-3.12": NONE,
           "3.13+": "offsetof(PyInterpreterState, types.for_extensions.initialized)"},
          "3.13: interp->types.for_extensions.initialized[]"),
    Field("static_extension_max",
          {"3.8-3.12": NONE,
           "3.13+": "lengthof(PyInterpreterState, types.for_extensions.initialized)"},
          "3.13: its length; indexes above static_builtin_max"),
    Field("odict_first", {"*": "offsetof(PyODictObject, od_first)"},
          "PyODictObject.od_first (NULL when empty)"),
    Field("odict_fast_nodes_size", {"*": "offsetof(PyODictObject, od_fast_nodes_size)"},
          "PyODictObject.od_fast_nodes_size"),
    Field("odictnode_sizeof", {"*": "sizeof(_ODictNode)"}, "sizeof(_ODictNode)"),
    Field("code_co_extra_ce_size", {"*": "offsetof(_PyCodeObjectExtra, ce_size)"},
          "_PyCodeObjectExtra.ce_size"),
    Field("code_co_extra_ce_extras", {"*": "offsetof(_PyCodeObjectExtra, ce_extras)"},
          "_PyCodeObjectExtra.ce_extras"),
    Field("weakref_object", _all("PyWeakReference", "wr_object"),
          "PyWeakReference.wr_object (borrowed: not a strong reference)"),
    Field("weakref_callback", _all("PyWeakReference", "wr_callback"),
          "PyWeakReference.wr_callback"),
    Field("weakref_next", _all("PyWeakReference", "wr_next"),
          "PyWeakReference.wr_next: the referent's list of weak references"),
    Field("memberdef_name", _all("PyMemberDef", "name"), "PyMemberDef.name (a C string)"),

    Group("pymalloc (Objects/obmalloc.c; 3.12+ Include/internal/pycore_obmalloc.h)"),
    Field("pool_ref_count", _all("struct pool_header", "ref.count"),
          "struct pool_header: ref.count (uint): blocks allocated"),
    Field("pool_freeblock", _all("struct pool_header", "freeblock"),
          "block *freeblock: the pool's free list"),
    Field("pool_arenaindex", _all("struct pool_header", "arenaindex"),
          "uint arenaindex: index in the arena_object array"),
    Field("pool_szidx", _all("struct pool_header", "szidx"), "uint szidx: size class"),
    Field("pool_nextoffset", _all("struct pool_header", "nextoffset"),
          "uint nextoffset: bytes to the first virgin block"),
    Field("pool_maxnextoffset", _all("struct pool_header", "maxnextoffset"),
          "uint maxnextoffset: POOL_SIZE - block size"),
    Field("pool_header_sizeof", {"*": "sizeof(struct pool_header)"}, "sizeof(struct pool_header)"),
    Field("arena_address", _all("struct arena_object", "address"),
          "struct arena_object: uintptr_t address (0: unused slot)"),
    Field("arena_pool_address", _all("struct arena_object", "pool_address"),
          "block *pool_address: the next pool never carved"),
    Field("arena_nfreepools", _all("struct arena_object", "nfreepools"),
          "uint nfreepools: empty and never-carved pools"),
    Field("arena_ntotalpools", _all("struct arena_object", "ntotalpools"), "uint ntotalpools"),
    Field("arena_nextarena", _all("struct arena_object", "nextarena"),
          "struct arena_object *nextarena"),
    Field("arena_object_sizeof", {"*": "sizeof(struct arena_object)"},
          "sizeof(struct arena_object)"),
    Field("interp_obmalloc", _only("3.12", IS, "obmalloc"),
          "3.12: the embedded struct _obmalloc_state; else PH_NONE"),
    Field("interp_obmalloc_ptr", _only("3.13+", IS, "obmalloc"),
          "3.13: struct _obmalloc_state *obmalloc; else PH_NONE"),
    Field("obmalloc_arenas", _only("3.12+", OM, "mgmt.arenas"),
          "3.12+: struct _obmalloc_state: mgmt.arenas (3.8-3.11: a file static)"),
    Field("obmalloc_maxarenas", _only("3.12+", OM, "mgmt.maxarenas"),
          "3.12+: mgmt.maxarenas (uint)"),
    Field("obmalloc_narenas", _only("3.12+", OM, "mgmt.narenas_currently_allocated"),
          "3.12+: mgmt.narenas_currently_allocated"),
    Field("obmalloc_raw_allocated_blocks", _only("3.12+", OM, "mgmt.raw_allocated_blocks"),
          "3.12+: mgmt.raw_allocated_blocks: object-domain blocks from malloc"),
    Field("obmalloc_map_mid_count", _only("3.12+", OM, "usage.arena_map_mid_count"),
          "3.12+: usage.arena_map_mid_count (int)"),
    Field("obmalloc_map_bot_count", _only("3.12+", OM, "usage.arena_map_bot_count"),
          "3.12+: usage.arena_map_bot_count (int)"),
    Field("arena_map_mid_sizeof", {"3.8-3.9": NONE, "3.10+": "sizeof(arena_map_mid_t)"},
          "3.10+: sizeof(arena_map_mid_t), a radix-tree node"),
    Field("arena_map_bot_sizeof", {"3.8-3.9": NONE, "3.10+": "sizeof(arena_map_bot_t)"},
          "3.10+: sizeof(arena_map_bot_t)"),
    Field("arena_size",
          {"3.8-3.9": Const(256 << 10, _WHY_ARENA_OLD),
           "3.10+": Const(1 << 20, _WHY_ARENA_NEW)},
          "ARENA_SIZE (not DWARF: a macro)"),
    Field("pool_size",
          {"3.8-3.9": Const(4 << 10, _WHY_POOL_OLD),
           "3.10+": Const(16 << 10, _WHY_POOL_NEW)},
          "POOL_SIZE (a macro)"),
    Field("pymalloc_alignment", {"*": Const(16, _WHY_ALIGNMENT)},
          "ALIGNMENT: the size-class step (a macro)"),
    Field("small_request_threshold", {"*": Const(512, _WHY_THRESHOLD)},
          "SMALL_REQUEST_THRESHOLD: larger requests go to malloc"),

    Group("Appended"),
    Field("gen_origin_or_finalizer",
          {"3.8-3.10": NONE,
           "3.11+": "offsetof(PyGenObject, gi_origin_or_finalizer)"},
          "3.11+: PyGenObject.gi_origin_or_finalizer (unset in a plain generator)"),

    Group("Appended for 3.14"),
    Field("iframe_stackpointer",
          {"3.8-3.13": NONE,
           "3.14+": "offsetof(_PyInterpreterFrame, stackpointer)"},
          "3.14+: _PyStackRef *stackpointer (replaces int stacktop)"),
    Field("frame_owner_entry",
          {"3.8-3.11": NONE,
           "3.12-3.13": Const(3, _WHY_CSTACK_312),
           "3.14+": Const(3, _WHY_CSTACK_314)},
          "3.12+: frames whose owner is >= this are entry frames that run no Python code: 3 "
          "(3.12/3.13 FRAME_OWNED_BY_CSTACK; 3.14 FRAME_OWNED_BY_INTERPRETER, and "
          "FRAME_OWNED_BY_CSTACK is 4)"),
    Field("stackref_tagged",
          {"3.8-3.13": Const(0, _WHY_STACKREF_OLD),
           "3.14+": Const(1, _WHY_STACKREF_314)},
          "3.14+: 1 when frame slots, f_executable and f_funcobj are _PyStackRef (low bits tags; "
          "1 NULL; low bits 3 a tagged int)"),
    Field("ob_refcnt_size",
          {"3.8-3.13": Const(8, _WHY_REFCNT_OLD),
           "3.14+": Const(4, _WHY_REFCNT_314)},
          "bytes of the reference count at offset 0: 8, 4 on 3.14+ (u32 ob_refcnt, then u16 "
          "ob_overflow and u16 ob_flags)"),
    Field("values_visited_with_dict",
          {"3.8-3.12": NONE,
           "3.13": Const(1, _WHY_VISIT_313),
           "3.14+": Const(0, _WHY_VISIT_314)},
          "3.13+: 1 when an instance with a __dict__ still refers to the inline values that dict "
          "shares (3.13.0), 0 when only the dict does (3.14: PyObject_VisitManagedDict, "
          "GH-130327)"),

    Group("Appended for free-threaded builds (Py_GIL_DISABLED); PH_NONE in default builds. "
          "mimalloc: Include/internal/mimalloc/mimalloc/types.h."),
    Field("free_threaded", {"ft": Const(1, _WHY_FT_YES), "*": Const(0, _WHY_FT_NO)},
          "1 on a free-threaded build (Py_GIL_DISABLED), else 0"),
    Field("ob_ref_local", _ft("offsetof(PyObject, ob_ref_local)"),
          "free-threaded: uint32 ob_ref_local (UINT32_MAX: immortal); else PH_NONE"),
    Field("ob_ref_shared", _ft("offsetof(PyObject, ob_ref_shared)"),
          "free-threaded: Py_ssize_t ob_ref_shared (count << 2 | flags)"),
    Field("ob_gc_bits", _ft("offsetof(PyObject, ob_gc_bits)"),
          "free-threaded: uint8 ob_gc_bits (bit 0 _PyGC_BITS_TRACKED)"),
    Field("str_kind_shift", {"ft": Const(8, _WHY_KIND_SHIFT_FT), "*": Const(2, _WHY_KIND_SHIFT)},
          "PyASCIIObject.state: bit of kind (2; 8 when interned is a byte); compact +3, ascii +4"),
    Field("code_tlbc", _ft("offsetof(PyCodeObject, co_tlbc)"),
          "free-threaded: PyCodeObject.co_tlbc (per-thread bytecode copies)"),
    Field("iframe_tlbc_index", _ft("offsetof(_PyInterpreterFrame, tlbc_index)"),
          "free-threaded: _PyInterpreterFrame.tlbc_index"),
    Field("code_unique_id", _ft("offsetof(PyCodeObject, _co_unique_id)"),
          "free-threaded: PyCodeObject._co_unique_id (its slot in each thread's refcounts, + 1)"),
    Field("heaptype_unique_id", _ft("offsetof(PyHeapTypeObject, unique_id)"),
          "free-threaded: PyHeapTypeObject.unique_id (its slot in each thread's refcounts, + 1)"),
    Field("tstate_refcounts_values",
          {"ft": "offsetof(_PyThreadStateImpl, refcounts.values)", "else": NONE},
          "free-threaded: _PyThreadStateImpl.refcounts.values (Py_ssize_t per unique id)"),
    Field("tstate_refcounts_size",
          {"ft": "offsetof(_PyThreadStateImpl, refcounts.size)", "else": NONE},
          "free-threaded: _PyThreadStateImpl.refcounts.size"),
    Field("tstate_mimalloc_heaps",
          {"ft": "offsetof(_PyThreadStateImpl, mimalloc.heaps)",
           "else": NONE},
          "free-threaded: _PyThreadStateImpl.mimalloc.heaps[] (MEM, OBJECT, GC, GC_PRE)"),
    Field("tstate_mimalloc_initialized",
          {"ft": "offsetof(_PyThreadStateImpl, mimalloc.initialized)",
           "else": NONE},
          "_PyThreadStateImpl.mimalloc.initialized (int)"),
    Field("mi_heap_sizeof", _ft("sizeof(mi_heap_t)")),
    Field("mi_heap_pages", _ft("offsetof(mi_heap_t, pages)")),
    Field("mi_heap_npages", _ft("lengthof(mi_heap_t, pages)")),
    Field("mi_page_queue_sizeof", _ft("sizeof(mi_page_queue_t)")),
    Field("mi_heap_thread_delayed_free",
          {"ft": "offsetof(mi_heap_t, thread_delayed_free)",
           "else": NONE}),
    Field("mi_page_slice_count", _ft("offsetof(mi_page_t, slice_count)")),
    Field("mi_page_slice_offset", _ft("offsetof(mi_page_t, slice_offset)")),
    Field("mi_page_tag_byte", {"ft": Const(8, _WHY_MI_TAG), "else": NONE}),
    Field("mi_page_capacity", _ft("offsetof(mi_page_t, capacity)")),
    Field("mi_page_reserved", _ft("offsetof(mi_page_t, reserved)")),
    Field("mi_page_free", _ft("offsetof(mi_page_t, free)")),
    Field("mi_page_used", _ft("offsetof(mi_page_t, used)")),
    Field("mi_page_xblock_size", _ft("offsetof(mi_page_t, xblock_size)")),
    Field("mi_page_local_free", _ft("offsetof(mi_page_t, local_free)")),
    Field("mi_page_xthread_free", _ft("offsetof(mi_page_t, xthread_free)")),
    Field("mi_page_xheap", _ft("offsetof(mi_page_t, xheap)")),
    Field("mi_page_next", _ft("offsetof(mi_page_t, next)")),
    Field("mi_page_sizeof", _ft("sizeof(mi_page_t)")),
    Field("mi_segment_slices", _ft("offsetof(mi_segment_t, slices)")),
    Field("mi_segment_slice_entries",
          {"ft": "offsetof(mi_segment_t, slice_entries)",
           "else": NONE}),
    Field("mi_segment_abandoned_next",
          {"ft": "offsetof(mi_segment_t, abandoned_next)",
           "else": NONE}),
    Field("mi_segment_thread_id", _ft("offsetof(mi_segment_t, thread_id)")),
    Field("interp_mimalloc_abandoned",
          {"ft": "offsetof(PyInterpreterState, mimalloc.abandoned_pool)",
           "else": NONE}),
    Field("mi_pool_abandoned", _ft("offsetof(mi_abandoned_pool_t, abandoned)")),
    Field("mi_pool_abandoned_visited",
          {"ft": "offsetof(mi_abandoned_pool_t, abandoned_visited)",
           "else": NONE}),
    Field("mi_segment_shift", {"ft": Const(25, _WHY_MI_SEGMENT), "else": NONE}),
    Field("mi_slice_shift", {"ft": Const(16, _WHY_MI_SEGMENT), "else": NONE}),
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

FIELD_NAMES = [f.name for f in FIELDS if isinstance(f, Field)]
_SPECS = {f.name: f.specs for f in FIELDS if isinstance(f, Field)}


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
    specs = _SPECS[name]
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
