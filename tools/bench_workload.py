"""Benchmark workload: a heap of about N objects of one shape, then, in the
same process, the in-process census of that heap (the closure of
gc.get_objects() through gc.get_referents, sized with sys.getsizeof),
objgraph's typestats (a count by type name, where objgraph is importable)
and last heapy's hpy().heap() (where HEAPY_PATH names a guppy3 build:
tools/build-heapy), timed; then SIGSTOP so that a core can be taken.

heapy goes last: it perturbs the heap it measures (on 3.11+ it materialises
instance dicts, and its own objects stay), so the census sees the heap as
built and the core the heap as heapy left it.

usage: bench_workload.py SHAPE N RESULT.json
shapes: items tree fragmented json asyncio numpy

BENCH_BARE=1: the heap alone (no census, objgraph or heapy), with the seconds
it took to build: tools/bench's 100-million-object core (BIG=1)."""

import gc
import json
import os
import random
import signal
import sys
import sysconfig
import time


# ---- items: one list of identical small instances, allocated in order

class Item:
    def __init__(self, i):
        self.key = "item-%d" % i
        self.value = i * 3
        self.tags = [i, "t"]


def build_items(n):
    # about 5 objects per Item: the instance, its key str, its value int,
    # its tags list and (on 3.8-3.10) its __dict__
    per = 5 if sys.version_info >= (3, 11) else 6
    return [Item(i) for i in range(n // per)]


# ---- tree: instances with kids lists, slotted objects, a dict of tuples and floats

class Node:
    def __init__(self, name, depth):
        self.name = name
        self.depth = depth
        self.kids = []
        self.meta = None


class Point:
    __slots__ = ("x", "y", "label")

    def __init__(self, x, y, label):
        self.x, self.y, self.label = x, y, label


def build_tree(n):
    # per node: the Node, its name str, its kids list, a Point with two
    # floats, and a dict entry's key str, tuple and float: about 9 objects
    nodes = n // 9
    root = Node("root", 0)
    level, made = [root], 1
    rnd = random.Random(1)
    while made < nodes:
        nxt = []
        for parent in level:
            for _ in range(4):
                if made >= nodes:
                    break
                c = Node("node-%d" % made, parent.depth + 1)
                c.meta = Point(rnd.random(), rnd.random(), None)
                parent.kids.append(c)
                nxt.append(c)
                made += 1
        level = nxt
    table = {"k%d" % i: (i, i * 0.5) for i in range(nodes)}
    return root, table


# ---- fragmented: allocated in shuffled order, every other object freed again

def build_fragmented(n):
    rnd = random.Random(2)
    kinds = (lambda i: [i, i + 1], lambda i: (i, str(i)), lambda i: {"a": i},
             lambda i: "s-%d-%s" % (i, "x" * (i % 40)), lambda i: float(i) + 0.25,
             lambda i: Item(i), lambda i: {i, -i})
    # make about 2n, keep half: what is kept sits in pools with holes between
    made = []
    order = list(range(n // 2 * 2 // 2))
    rnd.shuffle(order)
    for i in order:
        made.append(kinds[i % len(kinds)](i))
    rnd.shuffle(made)
    kept = made[: len(made) // 2]
    del made
    # then a second generation into the holes
    more = [kinds[(i * 7) % len(kinds)](i) for i in range(len(kept) // 2)]
    rnd.shuffle(more)
    return kept, more


# ---- json: dicts and strs, as a parsed JSON document

def build_json(n):
    # per record: a dict, 3 fresh str values, a list of 2 strs, a nested dict: about 9 objects
    rnd = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    recs = []
    for i in range(n // 9):
        recs.append({
            "id": "id-%08d" % i,
            "name": "%s %s" % (rnd.choice(words), rnd.choice(words)),
            "email": "user%d@example.org" % i,
            "tags": [rnd.choice(words) + str(i % 97), "t%d" % (i % 1000)],
            "address": {"city": "city-%d" % (i % 5000), "zip": i % 100000},
            "active": i % 3 == 0,
        })
    return {"version": 1, "records": recs}


# ---- asyncio: a service's tasks, waiting on queues and futures

def build_asyncio(n):
    import asyncio
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    held = []

    async def worker(q, fut, i):
        buf = ["req-%d" % i, {"n": i}]
        item = await q.get()
        await fut
        return buf, item

    async def start(count):
        for i in range(count):
            q = asyncio.Queue()
            fut = loop.create_future()
            held.append((loop.create_task(worker(q, fut, i)), q, fut))

    # about 20 objects per task: task, coroutine and its frame, queue with its
    # deques and getter future, future, callbacks, the worker's locals
    loop.run_until_complete(start(n // 20))
    for _ in range(3):
        loop.run_until_complete(asyncio.sleep(0))
    return loop, held


# ---- numpy: arrays, numpy scalars and pandas frames with object columns

def build_numpy(n):
    import numpy as np
    import pandas as pd
    k = n // 6
    arrays = [np.arange(i % 16, dtype=np.float64) for i in range(k)]
    scalars = [np.float64(i) for i in range(k)]
    frame = pd.DataFrame({"name": ["row-%d" % i for i in range(k)],
                          "value": np.arange(k, dtype=np.float64),
                          "tag": [("t%d" % (i % 50), i) for i in range(k)]})
    return arrays, scalars, frame


SHAPES = {"items": build_items, "tree": build_tree, "fragmented": build_fragmented,
          "json": build_json, "asyncio": build_asyncio, "numpy": build_numpy}


def census():
    gc.disable()
    t0 = time.perf_counter()
    objs = gc.get_objects()
    seen = set()
    count = size = 0
    stack = objs
    getsizeof, referents = sys.getsizeof, gc.get_referents
    while stack:
        o = stack.pop()
        i = id(o)
        if i in seen:
            continue
        seen.add(i)
        count += 1
        size += getsizeof(o)
        stack.extend(referents(o))
    secs = time.perf_counter() - t0
    del seen, stack, objs
    return count, size, secs


def main():
    shape, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    t0 = time.perf_counter()
    data = SHAPES[shape](n)
    gc.collect()
    if os.environ.get("BENCH_BARE"):
        with open(out, "w") as f:
            json.dump({"python": sys.version.split()[0], "shape": shape,
                       "build_seconds": time.perf_counter() - t0}, f)
        os.kill(os.getpid(), signal.SIGSTOP)
        return data
    count, size, secs = census()
    res = {"census_objects": count, "census_bytes": size, "census_seconds": secs,
           "python": sys.version.split()[0] + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""),
           "shape": shape}
    try:
        import objgraph
        t0 = time.perf_counter()
        objgraph.typestats()
        res["objgraph_seconds"] = time.perf_counter() - t0
    except ImportError:
        pass
    heapy = os.environ.get("HEAPY_PATH")
    if heapy:
        sys.path.insert(0, heapy)
        from guppy import hpy
        hp = hpy()
        t0 = time.perf_counter()
        h = hp.heap()
        res["heapy_seconds"] = time.perf_counter() - t0
        res["heapy_objects"] = h.count
        del h, hp
    with open(out, "w") as f:
        json.dump(res, f)
    del res
    gc.collect()
    os.kill(os.getpid(), signal.SIGSTOP)
    return data


if __name__ == "__main__":
    main()
