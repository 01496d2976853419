"""Benchmark workload: a heap of about N objects, then the in-process census
of that heap timed in the same process (the closure of gc.get_objects()
through gc.get_referents, sized with sys.getsizeof; and objgraph's typestats
when objgraph is importable), then SIGSTOP so that a core can be taken.

usage: bench_workload.py N RESULT.json"""

import gc
import json
import os
import signal
import sys
import time


class Item:
    def __init__(self, i):
        self.key = "item-%d" % i
        self.value = i * 3
        self.tags = [i, "t"]


def build(n):
    # about 5 objects per Item: the instance, its key str, its value int,
    # its tags list and (on 3.8-3.10) its __dict__
    per = 5 if sys.version_info >= (3, 11) else 6
    items = [Item(i) for i in range(n // per)]
    return items


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
    n, out = int(sys.argv[1]), sys.argv[2]
    data = build(n)
    count, size, secs = census()
    res = {"census_objects": count, "census_bytes": size, "census_seconds": secs,
           "python": sys.version.split()[0]}
    try:
        import objgraph
        t0 = time.perf_counter()
        objgraph.typestats()
        res["objgraph_seconds"] = time.perf_counter() - t0
    except ImportError:
        pass
    with open(out, "w") as f:
        json.dump(res, f)
    del res
    gc.collect()
    os.kill(os.getpid(), signal.SIGSTOP)
    return data


if __name__ == "__main__":
    main()
