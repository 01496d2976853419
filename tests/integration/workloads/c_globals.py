"""Objects held by C globals, beside a true refcount leak: the oracle of
test_c_globals.py.
usage: c_globals.py OUT.json DIR

DIR holds phcglobals (workloads/c_globals.c, built and stripped by the
test).  Four objects are handed to it, each kept in a C global of its own
(named in .bss, static in .bss, named in .data, static in .data) and in
nothing else; two more (an instance and a bytes object) are leaked with
Py_IncRef and dropped.  The instances are GC objects, the bytes and the str
are not: the walk's collector test found the first kind only ("held from
outside"), the allocator walk of leaks the second (and called it leaked).

Before stopping (SIGSTOP) it writes OUT.json: each object's address and
type, the address of the global that holds it, the file's load bias
(phcglobals' address of the named global minus its symbol value, given by
the test) and the leaked objects' addresses.  Keep the syntax 3.8-compatible."""

import ctypes
import gc
import json
import os
import signal
import sys

sys.path.insert(0, sys.argv[2])
import phcglobals  # noqa: E402

incref = ctypes.pythonapi.Py_IncRef
incref.argtypes = [ctypes.py_object]
incref.restype = None


class PhCGlobal(object):
    def __init__(self, tag):
        self.tag = tag


class PhCLeak(object):
    pass


def main():
    gc.disable()
    objs = [PhCGlobal("named-bss"), b"PHCG-hidden-bss-" + os.urandom(4).hex().encode(),
            "PHCG-named-data-" + os.urandom(4).hex(), PhCGlobal("hidden-data")]
    phcglobals.set(*objs)
    where = phcglobals.addresses()
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "pid": os.getpid(),
           "file": os.path.basename(phcglobals.__file__),
           "globals": [{"address": id(o), "type": type(o).__name__, "word": w}
                       for o, w in zip(objs, where)]}
    # what a global's object holds is held too (the instances' tags)
    doc["tags"] = [id(objs[0].tag), id(objs[3].tag)]
    leaked = [PhCLeak(), b"PHCG-leaked-" + os.urandom(4).hex().encode()]
    for o in leaked:
        incref(o)
    doc["leaked"] = [{"address": id(o), "type": type(o).__name__} for o in leaked]
    del objs, leaked, o
    with open(sys.argv[1] + ".tmp", "w") as f:
        json.dump(doc, f)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        os.kill(os.getpid(), signal.SIGSTOP)


main()
