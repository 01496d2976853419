"""A service's state in C types that keep their items outside their struct
(issue 13): a collections.deque, a queue.Queue and an asyncio.Queue (deques
inside), an array.array, io.BytesIO and io.StringIO, a functools.partial
and a collections.defaultdict; a function and a
generator whose module holds all that.  Writes the census (census.py) with
what the tests check recorded in process, then stops itself (SIGSTOP).

    python3.X -B services.py CENSUS.json

workload (in the census document):
  deque_items     the id() of every item of DEQUE, in order
  queue_dicts     the id() of every dict put in WORK (a queue.Queue)
  getsizeof       {label: sys.getsizeof} of the samples, measured before the
                  census (which holds a reference to every object it counts:
                  a BytesIO's buffer then looks shared, and is left out)
  fields          {label: {edge: hex id}} of the partial's and the
                  defaultdict's own fields
  deep            {label: [deep size, count]} of HANDLER and GEN by asizeof's
                  rule over gc.get_referents (plus dict keys): types, modules,
                  functions, code, frames and methods are not entered, nor
                  this module's namespace or the builtins' (a function's
                  __globals__ and __builtins__, a frame's or generator's)
samples: label -> address, type, sys.getsizeof (census.py)."""

import gc
gc.disable()        # nothing is collected: the heap stays as the census saw it

import array
import asyncio
import builtins
import collections
import functools
import io
import os
import queue
import signal
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import census   # noqa: E402  (imported before the heap is built: it is part of it)

NOT_ENTERED = (type, types.ModuleType, types.FunctionType, types.CodeType, types.FrameType,
               types.MethodType, types.BuiltinFunctionType)


class Job:
    def __init__(self, i):
        self.i = i


def make_handler():
    state = {"hits": ["hit-%d" % (i * 31) for i in range(100)]}

    def handler(request, retries=(1, 2, 3)):
        return state, request, retries
    return handler


def produce(n):
    items = [("item", i * 13) for i in range(n)]
    for it in items:
        yield it


DEQUE = collections.deque()
for i in range(10000):
    DEQUE.append({"job": i} if i % 3 == 0 else 10 ** 6 + i * 7919)
DEQUE.rotate(1234)                       # the left end mid-block
WORK = queue.Queue()
for i in range(6000):
    WORK.put({"task": i, "args": (i, "arg-%d" % i)})
AQUEUE = asyncio.Queue()
for i in range(500):
    AQUEUE.put_nowait(Job(i))
ARRAY = array.array("d", (i / 3 for i in range(5000)))
BYTESIO = io.BytesIO()
BYTESIO.write(b"payload " * 2000)
STRINGIO = io.StringIO()
for i in range(300):
    STRINGIO.write("line %d\n" % i)
HANDLER = make_handler()
PARTIAL = functools.partial(HANDLER, {"request": 1}, retries=(4, 5))
BY_KEY = collections.defaultdict(list)
for i in range(200):
    BY_KEY["key-%d" % (i % 20)].append(i * 7919)
GEN = produce(300)
next(GEN)


def refs(o):
    out = gc.get_referents(o)
    if type(o) is dict:
        out.extend(o.keys())   # str-keyed dicts do not traverse their keys
    return out


def deep(x, stop):
    seen = {id(x): x}
    stack = [x]
    while stack:
        o = stack.pop()
        for r in refs(o):
            if id(r) not in seen and id(r) not in stop and not isinstance(r, NOT_ENTERED):
                seen[id(r)] = r
                stack.append(r)
    return [sum(map(sys.getsizeof, seen.values())), len(seen)]


def main():
    path = sys.argv[1]
    stop = {id(globals()), id(builtins.__dict__)}
    info = {"deque_items": [hex(id(o)) for o in DEQUE],
            "queue_dicts": [hex(id(o)) for o in WORK.queue],
            "deep": {"handler": deep(HANDLER, stop), "generator": deep(GEN, stop)}}
    stop = None
    samples = {"deque": DEQUE, "queue": WORK, "queue deque": WORK.queue,
               "asyncio queue deque": AQUEUE._queue, "array": ARRAY, "bytesio": BYTESIO,
               "stringio": STRINGIO, "handler": HANDLER, "generator": GEN,
               "partial": PARTIAL, "defaultdict": BY_KEY}
    info["fields"] = {"partial": {".func": hex(id(PARTIAL.func)), ".args": hex(id(PARTIAL.args)),
                                  ".keywords": hex(id(PARTIAL.keywords))},
                      "defaultdict": {".default_factory": hex(id(BY_KEY.default_factory))}}
    info["getsizeof"] = dict((label, sys.getsizeof(o)) for label, o in samples.items())
    kill = os.kill
    pid = os.getpid()
    sig = signal.SIGSTOP
    census.take_census(path, samples=samples, workload=info)
    while True:
        kill(pid, sig)


if __name__ == "__main__":
    sys.exit(main())
