"""Objects of every kind the block search of leaks must find, leaked through
a refcount bug (ctypes.pythonapi.Py_IncRef, every Python reference dropped),
beside identical ones kept from the module global KEPT, interleaved so that
they share pools: short strs of every shape (ASCII, latin-1, UCS-2, UCS-4:
compact, smaller than str's tp_basicsize), ints of one and of several digits
and negative ones (3.12+: lv_tag where ob_size was), floats, bytes and
tuples.  All are made at run time (no constants, nothing interned).

usage: leaks_kinds.py OUT.json -> {"leaked": {kind: [hex id]}, "kept": {kind: [hex id]}},
written before the process stops itself (SIGSTOP); the collector is off."""

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
}
N_LEAK, N_KEPT = 20, 10
KEPT = []


def main():
    gc.disable()
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "leaked": {}, "kept": {}}
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
            o = None
    make = None
    with open(sys.argv[1] + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    doc = leaked = kept = None
    os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == "__main__":
    main()
