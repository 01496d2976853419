"""Samples of every builtin type, each kept alive by a module global, with
sys.getsizeof of each recorded in process; then SIGSTOP.

usage: samples.py OUT.json -> {"version": ..., "samples": [[label, hex id, type name, getsizeof]]}"""

import array
import collections
import ctypes
import io
import json
import os
import signal
import sys
import types
import weakref


class Plain:
    def __init__(self):
        self.a = 1
        self.b = "two"


class WithDict(Plain):
    pass


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 1
        self.y = 2


class S(str):
    pass


class I(int):
    pass


class L(list):
    pass


class D(dict):
    pass


class OD(collections.OrderedDict):
    pass


def closure():
    v = [1]

    def inner():
        return v
    return inner


def gen():
    yield 1
    yield 2


async def coro():
    return 1


def cached_utf8(s):
    """PyUnicode_AsUTF8 caches the UTF-8 form in the str (non-ASCII only)."""
    ctypes.pythonapi.PyUnicode_AsUTF8.restype = ctypes.c_char_p
    ctypes.pythonapi.PyUnicode_AsUTF8.argtypes = [ctypes.py_object]
    ctypes.pythonapi.PyUnicode_AsUTF8(s)
    return s


def surrogate_named():
    """An instance of a class whose __qualname__ is not valid UTF-8."""
    cls = type("Bad", (), {})
    cls.__qualname__ = "bad\udc80name"
    return cls()


wd = WithDict()
wd.__dict__  # materialised on 3.11+
g = gen()
next(g)
co = coro()
big_list = []
for i in range(1000):
    big_list.append(i)
ba = bytearray(b"abc")
ba.extend(b"x" * 100)
small_set = {1, 2, 3}
big_set = set(range(1000))
frame = sys._getframe()


class Deque(collections.deque):
    pass


big_deque = collections.deque(i if i % 2 else {"i": i} for i in range(1000))
rotated = collections.deque(range(300))
rotated.rotate(77)
for _ in range(50):
    rotated.popleft()
bounded = collections.deque(range(1000), maxlen=100)
dq_iter = iter(big_deque)
next(dq_iter)
bio_written = io.BytesIO()
bio_written.write(b"x" * 10000)
bio_shared = io.BytesIO(b"y" * 5000)
bio_shared_value = bio_shared.getvalue()
sio = io.StringIO()
sio.write("s" * 3000)
sio_read = io.StringIO("line\n" * 100)
sio_read.read()

KEEP = [
    ("str ascii", "hello world"),
    ("str empty", ""),
    ("str latin1", "caf\xe9 cr\xe8me" * 3),
    ("str ucs2", "\u20ac uro \u0100" * 5),
    ("str ucs4", "\U0001F600 smile" * 4),
    ("str latin1 utf8 cached", cached_utf8("na\xefve" + str(os.getpid()))),
    ("str ucs2 utf8 cached", cached_utf8("\u4e2d\u6587" + str(os.getpid()))),
    ("str subclass", S("subclassed")),
    ("int 0", int("0")),
    ("int 1", int("1")),
    ("int -5", -int("5")),
    ("int 2**30", 2 ** 30),
    ("int 2**100", 2 ** 100),
    ("int -2**200", -(2 ** 200)),
    ("int subclass", I(12345)),
    ("bool", True),
    ("float", 3.25),
    ("complex", 1 + 2j),
    ("bytes empty", b""),
    ("bytes 1", b"a"),
    ("bytes 100", b"x" * 100),
    ("bytearray", ba),
    ("tuple empty", ()),
    ("tuple 1", (object(),)),
    ("tuple 100", tuple(range(100))),
    ("list empty", []),
    ("list 1000 appended", big_list),
    ("list subclass", L([1, 2, 3])),
    ("dict empty", {}),
    ("dict small", {"a": 1, "b": 2}),
    ("dict int keys", {i: i for i in range(100)}),
    ("dict big str keys", {"k%d" % i: i for i in range(5000)}),
    ("dict instance", wd.__dict__),
    ("dict subclass", D(a=1)),
    ("OrderedDict", collections.OrderedDict(("k%d" % i, i) for i in range(300))),
    ("OrderedDict empty", collections.OrderedDict()),
    ("OrderedDict subclass", OD(("k%d" % i, i) for i in range(20))),
    ("defaultdict", collections.defaultdict(list, {"a": [1]})),
    ("set small", small_set),
    ("set big", big_set),
    ("frozenset", frozenset(range(50))),
    ("type static", int),
    ("type heap", Plain),
    ("type slotted", Slotted),
    ("module builtin", sys),
    ("module python", collections),
    ("code", closure.__code__),
    ("function", closure),
    ("closure", closure()),
    ("cell", closure().__closure__[0]),
    ("method", wd.__init__),
    ("generator", g),
    ("coroutine", co),
    ("instance plain", Plain()),
    ("instance with dict", wd),
    ("instance slotted", Slotted()),
    ("range", range(10)),
    ("slice", slice(1, 2)),
    ("property", property(lambda s: 1)),
    ("staticmethod", staticmethod(len)),
    ("builtin function", len),
    ("weakref", weakref.ref(Plain)),
    ("None", None),
    ("Ellipsis", Ellipsis),
    ("frame", frame),
    ("simple namespace", types.SimpleNamespace(a=1)),
    ("class named with a lone surrogate", surrogate_named()),
    ("deque empty", collections.deque()),
    ("deque 1000", big_deque),
    ("deque rotated", rotated),
    ("deque maxlen", bounded),
    ("deque subclass", Deque(range(200))),
    ("deque iterator", dq_iter),
    ("deque reverse iterator", reversed(big_deque)),
    ("array empty", array.array("d")),
    ("array d", array.array("d", range(1000))),
    ("array b appended", array.array("b", bytes(range(100)) * 7)),
    ("array u", array.array("u", "unicode" * 10)),
    ("BytesIO empty", io.BytesIO()),
    ("BytesIO written", bio_written),
    ("BytesIO shared", bio_shared),
    ("StringIO empty", io.StringIO()),
    ("StringIO written", sio),
    ("StringIO read", sio_read),
]


def type_name(t):
    if t.__flags__ & (1 << 9):
        return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
    return t.__name__ if t.__module__ == "builtins" else t.__module__ + "." + t.__name__


samples = [[label, hex(id(o)), type_name(type(o)), sys.getsizeof(o)] for label, o in KEEP]
with open(sys.argv[1], "w") as f:
    json.dump({"version": sys.version.split()[0], "samples": samples}, f)
del samples
os.kill(os.getpid(), signal.SIGSTOP)
co.close()
