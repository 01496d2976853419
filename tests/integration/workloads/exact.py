"""The heap of the object-for-object test (test_exact.py).

argv: CENSUS_PATH ORACLE_DIR ORACLE_OUT.  Loads and uses numpy and pandas
(where the interpreter has them: Debian's python3.11, trixie's python3.13;
not with EXACT_NO_NUMPY=1), asyncio, ssl, sqlite3,
datetime, decimal, re, a worker thread with locals; writes a small document
to CENSUS_PATH (the harness waits for it), then calls phoracle.run(), which
records every object the interpreter reaches and stops the process (SIGSTOP)
from inside the call, so that the heap at the stop is the one recorded.

Keep the syntax 3.8-compatible."""

import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, sys.argv[2])

import asyncio
import collections
import datetime
import decimal
import functools
import json
import re
import sqlite3
import ssl
import threading

import phoracle


def _census_functions():
    """census.py's helpers (the interned strings' dict, the static builtin
    types) without its import-time dry run: that runs sys.getsizeof over the
    heap, which readies every type, 3.8's never-readied
    functools._lru_list_elem included."""
    import types
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'census.py')
    with open(path) as f:
        src = f.read()
    mod = types.ModuleType('census')
    mod.__file__ = path
    exec(compile(src[:src.index('# A dry run over the heap')], path, 'exec'), mod.__dict__)
    return mod


census = _census_functions()

# EXACT_NO_NUMPY=1: the same heap without numpy and pandas
numpy = pandas = None
if not os.environ.get('EXACT_NO_NUMPY'):
    try:
        import numpy
    except ImportError:
        pass
    try:
        import pandas
    except ImportError:
        pass


class Node(object):
    def __init__(self, i):
        self.i = i
        self.name = 'node-%d' % i
        self.kids = []


class Slotted(object):
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a, self.b = a, b


@functools.lru_cache(maxsize=64)
def cached(n):
    return [n] * 3


OFFSET = 1


def hot(x):
    # globals and attributes: 3.8-3.10 give it an opcode cache after 1024 calls
    y = x.real * 2
    return len(NODES) + y + OFFSET


NODES = []
for _i in range(2000):
    hot(_i)
for _i in range(100):
    cached(_i % 40)

NODES = [Node(i) for i in range(300)]
for _n in NODES[1:]:
    NODES[0].kids.append(_n)
SLOTTED = [Slotted(i, str(i)) for i in range(50)]
ODICT = collections.OrderedDict((str(i), i) for i in range(20))
DEQUE = collections.deque(range(30))
RANGES = [range(i, 10 ** 12 + i, 7) for i in range(3)]

TZ = datetime.timezone(datetime.timedelta(hours=2), 'CEST')
DATES = [datetime.datetime(2024, 1, 1 + i, tzinfo=TZ) for i in range(5)]
TIMES = [datetime.time(12, i, tzinfo=datetime.timezone.utc) for i in range(3)]
DELTAS = [datetime.timedelta(days=i) for i in range(3)]

decimal.getcontext().prec = 40
DECIMALS = [decimal.Decimal(i) / decimal.Decimal(7) for i in range(1, 10)]
DEC_CTX = decimal.Context(prec=12)

PATTERNS = [re.compile(r'(?P<word>\w+)-(?P<num>\d+)'), re.compile(r'a(b)c')]
MATCHES = [PATTERNS[0].match('abc-12')]
SUBBED = PATTERNS[1].sub(r'\1x', 'abcabc')

SSL_CTX = ssl.create_default_context()
try:
    SSL_CTX.load_default_certs()
except Exception:
    pass

DB = sqlite3.connect(':memory:')
DB.execute('create table t (a integer, b text)')
DB.executemany('insert into t values (?, ?)', [(i, 'row%d' % i) for i in range(50)])
DB.commit()
CUR = DB.execute('select a, b from t where a < 10')
ROWS = CUR.fetchall()


async def _ticker(q, n):
    for i in range(n):
        await q.put(i)
        await asyncio.sleep(0)
    return n


async def _main():
    q = asyncio.Queue()
    tasks = [asyncio.ensure_future(_ticker(q, 5)) for _ in range(3)]
    res = await asyncio.gather(*tasks)
    got = []
    while not q.empty():
        got.append(q.get_nowait())
    return res, got


LOOP = asyncio.new_event_loop()
ASYNC_RESULT = LOOP.run_until_complete(_main())
FUT = LOOP.create_future()     # pending, kept

if numpy is not None:
    ARRAYS = [numpy.arange(1000, dtype=numpy.float64), numpy.zeros((10, 10))]
    ARRAYS.append(ARRAYS[0][::2])          # a view: base is ARRAYS[0]
    ARRAYS.append(numpy.array([1, 'a', None], dtype=object))
    # numeric scalars whose bits are the address of a str nothing refers to
    # (its count raised from C, the name dropped): numpy's scalar structs
    # hold numbers, never references, so neither side may find the str
    import ctypes
    import struct
    _bait = ''.join(['numpy-scalar-bait-', str(os.getpid())])
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(_bait))
    _bits = struct.pack('<QQ', id(_bait), 0)
    del _bait
    SCALARS = [numpy.frombuffer(_bits[:8], dtype=numpy.float64)[0],
               numpy.frombuffer(_bits, dtype=numpy.longdouble)[0],
               numpy.frombuffer(_bits[:8], dtype=numpy.int64)[0]]
    del _bits
if pandas is not None:
    FRAME = pandas.DataFrame({'a': range(100), 'b': ['x%d' % i for i in range(100)]})
    SERIES = FRAME['a'] * 2
    STAMPS = pandas.date_range('2024-01-01', periods=10, freq='D', tz='UTC')
    GROUPED = FRAME.groupby(FRAME['a'] % 3)['a'].sum()

_ready = threading.Event()
_never = threading.Event()


def _worker():
    local_list = [object(), 'worker-local %d' % 42]
    local_dict = {'k': local_list}
    _ready.set()
    _never.wait()
    return local_dict


WORKER = threading.Thread(target=_worker, name='exact-worker', daemon=True)
WORKER.start()
_ready.wait()

def _lru_elem_ready():
    """Whether functools._lru_list_elem was made ready (3.8 never does)."""
    import ctypes
    import gc
    d = [o for o in gc.get_referents(cached) if type(o) is dict]
    t = type(next(iter(d[0].values()))) if d and d[0] else None
    return t is not None and bool(ctypes.c_ulong.from_address(id(t) + 168).value & (1 << 12))


_samples = {'hot_code': [hex(id(hot.__code__)), sys.getsizeof(hot.__code__)],
            'cached_code': [hex(id(cached.__wrapped__.__code__)),
                            sys.getsizeof(cached.__wrapped__.__code__)]}
with open(sys.argv[1], 'w') as _f:
    json.dump({'python': '%d.%d.%d' % sys.version_info[:3], 'pid': os.getpid(),
               'samples': _samples, 'lru_elem_ready': _lru_elem_ready(),
               'numpy': getattr(numpy, '__version__', None),
               # what info's structural probes find, from inside
               'probe_facts': {'type': [hex(id(type)), type.__basicsize__],
                               'dict': dict.__basicsize__, 'str': str.__basicsize__,
                               'tuple': tuple.__basicsize__,
                               'version': sys.version.split()[0],
                               'threads': len(sys._current_frames()),
                               'generations': len(__import__('gc').get_threshold()),
                               'free_threaded': bool(__import__('sysconfig').get_config_var(
                                   'Py_GIL_DISABLED'))},
               'pandas': getattr(pandas, '__version__', None)}, _f)
del _f, _i, _n, _samples

_interned = census._find_interned()[1]
PH_ROOTS = [_interned, census._static_builtin_types() if sys.version_info >= (3, 12) else []]
del _interned
ORACLE_OUT = sys.argv[3]
# should anything continue the process after the stop inside run() (gdb's
# detach under load, as the harness knows), it stops itself again at once,
# with nothing new allocated (the names are bound before the oracle runs),
# instead of exiting
_kill, _pid, _sig = os.kill, os.getpid(), __import__('signal').SIGSTOP
phoracle.run(ORACLE_OUT, PH_ROOTS)
while True:
    _kill(_pid, _sig)
