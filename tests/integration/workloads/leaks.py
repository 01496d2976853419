"""Objects leaked through a refcount bug, beside identical objects properly
kept: the oracle of test_leaks.py.
usage: leaks.py OUT.json [N_LEAK N_KEPT N_LEAK_BYTES N_KEPT_BYTES]

It makes N_LEAK instances of PhLeakMarker5, N_LEAK_BYTES bytes objects
starting with PREFIX and N_LEAK_BYTES complex numbers, gives each one an
extra reference with ctypes.pythonapi.Py_IncRef and drops every Python
reference to it: nothing reaches them any more and their refcount stays 1
(a C extension's refcount bug).  Beside them, interleaved so that they share
pools, it makes N_KEPT instances, N_KEPT_BYTES bytes and N_KEPT_BYTES
complex numbers of the same shape, held from the module global KEPT.

bytes and complex are not GC objects: only the allocator walk can find the
leaked ones (they are under 400 bytes: pymalloc blocks).  Nothing else in
the process makes complex numbers, so the leaked ones are exactly the
leaked complex objects; the interpreter itself holds a few bytes from C
(3.8-3.11: cached one-byte bytes and the like), which show up as leaked too.

A leaked list holds an operator.itemgetter of a bytearray: what the
leaked list keeps (the itemgetter, the bytearray) is "kept", though the
itemgetter holds the bytearray in a C field that tp_traverse visits but the
tool finds by scanning.

Every instance holds a PhLeakPayload5 (a slotted instance, no dict), so
what a leaked instance keeps alive is known exactly: its payload, and on
3.8-3.10 its __dict__ (on 3.11+ the attributes live in values, no dict
object exists and none is made: __dict__ is never read there).

Before stopping (SIGSTOP) it writes OUT.json: the numbers, the addresses
(id) and sys.getsizeof of the leaked and the kept objects, the instances'
payloads and (3.8-3.10) dicts.  The collector is off from the start.

Keep the syntax 3.8-compatible."""

import ctypes
import gc
import json
import operator
import os
import signal
import sys

PREFIX = b"PHLEAK5-"

incref = ctypes.pythonapi.Py_IncRef
incref.argtypes = [ctypes.py_object]
incref.restype = None


class PhLeakPayload5(object):
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


class PhLeakMarker5(object):
    def __init__(self, n):
        self.n = n
        self.payload = PhLeakPayload5(n)


KEPT = {"markers": [], "objects": []}

DICTS = sys.version_info < (3, 11)   # instances have a dict object


def describe_marker(m):
    d = {"address": id(m), "size": sys.getsizeof(m),
         "payload": {"address": id(m.payload), "size": sys.getsizeof(m.payload)}}
    if DICTS:
        d["dict"] = {"address": id(m.__dict__), "size": sys.getsizeof(m.__dict__)}
    return d


def make_bytes(tag, i):
    # 8 + 10 + 1 + 6 + up to 200: well under 512 bytes with the header
    return PREFIX + (b"%-10s-%06d" % (tag, i)) + b"x" * (i % 200)


def make_complex(tag, i):
    # computed, never a constant of a code object
    return complex(tag * 1000000 + i, 0.5)


def leak_marker(i, out):
    """A leaked instance; nothing that refers to it is left behind."""
    m = PhLeakMarker5(i)
    incref(m)
    out.append(describe_marker(m))


def keep_marker(i, out):
    m = PhLeakMarker5(i)
    KEPT["markers"].append(m)
    out.append(describe_marker(m))


def leak_object(o, out):
    incref(o)
    out.append({"address": id(o), "size": sys.getsizeof(o)})


def keep_object(o, out):
    KEPT["objects"].append(o)
    out.append({"address": id(o), "size": sys.getsizeof(o)})


def leak_holder(out):
    """A leaked list holding an operator.itemgetter of a bytearray: the
    bytearray (not a GC object, and the only one of the workload) is held by
    the itemgetter in a C field, which the tool can only find by scanning."""
    held = bytearray(PREFIX + b"held-by-an-itemgetter")
    getter = operator.itemgetter(held)
    holder = [getter]
    incref(holder)
    for key, o in (("list", holder), ("getter", getter), ("held", held)):
        out[key] = {"address": id(o), "size": sys.getsizeof(o)}


def main():
    gc.disable()
    out = sys.argv[1]
    nums = [int(a) for a in sys.argv[2:6]] or [40, 25, 30, 20]
    n_leak, n_kept, n_leak_bytes, n_kept_bytes = nums
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "pid": os.getpid(),
           "prefix": PREFIX.decode(), "dicts": DICTS,
           "marker": "__main__.PhLeakMarker5", "payload": "__main__.PhLeakPayload5",
           "n_leak": n_leak, "n_kept": n_kept,
           "n_leak_bytes": n_leak_bytes, "n_kept_bytes": n_kept_bytes,
           "leaked": [], "kept": [], "leaked_bytes": [], "kept_bytes": [],
           "leaked_complex": [], "kept_complex": [], "holder": {}}
    # interleaved, so that leaked and kept objects share pools
    for i in range(max(n_leak, n_kept)):
        if i < n_kept:
            keep_marker(1000 + i, doc["kept"])
        if i < n_leak:
            leak_marker(i, doc["leaked"])
    for i in range(max(n_leak_bytes, n_kept_bytes)):
        if i < n_kept_bytes:
            keep_object(make_bytes(b"kept", i), doc["kept_bytes"])
            keep_object(make_complex(2, i), doc["kept_complex"])
        if i < n_leak_bytes:
            leak_object(make_bytes(b"leaked", i), doc["leaked_bytes"])
            leak_object(make_complex(1, i), doc["leaked_complex"])
    leak_holder(doc["holder"])
    # the leaked ones really have no referrer left
    leaked = set(d["address"] for d in doc["leaked"] + doc["leaked_bytes"] + doc["leaked_complex"])
    leaked.add(doc["holder"]["list"]["address"])
    for o in gc.get_objects():
        if o is not doc and any(id(r) in leaked for r in gc.get_referents(o)):
            raise SystemExit("a leaked object is still referred to by a %s" % type(o).__name__)
    o = None
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(out + ".tmp", out)
    doc = leaked = None
    os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == "__main__":
    main()
