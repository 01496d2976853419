"""A heap with one of everything, for the integration tests.

    python3.X -B basic.py CENSUS.json [--size N]

Builds a heap of about N objects in all (default 150000; the bench uses about
2000000), parks a second thread in a function whose locals nobody else
references, writes the in-process census (census.py) to CENSUS.json, then
stops itself with SIGSTOP. If it is ever continued it stops itself again, so
its heap stays as the census saw it. Runs on CPython 3.8 to 3.14.

Run it with -B: writing a .pyc marshals code objects, which on 3.11+ creates
and caches their co_code bytes.

What it exercises, by user class (the module runs as __main__, so the kinds
are "__main__.Node" and, where an instance dict exists, "dict of
__main__.Node"):
  Node          plain instances; 3.8-3.10 split dicts, 3.11+ managed values
                (3.13 inline values): never touched through __dict__
  Slotted       __slots__ instances
  Materialised  instances whose __dict__ was read: a real dict on every version
  Wide          40 attributes: past the shared-keys limit, a dict everywhere
  Base/Middle/Leaf/Other  a class hierarchy with class attributes and methods
  MyStr/MyInt/MyList/MyDict  builtin subclasses (MyStr is a non-compact str)
  Garbage       unreachable reference cycles (gc is disabled from the start)
  Suspend       an awaitable that suspends a coroutine in await
  Parker        the thread, parked in park() on an Event
and strings of every kind (ASCII, latin-1, UCS-2, UCS-4, empty; with a cached
UTF-8 copy, made through PyUnicode_AsUTF8AndSize, which is what caches it:
str.encode() does not; on 3.8-3.11 some with a cached wchar_t copy through
PyUnicode_AsUnicode), ints of every size, floats, complex, bytes, bytearray,
big dicts/lists/sets/frozensets/tuples, OrderedDict/defaultdict/deque/Counter,
closures (cells), generators suspended mid-iteration, coroutines (never
started, and suspended in await), a module-level cache dict.
"""

import gc
gc.disable()        # nothing is collected: cyclic garbage stays, nothing moves

import os
import sys
import signal
import threading
import collections

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import census   # noqa: E402  (imported before the heap is built: it is part of it)

try:
    import ctypes
except ImportError:     # pragma: no cover
    ctypes = None

V = sys.version_info[:2]
DEFAULT_SIZE = 150000

CACHE = {}          # the module-level cache
KEEP = {}           # everything else the main thread keeps


class Node(object):
    def __init__(self, value, label, next):
        self.value = value
        self.label = label
        self.next = next

    def walk(self):
        n = self
        while n is not None:
            yield n
            n = n.next


class Slotted(object):
    __slots__ = ('x', 'y', 'z')

    def __init__(self, x, y, z):
        self.x = x
        self.y = y
        self.z = z


class Materialised(object):
    def __init__(self, a, b):
        self.a = a
        self.b = b


class Wide(object):
    def __init__(self, base):
        for i in range(40):
            setattr(self, WIDE_NAMES[i], base + i)


# attribute names held by a tuple as well as by the class's shared keys
WIDE_NAMES = tuple('attr_%02d' % i for i in range(40))


class Base(object):
    kind = 'base'
    registry = []

    def __init__(self, ident):
        self.ident = ident
        Base.registry.append(ident)

    def describe(self):
        return '%s:%s' % (self.kind, self.ident)


class Middle(Base):
    kind = 'middle'

    def describe(self):
        return 'middle/' + Base.describe(self)


class Leaf(Middle):
    kind = 'leaf'
    extra = ('leaf', 1, 2.5)


class Other(Base):
    kind = 'other'


class MyStr(str):
    pass


class MyInt(int):
    pass


class MyList(list):
    pass


class MyDict(dict):
    pass


class Garbage(object):
    def __init__(self, i):
        self.i = i
        self.me = self


class Suspend(object):
    def __await__(self):
        yield 'suspended'


class Parker(threading.Thread):
    def __init__(self, n):
        threading.Thread.__init__(self, name='parker')
        self.daemon = True
        self.n = n
        self.ready = threading.Event()
        self.release = threading.Event()

    def run(self):
        park(self.ready, self.release, self.n)


def park(ready, release, n):
    """Parked in a thread: its locals are referenced by this frame alone.
    `private` is a list (GC-tracked: also on the GC lists); `index` is a dict
    of str to int, which CPython leaves untracked, and `token` a str: those
    are found only by walking the thread's frames."""
    private = ['thread-private-%06d-%s' % (i, 'p' * (i % 7)) for i in range(n)]
    index = dict(('thread-key-%d' % i, i + 10 ** 9) for i in range(n // 10))
    token = 'thread-token-%d' % n
    ready.set()
    release.wait()
    return private, index, token


def counter(start):
    box = [start]
    step = start % 3 + 1

    def inc():
        box[0] += step
        return box[0]
    return inc


def gen_numbers(n, tag):
    seen = ['gen-%s-%d' % (tag, i) for i in range(5)]
    for i in range(n):
        yield seen, i


async def coro_never_started(x):
    return x * 2


async def coro_in_await(tag):
    data = ['coro-%s-%d' % (tag, i) for i in range(3)]
    await Suspend()
    return data


def cache_utf8(strings):
    """Give the strings a cached UTF-8 copy (PyUnicode_AsUTF8AndSize)."""
    f = ctypes.pythonapi.PyUnicode_AsUTF8AndSize
    f.restype = ctypes.c_void_p
    f.argtypes = [ctypes.py_object, ctypes.c_void_p]
    for s in strings:
        f(s, None)


def cache_wstr(strings):
    """3.8-3.11: give the strings a cached wchar_t copy."""
    f = ctypes.pythonapi.PyUnicode_AsUnicode
    f.restype = ctypes.c_void_p
    f.argtypes = [ctypes.py_object]
    for s in strings:
        f(s)


def build(size):
    # the scale unit, number of Nodes: about 7 objects each all told, over a
    # baseline of about 27000 (interpreter, stdlib, census)
    n = max(100, int((size - 27000) / 6.9))
    keep = KEEP

    # plain instances, linked: 3 or 4 objects each
    node = None
    nodes = []
    for i in range(n):
        node = Node(1000003 + i * 7919, 'node-%d' % i, node)
        nodes.append(node)
    keep['nodes'] = nodes
    keep['slotted'] = [Slotted(i * 0.5, 'slot-%d' % i, None) for i in range(n // 4)]
    mats = [Materialised(i, 'mat-%d' % i) for i in range(n // 20)]
    for m in mats:
        m.__dict__          # materialise the dict on 3.11+
    keep['materialised'] = mats
    keep['wide'] = [Wide(i * 100) for i in range(max(2, n // 200))]
    hier = []
    for i in range(max(4, n // 100)):
        cls = (Base, Middle, Leaf, Other)[i % 4]
        hier.append(cls(i))
    keep['hierarchy'] = hier
    keep['subclasses'] = ([MyStr('mystr-%d' % i) for i in range(max(2, n // 50))],
                          [MyInt(10 ** 12 + i) for i in range(max(2, n // 50))],
                          MyList(range(50)), MyDict(a=1, b=[2]))

    # strings of every kind
    ascii_s = ['ascii-%d' % i for i in range(n // 10)]
    latin1 = ['caf\xe9-%d' % i for i in range(n // 20)]
    ucs2 = ['\u20acuro-\u0416-%d' % i for i in range(n // 20)]
    ucs4 = ['\U0001F600-%d' % i for i in range(n // 20)]
    keep['strings'] = (ascii_s, latin1, ucs2, ucs4, '', 'a', '\xe9', '\u20ac',
                       '\U0001F600', 'x' * 100000)
    with_utf8 = latin1[:len(latin1) // 3] + ucs2[:len(ucs2) // 3] + ucs4[:len(ucs4) // 3]
    if ctypes is not None:
        cache_utf8(with_utf8)
        if V <= (3, 11):
            cache_wstr(latin1[-10:] + ucs2[-10:] + ascii_s[-10:])
    keep['interned'] = [sys.intern('interned-%d' % i) for i in range(max(2, n // 50))]

    # ints, floats, complex, bytes, bytearray
    keep['ints'] = (0, 1, -1, 5, -5, 256, 257, -6, 1000, -1000, 2 ** 30, 2 ** 31,
                    2 ** 60, -(2 ** 60), 2 ** 100, 10 ** 1000, -(10 ** 50), True, False)
    keep['int_list'] = [i * 1000003 + 10 ** 6 for i in range(n // 5)]
    keep['floats'] = [i * 1.25 + 0.1 for i in range(n // 10)]
    keep['complex'] = [complex(i, -i) for i in range(50)]
    keep['bytes'] = [b'', b'x'] + [('bytes-%d' % i).encode() for i in range(n // 20)]
    keep['bytearrays'] = [bytearray(b'ba-%d' % i) for i in range(n // 50)] + [bytearray(100000)]

    # big containers
    keep['big_dict'] = dict(('key-%d' % i, i * 3 + 10 ** 6) for i in range(n // 4))
    keep['int_dict'] = dict((i * 31 + 10 ** 7, ('t', i)) for i in range(n // 20))
    keep['tuple_dict'] = dict(((i, 'k'), i) for i in range(n // 50))
    keep['big_set'] = set('member-%d' % i for i in range(n // 8))
    keep['big_frozenset'] = frozenset(i * 13 + 10 ** 8 for i in range(n // 16))
    keep['big_tuple'] = tuple(('tuple-item-%d' % i).encode() for i in range(n // 8))
    keep['big_list'] = [None] * (n // 2)
    keep['nested'] = [[(i, [i])] for i in range(n // 50)]
    keep['empties'] = ((), [], {}, set(), frozenset(), b'', '', bytearray())
    od = collections.OrderedDict(('od-%d' % i, i) for i in range(200))
    dd = collections.defaultdict(list)
    for i in range(200):
        dd[i % 17].append(i)
    keep['collections'] = (od, dd, collections.deque(range(300)),
                           collections.Counter('abracadabra' * 10))

    # closures, generators, coroutines
    keep['closures'] = [counter(i) for i in range(max(2, n // 50))]
    gens = []
    for i in range(max(2, n // 200)):
        g = gen_numbers(10, i)
        next(g)
        next(g)             # suspended mid-iteration, a range iterator on its stack
        gens.append(g)
    keep['generators'] = gens
    keep['coroutines_new'] = [coro_never_started(i) for i in range(max(2, n // 500))]
    waiting = []
    for i in range(max(2, n // 500)):
        c = coro_in_await(i)
        c.send(None)        # suspended in await Suspend()
        waiting.append(c)
    keep['coroutines_waiting'] = waiting

    # the module-level cache
    for i in range(n // 20):
        CACHE[('cache', i)] = ['cached-%d' % i, i + 10 ** 6]

    # cyclic garbage: unreachable, never collected (gc is disabled)
    garbage = max(10, n // 100)
    for i in range(garbage):
        Garbage(i)

    counts = {
        '__main__.Node': n,
        '__main__.Slotted': n // 4,
        '__main__.Materialised': len(mats),
        '__main__.Wide': len(keep['wide']),
        '__main__.Garbage': garbage,
    }
    kinds = {
        '__main__.Node': n,
        'dict of __main__.Node': n if census.has_instance_dict(nodes[0]) else 0,
        'dict of __main__.Materialised': len(mats) if census.has_instance_dict(mats[0]) else -1,
        'dict of __main__.Wide': len(keep['wide']) if census.has_instance_dict(keep['wide'][0]) else 0,
        '__main__.Slotted': n // 4,
    }
    samples = {
        'node': nodes[-1],
        'slotted': keep['slotted'][0],
        'materialised': mats[0],
        'big_dict': keep['big_dict'],
        'big_list': keep['big_list'],
        'ucs4': ucs4[0],
        'latin1_utf8': latin1[0],
        'huge_int': keep['ints'][15],
        'cache': CACHE,
        'generator': gens[0],
        'closure': keep['closures'][0],
        'mystr': keep['subclasses'][0][0],
    }
    return {'size': size, 'unit': n, 'garbage': garbage, 'counts': counts,
            'kinds': kinds, 'parker_private': 0}, samples


def main():
    args = sys.argv[1:]
    size = DEFAULT_SIZE
    if '--size' in args:
        i = args.index('--size')
        size = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write('usage: basic.py CENSUS.json [--size N]\n')
        return 2
    path = args[0]
    info, samples = build(size)

    parker = Parker(1000)
    parker.start()
    if not parker.ready.wait(60):
        sys.stderr.write('the parker thread did not start\n')
        return 1
    info['parker_private'] = parker.n
    # referenced by this frame alone (the dict is untracked: str to int)
    main_private = dict(('main-private-%d' % i, i + 10 ** 9) for i in range(100))

    # Everything the stop needs exists before the census: after it, nothing
    # of any size is allocated.
    kill = os.kill
    pid = os.getpid()
    sig = signal.SIGSTOP
    census.take_census(path, samples=samples, workload=info)
    while True:
        kill(pid, sig)
    return main_private


if __name__ == '__main__':
    sys.exit(main())
