"""A refcount bug, imitated: the workload of docs/post-mortem-leaks.md.

A C extension that forgets a Py_DECREF leaks whatever it touched: the object
keeps a reference count of one that nothing in the heap accounts for, and
nothing frees it.  This workload makes that bug with
ctypes.pythonapi.Py_IncRef, from pure Python:

  * 500 Record instances (each holding a 120-byte bytes payload) get an
    extra reference and are then dropped: leaked, with their payloads;
  * 1000 bytes objects of 150 bytes are leaked the same way, and one of
    100 kB (too big for pymalloc: it comes from malloc);
  * beside them, identical objects are properly kept in the module global
    KEPT: 300 Records and 1000 bytes of the same sizes;
  * a worker thread is parked on an event, as in any service;
  * two Nodes refer to each other and to nothing else: cyclic garbage,
    which the collector (disabled at the end, as it would be between two
    collections) has not freed yet.

With --fixed, the bug is fixed (buggy_extension_call does nothing): what
`leaks` still shows then is what any healthy process shows, the objects
that the interpreter and its extension modules hold from C.

It prints its pid and stops itself (SIGSTOP) so that a core can be taken:

    $ python3 docs/examples/refcount_leak.py [--fixed] &
    $ gcore -o /tmp/refleak PID
    $ kill -9 PID
"""

import ctypes
import gc
import os
import signal
import sys
import threading

incref = ctypes.pythonapi.Py_IncRef
incref.argtypes = [ctypes.py_object]
incref.restype = None

LEAKED_RECORDS, KEPT_RECORDS = 500, 300
LEAKED_BYTES, KEPT_BYTES = 1000, 1000
FIXED = "--fixed" in sys.argv[1:]


class Record:
    def __init__(self, n):
        self.n = n
        self.payload = b"record-%06d:" % n + b"r" * 106       # 120 bytes


class Node:
    def __init__(self, name):
        self.name = name
        self.peer = None


KEPT = {"records": [], "bytes": []}


def buggy_extension_call(obj):
    """What a C function that returns a new reference nobody releases does."""
    if not FIXED:
        incref(obj)


def chunk(tag, i):
    return b"%s-%06d:" % (tag, i) + b"b" * (150 - len(tag) - 8)   # 150 bytes


def main():
    for i in range(max(LEAKED_RECORDS, KEPT_RECORDS)):
        if i < KEPT_RECORDS:
            KEPT["records"].append(Record(100000 + i))
        if i < LEAKED_RECORDS:
            buggy_extension_call(Record(i))
    for i in range(max(LEAKED_BYTES, KEPT_BYTES)):
        if i < KEPT_BYTES:
            KEPT["bytes"].append(chunk(b"kept", i))
        if i < LEAKED_BYTES:
            buggy_extension_call(chunk(b"leak", i))
    buggy_extension_call(b"L" * 100_000)          # from malloc, not pymalloc

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="worker", daemon=True)
    worker.start()

    gc.disable()
    a, b = Node("twin"), Node("twin")          # alike: the samples' order is the allocator's
    a.peer, b.peer = b, a
    del a, b

    print(os.getpid(), flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    stop.set()


if __name__ == "__main__":
    main()
