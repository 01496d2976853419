"""In-process census of "the heap", the oracle the integration tests compare
probe-heap against.

Importable by CPython 3.8 to 3.14 (keep the syntax 3.8-compatible). The
workload imports this module before it builds its heap, so everything this
module imports is part of the heap being measured; nothing is imported while
the census runs.

take_census(path) writes one JSON document to `path`:

    {"version": sys.version, "python": "3.11.7", "executable": ..., "pid": ...,
     "count": N, "size": S,                      # totals over the heap
     "types": {name: [count, size], ...},        # per type name, see type_name()
     "samples": {label: {"address", "type", "size"}},
     "workload": {...},                          # whatever the workload passed
     "census": {...}}                            # diagnostics, see below

What is counted ("the heap", DESIGN.md): every object reachable from the
roots, together with every object on the cyclic GC's lists (gc.get_objects(),
all generations), and everything reachable from those. Sizes are
sys.getsizeof(). The roots are sys.modules and its values, sys.__dict__,
builtins.__dict__, the frames of every thread (sys._current_frames() and
f_back) with their locals and value stacks, the interned strings (the
interned-strings dict itself is counted too, a dict with no owner; it is found
by scanning the interpreter's data for it, see _find_interned()), and on 3.12+
the static builtin types the interpreter keeps in interp->types.builtins
(see _static_builtin_types()).

Edges are gc.get_referents() plus the references CPython's tp_traverse leaves
out because they cannot form cycles:
  * the type of every object (ob_type);
  * the keys of dicts (str-keyed and split dicts visit values only);
  * a heap type's __name__, __qualname__ and ht_slots tuple;
  * a static type's tp_dict, tp_mro, tp_bases, tp_base (static types are not
    GC objects, so gc.get_referents() returns nothing for them);
  * code objects (not GC objects in any version): co_consts, co_names,
    co_filename, co_name, co_code/co_varnames/co_freevars/co_cellvars and
    co_lnotab (3.8, 3.9) or co_linetable (3.10+); co_qualname and
    co_exceptiontable (3.11+); on 3.11+ co_localsplusnames,
    co_localspluskinds and the cached co_code / co_varnames / co_cellvars /
    co_freevars are read through ctypes at offsets checked at run time,
    because the Python attributes would CREATE (and on 3.11+ cache) objects;
  * the names of method/getset/member/wrapper descriptors (d_name);
  * io.BytesIO's bytes buffer (offset 16) and io.StringIO's pending text
    (3.8-3.11: the _PyAccu lists at 56 and 64; 3.12+: the _PyUnicodeWriter's
    str at 56), which their tp_traverse leaves out (a BytesIO's size is then
    measured while the census holds its buffer: sys.getsizeof takes it for
    shared and leaves it out; services.py measures it before the census);
  * range start/stop/step; re.Pattern groupindex/indexgroup/pattern and
    _struct.Struct s_format on 3.8/3.9 where those types are not GC objects;
  * 3.13: the dict of an instance whose inline values are still valid
    (o.__dict__ was read, no attribute added since): subtype_traverse visits
    the values and not the dict, which stays untracked when it holds no
    containers; read from the managed-dict pointer at obj-24;
  * 3.11+ frames still running in a thread: frame_traverse() does not visit
    the locals of a frame the thread owns, so the census reads the
    _PyInterpreterFrame's localsplus (locals, and the value stack when
    stacktop is valid), f_locals, the function, globals and builtins through
    ctypes, checking the layout against the frame object first.

Not counted: the census's own objects (this module's frames, the list from
gc.get_objects(), its work structures). Not reachable from here at all: attribute names held
only by a heap type's ht_cached_keys, the length field of range objects,
objects held only by C static variables that are neither GC-tracked nor
referenced from another counted object.

Type names (type_name()): for a static type, the C tp_name (read through
ctypes, because type.__module__ would create and intern a string); for a heap
type, module + "." + qualname from its own __module__ and __qualname__. In
both, a leading "builtins." is left off. So "dict", "str",
"collections.OrderedDict", "__main__.Node".

Behaviour that matters (and that this module is careful about):
  * frame.f_locals materialises a locals dict on a function frame (3.8-3.12):
    never touched; gc.get_referents(frame) is used instead.
  * 3.11+: any Python access to a frame (sys._current_frames(), f_back,
    sys._getframe()) materialises a frame object, which lives as long as the
    frame runs: the census's own frames die with it; the frames of the other
    threads and of the workload's main module survive and are counted.
  * 3.11+: code.co_code creates and caches a bytes object (3.11 _co_code,
    3.12+ _co_cached); 3.12+: co_varnames/co_cellvars/co_freevars cache a
    tuple too; 3.10+: co_lnotab builds new bytes. Never touched.
  * type.__module__ of a static type with a dotted tp_name builds a string and
    interns it (immortal on 3.12): never touched.
  * The census writes its file with os.open/os.write and bytes: text-mode
    open() would import modules (_bootlocale on 3.8-3.9) and create io objects.

Diagnostics in "census": seconds, gc_objects (len(gc.get_objects())),
from_roots [count, size] (found from the roots alone), gc_only [count, size]
(found only through the GC lists: cyclic garbage and objects held from C),
interned_strings (length of the interned dict), interned_only (strings found
only through it), interned_dict [count, size] (counted in the totals),
thread_frames, ctypes (bool), layout_checks, notes; with CENSUS_DIAG=1 in the environment also
only_via_type: the types that no counted object references except through
ob_type (a second pass over the heap), and gc_only_types: the type names of
the gc_only objects. With CENSUS_DUMP=PATH, one line per counted object goes
to PATH: hex address, size, hex address of the object it was found from
(0 for roots, or unless CENSUS_DIAG=paths, which traces the closure one object
at a time), type name: a debugging aid, written after the sizes are measured.
"""

import _io
import gc
import sys
import os
import json
import time
import bisect
import builtins
import itertools

try:
    import ctypes
except Exception:  # pragma: no cover - every target has ctypes
    ctypes = None

V = sys.version_info[:2]
# A free-threaded build (Py_GIL_DISABLED, 3.13t+): the object header is 32
# bytes (ob_tid, ob_flags, ob_mutex, ob_gc_bits, u32 ob_ref_local, ssize
# ob_ref_shared, ob_type at 24) instead of 16, so every field of an object
# read below is _H bytes further; the managed dict sits at -8 (no GC header).
FT = bool(getattr(sys, '_is_gil_enabled', None)) and bool(
    __import__('sysconfig').get_config_var('Py_GIL_DISABLED'))
_H = 16 if FT else 0
READY = 1 << 12
HEAPTYPE = 1 << 9
MANAGED_DICT = 1 << 4       # 3.11+
STATIC_BUILTIN = 1 << 1     # 3.12+ _Py_TPFLAGS_STATIC_BUILTIN

_TD = type.__dict__
_t_flags = _TD['__flags__'].__get__
_t_name = _TD['__name__'].__get__
_t_qualname = _TD['__qualname__'].__get__
_t_module = _TD['__module__'].__get__
_t_mro = _TD['__mro__'].__get__
_t_bases = _TD['__bases__'].__get__
_t_base = _TD['__base__'].__get__
_t_dict = _TD['__dict__'].__get__
_dict_keys = dict.keys

_FrameType = type(sys._getframe())
_CodeType = type((lambda: 0).__code__)
_DESCR_TYPES = tuple(set([
    type(str.join),                      # method_descriptor
    type(_TD['__name__']),               # getset_descriptor
    type(type.__dict__['__basicsize__']),  # member_descriptor
    type(object.__init__),               # wrapper_descriptor
    type(dict.__dict__['fromkeys']),     # classmethod_descriptor
]))

# Layouts used through ctypes (x86-64), all checked at run time before use.
# 3.11+ PyCodeObject: co_localsplusnames/kinds sit just before co_filename.
_CO_LOCALSPLUSNAMES = 96 + _H
_CO_FILENAME = 112 + _H
_CO_CONSTS = 24 + _H
_CO_NLOCALSPLUS = {(3, 11): 76}.get(V, 72) + _H
_CO_CODE_311 = 152                                  # 3.11 _co_code
_CO_CACHED = {(3, 12): 152, (3, 13): 160, (3, 14): 160 + _H}.get(V)    # _PyCoCached *
# 3.11+ PyFrameObject.f_frame and _PyInterpreterFrame fields.
_F_FRAME = 24 + _H
if V == (3, 11):
    _IF = {'code': 32, 'frame_obj': 40, 'owner': 69,
           'others': (0, 8, 16, 24)}              # func, globals, builtins, locals
elif V < (3, 14):
    _IF = {'code': 0, 'frame_obj': 48, 'owner': 70,
           'others': (16, 24, 32, 40)}            # funcobj, globals, builtins, locals
else:
    # 3.14: f_executable (0) and f_funcobj (16) are _PyStackRefs, as are
    # the slots; _PyStackRef *stackpointer (64) replaced int stacktop.
    # Free-threaded: uint16 tlbc_index at 72 moves owner to 78.
    _IF = {'code': 0, 'frame_obj': 48, 'owner': 78 if FT else 74,
           'others': (24, 32, 40), 'refs': (16,)}  # globals, builtins, locals; funcobj
_IF_STACKTOP = 64
_IF_LOCALSPLUS = 72 if V < (3, 14) else 80
_STACKREFS = V >= (3, 14)
# 3.13 PyManagedDictPointer, before the GC header.
_MANAGED_DICT = 8 if FT else 24
# 3.8/3.9 non-GC objects with hidden references.
_PAT_FIELDS = (32, 40, 48)    # groupindex, indexgroup, pattern
_STRUCT_FORMAT = 40           # _struct.Struct s_format (bytes)


def _census_codes():
    return set(f.__code__ for f in (take_census, _census, _thread_frames))


# --------------------------------------------------------------------------
# raw memory helpers (ctypes)

def _ptr(addr):
    return ctypes.c_void_p.from_address(addr).value


def _obj_at_slot(slot):
    """The object whose address is stored at `slot`, or None if NULL."""
    if not ctypes.c_void_p.from_address(slot).value:
        return None
    return ctypes.py_object.from_address(slot).value


def _ref_at_slot(slot):
    """The object a frame slot refers to, or None: a PyObject * before 3.14,
    a _PyStackRef from 3.14 (Include/internal/pycore_stackref.h, default
    build: 1 is NULL, low bits 3 a tagged int, else the pointer with bit 0
    as a tag)."""
    if not _STACKREFS:
        return _obj_at_slot(slot)
    bits = ctypes.c_void_p.from_address(slot).value or 0
    if bits in (0, 1) or bits & 3 == 3:
        return None
    addr = bits & ~1
    # A slot the frame no longer uses may still name a dead object (its block
    # freed, or on a freelist that keeps the next free object's address in
    # its first word): on 3.14 a live object's first word is a u32 refcount
    # (not 0) with only ob_flags' 1 and 4 above it (refcount.h).  Touching a
    # dead one (gc.get_referents) would crash the target.
    if FT:
        # free-threaded: a dead object's counts are 0 (ob_ref_local at 12,
        # ob_ref_shared >> 2 at 16); its first word, ob_tid, is the free
        # list's link once freed
        local = ctypes.c_uint32.from_address(addr + 12).value
        shared = ctypes.c_ssize_t.from_address(addr + 16).value
        if not local and shared >> 2 <= 0:
            return None
        return _obj_at(addr)
    word = ctypes.c_uint64.from_address(addr).value
    if not word & 0xffffffff or (word >> 32) & ~(5 << 16):
        return None
    return _obj_at(addr)


def _obj_at(addr):
    return ctypes.cast(addr, ctypes.py_object).value


def _cint(addr):
    return ctypes.c_int.from_address(addr).value


# --------------------------------------------------------------------------
# type names

def _static_tp_name(t):
    if ctypes is not None:
        raw = ctypes.c_char_p.from_address(id(t) + 24 + _H).value
        if raw is not None:
            return raw.decode('utf-8', 'replace')
    # Fallback (allocates and, on 3.12, immortally interns the module name).
    mod = _t_module(t)
    q = _t_qualname(t)
    return q if mod == 'builtins' else '%s.%s' % (mod, q)


def type_name(t):
    """tp_name for static types, module.qualname for heap types, without a
    leading "builtins."."""
    if _t_flags(t) & HEAPTYPE:
        q = _t_qualname(t)
        try:
            mod = _t_module(t)
        except AttributeError:
            mod = None
        if isinstance(mod, str) and mod != 'builtins':
            name = '%s.%s' % (mod, q)
        else:
            name = q
    else:
        name = _static_tp_name(t)
    if name.startswith('builtins.'):
        name = name[len('builtins.'):]
    return name


# --------------------------------------------------------------------------
# roots

def _thread_frames(census_codes):
    """Every thread's frames, innermost first, without the census's own."""
    out = []
    cf = sys._current_frames()
    try:
        for tid in list(cf):
            f = cf[tid]
            while f is not None and f.f_code in census_codes:
                f = f.f_back
            while f is not None:
                out.append(f)
                f = f.f_back
    finally:
        del cf
        f = None
    return out


def _static_builtin_types():
    """3.12+: the types the interpreter keeps in interp->types.builtins
    (flag _Py_TPFLAGS_STATIC_BUILTIN), found through type.__subclasses__()
    from object. They are roots even when nothing else refers to them
    (managedbuffer, hamt_bitmap_node, moduledef, ...)."""
    out = []
    seen = set()
    stack = [object]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        flags = _t_flags(t)
        if flags & STATIC_BUILTIN and not flags & HEAPTYPE:
            out.append(t)
        stack.extend(type.__subclasses__(t))
    return out


def _maps():
    out = []
    with open('/proc/self/maps', 'rb') as fh:
        for line in fh.read().decode('ascii', 'replace').splitlines():
            parts = line.split(None, 5)
            lo, hi = parts[0].split('-')
            path = parts[5] if len(parts) > 5 else ''
            out.append((int(lo, 16), int(hi, 16), parts[1], path))
    return out


def _find_interned():
    """The interned strings, found by scanning the interpreter's data
    segments for a pointer to a dict that maps str to the very same str.

    Candidates are checked through raw reads only (refcount, ma_used,
    ma_values, the keys table, the type of every key) before any of them is
    turned into an object: a word that merely looks like a pointer to a dict
    must never be incref'd. Returns (list of str, the dict) or (None, None)
    unless exactly one candidate passes."""
    if ctypes is None:
        return None, None
    maps = _maps()
    exe = os.path.realpath(sys.executable)
    lib = [m for m in maps if 'libpython' in os.path.basename(m[3])]
    if not lib:
        lib = [m for m in maps if m[3] and os.path.realpath(m[3]) == exe]
    regions = []
    for i, m in enumerate(maps):
        if m in lib and m[2].startswith('rw'):
            regions.append(m)
            # .bss continues in the anonymous mapping right after
            if i + 1 < len(maps) and not maps[i + 1][3] and maps[i + 1][0] == m[1] \
                    and maps[i + 1][2].startswith('rw'):
                regions.append(maps[i + 1])
    readable = sorted((m[0], m[1]) for m in maps
                      if m[2].startswith('r') and not m[3].startswith('[v'))
    starts = [r[0] for r in readable]

    def ok(addr, size):
        j = bisect.bisect_right(starts, addr) - 1
        return j >= 0 and addr + size <= readable[j][1]

    dict_type = id(dict)
    found = {}
    for lo, hi, _, _ in regions:
        words = memoryview(ctypes.string_at(lo, hi - lo)).cast('Q')
        for w in set(words):
            if w & 7 or w < 4096 or w in found or not ok(w, 48):
                continue
            if ctypes.c_void_p.from_address(w + 8 + _H).value != dict_type:
                continue
            keys = _interned_keys(w, ok)
            if keys is not None:
                found[w] = keys
    if len(found) != 1:
        return None, None
    addr, keys = list(found.items())[0]
    return [_obj_at(k) for k in keys], _obj_at(addr)


def _interned_keys(w, ok):
    """Raw check of a candidate dict at `w`: the addresses of its keys if it
    is a combined-table dict of at least 500 strings each mapped to itself."""
    if FT:   # the interned dict is immortal: ob_ref_local UINT32_MAX
        refcnt = ctypes.c_uint32.from_address(w + 12).value
    else:
        refcnt = ctypes.c_ssize_t.from_address(w).value
    used = ctypes.c_ssize_t.from_address(w + 16 + _H).value
    keys = _ptr(w + 32 + _H)
    if refcnt <= 0 or not 500 <= used <= 50000000 or _ptr(w + 40 + _H) or \
            not keys or keys & 7 or not ok(keys, 48):
        return None
    if V >= (3, 11):
        log2_index_bytes = ctypes.c_ubyte.from_address(keys + 9).value
        kind = ctypes.c_ubyte.from_address(keys + 10).value
        nentries = ctypes.c_ssize_t.from_address(keys + 24).value
        if kind != 1 or log2_index_bytes > 40:
            return None
        entries = keys + 32 + (1 << log2_index_bytes)
        esize, koff, voff = 16, 0, 1
    else:
        size = ctypes.c_ssize_t.from_address(keys + 8).value
        nentries = ctypes.c_ssize_t.from_address(keys + 32).value
        if size <= 0 or size & (size - 1) or size > 1 << 40:
            return None
        width = 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8
        entries = keys + 40 + size * width
        esize, koff, voff = 24, 1, 2
    if not used <= nentries <= 1 << 40 or not ok(entries, nentries * esize):
        return None
    q = memoryview(ctypes.string_at(entries, nentries * esize)).cast('Q')
    step = esize // 8
    ks = q[koff::step]
    vs = q[voff::step]
    out = []
    str_type = id(str)
    for k, v in zip(ks, vs):
        if not v:
            continue
        if k != v or k & 7 or not ok(k, 16) or \
                ctypes.c_void_p.from_address(k + 8 + _H).value != str_type:
            return None
        out.append(k)
    if len(out) != used:
        return None
    return out


# --------------------------------------------------------------------------
# edges gc.get_referents() does not give

class _Probe(object):
    __slots__ = ('a', 'b')


class _ManagedProbe(object):
    def __init__(self):
        self.a = 1
        self.b = 'b'


_MANAGED_PROBE = _ManagedProbe()
_MANAGED_PROBE.__dict__     # materialised: with inline values on 3.13


def _probe_code(x, y, *z):
    w = [x, y, z]
    return lambda: w


class _Layout(object):
    """Checks of the ctypes layouts on objects this module owns. Made once,
    at import: probing creates objects (a class, a cached re pattern) that
    would otherwise be left behind by the census as garbage."""

    def __init__(self):
        notes = self.notes = []
        self.code = False
        self.frames = False
        self.heaptype_slots = None
        self.pattern = False
        self.struct = False
        self.managed_dict = False
        if ctypes is None:
            notes.append('no ctypes: hidden fields not followed')
            return
        # heap type: ht_name, ht_slots = ht_name + 8, ht_qualname = ht_name + 16
        base = id(_Probe)
        name_id, qual_id = id(_t_name(_Probe)), id(_t_qualname(_Probe))
        for off in range(400, _TD['__basicsize__'].__get__(type) - 16, 8):
            if _ptr(base + off) == name_id and _ptr(base + off + 16) == qual_id:
                self.heaptype_slots = off + 8
                break
        if self.heaptype_slots is None:
            notes.append('heap type layout not recognised: ht_slots not followed')
        else:
            s = _obj_at_slot(base + self.heaptype_slots)
            if not (type(s) is tuple and sorted(s) == ['a', 'b']):
                self.heaptype_slots = None
                notes.append('ht_slots check failed')
        if V >= (3, 11):
            co = _probe_code.__code__
            a = id(co)
            if _ptr(a + _CO_FILENAME) == id(co.co_filename) and \
                    _ptr(a + _CO_CONSTS) == id(co.co_consts):
                names = _obj_at_slot(a + _CO_LOCALSPLUSNAMES)
                kinds = _obj_at_slot(a + _CO_LOCALSPLUSNAMES + 8)
                if type(names) is tuple and names[:3] == ('x', 'y', 'z') and \
                        type(kinds) is bytes and len(kinds) == len(names) == \
                        _cint(a + _CO_NLOCALSPLUS):
                    self.code = True
            if not self.code:
                notes.append('3.11+ code layout not recognised: localsplus names not followed')
            self.frames = self.code
            if V >= (3, 13):
                o = _MANAGED_PROBE
                if _t_flags(type(o)) & MANAGED_DICT and \
                        _ptr(id(o) - _MANAGED_DICT) == id(o.__dict__):
                    self.managed_dict = True
                else:
                    notes.append('3.13 managed dict pointer not recognised')
        elif V <= (3, 9):
            import re
            p = self.probe_pattern = re.compile('(?P<census_probe>x)')
            a = id(p)
            if _ptr(a + _PAT_FIELDS[2]) == id(p.pattern):
                gi = _obj_at_slot(a + _PAT_FIELDS[0])
                ig = _obj_at_slot(a + _PAT_FIELDS[1])
                if type(gi) is dict and type(ig) is tuple and ig[1] == 'census_probe':
                    self.pattern = True
            self.pattern_type = type(p)
            try:
                import _struct
                s = self.probe_struct = _struct.Struct('<hi')
                b = _obj_at_slot(id(s) + _STRUCT_FORMAT) \
                    if _struct.Struct.__basicsize__ >= _STRUCT_FORMAT + 8 else None
                if type(b) is bytes and b == b'<hi':
                    self.struct = True
                self.struct_type = _struct.Struct
            except Exception:
                pass


_LAYOUT = _Layout()


def _code_edges(objs, out, lay):
    ext = out.extend
    app = out.append
    if V <= (3, 9):
        for co in objs:
            ext((co.co_code, co.co_consts, co.co_names, co.co_varnames,
                 co.co_freevars, co.co_cellvars, co.co_filename, co.co_name,
                 co.co_lnotab))
    elif V == (3, 10):
        for co in objs:
            ext((co.co_code, co.co_consts, co.co_names, co.co_varnames,
                 co.co_freevars, co.co_cellvars, co.co_filename, co.co_name,
                 co.co_linetable))
    else:
        for co in objs:
            ext((co.co_consts, co.co_names, co.co_filename, co.co_name,
                 co.co_qualname, co.co_linetable, co.co_exceptiontable))
            if not lay.code:
                continue
            a = id(co)
            if _ptr(a + _CO_FILENAME) != id(co.co_filename):
                continue
            for slot in (a + _CO_LOCALSPLUSNAMES, a + _CO_LOCALSPLUSNAMES + 8):
                o = _obj_at_slot(slot)
                if o is not None:
                    app(o)
            if V == (3, 11):
                o = _obj_at_slot(a + _CO_CODE_311)
                if o is not None:
                    app(o)
            elif _CO_CACHED is not None:
                cached = _ptr(a + _CO_CACHED)
                if cached:
                    for i in range(4):
                        o = _obj_at_slot(cached + 8 * i)
                        if o is not None:
                            app(o)


def _type_edges(objs, out, lay):
    app = out.append
    for t in objs:
        if _t_flags(t) & HEAPTYPE:
            app(_t_name(t))
            app(_t_qualname(t))
            if lay.heaptype_slots is not None:
                o = _obj_at_slot(id(t) + lay.heaptype_slots)
                if o is not None:
                    app(o)
        elif _t_flags(t) & READY:
            # static types are not GC objects: nothing is traversed.  (One
            # never made ready, like 3.8's functools._lru_list_elem, has no
            # dict: reading it would crash.)
            proxy = _t_dict(t)
            out.extend(gc.get_referents(proxy))
            proxy = None
            app(_t_mro(t))
            app(_t_bases(t))
            app(_t_base(t))


def _frame_edges(frames, out, lay):
    """3.11+: locals and stack of frames owned by a running thread."""
    app = out.append
    n = 0
    for f in frames:
        a = id(f)
        iframe = _ptr(a + _F_FRAME)
        if not iframe or _ptr(iframe + _IF['frame_obj']) != a:
            continue
        if ctypes.c_ubyte.from_address(iframe + _IF['owner']).value != 0:
            continue            # not owned by a thread: traversal covers it
        code = f.f_code
        if (_ptr(iframe + _IF['code']) or 0) & ~(1 if _STACKREFS else 0) != id(code):
            continue
        nlp = _cint(id(code) + _CO_NLOCALSPLUS)
        if _STACKREFS:
            sp = _ptr(iframe + _IF_STACKTOP) or 0
            top = (sp - (iframe + _IF_LOCALSPLUS)) // 8 if sp else -1
        else:
            top = _cint(iframe + _IF_STACKTOP)
        if nlp <= top <= nlp + code.co_stacksize:
            count = top
        else:
            count = nlp         # running frame: stacktop not kept up to date
        for i in range(count):
            o = _ref_at_slot(iframe + _IF_LOCALSPLUS + 8 * i)
            if o is not None:
                app(o)
        for off in _IF['others']:
            o = _obj_at_slot(iframe + off)
            if o is not None:
                app(o)
        for off in _IF.get('refs', ()):
            o = _ref_at_slot(iframe + off)
            if o is not None:
                app(o)
        n += 1
    return n


def _extra_edges(objs, out, lay, handlers, live_frames, with_type=True):
    """Append to `out` the referents of `objs` that gc.get_referents()
    does not report."""
    tps = list(map(type, objs))
    tset = set(tps)
    if with_type:
        out.extend(tset)                         # ob_type
    want = {}
    for t in tset:
        h = handlers.get(t, 0)
        if h == 0:
            h = handlers[t] = _handler_for(t, lay)
        if h is not None:
            want[t] = h
    if not want:
        return
    groups = {}
    for o, t in zip(itertools.compress(objs, map(want.__contains__, tps)),
                    itertools.compress(tps, map(want.__contains__, tps))):
        g = groups.get(t)
        if g is None:
            g = groups[t] = []
        g.append(o)
    for t, g in groups.items():
        for h in want[t]:
            _HANDLERS[h](g, out, lay, live_frames)


def has_instance_dict(obj):
    """Whether an instance has a dict object, without creating one (before
    3.13, through gc.get_referents(): right for instances none of whose
    attribute values is a dict)."""
    if V >= (3, 13) and _LAYOUT.managed_dict and _t_flags(type(obj)) & MANAGED_DICT:
        return bool(_ptr(id(obj) - _MANAGED_DICT))
    return any(type(r) is dict for r in gc.get_referents(obj))


def _h_dict(g, out, lay, live_frames):
    for d in g:
        out.extend(_dict_keys(d))


def _h_descr(g, out, lay, live_frames):
    for d in g:
        out.append(d.__name__)


def _h_range(g, out, lay, live_frames):
    for r in g:
        out.extend((r.start, r.stop, r.step))


def _h_frame(g, out, lay, live_frames):
    _frame_edges([f for f in g if id(f) in live_frames], out, lay)


def _h_pattern(g, out, lay, live_frames):
    for p in g:
        if _ptr(id(p) + _PAT_FIELDS[2]) == id(p.pattern):
            for off in _PAT_FIELDS:
                o = _obj_at_slot(id(p) + off)
                if o is not None:
                    out.append(o)


def _h_struct(g, out, lay, live_frames):
    for s in g:
        o = _obj_at_slot(id(s) + _STRUCT_FORMAT)
        if type(o) is bytes:
            out.append(o)


def _h_managed_dict(g, out, lay, live_frames):
    """3.13: an instance whose dict was materialised while its inline values
    stay valid traverses the values and not the dict."""
    for o in g:
        d = _obj_at_slot(id(o) - _MANAGED_DICT)
        if d is not None:
            out.append(d)


def _h_bytesio(g, out, lay, live_frames):
    for b in g:
        o = _obj_at_slot(id(b) + _BYTESIO_BUF)
        if type(o) is bytes:
            out.append(o)


def _h_stringio(g, out, lay, live_frames):
    for s in g:
        for off in _STRINGIO_PENDING:
            slot = id(s) + off
            if V >= (3, 14):
                # PyUnicodeWriter *writer: its own _PyUnicodeWriter, buffer first
                slot = _ptr(slot)
                if not slot:
                    continue
            o = _obj_at_slot(slot)
            if o is not None:
                out.append(o)


_BYTESIO_BUF = 16 + _H
_STRINGIO_PENDING = (56 + _H,) if V >= (3, 12) else (56, 64)

_HANDLERS = {
    'dict': _h_dict,
    'type': lambda g, out, lay, lf: _type_edges(g, out, lay),
    'code': lambda g, out, lay, lf: _code_edges(g, out, lay),
    'descr': _h_descr,
    'range': _h_range,
    'frame': _h_frame,
    'pattern': _h_pattern,
    'struct': _h_struct,
    'managed_dict': _h_managed_dict,
    'bytesio': _h_bytesio,
    'stringio': _h_stringio,
}


def _handler_for(t, lay):
    """The names of the extra-edge handlers for instances of `t`."""
    out = []
    if issubclass(t, dict):
        out.append('dict')
    if issubclass(t, type):
        out.append('type')
    if t is _CodeType:
        out.append('code')
    if t in _DESCR_TYPES:
        out.append('descr')
    if t is range:
        out.append('range')
    if t is _FrameType and lay.frames:
        out.append('frame')
    if lay.pattern and t is getattr(lay, 'pattern_type', None):
        out.append('pattern')
    if lay.struct and t is getattr(lay, 'struct_type', None):
        out.append('struct')
    if lay.managed_dict and _t_flags(t) & MANAGED_DICT:
        out.append('managed_dict')
    if ctypes is not None and issubclass(t, _io.BytesIO):
        out.append('bytesio')
    if ctypes is not None and issubclass(t, _io.StringIO):
        out.append('stringio')
    return tuple(out) or None


def _only_via_type(order, lay, handlers, live_frames):
    """Diagnostic (CENSUS_DIAG=1): names of the counted types that no counted
    object references except through ob_type (costs a second pass)."""
    referenced = set()
    for i in range(0, len(order), 4096):
        chunk = order[i:i + 4096]
        refs = gc.get_referents(*chunk)
        _extra_edges(chunk, refs, lay, handlers, live_frames, with_type=False)
        referenced.update(map(id, refs))
        refs = chunk = None
    return sorted(type_name(t) for t in order
                  if isinstance(t, type) and id(t) not in referenced)


# --------------------------------------------------------------------------
# the census

class _State(object):
    """The census's work structures (made after gc.get_objects())."""

    def __init__(self, lay, frames, traced):
        self.lay = lay
        self.seen = set()
        self.order = []         # every counted object, in discovery order
        self.parents = {} if traced else None
        self.handlers = {}
        self.live_frames = set(map(id, frames)) if V >= (3, 11) else set()
        self.seen.update((id(self.seen), id(self.order), id(self.handlers),
                          id(self.live_frames)))
        if traced:
            self.seen.add(id(self.parents))

    def add(self, refs):
        """The objects of `refs` not seen before, now marked seen."""
        d = dict(zip(map(id, refs), refs))
        new = d.keys() - self.seen
        self.seen.update(new)
        out = list(map(d.__getitem__, new))
        d = None
        return out

    def expand(self, frontier):
        """Close over the referents of `frontier` (objects already seen),
        appending everything found to `order`."""
        while frontier:
            self.order.extend(frontier)
            if self.parents is not None:
                frontier = self.expand_traced(frontier)
                continue
            refs = []
            for i in range(0, len(frontier), 4096):
                refs.extend(gc.get_referents(*frontier[i:i + 4096]))
            _extra_edges(frontier, refs, self.lay, self.handlers, self.live_frames)
            frontier = self.add(refs)
            refs = None

    def expand_traced(self, frontier):
        """The same one object at a time, recording who found whom."""
        out = []
        parents = self.parents
        for o in frontier:
            refs = gc.get_referents(o)
            _extra_edges([o], refs, self.lay, self.handlers, self.live_frames)
            new = self.add(refs)
            for r in new:
                parents[id(r)] = id(o)
            out.extend(new)
        return out


def _census(samples, workload, diag=False):
    objs = gc.get_objects()
    t0 = time.perf_counter()
    lay = _LAYOUT
    notes = list(lay.notes)
    codes = _census_codes()
    frames = _thread_frames(codes)
    interned, interned_dict = _find_interned()
    if interned is None:
        notes.append('interned-strings dict not found')

    # No closures and no comprehension that uses a local in this function:
    # a cell is created when the frame starts, before gc.get_objects(), so
    # it is on the GC lists and whatever the census later put in it would be
    # counted (checked at import: _census.__code__.co_cellvars is empty).
    st = _State(lay, frames, diag == 'paths')
    # never count the census's own objects
    st.seen.update((id(objs), id(frames), id(notes), id(st)))
    order = st.order
    expand = st.expand
    add = st.add

    roots = [sys.modules, sys.__dict__, builtins.__dict__]
    roots.extend(sys.modules.values())
    roots.extend(frames)
    if V >= (3, 12):
        roots.extend(_static_builtin_types())
    expand(add(roots))
    roots = None
    n_roots = len(order)
    interned_only = 0
    if interned is not None:
        before = len(order)
        expand(add([interned_dict]))
        interned_only = len(order) - before - 1
    n_roots_interned = len(order)
    expand(add(objs))
    n_gc = len(order) - n_roots_interned

    # Names first, sizes last: on 3.8/3.9 a function called for the 1024th
    # time grows an opcache, which changes its code object's size; nothing
    # written in Python runs between measuring the sizes and returning.
    tps = list(map(type, order))
    names = {}
    for t in set(tps):
        names[t] = type_name(t)
    samp = {}
    for label, o in (samples or {}).items():
        samp[label] = {'address': '0x%x' % id(o), 'type': type_name(type(o)),
                       'size': 0}
    via_type_only = gc_only_types = None
    if diag:
        via_type_only = _only_via_type(order, lay, st.handlers, st.live_frames)
        gc_only_types = {}
        for o in order[n_roots_interned:]:
            name = names[type(o)]
            gc_only_types[name] = gc_only_types.get(name, 0) + 1

    getsizeof = sys.getsizeof
    try:
        sizes = list(map(getsizeof, order))
    except Exception:
        sizes = []
        for o in order:
            try:
                sizes.append(getsizeof(o))
            except Exception:
                sizes.append(0)
                notes.append('getsizeof failed for a ' + names[type(o)])
    for label, o in (samples or {}).items():
        samp[label]['size'] = getsizeof(o)
    per_type = {}
    for t, s in zip(tps, sizes):
        e = per_type.get(t)
        if e is None:
            per_type[t] = [1, s]
        else:
            e[0] += 1
            e[1] += s
    types = {}
    for t, e in per_type.items():
        name = names[t]
        f = types.get(name)
        if f is None:
            types[name] = e
        else:
            f[0] += e[0]
            f[1] += e[1]
    total_size = sum(sizes)
    dump = os.environ.get('CENSUS_DUMP')
    if dump and diag is not None:
        # debugging aid: one line per counted object: address, size, type
        fd = os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            parents = st.parents or {}
            lines = []
            for o, s, t in zip(order, sizes, tps):
                lines.append('%x %d %x %s\n' % (id(o), s, parents.get(id(o), 0), names[t]))
                if len(lines) >= 65536:
                    os.write(fd, ''.join(lines).encode('utf-8'))
                    lines = []
            os.write(fd, ''.join(lines).encode('utf-8'))
            lines = parents = None
        finally:
            os.close(fd)
    from_roots = [n_roots_interned, sum(sizes[:n_roots_interned])]
    gc_only = [n_gc, sum(sizes[n_roots_interned:])]
    tps = names = None

    seconds = time.perf_counter() - t0
    result = {
        'version': sys.version,
        'python': '%d.%d.%d' % sys.version_info[:3],
        'executable': sys.executable,
        'pid': os.getpid(),
        'count': len(order),
        'size': total_size,
        'types': types,
        'samples': samp,
        'workload': workload or {},
        'census': {
            'seconds': round(seconds, 3),
            'gc_objects': len(objs),
            'from_roots': from_roots,
            'gc_only': gc_only,
            'roots_only_count': n_roots,
            'interned_strings': len(interned) if interned is not None else None,
            'interned_only': interned_only,
            'interned_dict': [1, getsizeof(interned_dict)] if interned_dict is not None else None,
            'only_via_type': via_type_only,
            'gc_only_types': gc_only_types,
            'thread_frames': len(frames),
            'ctypes': ctypes is not None,
            'layout_checks': {'code': lay.code, 'frames': lay.frames,
                              'ht_slots': lay.heaptype_slots is not None,
                              'pattern': lay.pattern, 'struct': lay.struct,
                              'managed_dict': lay.managed_dict},
            'notes': notes,
        },
    }
    data = json.dumps(result).encode('ascii')
    # Everything made here dies when this frame does: no reference cycles.
    del objs[:]
    frames = order = sizes = per_type = interned = interned_dict = None
    st = expand = add = lay = result = None
    return data


def take_census(path, samples=None, workload=None):
    """Write the census of the heap to `path` (JSON). `samples` maps labels
    to objects whose address, type and size go in the output; `workload` is
    any JSON-able dict, copied into the output."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = _census(samples, workload, os.environ.get('CENSUS_DIAG'))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        data = None
    finally:
        if was_enabled:
            gc.enable()


# Cells are made when a frame starts, so before gc.get_objects(): the census's
# own frames must have none.
assert not _census.__code__.co_cellvars and not take_census.__code__.co_cellvars

# A dry run over the heap as it is at import: everything the census does for
# the first time and keeps (codec and string caches, ctypes function
# pointers) happens now, while the workload has not built its heap yet.
_census(None, None, None)
