"""Objects of every kind the block search of leaks must find, leaked through
a refcount bug (ctypes.pythonapi.Py_IncRef, every Python reference dropped),
beside identical ones kept from the module global KEPT, interleaved so that
they share pools: short strs of every shape (ASCII, latin-1, UCS-2, UCS-4:
compact, smaller than str's tp_basicsize) and long ones (still in pymalloc's
blocks: up to 512 bytes), ints of one and of several digits and negative
ones (3.12+: lv_tag where ob_size was), floats, bytes short and long,
tuples, dicts the collector does not track and ones it does, lists, deques,
instances with a __dict__ and with __slots__.  All are made at run time (no
constants, nothing interned).  What a leaked container holds is kept alive
by the leak, not leaked itself: its items are made so that nothing else
holds them, and the test checks they are not called leaked.

usage: leaks_kinds.py OUT.json -> {"leaked": {kind: [hex id]}, "kept": {kind: [hex id]},
                                   "held": {kind: [hex id of what the leaked ones hold]}},
written before the process stops itself (SIGSTOP); the collector is off."""

import collections
import ctypes
import gc
import json
import os
import signal
import sys

incref = ctypes.pythonapi.Py_IncRef
incref.argtypes = [ctypes.py_object]
incref.restype = None

KINDS = {
    "str ascii": lambda i: "leak-%d" % i,
    "str latin1": lambda i: "caf\xe9-%d" % i,
    "str ucs2": lambda i: "\u20ac-%d" % i,
    "str ucs4": lambda i: "\U0001F600-%d" % i,
    "int one digit": lambda i: 10 ** 6 + i * 7,
    "int three digits": lambda i: 2 ** 70 + i * 7,
    "int negative": lambda i: -(10 ** 7 + i * 7),
    "float": lambda i: i * 7 + 0.25,
    "bytes": lambda i: b"leak-%d" % i,
    "tuple": lambda i: (i * 7, "t"),
    "str long": lambda i: "long-%d-" % i + "x" * 300,
    "bytes long": lambda i: b"long-%d-" % i + b"y" * 400,
    "dict untracked": lambda i: {"k-%d" % i: i * 7},
    "dict tracked": lambda i: {"k-%d" % i: [i]},
    "list": lambda i: [i * 7, "l-%d" % i],
    "deque": lambda i: collections.deque(["d-%d" % i, i * 7]),
    "instance": lambda i: Plain(i),
    "instance slots": lambda i: Slotted(i),
}


class Plain(object):
    def __init__(self, i):
        self.i = "p-%d" % i


class Slotted(object):
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = "s-%d" % i
N_LEAK, N_KEPT = 20, 10
KEPT = []


def inside(o):
    """What a leaked container made for itself alone (its strs and lists):
    kept alive by the leak, not leaked."""
    if isinstance(o, dict):
        items = list(o.values())
    elif isinstance(o, (list, collections.deque)):
        items = list(o)
    elif isinstance(o, (Plain, Slotted)):
        items = [o.i]
    else:
        return []
    return [x for x in items if isinstance(x, (str, list))]


def main():
    gc.disable()
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "leaked": {}, "kept": {}, "held": {}}
    for kind, make in KINDS.items():
        leaked, kept = doc["leaked"].setdefault(kind, []), doc["kept"].setdefault(kind, [])
        for i in range(N_LEAK):
            if i < N_KEPT:
                o = make(100000 + i)
                KEPT.append(o)
                kept.append(hex(id(o)))
            o = make(i)
            incref(o)
            leaked.append(hex(id(o)))
            held = doc["held"].setdefault(kind, [])
            held.extend(hex(id(x)) for x in inside(o))
            o = None
    make = None
    with open(sys.argv[1] + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    doc = leaked = kept = None
    os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == "__main__":
    main()
