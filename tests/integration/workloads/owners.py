"""Caches that grow between two stops under owners of every sort: the
oracle of test_suspects.py's diff --by owner.  usage: owners.py OUT.json

Owners: CACHE, a dict under a module attribute; Registry.store, a list
under a class attribute; the list in the closure of remember(); a list in
a thread's local variable (local_cache of worker()); a Bag (a list) that
only C holds (a Py_IncRef, and a weak reference for the workload itself);
STEADY, a list that does not change.  Each stop writes, for each owner, its retained size and
count (and both by type) computed in process as workloads/sizes.py does (workloads/retained.py:
reachability through gc.get_referents, minus what is held from outside),
to OUT.json, then OUT.json.2 at the second stop.

Keep the syntax 3.8-compatible."""

import ctypes
import gc
import json
import os
import signal
import sys
import threading
import weakref

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from retained import retained  # noqa: E402

SEQ = [0]


def fresh(n):
    SEQ[0] += 1
    return bytes(n + SEQ[0] % 13)


class Entry(object):
    def __init__(self, i):
        self.name = "entry-%d" % (i * 7919)
        self.body = fresh(300)


class Registry(object):
    store = []


def make_remember():
    seen = []

    def remember(x):
        seen.append(x)
    return remember


class Bag(list):
    """A list C holds: its one reference is a Py_IncRef nothing undoes."""


def held_by_c():
    bag = Bag()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(bag))
    return weakref.ref(bag)


CACHE = {}
BAG = held_by_c()    # a weak reference: Python keeps no strong one
STEADY = [{"n": i, "b": fresh(100)} for i in range(1000)]
remember = make_remember()
THREAD = {}          # numbers the worker thread writes: nothing of its cache
go, done = threading.Event(), threading.Event()


def grow_all(n):
    for _ in range(n):
        i = SEQ[0]
        CACHE["k%d" % i] = Entry(i)
        Registry.store.append((i, fresh(200)))
        remember(bytearray(150))
        BAG().append(fresh(120))


def worker():
    local_cache = []
    while True:
        go.wait()
        go.clear()
        for _ in range(THREAD["grow"]):
            local_cache.append(fresh(250))
        kinds = {}
        r, n = retained(local_cache, kinds)
        THREAD["local_cache"] = {"retained": r, "retained_count": n, "kinds": kinds}
        done.set()


def census(doc):
    for name, x in (("CACHE", CACHE), ("Registry.store", Registry.store),
                    ("remember", remember.__closure__[0].cell_contents), ("STEADY", STEADY),
                    ("Bag", BAG())):
        kinds = {}
        r, n = retained(x, kinds)
        doc["owners"][name] = {"retained": r, "retained_count": n, "kinds": kinds}
    doc["owners"]["local_cache"] = dict(THREAD["local_cache"])


def phase(n, out):
    THREAD["grow"] = n
    done.clear()
    go.set()
    done.wait()
    grow_all(n)
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "owners": {}}
    census(doc)
    text = json.dumps(doc)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.rename(out + ".tmp", out)
    gc.collect()
    os.kill(os.getpid(), signal.SIGSTOP)


def main():
    out = sys.argv[1]
    t = threading.Thread(target=worker, name="worker")
    t.daemon = True
    t.start()
    phase(1000, out)
    phase(2000, out + ".2")


if __name__ == "__main__":
    main()
