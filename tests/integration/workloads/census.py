"""In-process census of "the heap", the oracle the integration tests compare
probe-heap against.

Importable by CPython 3.8 to 3.13 (keep the syntax 3.8-compatible). The
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
f_back) with their locals and value stacks, and the interned strings.

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
  * range start/stop/step; re.Pattern groupindex/indexgroup/pattern and
    _struct.Struct s_format on 3.8/3.9 where those types are not GC objects;
  * 3.11+ frames still running in a thread: frame_traverse() does not visit
    the locals of a frame the thread owns, so the census reads the
    _PyInterpreterFrame's localsplus (locals, and the value stack when
    stacktop is valid), f_locals, the function, globals and builtins through
    ctypes, checking the layout against the frame object first.

Not counted: the census's own objects (this module's frames, the list from
gc.get_objects(), its work structures), and the interned-strings dict itself
(its strings are counted; the dict is interpreter bookkeeping, reported in
census.interned_dict). Not reachable from here at all: attribute names held
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
interned_strings (size of the interned dict), interned_only (strings found
only through it), interned_dict [count, size], thread_frames, ctypes (bool),
layout_checks, notes; with CENSUS_DIAG=1 in the environment also
only_via_type: the types that no counted object references except through
ob_type (a second pass over the heap).
"""

import gc
import sys
import os
import json
import time
import bisect
import builtins
import itertools

try:
    import _thread
    _get_ident = _thread.get_ident
except Exception:  # pragma: no cover
    _get_ident = None

try:
    import ctypes
except Exception:  # pragma: no cover - every target has ctypes
    ctypes = None

V = sys.version_info[:2]
HEAPTYPE = 1 << 9

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
_CO_LOCALSPLUSNAMES = 96
_CO_FILENAME = 112
_CO_CONSTS = 24
_CO_NLOCALSPLUS = {(3, 11): 76}.get(V, 72)
_CO_CODE_311 = 152                                  # 3.11 _co_code
_CO_CACHED = {(3, 12): 152, (3, 13): 160}.get(V)    # _PyCoCached *
# 3.11+ PyFrameObject.f_frame and _PyInterpreterFrame fields.
_F_FRAME = 24
if V == (3, 11):
    _IF = {'code': 32, 'frame_obj': 40, 'owner': 69,
           'others': (0, 8, 16, 24)}              # func, globals, builtins, locals
else:
    _IF = {'code': 0, 'frame_obj': 48, 'owner': 70,
           'others': (16, 24, 32, 40)}            # funcobj, globals, builtins, locals
_IF_STACKTOP = 64
_IF_LOCALSPLUS = 72
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


def _obj_at(addr):
    return ctypes.cast(addr, ctypes.py_object).value


def _cint(addr):
    return ctypes.c_int.from_address(addr).value


# --------------------------------------------------------------------------
# type names

def _static_tp_name(t):
    if ctypes is not None:
        raw = ctypes.c_char_p.from_address(id(t) + 24).value
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
    """The interned-strings dict, found by scanning the interpreter's data
    segments for a pointer to a large dict mapping str to the same str.
    Returns None if it cannot be found unambiguously."""
    if ctypes is None:
        return None
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
    dict_type = id(dict)
    found = {}
    for lo, hi, _, _ in regions:
        words = memoryview(ctypes.string_at(lo, hi - lo)).cast('Q')
        for w in set(words):
            if w & 7 or w < 4096:
                continue
            j = bisect.bisect_right(starts, w) - 1
            if j < 0 or w + 16 > readable[j][1]:
                continue
            if ctypes.c_void_p.from_address(w + 8).value != dict_type:
                continue
            d = _obj_at(w)
            if len(d) < 500:
                continue
            ok = True
            for k, v in d.items():
                if k is not v or type(k) is not str:
                    ok = False
                    break
            if ok:
                found[id(d)] = d
            d = None
    if len(found) != 1:
        return None
    return list(found.values())[0]


# --------------------------------------------------------------------------
# edges gc.get_referents() does not give

class _Probe(object):
    __slots__ = ('a', 'b')


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
        else:
            # static types are not GC objects: nothing is traversed
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
        if _ptr(iframe + _IF['code']) != id(code):
            continue
        nlp = _cint(id(code) + _CO_NLOCALSPLUS)
        top = _cint(iframe + _IF_STACKTOP)
        if nlp <= top <= nlp + code.co_stacksize:
            count = top
        else:
            count = nlp         # running frame: stacktop not kept up to date
        for i in range(count):
            o = _obj_at_slot(iframe + _IF_LOCALSPLUS + 8 * i)
            if o is not None:
                app(o)
        for off in _IF['others']:
            o = _obj_at_slot(iframe + off)
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
        h = want[t]
        if h == 'dict':
            for d in g:
                out.extend(_dict_keys(d))
        elif h == 'type':
            _type_edges(g, out, lay)
        elif h == 'code':
            _code_edges(g, out, lay)
        elif h == 'descr':
            for d in g:
                out.append(d.__name__)
        elif h == 'range':
            for r in g:
                out.extend((r.start, r.stop, r.step))
        elif h == 'frame':
            out_frames = [f for f in g if id(f) in live_frames]
            _frame_edges(out_frames, out, lay)
            out_frames = None
        elif h == 'pattern':
            for p in g:
                if _ptr(id(p) + _PAT_FIELDS[2]) == id(p.pattern):
                    for off in _PAT_FIELDS:
                        o = _obj_at_slot(id(p) + off)
                        if o is not None:
                            out.append(o)
        elif h == 'struct':
            for s in g:
                o = _obj_at_slot(id(s) + _STRUCT_FORMAT)
                if type(o) is bytes:
                    out.append(o)


def _handler_for(t, lay):
    if issubclass(t, dict):
        return 'dict'
    if issubclass(t, type):
        return 'type'
    if t is _CodeType:
        return 'code'
    if t in _DESCR_TYPES:
        return 'descr'
    if t is range:
        return 'range'
    if t is _FrameType and lay.frames:
        return 'frame'
    if lay.pattern and t is getattr(lay, 'pattern_type', None):
        return 'pattern'
    if lay.struct and t is getattr(lay, 'struct_type', None):
        return 'struct'
    return None


def _only_via_type(order, lay, handlers, live_frames):
    """Diagnostic (CENSUS_DIAG=1): names of the counted objects that no
    counted object references except through ob_type (costs a second pass)."""
    referenced = set()
    for i in range(0, len(order), 4096):
        chunk = order[i:i + 4096]
        refs = gc.get_referents(*chunk)
        _extra_edges(chunk, refs, lay, handlers, live_frames, with_type=False)
        referenced.update(map(id, refs))
        refs = chunk = None
    out = sorted(type_name(t) if isinstance(t, type) else type_name(type(t))
                 for t in order if id(t) not in referenced and isinstance(t, type))
    return out


# --------------------------------------------------------------------------
# the census

def _census(samples, workload):
    objs = gc.get_objects()
    t0 = time.perf_counter()
    lay = _LAYOUT
    notes = list(lay.notes)
    codes = _census_codes()
    frames = _thread_frames(codes)
    interned = _find_interned()
    if interned is None:
        notes.append('interned-strings dict not found')

    seen = set()
    order = []          # every counted object, in discovery order
    handlers = {}
    live_frames = set(map(id, frames)) if V >= (3, 11) else set()

    def expand(frontier):
        """Close over the referents of `frontier` (objects already in
        `seen`), appending everything found to `order`."""
        while frontier:
            order.extend(frontier)
            refs = []
            for i in range(0, len(frontier), 4096):
                refs.extend(gc.get_referents(*frontier[i:i + 4096]))
            _extra_edges(frontier, refs, lay, handlers, live_frames)
            frontier = add(refs)
            refs = None

    def add(refs):
        d = dict(zip(map(id, refs), refs))
        new = d.keys() - seen
        seen.update(new)
        out = list(map(d.__getitem__, new))
        d = None
        return out

    # never count the census's own objects
    seen.update((id(objs), id(frames), id(seen), id(order), id(notes)))
    if interned is not None:
        seen.add(id(interned))

    roots = [sys.modules, sys.__dict__, builtins.__dict__]
    roots.extend(sys.modules.values())
    roots.extend(frames)
    expand(add(roots))
    roots = None
    n_roots = len(order)
    via_type_only = 0
    # how many objects the ob_type edge alone adds (diagnostic)
    interned_only = 0
    if interned is not None:
        before = len(order)
        expand(add(list(interned)))
        interned_only = len(order) - before
    n_roots_interned = len(order)
    expand(add(objs))
    n_gc = len(order) - n_roots_interned

    # sizes and names
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
                notes.append('getsizeof failed for a %s' % type_name(type(o)))
    tps = list(map(type, order))
    per_type = {}
    for t, s in zip(tps, sizes):
        e = per_type.get(t)
        if e is None:
            per_type[t] = [1, s]
        else:
            e[0] += 1
            e[1] += s
    types = {}
    for t, (c, s) in per_type.items():
        name = type_name(t)
        e = types.get(name)
        if e is None:
            types[name] = [c, s]
        else:
            e[0] += c
            e[1] += s
    total_size = sum(sizes)
    from_roots = [n_roots_interned, sum(sizes[:n_roots_interned])]
    gc_only = [n_gc, sum(sizes[n_roots_interned:])]
    tps = None

    via_type_only = None
    if os.environ.get('CENSUS_DIAG'):
        via_type_only = _only_via_type(order, lay, handlers, live_frames)

    samp = {}
    for label, o in (samples or {}).items():
        samp[label] = {'address': '0x%x' % id(o), 'type': type_name(type(o)),
                       'size': getsizeof(o)}
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
            'seconds': round(time.perf_counter() - t0, 3),
            'gc_objects': len(objs),
            'from_roots': from_roots,
            'gc_only': gc_only,
            'roots_only_count': n_roots,
            'interned_strings': len(interned) if interned is not None else None,
            'interned_only': interned_only,
            'interned_dict': [1, getsizeof(interned)] if interned is not None else None,
            'only_via_type': via_type_only,
            'thread_frames': len(frames),
            'ctypes': ctypes is not None,
            'layout_checks': {'code': lay.code, 'frames': lay.frames,
                              'ht_slots': lay.heaptype_slots is not None,
                              'pattern': lay.pattern, 'struct': lay.struct},
            'notes': notes,
        },
    }
    data = json.dumps(result).encode('ascii')
    # drop everything before returning (no reference cycles are left:
    # the closures `expand`/`add` reference the frame's cells, break them)
    del objs[:]
    frames = None
    order = None
    seen = None
    sizes = None
    per_type = None
    interned = None
    lay = None
    result = None
    expand = add = None
    return data


def take_census(path, samples=None, workload=None):
    """Write the census of the heap to `path` (JSON). `samples` maps labels
    to objects whose address, type and size go in the output; `workload` is
    any JSON-able dict, copied into the output."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = _census(samples, workload)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        data = None
    finally:
        if was_enabled:
            gc.enable()
