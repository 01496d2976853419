"""A heap that grows between two stops: the oracle of test_snapshot.py.
usage: growth.py OUT.json [A0 B0 K L]

It builds a base heap (A0 instances of GrowA, B0 of GrowB, each with str
attributes of its own, beside unrelated lists, dicts and tuples), writes
the census of the marker kinds to OUT.json and stops itself (SIGSTOP).
Once continued (SIGCONT) it adds K GrowA and L GrowB the same way, writes
the census again to OUT.json.2 and stops again.

The census: count and sum of sys.getsizeof of the GrowA and GrowB
instances, of their __dict__ (3.8-3.10 only; on 3.11+ the attributes live
in values and __dict__ is never read, so as not to make dicts), and of
their str attributes (every one a str object of its own).  Nothing else
the process keeps changes between the stops: the growth and the census run
once before the first stop with the same code, the collector is off except
for a collection just before each stop, and no int, str or container of the
second phase outlives it except the new instances and their strs (the lists
holding them grow: their sizes change).

Keep the syntax 3.8-compatible."""

import gc
import json
import os
import signal
import sys

DICTS = sys.version_info < (3, 11)


class GrowA(object):
    def __init__(self, name, note):
        self.name = name
        self.note = note


class GrowB(object):
    def __init__(self, label):
        self.label = label


STORE = {"a": [], "b": [], "base": []}
SEQ = [0]


def fresh(prefix):
    """A str no other object shares (not interned: made at run time)."""
    SEQ[0] += 1
    return "%s-%08d-%s" % (prefix, SEQ[0], "x" * (SEQ[0] % 17))


def grow(k, l):
    a, b = STORE["a"], STORE["b"]
    for _ in range(k):
        a.append(GrowA(fresh("growa-name"), fresh("growa-note")))
    for _ in range(l):
        b.append(GrowB(fresh("growb-label")))


def census():
    out = {}

    def add(key, o):
        e = out.setdefault(key, [0, 0])
        e[0] += 1
        e[1] += sys.getsizeof(o)
    for o in STORE["a"]:
        add("__main__.GrowA", o)
        if DICTS:
            add("dict of __main__.GrowA", o.__dict__)
        add("str", o.name)
        add("str", o.note)
    for o in STORE["b"]:
        add("__main__.GrowB", o)
        if DICTS:
            add("dict of __main__.GrowB", o.__dict__)
        add("str", o.label)
    out.setdefault("dict of __main__.GrowA", [0, 0])
    out.setdefault("dict of __main__.GrowB", [0, 0])
    return out


def write(path, doc):
    # json.dumps: the C encoder (json.dump's Python one leaves cyclic garbage)
    text = json.dumps(doc)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
    gc.collect()    # whatever garbage the phase made: none is left at the stop


def main():
    gc.disable()
    out = sys.argv[1]
    a0, b0, k, l = [int(x) for x in sys.argv[2:6]] or [2000, 1000, 3000, 1500]
    # unrelated base heap
    STORE["base"] = [{"i": [j] * 3, "t": (j, str(j))} for j in range(3000)]
    grow(a0, b0)
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "pid": os.getpid(),
           "executable": sys.executable, "dicts": DICTS,
           "grow": {"__main__.GrowA": k, "__main__.GrowB": l}}
    doc["census"] = census()
    write(out, doc)
    stop, pid = os.kill, os.getpid()
    stop(pid, signal.SIGSTOP)
    grow(k, l)
    doc["census"] = census()
    write(out + ".2", doc)
    stop(pid, signal.SIGSTOP)


if __name__ == "__main__":
    main()
