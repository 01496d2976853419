"""Deep and retained sizes of a few structures, computed in process, then
SIGSTOP.  usage: sizes.py OUT.json

deep(X): the closure of X through gc.get_referents (plus the dict keys that
  tp_traverse leaves out), each object once, not entering types, modules,
  functions, code, frames and methods (asizeof's rule), summed with
  sys.getsizeof.
retained(X): what CPython's collector would free if X lost its outside
  references: the closure C of X; for each object of C, its references from
  inside C (counted like its refcount: referents plus dict keys); an object
  whose sys.getrefcount exceeds those (and this code's own references) is
  held from outside, so it and all it reaches stay; the rest is retained.
Neither uses the roots or anything probe-heap computes."""

import gc
import json
import os
import signal
import sys
import types

from retained import closure, refs  # noqa: E402  (beside this file)

NOT_ENTERED = (type, types.ModuleType, types.FunctionType, types.CodeType, types.FrameType,
               types.MethodType, types.BuiltinFunctionType)


class Request:
    def __init__(self, i, shared):
        self.path = "/item/%d" % (i * 7919)
        self.body = bytes(100 + i % 50)
        self.meta = {"id": i, "tags": ["t%d" % (i * 31)], "shared": shared}


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = "slot-%d" % (i * 13)
        self.b = (i, float(i))


def deep(x):
    objs = closure(x, lambda r: not isinstance(r, NOT_ENTERED))
    return sum(map(sys.getsizeof, objs.values())), len(objs)


def retained(x):
    c = closure(x, lambda r: True)
    internal = dict.fromkeys(c, 0)
    o = r = None
    for o in c.values():
        for r in refs(o):
            if id(r) in internal:
                internal[id(r)] += 1
    o = r = None  # the loop variables would hold the last objects they saw
    # The references this code holds itself (c's value, the loop variable,
    # getrefcount's argument), measured on an object nothing else holds.
    cal = {0: object()}
    base = [sys.getrefcount(o) for i, o in cal.items()][0]
    held = [o for i, o in c.items() if i != id(x) and sys.getrefcount(o) - base > internal[i]]
    alive = {}
    for o in held:  # what is held from outside keeps what it reaches, except through X
        if id(o) not in alive:
            alive.update(closure(o, lambda r: id(r) in c and r is not x and id(r) not in alive))
    gone = [o for i, o in c.items() if i not in alive]
    return sum(map(sys.getsizeof, gone)), len(gone)


shared = {"config": "x" * 500}
cache = {"k%d" % (i * 104729): Request(i, shared) for i in range(300)}
# the path __main__:cache['k0'].meta['shared'] names `shared`
rows = [(i, "r%d" % (i * 7), float(i)) for i in range(500)]
slots = [Slotted(i) for i in range(200)]
nested = {"a": {"b": {"c": [bytearray(64) for _ in range(20)]}}, "s": {frozenset([1, 2]), 3.5}}
also_shared = rows[10]         # kept by a second name: not retained by rows


def make_counter():
    seen = ["c%d" % (i * 17) for i in range(50)]
    total = {"n": 0}

    def count(x):
        total["n"] += 1
        seen.append(x)
    return count


counter = make_counter()       # a closure: its cells hold `seen` and `total`
counter_cells = counter.__closure__
holder = types.SimpleNamespace(cache=cache, rows=rows)

SAMPLES = {"cache": cache, "rows": rows, "slots": slots, "nested": nested, "holder": holder,
           "shared": shared, "one request": cache["k%d" % (5 * 104729)],
           "closure cells": counter_cells}

gc.disable()
out = {}
for label, x in SAMPLES.items():
    d, dn = deep(x)
    r, rn = retained(x)
    out[label] = {"address": hex(id(x)), "flat": sys.getsizeof(x), "deep": d, "deep_count": dn,
                  "retained": r, "retained_count": rn}
with open(sys.argv[1], "w") as f:
    json.dump({"version": sys.version.split()[0], "samples": out}, f)
del out, label, x, d, dn, r, rn, f
gc.enable()
os.kill(os.getpid(), signal.SIGSTOP)
