"""The heaps of the referents oracle (issue 13): a stdlib "zoo" with an
object of every C type a service keeps its state in, a thread pool with
work queues and thread-locals, an asyncio server with tasks waiting on
queues and futures, and, where the interpreter has them, numpy object
arrays and a pandas DataFrame.  Small heaps: the oracle compares every
GC-tracked object.  At the stop, from inside a task of the running loop,
referents_record.py records every GC-tracked object's gc.get_referents().

    python3.X -B referents_zoo.py OUT.json

OUT.json's workload: {"numpy": version or null, "pandas": version or null,
"samples": {label: [hex id, type, sys.getsizeof]}} (one object of each
type the zoo makes, each item of a list of them)."""

import gc
gc.disable()

import array
import asyncio
import atexit
import collections
import contextvars
import ctypes
import datetime
import decimal
import functools
import io
import itertools
import operator
import os
import pickle
import queue
import re
import sqlite3
import struct
import sys
import threading
import time
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import referents_record   # noqa: E402

try:
    import numpy
except ImportError:
    numpy = None
try:
    import pandas
except ImportError:
    pandas = None

SAMPLES = {}


def keep(label, obj):
    SAMPLES[label] = obj
    return obj


class Point(object):
    def __init__(self, x):
        self.x = x

    def method(self):
        return self.x


def on_gone(ref):
    return ref


@functools.lru_cache(maxsize=64)
def cached(n):
    return ("cached", n)


@functools.lru_cache(maxsize=None)
def unbounded(n):
    return [n]


def annotated(x: int) -> "Point":
    return Point(x)


def gen(n):
    for i in range(n):
        yield ("gen", i)


def zoo():
    z = {}
    # collections
    dq = collections.deque(Point(i) for i in range(150))
    z["deque"] = dq
    z["deque iterator"] = iter(dq)
    z["deque reverse iterator"] = reversed(dq)
    od = collections.OrderedDict((("k%d" % i, [i]) for i in range(20)))
    z["OrderedDict"] = od
    z["odict iterators"] = [iter(od), reversed(od), iter(od.values()), iter(od.items())]
    z["OrderedDict views"] = [od.keys(), od.values(), od.items()]
    z["defaultdict"] = collections.defaultdict(list, {"a": [1]})
    z["Counter"] = collections.Counter("abracadabra")
    z["ChainMap"] = collections.ChainMap({"x": [1]}, {"y": [2]})
    z["namedtuple"] = collections.namedtuple("Pair", "a b")([1], [2])
    # functools
    for i in range(80):
        cached(i)
        unbounded(i)
    z["lru_cache"] = cached
    z["lru_cache unbounded"] = unbounded
    z["lru method"] = functools.lru_cache()(Point.method)
    z["partial"] = functools.partial(Point, [1])
    z["partialmethod"] = functools.partialmethod(Point.method)
    z["reduce key"] = functools.cmp_to_key(lambda a, b: 0)([3])
    # itertools
    src = [[i] for i in range(10)]
    it = [itertools.count(5, 2), itertools.cycle(src), itertools.chain(src, src),
          itertools.islice(src, 2, 8), itertools.groupby(src), itertools.product(src, src),
          itertools.permutations(src, 2), itertools.combinations(src, 2),
          itertools.combinations_with_replacement(src, 2), itertools.accumulate(src),
          itertools.zip_longest(src, src, fillvalue=[0]), itertools.starmap(max, [src]),
          itertools.takewhile(bool, src), itertools.dropwhile(lambda x: x[0] < 3, src),
          itertools.filterfalse(lambda x: x[0] % 2, src), itertools.compress(src, src),
          itertools.repeat([1], 3)]
    for i in it[:-1]:
        next(i)
    g = itertools.groupby([[1], [1], [2]])
    next(g)
    it.append(g)
    t1, t2 = itertools.tee(iter(src))
    next(t1)
    it += [t1, t2]
    if hasattr(itertools, "pairwise"):
        p = itertools.pairwise(src)
        next(p)
        it.append(p)
    if hasattr(itertools, "batched"):
        b = itertools.batched(src, 3)
        next(b)
        it.append(b)
    z["itertools"] = it
    # builtin iterators
    d = {"k%d" % i: [i] for i in range(10)}
    lst, tup, st = list(src), tuple(src), set("abc")
    z["iterators"] = [iter(d), iter(d.values()), iter(d.items()), iter(lst), reversed(lst),
                      iter(tup), iter(st), iter("text"), iter(b"bytes"), iter(range(5)),
                      reversed(tup), zip(lst, tup), map(str, lst), filter(None, lst),
                      enumerate(lst), iter(bytearray(b"x")), gen(5),
                      iter(lambda: 1, 2)]
    if sys.version_info >= (3, 8):
        z["iterators"].append(reversed(d))
    z["views"] = [d.keys(), d.values(), d.items()]
    z["memoryview"] = memoryview(bytearray(b"0123456789"))[2:8]
    z["bytearray"] = bytearray(b"abc")
    # array, io, struct, re
    z["array"] = array.array("i", range(100))
    bio = io.BytesIO(b"payload " * 100)
    z["BytesIO"] = bio
    z["BytesIO getbuffer"] = bio.getbuffer()
    sio = io.StringIO()
    sio.write("line\n" * 50)
    z["StringIO"] = sio
    path = os.path.join(os.path.dirname(sys.argv[1]), "zoo.bin")
    with open(path, "wb") as f:
        f.write(b"x" * 100)
    z["BufferedReader"] = open(path, "rb")
    z["BufferedReader"].read(10)
    z["BufferedWriter"] = open(path + ".w", "wb")
    z["BufferedRandom"] = open(path, "r+b")
    z["TextIOWrapper"] = open(path, "r", encoding="utf-8")
    z["TextIOWrapper"].read(3)
    z["FileIO"] = open(path, "rb", buffering=0)
    z["BufferedRWPair"] = io.BufferedRWPair(io.BytesIO(b"r"), io.BytesIO())
    z["IncrementalNewlineDecoder"] = io.IncrementalNewlineDecoder(None, True)
    z["struct.Struct"] = struct.Struct("<iq16s")
    pat = re.compile(r"(?P<word>\w+)-(\d+)")
    z["re.Pattern"] = pat
    z["re.Match"] = pat.search("abc-123")
    z["re.Scanner"] = pat.scanner("a-1 b-2")
    z["re iterator"] = pat.finditer("a-1 b-2")
    # threads, contextvars, weakrefs, operator
    local = threading.local()
    local.value = [1, 2]
    z["_thread._local"] = local
    # its per-thread dummy (3.8-3.12: holds the thread's dict; 3.13+: a
    # sentinel), reached through the weakrefs keying its dict of dummies
    # (3.13+: of dicts), which no API exposes otherwise
    for o in gc.get_referents(local):
        for k in (o if type(o) is dict else ()):
            if type(k) is weakref.ref and type(k()).__name__ == "_localdummy":
                z["_thread._localdummy"] = k()
                if sys.version_info < (3, 13):
                    z["_thread._local's dict"] = o[k]   # the dict the dummy holds
    z["Lock"] = threading.Lock()
    z["RLock"] = threading.RLock()
    vars_ = [contextvars.ContextVar("v%d" % i, default=[i]) for i in range(40)]
    tokens = [v.set(("set", i)) for i, v in enumerate(vars_)]   # a HAMT with nodes
    z["ContextVar"] = vars_
    z["Token"] = tokens
    z["Context"] = contextvars.copy_context()
    z["Context iterator"] = iter(z["Context"])
    p = Point(1)
    z["Point"] = p
    z["weakref with callback"] = weakref.ref(p, on_gone)
    z["weakref proxy"] = weakref.proxy(p)
    z["WeakMethod"] = weakref.WeakMethod(p.method)
    z["finalize"] = weakref.finalize(p, on_gone, [1])
    z["WeakValueDictionary"] = weakref.WeakValueDictionary({1: p})
    z["WeakSet"] = weakref.WeakSet([p])
    z["operator"] = [operator.itemgetter(1, "k"), operator.attrgetter("x", "y.z"),
                     operator.methodcaller("method", [1], k=[2])]
    # datetime, decimal
    tz = datetime.timezone(datetime.timedelta(hours=2), "zone")
    z["datetime"] = [datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=tz), datetime.date(2020, 1, 2),
                     datetime.time(1, 2, tzinfo=tz), datetime.timedelta(3), tz]
    z["Decimal"] = decimal.Decimal("3.14159265358979323846264338327950288")
    ctx = decimal.Context(prec=50)
    z["decimal.Context"] = ctx
    z["Decimal big"] = ctx.power(decimal.Decimal(7), 300)
    # pickle
    z["Pickler"] = pickle.Pickler(io.BytesIO())
    z["Pickler"].dump([1, {"a": (2, "b")}])
    z["Unpickler"] = pickle.Unpickler(io.BytesIO(pickle.dumps([[1], [2]] * 3)))
    z["Unpickler"].load()
    # queues, capsules, atexit, sqlite3, ctypes
    sq = queue.SimpleQueue()
    for i in range(30):
        sq.put(Point(i))
    z["SimpleQueue"] = sq
    wq = queue.Queue()
    for i in range(30):
        wq.put({"job": i})
    z["queue.Queue"] = wq
    z["PyCapsule"] = getattr(datetime, "datetime_CAPI", None)
    atexit.register(on_gone, [1], key=[2])
    con = sqlite3.connect(":memory:")
    con.execute("create table t (a, b)")
    con.executemany("insert into t values (?, ?)", [(i, "v%d" % i) for i in range(20)])
    cur = con.cursor()
    cur.execute("select a, b from t where a > ?", (3,))
    cur.fetchone()
    for i in range(5):
        con.execute("select %d" % i).fetchall()
    z["sqlite3 Connection"] = con
    z["sqlite3 Cursor"] = cur
    z["sqlite3 Row"] = sqlite3.Row(cur, (1, "x"))

    class Pair(ctypes.Structure):
        _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_char_p)]
    z["ctypes Structure"] = Pair(1, b"x")
    z["ctypes array"] = (ctypes.c_int * 5)(1, 2, 3)
    z["ctypes pointer"] = ctypes.pointer(ctypes.c_long(4))
    z["ctypes CFUNCTYPE"] = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda n: n)
    z["ctypes types"] = [Pair, ctypes.POINTER(Pair), ctypes.c_int * 5]
    # functions, methods, cells
    z["function"] = annotated
    z["annotate"] = annotated.__annotations__
    z["bound method"] = p.method
    z["classmethod"] = classmethod(on_gone)
    z["staticmethod"] = staticmethod(on_gone)
    z["property"] = property(on_gone, on_gone)
    z["cell"] = (lambda: z)
    z["exception"] = ValueError("bad", [1])
    try:
        raise KeyError("key")
    except KeyError as e:
        z["exception with traceback"] = e
    z["slice"] = slice([1], [2])
    z["super"] = super(Point, p)
    z["mappingproxy"] = Point.__dict__
    z["SimpleNamespace"] = __import__("types").SimpleNamespace(a=[1])
    return z


def science():
    if numpy is None:
        return {}
    z = {}
    one = numpy.empty(50, dtype=object)
    for i in range(50):
        one[i] = ("elem-%d" % i) if i % 3 == 0 else {"k": i} if i % 3 == 1 else Point(i)
    z["numpy object array"] = one
    z["numpy view"] = one[10:20]
    two = numpy.empty((4, 5), dtype=object)
    for i in range(4):
        for j in range(5):
            two[i, j] = [i, j]
    z["numpy 2-d object array"] = two
    z["numpy float array"] = numpy.arange(100.0)
    if pandas is not None:
        z["DataFrame"] = pandas.DataFrame({"a": range(30), "b": ["s%d" % i for i in range(30)],
                                           "c": [Point(i) for i in range(30)]})
        z["Series"] = z["DataFrame"]["b"]
    return z


# the thread pool: workers blocked on a work queue, each with thread-locals
LOCAL = threading.local()
WORK = queue.Queue()
PENDING = queue.Queue()      # work nobody takes yet
READY = threading.Semaphore(0)


def worker(n):
    LOCAL.name = "worker-%d" % n
    LOCAL.seen = [Point(n)]
    READY.release()
    while True:
        job = WORK.get()
        if job is None:
            return
        LOCAL.seen.append(job)
        WORK.task_done()


# the asyncio server: a Unix-socket server, clients' handlers waiting on a
# queue and on futures, tasks sleeping
def sizes(samples):
    """{label: [hex id, type, sys.getsizeof]}, a list's items each as label[i]."""
    out = {}
    for k, v in samples.items():
        items = enumerate(v) if type(v) is list else [(None, v)]
        for i, o in items:
            label = k if i is None else "%s[%d]" % (k, i)
            out[label] = [hex(id(o)), referents_record._type_name(type(o)), sys.getsizeof(o)]
    return out


async def serve(out):
    loop = asyncio.get_running_loop()
    aq = asyncio.Queue()
    futs = [loop.create_future() for _ in range(5)]

    async def handle(reader, writer):
        line = await reader.readline()
        await aq.put(line)
        await futs[0]

    async def waiter(i):
        if i % 2:
            return await aq.get()
        return await futs[i % len(futs)]

    sock = os.path.join(os.path.dirname(out), "zoo.sock")
    server = await asyncio.start_unix_server(handle, sock)
    tasks = [asyncio.ensure_future(waiter(i)) for i in range(10)]
    tasks.append(asyncio.ensure_future(asyncio.sleep(3600)))
    clients = []
    for i in range(3):
        r, w = await asyncio.open_unix_connection(sock)
        w.write(b"hello %d\n" % i)
        await w.drain()
        clients.append((r, w))
    for _ in range(20):
        await asyncio.sleep(0)
    for i in range(4):
        aq.put_nowait({"queued": i})
    loop.call_later(3600, on_gone, [1])
    loop.call_soon(on_gone, [2])
    fut_iter = futs[1].__await__()
    samples = dict(SAMPLES, **{"asyncio Task": tasks[0], "asyncio Future": futs[1],
                               "FutureIter": fut_iter, "asyncio Queue": aq,
                               "asyncio Server": server})
    info = {"free_threaded": bool(__import__("sysconfig").get_config_var("Py_GIL_DISABLED")),
            "numpy": numpy and numpy.__version__, "pandas": pandas and pandas.__version__,
            "samples": sizes(samples)}
    del samples
    referents_record.record_and_stop(out, info)


def main():
    SAMPLES.update(zoo())
    SAMPLES.update(science())
    for n in range(3):
        threading.Thread(target=worker, args=(n,), daemon=True).start()
    for n in range(3):
        READY.acquire()
    for i in range(10):
        WORK.put({"work": i})
    WORK.join()
    while len(WORK.not_empty._waiters) < 3:     # each worker waits in WORK.get() again
        time.sleep(0.01)
    for i in range(10):
        PENDING.put({"pending": i})
    asyncio.run(serve(sys.argv[1]))


if __name__ == "__main__":
    main()
