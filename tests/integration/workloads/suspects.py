"""Heaps with known leak suspects, then SIGSTOP: the oracle of test_suspects.py.
usage: suspects.py OUT.json MODE

big:     BIG, a list under __main__ of N_BIG Item objects (each with its own
         bytes payload), retains most of the heap.
many:    50 Pool objects, module globals pool_00 .. pool_49, each holding a
         list .items of 2000 Small objects (100,000 in all), beside
         5 healthy trees.
healthy: the trees only: 16 module globals tree_0 .. tree_15, each a dict
         tree of fan-out 8 and depth 4 with a bytes leaf under each
         innermost key (no object, no owner, holds much).

OUT.json: the retained size and count of BIG computed in process as
workloads/sizes.py does (the closure through gc.get_referents, minus what
is held from outside) and its number of items; for each Pool, its list's
address, its number of Small objects and their sys.getsizeof sum (a Small
holds a small int, shared: it retains itself alone).  Keep the syntax 3.8-compatible."""

import gc
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from retained import retained  # noqa: E402

N_BIG = 20000
POOLS, PER_POOL = 50, 2000


class Item(object):
    def __init__(self, i):
        self.n = i
        self.payload = bytes(200 + i % 7)


class Pool(object):
    def __init__(self):
        self.items = []


class Small(object):
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


def tree(depth, seed):
    if depth == 0:
        return bytes(180 + seed % 11)
    return {"k%d" % i: tree(depth - 1, seed * 8 + i) for i in range(8)}


def main():
    out, mode = sys.argv[1], sys.argv[2]
    g = globals()
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "mode": mode}
    for t in range({"many": 5, "healthy": 16}.get(mode, 0)):
        g["tree_%d" % t] = tree(4, t)
    if mode == "big":
        g["BIG"] = [Item(i) for i in range(N_BIG)]
        kinds = {}
        r, n = retained(g["BIG"], kinds)
        doc["big"] = {"address": id(g["BIG"]), "retained": r, "retained_count": n, "items": N_BIG,
                      "kinds": kinds}
    if mode == "many":
        pools = {}
        for p in range(POOLS):
            pool = g["pool_%02d" % p] = Pool()
            pool.items.extend(Small(p) for _ in range(PER_POOL))
        for p in range(POOLS):
            pool = g["pool_%02d" % p]
            pools["pool_%02d" % p] = {"address": id(pool.items), "items": len(pool.items),
                                      "size": sum(sys.getsizeof(x) for x in pool.items)}
        doc["pools"] = pools
        doc["small"] = {"count": POOLS * PER_POOL,
                        "size": sum(sys.getsizeof(x) for p in range(POOLS)
                                    for x in g["pool_%02d" % p].items)}
    text = json.dumps(doc)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.rename(out + ".tmp", out)
    gc.collect()
    os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == "__main__":
    main()
