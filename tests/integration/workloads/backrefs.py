"""The workload of the backrefs, referrers, referents, objects and partition
--by rcs/via tests (test_backrefs.py, test_objects.py).

    python3.X -B backrefs.py CENSUS.json

Builds the structures of backrefs_heap.py, parks a thread in hold_private()
(its local `private` is referenced by that frame alone), records the
in-process truth in CENSUS.json.oracle.json (below), takes the census of the
heap (census.py) into CENSUS.json, then stops itself with SIGSTOP. gc is
disabled from the start: the garbage cycles stay where they are.

The oracle, recorded at the moment of the stop (nothing of any size is made
after it but the census's own temporaries, which die before the stop):
  targets: label -> {address, type, size, dist, referrers, referents, ...}
    referrers: gc.get_referrers() of the object, without the oracle's own
      temporaries (its dict of targets, its frames);
    referents: gc.get_referents() of the object;
    dist: the breadth-first distance from the roots: sys.modules (the dict),
      sys.__dict__, builtins.__dict__ and, for every thread (the oracle's
      own frames left out), its frames (3.8-3.10: the frame objects;
      3.11+: the values of each running frame's locals and value stack, its
      function, globals, builtins and f_locals, read as census.py does),
      over gc.get_referents() plus the references tp_traverse leaves out
      (census._extra_edges: ob_type, dict keys, code and type fields...);
  dist: the same distance for every object at distance <= 3 (the roots'
    neighbourhood, where the chains of the tool start), by address;
  objects, previews, markers: what test_objects.py compares with.

After the stop it serves the tests' questions about the tool's answers,
asked after every tool run is over (answering allocates): when continued,
if CENSUS.json.req exists it answers it in CENSUS.json.ans and stops again.
A question is a list of checks, each answered with a list of problems (empty:
the check holds):
  chain     each link is an object of the type the tool says, of the size it
            says (for types whose flat size is exact), and each next link is
            among the referents of the previous one (gc.get_referents plus
            census._extra_edges); a weak link: the previous link is a
            weakref whose referent it is; an offset link "->+0xN": the word
            at that offset of the previous object is the next one's address;
  path      eval(path) with sys and builtins is the target (id);
  referrer  the referrer refers to the target (as a chain of two links);
  edge      the same, from an object to one of its referents;
  object    the address is a live object of the given type.
Addresses the tool gives are turned into objects only when they are found
among the known objects (gc.get_objects(), modules, frames and their
locals) or reached through a real reference, or, for words found at an
offset, when the word points into mapped memory at something whose type
pointer is a known type.
"""

import gc
gc.disable()

import builtins      # noqa: E402
import json          # noqa: E402
import os            # noqa: E402
import re            # noqa: E402
import signal        # noqa: E402
import sys           # noqa: E402
import threading     # noqa: E402
import types         # noqa: E402
import weakref       # noqa: E402
import ctypes        # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import census          # noqa: E402  (before the heap is built: it is part of it)
import backrefs_heap   # noqa: E402

V = sys.version_info[:2]
TPFLAGS_READY = 1 << 12


def _ready_types_only(g, out, lay, live_frames):
    """census.py's type handler, without the static types that were never
    made ready (tp_dict NULL: reading their __dict__ crashes): 3.8's
    functools._lru_list_elem, the type of the lru_cache's entries, is one."""
    census._type_edges([t for t in g if census._t_flags(t) & TPFLAGS_READY], out, lay)


census._HANDLERS['type'] = _ready_types_only
FrameType = types.FrameType
OFFSET_EDGE = re.compile(r'^->\+0x([0-9a-fA-F]+)$')
# types whose flat size the tool knows exactly (sys.getsizeof)
EXACT_SIZE = (dict, list, tuple, str, bytes, int, float, set, frozenset, types.ModuleType,
              types.FunctionType, type((lambda x: lambda: x)(0).__closure__[0]))


def hold_private(ready, release, box):
    """Parked in the second thread: `private` is referenced by this frame alone."""
    private = backrefs_heap.ThreadPrivate(4242)
    box.append(id(private))
    ready.set()
    release.wait()
    return private


# --------------------------------------------------------------------------
# the oracle

def _has_dict(o):
    return bool(census.has_instance_dict(o))


def _excluded_referrer(r, objs, codes):
    if r is objs:
        return True
    return type(r) is FrameType and r.f_code in codes


def record_oracle(path, private_id, thread_ident, thread_native_id):
    H = backrefs_heap
    codes = census._census_codes() | {record_oracle.__code__}
    objs = {}
    objs['dict'] = H.registry['alpha']['beta'][2]
    objs['tuple'] = H.table[1][1][0]
    objs['plain'] = H.plain.payload
    objs['inline'] = H.inline.payload
    objs['slots'] = H.slotted.payload
    objs['closure'] = H.closure_fn.__closure__[0].cell_contents
    objs['thread'] = census._obj_at(private_id)
    objs['lru'] = H.compute(7)                  # a hit: the cached result
    objs['weak'] = H.weak_ref()
    objs['ring'] = H.ring.next
    objs['ring_a'] = H.ring
    objs['multi'] = H.multi_list[0]
    objs['registry'] = H.registry
    objs['alpha'] = H.registry['alpha']
    objs['table_inner'] = H.table[1]
    objs['closure_tuple'] = H.closure_fn.__closure__
    objs['beta'] = H.registry['alpha']['beta']
    objs['plain_holder'] = H.plain
    objs['plain_dict'] = H.plain.__dict__
    objs['inline_holder'] = H.inline
    objs['slot_holder'] = H.slotted
    objs['closure_fn'] = H.closure_fn
    objs['cell'] = H.closure_fn.__closure__[0]
    objs['table'] = H.table
    objs['previews'] = H.previews
    objs['multi_list'] = H.multi_list
    objs['multi_dict'] = H.multi_dict
    objs['multi_tuple'] = H.multi_tuple
    objs['multi_slot'] = H.multi_slot
    objs['module'] = H
    objs['lru_wrapper'] = H.compute
    for o in gc.get_objects():
        if type(o) is H.GarbageNode:
            objs['garbage' if o.tag == 'g1' else 'garbage_partner'] = o
    o = None
    objs['weak_ref'] = H.weak_ref
    objs['ring_weak'] = H.ring_weak

    targets = {}
    for label in list(objs):
        o = objs[label]
        t = {'address': id(o), 'type': census.type_name(type(o)), 'size': sys.getsizeof(o),
             'gc': gc.is_tracked(o)}
        refs = []
        for r in gc.get_referrers(o):
            if not _excluded_referrer(r, objs, codes):
                refs.append({'address': id(r), 'type': census.type_name(type(r))})
        r = None
        t['referrers'] = refs
        t['referents'] = [id(r) for r in gc.get_referents(o)]
        if not isinstance(o, type) and type(o).__module__ == 'backrefs_heap' \
                and not hasattr(type(o), '__slots__'):
            t['has_dict'] = _has_dict(o)
            if t['has_dict']:
                t['dict_address'] = id(o.__dict__)
        targets[label] = t
    o = r = None

    # breadth-first distances from the roots
    frames = census._thread_frames(codes)
    thread_frame = thread_line = None
    for f in frames:
        if f.f_code is hold_private.__code__:
            thread_frame = id(f)
            thread_line = f.f_lineno
    f = None
    sources = [sys.modules, sys.__dict__, builtins.__dict__]
    live = set()
    if V >= (3, 11):
        census._frame_edges(frames, sources, census._LAYOUT)
        live = set(map(id, frames))
    else:
        sources.extend(frames)
    dist = {}
    frontier = []
    for s in sources:
        if id(s) not in dist:
            dist[id(s)] = 0
            frontier.append(s)
    sources = s = None
    handlers = {}
    d = 0
    while frontier:
        d += 1
        nxt = []
        for o in frontier:
            refs = gc.get_referents(o)
            census._extra_edges([o], refs, census._LAYOUT, handlers, live)
            for r in refs:
                i = id(r)
                if i not in dist:
                    dist[i] = d
                    nxt.append(r)
        frontier = nxt
        o = r = refs = nxt = None
    for label, t in targets.items():
        t['dist'] = dist.get(t['address'])
    near = dict(('%d' % i, dd) for i, dd in dist.items() if dd <= 3)
    frames = None

    # the objects test: exact classes and kinds
    nodes = H.nodes
    objects = {
        'backrefs_heap.Node': {'count': len(nodes), 'size': sum(map(sys.getsizeof, nodes)),
                               'addresses': sorted(map(id, nodes)),
                               'each': sys.getsizeof(nodes[0])},
    }
    plains = [H.plain] + H.plain_extra
    objects['backrefs_heap.Plain'] = {'count': len(plains),
                                      'size': sum(map(sys.getsizeof, plains)),
                                      'addresses': sorted(map(id, plains))}
    pdicts = [p.__dict__ for p in plains]
    objects['dict of backrefs_heap.Plain'] = {'count': len(pdicts),
                                              'size': sum(map(sys.getsizeof, pdicts)),
                                              'addresses': sorted(map(id, pdicts))}
    big = dict((k, {'address': id(v), 'size': sys.getsizeof(v), 'len': len(v),
                    'head': v[:24].decode('latin-1') if isinstance(v, bytes) else v[:24]})
               for k, v in H.big.items())
    pdicts = plains = nodes = None

    previews = []
    for o in H.previews:
        p = {'address': id(o), 'type': census.type_name(type(o)), 'size': sys.getsizeof(o)}
        if isinstance(o, (str, int, float)):
            p['repr'] = repr(o)
        elif isinstance(o, bytes):
            p['repr'] = repr(o[:12])
            p['len'] = len(o)
        elif isinstance(o, (list, dict, tuple, set)):
            p['len'] = len(o)
        elif isinstance(o, types.FunctionType):
            p['qualname'] = o.__qualname__
            p['file'] = os.path.basename(o.__code__.co_filename)
            p['line'] = o.__code__.co_firstlineno
        elif isinstance(o, type):
            p['name'] = o.__name__
        elif isinstance(o, types.ModuleType):
            p['name'] = o.__name__
        elif type(o) is H.PreviewInstance:
            # getattr, not vars(): that would make the instance a __dict__ on
            # 3.11+; and a loop, not a comprehension: before 3.12 that would
            # make `o` a closure cell of this function, a referrer of every
            # object it ever names (the referrers tests would see it)
            p['attrs'] = []
            for k in H.PREVIEW_ATTRS[:3]:
                p['attrs'].append('%s=%r' % (k, getattr(o, k)))
            p['more'] = len(H.PREVIEW_ATTRS) > 3
        previews.append(p)
    o = None

    owner_kind = 'dict of backrefs_heap.RcsOwner' if _has_dict(H.rcs_owners[0]) \
        else 'backrefs_heap.RcsOwner'
    markers = {
        'rcs_bag': {'count': len(H.rcs_bag), 'size': sum(map(sys.getsizeof, H.rcs_bag)),
                    'rcs': ['backrefs_heap.RcsBag']},
        'rcs_list2': {'count': len(H.rcs_list2), 'size': sum(map(sys.getsizeof, H.rcs_list2)),
                      'rcs': sorted(['list', owner_kind])},
        'via_slot': {'count': len(H.via_holders),
                     'size': sum(sys.getsizeof(h.via_slot) for h in H.via_holders),
                     'via': ['.via_slot']},
        'via_key': {'count': len(H.via_dicts),
                    'size': sum(sys.getsizeof(d['via_key']) for d in H.via_dicts),
                    'via': ["['via_key']"]},
    }
    doc = {'python': '%d.%d.%d' % sys.version_info[:3], 'version': list(V),
           'pid': os.getpid(), 'sys_modules': id(sys.modules),
           'thread_ident': thread_ident, 'thread_frame': thread_frame,
           'thread_native_id': thread_native_id, 'thread_line': thread_line,
           'thread_file': os.path.basename(hold_private.__code__.co_filename),
           'targets': targets, 'dist': near, 'objects': objects, 'big': big,
           'previews': previews, 'markers': markers,
           'preview_fn_line': H.PREVIEW_FN_LINE}
    data = json.dumps(doc).encode('utf-8')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    objs.clear()
    doc = targets = dist = near = objects = big = previews = markers = data = None


# --------------------------------------------------------------------------
# the answers to the tests' questions

class Ctx(object):
    def __init__(self, codes):
        cand = {}
        for o in gc.get_objects():
            cand[id(o)] = o
        extra = [sys.modules, sys.__dict__, builtins.__dict__]
        for m in list(sys.modules.values()):
            extra.append(m)
            d = getattr(m, '__dict__', None)
            if d is not None:
                extra.append(d)
        frames = census._thread_frames(codes)
        self.live = set(map(id, frames)) if V >= (3, 11) else set()
        extra.extend(frames)
        if V >= (3, 11):
            census._frame_edges(frames, extra, census._LAYOUT)
        for o in extra:
            cand.setdefault(id(o), o)
        self.cand = cand
        self.handlers = {}
        self.type_ids = set()
        stack = [object, type]
        while stack:
            t = stack.pop()
            if id(t) in self.type_ids:
                continue
            self.type_ids.add(id(t))
            stack.extend(type.__subclasses__(t))
        self.maps = [(lo, hi) for lo, hi, perm, _ in census._maps() if perm.startswith('r')]

    def readable(self, addr, n):
        for lo, hi in self.maps:
            if lo <= addr and addr + n <= hi:
                return True
        return False

    def obj(self, addr):
        """The object at addr, if it is known or looks like one."""
        o = self.cand.get(addr)
        if o is not None:
            return o
        if not addr or addr % 8 or not self.readable(addr, 16):
            return None
        # ob_type and the counts: census._H further on a free-threaded build
        if ctypes.c_void_p.from_address(addr + 8 + census._H).value not in self.type_ids:
            return None
        if census.FT:
            if not ctypes.c_uint32.from_address(addr + 12).value and \
                    ctypes.c_ssize_t.from_address(addr + 16).value >> 2 <= 0:
                return None
        elif ctypes.c_ssize_t.from_address(addr).value <= 0:
            return None
        return census._obj_at(addr)

    def refs(self, a):
        out = gc.get_referents(a)
        census._extra_edges([a], out, census._LAYOUT, self.handlers, self.live)
        if type(a) is dict and sys.version_info >= (3, 13):
            # A __dict__ made over an instance's inline values shares them:
            # its traverse leaves them to the instance, but it points at them
            # (ma_values), as the tool says.
            out.extend(a.values())
        return out


def _hex(a):
    return '0x%x' % a if isinstance(a, int) else repr(a)


def _describe(o):
    try:
        return '%s at 0x%x' % (census.type_name(type(o)), id(o))
    except Exception:
        return '?'


def check_object(ctx, o, link, where):
    """Problems with what the tool says of one object."""
    out = []
    tn = census.type_name(type(o))
    if link.get('type') is not None and link['type'] != tn:
        out.append('%s: type %r, but in process it is %r' % (where, link['type'], tn))
    if link.get('size') is not None and type(o) in EXACT_SIZE:
        s = sys.getsizeof(o)
        if s != link['size']:
            out.append('%s: size %s, but sys.getsizeof is %d (%s)' % (where, link['size'], s, tn))
    return out


def follow(ctx, a, link, where):
    """(object b, problems): b is the link's object if a really refers to it."""
    addr = link.get('address')
    edge = link.get('edge') or ''
    if link.get('weak'):
        if not isinstance(a, weakref.ReferenceType):
            return None, ['%s: weak link %r from %s, which is not a weakref'
                          % (where, edge, _describe(a))]
        b = a()
        if b is None or id(b) != addr:
            return None, ['%s: weak link %r: the weakref %s points at %s, not %s'
                          % (where, edge, _describe(a), _describe(b), _hex(addr))]
        return b, []
    refs = ctx.refs(a)
    for r in refs:
        if id(r) == addr:
            return r, []
    m = OFFSET_EDGE.match(edge)
    if m:
        off = int(m.group(1), 16)
        if not ctx.readable(id(a) + off, 8):
            return None, ['%s: %r: offset outside %s' % (where, edge, _describe(a))]
        word = ctypes.c_void_p.from_address(id(a) + off).value
        if word != addr:
            return None, ['%s: %r: the word at that offset of %s is %s, not %s'
                          % (where, edge, _describe(a), _hex(word), _hex(addr))]
        b = ctx.obj(addr)
        if b is None:
            return None, ['%s: %r: %s at that offset of %s is not an object'
                          % (where, edge, _hex(addr), _describe(a))]
        return b, []
    return None, ['%s: %s (edge %r) is not among the %d referents of %s'
                  % (where, _hex(addr), edge, len(refs), _describe(a))]


def check_chain(ctx, links):
    out = []
    if not links:
        return ['empty chain']
    i0 = 0
    a = ctx.obj(links[0].get('address'))
    if a is None:
        if links[0].get('address'):
            return ['link 0 (root %r): %s is not a known root object'
                    % (links[0].get('root'), _hex(links[0].get('address')))]
        # a root that is not an object (an interpreter frame): the next link
        # must be one of the roots' objects (a frame's local)
        if len(links) < 2:
            return []
        i0 = 1
        a = ctx.cand.get(links[1].get('address'))
        if a is None:
            return ['link 1: %s, below a root that is not an object, is not a known root object'
                    % _hex(links[1].get('address'))]
    out += check_object(ctx, a, links[i0], 'link %d' % i0)
    for i in range(i0 + 1, len(links)):
        b, probs = follow(ctx, a, links[i], 'link %d' % i)
        out += probs
        if b is None:
            break
        out += check_object(ctx, b, links[i], 'link %d' % i)
        a = b
    return out


def check_path(ctx, path, target):
    try:
        got = eval(path, {'sys': sys, 'builtins': builtins})
    except Exception as e:
        return ['%r does not evaluate: %s: %s' % (path, type(e).__name__, e)]
    if id(got) != target:
        return ['%r evaluates to %s, not the target %s' % (path, _describe(got), _hex(target))]
    return []


def check_referrer(ctx, link, target):
    r = ctx.obj(link.get('address'))
    if r is None:
        return ['referrer %s is not a known object' % _hex(link.get('address'))]
    t = ctx.obj(target)
    if t is None:
        return ['target %s is not a known object' % _hex(target)]
    probs = check_object(ctx, r, dict(link, size=link.get('size')), 'referrer')
    tl = dict(address=target, edge=link.get('edge'), weak=link.get('weak'))
    b, p2 = follow(ctx, r, tl, 'referrer %s' % _describe(r))
    return probs + p2


def check_edge(ctx, source, link):
    a = ctx.obj(source)
    if a is None:
        return ['%s is not a known object' % _hex(source)]
    b, probs = follow(ctx, a, link, 'referent')
    if b is not None:
        probs += check_object(ctx, b, link, 'referent')
    return probs


def check_known(ctx, addr, tname):
    o = ctx.cand.get(addr)
    if o is None:
        o = ctx.obj(addr)
    if o is None:
        return ['%s is not a known object' % _hex(addr)]
    got = census.type_name(type(o))
    if got != tname:
        return ['%s is a %s, not a %s' % (_hex(addr), got, tname)]
    return []


def answer(req_path, ans_path):
    with open(req_path) as f:
        req = json.load(f)
    os.unlink(req_path)
    ctx = Ctx(census._census_codes() | {answer.__code__, Ctx.__init__.__code__})
    out = {}
    for c in req['checks']:
        try:
            k = c['kind']
            if k == 'chain':
                out[c['id']] = check_chain(ctx, c['links'])
            elif k == 'path':
                out[c['id']] = check_path(ctx, c['path'], c['target'])
            elif k == 'referrer':
                out[c['id']] = check_referrer(ctx, c['link'], c['target'])
            elif k == 'edge':
                out[c['id']] = check_edge(ctx, c['source'], c['link'])
            elif k == 'object':
                out[c['id']] = check_known(ctx, c['address'], c['type'])
            else:
                out[c['id']] = ['unknown check %r' % k]
        except Exception as e:
            out[c['id']] = ['the check raised %s: %s' % (type(e).__name__, e)]
    ctx = None
    tmp = ans_path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(out, f)
    os.rename(tmp, ans_path)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: backrefs.py CENSUS.json\n')
        return 2
    census_path = sys.argv[1]
    backrefs_heap.build()
    ready = threading.Event()
    release = threading.Event()
    box = []
    holder = threading.Thread(target=hold_private, args=(ready, release, box), name='holder')
    holder.daemon = True
    holder.start()
    if not ready.wait(60):
        sys.stderr.write('the holder thread did not start\n')
        return 1
    record_oracle(census_path + '.oracle.json', box[0], holder.ident,
                  getattr(holder, 'native_id', None))
    census.take_census(census_path, workload={'oracle': census_path + '.oracle.json'})
    req = census_path + '.req'
    ans = census_path + '.ans'
    exists = os.path.exists
    kill = os.kill
    pid = os.getpid()
    sig = signal.SIGSTOP
    while True:
        kill(pid, sig)
        if exists(req):
            answer(req, ans)


if __name__ == '__main__':
    sys.exit(main())
